/**
 * Before and after, a development aid with no verdict: this tree's server
 * against another checkout's (`BENCH_BASE`: its root, installed; e.g.
 * `git worktree add ../base HEAD~1 && (cd ../base && pnpm install)`), both
 * running, loaded in turn on the seed path (see Load.alternate): PATCH, and GET
 * with answers not kept (so it runs the handler path). The median of the
 * per-round ratios this / base is what a change bought; the rounds show the
 * host's noise, and a median inside them is no finding. Beside it, the same
 * rounds' server CPU time per request, base over this (see Load.capacity).
 *
 * @since 0.2.1
 */
import { existsSync } from "node:fs"
import { join, resolve } from "node:path"
import * as Api from "./Api.ts"
import * as Load from "./Load.ts"
import { startServer } from "./Proc.ts"
import { patchBody } from "./Speed.ts"
import { fmt, record, table } from "./Report.ts"

export interface CompareOptions {
  /** The other checkout's root; the section is skipped, with a line, without it. */
  readonly base: string | undefined
  readonly rounds: number
}

export const run = async (options: CompareOptions) => {
  if (options.base === undefined || options.base === "") {
    console.log("compare: skipped (set BENCH_BASE to another checkout's root, installed, to compare its server with this one)")
    return
  }
  const baseMain = join(resolve(options.base), "apps/server/bin/server.js")
  if (!existsSync(baseMain)) throw new Error(`compare: ${baseMain} does not exist (BENCH_BASE=${options.base})`)
  const env = { RESPONSE_CACHE_BYTES: "0" }
  const base = await startServer({ store: "sqlite", main: baseMain, env })
  const ours = await startServer({ store: "sqlite", env })
  try {
    const [b, o] = [await Api.seed(base.url), await Api.seed(ours.url)]
    const side = (name: string, server: { readonly url: string; readonly pid: number }, seeded: Api.Seeded, method: "PATCH" | "GET") => ({
      name,
      url: server.url,
      pid: server.pid,
      connections: 50,
      requests: {
        method,
        path: seeded.pathOf("bench-0"),
        headers: { authorization: `Bearer ${seeded.token}` },
        ...(method === "PATCH" ? { body: patchBody } : {})
      }
    })
    const results = {
      patch: await Load.alternate(side("base PATCH", base, b, "PATCH"), side("this PATCH", ours, o, "PATCH"), options.rounds),
      get: await Load.alternate(side("base GET", base, b, "GET"), side("this GET", ours, o, "GET"), options.rounds)
    }
    table(`compare: this tree's server / ${options.base}'s, loaded in turn, 2 s each, ${options.rounds} rounds (answers not kept)`, [
      "request",
      "median this / base",
      "lowest",
      "highest",
      "CPU / req, base / this",
      "rounds (base / this req/s)"
    ], ([["PATCH, seed path", results.patch], ["GET, seed path", results.get]] as const).map(([what, a]) => {
      const cap = Load.capacity(a)
      return [
        what,
        fmt(a.median) + "x",
        fmt(a.min) + "x",
        fmt(a.max) + "x",
        cap === undefined ? "-" : Load.spreadText(cap, fmt),
        a.a.map((x, i) => `${Math.round(x.rps)}/${Math.round(a.b[i]!.rps)}`).join(" ")
      ]
    }))
    record("compare", {
      base: options.base,
      rounds: options.rounds,
      ...results,
      capacity: { patch: Load.capacity(results.patch), get: Load.capacity(results.get) }
    })
  } finally {
    await base.kill()
    await ours.kill()
  }
}
