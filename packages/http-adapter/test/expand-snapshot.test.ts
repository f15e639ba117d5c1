/**
 * `$expand=assignments` reads in one snapshot of the store (since 0.11.0): an `assign` (or a
 * DELETE) landing between the read of the configurations and the read of their assignments is
 * in neither, on the tenant's path and on a user's. So does the list of a configuration's
 * assignments, or of the tenant's configurations, with `$count=true` (since 0.11.1): a write
 * landing between the page's read and the count's is in neither, and `@odata.count` counts the
 * set the page came from. A store hook lands the write there, as
 * another request would: the memory store holds it while a snapshot is open.
 */
import { Assignment, AssignmentTarget, Configuration, MemoryStore, Store } from "@enrollment/core"
import { Effect, Layer, Result } from "effect"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { interleavedWrite, start, succeeds, type TestServer } from "./support.ts"

const G = "#microsoft.graph."
const cfgs = "deviceManagement/deviceEnrollmentConfigurations"
const limit = { "@odata.type": `${G}deviceEnrollmentLimitConfiguration` }
const groupTarget = (groupId: string) => ({ "@odata.type": `${G}groupAssignmentTarget`, groupId })

describe("$expand=assignments and $count=true in one snapshot", () => {
  let s: TestServer
  /** The write another request makes just after the configurations' read. */
  const write = interleavedWrite()
  const store = Layer.effect(
    Store,
    Effect.map(MemoryStore.make, (store): Store["Service"] => {
      const fire = write.fire(store)
      return {
        ...store,
        configurations: {
          ...store.configurations,
          list: (t, p) => Effect.tap(store.configurations.list(t, p), () => fire),
          getMany: (t, ids) => Effect.tap(store.configurations.getMany(t, ids), () => fire)
        },
        assignments: { ...store.assignments, list: (t, c, p, f) => Effect.tap(store.assignments.list(t, c, p, f), () => fire) }
      }
    })
  )
  beforeAll(async () => {
    s = await start({ store })
    const ok = (method: string, path: string, body: unknown) => succeeds(s, method, path, body)
    await ok("POST", "users", { id: "u1", displayName: "U", userPrincipalName: "u1@example.com", accountEnabled: true })
    await ok("POST", "groups", { id: "g1", displayName: "G1", mailNickname: "g1", securityEnabled: true })
    await ok("POST", "groups", { id: "g9", displayName: "G9", mailNickname: "g9", securityEnabled: true })
    await ok("POST", "groups/g1/members/$ref", { "@odata.id": "https://graph.microsoft.com/beta/directoryObjects/u1" })
    await ok("POST", cfgs, { ...limit, id: "c1", displayName: "One", priority: 1 })
  })
  afterAll(async () => {
    await s?.close()
  })

  /** An `assign` of c1 whose set reaches only `group`'s members, as the store's replace makes it. */
  const assign = (ids: ReadonlyArray<string>, group: string) => (store: Store["Service"]) =>
    store.assignments.replace(
      "tenant-a",
      "c1",
      ids.map((id) => Assignment.make(id, { target: { ...AssignmentTarget.empty("groupAssignmentTarget"), groupId: group } as AssignmentTarget.AssignmentTarget, source: "direct", sourceId: null }))
    )

  it("lists a user's configurations with the assignments their targeting was decided on", async () => {
    for (const path of ["users/u1/deviceEnrollmentConfigurations?$expand=assignments", `${cfgs}?$expand=assignments`]) {
      await succeeds(s, "POST", `${cfgs}/c1/assign`, { enrollmentConfigurationAssignments: [{ id: "a1", target: groupTarget("g1") }] })
      write.arm(assign(["a2"], "g9"))
      const r = await s.request("GET", path)
      await write.settle()
      assert.strictEqual(r.status, 200, r.text)
      assert.deepStrictEqual(r.json.value.map((c: any) => [c.id, c.assignments.map((a: any) => a.id)]), [["c1", ["a1"]]], path)
      const after = await s.request("GET", path)
      assert.deepStrictEqual(after.json.value.map((c: any) => [c.id, c.assignments.map((a: any) => a.id)]), path.startsWith("users") ? [] : [["c1", ["a2"]]], `${path} after the assign`)
    }
  })

  it("counts the assignments the page was read from ($count=true)", async () => {
    await succeeds(s, "POST", `${cfgs}/c1/assign`, { enrollmentConfigurationAssignments: [{ id: "a1", target: groupTarget("g1") }] })
    for (const path of [`${cfgs}/c1/assignments?$count=true`, "users/u1/deviceEnrollmentConfigurations/c1/assignments?$count=true"]) {
      write.arm(assign(["a1", "a2", "a3"], "g1"))
      const r = await s.request("GET", path)
      await write.settle()
      assert.strictEqual(r.status, 200, r.text)
      assert.deepStrictEqual([r.json.value.map((a: any) => a.id), r.json["@odata.count"]], [["a1"], 1], path)
      const after = await s.request("GET", path)
      assert.deepStrictEqual([after.json.value.map((a: any) => a.id), after.json["@odata.count"]], [["a1", "a2", "a3"], 3], `${path} after the assign`)
      await succeeds(s, "POST", `${cfgs}/c1/assign`, { enrollmentConfigurationAssignments: [{ id: "a1", target: groupTarget("g1") }] })
    }
  })

  it("counts the configurations the page was read from ($count=true on the tenant's list)", async () => {
    const before = await s.request("GET", `${cfgs}?$count=true`)
    const n = before.json["@odata.count"]
    assert.strictEqual(n, before.json.value.length)
    write.arm((store) =>
      store.configurations.insert(
        "tenant-a",
        Configuration.make("c-late", Result.getOrThrow(Configuration.decodeCreate({ ...limit, displayName: "Late", priority: 9 })), new Date().toISOString())
      ))
    // Other spellings of one list: a GET's answer is kept while the store's data is unchanged.
    const r = await s.request("GET", `${cfgs}?$count=true&$top=50`)
    await write.settle()
    assert.strictEqual(r.status, 200, r.text)
    assert.deepStrictEqual([r.json.value.length, r.json["@odata.count"]], [n, n])
    const after = await s.request("GET", `${cfgs}?$count=true&$top=60`)
    assert.deepStrictEqual([after.json.value.length, after.json["@odata.count"]], [n + 1, n + 1])
    await succeeds(s, "DELETE", `${cfgs}/c-late`, undefined)
  })
})
