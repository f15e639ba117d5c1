import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import { Assignment, AssignmentPatch, AssignmentTarget } from "../src/index.ts"

const group = (groupId: string | null, filterId: string | null = "f1", filterType: "none" | "include" | "exclude" = "include") =>
  ({
    "@odata.type": "#microsoft.graph.groupAssignmentTarget",
    deviceAndAppManagementAssignmentFilterId: filterId,
    deviceAndAppManagementAssignmentFilterType: filterType,
    groupId
  }) as AssignmentTarget.AssignmentTarget

const stored = (target: AssignmentTarget.AssignmentTarget | null = group("g1")): Assignment.Assignment =>
  Assignment.make("a1", { target, source: "direct", sourceId: null })

const ok = (current: Assignment.Assignment, payload: unknown) => {
  const r = AssignmentPatch.patch(current, payload)
  if (Result.isFailure(r)) assert.fail(`expected success, got: ${r.failure.message}`)
  return r.success
}

const fails = (current: Assignment.Assignment, payload: unknown) => {
  const r = AssignmentPatch.patch(current, payload)
  if (Result.isSuccess(r)) assert.fail(`expected a refusal, got ${JSON.stringify(r.success)}`)
  return r.failure
}

describe("typed PATCH of an assignment (SPEC 3)", () => {
  describe("worked examples", () => {
    it("merges groupId into the current group target, keeping its filter", () => {
      assert.deepStrictEqual(ok(stored(), { target: { groupId: "g2" } }).target, group("g2"))
    })

    it("keeps groupId and the filter when switching to an exclusion group", () => {
      const next = ok(stored(), { target: { "@odata.type": "#microsoft.graph.exclusionGroupAssignmentTarget" } })
      assert.deepStrictEqual(next.target, {
        ...group("g1"),
        "@odata.type": "#microsoft.graph.exclusionGroupAssignmentTarget"
      })
    })

    it("keeps only the filter when switching to allDevices (either spelling)", () => {
      const next = ok(stored(), { target: { "@odata.type": "microsoft.graph.allDevicesAssignmentTarget" } })
      assert.deepStrictEqual(next.target, {
        "@odata.type": "#microsoft.graph.allDevicesAssignmentTarget",
        deviceAndAppManagementAssignmentFilterId: "f1",
        deviceAndAppManagementAssignmentFilterType: "include"
      })
    })

    it("switches allDevices to a group target with groupId null", () => {
      const current = stored(AssignmentTarget.empty("allDevicesAssignmentTarget"))
      const next = ok(current, { target: { "@odata.type": "#microsoft.graph.groupAssignmentTarget" } })
      assert.deepStrictEqual(next.target, group(null, null, "none"))
    })

    it("refuses collectionId on a group target, naming the property", () => {
      const e = fails(stored(), { target: { collectionId: "c1" } })
      assert.strictEqual(e.reason._tag, "PropertyUnknown")
      assert.include(e.message, "collectionId")
      assert.include(e.message, "groupAssignmentTarget")
      assert.include(e.message, "target.collectionId")
    })

    it("requires a concrete target type when there is no current target", () => {
      const e = fails(stored(null), { target: { groupId: "g1" } })
      assert.strictEqual(e.reason._tag, "TargetTypeRequired")
      assert.include(e.message, "a concrete target type is required")
    })

    it("treats the abstract base type as 'keep the current type' and merges its properties", () => {
      const next = ok(stored(), {
        target: {
          "@odata.type": "microsoft.graph.deviceAndAppManagementAssignmentTarget",
          deviceAndAppManagementAssignmentFilterType: "exclude"
        }
      })
      assert.deepStrictEqual(next.target, group("g1", "f1", "exclude"))
    })

    it("refuses an unknown target type, naming the accepted types", () => {
      const e = fails(stored(), { target: { "@odata.type": "#microsoft.graph.somethingElse" } })
      assert.strictEqual(e.reason._tag, "TypeNotAccepted")
      for (const t of AssignmentTarget.typeNames) assert.include(e.message, t)
    })

    it("answers the seed's placeholder body with a message listing direct and policySets", () => {
      const seed = {
        "@odata.type": "#microsoft.graph.enrollmentConfigurationAssignment",
        target: { "@odata.type": "microsoft.graph.deviceAndAppManagementAssignmentTarget" },
        source: "String",
        sourceId: "Source Id value"
      }
      const e = fails(stored(), seed)
      assert.include(e.message, "direct")
      assert.include(e.message, "policySets")
      const next = ok(stored(), { ...seed, source: "policySets" })
      assert.deepStrictEqual(next, { ...stored(), source: "policySets", sourceId: "Source Id value" })
    })

    it("answers the seed's body with an abstract target on a null target with TargetTypeRequired", () => {
      const e = fails(stored(null), {
        target: { "@odata.type": "microsoft.graph.deviceAndAppManagementAssignmentTarget" },
        source: "direct"
      })
      assert.strictEqual(e.reason._tag, "TargetTypeRequired")
    })

    it("keeps groupId when a Kiota client sends only the group @odata.type", () => {
      const next = ok(stored(), { target: { "@odata.type": "#microsoft.graph.groupAssignmentTarget" } })
      assert.deepStrictEqual(next.target, group("g1"))
    })
  })

  describe("rules", () => {
    it("refuses a body that is not a JSON object", () => {
      for (const body of [null, [], "x", 1, true]) assert.strictEqual(fails(stored(), body).reason._tag, "ValueInvalid")
    })

    it("accepts the entity's own @odata.type in either spelling and refuses any other", () => {
      ok(stored(), { "@odata.type": "#microsoft.graph.enrollmentConfigurationAssignment" })
      ok(stored(), { "@odata.type": "microsoft.graph.enrollmentConfigurationAssignment" })
      assert.strictEqual(fails(stored(), { "@odata.type": "#microsoft.graph.user" }).reason._tag, "TypeNotAccepted")
      assert.strictEqual(fails(stored(), { "@odata.type": "enrollmentConfigurationAssignment" }).reason._tag, "TypeNotAccepted")
    })

    it("ignores other annotations, top-level and property annotations", () => {
      const next = ok(stored(), {
        "@odata.context": "x",
        "@odata.etag": "W/\"1\"",
        "source@odata.type": "#microsoft.graph.deviceAndAppManagementAssignmentSource",
        target: { "groupId@odata.type": "String", groupId: "g3" }
      })
      assert.deepStrictEqual(next.target, group("g3"))
    })

    it("refuses a member with an @ that is not an OData annotation", () => {
      for (const key of ["x@y", "@", "source@", "@odata", "a.b@odata.type"]) {
        assert.strictEqual(fails(stored(), { [key]: 1 }).reason._tag, "PropertyUnknown", key)
      }
      ok(stored(), { "@microsoft.graph.conflictBehavior": "x", "target@odata.type": "#x" })
    })

    it("refuses an undeclared property, naming it", () => {
      const e = fails(stored(), { intent: "apply" })
      assert.strictEqual(e.reason._tag, "PropertyUnknown")
      assert.include(e.message, "'intent'")
      assert.include(e.message, "enrollmentConfigurationAssignment")
    })

    it("ignores an id equal to the key and refuses a different one", () => {
      assert.deepStrictEqual(ok(stored(), { id: "a1" }), stored())
      assert.strictEqual(fails(stored(), { id: "a2" }).reason._tag, "PropertyReadOnly")
    })

    it("leaves absent properties unchanged", () => {
      const current = { ...stored(), sourceId: "s" }
      assert.deepStrictEqual(ok(current, { source: "policySets" }), { ...current, source: "policySets" })
    })

    it("sets nullable properties to null and refuses null for non-nullable ones", () => {
      const current = { ...stored(), sourceId: "s" }
      assert.strictEqual(ok(current, { sourceId: null }).sourceId, null)
      assert.strictEqual(ok(current, { target: null }).target, null)
      assert.strictEqual(fails(current, { source: null }).reason._tag, "NullNotAllowed")
      const e = fails(current, { target: { deviceAndAppManagementAssignmentFilterType: null } })
      assert.strictEqual(e.reason._tag, "NullNotAllowed")
      assert.include(e.message, "target.deviceAndAppManagementAssignmentFilterType")
      assert.strictEqual(ok(current, { target: { deviceAndAppManagementAssignmentFilterId: null } }).target!.deviceAndAppManagementAssignmentFilterId, null)
    })

    it("says where a wrongly typed value is and what it was", () => {
      const e = fails(stored(), { target: { groupId: 42 } })
      assert.strictEqual(e.message, "target.groupId: expected a string or null, got 42")
      assert.strictEqual(fails(stored(), { sourceId: { a: 1 } }).message, `sourceId: expected a string or null, got {"a":1}`)
      assert.strictEqual(fails(stored(), { target: "group" }).reason._tag, "ValueInvalid")
    })

    it("refuses strings over 4 KiB in typed properties", () => {
      assert.strictEqual(fails(stored(), { sourceId: "x".repeat(4097) }).reason._tag, "ValueInvalid")
      ok(stored(), { sourceId: "x".repeat(4096) })
    })

    it("refuses an unknown filter type value", () => {
      const e = fails(stored(), { target: { deviceAndAppManagementAssignmentFilterType: "sometimes" } })
      assert.include(e.message, "none")
    })

    it("is all or nothing: a later error leaves no earlier change behind", () => {
      const current = stored()
      const snapshot = JSON.stringify(current)
      fails(current, { sourceId: "changed", target: { groupId: "g9" }, source: "bogus" })
      assert.strictEqual(JSON.stringify(current), snapshot)
    })

    it("treats {} as a no-op", () => {
      assert.deepStrictEqual(ok(stored(), {}), stored())
    })

    it("never lets prototype keys reach an object's prototype", () => {
      const body = JSON.parse(`{"target":{"__proto__":{"polluted":true}}}`)
      assert.strictEqual(fails(stored(), body).reason._tag, "PropertyUnknown")
      assert.strictEqual(fails(stored(), JSON.parse(`{"__proto__":{"x":1}}`)).reason._tag, "PropertyUnknown")
      assert.strictEqual(fails(stored(), { constructor: 1 }).reason._tag, "PropertyUnknown")
      assert.strictEqual(({} as any).polluted, undefined)
    })
  })
})

