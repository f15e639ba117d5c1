/**
 * The WAL's checkpoints, run off the event loop (since 0.8.0).
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that takes the WAL past 1 000 pages, on
 * the connection that committed: for the store, on the event loop, with every request waiting
 * while it copies the WAL's pages into the database file and syncs both files. After a large
 * write (a configuration's removal with its assignments, an `assign` of a large set) that was
 * 27–217 ms of one turn in an audit of a store of a million assignments.
 *
 * A checkpointer runs SQLite's own `PRAGMA wal_checkpoint(PASSIVE)` on a connection of its own,
 * in a worker thread, in two steps:
 * - **Beside the writes**: started by the COMMIT ({@link Checkpointer.committed}) once the
 *   COMMITs since the last checkpoint have written about 1 000 pages, SQLite's own threshold (100
 *   COMMITs the first time, then as many as wrote 1 000 pages in the last one's WAL), or once
 *   `intervalMillis` (default 1 000) has passed since the last began. It copies what was committed
 *   until it began, the long part (the database file's writes and sync), while the store writes on.
 * - **With the writes held**: when COMMITs were made while it ran, the group commit holds its
 *   next batch ({@link Checkpointer.due}, {@link Checkpointer.run}; the writes queue as behind a
 *   sync, and the event loop serves reads and takes requests) until a second, short checkpoint has
 *   copied them. Nothing is written meanwhile, so it copies the rest of the WAL, and the next
 *   COMMIT starts the WAL again from its beginning, in place.
 *
 * Checkpoints only beside the writes, as a timer would start them, never catch up with a steady
 * load: SQLite never starts the WAL again, and it grows without end (240 MB in 6 s under 50
 * writers in a first version, each sync then extending the file, which cost 15–23 % of the write
 * rate). Checkpoints only with the writes held made them wait for the long part too (the slowest
 * write 131 ms against 33–50 ms on the event loop, BENCHMARKS.md "2026-12-01").
 *
 * What is durable, and when a write is acknowledged, does not change: the checkpoint is SQLite's,
 * with its syncs, on another thread. The COMMIT that starts the WAL again still syncs the WAL's
 * new header on the event loop (SQLite does at a restart), once a cycle instead of the
 * checkpoint's copying and two syncs. The store's `data_version` does not move for a checkpoint
 * (it counts other connections' commits), so the read cache is kept.
 *
 * The worker starts at the first checkpoint, and only then is the store's connection's automatic
 * checkpoint turned off (`PRAGMA wal_autocheckpoint = 0`): a store that never starts one (a short
 * `enrollctl` command) keeps SQLite's, so its writes beside a running server are checkpointed as
 * before. A checkpointer counts only its own connection's COMMITs. The worker opens the file by
 * its path with `mode=rw`, which never creates a file: a database moved or removed under the store
 * is not made again. If the worker cannot be started, cannot open the file, or a checkpoint fails,
 * the store's connection gets SQLite's automatic checkpoint back, the worker is stopped, and
 * `onFailure` hears why ({@link Checkpointer.stats} counts it). `close` stops the worker and waits
 * for its connection to close (24–30 ms once a worker ran), so that the store's own close, the
 * file's last, checkpoints the WAL into the file and removes it, as before. It waits
 * {@link closeWaitMillis} at most (since 0.8.1): past that, a checkpoint held up by a stalled disk
 * goes on beside the store's close (without keeping the event loop alive; a process's exit still
 * waits for its sync to return, which no thread can interrupt), and what it had not copied stays in
 * the WAL for the next open to recover.
 *
 * Two processes writing one file at once (two servers, or a long import beside a server) each hold
 * only their own writes for the short checkpoint, so the WAL starts again less often: in a review's
 * run of two stores with 25 writers each it settled near 20 MB, against 4 MB with SQLite's own
 * checkpoints (it does not grow without end: a checkpoint copies what it can every cycle). Short
 * commands beside a server (`enrollctl`) never start a worker, and are checkpointed as before.
 *
 * @since 0.8.0
 */
