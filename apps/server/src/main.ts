/**
 * The server's entry point: validate the environment, start, and stop
 * gracefully on SIGTERM / SIGINT: stop accepting, let in-flight requests
 * finish (`App.drainMillis` at most), close the store (`App.closeMillis` at
 * most) and exit 0; a store that does not close in time exits 1, and a second
 * SIGTERM / SIGINT exits at once (130 after SIGINT, 143 after SIGTERM).
 * A SIGTERM / SIGINT before the server listens exits 0 at once (nothing is in
 * flight). SIGHUP is a stop when the process has a terminal (it closed); without
 * one it reads the TLS files again (a renewed certificate) and is otherwise
 * ignored, saying so.
 *
 * Exit codes: 2 for a bad setting (every one named), 1 for a start that failed
 * (why, in one line) or a stop that could not finish.
 *
 * @since 0.1.0
 */
import { Effect, Option } from "effect"
import * as tty from "node:tty"
import * as App from "./App.ts"
import * as Reason from "./Reason.ts"
import { authWarning, ConfigInvalid, load, metricsHostWarning, unusedWarning } from "./ServerConfig.ts"
import * as ServerLog from "./ServerLog.ts"
import * as TlsFiles from "./TlsFiles.ts"
import * as V8Tuning from "./V8Tuning.ts"

// Until the configuration is read, in the format LOG_FORMAT asks for (JSON unless it says pretty).
const early = ServerLog.formatOf(process.env)
let say = ServerLog.make(early)

// Signals are handled from the start (bin/server.js covers the loading of this code): as PID 1
// (the image runs node without an init) a signal without a handler is ignored, so a `docker stop`
// during start-up would be lost and the server would start anyway; elsewhere it would kill the
// process without a word.
/** The shell's exit code for a process ended by the signal. */
const signalled = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const
type Signal = keyof typeof signalled
let app: App.App | undefined
let stopping = false
const stop = (signal: Signal) => {
  if (app === undefined) {
    say(`${signal} during start-up: exiting before serving (no request was in flight)`)
    process.exit(0)
  }
  if (stopping) {
    say(`${signal} while stopping: exiting now, without waiting for in-flight requests or the store`, "warn")
    process.exit(signalled[signal])
  }
  stopping = true
  say(`${signal}: stopping (in-flight requests get ${App.drainMillis / 1000} s, then the store ${App.closeMillis / 1000} s to close; another SIGTERM or SIGINT exits at once)`)
  app.stop().then(() => {
    say("stopped")
    process.exit(0)
  }, (e) => {
    say(e instanceof App.CloseTimeout ? `${e.message}; exiting without it` : `error while stopping: ${Reason.of(e, config.databaseUrl)}`, "error")
    process.exit(1)
  })
}
// SIGHUP: with a terminal, the terminal closed (stop, or the server would run on unseen); without
// one it comes from `systemctl reload`, `docker kill -s HUP` or a certificate renewal's hook: the
// TLS files are read again (the rest of the configuration is read once), and the server must not
// die of it (Node's default).
const terminal = tty.isatty(0) || tty.isatty(1) || tty.isatty(2)
const reload = () => {
  if (app === undefined) {
    say("SIGHUP ignored during start-up: the configuration and any TLS files are being read now", "warn")
    return
  }
  if (app.reloadTls === undefined) {
    say("SIGHUP ignored: the configuration is read once at start and there are no TLS files to read again (restart the server to change it)", "warn")
    return
  }
  try {
    const files = app.reloadTls()
    say(`SIGHUP: read TLS_CERT_FILE and TLS_KEY_FILE again; new connections get the certificate valid until ${files.notAfter.toISOString()}`)
    const warning = TlsFiles.validityWarning(Option.getOrThrow(config.tlsCertFile), files)
    if (warning !== undefined) say(warning, "warn")
  } catch (e) {
    const why = e instanceof ConfigInvalid ? e.problems.join("; ") : Reason.of(e)
    say(`SIGHUP: the TLS files were not reloaded, the server keeps serving the ones it had: ${why}`, "error")
  }
}
const handlers = {
  SIGTERM: () => stop("SIGTERM"),
  SIGINT: () => stop("SIGINT"),
  SIGHUP: () => (terminal ? stop("SIGHUP") : reload())
} as const
// In place of the entry's (bin/server.js), which covered the loading of this code: added before
// those are removed, since a signal with no listener left is dropped, even one already received.
for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
  const entry = process.listeners(signal)
  process.on(signal, handlers[signal])
  for (const listener of entry) process.removeListener(signal, listener)
}

// A log reader that went away (a log shipper or `| tee` that exited: EPIPE) must not crash the
// server, as an unhandled stream error would: it serves on, without those lines, and says so once.
process.stderr.on("error", () => {})
let stdoutFailed = false
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (stdoutFailed) return // every later line fails the same way
  stdoutFailed = true
  say(`the request log's output (stdout) failed (${e.code ?? e.message}): requests are served on, without their log lines`, "error")
})
const config = await Effect.runPromise(Effect.result(load())).then((r) => {
  if (r._tag === "Failure") {
    ServerLog.invalid(ServerLog.make(early), early, r.failure.problems)
    process.exit(2)
  }
  return r.success
})
say = ServerLog.make(config.logFormat)

for (const warning of [unusedWarning(config), metricsHostWarning(config), authWarning(config), ...config.tracesSamplerWarnings]) {
  if (warning !== undefined) say(warning, "warn")
}

// Before the server is built: its collections from here on follow the setting.
const gc = V8Tuning.apply(config.v8ParallelScavenge)
if (config.v8ParallelScavenge === "auto" && !gc.parallelScavenge) {
  say(`one CPU available: young-generation garbage collection on the main thread (V8_PARALLEL_SCAVENGE=auto)`)
}

try {
  app = await App.start(config, say)
} catch (e) {
  if (e instanceof ConfigInvalid) {
    ServerLog.invalid(say, config.logFormat, e.problems)
    process.exit(2)
  }
  say(`cannot start: ${Reason.of(e, config.databaseUrl)}`, "error")
  process.exit(1)
}
// Announced once a signal would stop it gracefully: whoever waits for this line may signal at once.
say(`enrollment server listening on ${app.url}/beta (store: ${config.store}); docs at ${app.url}/docs${app.metricsUrl !== undefined ? `; metrics at ${app.metricsUrl}` : ""}`)
