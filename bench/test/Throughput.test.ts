/**
 * The speed section's throughput verdict: the capacity ratio (server CPU time per request,
 * bare over ours) read round by round, and a verdict met only when it and the req/s ratio
 * both reach the target, so a load generator that holds the bare server back cannot pass it,
 * and the speed table's runs too, against the bare server's fastest.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Load from "../src/Load.ts"
import * as Speed from "../src/Speed.ts"

const run = (rps: number, cpuUs: number | undefined): Load.LoadResult => ({
  name: "r",
  rps,
  total: rps * 2,
  p50: 1,
  p99: 2,
  non2xx: 0,
  errors: 0,
  statusCodes: {},
  rssPeak: 0,
  rssMean: 0,
  fdsAfter: 0,
  serverCoreBusy: 0.9,
  serverCpuPerRequest: cpuUs === undefined ? undefined : { userUs: cpuUs * 0.75, systemUs: cpuUs * 0.25 }
})

/** An alternation of rounds given as [bare req/s, bare µs, ours req/s, ours µs]. */
const alternation = (rounds: ReadonlyArray<readonly [number, number | undefined, number, number | undefined]>): Load.Alternation => {
  const ratios = rounds.map(([a, , b]) => b / a)
  const sorted = [...ratios].sort((x, y) => x - y)
  return {
    a: rounds.map(([rps, cpu]) => run(rps, cpu)),
    b: rounds.map(([, , rps, cpu]) => run(rps, cpu)),
    ratios,
    median: sorted[sorted.length >> 1]!,
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!
  }
}

describe("throughput verdict", () => {
  it("reads capacity as the bare server's CPU per request over ours, round by round", () => {
    const cap = Load.capacity(alternation([[30_000, 20, 15_000, 50], [30_000, 30, 15_000, 50], [30_000, 25, 15_000, 100]]))
    assert.isDefined(cap)
    assert.deepStrictEqual(cap!.ratios.map((r) => Math.round(r * 100) / 100), [0.4, 0.6, 0.25])
    assert.strictEqual(cap!.median, 0.4)
    assert.strictEqual(cap!.min, 0.25)
    assert.strictEqual(cap!.max, 0.6)
    assert.isUndefined(Load.capacity(alternation([[30_000, 20, 15_000, 50], [30_000, undefined, 15_000, 50]])), "a round without CPU times")
  })

  it("is missed when the req/s ratio passes only because the bare server was held back", () => {
    // The bare server answered 20k/s at 20 µs per request: its core was 40 % busy.
    const v = Speed.throughput(alternation([[20_000, 20, 11_000, 60], [20_000, 20, 11_000, 60], [20_000, 20, 11_000, 60]]), 0.5)
    assert.isFalse(v.met)
    assert.include(v.text, "capacity (server CPU per request, bare / ours) median 0.33x")
    assert.include(v.text, "req/s alternating median 0.55x")
  })

  it("is missed when capacity passes but the req/s ratio does not, and met when both pass", () => {
    assert.isFalse(Speed.throughput(alternation([[40_000, 20, 16_000, 30], [40_000, 20, 16_000, 30], [40_000, 20, 16_000, 30]]), 0.5).met)
    const both = Speed.throughput(alternation([[40_000, 20, 24_000, 36], [40_000, 20, 22_000, 38], [40_000, 20, 21_000, 39]]), 0.5)
    assert.isTrue(both.met)
    assert.include(both.text, "median 0.53x")
  })

  it("is missed when the rounds pass but the table's runs, against the bare server's fastest, do not", () => {
    // Rounds run as the host slowed: both alternating measures pass; the table's 10 s runs, at full speed, do not.
    const alt = alternation([[20_000, 40, 12_000, 60], [20_000, 40, 12_000, 60], [20_000, 40, 12_000, 60]])
    assert.isTrue(Speed.throughput(alt, 0.5).met)
    const slowBare = run(24_000, 30)
    const fastBare = run(35_000, 28)
    const missed = Speed.throughput(alt, 0.5, { ours: run(12_600, 74), bare: [slowBare, fastBare] })
    assert.isFalse(missed.met)
    assert.include(missed.text, "sequential 12600 vs 35000 req/s = 0.36x")
    const met = Speed.throughput(alt, 0.5, { ours: run(18_000, 50), bare: [slowBare, fastBare] })
    assert.isTrue(met.met)
    assert.include(met.text, "= 0.51x")
  })

  it("falls back to the req/s ratio alone, and says so, without CPU times", () => {
    const v = Speed.throughput(alternation([[40_000, undefined, 24_000, undefined]]), 0.5)
    assert.isTrue(v.met)
    assert.include(v.text, "capacity not measured")
  })
})
