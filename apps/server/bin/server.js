#!/usr/bin/env node
// The server's entry point: turns on Node's compile cache (later starts reuse the
// code V8 compiled, in the OS temporary directory or NODE_COMPILE_CACHE), then runs
// the bundle `pnpm install` built while it is current, else the TypeScript sources
// (Node 24 strips the types); see bin/entry.ts.
import module from "node:module"

module.enableCompileCache?.()
const { entry } = await import("./entry.ts")
await import(entry())
