#!/usr/bin/env node
// The server's entry point: turns on Node's compile cache (later starts reuse the
// code V8 compiled, in the OS temporary directory or NODE_COMPILE_CACHE), then runs
// the bundle `pnpm install` built while it is current, else the TypeScript sources
// (Node 24 strips the types); see bin/entry.ts.
import module from "node:module"
import * as tty from "node:tty"

// First, while the server's code loads (src/main.ts then puts its own handlers in their place):
// a SIGTERM or SIGINT exits at once, saying so. As PID 1 (the image runs node without an init)
// a signal without a handler is ignored, and a `docker stop` sent now would be lost.
const terminal = tty.isatty(0) || tty.isatty(1) || tty.isatty(2)
for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"]) {
  process.on(signal, () => {
    if (signal === "SIGHUP" && !terminal) return
    import("../src/ServerLog.ts").then(({ formatOf, make }) => {
      make(formatOf(process.env))(`${signal} during start-up: exiting before serving (no request was in flight)`)
    }).finally(() => process.exit(0))
  })
}

module.enableCompileCache?.()
const { entry } = await import("./entry.ts")
await import(entry())
