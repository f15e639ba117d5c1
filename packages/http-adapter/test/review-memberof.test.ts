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
