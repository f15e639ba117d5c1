/**
 * The OTLP exporter's failures said (`OtlpExport`), against real collectors on real ports: one
 * that refuses connections (a closed port), one that answers 500, then one that takes the
 * exports (a node:http server counting POSTs). One warning per outage, naming the URL and the
 * error, however many batches fail in it; one line when exports succeed again. Effect's exporter
 * waits 60 s after a failed export before it sends again: the test clock stands in for them.
 */
import { assert, describe, it } from "@effect/vitest"
import { Token } from "@enrollment/http-adapter"
import { type Context, Effect, Exit, Fiber, Layer, Scope } from "effect"
import { TestClock } from "effect/testing"
import * as fs from "node:fs"
import * as http from "node:http"
import type * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { App, OtlpExport, ServerConfig, type ServerLog } from "../src/index.ts"
import { closedPort } from "./child.ts"

/** What a collector was sent, by path; `status` is what it answers each POST with. */
interface Collector {
  port: number
  status: number
  readonly posts: Array<{ readonly path: string; readonly body: string }>
}

/** A collector on `port` (0: any), a node:http server, closed with the test's scope. */
const collector = (port: number, status: number) =>
  Effect.acquireRelease(
    Effect.promise(() =>
      new Promise<{ readonly collector: Collector; readonly server: http.Server }>((resolve) => {
        const collector: Collector = { port: 0, status, posts: [] }
        const server = http.createServer((req, res) => {
          let body = ""
          req.on("data", (d) => (body += d))
          req.on("end", () => {
            collector.posts.push({ path: req.url ?? "", body })
            res.writeHead(collector.status, { "content-type": "application/json" }).end("{}")
          })
        })
        server.listen(port, "127.0.0.1", () => {
          collector.port = (server.address() as net.AddressInfo).port
          resolve({ collector, server })
        })
      })
    ),
    ({ server }) => Effect.promise(() => new Promise<void>((r) => server.close(() => r())))
  ).pipe(Effect.map(({ collector }) => collector))

/** The lines said, kept: `[level, line]`. */
const recorder = () => {
  const lines: Array<readonly [ServerLog.Level, string]> = []
  const say: ServerLog.Say = (line, level = "info") => lines.push([level, line])
  return { lines, say, about: (path: string, level: ServerLog.Level) => lines.filter(([l, line]) => l === level && line.includes(path)).map(([, line]) => line) }
}

/**
 * Lets the test clock run a second at a time, with a moment of real time after each for the
 * exports' real connections, until `until()` (or `seconds` have passed on the test clock);
 * `each` runs every second first (a span made, as requests make them).
 */
const run = (seconds: number, options: { readonly until?: () => boolean; readonly each?: Effect.Effect<void> } = {}) =>
  Effect.gen(function*() {
    for (let i = 0; i < seconds && !(options.until?.() ?? false); i++) {
      if (options.each !== undefined) yield* options.each
      yield* TestClock.adjust("1 second")
      yield* Effect.promise(() => new Promise((r) => setTimeout(r, 5)))
    }
  })

/** Ends a span named `name` under the exporter's tracer. */
const span = (context: Context.Context<never>, name: string) => Effect.void.pipe(Effect.withSpan(name), Effect.provideContext(context))

/** The exporter for `port`, built in a scope of its own: closed by the test while a collector still answers (the exporter's last flush would otherwise wait on the test clock). */
const exporter = (port: number, say: ServerLog.Say) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const context: Context.Context<never> = yield* Layer.buildWithScope(OtlpExport.layer({ endpoint: new URL(`http://127.0.0.1:${port}/`), say }), scope)
    return { context, close: Scope.close(scope, Exit.void) }
  })