import { pathToFileURL } from "node:url"
import type { DatabaseSync } from "node:sqlite"
import { Worker } from "node:worker_threads"

/** What the checkpointer has done since it started. */
export interface CheckpointStats {
  /** Checkpoints run off the event loop (each `PRAGMA wal_checkpoint(PASSIVE)` that ended). */
  readonly checkpoints: number
  /**
   * WAL frames they copied into the database file (a page once for each COMMIT that changed it):
   * by how much each advanced the WAL's copy (SQLite's figure, which also counts what another
   * connection's checkpoint of the same WAL copied in between).
   * Before 0.8.1 each checkpoint added every frame of the WAL copied so far, its earlier
   * checkpoints' too: about twice the figure, and far more behind a reader that kept the WAL.
   */
  readonly checkpointedFrames: number
  /** Seconds the worker spent in them. */
  readonly checkpointSeconds: number
  /** Of those, seconds of the short checkpoints the writes waited for (the event loop did not). */
  readonly heldSeconds: number
  /** Failures (the worker could not open the file, or a checkpoint failed): the store's connection then checkpoints itself again. */
  readonly checkpointFailures: number
}

/** A store's checkpointer (see the module doc), driven by its group commit. */
export interface Checkpointer {
  /** Told after each COMMIT of the store's connection: starts a checkpoint beside the writes when one is due. */
  readonly committed: () => void
  /** Whether the next batch of writes must wait for a checkpoint of what the last one left (never once it fell back or closed). */
  readonly due: () => boolean
  /** Runs that checkpoint in the worker; `done` is called once it ended, failed, or the checkpointer closed. */
  readonly run: (done: () => void) => void
  /** A copy of the counters. */
  readonly stats: () => CheckpointStats
  /** Whether checkpoints are off the event loop (false once a failure gave them back to the store's connection, and after `close`). */
  readonly active: () => boolean
  /**
   * Stops the worker; resolves once its connection is closed (a checkpoint running then is let
   * finish), or {@link closeWaitMillis} into the close (since 0.8.1; see `start`'s options).
   */
  readonly close: () => Promise<void>
}

/** The longest wait, in milliseconds, from a COMMIT to the checkpoint that copies it, while the store writes. */
export const defaultIntervalMillis = 1000

/**
 * How long a store's close waits for its checkpointer's `close` (since 0.8.1): a checkpoint the
 * worker is in is let finish, which takes milliseconds, but a stalled disk can hold it for seconds,
 * and a server's stop gives the store 3 s in all (apps/server `closeMillis`, with room for the trace
 * exporter's last exports). Past it the store closes its own connection beside the worker's.
 */
export const closeWaitMillis = 500

/** WAL pages (frames) after which SQLite's automatic checkpoint runs, and after which the checkpointer's is due. */
export const pagesPerCheckpoint = 1000

/** COMMITs that start the first checkpoint: each writes at least one page; the first checkpoint then tells how many. */
export const firstCheckpointCommits = 100

/** SQLite's own automatic checkpoint threshold, in pages: what the store's connection gets back after a failure. */
const sqliteAutocheckpointPages = 1000

/**
 * The worker's code (CommonJS, evaluated): one connection, one prepared checkpoint, run when
 * asked. Its answers: `{ ready }` once open, `{ log, checkpointed, copied, busy, seconds }` per
 * checkpoint (`copied`: the frames this checkpoint copied, since 0.8.1), `{ error }` when the
 * open or a checkpoint threw.
 */
