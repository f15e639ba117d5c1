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