describe("OtlpExport", () => {
  it("shows a URL without its user name, password, query or fragment", () => {
    assert.strictEqual(OtlpExport.shown("https://instance:s3cr3t@otlp.example.com:4318/otlp/v1/traces?api-key=s3cr3t#x"), "https://otlp.example.com:4318/otlp/v1/traces")
    assert.strictEqual(OtlpExport.shown("http://127.0.0.1:4318/v1/traces"), "http://127.0.0.1:4318/v1/traces")
  })

  it.effect("says once that exports to a collector refusing connections fail, and once that they succeed when it takes them", () =>
    Effect.gen(function*() {
      const port = yield* Effect.promise(closedPort)
      const { lines, say, about } = recorder()
      const { context, close } = yield* exporter(port, say)
      const traces = `http://127.0.0.1:${port}/v1/traces`

      yield* run(30, { each: span(context, "before"), until: () => about("/v1/traces", "warn").length > 0 })
      const warned = about("/v1/traces", "warn")
      assert.lengthOf(warned, 1, JSON.stringify(lines))
      assert.include(warned[0], `OTLP export to ${traces} failed (`)
      assert.include(warned[0], "ECONNREFUSED")
      assert.include(warned[0], "spans are dropped until an export succeeds")

      // The outage goes on for minutes, with spans made all along (a batch fails after each of
      // the exporter's 60 s pauses): nothing more is said.
      yield* run(200, { each: span(context, "during") })
      assert.lengthOf(about("/v1/traces", "warn"), 1, "one warning per outage, not one per batch")
      assert.lengthOf(about("/v1/traces", "info"), 0)

      // The collector comes up on that port: the first export it takes is said, once.
      const up = yield* collector(port, 200)
      yield* run(90, { each: span(context, "after"), until: () => about("/v1/traces", "info").length > 0 })
      const back = about("/v1/traces", "info")
      assert.lengthOf(back, 1, JSON.stringify(lines))
      assert.match(back[0]!, new RegExp(`^OTLP export to ${traces.replaceAll(".", "\\.")} succeeds again \\(spans were dropped since \\d{4}-`))
      assert.include(up.posts.filter((p) => p.path === "/v1/traces").map((p) => p.body).join(""), "\"after\"")
      yield* run(30, { each: span(context, "later") })
      assert.lengthOf(about("/v1/traces", "info"), 1)
      assert.lengthOf(about("/v1/traces", "warn"), 1)
      // Metrics (sent every 10 s, also when there are none) had an outage of their own, said the same way.
      yield* run(80, { until: () => about("/v1/metrics", "info").length > 0 })
      assert.lengthOf(about("/v1/metrics", "warn"), 1, JSON.stringify(lines))
      assert.lengthOf(about("/v1/metrics", "info"), 1, JSON.stringify(lines))
      yield* close
    }).pipe(Effect.scoped), 30_000)

  it.effect("says once per outage that a collector answering 500 fails exports, however many batches it refuses", () =>
    Effect.gen(function*() {
      const c = yield* collector(0, 500)
      const { lines, say, about } = recorder()
      const { context, close } = yield* exporter(c.port, say)
      const traces = () => c.posts.filter((p) => p.path === "/v1/traces")

      // Minutes of spans, every batch refused: each is sent, retried, and dropped.
      yield* run(220, { each: span(context, "refused") })
      const batches = new Set(traces().map((p) => p.body)).size
      assert.isAtLeast(batches, 3, "several batches were sent")
      assert.isAtLeast(traces().length, 2 * batches, "and each was retried")
      const warned = about("/v1/traces", "warn")
      assert.lengthOf(warned, 1, JSON.stringify(lines))
      assert.include(warned[0], `OTLP export to http://127.0.0.1:${c.port}/v1/traces failed (the collector answered HTTP 500)`)

      c.status = 200
      yield* run(90, { each: span(context, "taken"), until: () => about("/v1/traces", "info").length > 0 })
      assert.lengthOf(about("/v1/traces", "info"), 1, JSON.stringify(lines))
      assert.include(traces().at(-1)?.body, "\"taken\"")

      // A new outage is a new warning.
      c.status = 503
      yield* run(30, { each: span(context, "again"), until: () => about("/v1/traces", "warn").length > 1 })
      assert.lengthOf(about("/v1/traces", "warn"), 2, JSON.stringify(lines))
      assert.include(about("/v1/traces", "warn")[1], "(the collector answered HTTP 503)")
      c.status = 200
      yield* close
    }).pipe(Effect.scoped), 30_000)
})

