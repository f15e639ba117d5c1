/**
 * What a team calling the core as a library meets that the HTTP face had kept from it (a review of
 * core 0.10.0 as a published package, 2026-12-01): values no JSON text can hold, members no type
 * declares, nestings deep enough to overflow a recursion, objects the caller changes after a call,
 * and two values with one ETag. Each case failed before core 0.10.1.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Result } from "effect"
import * as vm from "node:vm"
import {
  Assignment,
  AssignmentPatch,
  Configuration,
  Configurations,
  Directory,
  DirectoryService,
  ETag,
  Json,
  MemoryStore,
  MergePatch
} from "../src/index.ts"

const G = "#microsoft.graph."
const T = "t1"
const limitBody = (limit: unknown) => ({ "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: "c1", limit })
const message = (r: Result.Result<unknown, { readonly message: string }>): string =>
  Result.isFailure(r) ? r.failure.message : `accepted: ${Json.show(r.success)}`

/** An array nested `levels` deep, as `JSON.parse` makes one without complaint. */
const nested = (levels: number): unknown => {
  let v: unknown = 1
  for (let i = 0; i < levels; i++) v = [v]
  return v
}

const stored = (): Assignment.Assignment =>
  Result.getOrThrow(Assignment.validate({
    "@odata.type": `${G}enrollmentConfigurationAssignment`,
    id: "a1",
    target: { "@odata.type": `${G}groupAssignmentTarget`, deviceAndAppManagementAssignmentFilterId: null, deviceAndAppManagementAssignmentFilterType: "none", groupId: "g1" },
    source: "direct",
    sourceId: null
  }))

describe("a configuration's derived-type properties are JSON values (SPEC 1.4)", () => {
  for (
    const [name, value] of [
      ["NaN", NaN],
      ["Infinity", Infinity],
      ["undefined", undefined],
      ["a Date", new Date(0)],
      ["a function", () => 1],
      ["a Map", new Map()],
      ["a BigInt", 10n],
      ["a BigInt inside an object", { n: 10n }]
    ] as const
  ) {
    it(`refuses ${name} with InvalidInput, on create and on PATCH, never a throw`, () => {
      assert.match(message(Configuration.decodeCreate(limitBody(value))), /^limit: expected a JSON value, got /)
      const current = Configuration.make("c1", Result.getOrThrow(Configuration.decodeCreate(limitBody(5))), "2026-01-01T00:00:00.000Z")
      assert.match(message(Configuration.patch(current, { limit: value })), /^limit: expected a JSON value, got /)
    })
  }

  it.effect("a create through the service fails with InvalidInput for a BigInt, not a defect", () =>
    Effect.gen(function*() {
      const svc = yield* Configurations
      const e = yield* Effect.flip(svc.create(T, limitBody(10n)))
      assert.strictEqual(e._tag, "InvalidInput")
    }).pipe(Effect.provide(Configurations.layer.pipe(Layer.provideMerge(MemoryStore.layer)))))
})

describe("Assignment.validate refuses a member no type declares (SPEC 3 rule 3), whatever else the value is", () => {
  it("accepts the stored assignment as it is", () => {
    assert.isTrue(Result.isSuccess(Assignment.validate(stored())))
  })

  it("refuses a member of the assignment, naming the type (since 0.12.2; before, \"this type\")", () => {
    assert.strictEqual(message(Assignment.validate({ ...stored(), extra: 1 })), "extra: 'extra' is not a property of enrollmentConfigurationAssignment")
  })

  it("refuses a member another target type declares, naming the target's type as the PATCH rules do", () => {
    const a = stored()
    const expected = "target.collectionId: 'collectionId' is not a property of groupAssignmentTarget"
    assert.strictEqual(message(Assignment.validate({ ...a, target: { ...a.target, collectionId: "c1" } })), expected)
    assert.strictEqual(message(AssignmentPatch.patch(a, { target: { ...a.target, collectionId: "c1" } })), expected)
  })

  it("tells a group target's bad groupId by the group target's rule, not the first type's", () => {
    const a = stored()
    assert.strictEqual(message(Assignment.validate({ ...a, target: { ...a.target, groupId: 42 } })), "target.groupId: expected a string or null, got 42")
  })
})

