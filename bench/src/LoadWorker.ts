/**
 * One load run's generator, in a process of its own (see `Load.run`): it takes
 * the run from its parent, loads the server for the warm-up, says so, loads it
 * for the measured run and sends back what autocannon measured. A new process
 * per run keeps the generator's compiled code from depending on the runs before:
 * in one process, the server loaded first shaped how fast the generator served
 * every later one (BENCHMARKS.md, "from 08:10").
 *
 * @since 0.2.0
 */
import autocannon from "autocannon"

/** A run, as `Load.run` sends it. */
export interface Job {
  readonly url: string
  readonly connections: number
  readonly pipelining: number
  readonly warmupSeconds: number
  readonly seconds: number
  /** The requests connection `i` sends in turn: `perConnection[i]`, or `perConnection[0]` for every connection when there is one list. */
  readonly perConnection: ReadonlyArray<ReadonlyArray<Record<string, unknown>>>
}

/** What the measured run gave, as the worker sends it back. */
export interface Measured {
  /** Mean requests per second over the run. */
  readonly rps: number
  readonly total: number
  /** Latency percentiles, ms. */
  readonly p50: number
  readonly p99: number
  /** Answers outside 2xx, and socket errors/timeouts. */
  readonly non2xx: number
  readonly errors: number
  readonly statusCodes: Readonly<Record<string, number>>
}

/** Messages to the parent. */
export type Message = { readonly phase: "measuring" } | { readonly phase: "done"; readonly measured: Measured }

const load = (job: Job, seconds: number) => {
  let connection = 0
  const own = job.perConnection.length > 1
  return autocannon({
    url: job.url,
    connections: job.connections,
    duration: seconds,
    pipelining: job.pipelining,
    requests: job.perConnection[0] as any,
    // Each connection's own requests, set before it sends its first (the first connection keeps connection 0's).
    ...(own
      ? {
        setupClient: (client: { setRequests: (r: ReadonlyArray<Record<string, unknown>>) => void }) => {
          const mine = connection++
          if (mine > 0) client.setRequests(job.perConnection[mine]!)
        }
      }
      : {}),
    timeout: 10
  } as any) as unknown as Promise<any>
}

process.once("message", async (job: Job) => {
  if (job.warmupSeconds > 0) await load(job, job.warmupSeconds)
  process.send!({ phase: "measuring" } satisfies Message)
  const r = await load(job, job.seconds)
  const statusCodes: Record<string, number> = {}
  for (const [code, v] of Object.entries(r.statusCodeStats ?? {})) statusCodes[code] = (v as { count: number }).count
  const measured: Measured = {
    rps: r.requests.average,
    total: r.requests.total,
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    statusCodes
  }
  process.send!({ phase: "done", measured } satisfies Message, () => process.exit(0))
})
