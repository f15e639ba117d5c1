/**
 * The server composed from its configuration: the store (SQLite by default,
 * PostgreSQL or memory), the core services over it, optional OTLP tracing
 * (`OtlpExport`, which says when exports fail), authentication (configured,
 * or the zero-config secret in the data directory), and the HTTP adapter
 * listening on HTTP or HTTPS; with `METRICS_PORT`, a second listener for
 * Prometheus (`MetricsEndpoint`).
 *
 * @since 0.1.0
 */
import { Assignments, Configurations, DirectoryService, MemoryStore, Store } from "@enrollment/core"
import { type Auth, Listen, Metrics, Routes, Sampler, Server } from "@enrollment/http-adapter"
import type { PostgresTls } from "@enrollment/store-adapter/PostgresStore"
// Only the default store is loaded with the server; PostgreSQL (and its driver), the OTLP
// exporter and the metrics endpoint (with prom-client) are imported when the configuration
// names them, which keeps start-up short.
import * as SqliteStore from "@enrollment/store-adapter/SqliteStore"
import { Context, Effect, Layer, ManagedRuntime, Option, Redacted, References } from "effect"
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import type * as NodeTls from "node:tls"
import { fileURLToPath } from "node:url"
import * as DataDir from "./DataDir.ts"
import * as RequestLogger from "./RequestLogger.ts"
import * as Secret from "./Secret.ts"
import { ConfigInvalid, requestDeadline, type ServerConfig } from "./ServerConfig.ts"
import type * as ServerLog from "./ServerLog.ts"
import * as TlsFiles from "./TlsFiles.ts"

/** The store layer the configuration names. */
export const storeLayer = (config: ServerConfig, say: ServerLog.Say = () => {}): Layer.Layer<Store, unknown> => {
  // What an upgrade of the store did (the migrations' removals, ids both a user and a group), once, at the upgrade.
  const notice = (line: string, level: "info" | "warn") => say(line, level)
  switch (config.store) {
    case "memory":
      return MemoryStore.layer
    case "sqlite":
      return SqliteStore.layer({
        filename: path.resolve(config.dataDir, DataDir.sqliteFileName),
        synchronous: config.sqliteSynchronous,
        cacheEntries: config.sqliteCacheEntries,
        checkpointMillis: config.sqliteCheckpointMs,
        notice
      })
    case "postgres":
      return Layer.unwrap(Effect.promise(() => import("@enrollment/store-adapter/PostgresStore")).pipe(
        Effect.map((PostgresStore) =>
          PostgresStore.layer({
            url: Option.getOrThrow(config.databaseUrl),
            schema: Option.getOrUndefined(config.databaseSchema),
            maxConnections: config.databasePoolSize,
            notice
          })
        )
      ))
  }
}

/** The authentication the configuration names; the zero-config secret when none. */
export const authOptions = (config: ServerConfig): { readonly options: Auth.AuthOptions; readonly secretFile?: string; readonly created?: boolean } => {
  const common = { issuer: Option.getOrUndefined(config.issuer), audience: Option.getOrUndefined(config.audience) }
  if (Option.isSome(config.hs256Secret) || Option.isSome(config.jwksUrl)) {
    return {
      options: {
        ...common,
        hs256Secret: Option.isSome(config.hs256Secret) ? Redacted.value(config.hs256Secret.value) : undefined,
        jwksUrl: Option.isSome(config.jwksUrl) ? config.jwksUrl.value.href : undefined
      }
    }
  }
  const s = Secret.ensure(config.dataDir)
  return { options: { ...common, hs256Secret: s.secret }, secretFile: s.file, created: s.created }
}

/** The loopback addresses: 127.0.0.0/8 and ::1 (also as IPv4-mapped and unabbreviated IPv6). */
const loopback = new net.BlockList()
loopback.addSubnet("127.0.0.0", 8, "ipv4")
loopback.addAddress("::1", "ipv6")

/**
 * `host` reaches this machine only: `localhost`, a loopback address, or a Unix socket (a path).
 * Decided on the text, without a DNS lookup: another name of this machine counts as remote.
 */
export const isLocalHost = (host: string): boolean => {
  const h = host.replace(/^\[(.*)\]$/, "$1")
  if (h.startsWith("/") || /^localhost\.?$/i.test(h)) return true
  const family = net.isIP(h)
  return family !== 0 && loopback.check(h, family === 6 ? "ipv6" : "ipv4")
}

/**
 * The start-up warning for a `DATABASE_URL` that reaches PostgreSQL on another machine without
 * TLS (no `sslmode`, or `disable`): the connection, its password exchange included, crosses the
 * network in plain text. Naming the host, never the URL; none for a loopback host or a socket.
 */
