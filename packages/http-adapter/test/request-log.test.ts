/**
 * Who sent a request, in its log entry: the connection's address, and what the client and a
 * proxy in front say (`User-Agent`, `X-Forwarded-For`), as sent and bounded, so that an
 * operator behind a proxy can trace a request back to its caller.
 */
import { MemoryStore } from "@enrollment/core"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { start, type TestServer } from "./support.ts"

describe("the request log's caller", () => {
  let s: TestServer
  beforeAll(async () => {
    s = await start({ store: MemoryStore.layer })
  })
  afterAll(() => s.close())

  const last = () => s.logs[s.logs.length - 1]!

  it("names the connection's address, the User-Agent and X-Forwarded-For as sent", async () => {
    const r = await s.request("GET", "users", { headers: { "user-agent": "enrollctl/0.1.1", "x-forwarded-for": "203.0.113.7, 10.0.0.2" } })
    assert.strictEqual(r.status, 200)
    const entry = last()
    assert.strictEqual(entry.route, "GET /beta/users")
    assert.strictEqual(entry.clientAddress, "127.0.0.1")
    assert.strictEqual(entry.userAgent, "enrollctl/0.1.1")
    assert.strictEqual(entry.forwardedFor, "203.0.113.7, 10.0.0.2")
  })

  it("leaves out what was not sent, bounds what was, and names the caller of a refused request too", async () => {
    const r = await s.request("GET", "users", { token: null, headers: { "user-agent": "u".repeat(500) } })
    assert.strictEqual(r.status, 401)
    const entry = last()
    assert.strictEqual(entry.status, 401)
    assert.strictEqual(entry.clientAddress, "127.0.0.1")
    assert.strictEqual(entry.forwardedFor, undefined)
    assert.strictEqual(entry.userAgent, `${"u".repeat(200)}…`)
  })
})
