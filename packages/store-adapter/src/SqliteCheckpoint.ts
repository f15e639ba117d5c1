/**
 * The WAL's checkpoints, run off the event loop (since 0.8.0).
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that takes the WAL past 1 000 pages, on
 * the connection that committed: for the store, on the event loop, with every request waiting
 * while it copies the WAL's pages into the database file and syncs both files (two `fsync`s).
 * Under 50 writers in one process that was an event-loop stall of 14–19 ms every second or
 * so on the 2026-12-01 VM (`pnpm bench`, section `checkpoint`), and after a large write (a
 * configuration's removal with its assignments, an `assign` of a large set) 27–217 ms in an
 * audit of a store of a million assignments.
 *
 * A checkpointer turns the store's connection's automatic checkpoint off
 * (`PRAGMA wal_autocheckpoint = 0`) and runs SQLite's own `PRAGMA wal_checkpoint(PASSIVE)` on
 * a connection of its own, in a worker thread. The store's group commit asks for one
 * ({@link Checkpointer.due}) before a batch once the COMMITs since the last have written about
 * 1 000 pages, SQLite's own threshold (1 000 COMMITs at first, each writing at least one page;
 * then as many as wrote 1 000 pages in the last checkpoint's WAL), or once `intervalMillis`
 * (default 1 000) passed with at least one; the batch, and the writes queued behind it, wait until the
 * checkpoint has ended, while the event loop serves reads and takes new requests. No write
 * runs meanwhile, so the checkpoint copies the whole WAL, and the next COMMIT starts the WAL
 * again from its beginning, in place. (A checkpoint beside running writes, as a timer would
 * start it, never catches up with them: the WAL is never started again and grows without end,
 * 240 MB in 6 s under 50 writers in a first version of this module, and each sync then extends
 * the file.) What is durable, and when a write is acknowledged, does not change: the checkpoint
 * is SQLite's, with its syncs, on another thread. The store's `data_version` does not move for a
 * checkpoint (it counts other connections' commits), so the read cache is kept.
 *
 * The worker is started at the first checkpoint (a store that makes fewer than 1 000 COMMITs and
 * none a second after another, such as a short `enrollctl` command, never starts one) and opens
 * the file by its path with `mode=rw`, which never creates a file: a database moved or removed
 * under the store is not made again by the checkpointer. If it cannot open the file, or a
 * checkpoint fails, the store's connection gets SQLite's automatic checkpoints back (what it had
 * before 0.8.0), the worker is stopped, and {@link Checkpointer.stats} counts it. `close` stops
 * the worker and waits for its connection to close, so that the store's own close, the file's
 * last, checkpoints the WAL into the file and removes it, as before.
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
  /** WAL frames they copied into the database file (a page once for each COMMIT that changed it). */
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
  /** Stops the worker; resolves once its connection is closed (a checkpoint running then is let finish). */
  readonly close: () => Promise<void>
}

/** The longest wait, in milliseconds, from a COMMIT to the checkpoint that copies it, while the store writes. */
export const defaultIntervalMillis = 1000

/** WAL pages (frames) after which SQLite's automatic checkpoint runs, and after which the checkpointer's is due. */
export const pagesPerCheckpoint = 1000

/** SQLite's own automatic checkpoint threshold, in pages: what the store's connection gets back after a failure. */
const sqliteAutocheckpointPages = 1000

/**
 * The worker's code (CommonJS, evaluated): one connection, one prepared checkpoint, run when
 * asked. Its answers: `{ ready }` once open, `{ log, checkpointed, busy, seconds }` per
 * checkpoint, `{ error }` when the open or a checkpoint threw.
 */
const workerSource = `
const { parentPort, workerData } = require("node:worker_threads")
const { DatabaseSync } = require("node:sqlite")
let db
let checkpoint
try {
  db = new DatabaseSync(new URL(workerData.url), { timeout: 0 })
  checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)")
  parentPort.postMessage({ ready: true })
} catch (e) {
  parentPort.postMessage({ error: String(e && e.message || e) })
}
parentPort.on("message", (message) => {
  if (message === "close") {
    try { if (db !== undefined && db.isOpen) db.close() } finally { parentPort.close() }
    return
  }
  if (checkpoint === undefined) return
  const began = performance.now()
  try {
    const r = checkpoint.get()
    parentPort.postMessage({ log: r.log, checkpointed: r.checkpointed, busy: r.busy, seconds: (performance.now() - began) / 1000 })
  } catch (e) {
    parentPort.postMessage({ error: String(e && e.message || e) })
  }
})
`

/** A message of the worker (see {@link workerSource}). */
type Answer =
  | { readonly ready: true }
  | { readonly log: number; readonly checkpointed: number; readonly busy: number; readonly seconds: number }
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
  } = {}
): Checkpointer => {
  const intervalMillis = Math.max(0, options.intervalMillis ?? defaultIntervalMillis)
  const now = options.now ?? (() => performance.now())
  const url = `${pathToFileURL(filename).href}?mode=rw`
  const counted = { checkpoints: 0, checkpointedFrames: 0, checkpointSeconds: 0, heldSeconds: 0, checkpointFailures: 0 }
  let worker: Worker | undefined
  /** COMMITs since the last checkpoint began, and when it began. */
  let commits = 0
  let last = now()
  /**
   * The COMMITs that start a checkpoint: {@link pagesPerCheckpoint} at first (a COMMIT writes at
   * least one page), then as many as wrote that many pages before the last one.
   */
  let threshold = pagesPerCheckpoint
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

  db.exec("PRAGMA wal_autocheckpoint = 0")

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
    if (db.isOpen) db.exec(`PRAGMA wal_autocheckpoint = ${sqliteAutocheckpointPages}`)
    const w = worker
    worker = undefined
    w?.postMessage("close")
    options.onFailure?.(message)
    release()
  }
  const answered = (answer: Answer) => {
    if ("ready" in answer) return
    if ("error" in answer) return fallBack(answer.error)
    counted.checkpoints++
    counted.checkpointedFrames += Math.max(0, answer.checkpointed)
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
  const spawn = (): Worker => {
    const w = new Worker(workerSource, { eval: true, workerData: { url } })
    // The store's close stops it; nothing of it keeps a process alive but the writes waiting for it.
    w.unref()
    w.on("message", answered)
    w.on("error", (e) => fallBack(e instanceof Error ? e.message : String(e)))
    exited = new Promise((resolve) => w.once("exit", () => resolve()))
    w.once("exit", () => {
      if (worker === w) fallBack("the checkpoint worker exited")
    })
    return w
  }
  return {
    committed: () => {
      commits++
      if (!active || beside || rest || waiting !== undefined) return
      if (commits < threshold && now() - last < intervalMillis) return
      copying = commits
      commits = 0
      last = now()
      beside = true
      worker ??= spawn()
      worker.postMessage("checkpoint")
    },
    due: () => active && rest && !beside,
    run: (done) => {
      if (!active || waiting !== undefined) return done()
      rest = false
      commits = 0
      waiting = done
      worker ??= spawn()
      // The writes wait for it: the process must not end meanwhile.
      worker.ref()
      worker.postMessage("checkpoint")
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
      // The worker answers no more: the batch waiting for it goes on (and finds the store closed).
      return exited.then(release)
    }
  }
}
