/**
 * New ids for entities the server creates, from Effect's `Random` (seedable in tests).
 *
 * @since 0.1.0
 */
import { Clock, Effect, Random } from "effect"
import * as Id from "./Id.ts"

/** A new random GUID. */
export const guid: Effect.Effect<string> = Effect.gen(function*() {
  const bytes: Array<number> = []
  for (let i = 0; i < 4; i++) {
    const n = yield* Random.nextIntBetween(0, 0xffffffff)
    bytes.push(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff)
  }
  let i = 0
  return Id.guid(() => bytes[i++]!)
})

/** The current time as an ISO 8601 string, from Effect's `Clock` (controllable in tests). */
export const now: Effect.Effect<string> = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString())
