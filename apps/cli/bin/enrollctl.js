#!/usr/bin/env node
// enrollctl: a tiny shim. It runs the bundle `pnpm install` built (one file to
// load instead of about 230) while it is current, else the TypeScript sources,
// which Node 24 runs directly (type stripping); see bin/entry.ts. The compile
// cache makes later starts faster either way.
import module from "node:module"

const [major, minor] = process.versions.node.split(".").map(Number)
if (major < 23 || (major === 23 && minor < 6)) {
  process.stderr.write(`enrollctl needs Node 24 (runs TypeScript by type stripping); this is Node ${process.versions.node}\n`)
  process.exit(1)
}
module.enableCompileCache?.()
const { entry } = await import("./entry.ts")
await import(entry())
