/**
 * A backup of a SQLite store while it is in use: a consistent copy of the whole file (every
 * tenant), taken with SQLite's online backup API (`node:sqlite`'s `backup`) on a connection of its
 * own, opened read-only. The copy is read through SQLite's pager, so it holds every transaction
 * committed when it starts, the ones still in the WAL included (copying the file with `cp` while
 * the server writes gives a torn copy: the WAL holds the recent commits). It reads as any reader
 * does in WAL mode: the server's writers are never blocked, and go on committing meanwhile (the
 * copy holds none of what they commit after it began).
 *
 * The copy is written to a temporary file next to its destination (`.NAME.<pid>-<random>.tmp`,
 * mode 0600: it holds every tenant's data), checked (`PRAGMA integrity_check`, and a schema this
 * release reads: a newer release's store is refused, as {@link SqliteStore.open} refuses it),
 * synced to disk, and moved into place by a rename, its directory synced after it. Whatever fails,
 * or interrupts it (or aborts it, before the move), the temporary file and its journal are removed: the destination is the whole
 * checked copy, or it is as it was. An existing destination is replaced only with `force`; without
 * it, the copy is linked into place (`link`, which refuses a path that is there), so a file made
 * at the destination meanwhile is not replaced either. A destination that is there and is not a
 * regular file (a directory, a symbolic link, a FIFO, a device) is never replaced, `force` or
 * not: the rename would put a file in place of a device node, or of a link the operator meant.
 *
 * Restore: stop the server, put the backup in place of the store's file, remove the store's
 * `-wal` and `-shm` files (they belong to the file replaced), and start it; or start the server
 * with its data directory where the backup is (named as the store's file).
 *
 * @since 0.5.0
 */
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  fstatSync,
  fsyncSync,
  linkSync,
  lstatSync,
  openSync,
  realpathSync,
  renameSync,
  type Stats,
  statSync,
  unlinkSync
} from "node:fs"
import { randomBytes } from "node:crypto"
import { basename, dirname, join, resolve } from "node:path"
import { pathToFileURL } from "node:url"
import { backup as sqliteBackup, DatabaseSync } from "node:sqlite"
import { Effect, Schema } from "effect"
import { migrations } from "./SqliteStore.ts"
import { newestUnknown } from "./StoreSql.ts"

/** What to copy, and where. */
export interface Options {
  /** The store's database file (the server's `DATA_DIR/enrollment.sqlite`). It must exist: nothing is made. */
  readonly from: string
  /** The backup's path. Its directory must exist. */
  readonly to: string
  /** Replace `to` when it exists (default false: an existing `to` is refused, and nothing is written). */
  readonly force?: boolean | undefined
  /**
   * Other files a backup never replaces, `force` or not, told as the store's own files are (by
   * identity, and by name in the same directory), each with what it is for the refusal to say: the
   * other files of the store's directory, such as the server's signing secret (since 0.8.3).
   */
  readonly keep?: ReadonlyArray<{ readonly file: string; readonly what: string }> | undefined
  /**
   * Stops the backup when aborted before its copy is moved into place: it fails with `Aborted`,
   * and nothing is left at `to`. It is looked at between the backup's steps (a step of the backup
   * API runs to its end), the last time in the same turn as the move into place: an abort after
   * that changes nothing, and the backup succeeds (since 0.8.3). An interruption of the effect, by
   * contrast, ends it as interrupted whenever it comes, the copy in place or not.
   */
  readonly signal?: AbortSignal | undefined
  /**
   * How long the copy waits for a lock another connection holds, in milliseconds (default 5000):
   * only another process's recovery of the WAL takes one a reader waits for.
   */
  readonly busyTimeout?: number | undefined
  /**
   * Pages copied per step of the backup API (default: every page in one step). Between steps the
   * source is not locked, and a commit of another connection meanwhile restarts the copy from its
   * first page: against a server that writes continuously, small steps may never finish. One step
   * reads the whole file in one read transaction, which in WAL mode blocks no writer.
   */
  readonly pagesPerStep?: number | undefined
}

