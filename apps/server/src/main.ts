/**
 * The server's entry point: validate the environment, start, and stop
 * gracefully on SIGTERM / SIGINT (stop accepting, finish in-flight requests,
 * close the store, exit 0).
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import * as App from "./App.ts"
import { load } from "./ServerConfig.ts"
import * as V8Tuning from "./V8Tuning.ts"

const say = (line: string) => process.stderr.write(`${line}\n`)

const config = await Effect.runPromise(Effect.result(load)).then((r) => {
  if (r._tag === "Failure") {
    say(r.failure.message)
    process.exit(2)
  }
  return r.success
})

// Before the server is built: its collections from here on follow the setting.
const gc = V8Tuning.apply(config.v8ParallelScavenge)
if (config.v8ParallelScavenge === "auto" && !gc.parallelScavenge) {
  say(`one CPU available: young-generation garbage collection on the main thread (V8_PARALLEL_SCAVENGE=auto)`)
}

let app: App.App
try {
  app = await App.start(config, say)
} catch (e) {
  say(`cannot start: ${e instanceof Error ? e.message : String(e)}`)
  process.exit(1)
}
say(`enrollment server listening on ${app.url}/beta (store: ${config.store}); docs at ${app.url}/docs`)

let stopping = false
const stop = (signal: string) => {
  if (stopping) return
  stopping = true
  say(`${signal}: stopping (finishing in-flight requests)`)
  app.stop().then(() => process.exit(0), (e) => {
    say(`error while stopping: ${String(e)}`)
    process.exit(1)
  })
}
process.on("SIGTERM", () => stop("SIGTERM"))
process.on("SIGINT", () => stop("SIGINT"))
