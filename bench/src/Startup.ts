/**
 * Start-up (ISSUE 6): the server answers `/ready` within 1 s of process start
 * (SQLite, a new data directory and an existing one), and `enrollctl --help`
 * returns within 0.5 s. Each is measured several times; the worst counts.
 * The baseline is `node -e 0` measured the same way. Both apps run from the
 * bundle their install built (and their sources, for comparison).
 *
 * @since 0.1.0
 */
import { spawnSync } from "node:child_process"
import { existsSync } from "node:fs"
import { join } from "node:path"
import { prepare } from "./Apps.ts"
import { node, root, startServer, tempDir } from "./Proc.ts"
import { fmt, record, table, verdict } from "./Report.ts"

const timeIt = (argv: ReadonlyArray<string>, env: Readonly<Record<string, string>> = {}): number => {
  const t = performance.now()
  const r = spawnSync("taskset", ["-c", "0", ...argv], { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } })
  const ms = performance.now() - t
  if (r.status !== 0) throw new Error(`${argv.join(" ")} exited ${r.status}: ${r.stderr}`)
  return ms
}

const stats = (xs: ReadonlyArray<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  return { median: s[Math.floor(s.length / 2)]!, max: s[s.length - 1]! }
}

export const run = async (times = 5) => {
  const nodeBaseline = stats(Array.from({ length: times }, () => timeIt([node, "-e", "0"])))
  const serverForm = await prepare("server")
  const readyTimes = async (env: Readonly<Record<string, string>> = {}) => {
    const fresh: Array<number> = []
    const existing: Array<number> = []
    const dir = tempDir("startup")
    for (let i = 0; i < times; i++) {
      const s = await startServer({ store: "sqlite", dataDir: i === 0 ? dir : tempDir("startup"), env })
      fresh.push(s.readyMs)
      await s.kill()
    }
    for (let i = 0; i < times; i++) {
      const s = await startServer({ store: "sqlite", dataDir: dir, env })
      existing.push(s.readyMs)
      await s.kill()
    }
    return { fresh, existing }
  }
  const { fresh, existing } = await readyTimes()
  const serverFromSources = serverForm !== "sources" ? stats((await readyTimes({ SERVER_FROM_SOURCE: "1" })).fresh) : undefined
  const cliPath = join(root, "apps/cli/bin/enrollctl.js")
  const form = existsSync(cliPath) ? await prepare("cli") : "sources"
  const cli = existsSync(cliPath) ? stats(Array.from({ length: times }, () => timeIt([node, cliPath, "--help"]))) : undefined
  const fromSources = cli !== undefined && form !== "sources"
    ? stats(Array.from({ length: times }, () => timeIt([node, cliPath, "--help"], { ENROLLCTL_FROM_SOURCE: "1" })))
    : undefined
  const f = stats(fresh)
  const e = stats(existing)
  const row = (what: string, s: { median: number; max: number }) => [what, s.median, s.max, fmt(s.median / nodeBaseline.median) + "x"] as const
  table(`start-up (${times} runs each, pinned to core 0)`, ["what", "median ms", "worst ms", "x node -e 0 (median)"], [
    row("node -e 0 (baseline)", nodeBaseline),
    row(`server ready, new data dir (ran the ${serverForm})`, f),
    row(`server ready, existing data (ran the ${serverForm})`, e),
    ...(serverFromSources !== undefined ? [row("server ready, new data dir, SERVER_FROM_SOURCE=1", serverFromSources)] : []),
    ...(cli !== undefined ? [row(`enrollctl --help (ran the ${form})`, cli)] : []),
    ...(fromSources !== undefined ? [row("enrollctl --help, ENROLLCTL_FROM_SOURCE=1", fromSources)] : [])
  ])
  record("startup", { nodeBaseline, fresh, existing, serverForm, serverFromSources, cli, cliForm: form, cliFromSources: fromSources })
  const worst = Math.max(f.max, e.max)
  verdict("server answers /ready within 1 s of process start", `worst ${fmt(worst)} ms (median ${fmt(f.median)} ms; ran the ${serverForm})`, worst < 1000)
  if (cli === undefined) verdict("enrollctl --help within 0.5 s", "apps/cli/bin/enrollctl.js missing", "n/a")
  else verdict("enrollctl --help within 0.5 s", `worst ${fmt(cli.max)} ms (median ${fmt(cli.median)} ms; ran the ${form})`, cli.max < 500)
}
