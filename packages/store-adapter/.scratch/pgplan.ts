import { Effect, Redacted } from "effect"
import { PgClient } from "@effect/sql-pg"
import * as PostgresStore from "../src/PostgresStore.ts"
const S = "plan_probe"
const prog = Effect.gen(function* () {
  const sql = yield* PgClient.PgClient
  yield* sql.unsafe(`DROP SCHEMA IF EXISTS ${S} CASCADE`).unprepared
  yield* PostgresStore.migrateWith(sql, S)
  yield* sql.unsafe(`INSERT INTO ${S}.assignments SELECT 't' || (i % 20), 'c' || (i / 100), 'a' || i, 1, 'direct', NULL,
     CASE WHEN i % 50 = 0 THEN 'allLicensedUsersAssignmentTarget' ELSE 'groupAssignmentTarget' END,
     CASE WHEN i % 50 = 0 THEN NULL ELSE 'g' || (i % 5000) END, '{}' FROM generate_series(1, 200000) i`).unprepared
  yield* sql.unsafe(`INSERT INTO ${S}.configurations SELECT 't' || (i % 20), 'c' || (i / 100), 1, '{}' FROM generate_series(1, 200000, 100) i ON CONFLICT DO NOTHING`).unprepared
  yield* sql.unsafe(`INSERT INTO ${S}.memberships SELECT 't' || (i % 20), 'g' || (i % 5000), 'u' || i, 'user' FROM generate_series(1, 200000) i`).unprepared
  yield* sql.unsafe(`INSERT INTO ${S}.groups SELECT 't' || (i % 20), 'g' || (i % 5000), 1, '{}' FROM generate_series(1, 5000) i`).unprepared
  yield* sql.unsafe(`ANALYZE`).unprepared
  const show = (text: string, params: Array<unknown>) => Effect.gen(function* () {
    const rows = yield* sql.unsafe<any>(`EXPLAIN ${text}`, params)
    console.log("----", text.replace(/\s+/g, " ").slice(0, 80)); for (const r of rows) console.log(r["QUERY PLAN"])
  })
  yield* show(`SELECT a.configuration_id, a.data FROM ${S}.assignments AS a WHERE a.tenant_id = $1 AND (a.target_type = 'allLicensedUsersAssignmentTarget' OR a.group_id = ANY($2::text[])) AND EXISTS (SELECT 1 FROM ${S}.configurations c WHERE c.tenant_id = a.tenant_id AND c.id = a.configuration_id) ORDER BY a.configuration_id, a.id`, ["t1", ["g1", "g21"]])
  yield* show(`SELECT m.group_id, m.member_id FROM ${S}.memberships AS m WHERE m.tenant_id = $1 AND m.member_id = ANY($2::text[]) AND EXISTS (SELECT 1 FROM ${S}.groups g WHERE g.tenant_id = m.tenant_id AND g.id = m.group_id) ORDER BY m.group_id, m.member_id`, ["t1", ["u1", "g21"]])
  yield* show(`DELETE FROM ${S}.memberships AS m WHERE m.tenant_id = $1 AND m.member_id = $2 AND EXISTS (SELECT 1 FROM ${S}.groups g WHERE g.tenant_id = m.tenant_id AND g.id = m.group_id)`, ["t1", "u1"])
  yield* show(`SELECT id, data FROM ${S}.assignments WHERE tenant_id = $1 AND configuration_id = $2 AND id > $3 AND (source = $4 OR group_id = $5) ORDER BY id LIMIT $6`, ["t1", "c5", "a", "direct", "g1", 3])
  yield* sql.unsafe(`DROP SCHEMA ${S} CASCADE`).unprepared
})
Effect.runPromise(prog.pipe(Effect.provide(PgClient.layer({ url: Redacted.make("postgres://postgres@127.0.0.1:5432/test") })))).then(() => console.log("ok"), (e) => console.error("ERR", e))
