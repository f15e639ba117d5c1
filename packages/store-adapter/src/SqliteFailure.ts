/**
 * A SQLite error said in an operator's terms: what happened to the store's files (corrupt, a full
 * disk, read-only, an I/O error) or to SQLite (out of memory), SQLite's own message and the result
 * code's name, e.g. `the disk is full: database or disk is full (SQLITE_FULL)`. This is the message
 * the server logs next to a 503's request id and `/ready`'s refusal (the cause of
 * `StoreUnavailable`); clients never see it.
 *
 * `node:sqlite` errors carry SQLite's extended result code (`errcode`) and its text (`errstr`); the
 * primary code is its low byte. Only errors of the codes below are described; any other error (the
 * file locked by another connection, `SQLITE_BUSY`, among them) is left as it is. Called only when
 * an operation failed: nothing runs on a path that succeeds.
 *
 * A failed sync of the WAL (the store's own `fdatasync`, not SQLite's) is said in the same terms by
 * {@link describeSync} (a {@link SyncFailure}), with what the store does from then on. A store whose
 * files cannot be written is refused at open ({@link NotWritable}), and the path of its file leading
 * elsewhere is said by {@link moved} (to `ready`) and {@link movedAtSync} (failing a sync; both since 0.4.0).
 *
 * @since 0.3.1
 */

/** What happened, by the primary result code (and, for `memory`, `SQLITE_IOERR_NOMEM`). */
export type Kind = "corrupt" | "full" | "readOnly" | "io" | "memory"

const SQLITE_NOMEM = 7
const SQLITE_READONLY = 8
const SQLITE_IOERR = 10
const SQLITE_CORRUPT = 11
const SQLITE_FULL = 13
const SQLITE_NOTADB = 26
const SQLITE_READONLY_DBMOVED = SQLITE_READONLY | (4 << 8)
/** An allocation failed in SQLite's file layer: memory, not the disk, though its primary code is `SQLITE_IOERR`. */
const SQLITE_IOERR_NOMEM = SQLITE_IOERR | (12 << 8)

/** The kind of a primary result code; undefined for codes not described. */
const kinds: ReadonlyMap<number, Kind> = new Map<number, Kind>([
  [SQLITE_CORRUPT, "corrupt"],
  [SQLITE_NOTADB, "corrupt"],
  [SQLITE_FULL, "full"],
  [SQLITE_READONLY, "readOnly"],
  [SQLITE_IOERR, "io"],
  [SQLITE_NOMEM, "memory"]
])

/** The kind of an extended result code, where it is not its primary code's (since 0.3.1). */
const extendedKinds: ReadonlyMap<number, Kind> = new Map<number, Kind>([[SQLITE_IOERR_NOMEM, "memory"]])