export const plainTextDatabaseWarning = (settings: PostgresTls.Settings): string | undefined =>
  settings.mode !== "disable" || settings.socket || isLocalHost(settings.host)
    ? undefined
    : `DATABASE_URL connects to ${settings.host} without TLS (no sslmode, or sslmode=disable): the connection, ` +
      "its password exchange included, goes over the network in plain text; add sslmode=verify-full with " +
      "sslrootcert (the server's CA file, or system for a CA Node trusts)"

/** In-flight requests get this long at a stop; then their connections are closed. */
export const drainMillis = 10_000

/**
 * Then the store (and the trace exporter, when tracing) get this long to close: a
 * database that stopped answering must not keep the process from exiting.
 */
export const closeMillis = 3_000

/** The store (or the trace exporter) had not closed {@link closeMillis} after a stop began closing it. */
export class CloseTimeout extends Error {}

/** A started server. */
export interface App {
  readonly url: string
  readonly port: number
  /** `http://host:port/metrics` when `METRICS_PORT` is set: the Prometheus endpoint's own listener. */
  readonly metricsUrl: string | undefined
  /**
   * With HTTPS: reads `TLS_CERT_FILE` and `TLS_KEY_FILE` again, with the start's checks, and serves
   * them to new connections (a renewed certificate, without a restart); a {@link ConfigInvalid}
   * naming what is wrong leaves the ones in use. Undefined over plain HTTP.
   */
  readonly reloadTls: (() => { readonly notBefore: Date; readonly notAfter: Date }) | undefined
  /**
   * Graceful stop: no new connections (on the API's listener and the metrics'), in-flight
   * requests finish ({@link drainMillis} at most), what the metrics endpoint started is
   * stopped (prom-client's event-loop monitor and GC observer), then the store closes
   * ({@link closeMillis} at most, else a {@link CloseTimeout}). Connections still open at the
   * drain's limit are closed, and `start`'s `say` gets a warning saying so.
   */
  readonly stop: () => Promise<void>
}

/**
 * Whether the server makes spans at all: with an OTLP endpoint, unless its sampler records none
 * (`always_off`: then no span is made, in a request or out of one, and the exporter sends Effect's
 * metrics and logs alone).
 */
export const tracesRecorded = (config: ServerConfig): boolean =>
  Option.isSome(config.otlpEndpoint) && !Sampler.recordsNone(config.tracesSampler)

/** `p` as a word of a shell command: quoted when it holds anything a shell would read. */
const shellWord = (p: string) => (/^[\w@%+=:,./-]+$/.test(p) ? p : `'${p.replaceAll("'", "'\\''")}'`)

/** `p` relative to the working directory when it lies below it, else absolute. */
const shown = (p: string) => {
  const r = path.relative(process.cwd(), p)
  return shellWord(r === "" ? "." : r.startsWith("..") || path.isAbsolute(r) ? p : r)
}

/**
 * The command that mints a token from the zero-config secret, as the operator can run it
 * where the server runs: started by pnpm (`pnpm start` in a checkout, whose scripts run on
 * the Node 24 that `pnpm install` brought, while the operator's shell may have an older
 * `node`, which the CLI refuses), `pnpm enrollctl`; else the CLI beside the server through
 * the Node that runs it (the Docker image has no pnpm); else `enrollctl` on the PATH. With
 * `claims` (the server's `AUTH_AUDIENCE` and `AUTH_ISSUER`, which it then checks) the
 * command mints them too: without, every token it minted would be refused (401).
 */
export const tokenCommand = (
  dataDir: string,
  env: NodeJS.ProcessEnv = process.env,
  claims: { readonly audience?: string | undefined; readonly issuer?: string | undefined } = {}
): string => {
  const cli = fileURLToPath(new URL("../../cli/bin/enrollctl.js", import.meta.url))
  const flags = `${claims.audience !== undefined ? ` --audience ${shellWord(claims.audience)}` : ""}${
    claims.issuer !== undefined ? ` --issuer ${shellWord(claims.issuer)}` : ""
  }`
  if (!fs.existsSync(cli)) return `enrollctl token --data-dir ${shellWord(dataDir)}${flags}`
  if ((env.npm_config_user_agent ?? "").startsWith("pnpm/")) return `pnpm --silent enrollctl token --data-dir ${shown(dataDir)}${flags}`
  return `${nodeCommand()} ${shown(cli)} token --data-dir ${shown(dataDir)}${flags}`
}

/** `node` when it is the Node that runs this process (the Docker image's), else that Node's path. */
const nodeCommand = (): string => {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (dir === "") continue
    try {
      if (fs.realpathSync(path.join(dir, "node")) === fs.realpathSync(process.execPath)) return "node"
      break // the first node on the PATH is another one
    } catch {
      // no node here: look further
    }
  }
  return shown(process.execPath)
}

