/**
 * OpenTelemetry's samplers (`OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`): read as its SDKs
 * name them, deciding by the caller's flag or the trace's id, and applied to a request's spans by
 * the server: a request left out builds none.
 */
import type { Tracer } from "effect"
import { randomBytes } from "node:crypto"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import * as Sampler from "../src/Sampler.ts"
import { recordingTracer, start, type TestServer } from "./support.ts"

const parsed = (name: string | undefined, arg?: string) => {
  const p = Sampler.parse(name, arg)
  assert.strictEqual(p._tag, "Sampler", JSON.stringify(p))
  return p._tag === "Sampler" ? p : (undefined as never)
}
const problem = (name: string | undefined, arg?: string) => {
  const p = Sampler.parse(name, arg)
  assert.strictEqual(p._tag, "Problem", JSON.stringify(p))
  return p._tag === "Problem" ? p.problem : ""
}
const caller = (traceId: string, sampled: boolean): Tracer.ExternalSpan =>
  ({ _tag: "ExternalSpan", traceId, spanId: "00f067aa0ba902b7", sampled }) as Tracer.ExternalSpan

describe("Sampler.parse", () => {
  it("reads OpenTelemetry's names, parentbased_always_on when unset or empty", () => {
    assert.deepStrictEqual(parsed(undefined).sampler, Sampler.parentBasedAlwaysOn)
    assert.deepStrictEqual(parsed("").sampler, Sampler.parentBasedAlwaysOn)
    assert.deepStrictEqual(parsed("always_on").sampler, { parentBased: false, ratio: 1 })
    assert.deepStrictEqual(parsed("always_off").sampler, { parentBased: false, ratio: 0 })
    assert.deepStrictEqual(parsed("parentbased_always_on").sampler, { parentBased: true, ratio: 1 })
    assert.deepStrictEqual(parsed("parentbased_always_off").sampler, { parentBased: true, ratio: 0 })
    assert.deepStrictEqual(parsed("traceidratio", "0.25").sampler, { parentBased: false, ratio: 0.25 })
    assert.deepStrictEqual(parsed("parentbased_traceidratio", ".5").sampler, { parentBased: true, ratio: 0.5 })
    assert.deepStrictEqual(parsed("PARENTBASED_TRACEIDRATIO", "0").sampler, { parentBased: true, ratio: 0 })
    // A ratio sampler without its argument records every trace (OpenTelemetry's default, 1.0).
    assert.deepStrictEqual(parsed("traceidratio").sampler, { parentBased: false, ratio: 1 })
    assert.deepStrictEqual(parsed("traceidratio", "1").sampler, { parentBased: false, ratio: 1 })
  })

  it("refuses a sampler it does not offer and a ratio outside 0 to 1, naming what it expects", () => {
    assert.match(problem("jaeger_remote"), /^OTEL_TRACES_SAMPLER: expected one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio, got "jaeger_remote"$/)
    assert.match(problem("traceid_ratio", "0.1"), /got "traceid_ratio"/)
    for (const arg of ["1.5", "-0.1", "abc", " 0.5", "0.5 ", "1e-3", "0x1", "NaN", "Infinity", "."]) {
      assert.match(problem("parentbased_traceidratio", arg), /^OTEL_TRACES_SAMPLER_ARG: expected a ratio from 0 to 1 .* for parentbased_traceidratio, got /, arg)
    }
  })

  it("warns of an argument its sampler does not read (a ratio beside parentbased_always_on records every trace)", () => {
    const p = parsed("parentbased_always_on", "0.1")
    assert.deepStrictEqual(p.sampler, Sampler.parentBasedAlwaysOn)
    assert.match(p.warning ?? "", /OTEL_TRACES_SAMPLER_ARG is set but not read by the sampler parentbased_always_on/)
    assert.isUndefined(parsed("parentbased_traceidratio", "0.1").warning)
    assert.isUndefined(parsed("always_on").warning)
  })
})

