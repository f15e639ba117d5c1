/**
 * GET answers kept by the tenant's stamp (AnswerCache): the bounds of the cache,
 * and over SQLite that a repeated GET does not reach the store while nothing of
 * the tenant changed, and that every write (this server's, another
 * connection's) retires the kept answer.
 */
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Store } from "@enrollment/core"
import { SqliteStore } from "@enrollment/store-adapter"
import { Effect, Layer, Option, Result } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { AnswerCache } from "../src/AnswerCache.ts"
import { start, type TestServer } from "./support.ts"

const G = "#microsoft.graph."
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "http-answers-"))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

const answer = (body: string) => ({ status: 200, body, type: "application/json", headers: { etag: "W/\"x\"" } })

describe("AnswerCache", () => {
  it("serves an answer only at the stamp it was made at, and drops a stale one", () => {
    const c = new AnswerCache(1 << 20)
    c.set("k", 1, answer("one"))
    assert.strictEqual(c.get("k", 1)?.body, "one")
    assert.isUndefined(c.get("k", 2))
    assert.strictEqual(c.size, 0, "the stale answer is gone")
    assert.strictEqual(c.bytes, 0)
    c.set("k", Number.NaN, answer("never"))
    assert.strictEqual(c.size, 0, "an answer made when the store could not say is not kept")
  })

  it("stays within its byte budget, oldest first, and keeps no answer over a sixteenth of it", () => {
    const c = new AnswerCache(64 * 1024)
    for (let i = 0; i < 100; i++) c.set(`k${i}`, 1, answer("x".repeat(1000)))
    assert.isAtMost(c.bytes, 64 * 1024)
    assert.isBelow(c.size, 100)
    assert.isUndefined(c.get("k0", 1), "the oldest went first")
    assert.strictEqual(c.get("k99", 1)?.body.length, 1000)
    c.set("big", 1, answer("x".repeat(4096)))
    assert.isUndefined(c.get("big", 1))
    const off = new AnswerCache(0)
    off.set("k", 1, answer("x"))
    assert.strictEqual(off.size, 0)
  })
})

describe("GET answers over SQLite", () => {
  const filename = path.join(dir, "answers.sqlite")
  const db = SqliteStore.open({ filename })
  const other = SqliteStore.fromDatabase(SqliteStore.open({ filename }))
  const store = SqliteStore.fromDatabase(db)
  let reads = 0
  // Counts the domain's reads of the assignment, alone or with its path's resolution: a kept answer makes none.
  const counting: Store["Service"] = {
    ...store,
    assignments: {
      ...store.assignments,
      get: (...args) => {
        reads++
        return store.assignments.get(...args)
      }
    },
    resolveConfiguration: (tenant, parent, configurationId, assignmentId) => {
      if (assignmentId !== undefined) reads++
      return store.resolveConfiguration!(tenant, parent, configurationId, assignmentId)
    }
  }
  let s: TestServer
  let off: TestServer
  const one = "invitations/i1/invitedUser/deviceEnrollmentConfigurations/c1/assignments/a1"

  const seed = async (t: TestServer, tenant: string) => {
    const ok = (r: { status: number; text: string }, status: number) => assert.strictEqual(r.status, status, r.text)
    const cfgs = "deviceManagement/deviceEnrollmentConfigurations"
    ok(await t.request("POST", cfgs, { tenant, body: { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: "c1", displayName: "Limit", limit: 5 } }), 201)
    ok(await t.request("POST", "invitations", { tenant, body: { id: "i1", invitedUserEmailAddress: "guest@example.com", inviteRedirectUrl: "https://example.com" } }), 201)
    ok(await t.request("POST", `${cfgs}/c1/assignments`, { tenant, body: { id: "all", target: { "@odata.type": `${G}allLicensedUsersAssignmentTarget` } } }), 201)
    ok(await t.request("POST", `${cfgs}/c1/assignments`, { tenant, body: { id: "a1", target: { "@odata.type": `${G}groupAssignmentTarget`, groupId: "g1" } } }), 201)
  }

  afterAll(async () => {
    await s?.close()
    await off?.close()
    db.close()
  })

  it("answers a repeated GET without reaching the store, until the tenant's data changes", async () => {
    s = await start({ store: Layer.succeed(Store, counting) })
    await seed(s, "tenant-a")
    await seed(s, "tenant-b")
    const first = await s.request("GET", one)
    assert.strictEqual(first.status, 200, first.text)
    const before = reads
    const again = await s.request("GET", one)
    assert.strictEqual(again.text, first.text)
    assert.strictEqual(again.headers.get("etag"), first.headers.get("etag"))
    assert.isString(again.headers.get("request-id"))
    assert.notStrictEqual(again.headers.get("request-id"), first.headers.get("request-id"), "each answer carries its own request id")
    assert.strictEqual(reads, before, "the kept answer was served")

    const selected = await s.request("GET", `${one}?$select=id`)
    assert.deepStrictEqual(Object.keys(selected.json).filter((k) => !k.startsWith("@")), ["id"])
    assert.strictEqual(reads, before + 1, "another query is another answer")

    assert.strictEqual((await s.request("PATCH", "deviceManagement/deviceEnrollmentConfigurations/c1", { tenant: "tenant-b", body: { displayName: "other tenant" } })).status, 200)
    assert.strictEqual((await s.request("GET", one)).text, first.text)
    assert.strictEqual(reads, before + 1, "another tenant's write leaves the answer")

    const patched = await s.request("PATCH", one, { body: { source: "policySets", sourceId: "p1" } })
    assert.strictEqual(patched.status, 200, patched.text)
    const after = await s.request("GET", one)
    assert.strictEqual(after.json.sourceId, "p1", "this server's write retires the kept answer")
    assert.strictEqual(after.headers.get("etag"), patched.headers.get("etag"))
    assert.strictEqual(reads, before + 2)

    await Effect.runPromise(other.assignments.modify("tenant-a", "c1", "a1", (a) => Result.succeed({ ...a, sourceId: "from another process" })))
    const seen = await s.request("GET", one)
    assert.strictEqual(seen.json.sourceId, "from another process", "another connection's commit retires it too")

    assert.strictEqual((await s.request("DELETE", one)).status, 204)
    assert.strictEqual((await s.request("GET", one)).status, 404, "a removal retires it")
    assert.strictEqual(Option.isNone(await Effect.runPromise(store.assignments.get("tenant-a", "c1", "a1"))), true)
  })

  it("keeps nothing with a budget of 0", async () => {
    off = await start({ store: Layer.succeed(Store, counting), answerCacheBytes: 0 })
    const path2 = "invitations/i1/invitedUser/deviceEnrollmentConfigurations/c1/assignments/all"
    assert.strictEqual((await off.request("GET", path2, { tenant: "tenant-b" })).status, 200)
    const before = reads
    assert.strictEqual((await off.request("GET", path2, { tenant: "tenant-b" })).status, 200)
    assert.strictEqual(reads, before + 1)
  })
})

