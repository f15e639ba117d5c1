/**
 * Soak (ISSUE 6, bench only): mixed load (PATCH, GET, list) at 50 connections
 * for `SOAK_SECONDS` (default 600), in windows; after a warm-up (the first
 * fifth) RSS may grow less than 10 %, open fds may not grow, and no answer may
 * be an error.
 *
 * @since 0.1.0
 */
import * as Api from "./Api.ts"
import * as Load from "./Load.ts"
import { fdCount, rss, startServer } from "./Proc.ts"
import { fmt, mib, record, table, verdict } from "./Report.ts"
import { patchBody } from "./Speed.ts"

export const run = async (options: { seconds: number; connections?: number }) => {
  const server = await startServer({ store: "sqlite" })
  const windows = Math.max(5, Math.min(60, Math.round(options.seconds / 10)))
  const each = Math.max(1, options.seconds / windows)
  const samples: Array<{ window: number; rps: number; rss: number; fds: number; bad: number }> = []
  try {
    const seeded = await Api.seed(server.url, { assignments: 4 })
    const headers = { authorization: `Bearer ${seeded.token}` }
    const requests: Array<Load.RequestSpec> = [
      { method: "PATCH", path: seeded.pathOf("bench-0"), headers, body: patchBody },
      { method: "GET", path: seeded.pathOf("bench-1"), headers },
      { method: "PATCH", path: seeded.pathOf("bench-2"), headers, body: patchBody },
      { method: "GET", path: `${seeded.assignmentsPath}?$top=10`, headers },
      { method: "GET", path: seeded.pathOf("bench-3"), headers }
    ]
    // One run on the same 50 connections; RSS and fds sampled at the end of each window.
    let w = 0
    const timer = setInterval(() => {
      samples.push({ window: w++, rps: 0, rss: rss(server.pid), fds: fdCount(server.pid), bad: 0 })
    }, each * 1000)
    const r = await Load.run({ name: "soak", url: server.url, connections: options.connections ?? 50, seconds: Math.round(options.seconds), warmupSeconds: 0, requests, pid: server.pid })
    clearInterval(timer)
    samples.push({ window: w++, rps: r.rps, rss: rss(server.pid), fds: fdCount(server.pid), bad: r.non2xx + r.errors })
  } finally {
    await server.kill()
  }
  const warm = samples[Math.max(0, Math.floor(windows / 5) - 1)]!
  const last = samples[samples.length - 1]!
  const maxAfter = Math.max(...samples.slice(Math.floor(windows / 5)).map((s) => s.rss))
  const growth = maxAfter / warm.rss - 1
  const fdGrowth = Math.max(...samples.slice(Math.floor(windows / 5)).map((s) => s.fds)) - warm.fds
  const bad = samples.reduce((n, s) => n + s.bad, 0)
  console.log(`soak: ${fmt(samples[samples.length - 1]!.rps)} req/s mean over the run`)
  table(`soak: ${fmt(options.seconds)} s of mixed load in ${windows} windows`, ["window", "RSS MiB", "fds"], samples.map((s) => [s.window, mib(s.rss), s.fds]))
  record("soak", { seconds: options.seconds, samples })
  verdict(`soak ${fmt(options.seconds)} s: RSS growth after warm-up < 10%`, `${fmt(mib(warm.rss))} -> peak ${fmt(mib(maxAfter))} MiB (${fmt(growth * 100)}%), last ${fmt(mib(last.rss))} MiB`, growth < 0.1)
  verdict(`soak ${fmt(options.seconds)} s: no fd growth`, `${warm.fds} -> max ${warm.fds + fdGrowth}`, fdGrowth <= 0)
  verdict(`soak ${fmt(options.seconds)} s: no error answers`, `${bad} non-2xx or errors`, bad === 0)
}
