#!/usr/bin/env node
// enrollctl: a tiny shim. Node 24 runs the TypeScript sources directly (type
// stripping); the compile cache makes later starts faster.
import module from "node:module"

const [major, minor] = process.versions.node.split(".").map(Number)
if (major < 23 || (major === 23 && minor < 6)) {
  process.stderr.write(`enrollctl needs Node 24 (runs TypeScript by type stripping); this is Node ${process.versions.node}\n`)
  process.exit(1)
}
module.enableCompileCache?.()
await import("../src/main.ts")
