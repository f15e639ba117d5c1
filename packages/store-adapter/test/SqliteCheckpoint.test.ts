import { spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { DatabaseSync } from "node:sqlite"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Store } from "@enrollment/core"
import { Cause, Effect, Fiber, Option, Result } from "effect"
import * as SqliteCheckpoint from "../src/SqliteCheckpoint.ts"
import * as SqliteStore from "../src/SqliteStore.ts"
import { assignment, configuration, freshTenant } from "./fixtures/entities.ts"

const dir = mkdtempSync(join(tmpdir(), "store-adapter-checkpoint-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let files = 0
/** A new database file in WAL mode with one table, as the store's connection has it (synchronous=NORMAL). */
const walDatabase = () => {
  const filename = join(dir, `db-${++files}.db`)
  const db = new DatabaseSync(filename)
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)")
  return { db, filename }
}

/** Commits 5 000 rows of 1 000 bytes in one transaction: about 1 250 pages of WAL, past SQLite's automatic checkpoint (1 000). */
const largeCommit = (db: DatabaseSync) => {
  const insert = db.prepare("INSERT INTO t (v) VALUES (?)")
  db.exec("BEGIN")
  for (let i = 0; i < 5000; i++) insert.run(String(i).padEnd(1000, "x"))
  db.exec("COMMIT")
}

/**
 * A checkpointer the test drives by hand: `makeDue()` makes the next batch find a checkpoint due,
 * and `runs` holds each run's `done`, which the test calls when the checkpoint is to end.
 */
const handCheckpointer = () => {
  let due = false
  const runs: Array<() => void> = []
  const checkpointer: SqliteCheckpoint.Checkpointer = {
    committed: () => {},
    due: () => due,
    run: (done) => {
      due = false
      runs.push(done)
    },
    stats: () => ({ checkpoints: 0, checkpointedFrames: 0, checkpointSeconds: 0, heldSeconds: 0, checkpointFailures: 0 }),
    active: () => true,
    close: () => Promise.resolve()
  }
  return { checkpointer, runs, makeDue: () => void (due = true) }
}

const autocheckpoint = (db: DatabaseSync) => Number(db.prepare("PRAGMA wal_autocheckpoint").get()!.wal_autocheckpoint)

/** Waits until `checkpointer` has ended `n` checkpoints (the worker answers in milliseconds). */
const ended = (checkpointer: SqliteCheckpoint.Checkpointer, n: number) =>
  Effect.promise(async () => {
    for (let i = 0; i < 2000 && checkpointer.stats().checkpoints < n; i++) await new Promise((resolve) => setTimeout(resolve, 5))
    assert.strictEqual(checkpointer.stats().checkpoints, n)
  })

/** Runs the checkpoint the next batch would wait for, and waits for it. */
const held = (checkpointer: SqliteCheckpoint.Checkpointer) => Effect.promise(() => new Promise<void>((resolve) => checkpointer.run(resolve)))

/** The frames in a WAL of 4 096-byte pages: its 32-byte header, then each frame's 24-byte header and page. */
const walFrames = (filename: string) => (statSync(`${filename}-wal`).size - 32) / (4096 + 24)

describe("SqliteCheckpoint", () => {
  it.live("without it, the COMMIT that passes 1 000 WAL pages checkpoints on the committing thread (the control)", () =>
    Effect.sync(() => {
      const { db, filename } = walDatabase()
      try {
        const before = statSync(filename).size
        largeCommit(db)
        // SQLite's automatic checkpoint ran inside the COMMIT: the rows are in the database file already.
        assert.isAbove(statSync(filename).size, before + 4_000_000)
      } finally {
        db.close()
      }
    }))

  it.live("leaves the database file as it was after that COMMIT, and copies the WAL into it from its worker when run", () =>
    Effect.gen(function*() {
      const { db, filename } = walDatabase()
      const checkpointer = SqliteCheckpoint.start(db, filename)
      try {
        assert.strictEqual(autocheckpoint(db), 1000, "SQLite's own until the worker starts")
        db.exec("INSERT INTO t (v) VALUES ('first')")
        checkpointer.committed()
        yield* Effect.promise(() => new Promise<void>((resolve) => checkpointer.run(resolve)))
        assert.strictEqual(autocheckpoint(db), 0, "off once the worker runs them")
        const before = statSync(filename).size
        largeCommit(db)
        checkpointer.committed()
        assert.strictEqual(statSync(filename).size, before, "no checkpoint inside the COMMIT")
        yield* Effect.promise(() => new Promise<void>((resolve) => checkpointer.run(resolve)))
        const stats = checkpointer.stats()
        assert.strictEqual(stats.checkpoints, 2)
        assert.isAbove(stats.checkpointedFrames, 1000)
        assert.strictEqual(stats.checkpointFailures, 0)
        assert.isAbove(statSync(filename).size, before + 4_000_000, "the worker's checkpoint copied the rows into the file")
        assert.isTrue(checkpointer.active())
        assert.strictEqual(Number(db.prepare("SELECT count(*) AS n FROM t").get()!.n), 5001)
        // The whole WAL was copied: the next COMMIT starts it again from its beginning.
        db.exec("INSERT INTO t (v) VALUES ('after')")
        yield* Effect.promise(() => new Promise<void>((resolve) => checkpointer.run(resolve)))
        assert.strictEqual(checkpointer.stats().checkpointedFrames - stats.checkpointedFrames, 1)
      } finally {
        yield* Effect.promise(checkpointer.close)
        db.close()
      }
      // The worker's connection was closed first: the store's close was the file's last, and removed the WAL.
      assert.isFalse(existsSync(`${filename}-wal`))
    }))

  it.live("starts one beside the writes after 100 COMMITs, then once the COMMITs since the last wrote about 1 000 pages, or once intervalMillis passed, and holds the writes only for what it left", () =>
    Effect.gen(function*() {
      const { db, filename } = walDatabase()
      let clock = 0
      const checkpointer = SqliteCheckpoint.start(db, filename, { intervalMillis: 1000, now: () => clock })
      const insert = db.prepare("INSERT INTO t (v) VALUES ('x')")
      /** A COMMIT of one small row: one page of WAL. */
      const commit = () => {
        insert.run()
        checkpointer.committed()
      }
      const checkpoints = () => checkpointer.stats().checkpoints
      /** Waits until `n` checkpoints have ended (the worker answers in milliseconds). */
      const ended = (n: number) =>
        Effect.promise(async () => {
          for (let i = 0; i < 2000 && checkpoints() < n; i++) await new Promise((resolve) => setTimeout(resolve, 5))
          assert.strictEqual(checkpoints(), n)
        })
      try {
        // At first, 100 COMMITs (each writes at least a page), however soon.
        for (let i = 0; i < SqliteCheckpoint.firstCheckpointCommits - 1; i++) commit()
        yield* Effect.sleep("50 millis")
        assert.strictEqual(checkpoints(), 0, "none before")
        commit()
        yield* ended(1)
        assert.isFalse(checkpointer.due(), "nothing was committed while it ran: the writes need not wait")
        assert.strictEqual(checkpointer.stats().heldSeconds, 0)
        // One COMMIT, then another once the interval has passed.
        commit()
        clock = 999
        yield* Effect.sleep("50 millis")
        assert.strictEqual(checkpoints(), 1)
        clock = 1000
        commit()
        // A COMMIT while it runs (this turn: the worker cannot have answered): the next batch waits for a checkpoint of it.
        commit()
        yield* ended(2)
        assert.isTrue(checkpointer.due())
        yield* Effect.promise(() => new Promise<void>((resolve) => checkpointer.run(resolve)))
        assert.strictEqual(checkpoints(), 3)
        assert.isAbove(checkpointer.stats().heldSeconds, 0)
        assert.isFalse(checkpointer.due())
        // A COMMIT that wrote more than 1 000 pages: from then on, each COMMIT starts one.
        clock = 3000
        largeCommit(db)
        checkpointer.committed()
        yield* ended(4)
        commit()
        yield* ended(5)
        assert.strictEqual(checkpointer.stats().checkpointFailures, 0)
      } finally {
        yield* Effect.promise(checkpointer.close)
        db.close()
      }
    }))

  it.live("after a first checkpoint of 100 one-page COMMITs, starts the next at the 1 000th COMMIT since (1 000 pages), the clock standing still", () =>
    Effect.gen(function*() {
      const { db, filename } = walDatabase()
      // An empty WAL: each COMMIT below writes one page (the table's leaf) until it splits.
      db.exec("PRAGMA wal_checkpoint(TRUNCATE)")
      const checkpointer = SqliteCheckpoint.start(db, filename, { intervalMillis: 1000, now: () => 0 })
      const insert = db.prepare("INSERT INTO t (v) VALUES ('x')")
      const commit = () => {
        insert.run()
        checkpointer.committed()
      }
      try {
        for (let i = 0; i < SqliteCheckpoint.firstCheckpointCommits; i++) commit()
        yield* ended(checkpointer, 1)
        assert.strictEqual(checkpointer.stats().checkpointedFrames, 100, "100 COMMITs, 100 pages")
        for (let i = 0; i < SqliteCheckpoint.pagesPerCheckpoint - 1; i++) commit()
        yield* Effect.sleep("100 millis")
        assert.strictEqual(checkpointer.stats().checkpoints, 1, "999 pages since: none yet")
        commit()
        yield* ended(checkpointer, 2)
        assert.isFalse(checkpointer.due())
      } finally {
        yield* Effect.promise(checkpointer.close)
        db.close()
      }
    }))

  it.live("counts each WAL frame it copied once: a held checkpoint adds what it copied, one behind a reader nothing the reader kept", () =>
    Effect.gen(function*() {
      const insertInto = (db: DatabaseSync, checkpointer: SqliteCheckpoint.Checkpointer) => {
        const insert = db.prepare("INSERT INTO t (v) VALUES ('x')")
        return () => {
          insert.run()
          checkpointer.committed()
        }
      }
      {
        const { db, filename } = walDatabase()
        const checkpointer = SqliteCheckpoint.start(db, filename, { intervalMillis: 1000, now: () => 0 })
        const commit = insertInto(db, checkpointer)
        try {
          // The 100th COMMIT starts one beside the writes; the 50 after it are made while it runs (this turn).
          for (let i = 0; i < 150; i++) commit()
          yield* ended(checkpointer, 1)
          assert.isTrue(checkpointer.due())
          yield* held(checkpointer)
          assert.strictEqual(checkpointer.stats().checkpoints, 2)
          assert.strictEqual(checkpointer.stats().checkpointedFrames, walFrames(filename), "every frame of the WAL, once")
        } finally {
          yield* Effect.promise(checkpointer.close)
          db.close()
        }
      }
      {
        const { db, filename } = walDatabase()
        let clock = 0
        const checkpointer = SqliteCheckpoint.start(db, filename, { intervalMillis: 1000, now: () => clock })
        const commit = insertInto(db, checkpointer)
        const reader = new DatabaseSync(filename)
        try {
          for (let i = 0; i < 10; i++) commit()
          // A read transaction from here on: no checkpoint copies a frame written after it began.
          const kept = walFrames(filename)
          reader.exec("BEGIN")
          reader.prepare("SELECT count(*) AS n FROM t").get()
          for (let round = 1; round <= 4; round++) {
            clock += 1000
            for (let i = 0; i < 10; i++) commit()
            yield* ended(checkpointer, 2 * round - 1)
            assert.isTrue(checkpointer.due(), "the reader kept frames back")
            yield* held(checkpointer)
          }
          assert.strictEqual(checkpointer.stats().checkpoints, 8)
          assert.strictEqual(checkpointer.stats().checkpointedFrames, kept, "8 checkpoints, each frame before the reader counted once")
          reader.exec("COMMIT")
          yield* held(checkpointer)
          assert.strictEqual(checkpointer.stats().checkpointedFrames, walFrames(filename), "the reader gone, the rest once")
        } finally {
          reader.close()
          yield* Effect.promise(checkpointer.close)
          db.close()
        }
      }
    }))

  it.live("lets a process that never closes it end once its checkpoints are done (its worker keeps nothing alive)", () =>
    Effect.sync(() => {
      const script = join(dir, "never-closed.mjs")
      writeFileSync(
        script,
        [
          `import { DatabaseSync } from "node:sqlite"`,
          `import * as SqliteCheckpoint from ${JSON.stringify(pathToFileURL(join(import.meta.dirname, "../src/SqliteCheckpoint.ts")).href)}`,
          `const filename = process.argv[2]`,
          `const db = new DatabaseSync(filename)`,
          `db.exec("PRAGMA journal_mode = WAL; CREATE TABLE t (v)")`,
          `const checkpointer = SqliteCheckpoint.start(db, filename, { intervalMillis: 0 })`,
          `db.exec("INSERT INTO t VALUES (1)")`,
          `checkpointer.committed()`,
          `const wait = setInterval(() => {`,
          `  if (checkpointer.stats().checkpoints === 0) return`,
          `  clearInterval(wait)`,
          `  console.log("checkpointed", checkpointer.stats().checkpointedFrames > 0)`,
          `}, 5)`
        ].join("\n")
      )
      const r = spawnSync(process.execPath, [script, join(dir, `never-closed-${++files}.db`)], { encoding: "utf8", timeout: 15_000 })
      assert.strictEqual(r.stdout.trim(), "checkpointed true", r.stderr)
      assert.isNull(r.signal, "ended by itself, not by the timeout")
      assert.strictEqual(r.status, 0)
    }))

  it.live("gives the checkpoints back to the connection when its worker cannot open the file, and creates no file", () =>
    Effect.gen(function*() {
      const { db } = walDatabase()
      const missing = join(dir, "not-there", "store.db")
      const failures: Array<string> = []
      const checkpointer = SqliteCheckpoint.start(db, missing, { intervalMillis: 0, onFailure: (m) => failures.push(m) })
      try {
        db.exec("INSERT INTO t (v) VALUES ('x')")
        // intervalMillis 0: the COMMIT starts one beside the writes, which cannot open the file.
        checkpointer.committed()
        for (let i = 0; i < 2000 && checkpointer.active(); i++) yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 5)))
        assert.isFalse(checkpointer.active())
        assert.strictEqual(checkpointer.stats().checkpointFailures, 1)
        assert.strictEqual(checkpointer.stats().checkpoints, 0)
        assert.strictEqual(failures.length, 1)
        assert.match(failures[0]!, /unable to open/)
        assert.strictEqual(autocheckpoint(db), 1000, "SQLite's automatic checkpoint is back")
        assert.isFalse(existsSync(missing))
        checkpointer.committed()
        assert.isFalse(checkpointer.due(), "nothing is due once it fell back")
      } finally {
        yield* Effect.promise(checkpointer.close)
        db.close()
      }
    }))

  it.live("holds the batch that found a checkpoint due until it ends, and answers reads meanwhile", () =>
    Effect.gen(function*() {
      const db = SqliteStore.open({ filename: join(dir, "held", "store.db") })
      yield* Effect.addFinalizer(() => Effect.sync(() => db.close()))
      const { checkpointer, runs, makeDue } = handCheckpointer()
      const store = SqliteStore.fromDatabase(db, { checkpointer })
      const t = freshTenant()
      yield* store.configurations.insert(t, configuration("c"))
      makeDue()
      const first = yield* Effect.forkChild(store.assignments.insert(t, "c", assignment("a1")))
      for (let i = 0; i < 5; i++) yield* Effect.promise(() => new Promise((resolve) => setImmediate(resolve)))
      assert.strictEqual(runs.length, 1, "the checkpoint runs before the batch")
      const second = yield* Effect.forkChild(store.assignments.insert(t, "c", assignment("a2")))
      for (let i = 0; i < 10; i++) yield* Effect.promise(() => new Promise((resolve) => setImmediate(resolve)))
      assert.isUndefined(first.pollUnsafe(), "the write waits for the checkpoint")
      assert.isUndefined(second.pollUnsafe())
      assert.strictEqual(Number(db.prepare("SELECT count(*) AS n FROM assignments WHERE tenant_id = ?").get(t)!.n), 0)
      assert.isTrue(Option.isSome(yield* store.configurations.get(t, "c")), "a read is answered meanwhile")
      runs[0]!()
      yield* Fiber.join(first)
      yield* Fiber.join(second)
      assert.strictEqual(yield* store.assignments.count(t, "c"), 2)
      assert.strictEqual(runs.length, 1)
    }))

  it.live("makes ready fail while a checkpoint the writes wait for runs past syncStallMillis, and ready again once it ends", () =>
    Effect.gen(function*() {
      const db = SqliteStore.open({ filename: join(dir, "stalled", "store.db") })
      yield* Effect.addFinalizer(() => Effect.sync(() => db.close()))
      const { checkpointer, runs, makeDue } = handCheckpointer()
      const store = SqliteStore.fromDatabase(db, { checkpointer, syncStallMillis: 50 })
      const t = freshTenant()
      yield* store.configurations.insert(t, configuration("c"))
      makeDue()
      const write = yield* Effect.forkChild(store.assignments.insert(t, "c", assignment("a1")))
      yield* Effect.sleep("100 millis")
      assert.strictEqual(runs.length, 1)
      const stalled = yield* Effect.flip(store.ready)
      assert.match(String(Cause.pretty(Cause.fail(stalled))), /a checkpoint of the WAL has not finished for 0\.\d s \(a stalled disk\?\): writes wait for it/)
      assert.isUndefined(write.pollUnsafe())
      runs[0]!()
      yield* Fiber.join(write)
      yield* store.ready
    }))

  it.live("leaves SQLite's own checkpoint to a store that never starts its worker: short writers beside an idle open store keep the WAL small", () =>
    Effect.gen(function*() {
      const filename = join(dir, "beside", "store.db")
      const t = freshTenant()
      yield* Effect.gen(function*() {
        const server = yield* Store
        yield* server.configurations.insert(t, configuration("c"))
        // 40 short sessions (an enrollctl command each) of 50 COMMITs, while the first store stays open and idle.
        for (let k = 0; k < 40; k++) {
          yield* Effect.gen(function*() {
            const cli = yield* Store
            for (let i = 0; i < 50; i++) yield* cli.assignments.insert(t, "c", assignment(`s${k}-${i}`))
            assert.strictEqual(SqliteStore.checkpointStats(cli)!.checkpoints, 0, "no worker started: SQLite checkpoints this store's writes")
          }).pipe(Effect.provide(SqliteStore.layer({ filename, synchronous: "NORMAL" })))
        }
        assert.strictEqual(yield* server.assignments.count(t, "c"), 2000)
        const wal = statSync(`${filename}-wal`).size
        assert.isBelow(wal, 6_000_000, `the WAL is ${wal} bytes`)
      }).pipe(Effect.provide(SqliteStore.layer({ filename, synchronous: "NORMAL" })))
    }))

  it.live("is started by the store on a file: its writes are checkpointed off the event loop, and its close removes the WAL", () =>
    Effect.gen(function*() {
      const filename = join(dir, "store", "store.db")
      const t = freshTenant()
      yield* Effect.gen(function*() {
        const store = yield* Store
        yield* store.configurations.insert(t, configuration("c"))
        yield* Effect.forEach(Array.from({ length: 50 }, (_, i) => i), (i) => store.assignments.insert(t, "c", assignment(`a${i}`, null)), { concurrency: 50 })
        // 50 writers for a second and a half, at the default checkpointMillis: a checkpoint every
        // 1 000 pages or so, each cycle copying the whole WAL, so that the next COMMIT starts it again
        // in place and it stays near SQLite's own size (4 MB here with SQLite's checkpoint).
        const end = performance.now() + 1500
        yield* Effect.forEach(Array.from({ length: 50 }, (_, i) => i), (i) =>
          Effect.gen(function*() {
            let n = 0
            while (performance.now() < end) {
              yield* store.assignments.modify(t, "c", `a${i}`, (a) => Result.succeed({ ...a, sourceId: String(++n) }))
            }
          }), { concurrency: "unbounded", discard: true })
        const stats = SqliteStore.checkpointStats(store)!
        assert.isAtLeast(stats.checkpoints, 3)
        assert.isAbove(stats.checkpointedFrames, 0)
        assert.strictEqual(stats.checkpointFailures, 0)
        const wal = statSync(`${filename}-wal`).size
        assert.isBelow(wal, 6_000_000, `the WAL is ${wal} bytes`)
        // A copy: later checkpoints do not change what was read.
        assert.notStrictEqual(SqliteStore.checkpointStats(store), stats)
        assert.strictEqual(yield* store.assignments.count(t, "c"), 50)
      }).pipe(Effect.provide(SqliteStore.layer({ filename })))
      assert.isFalse(existsSync(`${filename}-wal`), "the store's close was the file's last connection")
      // The store's connection has SQLite's automatic checkpoint off while it runs; another connection's default is SQLite's.
      const db = new DatabaseSync(filename)
      try {
        assert.strictEqual(autocheckpoint(db), 1000)
      } finally {
        db.close()
      }
    }))

  it.live("is not started with checkpointMillis 0, nor for a database in memory", () =>
    Effect.gen(function*() {
      for (const options of [{ filename: join(dir, "off", "store.db"), checkpointMillis: 0 }, { filename: ":memory:" }]) {
        yield* Effect.gen(function*() {
          assert.isUndefined(SqliteStore.checkpointStats(yield* Store))
        }).pipe(Effect.provide(SqliteStore.layer(options)))
      }
    }))
})
