/**
 * The lean HTTP server: a `node:http` request listener over the route table.
 * Per request it matches the path in a prebuilt trie, authenticates (cached
 * JWTs answer synchronously), rate-limits, parses the JSON body once, runs the
 * handler Effect with a context built once at start, and writes the answer
 * with one `JSON.stringify`. Every failure goes through {@link Problem}.
 *
 * The handlers of the requests read in one event-loop turn start together
 * right after it, in one synchronous run (see `runBatch`). A body that came
 * with its headers has been read by then, and is taken from the request's
 * buffer in one call (`Body.readNow`), with no stream events or promise; a
 * body still arriving is read as it comes and its request joins a later run.
 * A GET's answer is kept ({@link AnswerCache}) and served again while the
 * store's stamp of the tenant's data (`Store.stampOf`) has not moved.
 *
 * @since 0.1.0
 */
import { ETag, Id, Store } from "@enrollment/core"
import { Cause, Clock, Context, Effect, Exit, Option, References, type Tracer } from "effect"
import { randomInt, randomUUID } from "node:crypto"
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http"
import { type Answer, AnswerCache } from "./AnswerCache.ts"
import * as Auth from "./Auth.ts"
import * as Batch from "./Batch.ts"
import * as Body from "./Body.ts"
import * as Cors from "./Cors.ts"
import * as Docs from "./Docs.ts"
import type * as Listen from "./Listen.ts"
import * as Metrics from "./Metrics.ts"
import * as OData from "./OData.ts"
import * as OpenApi from "./OpenApi.ts"
import * as Permissions from "./Permissions.ts"
import * as Problem from "./Problem.ts"
import * as RateLimit from "./RateLimit.ts"
import * as Router from "./Router.ts"
import * as Sampler from "./Sampler.ts"
import { type Ctx, type Reply, type Route, routes as allRoutes, ready, type Services } from "./Routes.ts"

/** One line of the request log. Never holds the token. */
export interface RequestLog {
  readonly method: string
  readonly route: string
  readonly status: number
  /**
   * From the request's arrival to its answer's head being written; for a request pipelined behind
   * others on its connection, its wait for their answers included (since 0.17.0).
   */
  readonly durationMs: number
  readonly requestId: string
  /**
   * The request's `client-request-id`, when it sent one: the id a client quotes (since 0.13.0),
   * cut at 200 characters as the other headers here are (since 0.16.0; before, only one of at most
   * 200 was echoed and logged), a tab written `\x09`. Since 0.17.0 also one the answer does not
   * echo (longer than 1 024 characters, or beyond ASCII: `caf\xe9`).
   */
  readonly clientRequestId?: string | undefined
  readonly tenant: string | undefined
  /** The address the connection came from: the client's, or a proxy's in front of the server (since 0.6.1). */
  readonly clientAddress?: string | undefined
  /**
   * `X-Forwarded-For` as sent, when sent (at most 200 characters, any character but printable
   * ASCII written `\xNN`, past U+00FF `\uNNNN`): who a proxy says the client was, for tracing a
   * request back; nothing is decided by it (since 0.6.1). A batch's requests carry the batch's (and
   * its `User-Agent`), whatever their own JSON headers say (since 0.17.0).
   */
  readonly forwardedFor?: string | undefined
  /** `User-Agent` as sent, when sent (at most 200 characters, any character but printable ASCII written `\xNN`; since 0.6.1). */
  readonly userAgent?: string | undefined
  /**
   * For 500s the defect, and for 503s what was unavailable and why (the store's or the
   * key set's error, e.g. `connect ECONNREFUSED 127.0.0.1:5432`): logged next to the
   * request-id, never sent to the client.
   */
  readonly defect?: unknown
}

/** How the handler is set up. */
export interface HandlerOptions {
  /** The services, built once (e.g. from a `ManagedRuntime`). */
  readonly context: Context.Context<Services>
  readonly auth: Auth.AuthOptions | Auth.Verifier
  readonly rateLimit?: RateLimit.RateLimitOptions | undefined
  /** Body limit in bytes (default 1 MiB). */
  readonly bodyLimit?: number | undefined
  /** `https://host` to build absolute URLs from; default: the request's scheme and Host header. */
  readonly publicUrl?: string | undefined
  /** Called once per finished request (from `logFrom` on). */
  readonly log?: ((entry: RequestLog) => void) | undefined
  /**
   * The lowest status `log` is called for (default 0: every request). A sink that writes
   * only failures says so here, and no entry is made for the answers it would drop.
   */
  readonly logFrom?: number | undefined
  /**
   * Bytes of GET answers kept until the tenant's data changes (see {@link AnswerCache});
   * default 16 MiB, 0 keeps none. Only over a store with `stampOf`.
   */
  readonly answerCacheBytes?: number | undefined
  /**
   * Where every answer is counted, by route and status, with its duration (see
   * {@link Metrics}); without one nothing is counted or timed for it. A `$batch`'s
   * requests are counted as themselves, besides the batch.
   */
  readonly metrics?: Metrics.Recorder | undefined
  /**
   * The origins whose browser pages may call the API (see {@link Cors}; since 0.12.1). Without it
   * (the default) no answer carries a CORS header and a preflight is the 405 of any `OPTIONS`.
   */
  readonly cors?: Cors.CorsOptions | undefined
  /**
   * With tracing on, which requests' traces are recorded (see {@link Sampler}; since 0.14.0).
   * Default {@link Sampler.parentBasedAlwaysOn}: as the caller decided for a request that continues
   * a trace, every other one. A request that is not sampled builds no span.
   */
  readonly sampler?: Sampler.Sampler | undefined
  /**
   * The longest a request's route may take, in milliseconds (since 0.14.0; default: none). A
   * route still running then is answered 503 `ServiceUnavailable` with `Retry-After` at once, its
   * work interrupted in the background and not waited for (a call stuck on a dead connection may
   * hang in its cleanup), its outcome unknown to the caller as a store's deadline's is. It bounds
   * the request where a store's deadline bounds each of its calls. Only a route that does not
   * finish in its first synchronous run is timed: one timer per such request.
   */
  readonly requestDeadlineMillis?: number | undefined
}

/** SPEC 5: what Graph answers, without the parameters no client reads (every byte is written per answer). */
const JSON_TYPE = "application/json; odata.metadata=minimal; charset=utf-8"
const router = Router.make(allRoutes)
/**
 * A valid `Host` (RFC 9112 3.2; RFC 3986 3.2.2): an IP literal (an IPv6 address with a zone, RFC
 * 6874's `%25eth0` or the raw `%eth0` Node's own client sends, or an IPvFuture, included), or a
 * registered name of unreserved
 * characters, sub-delimiters and percent-escapes (not empty: RFC 9110 4.2.1), and an optional port.
 * Since 0.15.0 a request with another value is a 400, as RFC 9112 3.2 has it; before, the base URL
 * of its answer's links fell back to `localhost`, and so did a valid name with `_` (a Docker
 * Compose service's) or another sub-delimiter.
 */
const hostPattern =
  /^(?:\[(?:[0-9A-Fa-f:.]+(?:%(?:25)?(?:[A-Za-z0-9\-._~]|%[0-9A-Fa-f]{2})+)?|v[0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+)\]|(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})+)(?::\d{0,5})?$/

/** {@link repeatedSingletons}' bits. */
const HOST_REPEATED = 1
const CONTENT_TYPE_REPEATED = 2
const AUTHORIZATION_REPEATED = 4

/**
 * Which of `Host`, `Content-Type` and `Authorization` `rawHeaders` hold more than one line of
 * (Node keeps the first in `headers`): {@link HOST_REPEATED}, {@link CONTENT_TYPE_REPEATED},
 * {@link AUTHORIZATION_REPEATED}. Each has one value (RFC 9110 5.3), and a proxy that reads the
 * other line than this server reads another request: each is refused (`Host` and `Content-Type`
 * since 0.15.0; `Authorization` as `Auth.repeatsAuthorization` says, in the same pass). One pass.
 */
const repeatedSingletons = (rawHeaders: ReadonlyArray<string> | undefined): number => {
  if (rawHeaders === undefined) return 0
  let hosts = 0
  let types = 0
  let authorizations = 0
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!
    if (name.length === 4) {
      if ((name.charCodeAt(0) | 0x20) === 0x68 && name.toLowerCase() === "host") hosts++
    } else if (name.length === 12) {
      if ((name.charCodeAt(0) | 0x20) === 0x63 && name.toLowerCase() === "content-type") types++
    } else if (name.length === 13 && (name.charCodeAt(0) | 0x20) === 0x61 && name.toLowerCase() === "authorization") authorizations++
  }
  return (hosts > 1 ? HOST_REPEATED : 0) | (types > 1 ? CONTENT_TYPE_REPEATED : 0) | (authorizations > 1 ? AUTHORIZATION_REPEATED : 0)
}

/**
 * A request target in the absolute form (`http://host/beta/…`, RFC 9112 3.2.2), which a server
 * must accept: its path (with its query) and its authority, which takes the place of `Host`.
 * Undefined for any other form.
 */
