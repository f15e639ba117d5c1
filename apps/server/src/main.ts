/**
 * The server's entry point: validate the environment, start, and stop
 * gracefully on SIGTERM / SIGINT: stop accepting, let in-flight requests
 * finish (`App.drainMillis` at most), close the store (`App.closeMillis` at
 * most) and exit 0; a store that does not close in time exits 1, and a second
 * SIGTERM / SIGINT exits at once (130 after SIGINT, 143 after SIGTERM).
 *
 * Exit codes: 2 for a bad setting (every one named), 1 for a start that failed
 * (why, in one line) or a stop that could not finish.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import * as App from "./App.ts"
import * as Reason from "./Reason.ts"
import { ConfigInvalid, load, metricsHostWarning, unusedWarning } from "./ServerConfig.ts"
import * as ServerLog from "./ServerLog.ts"
import * as V8Tuning from "./V8Tuning.ts"

// Until the configuration is read, in the format LOG_FORMAT asks for (JSON unless it says pretty).
const early = ServerLog.formatOf(process.env)
const config = await Effect.runPromise(Effect.result(load())).then((r) => {
  if (r._tag === "Failure") {
    ServerLog.invalid(ServerLog.make(early), early, r.failure.problems)
    process.exit(2)
  }
  return r.success
})
const say = ServerLog.make(config.logFormat)

for (const warning of [unusedWarning(config), metricsHostWarning(config)]) {
  if (warning !== undefined) say(warning, "warn")
}

// Before the server is built: its collections from here on follow the setting.
const gc = V8Tuning.apply(config.v8ParallelScavenge)
if (config.v8ParallelScavenge === "auto" && !gc.parallelScavenge) {
  say(`one CPU available: young-generation garbage collection on the main thread (V8_PARALLEL_SCAVENGE=auto)`)
}

let app: App.App
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
/** The shell's exit code for a process ended by the signal. */
const signalled = { SIGINT: 130, SIGTERM: 143 } as const

let stopping = false
const stop = (signal: keyof typeof signalled) => {
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
process.on("SIGTERM", () => stop("SIGTERM"))
process.on("SIGINT", () => stop("SIGINT"))
// Announced once a signal would stop it gracefully: whoever waits for this line may signal at once.
say(`enrollment server listening on ${app.url}/beta (store: ${config.store}); docs at ${app.url}/docs${app.metricsUrl !== undefined ? `; metrics at ${app.metricsUrl}` : ""}`)