describe("create of an assignment", () => {
  const decode = (body: unknown) => Assignment.decodeCreate(body)

  it("defaults source to direct, target to null and leaves the id to the server", () => {
    assert.deepStrictEqual(decode({}), Result.succeed({ id: undefined, target: null, source: "direct", sourceId: null }))
  })

  it("needs a concrete target type: the abstract base is refused", () => {
    const r = decode({ target: { "@odata.type": "#microsoft.graph.deviceAndAppManagementAssignmentTarget" } })
    assert.isTrue(Result.isFailure(r) && r.failure.reason._tag === "TargetTypeRequired")
  })

  it("fills a target's missing properties with their initial values", () => {
    const r = decode({ id: "x", target: { "@odata.type": "microsoft.graph.exclusionGroupAssignmentTarget", groupId: "g" } })
    assert.deepStrictEqual(Result.getOrThrow(r).target, {
      "@odata.type": "#microsoft.graph.exclusionGroupAssignmentTarget",
      deviceAndAppManagementAssignmentFilterId: null,
      deviceAndAppManagementAssignmentFilterType: "none",
      groupId: "g"
    })
  })

  it("refuses unknown properties and malformed ids", () => {
    assert.isTrue(Result.isFailure(decode({ nope: 1 })))
    assert.isTrue(Result.isFailure(decode({ id: "a/b" })))
    assert.isTrue(Result.isFailure(decode({ id: "" })))
    assert.isTrue(Result.isFailure(decode({ id: "x".repeat(129) })))
    assert.isTrue(Result.isFailure(decode({ "@odata.type": "#microsoft.graph.group" })))
    assert.isTrue(Result.isFailure(decode([])))
  })
})