const absoluteForm = (target: string): { readonly path: string; readonly authority: string } | undefined => {
  const m = /^https?:\/\/([^/?#]*)([^#]*)/i.exec(target)
  if (m === null) return undefined
  const rest = m[2]!
  return { authority: m[1]!, path: rest.startsWith("/") ? rest : `/${rest}` }
}

const firstHeader = (v: string | Array<string> | undefined): string | undefined => (Array.isArray(v) ? v[0] : v)

/** A character a log line should not carry as it is: anything but printable ASCII. */
const unprintable = /[^\x20-\x7e]/
const unprintables = /[^\x20-\x7e]/g

/**
 * A header's text for the request log: the first of repeated ones, at most 200 characters, each
 * character that is not printable ASCII written `\xNN`. Node passes a value's bytes 0x80-0xFF on
 * as U+0080-U+00FF, and a tab: U+0085 breaks a line for Unicode-aware log tools and U+009B is a
 * terminal's CSI, and `JSON.stringify` leaves them as they are. Only a value that has one pays for
 * more than the test.
 */
/**
 * A UTF-16 unit outside printable ASCII as the log writes it: `\xNN` up to U+00FF, `\uNNNN` past it
 * (since 0.17.0; before, `\x2028` for U+2028, which reads as U+0020 followed by `28`).
 */
const escapedUnit = (c: string): string => {
  const code = c.charCodeAt(0)
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`
}

const clipped = (v: string | Array<string> | undefined): string | undefined => {
  const text = firstHeader(v)
  if (text === undefined) return undefined
  const cut = text.length <= 200 ? text : text.slice(0, 200)
  const shown = unprintable.test(cut) ? cut.replace(unprintables, escapedUnit) : cut
  return cut === text ? shown : `${shown}…`
}

/**
 * The `client-request-id` as the log keeps it: whenever the request sent one, echoed or not
 * (since 0.17.0; before, one too long or beyond ASCII was left out of the log too), cut at 200
 * characters and escaped as the other headers are.
 */
const loggedClientRequestId = (sent: string | Array<string> | undefined): { readonly clientRequestId?: string } => {
  const id = clipped(sent)
  return id === undefined || id === "" ? {} : { clientRequestId: id }
}

/**
 * The `client-request-id` an answer echoes (SPEC 5): the client's as sent when it is ASCII text
 * (printable characters, spaces and tabs) of at most 1 024 characters. Since 0.16.0; before, at
 * most 200 characters and no tab, any other value replaced by the answer's request-id. Longer ones
 * are not echoed: an answer's head of 16 KiB would be a proxy's 502 (nginx buffers 4–8 KiB). A
 * value with bytes beyond ASCII is not echoed (the request-id stands in): Node reads each such byte
 * as one character and writes an answer's head in its body's encoding, so `é` sent as one byte
 * comes back as two and a client would not find its id. None sent, or empty: the request-id.
 */
const echoedClientRequestId = (sent: string | undefined, requestId: string): string =>
  sent !== undefined && sent.length <= maxClientRequestId && asciiText.test(sent) ? sent : requestId
/** The longest `client-request-id` echoed: a head that large passes proxies' default buffers (nginx's 4–8 KiB). */
const maxClientRequestId = 1024
const asciiText = /^[\t\x20-\x7e]+$/

/**
 * The batch's path under `/beta`, as the router reads the others': with a trailing slash, and with
 * its `$` percent-encoded (since 0.12.2; before, both were a 404).
 */
const batchPaths: ReadonlySet<string> = new Set(["/$batch", "/$batch/", "/%24batch", "/%24batch/"])

/** The mark of a batch's own request (the listener's `req` made by `dispatch`). */
const batched: unique symbol = Symbol("batched request")

/** The headers a trace context travels in (W3C, compact and multi-header B3): a batch hands them to its requests. */
const traceHeaders: ReadonlyArray<string> = [
  "traceparent",
  "tracestate",
  "b3",
  "x-b3-traceid",
  "x-b3-spanid",
  "x-b3-parentspanid",
  "x-b3-sampled",
  "x-b3-flags"
]

/**
 * What refuses a request's body from its headers, before a byte of it is read: nothing declared
 * and nothing sent (400, a body is required), a type that is not JSON (415), or a content coding
 * the server does not undo ({@link Body.codingOf}: a 415 with `Accept-Encoding`, as RFC 9110
 * 15.5.16 asks; since 0.8.0). A body in gzip, deflate or br is decoded ({@link decoded}): Kiota's
 * `CompressionHandler` (the Graph SDKs' performance middleware) sends gzip.
 */
/**
 * A transfer coding besides chunked (`gzip, chunked`): RFC 9112 6.1's 501, on any request (since
 * 0.15.0; before, the body was read as not coded, where a proxy that decodes it passes other bytes on).
 */
const transferRefusal = (transfer: string | undefined): Problem.Problem | undefined =>
  transfer === undefined || transfer.trim().toLowerCase() === "chunked" ? undefined : {
    status: 501,
    code: "NotImplemented",
    message: `Transfer-Encoding '${transfer.slice(0, 100)}' is not supported: send the body chunked, or with Content-Length (a compressed body: Content-Encoding)`
  }

const bodyRefusal = (headers: IncomingHttpHeaders, repeated: number): Problem.Problem | undefined => {
  if ((repeated & CONTENT_TYPE_REPEATED) !== 0) return Problem.badRequest("The request has more than one Content-Type header")
  const contentType = firstHeader(headers["content-type"])
  if (!Body.isJson(contentType)) {
    // Nothing declared and nothing sent: a missing body, not a wrong type.
    if (contentType === undefined && (headers["content-length"] === "0" || headers["content-length"] === undefined && headers["transfer-encoding"] === undefined)) {
      return Problem.badRequest("A request body is required")
    }
    return Problem.unsupportedMediaType(contentType)
  }
  const coding = Body.codingOf(headers["content-encoding"])
  return typeof coding === "object" ? coding : undefined
}

/**
 * Hands `next` a read body's bytes as the JSON text, its `Content-Encoding` undone (since 0.8.0;
 * before, coded bytes were read as the text, a 400; the header was checked by {@link bodyRefusal}):
 * at once (`now` true) when it is not coded, which costs a request without the header one property
 * read; else once decoded off the event loop ({@link Body.decode}), what `next` throws then answered
 * through `fail` as a fault (the request's own `fail`: nothing is made for a plain body).
 */
const withDecoded = (
  r: Body.ReadResult,
  headers: IncomingHttpHeaders,
  limit: number,
  next: (r: Body.ReadResult, now: boolean) => void,
  fail: (p: Problem.Problem, cause?: unknown) => void
): void => {
  const coding = r.ok && headers["content-encoding"] !== undefined ? Body.codingOf(headers["content-encoding"]) : undefined
  if (typeof coding !== "string" || !r.ok) return next(r, true)
  Body.decode(r.bytes, coding, limit).then((decoded) => {
    try {
      next(decoded, false)
    } catch (e) {
      fail(Problem.internal, e)
    }
  }, (e) => fail(Problem.internal, e))
}

/**
 * Where a configuration's actions are served, for a 404 of one asked for on another path family
 * (since 0.8.1): the Graph SDKs' builders offer `assign` and `setPriority` under a user's
 * configurations too, where SPEC 2 serves them on the tenant's only.
 */
const actionHint = (segment: string, path: string): string =>
  (segment === "assign" || segment === "setPriority") && path.includes("/deviceEnrollmentConfigurations/")
    ? `: ${segment} is served on /deviceManagement/deviceEnrollmentConfigurations/{id}/${segment} only`
    : ""

/** The paths outside the API's routes that answer GET and HEAD only (since 0.8.0: another method is a 405, not a 404). */
const readOnlyPaths: ReadonlySet<string> = new Set(["/health", "/ready", "/docs", "/docs/"])

/**
 * Whether a `Prefer` header asks for `return=minimal` (RFC 7240; since 0.8.0): the first `return`
 * preference decides (a preference given more than once counts by its first instance, 7240 section 2),
 * its value may be a quoted string and may be followed by parameters after `;`, and names and values
 * compare without case. Other preferences are ignored (SPEC 5). Before, any `return=minimal` among
 * the preferences won, and a quoted one or one with a parameter did not count.
 */
const wantsMinimal = (prefer: string | undefined): boolean => {
  if (prefer === undefined) return false
  for (const p of prefer.split(",")) {
    const semi = p.indexOf(";")
    const preference = semi === -1 ? p : p.slice(0, semi)
    const eq = preference.indexOf("=")
    if ((eq === -1 ? preference : preference.slice(0, eq)).trim().toLowerCase() !== "return") continue
    const value = eq === -1 ? "" : preference.slice(eq + 1).trim()
    const unquoted = value.length >= 2 && value.startsWith("\"") && value.endsWith("\"") ? value.slice(1, -1) : value
    return unquoted.toLowerCase() === "minimal"
  }
  return false
}

/** `make` of the last arguments seen: made again only when one of them changes. */
const rememberLast = <A, B, R>(make: (a: A, b: B) => R): (a: A, b: B) => R => {
  let seen = false
  let lastA: A | undefined
  let lastB: B | undefined
  let last: R | undefined
  return (a, b) => {
    if (!seen || a !== lastA || b !== lastB) {
      seen = true
      lastA = a
      lastB = b
      last = make(a, b)
    }
    return last!
  }
}

/**
 * Request ids (SPEC 5: every answer carries a new GUID). A random version-4 GUID is drawn
 * once, and its last 48 bits count up from a random start (`from`, for tests): unique within
 * the process and, with 74 random bits besides, across processes and restarts. One short
 * string per request, where `randomUUID` assembles its text from 20 pieces (BENCHMARKS.md).
 *
 * @since 0.2.4
 */
export const requestIds = (from: number = randomInt(2 ** 47)): (() => string) => {
  const prefix = randomUUID().slice(0, 24)
  // The counter in two 24-bit halves: small integers, which V8 writes in hex quickly (a
  // number past 2³⁰ goes through a floating point remainder per digit, three times slower).
  const hex6 = (n: number) => n.toString(16).padStart(6, "0")
  let high = Math.floor(from / 2 ** 24) % 2 ** 24
  let low = from % 2 ** 24
  let head = prefix + hex6(high)
  return () => {
    const id = head + hex6(low)
    if (++low === 2 ** 24) {
      low = 0
      high = high === 2 ** 24 - 1 ? 0 : high + 1
      head = prefix + hex6(high)
    }
    return id
  }
}

/** How long `/ready` waits for the store before it answers 503 (a probe's own timeout is often 1–2 s). */
export const readyTimeoutMillis = 2_000

/** Why the store was unavailable, for the log: {@link Problem.causeChain} of the failure. */
const unavailableCause = (cause: Cause.Cause<unknown>): string => {
  const failure = cause.reasons.find(Cause.isFailReason)
  return Problem.causeChain(failure !== undefined ? failure.error : Cause.squash(cause))
}

/**
 * Makes the request listener. Its `continues` says whether a request sent with
 * `Expect: 100-continue` is to get `100 Continue` ({@link Listen.Listener}): not when its body is
 * declared over the limit (since 0.10.3).
 */
export const makeHandler = (options: HandlerOptions): Listen.Listener => {
  const verifier: Auth.Verifier = "verify" in options.auth ? options.auth : Auth.make(options.auth)
  const limiter = RateLimit.make(options.rateLimit ?? RateLimit.defaults)
  const nextRequestId = requestIds()
  const bodyLimit = options.bodyLimit ?? Body.defaultLimit
  const log = options.log
  const logFrom = options.logFrom ?? 0
  const metrics = options.metrics
  // A request's arrival is timed only for someone who reads its duration.
  const timed = log !== undefined || metrics !== undefined
  const context = options.context
  const run = Effect.runForkWith(context)
  const stampOf = Context.get(context, Store).stampOf
  // Read once: with tracing on (an OTLP exporter configured), each request's work runs in a
  // server span named by its route, continuing the caller's trace (`traceparent`, or B3).
  const traced = Context.get(context, References.TracerEnabled)
  const clock = Context.get(context, Clock.Clock)
  const timingEnabled = Context.get(context, References.TracerTimingEnabled)
  const makeSpan = Effect.runSyncWith(context)
  const sampler = options.sampler ?? Sampler.parentBasedAlwaysOn
  // Node's timers hold at most 2^31 - 1 ms: a longer deadline is none (it would fire at once).
  const requestDeadline = options.requestDeadlineMillis !== undefined && options.requestDeadlineMillis > 0 && options.requestDeadlineMillis <= 2_147_483_647
    ? options.requestDeadlineMillis
    : undefined
  const readyUntraced = Effect.withTracerEnabled(ready, false)
  const answers = stampOf !== undefined && options.answerCacheBytes !== 0 ? new AnswerCache(options.answerCacheBytes) : undefined
  const cors = options.cors !== undefined ? Cors.make(options.cors) : undefined
  let openApiText: string | undefined
  // Per-request strings a client sends the same way every time, made once for the last one seen:
  // the base URL (from the Host header), the rate limiter's client key, a kept answer's scope,
  // an answer's `@odata.context` (its path part is made once per path, see `Routes`).
  const publicBase = options.publicUrl !== undefined ? `${options.publicUrl}/beta` : undefined
  // The last Host seen, and whether it is one: a client sends the same one every time.
  let lastHost = ""
  let lastHostValid = false
  const validHost = (host: string): boolean => {
    if (host !== lastHost) {
      lastHost = host
      lastHostValid = hostPattern.test(host)
    }
    return lastHostValid
  }
  const baseFor = rememberLast((host: string | undefined, scheme: string) =>
    `${scheme}://${host !== undefined && hostPattern.test(host) ? host : "localhost"}/beta`
  )
  const baseOf = (host: string | undefined, scheme: string): string => publicBase ?? baseFor(host, scheme)
  const clientOf = rememberLast((tenant: string, subject: string) => `${tenant}\u0000${subject}`)
  const scopeOf = rememberLast((tenant: string, base: string) => `${tenant}\u0000${base}`)
  const contextOfAnswer = rememberLast(OData.context)
  const docsHtml = Docs.html
  // Handlers run in batches: the requests read in one turn of the event loop start together
  // right after it (`setImmediate`), in one synchronous run. Requests are answered in the
  // same turn they were read, the handler code runs hot, and the store makes its read cache
  // current once for the whole run: every request in it was read before the run began, so
  // one look at other processes' commits serves them all and reads stay linearizable.
  let batch: Array<() => void> = []
  const runBatch = () => {
    const starts = batch
    batch = []
    for (const start of starts) start()
  }
  const enqueueStart = (start: () => void) => {
    if (batch.push(start) === 1) setImmediate(runBatch)
  }

  // A request-log or metrics sink that throws: said once (a process warning), then its failures are
  // dropped; the answers go on.
  let sinkWarned = false
  const sinkFailed = (e: unknown) => {
    if (sinkWarned) return
    sinkWarned = true
    process.emitWarning(`the request log or metrics sink threw; answers are written regardless: ${e instanceof Error ? e.message : String(e)}`, "RequestSinkWarning")
  }

  /**
   * `refused`: a request pipelined past {@link maxWaitingOnConnection}, answered 503 unprocessed.
   * `arrived`: when the request came (`performance.now()`), for one that waited for its turn on
   * its connection (a pipelined one): its duration counts the wait (since 0.17.0; before, it
   * started with its turn, and a request queued behind slow ones looked fast in the log).
   */
  const listener = (req: IncomingMessage, res: ServerResponse, refused?: boolean, arrived?: number) => {
    const started = timed ? arrived ?? performance.now() : 0
    const requestId = nextRequestId()
    const clientRequestId = echoedClientRequestId(firstHeader(req.headers["client-request-id"]), requestId)
    const method = req.method ?? "GET"
    // Read at the start, only where requests are logged: once the client has gone (a reset before
    // the answer) the socket no longer knows it. Node asks the kernel once per connection and keeps it.
    const clientAddress = log !== undefined ? req.socket.remoteAddress : undefined
    // The route's log name, made only for a request that is logged.
    let routeName = "unmatched"
    let matched: Route | undefined
    let tenant: string | undefined
    let defect: unknown
    // Which singleton headers the request repeats (`repeatedSingletons`), read once at its start.
    let repeated = 0
    // With tracing on, the request's server span from its route's start until its answer's head
    // is written (see `serverSpan`); ended there with the answer's status.
    let span: Tracer.Span | undefined
    // The page's origin when this server lets it read the answer (only with CORS configured).
    // A batch's own requests carry none: CORS is the batch's answer's, as Graph's batch answers have none.
    const corsHere = cors !== undefined && !Object.hasOwn(req, batched) ? cors : undefined
    const allowOrigin = corsHere !== undefined ? corsHere.allowOrigin(firstHeader(req.headers.origin)) : undefined

    /**
     * Writes the status and headers, with the request ids every answer carries, in one call
     * (no `setHeader`), and counts and logs the request: every answer goes through here
     * exactly once.
     */
    const head = (status: number, headers: Record<string, string | number>) => {
      headers["request-id"] = requestId
      headers["client-request-id"] = clientRequestId
      // A preflight's 204 carries its own (see below).
      if (corsHere !== undefined) {
        if (allowOrigin !== undefined) {
          if (headers["access-control-allow-origin"] === undefined) Object.assign(headers, corsHere.answerHeaders(allowOrigin))
        } else if (corsHere.otherVary !== undefined) headers.vary = corsHere.otherVary
      }
      res.writeHead(status, headers)
      // Answered: the next request pipelined on the connection may run (a batch's own requests
      // share its connection and hold no turn of it).
      if (!Object.hasOwn(req, batched)) nextInTurn(req)
      // The answer is written whatever its counting or logging does (since 0.10.1: a sink that
      // threw after the head was written left the body unsent and the connection cut).
      try {
        if (span !== undefined) endSpan(span, status)
        if (metrics !== undefined) metrics.record(matched, routeName, method, status, (performance.now() - started) / 1000)
        if (log !== undefined && status >= logFrom) {
          log({
            method,
            route: matched !== undefined ? `${matched.method} /beta${matched.path}` : routeName,
            status,
            durationMs: Math.round((performance.now() - started) * 100) / 100,
            requestId,
            ...loggedClientRequestId(req.headers["client-request-id"]),
            tenant,
            clientAddress,
            forwardedFor: clipped(req.headers["x-forwarded-for"]),
            userAgent: clipped(req.headers["user-agent"]),
            ...(defect !== undefined ? { defect } : {})
          })
        }
      } catch (e) {
        sinkFailed(e)
      }
    }
    const send = (status: number, body: string, type: string, headers?: Readonly<Record<string, string>>) => {
      if (res.headersSent) return
      head(status, { ...headers, "content-type": type, "content-length": Buffer.byteLength(body) })
      res.end(body)
    }
    /**
     * Answers with a problem; with `cause`, a fault (logged as the defect). A fault after the
     * answer's head was written cannot be answered: the connection is closed instead.
     */
    const fail = (p: Problem.Problem, cause?: unknown) => {
      if (cause !== undefined) defect = cause
      if (res.headersSent) {
        if (!res.writableEnded) res.destroy()
        return
      }
      send(p.status, JSON.stringify(Problem.body(p, requestId, clientRequestId, new Date().toISOString())), "application/json; charset=utf-8", p.headers)
    }

    try {
      if (refused === true) {
        return fail({
          status: 503,
          code: "ServiceUnavailable",
          message: `Too many requests are pipelined on this connection: at most ${maxWaitingOnConnection} wait for the one in progress. ` +
            "This one was not processed; send it again once the answers before it have come",
          headers: { "retry-after": "1" }
        })
      }
      // HTTP/1.1 requires a Host header (RFC 9112 3.2): its absence is a 400 in the Graph error shape
      // (since 0.10.3; `Listen` turns Node's own check off, whose 400 had no body and closed the
      // connection, and a request pipelined behind it was processed and never answered). So are
      // two Host lines and a value that is not a host (since 0.15.0; before, the first was used,
      // and an invalid one made the answer's links name `localhost`). A batch's own requests carry
      // the batch's, checked with it.
      repeated = Object.hasOwn(req, batched) ? 0 : repeatedSingletons(req.rawHeaders)
      const host = req.headers.host
      if (host === undefined) {
        if (req.httpVersionMajor === 1 && req.httpVersionMinor === 1) {
          return fail(Problem.badRequest("The request has no Host header, which HTTP/1.1 requires"))
        }
      } else if ((repeated & HOST_REPEATED) !== 0 || (!Object.hasOwn(req, batched) && !validHost(host))) {
        return fail(Problem.badRequest("The request's Host header must be one host (a name or an IP literal, and an optional port) on one line"))
      }
      // The absolute form (`GET http://host/beta/… HTTP/1.1`, RFC 9112 3.2.2; since 0.15.0, before a
      // 404): served as its path, its authority taking the place of Host.
      if (req.url !== undefined && req.url.charCodeAt(0) !== 0x2f) {
        const absolute = absoluteForm(req.url)
        if (absolute !== undefined) {
          if (!validHost(absolute.authority)) return fail(Problem.badRequest("The request target's authority is not a host (a name or an IP literal, and an optional port)"))
          req.url = absolute.path
          req.headers.host = absolute.authority
        }
      }
      const transfer = transferRefusal(req.headers["transfer-encoding"])
      if (transfer !== undefined) return fail(transfer)
      // An expectation other than `100-continue` (`Listen` hands such requests over): RFC 9110 10.1.1's 417.
      const expect = req.headers.expect
      if (expect !== undefined && expect.trim().toLowerCase() !== "100-continue") {
        return fail({
          status: 417,
          code: "ExpectationFailed",
          message: `The expectation '${expect.slice(0, 100)}' cannot be met: this server meets only Expect: 100-continue`
        })
      }
      // A browser's preflight from an allowed origin, on any path: before routing, the token and
      // the rate limit (a browser sends no credentials with one; since 0.12.1).
      if (allowOrigin !== undefined && method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined) {
        routeName = "OPTIONS (CORS preflight)"
        head(204, { ...corsHere!.preflightHeaders(allowOrigin, firstHeader(req.headers["access-control-request-headers"])) })
        return res.end()
      }
      const url = req.url ?? "/"
      const q = url.indexOf("?")
      const rawPath = q === -1 ? url : url.slice(0, q)
      const search = q === -1 ? "" : url.slice(q + 1)

      if (!rawPath.startsWith("/beta/") && rawPath !== "/beta") {
        if (rawPath === "/health" && (method === "GET" || method === "HEAD")) {
          routeName = "/health"
          return send(200, JSON.stringify({ status: "ok" }), "application/json; charset=utf-8")
        }
        if (rawPath === "/ready" && (method === "GET" || method === "HEAD")) {
          routeName = "/ready"
          // Answered within the bound whatever the store does: a check still waiting then is
          // interrupted and not waited for (a store that stopped answering may not stop).
          // Untraced: a probe every few seconds would make a trace of its own each time.
          const fiber = run(readyUntraced)
          let late = false
          const timer = setTimeout(() => {
            late = true
            defect = `the store did not answer within ${readyTimeoutMillis} ms`
            fail(Problem.unavailable("The store is not ready"))
            fiber.interruptUnsafe()
          }, readyTimeoutMillis)
          fiber.addObserver((exit) => {
            clearTimeout(timer)
            if (late) return
            if (Exit.isSuccess(exit)) return send(200, JSON.stringify({ status: "ready" }), "application/json; charset=utf-8")
            defect = unavailableCause(exit.cause)
            fail(Problem.unavailable("The store is not ready"))
          })
          return
        }
        if ((rawPath === "/docs" || rawPath === "/docs/") && (method === "GET" || method === "HEAD")) {
          routeName = "/docs"
          return send(200, docsHtml, "text/html; charset=utf-8", {
            "content-security-policy": "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'"
          })
        }
        // A probe's or the docs' path with another method: 405, as on the API's paths (SPEC 6).
        if (readOnlyPaths.has(rawPath)) {
          routeName = rawPath === "/docs/" ? "/docs" : rawPath
          return fail(Problem.methodNotAllowed(method, ["GET", "HEAD"]))
        }
        return fail(Problem.notFound(`Resource not found for the segment '${rawPath.split("/")[1]?.slice(0, 100) ?? ""}'`))
      }
      const path = rawPath.slice(5) || "/"
      if (path === "/openapi.json") {
        routeName = "/beta/openapi.json"
        if (method !== "GET" && method !== "HEAD") return fail(Problem.methodNotAllowed(method, ["GET", "HEAD"]))
        openApiText ??= JSON.stringify(OpenApi.document(allRoutes, { batch: true }))
        return send(200, openApiText, "application/json; charset=utf-8")
      }

      if (batchPaths.has(path)) {
        routeName = "POST /beta/$batch"
        if (method !== "POST") return fail(Problem.methodNotAllowed(method, ["POST"]))
        return runBatchRequest(req, res, fail, send, requestId, clientRequestId, (n) => {
          if (n.tenant !== undefined) tenant = n.tenant
          if (n.defect !== undefined) defect = n.defect
        })
      }

      // HEAD is a GET whose answer's body Node leaves out (RFC 9110 9.3.2).
      const m = router.match(method === "HEAD" ? "GET" : method, path)
      if (m._tag === "BadPath") return fail(Problem.badRequest(m.message))
      if (m._tag === "NotFound") return fail(Problem.notFound(`Resource not found for the segment '${m.segment.slice(0, 100)}'${actionHint(m.segment, path)}`))
      if (m._tag === "MethodNotAllowed") return fail(Problem.methodNotAllowed(method, m.allow.includes("GET") ? [...m.allow, "HEAD"] : m.allow))
      const route = m.route
      matched = route

      // Two Authorization headers are refused, never read as the first (Node's `headers` keeps only it).
      const authed = (repeated & AUTHORIZATION_REPEATED) !== 0 ? Auth.repeatedAuthorization : verifier.verify(firstHeader(req.headers.authorization))
      if (authed instanceof Promise) {
        // What a callback throws fails this request, never the process (no unhandled rejection).
        authed.then((a) => {
          try {
            afterAuth(route, m.params, a, path, search)
          } catch (e) {
            fail(Problem.internal, e)
          }
        }, (e) => fail(Problem.internal, e))
      } else {
        afterAuth(route, m.params, authed, path, search)
      }
    } catch (e) {
      fail(Problem.internal, e)
    }

    function afterAuth(route: Route, params: Record<string, string>, a: Auth.AuthResult, path: string, search: string) {
      if (!a.ok) {
        if (a.cause !== undefined) defect = a.cause
        return fail(a.problem)
      }
      const principal = a.principal
      tenant = principal.tenant
      const wait = limiter.take(clientOf(principal.tenant, principal.subject))
      if (wait > 0) return fail(Problem.tooManyRequests(wait))
      if (!Permissions.allows(principal.permissions, route.permission)) {
        return fail(Problem.forbidden(`Insufficient privileges to complete the operation: it needs ${Permissions.needs(route.permission)}`))
      }
      const parsed = OData.parseQuery(search, route.query, route.selectable, route.derived, route.expandable, route.filterable, route.path)
      if (!parsed.ok) return fail(parsed.problem)
      if (route.request === undefined) return runRoute(route, params, principal.tenant, undefined, parsed.query, path, search)
      const refused = bodyRefusal(req.headers, repeated)
      if (refused !== undefined) return fail(refused)
      const withBody = (r: Body.ReadResult, now: boolean) => {
        if (!r.ok) return fail(r.problem)
        const p = Body.parse(r.bytes)
        if (!p.ok) return fail(p.problem)
        const ctx = contextOf(params, principal.tenant, p.value, parsed.query, path)
        if (now) start(route, ctx, search)
        else enqueue(route, ctx, search)
      }
      // The body is taken when the batch runs: by then the parser has usually read all of
      // it (it came with the headers), and it is taken synchronously; else it is read as it
      // comes and the request joins a later batch.
      // A coded body is decoded off the event loop and its request joins a later batch too.
      enqueueStart(() => {
        try {
          const now = Body.readNow(req, bodyLimit)
          if (now !== undefined) return withDecoded(now, req.headers, bodyLimit, withBody, fail)
          Body.read(req, bodyLimit, () => unreadRest(req, res)).then((r) => {
            try {
              withDecoded(r, req.headers, bodyLimit, (d) => withBody(d, false), fail)
            } catch (e) {
              fail(Problem.internal, e)
            }
          }, (e) => fail(Problem.internal, e))
        } catch (e) {
          fail(Problem.internal, e)
        }
      })
    }

    function baseUrl(): string {
      return baseOf(firstHeader(req.headers.host), (req.socket as { encrypted?: boolean }).encrypted ? "https" : "http")
    }

    function contextOf(params: Record<string, string>, tenantId: string, body: unknown, query: OData.Query, path: string): Ctx {
      return {
        params,
        tenant: tenantId,
        body,
        query,
        base: baseUrl(),
        path,
        ifMatch: firstHeader(req.headers["if-match"]),
        ifNoneMatch: firstHeader(req.headers["if-none-match"])
      }
    }

    function runRoute(route: Route, params: Record<string, string>, tenantId: string, body: unknown, query: OData.Query, path: string, search: string) {
      enqueue(route, contextOf(params, tenantId, body, query, path), search)
    }

    function enqueue(route: Route, ctx: Ctx, search: string) {
      enqueueStart(() => start(route, ctx, search))
    }

    function start(route: Route, ctx: Ctx, search: string) {
      try {
        // With tracing on, a request its sampler leaves out runs with the tracer off: no span at
        // all. Node's header names are lower case already; a repeated traceparent (Node joins
        // them) is not a valid one, and the request starts a trace of its own.
        let unsampled = false
        if (traced) {
          const caller = Sampler.callerOf(req.headers)
          if (Sampler.sampled(sampler, caller?.span, caller?.decided)) span = serverSpan(route, ctx, caller?.span)
          else unsampled = true
        }
        // A GET's answer depends only on the tenant's data and the request (its target, which
        // holds the path and query, the tenant and the base URL): it is served again while the
        // tenant's stamp has not moved.
        let keep: ((a: Answer) => void) | undefined
        if (answers !== undefined && route.method === "GET") {
          const key = req.url ?? ""
          const scope = scopeOf(ctx.tenant, ctx.base)
          const stamp = stampOf!(ctx.tenant)
          const hit = answers.get(key, stamp, scope)
          if (hit !== undefined) {
            span?.attribute("enrollment.answer.kept", true)
            if (ctx.query.expand === undefined && answeredConditionally(hit)) return
            return send(hit.status, hit.body, hit.type, hit.headers)
          }
          // Kept only when made in this synchronous run, at the stamp read above.
          keep = (a) => {
            if (stampOf!(ctx.tenant) === stamp) answers.set(key, stamp, a, scope)
          }
        }
        const work = route.handler(ctx)
        const fiber = run(span !== undefined ? Effect.withParentSpan(work, span) : unsampled ? Effect.withTracerEnabled(work, false) : work)
        const exit = fiber.pollUnsafe()
        if (exit !== undefined) reply(route, ctx, exit, search, keep)
        else {
          // Past the request's deadline: answered now, the work interrupted and not waited for.
          let timedOut = false
          const timer = requestDeadline === undefined ? undefined : setTimeout(() => {
            timedOut = true
            fail(
              Problem.unavailable(Problem.unavailableMessage),
              new Error(`the request did not finish within its deadline of ${requestDeadline} ms: its work was interrupted, its outcome is unknown`)
            )
            fiber.interruptUnsafe()
          }, requestDeadline)
          // A process stopping does not wait for it.
          timer?.unref()
          fiber.addObserver((e) => {
            if (timer !== undefined) clearTimeout(timer)
            if (timedOut) return
            try {
              reply(route, ctx, e, search)
            } catch (err) {
              fail(Problem.internal, err)
            }
          })
        }
      } catch (e) {
        fail(Problem.internal, e)
      }
    }

    /**
     * The request's server span: the caller's trace continued, the request's method and the
     * route's template as its name. It is the parent of the route's work, and it lasts until the
     * answer's head is written (`endSpan`), so it covers the answer's making too and carries its
     * status: an answer kept from an earlier request has one as well (since 0.13.0; before, the
     * span wrapped the route's work alone and ended with its outcome, so a domain refusal, a 404,
     * was an error and a 500 made after the work, in writing the answer, was not).
     */
    function serverSpan(route: Route, ctx: Ctx, parent: Tracer.ExternalSpan | undefined): Tracer.Span {
      return makeSpan(Effect.makeSpan(`${method} /beta${route.path}`, {
        kind: "server",
        attributes: {
          "http.request.method": method,
          "http.route": `/beta${route.path}`,
          "url.path": `/beta${ctx.path}`,
          "request.id": requestId,
          "enrollment.tenant": ctx.tenant
        },
        // Sampled, whatever the caller's flag: the sampler has decided (`always_on` records a trace
        // whose caller did not).
        sampled: true,
        ...(parent !== undefined ? { parent } : {})
      }))
    }

    /**
     * Ends the server span with the answer's status: `http.response.status_code`, and an error
     * only for a 5xx (OpenTelemetry's HTTP conventions: a server's 4xx is the client's, its span
     * not an error), with the defect the log names as its cause.
     */
    function endSpan(ended: Tracer.Span, status: number) {
      span = undefined
      ended.attribute("http.response.status_code", status)
      ended.end(
        timingEnabled ? clock.currentTimeNanosUnsafe() : 0n,
        status >= 500 ? Exit.die(defect ?? new Error(`answered ${status}`)) : Exit.void
      )
    }

    /** `conditional`: the answer's ETag stands for all of it (an entity without `$expand`), so the request's preconditions apply. */
    function answer(a: Answer, keep: ((a: Answer) => void) | undefined, conditional = false) {
      keep?.(a)
      if (!conditional || !answeredConditionally(a)) send(a.status, a.body, a.type, a.headers)
    }

    /**
     * An entity's GET (or HEAD) answer under the request's preconditions (since 0.15.0; RFC 9110
     * §13.2.2, `If-Match` first): an `If-Match` its ETag fails is a 412, an `If-None-Match` that
     * excludes it (`*`, or a list naming its tag) a 304 with its ETag and no body. True when it
     * answered so. A list, an answer kept from an earlier request included, has no ETag and is
     * answered whatever the headers say; so is a write, whose store decides them (`conditions`),
     * and an entity with `$expand`, whose ETag is the entity's alone (its expanded members may have
     * changed under an unchanged one: a review had a 304 hide a new assignment).
     */
    function answeredConditionally(a: Answer): boolean {
      const etag = a.headers?.etag
      if (etag === undefined || a.status !== 200 || (method !== "GET" && method !== "HEAD")) return false
      const ifMatch = firstHeader(req.headers["if-match"])
      const ifNoneMatch = firstHeader(req.headers["if-none-match"])
      if (ifMatch === undefined && ifNoneMatch === undefined) return false
      const failed = ETag.failed({ ifMatch, ifNoneMatch }, etag)
      if (failed === undefined) return false
      if (failed === "If-Match") fail(Problem.preconditionFailed("The entity has changed since the ETag given in If-Match"))
      else {
        head(304, { etag })
        res.end()
      }
      return true
    }

    function reply(route: Route, ctx: Ctx, exit: Exit.Exit<Reply, unknown>, search: string, keep?: (a: Answer) => void) {
      if (Exit.isFailure(exit)) {
        const cause = exit.cause
        const failure = cause.reasons.find(Cause.isFailReason)
        const p = failure !== undefined ? Problem.fromDomain(failure.error) : undefined
        if (p !== undefined) {
          if (p.status === 503) defect = unavailableCause(cause)
          return fail(p)
        }
        defect = failure !== undefined ? failure.error : Cause.squash(cause)
        return fail(Problem.internal)
      }
      const r = exit.value
      const minimal = (route.method === "PATCH" || route.method === "POST") && wantsMinimal(firstHeader(req.headers.prefer))
      switch (r._tag) {
        case "NoContent":
          head(204, {})
          return res.end()
        case "Text":
          return answer({ status: 200, body: r.text, type: "text/plain; charset=utf-8", headers: undefined }, keep)
        case "Entity": {
          // Under `$select` or `$expand` the context names the selected and expanded properties
          // (made for the request); without, it is the one remembered for the path.
          const select = ctx.query.select
          const list = OData.selectList(ctx.query)
          const context = list === undefined ? contextOfAnswer(ctx.base, r.context) : OData.context(ctx.base, OData.selectedContext(r.context, list))
          const out = OData.entityJson(r.value, select, context, route.method === "GET")
          // `$expand`ed members after the entity's own (not part of its ETag).
          const json = r.expanded === undefined ? out.json : `${out.json.slice(0, -1)},${JSON.stringify(r.expanded).slice(1)}`
          const headers: Record<string, string> = { etag: out.etag, "odata-version": "4.0" }
          // The new entity's URL: an id a path segment cannot name (`$count`) in the parenthesis form (since 0.8.1).
          // Under the route's declared segments (since 0.15.0; before, the path as sent, in its case),
          // each key in its slash form (or the parenthesis form `Id.keyPath` takes for `$…` and dot ids).
          if (r.status === 201) headers.location = `${ctx.base}${declaredPath(route.path, ctx.params)}${Id.keyPath(String(r.value.id))}`
          if (minimal) {
            headers["preference-applied"] = "return=minimal"
            // A create answered without its entity names it (OData 4.01 Protocol 8.3.4; since 0.18.0).
            if (headers.location !== undefined) headers["odata-entityid"] = headers.location
            head(204, headers)
            return res.end()
          }
          return answer({ status: r.status, body: json, type: JSON_TYPE, headers }, keep, r.expanded === undefined)
        }
        case "Collection": {
          const select = ctx.query.select
          const list = OData.selectList(ctx.query)
          const out: Record<string, unknown> = {
            "@odata.context": list === undefined ? contextOfAnswer(ctx.base, r.context) : OData.context(ctx.base, OData.selectedContext(r.context, list))
          }
          if (r.count !== undefined) out["@odata.count"] = r.count
          const expanded = r.expanded
          // Each item's text once, in order; the page ends after the item whose text reaches the
          // budget, where the list says how it continues (`keyOf`).
          const texts: Array<string> = []
          let chars = 0
          let next = r.next
          for (let k = 0; k < r.items.length; k++) {
            const i = r.items[k]!
            // Entity references (`…/$ref`) are written as they are: no ETag, no type, nothing to select.
            const e = r.references === true ? i : OData.entity(i, select)
            const text = JSON.stringify(expanded === undefined ? e : Object.assign(e, expanded[k]))
            texts.push(text)
            chars += text.length
            if (chars >= OData.pageTextBudget && k < r.items.length - 1 && r.keyOf !== undefined) {
              next = r.keyOf(i)
              break
            }
          }
          let tail = ""
          if (next !== undefined) {
            const params = new URLSearchParams(search)
            // The token came under any spelling of its name (`skiptoken`, `$SkipToken`): one is kept.
            for (const k of [...params.keys()]) if (OData.optionName(k) === "$skiptoken") params.delete(k)
            params.set("$skiptoken", OData.skipToken(next, OData.listOf(route.path)))
            tail = `,"@odata.nextLink":${JSON.stringify(`${ctx.base}${ctx.path}?${params.toString().replaceAll("%24", "$")}`)}`
          }
          const head = JSON.stringify(out)
          const body = `${head.slice(0, -1)},"value":[${texts.join(",")}]${tail}}`
          return answer({ status: 200, body, type: JSON_TYPE, headers: { "odata-version": "4.0" } }, keep)
        }
      }
    }
  }
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    if (afterLast(req, res)) {
      // Not processed, not answered: its body is dropped as it comes, and the connection closes
      // after the answer that said it would.
      req.resume()
      return
    }
    // A body declared over the limit is not read: whatever the answer (a 413, or a 401 or 404
    // found first), it is the connection's last.
    if (Body.declaredOver(req, bodyLimit)) closesAfter(req, res)
    // One request of a connection at a time, in the order sent (see `inTurn`).
    const arrived = timed ? performance.now() : 0
    const now = inTurn(req, () => listener(req, res, false, arrived))
    if (now === "now") listener(req, res, false, arrived)
    else if (now === "refused") {
      // Its answer is the connection's last: what comes after it is neither processed nor answered.
      closesAfter(req, res)
      listener(req, res, true, arrived)
    }
  }
  /**
   * An answer to a request Node refused before the handler saw it (`onClientError`,
   * `onConnect`): written with a request-id of this handler's sequence, counted under `unmatched`
   * and logged, as every other answer is (since 0.17.0; before, such answers were neither, and
   * their request-ids were random, found in no log).
   */
  const refuse: RawAnswer = (socket, p, reason, method) => {
    const requestId = nextRequestId()
    answerRaw(socket, p, reason, requestId)
    try {
      const label = method ?? Metrics.otherMethod
      if (metrics !== undefined) metrics.record(undefined, Metrics.unmatched, label, p.status, 0)
      if (log !== undefined && p.status >= logFrom) {
        log({
          method: label,
          route: Metrics.unmatched,
          status: p.status,
          durationMs: 0,
          requestId,
          tenant: undefined,
          clientAddress: (socket as { remoteAddress?: string }).remoteAddress
        })
      }
    } catch (e) {
      sinkFailed(e)
    }
  }
  return Object.assign(handler, { continues: (req: IncomingMessage) => !Body.declaredOver(req, bodyLimit), refuse })

  /**
   * `POST /beta/$batch` (see {@link Batch}): the batch's own token, rate-limit token and
   * body are checked (more than one `Authorization` header is a 401 for the whole batch),
   * then each of its requests runs through `listener` as one sent alone (its own token
   * check, permission, rate-limit token, request id and log line), with the batch's
   * `Authorization` and `Host`, and its answer is collected.
   */
  function runBatchRequest(
    req: IncomingMessage,
    res: ServerResponse,
    fail: (p: Problem.Problem, cause?: unknown) => void,
    send: (status: number, body: string, type: string) => void,
    requestId: string,
    clientRequestId: string,
    note: (n: { readonly tenant?: string; readonly defect?: unknown }) => void
  ) {
    const authorization = firstHeader(req.headers.authorization)
    const repeated = repeatedSingletons(req.rawHeaders)
    const internal = (defect: unknown) => fail(Problem.internal, defect)
    /** `f` for a promise's callback: what it throws fails the batch, never the process. */
    const guard = <A>(f: (a: A) => void) => (a: A) => {
      try {
        f(a)
      } catch (e) {
        internal(e)
      }
    }
    const withAuth = (a: Auth.AuthResult) => {
      if (!a.ok) {
        if (a.cause !== undefined) note({ defect: a.cause })
        return fail(a.problem)
      }
      note({ tenant: a.principal.tenant })
      const wait = limiter.take(clientOf(a.principal.tenant, a.principal.subject))
      if (wait > 0) return fail(Problem.tooManyRequests(wait))
      const refused = bodyRefusal(req.headers, repeated)
      if (refused !== undefined) return fail(refused)
      const withBody = (r: Body.ReadResult) => {
        if (!r.ok) return fail(r.problem)
        const p = Body.parse(r.bytes, Batch.maxDepth)
        if (!p.ok) return fail(p.problem)
        const planned = Batch.plan(p.value)
        if (!planned.ok) return fail(planned.problem)
        // An answer of its own, with ids of its own, as each request sent alone gets (the
        // request's `client-request-id` when it names one).
        const failedDependency = (step: Batch.Step, dependency: string): Batch.Written => {
          const id = nextRequestId()
          const clientId = echoedClientRequestId(step.headers["client-request-id"], id)
          unrun(step, id, a.principal.tenant, req)
          return {
            status: 424,
            headers: { "content-type": "application/json; charset=utf-8", "request-id": id, "client-request-id": clientId },
            text: JSON.stringify(Problem.body(
              { status: 424, code: "FailedDependency", message: `The request '${step.id}' depends on '${dependency}', which failed` },
              id,
              clientId,
              new Date().toISOString()
            ))
          }
        }
        Batch.runText(planned.steps, (step) => dispatch(req, authorization, step), failedDependency).then(
          guard((text) => send(200, text, "application/json; charset=utf-8")),
          internal
        )
      }
      const withRead = (r: Body.ReadResult) => withDecoded(r, req.headers, bodyLimit, guard(withBody), fail)
      const now = Body.readNow(req, bodyLimit)
      if (now !== undefined) return withRead(now)
      Body.read(req, bodyLimit, () => unreadRest(req, res)).then(guard(withRead), internal)
    }
    // The batch's own Authorization headers: more than one is refused before any of its requests runs.
    const authed = (repeated & AUTHORIZATION_REPEATED) !== 0 ? Auth.repeatedAuthorization : verifier.verify(authorization)
    if (authed instanceof Promise) authed.then(guard(withAuth), internal)
    else withAuth(authed)
  }

  /**
   * Counts and logs a batch's request that was not run (a 424: a request it depends on failed),
   * as the listener counts and logs every answer it writes, under the route the request names
   * (since 0.13.0; before, a client quoting such an answer's request-id found it in no log).
   */
  function unrun(step: Batch.Step, requestId: string, tenant: string, outer: IncomingMessage) {
    if (metrics === undefined && (log === undefined || 424 < logFrom)) return
    try {
      const q = step.target.indexOf("?")
      const path = (q === -1 ? step.target : step.target.slice(0, q)).slice("/beta".length) || "/"
      const m = router.match(step.method === "HEAD" ? "GET" : step.method, path)
      const route = m._tag === "Found" ? m.route : undefined
      // Outside the route table, the name the listener gives a fixed answer (`/beta/openapi.json`).
      const name = route === undefined ? Metrics.fixedRoutes.find((f) => f.name === `/beta${path}`)?.name ?? Metrics.unmatched : Metrics.unmatched
      metrics?.record(route, name, step.method, 424, 0)
      if (log !== undefined && 424 >= logFrom) {
        log({
          method: step.method,
          route: route !== undefined ? `${route.method} /beta${route.path}` : name,
          status: 424,
          durationMs: 0,
          requestId,
          ...loggedClientRequestId(step.headers["client-request-id"]),
          tenant,
          clientAddress: outer.socket.remoteAddress,
          forwardedFor: clipped(outer.headers["x-forwarded-for"]),
          userAgent: clipped(outer.headers["user-agent"])
        })
      }
    } catch (e) {
      sinkFailed(e)
    }
  }

  /** One request of a batch through `listener`: a request whose body has arrived, an answer that is collected. */
  function dispatch(outer: IncomingMessage, authorization: string | undefined, step: Batch.Step): Promise<Batch.Written> {
    return new Promise((resolve) => {
      const headers: Record<string, string> = { ...step.headers }
      // The batch's trace context, unless the request names its own: with tracing on, each
      // request's span is then a child of the caller's span, in the caller's trace.
      if (!traceHeaders.some((h) => Object.hasOwn(step.headers, h))) {
        for (const h of traceHeaders) {
          const v = firstHeader(outer.headers[h])
          if (v !== undefined) headers[h] = v
        }
      }
      if (authorization !== undefined) headers.authorization = authorization
      // Who sent it, as the log tells (since 0.17.0): the batch's sender, as its proxy and client
      // said, never what the batch's JSON says (a client could pin its requests on any address).
      delete headers["x-forwarded-for"]
      delete headers["user-agent"]
      for (const h of ["x-forwarded-for", "user-agent"] as const) {
        const v = outer.headers[h]
        if (v !== undefined) headers[h] = Array.isArray(v) ? v.join(", ") : v
      }
      const host = firstHeader(outer.headers.host)
      if (host !== undefined) headers.host = host
      if (step.body !== undefined) headers["content-length"] = String(step.body.length)
      let body = step.body ?? null
      const inner = {
        [batched]: true,
        method: step.method,
        url: step.target,
        headers,
        complete: true,
        socket: outer.socket,
        read: () => {
          const b = body
          body = null
          return b
        },
        pause: () => inner
      }
      let status = 200
      let written: Record<string, string | number> = {}
      let ended = false
      const answer = {
        headersSent: false,
        writeHead(s: number, h?: Record<string, string | number>) {
          status = s
          written = h ?? {}
          answer.headersSent = true
          return answer
        },
        end(text?: string) {
          ended = true
          resolve({ status, headers: written, text: text ?? "" })
          return answer
        },
        // Only a 413 listens (to close the connection): the batch's connection stays open.
        once: () => answer,
        get writableEnded() {
          return ended
        },
        // A fault after the head was written: the request is answered with what it had.
        destroy() {
          if (!ended) {
            ended = true
            resolve({ status: status === 200 ? 500 : status, headers: written, text: "" })
          }
          return answer
        }
      }
      listener(inner as unknown as IncomingMessage, answer as unknown as ServerResponse)
    })
  }
}

