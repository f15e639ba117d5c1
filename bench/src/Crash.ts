/**
 * Crash safety (ISSUE 6): writers PATCH their own assignment in a loop, each
 * write carrying a sequence number, while the server is killed with SIGKILL
 * at random moments. After each restart every write that was answered 200 is
 * there (the stored sequence is at least the last acknowledged one, and at
 * most the last sent), and on SQLite `PRAGMA integrity_check` is ok. The SQLite
 * server checkpoints its WAL every 2 ms while it writes (`SQLITE_CHECKPOINT_MS`, 1 000
 * by default), so that kills land inside the checkpointer's work as well (store-adapter 0.8.0).
 *
 * @since 0.1.0
 */
import * as Api from "./Api.ts"
import * as Bulk from "./Bulk.ts"
import * as Http from "./Http.ts"
import * as Pg from "./Pg.ts"
import { restartServer, type Server, sleep, startServer } from "./Proc.ts"
import { record, table, verdict } from "./Report.ts"

/** What a crash loop saw. */
export interface CrashResult {
  readonly store: "sqlite" | "postgres"
  readonly kills: number
  /** Writes answered 200 over all rounds. */
  readonly acknowledged: number
  /** Writes sent whose answer never came (cut by the kill). */
  readonly cut: number
  /** Lost or impossible values: empty when the store is safe. */
  readonly violations: ReadonlyArray<string>
  /** `PRAGMA integrity_check` results that were not ok (SQLite). */
  readonly integrity: ReadonlyArray<string>
  /** Restarts that took longer than the server's readiness timeout, or failed. */
  readonly restartMs: ReadonlyArray<number>
}

export interface CrashOptions {
  readonly store: "sqlite" | "postgres"
  readonly kills: number
  readonly writers?: number
  /** Random kill moment after the load starts, in ms. */
  readonly minMs?: number
  readonly maxMs?: number
  readonly databaseUrl?: string | undefined
  readonly log?: (line: string) => void
  /** A seed for the kill moments (reproducible runs). */
  readonly seed?: number
  /** The SQLite server's `SQLITE_CHECKPOINT_MS` (default 2: a checkpoint off the event loop at nearly every sync). */
  readonly checkpointMs?: number
}

const seqOf = (sourceId: unknown, writer: number): number => {
  const m = typeof sourceId === "string" ? new RegExp(`^w${writer}-(\\d+)$`).exec(sourceId) : null
  return m === null ? -1 : Number(m[1])
}

/** A small seeded PRNG (mulberry32). */
export const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = seed
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

