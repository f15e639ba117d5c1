/**
 * A store that fails or stops answering, over real HTTP: the client gets the
 * SPEC 6 503 with Retry-After and nothing of the cause; the request log gets the
 * cause (what an operator acts on); `/ready` answers within its bound even when
 * the store never does.
 */
import { PgClient } from "@effect/sql-pg"
import { Errors, MemoryStore, Store } from "@enrollment/core"
import { PostgresStore } from "@enrollment/store-adapter"
import * as PgFaultProxy from "@enrollment/tools/PgFaultProxy"
import { Effect, Layer, Redacted } from "effect"
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

const url = process.env.DATABASE_URL

describe.skipIf(url === undefined || url === "")("PostgreSQL losing its connection inside a transaction", () => {
  const schema = `http_cut_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 7)}`
  const cfgs = "deviceManagement/deviceEnrollmentConfigurations"
  const limit = (id: string) => ({ "@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration", id })
  let s: TestServer
  let proxy: PgFaultProxy.PgFaultProxy
  beforeAll(async () => {
    proxy = await PgFaultProxy.start(url!)
    s = await start({ store: PostgresStore.layer({ url: proxy.url, schema, maxConnections: 2 }) as Layer.Layer<Store> })
  })
  afterAll(async () => {
    await s?.close()
    proxy?.close()
    await Effect.runPromise(
      Effect.gen(function*() {
        const sql = yield* PgClient.PgClient
        yield* sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).unprepared
      }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(url!), maxConnections: 1 })))
    )
  })

  /** Sends the request while the proxy cuts the connection that sends `text` for the `nth` time. */
  const cutWhile = async (text: string, nth: number, send: () => ReturnType<TestServer["request"]>) => {
    const cut = proxy.cutOn(text, nth)
    const r = await send()
    await cut
    assert.strictEqual(r.status, 503, r.text)
    assert.strictEqual(errorOf(r).code, "ServiceUnavailable")
    assert.ok(r.headers.get("retry-after"), "Retry-After")
    assert.notInclude(r.text, "Connection")
    const logged = s.logs.find((l) => l.requestId === r.headers.get("request-id"))
    assert.include(String(logged?.defect), "the store is unavailable")
  }
  const ids = async (path: string) => (await s.request("GET", path)).json.value.map((x: { id: string }) => x.id)

  it("answers 503 with Retry-After to the assign action, a user's create and a configuration's delete, and leaves the data as it was", async () => {
    const ok = (r: { status: number; text: string }, status: number) => assert.strictEqual(r.status, status, r.text)
    for (const id of ["cut-1", "cut-2"]) {
      ok(await s.request("POST", cfgs, { body: limit(id) }), 201)
      ok(await s.request("POST", `${cfgs}/${id}/assignments`, { body: { id: "old", target: null } }), 201)
    }
    // assign: the transaction locks the configuration, deletes its assignments, and is cut at the first new one
    await cutWhile("cut-new", 1, () =>
      s.request("POST", `${cfgs}/cut-1/assign`, { body: { enrollmentConfigurationAssignments: [{ id: "cut-new", target: null }] } }))
    assert.deepStrictEqual(await ids(`${cfgs}/cut-1/assignments`), ["old"], "the old assignments are kept")
    // a user's create: cut at its check-and-insert, after the id's advisory lock
    await cutWhile("cut-user", 1, () =>
      s.request("POST", "users", { body: { id: "cut-user", displayName: "Cut", userPrincipalName: "cut@example.com" } }))
    assert.strictEqual((await s.request("GET", "users/cut-user")).status, 404, "no user was made")
    // a configuration's delete: its own row's DELETE (the first statement sending its id), then cut
    // at its assignments' DELETE (the second)
    await cutWhile("cut-2", 2, () => s.request("DELETE", `${cfgs}/cut-2`))
    assert.strictEqual((await s.request("GET", `${cfgs}/cut-2`)).status, 200, "the configuration is kept")
    assert.deepStrictEqual(await ids(`${cfgs}/cut-2/assignments`), ["old"], "and its assignments")
    // and each succeeds once the connection is back
    ok(await s.request("POST", `${cfgs}/cut-1/assign`, { body: { enrollmentConfigurationAssignments: [{ id: "cut-new", target: null }] } }), 204)
    assert.deepStrictEqual(await ids(`${cfgs}/cut-1/assignments`), ["cut-new"])
    ok(await s.request("POST", "users", { body: { id: "cut-user", displayName: "Cut", userPrincipalName: "cut@example.com" } }), 201)
    ok(await s.request("DELETE", `${cfgs}/cut-2`), 204)
    assert.strictEqual((await s.request("GET", `${cfgs}/cut-2/assignments`)).status, 404)
  }, 30_000)
})
