/**
 * The JWKS a verifier reads its keys from (since 0.13.0; before, jose's `createRemoteJWKSet`),
 * fetched so that neither a forger nor a failing identity provider decides how often:
 *
 * - **One fetch at a time**, shared by every request waiting for it.
 * - **A token naming an unknown `kid`** fetches again at most once a cooldown (default 30 s), as
 *   before: a key rotated in is picked up, forged kids cause no more fetches. So does a token
 *   without `kid` that no key held verifies (`refresh`), which jose never fetched for.
 * - **A failed fetch** (unreachable, too slow, not 200, not a JWKS, over 1 MiB) is tried again
 *   only after a backoff, 1 s doubling up to the cooldown: meanwhile a token that needs the key
 *   set is a 503 with no fetch. jose retried on every such request, so callers with any token
 *   made one outbound request each while the provider failed.
 * - **Known keys are kept while the provider fails.** They are fetched again in the background
 *   once 10 minutes old, the requests meanwhile verified with the keys held; a failed refresh
 *   keeps them. jose dropped them 10 minutes after its last success, so an outage of seconds then
 *   made every new token a 503. A key removed from the set goes at the next successful fetch, and
 *   so do the tokens a verifier cached as verified with it (since 0.15.0: each successful fetch is
 *   a new {@link KeySet.generation}, and a token cached under an older one is verified again;
 *   `keepFresh` lets a verifier that serves cached tokens alone start the background fetch).
 *
 * The URL is named in messages without its user information and query (which may carry a
 * secret), and a URL with a user name or password is refused when the key set is made (`fetch`
 * refuses to send one).
 *
 * @since 0.13.0
 */
import * as jose from "jose"

/** Where and how often a {@link KeySet} fetches. */
export interface KeySetOptions {
  readonly url: URL
  /** After a fetch, how long a token naming an unknown `kid` waits before another (default 30 000 ms). */
  readonly cooldownMs?: number | undefined
  /** How old the keys held may grow before a background fetch (default 600 000 ms). */
  readonly maxAgeMs?: number | undefined
  /** How long one fetch may take (default 5 000 ms). */
  readonly timeoutMs?: number | undefined
  /** The most bytes a key set's answer may have (default 1 MiB). */
  readonly maxBytes?: number | undefined
}

/**
 * The key set could not be read (the fetch failed now or in its backoff): the token was not
 * judged. Not a jose error, so a verifier answers 503, not 401. Its `cause` is the fetch's failure.
 */
export class KeySetUnavailable extends Error {
  override readonly name = "KeySetUnavailable"
}

/** A key set: jose's key lookup for `jwtVerify`, and what it has done (for tests and the log). */
export interface KeySet {
  readonly getKey: jose.JWTVerifyGetKey
  /** Fetches started so far. */
  readonly fetches: () => number
  /**
   * Fetches the set again if the cooldown (or a failure's backoff) allows, or waits for the fetch
   * under way: true when keys were fetched since the call began. For a token without `kid` that
   * none of the keys held verified: a key added to the set since is found the way an unknown `kid`
   * finds it (since 0.13.0).
   */
  readonly refresh: () => Promise<boolean>
  /**
   * How many fetches have found a key set other than the one held (since 0.15.0): what a token
   * verified now was verified against. A verifier that caches tokens verifies one again once this
   * has moved, so that a key removed from the set stops verifying the tokens it signed; a fetch that
   * finds the same set leaves it.
   */
  readonly generation: () => number
  /**
   * Starts a background fetch when the keys held are older than `maxAgeMs` (and no fetch or
   * backoff is under way), as a lookup does (since 0.15.0): for a verifier whose requests are all
   * answered from its cache and never look a key up. `now` is `Date.now()`.
   */
  readonly keepFresh: (now: number) => void
}

/** `url` as messages name it: no user information, no query, no fragment. */
export const shown = (url: URL): string => `${url.protocol}//${url.host}${url.pathname}`

/** Throws unless `url` is one a key set can fetch: http or https, no user name or password. */
export const check = (url: URL): void => {
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`a JWKS URL must be http:// or https://, got the scheme ${url.protocol}`)
  }
  if (url.username !== "" || url.password !== "") {
    throw new Error("a JWKS URL with a user name or password cannot be fetched (fetch refuses credentials in a URL)")
  }
}

