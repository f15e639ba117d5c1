import { assert, describe, it } from "@effect/vitest"
import { Result, Schema } from "effect"
import { Assignment, AssignmentPatch, AssignmentTarget, ETag } from "../src/index.ts"

const encode = Schema.encodeSync(Assignment.Assignment)
const decode = Schema.decodeUnknownSync(Assignment.Assignment)

/** A PATCH payload drawn from the schemas: any subset of the properties, with valid values. */
const Payload = Schema.Struct({
  target: Schema.optionalKey(Schema.NullOr(AssignmentTarget.AssignmentTarget)),
  source: Schema.optionalKey(Assignment.AssignmentSource),
  sourceId: Schema.optionalKey(Schema.NullOr(AssignmentTarget.BoundedString))
})

const TypeName = Schema.Literals(AssignmentTarget.concreteTypeNames as [AssignmentTarget.ConcreteTypeName, ...Array<AssignmentTarget.ConcreteTypeName>])

describe("properties derived from the schemas", () => {
  it.prop("encodes and decodes an assignment back to itself", [Assignment.Assignment], ([a]) => {
    assert.deepStrictEqual(decode(encode(a)), a)
    assert.deepStrictEqual(decode(JSON.parse(JSON.stringify(a))), a)
  })

  it.prop("patch(x, {}) is x, with the same ETag", [Assignment.Assignment], ([a]) => {
    const r = AssignmentPatch.patch(a, {})
    assert.isTrue(Result.isSuccess(r))
    assert.deepStrictEqual(Result.getOrThrow(r), a)
    assert.strictEqual(ETag.of(Result.getOrThrow(r)), ETag.of(a))
  })

  it.prop("never changes the id, and a valid payload always applies", [Assignment.Assignment, Payload], ([a, payload]) => {
    const r = AssignmentPatch.patch(a, JSON.parse(JSON.stringify(payload)))
    assert.isTrue(Result.isSuccess(r), Result.isFailure(r) ? r.failure.message : "")
    const next = Result.getOrThrow(r)
    assert.strictEqual(next.id, a.id)
    for (const key of ["source", "sourceId"] as const) {
      assert.deepStrictEqual(next[key], key in payload ? payload[key] : a[key])
    }
  })

  it.prop(
    "a type switch keeps exactly the properties of the shared ancestors",
    [AssignmentTarget.AssignmentTarget, TypeName],
    ([target, to]) => {
      const a = Assignment.make("a", { target, source: "direct", sourceId: null })
      const next = Result.getOrThrow(AssignmentPatch.patch(a, { target: { "@odata.type": `microsoft.graph.${to}` } })).target!
      const from = AssignmentTarget.typeOf(target)
      const shared = AssignmentTarget.sharedProperties(from, to)
      assert.strictEqual(AssignmentTarget.typeOf(next), to)
      assert.deepStrictEqual(Object.keys(next).sort(), ["@odata.type", ...AssignmentTarget.propertiesOf(to)].sort())
      for (const p of AssignmentTarget.propertiesOf(to)) {
        const expected = shared.includes(p) ? (target as any)[p] : AssignmentTarget.properties[p].initial
        assert.deepStrictEqual((next as any)[p], expected, p)
      }
    }
  )

  it.prop("the ETag changes exactly when the entity changes", [Assignment.Assignment, Schema.String], ([a, s]) => {
    assert.strictEqual(ETag.of(JSON.parse(JSON.stringify(a))), ETag.of(a))
    const changed = { ...a, sourceId: a.sourceId === s ? `${s}!` : s }
    assert.notStrictEqual(ETag.of(changed), ETag.of(a))
  })
})

