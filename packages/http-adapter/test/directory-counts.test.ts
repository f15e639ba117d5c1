/**
 * The directory's counts (since 0.12.0): `/$count` and `$count=true` of the tenant's users, groups,
 * invitations and configurations, and of a group's members, read the store's count in one call
 * (SQL's `COUNT(*)`) when the request has no `$filter`, instead of paging through the whole list;
 * a filtered count still pages, counting what the filter keeps; a store without counts answers the
 * same by paging. And `$count=true` reads its page and its count in one snapshot: a write landing
 * between the two (a store hook lands it there, as another request would) is in neither.
 */
import { Directory, MemoryStore, Store } from "@enrollment/core"
import { Effect, Layer } from "effect"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { interleavedWrite, start, succeeds, type TestServer } from "./support.ts"

const tenant = "tenant-a"
const cfgs = "deviceManagement/deviceEnrollmentConfigurations"
const ref = (id: string) => ({ "@odata.id": `https://graph.microsoft.com/beta/directoryObjects/${id}` })

/** The store calls a request made, by name (`users.list`, `groups.memberCount`). */
const calls = new Map<string, number>()
const called = (name: string) => calls.get(name) ?? 0
/** The write another request makes just after a list's page is read. */
const write = interleavedWrite()

/**
 * The memory store, its reads counted and a page's read followed by the armed write; `counts`
 * false takes the store's counts away (a store written before 0.12.0).
 */
const observed = (counts: boolean) =>
  Layer.effect(
    Store,
    Effect.map(MemoryStore.make, (store): Store["Service"] => {
      const fire = write.fire(store)
      const seen = <A, E>(name: string, self: Effect.Effect<A, E>) =>
        Effect.suspend(() => {
          calls.set(name, called(name) + 1)
          return self
        })
      const set = <S extends { readonly list: (t: string, p: any) => Effect.Effect<any, any>; readonly count?: ((t: string) => Effect.Effect<number, any>) | undefined }>(
        name: string,
        s: S
      ): S => ({
        ...s,
        list: (t: string, p: any) => Effect.tap(seen(`${name}.list`, s.list(t, p)), () => fire),
        count: counts && s.count !== undefined ? (t: string) => seen(`${name}.count`, s.count!(t)) : undefined
      })
      const groups = set("groups", store.groups)
      return {
        ...store,
        configurations: set("configurations", store.configurations),
        users: set("users", store.users),
        invitations: set("invitations", store.invitations),
        groups: {
          ...groups,
          members: (t, g, p) => Effect.tap(seen("groups.members", store.groups.members(t, g, p)), () => fire),
          memberCount: counts ? (t, g, kind) => seen("groups.memberCount", store.groups.memberCount!(t, g, kind)) : undefined
        }
      }
    })
  )

const user = (id: string, enabled = true) => ({ id, displayName: id, userPrincipalName: `${id}@example.com`, accountEnabled: enabled })
const group = (id: string) => ({ id, displayName: id, mailNickname: id, securityEnabled: true })

/** Three users (one disabled), two guests' invitations (two more users), two groups, g1 holding three members. */
const fill = async (s: TestServer) => {
  const ok = (method: string, path: string, body: unknown) => succeeds(s, method, path, body)
  for (const u of [user("u1"), user("u2"), user("u3", false)]) await ok("POST", "users", u)
  for (const g of ["g1", "g2"]) await ok("POST", "groups", group(g))
  for (const m of ["u1", "u2", "g2"]) await ok("POST", "groups/g1/members/$ref", ref(m))
  for (const e of ["a@example.com", "b@example.com"]) {
    await ok("POST", "invitations", { invitedUserEmailAddress: e, inviteRedirectUrl: "https://example.com" })
  }
  await ok("POST", cfgs, { "@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration", id: "c1", displayName: "One", limit: 1 })
}

/** Each count and what it is: the `/$count` path, the list it counts, the set's store calls. */
const counted = [
  { path: "users", n: 5, set: "users", count: "users.count" },
  { path: "groups", n: 2, set: "groups", count: "groups.count" },
  { path: "invitations", n: 2, set: "invitations", count: "invitations.count" },
  { path: cfgs, n: 1, set: "configurations", count: "configurations.count" },
  { path: "groups/g1/members", n: 3, set: "groups.members", count: "groups.memberCount" },
  { path: "groups/g2/members", n: 0, set: "groups.members", count: "groups.memberCount" },
  { path: "groups/g1/members/microsoft.graph.user", n: 2, set: "groups.members", count: "groups.memberCount" },
  { path: "groups/g1/members/graph.group", n: 1, set: "groups.members", count: "groups.memberCount" }
] as const

