/**
 * The WAL's checkpoints on the event loop against the checkpointer's worker (store-adapter
 * 0.8.0): the same SQLite store, in this process, under 50 writers PATCHing one configuration's
 * assignments while a configuration of 1 000 assignments is removed every second (the large
 * writes that take the WAL past SQLite's 1 000 pages at once). Printed: the event loop's delay
 * (its worst and its 99.9th percentile, `monitorEventLoopDelay` at 1 ms), the slowest write's
 * latency, the write rate and the checkpoints. No verdict: the issue sets no target for it; the
 * figures are what `SqliteCheckpoint` bought (BENCHMARKS.md).
 *
 * @since 0.1.0
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { monitorEventLoopDelay } from "node:perf_hooks"
import { SqliteStore } from "@enrollment/store-adapter"
import { Effect, Result } from "effect"
import { load } from "./Bulk.ts"
import { record, table } from "./Report.ts"

/** One way to checkpoint: `checkpointMillis` as the store takes it. */
interface Mode {
  readonly label: string
  readonly checkpointMillis: number | undefined
}

const modes: ReadonlyArray<Mode> = [
  { label: "SQLite's automatic checkpoint on the event loop (checkpointMillis: 0, as before 0.8.0)", checkpointMillis: 0 },
  { label: "the checkpointer's worker thread (the default since 0.8.0)", checkpointMillis: undefined }
]

interface Measured {
  readonly writesPerSecond: number
  readonly readsPerSecond: number
  readonly slowestReadMs: number
  readonly loopDelayMaxMs: number
  readonly loopDelayP999Ms: number
  readonly slowestWriteMs: number
  readonly checkpoints: number
}

const writers = 50
const readers = 10
const removalRows = 1000
/** Rows of the large configuration already in the file: a removal's index entries land on pages all over it. */
const storedRows = 200_000

const assignment = (id: string, sourceId: string | null, groupId: string) => ({
  "@odata.type": "#microsoft.graph.enrollmentConfigurationAssignment",
  id,
  target: {
    "@odata.type": "#microsoft.graph.groupAssignmentTarget",
    deviceAndAppManagementAssignmentFilterId: null,
    deviceAndAppManagementAssignmentFilterType: "none",
    groupId
  },
  source: "direct",
  sourceId
}) as never

const configuration = (id: string) => ({
  "@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration",
  id,
  displayName: id,
  description: null,
  priority: 1,
  roleScopeTagIds: ["0"],
  deviceEnrollmentConfigurationType: "limit",
  createdDateTime: "2026-01-01T00:00:00Z",
  lastModifiedDateTime: "2026-01-01T00:00:00Z",
  version: 1,
  limit: 5
}) as never

