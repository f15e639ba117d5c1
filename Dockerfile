# The enrollment server: Graph (beta) face over SQLite (default) or PostgreSQL.
# Build:  docker build -t enrollment-server .
# Run:    docker run --name enrollment --init --stop-timeout 20 -p 8080:8080 -v enrollment-data:/data enrollment-server
#         (--init: a docker stop in Node's first few tens of ms, before the server can handle it, is
#         otherwise lost to PID 1; apps/server/README.md, "Configuration", on stopping)
# Token:  docker exec enrollment node apps/cli/bin/enrollctl.js token --data-dir /data
#         (the runtime stage has no pnpm; the CLI reads the zero-config secret in /data)
# Metrics: off by default and not exposed. `-e METRICS_PORT=9464 -e METRICS_HOST=0.0.0.0
#         -p 127.0.0.1:9464:9464` serves Prometheus's /metrics on a listener of its own, without a
#         token (so never on the API's port, and published to the host's loopback only here;
#         apps/server/README.md, "Metrics").
# Stop:   a stop lets in-flight requests finish (10 s at most) and then closes the store (3 s at
#         most), so give it more than Docker's default 10 s: `docker stop -t 20`, `--stop-timeout 20`
#         as above, or `stop_grace_period: 20s` in a compose file.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
RUN npm i -g pnpm@12.4.2
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json tsconfig.base.json ./
COPY packages/core/package.json packages/core/
COPY packages/store-adapter/package.json packages/store-adapter/
COPY packages/http-adapter/package.json packages/http-adapter/
COPY apps/server/package.json apps/server/
COPY apps/cli/package.json apps/cli/
COPY packages/launch/package.json packages/launch/
# the apps' postinstall (their bundles, through packages/launch): without dev dependencies it
# finds no bundler, says so, and the server and enrollctl run from their sources
COPY packages/launch/src packages/launch/src/
COPY apps/server/scripts apps/server/scripts/
COPY apps/cli/scripts apps/cli/scripts/
# every workspace member's manifest, so the frozen lockfile matches the workspace
COPY bench/package.json bench/
COPY tools/package.json tools/
RUN pnpm install --frozen-lockfile --prod --filter @enrollment/server... --filter @enrollment/cli...

# The apps' bundles: the same install with the dev dependencies finds the bundler, and each
# postinstall builds its app's dist/ (a start then loads a handful of files instead of hundreds:
# /ready about 2.8 x sooner, BENCHMARKS.md). Only dist/ is kept; the image's node_modules are the
# production install above.
FROM deps AS bundle
COPY packages/core/src packages/core/src
COPY packages/store-adapter/src packages/store-adapter/src
COPY packages/http-adapter/src packages/http-adapter/src
COPY apps/server/src apps/server/src
COPY apps/cli/src apps/cli/src
RUN pnpm install --frozen-lockfile --filter @enrollment/server... --filter @enrollment/cli...

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080 DATA_DIR=/data STORE=sqlite LOG_FORMAT=json
WORKDIR /app
COPY --from=deps /app /app
COPY packages/core/src packages/core/src
COPY packages/store-adapter/src packages/store-adapter/src
COPY packages/http-adapter/src packages/http-adapter/src
COPY apps/server/src apps/server/src
COPY apps/server/bin apps/server/bin
COPY apps/cli apps/cli
# each runs while every file it was built from has the time and size it had in the bundle stage
# (both stages copy them from the build context); else the app runs from its sources
COPY --from=bundle /app/apps/server/dist apps/server/dist
COPY --from=bundle /app/apps/cli/dist apps/cli/dist
# 0700: the volume holds every tenant's data and the signing secret (a new named volume takes this mode)
RUN mkdir -p -m 0700 /data && chown node:node /data
USER node
VOLUME ["/data"]
# the API only: METRICS_PORT, when set, is published by whoever runs the image (see the top)
EXPOSE 8080
# GET /health where this environment makes the server listen: HTTPS with TLS_CERT_FILE, PORT, HOST
# (its loopback for 0.0.0.0); apps/server/bin/health.js
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "apps/server/bin/health.js"]
# SIGTERM (Docker's default, stated): the server's graceful stop; a second one exits at once
STOPSIGNAL SIGTERM
# A 4 MiB young generation: RSS under load about 1.6x a bare node:http server instead of 3x, same throughput (BENCHMARKS.md)
CMD ["node", "--max-semi-space-size=4", "--heap-growing-percent=80", "--no-memory-reducer", "apps/server/bin/server.js"]