describe("OtlpExport against a collector that takes the connection and never answers", () => {
  it.effect(`gives each export up after ${OtlpExport.exportTimeoutMillis / 1000} s, keeps at most ${OtlpExport.maxExportsInFlight} waiting, and says so once`, () =>
    Effect.gen(function*() {
      // The requests the collector holds, by path: open (neither answered nor closed) now, and the most at once.
      const open = new Map<string, number>()
      const most = new Map<string, number>()
      const server = yield* Effect.acquireRelease(
        Effect.promise(() =>
          new Promise<http.Server>((resolve) => {
            const s = http.createServer((req, res) => {
              const at = req.url ?? ""
              open.set(at, (open.get(at) ?? 0) + 1)
              most.set(at, Math.max(most.get(at) ?? 0, open.get(at)!))
              res.on("close", () => open.set(at, open.get(at)! - 1))
              req.resume()
            })
            s.listen(0, "127.0.0.1", () => resolve(s))
          })
        ),
        (s) => Effect.promise(() => new Promise<void>((r) => {
          s.closeAllConnections()
          s.close(() => r())
        }))
      )
      const port = (server.address() as net.AddressInfo).port
      const { lines, say, about } = recorder()
      const { context, close } = yield* exporter(port, say)
      // Ten batches of spans at once (an export starts every 1 000): far more than may wait.
      const burst = Effect.forEach(Array.from({ length: 10_000 }, (_, i) => i), (i) => span(context, `s${i}`), { discard: true })
      yield* burst
      yield* run(60, { until: () => about("/v1/traces", "warn").length > 0 })
      const warned = about("/v1/traces", "warn")
      assert.lengthOf(warned, 1, JSON.stringify(lines))
      assert.match(warned[0]!, /exports were still waiting for the collector's answer|the collector did not answer within 10 s/)
      assert.isAtMost(most.get("/v1/traces") ?? 0, OtlpExport.maxExportsInFlight, "never more exports waiting than the bound")
      // Each export waits its 10 s and is tried again 3 times (a timeout is transient to Effect's
      // exporter), then given up on, its request closed: within a minute none waits.
      yield* run(60, { until: () => open.get("/v1/traces") === 0 })
      assert.strictEqual(open.get("/v1/traces"), 0, "no export left waiting")
      assert.isAtMost(most.get("/v1/traces") ?? 0, OtlpExport.maxExportsInFlight, "never more exports waiting than the bound")
      yield* burst
      yield* run(30)
      assert.lengthOf(about("/v1/traces", "warn"), 1, "one warning per outage")
      // The stop's last exports wait for the collector too, bounded on the test clock: it runs meanwhile.
      const closing = yield* Effect.forkChild(close)
      yield* run(5)
      yield* Fiber.join(closing)
    }).pipe(Effect.scoped), 30_000)
})

describe("the server with an OTLP endpoint", () => {
  it("says, once, that the collector refuses its exports", async () => {
    const port = await closedPort()
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "server-otlp-down-"))
    const secret = "k".repeat(40)
    const r = await Effect.runPromise(ServerConfig.load({ PORT: "0", STORE: "memory", DATA_DIR: dataDir, AUTH_HS256_SECRET: secret, LOG_LEVEL: "none", OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` }))
    const { lines, say, about } = recorder()
    const app = await App.start(r, say)
    let up: http.Server | undefined
    try {
      const token = await Token.mint({ secret, tenant: "t1" })
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${app.url}/beta/deviceManagement/deviceEnrollmentConfigurations/c1/assignments`, { headers: { authorization: `Bearer ${token}` } })
        assert.strictEqual(res.status, 404)
      }
      // Spans go every 5 s, and a batch is given up on after 3 retries, 1 s apart.
      const deadline = Date.now() + 15_000
      while (about("/v1/traces", "warn").length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
      const warned = about("/v1/traces", "warn")
      assert.lengthOf(warned, 1, JSON.stringify(lines))
      assert.include(warned[0], `OTLP export to http://127.0.0.1:${port}/v1/traces failed (fetch failed: connect ECONNREFUSED 127.0.0.1:${port})`)
      // Up again before the stop, whose last flush would otherwise wait for its retries.
      up = http.createServer((req, res) => req.resume().on("end", () => res.writeHead(200).end("{}")))
      await new Promise<void>((r) => up!.listen(port, "127.0.0.1", r))
    } finally {
      await app.stop()
      up?.close()
    }
    assert.lengthOf(about("/v1/traces", "warn"), 1, JSON.stringify(lines))
  }, 30_000)

  it("stops within its bound with the collector down: a stop's last exports are given up on in time", async () => {
    const port = await closedPort()
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "server-otlp-stop-"))
    const secret = "k".repeat(40)
    const r = await Effect.runPromise(ServerConfig.load({ PORT: "0", STORE: "memory", DATA_DIR: dataDir, AUTH_HS256_SECRET: secret, LOG_LEVEL: "none", OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` }))
    const app = await App.start(r, () => {})
    // Spans waiting to be sent: the stop's last export of traces has something to send, as has
    // the one of metrics (Effect sends its snapshot whatever it holds).
    const token = await Token.mint({ secret, tenant: "t1" })
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${app.url}/beta/deviceManagement/deviceEnrollmentConfigurations/c1/assignments`, { headers: { authorization: `Bearer ${token}` } })
      assert.strictEqual(res.status, 404)
    }
    const began = Date.now()
    // Before, each last export was given Effect's 3 s, all of `App.closeMillis`: the stop raced its
    // own bound (3.5 s here, exit 0 or, on a slower host, a CloseTimeout and exit 1).
    await app.stop()
    const took = Date.now() - began
    assert.isBelow(took, App.closeMillis, `the stop took ${took} ms`)
    assert.isBelow(OtlpExport.flushMillis * 3, App.closeMillis)
  }, 30_000)
})
