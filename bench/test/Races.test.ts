/**
 * Races: 200 concurrent PATCHes of one assignment, with and without If-Match,
 * on SQLite and (when DATABASE_URL is set) PostgreSQL.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Api from "../src/Api.ts"
import * as Pg from "../src/Pg.ts"
import { startServer } from "../src/Proc.ts"
import { withIfMatch, withoutIfMatch } from "../src/Races.ts"

const databaseUrl = process.env.DATABASE_URL

const both = async (store: "sqlite" | "postgres") => {
  const schema = store === "postgres" ? await Pg.freshSchema(databaseUrl!, "bench_races") : undefined
  const server = await startServer({ store, databaseUrl, databaseSchema: schema?.name })
  try {
    const seeded = await Api.seed(server.url)
    const m = await withIfMatch(server, seeded, 200, "m")
    assert.deepStrictEqual(m.statuses, { "200": 1, "412": 199 })
    assert.deepStrictEqual([...m.problems], [])
    const u = await withoutIfMatch(server, seeded, 200, "u")
    assert.deepStrictEqual(u.statuses, { "200": 200 })
    assert.deepStrictEqual([...u.problems], [])
  } finally {
    await server.kill()
    await schema?.drop()
  }
}

describe("concurrent PATCHes of one assignment", () => {
  it("on SQLite: If-Match admits exactly one of 200; without it the last request is stored whole", () => both("sqlite"))
  it.skipIf(databaseUrl === undefined)("on PostgreSQL: the same", () => both("postgres"))
})