/** One run of `seconds` in a new data directory. */
const measure = (mode: Mode, seconds: number): Promise<Measured> => {
  const dir = mkdtempSync(join(tmpdir(), "bench-checkpoint-"))
  const tenant = "bench-checkpoint"
  const removals = seconds
  const filename = join(dir, "store.db")
  return Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    {
      const seed = yield* SqliteStore.make({ filename, synchronous: "NORMAL" })
      yield* seed.configurations.insert(tenant, configuration("stored"))
    }
    yield* Effect.promise(() => load(filename, tenant, "stored", storedRows))
    const store = yield* SqliteStore.make({ filename, checkpointMillis: mode.checkpointMillis })
    yield* store.configurations.insert(tenant, configuration("hot"))
    yield* Effect.forEach(Array.from({ length: writers }, (_, i) => i), (i) =>
      store.assignments.insert(tenant, "hot", assignment(`a${i}`, "0", "g")), { concurrency: "unbounded", discard: true })
    for (let k = 0; k < removals; k++) {
      yield* store.configurations.insert(tenant, configuration(`bulk-${k}`))
      yield* Effect.forEach(Array.from({ length: removalRows }, (_, i) => i), (i) =>
        store.assignments.insert(tenant, `bulk-${k}`, assignment(`b${i}`, `source-${i}`, `group-${(i * 7919) % 5000}`)), { concurrency: "unbounded", discard: true })
    }
    // The seed's own checkpoints are over before the measure begins.
    yield* Effect.sleep("1200 millis")
    const delay = monitorEventLoopDelay({ resolution: 1 })
    let writes = 0
    let slowest = 0
    let reads = 0
    let slowestRead = 0
    const began = performance.now()
    const end = began + seconds * 1000
    delay.enable()
    const writer = (i: number) =>
      Effect.gen(function*() {
        let n = 0
        while (performance.now() < end) {
          const t = performance.now()
          yield* store.assignments.modify(tenant, "hot", `a${i}`, (a: { readonly sourceId: string | null }) =>
            Result.succeed({ ...a, sourceId: String(++n) }) as never)
          slowest = Math.max(slowest, performance.now() - t)
          writes++
        }
      })
    const reader = (i: number) =>
      Effect.gen(function*() {
        while (performance.now() < end) {
          const t = performance.now()
          yield* store.assignments.get(tenant, "stored", `bulk-${String((i * 104_729 + reads) % storedRows).padStart(7, "0")}`)
          slowestRead = Math.max(slowestRead, performance.now() - t)
          reads++
          yield* Effect.yieldNow
        }
      })
    const remover = Effect.gen(function*() {
      for (let k = 0; k < removals && performance.now() < end - 500; k++) {
        yield* Effect.sleep("1 second")
        yield* store.configurations.remove(tenant, `bulk-${k}`)
      }
    })
    yield* Effect.all([
      ...Array.from({ length: writers }, (_, i) => writer(i)),
      ...Array.from({ length: readers }, (_, i) => reader(i)),
      remover
    ], { concurrency: "unbounded", discard: true })
    delay.disable()
    const elapsed = (performance.now() - began) / 1000
    return {
      writesPerSecond: writes / elapsed,
      readsPerSecond: reads / elapsed,
      slowestReadMs: slowestRead,
      loopDelayMaxMs: delay.max / 1e6,
      loopDelayP999Ms: delay.percentile(99.9) / 1e6,
      slowestWriteMs: slowest,
      checkpoints: SqliteStore.checkpointStats(store)?.checkpoints ?? 0
    }
  }))).finally(() => rmSync(dir, { recursive: true, force: true }))
}

/** Runs both modes in turn, `rounds` times each, `seconds` a run. */
export const run = async (options: { readonly seconds: number; readonly rounds: number }) => {
  const seconds = Math.max(3, Math.min(options.seconds, 10))
  const results: Array<{ readonly mode: Mode; readonly measured: Measured }> = []
  for (let round = 0; round < options.rounds; round++) {
    for (const mode of modes) results.push({ mode, measured: await measure(mode, seconds) })
  }
  const rows = results.map(({ measured: m, mode }) => [
    mode.label,
    m.writesPerSecond,
    m.readsPerSecond,
    m.slowestReadMs,
    m.loopDelayMaxMs,
    m.loopDelayP999Ms,
    m.slowestWriteMs,
    m.checkpoints
  ])
  table(
    `checkpoints: ${writers} writers PATCHing one configuration's assignments and ${readers} readers of a configuration of ${storedRows} stored, while a configuration of ${removalRows} assignments is removed every second, ${seconds} s a run (in this process, SQLite durable)`,
    ["checkpoints run by", "writes/s", "reads/s", "slowest read (ms)", "event loop delay max (ms)", "p99.9 (ms)", "slowest write (ms)", "checkpoints off the loop"],
    rows
  )
  const worst = (mode: Mode, f: (m: Measured) => number) => Math.max(...results.filter((r) => r.mode === mode).map((r) => f(r.measured)))
  const [before, after] = modes as [Mode, Mode]
  console.log(
    `The event loop's worst delay: ${worst(before, (m) => m.loopDelayMaxMs).toFixed(1)} ms with SQLite's automatic checkpoint, ` +
      `${worst(after, (m) => m.loopDelayMaxMs).toFixed(1)} ms with the checkpointer's worker (the worst of ${options.rounds} runs each).`
  )
  record("checkpoint", results.map(({ measured, mode }) => ({ mode: mode.label, ...measured })))
}
