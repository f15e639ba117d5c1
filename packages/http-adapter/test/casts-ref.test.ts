/**
 * `$ref` under a type cast, over real HTTP: `GET /groups/{id}/members/microsoft.graph.user/$ref`
 * lists the references of the cast's members as `GET …/members/$ref` lists all of them (it was a
 * 405: the cast was read as a member id, and `$ref` as the DELETE-only route). Elsewhere a `$ref`
 * under a cast is a 404 naming `$ref`, as the uncast `$ref` is there; other methods are a 405
 * naming what the path allows; a DELETE still removes the member whose id the segment spells.
 */
import { MemoryStore } from "@enrollment/core"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { errorOf, pages as pagesOf, start, type TestServer } from "./support.ts"

describe("$ref under a type cast", () => {
  let s: TestServer
  const get = (path: string, o: { scopes?: ReadonlyArray<string> } = {}) => s.request("GET", path, o)
  const ok = (r: { status: number; text: string }, status: number, what = "") => assert.strictEqual(r.status, status, `${what} ${r.text}`)
  const ref = (id: string) => ({ "@odata.id": `${s.base}/directoryObjects/${encodeURIComponent(id)}` })
  /** Every page from `path` on, following each next link: the `@odata.id`s of each page, and the links. */
  const pages = (path: string) => pagesOf(s, get, path)
  // rg holds users r0, r2, r4, r6 (one of them named with a space) and groups r1, r3, r5.
  const users = ["r0", "r2", "r4 x", "r6"]
  const groups = ["r1", "r3", "r5"]

  beforeAll(async () => {
    s = await start({ store: MemoryStore.layer })
    ok(await s.request("POST", "groups", { body: { id: "rg" } }), 201)
    for (const id of [...users, ...groups].sort()) {
      ok(await s.request("POST", users.includes(id) ? "users" : "groups", { body: { id } }), 201)
      ok(await s.request("POST", "groups/rg/members/$ref", { body: ref(id) }), 204)
    }
  })
  afterAll(() => s.close())

  it("lists the references of a cast's members on members, as members/$ref lists all: paged, counted, in both spellings", async () => {
    const all = await get("groups/rg/members/$ref")
    const r = await get("groups/rg/members/microsoft.graph.user/$ref?$count=true")
    ok(r, 200)
    assert.deepStrictEqual(r.json, {
      "@odata.context": `${s.base}/$metadata#Collection($ref)`,
      "@odata.count": users.length,
      value: users.map(ref)
    })
    assert.deepStrictEqual(all.json.value.filter((x: any) => r.json.value.some((y: any) => y["@odata.id"] === x["@odata.id"])), r.json.value)
    const g = await get("groups('rg')/members/graph.group/$ref")
    ok(g, 200)
    assert.deepStrictEqual(g.json.value, groups.map(ref))
    // Pages of the cast's size, each next link the path as sent, cast and spelling included.
    const paged = await pages("groups/rg/members/graph.user/$ref?$top=3")
    assert.deepStrictEqual(paged.ids, [users.slice(0, 3).map((id) => ref(id)["@odata.id"]), users.slice(3).map((id) => ref(id)["@odata.id"])])
    for (const l of paged.links) assert.isTrue(l.startsWith(`${s.base}/groups/rg/members/graph.user/$ref?$top=3&$skiptoken=`), l)
    // The references name what they name: added to another group, they make its members the cast's.
    ok(await s.request("POST", "groups", { body: { id: "rcopy" } }), 201)
    for (const x of r.json.value) ok(await s.request("POST", "groups/rcopy/members/$ref", { body: x }), 204)
    assert.deepStrictEqual((await get("groups/rcopy/members?$select=id")).json.value.map((m: any) => m.id), users)
    // A cast to a type the directory holds none of: no references.
    const devices = await get("groups/rg/members/microsoft.graph.device/$ref?$count=true")
    ok(devices, 200)
    assert.deepStrictEqual(devices.json, { "@odata.context": `${s.base}/$metadata#Collection($ref)`, "@odata.count": 0, value: [] })
    for (const type of ["servicePrincipal", "orgContact", "application"]) assert.deepStrictEqual((await get(`groups/rg/members/graph.${type}/$ref`)).json.value, [], type)
    // Checked as members/$ref is: the group, the permission, no properties to select or filter.
    for (const p of ["groups/nope/members/microsoft.graph.user/$ref", "groups/nope/members/graph.device/$ref"]) {
      const missing = await get(p)
      ok(missing, 404, p)
      assert.strictEqual(errorOf(missing).message, errorOf(await get("groups/nope/members/$ref")).message, p)
    }
    ok(await get("groups/r0/members/microsoft.graph.group/$ref"), 404, "r0 is a user")
    ok(await get("groups/rg/members/microsoft.graph.user/$ref", { scopes: ["User.Read.All"] }), 403)
    ok(await get("groups/rg/members/microsoft.graph.user/$ref?$select=id"), 400)
    ok(await get("groups/rg/members/microsoft.graph.user/$ref?$filter=id eq 'r0'"), 400)
    ok(await s.request("HEAD", "groups/rg/members/microsoft.graph.group/$ref"), 200)
  })

  it("answers a $ref under a cast elsewhere as the uncast $ref there (404 naming $ref), other methods with 405, and a DELETE as before", async () => {
    // Graph has no references on transitiveMembers, memberOf or transitiveMemberOf (read-only, computed): neither has this.
    for (const p of [
      "groups/rg/transitiveMembers/$ref",
      "groups/rg/transitiveMembers/microsoft.graph.user/$ref",
      "groups/rg/transitiveMembers/graph.device/$ref",
      "users/r0/memberOf/$ref",
      "users/r0/memberOf/microsoft.graph.group/$ref",
      "users/r0/transitiveMemberOf/graph.directoryRole/$ref",
      "groups/r1/memberOf/microsoft.graph.administrativeUnit/$ref"
    ]) {
      const r = await get(p)
      ok(r, 404, p)
      assert.strictEqual(errorOf(r).code, "itemNotFound", p)
      assert.strictEqual(errorOf(r).message, "Resource not found for the segment '$ref'", p)
    }
    // A cast's $ref is read-only; its Allow names the GET and the DELETE that reach the path.
    for (const method of ["POST", "PATCH", "PUT"]) {
      const r = await s.request(method, "groups/rg/members/microsoft.graph.user/$ref", { body: ref("r0") })
      ok(r, 405, method)
      assert.strictEqual(errorOf(r).code, "MethodNotAllowed")
      assert.sameMembers(r.headers.get("allow")!.split(", "), ["GET", "HEAD", "DELETE"], method)
      assert.include(errorOf(r).message, `'${method}'`)
    }
    // Ids are any string here: a member whose id is a cast's segment is still removed by its own path.
    for (const id of ["microsoft.graph.user", "graph.device"]) {
      ok(await s.request("POST", "users", { body: { id } }), 201)
      ok(await s.request("POST", "groups/rg/members/$ref", { body: ref(id) }), 204)
    }
    assert.deepStrictEqual((await get("groups/rg/members/microsoft.graph.user/$ref")).json.value, ["graph.device", "microsoft.graph.user", ...users].map(ref))
    ok(await s.request("DELETE", "groups/rg/members/microsoft.graph.user/$ref"), 204)
    ok(await s.request("DELETE", "groups/rg/members/graph.device/$ref"), 204)
    const gone = await s.request("DELETE", "groups/rg/members/graph.device/$ref")
    ok(gone, 404)
    assert.strictEqual(errorOf(gone).code, "itemNotFound")
    assert.deepStrictEqual((await get("groups/rg/members/microsoft.graph.user/$ref")).json.value, users.map(ref))
    // An OData segment is never an id, whatever the method: a PATCH of …/assignments/$count stays a 405.
    ok(await s.request("POST", "deviceManagement/deviceEnrollmentConfigurations", {
      body: { "@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration", id: "c1", limit: 1 }
    }), 201)
    const patch = await s.request("PATCH", "deviceManagement/deviceEnrollmentConfigurations/c1/assignments/$count", { body: {} })
    ok(patch, 405)
    assert.strictEqual(patch.headers.get("allow"), "GET, HEAD")
  })
})