describe("Sampler.byTraceId", () => {
  it("samples by the id's 56 low bits against (1 - ratio) × 2^56, as OpenTelemetry's TraceIdRatioBased", () => {
    // The low 14 hex digits at 2^55 and just below it: the edge of a half.
    assert.isTrue(Sampler.byTraceId("ffffffffffffffffff80000000000000", 0.5))
    assert.isFalse(Sampler.byTraceId("ffffffffffffffffff7fffffffffffff", 0.5))
    // The high digits play no part.
    assert.isFalse(Sampler.byTraceId("000000000000000000000000000000ff", 0.5))
    assert.isTrue(Sampler.byTraceId("00000000000000000000000000000000", 1))
    assert.isFalse(Sampler.byTraceId("ffffffffffffffffffffffffffffffff", 0))
    // 2^54 is the threshold of 0.75.
    assert.isTrue(Sampler.byTraceId("00000000000000000040000000000000", 0.75))
    assert.isFalse(Sampler.byTraceId("0000000000000000003fffffffffffff", 0.75))
    assert.isTrue(Sampler.byTraceId("0000000000000000003fffffffffffff", 0.76))
    assert.isFalse(Sampler.byTraceId("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", 0.5), "not hexadecimal")
  })

  it("samples about the ratio's share of random ids, the same way every time for one id", () => {
    const ids = Array.from({ length: 20_000 }, () => randomBytes(16).toString("hex"))
    for (const ratio of [0.01, 0.25, 0.9]) {
      const share = ids.filter((id) => Sampler.byTraceId(id, ratio)).length / ids.length
      // Five standard deviations of a binomial share at 20 000 draws, at most 0.0177.
      assert.approximately(share, ratio, 0.02, `ratio ${ratio}`)
    }
    for (const id of ids.slice(0, 100)) assert.strictEqual(Sampler.byTraceId(id, 0.3), Sampler.byTraceId(id, 0.3))
  })
})

describe("Sampler.sampled", () => {
  const id = "4bf92f3577b34da6a3ce929d0e0e4736"
  it("follows the caller's flag when parent-based, and the trace's id when not", () => {
    assert.isTrue(Sampler.sampled({ parentBased: true, ratio: 0 }, caller(id, true)))
    assert.isFalse(Sampler.sampled({ parentBased: true, ratio: 1 }, caller(id, false)))
    assert.isTrue(Sampler.sampled({ parentBased: false, ratio: 1 }, caller(id, false)), "always_on records what its caller did not")
    assert.isFalse(Sampler.sampled({ parentBased: false, ratio: 0 }, caller(id, true)), "always_off records nothing")
    assert.strictEqual(Sampler.sampled({ parentBased: false, ratio: 0.5 }, caller(id, false)), Sampler.byTraceId(id, 0.5))
    assert.strictEqual(Sampler.sampled({ parentBased: false, ratio: 0.5 }, caller(id, true)), Sampler.byTraceId(id, 0.5))
  })

  it("samples a trace a request starts with the ratio's probability", () => {
    assert.isTrue(Sampler.sampled({ parentBased: true, ratio: 1 }, undefined))
    assert.isFalse(Sampler.sampled({ parentBased: true, ratio: 0 }, undefined))
    const n = 20_000
    let hits = 0
    for (let i = 0; i < n; i++) if (Sampler.sampled({ parentBased: true, ratio: 0.2 }, undefined)) hits++
    assert.approximately(hits / n, 0.2, 0.02)
  })

  it("records nothing at all only for always_off", () => {
    assert.isTrue(Sampler.recordsNone(parsed("always_off").sampler))
    for (const name of ["parentbased_always_off", "always_on", "traceidratio", "parentbased_always_on"]) {
      assert.isFalse(Sampler.recordsNone(parsed(name).sampler), name)
    }
    assert.isFalse(Sampler.recordsNone(parsed("traceidratio", "0.01").sampler))
  })
})