/** The most requests that may wait for their turn on one connection (see {@link inTurn}). */
export const maxWaitingOnConnection = 32

const running: unique symbol = Symbol("the connection's requests started and not yet answered")
const unsafeRunning: unique symbol = Symbol("one of the connection's requests running is not safe")
const waiting: unique symbol = Symbol("the requests waiting for their turn on the connection")
/**
 * On a request refused a turn (past {@link maxWaitingOnConnection}): it does not count among its
 * connection's `running`. Every other request through the handler does, until its answer's head is
 * written (marking the rare refusal, not every request: a property added to each request would
 * give Node's own code two shapes of it).
 */
const refusedTurn: unique symbol = Symbol("the request was refused a turn on its connection")
/** A connection's turns. */
interface Turns {
  [running]?: number | undefined
  [unsafeRunning]?: boolean | undefined
  [waiting]?: Array<{ readonly safe: boolean; readonly start: () => void }> | undefined
}
type Turned = IncomingMessage & { [refusedTurn]?: boolean }

/** GET and HEAD (RFC 9110 9.2.1): what may run beside each other on a connection. */
const isSafe = (method: string | undefined): boolean => method === "GET" || method === "HEAD"

/** Whether a request of safety `safe` may start now on `turns`, none waiting before it. */
const mayStart = (turns: Turns, safe: boolean): boolean => {
  const n = turns[running]
  return n === undefined || n === 0 || (safe && turns[unsafeRunning] !== true)
}