describe("ETag", () => {
  it.prop("writes a 32-bit digest in base 36 as Number#toString(36) does", [Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 2 ** 32 - 1 }))], ([n]) => {
    assert.strictEqual(ETag.base36(n), n.toString(36))
  })

  it("writes the edges of the two parts as Number#toString(36) does", () => {
    for (const n of [0, 1, 35, 36, 36 ** 4 - 1, 36 ** 4, 36 ** 4 + 1, 2 ** 30 - 1, 2 ** 30, 2 ** 31, 36 ** 6, 2 ** 32 - 1]) {
      assert.strictEqual(ETag.base36(n), n.toString(36), String(n))
    }
  })

  it("matches If-Match lists, the wildcard and weak/strong forms", () => {
    const tag = ETag.of({ a: 1 })
    assert.isTrue(ETag.matches("*", tag))
    assert.isTrue(ETag.matches(tag, tag))
    assert.isTrue(ETag.matches(tag.replace(/^W\//, ""), tag))
    assert.isTrue(ETag.matches(`W/"nope", ${tag}`, tag))
    assert.isFalse(ETag.matches(`W/"nope"`, tag))
  })

  it("decides If-None-Match and both headers together, If-Match first (RFC 9110 13.2.2)", () => {
    const tag = ETag.of({ a: 1 })
    assert.isFalse(ETag.noneMatch("*", tag), "* excludes any existing entity")
    assert.isFalse(ETag.noneMatch(`W/"nope", ${tag.replace(/^W\//, "")}`, tag), "a list naming it, strong or weak")
    assert.isTrue(ETag.noneMatch(`W/"nope"`, tag))
    assert.strictEqual(ETag.failed({}, tag), undefined)
    assert.strictEqual(ETag.failed({ ifMatch: tag, ifNoneMatch: `W/"nope"` }, tag), undefined)
    assert.strictEqual(ETag.failed({ ifMatch: `W/"nope"`, ifNoneMatch: tag }, tag), "If-Match")
    assert.strictEqual(ETag.failed({ ifMatch: tag, ifNoneMatch: "*" }, tag), "If-None-Match")
    const refused = ETag.precondition({ ifNoneMatch: "*" }, "user", "u1")!({ a: 1 })
    assert.isTrue(Result.isFailure(refused))
    if (Result.isFailure(refused)) {
      assert.strictEqual(refused.failure.header, "If-None-Match")
      assert.include(refused.failure.message, "If-None-Match")
    }
    // A string is an If-Match alone, as before 0.14.0; no condition is no check.
    const stale = ETag.precondition(`W/"nope"`, "user", "u1")!({ a: 1 })
    assert.isTrue(Result.isFailure(stale) && stale.failure.header === undefined && stale.failure.message.includes("If-Match"))
    assert.isTrue(Result.isSuccess(ETag.precondition(tag, "user", "u1")!({ a: 1 })))
    assert.strictEqual(ETag.precondition({}, "user", "u1"), undefined)
    assert.strictEqual(ETag.precondition(undefined, "user", "u1"), undefined)
  })

  it("gives the same values as every earlier version (clients keep ETags across an upgrade)", () => {
    // {"@odata.type": "#microsoft.graph.enrollmentConfigurationAssignment", "id": "bench-0", "target":
    // {"@odata.type": "#microsoft.graph.groupAssignmentTarget", the filter id null, the filter type "none",
    // "groupId": "g0"}, "source": "policySets", "sourceId": "a1"}
    const target = { ...AssignmentTarget.empty("groupAssignmentTarget"), groupId: "g0" } as AssignmentTarget.AssignmentTarget
    const assignment = Assignment.make("bench-0", { target, source: "policySets", sourceId: "a1" })
    assert.deepStrictEqual(JSON.parse(JSON.stringify(assignment)).target, {
      "@odata.type": "#microsoft.graph.groupAssignmentTarget",
      deviceAndAppManagementAssignmentFilterId: null,
      deviceAndAppManagementAssignmentFilterType: "none",
      groupId: "g0"
    })
    assert.strictEqual(ETag.of(assignment), `W/"yjnwy6mwiob1"`)
    assert.strictEqual(ETag.of({ a: 1 }), `W/"10st8511372wos"`)
    assert.strictEqual(ETag.of([1, "x", true, false, null, { b: 2.5, a: "\u00e9\u2603" }]), `W/"4fijzf6ubjzb"`)
    assert.strictEqual(ETag.of(""), `W/"10ftlpj1leu3x7"`)
    assert.strictEqual(ETag.of({ z: { y: [] }, x: -0.125e-7, u: undefined }), `W/"9gxzsm3dlntd"`)
    // Strings of 65 536 UTF-16 units or more hash their whole length since 0.16.0 (below); no entity
    // the services store has one (SPEC 8's bounds), and every shorter string keeps its tag.
    assert.strictEqual(ETag.of({ long: "x".repeat(70000), n: 12345.5 }), `W/"qirfgz53hl5b"`)
    assert.strictEqual(ETag.of({ long: "x".repeat(65535), n: 12345.5 }), `W/"1je4p74mtbt8h"`)
    // Members out of order, in objects small (sorted in place) and large (the built-in sort),
    // with keys that order by UTF-16 code units (a surrogate pair, "~", "", "@", upper case).
    const big: Record<string, number> = {}
    for (let i = 40; i > 0; i--) big[`k${String.fromCharCode(0x41 + (i * 7) % 50)}${i}`] = i
    assert.strictEqual(ETag.of(big), `W/"1efh5ef19sn29r"`)
    assert.strictEqual(
      ETag.of({ "\u00e9": 1, b: [{ z: 1, "@a": 2, Z: 3, "\ud83d\ude00": 4, "~": 5, "": 6 }], a: null, "@odata.type": "#x" }),
      `W/"1j4y5ih9yvxo9"`
    )
  })

  it.prop(
    "does not depend on the order of members, small objects or large",
    [Schema.Record(Schema.String, Schema.Number), Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 40 }))],
    ([record, extra]) => {
      // Built with own data properties throughout (`fromEntries`): a `__proto__` key stays a member.
      const entries = [...Object.entries(record), ...Array.from({ length: extra }, (_, i) => [`m${i}`, i] as const)]
      const o = Object.fromEntries(entries)
      const reversed = Object.fromEntries(Object.entries(o).reverse())
      // The same members (a `__proto__` key included); in the other order, except that
      // integer-like keys always come first in JavaScript.
      assert.deepStrictEqual(Object.keys(reversed).sort(), Object.keys(o).sort())
      const named = (x: object) => Object.keys(x).filter((k) => !/^(0|[1-9]\d*)$/.test(k))
      assert.deepStrictEqual(named(reversed), named(o).reverse())
      assert.strictEqual(ETag.of(reversed), ETag.of(o))
    }
  )

  it("frames a string by its whole length: one of 65 536 units or more is not taken for a shorter one and more", () => {
    // Up to 0.15.0 a string's length was hashed mod 65 536: 65 533 "a"s, U+FFFD, `""` and "b" hashed
    // as 65 533 "a"s then "b", so an array of one and of the two had one ETag (a library review).
    const x = "a".repeat(65533)
    assert.notStrictEqual(ETag.of([x + "\ufffd" + '""' + "b"]), ETag.of([x, "b"]))
  })

  it("does not depend on key order", () => {
    assert.strictEqual(ETag.of({ a: 1, b: [1, { c: 2, d: 3 }] }), ETag.of({ b: [1, { d: 3, c: 2 }], a: 1 }))
    assert.notStrictEqual(ETag.of({ a: 1 }), ETag.of({ a: 2 }))
  })
})
