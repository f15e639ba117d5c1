/**
 * `enrollctl backup FILE`: a consistent copy of the whole SQLite store (every tenant) while the
 * server runs and writes, made by the store adapter's `SqliteBackup.backup` (SQLite's online
 * backup API: committed pages, the WAL's included, read without blocking the server's writers;
 * the copy checked, synced and renamed into place). Local mode on SQLite only: a PostgreSQL
 * store is refused, pointing to `pg_dump`, and so is remote mode, naming local mode.
 *
 * It prints one answer, on standard output, in the format `-o` chooses as every command's answer
 * is: the table format (the default on a terminal) as one line, `backed up … to FILE: 1.2 MiB, 300
 * pages of 4096 bytes, in 0.42 s`; JSON (the default when piped) and YAML as an object (`file`,
 * `from`, `bytes`, `pages`, `pageSize`, `seconds`). A failure prints only its error, and leaves
 * nothing at FILE.
 *
 * @since 0.3.0
 */
import * as path from "node:path"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import type * as Scope from "effect/Scope"
import type { SqliteBackup } from "@enrollment/store-adapter"
import type { LocalSettings } from "./Backend.ts"
import { CommandFailed, usage } from "./Failure.ts"
import * as Output from "./Output.ts"
import { markDone, modeOf, print, settingsOf } from "./Runtime.ts"
import { given, type Globals, origin, secretFile } from "./Settings.ts"

/** The signals that stop a backup, with their numbers (a shell shows 128 + the number). */
export const stopSignals = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const
export type StopSignal = keyof typeof stopSignals

/**
 * Traps SIGINT, SIGTERM and SIGHUP (not ending the process half way) until the scope closes, or
 * until the first of them came; succeeds with a wait for that first signal. The listeners are
 * installed before the work they guard starts (a signal sent as it starts, while the wait is not
 * yet running, is kept for it rather than ending the process by the default action).
 */
export const trapSignals: Effect.Effect<Effect.Effect<StopSignal>, never, Scope.Scope> = Effect.map(
  Effect.acquireRelease(
    Effect.sync(() => {
      const first = Deferred.makeUnsafe<StopSignal>()
      const listeners: Array<readonly [StopSignal, () => void]> = []
      const remove = () => {
        for (const [signal, listener] of listeners.splice(0)) process.off(signal, listener)
      }
      for (const signal of Object.keys(stopSignals) as Array<StopSignal>) {
        const listener = () => {
          remove()
          Deferred.doneUnsafe(first, Effect.succeed(signal))
        }
        process.on(signal, listener)
        listeners.push([signal, listener])
      }
      return { first, remove }
    }),
    ({ remove }) => Effect.sync(remove)
  ),
  ({ first }) => Deferred.await(first)
)

/** What a stop signal does once the backup is in place: nothing (the process ends by itself, exit 0). */
const ignore = () => {}

/** Ends the process at once, with the code it is ending with (see {@link ignoreSignals}). */
const exitAtOnce = (code: number) => process.exit(code)

/**
 * Ignores SIGINT, SIGTERM and SIGHUP from now until the process ends (since 0.4.3): once FILE is
 * in place the backup is done, and a signal during what is left (printing the answer, the runtime's
 * shutdown) must not end the process with 128 + its number, which says the backup failed. Installed
 * before the trap's scope closes, so that no signal finds the default action between the two. The
 * process then ends by `process.exit` from its `exit` event: Node's own end of a process that runs
 * out of work closes its signal listeners, and with them restores the default action, before the
 * process is over (a signal in that moment ended it with 128 + its number); `process.exit` does not.
 * The event comes once nothing is left to do, standard output's writes included.
 */
export const ignoreSignals: Effect.Effect<void> = Effect.sync(() => {
  for (const signal of Object.keys(stopSignals) as Array<StopSignal>) {
    if (!process.listeners(signal).includes(ignore)) process.on(signal, ignore)
  }
  if (!process.listeners("exit").includes(exitAtOnce)) process.once("exit", exitAtOnce)
})

/** A size for people: bytes, KiB, MiB or GiB. */
export const sizeText = (bytes: number): string => {
  const units = ["KiB", "MiB", "GiB", "TiB"]
  if (bytes < 1024) return `${bytes} bytes`
  let n = bytes
  let unit = ""
  for (const u of units) {
    n /= 1024
    unit = u
    if (n < 1024) break
  }
  return `${n.toFixed(1)} ${unit}`
}

type SqliteSettings = Extract<LocalSettings["store"], { readonly _tag: "sqlite" }>

/**
 * The SQLite store the settings name, or the usage error of a mode or store backup does not take:
 * remote mode (the copy is of the file, on the server's machine), PostgreSQL (`pg_dump` backs it
 * up), memory (nothing to back up); and `--tenant`, `--select` (it copies every tenant, whole).
 */
