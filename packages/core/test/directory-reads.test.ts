/**
 * The members of a group and the groups an object is in are read as objects, each by its key: on a
 * store whose every read is a round trip (PostgreSQL) one after another cost a group of 20 000
 * members' `$count` 20 040 round trips in a row. They are read up to 16 at a time (since 0.9.0),
 * in order, those gone left out, and a page never reads an object it could not hold.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { DirectoryService, MemoryStore, type Page, type PageRequest, Store } from "../src/index.ts"

const t = "tenant"

/** The memory store with each object read taking a turn of the event loop, counting the reads in flight at once. */
const slowReads = Effect.gen(function*() {
  const inner = yield* MemoryStore.make
  const seen = { reads: 0, inFlight: 0, most: 0 }
  const slow = <A>(read: Effect.Effect<A, any>) =>
    Effect.gen(function*() {
      seen.reads++
      seen.most = Math.max(seen.most, ++seen.inFlight)
      yield* Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))
      seen.inFlight--
      return yield* read
    })
  const store: Store["Service"] = {
    ...inner,
    users: { ...inner.users, get: (tenant, id) => slow(inner.users.get(tenant, id)) },
    groups: { ...inner.groups, get: (tenant, id) => slow(inner.groups.get(tenant, id)) }
  }
  return { store, seen }
})

const allPages = <A extends { readonly id: string }>(read: (page: PageRequest) => Effect.Effect<Page<A>, unknown>, limit: number) =>
  Effect.gen(function*() {
    const ids: Array<string> = []
    let after: string | undefined
    do {
      const page = yield* read({ after, limit })
      assert.isAtMost(page.items.length, limit)
      ids.push(...page.items.map((x) => x.id))
      after = page.next
    } while (after !== undefined)
    return ids
  })

describe("reading the objects of members and memberships", () => {
  it.effect("reads a group's members up to 16 at a time, in order, the ones gone left out", () =>
    Effect.gen(function*() {
      const { store, seen } = yield* slowReads
      const directory = yield* Effect.provide(Effect.service(DirectoryService), DirectoryService.layer.pipe(Layer.provide(Layer.succeed(Store, store))))
      yield* directory.createGroup(t, { id: "top" })
      const ids = Array.from({ length: 50 }, (_, i) => `u${String(i).padStart(2, "0")}`)
      for (const id of ids) {
        yield* directory.createUser(t, { id })
        yield* directory.addMember(t, "top", id)
      }
      yield* directory.removeUser(t, "u07")
      seen.most = 0
      const page = yield* directory.members(t, "top", { limit: 40 })
      assert.deepStrictEqual(page.items.map((m) => m.id), ids.filter((id) => id !== "u07").slice(0, 40))
      assert.strictEqual(seen.most, 16, "16 reads in flight at once")
    }))

  it.effect("pages the groups a user is in by reading no more than the page holds, in order, up to 16 at a time", () =>
    Effect.gen(function*() {
      const { store, seen } = yield* slowReads
      const directory = yield* Effect.provide(Effect.service(DirectoryService), DirectoryService.layer.pipe(Layer.provide(Layer.succeed(Store, store))))
      yield* directory.createUser(t, { id: "u" })
      const groups = Array.from({ length: 45 }, (_, i) => `g${String(i).padStart(2, "0")}`)
      for (const id of groups) {
        yield* directory.createGroup(t, { id })
        yield* directory.addMember(t, id, "u")
      }
      const read = yield* directory.memberOf(t, { kind: "user", id: "u" }, false)
      seen.reads = 0
      seen.most = 0
      assert.deepStrictEqual(yield* allPages(read, 20), groups)
      assert.strictEqual(seen.reads, 45, "each group read once")
      assert.strictEqual(seen.most, 16)
    }))
})

describe("the directory's counts (since 0.12.0)", () => {
  /** The services over the memory store, with or without its counts, counting the store's list and count calls. */
  const services = (counts: boolean) =>
    Effect.gen(function*() {
      const inner = yield* MemoryStore.make
      const seen = { lists: 0, counts: 0 }
      const listed = <A>(read: Effect.Effect<A, any>) => Effect.andThen(Effect.sync(() => seen.lists++), read)
      const count = <A>(read: Effect.Effect<A, any>) => Effect.andThen(Effect.sync(() => seen.counts++), read)
      const store: Store["Service"] = {
        ...inner,
        users: { ...inner.users, list: (tn, p) => listed(inner.users.list(tn, p)), count: counts ? (tn) => count(inner.users.count!(tn)) : undefined },
        groups: {
          ...inner.groups,
          list: (tn, p) => listed(inner.groups.list(tn, p)),
          count: counts ? (tn) => count(inner.groups.count!(tn)) : undefined,
          members: (tn, g, p) => listed(inner.groups.members(tn, g, p)),
          memberCount: counts ? (tn, g, kind) => count(inner.groups.memberCount!(tn, g, kind)) : undefined
        }
      }
      const directory = yield* Effect.provide(Effect.service(DirectoryService), DirectoryService.layer.pipe(Layer.provide(Layer.succeed(Store, store))))
      yield* directory.createGroup(t, { id: "g" })
      for (let i = 0; i < 2_500; i++) {
        const id = `u${String(i).padStart(4, "0")}`
        yield* directory.createUser(t, { id })
        if (i % 2 === 0) yield* directory.addMember(t, "g", id)
      }
      seen.lists = 0
      return { directory, seen }
    })

  it.effect("reads the store's count in one call where it offers one", () =>
    Effect.gen(function*() {
      const { directory, seen } = yield* services(true)
      assert.deepStrictEqual(
        [yield* directory.countUsers(t), yield* directory.countGroups(t), yield* directory.countMembers(t, "g")],
        [2_500, 1, 1_250]
      )
      assert.deepStrictEqual([yield* directory.countMembers(t, "g", "user"), yield* directory.countMembers(t, "g", "group")], [1_250, 0])
      assert.deepStrictEqual(seen, { lists: 0, counts: 5 })
    }))

  it.effect("pages through the list, a thousand at a time, where the store offers no count", () =>
    Effect.gen(function*() {
      const { directory, seen } = yield* services(false)
      assert.deepStrictEqual([yield* directory.countUsers(t), yield* directory.countMembers(t, "g")], [2_500, 1_250])
      assert.deepStrictEqual([yield* directory.countMembers(t, "g", "user"), yield* directory.countMembers(t, "g", "group")], [1_250, 0])
      assert.deepStrictEqual(seen, { lists: 3 + 2 + 2 + 2, counts: 0 })
    }))

  it.effect("fails the count of a group that does not exist with EntityNotFound, as its list does", () =>
    Effect.gen(function*() {
      const { directory } = yield* services(true)
      const e = yield* Effect.flip(directory.countMembers(t, "nope"))
      assert.deepStrictEqual([e._tag, (e as { entity?: string }).entity], ["EntityNotFound", "group"])
    }))
})
