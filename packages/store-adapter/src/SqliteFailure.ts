/**
 * A SQLite error said in an operator's terms: what happened to the store's files (corrupt, a full
 * disk, read-only, an I/O error), SQLite's own message and the result code's name, e.g. `the disk is
 * full: database or disk is full (SQLITE_FULL)`. This is the message the server logs next to a
 * 503's request id and `/ready`'s refusal (the cause of `StoreUnavailable`); clients never see it.
 *
 * `node:sqlite` errors carry SQLite's extended result code (`errcode`) and its text (`errstr`); the
 * primary code is its low byte. Only errors of the codes below are described; any other error (the
 * file locked by another connection, `SQLITE_BUSY`, among them) is left as it is. Called only when
 * an operation failed: nothing runs on a path that succeeds.
 *
 * @since 0.3.1
 */

/** What happened, by the primary result code. */
export type Kind = "corrupt" | "full" | "readOnly" | "io"

const SQLITE_READONLY = 8
const SQLITE_IOERR = 10
const SQLITE_CORRUPT = 11
const SQLITE_FULL = 13
const SQLITE_NOTADB = 26
const SQLITE_READONLY_DBMOVED = SQLITE_READONLY | (4 << 8)

/** The kind of a primary result code; undefined for codes not described. */
const kinds: ReadonlyMap<number, Kind> = new Map<number, Kind>([
  [SQLITE_CORRUPT, "corrupt"],
  [SQLITE_NOTADB, "corrupt"],
  [SQLITE_FULL, "full"],
  [SQLITE_READONLY, "readOnly"],
  [SQLITE_IOERR, "io"]
])

/** The names of the result codes described, extended ones included (`sqlite3.h`). */
const names: ReadonlyMap<number, string> = new Map([
  [SQLITE_CORRUPT, "SQLITE_CORRUPT"],
  [SQLITE_CORRUPT | (1 << 8), "SQLITE_CORRUPT_VTAB"],
  [SQLITE_CORRUPT | (2 << 8), "SQLITE_CORRUPT_SEQUENCE"],
  [SQLITE_CORRUPT | (3 << 8), "SQLITE_CORRUPT_INDEX"],
  [SQLITE_NOTADB, "SQLITE_NOTADB"],
  [SQLITE_FULL, "SQLITE_FULL"],
  [SQLITE_READONLY, "SQLITE_READONLY"],
  [SQLITE_READONLY | (1 << 8), "SQLITE_READONLY_RECOVERY"],
  [SQLITE_READONLY | (2 << 8), "SQLITE_READONLY_CANTLOCK"],
  [SQLITE_READONLY | (3 << 8), "SQLITE_READONLY_ROLLBACK"],
  [SQLITE_READONLY_DBMOVED, "SQLITE_READONLY_DBMOVED"],
  [SQLITE_READONLY | (5 << 8), "SQLITE_READONLY_CANTINIT"],
  [SQLITE_READONLY | (6 << 8), "SQLITE_READONLY_DIRECTORY"],
  [SQLITE_IOERR, "SQLITE_IOERR"],
  ...[
    "READ", "SHORT_READ", "WRITE", "FSYNC", "DIR_FSYNC", "TRUNCATE", "FSTAT", "UNLOCK", "RDLOCK", "DELETE",
    "BLOCKED", "NOMEM", "ACCESS", "CHECKRESERVEDLOCK", "LOCK", "CLOSE", "DIR_CLOSE", "SHMOPEN", "SHMSIZE",
    "SHMLOCK", "SHMMAP", "SEEK", "DELETE_NOENT", "MMAP", "GETTEMPPATH", "CONVPATH", "VNODE", "AUTH",
    "BEGIN_ATOMIC", "COMMIT_ATOMIC", "ROLLBACK_ATOMIC", "DATA", "CORRUPTFS"
  ].map((name, i): [number, string] => [SQLITE_IOERR | ((i + 1) << 8), `SQLITE_IOERR_${name}`])
])

/** What a kind means to an operator: the message's first words. */
const meanings: Readonly<Record<Kind, string>> = {
  // SQLite reports a read the disk failed (EIO) as SQLITE_CORRUPT too: unix's VFS answers it with
  // SQLITE_IOERR_CORRUPTFS, which `sqlite3ApiExit` turns into SQLITE_CORRUPT (seen on an ext4 shut down).
  corrupt: "the database file is corrupt (or the disk failed to read it)",
  full: "the disk is full",
  readOnly: "the database file or its directory is read-only",
  io: "an I/O error on the database's files"
}

/** A SQLite error of a described code, in an operator's terms (see the module doc). */
export class SqliteFailure extends Error {
  override readonly name = "SqliteFailure"
  /** What happened. */
  readonly kind: Kind
  /** SQLite's extended result code, as `node:sqlite` gave it. */
  readonly errcode: number
  /** SQLite's text of the code. */
  readonly errstr: string
  constructor(kind: Kind, errcode: number, errstr: string, sqliteMessage: string) {
    const meaning = errcode === SQLITE_READONLY_DBMOVED
      ? "the database file was moved or removed while the store had it open"
      : meanings[kind]
    // An extended code this table does not name (a later SQLite's): the primary code's name, and the number.
    const code = names.get(errcode) ?? `${names.get(errcode & 0xff)!}, extended code ${errcode}`
    super(`${meaning}: ${sqliteMessage} (${code})`)
    this.kind = kind
    this.errcode = errcode
    this.errstr = errstr
  }
}

/**
 * `error` said in an operator's terms when it is a SQLite error of a code described here (a
 * {@link SqliteFailure}, which is left as it is); any other error, unchanged. Called only once an
 * operation failed.
 */
export const describe = (error: unknown): unknown => {
  if (error instanceof SqliteFailure) return error
  const errcode = (error as { readonly errcode?: unknown } | null)?.errcode
  if (typeof errcode !== "number") return error
  const kind = kinds.get(errcode & 0xff)
  if (kind === undefined) return error
  const errstr = (error as { readonly errstr?: unknown }).errstr
  const message = (error as { readonly message?: unknown }).message
  return new SqliteFailure(
    kind,
    errcode,
    typeof errstr === "string" ? errstr : "",
    typeof message === "string" && message !== "" ? message : typeof errstr === "string" ? errstr : "no message"
  )
}
