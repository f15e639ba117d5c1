/**
 * `$filter` on the uncast directory collections that hold users and groups together,
 * `GET /groups/{id}/members` and `…/transitiveMembers` (and their `/$count`), over real HTTP:
 * Graph takes it there (its docs' `…/members?$count=true&$filter=startswith(displayName, 'a')`,
 * an advanced query), where this service answered 400 "not supported" and only the casts
 * (`…/members/microsoft.graph.user`) took it. The filter reads the properties of both types; a
 * property one type does not have is null on the objects of the other (directoryObject, user and
 * group are open types in Graph's `$metadata`: an absent property is null in a filter). What the
 * filter does not support is still a 400 that says so (SPEC 5).
 */
import { MemoryStore } from "@enrollment/core"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { errorOf, pages as pagesOf, start, type TestServer } from "./support.ts"

describe("$filter on a group's members and transitive members (users and groups together)", () => {
  let s: TestServer
  const get = (path: string, o: { scopes?: ReadonlyArray<string> } = {}) => s.request("GET", path.replaceAll(" ", "%20"), o)
  const ok = (r: { status: number; text: string }, status: number, what = "") => assert.strictEqual(r.status, status, `${what} ${r.text}`)
  const ids = async (path: string) => {
    const r = await get(path)
    ok(r, 200, path)
    return r.json.value.map((o: any) => o.id)
  }
  const pages = (path: string) => pagesOf(s, get, path)

  beforeAll(async () => {
    s = await start({ store: MemoryStore.layer })
    // mx holds users a1, a2, b1 and groups ga, gb; ga holds n1 (reached only through it) and a1 again.
    const users = [
      { id: "a1", displayName: "Ada", userPrincipalName: "ada@contoso.com", mail: "ada@contoso.com", userType: "Member", accountEnabled: true },
      { id: "a2", displayName: "Alan", userPrincipalName: "alan@contoso.com", userType: "Guest", accountEnabled: false },
      { id: "b1", displayName: "Bob", userType: "Member", mailNickname: "bob" },
      { id: "n1", displayName: "Anne", userType: "Guest" }
    ]
    const groups = [
      { id: "mx", displayName: "Mixed" },
      { id: "ga", displayName: "Admins", mailNickname: "admins", securityEnabled: true },
      { id: "gb", displayName: "Builders", mailNickname: "builders", securityEnabled: false }
    ]
    for (const u of users) ok(await s.request("POST", "users", { body: u }), 201)
    for (const g of groups) ok(await s.request("POST", "groups", { body: g }), 201)
    for (const [g, m] of [["mx", "users/a1"], ["mx", "users/a2"], ["mx", "users/b1"], ["mx", "groups/ga"], ["mx", "groups/gb"], ["ga", "users/n1"], ["ga", "users/a1"]]) {
      ok(await s.request("POST", `groups/${g}/members/$ref`, { body: { "@odata.id": m } }), 204)
    }
  })
  afterAll(() => s.close())

  it("keeps the users and groups a filter over both types' properties keeps, as Graph's docs filter members", async () => {
    const cases: ReadonlyArray<[string, ReadonlyArray<string>, ReadonlyArray<string>]> = [
      // [filter, members of mx, transitive members of mx]
      ["startswith(displayName, 'a')", ["a1", "a2", "ga"], ["a1", "a2", "ga", "n1"]],
      ["startsWith(displayName,'A')", ["a1", "a2", "ga"], ["a1", "a2", "ga", "n1"]],
      ["id in ('a1', 'gb', 'nope')", ["a1", "gb"], ["a1", "gb"]],
      ["displayName eq 'builders'", ["gb"], ["gb"]],
      ["displayName eq 'Ada' or displayName eq 'Admins'", ["a1", "ga"], ["a1", "ga"]],
      ["not startswith(displayName,'a')", ["b1", "gb"], ["b1", "gb"]],
      // A property only users have: groups have none, so it is null on them.
      ["userType eq 'Guest'", ["a2"], ["a2", "n1"]],
      ["userPrincipalName eq 'ADA@contoso.com'", ["a1"], ["a1"]],
      ["accountEnabled eq false", ["a2"], ["a2"]],
      ["userType ne 'Guest'", ["a1", "b1", "ga", "gb"], ["a1", "b1", "ga", "gb"]],
      ["userType eq null", ["ga", "gb"], ["ga", "gb"]],
      // One only groups have.
      ["securityEnabled eq true", ["ga"], ["ga"]],
      ["mailNickname eq 'BUILDERS'", ["gb"], ["gb"]],
      ["startswith(displayName,'a') and securityEnabled ne true", ["a1", "a2"], ["a1", "a2", "n1"]],
      // One both have in Graph, modelled here on groups and kept as sent on users: compared on both.
      ["mailNickname in ('BOB', 'builders')", ["b1", "gb"], ["b1", "gb"]]
    ]
    for (const [f, direct, transitive] of cases) {
      const q = encodeURIComponent(f)
      assert.deepStrictEqual(await ids(`groups/mx/members?$filter=${q}`), direct, f)
      assert.deepStrictEqual(await ids(`groups/mx/transitiveMembers?$filter=${q}`), transitive, `transitive: ${f}`)
    }
  })

  it("counts what the filter keeps, with $count=true and /$count, and pages through it", async () => {
    const f = encodeURIComponent("startswith(displayName,'a')")
    const r = await get(`groups/mx/members?$filter=${f}&$count=true&$top=2`)
    ok(r, 200)
    assert.strictEqual(r.json["@odata.context"], `${s.base}/$metadata#directoryObjects`)
    assert.strictEqual(r.json["@odata.count"], 3)
    assert.include(r.json["@odata.nextLink"], "$filter=")
    assert.deepStrictEqual((await pages(`groups/mx/members?$filter=${f}&$top=2`)).ids, [["a1", "a2"], ["ga"]])
    assert.deepStrictEqual((await pages(`groups/mx/transitiveMembers?$filter=${f}&$top=3`)).ids, [["a1", "a2", "ga"], ["n1"]])
    assert.strictEqual((await get(`groups/mx/members/$count?$filter=${f}`)).text, "3")
    assert.strictEqual((await get(`groups/mx/transitiveMembers/$count?$filter=${f}`)).text, "4")
    assert.strictEqual((await get("groups/mx/transitiveMembers/$count")).text, "6")
    // Each object whole, as without the filter; $select still chooses its members.
    const { "@odata.context": _, ...ada } = (await get("users/a1")).json
    assert.deepStrictEqual((await get("groups/mx/members?$filter=id eq 'a1'")).json.value, [ada])
    const selected = await get(`groups/mx/members?$filter=${f}&$select=displayName,securityEnabled`)
    assert.deepStrictEqual(selected.json.value.map((o: any) => [o.id, o.displayName, o.securityEnabled]), [
      ["a1", "Ada", undefined],
      ["a2", "Alan", undefined],
      ["ga", "Admins", true]
    ])
  })

  it("reads property names in any case, and keeps the other checks: the group, the permission, the tenant", async () => {
    assert.deepStrictEqual(await ids(`groups/mx/members?$filter=${encodeURIComponent("UserType eq 'Guest'")}`), ["a2"])
    assert.deepStrictEqual(await ids(`groups('mx')/transitivemembers?filter=${encodeURIComponent("SecurityEnabled eq true")}`), ["ga"])
    ok(await get("groups/nope/members?$filter=id eq 'a1'"), 404)
    ok(await get("groups/nope/transitiveMembers?$filter=id eq 'a1'"), 404)
    ok(await get("groups/mx/members?$filter=id eq 'a1'", { scopes: ["User.Read.All"] }), 403)
    assert.deepStrictEqual((await s.request("GET", "groups/mx/members?$filter=id%20eq%20'a1'", { tenant: "tenant-b" })).status, 404)
  })

  it("refuses what it does not support with a 400 that says so, naming what it supports", async () => {
    const cases: ReadonlyArray<[string, string]> = [
      ["surname eq 'x'", "'surname' is not a property that can be filtered on"],
      ["displayName gt 'a'", "expected eq, ne or in after displayName"],
      ["accountEnabled eq 'yes'", "accountEnabled is boolean: compare it with true or false"],
      ["endswith(mail,'@contoso.com')", "'endswith' is not a property that can be filtered on"],
      ["isof('microsoft.graph.user')", "'isof' is not a property that can be filtered on"]
    ]
    for (const path of ["groups/mx/members", "groups/mx/transitiveMembers", "groups/mx/members/$count"]) {
      for (const [f, message] of cases) {
        const r = await get(`${path}?$filter=${encodeURIComponent(f)}`)
        ok(r, 400, `${path} ${f}`)
        const e = errorOf(r)
        assert.strictEqual(e.code, "BadRequest")
        assert.include(e.message, message, f)
        assert.include(e.message, "supported: p eq v", f)
        for (const p of ["userType", "securityEnabled", "displayName"]) assert.include(e.message, p, f)
      }
    }
    // The references take no filter: a reference has no properties.
    ok(await get("groups/mx/members/$ref?$filter=id eq 'a1'"), 400)
  })

  it("describes the option in the OpenAPI document, over both types' properties", async () => {
    const doc = (await s.request("GET", "openapi.json", { token: null })).json
    for (const path of ["members", "members/$count", "transitiveMembers", "transitiveMembers/$count"]) {
      const op = doc.paths[`/beta/groups/{groupId}/${path}`].get
      const filter = op.parameters.find((p: any) => p.name === "$filter")
      assert.isDefined(filter, path)
      for (const p of ["userType", "accountEnabled", "securityEnabled", "mailNickname"]) assert.include(filter.description, p, path)
    }
  })
})
