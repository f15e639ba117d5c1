/**
 * A member given twice in one object of a JSON text (core 0.12.1, `Json.duplicateMember`): found,
 * with its path, wherever it is, and never found in a text without one (a review of the HTTP face,
 * 2026-12-02: `{"id":"other","id":"a1"}` was applied as the second, as `JSON.parse` keeps it).
 */
import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { Json } from "../src/index.ts"

const found = (text: string) => Json.duplicateMember(text, JSON.parse(text))

describe("Json.duplicateMember", () => {
  it("finds a repeat at the top, in nested objects and in arrays, by its path, the first in text order", () => {
    assert.deepStrictEqual(found(`{"id":"other","id":"a1"}`), {
      key: "id",
      path: "id",
      message: "id: given more than once in one object; OData does not allow duplicate property names"
    })
    assert.strictEqual(found(`{"target":{"@odata.type":"#a","groupId":"g","@odata.type":"#b"}}`)?.path, "target.@odata.type")
    assert.strictEqual(found(`{"requests":[{"id":"1","body":{"x":1}},{"id":"2","body":{"x":1,"y":{},"x":2}}]}`)?.path, "requests[1].body.x")
    assert.strictEqual(found(`[[1,{"a":1}],{"b":[{"c":1,"c":1}]}]`)?.path, "[1].b[0].c")
    assert.strictEqual(found(`{"a":{"b":1,"b":2},"a":3}`)?.path, "a.b")
    assert.strictEqual(found(` { "a" : 1 ,\n "a" : 1 } `)?.path, "a")
  })

  it("compares names as JSON reads them (escapes included), and keeps prototype names as data", () => {
    assert.strictEqual(found(`{"id":1,"\\u0069d":2}`)?.key, "id")
    assert.strictEqual(found(`{"a\\"b":1,"a\\u0022b":2}`)?.key, "a\"b")
    assert.strictEqual(found(`{"__proto__":{},"__proto__":{"polluted":true}}`)?.key, "__proto__")
    assert.isUndefined(found(`{"a":1,"A":1,"a ":1,"\\\\a":1}`))
  })

  it("finds nothing where the same name is in different objects, or where strings hold colons and quotes", () => {
    assert.isUndefined(found(`{"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]}`))
    assert.isUndefined(found(`{"url":"https://x.example/a:b","note":"\\"a\\":1,\\"a\\":2","m":{"k":"{\\"k\\":1}"}}`))
    assert.isUndefined(found(`["a:b","c:d",{"x":"y:z"}]`))
    assert.isUndefined(found(`"a:b"`))
    assert.isUndefined(found(`{}`))
  })

  it.prop("finds nothing in any text JSON.stringify writes", [Json.Json], ([value]) => {
    for (const text of [JSON.stringify(value), JSON.stringify(value, null, 2)]) {
      assert.isUndefined(Json.duplicateMember(text, JSON.parse(text)), text)
    }
  }, { arbitrary: { runs: 300 } })

  const Member = Schema.Record(Schema.String, Json.Json)
  it.prop("finds a repeat put into any object, under any path, by that path", [Member, Json.Json, Schema.String, Schema.Int], ([object, other, name, where]) => {
    const keys = Object.keys(object)
    if (keys.length === 0) return
    const key = keys[Math.abs(where) % keys.length]!
    const inner = `${JSON.stringify(object).slice(0, -1)},${JSON.stringify(key)}:${JSON.stringify(other)}}`
    const place = Math.abs(where) % 3
    const text = place === 0 ? inner : place === 1 ? `[${JSON.stringify(other)},${inner}]` : `{${JSON.stringify(name)}:${inner}}`
    // Paths are joined as the core's others are: a member of the top (or of a member named "") is its name alone.
    const path = place === 0 ? key : place === 1 ? `[1].${key}` : name === "" ? key : `${name}.${key}`
    assert.deepInclude(Json.duplicateMember(text, JSON.parse(text)), { key, path }, text)
  }, { arbitrary: { runs: 300 } })
})
