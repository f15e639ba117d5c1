/**
 * SPEC 8's 4 KiB string bound counted in bytes of UTF-8 (core 0.8.0; it was counted in UTF-16
 * code units, so 4096 `€`, 12 288 bytes, passed), and the numbers a double does not keep as
 * written, found in a JSON text with their path (core 0.8.0; SPEC 1.4: no data a client sends is
 * lost).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Result, Schema } from "effect"
import * as Arbitrary from "effect/Arbitrary"
import { Assignment, AssignmentPatch, AssignmentTarget, Configuration, Json, Validation } from "../src/index.ts"

const G = "#microsoft.graph."
const decodeString = Validation.decoder(Schema.NullOr(AssignmentTarget.BoundedString))
const message = (r: Result.Result<unknown, { readonly message: string }>): string =>
  Result.isFailure(r) ? r.failure.message : "accepted"

const stored = (): Assignment.Assignment =>
  Result.getOrThrow(Assignment.validate({
    "@odata.type": "#microsoft.graph.enrollmentConfigurationAssignment",
    id: "a1",
    target: { ...AssignmentTarget.empty("groupAssignmentTarget"), groupId: "g1" },
    source: "direct",
    sourceId: null
  }))

describe("typed strings are bounded at 4 KiB of UTF-8", () => {
  it("counts bytes of UTF-8, not UTF-16 code units", () => {
    const within = ["x".repeat(4096), "€".repeat(1365), "😀".repeat(1024), "é".repeat(2048)]
    const over = ["x".repeat(4097), "€".repeat(1366), "€".repeat(4096), "😀".repeat(1025), "é".repeat(2049), "\ud800".repeat(1366)]
    for (const s of within) assert.strictEqual(message(decodeString(s, "sourceId")), "accepted", `${s.length} code units`)
    for (const s of over) {
      assert.strictEqual(
        message(decodeString(s, "sourceId")).slice(0, 63),
        "sourceId: expected a string of at most 4096 bytes of UTF-8 (4 K",
        `${s.length} code units`
      )
    }
  })

  it("measures UTF-8 as an encoder writes it, unpaired surrogates as U+FFFD", () => {
    const encoder = new TextEncoder()
    for (const s of ["", "x", "é", "€", "😀", "a😀b", "\ud800", "\udc00x", "\ud83d", "€😀é\ud800x".repeat(300)]) {
      assert.strictEqual(Json.utf8Length(s), encoder.encode(s).length, JSON.stringify(s.slice(0, 10)))
    }
    assert.isTrue(Json.isBoundedString("€".repeat(1365)))
    assert.isFalse(Json.isBoundedString("€".repeat(1366)))
  })

  it("refuses 4096 '€' as a sourceId in a PATCH, and in the compiled guard", () => {
    const e = AssignmentPatch.patch(stored(), { sourceId: "€".repeat(4096) })
    assert.include(message(e), "sourceId: expected a string of at most 4096 bytes of UTF-8 (4 KiB)")
    const groupId = AssignmentPatch.patch(stored(), { target: { groupId: "€".repeat(1400) } })
    assert.include(message(groupId), "target.groupId: expected a string of at most 4096 bytes of UTF-8 (4 KiB)")
    const guard = Validation.guard(Assignment.Assignment)
    assert.isTrue(guard({ ...stored(), sourceId: "€".repeat(1365) }))
    assert.isFalse(guard({ ...stored(), sourceId: "€".repeat(1366) }))
    assert.isTrue(Result.isFailure(Assignment.validate({ ...stored(), sourceId: "€".repeat(4096) })))
  })

  it("bounds a configuration's typed strings and its derived-type properties in bytes too", () => {
    const create = (body: object) => Configuration.decodeCreate({ "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, ...body })
    assert.include(message(create({ displayName: "€".repeat(4096) })), "displayName: expected a string of at most 4096 bytes of UTF-8 (4 KiB)")
    assert.include(message(create({ roleScopeTagIds: ["0", "€".repeat(2000)] })), "roleScopeTagIds[1]: expected a string of at most 4096 bytes")
    assert.include(message(create({ notes: { text: "€".repeat(4096) } })), "notes.text: expected a string of at most 4096 bytes of UTF-8 (4 KiB)")
    assert.strictEqual(message(create({ displayName: "€".repeat(1365), notes: { text: "😀".repeat(1024) } })), "accepted")
  })

  it("keeps the code-unit bound as JSON Schema's maxLength, a bound no valid string breaks", () => {
    const doc = Schema.toJsonSchemaDocument(AssignmentTarget.BoundedString)
    assert.deepStrictEqual(doc.schema, { type: "string", maxLength: 4096, pattern: "^[^\\u0000]*$" })
  })

  it.effect("generates assignments the compiled guard accepts", () =>
    Effect.gen(function*() {
      const guard = Validation.guard(Assignment.Assignment)
      const sample = yield* Arbitrary.sampleEffect(Arbitrary.schema(Assignment.Assignment), { count: 200, seed: 7 })
      assert.strictEqual(sample.length, 200)
      for (const a of sample) assert.isTrue(guard(a))
    }))
})

describe("numbers a double does not keep as written", () => {
  it("names the first one, its path and its literal", () => {
    const cases: ReadonlyArray<readonly [string, string, string, string]> = [
      ['{"limit":1e400}', "limit", "1e400", "a number within a double's range"],
      ['{"limit":-1E+400}', "limit", "-1E+400", "a number within a double's range"],
      ['{"nested":{"v":1e-400}}', "nested.v", "1e-400", "a number a double can hold (0, or at least 5e-324"],
      ['{"roleScopeTagIds":[1,2,9007199254740993]}', "roleScopeTagIds[2]", "9007199254740993", "an integer a double holds exactly"],
      ['{"roleScopeTagIds":[9007199254740993.0]}', "roleScopeTagIds[0]", "9007199254740993.0", "an integer a double holds exactly"],
      ['{"n":-12345678901234567890.000}', "n", "-12345678901234567890.000", "an integer a double holds exactly"],
      ['{"a":{"b":[{"c":123456789012345678901234567890}]}}', "a.b[0].c", "123456789012345678901234567890", "an integer a double holds exactly"],
      ['{"target":{"groupId":1e400},"x":1e-400}', "target.groupId", "1e400", "a number within"],
      ['{"__proto__":{"x":[0, \n 1e999]}}', "__proto__.x[1]", "1e999", "a number within"],
      ["1e400", "", "1e400", "a number within"],
      // Strings are skipped whole, escaped quotes and all; a name's escapes are read as JSON reads them.
      [String.raw`{"s":"\":1e400, [2","k\"\u0041":[0,{"x":1e400}]}`, 'k"A[1].x', "1e400", "a number within"],
      ['[[1,2],[3,[4,1e-400]]]', "[1][1][1]", "1e-400", "a number a double can hold"]
    ]
    for (const [text, path, literal, expected] of cases) {
      const found = Json.inexactNumber(text)
      assert.isDefined(found, text)
      assert.strictEqual(found!.path, path, text)
      assert.strictEqual(found!.literal, literal, text)
      assert.include(found!.expected, expected, text)
    }
    const long = Json.inexactNumber(`{"n":${"9".repeat(400)}}`)!
    assert.strictEqual(long.literal, `${"9".repeat(57)}...`)
  })

  it("keeps fractions and exponents that round as doubles do, and integers written back as sent", () => {
    for (
      const text of [
        '{"a":0.1,"b":1.5e300,"c":1e20,"d":-0,"e":0e-999,"f":5e-324,"g":1.7976931348623157e308}',
        '{"a":9007199254740992,"b":-9007199254740991,"c":9007199254740994,"d":1000000000000000000000}',
        '{"a":9007199254740992.0,"b":-9007199254740991.000,"c":12345678901234567.5,"d":1.0000000000000000}',
        // As JSON.stringify writes 2 ** 64, with a fraction of zeros: kept as the bare integer is.
        '{"a":18446744073709552000.0,"b":-18446744073709552000.00}',
        // 2 ** 64 as JSON.stringify writes it: what is sent is what is returned.
        '{"a":18446744073709552000,"b":0.1000000000000000055511151231257827,"c":1.23456789012345678}',
        '{"id":"3fa85f64-5717-4562-b3fc-2c963f66afa6","s":"x:1e400 and 12345678901234567890"}'
      ]
    ) {
      assert.isUndefined(Json.inexactNumber(text), text)
    }
    // What JSON.stringify writes for any double is read back.
    for (const n of [2 ** 64, 2 ** 70, Number.MAX_VALUE, Number.MIN_VALUE, 1.2345678901234568e20, -(2 ** 53 + 2)]) {
      assert.isUndefined(Json.inexactNumber(JSON.stringify({ n })), String(n))
    }
  })
})

describe("Json.unpairedSurrogateAt", () => {
  it("names the first string or member name holding an unpaired surrogate, depth first, and nothing when all are well-formed", () => {
    assert.strictEqual(Json.unpairedSurrogateAt({ a: "ok", b: ["😀", { c: "x\ud800" }], d: "\udc00" }), "b[1].c")
    assert.strictEqual(Json.unpairedSurrogateAt({ t: { ["k\ud83d"]: 1 } }), "t.k\ufffd")
    assert.strictEqual(Json.unpairedSurrogateAt("\ude00"), "")
    assert.strictEqual(Json.unpairedSurrogateAt({ a: "\ud83d\ude00", b: [1, null, true], "é": "é" }), undefined)
  })
})
