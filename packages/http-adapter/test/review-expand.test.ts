/**
 * `$expand=assignments` with thousands of assignments, on a real server: one answer
 * expands at most 10 000 assignments (`Routes.expandBudget`). A list's page ends early with a
 * next link (the tenant's list and a user's), one configuration's expansion carries
 * `assignments@odata.nextLink` to the rest, and following the links reads every
 * configuration and assignment exactly once; with `$top`, `$count` and `$select`.
 */
import { MemoryStore } from "@enrollment/core"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { heldMemoryStore, start, type TestServer } from "./support.ts"

const G = "#microsoft.graph."
const cfgs = "deviceManagement/deviceEnrollmentConfigurations"
/** The most assignments one answer expands (`Routes.expandBudget`, as the README states it). */
const budget = 10_000

/** `n` assignments to all licensed users, as compact as `assign` takes them (ids sort as numbered). */
const assignments = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({ id: `${prefix}${String(i).padStart(6, "0")}`, target: { "@odata.type": `${G}allLicensedUsersAssignmentTarget` } }))

describe("$expand=assignments with thousands of assignments", () => {
  let s: TestServer
  const store = heldMemoryStore()
  beforeAll(async () => {
    s = await start({ store: store.layer })
    const sizes: ReadonlyArray<readonly [string, number]> = [["c1", budget * 0.6], ["c2", budget * 0.6], ["c3", 3], ["c4", budget + 5]]
    for (const [id, n] of sizes) {
      assert.strictEqual((await s.request("POST", cfgs, { body: { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id, priority: 1 } })).status, 201)
      // More than one `assign` takes (core's Configuration.maxAssignItems): set in the store.
      await store.replace("tenant-a", id, assignments("a", n))
    }
    assert.strictEqual((await s.request("POST", "users", { body: { id: "u1" } })).status, 201)
  })
  afterAll(async () => {
    await s?.close()
  })

  /** Every page of `path`, following @odata.nextLink. */
  const pages = async (path: string) => {
    const out: Array<any> = []
    let next: string | undefined = `${s.base}/${path}`
    while (next !== undefined) {
      const r = await s.request("GET", next.slice(s.base.length + 1))
      assert.strictEqual(r.status, 200, r.text.slice(0, 300))
      out.push(r.json)
      next = r.json["@odata.nextLink"]
    }
    return out
  }

  for (const path of [cfgs, "users/u1/deviceEnrollmentConfigurations"]) {
    it(`ends a page of ${path} after the configuration whose assignments reach the budget, and the next link goes on from there`, async () => {
      const all = await pages(`${path}?$expand=assignments&$top=999&$count=true&$select=id,priority`)
      const ids = all.map((p) => p.value.map((c: any) => c.id))
      assert.deepStrictEqual(ids, [["c1", "c2"], ["c3", "c4"]], "the first page ends once 12 000 assignments are expanded")
      for (const p of all) {
        assert.strictEqual(p["@odata.count"], 4, "$count counts the configurations, whatever the page holds")
        assert.isAtMost(p.value.reduce((n: number, c: any) => n + c.assignments.length, 0), 2 * budget)
      }
      const byId = Object.fromEntries(all.flatMap((p) => p.value).map((c: any) => [c.id, c]))
      assert.deepStrictEqual(Object.keys(byId.c1).sort(), ["@odata.etag", "@odata.type", "assignments", "assignments@odata.context", "id", "priority"])
      assert.deepStrictEqual([byId.c1.assignments.length, byId.c2.assignments.length, byId.c3.assignments.length], [budget * 0.6, budget * 0.6, 3])
      assert.notProperty(byId.c1, "assignments@odata.nextLink")
      assert.strictEqual(byId.c4.assignments.length, budget)
      assert.include(all[0]["@odata.nextLink"], "$expand=assignments")
    })
  }

  it("expands at most the budget of one configuration's assignments, with assignments@odata.nextLink to the rest", async () => {
    for (const path of [`${cfgs}/c4`, "users/u1/deviceEnrollmentConfigurations/c4", `${cfgs}('c4')`]) {
      const r = await s.request("GET", `${path}?$expand=assignments`)
      assert.strictEqual(r.status, 200, r.text.slice(0, 300))
      const expanded: Array<any> = r.json.assignments
      assert.strictEqual(expanded.length, budget, path)
      assert.deepStrictEqual(Object.keys(r.json).slice(-3), ["assignments@odata.context", "assignments@odata.nextLink", "assignments"])
      const rest = (await pages(r.json["assignments@odata.nextLink"].slice(s.base.length + 1))).flatMap((p) => p.value)
      assert.deepStrictEqual(
        [...expanded, ...rest].map((a) => a.id),
        assignments("a", budget + 5).map((a) => a.id),
        `${path}: every assignment once, in order`
      )
    }
    const small = await s.request("GET", `${cfgs}/c3?$expand=assignments`)
    assert.notProperty(small.json, "assignments@odata.nextLink")
    assert.strictEqual(small.json.assignments.length, 3)
  })

  it("says so in the OpenAPI document, wherever $expand is served", async () => {
    const doc = (await s.request("GET", "openapi.json", { token: null })).json
    const described = Object.values(doc.paths).flatMap((p: any) => Object.values(p)).flatMap((op: any) => op.parameters ?? [])
      .filter((x: any) => x.name === "$expand")
    assert.isAtLeast(described.length, 6)
    for (const x of described) assert.include(x.description, `at most ${budget} related entities`)
  })
})
