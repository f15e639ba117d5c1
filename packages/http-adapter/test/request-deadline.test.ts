/**
 * `HandlerOptions.requestDeadlineMillis`: a request whose route has not finished by then is
 * answered 503 with `Retry-After` at once, in the Graph error shape, its work interrupted and not
 * waited for; a request that finishes in time is answered as ever, and nothing fires after it.
 */
import { MemoryStore, Store } from "@enrollment/core"
import { Effect, Layer } from "effect"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { start, type TestServer } from "./support.ts"

/** The memory store, whose user `stuck` is never read (a call on a connection that never answers), and `slow` in 100 ms. */
const stalling = (interrupted: Array<string>) =>
  Layer.effect(
    Store,
    Effect.map(MemoryStore.make, (s) => ({
      ...s,
      users: {
        ...s.users,
        get: (t: string, id: string) =>
          id === "stuck"
            ? Effect.never.pipe(Effect.onInterrupt(() => Effect.sync(() => void interrupted.push(id))))
            : id === "slow"
            ? Effect.andThen(Effect.sleep("100 millis"), s.users.get(t, id))
            : s.users.get(t, id)
      }
    }))
  )

describe("a request's deadline", () => {
  const interrupted: Array<string> = []
  let timed: TestServer
  let untimed: TestServer
  beforeAll(async () => {
    timed = await start({ store: stalling(interrupted), requestDeadlineMillis: 400 })
    untimed = await start({ store: stalling([]) })
  })
  afterAll(async () => {
    await timed?.close()
    await untimed?.close()
  })

  it("answers a route still running at its deadline 503 with Retry-After, at once, and interrupts its work", async () => {
    const began = Date.now()
    const r = await timed.request("GET", "users/stuck")
    const took = Date.now() - began
    assert.strictEqual(r.status, 503, r.text)
    assert.strictEqual(r.headers.get("retry-after"), "5")
    assert.strictEqual(r.json.error.code, "ServiceUnavailable")
    assert.strictEqual(r.json.error.message, "The service is temporarily unavailable; try again later.", "never why")
    assert.isAtLeast(took, 380)
    assert.isBelow(took, 3_000)
    const line = timed.logs.find((l) => l.requestId === r.headers.get("request-id"))
    assert.strictEqual(line?.status, 503)
    assert.match(String(line?.defect), /did not finish within its deadline of 400 ms/)
    // Interrupted in the background.
    for (let i = 0; i < 50 && !interrupted.includes("stuck"); i++) await new Promise((ok) => setTimeout(ok, 10))
    assert.include(interrupted, "stuck")
  })

  it("answers a route that finishes in time as ever, and nothing after it", async () => {
    await timed.request("POST", "users", { body: { id: "slow", accountEnabled: true, displayName: "Slow", userPrincipalName: "slow@example.com" } })
    const logged = timed.logs.length
    const r = await timed.request("GET", "users/slow")
    assert.strictEqual(r.status, 200, r.text)
    // Past the deadline: no second answer, no second log line.
    await new Promise((ok) => setTimeout(ok, 600))
    assert.strictEqual(timed.logs.length, logged + 1)
  })

  it("bounds each request of a batch, the others answered as they are", async () => {
    const r = await timed.request("POST", "$batch", {
      body: { requests: [{ id: "1", method: "GET", url: "/users/stuck" }, { id: "2", method: "GET", url: "/users/slow" }] }
    })
    assert.strictEqual(r.status, 200, r.text)
    const byId = Object.fromEntries(r.json.responses.map((x: { id: string; status: number }) => [x.id, x.status]))
    assert.deepStrictEqual(byId, { 1: 503, 2: 200 })
  })

  it("is none by default: a route still running is waited for, unanswered", async () => {
    // Twice the timed server's deadline without an answer, then the client gives up.
    const token = await untimed.token()
    const waited = await fetch(`${untimed.url}/beta/users/stuck`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(800) })
      .then((r) => `answered ${r.status}`, (e: Error) => e.name)
    assert.strictEqual(waited, "TimeoutError")
  })
})
