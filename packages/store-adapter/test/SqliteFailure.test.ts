import { DatabaseSync } from "node:sqlite"
import { assert, describe, it } from "@effect/vitest"
import * as SqliteFailure from "../src/SqliteFailure.ts"

/** An error as `node:sqlite` makes it: SQLite's message, its extended result code and the code's text. */
const sqliteError = (errcode: number, message: string, errstr = message) =>
  Object.assign(new Error(message), { code: "ERR_SQLITE_ERROR", errcode, errstr })

const messageOf = (e: unknown): string => {
  assert.instanceOf(e, SqliteFailure.SqliteFailure)
  return (e as Error).message
}

describe("SqliteFailure", () => {
  it("says a corrupt file, a full disk, a read-only file and an I/O error in an operator's terms, naming the code", () => {
    assert.strictEqual(
      messageOf(SqliteFailure.describe(sqliteError(11, "database disk image is malformed"))),
      "the database file is corrupt (or the disk failed to read it): database disk image is malformed (SQLITE_CORRUPT)"
    )
    assert.strictEqual(
      messageOf(SqliteFailure.describe(sqliteError(779, "database disk image is malformed"))),
      "the database file is corrupt (or the disk failed to read it): database disk image is malformed (SQLITE_CORRUPT_INDEX)"
    )
    assert.strictEqual(
      messageOf(SqliteFailure.describe(sqliteError(26, "file is not a database"))),
      "the database file is corrupt (or the disk failed to read it): file is not a database (SQLITE_NOTADB)"
    )
    assert.strictEqual(
      messageOf(SqliteFailure.describe(sqliteError(13, "database or disk is full"))),
      "the disk is full: database or disk is full (SQLITE_FULL)"
    )
    assert.strictEqual(
      messageOf(SqliteFailure.describe(sqliteError(8, "attempt to write a readonly database"))),
      "the database file or its directory is read-only: attempt to write a readonly database (SQLITE_READONLY)"
    )
    assert.strictEqual(
      messageOf(SqliteFailure.describe(sqliteError(1032, "attempt to write a readonly database"))),
      "the database file was moved or removed while the store had it open: attempt to write a readonly database (SQLITE_READONLY_DBMOVED)"
    )
    // What an ext4 file system shut down under the store gave a write (EIO).
    assert.strictEqual(
      messageOf(SqliteFailure.describe(sqliteError(778, "disk I/O error"))),
      "an I/O error on the database's files: disk I/O error (SQLITE_IOERR_WRITE)"
    )
    assert.strictEqual(
      messageOf(SqliteFailure.describe(sqliteError(10 | (15 << 8), "disk I/O error"))),
      "an I/O error on the database's files: disk I/O error (SQLITE_IOERR_LOCK)"
    )
    assert.strictEqual(
      messageOf(SqliteFailure.describe(sqliteError(10 | (33 << 8), "disk I/O error"))),
      "an I/O error on the database's files: disk I/O error (SQLITE_IOERR_CORRUPTFS)"
    )
    // An extended code of a later SQLite: the primary code's name, and the number.
    assert.strictEqual(
      messageOf(SqliteFailure.describe(sqliteError(10 | (60 << 8), "disk I/O error"))),
      "an I/O error on the database's files: disk I/O error (SQLITE_IOERR, extended code 15370)"
    )
  })

  it("says SQLite running out of memory as such, SQLITE_IOERR_NOMEM (an extended code of IOERR) too", () => {
    // SQLite's text of IOERR_NOMEM is its primary code's: the message says the disk is not at fault.
    const ioNomem = SqliteFailure.describe(sqliteError(10 | (12 << 8), "disk I/O error")) as SqliteFailure.SqliteFailure
    assert.strictEqual(
      messageOf(ioNomem),
      "SQLite ran out of memory (in its file layer; not an error of the disk): disk I/O error (SQLITE_IOERR_NOMEM)"
    )
    assert.strictEqual(ioNomem.kind, "memory")
    // What SQLite's API makes of it (`apiHandleError`), and of any allocation that failed.
    const nomem = SqliteFailure.describe(sqliteError(7, "out of memory")) as SqliteFailure.SqliteFailure
    assert.strictEqual(messageOf(nomem), "SQLite ran out of memory: out of memory (SQLITE_NOMEM)")
    assert.strictEqual(nomem.kind, "memory")
    // The other extended codes of IOERR stay I/O errors.
    assert.strictEqual(
      messageOf(SqliteFailure.describe(sqliteError(10 | (11 << 8), "disk I/O error"))),
      "an I/O error on the database's files: disk I/O error (SQLITE_IOERR_BLOCKED)"
    )
  })

  it("keeps the code, the kind and SQLite's text, and describes a described error as it is", () => {
    const described = SqliteFailure.describe(sqliteError(13, "database or disk is full")) as SqliteFailure.SqliteFailure
    assert.deepInclude(described, { kind: "full", errcode: 13, errstr: "database or disk is full" })
    assert.strictEqual(SqliteFailure.describe(described), described)
  })

  it("leaves every other error as it is: a lock (already said), a constraint, a file system's, anything else", () => {
    for (const e of [
      sqliteError(5, "database is locked"),
      sqliteError(261, "database is locked"),
      sqliteError(6, "database table is locked"),
      new Error("EIO: i/o error, fdatasync"),
      "a string",
      undefined,
      null
    ]) {
      assert.strictEqual(SqliteFailure.describe(e), e)
    }
    // A real one: a trigger's RAISE(ABORT, …) is SQLITE_CONSTRAINT_TRIGGER, whatever its text says.
    const db = new DatabaseSync(":memory:")
    db.exec("CREATE TABLE t (x); CREATE TRIGGER full BEFORE INSERT ON t BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END")
    let thrown: unknown
    try {
      db.exec("INSERT INTO t VALUES (1)")
    } catch (e) {
      thrown = e
    }
    db.close()
    assert.strictEqual((thrown as { errcode?: unknown }).errcode, 1811)
    assert.strictEqual(SqliteFailure.describe(thrown), thrown)
  })
})

