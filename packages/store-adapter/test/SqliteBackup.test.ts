/**
 * `SqliteBackup.backup` on real files: a copy holds every commit made before it began, those still
 * in the WAL included, while a connection keeps writing; it is checked (integrity, a schema this
 * release reads), private to its user, and placed whole or not at all: every refusal and failure
 * leaves the destination's directory as it was, no temporary file in it.
 */
import {
  closeSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  writeSync
} from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import * as SqliteBackup from "../src/SqliteBackup.ts"
import * as SqliteStore from "../src/SqliteStore.ts"
import { noReadOnlyMountOf, readOnlyMount, sh, unavailableBecause } from "./fixtures/system.ts"

const dir = mkdtempSync(join(tmpdir(), "store-adapter-backup-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let made = 0
/** A fresh directory of the test's own. */
const fresh = (name: string) => {
  const d = join(dir, `${name}-${++made}`)
  mkdirSync(d)
  return d
}

/** A store in its own directory, open, with `users` rows u0…u(n-1) committed and left in the WAL (no checkpoint). */
const openStore = (name: string, users: number) => {
  const directory = fresh(name)
  const filename = join(directory, "enrollment.sqlite")
  const db = SqliteStore.open({ filename })
  db.exec("PRAGMA wal_autocheckpoint = 0")
  const insert = db.prepare("INSERT INTO users (tenant_id, id, version, data) VALUES ('t', ?, 1, ?)")
  for (let i = 0; i < users; i++) insert.run(`u${i}`, JSON.stringify({ id: `u${i}`, displayName: "x".repeat(200) }))
  return { directory, filename, db, insert }
}

/** The user ids of the store at `filename`, opened as the store opens it. */
const userIds = (filename: string): ReadonlyArray<string> => {
  const db = SqliteStore.open({ filename })
  try {
    return db.prepare("SELECT id FROM users ORDER BY id").all().map((r) => String(r.id))
  } finally {
    db.close()
  }
}

/** The failure of a backup that should fail. */
const failure = (options: SqliteBackup.Options) =>
  Effect.gen(function*() {
    const exit = yield* Effect.exit(SqliteBackup.backup(options))
    assert.isTrue(Exit.isFailure(exit), "the backup failed")
    const error = Exit.isFailure(exit) ? exit.cause.reasons.find((r) => r._tag === "Fail") : undefined
    assert.isDefined(error)
    return (error as unknown as { readonly error: SqliteBackup.BackupFailed }).error
  })

const probe = fresh("probe")
const noChattr = unavailableBecause(() => {
  sh("chattr", "+i", probe)
  sh("chattr", "-i", probe)
})
const noMount = unavailableBecause(() => {
  sh("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", probe)
  sh("umount", probe)
})
const noBind = unavailableBecause(() => {
  sh("mount", "--bind", probe, probe)
  sh("umount", probe)
})
const noReadOnlyMount = noReadOnlyMountOf(probe)
if (noReadOnlyMount !== undefined) console.log(`SqliteBackup: a read-only bind mount is not permitted here (${noReadOnlyMount}); the read-only file system tests are skipped`)
if (noChattr !== undefined) console.log(`SqliteBackup: chattr +i is not available here (${noChattr}); the unwritable-directory test is skipped`)
if (noMount !== undefined) console.log(`SqliteBackup: a tmpfs cannot be mounted here (${noMount}); the full-disk test is skipped`)
if (noBind !== undefined) console.log(`SqliteBackup: a bind mount is not permitted here (${noBind}); the bind-mounted-directory test is skipped`)

describe("SqliteBackup.backup", () => {
  it.effect("copies every commit, those still in the WAL too, into a private file that opens as a store", () =>
    Effect.gen(function*() {
      const store = openStore("wal", 500)
      assert.isAbove(statSync(`${store.filename}-wal`).size, 0, "the commits are in the WAL")
      const to = join(fresh("out"), "backup.sqlite")
      const made = yield* SqliteBackup.backup({ from: store.filename, to })
      store.db.close()
      assert.strictEqual(made.file, to)
      assert.strictEqual(made.bytes, statSync(to).size)
      assert.strictEqual(made.bytes, made.pages * made.pageSize)
      assert.isAbove(made.millis, 0)
      assert.strictEqual(statSync(to).mode & 0o777, 0o600)
      assert.deepStrictEqual(readdirSync(join(to, "..")), ["backup.sqlite"], "no temporary file, journal or WAL left")
      assert.strictEqual(userIds(to).length, 500)
    }))

  it.effect("does not stop a writer: commits go on during the copy, and the copy holds those made before it", () =>
    Effect.gen(function*() {
      const store = openStore("busy", 2000)
      let written = 0
      const timer = setInterval(() => {
        for (let i = 0; i < 20; i++) store.insert.run(`w${written++}`, "{}")
      }, 1)
      const to = join(fresh("out"), "backup.sqlite")
      const before = written
      yield* SqliteBackup.backup({ from: store.filename, to }).pipe(Effect.ensuring(Effect.sync(() => clearInterval(timer))))
      const ids = new Set(userIds(to))
      store.db.close()
      for (let i = 0; i < 2000; i++) assert.isTrue(ids.has(`u${i}`), `u${i}`)
      for (let i = 0; i < before; i++) assert.isTrue(ids.has(`w${i}`), `w${i}`)
    }))

  it.effect("refuses an existing destination unless forced, and replaces it whole when forced", () =>
    Effect.gen(function*() {
      const store = openStore("force", 10)
      const out = fresh("out")
      const to = join(out, "backup.sqlite")
      writeFileSync(to, "an older backup")
      const e = yield* failure({ from: store.filename, to })
      assert.strictEqual(e.reason, "DestinationExists")
      assert.include(e.message, `${to} already exists`)
      assert.strictEqual(readFileSync(to, "utf8"), "an older backup")
      assert.deepStrictEqual(readdirSync(out), ["backup.sqlite"])
      yield* SqliteBackup.backup({ from: store.filename, to, force: true })
      store.db.close()
      assert.strictEqual(userIds(to).length, 10)
      assert.deepStrictEqual(readdirSync(out), ["backup.sqlite"])
      const d = yield* failure({ from: store.filename, to: out, force: true })
      assert.strictEqual(d.reason, "DestinationNotAFile")
      assert.include(d.message, "is a directory")
    }))

  it.effect("never replaces what is not a regular file, forced or not: a FIFO, a symbolic link, a dangling one, each left as it was", () =>
    Effect.gen(function*() {
      // Before: only a directory was refused; --force renamed the copy over a FIFO or a link (and a
      // device node), and a dangling link was refused as made "while the backup ran".
      const store = openStore("not-a-file", 3)
      const out = fresh("not-a-file-out")
      const fifo = join(out, "fifo")
      sh("mkfifo", fifo)
      const target = join(out, "target.sqlite")
      writeFileSync(target, "the link's target")
      const link = join(out, "link")
      symlinkSync(target, link)
      const dangling = join(out, "dangling")
      symlinkSync(join(out, "nothing-here"), dangling)
      const cases = [[fifo, "a FIFO (named pipe)"], [link, "a symbolic link"], [dangling, "a symbolic link"]] as const
      for (const [to, kind] of cases) {
        for (const force of [false, true]) {
          const e = yield* failure({ from: store.filename, to, force })
          assert.strictEqual(e.reason, "DestinationNotAFile", `${to} force ${force}`)
          assert.strictEqual(e.message, `${to} is ${kind}, not a regular file: name the backup's file (nothing was written)`)
        }
      }
      assert.isTrue(lstatSync(fifo).isFIFO())
      assert.strictEqual(readlinkSync(link), target)
      assert.strictEqual(readFileSync(target, "utf8"), "the link's target")
      assert.strictEqual(readlinkSync(dangling), join(out, "nothing-here"))
      assert.deepStrictEqual(readdirSync(out).sort(), ["dangling", "fifo", "link", "target.sqlite"])
      store.db.close()
    }))

  it.effect("never writes over the store's own files, forced or not", () =>
    Effect.gen(function*() {
      const store = openStore("self", 3)
      for (const to of [store.filename, `${store.filename}-wal`, join(store.directory, ".", "enrollment.sqlite")]) {
        const e = yield* failure({ from: store.filename, to, force: true })
        assert.strictEqual(e.reason, "DestinationIsSource", to)
      }
      store.db.close()
      assert.strictEqual(userIds(store.filename).length, 3)
    }))

  it.effect("knows the store's own files by identity: through a symbolic link to its directory, one not there yet too", () =>
    Effect.gen(function*() {
      // Before: compared by real path, a name not there yet was only resolved, not through the link.
      const store = openStore("self-linked", 3)
      const alias = join(fresh("alias"), "data")
      sh("ln", "-s", store.directory, alias)
      for (const name of ["enrollment.sqlite", "enrollment.sqlite-wal", "enrollment.sqlite-journal"]) {
        const e = yield* failure({ from: store.filename, to: join(alias, name), force: true })
        assert.strictEqual(e.reason, "DestinationIsSource", name)
      }
      assert.deepStrictEqual(readdirSync(store.directory).sort(), ["enrollment.sqlite", "enrollment.sqlite-shm", "enrollment.sqlite-wal"])
      yield* SqliteBackup.backup({ from: store.filename, to: join(alias, "backup.sqlite") })
      store.db.close()
      assert.strictEqual(userIds(join(store.directory, "backup.sqlite")).length, 3, "another name there is backed up to")
    }))

  it.effect("never writes over a file keep names, forced or not, by its path, a link to it or its name beside it", () =>
    Effect.gen(function*() {
      // Before: only the store's own files were refused; a backup replaced the server's signing secret.
      const store = openStore("kept", 3)
      const secret = join(store.directory, "auth-secret")
      writeFileSync(secret, "k".repeat(64), { mode: 0o600 })
      const keep = [{ file: secret, what: "the server's signing secret" }]
      const linked = join(fresh("kept-link"), "secret")
      sh("ln", secret, linked)
      const alias = join(fresh("kept-alias"), "data")
      sh("ln", "-s", store.directory, alias)
      for (const to of [secret, linked, join(alias, "auth-secret")]) {
        const e = yield* failure({ from: store.filename, to, force: true, keep })
        assert.strictEqual(e.reason, "DestinationIsSource", to)
        assert.strictEqual(
          e.message,
          to === secret ? `${to} is the server's signing secret: back it up to another path` : `${to} is the server's signing secret (${secret}): back it up to another path`
        )
      }
      assert.strictEqual(readFileSync(secret, "utf8"), "k".repeat(64))
      // Not there yet: its name in the store's directory is refused all the same.
      const gone = join(store.directory, "other-secret")
      const e = yield* failure({ from: store.filename, to: join(alias, "other-secret"), keep: [{ file: gone, what: "a kept file" }] })
      assert.strictEqual(e.reason, "DestinationIsSource")
      assert.deepStrictEqual(readdirSync(store.directory).sort(), ["auth-secret", "enrollment.sqlite", "enrollment.sqlite-shm", "enrollment.sqlite-wal"])
      store.db.close()
    }))

  it.effect.skipIf(noBind !== undefined)("never writes over the store's own files through a bind mount of its directory, forced", () =>
    Effect.scoped(Effect.gen(function*() {
      // Before: the real paths differed, and `--force` renamed the copy over the live store's file.
      const store = openStore("self-bound", 3)
      const alias = fresh("bound")
      yield* Effect.acquireRelease(
        Effect.sync(() => sh("mount", "--bind", store.directory, alias)),
        () => Effect.sync(() => sh("umount", alias))
      )
      const inode = statSync(store.filename).ino
      for (const name of ["enrollment.sqlite", "enrollment.sqlite-wal", "enrollment.sqlite-shm", "enrollment.sqlite-journal"]) {
        const e = yield* failure({ from: store.filename, to: join(alias, name), force: true })
        assert.strictEqual(e.reason, "DestinationIsSource", name)
      }
      assert.strictEqual(statSync(store.filename).ino, inode, "the store's file is the one it has open")
      store.insert.run("after", "{}")
      store.db.close()
      assert.strictEqual(userIds(store.filename).length, 4)
    })))

  it.effect("stops when its signal is aborted before the copy is in place, leaving nothing; an abort after the move changes nothing", () =>
    Effect.gen(function*() {
      // Before: there was no signal; a caller that interrupted the backup could not tell whether
      // it had been stopped before the copy was in place or after.
      const store = openStore("aborted", 3)
      const out = fresh("aborted-out")
      const to = join(out, "b.sqlite")
      const e = yield* failure({ from: store.filename, to, signal: AbortSignal.abort() })
      assert.strictEqual(e.reason, "Aborted")
      assert.strictEqual(e.message, `the backup of ${store.filename} was stopped before it was complete (nothing was written)`)
      assert.deepStrictEqual(readdirSync(out), [])
      // Aborted as the copy is moved into place, in the moment after: the backup is complete.
      for (const force of [false, true]) {
        const name = `late-${force}.sqlite`
        const late = { get aborted() { return readdirSync(out).includes(name) } } as AbortSignal
        const made = yield* SqliteBackup.backup({ from: store.filename, to: join(out, name), force, signal: late })
        assert.strictEqual(made.file, join(out, name))
        assert.isTrue(late.aborted)
      }
      assert.deepStrictEqual(readdirSync(out).sort(), ["late-false.sqlite", "late-true.sqlite"])
      store.db.close()
      assert.strictEqual(userIds(join(out, "late-true.sqlite")).length, 3)
    }))

  it.effect.skipIf(noReadOnlyMount !== undefined)("backs up a cleanly stopped store on a read-only file system", () =>
    Effect.scoped(Effect.gen(function*() {
      // Before: `cannot copy …: unable to open database file`: SQLite could not make the -shm there.
      const store = openStore("read-only", 3)
      store.db.close()
      assert.deepStrictEqual(readdirSync(store.directory), ["enrollment.sqlite"], "a clean stop leaves the file alone")
      const out = fresh("read-only-out")
      yield* readOnlyMount(store.directory)
      const made = yield* SqliteBackup.backup({ from: store.filename, to: join(out, "b.sqlite") })
      assert.strictEqual(made.file, join(out, "b.sqlite"))
      assert.deepStrictEqual(readdirSync(store.directory), ["enrollment.sqlite"])
      assert.deepStrictEqual(userIds(made.file), ["u0", "u1", "u2"])
    })))

  it.effect.skipIf(noReadOnlyMount !== undefined)("on a read-only file system, says why a store whose -wal holds commits cannot be read", () =>
    Effect.scoped(Effect.gen(function*() {
      // The file and its -wal as a writer killed after a commit leaves them, without the -shm.
      const store = openStore("read-only-wal", 3)
      const directory = fresh("read-only-wal-copy")
      const filename = join(directory, "enrollment.sqlite")
      for (const suffix of ["", "-wal"]) writeFileSync(`${filename}${suffix}`, readFileSync(`${store.filename}${suffix}`))
      store.db.close()
      const out = fresh("read-only-wal-out")
      yield* readOnlyMount(directory)
      const e = yield* failure({ from: filename, to: join(out, "b.sqlite") })
      assert.strictEqual(e.reason, "CopyFailed")
      assert.include(
        e.message,
        `(the store's directory ${directory} is on a read-only file system, and its enrollment.sqlite-wal holds commits not yet in the file, ` +
          `which SQLite cannot read there: the server did not stop cleanly; mount it read-write, and open the store once or back it up then)`
      )
      assert.deepStrictEqual(readdirSync(out), [])
    })))

  it.effect("refuses a store that is not there, and makes nothing", () =>
    Effect.gen(function*() {
      const empty = fresh("missing")
      const out = fresh("out")
      const e = yield* failure({ from: join(empty, "enrollment.sqlite"), to: join(out, "b.sqlite") })
      assert.strictEqual(e.reason, "SourceMissing")
      assert.deepStrictEqual(readdirSync(empty), [])
      assert.deepStrictEqual(readdirSync(out), [])
    }))

  it.effect("refuses a store a newer release wrote, a SQLite file that holds no store, and a damaged store, leaving nothing", () =>
    Effect.gen(function*() {
      const newer = openStore("newer", 1)
      newer.db.exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 'now')")
      const plain = join(fresh("plain"), "other.db")
      const other = new DatabaseSync(plain)
      other.exec("CREATE TABLE t (x)")
      other.close()
      // A store of many pages, closed (checkpointed), then a page in the middle overwritten.
      const damaged = openStore("damaged", 3000)
      damaged.db.close()
      const size = statSync(damaged.filename).size
      const fd = openSync(damaged.filename, "r+")
      writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, Math.floor(size / 2 / 4096) * 4096)
      closeSync(fd)
      const cases: ReadonlyArray<readonly [string, SqliteBackup.Reason, string]> = [
        [newer.filename, "ReleaseTooNew", "the store's schema is at version 999, which this release does not know"],
        [plain, "NotAStore", "holds no store of this service"],
        [damaged.filename, "IntegrityFailed", "fails SQLite's integrity check"]
      ]
      for (const [from, reason, says] of cases) {
        const out = fresh("out")
        const e = yield* failure({ from, to: join(out, "b.sqlite") })
        assert.strictEqual(e.reason, reason, e.message)
        assert.include(e.message, says)
        assert.deepStrictEqual(readdirSync(out), [], `${reason}: nothing left`)
      }
      newer.db.close()
    }))

  it.effect("fails in a directory it cannot write, leaving nothing", () =>
    Effect.gen(function*() {
      const store = openStore("nodir", 5)
      const missing = yield* failure({ from: store.filename, to: join(dir, "no-such-directory", "b.sqlite") })
      assert.strictEqual(missing.reason, "CopyFailed")
      assert.include(missing.message, "ENOENT")
      if (noChattr === undefined) {
        const out = fresh("immutable")
        sh("chattr", "+i", out)
        const e = yield* failure({ from: store.filename, to: join(out, "b.sqlite") }).pipe(
          Effect.ensuring(Effect.sync(() => sh("chattr", "-i", out)))
        )
        assert.strictEqual(e.reason, "CopyFailed")
        assert.include(e.message, `cannot write the backup in ${out}: EPERM`)
        assert.deepStrictEqual(readdirSync(out), [])
      }
      store.db.close()
    }))

  it.effect.skipIf(noMount !== undefined)("fails on a full disk half way through the copy, leaving nothing", () =>
    Effect.gen(function*() {
      const store = openStore("full", 3000)
      const out = fresh("tmpfs")
      sh("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", out)
      // Unmounted whatever happens (a timeout on a loaded host left it mounted under /tmp).
      const [e, left] = yield* failure({ from: store.filename, to: join(out, "b.sqlite") }).pipe(
        Effect.map((e) => [e, readdirSync(out)] as const),
        Effect.ensuring(Effect.sync(() => {
          store.db.close()
          sh("umount", out)
        }))
      )
      assert.strictEqual(e.reason, "CopyFailed")
      assert.match(e.message, /full|SQLITE_FULL|ENOSPC/i)
      assert.deepStrictEqual(left, [])
    }))
})
