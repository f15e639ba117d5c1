/**
 * `@odata.context` under `$select`, over real HTTP: the context names the selected properties,
 * as Graph writes it (`GET /users/{id}?$select=displayName` answers
 * `$metadata#users(displayName)/$entity`, a list `$metadata#users(displayName,mail)`, a group's
 * members `$metadata#directoryObjects(id,displayName)`) and OData's context URL grammar has it (a
 * select list after the entity set or path, before `/$entity`). Before, the context was the one
 * without `$select`, which says every property is there. Without `$select` the context is
 * unchanged; `$select=*` writes `(*)` (Graph's `$metadata#users(*)/$entity`), and `$expand` adds
 * the expanded navigation property with empty parentheses, as OData 4.01 (Protocol 10.11, 10.12)
 * and Graph write it: `$metadata#deviceManagement/deviceEnrollmentConfigurations(assignments())/$entity`.
 */
import { MemoryStore } from "@enrollment/core"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import * as OData from "../src/OData.ts"
import { start, type TestServer } from "./support.ts"

const G = "#microsoft.graph."
const cfgs = "deviceManagement/deviceEnrollmentConfigurations"

describe("@odata.context names the properties $select chose", () => {
  let s: TestServer
  let guest: string
  const ok = (r: { status: number; text: string }, status: number, what = "") => assert.strictEqual(r.status, status, `${what} ${r.text}`)
  const contextOf = async (path: string) => {
    const r = await s.request("GET", path)
    ok(r, 200, path)
    return (r.json["@odata.context"] as string).slice(`${s.base}/$metadata#`.length)
  }

  beforeAll(async () => {
    s = await start({ store: MemoryStore.layer })
    const post = async (path: string, body: unknown) => ok(await s.request("POST", path, { body }), 201, path)
    await post(cfgs, { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: "c1", displayName: "Limit", limit: 5 })
    await post(`${cfgs}/c1/assignments`, { id: "a1", target: { "@odata.type": `${G}allLicensedUsersAssignmentTarget` } })
    await post("users", { id: "u1", displayName: "Ada", mail: "ada@contoso.com" })
    await post("groups", { id: "g1", displayName: "Guests" })
    await post("invitations", { id: "i1", invitedUserEmailAddress: "guest@example.com", inviteRedirectUrl: "https://example.com" })
    guest = (await s.request("GET", "invitations/i1/invitedUser")).json.id
    for (const m of ["users/u1", `users/${guest}`]) ok(await s.request("POST", "groups/g1/members/$ref", { body: { "@odata.id": m } }), 204)
  })
  afterAll(() => s.close())

  it("writes Graph's forms for a user and a list of users", async () => {
    assert.strictEqual(await contextOf("users/u1?$select=displayName"), "users(displayName)/$entity")
    assert.strictEqual(await contextOf("users?$select=displayName,mail"), "users(displayName,mail)")
    // In the order sent, `id` too when sent; each name once, as declared (names are read in any case).
    assert.strictEqual(await contextOf("users?$select=mail,id,displayName"), "users(mail,id,displayName)")
    assert.strictEqual(await contextOf("users/u1?$select=DisplayName,MAIL,displayname"), "users(displayName,mail)/$entity")
    // Without $select: as before. With `*` (every structural property): `(*)`, as Graph writes it
    // (`$metadata#users(*)/$entity`); `*` beside other names covers them.
    assert.strictEqual(await contextOf("users/u1"), "users/$entity")
    assert.strictEqual(await contextOf("users?$select=*"), "users(*)")
    assert.strictEqual(await contextOf("users/u1?$select=*"), "users(*)/$entity")
    assert.strictEqual(await contextOf("users/u1?$select=displayName,*"), "users(*)/$entity")
  })

  it("writes it on every path that takes $select: assignments, configurations, directory objects", async () => {
    const cases: ReadonlyArray<[string, string]> = [
      [`${cfgs}/c1/assignments/a1?$select=source,target`, "deviceManagement/deviceEnrollmentConfigurations('c1')/assignments(source,target)/$entity"],
      [`${cfgs}/c1/assignments?$select=id&$filter=source eq 'direct'`, "deviceManagement/deviceEnrollmentConfigurations('c1')/assignments(id)"],
      [`users/u1/${cfgs.slice(17)}/c1/assignments?$select=sourceId`, "users('u1')/deviceEnrollmentConfigurations('c1')/assignments(sourceId)"],
      [`invitations/i1/invitedUser/deviceEnrollmentConfigurations/c1/assignments/a1?$select=source`, "invitations('i1')/invitedUser/deviceEnrollmentConfigurations('c1')/assignments(source)/$entity"],
      [`${cfgs}?$select=displayName,priority`, "deviceManagement/deviceEnrollmentConfigurations(displayName,priority)"],
      [`${cfgs}/c1?$select=displayName`, "deviceManagement/deviceEnrollmentConfigurations(displayName)/$entity"],
      // A derived type's property behind its cast, the cast written as OData writes a qualified name.
      [`${cfgs}/c1?$select=displayName,microsoft.graph.deviceEnrollmentLimitConfiguration/limit`, "deviceManagement/deviceEnrollmentConfigurations(displayName,microsoft.graph.deviceEnrollmentLimitConfiguration/limit)/$entity"],
      [`${cfgs}?$select=%23microsoft.graph.deviceEnrollmentLimitConfiguration/limit`, "deviceManagement/deviceEnrollmentConfigurations(microsoft.graph.deviceEnrollmentLimitConfiguration/limit)"],
      ["users/u1/deviceEnrollmentConfigurations?$select=priority", "users('u1')/deviceEnrollmentConfigurations(priority)"],
      ["users/u1/deviceEnrollmentConfigurations/c1?$select=priority", "users('u1')/deviceEnrollmentConfigurations(priority)/$entity"],
      ["invitations/i1/invitedUser/deviceEnrollmentConfigurations?$select=version", "invitations('i1')/invitedUser/deviceEnrollmentConfigurations(version)"],
      ["groups?$select=displayName", "groups(displayName)"],
      ["groups/g1?$select=securityEnabled,displayName", "groups(securityEnabled,displayName)/$entity"],
      ["invitations?$select=status", "invitations(status)"],
      ["invitations/i1?$select=invitedUserEmailAddress", "invitations(invitedUserEmailAddress)/$entity"],
      ["invitations/i1/invitedUser?$select=userType", "users(userType)/$entity"],
      ["groups/g1/members?$select=id,displayName", "directoryObjects(id,displayName)"],
      ["groups/g1/transitiveMembers?$select=displayName&$count=true", "directoryObjects(displayName)"],
      ["groups/g1/members/microsoft.graph.user?$select=mail", "users(mail)"],
      ["groups/g1/members/graph.group?$select=mailNickname", "groups(mailNickname)"],
      ["groups/g1/members/microsoft.graph.device?$select=deviceId", "devices(deviceId)"],
      ["users/u1/memberOf?$select=displayName", "directoryObjects(displayName)"],
      ["users/u1/transitiveMemberOf/microsoft.graph.group?$select=displayName", "groups(displayName)"],
      ["users/u1/memberOf/microsoft.graph.directoryRole?$select=roleTemplateId", "directoryRoles(roleTemplateId)"]
    ]
    for (const [path, context] of cases) assert.strictEqual(await contextOf(path.replaceAll(" ", "%20")), context, path)
  })

  it("changes nothing else: the members, the ETag, an expansion's context, the answers without $select", async () => {
    const whole = await s.request("GET", `${cfgs}/c1`)
    const one = await s.request("GET", `${cfgs}/c1?$select=displayName&$expand=assignments`)
    ok(one, 200)
    assert.strictEqual(one.json["@odata.context"], `${s.base}/$metadata#${cfgs}(displayName,assignments())/$entity`)
    assert.strictEqual(one.json["assignments@odata.context"], `${s.base}/$metadata#${cfgs}('c1')/assignments`)
    assert.deepStrictEqual(Object.keys(one.json), ["@odata.context", "@odata.etag", "@odata.type", "id", "displayName", "assignments@odata.context", "assignments"])
    assert.strictEqual(one.headers.get("etag"), whole.headers.get("etag"))
    assert.strictEqual(one.json["@odata.etag"], whole.json["@odata.etag"])
    // Kept answers are per request target: each path with and without $select keeps its own context.
    for (let i = 0; i < 2; i++) {
      assert.strictEqual(await contextOf("users/u1?$select=displayName"), "users(displayName)/$entity")
      assert.strictEqual(await contextOf("users/u1"), "users/$entity")
      assert.strictEqual(await contextOf("users/u1?$select=mail"), "users(mail)/$entity")
    }
    for (const [path, context] of [
      [`${cfgs}/c1/assignments/a1`, "deviceManagement/deviceEnrollmentConfigurations('c1')/assignments/$entity"],
      [`${cfgs}/c1/assignments`, "deviceManagement/deviceEnrollmentConfigurations('c1')/assignments"],
      ["groups/g1/members", "directoryObjects"],
      ["groups/g1/members/$ref", "Collection($ref)"]
    ] as const) assert.strictEqual(await contextOf(path), context, path)
  })

  it("writes * for $select=* and each expansion with (), as Graph and OData 4.01 write them", async () => {
    const cases: ReadonlyArray<[string, string]> = [
      [`${cfgs}/c1?$expand=assignments`, `${cfgs}(assignments())/$entity`],
      [`${cfgs}?$expand=assignments`, `${cfgs}(assignments())`],
      [`${cfgs}?$expand=*`, `${cfgs}(assignments())`],
      [`${cfgs}/c1?$select=displayName&$expand=assignments`, `${cfgs}(displayName,assignments())/$entity`],
      [`${cfgs}/c1?$expand=Assignments&$select=microsoft.graph.deviceEnrollmentLimitConfiguration/Limit`, `${cfgs}(microsoft.graph.deviceEnrollmentLimitConfiguration/limit,assignments())/$entity`],
      [`${cfgs}/c1?$select=*&$expand=assignments`, `${cfgs}(*,assignments())/$entity`],
      [`${cfgs}/c1?$select=*`, `${cfgs}(*)/$entity`],
      [`${cfgs}?$select=displayName,*`, `${cfgs}(*)`],
      ["users/u1/deviceEnrollmentConfigurations?$expand=assignments", "users('u1')/deviceEnrollmentConfigurations(assignments())"],
      ["invitations/i1/invitedUser/deviceEnrollmentConfigurations/c1?$select=priority&$expand=assignments", "invitations('i1')/invitedUser/deviceEnrollmentConfigurations(priority,assignments())/$entity"],
      [`${cfgs}/c1/assignments?$select=*`, "deviceManagement/deviceEnrollmentConfigurations('c1')/assignments(*)"],
      ["groups/g1/members?$select=*", "directoryObjects(*)"],
      ["invitations/i1?$select=*", "invitations(*)/$entity"]
    ]
    for (const [path, context] of cases) assert.strictEqual(await contextOf(path), context, path)
    // The members are those without $select (or with $select alone): * and an expansion's () select nothing away.
    const plain = await s.request("GET", `${cfgs}/c1`)
    for (const q of ["$select=*", "$expand=assignments", "$select=*&$expand=assignments"]) {
      const r = await s.request("GET", `${cfgs}/c1?${q}`)
      const { "@odata.context": _a, "assignments@odata.context": _b, assignments: _c, ...own } = r.json
      const { "@odata.context": _d, ...plainOwn } = plain.json
      assert.deepStrictEqual(own, plainOwn, q)
      assert.strictEqual(r.headers.get("etag"), plain.headers.get("etag"), q)
    }
  })

  it("writes it for a request of a $batch, and leaves a PATCH's answer (no $select there) as it was", async () => {
    const r = await s.request("POST", "$batch", {
      body: { requests: [{ id: "1", method: "GET", url: "/users/u1?$select=displayName" }, { id: "2", method: "GET", url: "/users?$select=mail" }] }
    })
    ok(r, 200)
    const byId = Object.fromEntries(r.json.responses.map((x: any) => [x.id, x.body["@odata.context"]]))
    assert.deepStrictEqual(byId, { 1: `${s.base}/$metadata#users(displayName)/$entity`, 2: `${s.base}/$metadata#users(mail)` })
    const patched = await s.request("PATCH", `${cfgs}/c1/assignments/a1`, { body: { sourceId: "x" } })
    ok(patched, 200)
    assert.strictEqual(patched.json["@odata.context"], `${s.base}/$metadata#${cfgs}('c1')/assignments/$entity`)
  })

  it("makes the select list from $select and $expand, none without either (unit)", () => {
    const list = (q: string) => {
      const r = OData.parseQuery(q, "entity", ["displayName", "id"], undefined, ["assignments"])
      assert.isTrue(r.ok, q)
      return r.ok ? OData.selectList(r.query) : "refused"
    }
    assert.isUndefined(list(""))
    assert.deepStrictEqual(list("$select=displayName"), ["displayName"])
    assert.deepStrictEqual(list("$select=*"), ["*"])
    assert.deepStrictEqual(list("$select=id,*"), ["*"])
    assert.deepStrictEqual(list("$expand=assignments"), ["assignments()"])
    assert.deepStrictEqual(list("$select=*&$expand=*"), ["*", "assignments()"])
    assert.strictEqual(OData.selectedContext("c/$entity", ["*", "assignments()"]), "c(*,assignments())/$entity")
  })

  it("puts the select list where OData's grammar does (unit)", () => {
    assert.strictEqual(OData.selectedContext("users/$entity", ["displayName"]), "users(displayName)/$entity")
    assert.strictEqual(OData.selectedContext("users", ["displayName", "mail", "displayName"]), "users(displayName,mail)")
    assert.strictEqual(OData.selectedContext("a('x')/b", ["id"]), "a('x')/b(id)")
    assert.strictEqual(
      OData.selectedContext("c/$entity", ["#microsoft.graph.t/p", "microsoft.graph.t/q"]),
      "c(microsoft.graph.t/p,microsoft.graph.t/q)/$entity"
    )
  })
})
