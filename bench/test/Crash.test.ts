/**
 * Crash safety at CI size: 5 SIGKILLs under PATCH load per store; every
 * acknowledged write survives and the SQLite file passes integrity_check.
 */
import { assert, describe, it } from "@effect/vitest"
import { crashLoop } from "../src/Crash.ts"

const databaseUrl = process.env.DATABASE_URL

describe("crash safety", () => {
  it("keeps every acknowledged write across 5 SIGKILLs on SQLite, and the file stays sound", async () => {
    const r = await crashLoop({ store: "sqlite", kills: 5, writers: 6, seed: 6 })
    assert.deepStrictEqual([...r.violations], [])
    assert.deepStrictEqual([...r.integrity], [])
    assert.isAbove(r.acknowledged, 0)
  })

  it.skipIf(databaseUrl === undefined)("keeps every acknowledged write across 5 SIGKILLs on PostgreSQL", async () => {
    const r = await crashLoop({ store: "postgres", kills: 5, writers: 6, seed: 7, databaseUrl })
    assert.deepStrictEqual([...r.violations], [])
    assert.isAbove(r.acknowledged, 0)
  })
  if (databaseUrl === undefined) console.log("crash safety on PostgreSQL: skipped (DATABASE_URL is unset)")
})