describe("Sampler.callerOf", () => {
  const id = "4bf92f3577b34da6a3ce929d0e0e4736"
  const span = "00f067aa0ba902b7"
  it("reads a traceparent of a later version as version 00, as W3C Trace Context says a receiver does", () => {
    for (const header of [`01-${id}-${span}-01`, `cc-${id}-${span}-01-what-comes-next`]) {
      const c = Sampler.callerOf({ traceparent: header })
      assert.strictEqual(c?.span.traceId, id, header)
      assert.strictEqual(c?.span.spanId, span)
      assert.isTrue(c?.span.sampled)
      assert.isTrue(c?.decided)
    }
    assert.isUndefined(Sampler.callerOf({ traceparent: `ff-${id}-${span}-01` }), "version ff is invalid")
    assert.isUndefined(Sampler.callerOf({ traceparent: `01-${id}-${span}-01x` }), "not a field after the flags")
    assert.isFalse(Sampler.callerOf({ traceparent: `00-${id}-${span}-00` })?.span.sampled)
  })

  it("says a B3 caller without a sampling state left the decision to the receiver", () => {
    assert.isFalse(Sampler.callerOf({ b3: `${id}-${span}` })?.decided)
    assert.isTrue(Sampler.callerOf({ b3: `${id}-${span}-1` })?.decided)
    assert.isTrue(Sampler.callerOf({ b3: `${id}-${span}-0` })?.decided)
    assert.isFalse(Sampler.callerOf({ "x-b3-traceid": id, "x-b3-spanid": span })?.decided)
    const refused = Sampler.callerOf({ "x-b3-traceid": id, "x-b3-spanid": span, "x-b3-sampled": "0" })
    assert.isTrue(refused?.decided)
    assert.isFalse(refused?.span.sampled)
    assert.isTrue(Sampler.callerOf({ "x-b3-traceid": id, "x-b3-spanid": span, "x-b3-flags": "1" })?.decided)
    assert.isUndefined(Sampler.callerOf({}))
  })

  it("decides a deferred caller's trace by its id, parent-based or not", () => {
    const deferred = Sampler.callerOf({ b3: `${id}-${span}` })!
    assert.isFalse(Sampler.sampled({ parentBased: true, ratio: 0 }, deferred.span, deferred.decided), "parentbased_always_off")
    assert.isTrue(Sampler.sampled({ parentBased: true, ratio: 1 }, deferred.span, deferred.decided), "parentbased_always_on")
    assert.strictEqual(Sampler.sampled({ parentBased: true, ratio: 0.5 }, deferred.span, deferred.decided), Sampler.byTraceId(id, 0.5))
  })
})

