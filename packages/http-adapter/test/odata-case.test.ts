/**
 * Property names in `$select`, `$expand` and `$filter` are read without regard to case, as
 * Graph's OData layer reads them (`$select=DisplayName` works on Graph), and stand for the
 * declared names: the answer's members are the declared names (`displayName`), whatever case
 * the query wrote. Unknown names are still a 400 in any case, and values keep their rules
 * (an enum member's case still matters). On a real server, and through Microsoft's Graph
 * JavaScript client.
 */
import { MemoryStore } from "@enrollment/core"
import type { Client, GraphError } from "@microsoft/microsoft-graph-client"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import * as OData from "../src/OData.ts"
import { errorOf, graphClient, selfSigned, start, succeeds, type TestServer } from "./support.ts"

const G = "#microsoft.graph."
const cfgs = "deviceManagement/deviceEnrollmentConfigurations"

/** The members of an answer's entity besides the annotations. */
const own = (e: Record<string, unknown>) => Object.keys(e).filter((k) => !k.startsWith("@odata."))

describe("property names in query options, in any case", () => {
  let s: TestServer
  let client: Client
  beforeAll(async () => {
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0"
    s = await start({ store: MemoryStore.layer, tls: selfSigned() })
    const ok = (method: string, path: string, body: unknown) => succeeds(s, method, path, body)
    await ok("POST", cfgs, { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: "c1", displayName: "One", priority: 1, limit: 5 })
    await ok("POST", `${cfgs}/c1/assignments`, { id: "a1", target: { "@odata.type": `${G}groupAssignmentTarget`, groupId: "g1" } })
    await ok("POST", `${cfgs}/c1/assignments`, { id: "a2", target: { "@odata.type": `${G}allLicensedUsersAssignmentTarget` }, source: "policySets", sourceId: "p1" })
    await ok("POST", "users", { id: "u1", displayName: "Una", userPrincipalName: "una@example.com", mail: "una@example.com" })
    await ok("POST", "users", { id: "u2", displayName: "Ben" })
    await ok("POST", "groups", { id: "g1", displayName: "Outer" })
    await ok("POST", "groups", { id: "g2", displayName: "Inner" })
    await ok("POST", "groups/g1/members/$ref", { "@odata.id": "/groups/g2" })
    await ok("POST", "groups/g2/members/$ref", { "@odata.id": "/users/u1" })
    await ok("POST", "groups/g2/members/$ref", { "@odata.id": "/users/u2" })
    const token = await s.token()
    client = graphClient(s, token)
  })
  afterAll(async () => {
    await s?.close()
  })

  it("selects by $select names in any case, and answers with the declared names", async () => {
    const user = await s.request("GET", "users/u1?$select=DisplayName,USERPRINCIPALNAME")
    assert.strictEqual(user.status, 200, user.text)
    assert.deepStrictEqual(own(user.json), ["id", "displayName", "userPrincipalName"])
    assert.deepStrictEqual([user.json.displayName, user.json.userPrincipalName], ["Una", "una@example.com"])

    const users = await s.request("GET", "users?$select=displayname")
    assert.strictEqual(users.status, 200, users.text)
    assert.deepStrictEqual(users.json.value.map((u: any) => [own(u), u.displayName]), [[["id", "displayName"], "Una"], [["id", "displayName"], "Ben"]])

    const assignments = await s.request("GET", `${cfgs}/c1/assignments?$select=Source,SOURCEID`)
    assert.strictEqual(assignments.status, 200, assignments.text)
    assert.deepStrictEqual(assignments.json.value.map((a: any) => [own(a), a.source, a.sourceId]), [
      [["id", "source", "sourceId"], "direct", null],
      [["id", "source", "sourceId"], "policySets", "p1"]
    ])

    // A configuration: its base properties in any case; the same answer (and ETag) as the declared spelling's.
    const declared = await s.request("GET", `${cfgs}/c1?$select=displayName,priority`)
    const anyCase = await s.request("GET", `${cfgs}/c1?$select=DisplayName,Priority`)
    assert.strictEqual(anyCase.status, 200, anyCase.text)
    assert.deepStrictEqual(anyCase.json, declared.json)
    assert.strictEqual(anyCase.headers.get("etag"), declared.headers.get("etag"))

    // A type cast's members, and a member of a group (a directory object), the same.
    const members = await s.request("GET", "groups/g2/transitiveMembers/microsoft.graph.user?$select=MAIL")
    assert.strictEqual(members.status, 200, members.text)
    assert.deepStrictEqual(members.json.value.map((u: any) => own(u)), [["id", "mail"], ["id", "mail"]])
  })

  it("still refuses a name that is no property in any case (and a write-only one)", async () => {
    for (const path of ["users/u1?$select=Bogus", "users/u1?$select=PasswordProfile", `${cfgs}/c1/assignments?$select=TARGETS`]) {
      const r = await s.request("GET", path)
      assert.strictEqual(r.status, 400, path)
      assert.include(errorOf(r).message, "is not a property of this resource", path)
    }
  })

  it("expands a navigation property named in any case, under its declared name", async () => {
    const declared = await s.request("GET", `${cfgs}/c1?$expand=assignments`)
    for (const q of ["$expand=Assignments", "$expand=ASSIGNMENTS&$select=DisplayName"]) {
      const r = await s.request("GET", `${cfgs}/c1?${q}`)
      assert.strictEqual(r.status, 200, `${q}: ${r.text}`)
      assert.deepStrictEqual(r.json.assignments, declared.json.assignments, q)
      assert.strictEqual(r.json["assignments@odata.context"], declared.json["assignments@odata.context"], q)
      assert.notProperty(r.json, "Assignments")
    }
    const inside = await s.request("GET", `${cfgs}/c1?$expand=Assignments($select=id)`)
    assert.strictEqual(inside.status, 400)
    assert.include(errorOf(inside).message, "expand 'assignments' whole")
  })

  it("filters by property names in any case: the assignment subset and the directory's", async () => {
    const ids = async (path: string) => {
      const r = await s.request("GET", path)
      assert.strictEqual(r.status, 200, `${path}: ${r.text}`)
      return r.json.value.map((x: any) => x.id)
    }
    const q = (f: string) => `$filter=${encodeURIComponent(f)}`
    assert.deepStrictEqual(await ids(`${cfgs}/c1/assignments?${q("Source eq 'policySets'")}`), ["a2"])
    assert.deepStrictEqual(await ids(`${cfgs}/c1/assignments?${q("SOURCEID eq 'p1' or Target/GroupId eq 'g1'")}`), ["a1", "a2"])
    assert.deepStrictEqual(await ids(`${cfgs}/c1/assignments?${q(`isof(Target, microsoft.graph.groupAssignmentTarget)`)}`), ["a1"])
    // a2's all-licensed-users target has no groupId: null, as OData reads it.
    const count = await s.request("GET", `${cfgs}/c1/assignments/$count?${q("target/GROUPID eq null")}`)
    assert.strictEqual(count.text, "1")
    assert.deepStrictEqual(await ids(`users?${q("DisplayName eq 'una' or startswith(USERPRINCIPALNAME,'una')")}`), ["u1"])
    assert.deepStrictEqual(await ids(`groups/g1/transitiveMembers/microsoft.graph.user?${q("displayname eq 'ben'")}`), ["u2"])
    // Values keep their rules: an enum's member is matched as declared (a 400 naming the members).
    const member = await s.request("GET", `${cfgs}/c1/assignments?${q("Source eq 'Direct'")}`)
    assert.strictEqual(member.status, 400)
    assert.include(errorOf(member).message, "'Direct' is not a value of source")
    const unknown = await s.request("GET", `users?${q("Surname eq 'x'")}`)
    assert.strictEqual(unknown.status, 400)
    assert.include(errorOf(unknown).message, "'Surname' is not a property that can be filtered on")
  })

  it("reads $count's true and false in any case, as OData's literals are (`$count=TRUE`)", async () => {
    for (const [value, counted] of [["TRUE", true], ["True", true], ["FALSE", false], ["true", true]] as const) {
      const r = await s.request("GET", `users?$count=${value}`)
      assert.strictEqual(r.status, 200, r.text)
      assert.strictEqual(r.json["@odata.count"], counted ? 2 : undefined, value)
    }
    const bad = await s.request("GET", "users?$count=yes")
    assert.strictEqual(bad.status, 400)
    assert.include(errorOf(bad).message, "$count: expected true or false, got 'yes'")
  })

  it("serves the Graph JavaScript client's select, expand and filter written in another case", async () => {
    const user = await client.api("/users/u1").select(["DisplayName", "Mail"]).get()
    assert.deepStrictEqual(own(user), ["id", "displayName", "mail"])
    assert.strictEqual(user.displayName, "Una")
    const listed = await client.api("/users").select("DISPLAYNAME").filter("DisplayName eq 'ben'").get()
    assert.deepStrictEqual(listed.value, [{ "@odata.etag": listed.value[0]["@odata.etag"], "@odata.type": `${G}user`, id: "u2", displayName: "Ben" }])
    const expanded = await client.api(`/${cfgs}/c1`).expand("Assignments").select("DisplayName").get()
    assert.deepStrictEqual(expanded.assignments.map((a: any) => a.id), ["a1", "a2"])
    assert.strictEqual(expanded.displayName, "One")
    try {
      await client.api("/users/u1").select("Bogus").get()
      assert.fail("expected a 400")
    } catch (e) {
      assert.strictEqual((e as GraphError).statusCode, 400)
    }
  })
})