const begin = (turns: Turns, safe: boolean): void => {
  turns[running] = (turns[running] ?? 0) + 1
  if (!safe) turns[unsafeRunning] = true
}

/**
 * Whether `req` may run now (`"now"`): what runs on its connection is safe as it is (a GET or
 * HEAD beside GETs and HEADs), or nothing runs; it runs until its answer's head is written
 * ({@link nextInTurn}). Else it waits (`"later"`: `start` runs when its turn comes), or, with
 * {@link maxWaitingOnConnection} waiting already, is refused unprocessed (`"refused"`: a 503 sent
 * after the answers before it, which closes the connection, so nothing sent after it runs before it
 * is sent again). Since 0.15.0: Node parses the requests a client pipelines and hands them over at
 * once, and a request whose body was still arriving, or was decoded off the event loop, ran after
 * one sent behind it: two PATCHes of one entity were stored in the opposite order to their answers,
 * a GET read the state from before the PATCH ahead of it. RFC 9112 9.3.2 lets a server run pipelined
 * requests in parallel only when they are all safe: so do these turns. A client that does not
 * pipeline (most, and every load run here) starts each request at once. The bound keeps a client
 * from parking requests without end: an answer written makes Node's backpressure stop reading the
 * connection once the answers queued pass its high-water mark, a request waiting does not.
 */
