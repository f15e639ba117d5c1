/**
 * What the metrics endpoint starts is stopped with the server: prom-client's
 * default metrics run an event-loop delay monitor (`monitorEventLoopDelay`) and a
 * GC `PerformanceObserver` between scrapes, and a process that starts and stops
 * the server many times (an embedder, a test suite) must not keep one of each
 * per server it ever ran. Neither shows in `process.getActiveResourcesInfo()`
 * (the monitor's timer is unreferenced, an observer is no handle), so the test
 * watches the two `node:perf_hooks` constructors prom-client calls, and then
 * asks each monitor and observer whether it still runs: a monitor that still
 * runs records samples as the event loop turns, an observer that is still
 * connected is called for a garbage collection.
 */
import { Effect } from "effect"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import perfHooks from "node:perf_hooks"
import * as v8 from "node:v8"
import * as vm from "node:vm"
import { assert, describe, it } from "vitest"
import { App, ServerConfig } from "../src/index.ts"

const config = (env: Record<string, string>) => Effect.runPromise(ServerConfig.load(env))
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "server-metrics-release-"))
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

v8.setFlagsFromString("--expose-gc")
/** A full garbage collection now (the `gc` that `--expose-gc` makes, taken from a new context). */
const gc = vm.runInNewContext("gc") as () => void

const hooks = perfHooks as {
  monitorEventLoopDelay: typeof perfHooks.monitorEventLoopDelay
  PerformanceObserver: typeof perfHooks.PerformanceObserver
}

/**
 * Every event-loop delay monitor and performance observer made through `node:perf_hooks`
 * (as prom-client makes them: `require("perf_hooks").monitorEventLoopDelay(…)`, `new
 * require("perf_hooks").PerformanceObserver(…)`) until `restore`, and `running()`: how many
 * of them still run.
 */
const watchPerfHooks = () => {
  const monitors: Array<perfHooks.ELDHistogram> = []
  const observers: Array<{ calls: number }> = []
  const { monitorEventLoopDelay, PerformanceObserver } = hooks
  hooks.monitorEventLoopDelay = (options) => {
    const h = monitorEventLoopDelay(options)
    monitors.push(h)
    return h
  }
  hooks.PerformanceObserver = class extends PerformanceObserver {
    constructor(callback: perfHooks.PerformanceObserverCallback) {
      const seen = { calls: 0 }
      super((list, observer) => {
        seen.calls++
        callback(list, observer)
      })
      observers.push(seen)
    }
  }
  // A GC observer of the test's own: proof that the collection `running` makes is reported.
  let collections = 0
  const control = new PerformanceObserver(() => collections++)
  control.observe({ entryTypes: ["gc"] })
  return {
    monitors,
    observers,
    /** The monitors that record samples over 100 ms, and the observers a full collection reaches. */
    running: async (): Promise<{ readonly monitors: number; readonly observers: number }> => {
      const counts = monitors.map((h) => h.count)
      for (const o of observers) o.calls = 0
      await sleep(100) // a running monitor samples every 10 ms (prom-client's resolution)
      const before = collections
      gc()
      // GC entries reach every observer in one pass from the event loop: once the test's own
      // has been called, every other connected observer has been too.
      for (let waited = 0; collections === before; waited += 10) {
        if (waited > 5_000) assert.fail("the collection was never reported to the test's own observer")
        await sleep(10)
      }
      return {
        monitors: monitors.filter((h, i) => h.count > counts[i]!).length,
        observers: observers.filter((o) => o.calls > 0).length
      }
    },
    restore: () => {
      hooks.monitorEventLoopDelay = monitorEventLoopDelay
      hooks.PerformanceObserver = PerformanceObserver
      control.disconnect()
    }
  }
}

describe("the metrics endpoint's monitors", () => {
  it("runs one event-loop monitor and one GC observer while the server runs, and none once it stopped, over many starts in one process", async () => {
    const starts = 5
    const watched = watchPerfHooks()
    try {
      for (let i = 0; i < starts; i++) {
        const app = await App.start(await config({ PORT: "0", METRICS_PORT: "0", STORE: "memory", DATA_DIR: tmp(), LOG_LEVEL: "none" }))
        try {
          // Running, and read by a scrape: the event loop's delay percentiles and the GC histogram.
          const scrape = await fetch(app.metricsUrl!)
          assert.strictEqual(scrape.status, 200)
          const text = await scrape.text()
          assert.match(text, /^nodejs_eventloop_lag_p99_seconds \d/m)
          assert.include(text, "# TYPE nodejs_gc_duration_seconds histogram")
          // This server's, and none left by the servers before it.
          assert.deepStrictEqual(await watched.running(), { monitors: 1, observers: 1 }, `server ${i + 1} of ${starts}`)
        } finally {
          await app.stop()
        }
      }
      // prom-client made one of each per start, through the functions watched.
      assert.strictEqual(watched.monitors.length, starts)
      assert.strictEqual(watched.observers.length, starts)
      assert.deepStrictEqual(await watched.running(), { monitors: 0, observers: 0 }, "after the last stop")
    } finally {
      watched.restore()
    }
  }, 30_000)

  it("reads the event loop's delays of the last window with samples on a scrape right after another (no empty window's values)", async () => {
    const app = await App.start(await config({ PORT: "0", METRICS_PORT: "0", STORE: "memory", DATA_DIR: tmp(), LOG_LEVEL: "none" }))
    try {
      const lag = async () => {
        const text = await (await fetch(app.metricsUrl!)).text()
        const value = (name: string) => {
          const m = new RegExp(`^nodejs_eventloop_lag_${name}_seconds (\\S+)$`, "m").exec(text)
          assert.ok(m !== null, name)
          return Number(m[1])
        }
        return { min: value("min"), max: value("max"), mean: value("mean"), stddev: value("stddev"), p99: value("p99") }
      }
      // A window with samples (the monitor samples every 10 ms), then scrapes with none between them.
      await new Promise((r) => setTimeout(r, 200))
      const first = await lag()
      for (let i = 0; i < 5; i++) {
        const next = await lag()
        for (const [k, v] of Object.entries(next)) assert.isTrue(Number.isFinite(v) && v >= 0 && v < 60, `${k} ${v} on scrape ${i + 2}`)
        assert.isAtMost(next.min, next.max)
      }
      assert.isAtMost(first.min, first.max)
    } finally {
      await app.stop()
    }
  })

  it("stops them when the metrics listener cannot start", async () => {
    const watched = watchPerfHooks()
    const taken = net.createServer()
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve))
    try {
      const port = (taken.address() as net.AddressInfo).port
      const failed = await App.start(await config({ PORT: "0", METRICS_PORT: String(port), STORE: "memory", DATA_DIR: tmp(), LOG_LEVEL: "none" })).then(
        async (app) => {
          await app.stop()
          return false
        },
        () => true
      )
      assert.isTrue(failed, "the start failed: its metrics port was taken")
      assert.strictEqual(watched.monitors.length, 1)
      assert.deepStrictEqual(await watched.running(), { monitors: 0, observers: 0 })
    } finally {
      taken.close()
      watched.restore()
    }
  }, 30_000)
})
