/**
 * A per-client token bucket (client = token tenant + subject): `ratePerSecond`
 * tokens refill continuously up to `burst`; a request takes one or is refused
 * with the seconds to wait.
 *
 * @since 0.1.0
 */

/** Limits; the defaults are generous so that benchmarks pass. */
export interface RateLimitOptions {
  readonly ratePerSecond: number
  readonly burst: number
}

export const defaults: RateLimitOptions = { ratePerSecond: 2000, burst: 4000 }

/** A limiter: `take(key)` is 0 when allowed, else the seconds to wait. */
export const make = (options: RateLimitOptions = defaults) => {
  const buckets = new Map<string, { tokens: number; at: number }>()
  const perMs = options.ratePerSecond / 1000
  return {
    take: (key: string, now: number = performance.now()): number => {
      let b = buckets.get(key)
      if (b === undefined) {
        if (buckets.size > 100_000) buckets.clear()
        b = { tokens: options.burst, at: now }
        buckets.set(key, b)
      } else {
        b.tokens = Math.min(options.burst, b.tokens + (now - b.at) * perMs)
        b.at = now
      }
      if (b.tokens >= 1) {
        b.tokens -= 1
        return 0
      }
      return Math.max(1, Math.ceil((1 - b.tokens) / perMs / 1000))
    }
  }
}
