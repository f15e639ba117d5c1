/**
 * `pnpm bench`: every benchmark of ISSUE 6 in one run, each printing its
 * figure as a ratio to a baseline measured in the same run, then the verdicts.
 * This process (the load generator) pins itself to core 1; servers run on
 * core 0.
 *
 * Environment:
 * - `BENCH_ONLY`: comma list of sections (speed, startup, scale, postgres,
 *   profile, crash, races, hostile, soak, checkpoint, compare); default all.
 * - `BENCH_SECONDS`: seconds per load run (default 10).
 * - `BENCH_ROUNDS`: rounds of the alternating comparisons (speed, compare; default 7).
 * - `SCALE_ROUNDS`: rounds of the scale section's comparisons (default 15: its five
 *   comparisons of two equal figures spread widely round to round on a noisy host).
 * - `SCALE_ROWS`: rows of the large table (default 1000000).
 * - `CRASH_KILLS`: SIGKILLs per store (default 50).
 * - `HOSTILE_REQUESTS`: default 10000.
 * - `SOAK_SECONDS`: soak duration (default 600).
 * - `DATABASE_URL`: PostgreSQL sections are skipped, with a line, when unset.
 * - `BENCH_BASE`: another checkout's root (installed); the `compare` section
 *   then loads its server and this tree's in turn (skipped, with a line, when unset).
 *
 * @since 0.1.0
 */
import { spawnSync } from "node:child_process"
import { canPin } from "./Proc.ts"

if (canPin && process.env.BENCH_PINNED !== "1") {
  const r = spawnSync("taskset", ["-c", "1", process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: "inherit",
    env: { ...process.env, BENCH_PINNED: "1" }
  })
  process.exit(r.status ?? 1)
}

// Stopped by a signal (Ctrl-C), the run exits through `exit`, which removes its temporary directories (Proc.tempDir).
for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) process.once(signal, () => process.exit(code))

const { finish, record } = await import("./Report.ts")
const int = (name: string, fallback: number) => {
  const v = process.env[name]
  const n = v === undefined || v === "" ? fallback : Number(v)
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name}: expected a number, got ${v}`)
  return n
}
const only = (process.env.BENCH_ONLY ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "")
const wants = (section: string) => only.length === 0 || only.includes(section)
const seconds = int("BENCH_SECONDS", 10)
const databaseUrl = process.env.DATABASE_URL

// Every section measures the apps as installed: a bundle made stale by an edited source is built again first.
const serverForm = await (await import("./Apps.ts")).prepare("server")
console.log(`bench: ${seconds} s per load run; sections: ${only.length === 0 ? "all" : only.join(", ")}; the server runs its ${serverForm}`)
record("settings", { seconds, only, databaseUrl: databaseUrl !== undefined, serverForm })

if (wants("speed")) await (await import("./Speed.ts")).run({ seconds, rounds: int("BENCH_ROUNDS", 7) })
if (wants("startup")) await (await import("./Startup.ts")).run()
if (wants("scale")) await (await import("./Scale.ts")).run({ rounds: int("SCALE_ROUNDS", 15), rows: int("SCALE_ROWS", 1_000_000) })
if (wants("postgres")) await (await import("./Postgres.ts")).run({ seconds, databaseUrl })
if (wants("profile")) await (await import("./Profile.ts")).run({ seconds })
if (wants("crash")) await (await import("./Crash.ts")).bench({ kills: int("CRASH_KILLS", 50), databaseUrl })
if (wants("races")) await (await import("./Races.ts")).bench({ databaseUrl })
if (wants("hostile")) await (await import("./Hostile.ts")).bench({ requests: int("HOSTILE_REQUESTS", 10_000) })
if (wants("soak")) await (await import("./Soak.ts")).run({ seconds: int("SOAK_SECONDS", 600) })
if (wants("checkpoint")) await (await import("./Checkpoint.ts")).run({ seconds: 5, rounds: 2 })
if (wants("compare")) await (await import("./Compare.ts")).run({ base: process.env.BENCH_BASE, rounds: int("BENCH_ROUNDS", 7) })

const verdicts = finish(only.length === 0 ? "latest" : `latest-${only.join("-")}`)
process.exit(verdicts.some((v) => v.met === false) ? 1 : 0)
