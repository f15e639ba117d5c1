/**
 * The load generator: autocannon's programmatic API, run for each load in a new
 * process of its own (`LoadWorker.ts`; it inherits this process's core, which
 * `main.ts` pins to the other one), with a warm-up, bodies that change from
 * request to request (made before the load), and the server's RSS, open fds and
 * CPU time sampled here while the measured part runs.
 *
 * @since 0.1.0
 */
import { fork } from "node:child_process"
import { readFileSync } from "node:fs"
import type { Job, Measured, Message } from "./LoadWorker.ts"
import { cpuTime, fdCount, rss } from "./Proc.ts"

/** What one load run measured: the generator's figures ({@link Measured}) and the server's. */
export interface LoadResult extends Measured {
  readonly name: string
  /** The server's peak and mean RSS in bytes while the load ran (0 when no pid was given). */
  readonly rssPeak: number
  readonly rssMean: number
  readonly fdsAfter: number
  /**
   * The share of the server core's time that was not idle while the load ran
   * (0–1; undefined without `/proc/stat`). Well under 1 means the server waited
   * for its clients: the load generator, not the server, set the rate.
   */
  readonly serverCoreBusy: number | undefined
  /**
   * The server process's CPU time per answered request while the load ran, user and
   * system, in microseconds (undefined without a `pid` or `/proc`). What a request costs
   * the server whatever the rate: comparable across runs where req/s is not.
   */
  readonly serverCpuPerRequest: { readonly userUs: number; readonly systemUs: number } | undefined
}

/** One request shape. */
export interface RequestSpec {
  readonly method: "GET" | "PATCH" | "POST" | "DELETE"
  readonly path: string
  readonly headers?: Readonly<Record<string, string>>
  /** A fixed body, or bodies that change from request to request: `n` numbers them (see {@link bodiesPerConnection}). */
  readonly body?: string | ((n: number) => string)
}

/** How to load. */
export interface LoadOptions {
  readonly name: string
  readonly url: string
  readonly connections: number
  readonly seconds: number
  /** Seconds of load before the measured run (not counted); default 2. */
  readonly warmupSeconds?: number
  /** One shape, or several taken in turn by each connection. */
  readonly requests: RequestSpec | ReadonlyArray<RequestSpec>
  /** The server process, to sample RSS and fds. */
  readonly pid?: number | undefined
  /** Requests in flight per connection (default 1). */
  readonly pipelining?: number
  /** The core the server is pinned to, whose busy share is measured (default 0, as `Proc` pins). */
  readonly serverCore?: number
}

/** The idle and total jiffies of one core so far, from `/proc/stat` (undefined where there is none). */
const coreTimes = (core: number): { idle: number; total: number } | undefined => {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n").find((l) => l.startsWith(`cpu${core} `))
    if (line === undefined) return undefined
    const f = line.trim().split(/\s+/).slice(1).map(Number)
    // user nice system idle iowait irq softirq steal: idle and iowait are time the core had nothing to run.
    return { idle: f[3]! + f[4]!, total: f.slice(0, 8).reduce((a, b) => a + b, 0) }
  } catch {
    return undefined
  }
}

/** The busy share of a core between two readings. */
const busyBetween = (a: ReturnType<typeof coreTimes>, b: ReturnType<typeof coreTimes>): number | undefined =>
  a === undefined || b === undefined || b.total === a.total ? undefined : 1 - (b.idle - a.idle) / (b.total - a.total)

/**
 * Bodies made per request are made before the load, not while it runs: each connection gets
 * its own {@link bodiesPerConnection} requests of every shape with a function body, numbered
 * apart from every other connection's (`n` = connection × bodies + turn, in shape order), and
 * sends them in turn. autocannon builds a request once, unless it has a `setupRequest` hook:
 * then it builds it again before every send, which cost the generator about 35 µs a request
 * on the 2026-11-29 host and halved the rate it could load the bare server with (12 k against
 * 20 k req/s). Two PATCHes in a row on one entity never carry the same body (they come from two
 * connections, or from one connection's consecutive turns), so each one changes it.
 */
export const bodiesPerConnection = 64

const shape = (s: RequestSpec, body: string | undefined): Record<string, unknown> => ({
  method: s.method,
  path: s.path,
  headers: { ...(s.body !== undefined ? { "content-type": "application/json" } : {}), ...s.headers },
  ...(body !== undefined ? { body } : {})
})

/** The requests each connection sends in turn: `connection` numbers the connection from 0. */
export const requestsOf = (specs: ReadonlyArray<RequestSpec>, connection: number): Array<Record<string, unknown>> => {
  if (!specs.some((s) => typeof s.body === "function")) return specs.map((s) => shape(s, s.body as string | undefined))
  const out: Array<Record<string, unknown>> = []
  let n = connection * bodiesPerConnection * specs.length
  for (let turn = 0; turn < bodiesPerConnection; turn++) {
    for (const s of specs) out.push(shape(s, typeof s.body === "function" ? s.body(n++) : s.body))
  }
  return out
}

const worker = new URL("./LoadWorker.ts", import.meta.url)

/**
 * Runs the warm-up and the measured load in a new generator process, calling
 * `measuring` as the measured part begins; resolves with what it measured.
 */
const generate = (job: Job, measuring: () => void) =>
  new Promise<Measured>((resolve, reject) => {
    const child = fork(worker, [], { execArgv: [], stdio: ["ignore", "inherit", "inherit", "ipc"] })
    child.on("message", (m: Message) => (m.phase === "measuring" ? measuring() : resolve(m.measured)))
    child.once("error", reject)
    // After its report this settles nothing (a promise settles once); before it, the run failed.
    child.once("exit", (code, signal) => reject(new Error(`the load generator exited (${signal ?? code}) before it reported`)))
    child.send(job)
  })

