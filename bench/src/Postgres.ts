/**
 * PostgreSQL (ISSUE 6): PATCH on the seed's path at 10 connections with
 * `STORE=postgres`, printed beside `pgbench -N -c 10` (simple updates, one
 * commit each) against the same PostgreSQL in the same run. Skipped, with a
 * line, when `DATABASE_URL` is unset.
 *
 * @since 0.1.0
 */
import { spawnSync } from "node:child_process"
import * as Api from "./Api.ts"
import * as Load from "./Load.ts"
import * as Pg from "./Pg.ts"
import { canPin, startServer } from "./Proc.ts"
import { fmt, record, table, verdict } from "./Report.ts"
import { patchBody } from "./Speed.ts"

const pgbench = (url: string, schema: string, args: ReadonlyArray<string>) => {
  const argv = ["pgbench", ...args, url]
  const r = spawnSync(canPin ? "taskset" : argv[0]!, canPin ? ["-c", "1", ...argv] : argv.slice(1), {
    env: { ...process.env, PGOPTIONS: `-c search_path=${schema}` },
    encoding: "utf8"
  })
  if (r.error !== undefined) throw r.error
  if (r.status !== 0) throw new Error(`pgbench ${args.join(" ")} exited ${r.status}:\n${r.stderr}`)
  return r.stdout + r.stderr
}

export const run = async (options: { seconds: number; databaseUrl: string | undefined }) => {
  if (options.databaseUrl === undefined) {
    console.log("postgres: DATABASE_URL is unset; the PostgreSQL benchmark is skipped")
    verdict("PostgreSQL PATCH at 10 connections >= 0.5x pgbench -N -c 10", "skipped: DATABASE_URL unset", "n/a")
    return
  }
  if (spawnSync("pgbench", ["--version"]).status !== 0) {
    console.log("postgres: pgbench is not installed (apt-get install postgresql-client); skipped")
    verdict("PostgreSQL PATCH at 10 connections >= 0.5x pgbench -N -c 10", "skipped: no pgbench", "n/a")
    return
  }
  const url = options.databaseUrl
  const pgbSchema = await Pg.freshSchema(url, "bench_pgbench")
  const appSchema = await Pg.freshSchema(url, "bench_app")
  try {
    pgbench(url, pgbSchema.name, ["-i", "-s", "1", "-q"])
    const out = pgbench(url, pgbSchema.name, ["-n", "-N", "-c", "10", "-j", "1", "-T", String(options.seconds)])
    const tps = Number(/tps = ([\d.]+)/.exec(out)?.[1] ?? "NaN")

    const server = await startServer({ store: "postgres", databaseUrl: url, databaseSchema: appSchema.name })
    const seeded = await Api.seed(server.url)
    const headers = { authorization: `Bearer ${seeded.token}` }
    const patch = await Load.run({ name: "enrollment (PostgreSQL) PATCH", url: server.url, connections: 10, seconds: options.seconds, pid: server.pid, requests: { method: "PATCH", path: seeded.pathOf("bench-0"), headers, body: patchBody } })
    const get = await Load.run({ name: "enrollment (PostgreSQL) GET", url: server.url, connections: 10, seconds: options.seconds, pid: server.pid, requests: { method: "GET", path: seeded.pathOf("bench-0"), headers } })
    await server.kill()

    table(`PostgreSQL: 10 connections, ${options.seconds} s`, ["run", "per s", "x pgbench -N", "p50 ms", "p99 ms", "non-2xx"], [
      ["pgbench -N -c 10 (tps)", tps, "1.00x", "-", "-", "-"],
      [patch.name, patch.rps, fmt(patch.rps / tps) + "x", patch.p50, patch.p99, patch.non2xx + patch.errors],
      [get.name, get.rps, fmt(get.rps / tps) + "x", get.p50, get.p99, get.non2xx + get.errors]
    ])
    record("postgres", { pgbenchTps: tps, patch, get })
    const ratio = patch.rps / tps
    verdict("PostgreSQL PATCH at 10 connections >= 0.5x pgbench -N -c 10", `${fmt(patch.rps)} req/s vs ${fmt(tps)} tps = ${fmt(ratio)}x`, ratio >= 0.5)
    verdict("PostgreSQL runs answer all 2xx", `${patch.non2xx + patch.errors + get.non2xx + get.errors} non-2xx or errors`, patch.non2xx + patch.errors + get.non2xx + get.errors === 0)
  } finally {
    await pgbSchema.drop()
    await appSchema.drop()
  }
}