/** An error as Node's `fs` makes it for a failed `fdatasync`. */
const fsError = (code: string, errno: number, text: string) =>
  Object.assign(new Error(`${code}: ${text}, fdatasync`), { code, errno, syscall: "fdatasync" })

describe("SqliteFailure.describeSync", () => {
  const after = "the writes were not made durable, and the store fails them and every later operation " +
    "(reads and ready included) until it is opened again (a restart)"
  const described = (e: unknown): SqliteFailure.SyncFailure => {
    const d = SqliteFailure.describeSync(e)
    assert.instanceOf(d, SqliteFailure.SyncFailure)
    return d as SqliteFailure.SyncFailure
  }

  it("says an I/O error, a full disk, a used-up quota and a read-only file system syncing the WAL, and what the store does then", () => {
    const cases: ReadonlyArray<[ReturnType<typeof fsError>, SqliteFailure.Kind, string]> = [
      [fsError("EIO", -5, "i/o error"), "io", `an I/O error syncing the WAL to disk; ${after}: EIO: i/o error, fdatasync`],
      [
        fsError("ENOSPC", -28, "no space left on device"),
        "full",
        `the disk is full: the WAL could not be synced to it; ${after}: ENOSPC: no space left on device, fdatasync`
      ],
      [
        fsError("EDQUOT", -122, "disk quota exceeded"),
        "full",
        `the disk quota is used up: the WAL could not be synced to disk; ${after}: EDQUOT: disk quota exceeded, fdatasync`
      ],
      [
        fsError("EROFS", -30, "read-only file system"),
        "readOnly",
        `the file system went read-only: the WAL could not be synced to disk; ${after}: EROFS: read-only file system, fdatasync`
      ]
    ]
    for (const [error, kind, message] of cases) {
      const d = described(error)
      assert.strictEqual(d.message, message)
      assert.strictEqual(d.kind, kind)
      assert.strictEqual(d.code, error.code)
    }
  })

  it("keeps the sync's error as it was, out of the cause chain the logs read (whose innermost message they print)", () => {
    const error = fsError("EIO", -5, "i/o error")
    const d = described(error)
    assert.strictEqual(d.error, error)
    assert.isUndefined(d.cause)
    assert.strictEqual(SqliteFailure.describeSync(d), d)
  })

  it("leaves any other error as it is: another code, the store's own, a SQLite error, anything else", () => {
    for (const e of [
      fsError("EBADF", -9, "bad file descriptor"),
      new Error("/data/store.db-wal was removed while the store had it open: what is written to it is lost"),
      new Error("the store is closed"),
      sqliteError(10, "disk I/O error"),
      "EIO",
      undefined,
      null
    ]) {
      assert.strictEqual(SqliteFailure.describeSync(e), e)
    }
  })
})