/** A backup made. */
export interface Backup {
  /** The backup's path, absolute. */
  readonly file: string
  /** Its size in bytes. */
  readonly bytes: number
  /** Its pages, and their size. */
  readonly pages: number
  readonly pageSize: number
  /** The time it took, in milliseconds: the copy, its checks, its sync and its rename. */
  readonly millis: number
}

/** Why a backup failed. */
export const Reason = Schema.Literals([
  /** The store's file is not there (or is not a file). */
  "SourceMissing",
  /** The destination exists, and `force` was not given. */
  "DestinationExists",
  /**
   * The destination exists and is not a regular file: a directory, a symbolic link (dangling or
   * not), a FIFO, a socket, a device. It is never replaced, `force` or not (since 0.15.0; a
   * directory was refused as `DestinationExists` before, and `force` replaced the others).
   */
  "DestinationNotAFile",
  /** The destination is the store's own file (or its `-wal` or `-shm`), or one of the files `keep` names. */
  "DestinationIsSource",
  /** The store could not be read, or the copy written (I/O, permissions, a full disk, not a database). */
  "CopyFailed",
  /** The copy fails SQLite's `PRAGMA integrity_check`: the store's file is damaged. */
  "IntegrityFailed",
  /** The copy holds no store: the file is a SQLite database, but not the service's. */
  "NotAStore",
  /** The store's schema is at a version this release does not know: a newer release wrote it. */
  "ReleaseTooNew",
  /** The copy was moved into place, but its directory could not be synced: the rename may not survive power loss. */
  "DirectoryNotSynced",
  /** `signal` was aborted before the copy was moved into place (since 0.8.3). */
  "Aborted"
])
export type Reason = typeof Reason.Type

/** A backup that failed: nothing was left at the destination (except with `DirectoryNotSynced`, which says so). */
export class BackupFailed extends Schema.TaggedError<BackupFailed>()("BackupFailed", {
  reason: Reason,
  detail: Schema.String,
  cause: Schema.optional(Schema.Defect())
}) {
  override get message(): string {
    return this.detail
  }

  /** The same failure with `hint` after its detail. */
  withHint(hint: string): BackupFailed {
    return hint === "" ? this : new BackupFailed({ reason: this.reason, detail: `${this.detail}${hint}`, cause: this.cause })
  }
}

/** Every page in one step of the backup API (it takes a positive 32-bit integer). */
const allPages = 2 ** 31 - 1

const errorText = (e: unknown): string => {
  const m = typeof e === "object" && e !== null && "message" in e ? String(e.message) : String(e)
  return m.replace(/\s+/g, " ").trim()
}

/** A failure of `reason` with `detail`, the error's own text after it. */
const failed = (reason: Reason, detail: string) => (cause: unknown) =>
  new BackupFailed({ reason, detail: `${detail}: ${errorText(cause)}`, cause })

/** What a file that is not a regular one is, as messages name it. */
const kindOf = (s: Stats): string =>
  s.isDirectory()
    ? "a directory"
    : s.isSymbolicLink()
    ? "a symbolic link"
    : s.isFIFO()
    ? "a FIFO (named pipe)"
    : s.isSocket()
    ? "a socket"
    : s.isCharacterDevice()
    ? "a character device"
    : s.isBlockDevice()
    ? "a block device"
    : "something other than a file"

/** The identity (device, inode) of what `p` leads to, or undefined where nothing is (or it cannot be looked up). */
const identity = (p: string): string | undefined => {
  try {
    const { dev, ino } = statSync(p, { bigint: true })
    return `${dev}:${ino}`
  } catch {
    return undefined
  }
}

/**
 * The one of `files` that `to` is, told by identity, not by path (since 0.5.0): a `to` that is
 * there and the same file (device and inode; a hard link, a symbolic link, another mount of the
 * directory), or a `to` in the same directory (by identity: through a bind mount or a symbolic
 * link) with the same name.
 */
const oneOf = (files: ReadonlyArray<string>, to: string): string | undefined => {
  const target = identity(to)
  const directory = identity(dirname(to))
  return files.find((file) =>
    (target !== undefined && identity(file) === target) ||
    (directory !== undefined && directory === identity(dirname(file)) && basename(file) === basename(to))
  )
}

