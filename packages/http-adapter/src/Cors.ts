/**
 * Cross-origin requests from browsers (CORS, the Fetch standard), off unless configured (since
 * 0.12.1). Graph answers a browser's preflight and lets the page read its answers, so a single-page
 * app signed in with MSAL calls it with Microsoft's Graph JavaScript client; this server does the
 * same for the origins it is given:
 *
 * - a preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) from an allowed
 *   origin is answered 204, on any path, before routing, authentication and rate limiting (a
 *   browser sends no credentials with one): the methods the API has, the headers the page asked
 *   to send (echoed when they are a list of header names, else the ones the API reads), and how
 *   long the browser may keep the answer;
 * - every answer to a request from an allowed origin, failures included (a page reads the Graph
 *   error's message), says the origin may read it and exposes the headers a Graph client reads
 *   (`ETag`, `Location`, `request-id`, …);
 * - a request from another origin, or without `Origin`, is answered as before, without CORS
 *   headers: its preflight gets the 405 every `OPTIONS` gets, and the browser does not send the
 *   request.
 *
 * Credentials (cookies) are never allowed: the API takes bearer tokens, which a page sends itself.
 *
 * @since 0.12.1
 */

/** Which origins' pages may call the API. */
export interface CorsOptions {
  /** Origins as a browser sends them (`https://app.example.com`, `http://localhost:3000`), or `"*"` for any. */
  readonly allowedOrigins: ReadonlyArray<string> | "*"
  /** How long a browser may keep a preflight's answer, in seconds (default {@link defaultMaxAgeSeconds}). */
  readonly maxAgeSeconds?: number | undefined
}

/** An hour: Chromium keeps a preflight at most two, Firefox a day. */
export const defaultMaxAgeSeconds = 3600

/** The methods the API's routes have (and HEAD, which every GET route answers). */
export const allowedMethods = "GET, HEAD, POST, PATCH, DELETE"

/** The request headers the API reads, allowed when a preflight's list is not a list of header names. */
export const allowedHeaders =
  "Authorization, Content-Type, Content-Encoding, If-Match, If-None-Match, Prefer, ConsistencyLevel, client-request-id, OData-Version, OData-MaxVersion, traceparent, tracestate"

/** The answer headers a page may read besides the ones every browser lets it (`Content-Type`, …). */
export const exposedHeaders =
  "ETag, Location, OData-EntityId, OData-Version, Preference-Applied, Retry-After, WWW-Authenticate, request-id, client-request-id"

/** An origin as a browser serializes it: scheme, host and a port other than the scheme's own, lower case, no path. */
const originPattern = /^https?:\/\/(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::\d{1,5})?$/

/**
 * What is wrong with a configured origin, or undefined when it is one a browser sends: the
 * form `Origin` has (RFC 6454 7: scheme, host, port; lower case; no trailing slash, path or
 * user), so that it is compared as sent.
 */
export const originProblem = (origin: string): string | undefined => {
  if (origin === "*") return "\"*\" stands alone (any origin), not in a list"
  if (!originPattern.test(origin)) {
    return "expected an origin as a browser sends it: http or https, a host in lower case, an optional port, no path or trailing slash (e.g. https://app.example.com)"
  }
  const port = /:(\d+)$/.exec(origin)?.[1]
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return "expected a port from 1 to 65535"
  return undefined
}

/** A header list as `Access-Control-Request-Headers` has it: names (tokens) separated by commas. */
const headerList = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:\s*,\s*[!#$%&'*+.^_`|~0-9A-Za-z-]+)*$/

/** The CORS answers of one configuration, made once. */
export interface Cors {
  /**
   * The `Access-Control-Allow-Origin` of an answer to a request with this `Origin` header, or
   * undefined when it has none or another origin's (the answer then carries no CORS header).
   */
  readonly allowOrigin: (origin: string | undefined) => string | undefined
  /** The headers an answer to an allowed request carries. */
  readonly answerHeaders: (allowOrigin: string) => Readonly<Record<string, string>>
  /** The headers of the 204 that answers an allowed preflight, asked to allow `requestHeaders`. */
  readonly preflightHeaders: (allowOrigin: string, requestHeaders: string | undefined) => Readonly<Record<string, string>>
  /**
   * The `Vary` of an answer that names no origin, or undefined (since 0.12.2): with listed origins an
   * answer depends on the `Origin` header whether or not it names one, so every answer says so (the
   * Fetch standard's rule): else a shared cache could keep an answer made for a request without
   * `Origin`, or another origin's, and give it to an allowed origin's page, which the browser then
   * refuses to let it read. With `"*"` no answer depends on it.
   */
  readonly otherVary: string | undefined
}

/** The CORS answers of `options`. Throws on an origin a browser never sends (see {@link originProblem}). */
export const make = (options: CorsOptions): Cors => {
  const any = options.allowedOrigins === "*"
  const origins = new Set(any ? [] : options.allowedOrigins)
  for (const origin of origins) {
    const problem = originProblem(origin)
    if (problem !== undefined) throw new Error(`CORS origin ${JSON.stringify(origin)}: ${problem}`)
  }
  const maxAge = String(Math.max(0, Math.floor(options.maxAgeSeconds ?? defaultMaxAgeSeconds)))
  // An answer that names the origin varies with it (a cache must not give it to another origin's page).
  const forAny = { "access-control-allow-origin": "*", "access-control-expose-headers": exposedHeaders }
  const named = (origin: string) => ({ "access-control-allow-origin": origin, "access-control-expose-headers": exposedHeaders, vary: "Origin" })
  return {
    allowOrigin: (origin) => origin === undefined ? undefined : any ? "*" : origins.has(origin) ? origin : undefined,
    answerHeaders: (allowOrigin) => allowOrigin === "*" ? forAny : named(allowOrigin),
    preflightHeaders: (allowOrigin, requestHeaders) => ({
      "access-control-allow-origin": allowOrigin,
      "access-control-allow-methods": allowedMethods,
      "access-control-allow-headers": requestHeaders !== undefined && requestHeaders.length <= 2048 && headerList.test(requestHeaders.trim())
        ? requestHeaders.trim()
        : allowedHeaders,
      "access-control-max-age": maxAge,
      vary: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
    }),
    otherVary: any ? undefined : "Origin"
  }
}
