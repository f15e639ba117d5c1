/**
 * The Prometheus endpoint (`METRICS_PORT`): its settings validated (exit 2
 * naming the variable), its own listener serving `/metrics` and nothing else,
 * the exact request counts and durations of the API's answers by route
 * template, the SQLite group commit's syncs, the default process metrics; none
 * of it on the API's port, and no second listener at all without the setting.
 */
import { Router, Routes, Token } from "@enrollment/http-adapter"
import { Effect, Option } from "effect"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { afterEach, assert, describe, it, vi } from "vitest"
import { App, Reason, ServerConfig } from "../src/index.ts"
import { runToExit, serverBin } from "./child.ts"

const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), `server-${prefix}-`))
const load = (env: Record<string, string>) => Effect.runPromise(Effect.result(ServerConfig.load(env)))
const problemsOf = async (env: Record<string, string>) => {
  const r = await load(env)
  return r._tag === "Failure" ? (r.failure as ServerConfig.ConfigInvalid).problems : []
}
const config = (env: Record<string, string>) => Effect.runPromise(ServerConfig.load(env))

describe("metrics configuration", () => {
  it("takes no metrics by default, METRICS_PORT in decimal digits (0: any free port) and METRICS_HOST 127.0.0.1", async () => {
    const none = await config({})
    assert.isTrue(Option.isNone(none.metricsPort))
    assert.strictEqual(none.metricsHost, "127.0.0.1")
    assert.isTrue(Option.isNone((await config({ METRICS_PORT: "" })).metricsPort), "empty is unset")
    for (const [port, n] of [["0", 0], ["9464", 9464], ["65535", 65535]] as const) {
      assert.deepStrictEqual((await config({ METRICS_PORT: port })).metricsPort, Option.some(n))
    }
    for (const host of ["0.0.0.0", "::", "::1", "10.1.2.3", "metrics.internal", "localhost"]) {
      assert.strictEqual((await config({ METRICS_PORT: "9464", METRICS_HOST: host })).metricsHost, host)
    }
  })

  it("names a bad METRICS_PORT or METRICS_HOST, one line each", async () => {
    for (const port of ["abc", "1e3", "0x50", "-1", " 9464", "65536", "9464.0"]) {
      const problems = await problemsOf({ METRICS_PORT: port })
      assert.strictEqual(problems.length, 1, `METRICS_PORT=${port}: ${problems}`)
      assert.match(problems[0]!, /^METRICS_PORT: expected a port number from 0 to 65535/)
    }
    for (const host of ["", "http://127.0.0.1", "127.0.0.1:9464", "[::1]", "a b", "-x", "host/metrics"]) {
      const problems = await problemsOf({ METRICS_PORT: "9464", METRICS_HOST: host })
      assert.strictEqual(problems.length, 1, `METRICS_HOST=${host}: ${problems}`)
      assert.match(problems[0]!, /^METRICS_HOST: expected an IP address or host name/)
    }
  })

  it("refuses the API's own port and host for the metrics: they need a listener of their own", async () => {
    assert.match((await problemsOf({ METRICS_PORT: "8080" }))[0]!, /^METRICS_PORT: must differ from PORT \(8080\)/)
    assert.match((await problemsOf({ PORT: "9000", HOST: "0.0.0.0", METRICS_PORT: "9000", METRICS_HOST: "0.0.0.0" }))[0]!, /^METRICS_PORT: must differ/)
    assert.deepStrictEqual(await problemsOf({ PORT: "0", METRICS_PORT: "0" }), [], "two free ports")
  })

  it("a bad METRICS_PORT or METRICS_HOST stops the server with exit 2, naming the variable", async () => {
    for (const [variable, env] of [["METRICS_PORT", { METRICS_PORT: "metrics" }], ["METRICS_HOST", { METRICS_PORT: "0", METRICS_HOST: "http://0.0.0.0" }]] as const) {
      const r = await runToExit(serverBin, { PORT: "0", DATA_DIR: tmp("metrics-config"), STORE: "memory", LOG_FORMAT: "pretty", ...env })
      assert.strictEqual(r.code, 2, r.stderr)
      assert.include(r.stderr, `${variable}:`)
      assert.notInclude(r.stderr, "listening on")
    }
  })
})

