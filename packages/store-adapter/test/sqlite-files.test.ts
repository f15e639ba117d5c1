/**
 * The SQLite store's own files, on real files: a store whose file, directory, `-wal` or `-shm`
 * cannot be written is not opened, and `ready` fails while the file's path does not lead to the
 * file the store has open (renamed, deleted, replaced), and so does the next sync of the WAL, its
 * writes unacknowledged and the store failed until it is opened again. Files are made unwritable with
 * `chattr +i` (which stops root, as these tests run) and a read-only bind mount; where the
 * machine does not allow one, its tests skip, saying why.
 */
import { execFileSync, spawnSync } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { pbkdf2 } from "node:crypto"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Store } from "@enrollment/core"
import { Effect, Exit, Fiber, Layer, Option, Scope } from "effect"
import * as SqliteFailure from "../src/SqliteFailure.ts"
import * as SqliteStore from "../src/SqliteStore.ts"
import { configuration, freshTenant } from "./fixtures/entities.ts"
import { noReadOnlyMountOf, readOnlyMount, sh, unavailableBecause } from "./fixtures/system.ts"

const dir = mkdtempSync(join(tmpdir(), "store-adapter-files-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const probe = join(dir, "probe")
mkdirSync(probe)
writeFileSync(join(probe, "file"), "")
const noChattr = unavailableBecause(() => {
  sh("chattr", "+i", join(probe, "file"))
  sh("chattr", "-i", join(probe, "file"))
})
const noMount = noReadOnlyMountOf(probe)
const noNobody = unavailableBecause(() => sh("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", process.execPath, "-e", ""))
if (noChattr !== undefined) console.log(`sqlite-files: chattr +i is not available here (${noChattr}); the immutable-file tests are skipped`)
if (noMount !== undefined) console.log(`sqlite-files: a read-only bind mount is not permitted here (${noMount}); the read-only file system test is skipped`)
if (noNobody !== undefined) console.log(`sqlite-files: cannot run node as nobody (${noNobody}); the unreadable-path test is skipped`)

/** `path` immutable for the scope (`chattr +i`), its attribute cleared when the scope closes, a failed test's too. */
const immutable = (path: string) =>
  Effect.acquireRelease(Effect.sync(() => sh("chattr", "+i", path)), () => Effect.sync(() => sh("chattr", "-i", path)))


/** A store made and closed in `name`'s own directory: the file alone, as a clean stop leaves it. */
const closedStore = (name: string) => {
  const directory = join(dir, name)
  const filename = join(directory, "store.db")
  SqliteStore.open({ filename }).close()
  return { directory, filename }
}

/** A store whose writer was killed (SIGKILL) after a commit: its `-wal` and `-shm` are left beside the file. */
const killedStore = (name: string) => {
  const { directory, filename } = closedStore(name)
  const writer = spawnSync(process.execPath, [
    "-e",
    `const { DatabaseSync } = require("node:sqlite")
     const db = new DatabaseSync(${JSON.stringify(filename)})
     db.exec("INSERT INTO configurations VALUES ('t', 'left', 1, '{}')")
     process.kill(process.pid, "SIGKILL")`
  ])
  assert.strictEqual(writer.signal, "SIGKILL", String(writer.stderr))
  assert.deepStrictEqual(readdirSync(directory).sort(), ["store.db", "store.db-shm", "store.db-wal"])
  return { directory, filename }
}

/** What opening the store as the server does (its layer) fails with: the `NotWritable` cause of a `StoreUnavailable`. */
const refusal = (filename: string) =>
  Effect.gen(function*() {
    const error = yield* Effect.flip(Effect.scoped(Layer.build(SqliteStore.layer({ filename }))))
    assert.strictEqual(error._tag, "StoreUnavailable")
    assert.instanceOf(error.cause, SqliteFailure.NotWritable, String((error.cause as Error)?.message))
    return error.cause as SqliteFailure.NotWritable
  })

/** Opens the store, writes and reads back: it works. */
const writes = (filename: string) =>
  Effect.gen(function*() {
    const t = freshTenant()
    const store = yield* Store
    yield* store.ready
    yield* store.configurations.insert(t, configuration("c"))
    assert.isTrue(Option.isSome(yield* store.configurations.get(t, "c")))
  }).pipe(Effect.provide(SqliteStore.layer({ filename })))

describe("a SQLite store whose files cannot be written is not opened", () => {
  it.effect.skipIf(noChattr !== undefined)("refuses an immutable database file, naming it and what to do, and makes nothing", () =>
    Effect.gen(function*() {
      // Before: SQLite opened it read-only without a word; the store started, `ready` said yes,
      // and every write failed with SQLITE_READONLY (its -wal and -shm were made beside it).
      const { directory, filename } = closedStore("immutable-file")
      yield* Effect.scoped(Effect.gen(function*() {
        yield* immutable(filename)
        const e = yield* refusal(filename)
        assert.strictEqual(e.part, "file")
        assert.strictEqual(e.path, filename)
        assert.strictEqual(e.code, "EPERM")
        assert.strictEqual(
          e.message,
          `the database file ${filename} is not writable: it is immutable or append-only (chattr +i or +a; lsattr ` +
            "shows it), or a security policy forbids writing it; clear the attribute (chattr -i, chattr -a) or the " +
            "policy. The store writes its database file and the -wal and -shm files beside it, which it makes in that " +
            `directory; it was not opened (EPERM: operation not permitted, open '${filename}')`
        )
        assert.deepStrictEqual(readdirSync(directory), ["store.db"], "nothing made beside it")
      }))
      yield* writes(filename) // The attribute cleared, the same file opens and is written.
    }))

  it.effect.skipIf(noChattr !== undefined)("refuses a directory it cannot make files in, with or without a -wal and -shm left there", () =>
    Effect.gen(function*() {
      // Before: without them, `unable to open database file`, naming nothing; with them (left by a
      // killed process), the store opened and wrote, until the day they were not there.
      for (const { directory, filename } of [closedStore("immutable-directory"), killedStore("immutable-directory-left")]) {
        yield* Effect.scoped(Effect.gen(function*() {
          yield* immutable(directory)
          const e = yield* refusal(filename)
          assert.strictEqual(e.part, "directory")
          assert.strictEqual(e.path, directory)
          assert.include(e.message, `the database file's directory ${directory} is not writable: it is immutable or append-only`)
        }))
        yield* writes(filename)
      }
    }))

  it.effect.skipIf(noChattr !== undefined)("refuses a -wal or -shm it cannot write, naming it", () =>
    Effect.gen(function*() {
      // Before: `attempt to write a readonly database`, naming no file.
      for (const [part, suffix] of [["wal", "-wal"], ["shm", "-shm"]] as const) {
        const { filename } = killedStore(`immutable-${part}`)
        yield* Effect.scoped(Effect.gen(function*() {
          yield* immutable(filename + suffix)
          const e = yield* refusal(filename)
          assert.strictEqual(e.part, part)
          assert.strictEqual(e.path, filename + suffix)
          assert.include(e.message, ` ${filename}${suffix} is not writable: it is immutable`)
        }))
        yield* writes(filename)
        // The killed writer's commit was in the -wal left behind: it is there.
        const t = yield* Effect.gen(function*() {
          return yield* (yield* Store).configurations.get("t", "left")
        }).pipe(Effect.provide(SqliteStore.layer({ filename })))
        assert.isTrue(Option.isSome(t), `the commit in the ${suffix} file was kept`)
      }
    }))

  it.effect("keeps the locks of a store open in this process: a second open checks its files without closing them", () =>
    Effect.gen(function*() {
      // Before: the check opened and closed the -shm (and -wal) with fs, which drops every lock this
      // process held on it (POSIX locks are the process's, not the descriptor's): another process
      // closing the store then took itself for the last one and deleted the live -wal and -shm.
      const directory = join(dir, "second-open")
      const filename = join(directory, "store.db")
      const t = freshTenant()
      yield* Effect.scoped(Effect.gen(function*() {
        const store = yield* SqliteStore.make({ filename })
        yield* store.configurations.insert(t, configuration("first"))
        const second = SqliteStore.open({ filename })
        const other = spawnSync(process.execPath, [
          "-e",
          `const { DatabaseSync } = require("node:sqlite")
           const db = new DatabaseSync(${JSON.stringify(filename)})
           db.prepare("SELECT count(*) FROM configurations").get()
           db.close()`
        ])
        assert.strictEqual(other.status, 0, String(other.stderr))
        assert.deepStrictEqual(readdirSync(directory).sort(), ["store.db", "store.db-shm", "store.db-wal"], "the live -wal and -shm are kept")
        second.close()
        yield* store.configurations.insert(t, configuration("second"))
        yield* store.ready
      }))
      const kept = yield* Effect.gen(function*() {
        return yield* (yield* Store).configurations.getMany(t, ["first", "second"])
      }).pipe(Effect.provide(SqliteStore.layer({ filename })))
      assert.deepStrictEqual(kept.map((c) => c.id).sort(), ["first", "second"], "both writes are durable")
    }))

  it.effect.skipIf(noMount !== undefined)("refuses a store on a read-only file system, the file there or not", () =>
    Effect.gen(function*() {
      // Before: `unable to open database file` with the file alone, `attempt to write a readonly
      // database` with a -wal and -shm left there.
      const { directory, filename } = closedStore("read-only-mount")
      const missing = join(directory, "other.db")
      yield* Effect.scoped(Effect.gen(function*() {
        yield* readOnlyMount(directory)
        const e = yield* refusal(filename)
        assert.strictEqual(e.part, "file")
        assert.strictEqual(e.code, "EROFS")
        assert.include(e.message, `the database file ${filename} is not writable: it is on a read-only file system; mount it read-write.`)
        const made = yield* refusal(missing)
        assert.strictEqual(made.part, "directory", "a file not there cannot be made: its directory is named")
        assert.include(made.message, `the database file's directory ${directory} is not writable: it is on a read-only file system`)
      }))
      assert.isFalse(existsSync(missing))
      yield* writes(filename)
    }))
})

describe("a SQLite store whose database file is moved while it is open", () => {
  /** The message of `ready`'s refusal: a `StoreUnavailable`, and what the server logs for `/ready`. */
  const notReady = (store: Store["Service"]) =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(store.ready)
      assert.strictEqual(error._tag, "StoreUnavailable")
      return String((error.cause as Error).message)
    })

  it.effect("is not ready while the file is renamed away, naming it, and ready again once it is renamed back", () =>
    Effect.gen(function*() {
      // Before: `ready` said yes throughout, while the writes went to a file the next start would not open.
      const filename = join(dir, "renamed", "store.db")
      const t = freshTenant()
      yield* Effect.scoped(Effect.gen(function*() {
        const store = yield* SqliteStore.make({ filename })
        yield* store.configurations.insert(t, configuration("before"))
        yield* store.ready
        renameSync(filename, `${filename}.old`)
        const message = yield* notReady(store)
        assert.include(message, `the database file ${filename} is no longer there: it was renamed or deleted while the store had it open`)
        assert.include(message, "rename it back (ready answers again once the path leads to it)")
        // Reads are not refused (only `ready` and a sync look; no write comes here).
        assert.isTrue(Option.isSome(yield* store.configurations.get(t, "before")))
        renameSync(`${filename}.old`, filename)
        yield* store.ready
      }))
      const kept = yield* Effect.gen(function*() {
        return yield* (yield* Store).configurations.getMany(t, ["before"])
      }).pipe(Effect.provide(SqliteStore.layer({ filename })))
      assert.deepStrictEqual(kept.map((c) => c.id), ["before"], "renamed back, nothing was lost")
    }))

  /**
   * A store made at `name` and five writers writing on into it (each its configurations one after
   * another), until one of their writes fails: `acknowledged` has the ids of the writes answered, and
   * `failures` awaits each writer's failure (what each was answered), failing the test if a writer
   * is still writing after 5 s. Returns once 50 writes were acknowledged.
   */
  const writingOn = (name: string) =>
    Effect.gen(function*() {
      const filename = join(dir, name, "store.db")
      const t = freshTenant()
      const store = yield* SqliteStore.make({ filename })
      const acknowledged: Array<string> = []
      const writer = (w: number) =>
        Effect.flip(Effect.gen(function*() {
          for (let i = 0;; i++) {
            yield* store.configurations.insert(t, configuration(`w${w}-${i}`))
            acknowledged.push(`w${w}-${i}`)
          }
        }))
      const writers = yield* Effect.forEach([0, 1, 2, 3, 4], (w) => Effect.forkChild(writer(w)))
      while (acknowledged.length < 50) yield* Effect.sleep("2 millis")
      const failures = Effect.forEach(writers, (f) =>
        Fiber.join(f).pipe(
          Effect.timeoutOrElse({ duration: "5 seconds", orElse: () => Effect.die(new Error("a writer was still acknowledged")) })
        ))
      return { filename, t, store, acknowledged, failures }
    })

  /** What `ready` and every write of `store` say once a sync failed: `message`, a `StoreUnavailable`'s cause. */
  const failedWith = (store: Store["Service"], t: string, message: string) =>
    Effect.gen(function*() {
      assert.strictEqual(yield* notReady(store), message, "ready says the sync's failure")
      const refused = yield* Effect.flip(store.configurations.insert(t, configuration("after")))
      assert.strictEqual(refused._tag, "StoreUnavailable")
      assert.strictEqual(String((refused.cause as Error).message), message, "and so does every later write")
    })

  it.live("refuses the writes of the first sync after the file is renamed away, acknowledging none, and stays failed until reopened", () =>
    Effect.gen(function*() {
      // Before: every write was acknowledged until a load balancer took the server out, and at the
      // restart (without a rename back) they were gone: the renamed file without them, its -wal left
      // at the old path and deleted by SQLite beside the new, empty file made there.
      const scope = yield* Scope.make()
      const { acknowledged, failures, filename, store, t } = yield* writingOn("renamed-writing").pipe(Scope.provide(scope))
      renameSync(filename, `${filename}.old`)
      // Read at once: every write acknowledged by now was synced, and counted, before the rename.
      const synced = SqliteStore.stats(store)!.syncedWrites
      const answers = yield* failures
      const message = String((answers[0]!.cause as Error).message)
      for (const answer of answers) {
        assert.strictEqual(answer._tag, "StoreUnavailable")
        assert.strictEqual(String((answer.cause as Error).message), message)
      }
      assert.strictEqual(
        message,
        `the database file ${filename} is no longer there: it was renamed or deleted while the store had it open; the ` +
          "writes waiting for this sync of the WAL were not acknowledged, and the store fails them and every later " +
          "operation (reads and ready included) until it is opened again (a restart). The restart opens what is at " +
          "the path (an empty store where nothing is): rename the file back first; a deleted file can be copied back " +
          "only while the store runs (it writes nothing now), from /proc/<pid>/fd/ (ls -l shows it as deleted), and " +
          "the store then restarted"
      )
      assert.deepInclude(SqliteStore.stats(store), { syncedWrites: synced, failures: 1 }, "nothing acknowledged after the rename")
      assert.strictEqual(acknowledged.length, synced, "every write answered was synced before the rename")
      yield* failedWith(store, t, message)
      // Renamed back: still failed (as after any failed sync), until the store is opened again.
      renameSync(`${filename}.old`, filename)
      yield* failedWith(store, t, message)
      yield* Scope.close(scope, Exit.void)
      const kept = yield* Effect.gen(function*() {
        const reopened = yield* Store
        yield* reopened.ready
        return yield* reopened.configurations.getMany(t, acknowledged)
      }).pipe(Effect.provide(SqliteStore.layer({ filename })))
      assert.strictEqual(kept.length, acknowledged.length, "renamed back before the restart, every acknowledged write is there")
    }))

  it.live("refuses the writes of the first sync after the file is deleted, acknowledging none", () =>
    Effect.gen(function*() {
      const { acknowledged, failures, filename, store, t } = yield* writingOn("deleted-writing")
      rmSync(filename)
      const synced = SqliteStore.stats(store)!.syncedWrites
      const answers = yield* failures
      const message = String((answers[0]!.cause as Error).message)
      for (const answer of answers) assert.strictEqual(answer._tag, "StoreUnavailable")
      assert.include(message, `the database file ${filename} is no longer there: it was renamed or deleted while the store had it open; the writes waiting for this sync of the WAL were not acknowledged`)
      assert.include(message, "from /proc/<pid>/fd/")
      assert.deepInclude(SqliteStore.stats(store), { syncedWrites: synced, failures: 1 })
      assert.strictEqual(acknowledged.length, synced)
      yield* failedWith(store, t, message)
    }))

  it.live("refuses the writes of the first sync after another file is put at its path, naming both files", () =>
    Effect.gen(function*() {
      const { failures, filename, store, t } = yield* writingOn("replaced-writing")
      // A store made elsewhere and moved in (one made at the path would find the running store's -wal
      // there, beside an empty file, and delete it: that sync would fail as the WAL's removal).
      const other = closedStore("replaced-writing-other").filename
      renameSync(filename, `${filename}.old`)
      renameSync(other, filename)
      const synced = SqliteStore.stats(store)!.syncedWrites
      const message = String(((yield* failures)[0]!.cause as Error).message)
      assert.match(
        message,
        new RegExp(
          `^the database file ${filename} is another file than the one the store has open \\(device \\d+ inode \\d+; ` +
            "opened: device \\d+ inode \\d+\\): it was replaced while the store had it open; the writes waiting for this " +
            "sync of the WAL were not acknowledged, .* put the file the store opened back there first$"
        )
      )
      assert.deepInclude(SqliteStore.stats(store), { syncedWrites: synced, failures: 1 })
      yield* failedWith(store, t, message)
    }))

  it.live("fails a sync that ends after close when the file was renamed away: SQLite's close did not checkpoint it", () =>
    Effect.gen(function*() {
      // As a server stopping with a sync waiting for a thread of libuv's pool: a sync ending after close
      // is acknowledged while the path leads to the file (SQLite's close checkpointed the WAL into it),
      // but SQLite does not checkpoint a file that moved, and leaves its -wal at the old path.
      const filename = join(dir, "renamed-closing", "store.db")
      const t = freshTenant()
      const scope = yield* Scope.make()
      const store = yield* SqliteStore.make({ filename }).pipe(Scope.provide(scope))
      yield* store.configurations.insert(t, configuration("c0"))
      const threads = Number(process.env.UV_THREADPOOL_SIZE ?? 4)
      const busy = Array.from({ length: threads }, () => new Promise((resolve) => pbkdf2("p", "s", 300_000, 32, "sha256", resolve)))
      const write = yield* Effect.forkChild(store.configurations.insert(t, configuration("c1")))
      // Two turns of the event loop: the write is committed, and its sync waits for a thread.
      for (let turn = 0; turn < 2; turn++) yield* Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))
      renameSync(filename, `${filename}.old`)
      yield* Scope.close(scope, Exit.void)
      yield* Effect.promise(() => Promise.all(busy))
      const refused = yield* Effect.flip(Fiber.join(write)).pipe(Effect.timeout("5 seconds"))
      assert.strictEqual(refused._tag, "StoreUnavailable")
      assert.include(String((refused.cause as Error).message), `the database file ${filename} is no longer there`)
      assert.deepStrictEqual(readdirSync(join(dir, "renamed-closing")).sort(), ["store.db-shm", "store.db-wal", "store.db.old"])
    }))

  it.effect("is not ready while another file is at its path, or none, naming both files", () =>
    Effect.gen(function*() {
      const filename = join(dir, "replaced", "store.db")
      yield* Effect.scoped(Effect.gen(function*() {
        const store = yield* SqliteStore.make({ filename })
        renameSync(filename, `${filename}.old`)
        SqliteStore.open({ filename }).close() // A new, empty store where the old one was: what a restart would open.
        const message = yield* notReady(store)
        assert.match(
          message,
          new RegExp(
            `^the database file ${filename} is another file than the one the store has open \\(device \\d+ inode \\d+; ` +
              "opened: device \\d+ inode \\d+\\): it was replaced while the store had it open"
          )
        )
        rmSync(filename)
        assert.include(yield* notReady(store), `the database file ${filename} is no longer there`)
        renameSync(`${filename}.old`, filename)
        // The file is back, but the other store's close removed the `-shm` at the path, this store's
        // (the last connection to a database removes its `-wal` and `-shm`): since 0.15.0 `ready` says
        // so, where before it said yes, and a process that opened the file next would not have seen
        // this store's writes.
        assert.include(yield* notReady(store), "-shm was removed while the store had it open")
      }))
    }))

  it.effect("is ready again once its file is back at its path, and not once it is deleted", () =>
    Effect.gen(function*() {
      const filename = join(dir, "renamed-back", "store.db")
      yield* Effect.scoped(Effect.gen(function*() {
        const store = yield* SqliteStore.make({ filename })
        renameSync(filename, `${filename}.old`)
        assert.include(yield* notReady(store), `the database file ${filename} is no longer there`)
        renameSync(`${filename}.old`, filename)
        yield* store.ready
        rmSync(filename)
        assert.include(yield* notReady(store), "a deleted file can be copied back only while the store runs")
      }))
    }))

  it.effect.skipIf(noNobody !== undefined)("syncs on while the path cannot be looked up (EACCES), and is not ready until it can", () =>
    Effect.scoped(Effect.gen(function*() {
      // Before: the sync's `stat` failing EACCES counted as the file moved, and failed the store until
      // a restart. Run as nobody (root looks up any path); the directory above the store's is nobody's.
      const top = mkdtempSync(join(tmpdir(), "store-adapter-nobody-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(top, { recursive: true, force: true })))
      execFileSync("chown", ["nobody", top])
      const script = `
        import { Effect } from "effect"
        import { chmodSync } from "node:fs"
        import * as SqliteStore from ${JSON.stringify(join(import.meta.dirname, "../src/SqliteStore.ts"))}
        import { configuration } from ${JSON.stringify(join(import.meta.dirname, "fixtures/entities.ts"))}
        const ready = (store) => Effect.match(store.ready, { onFailure: (e) => String(e.cause.message), onSuccess: () => "ready" })
        const said = await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
          const store = yield* SqliteStore.make({ filename: ${JSON.stringify(join(top, "data", "store.db"))} })
          yield* store.configurations.insert("t", configuration("before"))
          chmodSync(${JSON.stringify(top)}, 0)
          const written = yield* Effect.match(store.configurations.insert("t", configuration("during")), { onFailure: (e) => String(e.cause.message), onSuccess: () => "written" })
          const notReady = yield* ready(store)
          chmodSync(${JSON.stringify(top)}, 0o700)
          const readyAgain = yield* ready(store)
          const kept = (yield* store.configurations.getMany("t", ["before", "during"])).map((c) => c.id).sort()
          return { written, notReady, readyAgain, kept, stats: SqliteStore.stats(store) }
        })))
        console.log(JSON.stringify(said))`
      const child = spawnSync("setpriv", [
        "--reuid=nobody",
        "--regid=nogroup",
        "--clear-groups",
        process.execPath,
        "--input-type=module",
        "-e",
        script
      ], { cwd: import.meta.dirname, encoding: "utf8" })
      assert.strictEqual(child.status, 0, child.stderr)
      const said = JSON.parse(child.stdout.trim().split("\n").at(-1)!)
      const filename = join(top, "data", "store.db")
      assert.strictEqual(said.written, "written", "the write was synced and acknowledged")
      assert.strictEqual(
        said.notReady,
        `the database file ${filename} cannot be looked up, to tell it is still the file the store has open: EACCES: ` +
          `permission denied, stat '${filename}'; writes go on (their syncs are not failed for it), and ready answers ` +
          "again once the path can be looked up (give the store's user search access to its directories)"
      )
      assert.strictEqual(said.readyAgain, "ready")
      assert.deepStrictEqual(said.kept, ["before", "during"])
      assert.strictEqual(said.stats.failures, 0)
    })))

  it.effect("keeps the path SQLite opened: a store through a symbolic link checks the file the link leads to", () =>
    Effect.gen(function*() {
      const target = join(dir, "linked", "target")
      mkdirSync(target, { recursive: true })
      const link = join(dir, "linked", "store.db")
      execFileSync("ln", ["-s", join(target, "store.db"), link])
      yield* Effect.scoped(Effect.gen(function*() {
        const store = yield* SqliteStore.make({ filename: link })
        yield* store.ready
        renameSync(join(target, "store.db"), join(target, "moved.db"))
        assert.include(yield* notReady(store), `the database file ${join(target, "store.db")} is no longer there`)
        renameSync(join(target, "moved.db"), join(target, "store.db"))
        yield* store.ready
      }))
    }))

  it.effect("a store with no file (:memory:) is ready", () =>
    Effect.gen(function*() {
      const store = yield* SqliteStore.make({ filename: ":memory:" })
      yield* store.ready
    }))
})
