import { spawn } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { fileURLToPath } from "node:url"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Store } from "@enrollment/core"
import { StoreConformance } from "@enrollment/core/testing"
import { Effect, Exit, Layer, Option, Result } from "effect"
import * as SqliteStore from "../src/SqliteStore.ts"
import { assignment, configuration, freshTenant } from "./fixtures/entities.ts"
import { behaviour } from "./StoreBehaviour.ts"

const dir = mkdtempSync(join(tmpdir(), "store-adapter-sqlite-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const worker = fileURLToPath(new URL("./fixtures/sqlite-worker.ts", import.meta.url))

/** Runs the worker; resolves with its stdout lines once it exits (or once `kill` says to kill it). */
const runWorker = (
  args: ReadonlyArray<string>,
  kill?: (lines: ReadonlyArray<string>) => boolean
): Promise<{ readonly lines: ReadonlyArray<string>; readonly signal: NodeJS.Signals | null; readonly code: number | null }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [worker, ...args], { stdio: ["ignore", "pipe", "inherit"] })
    let buffer = ""
    const lines: Array<string> = []
    child.stdout.setEncoding("utf8")
    child.stdout.on("data", (chunk: string) => {
      buffer += chunk
      const parts = buffer.split("\n")
      buffer = parts.pop()!
      lines.push(...parts)
      if (kill?.(lines) && child.exitCode === null) child.kill("SIGKILL")
    })
    child.on("error", reject)
    // Lines are only counted once complete: a torn last line is not an acknowledgement.
    child.on("close", (code, signal) => resolve({ lines, signal, code }))
  })

const counterValue = (db: DatabaseSync, tenant: string): number =>
  Number(JSON.parse(
    db.prepare("SELECT data FROM assignments WHERE tenant_id = ? AND configuration_id = 'cfg' AND id = 'counter'")
      .get(tenant)!.data as string
  ).sourceId)

/** Opens the store once to create the file and the assignment `counter` the workers write to. */
const seedCounter = (filename: string, tenant: string) =>
  Effect.gen(function*() {
    const store = yield* Store
    yield* store.assignments.insert(tenant, "cfg", assignment("counter", null, { sourceId: "0" }))
  }).pipe(Effect.provide(SqliteStore.layer({ filename })))

