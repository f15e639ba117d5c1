/**
 * Security review of the rate limiter: its key is the token's tenant and
 * subject, so no client spends another's tokens, and its memory is bounded
 * without ever handing a throttled client a fresh bucket because many others
 * arrived (before, past 100 000 clients every bucket was dropped at once).
 */
import { MemoryStore } from "@enrollment/core"
import { assert, describe, it } from "vitest"
import { RateLimit } from "../src/index.ts"
import { start } from "./support.ts"

describe("security: rate limiter", () => {
  it("keeps a throttled client throttled however many other clients arrive", () => {
    const limiter = RateLimit.make({ ratePerSecond: 1, burst: 3 })
    const now = 1_000
    for (let i = 0; i < 3; i++) assert.strictEqual(limiter.take("tenant-a\u0000heavy", now), 0)
    assert.isAbove(limiter.take("tenant-a\u0000heavy", now), 0)
    // More new clients than the default bound (100 000): each takes one token.
    for (let i = 0; i < 100_010; i++) limiter.take(`tenant-b\u0000c${i}`, now)
    assert.isAbove(limiter.take("tenant-a\u0000heavy", now), 0, "the throttled client got a fresh bucket")
  })

  it("forgets full buckets first, and throttled ones last, when over its bound", () => {
    const limiter = RateLimit.make({ ratePerSecond: 1, burst: 4, maxClients: 10 })
    let now = 0
    // Two throttled clients, eight that took one token and then idled until full again.
    for (const k of ["x", "y"]) for (let i = 0; i < 4; i++) limiter.take(k, now)
    for (let i = 0; i < 8; i++) limiter.take(`idle${i}`, now)
    now += 500 // the idle ones are full again (one token back at 1/s), the throttled ones have half a token
    for (let i = 0; i < 30; i++) {
      limiter.take(`new${i}`, now)
      assert.isAtMost(limiter.clients(), 10)
    }
    assert.isAbove(limiter.take("x", now), 0)
    assert.isAbove(limiter.take("y", now), 0)
  })

  it("forgets the fullest buckets first: idle full ones go, and a partly spent one keeps its level", () => {
    const limiter = RateLimit.make({ ratePerSecond: 1, burst: 4, maxClients: 10 })
    // Four clients that took a token at 0 and idled: full again at 1 s.
    for (let i = 0; i < 4; i++) limiter.take(`idle${i}`, 0)
    const now = 1_000
    // Two throttled clients, then four that spent half their bucket, made after the idle ones.
    for (const k of ["x", "y"]) for (let i = 0; i < 4; i++) assert.strictEqual(limiter.take(k, now), 0)
    for (let p = 0; p < 4; p++) for (let i = 0; i < 2; i++) assert.strictEqual(limiter.take(`p${p}`, now), 0)
    assert.strictEqual(limiter.clients(), 10)
    // Four newcomers: each needs room, and the room is an idle full bucket's, never a spent one's.
    for (let i = 0; i < 4; i++) {
      assert.strictEqual(limiter.take(`new${i}`, now), 0)
      assert.strictEqual(limiter.clients(), 10)
    }
    for (let p = 0; p < 4; p++) {
      assert.strictEqual(limiter.take(`p${p}`, now), 0, `p${p}: its second-to-last token`)
      assert.strictEqual(limiter.take(`p${p}`, now), 0, `p${p}: its last token`)
      assert.isAbove(limiter.take(`p${p}`, now), 0, `p${p} was forgotten and got a fresh bucket`)
    }
    assert.isAbove(limiter.take("x", now), 0)
    assert.isAbove(limiter.take("y", now), 0)
  })

  it("gives each subject of each tenant its own bucket over HTTP", async () => {
    const s = await start({ store: MemoryStore.layer, rateLimit: { ratePerSecond: 1, burst: 2 } })
    try {
      const a = await s.token({ tenant: "tenant-a", subject: "same" })
      const b = await s.token({ tenant: "tenant-b", subject: "same" })
      for (let i = 0; i < 2; i++) assert.strictEqual((await s.request("GET", "users", { token: a })).status, 200)
      assert.strictEqual((await s.request("GET", "users", { token: a })).status, 429)
      // The same subject in another tenant, and a new token of the throttled client.
      assert.strictEqual((await s.request("GET", "users", { token: b })).status, 200)
      const again = await s.token({ tenant: "tenant-a", subject: "same", scopes: ["User.Read.All"] })
      assert.notStrictEqual(again, a)
      assert.strictEqual((await s.request("GET", "users", { token: again })).status, 429)
    } finally {
      await s.close()
    }
  })
})
