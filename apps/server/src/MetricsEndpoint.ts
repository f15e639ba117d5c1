/**
 * The Prometheus endpoint, opt-in (`METRICS_PORT`): a plain-HTTP listener of its
 * own serving `GET /metrics` in the text exposition format 0.0.4, and nothing
 * else. It asks for no token, which is why it is never on the API's port: the
 * operator decides who reaches it by where it listens (`METRICS_HOST`,
 * `127.0.0.1` by default).
 *
 * What it serves, read at scrape time: the HTTP adapter's request counts and
 * durations per route ({@link Metrics}, rendered here), the SQLite group
 * commit's syncs and the checkpointer's checkpoints (`SqliteStore.stats` and
 * `SqliteStore.checkpointStats`, through prom-client `collect` callbacks)
 * and prom-client's default process metrics (CPU, memory, heap, event-loop lag,
 * open file descriptors, garbage collection), all in a registry of its own.
 * Two of those run between scrapes (an event-loop delay monitor and a GC
 * observer): {@link Endpoint.release} stops them, so a process that starts and
 * stops the server many times keeps none of them from its past servers.
 * This module and prom-client are loaded only when metrics are asked for (it
 * imports nothing else at run time but `node:perf_hooks`, so the bundle keeps
 * them in a chunk of their own).
 *
 * @since 0.1.0
 */
import type { Metrics } from "@enrollment/http-adapter"
import type * as SqliteCheckpoint from "@enrollment/store-adapter/SqliteCheckpoint"
import type * as SqliteStore from "@enrollment/store-adapter/SqliteStore"
import type * as http from "node:http"
import perfHooks from "node:perf_hooks"
import { collectDefaultMetrics, Counter, Registry } from "prom-client"

/** The only path served. */
export const path = "/metrics"

/** A label value in the text format: backslash, double quote and line feed escaped. */
const labelValue = (v: string) => v.replaceAll("\\", "\\\\").replaceAll("\"", "\\\"").replaceAll("\n", "\\n")

/** A sample's number as Prometheus reads it (`+Inf`, `-Inf`, `NaN` spelt its way). */
const number = (n: number) => (Number.isFinite(n) ? String(n) : Number.isNaN(n) ? "NaN" : n > 0 ? "+Inf" : "-Inf")

/**
 * The HTTP families from one reading of the recorder, so that a scrape's counter and
 * histogram agree: `http_server_requests_total{method,route,status}` and
 * `http_server_request_duration_seconds{method,route}`. Written here rather than through
 * prom-client's `Histogram`, whose buckets can only be filled by observing values.
 */
export const httpText = (recorder: Metrics.Recorder): string => {
  const series = recorder.series()
  const les = recorder.bounds.map((b) => labelValue(number(b)))
  const lines = [
    "# HELP http_server_requests_total Requests answered, by method, route template and status.",
    "# TYPE http_server_requests_total counter"
  ]
  for (const s of series) {
    const labels = `method="${labelValue(s.method)}",route="${labelValue(s.route)}"`
    for (const { count, status } of s.statuses) lines.push(`http_server_requests_total{${labels},status="${status}"} ${number(count)}`)
  }
  lines.push(
    "# HELP http_server_request_duration_seconds From a request's arrival to its answer's head being written, by method and route template.",
    "# TYPE http_server_request_duration_seconds histogram"
  )
  for (const s of series) {
    const labels = `method="${labelValue(s.method)}",route="${labelValue(s.route)}"`
    for (let i = 0; i < les.length; i++) lines.push(`http_server_request_duration_seconds_bucket{${labels},le="${les[i]}"} ${number(s.buckets[i]!)}`)
    lines.push(
      `http_server_request_duration_seconds_bucket{${labels},le="+Inf"} ${number(s.count)}`,
      `http_server_request_duration_seconds_sum{${labels}} ${number(s.sum)}`,
      `http_server_request_duration_seconds_count{${labels}} ${number(s.count)}`
    )
  }
  return `${lines.join("\n")}\n`
}

/** What the SQLite counters are read from: the group commit's (`SqliteStore.stats`) and the checkpointer's (`SqliteStore.checkpointStats`, absent with none). */
export type SqliteStats = SqliteStore.SyncStats & Partial<SqliteCheckpoint.CheckpointStats>

