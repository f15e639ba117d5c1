/**
 * A store that fails or stops answering, over real HTTP: the client gets the
 * SPEC 6 503 with Retry-After and nothing of the cause; the request log gets the
 * cause (what an operator acts on); `/ready` answers within its bound even when
 * the store never does.
 */
import { Errors, MemoryStore, Store } from "@enrollment/core"
import { Effect, Layer } from "effect"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import * as Server from "../src/Server.ts"
import { errorOf, start, type TestServer } from "./support.ts"

const refused = () => new Errors.StoreUnavailable({ cause: new Error("connect ECONNREFUSED 127.0.0.1:5432") })

/** The memory store with its configuration list failing and its readiness check never answering. */
const sickStore = Layer.effect(
  Store,
  Effect.map(Store, (store) => ({
    ...store,
    configurations: { ...store.configurations, list: () => Effect.fail(refused()) },
    ready: Effect.never
  }))
).pipe(Layer.provide(MemoryStore.layer))

describe("a store that fails or stops answering", () => {
  let s: TestServer
  beforeAll(async () => {
    s = await start({ store: sickStore })
  })
  afterAll(async () => {
    await s?.close()
  })

  it("answers 503 with Retry-After, keeps the cause out of the answer and puts it in the log", async () => {
    const r = await s.request("GET", "deviceManagement/deviceEnrollmentConfigurations")
    assert.strictEqual(r.status, 503)
    assert.strictEqual(errorOf(r).code, "ServiceUnavailable")
    assert.ok(r.headers.get("retry-after"))
    assert.notInclude(r.text, "ECONNREFUSED")
    const logged = s.logs.find((l) => l.requestId === r.headers.get("request-id"))
    assert.ok(logged !== undefined)
    assert.strictEqual(String(logged.defect), "the store is unavailable: connect ECONNREFUSED 127.0.0.1:5432")
  })

  it("answers /ready within its bound when the store never answers, and logs that", async () => {
    const started = Date.now()
    const r = await s.request("GET", "/ready", { token: null })
    const waited = Date.now() - started
    assert.strictEqual(r.status, 503)
    assert.ok(r.headers.get("retry-after"))
    assert.ok(waited >= Server.readyTimeoutMillis - 100 && waited < Server.readyTimeoutMillis + 1_500, `answered after ${waited} ms`)
    const logged = s.logs.find((l) => l.requestId === r.headers.get("request-id"))
    assert.include(String(logged?.defect), `did not answer within ${Server.readyTimeoutMillis} ms`)
  }, 10_000)
})