describe("the directory's counts", () => {
  let s: TestServer
  let paged: TestServer
  beforeAll(async () => {
    s = await start({ store: observed(true) })
    paged = await start({ store: observed(false) })
    await fill(s)
    await fill(paged)
  })
  afterAll(async () => {
    await s?.close()
    await paged?.close()
  })

  /** The store calls `request` makes, by name. */
  const during = async <A>(request: () => Promise<A>) => {
    calls.clear()
    const r = await request()
    return { r, calls: new Map(calls) }
  }

  it("reads the store's count once for /$count and $count=true without $filter: no page for /$count, the page alone for the list", async () => {
    /** The list's page reads a request made. */
    const pages = (calls: ReadonlyMap<string, number>, set: string) => calls.get(set === "groups.members" ? set : `${set}.list`) ?? 0
    for (const c of counted) {
      const one = await during(() => s.request("GET", `${c.path}/$count`))
      assert.strictEqual(one.r.text, String(c.n), `${c.path}/$count`)
      assert.strictEqual(one.calls.get(c.count), 1, `${c.path}/$count reads the store's count`)
      assert.strictEqual(pages(one.calls, c.set), 0, `${c.path}/$count reads no page`)
      const page = await during(() => s.request("GET", `${c.path}?$top=1`))
      const listed = await during(() => s.request("GET", `${c.path}?$count=true&$top=1`))
      assert.strictEqual(listed.r.status, 200, listed.r.text)
      assert.strictEqual(listed.r.json["@odata.count"], c.n, `${c.path}?$count=true`)
      assert.deepStrictEqual(listed.r.json.value, page.r.json.value, `${c.path}?$count=true: the page`)
      assert.strictEqual(listed.r.json.value.length, Math.min(1, c.n), `${c.path}?$count=true: the page's length`)
      assert.strictEqual(listed.calls.get(c.count), 1, `${c.path}?$count=true reads the store's count`)
      assert.isAtLeast(pages(page.calls, c.set), 1, `${c.path}?$top=1 reads its page`)
      assert.strictEqual(pages(listed.calls, c.set), pages(page.calls, c.set), `${c.path}?$count=true reads the page's reads alone`)
    }
    for (const [path, n] of [["groups/g1/members/$ref", 3], ["groups/g1/members/microsoft.graph.user/$ref", 2]] as const) {
      const refs = await during(() => s.request("GET", `${path}?$count=true`))
      assert.strictEqual(refs.r.json["@odata.count"], n, path)
      assert.strictEqual(refs.calls.get("groups.memberCount"), 1, `${path}: the references' count is the store's`)
    }
  })

  it("answers a store without counts the same, by paging through the list", async () => {
    for (const c of counted) {
      const one = await during(() => paged.request("GET", `${c.path}/$count`))
      assert.strictEqual(one.r.text, String(c.n), `${c.path}/$count`)
      assert.strictEqual(one.calls.get(c.count) ?? 0, 0, `${c.path}: no count offered`)
      assert.ok((one.calls.get(c.set === "groups.members" ? c.set : `${c.set}.list`) ?? 0) >= 1, `${c.path}/$count pages through the list`)
      const listed = await paged.request("GET", `${c.path}?$count=true&$top=2`)
      assert.strictEqual(listed.json["@odata.count"], c.n, `${c.path}?$count=true`)
    }
  })

  it("counts what $filter keeps by paging, not by the store's count of the whole set", async () => {
    const f = encodeURIComponent("accountEnabled eq false")
    const one = await during(() => s.request("GET", `users/$count?$filter=${f}`))
    assert.strictEqual(one.r.text, "1")
    assert.strictEqual(one.calls.get("users.count") ?? 0, 0, "a filtered count does not read the whole count")
    const listed = await s.request("GET", `users?$count=true&$filter=${f}`)
    assert.deepStrictEqual([listed.json.value.map((u: any) => u.id), listed.json["@odata.count"]], [["u3"], 1])
    const cast = await during(() => s.request("GET", `groups/g1/members/microsoft.graph.user/$count?$filter=${encodeURIComponent("id eq 'u2'")}`))
    assert.strictEqual(cast.r.text, "1")
    assert.strictEqual(cast.calls.get("groups.memberCount") ?? 0, 0, "a filtered cast's count does not read the kind's whole count")
  })

  it("reads $count=true's page and count in one snapshot: a write landing between them is in neither", async () => {
    const writes: ReadonlyArray<{ readonly path: string; readonly late: (store: Store["Service"]) => Effect.Effect<unknown, unknown> }> = [
      {
        path: "users",
        late: (store) => store.users.insert(tenant, Directory.makeUser("u-late", { displayName: "Late", userPrincipalName: "late@example.com", mail: null, userType: "Member", accountEnabled: true }))
      },
      { path: "groups", late: (store) => store.groups.insert(tenant, Directory.makeGroup("g-late", { displayName: "Late", description: null, mailNickname: "late", securityEnabled: true })) },
      { path: "invitations", late: (store) => store.invitations.remove(tenant, (Effect.runSync(store.invitations.list(tenant, { limit: 1 })) as any).items[0].id) },
      { path: "groups/g1/members", late: (store) => store.groups.addMember(tenant, "g1", { kind: "user", id: "u3" }) },
      { path: "groups/g1/members/microsoft.graph.user", late: (store) => store.groups.removeMember(tenant, "g1", "u3") }
    ]
    let top = 50
    for (const w of writes) {
      // Another spelling each time: a GET's answer is kept while the store's data is unchanged.
      const before = await s.request("GET", `${w.path}?$count=true&$top=${top++}`)
      const n = before.json["@odata.count"]
      assert.strictEqual(n, before.json.value.length, w.path)
      write.arm(w.late)
      const r = await s.request("GET", `${w.path}?$count=true&$top=${top++}`)
      await write.settle()
      assert.isFalse(write.armed(), `${w.path}: the write landed after the page's read`)
      assert.strictEqual(r.status, 200, r.text)
      assert.deepStrictEqual([r.json.value.length, r.json["@odata.count"]], [n, n], `${w.path}: the page and its count are of one moment`)
      const after = await s.request("GET", `${w.path}?$count=true&$top=${top++}`)
      assert.strictEqual(after.json["@odata.count"], after.json.value.length, `${w.path} after the write`)
      assert.notStrictEqual(after.json["@odata.count"], n, `${w.path}: the write is seen after`)
    }
  })
})
