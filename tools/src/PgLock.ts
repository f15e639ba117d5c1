/**
 * A PostgreSQL table held locked by a connection of the test's own (test support, not shipped),
 * so that every statement that reads it waits in PostgreSQL, holding a connection of its pool
 * meanwhile: how the pool tests count the connections a pool opens. And the count's settled
 * value: a number read until it stops moving.
 */
import { Deferred, Effect, Fiber } from "effect"
import type * as SqlClient from "effect/sql/SqlClient"

/**
 * Locks `table` (a quoted, qualified name) `ACCESS EXCLUSIVE` in a transaction on `sql`, and
 * answers once it holds the lock, with the effect that lets it go (the transaction ended).
 * Count on another connection than the holder's: inside its transaction, `pg_stat_activity`
 * is a snapshot.
 */
export const holdLocked = (sql: SqlClient.SqlClient, table: string) =>
  Effect.gen(function*() {
    const locked = yield* Deferred.make<void>()
    const release = yield* Deferred.make<void>()
    const holder = yield* Effect.forkChild(sql.withTransaction(Effect.gen(function*() {
      yield* sql.unsafe(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`)
      yield* Deferred.succeed(locked, undefined)
      yield* Deferred.await(release)
    })))
    yield* Deferred.await(locked)
    return Deferred.succeed(release, undefined).pipe(Effect.andThen(Fiber.join(holder)), Effect.asVoid)
  })

/**
 * What `read` answers once its `key` has not moved for 300 ms and is above 0 (read every 50 ms,
 * 10 s at most): the number of connections waiting for a lock once no more arrive.
 */
export const settled = <A, E, R>(read: Effect.Effect<A, E, R>, key: (a: A) => number) =>
  Effect.gen(function*() {
    let seen: A | undefined
    for (let stable = 0, i = 0; stable < 6 && i < 200; i++) {
      const now = yield* read
      stable = seen !== undefined && key(now) === key(seen) && key(now) > 0 ? stable + 1 : 0
      seen = now
      yield* Effect.sleep("50 millis")
    }
    return seen as A
  })
