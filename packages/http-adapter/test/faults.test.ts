/**
 * A fault in the answer to a request whose work finished later (the store's write or
 * read answered in another turn, as SQLite's and PostgreSQL's do): a 500 for that request,
 * the defect in the log, and the process and its other requests unharmed.
 */
import { Assignments, MemoryStore } from "@enrollment/core"
import { Effect, Layer } from "effect"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { start, type TestServer } from "./support.ts"

describe("a fault after the work went asynchronous", () => {
  let s: TestServer
  beforeAll(async () => {
    // An assignment that cannot be written as JSON (a BigInt), answered in a later turn.
    const faulty = Layer.effect(
      Assignments,
      Effect.map(Assignments, (real) =>
        Assignments.of({
          ...real,
          get: (tenant, parent, configurationId, id) =>
            id === "bad"
              ? Effect.delay(
                Effect.succeed({ "@odata.type": "#microsoft.graph.enrollmentConfigurationAssignment", id, source: "direct", sourceId: 10n, target: null } as any),
                "5 millis"
              )
              : real.get(tenant, parent, configurationId, id)
        }))
    ).pipe(Layer.provide(Assignments.layer), Layer.provide(MemoryStore.layer))
    s = await start({ extra: faulty as any })
  })
  afterAll(async () => {
    await s?.close()
  })

  it("answers 500 in the Graph shape, logs the defect, and serves the next request", async () => {
    const r = await s.request("GET", "deviceManagement/deviceEnrollmentConfigurations/c/assignments/bad")
    assert.strictEqual(r.status, 500, r.text)
    assert.strictEqual(r.json.error.code, "InternalServerError")
    const logged = s.logs.find((l) => l.status === 500)
    assert.match(String(logged?.defect), /BigInt/)
    const health = await s.request("GET", "/health", { token: null })
    assert.strictEqual(health.status, 200)
  })
})