const inTurn = (req: Turned, start: () => void): "now" | "later" | "refused" => {
  const turns = req.socket as Turns | null
  if (turns == null) return "now"
  const safe = isSafe(req.method)
  const queue = turns[waiting]
  if ((queue === undefined || queue.length === 0) && mayStart(turns, safe)) {
    begin(turns, safe)
    return "now"
  }
  if (queue !== undefined && queue.length >= maxWaitingOnConnection) {
    req[refusedTurn] = true
    return "refused"
  }
  ;(turns[waiting] ??= []).push({ safe, start })
  return "later"
}

/**
 * `req`'s answer is written: when it ran in its connection's turns, the requests waiting that may
 * run now start, in order, in a later turn of the event loop.
 */
const nextInTurn = (req: Turned): void => {
  const turns = req.socket as Turns | null
  if (turns == null || req[refusedTurn] === true) return
  const n = (turns[running] ?? 1) - 1
  turns[running] = n
  if (n === 0) turns[unsafeRunning] = false
  const queue = turns[waiting]
  while (queue !== undefined && queue.length > 0 && mayStart(turns, queue[0]!.safe)) {
    const next = queue.shift()!
    begin(turns, next.safe)
    setImmediate(next.start)
  }
}

/**
 * By connection, the request whose answer closes it (`Connection: close`: the client asked for
 * it, the server is stopping, or the request's body is not read whole: {@link closesAfter}).
 * Each is marked as it is parsed, before Node parses the requests pipelined behind it.
 */
