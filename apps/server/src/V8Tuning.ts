/**
 * V8's garbage collector fitted to the CPUs the process may use.
 *
 * V8 splits each young-generation collection (a scavenge: many a second under
 * write load) into parallel tasks for Node's platform threads, four of them
 * whatever the machine. Where the process may use one CPU only (pinned with
 * `taskset` or a cpuset, or a container with a one-CPU quota, which libuv's
 * `availableParallelism` reads since 1.49), those tasks cannot run beside the
 * main thread: they take turns with it on the one core, and every scavenge
 * costs thread wake-ups and context switches on top of its work. There the
 * server collects on its main thread alone (`--no-parallel-scavenge`): a fifth
 * fewer thread switches under PATCH load, and about 3 % of a PATCH's CPU on the
 * bench's machine at full speed (BENCHMARKS.md); with more CPUs the helpers run
 * in parallel and V8's default stays.
 *
 * V8 reads the flag at every scavenge, so setting it at start-up, before the
 * server is built, applies from then on (a test counts the tasks).
 *
 * @since 0.1.0
 */
import { availableParallelism } from "node:os"
import { setFlagsFromString } from "node:v8"

/** `V8_PARALLEL_SCAVENGE`: `auto` (off on one CPU, V8's default otherwise), `on`, `off`. */
export type ParallelScavenge = "auto" | "on" | "off"

/** The values `V8_PARALLEL_SCAVENGE` accepts. */
export const parallelScavengeSettings: ReadonlyArray<ParallelScavenge> = ["auto", "on", "off"]

/** Whether young-generation collections use helper threads, for a setting and the CPUs available. */
export const parallelScavenge = (setting: ParallelScavenge, cpus: number): boolean =>
  setting === "on" || (setting === "auto" && cpus > 1)

/** What {@link apply} decided. */
export interface Applied {
  readonly cpus: number
  readonly parallelScavenge: boolean
  /** The V8 flag set, if any (`auto` on more than one CPU sets none: the command line's or V8's default stays). */
  readonly flag: string | undefined
}

/** Sets V8's flag for the setting (call once, at start-up). */
export const apply = (
  setting: ParallelScavenge,
  cpus: number = availableParallelism(),
  setFlags: (flags: string) => void = setFlagsFromString
): Applied => {
  const parallel = parallelScavenge(setting, cpus)
  const flag = setting === "auto" && parallel ? undefined : parallel ? "--parallel-scavenge" : "--no-parallel-scavenge"
  if (flag !== undefined) setFlags(flag)
  return { cpus, parallelScavenge: parallel, flag }
}