describe("SqliteFailure.NotWritable", () => {
  const openError = (code: string, text: string, path: string) =>
    Object.assign(new Error(`${code}: ${text}, open '${path}'`), { code, syscall: "open", path })
  const rule = "The store writes its database file and the -wal and -shm files beside it, which it makes in that directory; it was not opened"

  it("names the part, its path, why (read-only file system, immutable, not allowed) and what to do, then Node's error", () => {
    const cases: ReadonlyArray<readonly [SqliteFailure.Part, string, string, string, string]> = [
      ["file", "/data/s.db", "EROFS", "read-only file system", "the database file /data/s.db is not writable: it is on a read-only file system; mount it read-write."],
      ["directory", "/data", "EACCES", "permission denied", "the database file's directory /data is not writable: this user may not write it (its mode, owner or ACL); give the user the store runs as write access to it (chown, chmod)."],
      ["wal", "/data/s.db-wal", "EPERM", "operation not permitted", "the database's WAL file /data/s.db-wal is not writable: it is immutable or append-only (chattr +i or +a; lsattr shows it), or a security policy forbids writing it; clear the attribute (chattr -i, chattr -a) or the policy."],
      ["shm", "/data/s.db-shm", "ETXTBSY", "text file is busy", "the database's shared-memory file /data/s.db-shm is not writable: ETXTBSY: text file is busy, open '/data/s.db-shm'; make it writable."]
    ]
    for (const [part, path, code, text, said] of cases) {
      const error = openError(code, text, path)
      const e = new SqliteFailure.NotWritable(part, path, error)
      assert.strictEqual(e.message, `${said} ${rule} (${code}: ${text}, open '${path}')`)
      assert.deepStrictEqual([e.part, e.path, e.code, e.kind, e.error], [part, path, code, "readOnly", error])
      assert.isUndefined(e.cause, "Node's error is kept out of the cause chain the logs print")
    }
  })
})

describe("SqliteFailure.moved", () => {
  const opened = { dev: 2049n, ino: 131n }
  const enoent = Object.assign(new Error("ENOENT: no such file or directory, stat '/data/s.db'"), { code: "ENOENT" })

  it("says the file is no longer there, or is another file, what is lost, and how to put it back", () => {
    const gone = SqliteFailure.moved("/data/s.db", opened, enoent).message
    assert.match(gone, /^the database file \/data\/s\.db is no longer there: it was renamed or deleted while the store had it open, and what the store writes is lost at the next start/)
    assert.include(gone, "rename it back (ready answers again once the path leads to it)")
    const other = SqliteFailure.moved("/data/s.db", opened, { dev: 2049n, ino: 977n }).message
    assert.match(other, /^the database file \/data\/s\.db is another file than the one the store has open \(device 2049 inode 977; opened: device 2049 inode 131\)/)
    const denied = Object.assign(new Error("EACCES: permission denied, stat '/data/s.db'"), { code: "EACCES" })
    assert.strictEqual(
      SqliteFailure.moved("/data/s.db", opened, denied).message,
      "the database file /data/s.db cannot be looked up, to tell it is still the file the store has open: EACCES: permission " +
        "denied, stat '/data/s.db'; writes go on (their syncs are not failed for it), and ready answers again once the path " +
        "can be looked up (give the store's user search access to its directories)"
    )
  })
})
