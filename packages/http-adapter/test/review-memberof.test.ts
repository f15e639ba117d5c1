/**
 * `memberOf` and `transitiveMemberOf` over a large membership graph, on a real server: one
 * request walks the memberships once, however many pages of the answer its `$count`, its
 * `/$count` or its `$filter` reads (each page walked the whole graph again: a user in
 * 100 000 groups made a `/$count` walk it 100 times).
 */
import { Directory, MemoryStore, Store } from "@enrollment/core"
import { Effect, Layer, Result } from "effect"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { start, type TestServer } from "./support.ts"

const tenant = "tenant-a"
/** More groups than one page of `$count` (1 000) or of a filtered read (999) holds. */
const n = 2_100
const gid = (i: number) => `g${String(i).padStart(5, "0")}`

/** Calls of the store's `groups.groupsOf`: a walk of the memberships is one per level of nesting. */
let groupsOfCalls = 0

/** The memory store with user `u` directly in `n` groups, counting `groupsOf`. */
const store = Layer.effect(
  Store,
  Effect.gen(function*() {
    const s = yield* MemoryStore.make
    const user = Result.getOrThrow(Directory.decodeUserCreate({ displayName: "U" }))
    yield* s.users.insert(tenant, Directory.makeUser("u", user))
    for (let i = 0; i < n; i++) {
      const group = Result.getOrThrow(Directory.decodeGroupCreate({ displayName: `G${i}` }))
      yield* s.groups.insert(tenant, Directory.makeGroup(gid(i), group))
      yield* s.groups.addMember(tenant, gid(i), { kind: "user", id: "u" })
    }
    return Store.of({
      ...s,
      groups: {
        ...s.groups,
        groupsOf: (t, ids) =>
          Effect.suspend(() => {
            groupsOfCalls++
            return s.groups.groupsOf(t, ids)
          })
      }
    })
  }).pipe(Effect.orDie)
)

describe("memberOf over thousands of groups", () => {
  let s: TestServer
  beforeAll(async () => {
    s = await start({ store })
  })
  afterAll(() => s.close())

  /** The answer to `path`, and how many `groupsOf` calls it made. */
  const walked = async (path: string) => {
    groupsOfCalls = 0
    const r = await s.request("GET", path)
    assert.strictEqual(r.status, 200, r.text)
    return { r, calls: groupsOfCalls }
  }

  it("walks the memberships once for a /$count", async () => {
    const direct = await walked("users/u/memberOf/$count")
    assert.strictEqual(direct.r.text, String(n))
    assert.strictEqual(direct.calls, 1, "one level: one call")
    // Transitive: the user's groups, then theirs (none).
    const transitive = await walked("users/u/transitiveMemberOf/$count")
    assert.strictEqual(transitive.r.text, String(n))
    assert.strictEqual(transitive.calls, 2)
  })

  it("walks the memberships once for a page with $count=true", async () => {
    const { calls, r } = await walked("users/u/transitiveMemberOf?$top=5&$count=true&$select=id")
    assert.strictEqual(r.json["@odata.count"], n)
    assert.deepStrictEqual(r.json.value.map((g: { id: string }) => g.id), [0, 1, 2, 3, 4].map(gid))
    assert.strictEqual(calls, 2)
  })

  it("walks the memberships once for a $filter that reads every page", async () => {
    const { calls, r } = await walked(`users/u/memberOf?$filter=displayName eq 'G${n - 1}'&$count=true`)
    assert.deepStrictEqual(r.json.value.map((g: { id: string }) => g.id), [gid(n - 1)])
    assert.strictEqual(r.json["@odata.count"], 1)
    assert.strictEqual(calls, 1)
  })

  it("pages through every group exactly once, one walk a page", async () => {
    const seen: Array<string> = []
    let path: string | undefined = "users/u/transitiveMemberOf?$top=999&$select=id"
    let pages = 0
    groupsOfCalls = 0
    while (path !== undefined) {
      const r = await s.request("GET", path)
      assert.strictEqual(r.status, 200, r.text)
      seen.push(...r.json.value.map((g: { id: string }) => g.id))
      const next: string | undefined = r.json["@odata.nextLink"]
      path = next === undefined ? undefined : next.slice(s.base.length + 1)
      pages++
    }
    assert.strictEqual(pages, 3)
    assert.deepStrictEqual(seen, Array.from({ length: n }, (_, i) => gid(i)))
    assert.strictEqual(groupsOfCalls, 2 * pages)
  })
})

describe("transitiveMembers over thousands of members", () => {
  /** Calls of the store's `groups.members`: a walk reads each group's members page by page. */
  let membersCalls = 0
  /** Group `top` holding `n` users and group `inner`, which holds user `x` and `top` (a cycle). */
  const store = Layer.effect(
    Store,
    Effect.gen(function*() {
      const s = yield* MemoryStore.make
      const group = (name: string) => Directory.makeGroup(name, Result.getOrThrow(Directory.decodeGroupCreate({ displayName: name })))
      const user = (id: string) => Directory.makeUser(id, Result.getOrThrow(Directory.decodeUserCreate({ displayName: id })))
      yield* s.groups.insert(tenant, group("top"))
      yield* s.groups.insert(tenant, group("inner"))
      for (let i = 0; i < n; i++) {
        yield* s.users.insert(tenant, user(`u${String(i).padStart(5, "0")}`))
        yield* s.groups.addMember(tenant, "top", { kind: "user", id: `u${String(i).padStart(5, "0")}` })
      }
      yield* s.users.insert(tenant, user("x"))
      yield* s.groups.addMember(tenant, "top", { kind: "group", id: "inner" })
      yield* s.groups.addMember(tenant, "inner", { kind: "user", id: "x" })
      yield* s.groups.addMember(tenant, "inner", { kind: "group", id: "top" })
      return Store.of({
        ...s,
        groups: {
          ...s.groups,
          members: (t, g, p) =>
            Effect.suspend(() => {
              membersCalls++
              return s.groups.members(t, g, p)
            })
        }
      })
    }).pipe(Effect.orDie)
  )
  let s: TestServer
  beforeAll(async () => {
    s = await start({ store })
  })
  afterAll(() => s.close())

  /** One walk: `top`'s members in pages of 1 000 (3), then `inner`'s (1). */
  const oneWalk = 4

  it("walks the members once for a /$count and for a page with $count=true, and pages them all once", async () => {
    membersCalls = 0
    const count = await s.request("GET", "groups/top/transitiveMembers/$count")
    assert.strictEqual(count.text, String(n + 2))
    assert.strictEqual(membersCalls, oneWalk)
    membersCalls = 0
    const page = await s.request("GET", "groups/top/transitiveMembers?$top=2&$count=true&$select=id")
    assert.strictEqual(page.json["@odata.count"], n + 2)
    assert.deepStrictEqual(page.json.value.map((m: { id: string }) => m.id), ["inner", "u00000"])
    assert.strictEqual(membersCalls, oneWalk)
  })
})