/** Makes a key set; nothing is fetched before the first token needs a key. Throws as {@link check}. */
export const make = (options: KeySetOptions): KeySet => {
  const url = new URL(options.url)
  check(url)
  const where = shown(url)
  const cooldown = options.cooldownMs ?? 30_000
  const maxAge = options.maxAgeMs ?? 600_000
  const timeout = options.timeoutMs ?? 5_000
  const maxBytes = options.maxBytes ?? 1024 * 1024

  let local: ReturnType<typeof jose.createLocalJWKSet> | undefined
  let fetchedAt = Number.NEGATIVE_INFINITY
  let attemptedAt = Number.NEGATIVE_INFINITY
  let failures = 0
  let failure: unknown
  let inflight: Promise<void> | undefined
  let started = 0
  let succeeded = 0
  // The set held, as text: a fetch that finds it unchanged keeps the generation.
  let heldText = ""

  /** Whether another fetch may start now: a cooldown after a success, a backoff after failures. */
  const mayFetch = () => {
    const wait = failures === 0 ? cooldown : Math.min(cooldown, 1000 * 2 ** (failures - 1))
    return Date.now() - attemptedAt >= wait
  }

  const download = async (): Promise<unknown> => {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeout), redirect: "manual", headers: { accept: "application/json" } })
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => undefined)
      throw new Error(`the JWKS at ${where} answered ${response.status}, expected 200 OK`)
    }
    const declared = Number(response.headers.get("content-length") ?? "0")
    if (declared > maxBytes) {
      await response.body?.cancel().catch(() => undefined)
      throw new Error(`the JWKS at ${where} declares ${declared} bytes, over the ${maxBytes} a key set may have`)
    }
    const chunks: Array<Uint8Array> = []
    let size = 0
    if (response.body !== null) {
      for await (const chunk of response.body) {
        size += chunk.byteLength
        if (size > maxBytes) {
          throw new Error(`the JWKS at ${where} sent more than the ${maxBytes} bytes a key set may have`)
        }
        chunks.push(chunk)
      }
    }
    try {
      // A byte-order mark before the JSON is dropped, as `fetch`'s `json()` drops it (jose read it so).
      const text = Buffer.concat(chunks).toString("utf8")
      return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text)
    } catch {
      throw new Error(`the JWKS at ${where} answered something that is not JSON`)
    }
  }

  const load = async (): Promise<void> => {
    started++
    try {
      const set = await download()
      // jose checks the set's shape (`{"keys": [...]}`), throwing JWKSInvalid.
      const made = jose.createLocalJWKSet(set as jose.JSONWebKeySet)
      // The same keys as before: no new generation, so the tokens kept as verified need no second
      // check (a fetch for an unknown `kid`, or the periodic one, usually finds the set unchanged).
      const text = JSON.stringify(set)
      if (text !== heldText || succeeded === 0) {
        local = made
        heldText = text
        succeeded++
      }
      fetchedAt = Date.now()
      failures = 0
      failure = undefined
    } catch (e) {
      failures++
      failure = e
    } finally {
      attemptedAt = Date.now()
    }
  }

  const refresh = (): Promise<void> => {
    inflight ??= load().finally(() => {
      inflight = undefined
    })
    return inflight
  }

  const unavailable = () => new KeySetUnavailable(`the JWKS at ${where} could not be fetched`, { cause: failure })

  /**
   * Old keys: fetched again in the background (once an age, or after a failure's backoff); the
   * request that noticed uses the keys held.
   */
  const keepFresh = (now: number) => {
    if (local !== undefined && now - fetchedAt >= maxAge && inflight === undefined && (failures === 0 || mayFetch())) void refresh()
  }

  const getKey: jose.JWTVerifyGetKey = async (header, token) => {
    if (local === undefined) {
      if (inflight === undefined && !mayFetch()) throw unavailable()
      await refresh()
      if (local === undefined) throw unavailable()
    } else keepFresh(Date.now())
    try {
      return await local(header, token)
    } catch (e) {
      if (!(e instanceof jose.errors.JWKSNoMatchingKey)) throw e
      // An unknown key: fetched again if the cooldown (or a failure's backoff) allows.
      if (inflight === undefined && !mayFetch()) {
        if (failures > 0) throw unavailable()
        throw e
      }
      await refresh()
      if (failures > 0) throw unavailable()
      return await local(header, token)
    }
  }

  const refreshed = async (): Promise<boolean> => {
    if (inflight === undefined && !mayFetch()) return false
    const before = fetchedAt
    await refresh()
    return fetchedAt !== before
  }

  return { getKey, fetches: () => started, refresh: refreshed, generation: () => succeeded, keepFresh }
}
