/**
 * Request metrics: for each route of the table, how many requests were answered
 * with each status and how long they took, in a histogram of fixed buckets. The
 * listener records every answer once (`Server.HandlerOptions.metrics`); whoever
 * exposes the metrics reads them at scrape time ({@link Recorder.series}), in the
 * format it serves (the server app: Prometheus's text format). No metrics
 * library here: the recorder only counts.
 *
 * Recording one request is O(1) and allocates nothing once its series has seen
 * its status: a route of the table finds its series through the route object
 * (made at start, keyed by the object's identity), a status its counter through
 * one slot table indexed by the numeric status, a duration its bucket among the
 * fixed bounds; no label is built or hashed per request.
 *
 * Nothing a client sends becomes a label, so no client can grow the set of
 * series: a request that matched a route is labelled by the route's method (or
 * `HEAD` on a GET route) and its path template; one that matched none by one of
 * a few fixed names ({@link fixedRoutes}, else `unmatched`) and its method when
 * it is one of {@link methods}, else `_OTHER`.
 *
 * @since 0.5.0
 */

/** A route as the recorder keys it: an object of the route table, known by its identity. */
export interface RouteKey {
  readonly method: string
  readonly path: string
}

/** Upper bounds, in seconds, of the duration histogram's buckets (a last one, `+Inf`, follows). */
export const defaultBuckets: ReadonlyArray<number> = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/** The route label of a request that matched no route and is none of {@link fixedRoutes}. */
export const unmatched = "unmatched"

/**
 * The requests served outside the route table, by the name the listener gives them (its
 * request log's route) and their route label. Any other name is {@link unmatched}.
 */
export const fixedRoutes: ReadonlyArray<{ readonly name: string; readonly route: string }> = [
  { name: "/health", route: "/health" },
  { name: "/ready", route: "/ready" },
  { name: "/docs", route: "/docs" },
  { name: "/beta/openapi.json", route: "/beta/openapi.json" },
  { name: "POST /beta/$batch", route: "/beta/$batch" },
  { name: unmatched, route: unmatched }
]

/** The method labels of requests outside the route table; any other method is `_OTHER`. */
export const methods: ReadonlyArray<string> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

/** The method label of a method that is none of {@link methods} (OpenTelemetry's name for it). */
export const otherMethod = "_OTHER"

/** One series as read at scrape time: a method and route, its requests by status, and its histogram. */
export interface Series {
  readonly method: string
  readonly route: string
  /** The statuses answered at least once, ascending, each with its number of requests. */
  readonly statuses: ReadonlyArray<{ readonly status: number; readonly count: number }>
  /** Cumulative: `buckets[i]` counts the requests that took at most `bounds[i]` seconds. */
  readonly buckets: ReadonlyArray<number>
  /** Every request of the series (the `+Inf` bucket). */
  readonly count: number
  /** Seconds, summed over the requests. */
  readonly sum: number
}

/** Counts requests per route and status, and their durations. */
export interface Recorder {
  /** The histogram's bucket bounds, in seconds, ascending. */
  readonly bounds: ReadonlyArray<number>
  /**
   * Records one answered request: `route` the route it matched (undefined for none: `name`
   * then says which of {@link fixedRoutes} it was), `method` the request's, `status` the
   * answer's, `seconds` from its arrival to its answer's head being written.
   */
  readonly record: (route: RouteKey | undefined, name: string, method: string, status: number, seconds: number) => void
  /** The series that have recorded at least one request: the table's routes in order, then the fixed ones. */
  readonly series: () => ReadonlyArray<Series>
}

/** Statuses are counted in slots; a series' counters grow past this many statuses seen. */
const initialSlots = 16

/** A series' counters. */
class Tally {
  /** Requests by status slot (see `slotOf`). */
  counts = new Float64Array(initialSlots)
  /** Requests by bucket (not cumulative), the `+Inf` bucket, then the sum of seconds. */
  readonly histogram: Float64Array
  readonly method: string
  readonly route: string
  constructor(method: string, route: string, buckets: number) {
    this.method = method
    this.route = route
    this.histogram = new Float64Array(buckets + 2)
  }
}

/** A route's series: its method's, and for a GET route its HEAD's. */
interface RouteTallies {
  readonly main: Tally
  readonly head: Tally | undefined
}