/** Runs a warm-up and then the measured load. */
export const run = async (options: LoadOptions): Promise<LoadResult> => {
  const specs = Array.isArray(options.requests) ? options.requests : [options.requests as RequestSpec]
  const pipelining = options.pipelining ?? 1
  const varying = specs.some((s) => typeof s.body === "function")
  // autocannon takes no per-connection requests with pipelining (nothing here pipelines such bodies).
  if (varying && pipelining > 1) throw new Error("bodies made per request need pipelining 1")
  let peak = 0
  let sum = 0
  let samples = 0
  const sample = () => {
    if (options.pid === undefined) return
    const r = rss(options.pid)
    if (r > peak) peak = r
    sum += r
    samples++
  }
  let timer: ReturnType<typeof setInterval> | undefined
  let before: ReturnType<typeof coreTimes>
  let cpuBefore: ReturnType<typeof cpuTime>
  const r = await generate({
    url: options.url,
    connections: options.connections,
    pipelining,
    warmupSeconds: options.warmupSeconds ?? 2,
    seconds: options.seconds,
    perConnection: varying
      ? Array.from({ length: options.connections }, (_, i) => requestsOf(specs, i))
      : [requestsOf(specs, 0)]
  }, () => {
    timer = setInterval(sample, 200)
    before = coreTimes(options.serverCore ?? 0)
    cpuBefore = options.pid === undefined ? undefined : cpuTime(options.pid)
  })
  const cpuAfter = options.pid === undefined ? undefined : cpuTime(options.pid)
  const after = coreTimes(options.serverCore ?? 0)
  clearInterval(timer)
  sample()
  return {
    name: options.name,
    ...r,
    rssPeak: peak,
    rssMean: samples === 0 ? 0 : sum / samples,
    fdsAfter: options.pid === undefined ? -1 : fdCount(options.pid),
    serverCoreBusy: busyBetween(before, after),
    serverCpuPerRequest: cpuBefore === undefined || cpuAfter === undefined || r.total === 0
      ? undefined
      : {
        userUs: (cpuAfter.userUs - cpuBefore.userUs) / r.total,
        systemUs: (cpuAfter.systemUs - cpuBefore.systemUs) / r.total
      }
  }
}

/** What {@link alternate} measured. */
export interface Alternation extends Spread {
  /** The runs of each side, round by round. */
  readonly a: ReadonlyArray<LoadResult>
  readonly b: ReadonlyArray<LoadResult>
  /** `b.rps / a.rps` of each round. */
  readonly ratios: ReadonlyArray<number>
}

const median = (xs: ReadonlyArray<number>) => {
  const sorted = [...xs].sort((x, y) => x - y)
  const m = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[m]! : (sorted[m - 1]! + sorted[m]!) / 2
}

/** The median and range of per-round ratios. */
export interface Spread {
  readonly ratios: ReadonlyArray<number>
  readonly median: number
  readonly min: number
  readonly max: number
}

/** A spread as the tables print it: `0.48x (0.35-0.61x)`. */
export const spreadText = (s: Spread, digits: (n: number) => string): string => `${digits(s.median)}x (${digits(s.min)}-${digits(s.max)}x)`

const spread = (ratios: ReadonlyArray<number>): Spread => ({
  ratios,
  median: median(ratios),
  min: Math.min(...ratios),
  max: Math.max(...ratios)
})

/** A run's server CPU time per request, user + system µs (undefined when it was not read). */
export const cpuPerRequest = (r: LoadResult): number | undefined =>
  r.serverCpuPerRequest === undefined ? undefined : r.serverCpuPerRequest.userUs + r.serverCpuPerRequest.systemUs

/**
 * `b`'s capacity against `a`'s, round by round: `a`'s server CPU time per request over
 * `b`'s. On one core a CPU-bound server answers at most one request per its CPU time per
 * request, so this is the throughput ratio the two servers would show if each were driven
 * to its own limit, whichever of them the load generator held back. Undefined when a
 * round's CPU time was not read (no `pid`, no `/proc`).
 */
export const capacity = (alt: Alternation): Spread | undefined => {
  const ratios: Array<number> = []
  for (let i = 0; i < alt.a.length; i++) {
    const a = cpuPerRequest(alt.a[i]!)
    const b = cpuPerRequest(alt.b[i]!)
    if (a === undefined || b === undefined || b <= 0) return undefined
    ratios.push(a / b)
  }
  return ratios.length === 0 ? undefined : spread(ratios)
}

/**
 * A ratio a noisy host cannot fake: `a` and `b` (two servers both running, or two
 * workloads of one) are loaded in turn, `seconds` each after a short warm-up,
 * `rounds` times, and the verdict is the median of the per-round ratios `b / a`.
 * A slow minute of the host then hits both sides of a ratio; sequential runs a
 * minute apart carry the host's noise into it.
 */
export const alternate = async (
  a: Omit<LoadOptions, "seconds" | "warmupSeconds">,
  b: Omit<LoadOptions, "seconds" | "warmupSeconds">,
  rounds: number,
  seconds = 2
): Promise<Alternation> => {
  const as: Array<LoadResult> = []
  const bs: Array<LoadResult> = []
  for (let r = 0; r < Math.max(1, rounds); r++) {
    as.push(await run({ ...a, seconds, warmupSeconds: 0.5 }))
    bs.push(await run({ ...b, seconds, warmupSeconds: 0.5 }))
  }
  return { a: as, b: bs, ...spread(as.map((x, i) => bs[i]!.rps / x.rps)) }
}
