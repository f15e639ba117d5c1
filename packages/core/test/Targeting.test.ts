import { assert, describe, it } from "@effect/vitest"
import { AssignmentTarget, Targeting } from "../src/index.ts"

const t = (type: AssignmentTarget.ConcreteTypeName, groupId?: string) => ({
  target: groupId === undefined ? AssignmentTarget.empty(type) : { ...AssignmentTarget.empty(type), groupId } as AssignmentTarget.AssignmentTarget
})
const group = (g: string) => t("groupAssignmentTarget", g)
const exclusion = (g: string) => t("exclusionGroupAssignmentTarget", g)
const m = (groupId: string, memberId: string): Targeting.Membership => ({ groupId, memberId })

describe("targeting (SPEC 4)", () => {
  it("includes every user through allLicensedUsers", () => {
    assert.isTrue(Targeting.isTargetedTo([t("allLicensedUsersAssignmentTarget")], [], "u"))
  })

  it("includes the transitive members of a group", () => {
    const memberships = [m("inner", "u"), m("middle", "inner"), m("outer", "middle")]
    assert.isTrue(Targeting.isTargetedTo([group("outer")], memberships, "u"))
    assert.isFalse(Targeting.isTargetedTo([group("outer")], memberships, "someone-else"))
  })

  it("terminates on membership cycles", () => {
    const memberships = [m("a", "u"), m("b", "a"), m("a", "b"), m("c", "c")]
    assert.deepStrictEqual([...Targeting.transitiveGroups("u", Targeting.parentsIndex(memberships))].sort(), ["a", "b"])
    assert.isTrue(Targeting.isTargetedTo([group("b")], memberships, "u"))
    assert.isFalse(Targeting.isTargetedTo([group("c")], memberships, "u"))
  })

  it("lets exclusion win over any inclusion, in any order", () => {
    const memberships = [m("g", "u"), m("x", "u")]
    assert.isFalse(Targeting.isTargetedTo([group("g"), exclusion("x")], memberships, "u"))
    assert.isFalse(Targeting.isTargetedTo([exclusion("x"), t("allLicensedUsersAssignmentTarget")], memberships, "u"))
    assert.isTrue(Targeting.isTargetedTo([group("g"), exclusion("other")], memberships, "u"))
  })

  it("excludes transitive members of an exclusion group", () => {
    assert.isFalse(Targeting.isTargetedTo([t("allLicensedUsersAssignmentTarget"), exclusion("outer")], [m("inner", "u"), m("outer", "inner")], "u"))
  })

  it("includes no user through device targets, filters or null targets", () => {
    const assignments = [
      t("allDevicesAssignmentTarget"),
      t("configurationManagerCollectionAssignmentTarget"),
      { target: null },
      { target: { ...AssignmentTarget.empty("groupAssignmentTarget"), groupId: null } as AssignmentTarget.AssignmentTarget }
    ]
    assert.isFalse(Targeting.isTargetedTo(assignments, [m("g", "u")], "u"))
  })

  it("ignores assignment filters for user targeting", () => {
    const filtered = {
      target: {
        ...AssignmentTarget.empty("groupAssignmentTarget"),
        groupId: "g",
        deviceAndAppManagementAssignmentFilterId: "f",
        deviceAndAppManagementAssignmentFilterType: "exclude"
      } as AssignmentTarget.AssignmentTarget
    }
    assert.isTrue(Targeting.isTargetedTo([filtered], [m("g", "u")], "u"))
  })
})
