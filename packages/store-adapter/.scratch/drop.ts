import { Effect, Redacted } from "effect"
import { PgClient } from "@effect/sql-pg"
const prog = Effect.gen(function* () {
  const sql = yield* PgClient.PgClient
  const r = yield* sql.unsafe(`DROP SCHEMA IF EXISTS "store_test_mx0eih0e_vnyw0l_behaviour" CASCADE`).unprepared
  console.log(r)
  const r2 = yield* sql.unsafe(`DROP SCHEMA IF EXISTS "store_test_mx0eih0e_vnyw0l_versions" CASCADE`).raw
  console.log(r2)
})
Effect.runPromise(prog.pipe(Effect.provide(PgClient.layer({ url: Redacted.make("postgres://postgres@127.0.0.1:5432/test") })))).then(() => console.log("ok"), (e) => console.error("ERR", e))