const lastOnConnection = new WeakMap<object, IncomingMessage>()

/**
 * Whether `req` came on its connection after a request whose answer closes the connection, and
 * is to be neither processed nor answered, as RFC 9112 9.6 has a server that sends `close` do;
 * marks `req` as that request when its own answer will close it. Before 0.10.2 a request
 * pipelined after such a request was processed, but its answer was never written (Node closes
 * the connection after the answer marked last): a write applied that the client saw go
 * unanswered, as a request the server never read is (since 0.10.2). Requests pipelined behind
 * others are otherwise processed at once, as before, and Node writes their answers in order.
 */
const afterLast = (req: IncomingMessage, res: ServerResponse): boolean => {
  const last = lastOnConnection.get(req.socket)
  if (last !== undefined) return last !== req
  if (res.shouldKeepAlive === false && req.socket != null) lastOnConnection.set(req.socket, req)
  return false
}

/**
 * Makes the answer to `req`, whatever it is, the last on its connection, which then closes as
 * {@link lingeringClose} says: for a request whose body the server will not read whole (declared
 * over the limit, or grown past it). Called as the request is parsed, before any request
 * pipelined behind it is: those are then neither processed nor answered ({@link afterLast}).
 */
const closesAfter = (req: IncomingMessage, res: ServerResponse): void => {
  res.shouldKeepAlive = false
  lingeringClose(req)
}

