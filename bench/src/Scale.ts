/**
 * Scale (ISSUE 6): PATCH and GET throughput on the seed's path with 1 000 000
 * stored assignments against the figure with 1 000 (same configuration, same
 * tenant, measured in this run, the two servers loaded in turn), and listing a
 * page with `$skiptoken` at the end of the table against the first page.
 *
 * @since 0.1.0
 */
import { OData } from "@enrollment/http-adapter"
import * as Api from "./Api.ts"
import * as Bulk from "./Bulk.ts"
import * as Load from "./Load.ts"
import { restartServer, startServer } from "./Proc.ts"
import { fmt, record, table, verdict } from "./Report.ts"
import { patchBody } from "./Speed.ts"

// Answers are not kept here (RESPONSE_CACHE_BYTES=0): a repeated GET would then not reach the
// store, and this section measures the store's indexes.
const prepare = async (rows: number) => {
  const first = await startServer({ store: "sqlite", env: { RESPONSE_CACHE_BYTES: "0" } })
  const seeded = await Api.seed(first.url)
  await first.kill()
  const loadMs = await Bulk.load(first.file, Api.tenant, seeded.configurationId, rows)
  console.log(`scale: loaded ${rows} assignments in ${fmt(loadMs / 1000)} s`)
  const server = await restartServer(first)
  return { server, seeded, loadMs }
}

/** The workloads of one table size. */
const workloads = (p: Awaited<ReturnType<typeof prepare>>, rows: number) => {
  const headers = { authorization: `Bearer ${p.seeded.token}` }
  const listPath = `/beta/deviceManagement/deviceEnrollmentConfigurations/${p.seeded.configurationId}/assignments`
  const tenantOne = `${listPath}/bench-0`
  const load = (name: string, connections: number, requests: Load.RequestSpec) => ({ name: `${name}, ${rows} rows`, url: p.server.url, connections, pid: p.server.pid, requests })
  return {
    patch: load("PATCH", 50, { method: "PATCH", path: p.seeded.pathOf("bench-0"), headers, body: patchBody }),
    get: load("GET", 50, { method: "GET", path: p.seeded.pathOf("bench-0"), headers }),
    patchTenant: load("PATCH tenant path", 50, { method: "PATCH", path: tenantOne, headers, body: patchBody }),
    getTenant: load("GET tenant path", 50, { method: "GET", path: tenantOne, headers }),
    listFirst: load("list first page", 10, { method: "GET", path: listPath, headers }),
    listEnd: load("list $skiptoken at end", 10, { method: "GET", path: `${listPath}?$skiptoken=${OData.skipToken(Bulk.bulkId(rows - 101), OData.listOf("{configurationId}/assignments"))}`, headers })
  }
}

/**
 * Both tables are served at once (two servers on the server core) and each
 * comparison alternates between them (Load.alternate): the verdicts are medians
 * of per-round ratios, which a noisy host cannot fake.
 */
export const run = async (options: { rounds: number; rows: number }) => {
  const smallServer = await prepare(1000)
  const bigServer = await prepare(options.rows)
  const small = workloads(smallServer, 1000)
  const big = workloads(bigServer, options.rows)
  const r = options.rounds
  const comparisons = {
    patch: await Load.alternate(small.patch, big.patch, r),
    get: await Load.alternate(small.get, big.get, r),
    patchTenant: await Load.alternate(small.patchTenant, big.patchTenant, r),
    getTenant: await Load.alternate(small.getTenant, big.getTenant, r),
    listEnd: await Load.alternate(big.listFirst, big.listEnd, r)
  }
  await smallServer.server.kill()
  await bigServer.server.kill()
  const mean = (xs: ReadonlyArray<Load.LoadResult>) => Math.round(xs.reduce((n, x) => n + x.rps, 0) / xs.length)
  const worst = (xs: ReadonlyArray<Load.LoadResult>) => Math.max(...xs.map((x) => x.p99))
  const bad = (xs: ReadonlyArray<Load.LoadResult>) => xs.reduce((n, x) => n + x.non2xx + x.errors, 0)
  table(`scale: 1 000 vs ${options.rows} stored assignments in one configuration (SQLite), alternating, ${r} rounds of 2 s`, [
    "comparison",
    "a req/s (mean)",
    "b req/s (mean)",
    "median b/a",
    "rounds",
    "worst p99 ms",
    "non-2xx"
  ], Object.values(comparisons).map((c) => [
    `${c.a[0]!.name} -> ${c.b[0]!.name}`,
    mean(c.a),
    mean(c.b),
    fmt(c.median) + "x",
    `${fmt(c.min)}-${fmt(c.max)}x`,
    Math.max(worst(c.a), worst(c.b)),
    bad(c.a) + bad(c.b)
  ]))
  record("scale", { rows: options.rows, rounds: r, loadMs: { small: smallServer.loadMs, big: bigServer.loadMs }, comparisons })
  const v = (what: string, c: Load.Alternation) => verdict(what, `median ${fmt(c.median)}x (rounds ${fmt(c.min)}-${fmt(c.max)}x; ${mean(c.b)} vs ${mean(c.a)} req/s)`, c.median >= 0.9)
  v(`(seed path) PATCH with ${options.rows} rows >= 0.9x with 1 000`, comparisons.patch)
  v(`(seed path) GET with ${options.rows} rows >= 0.9x with 1 000`, comparisons.get)
  v(`(tenant path) PATCH with ${options.rows} rows >= 0.9x with 1 000`, comparisons.patchTenant)
  v(`(tenant path) GET with ${options.rows} rows >= 0.9x with 1 000`, comparisons.getTenant)
  v(`list page at the end ($skiptoken) as fast as the first (${options.rows} rows, >= 0.9x)`, comparisons.listEnd)
  const errors = Object.values(comparisons).reduce((n, c) => n + bad(c.a) + bad(c.b), 0)
  verdict("scale runs answer all 2xx", `${errors} non-2xx or errors`, errors === 0)
}
