/**
 * A user principal name is unique in its tenant, and an invitation of an address already invited
 * reuses its guest (core 0.11.0), over real HTTP on every store (PostgreSQL when DATABASE_URL is
 * set): the 400 in Graph's shape (`BadRequest`, its message, an `ObjectConflict` detail on
 * `userPrincipalName`) for a POST or a PATCH that takes another user's name in any case, nothing
 * written; an invitation of the address linked to the guest made before; and 50 concurrent creates
 * (and invitations) of one name against two servers on one store leave exactly one user.
 */
import { PgClient } from "@effect/sql-pg"
import { MemoryStore, type Store } from "@enrollment/core"
import { PostgresStore, SqliteStore } from "@enrollment/store-adapter"
import { Effect, Layer, Redacted } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { errorOf, start, type TestServer } from "./support.ts"

const message = "Another object with the same value for property userPrincipalName already exists."
const url = process.env.DATABASE_URL
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "http-upn-"))
const schema = `http_upn_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 7)}`

/** Each store, and how to make a second server's store over the same data (another connection or pool). */
const stores: ReadonlyArray<readonly [name: string, make: () => Layer.Layer<Store>, shared: boolean]> = [
  ["memory", () => MemoryStore.layer, false],
  ["SQLite", () => SqliteStore.layer({ filename: path.join(dir, "upn.sqlite") }) as Layer.Layer<Store>, true],
  ...(url === undefined || url === ""
    ? []
    : [["PostgreSQL", () => PostgresStore.layer({ url, schema, maxConnections: 8 }) as Layer.Layer<Store>, true] as const])
]

afterAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true })
  if (url === undefined || url === "") return
  await Effect.runPromise(
    Effect.gen(function*() {
      const sql = yield* PgClient.PgClient
      yield* sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).unprepared
    }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: 1 })))
  )
})

/** The answer is the principal name's conflict, exactly as Graph writes it. */
const isConflict = (r: { status: number; text: string; json: any; headers: Headers }, what: string) => {
  assert.strictEqual(r.status, 400, `${what}: ${r.text}`)
  const e = errorOf(r)
  assert.strictEqual(e.code, "BadRequest", what)
  assert.strictEqual(e.message, message, what)
  assert.deepStrictEqual(r.json.error.details, [{ code: "ObjectConflict", message, target: "userPrincipalName" }], what)
}

