/**
 * Ids a URL's path cannot carry as a segment of their own (since 0.8.1). `.` and `..` are valid keys
 * (SPEC 2: 1–128 characters, no `/`, no control characters), but dot segments: every URL parser
 * (WHATWG URL, so `fetch`; curl; the Graph SDKs, whose templates leave unreserved characters as they
 * are) removes them before the request is sent, so `…/assignments/..` names the configuration. An
 * id beginning with `$` is valid too, but `…/assignments/$count` (or `%24count`) is the count. A
 * create's `Location` names such an id in the parenthesis form, which no parser touches and which
 * reaches the entity alone: before, `Location: …/assignments/..` led a client that followed it to
 * the configuration (a DELETE through it deleted the configuration and its assignments).
 */
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { start, type TestServer } from "./support.ts"

const G = "#microsoft.graph."
const cfgs = "deviceManagement/deviceEnrollmentConfigurations"
const limit = (id: string) => ({ "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id, limit: 1 })

describe("ids a URL's path cannot carry", () => {
  let s: TestServer
  beforeAll(async () => {
    s = await start()
    assert.strictEqual((await s.request("POST", cfgs, { body: limit("victim") })).status, 201)
    assert.strictEqual((await s.request("POST", `${cfgs}/victim/assignments`, { body: { id: "a1" } })).status, 201)
  })
  afterAll(() => s.close())

  /** The path of a `Location` under the server's base, as a client that follows it asks for it. */
  const followed = (location: string) => location.slice(s.base.length + 1)

  it("creates '.' and '..' (valid keys), naming them in Location in the parenthesis form, which reaches them alone", async () => {
    for (const id of [".", ".."]) {
      const made = await s.request("POST", `${cfgs}/victim/assignments`, { body: { id, sourceId: `made ${id}` } })
      assert.strictEqual(made.status, 201, made.text)
      const location = made.headers.get("location")!
      assert.strictEqual(location, `${s.base}/${cfgs}/victim/assignments('${id}')`)
      // A client that parses it (WHATWG URL, as fetch does) keeps the key: the segment form loses it.
      assert.isTrue(new URL(location).pathname.endsWith(`/assignments('${id}')`))
      assert.isFalse(new URL(`${s.base}/${cfgs}/victim/assignments/${id}`).pathname.endsWith(`/${id}`))
      const got = await s.request("GET", followed(location))
      assert.strictEqual(got.status, 200, got.text)
      assert.strictEqual(got.json.id, id)
      const patched = await s.request("PATCH", followed(location), { body: { sourceId: `patched ${id}` } })
      assert.strictEqual(patched.status, 200, patched.text)
      assert.strictEqual(patched.json.id, id)
    }
    // A configuration and a directory object too.
    for (const [path, body] of [[cfgs, limit("..")], ["users", { id: ".." }], ["groups", { id: "." }]] as const) {
      const made = await s.request("POST", path, { body })
      assert.strictEqual(made.status, 201, `${path}: ${made.text}`)
      assert.strictEqual(made.headers.get("location"), `${s.base}/${path}('${body.id}')`)
      assert.strictEqual((await s.request("GET", followed(made.headers.get("location")!))).json.id, body.id)
    }
    // DELETE through the Location removes the assignment, and the configuration stays whole.
    assert.strictEqual((await s.request("DELETE", `${cfgs}/victim/assignments('..')`)).status, 204)
    assert.strictEqual((await s.request("GET", `${cfgs}/victim`)).status, 200)
    const left = (await s.request("GET", `${cfgs}/victim/assignments`)).json.value.map((a: { id: string }) => a.id).sort()
    assert.deepStrictEqual(left, [".", "a1"])
  })

  it("names an id beginning with '$' in the parenthesis form in Location, which reaches the entity, not the count", async () => {
    for (const id of ["$count", "$ref", "$it's"]) {
      const made = await s.request("POST", `${cfgs}/victim/assignments`, { body: { id, sourceId: `made ${id}` } })
      assert.strictEqual(made.status, 201, made.text)
      const location = made.headers.get("location")!
      assert.strictEqual(location, `${s.base}/${cfgs}/victim/assignments('${encodeURIComponent(id.replaceAll("'", "''"))}')`)
      const got = await s.request("GET", followed(location))
      assert.strictEqual(got.status, 200, `${id}: ${got.text}`)
      assert.strictEqual(got.json.id, id)
      assert.strictEqual(got.json.sourceId, `made ${id}`)
    }
    // The segment form of the same id is the count (text), as OData reads `$count`.
    const count = await s.request("GET", `${cfgs}/victim/assignments/%24count`)
    assert.strictEqual(count.status, 200)
    assert.strictEqual(count.text, "5")
  })

  it("names any other id in the segment form, percent-encoded, as before", async () => {
    for (const id of ["...", ".a", "a b", "é", "x('y')"]) {
      const made = await s.request("POST", `${cfgs}/victim/assignments`, { body: { id } })
      assert.strictEqual(made.status, 201, `${id}: ${made.text}`)
      assert.strictEqual(made.headers.get("location"), `${s.base}/${cfgs}/victim/assignments/${encodeURIComponent(id)}`)
      assert.strictEqual((await s.request("GET", followed(made.headers.get("location")!))).json.id, id)
    }
  })
})
