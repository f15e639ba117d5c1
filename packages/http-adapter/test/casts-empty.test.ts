/**
 * Type casts to the directory types Graph allows on a collection that this directory holds
 * none of (`…/members/microsoft.graph.device`, `…/memberOf/microsoft.graph.directoryRole`), over
 * real HTTP: an empty list under the type's own set, and a `/$count` of 0, after the checks a
 * cast to users or groups makes (the parent exists, the permission, the query options against
 * the type's properties). A name that is no type, or a type Graph does not offer there, is
 * still a 404. And the types' properties, checked against the installed beta SDK's models.
 */
import { MemoryStore } from "@enrollment/core"
import * as Models from "@microsoft/msgraph-beta-sdk/models/index.js"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { calls, isEntity, type Serialize } from "./SdkModels.ts"
import { OData, Routes } from "../src/index.ts"
import { errorOf, start, type TestServer } from "./support.ts"

/** The casts Graph offers beyond users and groups, where each is offered, and the entity set each is written under. */
const onMembers = { application: "applications", device: "devices", orgContact: "contacts", servicePrincipal: "servicePrincipals" }
const onMemberOf = { administrativeUnit: "administrativeUnits", directoryRole: "directoryRoles" }
/** Every collection path such a cast is on, with the casts it takes: a group `g` holding user `u` and group `h`. */
const collections: ReadonlyArray<readonly [string, Readonly<Record<string, string>>]> = [
  ["groups/g/members", onMembers],
  ["groups/g/transitiveMembers", onMembers],
  ["users/u/memberOf", onMemberOf],
  ["users/u/transitiveMemberOf", onMemberOf],
  ["groups/h/memberOf", onMemberOf],
  ["groups/h/transitiveMemberOf", onMemberOf]
]

