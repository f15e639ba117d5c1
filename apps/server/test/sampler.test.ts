/**
 * `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG` read at start (a bad value is a problem, an
 * argument no sampler reads and a sampler without an exporter are warnings), and the server's
 * exports under them, to a real collector on a real port: `always_off` sends no span, a ratio of a
 * half sends the traces whose ids it takes.
 */
import { Token } from "@enrollment/http-adapter"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as http from "node:http"
import type * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { App, ServerConfig } from "../src/index.ts"

const secret = "k".repeat(40)
const base = (dataDir: string) => ({ PORT: "0", STORE: "memory", DATA_DIR: dataDir, AUTH_HS256_SECRET: secret, LOG_LEVEL: "none" })
const load = (env: Record<string, string>) => Effect.runPromise(Effect.result(ServerConfig.load(env)))
const problemsOf = async (env: Record<string, string>) => {
  const r = await load(env)
  return r._tag === "Failure" ? r.failure.problems : []
}
const configOf = async (env: Record<string, string>) => {
  const r = await load(env)
  assert.strictEqual(r._tag, "Success", JSON.stringify(r))
  return r._tag === "Success" ? r.success : (undefined as never)
}

describe("the sampler's settings", () => {
  const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" }

  it("is parentbased_always_on by default, and reads OpenTelemetry's names and ratio", async () => {
    assert.deepStrictEqual((await configOf({ ...endpoint })).tracesSampler, { parentBased: true, ratio: 1 })
    assert.deepStrictEqual(
      (await configOf({ ...endpoint, OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.05" })).tracesSampler,
      { parentBased: true, ratio: 0.05 }
    )
    assert.deepStrictEqual((await configOf({ ...endpoint, OTEL_TRACES_SAMPLER: "always_off" })).tracesSampler, { parentBased: false, ratio: 0 })
    assert.deepStrictEqual((await configOf({ ...endpoint, OTEL_TRACES_SAMPLER: "parentbased_always_on" })).tracesSamplerWarnings, [])
  })

  it("refuses a sampler it does not offer and a ratio outside 0 to 1, beside the other problems", async () => {
    const problems = await problemsOf({ ...endpoint, OTEL_TRACES_SAMPLER: "xray", PORT: "eighty" })
    assert.strictEqual(problems.length, 2, JSON.stringify(problems))
    assert.isTrue(problems.some((p) => p.startsWith("PORT:")))
    assert.isTrue(problems.some((p) => /^OTEL_TRACES_SAMPLER: expected one of always_on, .*, got "xray"$/.test(p)))
    assert.deepStrictEqual(
      await problemsOf({ ...endpoint, OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "10%" }),
      ["OTEL_TRACES_SAMPLER_ARG: expected a ratio from 0 to 1 (0.25 records a quarter of the traces) for traceidratio, got \"10%\""]
    )
  })

  it("warns of an argument its sampler does not read, and of a sampler set without an exporter", async () => {
    const unread = await configOf({ ...endpoint, OTEL_TRACES_SAMPLER: "parentbased_always_on", OTEL_TRACES_SAMPLER_ARG: "0.1" })
    assert.lengthOf(unread.tracesSamplerWarnings, 1)
    assert.match(unread.tracesSamplerWarnings[0]!, /OTEL_TRACES_SAMPLER_ARG is set but not read by the sampler parentbased_always_on/)
    const alone = await configOf({ OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.1" })
    assert.deepStrictEqual(alone.tracesSamplerWarnings, [
      "OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG are set but OTEL_EXPORTER_OTLP_ENDPOINT is not: tracing is off, and no trace is recorded"
    ])
    // Each named as it is set (a review found the argument alone named as the sampler).
    assert.deepStrictEqual((await configOf({ OTEL_TRACES_SAMPLER_ARG: "0.1" })).tracesSamplerWarnings, [
      "OTEL_TRACES_SAMPLER_ARG is set but not read by the sampler parentbased_always_on (only traceidratio and parentbased_traceidratio take a ratio)",
      "OTEL_TRACES_SAMPLER_ARG is set but OTEL_EXPORTER_OTLP_ENDPOINT is not: tracing is off, and no trace is recorded"
    ])
    assert.deepStrictEqual((await configOf({})).tracesSamplerWarnings, [])
  })
})

describe("App.tracesRecorded", () => {
  it("makes spans with an exporter, unless its sampler records none", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "server-sampler-"))
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" }
    assert.isFalse(App.tracesRecorded(await configOf(base(dataDir))))
    assert.isTrue(App.tracesRecorded(await configOf({ ...base(dataDir), ...endpoint })))
    assert.isFalse(App.tracesRecorded(await configOf({ ...base(dataDir), ...endpoint, OTEL_TRACES_SAMPLER: "always_off" })))
    // A caller's sampled trace is still recorded under these.
    assert.isTrue(App.tracesRecorded(await configOf({ ...base(dataDir), ...endpoint, OTEL_TRACES_SAMPLER: "parentbased_always_off" })))
    assert.isTrue(App.tracesRecorded(await configOf({ ...base(dataDir), ...endpoint, OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.01" })))
    // A ratio of 0 that ignores the caller records none, as always_off.
    assert.isFalse(App.tracesRecorded(await configOf({ ...base(dataDir), ...endpoint, OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "0" })))
  })
})

/** The spans a collector was sent, as trace id and name. */
const spansIn = (posts: ReadonlyArray<string>) =>
  posts.flatMap((body) => {
    const json = JSON.parse(body) as { resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: Array<{ traceId: string; name: string }> }> }> }
    return (json.resourceSpans ?? []).flatMap((r) => (r.scopeSpans ?? []).flatMap((s) => s.spans ?? []))
  })

describe("the server's exports under a sampler", () => {
  let collector: http.Server
  const traces: Array<string> = []
  let port = 0
  beforeAll(async () => {
    collector = http.createServer((req, res) => {
      let body = ""
      req.setEncoding("utf8").on("data", (c: string) => (body += c)).on("end", () => {
        if (req.url === "/v1/traces") traces.push(body)
        res.writeHead(200, { "content-type": "application/json" }).end("{}")
      })
    })
    await new Promise<void>((r) => collector.listen(0, "127.0.0.1", r))
    port = (collector.address() as net.AddressInfo).port
  })
  afterAll(() => new Promise<void>((r) => collector.close(() => r())))

  /** A server with `sampler`, sent `requests` (trace ids, or undefined for none), then stopped: its last export sends what it holds. */
  const serve = async (sampler: Record<string, string>, requests: ReadonlyArray<string | undefined>) => {
    traces.length = 0
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "server-sampler-"))
    const config = await configOf({ ...base(dataDir), OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, ...sampler })
    const app = await App.start(config, () => {})
    try {
      const token = await Token.mint({ secret, tenant: "t1" })
      for (const traceId of requests) {
        const res = await fetch(`${app.url}/beta/deviceManagement/deviceEnrollmentConfigurations/c1/assignments`, {
          headers: { authorization: `Bearer ${token}`, ...(traceId !== undefined ? { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } : {}) }
        })
        assert.strictEqual(res.status, 404)
      }
    } finally {
      await app.stop()
    }
    return spansIn(traces)
  }

  it("sends spans by default, and none with always_off, whatever the caller sampled", async () => {
    const on = await serve({}, [undefined, "1bf92f3577b34da6a3ce929d0e0e4736"])
    assert.isAbove(on.length, 2, JSON.stringify(on))
    assert.include(on.map((s) => s.name), "GET /beta/deviceManagement/deviceEnrollmentConfigurations/{configurationId}/assignments")
    const off = await serve({ OTEL_TRACES_SAMPLER: "always_off" }, [undefined, "1bf92f3577b34da6a3ce929d0e0e4736"])
    assert.deepStrictEqual(off, [])
  }, 20_000)

  it("sends, with traceidratio 0.5, the traces whose ids it takes and no span of the others", async () => {
    const taken = "0000000000000000ffc0000000000000"
    const left = "ffffffffffffffffff00000000000001"
    const spans = await serve({ OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.5" }, [taken, left])
    assert.isAbove(spans.length, 1)
    assert.deepStrictEqual([...new Set(spans.map((s) => s.traceId))], [taken])
  }, 20_000)
})
