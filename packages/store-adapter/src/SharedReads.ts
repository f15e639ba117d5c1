/**
 * Read coalescing for stores whose every read is a round trip: reads of one
 * key asked for in the same synchronous run of JavaScript share one query,
 * sent when that run ends.
 *
 * The server starts the requests it read in one turn of the event loop
 * together, in one synchronous run, so N requests for one hot path cost one
 * round trip instead of N. Each reader asked before the query was sent, so
 * its answer holds every write acknowledged before it asked, exactly as a
 * query of its own would (reads stay linearizable); a reader arriving after
 * the send asks anew, never joining a query already in flight.
 *
 * @since 0.2.3
 */
import { Context, Deferred, Effect } from "effect"

/** Resumes when the current synchronous run of JavaScript ends (a microtask). */
const endOfRun = Effect.callback<void>((resume) => {
  queueMicrotask(() => resume(Effect.void))
})

/** One string per list of parts, never the same for two different lists (each part is length-prefixed). */
export const keyOf = (...parts: ReadonlyArray<string>): string => {
  let key = ""
  for (const p of parts) key += `${p.length}:${p}`
  return key
}

/**
 * A coalescer: `shared(key, read)` answers what `read` answers, running it
 * once for all the callers of `key` in this synchronous run. The first caller
 * sends it, uninterruptibly (the others wait for it); a failure or defect
 * reaches every caller. A caller whose context holds `alone` (a transaction's
 * connection, say) runs `read` by itself: a shared read runs in its first
 * caller's context, which must not be one that only that caller may see.
 */
export const sharedReads = (alone?: Context.Key<any, any>) => {
  const forming = new Map<string, Deferred.Deferred<unknown, unknown>>()
  const share = <A, E>(key: string, read: Effect.Effect<A, E>): Effect.Effect<A, E> =>
    Effect.suspend(() => {
      const joined = forming.get(key)
      if (joined !== undefined) return Deferred.await(joined as Deferred.Deferred<A, E>)
      const shared = Deferred.makeUnsafe<A, E>()
      forming.set(key, shared as Deferred.Deferred<unknown, unknown>)
      return Effect.uninterruptible(Effect.flatMap(
        Effect.andThen(endOfRun, Effect.suspend(() => {
          forming.delete(key)
          return Effect.exit(read)
        })),
        (exit) => {
          Deferred.doneUnsafe(shared, exit)
          return exit
        }
      ))
    })
  return alone === undefined
    ? share
    : <A, E>(key: string, read: Effect.Effect<A, E>): Effect.Effect<A, E> =>
      Effect.contextWith((context: Context.Context<never>) =>
        Context.getOrUndefined(context, alone) === undefined ? share(key, read) : read
      )
}
