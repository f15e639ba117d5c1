/**
 * One order of keys for every store: by code point, the order of their UTF-8 bytes, as the SQL
 * stores sort (SQLite's BINARY, PostgreSQL's COLLATE "C"). JavaScript's `<` compares UTF-16 code
 * units, which put a character above U+FFFF before one from U+E000 to U+FFFF.
 */
import { assert, describe, it } from "@effect/vitest"
import { Arbitrary, Effect, Layer, Schema } from "effect"
import { Configuration, DirectoryService, Id, MemoryStore, type Page, type PageRequest, Store } from "../src/index.ts"

/** Characters on every side of the boundaries that matter: ASCII, 2- and 3-byte UTF-8, the surrogates' range, above U+FFFF. */
const pool = [..."aAz0~\u00e9\u00ff\u0100\u07ff\u0800\u4e2d\ud7ff\ue000\uff46\ufffd\uffff"].concat(["\u{10000}", "\u{1f600}", "\u{10fffd}"])
const Key = Arbitrary.map(
  Arbitrary.array(Arbitrary.schema(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: pool.length - 1 }))), { minLength: 0, maxLength: 6 }),
  (xs) => xs.map((i) => pool[i]!).join("")
)
const bytes = (s: string) => Buffer.from(s, "utf8")

describe("Id.compare", () => {
  it.prop("orders as the UTF-8 bytes do", [Key, Key], ([a, b]) => {
    assert.strictEqual(Math.sign(Id.compare(a, b)), Math.sign(Buffer.compare(bytes(a), bytes(b))), `${JSON.stringify(a)} against ${JSON.stringify(b)}`)
  })

  it("puts a character above U+FFFF after U+FF46, where `<` puts it before", () => {
    assert.isTrue("\u{1f600}" < "\uff46")
    assert.isAbove(Id.compare("\u{1f600}", "\uff46"), 0)
    assert.deepStrictEqual(["\u{1f600}", "\uff46", "\u03a9", "b", "a"].sort(Id.compare), ["a", "b", "\u03a9", "\uff46", "\u{1f600}"])
    assert.strictEqual(Id.compare("ab", "ab"), 0)
    assert.isBelow(Id.compare("ab", "abc"), 0)
  })

  it("orders a user's configurations of one priority by it", () => {
    const c = (id: string) => ({ id, priority: 1 }) as Configuration.Configuration
    assert.deepStrictEqual([c("\u{1f600}"), c("\uff46")].sort(Configuration.byPriority).map((x) => x.id), ["\uff46", "\u{1f600}"])
  })
})

describe("the memory store and the directory service in that order", () => {
  const ids = ["\u{1f600}", "\uff46", "\u03a9", "z"]
  const ordered = ["z", "\u03a9", "\uff46", "\u{1f600}"]
  const t = "tenant"
  const services = DirectoryService.layer.pipe(Layer.provideMerge(MemoryStore.layer))
  /** Every page of `read`, one item a page, by the cursor each page gives. */
  const allPages = (read: (page: PageRequest) => Effect.Effect<Page<{ readonly id: string }>, unknown>) =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      let after: string | undefined
      do {
        const page = yield* read({ after, limit: 1 })
        seen.push(...page.items.map((x) => x.id))
        after = page.next
      } while (after !== undefined)
      return seen
    })

  it.effect("lists and pages users by it, the cursor included", () =>
    Effect.gen(function*() {
      const dir = yield* DirectoryService
      for (const id of ids) yield* dir.createUser(t, { id })
      assert.deepStrictEqual((yield* dir.listUsers(t, { limit: 10 })).items.map((u) => u.id), ordered)
      assert.deepStrictEqual(yield* allPages((page) => dir.listUsers(t, page)), ordered)
    }).pipe(Effect.provide(services)))

  it.effect("pages the groups a user is in (memberOf) and a group's members (transitiveMembers) by it", () =>
    Effect.gen(function*() {
      const dir = yield* DirectoryService
      const store = yield* Store
      yield* dir.createUser(t, { id: "u" })
      yield* dir.createGroup(t, { id: "top" })
      for (const id of ids) {
        yield* dir.createGroup(t, { id })
        yield* store.groups.addMember(t, id, { kind: "user", id: "u" })
        yield* store.groups.addMember(t, "top", { kind: "group", id })
      }
      assert.deepStrictEqual(yield* allPages(yield* dir.memberOf(t, { kind: "user", id: "u" }, false)), ordered)
      // through them, "top" too
      assert.deepStrictEqual(yield* allPages(yield* dir.memberOf(t, { kind: "user", id: "u" }, true)), ["top", ...ordered])
      assert.deepStrictEqual(yield* allPages(yield* dir.transitiveMembers(t, "top")), ["u", ...ordered])
    }).pipe(Effect.provide(services)))
})