const workerSource = `
const { parentPort, workerData } = require("node:worker_threads")
const { DatabaseSync } = require("node:sqlite")
const fs = require("node:fs")
let db
let checkpoint
try {
  db = new DatabaseSync(new URL(workerData.url), { timeout: 0 })
  checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)")
  parentPort.postMessage({ ready: true })
} catch (e) {
  parentPort.postMessage({ error: String(e && e.message || e) })
}
// The WAL's salt (its header's bytes 16-23, new each time the WAL starts again), read through a
// descriptor kept open until the close: "" when it cannot be read. The pragma's \`checkpointed\` is
// the frames of the current WAL copied so far, by every checkpoint of it: a checkpoint copied what
// it adds to the last one's figure in the same WAL, and all of it in a WAL started again since.
let walFd
const salt = () => {
  try {
    if (walFd === undefined) walFd = fs.openSync(workerData.wal, "r")
    const b = Buffer.alloc(8)
    return fs.readSync(walFd, b, 0, 8, 16) === 8 ? b.toString("hex") : ""
  } catch {
    return ""
  }
}
let generation = ""
let backfilled = 0
parentPort.on("message", (message) => {
  if (message === "close") {
    try {
      if (db !== undefined && db.isOpen) db.close()
    } finally {
      try { if (walFd !== undefined) fs.closeSync(walFd) } catch {}
      parentPort.close()
    }
    return
  }
  if (checkpoint === undefined) return
  const began = performance.now()
  try {
    const before = salt()
    const r = checkpoint.get()
    const after = salt()
    const copied = r.checkpointed < 0 ? 0
      : before !== "" && before === generation && r.checkpointed >= backfilled ? r.checkpointed - backfilled
      : r.checkpointed
    if (r.checkpointed >= 0) {
      generation = after
      backfilled = after === before ? r.checkpointed : 0
    }
    parentPort.postMessage({ log: r.log, checkpointed: r.checkpointed, copied, busy: r.busy, seconds: (performance.now() - began) / 1000 })
  } catch (e) {
    parentPort.postMessage({ error: String(e && e.message || e) })
  }
})
`

/** A message of the worker (see {@link workerSource}). */
type Answer =
  | { readonly ready: true }
  | { readonly log: number; readonly checkpointed: number; readonly copied: number; readonly busy: number; readonly seconds: number }
  | { readonly error: string }

/**
 * Starts checkpointing `db`'s file (`filename`, the path SQLite opened: `db.location()`) off the
 * event loop. `onFailure` hears each failure's message (the store's connection checkpoints itself
 * from then on). `now` is the clock of `intervalMillis` (tests pass their own).
 */