/**
 * A body that grew past the limit as it was read: when the rest of it has not arrived, the
 * connection closes after the 413 ({@link closesAfter}); when it has (the request is complete,
 * its bytes in the request's buffer), the connection is in step and goes on, as after any answer.
 */
const unreadRest = (req: IncomingMessage, res: ServerResponse): void => {
  if (!req.complete) closesAfter(req, res)
}

/**
 * How long, at most, the server goes on reading (and dropping) the body of a request it does not
 * read whole (a 413's) before closing the connection: see {@link lingeringClose}.
 *
 * @since 0.10.2
 */
export const lingerMillis = 2_000

/**
 * Makes the close that follows the answer to `req` (a request whose body is not read whole: a
 * 413, or an answer found before the body, the connection's last) the staged close of RFC 9112 9.6: once the answer is written, the
 * server's side of the connection is closed (its FIN follows the answer), and what the client
 * still sends is read and dropped, never buffered, until the request's body ends, the client
 * closes its side or {@link lingerMillis} pass; then the connection is closed. Node closes it
 * whole as soon as the answer is written: the rest of the body then meets a closed socket, which
 * the kernel answers with a reset, and a client still writing it (undici's fetch, curl) fails
 * with EPIPE or ECONNRESET, often before it read the 413 (since 0.10.2). Node calls the socket's
 * `destroySoon` to close a connection whose answer was its last: this request's socket gets its
 * own.
 */
