import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { AssignmentTarget, ODataType } from "../src/index.ts"

describe("the target hierarchy", () => {
  it("says an exclusion group target is a group target", () => {
    assert.isTrue(AssignmentTarget.isA("exclusionGroupAssignmentTarget", "groupAssignmentTarget"))
    assert.isTrue(AssignmentTarget.isGroupTarget(AssignmentTarget.empty("exclusionGroupAssignmentTarget")))
    assert.isTrue(AssignmentTarget.isGroupTarget(AssignmentTarget.empty("groupAssignmentTarget")))
    assert.isFalse(AssignmentTarget.isGroupTarget(AssignmentTarget.empty("allDevicesAssignmentTarget")))
    assert.isFalse(AssignmentTarget.isA("groupAssignmentTarget", "exclusionGroupAssignmentTarget"))
    for (const name of AssignmentTarget.concreteTypeNames) {
      assert.strictEqual(AssignmentTarget.isGroupTarget(AssignmentTarget.empty(name)), AssignmentTarget.isA(name, "groupAssignmentTarget"), name)
    }
    assert.isFalse(AssignmentTarget.isGroupTarget(null))
  })

  it("lists the types derived from a type, itself included", () => {
    assert.deepStrictEqual(AssignmentTarget.descendants("groupAssignmentTarget"), [
      "groupAssignmentTarget",
      "exclusionGroupAssignmentTarget"
    ])
    assert.strictEqual(AssignmentTarget.descendants("deviceAndAppManagementAssignmentTarget").length, 6)
  })

  it("derives the shared properties from the common ancestor", () => {
    assert.strictEqual(AssignmentTarget.commonAncestor("exclusionGroupAssignmentTarget", "groupAssignmentTarget"), "groupAssignmentTarget")
    assert.strictEqual(
      AssignmentTarget.commonAncestor("allDevicesAssignmentTarget", "configurationManagerCollectionAssignmentTarget"),
      "deviceAndAppManagementAssignmentTarget"
    )
    assert.deepStrictEqual(AssignmentTarget.sharedProperties("configurationManagerCollectionAssignmentTarget", "groupAssignmentTarget"), [
      "deviceAndAppManagementAssignmentFilterId",
      "deviceAndAppManagementAssignmentFilterType"
    ])
  })

  it("decodes both @odata.type spellings and writes the canonical one", () => {
    const decode = Schema.decodeUnknownSync(AssignmentTarget.AssignmentTarget)
    const encode = Schema.encodeSync(AssignmentTarget.AssignmentTarget)
    for (const spelling of ["#microsoft.graph.groupAssignmentTarget", "microsoft.graph.groupAssignmentTarget"]) {
      const t = decode({ "@odata.type": spelling, groupId: "g" })
      assert.strictEqual(t["@odata.type"], "#microsoft.graph.groupAssignmentTarget")
      assert.strictEqual((encode(t) as any)["@odata.type"], "#microsoft.graph.groupAssignmentTarget")
    }
  })

  it("parses @odata.type values and refuses other namespaces", () => {
    assert.strictEqual(ODataType.parse("#microsoft.graph.user"), "user")
    assert.strictEqual(ODataType.parse("microsoft.graph.user"), "user")
    assert.strictEqual(ODataType.parse("#microsoft.graphs.user"), undefined)
    assert.strictEqual(ODataType.parse("user"), undefined)
    assert.strictEqual(ODataType.parse(42), undefined)
    assert.strictEqual(ODataType.parse("#microsoft.graph.a.b"), undefined)
  })
})
