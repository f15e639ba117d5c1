/**
 * The `Id` rule's control characters (SPEC 2: no control characters): every one Unicode
 * counts (Cc), the C1 range U+0080 to U+009F included, refused by the schema, by `isId`, by a
 * create through the service, and by the JSON Schema pattern the OpenAPI document is made from;
 * the characters either side of the ranges still taken.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Result, Schema } from "effect"
import { Assignments, AssignmentTarget, Configurations, DirectoryService, Id, MemoryStore, Paths } from "../src/index.ts"

const services = Layer.mergeAll(Assignments.layer, Configurations.layer, DirectoryService.layer).pipe(Layer.provideMerge(MemoryStore.layer))
const T = "tenant-1"

const codePoints = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => String.fromCodePoint(from + i))
/** Every control character (Unicode's Cc): C0, DEL and C1. */
const controls = [...codePoints(0x00, 0x1f), "\u007f", ...codePoints(0x80, 0x9f)]

describe("Id refuses every control character", () => {
  it("refuses C0, DEL and C1 (U+0080 to U+009F, NEL U+0085 among them) anywhere in an id", () => {
    for (const c of controls) {
      const hex = c.codePointAt(0)!.toString(16)
      for (const id of [`x${c}y`, c, `${c}y`, `x${c}`]) {
        assert.isFalse(Id.isId(id), `U+${hex} in ${JSON.stringify(id)}`)
        const decoded = Schema.decodeUnknownResult(Id.Id)(id)
        assert.isTrue(Result.isFailure(decoded), `U+${hex}: decodes`)
      }
    }
  })

  it("refuses a lone surrogate, which no UTF-8 holds (since 0.9.0), and takes a pair", () => {
    for (const id of ["a\ud800", "\udc00", "a\udc00\ud800b", "\ud83d"]) {
      assert.isFalse(Id.isId(id), JSON.stringify(id))
      assert.isTrue(Result.isFailure(Schema.decodeUnknownResult(Id.Id)(id)), JSON.stringify(id))
    }
    assert.isTrue(Id.isId("\ud83d\ude00"))
    // The strings a filter reads from a store's columns too (sourceId, a target's groupId)
    for (const s of ["g\ud800", "\udfff"]) assert.isFalse(Schema.is(AssignmentTarget.BoundedString)(s), JSON.stringify(s))
    assert.isTrue(Schema.is(AssignmentTarget.BoundedString)("g\ud83d\ude00"))
  })

  it("still takes the characters either side of the ranges: space, '~', U+00A0, U+00FF, U+FFFD", () => {
    for (const id of ["a b", "~", "x\u00a0y", "\u00ff", "\ufffd", "é", "\u{1f600}"]) assert.isTrue(Id.isId(id), JSON.stringify(id))
  })

  it("gives the JSON Schema (the OpenAPI document's Id) a pattern with the C1 range, read with the u flag", () => {
    const doc = Schema.toJsonSchemaDocument(Id.Id)
    const pattern = (doc.definitions["Id"] as { pattern?: string } | undefined)?.pattern
    assert.isString(pattern)
    const re = new RegExp(pattern!, "u")
    for (const c of controls) assert.isFalse(re.test(`x${c}y`), `U+${c.codePointAt(0)!.toString(16)}`)
    assert.isFalse(re.test("a/b"))
    assert.isTrue(re.test("x\u00a0y"))
  })

  it.effect("refuses an assignment create whose id holds U+0085, and stores nothing", () =>
    Effect.gen(function*() {
      yield* (yield* Configurations).create(T, {
        "@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration",
        id: "c",
        displayName: "c",
        priority: 0,
        limit: 3
      })
      const svc = yield* Assignments
      const e = yield* Effect.flip(svc.create(T, Paths.tenant, "c", { id: "x\u0085y" }))
      assert.strictEqual(e._tag, "InvalidInput")
      assert.strictEqual(yield* svc.count(T, Paths.tenant, "c"), 0)
    }).pipe(Effect.provide(services)))
})

describe("keys a URL's path cannot carry as a segment (since 0.8.1)", () => {
  it("are valid keys (SPEC 2), told apart as dot segments", () => {
    for (const id of [".", ".."]) {
      assert.isTrue(Id.isId(id), id)
      assert.isTrue(Id.isDotSegment(id), id)
    }
    for (const id of ["...", ".a", "a.", "a..b", "$count"]) assert.isFalse(Id.isDotSegment(id), id)
  })

  it("writes a key's path in the parenthesis form where a segment would not name it", () => {
    assert.strictEqual(Id.keyPath("a1"), "/a1")
    assert.strictEqual(Id.keyPath("a b/é"), "/a%20b%2F%C3%A9")
    assert.strictEqual(Id.keyPath("."), "('.')")
    assert.strictEqual(Id.keyPath(".."), "('..')")
    assert.strictEqual(Id.keyPath("$count"), "('%24count')")
    assert.strictEqual(Id.keyPath("$it's"), "('%24it''s')")
    assert.strictEqual(Id.keyPath("a$"), "/a%24")
  })

  it.effect("are taken by every create of the services, as SPEC 2's rule takes them", () =>
    Effect.gen(function*() {
      const configurations = yield* Configurations
      const limit = (id: string) => ({ "@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration", id, limit: 3 })
      const assignments = yield* Assignments
      const directory = yield* DirectoryService
      // Users and groups share one id space: the groups in a tenant of their own.
      const T2 = "tenant-2"
      for (const id of [".", ".."]) {
        assert.strictEqual((yield* configurations.create(T, limit(id))).id, id)
        assert.strictEqual((yield* assignments.create(T, Paths.tenant, id, { id })).id, id)
        assert.strictEqual((yield* directory.createUser(T, { id })).id, id)
        assert.strictEqual((yield* directory.createGroup(T2, { id })).id, id)
        const invitation = { id, invitedUserEmailAddress: "a@b.c", inviteRedirectUrl: "https://x" }
        assert.strictEqual((yield* directory.createInvitation(T, invitation, "https://r")).id, id)
      }
      // The assign action takes them too, replacing the set.
      yield* configurations.assign(T, ".", { enrollmentConfigurationAssignments: [{ id: "." }, { id: ".." }] })
      assert.strictEqual(yield* assignments.count(T, Paths.tenant, "."), 2)
      assert.strictEqual(yield* assignments.count(T, Paths.tenant, ".."), 1)
    }).pipe(Effect.provide(services)))
})