describe("SqliteStore", () => {
  StoreConformance.suite("conformance", SqliteStore.layer({ filename: join(dir, "conformance", "store.db") }), {
    describe,
    it
  })

  it.layer(SqliteStore.layer({ filename: join(dir, "data", "store.db") }))("port behaviour", (it) => behaviour(it))

  it.effect("fails to open with StoreUnavailable when the file cannot be created", () =>
    Effect.gen(function*() {
      const blocker = join(dir, "a-file")
      writeFileSync(blocker, "")
      const exit = yield* Effect.exit(Effect.scoped(Layer.build(SqliteStore.layer({ filename: join(blocker, "x.db") }))))
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isFailure(exit)) assert.include(String(exit.cause), "StoreUnavailable")
    }))

  it.effect("records its migrations, and a second open applies none", () =>
    Effect.gen(function*() {
      const filename = join(dir, "migrations", "store.db")
      yield* Effect.scoped(Layer.build(SqliteStore.layer({ filename })))
      const read = () => {
        const db = new DatabaseSync(filename)
        try {
          return {
            rows: db.prepare("SELECT version, name, applied_at FROM schema_migrations ORDER BY version").all()
              .map((r) => ({ ...r })),
            journal: db.prepare("PRAGMA journal_mode").get()!.journal_mode
          }
        } finally {
          db.close()
        }
      }
      const first = read()
      assert.deepStrictEqual(first.rows.map((r) => r.version), SqliteStore.migrations.map((m) => m.version))
      assert.strictEqual(first.journal, "wal")
      yield* Effect.scoped(Layer.build(SqliteStore.layer({ filename })))
      assert.deepStrictEqual(read().rows, first.rows, "nothing applied, nothing re-recorded")
      const db = new DatabaseSync(filename)
      assert.deepStrictEqual(SqliteStore.migrate(db), [])
      db.close()
    }))

  it.effect("writes nothing for an unchanged value, and never leaves a transaction open", () =>
    Effect.gen(function*() {
      const db = SqliteStore.open({ filename: join(dir, "tx", "store.db") })
      yield* Effect.addFinalizer(() => Effect.sync(() => db.close()))
      const store = SqliteStore.fromDatabase(db)
      const t = freshTenant()
      const version = () =>
        Number(db.prepare("SELECT version FROM configurations WHERE tenant_id = ? AND id = 'c1'").get(t)!.version)
      yield* store.configurations.insert(t, configuration("c1"))
      yield* store.configurations.modify(t, "c1", (c) => Result.succeed(c))
      assert.strictEqual(version(), 1, "the same value is not written")
      yield* store.configurations.modify(t, "c1", (c) => Result.succeed({ ...c, displayName: "x" }))
      assert.strictEqual(version(), 2)
      yield* Effect.flip(store.configurations.modify(t, "c1", () => Result.fail("no")))
      assert.isFalse(db.isTransaction)
      const thrown = yield* Effect.exit(store.configurations.modify(t, "c1", () => {
        throw new Error("bug in change")
      }))
      assert.isTrue(Exit.hasDies(thrown), "a throwing change is a defect, not a store failure")
      assert.isFalse(db.isTransaction)
      assert.strictEqual(version(), 2)
      yield* store.configurations.insert(t, configuration("c2"))
    }))

  it.effect("commits concurrent writes together, and a refused or throwing write in the batch undoes only itself", () =>
    Effect.gen(function*() {
      const db = SqliteStore.open({ filename: join(dir, "group", "store.db") })
      yield* Effect.addFinalizer(() => Effect.sync(() => db.close()))
      const store = SqliteStore.fromDatabase(db)
      const t = freshTenant()
      yield* store.configurations.insert(t, configuration("c"))
      const exits = yield* Effect.all([
        Effect.exit(store.assignments.insert(t, "c", assignment("a1"))),
        Effect.exit(store.assignments.insert(t, "c", assignment("a2"))),
        // a refusal after the write's own statement ran: the savepoint undoes it
        Effect.exit(store.configurations.modify(t, "c", (c) => {
          db.prepare("UPDATE configurations SET version = 99 WHERE tenant_id = ? AND id = 'c'").run(t)
          return Result.fail("refused" as const)
        })),
        Effect.exit(store.configurations.modify(t, "c", () => {
          throw new Error("bug in change")
        })),
        Effect.exit(store.assignments.insert(t, "c", assignment("a3")))
      ], { concurrency: "unbounded" })
      assert.deepStrictEqual(exits.map((e: Exit.Exit<unknown, unknown>) => Exit.isSuccess(e)), [true, true, false, false, true])
      assert.isTrue(Exit.hasDies(exits[3]! as Exit.Exit<unknown, unknown>), "a throwing change is a defect")
      assert.strictEqual(
        Number(db.prepare("SELECT version FROM configurations WHERE tenant_id = ? AND id = 'c'").get(t)!.version),
        1,
        "the refused write's own statements were rolled back"
      )
      assert.strictEqual(yield* store.assignments.count(t, "c"), 3)
      assert.isFalse(db.isTransaction)
    }))

  it.effect("serialises concurrent modifies from many fibers: no update is lost", () =>
    Effect.gen(function*() {
      const store = yield* Store
      const t = freshTenant()
      yield* store.assignments.insert(t, "cfg", assignment("x", null, { sourceId: "" }))
      const n = 200
      yield* Effect.forEach(
        Array.from({ length: n }, (_, i) => i),
        (i) =>
          Effect.andThen(Effect.yieldNow, store.assignments.modify(t, "cfg", "x", (a) =>
            Result.succeed({ ...a, sourceId: `${a.sourceId},${i}` }))),
        { concurrency: "unbounded", discard: true }
      )
      const marks = Option.getOrThrow(yield* store.assignments.get(t, "cfg", "x")).sourceId!.split(",").slice(1)
      assert.strictEqual(marks.length, n)
      assert.strictEqual(new Set(marks).size, n)
    }).pipe(Effect.provide(SqliteStore.layer({ filename: join(dir, "fibers", "store.db") }))))

  it.effect("serialises concurrent modifies from two processes on one file: no update is lost", () =>
    Effect.gen(function*() {
      const filename = join(dir, "processes", "store.db")
      const t = freshTenant()
      yield* seedCounter(filename, t)
      const perWorker = 150
      const results = yield* Effect.promise(() =>
        Promise.all([
          runWorker(["increment", filename, t, String(perWorker)]),
          runWorker(["increment", filename, t, String(perWorker)])
        ])
      )
      for (const r of results) assert.deepStrictEqual([r.code, r.lines.at(-1)], [0, "done"])
      const db = new DatabaseSync(filename)
      try {
        assert.strictEqual(counterValue(db, t), 2 * perWorker)
      } finally {
        db.close()
      }
    }), { timeout: 60_000 })

  it.effect("keeps every acknowledged write of a process killed with SIGKILL, and the file stays sound", () =>
    Effect.gen(function*() {
      const filename = join(dir, "durability", "store.db")
      const t = freshTenant()
      yield* seedCounter(filename, t)
      // Killed ~300 ms after its first acknowledged write, in the middle of its loop.
      let firstAck: number | undefined
      const run = yield* Effect.promise(() =>
        runWorker(["write", filename, t], (lines) => {
          if (firstAck === undefined && lines.some((l) => l.startsWith("insert"))) firstAck = Date.now()
          return firstAck !== undefined && Date.now() - firstAck >= 300
        })
      )
      assert.strictEqual(run.signal, "SIGKILL")
      const inserted = run.lines.filter((l) => l.startsWith("insert ")).map((l) => l.slice(7))
      const modified = run.lines.filter((l) => l.startsWith("modify ")).map((l) => Number(l.slice(7)))
      assert.isAbove(inserted.length, 10, "the worker acknowledged writes before it was killed")
      const db = new DatabaseSync(filename)
      try {
        assert.deepStrictEqual(db.prepare("PRAGMA integrity_check").all().map((r) => r.integrity_check), ["ok"])
        const stored = new Set(
          db.prepare("SELECT id FROM assignments WHERE tenant_id = ? AND configuration_id = 'cfg'").all(t)
            .map((r) => r.id as string)
        )
        const lost = inserted.filter((id) => !stored.has(id))
        assert.deepStrictEqual(lost, [], "every acknowledged insert is stored")
        assert.isAtLeast(counterValue(db, t), Math.max(0, ...modified), "the last acknowledged modify is stored")
      } finally {
        db.close()
      }
    }), { timeout: 60_000 })
})
