/**
 * The backup's signal trap (`Backup.trapSignals`), in this process: a signal that comes as the
 * backup starts, before anything waits for it, is kept for the wait instead of ending the process
 * by its default action (the race the trap's listeners, installed before the work, close), and the
 * trap leaves no listener behind once its scope closes. The whole command under a signal, with its
 * temporary file removed, is in backup.test.ts.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Backup from "../src/Backup.ts"

const signals = Object.keys(Backup.stopSignals) as Array<Backup.StopSignal>
const listenerCounts = () => signals.map((s) => process.listenerCount(s))

describe("backup's signal trap", () => {
  for (const signal of signals) {
    it.effect(`${signal} sent before the wait begins is the wait's answer, and the process lives on`, () =>
      Effect.scoped(Effect.gen(function*() {
        const first = yield* Backup.trapSignals
        // Delivered on a later turn of the event loop, while nothing waits on `first` yet: with
        // no listener of its own installed by then, the default action would end this process.
        process.kill(process.pid, signal)
        yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 50)))
        assert.strictEqual(yield* first, signal)
      })))
  }

  it.effect("the trap's listeners are gone once its scope closes, whether a signal came or not", () =>
    Effect.gen(function*() {
      const before = listenerCounts()
      yield* Effect.scoped(Effect.gen(function*() {
        yield* Backup.trapSignals
        assert.deepStrictEqual(listenerCounts(), before.map((n) => n + 1))
      }))
      assert.deepStrictEqual(listenerCounts(), before)
      yield* Effect.scoped(Effect.gen(function*() {
        const first = yield* Backup.trapSignals
        process.kill(process.pid, "SIGHUP")
        yield* first
        // The first signal removes every listener of the trap: a second one is the process's again.
        assert.deepStrictEqual(listenerCounts(), before)
      }))
      assert.deepStrictEqual(listenerCounts(), before)
    }))
})
