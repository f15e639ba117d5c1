/**
 * Races (ISSUE 6): 200 concurrent PATCHes of one assignment. With `If-Match`
 * of the same ETag exactly one is answered 200 and the rest 412, and the
 * stored entity is the winner's. Without `If-Match` every answer is 200 and
 * the stored entity is one request applied whole (its `sourceId` and
 * `target.groupId` carry the same marker), namely the one applied last.
 *
 * @since 0.1.0
 */
import * as Api from "./Api.ts"
import * as Http from "./Http.ts"
import * as Pg from "./Pg.ts"
import { type Server, startServer } from "./Proc.ts"
import { record, table, verdict } from "./Report.ts"

export interface RaceResult {
  readonly name: string
  readonly statuses: Readonly<Record<string, number>>
  readonly problems: ReadonlyArray<string>
}

const body = (marker: string) => JSON.stringify({ source: "policySets", sourceId: marker, target: { groupId: marker } })

const fire = (server: Server, path: string, token: string, n: number, round: string, ifMatch: string | undefined) => {
  const agent = Http.pool(n)
  return Promise.all(Array.from({ length: n }, (_, i) =>
    Http.send(server.url, "PATCH", path, {
      agent,
      headers: Http.jsonHeaders(token, ifMatch === undefined ? {} : { "if-match": ifMatch }),
      body: body(`${round}-${i}`)
    }))).finally(() => agent.destroy())
}

const count = (replies: ReadonlyArray<Http.Reply>) => {
  const c: Record<string, number> = {}
  for (const r of replies) {
    const k = r.ok ? String(r.status) : `error ${r.error}`
    c[k] = (c[k] ?? 0) + 1
  }
  return c
}

/** One round with If-Match. */
export const withIfMatch = async (server: Server, seeded: Api.Seeded, n = 200, round = "m"): Promise<RaceResult> => {
  const path = seeded.pathOf(seeded.assignmentIds[0]!)
  const before = await Http.send(server.url, "GET", path, { headers: { authorization: `Bearer ${seeded.token}` } })
  if (!before.ok) throw new Error(before.error)
  const etag = String(before.headers.etag)
  const replies = await fire(server, path, seeded.token, n, round, etag)
  const statuses = count(replies)
  const problems: Array<string> = []
  const winners = replies.filter((r) => r.ok && r.status === 200) as Array<Extract<Http.Reply, { ok: true }>>
  if (winners.length !== 1) problems.push(`${winners.length} answers were 200 (expected exactly 1)`)
  if ((statuses["412"] ?? 0) !== n - 1) problems.push(`${statuses["412"] ?? 0} answers were 412 (expected ${n - 1})`)
  const after = await Http.send(server.url, "GET", path, { headers: { authorization: `Bearer ${seeded.token}` } })
  if (!after.ok) throw new Error(after.error)
  if (winners.length === 1) {
    const w = winners[0]!.json
    if (after.json?.sourceId !== w?.sourceId || after.json?.target?.groupId !== w?.target?.groupId) {
      problems.push(`stored ${after.json?.sourceId}/${after.json?.target?.groupId}, winner ${w?.sourceId}`)
    }
    if (after.headers.etag !== winners[0]!.headers.etag) problems.push("the stored ETag is not the winner's")
  }
  return { name: `${n} PATCHes with If-Match of one ETag`, statuses, problems }
}

/** One round without If-Match. */
export const withoutIfMatch = async (server: Server, seeded: Api.Seeded, n = 200, round = "u"): Promise<RaceResult> => {
  const path = seeded.pathOf(seeded.assignmentIds[0]!)
  const replies = await fire(server, path, seeded.token, n, round, undefined)
  const statuses = count(replies)
  const problems: Array<string> = []
  if ((statuses["200"] ?? 0) !== n) problems.push(`${statuses["200"] ?? 0} of ${n} answers were 200`)
  for (const r of replies) {
    if (r.ok && r.status === 200 && (r.json?.sourceId !== r.json?.target?.groupId || !String(r.json?.sourceId).startsWith(`${round}-`))) {
      problems.push(`an answer mixes two requests: ${r.json?.sourceId} / ${r.json?.target?.groupId}`)
    }
  }
  const after = await Http.send(server.url, "GET", path, { headers: { authorization: `Bearer ${seeded.token}` } })
  if (!after.ok) throw new Error(after.error)
  const final = after.json
  if (final?.sourceId !== final?.target?.groupId) problems.push(`the stored entity mixes two requests: ${final?.sourceId} / ${final?.target?.groupId}`)
  // The request applied last answered exactly the stored entity (and its ETag).
  const last = replies.filter((r) => r.ok && r.status === 200 && r.json?.sourceId === final?.sourceId)
  if (last.length !== 1) problems.push(`${last.length} answers carry the stored marker ${final?.sourceId} (expected 1)`)
  else if ((last[0] as Extract<Http.Reply, { ok: true }>).headers.etag !== after.headers.etag) problems.push("the stored ETag is not the last writer's")
  return { name: `${n} PATCHes without If-Match`, statuses, problems }
}

/** The bench run: several rounds of each on SQLite (and PostgreSQL when configured). */
export const bench = async (options: { rounds?: number; databaseUrl?: string | undefined } = {}) => {
  const results: Array<RaceResult & { store: string }> = []
  for (const store of ["sqlite", "postgres"] as const) {
    if (store === "postgres" && options.databaseUrl === undefined) {
      console.log("races: DATABASE_URL is unset; the PostgreSQL rounds are skipped")
      continue
    }
    const schema = store === "postgres" ? await Pg.freshSchema(options.databaseUrl!, "bench_races") : undefined
    const server = await startServer({ store, databaseUrl: options.databaseUrl, databaseSchema: schema?.name })
    try {
      const seeded = await Api.seed(server.url)
      for (let i = 0; i < (options.rounds ?? 5); i++) {
        results.push({ store, ...(await withIfMatch(server, seeded, 200, `m${i}`)) })
        results.push({ store, ...(await withoutIfMatch(server, seeded, 200, `u${i}`)) })
      }
    } finally {
      await server.kill()
      await schema?.drop()
    }
  }
  table("races: concurrent PATCHes of one assignment", ["store", "round", "answers", "problems"], results.map((r) => [
    r.store,
    r.name,
    Object.entries(r.statuses).map(([k, v]) => `${k}:${v}`).join(" "),
    r.problems.length === 0 ? "none" : r.problems.slice(0, 3).join("; ")
  ]))
  record("races", results)
  const bad = results.filter((r) => r.problems.length > 0).length
  verdict("races: If-Match gives exactly one 200 and 199 x 412; without it, no lost or mixed update", `${results.length - bad}/${results.length} rounds clean`, bad === 0)
}