const sqliteStore = (raw: Globals): Effect.Effect<{ readonly settings: LocalSettings; readonly store: SqliteSettings }, CommandFailed> =>
  Effect.gen(function*() {
    const g = yield* settingsOf(raw)
    if (g.select !== undefined) return yield* usage("--select does not apply to backup: it copies the whole store")
    if (g.fromFlags.tenant !== undefined) {
      return yield* usage("--tenant does not apply to backup: it copies the whole store, every tenant (export writes one tenant)")
    }
    const mode = yield* modeOf(raw)
    if (mode._tag === "Remote") {
      return yield* usage(
        `backup runs in local mode on the SQLite store only (--store sqlite --data-dir DIR, the server's DATA_DIR), ` +
          `not in remote mode (${origin(g, "baseUrl")}): it copies the store's file, on the machine that holds it; ` +
          `export (remote mode too) writes one tenant as JSON lines`
      )
    }
    const s = mode.settings.store
    if (s._tag === "postgres") {
      return yield* usage(
        `backup copies a SQLite store; a PostgreSQL store is backed up with PostgreSQL's own tools: ` +
          `pg_dump --format=custom${s.schema === undefined ? "" : ` --schema=${s.schema}`} --file=FILE URL (pg_restore restores it)`
      )
    }
    if (s._tag === "memory") return yield* usage(`backup copies a SQLite store (--store sqlite), not ${given(g, "store", "memory")}: it has nothing to keep`)
    return { settings: mode.settings, store: s }
  })

/**
 * The data directory's files besides the store's own (which the backup refuses by itself), never a
 * backup's FILE, `--force` or not: the server's signing secret.
 */
const dataDirFiles = (store: string) => [{ file: path.join(path.dirname(store), secretFile), what: "the server's signing secret" }]

/** `SqliteBackup.BackupFailed` as the CLI prints it: what to do about it, and that FILE is as it was. */
const failedBackup = (e: SqliteBackup.BackupFailed, file: string, force: boolean): CommandFailed => {
  const untouched = `nothing was written to ${file}`
  switch (e.reason) {
    case "DestinationExists":
      return new CommandFailed({ code: "DestinationExists", detail: force ? e.detail : `${e.detail}; pass --force to replace it`, exit: "conflict" })
    case "DestinationNotAFile":
      return usage(e.detail)
    case "DestinationIsSource":
      return usage(e.detail)
    case "SourceMissing":
      return new CommandFailed({ code: "StoreNotFound", detail: e.detail, exit: "usage", cause: e })
    case "DirectoryNotSynced":
      return new CommandFailed({ code: "BackupFailed", detail: e.detail, exit: "other", cause: e })
    default:
      return new CommandFailed({ code: "BackupFailed", detail: `${e.detail}; ${untouched}`, exit: "other", cause: e })
  }
}

/**
 * `enrollctl backup [--force] FILE`. The store must be there (refused as every local command
 * refuses a missing one, `StoreNotFound`); SIGINT, SIGTERM or SIGHUP before FILE is in place stop
 * the backup, remove its temporary file, and end the process by that signal; once FILE is in
 * place, the backup is done, and ends with exit 0 whatever signal comes (since 0.4.3).
 */
export const run = (raw: Globals, file: string, options: { readonly force: boolean }) =>
  Effect.gen(function*() {
    const g = yield* settingsOf(raw)
    const { settings, store } = yield* sqliteStore(raw)
    const Local = yield* Effect.promise(() => import("./Local.ts"))
    yield* Local.checkPresent(settings)
    const { SqliteBackup } = yield* Effect.promise(() => import("@enrollment/store-adapter"))
    const to = path.resolve(file)
    // The signals trapped before the backup starts. The first aborts it: it stops at its next step
    // before FILE is in place (its temporary file removed), and changes nothing after; once it is
    // in place, signals are ignored until the process ends.
    const outcome = yield* Effect.scoped(Effect.gen(function*() {
      const firstSignal = yield* trapSignals
      const stop = new AbortController()
      let stoppedBy: StopSignal | undefined
      yield* Effect.forkScoped(Effect.map(firstSignal, (signal) => {
        stoppedBy = signal
        stop.abort()
      }))
      const made = yield* Effect.result(
        SqliteBackup.backup({ from: store.filename, to, force: options.force, keep: dataDirFiles(store.filename), signal: stop.signal })
      )
      if (Result.isSuccess(made)) {
        yield* ignoreSignals
        return { _tag: "Made", made: made.success } as const
      }
      if (made.failure.reason === "Aborted" && stoppedBy !== undefined) return { _tag: "Signal", signal: stoppedBy } as const
      return yield* failedBackup(made.failure, file, options.force)
    }))
    if (outcome._tag === "Signal") {
      // The backup was interrupted, its temporary file removed: end as the signal would have.
      process.stderr.write(`error Interrupted: the backup was stopped by ${outcome.signal}; nothing was written to ${file}\n`)
      process.kill(process.pid, outcome.signal)
      process.exitCode = 128 + stopSignals[outcome.signal]
      return yield* Effect.never
    }
    const made = outcome.made
    const from = path.resolve(store.filename)
    const seconds = Math.round(made.millis) / 1000
    const format = Output.formatOf(g.output, process.stdout.isTTY === true)
    const value = { file: made.file, from, bytes: made.bytes, pages: made.pages, pageSize: made.pageSize, seconds }
    yield* markDone(`the backup ${made.file} was made, checked and synced`)
    yield* print(
      format === "json"
        ? `${JSON.stringify(value, null, 2)}\n`
        : format === "yaml"
        ? Output.yaml(value)
        : `backed up ${from} to ${made.file}: ${sizeText(made.bytes)}, ${made.pages} pages of ${made.pageSize} bytes, in ${seconds} s\n`
    )
  })
