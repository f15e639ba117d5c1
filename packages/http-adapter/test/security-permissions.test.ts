/**
 * Security review of authorization: every route's permission set is the one
 * SPEC 7's table names for its operation, no more (an extra permission is a
 * grant the contract does not make) and no less, checked over the whole route
 * table and, for the group reads, over HTTP.
 */
import { MemoryStore } from "@enrollment/core"
import { assert, describe, it } from "vitest"
import { Routes } from "../src/index.ts"
import { errorOf, start } from "./support.ts"

/** SPEC 7, row by row. */
const spec = {
  readConfiguration: [
    "DeviceManagementServiceConfig.Read.All",
    "DeviceManagementServiceConfig.ReadWrite.All",
    "DeviceManagementConfiguration.Read.All",
    "DeviceManagementConfiguration.ReadWrite.All"
  ],
  writeConfiguration: ["DeviceManagementServiceConfig.ReadWrite.All", "DeviceManagementConfiguration.ReadWrite.All"],
  createInvitation: ["User.Invite.All", "User.ReadWrite.All", "Directory.ReadWrite.All"],
  // "User.Read.All, Group.Read.All (for groups), Directory.Read.All, or the matching ReadWrite"
  readUsers: ["User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"],
  readGroups: ["Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"],
  // "User.ReadWrite.All / Group.ReadWrite.All / GroupMember.ReadWrite.All, Directory.ReadWrite.All"
  writeUsers: ["User.ReadWrite.All", "Directory.ReadWrite.All"],
  writeGroups: ["Group.ReadWrite.All", "Directory.ReadWrite.All"],
  writeMembers: ["GroupMember.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All"]
} as const

/** The SPEC 7 row of a route, from its method and path alone. */
const rowOf = (method: string, path: string): keyof typeof spec => {
  const read = method === "GET"
  if (path.includes("deviceEnrollmentConfigurations")) return read ? "readConfiguration" : "writeConfiguration"
  // The groups a user or a group is in: what is read is groups.
  if (/\/(transitiveMemberOf|memberOf)(\/|$)/.test(path)) return "readGroups"
  if (path.startsWith("/groups/{groupId}/members")) return read ? "readGroups" : "writeMembers"
  if (path.startsWith("/groups")) return read ? "readGroups" : "writeGroups"
  if (path.startsWith("/invitations")) return read ? "readUsers" : "createInvitation"
  if (path.startsWith("/users")) return read ? "readUsers" : "writeUsers"
  throw new Error(`no SPEC 7 row for ${method} ${path}`)
}

describe("security: permissions", () => {
  it("gives every route exactly the permissions of its SPEC 7 row", () => {
    const wrong: Array<string> = []
    for (const r of Routes.routes) {
      const row = rowOf(r.method, r.path)
      const want = [...spec[row]].sort()
      const got = [...r.permission.anyOf].sort()
      if (JSON.stringify(got) !== JSON.stringify(want)) wrong.push(`${r.method} ${r.path}: ${got.join(", ")} (SPEC 7 ${row}: ${want.join(", ")})`)
    }
    assert.deepStrictEqual(wrong, [])
    assert.isAbove(Routes.routes.length, 40)
  })

  it("does not let GroupMember permissions read groups or their members", async () => {
    const s = await start({ store: MemoryStore.layer })
    try {
      assert.strictEqual((await s.request("POST", "groups", { body: { id: "g1", displayName: "g" } })).status, 201)
      assert.strictEqual((await s.request("POST", "users", { body: { id: "u1", displayName: "u", mail: "u@example.com" } })).status, 201)
      const members = { scopes: ["GroupMember.ReadWrite.All"] }
      // Writing memberships is what the permission is for…
      assert.strictEqual((await s.request("POST", "groups/g1/members/$ref", { ...members, body: { "@odata.id": "users/u1" } })).status, 204)
      // …reading groups, and the users in them, is not.
      for (const p of ["groups", "groups/g1", "groups/g1/members", "groups/$count"]) {
        for (const scopes of [["GroupMember.ReadWrite.All"], ["GroupMember.Read.All"]]) {
          const r = await s.request("GET", p, { scopes })
          assert.strictEqual(r.status, 403, `${p} with ${scopes[0]}: ${r.text}`)
          assert.strictEqual(errorOf(r).code, "Authorization_RequestDenied")
        }
      }
      assert.strictEqual((await s.request("GET", "groups/g1/members", { scopes: ["Group.Read.All", "User.Read.All"] })).status, 200)
    } finally {
      await s.close()
    }
  })

  it("needs a user read besides a group read for a group's members and a user's memberships: Group.Read.All alone reads no user", async () => {
    const s = await start({ store: MemoryStore.layer })
    try {
      assert.strictEqual((await s.request("POST", "groups", { body: { id: "g", displayName: "g" } })).status, 201)
      assert.strictEqual((await s.request("POST", "users", { body: { id: "alice", userPrincipalName: "alice@example.com", jobTitle: "CFO" } })).status, 201)
      assert.strictEqual((await s.request("POST", "groups/g/members/$ref", { body: { "@odata.id": "users/alice" } })).status, 204)
      // A security review read profiles, found users by principal name and told which ids exist, with Group.Read.All.
      const paths = [
        "groups/g/members?$select=id,userPrincipalName,jobTitle",
        "groups/g/members/microsoft.graph.user",
        "groups/g/transitiveMembers/microsoft.graph.user/$count?$filter=userPrincipalName eq 'alice@example.com'",
        "groups/g/transitiveMembers",
        "users/alice/memberOf",
        "users/nobody/memberOf",
        "users/alice/transitiveMemberOf/microsoft.graph.group"
      ]
      for (const p of paths) {
        for (const scopes of [["Group.Read.All"], ["Group.ReadWrite.All"], ["User.Read.All"]]) {
          const r = await s.request("GET", p, { scopes })
          assert.strictEqual(r.status, 403, `${p} with ${scopes[0]}: ${r.text}`)
          assert.include(errorOf(r).message, "and one of User.Read.All", p)
        }
        for (const scopes of [["Group.Read.All", "User.Read.All"], ["Directory.Read.All"]]) {
          const r = await s.request("GET", p, { scopes })
          assert.strictEqual(r.status, p.startsWith("users/nobody") ? 404 : 200, `${p} with ${scopes.join(" ")}: ${r.text}`)
        }
      }
      // What tells of groups alone still needs a group read alone: a group's own memberships, its
      // members' ids ($ref).
      for (const p of ["groups/g/memberOf", "groups/g/members/$ref"]) {
        assert.strictEqual((await s.request("GET", p, { scopes: ["Group.Read.All"] })).status, 200, p)
      }
    } finally {
      await s.close()
    }
  })
})