const lingeringClose = (req: IncomingMessage): void => {
  const socket = req.socket
  lastOnConnection.set(socket, req)
  // An own property over the prototype's, for this socket; deleted when called.
  socket.destroySoon = () => {
    delete (socket as { destroySoon?: unknown }).destroySoon
    let flushed = false
    let drained = req.complete
    const close = () => {
      clearTimeout(bound)
      socket.destroy()
    }
    const bound = setTimeout(close, lingerMillis)
    bound.unref()
    const closeIfDone = () => {
      if (flushed && drained) close()
    }
    // The rest of the body, dropped as it comes: a reader's listeners go, and the stream flows.
    req.removeAllListeners("data")
    req.on("error", () => {}) // a client's reset now is the end of it, as `close` says
    req.resume()
    req.once("end", () => {
      drained = true
      closeIfDone()
    })
    socket.once("end", () => {
      drained = true
      closeIfDone()
    })
    // Closed when the answer and the FIN are written (`finish`), not before: that would drop them.
    socket.once("finish", () => {
      flushed = true
      closeIfDone()
    })
    socket.once("close", () => clearTimeout(bound))
    socket.end()
  }
}

/** The connections whose refusal ({@link onClientError}) waits for an answer in progress. */
const refusing = new WeakSet<object>()

/** What {@link onClientError} answers for each kind of refusal Node makes, with its status line's reason. */
const clientProblem = (code: string | undefined): { readonly problem: Problem.Problem; readonly reason: string } => {
  switch (code) {
    case "HPE_HEADER_OVERFLOW":
      return { problem: { status: 431, code: "RequestHeaderFieldsTooLarge", message: "The request headers are too large" }, reason: "Request Header Fields Too Large" }
    // Node's `headersTimeout` (the head not complete in time) or `requestTimeout` (the whole request).
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return {
        problem: { status: 408, code: "RequestTimeout", message: "The request was not received in time: send it again, whole" },
        reason: "Request Timeout"
      }
    default:
      return { problem: Problem.badRequest("The request is not valid HTTP"), reason: "Bad Request" }
  }
}

/** A route's path with its parameters filled in, each in its key form (`Id.keyPath`). */
const declaredPath = (template: string, params: Readonly<Record<string, string>>): string =>
  template.replace(/\/\{(\w+)\}/g, (_, name: string) => Id.keyPath(params[name] ?? ""))

/**
 * Writes an answer straight on a connection and closes it: one to a request the handler never
 * sees, `method` its method where Node read one (a `CONNECT`). `Listen` passes the handler's
 * (`makeHandler`'s `refuse`), which also counts and logs it.
 */
export type RawAnswer = (socket: import("node:stream").Duplex, p: Problem.Problem, reason: string, method?: string) => void

/** Writes `p` straight on `socket` and closes it: an answer to a request the handler never sees. */
const answerRaw = (socket: import("node:stream").Duplex, p: Problem.Problem, reason: string, requestId: string = randomUUID()): void => {
  const body = JSON.stringify(Problem.body(p, requestId, requestId, new Date().toISOString()))
  let extra = ""
  for (const [k, v] of Object.entries(p.headers ?? {})) extra += `${k}: ${v}\r\n`
  socket.end(
    `HTTP/1.1 ${p.status} ${reason}\r\n` +
      `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}` +
      `request-id: ${requestId}\r\nclient-request-id: ${requestId}\r\nconnection: close\r\n\r\n${body}`
  )
}

/**
 * Answers a `CONNECT` (Node hands it to the server's `connect` listener, and destroys the socket
 * without a byte when there is none): 405 with `Allow`, in the error shape (since 0.15.0).
 */
export const onConnect = (req: IncomingMessage, socket: import("node:stream").Duplex, answer: RawAnswer = answerRaw): void => {
  if (!socket.writable) {
    socket.destroy()
    return
  }
  // Pipelined behind requests still being answered: after their answers, as `onClientError` does
  // (found in review: written at once, the 405 was read as the answer to the PATCH before it, which
  // had been applied, and that PATCH's own answer was never written).
  const inFlight = (socket as { _httpMessage?: ServerResponse | null })._httpMessage
  if (inFlight != null) {
    inFlight.once("finish", () => onConnect(req, socket, answer))
    return
  }
  answer(socket, Problem.methodNotAllowed("CONNECT", Cors.allowedMethods.split(", ")), "Method Not Allowed", "CONNECT")
}

/**
 * Answers requests Node refuses before the handler runs (malformed HTTP, headers over the
 * size limit, a request not received within Node's timeouts: 408 since 0.8.0, before a 400)
 * in the error shape rather than with an empty body.
 */
export const onClientError = (error: NodeJS.ErrnoException, socket: import("node:stream").Duplex, answer: RawAnswer = answerRaw): void => {
  if (!socket.writable || (error.code === "ECONNRESET")) {
    socket.destroy()
    return
  }
  // Bytes after a request that asked to close the connection (`Connection: close`): RFC 9112 9.6
  // has them ignored. The connection closes after that request's answer, which Node has marked last.
  if (error.code === "HPE_CLOSED_CONNECTION") return
  // An answer still being made or written on the connection to a request read whole before these
  // bytes (one pipelined before them): this answer is written after it and those queued behind it,
  // never in their midst (since 0.10.2; before, it was written at once, and a client read it as the
  // answer to its earlier request). An error within the request being answered (its body's
  // chunks, its time) is that request's answer, written at once, as before.
  const inFlight = (socket as { _httpMessage?: ServerResponse | null })._httpMessage
  if (inFlight != null && inFlight.req?.complete === true) {
    // Once per connection: Node's failed parser reports the same error again for every chunk that
    // follows (a review counted 1 545 listeners, holding 90 MB of chunks, for 1 500 chunks).
    if (refusing.has(socket)) return
    refusing.add(socket)
    inFlight.once("finish", () => {
      refusing.delete(socket)
      onClientError(error, socket, answer)
    })
    return
  }
  const { problem: p, reason } = clientProblem(error.code)
  // An error within the request being answered (its body's chunks, its time) is that request's
  // answer: the listener counts and logs the request as its own, so this one is only written (the
  // diff's review: counted and logged by both, it was two answers in the log for one request).
  if (inFlight != null) answerRaw(socket, p, reason)
  else answer(socket, p, reason)
}
