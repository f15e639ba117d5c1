/**
 * `$expand=assignments` on configurations (the tenant's list and one, a user's and an
 * invited user's list and one), on a real server, and through the Graph JavaScript
 * client's `expand`; a configuration under a user's path (404 when not targeted).
 */
import { MemoryStore } from "@enrollment/core"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { graphClient, selfSigned, start, succeeds, type TestServer } from "./support.ts"

const G = "#microsoft.graph."
const cfgs = "deviceManagement/deviceEnrollmentConfigurations"
const limit = { "@odata.type": `${G}deviceEnrollmentLimitConfiguration` }

describe("$expand=assignments", () => {
  let s: TestServer
  let guest: string
  beforeAll(async () => {
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0"
    s = await start({ store: MemoryStore.layer, tls: selfSigned() })
    const ok = (method: string, path: string, body: unknown) => succeeds(s, method, path, body)
    await ok("POST", cfgs, { ...limit, id: "c1", displayName: "One", priority: 1 })
    await ok("POST", cfgs, { ...limit, id: "c2", displayName: "Two", priority: 2 })
    await ok("POST", `${cfgs}/c1/assignments`, { id: "all", target: { "@odata.type": `${G}allLicensedUsersAssignmentTarget` } })
    await ok("POST", `${cfgs}/c1/assignments`, { id: "grp", target: { "@odata.type": `${G}groupAssignmentTarget`, groupId: "g1" }, source: "policySets", sourceId: "p" })
    await ok("POST", "invitations", { id: "i1", invitedUserEmailAddress: "g@example.com", inviteRedirectUrl: "https://example.com" })
    guest = (await s.request("GET", "invitations/i1/invitedUser")).json.id
  })
  afterAll(async () => {
    await s?.close()
  })

  it("writes a configuration's assignments after its own members, with their context, and leaves its ETag alone", async () => {
    const plain = await s.request("GET", `${cfgs}/c1`)
    const r = await s.request("GET", `${cfgs}/c1?$expand=assignments`)
    assert.strictEqual(r.status, 200, r.text)
    const { assignments, "assignments@odata.context": context, "@odata.context": own_context, ...own } = r.json
    const { "@odata.context": plainContext, ...plainOwn } = plain.json
    assert.deepStrictEqual(own, plainOwn, "the configuration as without $expand")
    // The context lists the expansion, as Graph writes it and OData 4.01 has it (`()`: no nested options).
    assert.strictEqual(plainContext, `${s.base}/$metadata#deviceManagement/deviceEnrollmentConfigurations/$entity`)
    assert.strictEqual(own_context, `${s.base}/$metadata#deviceManagement/deviceEnrollmentConfigurations(assignments())/$entity`)
    assert.strictEqual(r.headers.get("etag"), plain.headers.get("etag"))
    assert.strictEqual(context, `${s.base}/$metadata#deviceManagement/deviceEnrollmentConfigurations('c1')/assignments`)
    const listed = await s.request("GET", `${cfgs}/c1/assignments`)
    assert.deepStrictEqual(assignments.map((a: any) => [a.id, a["@odata.etag"]]), listed.json.value.map((a: any) => [a.id, a["@odata.etag"]]))
    assert.deepStrictEqual(assignments[1].target, {
      "@odata.type": `${G}groupAssignmentTarget`,
      deviceAndAppManagementAssignmentFilterId: null,
      deviceAndAppManagementAssignmentFilterType: "none",
      groupId: "g1"
    })
    assert.deepStrictEqual(Object.keys(r.json).slice(-2), ["assignments@odata.context", "assignments"], "after the entity's own members")
  })

  it("expands every item of a list, with $select and *, and an empty list for a configuration without assignments", async () => {
    for (const q of ["$expand=assignments&$select=displayName", "$select=displayName&$expand=*", "expand=assignments&select=displayName"]) {
      const r = await s.request("GET", `${cfgs}?${q}`)
      assert.strictEqual(r.status, 200, `${q}: ${r.text}`)
      const byId = Object.fromEntries(r.json.value.map((c: any) => [c.id, c]))
      assert.deepStrictEqual(byId.c1.assignments.map((a: any) => a.id), ["all", "grp"], q)
      assert.deepStrictEqual(byId.c2.assignments, [], q)
      assert.strictEqual(byId.c1.displayName, "One")
      assert.notProperty(byId.c1, "priority", "$select still applies to the configuration's own members")
    }
  })

  it("follows a write at once (no kept answer outlives it)", async () => {
    await s.request("GET", `${cfgs}/c2?$expand=assignments`)
    await s.request("POST", `${cfgs}/c2/assignments`, { body: { id: "late", target: { "@odata.type": `${G}allDevicesAssignmentTarget` } } })
    const r = await s.request("GET", `${cfgs}/c2?$expand=assignments`)
    assert.deepStrictEqual(r.json.assignments.map((a: any) => a.id), ["late"])
    await s.request("DELETE", `${cfgs}/c2/assignments/late`)
  })

  it("expands under a user's and an invited user's path, and a configuration there is found only when targeted", async () => {
    const viaUser = await s.request("GET", `users/${guest}/deviceEnrollmentConfigurations?$expand=assignments`)
    assert.strictEqual(viaUser.status, 200, viaUser.text)
    assert.deepStrictEqual(viaUser.json.value.map((c: any) => c.id), ["c1"])
    assert.strictEqual(
      viaUser.json.value[0]["assignments@odata.context"],
      `${s.base}/$metadata#users('${guest}')/deviceEnrollmentConfigurations('c1')/assignments`
    )
    const one = await s.request("GET", "invitations/i1/invitedUser/deviceEnrollmentConfigurations/c1?$expand=assignments&$select=priority")
    assert.strictEqual(one.status, 200, one.text)
    assert.strictEqual(one.json["@odata.context"], `${s.base}/$metadata#invitations('i1')/invitedUser/deviceEnrollmentConfigurations(priority,assignments())/$entity`)
    assert.deepStrictEqual([one.json.priority, one.json.assignments.length], [1, 2])
    const plain = await s.request("GET", `users/${guest}/deviceEnrollmentConfigurations/c1`)
    assert.strictEqual(plain.headers.get("etag"), (await s.request("GET", `${cfgs}/c1`)).headers.get("etag"))
    for (const p of [`users/${guest}/deviceEnrollmentConfigurations/c2`, "invitations/i1/invitedUser/deviceEnrollmentConfigurations/nope", "users/nobody/deviceEnrollmentConfigurations/c1"]) {
      const r = await s.request("GET", p)
      assert.strictEqual(r.status, 404, p)
      assert.strictEqual(r.json.error.code, "itemNotFound")
    }
    assert.include((await s.request("GET", `users/${guest}/deviceEnrollmentConfigurations/c2`)).json.error.message, "'c2'")
  })

  it("refuses what it cannot expand, saying why", async () => {
    const cases: ReadonlyArray<[string, string]> = [
      [`${cfgs}?$expand=assignments($select=id)`, "options inside an expansion ('assignments($select=id)') are not supported; expand 'assignments' whole"],
      [`${cfgs}/c1?$expand=members`, "'members' is not a navigation property of this resource; expected 'assignments' or *"],
      [`${cfgs}/c1/assignments?$expand=*`, "The query option '$expand' is not supported on this resource"],
      ["users?$expand=memberOf", "The query option '$expand' is not supported on this resource"],
      [`${cfgs}?$expand=assignments&$expand=assignments`, "given more than once"]
    ]
    for (const [p, message] of cases) {
      const r = await s.request("GET", p)
      assert.strictEqual(r.status, 400, p)
      assert.include(r.json.error.message, message, p)
    }
  })

  it("is what the Graph JavaScript client's expand() asks for", async () => {
    const token = await s.token()
    const client = graphClient(s, token)
    const list = await client.api(`/${cfgs}`).expand("assignments").select(["id", "displayName"]).get()
    assert.deepStrictEqual(list.value.map((c: any) => [c.id, c.assignments.length]), [["c1", 2], ["c2", 0]])
  })

  it("is described in the OpenAPI document where it is served", async () => {
    const doc = (await s.request("GET", "openapi.json", { token: null })).json
    const expandOf = (p: string) => doc.paths[p].get.parameters.some((x: any) => x.name === "$expand")
    assert.isTrue(expandOf("/beta/deviceManagement/deviceEnrollmentConfigurations"))
    assert.isTrue(expandOf("/beta/deviceManagement/deviceEnrollmentConfigurations/{configurationId}"))
    assert.isTrue(expandOf("/beta/users/{userId}/deviceEnrollmentConfigurations/{configurationId}"))
    assert.isFalse(expandOf("/beta/deviceManagement/deviceEnrollmentConfigurations/{configurationId}/assignments"))
    assert.isFalse(expandOf("/beta/users"))
  })
})
