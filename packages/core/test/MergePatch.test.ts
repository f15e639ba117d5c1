import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { Json, MergePatch } from "../src/index.ts"

/** RFC 7396's pseudo-code, written as it reads (recursive): what `apply` must answer. */
const reference = (target: any, patch: any): any => {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return patch
  const out: Record<string, any> = {}
  if (target !== null && typeof target === "object" && !Array.isArray(target)) {
    for (const key of Object.keys(target)) MergePatch.setOwn(out, key, target[key])
  }
  for (const key of Object.keys(patch)) {
    if (patch[key] === null) delete out[key]
    else MergePatch.setOwn(out, key, reference(Object.hasOwn(out, key) ? out[key] : undefined, patch[key]))
  }
  return out
}

/** Objects of a few keys, each there or not, nested a few levels: a patch and a target often share members, and often not. */
const Leaf = Schema.Union([Schema.Null, Schema.Boolean, Schema.Finite, Schema.Literals(["x", "y"]), Schema.Array(Schema.Literals([1, 2]))])
const objectOf = <S extends Schema.Top>(member: S) =>
  Schema.Struct({ a: Schema.optionalKey(member), b: Schema.optionalKey(member), c: Schema.optionalKey(member) })
const Doc = Schema.Union([Leaf, objectOf(Schema.Union([Leaf, objectOf(Schema.Union([Leaf, objectOf(Leaf)]))]))])

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

  it.prop("answers what the RFC's pseudo-code answers, and mutates neither argument", [Doc, Doc, Json.Json], ([target, patch, other]) => {
    for (const [t, p] of [[target, patch], [other, patch], [target, other]] as const) {
      const before = JSON.stringify([t, p])
      assert.deepStrictEqual(MergePatch.apply(t as Json.Json, p as Json.Json), reference(t, p))
      assert.strictEqual(JSON.stringify([t, p]), before)
    }
  }, { arbitrary: { runs: 300 } })

  it("merges a patch nested deeper than the call stack (since 0.12.0; the recursive form threw RangeError)", () => {
    const depth = 200_000
    let patch: any = { leaf: 1 }
    let target: any = { leaf: 0, kept: true }
    for (let i = 0; i < depth; i++) {
      patch = { n: patch }
      target = { n: target }
    }
    assert.throws(() => reference(target, patch), RangeError)
    let out: any = MergePatch.apply(target, patch)
    for (let i = 0; i < depth; i++) out = out.n
    assert.deepStrictEqual(out, { leaf: 1, kept: true })
  })

  it("refuses a patch that holds itself with a TypeError, and merges an object shared by two members at each (since 0.12.1)", () => {
    const cyclic: any = { a: { b: { keep: 1 } } }
    cyclic.a.b.loop = cyclic.a
    assert.throws(() => MergePatch.apply({ a: { x: 1 } }, cyclic), TypeError, /holds itself \(a cycle at the member "loop"\)/)
    const self: any = {}
    self.me = self
    assert.throws(() => MergePatch.apply(null, self), TypeError, /"me"/)
    // No cycle: one object under two keys, and under a sibling's member too.
    const shared = { v: 1, gone: null }
    const out = MergePatch.apply({ a: { gone: 0, w: 2 }, b: {} }, { a: shared, b: shared, c: { d: shared } } as any)
    assert.deepStrictEqual(out, { a: { w: 2, v: 1 }, b: { v: 1 }, c: { d: { v: 1 } } })
  })
})