/** The SQLite group commit's and checkpointer's counters, each read when scraped. */
const sqliteCounters: ReadonlyArray<{ readonly name: string; readonly help: string; readonly read: (s: SqliteStats) => number }> = [
  { name: "enrollment_sqlite_syncs_total", help: "fdatasyncs of the SQLite WAL by the group commit (each makes a batch of writes durable), failed ones included.", read: (s) => s.syncs },
  { name: "enrollment_sqlite_synced_writes_total", help: "Writes acknowledged as durable by a successful WAL sync.", read: (s) => s.syncedWrites },
  { name: "enrollment_sqlite_sync_failures_total", help: "WAL syncs that failed (the store then refuses every operation until restarted).", read: (s) => s.failures },
  { name: "enrollment_sqlite_sync_seconds_total", help: "Seconds spent in WAL syncs.", read: (s) => s.seconds },
  { name: "enrollment_sqlite_checkpoints_total", help: "Checkpoints of the SQLite WAL run off the event loop by the checkpointer's worker.", read: (s) => s.checkpoints ?? 0 },
  { name: "enrollment_sqlite_checkpoint_seconds_total", help: "Seconds the checkpointer's worker spent in checkpoints.", read: (s) => s.checkpointSeconds ?? 0 },
  { name: "enrollment_sqlite_checkpoint_held_seconds_total", help: "Of those, seconds of the short checkpoints the writes waited for.", read: (s) => s.heldSeconds ?? 0 },
  { name: "enrollment_sqlite_checkpoint_failures_total", help: "Checkpointer failures (the store's connection then checkpoints on the event loop again, as SQLite does by default).", read: (s) => s.checkpointFailures ?? 0 }
]

/** What the endpoint reads when scraped. */
export interface Sources {
  /** The HTTP adapter's counts (`Server.HandlerOptions.metrics`). */
  readonly recorder: Metrics.Recorder
  /** The SQLite group commit's and checkpointer's counters of the store; undefined over another store. */
  readonly sqlite: (() => SqliteStats | undefined) | undefined
}

/** The `node:perf_hooks` functions prom-client's default metrics start their monitors with (its module object, as `require` gives it). */
const hooks = perfHooks as {
  monitorEventLoopDelay: typeof perfHooks.monitorEventLoopDelay
  PerformanceObserver: typeof perfHooks.PerformanceObserver
}

/** What prom-client reads of an event-loop delay histogram at a scrape, before it resets it. */
type DelayReading = Pick<perfHooks.ELDHistogram, "min" | "max" | "mean" | "stddev"> & { readonly percentiles: Map<number, number> }

/**
 * `h` as prom-client's event-loop lag metrics read it, without their values from an empty window
 * (since server 0.6.4, found in review): prom-client reads the histogram at each scrape and resets
 * it, so a scrape within the sampling interval of the one before (a HEAD then a GET, or two
 * Prometheus servers) read a histogram of no samples: a minimum of 9 223 372 036.85 s, a maximum
 * of 0, a mean and deviation of NaN. A window with no sample reads as the last window that had
 * one, and its reset is skipped, so it goes on collecting.
 */
const steadyDelays = (h: perfHooks.ELDHistogram): perfHooks.ELDHistogram => {
  let last: DelayReading | undefined
  const reading = (): DelayReading | undefined => h.count > 0 ? h : last
  return new Proxy(h, {
    get(target, key) {
      switch (key) {
        case "min":
        case "max":
        case "mean":
        case "stddev":
          return reading()?.[key] ?? 0
        case "percentile":
          return (p: number) => h.count > 0 ? h.percentile(p) : last?.percentiles.get(p) ?? 0
        case "reset":
          return () => {
            if (h.count === 0) return
            last = { min: h.min, max: h.max, mean: h.mean, stddev: h.stddev, percentiles: new Map([50, 90, 99].map((p) => [p, h.percentile(p)])) }
            h.reset()
          }
        default: {
          const v = Reflect.get(target, key, target)
          return typeof v === "function" ? v.bind(target) : v
        }
      }
    }
  })
}

