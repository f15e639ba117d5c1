/**
 * The read cache against a model: a plain map of every value set and not deleted. Under
 * any sequence of sets, deletes, clears and one tenant's clears, the cache holds at most its bound, never
 * answers a value the model does not hold for that key (an evicted key answers nothing),
 * and, with room for every key, answers exactly what the model holds.
 */
import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { largeCharsPerEntry, largeText, noteText, ReadCache } from "../src/ReadCache.ts"

// Two names per level, so that sequences revisit keys and keys share levels.
const Part = Schema.Literals(["a", "b"])
const Op = Schema.Union([
  Schema.Struct({ op: Schema.Literal("set"), key: Schema.Tuple([Part, Part, Part, Part]), value: Schema.Int }),
  Schema.Struct({ op: Schema.Literal("delete"), key: Schema.Tuple([Part, Part, Part, Part]) }),
  Schema.Struct({ op: Schema.Literal("clear") }),
  Schema.Struct({ op: Schema.Literal("clearTenant"), tenant: Part })
])
const Capacity = Schema.Literals([1, 3, 1000])
/** Sequences long enough to fill a small cache several times over. */
const Ops = Schema.Array(Op).check(Schema.isMinLength(8))

const name = (k: ReadonlyArray<string>) => JSON.stringify(k)

describe("ReadCache", () => {
  it.prop("agrees with a map of what was set, within its bound", [Ops, Capacity], ([ops, capacity]) => {
    const cache = new ReadCache(capacity)
    const model = new Map<string, { readonly key: readonly [string, string, string, string]; readonly value: number }>()
    for (const o of ops) {
      if (o.op === "set") {
        cache.set(...o.key, o.value)
        model.set(name(o.key), { key: o.key, value: o.value })
      } else if (o.op === "delete") {
        const [tenant, space, group, id] = o.key
        cache.apply({ _tag: "Delete", key: { tenant, space, group, id } })
        model.delete(name(o.key))
      } else if (o.op === "clearTenant") {
        const generation = cache.generation(o.tenant)
        const other = o.tenant === "a" ? "b" : "a"
        const otherGeneration = cache.generation(other)
        cache.apply({ _tag: "ClearTenant", tenant: o.tenant })
        for (const [k, v] of model) if (v.key[0] === o.tenant) model.delete(k)
        assert.notStrictEqual(cache.generation(o.tenant), generation, "the tenant's generation moves")
        assert.strictEqual(cache.generation(other), otherGeneration, "another tenant's stays")
      } else {
        cache.clear()
        model.clear()
      }
      assert.isAtMost(cache.size, capacity)
      for (const { key, value } of model.values()) {
        const held = cache.get(...key)
        if (capacity >= 1000) assert.strictEqual(held, value)
        else if (held !== undefined) assert.strictEqual(held, value)
      }
      if (capacity >= 1000) assert.strictEqual(cache.size, model.size)
      if (o.op === "delete") assert.isUndefined(cache.get(...o.key))
      if (o.op === "set") assert.strictEqual(cache.get(...o.key), o.value, "the newest entry stays")
    }
  })
})

describe("ReadCache, values of long stored text", () => {
  const noted = <A extends object>(value: A): A => {
    noteText(JSON.stringify(value), value)
    return value
  }
  const user = (id: string, chars: number) => noted({ id, aboutMe: "x".repeat(chars) })

  it("keeps values over largeText apart, weighed by their text, the oldest dropped past its budget", () => {
    const cache = new ReadCache(100)
    assert.strictEqual(cache.largeBudget, 100 * largeCharsPerEntry)
    const small = noted({ id: "u", aboutMe: "x" })
    cache.set("t", "users", "", "u", small)
    assert.strictEqual(cache.get("t", "users", "", "u"), small)
    // A write that made the value large: the large one answered, the small one gone.
    const grown = user("u", largeText)
    cache.set("t", "users", "", "u", grown)
    assert.strictEqual(cache.get("t", "users", "", "u"), grown)
    assert.strictEqual(cache.size, 1)
    // And small again.
    const shrunk = noted({ id: "u" })
    cache.set("t", "users", "", "u", shrunk)
    assert.strictEqual(cache.get("t", "users", "", "u"), shrunk)
    assert.strictEqual(cache.size, 1)
    // Past the budget, the one kept longest goes first: 30 of 5 000 characters in a budget of 102 400.
    const many = Array.from({ length: 30 }, (_, i) => user(`m${i}`, 5_000))
    many.forEach((m, i) => cache.set("t", "users", "", `m${i}`, m))
    const kept = many.filter((m, i) => cache.get("t", "users", "", `m${i}`) === m).length
    assert.isAtMost(kept * 5_000, cache.largeBudget)
    assert.isAtLeast(kept, 18)
    assert.isUndefined(cache.get("t", "users", "", "m0"), "the oldest dropped")
    assert.strictEqual(cache.get("t", "users", "", "m29"), many[29])
    // Over an eighth of the budget: not kept, and nothing older answered under its key.
    cache.set("t", "users", "", "m29", user("m29", cache.largeBudget / 8 + 1))
    assert.isUndefined(cache.get("t", "users", "", "m29"))
    // A tenant's removal and a key's deletion reach the large entries too.
    cache.apply({ _tag: "Delete", key: { tenant: "t", space: "users", group: "", id: "m28" } })
    assert.isUndefined(cache.get("t", "users", "", "m28"))
    cache.apply({ _tag: "ClearTenant", tenant: "t" })
    assert.strictEqual(cache.size, 0)
  })
})
