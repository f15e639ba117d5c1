import { Effect, Redacted } from "effect"
import { PgClient } from "@effect/sql-pg"
const prog = Effect.gen(function* () {
  const sql = yield* PgClient.PgClient
  yield* sql.unsafe(`CREATE SCHEMA IF NOT EXISTS probe`).unprepared
  yield* sql.unsafe(`CREATE TABLE IF NOT EXISTS probe.groups (id text COLLATE "C" PRIMARY KEY, n int)`).unprepared
  yield* sql.unsafe(`INSERT INTO probe.groups VALUES ($1, 1), ($2, 2) ON CONFLICT DO NOTHING`, ["a", "B"])
  console.log(yield* sql.unsafe(`SELECT id, n, count(*) OVER () AS c FROM probe.groups WHERE id = ANY($1::text[]) ORDER BY id`, [["a", "B", "z"]]))
  console.log(yield* sql.unsafe(`SELECT count(*) AS c FROM probe.groups WHERE id = ANY($1::text[])`, [[]]))
  console.log(yield* sql.unsafe(`INSERT INTO probe.groups VALUES ($1, 1) ON CONFLICT DO NOTHING RETURNING 1 AS ok`, ["a"]))
  console.log(yield* sql.unsafe(`SELECT pg_advisory_xact_lock($1::bigint)`, ["-1234567890123"]))
  const e = yield* Effect.flip(sql.unsafe(`INSERT INTO probe.groups VALUES ($1, 1)`, ["a"]))
  console.log(e._tag, e.reason._tag)
  yield* sql.unsafe(`DROP SCHEMA probe CASCADE`).unprepared
})
Effect.runPromise(prog.pipe(Effect.provide(PgClient.layer({ url: Redacted.make("postgres://postgres@127.0.0.1:5432/test") })))).then(() => console.log("ok"), (e) => console.error("ERR", e))
