/**
 * Hostile input at volume: 10 000 generated bad requests are all answered
 * 4xx, the server stays up, and the store file is byte-for-byte unchanged.
 */
import { assert, describe, it } from "@effect/vitest"
import { run } from "../src/Hostile.ts"

describe("hostile input", () => {
  it("answers 10 000 generated bad requests with 4xx, stays up and leaves the store byte-identical", async () => {
    const r = await run({ requests: 10_000, seed: 42 })
    assert.deepStrictEqual([...r.failures], [])
    assert.isTrue(r.alive)
    assert.isTrue(r.ready)
    assert.strictEqual(r.after, r.before)
    assert.strictEqual(r.requests, 10_000)
  })
})