/** The names of the result codes described, extended ones included (`sqlite3.h`). */
const names: ReadonlyMap<number, string> = new Map([
  [SQLITE_CORRUPT, "SQLITE_CORRUPT"],
  [SQLITE_CORRUPT | (1 << 8), "SQLITE_CORRUPT_VTAB"],
  [SQLITE_CORRUPT | (2 << 8), "SQLITE_CORRUPT_SEQUENCE"],
  [SQLITE_CORRUPT | (3 << 8), "SQLITE_CORRUPT_INDEX"],
  [SQLITE_NOTADB, "SQLITE_NOTADB"],
  [SQLITE_FULL, "SQLITE_FULL"],
  [SQLITE_NOMEM, "SQLITE_NOMEM"],
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
  io: "an I/O error on the database's files",
  memory: "SQLite ran out of memory"
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
      : errcode === SQLITE_IOERR_NOMEM
      // SQLite's text is its primary code's, `disk I/O error`: said here that the disk is not at fault.
      ? "SQLite ran out of memory (in its file layer; not an error of the disk)"
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
  const kind = extendedKinds.get(errcode) ?? kinds.get(errcode & 0xff)
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

// ----- a failed sync of the WAL ---------------------------------------------------

/** What a file system error code of a failed sync means, by Node's `code` (since 0.3.1). */
const syncMeanings: ReadonlyMap<string, readonly [Kind, string]> = new Map<string, readonly [Kind, string]>([
  ["EIO", ["io", "an I/O error syncing the WAL to disk"]],
  // `fdatasync` reports them when the space is found missing only as the data is written back: a
  // thin-provisioned or network disk, a loop device whose file's file system filled up.
  ["ENOSPC", ["full", "the disk is full: the WAL could not be synced to it"]],
  ["EDQUOT", ["full", "the disk quota is used up: the WAL could not be synced to disk"]],
  // ext4 gone read-only after an error, mounted `errors=remount-ro` (seen on Linux 6.18).
  ["EROFS", ["readOnly", "the file system went read-only: the WAL could not be synced to disk"]]
])

/** What the store does once a sync failed (see `groupCommit` in `SqliteStore`). */
const afterSync = "the writes were not made durable, and the store fails them and every later operation " +
  "(reads and ready included) until it is opened again (a restart)"

/**
 * A failed sync of the WAL, in an operator's terms (since 0.3.1): what happened, what the store
 * does from then on, then the file system's error as Node says it, e.g. `an I/O error syncing the
 * WAL to disk; the writes were not made durable, and the store fails them and every later operation
 * (reads and ready included) until it is opened again (a restart): EIO: i/o error, fdatasync`.
 */
export class SyncFailure extends Error {
  override readonly name = "SyncFailure"
  /** What happened. */
  readonly kind: Kind
  /** The file system's error code, as Node gave it (`EIO`). */
  readonly code: string
  /**
   * The sync's error, as it was (Node's, with its `errno`, `syscall` and stack). Kept under its own
   * name, not as the standard `cause`: the server's log (`Problem.causeChain`) and `enrollctl`
   * (`reasonOf`) print the innermost cause's message, which would be Node's text again.
   */
  readonly error: unknown
  constructor(kind: Kind, code: string, meaning: string, error: unknown) {
    const message = (error as { readonly message?: unknown }).message
    super(`${meaning}; ${afterSync}: ${typeof message === "string" && message !== "" ? message : code}`)
    this.kind = kind
    this.code = code
    this.error = error
  }
}

/**
 * The error a sync of the WAL reported, said in an operator's terms when its code is one described
 * here (`EIO`, `ENOSPC`, `EDQUOT`, `EROFS`; a {@link SyncFailure}); any other error (`EBADF`, the
 * store's own `… was removed while the store had it open`), unchanged. Called only once a sync failed.
 */
export const describeSync = (error: unknown): unknown => {
  if (error instanceof SyncFailure) return error
  const code = (error as { readonly code?: unknown } | null)?.code
  if (typeof code !== "string") return error
  const described = syncMeanings.get(code)
  return described === undefined ? error : new SyncFailure(described[0], code, described[1], error)
}

// ----- a store whose files cannot be written, or whose file moved ------------------

/** Which of the store's files or directories {@link NotWritable} names. */
export type Part = "file" | "directory" | "wal" | "shm"

const partNames: Readonly<Record<Part, string>> = {
  file: "the database file",
  directory: "the database file's directory",
  wal: "the database's WAL file",
  shm: "the database's shared-memory file"
}

/** Why a file or directory cannot be written, and what to do, by Node's error code. */
const notWritableMeanings: ReadonlyMap<string, readonly [string, string]> = new Map([
  ["EROFS", ["it is on a read-only file system", "mount it read-write"]],
  // An immutable file or directory refuses every writer, root included (`chattr +i`); an append-only
  // one (`chattr +a`) refuses `O_RDWR`. A security module (SELinux, AppArmor) answers EPERM or EACCES.
  ["EPERM", [
    "it is immutable or append-only (chattr +i or +a; lsattr shows it), or a security policy forbids writing it",
    "clear the attribute (chattr -i, chattr -a) or the policy"
  ]],
  ["EACCES", [
    "this user may not write it (its mode, owner or ACL)",
    "give the user the store runs as write access to it (chown, chmod)"
  ]]
])

/**
 * A store's file or directory that cannot be written, found as the store is opened (since 0.4.0):
 * which one, its path, why and what to do, then the file system's error as Node says it, e.g.
 * `the database file /data/enrollment.sqlite is not writable: it is on a read-only file system;
 * mount it read-write. The store writes its database file and the -wal and -shm files beside it,
 * which it makes in that directory; it was not opened (EROFS: read-only file system, open '…')`.
 * Before, SQLite opened such a file read-only without a word, or failed with `unable to open
 * database file` or `attempt to write a readonly database`, naming nothing.
 */
export class NotWritable extends Error {
  override readonly name = "NotWritable"
  readonly kind: Kind = "readOnly"
  /** Which part of the store. */
  readonly part: Part
  /** Its path (absolute, symbolic links followed as SQLite follows them). */
  readonly path: string
  /** The file system's error code, as Node gave it (`EROFS`, `EPERM`, `EACCES`). */
  readonly code: string
  /** The file system's error, as it was (kept as {@link SyncFailure.error} is, not as `cause`). */
  readonly error: unknown
  constructor(part: Part, path: string, error: unknown) {
    const code = String((error as { readonly code?: unknown } | null)?.code ?? "")
    const message = (error as { readonly message?: unknown } | null)?.message
    const [why, remedy] = notWritableMeanings.get(code) ?? [typeof message === "string" ? message : String(error), "make it writable"]
    super(
      `${partNames[part]} ${path} is not writable: ${why}; ${remedy}. The store writes its database file and the ` +
        `-wal and -shm files beside it, which it makes in that directory; it was not opened (${typeof message === "string" ? message : code})`
    )
    this.part = part
    this.path = path
    this.code = code
    this.error = error
  }
}

/** A file's identity: the device and inode numbers `stat` answers. */
export interface FileId {
  readonly dev: bigint
  readonly ino: bigint
}

/**
 * Why the path of a store's database file no longer leads to the file the store has open (since
 * 0.4.0): `now` is what a `stat` of the path answered (its identity, or its error). Writes go on to
 * the file the store has open, and a restart opens whatever is at the path (an empty store where
 * nothing is), so what is written meanwhile is lost, unless the file is put back.
 */
export const moved = (path: string, opened: FileId, now: FileId | NodeJS.ErrnoException): Error => {
  const lost = "what the store writes is lost at the next start, which opens what is at the path (an empty store where nothing is)"
  if (!("dev" in now)) {
    return now.code === "ENOENT" || now.code === "ENOTDIR"
      ? new Error(
        `the database file ${path} is no longer there: it was renamed or deleted while the store had it open, and ${lost}; ` +
          "rename it back (ready answers again once the path leads to it); a deleted file can be copied back only while the " +
          "store runs, with no writes, from /proc/<pid>/fd/ (ls -l shows it as deleted), and the store then restarted"
      )
      : new Error(
        `the database file ${path} cannot be looked up, to tell it is still the file the store has open: ${now.message}; ` +
          "writes go on (their syncs are not failed for it), and ready answers again once the path can be looked up " +
          "(give the store's user search access to its directories)"
      )
  }
  return new Error(
    `the database file ${path} is another file than the one the store has open (device ${now.dev} inode ${now.ino}; ` +
      `opened: device ${opened.dev} inode ${opened.ino}): it was replaced while the store had it open, and ${lost}; ` +
      "put the file the store opened back at that path (ready answers again once the path leads to it)"
  )
}

/**
 * Why a sync of the WAL failed although `fdatasync` succeeded (since 0.4.0): the path of the store's
 * database file no longer led to the file the store has open when the sync ended (`now` as
 * {@link moved} takes it), so the sync's writes, which went to that file, were not acknowledged,
 * and the store is failed as after any failed sync. {@link moved}'s words, but for what follows:
 * the store does not recover when the file is put back (nor does `ready`), so the file is to be put
 * back before the restart, e.g. `the database file /data/enrollment.sqlite is no longer there: it
 * was renamed or deleted while the store had it open; the writes waiting for this sync of the WAL
 * were not acknowledged, and the store fails them and every later operation (reads and ready
 * included) until it is opened again (a restart). The restart opens what is at the path (an empty
 * store where nothing is): rename the file back first; …`. The store calls it only for a path that
 * leads nowhere (`ENOENT`, `ENOTDIR`) or to another file (since 0.5.0): any other error of the
 * `stat` (`EACCES`) does not fail the sync, and {@link moved} says it to `ready`.
 */
export const movedAtSync = (path: string, opened: FileId, now: FileId | NodeJS.ErrnoException): Error => {
  const refused = "the writes waiting for this sync of the WAL were not acknowledged, and the store fails them and every " +
    "later operation (reads and ready included) until it is opened again (a restart)"
  if (!("dev" in now)) {
    return now.code === "ENOENT" || now.code === "ENOTDIR"
      ? new Error(
        `the database file ${path} is no longer there: it was renamed or deleted while the store had it open; ${refused}. ` +
          "The restart opens what is at the path (an empty store where nothing is): rename the file back first; a deleted " +
          "file can be copied back only while the store runs (it writes nothing now), from /proc/<pid>/fd/ (ls -l shows it " +
          "as deleted), and the store then restarted"
      )
      : new Error(
        `the database file ${path} cannot be looked up, to tell it is still the file the store has open: ${now.message}; ${refused}`
      )
  }
  return new Error(
    `the database file ${path} is another file than the one the store has open (device ${now.dev} inode ${now.ino}; ` +
      `opened: device ${opened.dev} inode ${opened.ino}): it was replaced while the store had it open; ${refused}. ` +
      "The restart opens the file at the path: put the file the store opened back there first"
  )
}