/**
 * prom-client's default metrics, registered in `registry`, and the function that stops what
 * they leave running: `collectDefaultMetrics` enables an event-loop delay histogram
 * (`monitorEventLoopDelay`, sampled from a libuv timer) and a `PerformanceObserver` of GC
 * entries, and returns neither, so nothing could stop them; they outlive the registry and
 * pile up with every registry made. Their constructors are wrapped for the one synchronous
 * call (nothing else runs meanwhile), so what prom-client makes is kept; every other default
 * metric is read at scrape time and holds nothing. After the release the two metrics keep
 * their last values.
 */
const defaultMetrics = (registry: Registry): (() => void) => {
  const histograms: Array<perfHooks.ELDHistogram> = []
  const observers: Array<perfHooks.PerformanceObserver> = []
  const { monitorEventLoopDelay, PerformanceObserver } = hooks
  hooks.monitorEventLoopDelay = (options) => {
    const h = monitorEventLoopDelay(options)
    histograms.push(h)
    return steadyDelays(h)
  }
  hooks.PerformanceObserver = class extends PerformanceObserver {
    constructor(callback: perfHooks.PerformanceObserverCallback) {
      super(callback)
      observers.push(this)
    }
  }
  const release = () => {
    for (const h of histograms.splice(0)) h.disable()
    for (const o of observers.splice(0)) o.disconnect()
  }
  try {
    collectDefaultMetrics({ register: registry })
  } catch (e) {
    release()
    throw e
  } finally {
    hooks.monitorEventLoopDelay = monitorEventLoopDelay
    hooks.PerformanceObserver = PerformanceObserver
  }
  return release
}

/**
 * The registry of this endpoint (never prom-client's global one): the default process
 * metrics, and the SQLite counters over a SQLite store; with the function that stops the
 * default metrics' monitors (see {@link Endpoint.release}).
 */
export const registry = (sources: Sources): { readonly registry: Registry; readonly release: () => void } => {
  const registry = new Registry()
  const release = defaultMetrics(registry)
  const sqlite = sources.sqlite
  if (sqlite !== undefined) {
    for (const c of sqliteCounters) {
      new Counter({
        name: c.name,
        help: c.help,
        registers: [registry],
        collect() {
          const s = sqlite()
          this.reset()
          if (s !== undefined) this.inc(c.read(s))
        }
      })
    }
  }
  return { registry, release }
}

/** The exposition of a scrape: the registry's metrics, then the HTTP families. */
export const scrape = async (registry: Registry, recorder: Metrics.Recorder): Promise<string> =>
  `${await registry.metrics()}${httpText(recorder)}`

/** The listener's handler: `GET` (or `HEAD`) `/metrics`, 404 for any other path, 405 for another method. */
export const handler = (registry: Registry, recorder: Metrics.Recorder): http.RequestListener => (req, res) => {
  const url = req.url ?? "/"
  const q = url.indexOf("?")
  const text = (status: number, body: string, headers: Record<string, string> = {}) =>
    res.writeHead(status, { ...headers, "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(body) }).end(body)
  if ((q === -1 ? url : url.slice(0, q)) !== path) return text(404, `Not found: this listener serves ${path} only\n`)
  if (req.method !== "GET" && req.method !== "HEAD") return text(405, `Method not allowed: ${path} answers GET and HEAD\n`, { allow: "GET, HEAD" })
  scrape(registry, recorder).then(
    (body) => {
      res.writeHead(200, { "content-type": registry.contentType, "content-length": Buffer.byteLength(body) })
      res.end(req.method === "HEAD" ? undefined : body)
    },
    (e) => text(500, `The metrics could not be collected: ${e instanceof Error ? e.message : String(e)}\n`)
  )
}

/** The endpoint: its request listener, and what stops what it started. */
export interface Endpoint {
  /** Served with `Listen.listen`, which drains at a stop like the API's. */
  readonly listener: http.RequestListener
  /**
   * Stops the event-loop delay monitor and the GC observer that prom-client's default metrics
   * started (they would otherwise run, and be kept, until the process exits). Call it once the
   * listener is closed (a scrape after it reads the two metrics' last values); again, it does
   * nothing. `App`'s stop calls it.
   */
  readonly release: () => void
}

/** The endpoint over `sources`. */
export const make = (sources: Sources): Endpoint => {
  const { registry: r, release } = registry(sources)
  return { listener: handler(r, sources.recorder), release }
}
