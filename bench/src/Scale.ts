/**
 * Scale (ISSUE 6): PATCH and GET throughput on the seed's path with 1 000 000
 * stored assignments against the figure with 1 000 (same configuration, same
 * tenant, measured in this run), and listing a page with `$skiptoken` at the
 * end of the table against the first page.
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

const prepare = async (rows: number) => {
  const first = await startServer({ store: "sqlite" })
  const seeded = await Api.seed(first.url)
  await first.kill()
  const loadMs = await Bulk.load(first.file, Api.tenant, seeded.configurationId, rows)
  console.log(`scale: loaded ${rows} assignments in ${fmt(loadMs / 1000)} s`)
  const server = await restartServer(first)
  return { server, seeded, loadMs }
}

const measure = async (rows: number, seconds: number) => {
  const { server, seeded, loadMs } = await prepare(rows)
  const headers = { authorization: `Bearer ${seeded.token}` }
  const one = seeded.pathOf("bench-0")
  const c = 50
  const patch = await Load.run({ name: `PATCH, ${rows} rows`, url: server.url, connections: c, seconds, pid: server.pid, requests: { method: "PATCH", path: one, headers, body: patchBody } })
  const get = await Load.run({ name: `GET, ${rows} rows`, url: server.url, connections: c, seconds, pid: server.pid, requests: { method: "GET", path: one, headers } })
  const listPath = `/beta/deviceManagement/deviceEnrollmentConfigurations/${seeded.configurationId}/assignments`
  const tenantOne = `${listPath}/bench-0`
  const patchTenant = await Load.run({ name: `PATCH tenant path, ${rows} rows`, url: server.url, connections: c, seconds, pid: server.pid, requests: { method: "PATCH", path: tenantOne, headers, body: patchBody } })
  const getTenant = await Load.run({ name: `GET tenant path, ${rows} rows`, url: server.url, connections: c, seconds, pid: server.pid, requests: { method: "GET", path: tenantOne, headers } })
  const listFirst = await Load.run({ name: `list first page, ${rows} rows`, url: server.url, connections: 10, seconds, pid: server.pid, requests: { method: "GET", path: listPath, headers } })
  const endToken = OData.skipToken(Bulk.bulkId(rows - 101))
  const listEnd = await Load.run({ name: `list $skiptoken at end, ${rows} rows`, url: server.url, connections: 10, seconds, pid: server.pid, requests: { method: "GET", path: `${listPath}?$skiptoken=${endToken}`, headers } })
  await server.kill()
  return { rows, loadMs, patch, get, patchTenant, getTenant, listFirst, listEnd }
}

export const run = async (options: { seconds: number; rows: number }) => {
  const small = await measure(1000, options.seconds)
  const big = await measure(options.rows, options.seconds)
  const all = [small.patch, big.patch, small.get, big.get, small.patchTenant, big.patchTenant, small.getTenant, big.getTenant, small.listFirst, small.listEnd, big.listFirst, big.listEnd]
  table(`scale: 1 000 vs ${options.rows} stored assignments in one configuration (SQLite)`, ["run", "req/s", "answered", "p50 ms", "p99 ms", "non-2xx"], all.map((r) => [r.name, r.rps, r.total, r.p50, r.p99, r.non2xx + r.errors]))
  record("scale", { small, big })
  const p = big.patch.rps / small.patch.rps
  const g = big.get.rps / small.get.rps
  const pt = big.patchTenant.rps / small.patchTenant.rps
  const gt = big.getTenant.rps / small.getTenant.rps
  const l = big.listEnd.rps / big.listFirst.rps
  verdict(`(seed path) PATCH with ${options.rows} rows >= 0.9x with 1 000`, `${fmt(big.patch.rps)} vs ${fmt(small.patch.rps)} req/s = ${fmt(p)}x`, p >= 0.9)
  verdict(`(seed path) GET with ${options.rows} rows >= 0.9x with 1 000`, `${fmt(big.get.rps)} vs ${fmt(small.get.rps)} req/s = ${fmt(g)}x`, g >= 0.9)
  verdict(`(tenant path) PATCH with ${options.rows} rows >= 0.9x with 1 000`, `${fmt(big.patchTenant.rps)} vs ${fmt(small.patchTenant.rps)} req/s = ${fmt(pt)}x`, pt >= 0.9)
  verdict(`(tenant path) GET with ${options.rows} rows >= 0.9x with 1 000`, `${fmt(big.getTenant.rps)} vs ${fmt(small.getTenant.rps)} req/s = ${fmt(gt)}x`, gt >= 0.9)
  verdict(`list page at the end ($skiptoken) as fast as the first (${options.rows} rows, >= 0.9x)`, `${fmt(big.listEnd.rps)} vs ${fmt(big.listFirst.rps)} req/s = ${fmt(l)}x`, l >= 0.9)
  const bad = all.reduce((n, r) => n + r.non2xx + r.errors, 0)
  verdict("scale runs answer all 2xx", `${bad} non-2xx or errors`, bad === 0)
}
