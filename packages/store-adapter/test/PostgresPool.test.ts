import { PgClient } from "@effect/sql-pg"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Store } from "@enrollment/core"
import * as PgLock from "@enrollment/tools/PgLock"
import { Effect, Exit, Fiber, Layer, Redacted } from "effect"
import * as PostgresStore from "../src/PostgresStore.ts"
import type { Row } from "../src/StoreSql.ts"

const url = process.env.DATABASE_URL
if (url === undefined || url === "") console.log("PostgreSQL pool tests skipped: DATABASE_URL is not set")

const run = `pool_test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
const schemas: Array<string> = []

/** The tests' own connections, apart from the store's pool. */
const client = () => PgClient.layer({ url: Redacted.make(url!), maxConnections: 2 })

afterAll(async () => {
  if (url === undefined || url === "" || schemas.length === 0) return
  await Effect.runPromise(Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    for (const s of schemas) yield* sql.unsafe(`DROP SCHEMA IF EXISTS "${s}" CASCADE`)
  }).pipe(Effect.provide(client())))
})

/**
 * How many connections the store over `schema` opens for `calls` reads that all wait: the
 * tests' own connection holds the configurations table locked, so every read started takes a
 * connection and waits for the lock in PostgreSQL; the store's connections are counted in
 * `pg_stat_activity` (by the application name and the schema in their last statement) once
 * no more appear, then the lock is let go and every read must end.
 */
const connectionsUnderLoad = (schema: string, maxConnections: number | undefined, calls: number) =>
  Effect.gen(function*() {
    const store = yield* Store
    const sql = yield* PgClient.PgClient
    const release = yield* PgLock.holdLocked(sql, `"${schema}".configurations`)
    const reads = yield* Effect.forkChild(
      Effect.all(Array.from({ length: calls }, (_, i) => store.configurations.get(`tenant-${i}`, "c")), { concurrency: "unbounded" })
    )
    const count = sql.unsafe<Row>(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE wait_event_type = 'Lock')::int AS waiting
       FROM pg_stat_activity WHERE application_name = '@enrollment/store-adapter' AND query LIKE $1`,
      [`%"${schema}"%`]
    )
    const seen = yield* PgLock.settled(
      Effect.map(count, ([r]) => ({ n: Number(r!.n), waiting: Number(r!.waiting) })),
      (now) => now.waiting
    )
    yield* release
    const exit = yield* Effect.exit(Fiber.join(reads))
    assert.isTrue(Exit.isSuccess(exit), "a read failed once the lock was let go")
    return seen
  }).pipe(
    Effect.provide(Layer.merge(PostgresStore.layer({ url: url!, schema, maxConnections }), client()))
  )

describe.skipIf(url === undefined || url === "")("PostgresStore's pool", () => {
  // Live: the waits below are real time (the test clock would never let them end).
  it.live("opens at most maxConnections connections, however many calls wait", () =>
    Effect.gen(function*() {
      const schema = `${run}_three`
      schemas.push(schema)
      const seen = yield* connectionsUnderLoad(schema, 3, 12)
      assert.deepStrictEqual(seen, { n: 3, waiting: 3 })
    }), 30_000)

  it.live("opens up to 10 connections by default", () =>
    Effect.gen(function*() {
      const schema = `${run}_default`
      schemas.push(schema)
      const seen = yield* connectionsUnderLoad(schema, undefined, 16)
      assert.deepStrictEqual(seen, { n: 10, waiting: 10 })
    }), 30_000)

  it.effect("refuses a pool size that is not a positive integer", () =>
    Effect.gen(function*() {
      for (const maxConnections of [0, -1, 2.5]) {
        const exit = yield* Effect.exit(Layer.build(PostgresStore.layer({ url: url!, schema: `${run}_never`, maxConnections })).pipe(Effect.scoped))
        assert.isTrue(Exit.isFailure(exit))
        assert.include(String(Exit.isFailure(exit) ? exit.cause : ""), "maxConnections must be a positive integer")
      }
    }))
})
