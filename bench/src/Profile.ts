/**
 * Profiling the hot path: the server runs under `node --cpu-prof` while
 * autocannon sends PATCHes (then GETs) on the seed's path; on SIGTERM it
 * writes the profile, and this prints self time per function and per area
 * (file or package), so what does not need to be there is visible.
 *
 * The profile covers the server's whole life; only the samples taken while the
 * measured load ran are counted (start-up, seeding and the warm-up are left
 * out). A sample's time is the profile's `startTime` plus the deltas before it,
 * in microseconds of the monotonic clock every process here shares
 * (`process.hrtime`), so the window is read in this process.
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

/** A span of the monotonic clock, in microseconds (see {@link now}). */
export interface Window {
  readonly fromUs: number
  readonly toUs: number
}

/** Now, in microseconds of the monotonic clock V8's profiles are stamped with. */
export const now = (): number => Number(process.hrtime.bigint() / 1000n)

/**
 * Self time per function and per area, in % of the profile's samples, or of those
 * taken within `window` only. `samples` and `windowSamples` say how many there were.
 */
export const summarize = (file: string, top = 25, window?: Window) => {
  const p = JSON.parse(readFileSync(file, "utf8")) as {
    nodes: Array<ProfileNode>
    samples: Array<number>
    timeDeltas: Array<number>
    startTime: number
  }
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const self = new Map<number, number>()
  let total = 0
  let at = p.startTime
  let counted = 0
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0
    at += dt
    if (window !== undefined && (at < window.fromUs || at > window.toUs)) continue
    counted++
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
  return { totalMs: total / 1000, samples: p.samples.length, windowSamples: counted, functions: pct(fns), areas: pct(areas) }
}

/** Profiles the server under PATCH load, then under GET load. */
export const run = async (options: { seconds: number }) => {
  const results: Record<string, ReturnType<typeof summarize>> = {}
  for (const method of ["PATCH", "GET"] as const) {
    const dir = tempDir("cpuprof")
    const server = await startServer({ store: "sqlite", nodeFlags: ["--cpu-prof", `--cpu-prof-dir=${dir}`] })
    const seeded = await Api.seed(server.url)
    const load = (seconds: number) =>
      Load.run({
        name: `profile ${method}`,
        url: server.url,
        connections: 50,
        seconds,
        warmupSeconds: 0,
        requests: { method, path: seeded.pathOf("bench-0"), headers: { authorization: `Bearer ${seeded.token}` }, ...(method === "PATCH" ? { body: patchBody } : {}) }
      })
    await load(1) // the warm-up, left out of the figures like start-up and seeding
    const fromUs = now()
    await load(options.seconds)
    const window = { fromUs, toUs: now() }
    await server.kill("SIGTERM")
    const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"))
    if (file === undefined) {
      console.log(`profile: the server wrote no profile for ${method} (did it exit cleanly on SIGTERM?)`)
      continue
    }
    const s = summarize(join(dir, file), 25, window)
    results[method] = s
    table(
      `profile: ${method} on the seed path, self time by area, the ${s.windowSamples} samples of the measured load (of ${s.samples}; ${join(dir, file)})`,
      ["area", "self %"],
      s.areas.slice(0, 15).map((a) => [a.what, a.selfPct])
    )
    table(`profile: ${method}, self time by function (top 25)`, ["function", "self %"], s.functions.map((f) => [f.what, f.selfPct]))
  }
  record("profile", results)
  return results
}