describe("listener and exporter settings", () => {
  it("names a HOST that is no address or host name, and takes the ones that are", async () => {
    for (const host of ["not a host", "999.1.1.1", "1.2.3", "http://0.0.0.0", "127.0.0.1:8080", "[::1]"]) {
      const problems = await problemsOf({ HOST: host })
      assert.strictEqual(problems.length, 1, `HOST=${host}: ${problems}`)
      assert.match(problems[0]!, /^HOST: expected an IP address or host name to listen on/)
    }
    for (const host of ["0.0.0.0", "::", "::1", "10.1.2.3", "api.internal", "localhost", "host-1"]) {
      assert.deepStrictEqual(await problemsOf({ HOST: host }), [], host)
    }
  })

  it("names an OTEL_EXPORTER_OTLP_ENDPOINT without an http(s) scheme (localhost:4318 parses as a URL of scheme localhost:)", async () => {
    for (const endpoint of ["localhost:4318", "collector:4318/v1/traces", "ftp://collector:4318"]) {
      const problems = await problemsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint })
      assert.strictEqual(problems.length, 1, `${endpoint}: ${problems}`)
      assert.match(problems[0]!, /^OTEL_EXPORTER_OTLP_ENDPOINT: expected an http\(s\):\/\/ URL/)
    }
    assert.deepStrictEqual(await problemsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://localhost:4318" }), [])
  })

  it("a bad HOST stops the server with exit 2 before it listens, naming the variable", async () => {
    const r = await runToExit(serverBin, { PORT: "0", HOST: "999.1.1.1", DATA_DIR: tmp("host-config"), STORE: "memory", LOG_FORMAT: "pretty" })
    assert.strictEqual(r.code, 2, r.stderr)
    assert.include(r.stderr, "HOST:")
    assert.notInclude(r.stderr, "listening on")
  })
})

/** The samples of a text exposition: each line's name and labels (as written) to its value. */
const samples = (text: string): Map<string, number> => {
  const out = new Map<string, number>()
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue
    const at = line.lastIndexOf(" ")
    out.set(line.slice(0, at), Number(line.slice(at + 1)))
  }
  return out
}

/** The route label of a request: its route's template, as the router finds it. */
const router = Router.make(Routes.routes)
const routeOf = (method: string, p: string) => {
  const m = router.match(method, p)
  if (m._tag !== "Found") throw new Error(`no route for ${method} ${p}`)
  return `/beta${m.route.path}`
}

