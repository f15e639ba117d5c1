/**
 * Read coalescing: callers of one key in one synchronous run share one read, sent when
 * the run ends; a caller after the send reads anew; failures reach every caller; the
 * first caller's interruption strands no one; a caller in a transaction reads alone.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Deferred, Effect, Exit, Fiber, Schema } from "effect"
import { keyOf, sharedReads } from "../src/SharedReads.ts"

/** A read that counts how often it ran and answers that count. */
const counting = () => {
  let runs = 0
  return { read: Effect.sync(() => ++runs), runs: () => runs }
}

/** Forks `effects` one after the other in one synchronous run, as the server starts a batch. */
const startTogether = <A, E>(effects: ReadonlyArray<Effect.Effect<A, E>>) => effects.map((e) => Effect.runFork(e))

const joinAll = <A, E>(fibers: ReadonlyArray<Fiber.Fiber<A, E>>) => Effect.forEach(fibers, (f) => Fiber.await(f))

class InTransaction extends Context.Service<InTransaction, { readonly id: number }>()("test/InTransaction") {}

describe("sharedReads", () => {
  it.effect("callers of one key in one run share one read and its answer", () =>
    Effect.gen(function*() {
      const shared = sharedReads()
      const { read, runs } = counting()
      const exits = yield* joinAll(startTogether(Array.from({ length: 5 }, () => shared("k", read))))
      assert.deepStrictEqual(exits, Array.from({ length: 5 }, () => Exit.succeed(1)))
      assert.strictEqual(runs(), 1)
    }))

  it.effect("different keys are read apart", () =>
    Effect.gen(function*() {
      const shared = sharedReads()
      const { read, runs } = counting()
      const exits = yield* joinAll(startTogether([shared("k1", read), shared("k2", read), shared("k1", read)]))
      assert.strictEqual(runs(), 2)
      assert.deepStrictEqual(exits.map((e) => Exit.isSuccess(e) ? e.value : -1).sort(), [1, 1, 2])
    }))

  it.effect("a caller after the read was sent reads anew, never joining a read in flight", () =>
    Effect.gen(function*() {
      const shared = sharedReads()
      let runs = 0
      const gates: Array<Deferred.Deferred<number>> = []
      const read = Effect.suspend(() => {
        const gate = Deferred.makeUnsafe<number>()
        gates.push(gate)
        runs++
        return Deferred.await(gate)
      })
      const [first] = startTogether([shared("k", read)])
      yield* Effect.promise(() => Promise.resolve()) // the run ends: the first read is sent
      assert.strictEqual(runs, 1)
      const [second] = startTogether([shared("k", read)])
      yield* Effect.promise(() => Promise.resolve())
      assert.strictEqual(runs, 2, "the second caller did not join the read in flight")
      Deferred.doneUnsafe(gates[1]!, Exit.succeed(20))
      Deferred.doneUnsafe(gates[0]!, Exit.succeed(10))
      assert.deepStrictEqual(yield* joinAll([first!, second!]), [Exit.succeed(10), Exit.succeed(20)])
    }))

  it.effect("a failure reaches every caller", () =>
    Effect.gen(function*() {
      const shared = sharedReads()
      let runs = 0
      const read = Effect.suspend(() => {
        runs++
        return Effect.fail("unavailable")
      })
      const exits = yield* joinAll(startTogether([shared("k", read), shared("k", read), shared("k", read)]))
      assert.deepStrictEqual(exits, [Exit.fail("unavailable"), Exit.fail("unavailable"), Exit.fail("unavailable")])
      assert.strictEqual(runs, 1)
    }))

  it.effect("interrupting the caller that sends the read strands no one", () =>
    Effect.gen(function*() {
      const shared = sharedReads()
      const { read, runs } = counting()
      const [first, second] = startTogether([shared("k", read), shared("k", read)])
      first!.interruptUnsafe()
      assert.deepStrictEqual(yield* Fiber.await(second!), Exit.succeed(1))
      assert.strictEqual(runs(), 1)
    }))

  it.effect("callers in a transaction read alone", () =>
    Effect.gen(function*() {
      const shared = sharedReads(InTransaction)
      const { read, runs } = counting()
      const inTx = (id: number) => Effect.provideService(shared("k", read), InTransaction, { id })
      const exits = yield* joinAll(startTogether([inTx(1), inTx(2), shared("k", read), shared("k", read)]))
      assert.strictEqual(runs(), 3)
      assert.deepStrictEqual(exits.slice(2), [Exit.succeed(3), Exit.succeed(3)])
    }))

  it.prop(
    "different lists of parts never make the same key",
    [Schema.Array(Schema.String), Schema.Array(Schema.String)],
    ([a, b]) => {
      if (JSON.stringify(a) !== JSON.stringify(b)) assert.notStrictEqual(keyOf(...a), keyOf(...b))
    }
  )

  /**
   * The lists nearest `parts`: a part split in two at each place (keeping or dropping the character
   * there, as a separator would be), two neighbours joined (with nothing or a character between),
   * an empty part added.
   */
  const nearMisses = (parts: ReadonlyArray<string>): ReadonlyArray<ReadonlyArray<string>> => {
    const out: Array<ReadonlyArray<string>> = [[...parts, ""], ["", ...parts]]
    const at = (i: number, ...replacement: ReadonlyArray<string>) => out.push([...parts.slice(0, i), ...replacement, ...parts.slice(i + 1)])
    parts.forEach((p, i) => {
      for (let k = 0; k <= p.length; k++) {
        at(i, p.slice(0, k), p.slice(k))
        if (k < p.length) at(i, p.slice(0, k), p.slice(k + 1))
      }
      if (i + 1 < parts.length) {
        for (const between of ["", "|", ":", "0", "1"]) out.push([...parts.slice(0, i), p + between + parts[i + 1], ...parts.slice(i + 2)])
      }
    })
    return out
  }

  it.prop(
    "a list and the lists nearest it (a part split, two joined, an empty part more) never make the same key",
    // Parts of the characters a separator or a length prefix would be made of.
    [Schema.Array(Schema.String.pipe(Schema.annotate({ arbitrary: { override: () => (fc: any) => fc.stringMatching(/^[|:01a]{0,4}$/) } })))],
    ([parts]) => {
      for (const other of nearMisses(parts)) {
        if (JSON.stringify(other) !== JSON.stringify(parts)) assert.notStrictEqual(keyOf(...other), keyOf(...parts), JSON.stringify([parts, other]))
      }
    }
  )

  it("keeps apart the lists a separator or plain concatenation would join", () => {
    const pairs: ReadonlyArray<readonly [ReadonlyArray<string>, ReadonlyArray<string>]> = [
      [["a|b"], ["a", "b"]],
      [["ab"], ["a", "b"]],
      [["1:a"], ["", "a"]],
      [[], [""]],
      [["a:"], ["a", ""]],
      [["2:ab"], ["ab", ""]]
    ]
    for (const [a, b] of pairs) assert.notStrictEqual(keyOf(...a), keyOf(...b), JSON.stringify([a, b]))
  })
})
