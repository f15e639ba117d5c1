/**
 * Path segments in any case, over real HTTP, as Graph takes them (its own docs write both
 * `/me/memberOf` and `/me/memberof`): a literal segment written in another case reaches the
 * declared route, whose answers name the declared segments; ids, type names and `$` segments never
 * fold, and a segment that is no literal in any case is still a 404 naming it.
 */
import { MemoryStore } from "@enrollment/core"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { errorOf, start, type TestServer } from "./support.ts"

const G = "#microsoft.graph."
const seed = "invitations/i1/invitedUser/deviceEnrollmentConfigurations/c1/assignments/a1"

describe("path segments in any case", () => {
  let s: TestServer
  const ok = (r: { status: number; text: string }, status: number, what = "") => assert.strictEqual(r.status, status, `${what} ${r.text}`)

  beforeAll(async () => {
    s = await start({ store: MemoryStore.layer })
    const cfgs = "deviceManagement/deviceEnrollmentConfigurations"
    ok(await s.request("POST", cfgs, { body: { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: "c1", displayName: "Limit", limit: 5 } }), 201)
    ok(await s.request("POST", "invitations", { body: { id: "i1", invitedUserEmailAddress: "guest@example.com", inviteRedirectUrl: "https://example.com" } }), 201)
    ok(await s.request("POST", `${cfgs}/c1/assignments`, { body: { id: "a1", target: { "@odata.type": `${G}allLicensedUsersAssignmentTarget` } } }), 201)
    ok(await s.request("POST", "users", { body: { id: "ab" } }), 201)
    ok(await s.request("POST", "groups", { body: { id: "g1" } }), 201)
    ok(await s.request("POST", "groups", { body: { id: "g2" } }), 201)
    ok(await s.request("POST", "groups/g1/members/$ref", { body: { "@odata.id": `${s.base}/directoryObjects/g2` } }), 204)
    ok(await s.request("POST", "groups/g2/members/$ref", { body: { "@odata.id": `${s.base}/directoryObjects/ab` } }), 204)
  })
  afterAll(() => s.close())

  it("patches the seed's assignment through a path in other cases, answered as the declared path answers", async () => {
    const declared = await s.request("GET", seed)
    ok(declared, 200)
    const shouted = "Invitations/i1/InvitedUser/DeviceEnrollmentConfigurations/c1/ASSIGNMENTS/a1"
    const patched = await s.request("PATCH", shouted, { body: { source: "policySets", sourceId: "p1" } })
    ok(patched, 200, "PATCH")
    assert.strictEqual(patched.json["@odata.context"], declared.json["@odata.context"], "the context names the declared segments")
    assert.strictEqual(patched.json.sourceId, "p1")
    const again = await s.request("GET", seed)
    assert.strictEqual(again.json.sourceId, "p1", "the write reached the one assignment")
    assert.strictEqual(again.headers.get("etag"), patched.headers.get("etag"))
  })

  it("lists and counts through folded collection and navigation segments, and the key form", async () => {
    const users = await s.request("GET", "USERS")
    ok(users, 200)
    const declared = await s.request("GET", "users")
    assert.deepStrictEqual(users.json, declared.json, "the same list (ab and the invitation's guest), the same context")
    assert.include(users.json.value.map((u: any) => u.id), "ab")
    ok(await s.request("GET", "Users('ab')"), 200, "key form")
    const count = await s.request("GET", "groups/g1/transitivemembers/$count")
    ok(count, 200)
    assert.strictEqual(count.text, "2", "g2 directly and ab through it")
    const cast = await s.request("GET", "Groups/g1/TransitiveMembers/microsoft.graph.user")
    ok(cast, 200, "names before a cast")
    assert.deepStrictEqual(cast.json.value.map((u: any) => u.id), ["ab"])
    ok(await s.request("GET", "groups/g1/transitiveMembers/Microsoft.Graph.User"), 404, "a cast's type name keeps its case")
    ok(await s.request("GET", "groups/g1/members/$COUNT"), 404, "so does a $ segment")
    const memberOf = await s.request("GET", "users/ab/TransitiveMemberOf")
    ok(memberOf, 200)
    assert.deepStrictEqual(memberOf.json.value.map((g: any) => g.id).sort(), ["g1", "g2"])
  })

  it("never folds an id: another case of one is another id", async () => {
    ok(await s.request("GET", "users/ab"), 200)
    const r = await s.request("GET", "users/AB")
    ok(r, 404)
    assert.include(errorOf(r).message, "'AB'")
    ok(await s.request("GET", "Invitations/I1/invitedUser"), 404, "the invitation's id as written")
  })

  it("answers a method the path has not with the declared path's 405, and an unknown segment with a 404 naming it", async () => {
    const r = await s.request("PUT", "Users")
    ok(r, 405)
    assert.strictEqual(r.headers.get("allow"), (await s.request("PUT", "users")).headers.get("allow"))
    const missing = await s.request("GET", "Userz")
    ok(missing, 404)
    assert.include(errorOf(missing).message, "'Userz'")
  })

  it("takes a $batch request's url in another case", async () => {
    const r = await s.request("POST", "$batch", { body: { requests: [{ id: "1", method: "GET", url: "/Groups/g1/Members" }] } })
    ok(r, 200)
    const one = r.json.responses[0]
    assert.strictEqual(one.status, 200, JSON.stringify(one))
    assert.deepStrictEqual(one.body.value.map((m: any) => m.id), ["g2"])
  })
})