describe("the metrics endpoint", () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it("serves the API's exact request counts and durations by route template, the SQLite syncs and the process metrics, on its own port", async () => {
    const dataDir = tmp("metrics")
    const app = await App.start(await config({ PORT: "0", METRICS_PORT: "0", DATA_DIR: dataDir, LOG_LEVEL: "none" }))
    const metricsUrl = app.metricsUrl!
    try {
      assert.match(metricsUrl, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/)
      assert.notStrictEqual(new URL(metricsUrl).port, String(app.port))
      const token = await Token.mint({ secret: fs.readFileSync(path.join(dataDir, "auth-secret"), "utf8").trim(), tenant: "t1" })
      const call = (method: string, p: string, body?: unknown, auth = true) =>
        fetch(`${app.url}/beta${p}`, {
          method,
          headers: { ...(auth ? { authorization: `Bearer ${token}` } : {}), "content-type": "application/json" },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {})
        })
      const scrape = async () => {
        const r = await fetch(metricsUrl)
        assert.strictEqual(r.status, 200)
        assert.strictEqual(r.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8")
        return r.text()
      }
      const cfgs = "/deviceManagement/deviceEnrollmentConfigurations"
      const one = `${cfgs}/c1/assignments/a1`
      assert.strictEqual((await call("POST", cfgs, { "@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration", id: "c1" })).status, 201)
      assert.strictEqual((await call("POST", `${cfgs}/c1/assignments`, { id: "a1", target: { "@odata.type": "#microsoft.graph.allLicensedUsersAssignmentTarget" } })).status, 201)

      // A write moves the sync counters: one more write made durable, by one more sync at least. It
      // comes more than a second after the store opened: its COMMIT starts a checkpoint off the event loop.
      await new Promise((resolve) => setTimeout(resolve, 1100))
      const before = samples(await scrape())
      assert.strictEqual((await call("PATCH", one, { source: "policySets", sourceId: "ps" })).status, 200)
      const after = samples(await scrape())
      assert.strictEqual(after.get("enrollment_sqlite_synced_writes_total")! - before.get("enrollment_sqlite_synced_writes_total")!, 1)
      assert.isAtLeast(after.get("enrollment_sqlite_syncs_total")! - before.get("enrollment_sqlite_syncs_total")!, 1)
      assert.isAbove(after.get("enrollment_sqlite_sync_seconds_total")!, 0)
      assert.strictEqual(after.get("enrollment_sqlite_sync_failures_total"), 0)
      let checkpointed = after
      for (let i = 0; i < 200 && checkpointed.get("enrollment_sqlite_checkpoints_total")! < 1; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10))
        checkpointed = samples(await scrape())
      }
      assert.strictEqual(before.get("enrollment_sqlite_checkpoints_total"), 0)
      assert.strictEqual(checkpointed.get("enrollment_sqlite_checkpoints_total"), 1)
      assert.isAbove(checkpointed.get("enrollment_sqlite_checkpoint_seconds_total")!, 0)
      assert.strictEqual(checkpointed.get("enrollment_sqlite_checkpoint_held_seconds_total"), 0, "nothing was written while it ran")
      assert.strictEqual(checkpointed.get("enrollment_sqlite_checkpoint_failures_total"), 0)

      // A 400, a 404 of a route, a 401, and /metrics on the API's port: a 404 in Graph's error shape.
      assert.strictEqual((await call("PATCH", one, { source: "String" })).status, 400)
      assert.strictEqual((await call("GET", `${cfgs}/c1/assignments/missing`)).status, 404)
      assert.strictEqual((await call("GET", cfgs, undefined, false)).status, 401)
      const onApi = await fetch(`${app.url}/metrics`)
      assert.strictEqual(onApi.status, 404)
      const error = ((await onApi.json()) as { error: { code: string; innerError: Record<string, string> } }).error
      assert.strictEqual(error.code, "itemNotFound")
      assert.strictEqual(error.innerError["request-id"], onApi.headers.get("request-id"))

      const text = await scrape()
      const got = samples(text)
      const requests = [...got].filter(([k]) => k.startsWith("http_server_requests_total{"))
      const requestLine = (method: string, route: string, status: number) => `http_server_requests_total{method="${method}",route="${route}",status="${status}"}`
      assert.deepStrictEqual(new Map(requests), new Map([
        [requestLine("GET", routeOf("GET", cfgs), 401), 1],
        [requestLine("POST", routeOf("POST", cfgs), 201), 1],
        [requestLine("GET", routeOf("GET", `${cfgs}/c1/assignments/missing`), 404), 1],
        [requestLine("POST", routeOf("POST", `${cfgs}/c1/assignments`), 201), 1],
        [requestLine("PATCH", routeOf("PATCH", one), 200), 1],
        [requestLine("PATCH", routeOf("PATCH", one), 400), 1],
        [requestLine("GET", "unmatched", 404), 1]
      ]))
      // The route label is the template of the request log (its parameters' names are the route table's).
      assert.match(routeOf("PATCH", one), /^\/beta\/deviceManagement\/deviceEnrollmentConfigurations\/\{\w+\}\/assignments\/\{\w+\}$/)

      // The histogram counts the same requests: per series, and in all 7 (the scrapes are not among them).
      const counts = [...got].filter(([k]) => k.startsWith("http_server_request_duration_seconds_count{"))
      assert.strictEqual(counts.reduce((n, [, v]) => n + v, 0), 7)
      const patchLabels = `method="PATCH",route="${routeOf("PATCH", one)}"`
      assert.strictEqual(got.get(`http_server_request_duration_seconds_count{${patchLabels}}`), 2)
      for (const [k, v] of counts) {
        const labels = k.slice(k.indexOf("{") + 1, -1)
        assert.strictEqual(got.get(`http_server_request_duration_seconds_bucket{${labels},le="+Inf"}`), v, k)
        assert.isAbove(got.get(`http_server_request_duration_seconds_sum{${labels}}`)!, 0, k)
        // Cumulative buckets: never fewer requests at a larger bound.
        let last = 0
        for (const le of ["0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"]) {
          const n = got.get(`http_server_request_duration_seconds_bucket{${labels},le="${le}"}`)!
          assert.isAtLeast(n, last, `${k} le=${le}`)
          last = n
        }
      }
      assert.include(text, "# TYPE http_server_requests_total counter")
      assert.include(text, "# TYPE http_server_request_duration_seconds histogram")

      // prom-client's default process metrics.
      for (const name of ["process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds", "nodejs_heap_size_used_bytes", "nodejs_eventloop_lag_seconds"]) {
        assert.isAbove(got.get(name) ?? -1, name === "nodejs_eventloop_lag_seconds" ? -1 : 0, name)
      }
      assert.include(text, "# TYPE nodejs_gc_duration_seconds histogram")
      for (const name of [
        "enrollment_sqlite_syncs_total",
        "enrollment_sqlite_synced_writes_total",
        "enrollment_sqlite_sync_failures_total",
        "enrollment_sqlite_sync_seconds_total",
        "enrollment_sqlite_checkpoints_total",
        "enrollment_sqlite_checkpoint_seconds_total",
        "enrollment_sqlite_checkpoint_held_seconds_total",
        "enrollment_sqlite_checkpoint_failures_total"
      ]) {
        assert.include(text, `# TYPE ${name} counter`)
      }

      // Nothing else on the metrics port.
      const base = metricsUrl.slice(0, -"/metrics".length)
      assert.strictEqual((await fetch(`${base}/`)).status, 404)
      assert.strictEqual((await fetch(`${base}/beta/users`)).status, 404)
      const post = await fetch(metricsUrl, { method: "POST" })
      assert.strictEqual(post.status, 405)
      assert.strictEqual(post.headers.get("allow"), "GET, HEAD")
      assert.strictEqual((await fetch(`${metricsUrl}?x=1`)).status, 200, "a query is ignored")
    } finally {
      await app.stop()
    }
    // It stops with the server: a new connection is refused (fetch would reuse a kept-alive one).
    const refused = await new Promise<string>((resolve) => {
      const socket = net.connect(Number(new URL(metricsUrl).port), "127.0.0.1", () => {
        socket.destroy()
        resolve("connected")
      })
      socket.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? String(e)))
    })
    assert.strictEqual(refused, "ECONNREFUSED")
  })

  it("without METRICS_PORT opens no second listener; with it, exactly one more", async () => {
    const listened = async (env: Record<string, string>) => {
      const listen = vi.spyOn(net.Server.prototype, "listen")
      const app = await App.start(await config({ PORT: "0", STORE: "memory", DATA_DIR: tmp("metrics-off"), LOG_LEVEL: "none", ...env }))
      try {
        const ports = listen.mock.contexts.map((s) => ((s as net.Server).address() as net.AddressInfo).port)
        listen.mockRestore()
        return { ports, app }
      } finally {
        await app.stop()
      }
    }
    const off = await listened({})
    assert.deepStrictEqual(off.ports, [off.app.port])
    assert.isUndefined(off.app.metricsUrl)
    const on = await listened({ METRICS_PORT: "0" })
    assert.deepStrictEqual(on.ports, [on.app.port, Number(new URL(on.app.metricsUrl!).port)])
  })

  it("omits the SQLite counters over another store", async () => {
    const app = await App.start(await config({ PORT: "0", METRICS_PORT: "0", STORE: "memory", DATA_DIR: tmp("metrics-memory"), LOG_LEVEL: "none" }))
    try {
      const text = await (await fetch(app.metricsUrl!)).text()
      assert.notInclude(text, "enrollment_sqlite_")
      assert.include(text, "# TYPE http_server_requests_total counter")
    } finally {
      await app.stop()
    }
  })

  it("a metrics port already taken fails the start naming METRICS_PORT, and leaves the API's port closed", async () => {
    const taken = net.createServer()
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve))
    const port = (taken.address() as net.AddressInfo).port
    const listen = vi.spyOn(net.Server.prototype, "listen")
    try {
      const e = await App.start(await config({ PORT: "0", METRICS_PORT: String(port), STORE: "memory", DATA_DIR: tmp("metrics-taken"), LOG_LEVEL: "none" })).then(
        (app) => app.stop().then(() => assert.fail("started")),
        (e: unknown) => e
      )
      const reason = Reason.of(e)
      assert.include(reason, `METRICS_PORT ${port}`)
      assert.include(reason, "EADDRINUSE")
      const api = listen.mock.contexts[0] as net.Server
      assert.isFalse(api.listening, "the API's listener was closed again")
    } finally {
      taken.close()
    }
  })
})