export const start = (
  db: DatabaseSync,
  filename: string,
  options: {
    readonly intervalMillis?: number | undefined
    readonly onFailure?: ((message: string) => void) | undefined
    readonly now?: (() => number) | undefined
    /**
     * How long `close` waits for the worker's connection to close (default {@link closeWaitMillis};
     * since 0.8.1). Past it, `close` resolves, the writes it held go on, the worker is let finish
     * without keeping the event loop alive, and `onSlowClose` hears how long it waited.
     */
    readonly closeWaitMillis?: number | undefined
    readonly onSlowClose?: ((waitedMillis: number) => void) | undefined
  } = {}
): Checkpointer => {
  const intervalMillis = Math.max(0, options.intervalMillis ?? defaultIntervalMillis)
  const now = options.now ?? (() => performance.now())
  const closeWait = Math.max(0, options.closeWaitMillis ?? closeWaitMillis)
  const url = `${pathToFileURL(filename).href}?mode=rw`
  const counted = { checkpoints: 0, checkpointedFrames: 0, checkpointSeconds: 0, heldSeconds: 0, checkpointFailures: 0 }
  let worker: Worker | undefined
  /** COMMITs since the last checkpoint began, and when it began. */
  let commits = 0
  let last = now()
  /**
   * The COMMITs that start a checkpoint: {@link firstCheckpointCommits} at first, then as many as
   * wrote {@link pagesPerCheckpoint} pages before the last one.
   */
  let threshold = firstCheckpointCommits
  /** The COMMITs the running checkpoint beside the writes copies. */
  let copying = 0
  /** A checkpoint runs beside the writes. */
  let beside = false
  /** The frames it left (written while it ran): the next batch waits for a checkpoint of them. */
  let rest = false
  /** The `done` of the checkpoint the writes wait for, while it runs. */
  let waiting: (() => void) | undefined
  let active = true
  let exited: Promise<void> = Promise.resolve()

  /** Ends the wait of the writes, if they wait. */
  const release = () => {
    const done = waiting
    waiting = undefined
    worker?.unref()
    done?.()
  }
  /** Gives the checkpoints back to the store's connection and stops the worker. */
  const fallBack = (message: string) => {
    counted.checkpointFailures++
    beside = false
    rest = false
    if (!active) return release()
    active = false
    try {
      if (db.isOpen) db.exec(`PRAGMA wal_autocheckpoint = ${sqliteAutocheckpointPages}`)
    } catch {
      // A connection that cannot take a pragma fails the store's next statement, which says why.
    }
    const w = worker
    worker = undefined
    w?.postMessage("close")
    try {
      options.onFailure?.(message)
    } finally {
      release()
    }
  }
  const answered = (answer: Answer) => {
    if ("ready" in answer) return
    if ("error" in answer) return fallBack(answer.error)
    counted.checkpoints++
    counted.checkpointedFrames += answer.copied
    counted.checkpointSeconds += answer.seconds
    if (waiting !== undefined) {
      counted.heldSeconds += answer.seconds
      return release()
    }
    beside = false
    if (answer.log > 0 && copying > 0) threshold = Math.max(1, Math.min(pagesPerCheckpoint, Math.round(pagesPerCheckpoint * copying / answer.log)))
    // What was committed while it ran, or what a reader kept it from, is copied with the writes held.
    rest = commits > 0 || answer.checkpointed < answer.log
  }
  /** The worker, started at the first checkpoint; the store's connection checkpoints itself no more from then on. */
  const spawn = (): Worker => {
    const w = new Worker(workerSource, { eval: true, workerData: { url, wal: `${filename}-wal` } })
    try {
      db.exec("PRAGMA wal_autocheckpoint = 0")
    } catch (e) {
      void w.terminate()
      throw e
    }
    w.on("message", answered)
    w.on("error", (e) => fallBack(e instanceof Error ? e.message : String(e)))
    exited = new Promise((resolve) => w.once("exit", () => resolve()))
    w.once("exit", () => {
      if (worker === w) fallBack("the checkpoint worker exited")
    })
    // The store's close stops it; nothing of it keeps a process alive but the writes waiting for it.
    // After the listeners: a "message" listener refs the worker's port again (before 0.8.1 a
    // process that never closed its store did not end until a held checkpoint had run).
    w.unref()
    return w
  }
  /**
   * Asks the worker for a checkpoint, starting it first if need be: false when that threw (a process
   * run with `--permission` without `--allow-worker`, no thread or memory left), after falling back.
   */
  const ask = (): boolean => {
    try {
      worker ??= spawn()
      worker.postMessage("checkpoint")
      return true
    } catch (e) {
      fallBack(e instanceof Error ? e.message : String(e))
      return false
    }
  }
  return {
    committed: () => {
      commits++
      if (!active || beside || rest || waiting !== undefined) return
      if (commits < threshold && now() - last < intervalMillis) return
      copying = commits
      commits = 0
      last = now()
      beside = ask()
    },
    due: () => active && rest && !beside,
    run: (done) => {
      if (!active || waiting !== undefined) return done()
      rest = false
      commits = 0
      waiting = done
      // The writes wait for it: the process must not end meanwhile (ask's failure releases them).
      if (ask()) worker?.ref()
    },
    stats: () => ({ ...counted }),
    active: () => active,
    close: () => {
      active = false
      const w = worker
      worker = undefined
      // Waited for: the process must not end before the worker's connection has closed.
      w?.ref()
      w?.postMessage("close")
      let timer: ReturnType<typeof setTimeout> | undefined
      const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), closeWait)))
      // The worker answers no more: the batch waiting for it goes on (and finds the store closed).
      return Promise.race([exited.then(() => true), late]).then((closed) => {
        clearTimeout(timer)
        if (!closed) {
          // In a checkpoint it cannot leave (a stalled disk): let finish, or end with the process.
          w?.unref()
          options.onSlowClose?.(closeWait)
        }
        release()
      })
    }
  }
}
