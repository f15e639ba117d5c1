import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Result } from "effect"
import { Configuration, Configurations, ETag, MemoryStore } from "../src/index.ts"

const G = "#microsoft.graph."
const now = "2026-01-01T00:00:00.000Z"

/** A stored limit configuration with one derived property. */
const stored = (): Configuration.Configuration => {
  const input = Configuration.decodeCreate({ "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: "c1", displayName: "old", limit: 3 })
  if (Result.isFailure(input)) return assert.fail(input.failure.message)
  return Configuration.make("c1", input.success, now)
}

const ok = (current: Configuration.Configuration, payload: unknown) => {
  const r = Configuration.patch(current, payload)
  if (Result.isFailure(r)) return assert.fail(`expected success, got: ${r.failure.message}`)
  return r.success
}

const fails = (current: Configuration.Configuration, payload: unknown) => {
  const r = Configuration.patch(current, payload)
  if (Result.isSuccess(r)) return assert.fail(`expected a refusal, got ${JSON.stringify(r.success)}`)
  return r.failure
}

describe("PATCH of a configuration's @odata.type", () => {
  for (const spelling of [`${G}deviceEnrollmentConfiguration`, "microsoft.graph.deviceEnrollmentConfiguration"]) {
    it(`keeps the stored concrete type when the body names the abstract base type (${spelling})`, () => {
      const next = ok(stored(), { "@odata.type": spelling, displayName: "x" })
      assert.strictEqual(next["@odata.type"], `${G}deviceEnrollmentLimitConfiguration`)
      assert.strictEqual(next.displayName, "x")
      assert.strictEqual((next as any).limit, 3, "the derived type's own properties are kept")
    })
  }

  it("accepts the stored concrete type in either spelling", () => {
    assert.strictEqual(ok(stored(), { "@odata.type": "microsoft.graph.deviceEnrollmentLimitConfiguration", limit: 4 }).limit, 4)
    assert.strictEqual(ok(stored(), { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, limit: 5 }).limit, 5)
  })

  it("refuses another concrete type, naming the one sent and the ones accepted (the type cannot change)", () => {
    const e = fails(stored(), { "@odata.type": `${G}windowsRestoreDeviceEnrollmentConfiguration`, displayName: "x" })
    assert.strictEqual(e.reason._tag, "TypeNotAccepted")
    assert.strictEqual(
      e.message,
      `@odata.type: "${G}windowsRestoreDeviceEnrollmentConfiguration" is not an accepted type; expected one of ` +
        `${G}deviceEnrollmentLimitConfiguration, ${G}deviceEnrollmentConfiguration`
    )
  })

  it("refuses an unknown or malformed type with the types a PATCH accepts", () => {
    for (const t of [`${G}somethingElse`, "deviceEnrollmentConfiguration", 42, null]) {
      const e = fails(stored(), { "@odata.type": t })
      assert.strictEqual(e.reason._tag, "TypeNotAccepted", JSON.stringify(t))
      assert.deepStrictEqual((e.reason as any).accepted, ["deviceEnrollmentLimitConfiguration", "deviceEnrollmentConfiguration"])
    }
  })

  it("still refuses the abstract base type on create, in either spelling", () => {
    for (const t of [`${G}deviceEnrollmentConfiguration`, "microsoft.graph.deviceEnrollmentConfiguration"]) {
      const r = Configuration.decodeCreate({ "@odata.type": t, displayName: "x" })
      assert.ok(Result.isFailure(r), t)
      assert.strictEqual(r.failure.reason._tag, "TypeNotAccepted")
      assert.notInclude((r.failure.reason as any).accepted, "deviceEnrollmentConfiguration")
    }
  })
})

describe("Configurations.patch with the abstract base type", () => {
  const services = Configurations.layer.pipe(Layer.provideMerge(MemoryStore.layer))

  it.effect("stores the change under the stored type; naming only the base type changes nothing", () =>
    Effect.gen(function*() {
      const cfgs = yield* Configurations
      const c = yield* cfgs.create("t", { "@odata.type": `${G}deviceEnrollmentWindowsHelloForBusinessConfiguration`, id: "c1" })
      const same = yield* cfgs.patch("t", "c1", { "@odata.type": `${G}deviceEnrollmentConfiguration` })
      assert.strictEqual(same.version, c.version, "a no-op")
      assert.strictEqual(ETag.of(same), ETag.of(c))
      yield* cfgs.patch("t", "c1", { "@odata.type": "microsoft.graph.deviceEnrollmentConfiguration", displayName: "x" })
      const got = yield* cfgs.get("t", "c1")
      assert.strictEqual(got["@odata.type"], `${G}deviceEnrollmentWindowsHelloForBusinessConfiguration`)
      assert.strictEqual(got.displayName, "x")
      assert.strictEqual(got.version, c.version + 1)
    }).pipe(Effect.provide(services)))
})

describe("a configuration's derived-type properties", () => {
  it("are bounded as typed ones are: 4 KiB strings, and 64 KiB of JSON for them all, PATCHes included", () => {
    const long = "x".repeat(4097)
    const e = Configuration.decodeCreate({ "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, notes: { text: long } })
    assert.isTrue(Result.isFailure(e))
    if (Result.isSuccess(e)) return
    assert.include(e.failure.message, "notes.text: expected a string of at most 4096 bytes of UTF-8 (4 KiB)")
    const chunk = Array.from({ length: 12 }, (_, i) => `${i}-${"y".repeat(4000)}`)
    const big = Configuration.decodeCreate({ "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, a: chunk, b: chunk })
    assert.isTrue(Result.isFailure(big) && big.failure.message.includes("within 65536 bytes of JSON together"))
    // Each PATCH within the bound, together past it.
    const first = ok(stored(), { a: chunk })
    assert.include(fails(first, { b: chunk }).message, "within 65536 bytes of JSON together")
  })

  it("count their 64 KiB in bytes of UTF-8, not in code units", () => {
    // 12 strings of 1 300 "€" (3 bytes each, within 4 KiB apiece): about 47 KB of JSON but 15 600 code units.
    const euros = Array.from({ length: 12 }, () => "€".repeat(1300))
    const within = Configuration.decodeCreate({ "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, a: euros })
    assert.isTrue(Result.isSuccess(within))
    const over = Configuration.decodeCreate({ "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, a: euros, b: euros })
    assert.isTrue(Result.isFailure(over) && over.failure.message.includes("within 65536 bytes of JSON together"))
  })
})
