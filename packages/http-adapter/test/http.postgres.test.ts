import { PgClient } from "@effect/sql-pg"
import type { Store } from "@enrollment/core"
import { PostgresStore } from "@enrollment/store-adapter"
import { Effect, type Layer, Redacted } from "effect"
import { afterAll, describe, it } from "vitest"
import { httpSuite } from "./HttpSuite.ts"

const url = process.env.DATABASE_URL
if (url === undefined || url === "") {
  console.log("HTTP on PostgreSQL skipped: DATABASE_URL is not set")
  // Reported as skipped (not silently absent) on a machine without PostgreSQL.
  describe.skipIf(true)("HTTP on PostgreSQL", () => it("needs DATABASE_URL", () => {}))
} else {
  /** A schema of this run's own, dropped at the end (after the suite has closed its server and pool). */
  const schema = `http_test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 7)}`
  httpSuite("PostgreSQL", () => PostgresStore.layer({ url, schema, maxConnections: 4 }) as Layer.Layer<Store>)
  afterAll(async () => {
    await Effect.runPromise(
      Effect.gen(function*() {
        const sql = yield* PgClient.PgClient
        yield* sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).unprepared
      }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: 1 })))
    )
  })
}