/** The store's own files: `source` (its real path) and its `-wal`, `-shm` and `-journal`. */
const storeFiles = (source: string): ReadonlyArray<string> => ["", "-wal", "-shm", "-journal"].map((suffix) => `${source}${suffix}`)

/** The size of `p`, 0 where nothing is (or it cannot be looked up). */
const sizeOf = (p: string): number => {
  try {
    return statSync(p).size
  } catch {
    return 0
  }
}

/** Why this process cannot write the directory `dir` (`EROFS`, `EACCES`, …), or undefined when it can. */
const unwritable = (dir: string): string | undefined => {
  try {
    accessSync(dir, constants.W_OK)
    return undefined
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? "unknown"
  }
}

/**
 * How the copy opens the store (since 0.8.3). SQLite reads a store in WAL mode through its `-shm`
 * file, which it makes beside the store when it is not there (a cleanly stopped store has none):
 * where the directory cannot be written, the open fails (`unable to open database file`). On a
 * read-only file system (`EROFS`), when no `-wal` holds commits, the store is opened immutable
 * (SQLite's `immutable=1`: no locks, no `-shm`), which is safe there: no process can write the
 * file, so no writer runs, and the file alone is the whole store. Anywhere else the store is opened
 * as it always was, since a writer may run (a directory this user cannot write, another can).
 */
const openSource = (source: string, busyTimeout: number): DatabaseSync => {
  const options = { readOnly: true, timeout: busyTimeout }
  if (unwritable(dirname(source)) !== "EROFS" || sizeOf(`${source}-wal`) > 0) return new DatabaseSync(source, options)
  const url = pathToFileURL(source)
  url.searchParams.set("immutable", "1")
  return new DatabaseSync(url, options)
}

/**
 * What to add to a failure to open or copy the store, when its directory is why: one on a read-only
 * file system whose `-wal` holds commits (which SQLite cannot read there without a `-shm`), one this
 * user cannot write (SQLite makes the `-shm` there); empty otherwise.
 */
const directoryHint = (source: string): string => {
  const dir = dirname(source)
  const why = existsSync(`${source}-shm`) ? undefined : unwritable(dir)
  if (why === "EROFS") {
    return ` (the store's directory ${dir} is on a read-only file system, and its ${basename(source)}-wal holds commits not yet in the file, ` +
      `which SQLite cannot read there: the server did not stop cleanly; mount it read-write, and open the store once or back it up then)`
  }
  if (why === "EACCES" || why === "EPERM") {
    return ` (SQLite makes the store's ${basename(source)}-shm in ${dir} to read it, and this user cannot write there: back it up as a user who can, the server's)`
  }
  return ""
}

/** Removes `p` when it is there; anything else that fails is left (the backup's own failure is what is said). */
const removeQuietly = (p: string): void => {
  try {
    unlinkSync(p)
  } catch {
    // Not there, or not removable: nothing more to do.
  }
}

