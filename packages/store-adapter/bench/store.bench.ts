/**
 * PATCH throughput of the stores: `assignments.modify` operations per second
 * with 1 000 and with 1 000 000 assignments stored, and the ratio between the
 * two (how much a large table costs a PATCH). SQLite always; PostgreSQL too
 * when DATABASE_URL is set (in a schema of its own, dropped at the end).
 *
 *   node bench/store.bench.ts            (BENCH_SECONDS=2 per measurement by default)
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { PgClient } from "@effect/sql-pg"
import { Assignment, AssignmentTarget, Store } from "@enrollment/core"
import { Effect, Layer, Redacted, Result } from "effect"
import * as PostgresStore from "../src/PostgresStore.ts"
import * as SqliteStore from "../src/SqliteStore.ts"
import { assignmentColumns } from "../src/StoreSql.ts"

const seconds = Number(process.env.BENCH_SECONDS ?? 2)
const sizes = [1_000, 1_000_000] as const
const tenant = "bench-tenant"
const perConfiguration = 100

/** The i-th stored assignment: 100 per configuration, group targets over 1 000 groups. */
const row = (i: number) => {
  const target = AssignmentTarget.empty("groupAssignmentTarget") as Record<string, unknown>
  target.groupId = `g${i % 1000}`
  const a = Assignment.make(`a${i}`, {
    target: target as unknown as AssignmentTarget.AssignmentTarget,
    source: "direct",
    sourceId: null
  })
  return { configurationId: `c${Math.floor(i / perConfiguration)}`, assignment: a }
}

/** PATCHes random assignments one after another for `seconds`; ops/s. */
const patchRate = (size: number, concurrency: number) =>
  Effect.gen(function*() {
    const store = yield* Store
    let ops = 0
    const patchOne = Effect.suspend(() => {
      const i = Math.floor(Math.random() * size)
      const stamp = `s${ops}`
      return store.assignments.modify(
        tenant,
        `c${Math.floor(i / perConfiguration)}`,
        `a${i}`,
        (a) => Result.succeed({ ...a, sourceId: stamp })
      )
    }).pipe(Effect.tap(() => Effect.sync(() => ops++)))
    // Warm up (prepared statements, JIT, pool), then measure.
    yield* Effect.forEach(Array.from({ length: 200 }), () => patchOne, { concurrency, discard: true })
    ops = 0
    const start = performance.now()
    const deadline = start + seconds * 1000
    yield* Effect.forEach(
      Array.from({ length: concurrency }),
      () => Effect.whileLoop({ while: () => performance.now() < deadline, body: () => patchOne, step: () => {} }),
      { concurrency: "unbounded", discard: true }
    )
    return ops / ((performance.now() - start) / 1000)
  })

const fmt = (n: number) => Math.round(n).toLocaleString("en-US")

interface Line {
  readonly store: string
  readonly size: number
  readonly opsPerSecond: number
  readonly loadSeconds: number
}
const lines: Array<Line> = []
const report = (line: Line) => {
  lines.push(line)
  console.log(
    `${line.store.padEnd(36)} ${fmt(line.size).padStart(9)} stored  ${fmt(line.opsPerSecond).padStart(7)} PATCH/s` +
      `  (bulk load ${line.loadSeconds.toFixed(1)} s)`
  )
}
const ratios = (store: string) => {
  const small = lines.find((l) => l.store === store && l.size === sizes[0])
  const large = lines.find((l) => l.store === store && l.size === sizes[1])
  if (small && large) {
    console.log(`${store.padEnd(36)} ratio 1M / 1k: ${(large.opsPerSecond / small.opsPerSecond).toFixed(2)}`)
  }
}

// SQLite
const dir = mkdtempSync(join(tmpdir(), "store-bench-"))
try {
  for (const synchronous of ["FULL", "NORMAL"] as const) {
    for (const size of sizes) {
      if (synchronous === "NORMAL" && size !== sizes[0]) continue
      const filename = join(dir, `${synchronous}-${size}.db`)
      const loadStart = performance.now()
      const db = SqliteStore.open({ filename, synchronous })
      const insert = db.prepare(
        `INSERT INTO assignments (tenant_id, configuration_id, id, version, source, source_id, target_type, group_id, data)
         VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?)`
      )
      db.exec("BEGIN IMMEDIATE")
      for (let i = 0; i < size; i++) {
        const { assignment, configurationId } = row(i)
        insert.run(tenant, configurationId, assignment.id, ...assignmentColumns(assignment), JSON.stringify(assignment))
      }
      db.exec("COMMIT")
      db.close()
      const loadSeconds = (performance.now() - loadStart) / 1000
      const opsPerSecond = await Effect.runPromise(
        patchRate(size, 1).pipe(Effect.provide(SqliteStore.layer({ filename, synchronous })))
      )
      report({ store: `SQLite (synchronous=${synchronous})`, size, opsPerSecond, loadSeconds })
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
ratios("SQLite (synchronous=FULL)")

// PostgreSQL
const url = process.env.DATABASE_URL
if (url === undefined || url === "") {
  console.log("PostgreSQL skipped: DATABASE_URL is not set")
} else {
  const client = PgClient.layer({ url: Redacted.make(url), maxConnections: 2 })
  const program = Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    for (const size of sizes) {
      const schema = `store_bench_${size}_${Date.now().toString(36)}`
      yield* Effect.ensuring(
        Effect.gen(function*() {
          const loadStart = performance.now()
          yield* PostgresStore.migrateWith(sql, schema)
          // One transaction, one prepared statement, 10 000 rows a call through unnest (null sent as '').
          yield* sql.withTransaction(Effect.gen(function*() {
            const batch = 10_000
            for (let from = 0; from < size; from += batch) {
              const cols: Array<Array<string | null>> = [[], [], [], [], [], [], []]
              for (let i = from; i < Math.min(size, from + batch); i++) {
                const { assignment, configurationId } = row(i)
                const [source, sourceId, targetType, groupId] = assignmentColumns(assignment)
                const values = [configurationId, assignment.id, source, sourceId, targetType, groupId,
                  JSON.stringify(assignment)]
                values.forEach((v, k) => cols[k]!.push(v))
              }
              yield* sql.unsafe(
                `INSERT INTO "${schema}".assignments
                   (tenant_id, configuration_id, id, version, source, source_id, target_type, group_id, data)
                 SELECT $1, c, i, 1, s, NULLIF(si, ''), NULLIF(tt, ''), NULLIF(g, ''), d
                 FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
                   AS u(c, i, s, si, tt, g, d)`,
                [tenant, ...cols.map((c) => c.map((v) => v ?? ""))]
              )
            }
          }))
          yield* sql.unsafe(`ANALYZE "${schema}".assignments`)
          const loadSeconds = (performance.now() - loadStart) / 1000
          for (const concurrency of [1, 8]) {
            const opsPerSecond = yield* patchRate(size, concurrency).pipe(
              Effect.provide(Layer.fresh(
                PostgresStore.layer({ url, schema, maxConnections: concurrency })
              ))
            )
            report({ store: `PostgreSQL (${concurrency} connection${concurrency > 1 ? "s" : ""})`, size, opsPerSecond, loadSeconds })
          }
        }),
        sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).unprepared.pipe(Effect.ignore)
      )
    }
  })
  await Effect.runPromise(program.pipe(Effect.provide(client)))
  ratios("PostgreSQL (1 connection)")
  ratios("PostgreSQL (8 connections)")
}