describe("OData.parseQuery, $select's names", () => {
  it("keeps each name once, however often and however spelled it was sent, in the order first selected", () => {
    const selectable = ["id", "displayName", "mail"]
    const r = OData.parseQuery(`$select=${["mail", "id", "DisplayName", "mail", "displayname", ...Array(500).fill("id")].join(",")}`, "collection", selectable)
    assert.deepStrictEqual(r.ok && r.query.select, ["mail", "id", "displayName"])
  })
})

describe("OData.parseQuery, names that differ only in case", () => {
  it("takes a name as declared first, and refuses one that folds to several declared names", () => {
    const selectable = ["id", "displayName", "DisplayName"]
    const exact = OData.parseQuery("$select=DisplayName,displayName", "collection", selectable)
    assert.deepStrictEqual(exact.ok && exact.query.select, ["DisplayName", "displayName"])
    const folded = OData.parseQuery("$select=displayname", "collection", selectable)
    assert.isFalse(folded.ok)
    if (!folded.ok) assert.include(folded.problem.message, "names 'displayName' and 'DisplayName', which differ only in case")
    const filter = OData.parseQuery("$filter=DISPLAYNAME eq 'x'", "directory", selectable, undefined, undefined, { displayName: "string", DisplayName: "string" })
    assert.isFalse(filter.ok)
    if (!filter.ok) assert.include(filter.problem.message, "differ only in case")
  })
})
