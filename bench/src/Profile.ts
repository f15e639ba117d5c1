/**
 * Profiling the hot path: the server runs under `node --cpu-prof` while
 * autocannon sends PATCHes (then GETs) on the seed's path; on SIGTERM it
 * writes the profile, and this prints self time per function and per area
 * (file or package), so what does not need to be there is visible.
 *
 * @since 0.1.0
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import * as Api from "./Api.ts"
import * as Load from "./Load.ts"
import { root, startServer, tempDir } from "./Proc.ts"
import { record, table } from "./Report.ts"
import { patchBody } from "./Speed.ts"

interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
}

/** Self time per function and per area, in % of the profile. */
export const summarize = (file: string, top = 25) => {
  const p = JSON.parse(readFileSync(file, "utf8")) as { nodes: Array<ProfileNode>; samples: Array<number>; timeDeltas: Array<number> }
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const self = new Map<number, number>()
  let total = 0
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0
    self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + dt)
    total += dt
  }
  const fns = new Map<string, number>()
  const areas = new Map<string, number>()
  const short = (url: string) =>
    url.replace(`file://${root}/`, "").replace(/^.*node_modules\/\.pnpm\/[^/]+\/node_modules\//, "npm:")
  const areaOf = (url: string, name: string) => {
    if (url === "") return name.startsWith("(") ? name : "(native/V8 builtins)"
    if (url.startsWith("node:")) return url
    const s = short(url)
    const m = /^npm:((?:@[^/]+\/)?[^/]+)/.exec(s)
    return m !== null ? `npm:${m[1]}` : s
  }
  for (const [id, t] of self) {
    const n = byId.get(id)!
    const name = n.callFrame.functionName || "(anonymous)"
    const where = n.callFrame.url === "" ? "" : ` ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`
    fns.set(name + where, (fns.get(name + where) ?? 0) + t)
    const a = areaOf(n.callFrame.url, name)
    areas.set(a, (areas.get(a) ?? 0) + t)
  }
  const pct = (m: Map<string, number>) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, v]) => ({ what: k, selfPct: (100 * v) / total }))
  return { totalMs: total / 1000, functions: pct(fns), areas: pct(areas) }
}

/** Profiles the server under PATCH load, then under GET load. */
export const run = async (options: { seconds: number }) => {
  const results: Record<string, ReturnType<typeof summarize>> = {}
  for (const method of ["PATCH", "GET"] as const) {
    const dir = tempDir("cpuprof")
    const server = await startServer({ store: "sqlite", nodeFlags: ["--cpu-prof", `--cpu-prof-dir=${dir}`] })
    const seeded = await Api.seed(server.url)
    await Load.run({
      name: `profile ${method}`,
      url: server.url,
      connections: 50,
      seconds: options.seconds,
      warmupSeconds: 1,
      requests: { method, path: seeded.pathOf("bench-0"), headers: { authorization: `Bearer ${seeded.token}` }, ...(method === "PATCH" ? { body: patchBody } : {}) }
    })
    await server.kill("SIGTERM")
    const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"))
    if (file === undefined) {
      console.log(`profile: the server wrote no profile for ${method} (did it exit cleanly on SIGTERM?)`)
      continue
    }
    const s = summarize(join(dir, file))
    results[method] = s
    table(`profile: ${method} on the seed path, self time by area (${join(dir, file)})`, ["area", "self %"], s.areas.slice(0, 15).map((a) => [a.what, a.selfPct]))
    table(`profile: ${method}, self time by function (top 25)`, ["function", "self %"], s.functions.map((f) => [f.what, f.selfPct]))
  }
  record("profile", results)
  return results
}