describe("a value nested past any bound is a failure to return, never a thrown RangeError", () => {
  const deep = nested(20_000)
  it("Json.show names it without walking it", () => {
    assert.strictEqual(Json.show(deep), "[…] (nested too deep to show)")
    assert.strictEqual(Json.show({ a: deep }), "{…} (nested too deep to show)")
  })

  it("the decoders and the PATCH rules return their failure", () => {
    assert.match(message(AssignmentPatch.patch(stored(), { sourceId: deep })), /^sourceId: /)
    assert.match(message(Assignment.decodeCreate({ source: deep })), /^source: /)
    assert.match(message(Configuration.decodeCreate({ "@odata.type": deep })), /^@odata\.type: /)
    assert.match(message(Directory.decodeUserCreate({ displayName: deep })), /^displayName: /)
  })
})

describe("what is stored does not change when the caller changes its own object afterwards", () => {
  it.effect("a configuration's derived-type property, on the memory store", () =>
    Effect.gen(function*() {
      const svc = yield* Configurations
      const body = { ...limitBody(5), settings: { level: 1 } }
      const created = yield* svc.create(T, body)
      body.settings.level = 999
      const got = yield* svc.get(T, "c1")
      assert.deepStrictEqual((got as any).settings, { level: 1 })
      assert.strictEqual(ETag.of(got), ETag.of(created))
    }).pipe(Effect.provide(Configurations.layer.pipe(Layer.provideMerge(MemoryStore.layer)))))

  it.effect("a user's Graph property, on the memory store", () =>
    Effect.gen(function*() {
      const dir = yield* DirectoryService
      const body = { id: "u1", displayName: "U", onPremisesExtensionAttributes: { extensionAttribute1: "a" } }
      yield* dir.createUser(T, body)
      body.onPremisesExtensionAttributes.extensionAttribute1 = "changed"
      const got = yield* dir.getUser(T, "u1")
      assert.deepStrictEqual((got as any).onPremisesExtensionAttributes, { extensionAttribute1: "a" })
    }).pipe(Effect.provide(DirectoryService.layer.pipe(Layer.provideMerge(MemoryStore.layer)))))
})

describe("ETag: a number and a string that writes it differ", () => {
  it("gives {a: 5} and {a: '#5'} different tags, and the same for items and other number texts", () => {
    assert.notStrictEqual(ETag.of({ a: 5 }), ETag.of({ a: "#5" }))
    assert.notStrictEqual(ETag.of([1]), ETag.of(["#1"]))
    assert.notStrictEqual(ETag.of({ a: -1.5 }), ETag.of({ a: "#-1.5" }))
    assert.notStrictEqual(ETag.of({ a: 1e21 }), ETag.of({ a: "#1e+21" }))
  })

  it("keeps every other value's tag: a number, and a string that is not a number's text (as 0.10.0 gave them)", () => {
    assert.strictEqual(ETag.of({ a: 5 }), `W/"u5t4z51l646bx"`)
    assert.strictEqual(ETag.of({ a: "#05" }), `W/"3ganm01l5on38"`)
    assert.strictEqual(ETag.of({ a: "#microsoft.graph.user" }), `W/"1twgwtymd5rh"`)
  })
})