/** `fsync` of a file or directory by path. */
const syncPath = (p: string): void => {
  const fd = openSync(p, constants.O_RDONLY)
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** What the checks read from the copy. */
interface Checked {
  readonly pages: number
  readonly pageSize: number
}

/** Whether SQLite refused because the file is damaged (`SQLITE_CORRUPT`, `SQLITE_NOTADB`). */
const isCorrupt = (e: unknown): boolean => {
  const code = (e as { readonly errcode?: unknown } | null)?.errcode
  return typeof code === "number" && ((code & 0xff) === 11 || (code & 0xff) === 26)
}

/**
 * What `PRAGMA integrity_check` says of the database (its first 10 problems; `["ok"]` for none). A
 * page too damaged for the check to go on makes it throw (`database disk image is malformed`): that
 * is its one problem.
 */
const integrityProblems = (db: DatabaseSync): ReadonlyArray<string> => {
  try {
    return db.prepare("PRAGMA integrity_check(10)").all().map((r) => String(Object.values(r)[0]))
  } catch (e) {
    if (isCorrupt(e)) return [errorText(e)]
    throw e
  }
}

/**
 * Checks the copy at `file`: `PRAGMA integrity_check` (its first problems named), then a schema
 * this release reads (as `SqliteStore.migrate` checks it). Closing the connection removes the
 * `-wal` and `-shm` files opening it made.
 */
const check = (file: string, from: string): Checked => {
  const db = new DatabaseSync(file)
  try {
    const problems = integrityProblems(db)
    if (problems.length !== 1 || problems[0] !== "ok") {
      throw new BackupFailed({
        reason: "IntegrityFailed",
        detail: `the copy of ${from} fails SQLite's integrity check, so the store's file is damaged (PRAGMA integrity_check: ${
          problems.slice(0, 3).join("; ")
        }${problems.length > 3 ? "; …" : ""})`
      })
    }
    const table = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'").get()
    if (table === undefined) {
      throw new BackupFailed({
        reason: "NotAStore",
        detail: `${from} is a SQLite database, but holds no store of this service (no schema_migrations table)`
      })
    }
    const done = db.prepare("SELECT version FROM schema_migrations").all().map((r) => Number(r.version))
    const unknown = newestUnknown(done, migrations)
    if (unknown !== undefined) {
      throw new BackupFailed({
        reason: "ReleaseTooNew",
        detail: `the store's schema is at version ${unknown}, which this release does not know (it knows up to ${
          Math.max(0, ...migrations.map((m) => m.version))
        }): a newer release wrote it; back it up with that release or a later one`
      })
    }
    const pages = Number((db.prepare("PRAGMA page_count").get() as { page_count: unknown }).page_count)
    const pageSize = Number((db.prepare("PRAGMA page_size").get() as { page_size: unknown }).page_size)
    return { pages, pageSize }
  } finally {
    db.close()
  }
}

/**
 * Copies the store at `from` to `to`, consistently, while the store is in use (see the module's
 * documentation): the copy is checked and synced before it is moved into place, and on any
 * failure (or interruption) nothing is left at `to` (an existing `to` replaced only with `force`,
 * and only by the whole checked copy).
 */
export const backup = Effect.fn("SqliteBackup.backup")(function*(options: Options) {
  const started = performance.now()
  const from = resolve(options.from)
  const to = resolve(options.to)
  const source = yield* Effect.try({
    try: () => {
      const real = realpathSync(from)
      if (!statSync(real).isFile()) throw new Error("not a file")
      return real
    },
    catch: failed("SourceMissing", `no store at ${from}`)
  })
  // The store's own files are never replaced, --force or not: the server keeps them open.
  if (oneOf(storeFiles(source), to) !== undefined) {
    return yield* new BackupFailed({ reason: "DestinationIsSource", detail: `${to} is the store's own file: back it up to another path` })
  }
  const kept = options.keep?.find((k) => oneOf([resolve(k.file)], to) !== undefined)
  if (kept !== undefined) {
    const named = resolve(kept.file) === to ? kept.what : `${kept.what} (${resolve(kept.file)})`
    return yield* new BackupFailed({ reason: "DestinationIsSource", detail: `${to} is ${named}: back it up to another path` })
  }
  // lstat, not stat: a symbolic link is looked at itself, a dangling one too (which `existsSync`
  // reads as nothing there), and is not followed to what it names.
  const found = yield* Effect.try({
    try: () => lstatSync(to, { throwIfNoEntry: false }),
    catch: failed("CopyFailed", `cannot look at ${to}`)
  })
  const there = found !== undefined
  const kind = found === undefined || found.isFile() ? undefined : kindOf(found)
  if (kind !== undefined) {
    return yield* new BackupFailed({
      reason: "DestinationNotAFile",
      detail: `${to} is ${kind}, not a regular file: name the backup's file (nothing was written)`
    })
  }
  if (there && options.force !== true) {
    return yield* new BackupFailed({ reason: "DestinationExists", detail: `${to} already exists (nothing was written)` })
  }
  const directory = dirname(to)
  const temporary = join(directory, `.${basename(to)}.${process.pid}-${randomBytes(4).toString("hex")}.tmp`)
  const aborted = () => new BackupFailed({ reason: "Aborted", detail: `the backup of ${from} was stopped before it was complete (nothing was written)` })
  /** Fails with `Aborted` once `signal` is aborted. */
  const notAborted = Effect.suspend(() => options.signal?.aborted === true ? Effect.fail(aborted()) : Effect.void)
  yield* notAborted

  return yield* Effect.scoped(Effect.gen(function*() {
    // The temporary file, made by us alone (O_EXCL) and private to its user (0600), removed with
    // its journal and WAL when the scope closes: once renamed it is not there any more, and once
    // linked into place its second name goes.
    yield* Effect.acquireRelease(
      Effect.try({
        try: () => closeSync(openSync(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600)),
        catch: failed("CopyFailed", `cannot write the backup in ${directory}`)
      }),
      () =>
        Effect.sync(() => {
          for (const suffix of ["", "-journal", "-wal", "-shm"]) removeQuietly(`${temporary}${suffix}`)
        })
    )
    // The source, read-only: the copy never writes the store (not even a checkpoint when it closes).
    const db = yield* Effect.acquireRelease(
      Effect.try({
        try: () => openSource(source, Math.max(0, Math.floor(options.busyTimeout ?? 5000))),
        catch: (e) => failed("CopyFailed", `cannot open ${from}`)(e).withHint(directoryHint(source))
      }),
      (db) => Effect.sync(() => db.close())
    )
    // Uninterruptible: the copy runs on a thread of its own, which nothing can stop half way; an
    // interruption waits for it, then removes the temporary file.
    yield* Effect.uninterruptible(Effect.tryPromise({
      try: () => sqliteBackup(db, temporary, { rate: Math.max(1, Math.min(allPages, Math.floor(options.pagesPerStep ?? allPages))) }),
      catch: (e) => failed("CopyFailed", `cannot copy ${from} to ${temporary}`)(e).withHint(directoryHint(source))
    }))
    yield* notAborted
    const checked = yield* Effect.try({
      try: () => check(temporary, from),
      catch: (e) => e instanceof BackupFailed ? e : failed("CopyFailed", `cannot check the copy ${temporary}`)(e)
    })
    yield* notAborted
    const bytes = yield* Effect.try({
      try: () => {
        const fd = openSync(temporary, constants.O_RDONLY)
        try {
          fsyncSync(fd)
          return fstatSync(fd).size
        } finally {
          closeSync(fd)
        }
      },
      catch: failed("CopyFailed", `cannot sync the copy ${temporary}`)
    })
    // Looked at in the same turn as the move: an abort is before it, or changes nothing.
    yield* Effect.try({
      try: () => {
        if (options.signal?.aborted === true) throw aborted()
        if (options.force === true) return renameSync(temporary, to)
        try {
          // link refuses a path that is there: a file made at `to` since the check is not replaced.
          linkSync(temporary, to)
          // Its temporary name goes before the directory is synced (and again when the scope closes).
          return removeQuietly(temporary)
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code
          if (code === "EEXIST") throw e
          // A file system without hard links: the check above, and a rename.
          if (existsSync(to)) throw Object.assign(new Error(`EEXIST: file already exists, ${to}`), { code: "EEXIST" })
          renameSync(temporary, to)
        }
      },
      catch: (e) =>
        e instanceof BackupFailed
          ? e
          : (e as NodeJS.ErrnoException).code === "EEXIST"
          ? new BackupFailed({ reason: "DestinationExists", detail: `${to} already exists: it was made while the backup ran (nothing was written)` })
          : failed("CopyFailed", `cannot move the copy ${temporary} to ${to}`)(e)
    })
    // A file system that cannot sync a directory (EINVAL) makes a rename durable by itself.
    const unsynced = yield* Effect.sync(() => {
      try {
        syncPath(directory)
        return undefined
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code
        return code === "EINVAL" || code === "ENOTSUP" || code === "EOPNOTSUPP" ? undefined : e
      }
    })
    if (unsynced !== undefined) {
      return yield* failed("DirectoryNotSynced", `the backup ${to} is complete and checked, but its directory ${directory} could not be synced`)(unsynced)
    }
    return { file: to, bytes, pages: checked.pages, pageSize: checked.pageSize, millis: performance.now() - started } satisfies Backup
  }))
})
