/**
 * How PostgreSQL runs a user's targeting (every request of the user and invitation families, and
 * a user's configurations): the assignments concerning the user's groups found by index, never by
 * reading the tenant's assignments and testing each against the groups. An audit's tenant of 1.1
 * million assignments took 338 ms for a user in 29 groups, and more than 150 s (past the store's
 * deadline) for one in 2 000, with `a.group_id IN (SELECT id FROM t)` beside the `OR`. Skipped,
 * with a line, without DATABASE_URL.
 */
import { PgClient } from "@effect/sql-pg"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import * as PostgresStore from "../src/PostgresStore.ts"
import type { Row } from "../src/StoreSql.ts"

const url = process.env.DATABASE_URL
if (url === undefined || url === "") console.log("SKIPPED PostgreSQL plan tests: DATABASE_URL is not set")
const schema = `plans_test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`

const direct = <A, E>(f: (sql: PgClient.PgClient) => Effect.Effect<A, E>): Effect.Effect<A, unknown> =>
  Effect.gen(function*() {
    return yield* f(yield* PgClient.PgClient)
  }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(url!), maxConnections: 1 })))

afterAll(async () => {
  if (url === undefined || url === "") return
  await Effect.runPromise(direct((sql) => sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).unprepared))
})

describe.skipIf(url === undefined || url === "")("PostgreSQL's plan of a user's targeting", () => {
  it.effect("reads the assignments of the user's groups and of every licensed user by index (a bitmap OR), not the tenant's every assignment", () =>
    direct((sql) =>
      Effect.gen(function*() {
        const s = `"${schema}"`
        yield* PostgresStore.migrateWith(sql, schema)
        // One tenant: 2 000 groups, 200 configurations of 200 assignments each (40 000), a few to all
        // licensed users; the user is in 3 groups.
        yield* sql.unsafe(`INSERT INTO ${s}.groups (tenant_id, id, version, data)
          SELECT 't', 'g' || i, 1, '{}' FROM generate_series(0, 1999) AS i`).unprepared
        yield* sql.unsafe(`INSERT INTO ${s}.configurations (tenant_id, id, version, data)
          SELECT 't', 'c' || i, 1, '{}' FROM generate_series(0, 199) AS i`).unprepared
        yield* sql.unsafe(`INSERT INTO ${s}.assignments (tenant_id, configuration_id, id, version, source, source_id, target_type, group_id, data)
          SELECT 't', 'c' || (i / 200), 'a' || i, 1, 'direct', NULL,
            CASE WHEN i % 997 = 0 THEN 'allLicensedUsersAssignmentTarget' ELSE 'groupAssignmentTarget' END,
            CASE WHEN i % 997 = 0 THEN NULL ELSE 'g' || (i % 2000) END, '{}'
          FROM generate_series(0, 39999) AS i`).unprepared
        yield* sql.unsafe(`INSERT INTO ${s}.memberships (tenant_id, group_id, member_id, member_kind)
          VALUES ('t', 'g1', 'u', 'user'), ('t', 'g2', 'u', 'user'), ('t', 'g3', 'g2', 'group')`).unprepared
        yield* sql.unsafe(`ANALYZE ${s}.assignments`).unprepared
        yield* sql.unsafe(`ANALYZE ${s}.memberships`).unprepared
        const statement = PostgresStore.targetingStatements(s).targetingSql("TRUE")
        const plan = yield* sql.withTransaction(Effect.gen(function*() {
          yield* sql.unsafe(`PREPARE targeting_plan(text, text) AS ${statement}`).unprepared
          const rows = yield* sql.unsafe<Row>("EXPLAIN (COSTS OFF) EXECUTE targeting_plan('t', 'u')").unprepared
          yield* sql.unsafe("DEALLOCATE targeting_plan").unprepared
          return rows.map((r) => String(r["QUERY PLAN"])).join("\n")
        }))
        assert.match(plan, /BitmapOr/, plan)
        assert.match(plan, /Bitmap Index Scan on assignments_by_group/, plan)
        assert.notMatch(plan, /Seq Scan on assignments/, plan)
        assert.notMatch(plan, /Index Scan using assignments_pkey on assignments/, plan)
        // And it answers: the user's groups (g1, g2, g3 through g2) and what concerns them.
        const rows = yield* sql.unsafe<Row>(statement, ["t", "u"])
        const groups = rows.filter((r) => r.configuration_id === null).map((r) => r.id)
        assert.deepStrictEqual(groups, ["g1", "g2", "g3"])
        const [expected] = yield* sql.unsafe<Row>(`SELECT count(*)::int AS n FROM ${s}.assignments
          WHERE tenant_id = 't' AND (target_type = 'allLicensedUsersAssignmentTarget' OR group_id IN ('g1', 'g2', 'g3'))`)
        assert.strictEqual(rows.filter((r) => r.configuration_id !== null).length, Number(expected!.n))
      })
    ), { timeout: 60_000 })
})
