import { assert, describe, it } from "@effect/vitest"
import { MergePatch } from "../src/index.ts"

// RFC 7396, Appendix A: every example, verbatim.
const examples: ReadonlyArray<[original: any, patch: any, result: any]> = [
  [{ a: "b" }, { a: "c" }, { a: "c" }],
  [{ a: "b" }, { b: "c" }, { a: "b", b: "c" }],
  [{ a: "b" }, { a: null }, {}],
  [{ a: "b", b: "c" }, { a: null }, { b: "c" }],
  [{ a: ["b"] }, { a: "c" }, { a: "c" }],
  [{ a: "c" }, { a: ["b"] }, { a: ["b"] }],
  [{ a: { b: "c" } }, { a: { b: "d", c: null } }, { a: { b: "d" } }],
  [{ a: [{ b: "c" }] }, { a: [1] }, { a: [1] }],
  [["a", "b"], ["c", "d"], ["c", "d"]],
  [{ a: "b" }, ["c"], ["c"]],
  [{ a: "foo" }, null, null],
  [{ a: "foo" }, "bar", "bar"],
  [{ e: null }, { a: 1 }, { e: null, a: 1 }],
  [[1, 2], { a: "b", c: null }, { a: "b" }],
  [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }]
]

describe("RFC 7396 JSON Merge Patch", () => {
  it.each(examples)("merges %j with %j into %j (RFC 7396 appendix A)", (original, patch, result) => {
    const before = JSON.stringify(original)
    assert.deepStrictEqual(MergePatch.apply(original, patch), result)
    assert.strictEqual(JSON.stringify(original), before, "the original is not mutated")
  })

  it("keeps __proto__ as a plain member and never touches the prototype", () => {
    const out = MergePatch.apply({}, JSON.parse(`{"__proto__":{"polluted":true}}`)) as any
    assert.strictEqual(Object.getPrototypeOf(out), Object.prototype)
    assert.isTrue(Object.hasOwn(out, "__proto__"))
    assert.strictEqual(({} as any).polluted, undefined)
  })
})
