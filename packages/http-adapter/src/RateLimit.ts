/**
 * A per-client token bucket (client = token tenant + subject): `ratePerSecond`
 * tokens refill continuously up to `burst`; a request takes one or is refused
 * with the seconds to wait. The buckets kept are bounded: past the bound the
 * fullest are forgotten first (a full bucket holds nothing a new one would
 * not), so clients arriving in numbers never refill a throttled client's.
 *
 * @since 0.1.0
 */

/** Limits; the defaults are generous so that benchmarks pass. */
export interface RateLimitOptions {
  readonly ratePerSecond: number
  readonly burst: number
  /** How many clients' buckets are kept (default 100 000). */
  readonly maxClients?: number | undefined
}

export const defaults: RateLimitOptions = { ratePerSecond: 2000, burst: 4000 }

/** Default of {@link RateLimitOptions.maxClients}. */
export const defaultMaxClients = 100_000

interface Bucket {
  tokens: number
  at: number
}

/** A limiter: `take(key)` is 0 when allowed, else the seconds to wait. */
export const make = (options: RateLimitOptions = defaults) => {
  const buckets = new Map<string, Bucket>()
  const perMs = options.ratePerSecond / 1000
  const burst = options.burst
  const maxClients = Math.max(1, options.maxClients ?? defaultMaxClients)
  const level = (b: Bucket, now: number) => Math.min(burst, b.tokens + (now - b.at) * perMs)
  /**
   * Makes room for a tenth of the bound: forgets the buckets at or above a level that
   * halves from full on each pass, so the emptiest (the throttled clients') go last. It
   * runs once per tenth of the bound of new clients, so a client pays O(1) for it.
   */
  const makeRoom = (now: number) => {
    const keep = maxClients - Math.max(1, Math.floor(maxClients / 10))
    for (let floor = burst; buckets.size > keep; floor = floor > 1 ? floor / 2 : -1) {
      for (const [key, b] of buckets) {
        if (level(b, now) >= floor) {
          buckets.delete(key)
          if (buckets.size <= keep) return
        }
      }
    }
  }
  return {
    /** How many clients' buckets are kept. */
    clients: (): number => buckets.size,
    take: (key: string, now: number = performance.now()): number => {
      let b = buckets.get(key)
      if (b === undefined) {
        if (buckets.size >= maxClients) makeRoom(now)
        b = { tokens: burst, at: now }
        buckets.set(key, b)
      } else {
        b.tokens = level(b, now)
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
