#!/usr/bin/env node
// A reproduction for Node.js, with no dependencies: after one memory-reducing full
// garbage collection, or a heap snapshot, `process.nextTick` stays several times
// slower for the rest of the process.
//
//   node bench/repro/nexttick-after-reducing-gc.mjs              # 3 processes per case
//   RUNS=5 CASES=control,reduce node bench/repro/nexttick-after-reducing-gc.mjs
//   node --no-lazy-feedback-allocation bench/repro/nexttick-after-reducing-gc.mjs   # flags pass on
//
// Each case runs in a fresh process (this file with the case's name): it times chains
// of 2 000 000 `process.nextTick` calls (the median of 5 chains, ns a call), does the
// case's act, and times them again twice ("after", and "later" to show the state stays).
// The cases:
//
// - control: nothing between the timings;
// - timer: a 100 ms `setTimeout` (every server has timers);
// - reduce: `HeapProfiler.collectGarbage` through `node:inspector`, which V8 runs as a
//   low-memory notification: two `Mark-Compact (reduce)` collections (`--trace-gc`),
//   the kind V8's memory reducer runs when a process goes quiet after a burst (how a
//   server meets it; `--no-memory-reducer` keeps that one away);
// - snapshot: `v8.writeHeapSnapshot()`.
//
// Seen with Node 24.21.0 (V8 13.6.233.17-node.53) on x86-64 Linux, pinned to one core,
// 2026-11-29 (a 2 vCPU guest): later/before control 0.91-1.00x, timer 2.1-3.2x, reduce
// 4.8-12.6x, snapshot 8.0-12.3x; the slow state stays. With `--no-lazy-feedback-allocation`
// every case is slow from the start (870-1 040 ns a call, 0.98-1.03x): the slow path is the
// one taken without the function's feedback. Not changed by `--retain-maps-for-n-gc=100`,
// `--no-flush-bytecode` or `--no-async-context-frame`. In a `node:http` server the state
// costs about 2.5 us of CPU a request (a bare server 11.2 -> 13.4-13.9 us a PATCH); a CPU
// profile shows `nextTick` at 14 % of the samples instead of 2 %, and `perf` shows V8's
// `Runtime_DefineKeyedOwnPropertyInLiteral` and `MigrateToMap` under it: the tick object's
// literal (computed symbol keys) built through the runtime on every call.
import { spawnSync } from "node:child_process"
import { rmSync } from "node:fs"
import { Session } from "node:inspector/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import * as v8 from "node:v8"

const CHAIN = 2_000_000

/** ns a `process.nextTick` call, over one chain of `CHAIN` calls. */
const chain = () =>
  new Promise((done) => {
    let left = CHAIN
    const t0 = process.hrtime.bigint()
    const step = () => {
      if (--left === 0) done(Number(process.hrtime.bigint() - t0) / CHAIN)
      else process.nextTick(step)
    }
    process.nextTick(step)
  })

const median5 = async () => {
  const r = []
  for (let i = 0; i < 5; i++) r.push(await chain())
  return r.sort((a, b) => a - b)[2]
}

const acts = {
  control: async () => {},
  timer: () => new Promise((r) => setTimeout(r, 100)),
  reduce: async () => {
    const session = new Session()
    session.connect()
    await session.post("HeapProfiler.collectGarbage")
    session.disconnect()
  },
  snapshot: async () => rmSync(v8.writeHeapSnapshot(join(tmpdir(), `nexttick-repro-${process.pid}.heapsnapshot`)))
}

const one = async (name) => {
  await median5() // warm-up
  const before = await median5()
  await acts[name]()
  const after = await median5()
  const later = await median5()
  process.stdout.write(JSON.stringify({ before, after, later }))
}

const main = () => {
  const runs = Number(process.env.RUNS ?? 3)
  const self = fileURLToPath(import.meta.url)
  console.log(`node ${process.version} (V8 ${process.versions.v8}), ${process.platform}-${process.arch}; ns a process.nextTick call, median of 5 chains of ${CHAIN}`)
  const cases = process.env.CASES?.split(",") ?? Object.keys(acts)
  for (const name of cases) {
    for (let i = 0; i < runs; i++) {
      const out = spawnSync(process.execPath, [...process.execArgv, self, name], { encoding: "utf8" })
      if (out.status !== 0) throw new Error(`${name} failed: ${out.stderr}`)
      const { before, after, later } = JSON.parse(out.stdout)
      console.log(
        `${name.padEnd(8)} before ${before.toFixed(1).padStart(7)}  after ${after.toFixed(1).padStart(7)}  later ${later.toFixed(1).padStart(7)}  later/before ${(later / before).toFixed(2)}x`
      )
    }
  }
}

const name = process.argv[2]
if (name === undefined) main()
else if (name in acts) await one(name)
else throw new Error(`unknown case ${name}: one of ${Object.keys(acts).join(", ")}`)
