/**
 * Ids a URL's path cannot carry as a segment of their own (since 0.8.1). `.` and `..` are dot
 * segments: every URL parser (WHATWG URL, so `fetch`; curl; the Graph SDKs, whose templates leave
 * unreserved characters as they are) removes them before the request is sent, so `DELETE
 * …/configurations/victim/assignments/..` reaches the server as `DELETE …/configurations/victim`
 * and deletes the configuration. Every create refuses them (core's `Id.NewId`), naming the rule;
 * one stored before is still reached in the parenthesis form, which no URL parser touches. An id
 * beginning with `$` stays a valid key (SPEC 2), but `…/assignments/$count` (or `%24count`) is the
 * count: a create's `Location` names it in the parenthesis form, which reaches it.
 */
import { Assignment, Configuration, MemoryStore, Store } from "@enrollment/core"
import { Effect, Layer } from "effect"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { errorOf, start, type TestServer } from "./support.ts"

const G = "#microsoft.graph."
const cfgs = "deviceManagement/deviceEnrollmentConfigurations"
const limit = (id: string) => ({ "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id, limit: 1 })

/** A store holding what a store written before 0.8.1 may hold: a configuration and an assignment whose ids are `..`. */
const legacy = Layer.effect(
  Store,
  Effect.gen(function*() {
    const store = yield* Store
    const made = Configuration.decodeCreate({ "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, limit: 2 })
    if (made._tag !== "Success") throw new Error("the legacy configuration does not decode")
    yield* store.configurations.insert("tenant-a", Configuration.make("..", made.success, "2026-11-01T00:00:00.000Z"))
    yield* store.configurations.insert("tenant-a", Configuration.make("old", made.success, "2026-11-01T00:00:00.000Z"))
    yield* store.assignments.insert("tenant-a", "old", Assignment.make("..", { target: null, source: "direct", sourceId: "legacy" }))
    return store
  }).pipe(Effect.orDie)
).pipe(Layer.provide(MemoryStore.layer))

describe("ids a URL's path cannot carry", () => {
  let s: TestServer
  beforeAll(async () => {
    s = await start({ store: legacy })
    assert.strictEqual((await s.request("POST", cfgs, { body: limit("victim") })).status, 201)
    assert.strictEqual((await s.request("POST", "invitations", { body: { id: "i1", invitedUserEmailAddress: "g@fabrikam.com", inviteRedirectUrl: "https://x" } })).status, 201)
    assert.strictEqual((await s.request("POST", `${cfgs}/victim/assignments`, { body: { id: "a1", target: { "@odata.type": `${G}allLicensedUsersAssignmentTarget` } } })).status, 201)
  })
  afterAll(() => s.close())

  it("refuses '.' and '..' on every create, naming the rule, and stores nothing", async () => {
    const rule = "expected an id of 1 to 128 characters without '/' or control characters, other than '.' and '..'"
    for (const id of [".", ".."]) {
      const creates: ReadonlyArray<readonly [string, string, unknown]> = [
        ["configuration", cfgs, limit(id)],
        ["assignment", `${cfgs}/victim/assignments`, { id }],
        ["assignment (invitation path)", "invitations/i1/invitedUser/deviceEnrollmentConfigurations/victim/assignments", { id }],
        ["assign action", `${cfgs}/victim/assign`, { enrollmentConfigurationAssignments: [{ id }] }],
        ["user", "users", { id }],
        ["group", "groups", { id }],
        ["invitation", "invitations", { id, invitedUserEmailAddress: "d@fabrikam.com", inviteRedirectUrl: "https://x" }]
      ]
      for (const [what, path, body] of creates) {
        const r = await s.request("POST", path, { body })
        assert.strictEqual(r.status, 400, `${what} ${id}: ${r.text}`)
        assert.include(errorOf(r).message, rule, `${what} ${id}`)
        assert.include(errorOf(r).message, `got "${id}"`, `${what} ${id}`)
      }
    }
    const assignments = await s.request("GET", `${cfgs}/victim/assignments`)
    assert.deepStrictEqual(assignments.json.value.map((a: { id: string }) => a.id), ["a1"])
    assert.deepStrictEqual((await s.request("GET", "users")).json.value.map((u: { id: string }) => u.id).filter((id: string) => id.startsWith(".")), [])
    assert.deepStrictEqual((await s.request("GET", "groups")).json.value, [])
    // The names that merely begin or end with dots are ids like any other.
    for (const id of ["...", ".a", "a..", ".hidden"]) {
      const r = await s.request("POST", `${cfgs}/victim/assignments`, { body: { id } })
      assert.strictEqual(r.status, 201, `${id}: ${r.text}`)
      assert.isTrue(r.headers.get("location")!.endsWith(`/assignments/${id}`), r.headers.get("location")!)
      assert.strictEqual((await s.request("DELETE", `${cfgs}/victim/assignments/${id}`)).status, 204)
    }
  })

  it("still reaches what a store holds from before, in the parenthesis form, and PATCHes and deletes it alone", async () => {
    const got = await s.request("GET", `${cfgs}/old/assignments('..')`)
    assert.strictEqual(got.status, 200, got.text)
    assert.strictEqual(got.json.sourceId, "legacy")
    const patched = await s.request("PATCH", `${cfgs}/old/assignments('..')`, { body: { sourceId: "fixed" } })
    assert.strictEqual(patched.status, 200, patched.text)
    assert.strictEqual((await s.request("GET", `${cfgs}/old`)).status, 200)
    assert.strictEqual((await s.request("GET", `${cfgs}('..')`)).json.limit, 2)
    assert.strictEqual((await s.request("DELETE", `${cfgs}/old/assignments('..')`)).status, 204)
    assert.strictEqual((await s.request("GET", `${cfgs}/old`)).status, 200, "the configuration stays")
    assert.strictEqual((await s.request("DELETE", `${cfgs}('..')`)).status, 204)
  })

  it("names an id beginning with '$' in the parenthesis form in Location, which reaches the entity, not the count", async () => {
    for (const id of ["$count", "$ref", "$it's"]) {
      const made = await s.request("POST", `${cfgs}/victim/assignments`, { body: { id, sourceId: `made ${id}` } })
      assert.strictEqual(made.status, 201, made.text)
      const location = made.headers.get("location")!
      const encoded = encodeURIComponent(id.replaceAll("'", "''"))
      assert.strictEqual(location, `${s.base}/${cfgs}/victim/assignments('${encoded}')`)
      const got = await s.request("GET", location.slice(s.base.length + 1))
      assert.strictEqual(got.status, 200, `${id}: ${got.text}`)
      assert.strictEqual(got.json.id, id)
      assert.strictEqual(got.json.sourceId, `made ${id}`)
    }
    // The segment form of the same id is the count (text), as OData reads `$count`.
    const count = await s.request("GET", `${cfgs}/victim/assignments/%24count`)
    assert.strictEqual(count.status, 200)
    assert.strictEqual(count.text, "4")
  })
})
