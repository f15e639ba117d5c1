/**
 * The baseline servers of the speed benchmark, each started as a child
 * process pinned to the server core: a bare `node:http` server (the ratio
 * baseline), Fastify with an in-memory merge, and json-server 0.17 over a
 * JSON file.
 *
 * @since 0.1.0
 */
import { existsSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { type Child, freePort, node, spawnReady, tempDir } from "./Proc.ts"

const here = import.meta.dirname

/**
 * The baselines run with V8's memory reducer off, as the enrollment server does
 * (`serverNodeFlags`): its collection at a quiet moment, such as a baseline's wait
 * between alternating rounds, leaves Node's own `process.nextTick` on a slow path for
 * the rest of the process (about 2.5 µs a request; BENCHMARKS.md, "from 17:01"), and a
 * baseline slowed by it would flatter every ratio against it.
 */
export const baselineNodeFlags: ReadonlyArray<string> = ["--no-memory-reducer"]

/** The bare node:http server. */
export const bare = async (cpu: number | undefined = 0): Promise<Child> => {
  const port = await freePort()
  return spawnReady({ argv: [node, ...baselineNodeFlags, join(here, "baselines/Bare.ts")], env: { PORT: String(port) }, cpu, port, readyPath: "/" })
}

/** Fastify with an in-memory Map. */
export const fastify = async (cpu: number | undefined = 0): Promise<Child> => {
  const port = await freePort()
  return spawnReady({ argv: [node, ...baselineNodeFlags, join(here, "baselines/Fastify.ts")], env: { PORT: String(port), NODE_ENV: "production" }, cpu, port, readyPath: "/ready" })
}

/** The path json-server answers one assignment on. */
export const jsonServerPath = "/assignments/bench-0"

/** json-server over a db.json holding one assignment; undefined when the package is not installed. */
export const jsonServer = async (cpu: number | undefined = 0): Promise<Child | undefined> => {
  let bin: string
  try {
    bin = join(dirname(createRequire(import.meta.url).resolve("json-server/package.json")), "lib/cli/bin.js")
  } catch {
    return undefined
  }
  if (!existsSync(bin)) return undefined
  const dir = tempDir("json-server")
  const db = join(dir, "db.json")
  writeFileSync(db, JSON.stringify({
    assignments: [{
      "@odata.type": "#microsoft.graph.enrollmentConfigurationAssignment",
      id: "bench-0",
      target: { "@odata.type": "#microsoft.graph.groupAssignmentTarget", deviceAndAppManagementAssignmentFilterId: null, deviceAndAppManagementAssignmentFilterType: "none", groupId: "g0" },
      source: "direct",
      sourceId: null
    }]
  }))
  const port = await freePort()
  return spawnReady({
    argv: [node, ...baselineNodeFlags, bin, "--quiet", "--port", String(port), "--host", "127.0.0.1", db],
    cpu,
    port,
    readyPath: jsonServerPath,
    cwd: dir,
    env: { NODE_ENV: "production" }
  })
}
