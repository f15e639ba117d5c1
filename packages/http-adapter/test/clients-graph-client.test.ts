/**
 * Every operation of SPEC 2 through @microsoft/microsoft-graph-client 3.0.7's
 * `api(…)` chain, unmodified, pointed at the server over TLS (the client sends
 * tokens only to https hosts it is told of), its PageIterator included.
 */
import { MemoryStore } from "@enrollment/core"
import { type Client, type GraphError, PageIterator, ResponseType } from "@microsoft/microsoft-graph-client"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { graphClient, selfSigned, start, type TestServer } from "./support.ts"

const G = "#microsoft.graph."
const cfgs = "/deviceManagement/deviceEnrollmentConfigurations"


/** The GraphError a call failed with. */
const graphError = async (p: Promise<unknown>): Promise<GraphError> => {
  try {
    await p
  } catch (e) {
    return e as GraphError
  }
  throw new Error("expected the call to fail")
}

describe("@microsoft/microsoft-graph-client 3.0.7 api() chain", () => {
  let s: TestServer
  let client: Client
  let port: string
  let guestId: string
  const clientWith = (token: string) => graphClient(s, token)
  beforeAll(async () => {
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0"
    s = await start({ store: MemoryStore.layer, tls: selfSigned() })
    port = new URL(s.url).port
    client = clientWith(await s.token())
  })
  afterAll(async () => {
    await s?.close()
  })

  const inv = (c = "c1") => `/invitations/i1/invitedUser/deviceEnrollmentConfigurations/${c}/assignments`

  it("invites, and reads invitations and the invited user", async () => {
    const created = await client.api("/invitations").post({ id: "i1", invitedUserEmailAddress: "guest@example.com", inviteRedirectUrl: "https://example.com", invitedUserDisplayName: "Guest" })
    assert.strictEqual(created.status, "PendingAcceptance")
    assert.match(created.inviteRedeemUrl, /^https:\/\/localhost:\d+\//)
    assert.strictEqual((await client.api("/invitations/i1").get()).invitedUserDisplayName, "Guest")
    const user = await client.api("/invitations/i1/invitedUser").select("id,userType").get()
    guestId = user.id
    assert.strictEqual(user.userType, "Guest")
    const list = await client.api("/invitations").count(true).get()
    assert.strictEqual(list["@odata.count"], 1)
    assert.strictEqual(await client.api("/invitations/$count").get(), "1")
  })

  it("creates, lists, patches and deletes users", async () => {
    await client.api("/users").post({ id: "u1", displayName: "Una" })
    assert.strictEqual((await client.api("/users/u1").patch({ displayName: "Una B" })).displayName, "Una B")
    const list = await client.api("/users").select(["id", "displayName"]).top(1).count(true).get()
    assert.strictEqual(list["@odata.count"], 2)
    assert.strictEqual(list.value.length, 1)
    assert.isString(list["@odata.nextLink"])
    const pages: Array<string> = []
    await new PageIterator(client, list, (u) => {
      pages.push(u.id)
      return true
    }).iterate()
    assert.sameMembers(pages, ["u1", guestId])
    const token = new URL(list["@odata.nextLink"]).searchParams.get("$skiptoken")!
    const second = await client.api("/users").select("id").top(1).skipToken(token).get()
    assert.deepStrictEqual(second.value.map((u: any) => u.id), [pages[1]])
    await client.api("/users/u1").delete()
    const e = await graphError(client.api("/users/u1").get())
    assert.strictEqual(e.statusCode, 404)
    assert.strictEqual(e.code, "itemNotFound")
  })

  it("manages groups and members by reference", async () => {
    await client.api("/groups").post({ id: "g1", displayName: "Guests" })
    await client.api("/groups").post({ id: "g2", displayName: "Nested" })
    await client.api("/groups/g1/members/$ref").post({ "@odata.id": `https://graph.microsoft.com/beta/directoryObjects/${guestId}` })
    await client.api("/groups/g1/members/$ref").post({ "@odata.id": `https://graph.microsoft.com/beta/groups/g2` })
    const members = await client.api("/groups/g1/members").count(true).get()
    assert.strictEqual(members["@odata.count"], 2)
    assert.sameMembers(members.value.map((m: any) => m["@odata.type"]), [`${G}user`, `${G}group`])
    const dup = await graphError(client.api("/groups/g1/members/$ref").post({ "@odata.id": `https://graph.microsoft.com/beta/directoryObjects/${guestId}` }))
    assert.strictEqual(dup.statusCode, 400)
    await client.api("/groups/g1/members/g2/$ref").delete()
    assert.strictEqual(await client.api("/groups/g1/members/$count").get(), "1")
    await client.api("/groups/g1/members/$ref").query({ "@id": `https://graph.microsoft.com/beta/directoryObjects/${guestId}` }).delete()
    assert.strictEqual(await client.api("/groups/g1/members/$count").get(), "0")
    await client.api("/groups/g1/members/$ref").post({ "@odata.id": `https://graph.microsoft.com/beta/directoryObjects/${guestId}` })
    await client.api("/groups/g2").delete()
    assert.deepStrictEqual((await client.api("/groups").get()).value.map((g: any) => g.id), ["g1"])
  })

  it("reads the groups a user is in, directly and through nested groups, paging with the PageIterator", async () => {
    await client.api("/groups").post({ id: "g3", displayName: "Outer" })
    await client.api("/groups/g3/members/$ref").post({ "@odata.id": "https://graph.microsoft.com/beta/groups/g1" })
    const direct = await client.api(`/users/${guestId}/memberOf`).select("id,displayName").get()
    assert.deepStrictEqual(direct.value.map((g: any) => [g["@odata.type"], g.id, g.displayName]), [[`${G}group`, "g1", "Guests"]])
    const seen: Array<string> = []
    const first = await client.api(`/users/${guestId}/transitiveMemberOf`).top(1).count(true).get()
    assert.strictEqual(first["@odata.count"], 2)
    await new PageIterator(client, first, (g) => {
      seen.push(g.id)
      return true
    }).iterate()
    assert.deepStrictEqual(seen, ["g1", "g3"])
    assert.strictEqual(await client.api(`/users/${guestId}/transitiveMemberOf/$count`).get(), "2")
    // And from the outer group down: the group between and the guest.
    const down = await client.api("/groups/g3/transitiveMembers").select("id").get()
    assert.deepStrictEqual(down.value.map((m: any) => [m["@odata.type"], m.id]), [[`${G}group`, "g1"], [`${G}user`, guestId]].sort((a, b) => (a[1]! < b[1]! ? -1 : 1)))
    await client.api("/groups/g3").delete()
  })

  it("addresses a user by its userPrincipalName in any case, as scripts do (`/users/ada@contoso.com`), a guest's #EXT# percent-encoded", async () => {
    await client.api("/users").post({ id: "ada", displayName: "Ada", userPrincipalName: "Ada@Contoso.com" })
    assert.strictEqual((await client.api("/users/ada@contoso.com").get()).id, "ada")
    assert.strictEqual((await client.api("/users/ADA@CONTOSO.COM").patch({ displayName: "Ada L" })).displayName, "Ada L")
    const guest = `/users/${encodeURIComponent("guest_example.com#EXT#")}`
    assert.strictEqual((await client.api(guest).select("id").get()).id, guestId)
    assert.deepStrictEqual((await client.api(`${guest}/memberOf`).get()).value.map((g: any) => g.id), ["g1"])
    const missing = await graphError(client.api("/users/Nobody@contoso.com").get())
    assert.strictEqual(missing.statusCode, 404)
    assert.include(missing.message, "user 'Nobody@contoso.com' not found")
    await client.api("/users/Ada@contoso.com").delete()
    assert.strictEqual((await graphError(client.api("/users/ada").get())).statusCode, 404)
  })

  it("casts a group's mixed members to users or groups and lists them as references, paging with the PageIterator", async () => {
    // gc holds x0, x2, x4 (users) and x1, x3, x5 (groups), ids interleaved.
    await client.api("/groups").post({ id: "gc", displayName: "Cast" })
    for (let i = 0; i < 6; i++) {
      const set = i % 2 === 0 ? "users" : "groups"
      await client.api(`/${set}`).post({ id: `x${i}`, displayName: `X${i}` })
      await client.api("/groups/gc/members/$ref").post({ "@odata.id": `https://graph.microsoft.com/beta/${set}/x${i}` })
    }
    /** Every item from `first` on, through the PageIterator, and how many pages it read. */
    const iterate = async (first: any, pick: (item: any) => string) => {
      const seen: Array<string> = []
      await new PageIterator(client, first, (item) => {
        seen.push(pick(item))
        return true
      }).iterate()
      return seen
    }
    const users = await client.api("/groups/gc/members/microsoft.graph.user").top(2).count(true).select("id,displayName").get()
    assert.strictEqual(users["@odata.context"], `https://localhost:${port}/beta/$metadata#users(id,displayName)`)
    assert.strictEqual(users["@odata.count"], 3)
    assert.deepStrictEqual(users.value.map((u: any) => [u["@odata.type"], u.id]), [[`${G}user`, "x0"], [`${G}user`, "x2"]])
    assert.include(users["@odata.nextLink"], "/members/microsoft.graph.user?")
    assert.deepStrictEqual(await iterate(users, (u) => u.id), ["x0", "x2", "x4"])
    // The alias the Graph SDKs write, with a $filter on the user's own properties.
    const groups = await client.api("/groups/gc/members/graph.group").top(1).get()
    assert.deepStrictEqual(await iterate(groups, (g) => `${g["@odata.type"]} ${g.id}`), ["x1", "x3", "x5"].map((id) => `${G}group ${id}`))
    const filtered = await client.api("/groups/gc/members/microsoft.graph.user").filter("displayName eq 'X4'").get()
    assert.deepStrictEqual(filtered.value.map((u: any) => u.id), ["x4"])
    assert.strictEqual(await client.api("/groups/gc/members/microsoft.graph.group/$count").get(), "3")
    assert.strictEqual(await client.api("/groups/gc/transitiveMembers/microsoft.graph.user/$count").get(), "3")
    assert.deepStrictEqual((await client.api("/users/x0/memberOf/microsoft.graph.group").get()).value.map((g: any) => g.id), ["gc"])
    assert.deepStrictEqual((await client.api("/groups/gc/members/microsoft.graph.device").get()).value, [])
    const unknown = await graphError(client.api("/groups/gc/members/microsoft.graph.Device").get())
    assert.strictEqual(unknown.statusCode, 404)
    assert.strictEqual(unknown.code, "itemNotFound")
    // GET …/members/$ref: entity references, paged.
    const refs = await client.api("/groups/gc/members/$ref").top(4).count(true).get()
    assert.strictEqual(refs["@odata.context"], `https://localhost:${port}/beta/$metadata#Collection($ref)`)
    assert.strictEqual(refs["@odata.count"], 6)
    const all = await iterate(refs, (r) => r["@odata.id"])
    assert.deepStrictEqual(all, [0, 1, 2, 3, 4, 5].map((i) => `https://localhost:${port}/beta/directoryObjects/x${i}`))
    // Each reference is what a removal by @id takes.
    await client.api("/groups/gc/members/$ref").query({ "@id": all[0]! }).delete()
    assert.strictEqual(await client.api("/groups/gc/members/microsoft.graph.user/$count").get(), "2")
    for (let i = 0; i < 6; i++) await client.api(`/${i % 2 === 0 ? "users" : "groups"}/x${i}`).delete()
    await client.api("/groups/gc").delete()
  })

  it("creates, patches, prioritises, assigns and deletes configurations", async () => {
    const c = await client.api(cfgs).post({ "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: "c1", displayName: "Limit", priority: 2, limit: 5 })
    assert.strictEqual(c.version, 1)
    assert.strictEqual(c.limit, 5)
    assert.isFalse(Number.isNaN(Date.parse(c.createdDateTime)))
    const p = await client.api(`${cfgs}/c1`).patch({ limit: 6 })
    assert.strictEqual(p.limit, 6)
    assert.strictEqual(p.version, 2)
    await client.api(`${cfgs}/c1/setPriority`).post({ priority: 1 })
    assert.strictEqual((await client.api(`${cfgs}/c1`).select("priority").get()).priority, 1)
    await client.api(`${cfgs}/c1/assign`).post({
      enrollmentConfigurationAssignments: [{ id: "keep", target: { "@odata.type": "microsoft.graph.allLicensedUsersAssignmentTarget" } }]
    })
    assert.deepStrictEqual((await client.api(`${cfgs}/c1/assignments`).get()).value.map((a: any) => a.id), ["keep"])
    await client.api(cfgs).post({ "@odata.type": `${G}windowsRestoreDeviceEnrollmentConfiguration`, id: "c2" })
    assert.strictEqual(await client.api(`${cfgs}/$count`).get(), "2")
    await client.api(`${cfgs}/c2`).delete()
    const mine = await client.api(`/users/${guestId}/deviceEnrollmentConfigurations`).count(true).get()
    assert.strictEqual(mine["@odata.count"], 1)
    assert.strictEqual(mine.value[0].id, "c1")
    assert.strictEqual(await client.api(`/invitations/i1/invitedUser/deviceEnrollmentConfigurations/$count`).get(), "1")
  })

  it("honours If-Match on the assign and setPriority actions, surfacing 412 as a GraphError and changing nothing", async () => {
    const c = await client.api(cfgs).post({ "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: "ca", priority: 4 })
    await client.api(`${cfgs}/ca/assign`).post({ enrollmentConfigurationAssignments: [{ id: "ca-kept" }] })
    await client.api(`${cfgs}/ca`).patch({ displayName: "changed" })
    const assigned = async () => (await client.api(`${cfgs}/ca/assignments`).get()).value.map((a: any) => a.id)
    for (const stale of [c["@odata.etag"], `W/"stale"`]) {
      const assign = await graphError(client.api(`${cfgs}/ca/assign`).header("If-Match", stale).post({ enrollmentConfigurationAssignments: [] }))
      assert.deepStrictEqual([assign.statusCode, assign.code], [412, "preconditionFailed"])
      const priority = await graphError(client.api(`${cfgs}/ca/setPriority`).header("If-Match", stale).post({ priority: 9 }))
      assert.deepStrictEqual([priority.statusCode, priority.code], [412, "preconditionFailed"])
    }
    assert.deepStrictEqual(await assigned(), ["ca-kept"], "a stale tag's assign removed nothing")
    const current = await client.api(`${cfgs}/ca`).get()
    assert.strictEqual(current.priority, 4)
    await client.api(`${cfgs}/ca/assign`).header("If-Match", current["@odata.etag"]).post({ enrollmentConfigurationAssignments: [{ id: "ca-new" }] })
    assert.deepStrictEqual(await assigned(), ["ca-new"])
    await client.api(`${cfgs}/ca/setPriority`).header("If-Match", current["@odata.etag"]).post({ priority: 9 })
    assert.strictEqual((await client.api(`${cfgs}/ca`).get()).priority, 9)
    await client.api(`${cfgs}/ca`).delete()
  })

  describe("assignments", () => {
    for (
      const [family, p] of [
        ["tenant", `${cfgs}/c1/assignments`],
        ["user", () => `/users/${guestId}/deviceEnrollmentConfigurations/c1/assignments`],
        // The guest by its principal name (core 0.16.0), `#` percent-encoded as a URL needs it.
        ["user by principal name", () => `/users/${encodeURIComponent("Guest_example.com#EXT#")}/deviceEnrollmentConfigurations/c1/assignments`],
        ["invitation", inv()]
      ] as const
    ) {
      it(`creates, lists, gets, patches and deletes on the ${family} path`, async () => {
        const coll = typeof p === "string" ? p : p()
        const id = `a-${family.replaceAll(" ", "-")}`
        const raw = await client.api(coll).responseType(ResponseType.RAW).post({ id, target: { "@odata.type": "microsoft.graph.groupAssignmentTarget", groupId: "g1" } })
        assert.strictEqual(raw.status, 201)
        assert.strictEqual(raw.headers.get("location"), `https://localhost:${port}/beta${coll}/${id}`)
        const created = await raw.json()
        assert.strictEqual(created.source, "direct")
        assert.strictEqual(created["@odata.etag"], raw.headers.get("etag"))
        const got = await client.api(`${coll}/${id}`).get()
        assert.deepStrictEqual(got.target, { "@odata.type": `${G}groupAssignmentTarget`, groupId: "g1", deviceAndAppManagementAssignmentFilterId: null, deviceAndAppManagementAssignmentFilterType: "none" })
        const patched = await client.api(`${coll}('${id}')`).patch({ target: { "@odata.type": `${G}allDevicesAssignmentTarget` }, source: "policySets", sourceId: "ps" })
        assert.deepStrictEqual(patched.target, { "@odata.type": `${G}allDevicesAssignmentTarget`, deviceAndAppManagementAssignmentFilterId: null, deviceAndAppManagementAssignmentFilterType: "none" })
        assert.strictEqual(patched.sourceId, "ps")
        assert.strictEqual(await client.api(`${coll}/$count`).get(), "2")
        await client.api(`${coll}/${id}`).delete()
        assert.strictEqual((await graphError(client.api(`${coll}/${id}`).get())).statusCode, 404)
      })
    }

    it("pages with top through the client's PageIterator, keeping filter, select and count", async () => {
      for (let i = 0; i < 5; i++) {
        await client.api(inv()).post({ id: `p${i}`, target: { "@odata.type": `${G}allDevicesAssignmentTarget` }, source: i < 3 ? "direct" : "policySets" })
      }
      const first = await client.api(inv()).filter("source eq 'direct'").select("id,source").top(2).count(true).get()
      assert.strictEqual(first["@odata.count"], 4)
      const seen: Array<any> = []
      await new PageIterator(client, first, (a) => {
        seen.push(a)
        return true
      }).iterate()
      assert.sameMembers(seen.map((a) => a.id), ["keep", "p0", "p1", "p2"])
      for (const a of seen) assert.deepStrictEqual(Object.keys(a).filter((k) => !k.startsWith("@")).sort(), ["id", "source"])
    })

    it("filters with every form of SPEC 5 and refuses the rest", async () => {
      await client.api(`${inv()}/p4`).patch({ target: { "@odata.type": `${G}exclusionGroupAssignmentTarget`, groupId: "gx" }, sourceId: "ps4" })
      const ids = async (f: string) => (await client.api(inv()).filter(f).get()).value.map((a: any) => a.id).sort()
      assert.deepStrictEqual(await ids("source eq 'policySets'"), ["p3", "p4"])
      assert.deepStrictEqual(await ids("sourceId eq 'ps4'"), ["p4"])
      assert.deepStrictEqual(await ids("isof(target,'microsoft.graph.groupAssignmentTarget')"), ["p4"])
      assert.deepStrictEqual(await ids("target/groupId eq 'gx'"), ["p4"])
      assert.strictEqual(await client.api(`${inv()}/$count`).filter("source eq 'policySets'").get(), "2")
      const e = await graphError(client.api(inv()).filter("source gt 'direct'").get())
      assert.strictEqual(e.statusCode, 400)
      assert.strictEqual(e.code, "BadRequest")
      assert.include(e.message, "unsupported $filter")
    })

    it("answers Prefer: return=minimal with 204 and Preference-Applied", async () => {
      const raw = await client.api(`${inv()}/p0`).header("Prefer", "return=minimal").responseType(ResponseType.RAW).patch({ sourceId: "m" })
      assert.strictEqual(raw.status, 204)
      assert.strictEqual(raw.headers.get("preference-applied"), "return=minimal")
      assert.isUndefined(await client.api(`${inv()}/p1`).header("Prefer", "return=minimal").patch({ sourceId: "m" }))
      assert.strictEqual((await client.api(`${inv()}/p1`).get()).sourceId, "m")
    })

    it("honours If-Match, surfacing 412 as a GraphError", async () => {
      const got = await client.api(`${inv()}/p2`).get()
      const stale = await graphError(client.api(`${inv()}/p2`).header("If-Match", `W/"stale"`).patch({ sourceId: "x" }))
      assert.strictEqual(stale.statusCode, 412)
      assert.strictEqual(stale.code, "preconditionFailed")
      const ok = await client.api(`${inv()}/p2`).header("If-Match", got["@odata.etag"]).patch({ sourceId: "y" })
      assert.strictEqual(ok.sourceId, "y")
    })

    it("surfaces the error body's code, message, request-id and date", async () => {
      const seed = { "@odata.type": `${G}enrollmentConfigurationAssignment`, target: { "@odata.type": "microsoft.graph.deviceAndAppManagementAssignmentTarget" }, source: "String", sourceId: "Source Id value" }
      const e = await graphError(client.api(`${inv()}/p3`).header("client-request-id", "mine").patch(seed))
      assert.strictEqual(e.statusCode, 400)
      assert.strictEqual(e.code, "BadRequest")
      assert.include(e.message, "policySets")
      assert.strictEqual(e.requestId, e.headers?.get("request-id"))
      assert.strictEqual(e.headers?.get("client-request-id"), "mine")
      assert.isFalse(Number.isNaN(e.date.getTime()))
      assert.strictEqual(JSON.parse(e.body).innerError["client-request-id"], "mine")
      const missing = await graphError(client.api("/invitations/nobody/invitedUser/deviceEnrollmentConfigurations/c1/assignments").get())
      assert.strictEqual(missing.statusCode, 404)
      assert.include(missing.message, "invitation 'nobody' not found")
      const conflict = await graphError(client.api(inv()).post({ id: "p3" }))
      assert.strictEqual(conflict.statusCode, 409)
      assert.strictEqual(conflict.code, "Conflict")
      const wrongMethod = await graphError(client.api(`${inv()}/p3`).put({}))
      assert.strictEqual(wrongMethod.statusCode, 405)
      assert.strictEqual(wrongMethod.code, "MethodNotAllowed")
      const denied = await graphError(clientWith(await s.token({ scopes: ["User.Read.All"] })).api(inv()).get())
      assert.strictEqual(denied.statusCode, 403)
      assert.strictEqual(denied.code, "Authorization_RequestDenied")
      const unauthenticated = await graphError(clientWith("not-a-jwt").api(inv()).get())
      assert.strictEqual(unauthenticated.statusCode, 401)
      assert.strictEqual(unauthenticated.code, "InvalidAuthenticationToken")
    })
  })
})