/**
 * Starts the server for a configuration; `say` receives start-up notes. A bad file
 * (`DATA_DIR` not a directory, an unusable TLS file) or TLS parameters of `DATABASE_URL`
 * the PostgreSQL store cannot honour (`sslmode=prefer`, an unreadable `sslrootcert`, an
 * `sslkey` others can read) fail with {@link ConfigInvalid} before the store opens; a
 * `DATABASE_URL` to another machine without TLS is warned of ({@link plainTextDatabaseWarning}).
 */
export const start = async (config: ServerConfig, say: ServerLog.Say = () => {}): Promise<App> => {
  const problems: Array<string> = []
  const check = <A>(f: () => A): A | undefined => {
    try {
      return f()
    } catch (e) {
      if (!(e instanceof ConfigInvalid)) throw e
      problems.push(...e.problems)
      return undefined
    }
  }
  const tls = Option.isSome(config.tlsCertFile) && Option.isSome(config.tlsKeyFile)
    ? check(() => TlsFiles.read(Option.getOrThrow(config.tlsCertFile), Option.getOrThrow(config.tlsKeyFile)))
    : undefined
  // The data directory holds the SQLite file and the zero-config secret. Without SQLite, a secret
  // already there is only read: the directory may then be read-only (a read-only mount, a
  // Kubernetes Secret volume, one DATA_DIR that several processes share).
  const zeroConfig = Option.isNone(config.hs256Secret) && Option.isNone(config.jwksUrl)
  const readOnly = config.store !== "sqlite" && fs.existsSync(path.resolve(config.dataDir, Secret.fileName))
  const dataDir = config.store === "sqlite" || zeroConfig ? check(() => DataDir.prepare(config.dataDir, { readOnly })) : undefined
  // DATABASE_URL's TLS parameters (sslrootcert's, sslcert's and sslkey's files read), checked where the driver is loaded.
  let databaseWarning: string | undefined
  if (config.store === "postgres" && Option.isSome(config.databaseUrl)) {
    const PostgresStore = await import("@enrollment/store-adapter/PostgresStore")
    const tls = PostgresStore.PostgresTls.fromUrl(Redacted.value(config.databaseUrl.value))
    if ("problem" in tls) problems.push(`DATABASE_URL: ${tls.problem}`)
    else databaseWarning = plainTextDatabaseWarning(tls.settings)
  }
  if (problems.length > 0) throw new ConfigInvalid(problems)
  const tlsWarning = tls === undefined ? undefined : TlsFiles.validityWarning(Option.getOrThrow(config.tlsCertFile), tls)
  if (tlsWarning !== undefined) say(tlsWarning, "warn")
  // Before the store opens: said even when the connection then fails.
  if (databaseWarning !== undefined) say(databaseWarning, "warn")
  if (dataDir?.created) say(`created the data directory ${dataDir.path} (mode 0700)`)
  if (config.store === "sqlite" && dataDir !== undefined) {
    const exposed = DataDir.exposure(DataDir.sqliteFile(dataDir.path))
    if (exposed !== undefined) say(exposed, "warn")
  }
  // Without an OTLP endpoint nobody reads spans: tracing is off when the services are
  // built, so their methods and the store's open no span at all on the hot path. With one, an
  // export that fails (the collector unreachable, or answering 500) is said once per outage, and
  // its end once (`OtlpExport`).
  const otlp = config.otlpEndpoint
  const tracing = Option.isSome(otlp)
    ? Layer.unwrap(Effect.promise(() => import("./OtlpExport.ts")).pipe(
      Effect.map((OtlpExport) => OtlpExport.layer({ endpoint: otlp.value, say }))
    )).pipe(Layer.merge(tracesRecorded(config) ? Layer.empty : Layer.succeed(References.TracerEnabled, false)))
    : Layer.succeed(References.TracerEnabled, false)
  const services = Layer.mergeAll(Assignments.layer, Configurations.layer, DirectoryService.layer).pipe(
    Layer.provideMerge(storeLayer(config, say)),
    Layer.provideMerge(tracing)
  )
  const runtime = ManagedRuntime.make(services as Layer.Layer<Assignments | Configurations | DirectoryService | Store, unknown>)
  let context
  try {
    context = await runtime.context()
  } catch (e) {
    await runtime.dispose()
    throw e
  }
  const auth = authOptions(config)
  if (auth.secretFile !== undefined) {
    const claims = { audience: Option.getOrUndefined(config.audience), issuer: Option.getOrUndefined(config.issuer) }
    say(
      `${auth.created ? "created" : "using"} the local signing secret ${auth.secretFile} (no AUTH_HS256_SECRET or AUTH_JWKS_URL); ` +
        `mint a token with: ${tokenCommand(path.dirname(auth.secretFile), process.env, claims)}`
    )
    // Whoever reads the secret can mint a token with every permission in every tenant.
    const mode = fs.statSync(auth.secretFile).mode & 0o777
    if ((mode & 0o077) !== 0) {
      say(`the local signing secret ${auth.secretFile} has mode 0${mode.toString(8)}: other users can read it and mint tokens; chmod 600 it`, "warn")
    }
  }
  // Counted only when someone reads the counts: without METRICS_PORT the listener has no recorder.
  const metrics = Option.isSome(config.metricsPort) ? Metrics.make(Routes.routes) : undefined
  const handler = Server.makeHandler({
    context,
    auth: auth.options,
    rateLimit: { ratePerSecond: config.rateLimitPerSecond, burst: config.rateLimitBurst },
    bodyLimit: config.bodyLimitBytes,
    answerCacheBytes: config.responseCacheBytes,
    publicUrl: Option.getOrUndefined(config.publicUrl),
    cors: Option.isSome(config.corsAllowedOrigins) ? { allowedOrigins: config.corsAllowedOrigins.value } : undefined,
    log: RequestLogger.make({ format: config.logFormat, level: config.logLevel, say }),
    logFrom: RequestLogger.lowestStatus(config.logLevel),
    metrics,
    sampler: config.tracesSampler,
    requestDeadlineMillis: requestDeadline(config)
  })
  let running: Listen.Running
  try {
    running = await Listen.listen(handler, { port: config.port, host: config.host, tls })
  } catch (e) {
    await runtime.dispose()
    throw e
  }
  let metricsRunning: Listen.Running | undefined
  // What the metrics endpoint started (prom-client's event-loop monitor and GC observer), stopped with the server.
  let releaseMetrics = () => {}
  if (metrics !== undefined && Option.isSome(config.metricsPort)) {
    try {
      const MetricsEndpoint = await import("./MetricsEndpoint.ts")
      const store = Context.get(context, Store)
      const sqlite = SqliteStore.stats(store) !== undefined
        ? () => {
          const syncs = SqliteStore.stats(store)
          return syncs === undefined ? undefined : { ...syncs, ...SqliteStore.checkpointStats(store) }
        }
        : undefined
      const endpoint = MetricsEndpoint.make({ recorder: metrics, sqlite })
      releaseMetrics = endpoint.release
      metricsRunning = await Listen.listen(endpoint.listener, { port: config.metricsPort.value, host: config.metricsHost })
    } catch (e) {
      releaseMetrics()
      await running.close(0)
      await runtime.dispose()
      throw new Error(`the metrics listener (METRICS_HOST ${config.metricsHost}, METRICS_PORT ${config.metricsPort.value}) could not start`, { cause: e })
    }
  }
  return {
    url: running.url,
    port: running.port,
    metricsUrl: metricsRunning === undefined ? undefined : `${metricsRunning.url}/metrics`,
    reloadTls: tls === undefined ? undefined : () => {
      const files = TlsFiles.read(Option.getOrThrow(config.tlsCertFile), Option.getOrThrow(config.tlsKeyFile))
      ;(running.server as unknown as NodeTls.Server).setSecureContext({ cert: files.cert, key: files.key })
      return files
    },
    stop: async () => {
      // Idle keep-alive connections are closed as they go idle (`Listen`), so a drain ends
      // once the requests in flight are answered (a scrape in flight too); then the metrics'
      // monitors stop, whatever the drain did.
      const began = Date.now()
      try {
        await Promise.all([running.close(drainMillis), metricsRunning?.close(drainMillis)])
      } finally {
        releaseMetrics()
      }
      // The drain ran to its limit: the connections still open were closed, and a request still
      // in flight on one was cut off unanswered (its client saw a closed connection).
      if (Date.now() - began >= drainMillis) {
        say(`connections still open after ${drainMillis / 1000} s were closed: a request still in flight on one got no answer`, "warn")
      }
      let timer: ReturnType<typeof setTimeout> | undefined
      const closed = await Promise.race([
        runtime.dispose().then(() => true),
        new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), closeMillis)))
      ]).finally(() => clearTimeout(timer))
      if (!closed) {
        const what = Option.isSome(otlp) ? `the store (STORE=${config.store}) and the trace exporter` : `the store (STORE=${config.store})`
        throw new CloseTimeout(`${what} did not close within ${closeMillis / 1000} s`)
      }
    }
  }
}