const fixedIndex = (name: string): number => {
  for (let i = 0; i < fixedRoutes.length - 1; i++) if (fixedRoutes[i]!.name === name) return i
  return fixedRoutes.length - 1
}

const methodIndex = (method: string): number => {
  for (let i = 0; i < methods.length; i++) if (methods[i] === method) return i
  return methods.length
}

/**
 * A recorder for `routes` (the route table, known at start). A route it was not made with
 * gets its series when first recorded (once; still a route, never a client's text).
 */
export const make = (routes: Iterable<RouteKey>, options: { readonly buckets?: ReadonlyArray<number> | undefined } = {}): Recorder => {
  const bounds = [...(options.buckets ?? defaultBuckets)]
  for (let i = 0; i < bounds.length; i++) {
    if (!(bounds[i]! > 0) || !Number.isFinite(bounds[i]!) || (i > 0 && bounds[i]! <= bounds[i - 1]!)) {
      throw new RangeError(`Metrics.make: bucket bounds must be finite, positive and ascending; got ${bounds.join(", ")}`)
    }
  }
  const upper = Float64Array.from(bounds)
  const n = upper.length
  /** The slot of each status (100–999; -1: not seen yet), and the status of each slot. */
  const slotOf = new Int16Array(1000).fill(-1)
  const statusOf: Array<number> = []

  const byRoute = new Map<RouteKey, RouteTallies>()
  const ordered: Array<Tally> = []
  const add = (route: RouteKey): RouteTallies => {
    const label = `/beta${route.path}`
    const tallies = { main: new Tally(route.method, label, n), head: route.method === "GET" ? new Tally("HEAD", label, n) : undefined }
    byRoute.set(route, tallies)
    ordered.push(tallies.main)
    if (tallies.head !== undefined) ordered.push(tallies.head)
    return tallies
  }
  for (const route of routes) if (!byRoute.has(route)) add(route)
  // Outside the table: each fixed name by each method label, `_OTHER` last.
  const methodLabels = [...methods, otherMethod]
  const fixed: Array<Tally> = []
  for (const f of fixedRoutes) for (const m of methodLabels) fixed.push(new Tally(m, f.route, n))

  const record = (route: RouteKey | undefined, name: string, method: string, status: number, seconds: number): void => {
    let tally: Tally
    if (route !== undefined) {
      const tallies = byRoute.get(route) ?? add(route)
      tally = method === "HEAD" && tallies.head !== undefined ? tallies.head : tallies.main
    } else {
      tally = fixed[fixedIndex(name) * methodLabels.length + methodIndex(method)]!
    }
    // Node answers only statuses 100–999; anything else would be counted as 0.
    const code = status >= 100 && status <= 999 ? status : 0
    let slot = slotOf[code]!
    if (slot < 0) {
      slot = statusOf.push(code) - 1
      slotOf[code] = slot
    }
    let counts = tally.counts
    if (slot >= counts.length) {
      // The first time this series meets a status past its slots: once per series and status.
      const grown = new Float64Array(Math.max(counts.length * 2, slot + 1))
      grown.set(counts)
      tally.counts = counts = grown
    }
    counts[slot]! += 1
    const h = tally.histogram
    let i = 0
    while (i < n && seconds > upper[i]!) i++
    h[i]! += 1
    h[n + 1]! += seconds
  }

  const seriesOf = (t: Tally): Series | undefined => {
    const h = t.histogram
    const buckets: Array<number> = []
    let count = 0
    for (let i = 0; i < n; i++) {
      count += h[i]!
      buckets.push(count)
    }
    count += h[n]!
    if (count === 0) return undefined
    const statuses: Array<{ status: number; count: number }> = []
    for (let slot = 0; slot < t.counts.length; slot++) {
      const c = t.counts[slot]!
      if (c > 0) statuses.push({ status: statusOf[slot]!, count: c })
    }
    statuses.sort((a, b) => a.status - b.status)
    return { method: t.method, route: t.route, statuses, buckets, count, sum: h[n + 1]! }
  }

  return {
    bounds,
    record,
    series: () => {
      const out: Array<Series> = []
      for (const t of ordered) {
        const s = seriesOf(t)
        if (s !== undefined) out.push(s)
      }
      for (const t of fixed) {
        const s = seriesOf(t)
        if (s !== undefined) out.push(s)
      }
      return out
    }
  }
}