/** Objects a TypeScript caller can pass as `unknown` bodies that no JSON text makes (a review of core 0.12.0, 2026-12-02). */
describe("an object that is not plain JSON is no JSON object (since 0.12.1)", () => {
  const notPlain: ReadonlyArray<readonly [string, unknown]> = [
    ["a Map", new Map([["source", "policySets"]])],
    ["a Set", new Set(["direct"])],
    ["a Date", new Date(0)],
    ["an object of class Body", new (class Body { source = "policySets" })()]
  ]

  it("Json.isObject is true for literals, JSON.parse's objects and Object.create(null), false for the others", () => {
    assert.isTrue(Json.isObject({ a: 1 }))
    assert.isTrue(Json.isObject(JSON.parse("{\"a\":1}")))
    assert.isTrue(Json.isObject(Object.create(null)))
    for (const [kind, value] of notPlain) assert.isFalse(Json.isObject(value), kind)
  })

  it("a PATCH body or its target of one is refused, naming its kind, and the stored assignment is kept", () => {
    for (const [kind, value] of notPlain) {
      const whole = AssignmentPatch.patch(stored(), value)
      assert.match(message(whole), /body: expected a JSON object/, kind)
      assert.include(message(whole), kind)
      assert.isTrue(Result.isFailure(AssignmentPatch.patch(stored(), { target: value })), `target: ${kind}`)
      assert.isTrue(Result.isFailure(Assignment.decodeCreate(value)), `create: ${kind}`)
    }
    // A plain object without a prototype is a JSON object.
    const bare = Object.assign(Object.create(null), { source: "policySets" })
    assert.strictEqual(Result.getOrThrow(AssignmentPatch.patch(stored(), bare)).source, "policySets")
  })

  it.effect("a user or a group made of one through the service is InvalidInput, and nothing is stored", () =>
    Effect.gen(function*() {
      const svc = yield* DirectoryService
      for (const [kind, value] of notPlain) {
        assert.strictEqual((yield* Effect.flip(svc.createUser(T, value)))._tag, "InvalidInput", kind)
        assert.strictEqual((yield* Effect.flip(svc.createGroup(T, value)))._tag, "InvalidInput", kind)
      }
      assert.strictEqual(yield* svc.countUsers(T), 0)
      assert.strictEqual(yield* svc.countGroups(T), 0)
    }).pipe(Effect.provide(DirectoryService.layer.pipe(Layer.provideMerge(MemoryStore.layer)))))

  it("Json.show names numbers JSON has no text for and objects by their kind, and never throws on a getter that does", () => {
    assert.strictEqual(Json.show(Number.NaN), "NaN")
    assert.strictEqual(Json.show(-Infinity), "-Infinity")
    assert.strictEqual(Json.show(new Map()), "a Map")
    assert.strictEqual(Json.show(new Date(0)), "a Date")
    assert.strictEqual(Json.show(new (class Body {})()), "an object of class Body")
    const hostile = { get boom(): never { throw new Error("no") } }
    assert.strictEqual(Json.show(hostile), "an object")
    assert.strictEqual(Json.show([hostile]), "an array")
    // A revoked proxy throws on `Array.isArray` itself; a proxy whose traps throw on every read.
    const revocable = Proxy.revocable({}, {})
    revocable.revoke()
    assert.strictEqual(Json.show(revocable.proxy), "a value that cannot be shown")
    const trap = () => {
      throw new Error("trap")
    }
    assert.strictEqual(Json.show(new Proxy({}, { getPrototypeOf: trap, ownKeys: trap, get: trap })), "a value that cannot be shown")
  })

  it("objects of another realm (node:vm, an iframe, a test runner's sandbox) are JSON objects, and a merge patch of one keeps RFC 7396", () => {
    const parsed = vm.runInNewContext(`JSON.parse('{"source":"policySets"}')`)
    const literal = vm.runInNewContext(`({ a: null, b: 2 })`)
    assert.isTrue(Json.isObject(parsed))
    assert.isTrue(Json.isObject(literal))
    assert.isTrue(Json.isObject(vm.runInNewContext(`Object.create(null)`)))
    // Another realm's arrays, Maps and class instances are no more JSON objects than this realm's.
    for (const kind of ["[1]", "new Map()", "new Date(0)", "new (class Body {})()"]) {
      assert.isFalse(Json.isObject(vm.runInNewContext(kind)), kind)
    }
    assert.strictEqual(Json.show(parsed), "{\"source\":\"policySets\"}")
    assert.strictEqual(Result.getOrThrow(AssignmentPatch.patch(stored(), parsed)).source, "policySets")
    // null removes a member and the rest merges (RFC 7396), as for this realm's objects.
    assert.deepStrictEqual(MergePatch.apply({ a: 1, c: 3 }, literal), { c: 3, b: 2 })
  })
})
