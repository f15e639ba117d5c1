/**
 * Start-up (ISSUE 6): the server answers `/ready` within 1 s of process start
 * (SQLite, a new data directory and an existing one), and `enrollctl --help`
 * returns within 0.5 s. Each is measured several times; the worst counts.
 * The baseline is `node -e 0` measured the same way.
 *
 * @since 0.1.0
 */
import { spawnSync } from "node:child_process"
import { existsSync } from "node:fs"
import { join } from "node:path"
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
  const fresh: Array<number> = []
  const existing: Array<number> = []
  const dir = tempDir("startup")
  for (let i = 0; i < times; i++) {
    const s = await startServer({ store: "sqlite", dataDir: i === 0 ? dir : tempDir("startup") })
    fresh.push(s.readyMs)
    await s.kill()
  }
  for (let i = 0; i < times; i++) {
    const s = await startServer({ store: "sqlite", dataDir: dir })
    existing.push(s.readyMs)
    await s.kill()
  }
  const cliPath = join(root, "apps/cli/bin/enrollctl.js")
  // What the shim runs: the install's bundle while it is current, else the sources. A tree whose
  // sources changed since its install gets its bundle built again first, as an install would
  // (the target is the CLI as installed); without the bundler it runs the sources, and says so.
  const { entry } = (await import(join(root, "apps/cli/bin/entry.ts"))) as { entry: () => string }
  const rebuilt = existsSync(cliPath) && entry().endsWith("/src/main.ts")
  if (rebuilt) spawnSync(node, [join(root, "apps/cli/scripts/bundle.mjs")], { cwd: root, stdio: "ignore" })
  const cli = existsSync(cliPath) ? stats(Array.from({ length: times }, () => timeIt([node, cliPath, "--help"]))) : undefined
  const form = entry().endsWith("/src/main.ts") ? "sources" : rebuilt ? "bundle, built again for this run" : "bundle"
  const fromSources = cli !== undefined && form !== "sources"
    ? stats(Array.from({ length: times }, () => timeIt([node, cliPath, "--help"], { ENROLLCTL_FROM_SOURCE: "1" })))
    : undefined
  const f = stats(fresh)
  const e = stats(existing)
  table(`start-up (${times} runs each, pinned to core 0)`, ["what", "median ms", "worst ms", "x node -e 0 (median)"], [
    ["node -e 0 (baseline)", nodeBaseline.median, nodeBaseline.max, "1.00x"],
    ["server ready, new data dir", f.median, f.max, fmt(f.median / nodeBaseline.median) + "x"],
    ["server ready, existing data", e.median, e.max, fmt(e.median / nodeBaseline.median) + "x"],
    ...(cli !== undefined ? [[`enrollctl --help (ran the ${form})`, cli.median, cli.max, fmt(cli.median / nodeBaseline.median) + "x"] as const] : []),
    ...(fromSources !== undefined
      ? [["enrollctl --help, ENROLLCTL_FROM_SOURCE=1", fromSources.median, fromSources.max, fmt(fromSources.median / nodeBaseline.median) + "x"] as const]
      : [])
  ])
  record("startup", { nodeBaseline, fresh, existing, cli, cliForm: form, cliFromSources: fromSources })
  const worst = Math.max(f.max, e.max)
  verdict("server answers /ready within 1 s of process start", `worst ${fmt(worst)} ms (median ${fmt(f.median)} ms)`, worst < 1000)
  if (cli === undefined) verdict("enrollctl --help within 0.5 s", "apps/cli/bin/enrollctl.js missing", "n/a")
  else verdict("enrollctl --help within 0.5 s", `worst ${fmt(cli.max)} ms (median ${fmt(cli.median)} ms; ran the ${form})`, cli.max < 500)
}