export const crashLoop = async (options: CrashOptions): Promise<CrashResult> => {
  const writers = options.writers ?? 8
  const log = options.log ?? (() => {})
  const random = prng(options.seed ?? Date.now())
  const schema = options.store === "postgres" ? await Pg.freshSchema(options.databaseUrl!, "bench_crash") : undefined
  let server: Server = await startServer({
    store: options.store,
    databaseUrl: options.databaseUrl,
    databaseSchema: schema?.name,
    ...(options.store === "sqlite" ? { env: { SQLITE_CHECKPOINT_MS: String(options.checkpointMs ?? 2) } } : {})
  })
  const seeded = await Api.seed(server.url, { assignments: writers })
  const acked = new Array<number>(writers).fill(-1)
  const sent = new Array<number>(writers).fill(-1)
  const violations: Array<string> = []
  const integrity: Array<string> = []
  const restartMs: Array<number> = []
  let acknowledged = 0
  let cut = 0
  try {
    for (let k = 0; k < options.kills; k++) {
      const agent = Http.pool()
      let stop = false
      const loops = Array.from({ length: writers }, async (_, w) => {
        while (!stop) {
          const seq = sent[w]! + 1
          sent[w] = seq
          const r = await Http.send(server.url, "PATCH", seeded.pathOf(seeded.assignmentIds[w]!), {
            agent,
            headers: Http.jsonHeaders(seeded.token),
            body: JSON.stringify({ source: "policySets", sourceId: `w${w}-${seq}` })
          })
          if (!r.ok) {
            cut++
            return
          }
          if (r.status !== 200) {
            violations.push(`round ${k}: writer ${w} got ${r.status} ${r.text.slice(0, 200)}`)
            return
          }
          acknowledged++
          if (seqOf(r.json?.sourceId, w) !== seq) violations.push(`round ${k}: writer ${w} answered ${r.json?.sourceId} for w${w}-${seq}`)
          acked[w] = seq
        }
      })
      const min = options.minMs ?? 50
      const max = options.maxMs ?? 500
      await sleep(min + random() * (max - min))
      await server.kill("SIGKILL")
      stop = true
      await Promise.all(loops)
      agent.destroy()
      if (options.store === "sqlite") {
        const ok = Bulk.integrity(server.file)
        if (ok !== "ok") integrity.push(`round ${k}: ${ok}`)
      }
      server = await restartServer(server)
      restartMs.push(server.readyMs)
      const check = Http.pool(8)
      for (let w = 0; w < writers; w++) {
        const r = await Http.send(server.url, "GET", seeded.pathOf(seeded.assignmentIds[w]!), { agent: check, headers: { authorization: `Bearer ${seeded.token}` } })
        if (!r.ok || r.status !== 200) {
          violations.push(`round ${k}: GET of writer ${w} failed: ${r.ok ? `${r.status} ${r.text.slice(0, 200)}` : r.error}`)
          continue
        }
        const stored = seqOf(r.json?.sourceId, w)
        if (stored < acked[w]!) violations.push(`round ${k}: writer ${w} lost acknowledged write ${acked[w]} (stored ${stored})`)
        if (stored > sent[w]!) violations.push(`round ${k}: writer ${w} holds ${stored}, never sent (last sent ${sent[w]})`)
        // The next round starts from what is stored: a cut write that landed counts as sent.
        acked[w] = stored
      }
      check.destroy()
      log(`crash ${options.store}: round ${k + 1}/${options.kills}: ${acknowledged} acknowledged so far, restart ${Math.round(server.readyMs)} ms, ${violations.length} violations`)
    }
  } finally {
    await server.kill("SIGTERM")
    await schema?.drop()
  }
  return { store: options.store, kills: options.kills, acknowledged, cut, violations, integrity, restartMs }
}

/** The bench's full-size run on SQLite and PostgreSQL. */
export const bench = async (options: { kills: number; databaseUrl: string | undefined }) => {
  const results: Array<CrashResult> = []
  results.push(await crashLoop({ store: "sqlite", kills: options.kills, log: console.log }))
  if (options.databaseUrl === undefined) console.log("crash: DATABASE_URL is unset; the PostgreSQL crash loop is skipped")
  else results.push(await crashLoop({ store: "postgres", kills: options.kills, databaseUrl: options.databaseUrl, log: console.log }))
  table("crash safety (SIGKILL under PATCH load)", ["store", "kills", "acknowledged", "cut by kill", "violations", "integrity failures", "worst restart ms"], results.map((r) => [
    r.store,
    r.kills,
    r.acknowledged,
    r.cut,
    r.violations.length,
    r.integrity.length,
    Math.max(...r.restartMs)
  ]))
  for (const r of results) {
    for (const v of [...r.violations, ...r.integrity].slice(0, 10)) console.log(`  ${r.store}: ${v}`)
    verdict(`crash safety on ${r.store}: ${r.kills} SIGKILLs, every acknowledged write present, integrity ok`, `${r.acknowledged} acknowledged, ${r.violations.length} violations, ${r.integrity.length} integrity failures`, r.violations.length === 0 && r.integrity.length === 0)
  }
  if (options.databaseUrl === undefined) verdict("crash safety on postgres", "skipped: DATABASE_URL unset", "n/a")
  record("crash", results)
}