describe("a cast to a directory type this directory holds none of", () => {
  let s: TestServer
  const get = (path: string, o: { scopes?: ReadonlyArray<string>; tenant?: string } = {}) => s.request("GET", path, o)
  const ok = (r: { status: number; text: string }, status: number, what = "") => assert.strictEqual(r.status, status, `${what} ${r.text}`)

  beforeAll(async () => {
    s = await start({ store: MemoryStore.layer })
    ok(await s.request("POST", "users", { body: { id: "u", displayName: "U" } }), 201)
    for (const id of ["g", "h"]) ok(await s.request("POST", "groups", { body: { id, displayName: id.toUpperCase() } }), 201)
    for (const m of ["users/u", "groups/h"]) ok(await s.request("POST", "groups/g/members/$ref", { body: { "@odata.id": m } }), 204)
  })
  afterAll(() => s.close())

  it("answers 200 with an empty list under the type's set, a count of 0 and a /$count of 0, in both spellings and key forms", async () => {
    for (const [coll, casts] of collections) {
      // What the collection holds: users and groups (the casts to them are not empty).
      ok(await get(coll), 200, coll)
      for (const [type, set] of Object.entries(casts)) {
        for (const path of [`${coll}/microsoft.graph.${type}`, `${coll}/graph.${type}`, `${coll.replace(/^(\w+)\/(\w+)/, "$1('$2')")}/microsoft.graph.${type}`]) {
          const r = await get(path)
          ok(r, 200, path)
          assert.deepStrictEqual(r.json, { "@odata.context": `${s.base}/$metadata#${set}`, value: [] }, path)
          const counted = await get(`${path}?$count=true&$top=5`)
          ok(counted, 200, path)
          assert.deepStrictEqual(counted.json, { "@odata.context": `${s.base}/$metadata#${set}`, "@odata.count": 0, value: [] }, path)
          const count = await get(`${path}/$count`)
          ok(count, 200, path)
          assert.strictEqual(count.text, "0", path)
          assert.match(count.headers.get("content-type")!, /^text\/plain/, path)
        }
      }
    }
    assert.strictEqual((await get("groups/g/members/microsoft.graph.user/$count")).text, "1", "u is a member: the user cast still finds it")
  })

  it("checks it as a cast to users is checked: the parent, the permission, the ids and the type's query options", async () => {
    // A missing parent, one of the other kind, one of another tenant: the same 404 as the user cast's.
    for (const [cast, served] of [
      ["groups/nope/members/microsoft.graph.device", "groups/nope/members/microsoft.graph.user"],
      ["groups/nope/transitiveMembers/graph.servicePrincipal/$count", "groups/nope/transitiveMembers/graph.user/$count"],
      ["groups/u/members/microsoft.graph.orgContact", "groups/u/members/microsoft.graph.user"],
      ["users/nope/memberOf/microsoft.graph.directoryRole", "users/nope/memberOf/microsoft.graph.group"],
      ["users/h/transitiveMemberOf/microsoft.graph.administrativeUnit", "users/h/transitiveMemberOf/microsoft.graph.group"],
      ["groups/u/memberOf/microsoft.graph.directoryRole/$count", "groups/u/memberOf/microsoft.graph.group/$count"]
    ] as const) {
      const [r, t] = [await get(cast), await get(served)]
      ok(r, 404, cast)
      assert.deepStrictEqual([errorOf(r).code, errorOf(r).message], [errorOf(t).code, errorOf(t).message], cast)
    }
    ok(await get("groups/g/members/microsoft.graph.device", { tenant: "tenant-b" }), 404, "another tenant's group")
    // The permission of the cast to users: one that reads groups and one that reads users (a group's
    // members and a user's memberships tell of users; since 0.16.0).
    for (const scopes of [["User.Read.All"], ["Group.Read.All"]]) {
      const denied = await get("groups/g/members/microsoft.graph.device", { scopes })
      ok(denied, 403)
      assert.strictEqual(errorOf(denied).code, "Authorization_RequestDenied")
      ok(await get("users/u/memberOf/microsoft.graph.directoryRole/$count", { scopes }), 403)
    }
    ok(await get("groups/g/members/microsoft.graph.device", { scopes: ["GroupMember.Read.All", "Group.Read.All", "User.Read.All"] }), 200)
    ok(await get("groups/g/members/microsoft.graph.device", { scopes: ["Directory.Read.All"] }), 200)
    // A malformed id is a 400, as on every path.
    ok(await get("groups/a%01b/members/microsoft.graph.device"), 400)
    // The type's own properties: $select and $filter of a device, not of a group.
    for (const q of ["$select=displayName,deviceId,isCompliant,extensionAttributes", "$select=*", "$filter=operatingSystem eq 'Windows' and isCompliant eq true", "$filter=startswith(displayName,'x')", `$top=999&$skiptoken=${OData.skipToken("x", OData.listOf("/groups/{groupId}/members/microsoft.graph.device"))}`]) {
      ok(await get(`groups/g/members/microsoft.graph.device?${q}`), 200, q)
    }
    ok(await get("users/u/memberOf/microsoft.graph.directoryRole?$select=roleTemplateId&$filter=displayName eq 'Global Administrator'"), 200)
    ok(await get("groups/g/transitiveMembers/graph.device/$count?$filter=accountEnabled eq false"), 200)
    for (const [q, says] of [
      ["$select=securityEnabled", "securityEnabled"],
      ["$select=registeredOwners", "registeredOwners"],
      ["$filter=securityEnabled eq true", "securityEnabled"],
      ["$filter=extensionAttributes eq 'x'", "extensionAttributes"],
      ["$filter=isCompliant eq 'yes'", "isCompliant"],
      ["$top=0", "$top"],
      ["$skiptoken=!", "$skiptoken"],
      ["$expand=memberOf", "$expand"],
      ["$orderby=displayName", "$orderby"]
    ] as const) {
      const r = await get(`groups/g/members/microsoft.graph.device?${q}`)
      ok(r, 400, q)
      assert.strictEqual(errorOf(r).code, "BadRequest", q)
      assert.include(errorOf(r).message, says, q)
    }
    ok(await get("users/u/memberOf/microsoft.graph.administrativeUnit?$select=deviceId"), 400)
    ok(await get("groups/g/members/microsoft.graph.device/$count?$top=1"), 400, "/$count takes $filter alone")
    // Read-only, as the casts to users and groups are.
    const post = await s.request("POST", "groups/g/members/microsoft.graph.device", { body: {} })
    ok(post, 405)
    assert.include(post.headers.get("allow")!, "GET")
    // A name that is no type, a type Graph does not offer on the collection: as before, a 404 naming the segment.
    for (const p of [
      "groups/g/members/microsoft.graph.Device",
      "groups/g/members/microsoft.graph.administrativeUnit",
      "groups/g/members/microsoft.graph.directoryObject",
      "groups/g/transitiveMembers/microsoft.graph.directoryRole/$count",
      "users/u/memberOf/microsoft.graph.user",
      "users/u/memberOf/microsoft.graph.device",
      "groups/h/transitiveMemberOf/graph.servicePrincipal"
    ]) {
      const r = await get(p)
      ok(r, 404, p)
      assert.strictEqual(errorOf(r).code, "itemNotFound", p)
      assert.include(errorOf(r).message, `Resource not found for the segment '${p.split("/")[3]}'`, p)
    }
  })

  it("is described once in the OpenAPI document, naming the alias, with the type's $filter and the type as its items", async () => {
    const doc = (await s.request("GET", "/beta/openapi.json", { token: null })).json
    for (const [coll, casts] of [["/groups/{groupId}/members", onMembers], ["/users/{userId}/transitiveMemberOf", onMemberOf]] as const) {
      for (const type of Object.keys(casts)) {
        const list = doc.paths[`/beta${coll}/microsoft.graph.${type}`]?.get
        assert.ok(list, `${coll}/microsoft.graph.${type}`)
        assert.include(list.description, `/beta${coll}/graph.${type}`)
        assert.strictEqual(list.responses["200"].content["application/json"].schema.properties.value.items.allOf[0].$ref, `#/components/schemas/${type}`)
        assert.include(list.parameters.find((p: any) => p.name === "$filter").description, "displayName")
        assert.ok(doc.paths[`/beta${coll}/microsoft.graph.${type}/$count`]?.get, `${coll}/microsoft.graph.${type}/$count`)
        assert.notProperty(doc.paths, `/beta${coll}/graph.${type}`)
      }
    }
    assert.deepStrictEqual(doc.components.schemas.device.properties["@odata.type"].enum, ["#microsoft.graph.device"])
  })
})

