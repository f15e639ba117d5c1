import { assert, describe, it } from "@effect/vitest"
import { Result, Schema } from "effect"
import { Assignment, AssignmentTarget, Json, Validation } from "../src/index.ts"

const missingProperty = "a target missing a property of its type"

/** Ways to break a valid assignment, each into a value the schema refuses. */
const corruptions: ReadonlyArray<readonly [string, (a: any) => unknown]> = [
  ["not an object", () => "assignment"],
  ["null", () => null],
  ["an array", (a) => [a]],
  ["an unknown entity type", (a) => ({ ...a, "@odata.type": "#microsoft.graph.somethingElse" })],
  ["an empty id", (a) => ({ ...a, id: "" })],
  ["an id with a slash", (a) => ({ ...a, id: "a/b" })],
  ["an id of 129 characters", (a) => ({ ...a, id: "x".repeat(129) })],
  ["a source outside the enum", (a) => ({ ...a, source: "String" })],
  ["a null source", (a) => ({ ...a, source: null })],
  ["a numeric sourceId", (a) => ({ ...a, sourceId: 42 })],
  ["a sourceId over the string limit", (a) => ({ ...a, sourceId: "s".repeat(Json.maxStringLength + 1) })],
  ["no source", ({ source: _, ...rest }) => rest],
  ["a target that is a string", (a) => ({ ...a, target: "group" })],
  ["a target of an unknown type", (a) => ({ ...a, target: { "@odata.type": "#microsoft.graph.somethingElse" } })],
  ["a target of the abstract base type", (a) => ({
    ...a,
    target: { "@odata.type": "#microsoft.graph.deviceAndAppManagementAssignmentTarget", deviceAndAppManagementAssignmentFilterId: null, deviceAndAppManagementAssignmentFilterType: "none" }
  })],
  ["a target filter type outside the enum", (a) => ({
    ...a,
    target: { ...(a.target ?? AssignmentTarget.empty("allDevicesAssignmentTarget")), deviceAndAppManagementAssignmentFilterType: "maybe" }
  })],
  ["a numeric group id", (a) => ({ ...a, target: { ...AssignmentTarget.empty("groupAssignmentTarget"), groupId: 7 } })],
  [missingProperty, (a) => {
    const { groupId: _, ...rest } = AssignmentTarget.empty("groupAssignmentTarget") as Record<string, unknown>
    return { ...a, target: rest }
  }]
]

describe("Validation.guard (the compiled type guard)", () => {
  const guard = Validation.guard(Assignment.Assignment)

  it.prop("accepts every assignment the schema generates", [Assignment.Assignment], ([a]) => {
    assert.isTrue(guard(a))
    assert.isTrue(guard(JSON.parse(JSON.stringify(a))))
  })

  it.prop(
    "refuses each kind of broken assignment",
    [Assignment.Assignment, Schema.Literals(corruptions.map(([what]) => what))],
    ([a, what]) => {
      const corrupt = corruptions.find(([w]) => w === what)![1]
      const broken = corrupt(JSON.parse(JSON.stringify(a)))
      assert.isFalse(guard(broken), what)
      // `validate` trusts the guard's yes (a wrong yes would store an invalid entity); after a
      // no, it decodes, which fills a missing target property with its default.
      const validated = Assignment.validate(broken)
      if (what === missingProperty) assert.strictEqual((Result.getOrThrow(validated).target as any).groupId, null)
      else assert.isTrue(Result.isFailure(validated), what)
    }
  )

  it("accepts each concrete target type and refuses it under another type's name", () => {
    const target = Validation.guard(AssignmentTarget.AssignmentTarget)
    for (const name of AssignmentTarget.concreteTypeNames) {
      assert.isTrue(target(AssignmentTarget.empty(name)), name)
      assert.isFalse(target({ ...AssignmentTarget.empty(name), "@odata.type": "#microsoft.graph.other" }), name)
    }
  })
})

describe("Validation messages (what a person reads in a 400)", () => {
  const decode = Validation.decoder(
    Schema.Struct({ kind: Schema.Literals(["none", "include", "exclude"]), name: Schema.String, other: Schema.NullOr(Schema.Number) })
  )
  const message = (input: unknown) => {
    const r = decode(input)
    assert.ok(Result.isFailure(r), JSON.stringify(input))
    return r.failure.message
  }
  it("writes a union of string literals as a list of the values", () => {
    assert.strictEqual(message({ kind: "maybe", name: "n", other: null }), `kind: expected one of 'none', 'include', 'exclude', got "maybe"`)
  })
  it("tells a missing key from a null one", () => {
    assert.strictEqual(message({ kind: "none", other: null }), "name: expected a value, got nothing")
    assert.strictEqual(message({ kind: "none", name: null, other: null }), "name: null is not allowed, expected a string")
  })
  it("says what an id must be, whatever was sent", () => {
    const id = Validation.decoder(Assignment.Assignment.fields.id)
    const expected = "an id of 1 to 128 characters without '/' or control characters"
    for (const [input, shown] of [["a/b", `"a/b"`], ["", `""`], [5, "5"], ["x".repeat(129), `"${"x".repeat(56)}...`]] as const) {
      const r = id(input, "id")
      assert.ok(Result.isFailure(r))
      assert.strictEqual(r.failure.message, `id: expected ${expected}, got ${shown}`)
    }
  })
})