for (const [name, make, shared] of stores) {
  describe(`user principal names on ${name}`, () => {
    let s: TestServer
    let t = 0
    /** A tenant of the test's own. */
    const tenant = () => `tenant-upn-${name}-${t++}-${Math.random().toString(36).slice(2, 7)}`
    beforeAll(async () => {
      s = await start({ store: make() })
    })
    afterAll(() => s.close())

    it("refuses a second user of one userPrincipalName in any case with Graph's 400 and writes nothing", async () => {
      const tn = tenant()
      const first = await s.request("POST", "users", { tenant: tn, body: { id: "u1", displayName: "Ada", userPrincipalName: "Ada@Contoso.com" } })
      assert.strictEqual(first.status, 201, first.text)
      isConflict(
        await s.request("POST", "users", { tenant: tn, body: { id: "u2", displayName: "Other", userPrincipalName: "ada@CONTOSO.com" } }),
        "a second user"
      )
      assert.strictEqual((await s.request("GET", "users/u2", { tenant: tn })).status, 404)
      // users without a name never collide; another tenant may hold the name
      for (const id of ["n1", "n2"]) assert.strictEqual((await s.request("POST", "users", { tenant: tn, body: { id } })).status, 201)
      assert.strictEqual((await s.request("POST", "users", { tenant: tenant(), body: { userPrincipalName: "ada@contoso.com" } })).status, 201)
      const listed = await s.request("GET", "users?$filter=userPrincipalName eq 'ada@contoso.com'", { tenant: tn })
      assert.deepStrictEqual(listed.json.value.map((u: any) => u.id), ["u1"], listed.text)
    })

    it("refuses a PATCH that takes another user's userPrincipalName, and takes one that keeps or recases its own", async () => {
      const tn = tenant()
      for (const [id, upn] of [["u1", "ada@contoso.com"], ["u2", "grace@contoso.com"]]) {
        assert.strictEqual((await s.request("POST", "users", { tenant: tn, body: { id, userPrincipalName: upn } })).status, 201)
      }
      isConflict(await s.request("PATCH", "users/u2", { tenant: tn, body: { userPrincipalName: "ADA@contoso.com", displayName: "G" } }), "a rename")
      const kept = await s.request("GET", "users/u2", { tenant: tn })
      assert.strictEqual(kept.json.userPrincipalName, "grace@contoso.com")
      assert.strictEqual(kept.json.displayName, null, "nothing of the refused PATCH written")
      const own = await s.request("PATCH", "users/u2", { tenant: tn, body: { userPrincipalName: "Grace@Contoso.com", displayName: "Grace" } })
      assert.strictEqual(own.status, 200, own.text)
      assert.strictEqual(own.json.userPrincipalName, "Grace@Contoso.com")
      assert.strictEqual((await s.request("PATCH", "users/u1", { tenant: tn, body: { displayName: "Ada" } })).status, 200)
    })

    it("links a second invitation of an address to the guest of the first, and makes no second user", async () => {
      const tn = tenant()
      const invite = (id: string, email: string, displayName?: string) =>
        s.request("POST", "invitations", {
          tenant: tn,
          body: { id, invitedUserEmailAddress: email, inviteRedirectUrl: "https://example.com", invitedUserDisplayName: displayName }
        })
      const first = await invite("i1", "guest@example.com", "Guest")
      assert.strictEqual(first.status, 201, first.text)
      const guest = (await s.request("GET", "invitations/i1/invitedUser", { tenant: tn })).json
      const second = await invite("i2", "GUEST@example.com", "Someone else")
      assert.strictEqual(second.status, 201, second.text)
      assert.strictEqual(second.json.id, "i2")
      assert.strictEqual(second.json.invitedUserEmailAddress, "GUEST@example.com")
      const linked = await s.request("GET", "invitations/i2/invitedUser", { tenant: tn })
      assert.deepStrictEqual(linked.json, { ...guest, "@odata.context": linked.json["@odata.context"] }, "the first guest, unchanged")
      // Each create's answer names its invited user, as Graph's does: the guest made, then the one linked.
      assert.deepStrictEqual([first.json.invitedUser, second.json.invitedUser], [{ "@odata.type": "#microsoft.graph.user", id: guest.id }, { "@odata.type": "#microsoft.graph.user", id: guest.id }])
      // outside the ETag: the create's is the one a GET of the invitation answers, which has no invitedUser
      const read = await s.request("GET", "invitations/i2", { tenant: tn })
      assert.strictEqual(read.headers.get("etag"), second.headers.get("etag"))
      assert.strictEqual(read.json["@odata.etag"], second.json["@odata.etag"])
      assert.notProperty(read.json, "invitedUser")
      // a member created with the guest form of an address is linked too
      assert.strictEqual(
        (await s.request("POST", "users", { tenant: tn, body: { id: "m1", userPrincipalName: "member_example.com#EXT#", userType: "Member" } })).status,
        201
      )
      assert.strictEqual((await invite("i3", "member@example.com")).status, 201)
      assert.strictEqual((await s.request("GET", "invitations/i3/invitedUser", { tenant: tn })).json.id, "m1")
      const users = (await s.request("GET", "users", { tenant: tn })).json.value.map((u: any) => u.id).sort()
      assert.deepStrictEqual(users, [guest.id, "m1"].sort())
    })

    it("addresses a user by its userPrincipalName in any case (core 0.16.0): the user's routes, its memberOf and the user path family", async () => {
      const tn = tenant()
      const ok = async (method: string, p: string, body?: unknown, status = 200) => {
        const r = await s.request(method, p, { tenant: tn, body })
        assert.strictEqual(r.status, status, `${method} ${p}: ${r.text}`)
        return r
      }
      await ok("POST", "users", { id: "ada", displayName: "Ada", userPrincipalName: "Ada@Contoso.com" }, 201)
      await ok("POST", "groups", { id: "g" }, 201)
      await ok("POST", "groups/g/members/$ref", { "@odata.id": `${s.base}/directoryObjects/ada` }, 204)
      await ok("POST", "deviceManagement/deviceEnrollmentConfigurations", {
        "@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration",
        id: "c1",
        limit: 1
      }, 201)
      await ok("POST", "deviceManagement/deviceEnrollmentConfigurations/c1/assignments", {
        id: "a1",
        target: { "@odata.type": "#microsoft.graph.groupAssignmentTarget", groupId: "g" }
      }, 201)
      // The key as a client sends it: `@` as it is, or percent-encoded; any case.
      for (const key of ["ada@contoso.com", "ADA%40CONTOSO.COM", "Ada@Contoso.com"]) {
        const got = await ok("GET", `users/${key}`)
        assert.strictEqual(got.json.id, "ada", key)
        assert.strictEqual(got.json["@odata.context"], `${s.base}/$metadata#users/$entity`)
      }
      assert.strictEqual((await ok("PATCH", "users/ada@CONTOSO.com", { displayName: "Ada Lovelace" })).json.displayName, "Ada Lovelace")
      assert.deepStrictEqual((await ok("GET", "users/ada@contoso.com/memberOf")).json.value.map((g: any) => g.id), ["g"])
      assert.deepStrictEqual((await ok("GET", "users/ada@contoso.com/transitiveMemberOf")).json.value.map((g: any) => g.id), ["g"])
      // The user path family; its @odata.context keeps the key the request gave, as Graph's does.
      const cfgs = await ok("GET", "users/ada@contoso.com/deviceEnrollmentConfigurations")
      assert.deepStrictEqual(cfgs.json.value.map((c: any) => c.id), ["c1"])
      assert.strictEqual(cfgs.json["@odata.context"], `${s.base}/$metadata#users('ada%40contoso.com')/deviceEnrollmentConfigurations`)
      const path = "users/ada@contoso.com/deviceEnrollmentConfigurations/c1/assignments"
      assert.deepStrictEqual((await ok("GET", path)).json.value.map((a: any) => a.id), ["a1"])
      const one = await ok("GET", `${path}/a1`)
      assert.strictEqual(one.json["@odata.context"], `${s.base}/$metadata#users('ada%40contoso.com')/deviceEnrollmentConfigurations('c1')/assignments/$entity`)
      const patched = await ok("PATCH", `${path}/a1`, { source: "policySets", sourceId: "ps1" })
      assert.deepStrictEqual([patched.json.source, patched.json.sourceId], ["policySets", "ps1"])
      const created = await ok("POST", path, { id: "a2", target: null }, 201)
      // So does a create's Location: the key as given, percent-encoded as every key in a link is.
      assert.strictEqual(created.headers.get("location"), `${s.base}/users/ada%40contoso.com/deviceEnrollmentConfigurations/c1/assignments/a2`)
      const paged = await ok("GET", `${path}?$top=1`)
      assert.strictEqual(new URL(paged.json["@odata.nextLink"]).pathname, "/beta/users/ada@contoso.com/deviceEnrollmentConfigurations/c1/assignments")
      await ok("DELETE", `${path}/a2`, undefined, 204)
      assert.strictEqual((await ok("GET", "users/ada@contoso.com/memberOf/$count")).text, "1")
      assert.deepStrictEqual((await ok("GET", "users/ada@contoso.com/memberOf/microsoft.graph.group")).json.value.map((g: any) => g.id), ["g"])
      // Guests: Entra's form (its domain after `#EXT#`), and the form this service's invitations give; `#` percent-encoded.
      await ok("POST", "users", { id: "grace", userPrincipalName: "grace_fabrikam.com#EXT#@contoso.onmicrosoft.com", userType: "Guest" }, 201)
      assert.strictEqual((await ok("GET", "users/grace_fabrikam.com%23EXT%23@contoso.onmicrosoft.com")).json.id, "grace")
      const invited = await ok("POST", "invitations", { invitedUserEmailAddress: "hedy@example.com", inviteRedirectUrl: "https://example.com" }, 201)
      assert.strictEqual((await ok("GET", "users/hedy_example.com%23EXT%23")).json.id, invited.json.invitedUser.id)
      // A name no user holds: 404 naming the key as given.
      for (const p of ["users/Nobody@contoso.com", "users/Nobody@contoso.com/memberOf", "users/Nobody@contoso.com/deviceEnrollmentConfigurations/c1/assignments/a1"]) {
        const missing = await s.request("GET", p, { tenant: tn })
        assert.strictEqual(missing.status, 404, `${p}: ${missing.text}`)
        assert.deepStrictEqual([errorOf(missing).code, errorOf(missing).message], ["itemNotFound", "user 'Nobody@contoso.com' not found"], p)
      }
      assert.strictEqual((await s.request("GET", "users/ada@contoso.com", { tenant: tenant() })).status, 404, "another tenant's")
      await ok("DELETE", "users/ADA@contoso.com", undefined, 204)
      assert.strictEqual((await s.request("GET", "users/ada", { tenant: tn })).status, 404)
    })

    it("leaves exactly one user of 50 concurrent creates and 50 concurrent invitations of one name, across two servers", async () => {
      const tn = tenant()
      // Two servers over the same data where the store can be opened twice (another connection, another pool).
      const other = shared ? await start({ store: make() }) : s
      try {
        const servers = [s, other]
        const creates = await Promise.all(Array.from({ length: 50 }, (_, i) =>
          servers[i % 2]!.request("POST", "users", { tenant: tn, body: { userPrincipalName: i % 3 === 0 ? "RACE@contoso.com" : "race@contoso.com" } })
        ))
        assert.strictEqual(creates.filter((r) => r.status === 201).length, 1, creates.map((r) => r.status).join(","))
        for (const r of creates) if (r.status !== 201) isConflict(r, "a refused create")
        const invites = await Promise.all(Array.from({ length: 50 }, (_, i) =>
          servers[i % 2]!.request("POST", "invitations", {
            tenant: tn,
            body: { invitedUserEmailAddress: "racer@example.com", inviteRedirectUrl: "https://example.com" }
          })
        ))
        assert.deepStrictEqual([...new Set(invites.map((r) => r.status))], [201], invites.find((r) => r.status !== 201)?.text)
        const users = (await s.request("GET", "users?$top=999", { tenant: tn })).json.value
        assert.strictEqual(users.filter((u: any) => u.userPrincipalName.toLowerCase() === "race@contoso.com").length, 1)
        const guests = users.filter((u: any) => u.mail === "racer@example.com")
        assert.strictEqual(guests.length, 1, JSON.stringify(users))
        const invited = new Set(await Promise.all(invites.map(async (r) =>
          (await s.request("GET", `invitations/${r.json.id}/invitedUser`, { tenant: tn })).json.id
        )))
        assert.deepStrictEqual([...invited], [guests[0].id], "every invitation names the one guest")
      } finally {
        if (other !== s) await other.close()
      }
    }, 60_000)
  })
}