// ----- the types' properties, from the SDK's generated models ----------------------

/** A type's structural properties by kind: strings, Booleans, and the others (navigation properties left out). */
const declared = (serialize: Serialize) => {
  const out = { strings: [] as Array<string>, booleans: [] as Array<string>, others: [] as Array<string> }
  for (const c of calls(serialize)) {
    if (c.method === "writeAdditionalData" || c.name === "@odata.type") continue
    if ((c.method === "writeObjectValue" || c.method === "writeCollectionOfObjectValues") && isEntity(c.serializer)) continue
    out[c.method === "writeStringValue" ? "strings" : c.method === "writeBooleanValue" ? "booleans" : "others"].push(String(c.name))
  }
  return out
}

describe("the directory types this directory holds none of", () => {
  it("have the properties the installed beta SDK's models write, by kind", () => {
    const serializers: Record<Routes.TypeNotHeld, Serialize> = {
      application: Models.serializeApplication as Serialize,
      device: Models.serializeDevice as Serialize,
      orgContact: Models.serializeOrgContact as Serialize,
      servicePrincipal: Models.serializeServicePrincipal as Serialize,
      directoryRole: Models.serializeDirectoryRole as Serialize,
      administrativeUnit: Models.serializeAdministrativeUnit as Serialize
    }
    assert.sameMembers(Object.keys(Routes.typesNotHeld), Object.keys(serializers))
    for (const [type, serialize] of Object.entries(serializers)) {
      const fromSdk = declared(serialize)
      const table = Routes.typesNotHeld[type as Routes.TypeNotHeld]
      for (const kind of ["strings", "booleans", "others"] as const) {
        assert.deepStrictEqual([...table[kind]].sort(), fromSdk[kind].sort(), `${type} ${kind}: the SDK changed; update Routes.typesNotHeld`)
      }
    }
  })
})