describe("a request's spans under a sampler", () => {
  const { spans: recorded, layer } = recordingTracer()
  const servers: Record<string, TestServer> = {}
  beforeAll(async () => {
    servers.default = await start({ extra: layer(true) })
    servers.parentbasedOff = await start({ extra: layer(true), sampler: parsed("parentbased_always_off").sampler })
    servers.alwaysOn = await start({ extra: layer(true), sampler: parsed("always_on").sampler })
    servers.half = await start({ extra: layer(true), sampler: parsed("traceidratio", "0.5").sampler })
  })
  afterAll(async () => {
    for (const s of Object.values(servers)) await s.close()
  })

  /** The spans one request made: its server span, and those of its trace under it. */
  const spansOf = (requestId: string | null) => {
    const server = recorded.find((s) => s.kind === "server" && s.attributes.get("request.id") === requestId)
    return server === undefined ? [] : recorded.filter((s) => s.traceId === server.traceId)
  }
  const traceparent = (traceId: string, flag: "00" | "01") => ({ traceparent: `00-${traceId}-00f067aa0ba902b7-${flag}` })
  const list = "deviceManagement/deviceEnrollmentConfigurations"

  it("builds no span at all for a request its sampler leaves out, and the request's spans for one it takes", async () => {
    recorded.length = 0
    const left = await servers.parentbasedOff!.request("GET", list)
    assert.strictEqual(left.status, 200, left.text)
    assert.deepStrictEqual(recorded.map((s) => s.name), [], "no span, not even an unsampled one")

    // Another URL: the first's answer is kept, and a kept answer is served without the service.
    const taken = await servers.parentbasedOff!.request("GET", `${list}?$top=5`, { headers: traceparent("5bf92f3577b34da6a3ce929d0e0e4736", "01") })
    assert.strictEqual(taken.status, 200)
    const spans = spansOf(taken.headers.get("request-id"))
    assert.isAbove(spans.length, 1, "the server span and the service's under it")
    for (const s of spans) assert.isTrue(s.sampled, s.name)
  })

  it("follows a caller that did not sample (flag 00) with no span, by default", async () => {
    recorded.length = 0
    const r = await servers.default!.request("GET", list, { headers: traceparent("6bf92f3577b34da6a3ce929d0e0e4736", "00") })
    assert.strictEqual(r.status, 200)
    assert.deepStrictEqual(recorded.map((s) => s.name), [])
    const own = await servers.default!.request("GET", `${list}?$top=3`)
    const spans = spansOf(own.headers.get("request-id"))
    assert.isAbove(spans.length, 1, "a request that starts a trace has its spans")
    assert.isTrue(spans.every((s) => s.sampled))
  })

  it("records, with always_on, a trace its caller did not sample, its spans under it sampled too", async () => {
    recorded.length = 0
    const traceId = "7bf92f3577b34da6a3ce929d0e0e4736"
    const r = await servers.alwaysOn!.request("GET", list, { headers: traceparent(traceId, "00") })
    const spans = spansOf(r.headers.get("request-id"))
    assert.isAbove(spans.length, 1)
    for (const s of spans) {
      assert.strictEqual(s.traceId, traceId)
      assert.isTrue(s.sampled, s.name)
    }
  })

  it("continues a traceparent of a later version, and leaves out a B3 caller that deferred under parentbased_always_off", async () => {
    recorded.length = 0
    const traceId = "8bf92f3577b34da6a3ce929d0e0e4736"
    const later = await servers.default!.request("GET", `${list}?$top=7`, { headers: { traceparent: `01-${traceId}-00f067aa0ba902b7-01-extra` } })
    const spans = spansOf(later.headers.get("request-id"))
    assert.isAbove(spans.length, 1)
    for (const s of spans) assert.strictEqual(s.traceId, traceId)

    recorded.length = 0
    const deferred = await servers.parentbasedOff!.request("GET", `${list}?$top=8`, { headers: { b3: `${traceId}-00f067aa0ba902b7` } })
    assert.strictEqual(deferred.status, 200)
    assert.deepStrictEqual(recorded.map((s) => s.name), [], "the receiver's decision: its root sampler, off")
    const decided = await servers.parentbasedOff!.request("GET", `${list}?$top=9`, { headers: { b3: `${traceId}-00f067aa0ba902b7-1` } })
    assert.isAbove(spansOf(decided.headers.get("request-id")).length, 1, "the caller's decision: sampled")
  })

  it("decides a continued trace by its id with traceidratio, whatever the caller's flag", async () => {
    recorded.length = 0
    const kept = "0000000000000000ffc0000000000000"
    const dropped = "ffffffffffffffffff00000000000001"
    assert.isTrue(Sampler.byTraceId(kept, 0.5))
    assert.isFalse(Sampler.byTraceId(dropped, 0.5))
    const a = await servers.half!.request("GET", list, { headers: traceparent(kept, "00") })
    const b = await servers.half!.request("GET", list, { headers: traceparent(dropped, "01") })
    assert.isAbove(spansOf(a.headers.get("request-id")).length, 0)
    assert.deepStrictEqual(spansOf(b.headers.get("request-id")), [])
    assert.isTrue(recorded.every((s) => s.traceId === kept), recorded.map((s) => s.traceId).join(", "))
  })
})
