/**
 * Remote mode: operations become Graph HTTP requests against `--base-url`
 * (e.g. `http://127.0.0.1:8080/beta`), sent with `fetch`. Lists follow
 * `@odata.nextLink`. With `--debug` the exchange is printed to stderr, the
 * bearer token redacted. Every request the server throttles (429) or cannot
 * serve for now (503) is retried as its `Retry-After` says, within the bounds
 * of {@link retry}. Each attempt of a request has the run's timeout (`--timeout`,
 * `ENROLLCTL_TIMEOUT`, default 100 s) to be answered whole, headers and body, else it is aborted
 * and fails ({@link timedOut}); the waits between retries are bounded by the retry budget instead.
 *
 * Its credentials too (below): the token remote mode sends, given (checked
 * against `--tenant`) or minted with the server's HS256 secret, and `enrollctl
 * token`, which mints one.
 *
 * @since 0.1.0
 */
import { Id, MergePatch } from "@enrollment/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { Backend, MintedTokens, type RemoteSettings } from "./Backend.ts"
import { classOfStatus } from "./ExitCode.ts"
import { CommandFailed, usage } from "./Failure.ts"
import type { Answer, MemberType, Operation, Parent } from "./Operation.ts"
import { type Claims, mint as mintFromDataDir, modeOf, print, settingsOf } from "./Runtime.ts"
import {
  defaultDataDir,
  defaultTenant,
  type Globals,
  given,
  headerValueProblem,
  origin,
  type Resolved,
  type Timeout,
  withEnvironment
} from "./Settings.ts"

/** One HTTP request of an operation. */
export interface Request {
  readonly method: "GET" | "POST" | "PATCH" | "DELETE"
  readonly path: string
  readonly query?: Record<string, string> | undefined
  readonly body?: unknown
  readonly headers?: Record<string, string> | undefined
  /**
   * Whether the request may write, where its method alone does not say: a `POST $batch` writes
   * only when one of its requests does (`Batch.writes`). Without it, the method says
   * ({@link isWrite}). A request that does not write is never said to "may have been written",
   * and its 503 is retried as a read's.
   */
  readonly writes?: boolean | undefined
}

/**
 * A key's path under its collection: `users/u1`, the id percent-encoded (core's `Id.keyPath`). An
 * id `.` or `..` (a valid key, SPEC 2) is written in the parenthesis
 * form, `users('.')`, which addresses the same entity: as a path segment of its own, every URL
 * parser reads it as a dot segment and drops it (`users/.` would ask for the list of users,
 * `users/..` for the service root). So is an id beginning with `$` (since 0.4.1): `users/$count`
 * or `users/%24count` is the count of users.
 */
export const key = (collection: string, id: string): string => `${collection}${Id.keyPath(id)}`

const prefix = (parent: Parent): string => {
  switch (parent._tag) {
    case "Tenant":
      return "deviceManagement"
    case "User":
      return key("users", parent.userId)
    case "Invitation":
      return `${key("invitations", parent.invitationId)}/invitedUser`
  }
}

const ifMatch = (v: string | undefined) => v === undefined ? undefined : { "If-Match": v }

/** The HTTP request of an operation (lists: their first page). */
export const requestOf = (op: Operation): Request => {
  switch (op._tag) {
    case "assignments.list":
    case "assignments.create": {
      const path = `${prefix(op.parent)}/${key("deviceEnrollmentConfigurations", op.configurationId)}/assignments`
      if (op._tag === "assignments.create") return { method: "POST", path, body: op.body }
      return { method: "GET", path, query: { ...topQuery(op.list.top), ...option("$filter", op.filter) } }
    }
    case "assignments.get":
    case "assignments.patch":
    case "assignments.delete": {
      const path = `${prefix(op.parent)}/${key("deviceEnrollmentConfigurations", op.configurationId)}/${key("assignments", op.id)}`
      if (op._tag === "assignments.get") return { method: "GET", path }
      if (op._tag === "assignments.patch") return { method: "PATCH", path, body: op.body, headers: ifMatch(op.ifMatch) }
      return { method: "DELETE", path, headers: ifMatch(op.ifMatch) }
    }
    case "configurations.list":
      return {
        method: "GET",
        path: `${prefix(op.parent)}/deviceEnrollmentConfigurations`,
        query: { ...topQuery(op.list.top), ...option("$expand", op.expand), ...option("$filter", op.filter) }
      }
    case "configurations.get":
      return { method: "GET", path: `${prefix(op.parent)}/${key("deviceEnrollmentConfigurations", op.id)}`, query: option("$expand", op.expand) }
    case "configurations.create":
      return { method: "POST", path: "deviceManagement/deviceEnrollmentConfigurations", body: op.body }
    case "configurations.patch":
      return {
        method: "PATCH",
        path: `deviceManagement/${key("deviceEnrollmentConfigurations", op.id)}`,
        body: op.body,
        headers: ifMatch(op.ifMatch)
      }
    case "configurations.delete":
      return { method: "DELETE", path: `deviceManagement/${key("deviceEnrollmentConfigurations", op.id)}`, headers: ifMatch(op.ifMatch) }
    case "configurations.assign":
      return { method: "POST", path: `deviceManagement/${key("deviceEnrollmentConfigurations", op.id)}/assign`, body: op.body, headers: ifMatch(op.ifMatch) }
    case "configurations.setPriority":
      return {
        method: "POST",
        path: `deviceManagement/${key("deviceEnrollmentConfigurations", op.id)}/setPriority`,
        body: op.body,
        headers: ifMatch(op.ifMatch)
      }
    case "users.list":
      return { method: "GET", path: "users", query: { ...topQuery(op.list.top), ...option("$filter", op.filter) } }
    case "users.get":
      return { method: "GET", path: key("users", op.id) }
    case "users.create":
      return { method: "POST", path: "users", body: op.body }
    case "users.patch":
      return { method: "PATCH", path: key("users", op.id), body: op.body, headers: ifMatch(op.ifMatch) }
    case "users.delete":
      return { method: "DELETE", path: key("users", op.id), headers: ifMatch(op.ifMatch) }
    case "groups.list":
      return { method: "GET", path: "groups", query: { ...topQuery(op.list.top), ...option("$filter", op.filter) } }
    case "groups.get":
      return { method: "GET", path: key("groups", op.id) }
    case "groups.create":
      return { method: "POST", path: "groups", body: op.body }
    case "groups.delete":
      return { method: "DELETE", path: key("groups", op.id), headers: ifMatch(op.ifMatch) }
    case "members.list":
      return { method: "GET", path: `${key("groups", op.groupId)}/members${cast(op.type)}`, query: topQuery(op.list.top) }
    case "transitiveMembers.list":
      return { method: "GET", path: `${key("groups", op.groupId)}/transitiveMembers${cast(op.type)}`, query: topQuery(op.list.top) }
    case "memberOf.list":
      return {
        method: "GET",
        path: `${key(op.member.kind === "user" ? "users" : "groups", op.member.id)}/${op.transitive ? "transitiveMemberOf" : "memberOf"}`,
        query: topQuery(op.list.top)
      }
    case "members.add":
      return { method: "POST", path: `${key("groups", op.groupId)}/members/$ref`, body: op.body }
    case "members.remove":
      return { method: "DELETE", path: `${key("groups", op.groupId)}/${key("members", op.memberId)}/$ref` }
    case "invitations.list":
      return { method: "GET", path: "invitations", query: { ...topQuery(op.list.top), ...option("$filter", op.filter) } }
    case "invitations.get":
      return { method: "GET", path: key("invitations", op.id) }
    case "invitations.create":
      return { method: "POST", path: "invitations", body: op.body }
    case "invitations.invitedUser":
      return { method: "GET", path: `${key("invitations", op.invitationId)}/invitedUser` }
  }
}

/** The cast segment narrowing a member list to one type (none: every member). */
const cast = (type: MemberType | undefined): string => (type === undefined ? "" : `/microsoft.graph.${type}`)

const topQuery = (top: number | undefined): Record<string, string> =>
  top === undefined ? {} : { $top: String(Math.min(top, 999)) }

/** A query option given as a flag (`--filter`: `$filter`), sent as it was given; none when absent. */
const option = (name: string, value: string | undefined): Record<string, string> => value === undefined ? {} : { [name]: value }

const contextSuffix = "@odata.context"
const nextLinkSuffix = "@odata.nextLink"

/**
 * An entity without its contexts: the response-level `@odata.context`, and the
 * `<navigation>@odata.context` of each expanded navigation property (the CLI
 * prints no context, in either mode: local mode has no service root to write one
 * with; `--debug` shows them as the server sent them).
 */
const strip = (value: Record<string, unknown>): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  // An own property, set so: a property named `__proto__` is kept, as local mode keeps it.
  for (const [k, v] of Object.entries(value)) if (!k.endsWith(contextSuffix)) MergePatch.setOwn(out, k, v)
  return out
}

/** The navigation properties the server expanded into these entities (each has its `<name>@odata.context`). */
const expandedIn = (values: ReadonlyArray<Record<string, unknown>>): ReadonlyArray<string> | undefined => {
  const names = new Set<string>()
  for (const v of values) {
    for (const k of Object.keys(v)) if (k.endsWith(contextSuffix) && k !== contextSuffix) names.add(k.slice(0, -contextSuffix.length))
  }
  return names.size === 0 ? undefined : [...names]
}

/** An answer of entities, their contexts dropped, naming what the server expanded into them. */
const withExpanded = <A extends Answer>(answer: A, values: ReadonlyArray<Record<string, unknown>>): A => {
  const expanded = expandedIn(values)
  return expanded === undefined ? answer : { ...answer, expanded }
}

/** The printable form of headers, with the bearer token redacted. */
export const redactHeaders = (headers: Iterable<[string, string]>): string =>
  [...headers].map(([k, v]) => `${k}: ${k.toLowerCase() === "authorization" ? v.replace(/^(\S+)\s.*$/, "$1 [redacted]") : v}`)
    .join("\n")

interface Response {
  readonly status: number
  /** The body parsed as JSON; its text when it is not JSON; undefined when empty. */
  readonly body: unknown
  readonly headers: Headers
  /** Whether the body is text that is not JSON (a web page, say). */
  readonly notJson?: boolean | undefined
}

/** A client of the Graph API at `settings.baseUrl`. */
export const client = (settings: RemoteSettings) => {
  const base = settings.baseUrl.replace(/\/+$/, "")
  const debug = (text: string) => {
    if (settings.debug) process.stderr.write(text.endsWith("\n") ? text : `${text}\n`)
  }

  const { timeout } = settings
  const tokens = renewing(settings)
  const limit = timeout.ms === undefined
    ? `no timeout of enrollctl's own: ${timeout.from} is 0`
    : `timeout ${timeout.seconds} s: ${timeout.from === "the default" ? "the default" : timeout.from}`

  /**
   * One attempt of a request: its answer, headers and body, read whole within the timeout
   * (`--timeout`), else the request is aborted and fails with {@link timedOut}.
   */
  const once = (method: string, url: string, body: unknown, extra: Record<string, string> | undefined, writes: boolean) => {
    const expired = new AbortController()
    // Whether fetch was called: a failure before (the headers refused) sent nothing.
    let called = false
    return Effect.flatMap(tokens.current, (token) => Effect.tryPromise({
      try: async (signal): Promise<Response> => {
        const timer = timeout.ms === undefined ? undefined : setTimeout(() => expired.abort(), timeout.ms)
        try {
          const headers = new Headers({ Accept: "application/json", Authorization: `Bearer ${token}`, ...extra })
          const text = body === undefined ? undefined : JSON.stringify(body)
          if (text !== undefined) headers.set("Content-Type", "application/json")
          debug(`> ${method} ${url} (${limit})\n${redactHeaders(headers)}${text === undefined ? "" : `\n\n${text}`}\n`)
          called = true
          const res = await fetch(url, { method, headers, signal: AbortSignal.any([signal, expired.signal]), ...(text === undefined ? {} : { body: text }) })
          const raw = await res.text()
          debug(`< ${res.status} ${res.statusText}\n${redactHeaders(res.headers)}${raw === "" ? "" : `\n\n${raw}`}\n`)
          let parsed: unknown = undefined
          let notJson = false
          if (raw !== "") {
            try {
              parsed = JSON.parse(raw)
            } catch {
              parsed = raw
              notJson = true
            }
          }
          return { status: res.status, body: parsed, headers: res.headers, notJson }
        } finally {
          clearTimeout(timer)
        }
      },
      catch: (cause) => {
        if (expired.signal.aborted) {
          debug(`(no complete answer within ${timeout.seconds} s: the request was aborted)`)
          return timedOut(method, url, timeout, cause, writes)
        }
        const code = (cause as any)?.cause?.code
        const e = new CommandFailed({
          code: "ConnectionFailed",
          detail: `cannot reach ${base}: ${code ?? (badPort(cause) ? refusedPort(url) : undefined) ?? (cause as Error)?.message ?? String(cause)}`,
          exit: "other",
          cause
        })
        // A connection that was never made sent nothing; any other break may have come once the
        // server had the write, and the message says so, as a timed-out write's does. A request
        // that writes nothing (a read; a batch of reads, sent as a POST) says that instead.
        if (!called || neverSent(cause)) return e
        return writes ? maybeWritten(e, "a write whose connection broke once sent is not retried") : wroteNothing(method, e)
      }
    }))
  }

  /**
   * Sends a request, retrying it on 429 and 503 as {@link retry} says; a status of 400 or more
   * fails. `cut` fails when a wait for a retry is to end at once (import's stop signal), failing
   * the request with its error: the request is not sent again, and nothing of it landed (a
   * retried answer is one whose request did nothing). A request on the wire is not cut.
   */
  const send = <E = never>(
    method: string,
    url: string,
    body: unknown,
    extra: Record<string, string> | undefined,
    cut: Effect.Effect<never, E> = Effect.never,
    writes: boolean = isWrite(method)
  ) => {
    const attempt = (retries: number, waitedMs: number): Effect.Effect<Response, CommandFailed | E> =>
      Effect.flatMap(once(method, url, body, extra, writes), (res) => {
        if (res.status < 400) return res.notJson === true ? Effect.fail(notTheService(method, url, res, writes)) : Effect.succeed(res)
        // Not retried, a 503 is a write's (a read's is retried): it may have been written.
        if (!retried(method, res.status, writes)) {
          const failure = failureOfAnswer(method, url, res)
          return Effect.fail(res.status === 503 ? maybeWritten(failure) : failure)
        }
        const waitMs = retryAfterMs(res.headers.get("retry-after"), retries)
        if (retries >= retry.retries || waitedMs + waitMs > retry.budgetMs) {
          return Effect.fail(gaveUp(failureOfAnswer(method, url, res), retries, waitedMs, waitMs))
        }
        debug(`(${res.status}: retry ${retries + 1} of at most ${retry.retries} in ${waitMs / 1000} s)`)
        return Effect.andThen(Effect.raceFirst(Effect.sleep(waitMs), cut), Effect.suspend(() => attempt(retries + 1, waitedMs + waitMs)))
      })
    return attempt(0, 0)
  }

  const urlOf = (req: Request) => {
    // Under the base URL always: a next link is requested by `nextPage` alone, which checks it.
    const url = new URL(`${base}/${req.path}`)
    for (const [k, v] of Object.entries(req.query ?? {})) url.searchParams.set(k, v)
    return url.toString()
  }

  /**
   * The page a next link leads to: the one piece of code that follows `@odata.nextLink`, for
   * every list the CLI reads (a command's, an expansion's, export's). Only a link on the service's
   * own origin is followed, where the token is meant to go (since 0.6.1 for a command's lists;
   * export's too since 0.6.2): a link elsewhere (a proxy's rewrite, a service that is not ours)
   * is an `InvalidResponse` (exit 1) and is not requested. So is a link `seen` already holds
   * (one list's links, the first page's URL among them): a server that leads back to a page
   * already read would be followed forever (since 0.6.2). The link is added to `seen`.
   */
  const nextPage = (next: string, seen: Set<string>) =>
    Effect.gen(function*() {
      let origin: string | undefined
      try {
        origin = new URL(next).origin
      } catch {
        origin = undefined
      }
      const own = new URL(base).origin
      if (origin !== own) {
        return yield* new CommandFailed({
          code: "InvalidResponse",
          detail: `a next link leads away from ${own} (${next.slice(0, 200)}): not followed, so that the token goes nowhere else`,
          exit: "other"
        })
      }
      const url = new URL(next).href
      if (seen.has(url)) {
        return yield* new CommandFailed({
          code: "InvalidResponse",
          detail: `a next link leads back to a page already read (${next.slice(0, 200)}): not followed, so that the list ends`,
          exit: "other"
        })
      }
      seen.add(url)
      return yield* pageOf(yield* send("GET", url, undefined, undefined), url)
    })

  /**
   * Every item of the list whose first page answered `first` to `url`, its next links followed
   * ({@link nextPage}) until there is none, or until `enough` items are read.
   */
  const pages = (first: Response, url: string, enough: number = Infinity) =>
    Effect.gen(function*() {
      const items: Array<Record<string, unknown>> = []
      const seen = new Set([new URL(url).href])
      let page = yield* pageOf(first, url)
      for (;;) {
        items.push(...page.value)
        if (items.length >= enough || page.next === undefined) return items
        page = yield* nextPage(page.next, seen)
      }
    })

  /** Sends one request; the raw response. A wait for a retry ends when `cut` fails (see `send`). */
  const request = <E = never>(req: Request, cut?: Effect.Effect<never, E>) =>
    send(req.method, urlOf(req), req.body, req.headers, cut, req.writes ?? isWrite(req.method))

  /**
   * An entity with its expansions made whole: an expansion the server cut short (it
   * writes at most a budget of related entities, then `<name>@odata.nextLink`) is
   * followed to its end, so that it holds every item, as local mode's does.
   */
  const whole = (value: Record<string, unknown>): Effect.Effect<Record<string, unknown>, CommandFailed> => {
    const links = Object.keys(value).filter((k) => k.endsWith(nextLinkSuffix) && k !== nextLinkSuffix)
    if (links.length === 0) return Effect.succeed(value)
    return Effect.gen(function*() {
      const rest: Record<string, Array<unknown>> = {}
      for (const link of links) {
        const name = link.slice(0, -nextLinkSuffix.length)
        const items = Array.isArray(value[name]) ? [...(value[name] as Array<unknown>)] : []
        let next = value[link]
        const seen = new Set<string>()
        while (typeof next === "string") {
          const page = yield* nextPage(next, seen)
          items.push(...page.value)
          next = page.next
        }
        rest[name] = items
      }
      const out: Record<string, unknown> = {}
      for (const [k, v] of Object.entries(value)) if (!links.includes(k)) MergePatch.setOwn(out, k, Object.hasOwn(rest, k) ? rest[k] : v)
      return out
    })
  }

  const run = (op: Operation): Effect.Effect<Answer, CommandFailed> =>
    Effect.gen(function*() {
      const req = requestOf(op)
      const res = yield* request(req)
      if (op._tag.endsWith(".list")) {
        const top = (op as { list?: { top?: number } }).list?.top ?? Infinity
        const items = yield* pages(res, urlOf(req), top)
        const kept = yield* Effect.forEach(items.slice(0, top), whole)
        return withExpanded<Answer>({ _tag: "List", items: kept.map(strip) }, kept)
      }
      const entity = res.status !== 204 && typeof res.body === "object" && res.body !== null && !Array.isArray(res.body)
      // A read asks for an entity: an answer without one (empty, 204, `null`, an array) is not the
      // service's, and is not printed as nothing, exit 0 (since 0.6.2).
      if (!entity && req.method === "GET") {
        return yield* invalidAnswer(req.method, urlOf(req), res, res.status === 204 ? "no content" : "not an entity")
      }
      if (!entity) return { _tag: "None" } as Answer
      const value = yield* whole(res.body as Record<string, unknown>)
      return withExpanded<Answer>({ _tag: "Entity", value: strip(value) }, [value])
    })

  return { base, request, run, pages }
}

/**
 * How a request the server throttled (429) or could not serve for now (503, its store
 * unreachable) is retried, as Graph asks clients to: after the `Retry-After` it sends
 * (seconds, or an HTTP date), else 1 s doubling on each retry; at most `retries` times and
 * `budgetMs` of waiting in all for one request. A wait the budget cannot hold is not started:
 * the answer stands at once, its message saying how long the server asked to wait. A 429 is
 * retried for every method: the server throttles before it runs anything. A 503 only for a
 * request that does not write (a `GET`; a `POST $batch` of reads only): a write's 503 can come
 * after its commit (the store's connection lost as it answered), and its retry would make a
 * second object, or be refused as existing.
 */
export const retry: {
  readonly statuses: ReadonlyArray<number>
  readonly retries: number
  readonly budgetMs: number
  readonly firstBackoffMs: number
} = { statuses: [429, 503], retries: 5, budgetMs: 60_000, firstBackoffMs: 1_000 }

/**
 * Whether an answer of `status` to a request of `method` is retried (see {@link retry});
 * `writes` says whether the request may write, when its method alone does not ({@link Request.writes}).
 */
export const retried = (method: string, status: number, writes: boolean = isWrite(method)): boolean =>
  status === 429 || (status === 503 && !writes)

/**
 * The wait a `Retry-After` header asks for, in ms: a whole number of seconds (`120`), or an
 * HTTP date in the future (`Wed, 21 Oct 2026 07:28:00 GMT`). Anything else (`-5`, `1.5`, a date
 * past, a word) is not read: the backoff of retry `n` (0-based), so a malformed header never
 * makes a retry at once (since 0.6.2; before, `-5` and `1.5` read as past dates, no wait).
 */
export const retryAfterMs = (header: string | null, n: number, now: number = Date.now()): number => {
  const text = header?.trim() ?? ""
  if (/^\d+$/.test(text)) return Number(text) * 1000
  // A date names its day or month in letters: `1.5` or `-5`, which Date.parse reads as dates, do not.
  const date = /[a-z]/i.test(text) ? Date.parse(text) : Number.NaN
  if (!Number.isNaN(date) && date > now) return date - now
  return retry.firstBackoffMs * 2 ** n
}

/**
 * Whether a failed request's error `code` says the connection was never made, so nothing of the
 * request reached the server: refused, no such host or route, the connect timed out, the TLS
 * handshake failed (a certificate not trusted, or not for this host), or fetch refused it first
 * (a port it does not connect to, an argument it cannot send).
 */
const neverSent = (cause: unknown): boolean => {
  const inner = (cause as any)?.cause
  const code = inner?.code
  // fetch's own refusal of a port before connecting (`--base-url http://host:1/beta`) has no code.
  if (typeof code !== "string") return badPort(cause)
  // UND_ERR_INVALID_ARG: fetch refused the request (a header value it cannot send) before connecting.
  return ["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "EADDRNOTAVAIL", "UND_ERR_CONNECT_TIMEOUT", "UND_ERR_INVALID_ARG"]
    .includes(code) ||
    /CERT|TLS|SSL|^UNABLE_TO_|^EPROTO$/.test(code)
}

/** The methods that write: only a request of one of these may have written anything. */
export const writeMethods: ReadonlyArray<string> = ["POST", "PATCH", "PUT", "DELETE"]

/** Whether fetch refused the request's port before connecting: its "bad port", which has no code. */
const badPort = (cause: unknown): boolean => {
  const inner = (cause as any)?.cause
  return inner instanceof Error && inner.message === "bad port"
}

/**
 * Why fetch did not connect to the port of `url`: the Fetch standard's list of blocked ports
 * (1, 6000, 6665–6669, …), which Node's fetch applies too. Its own message says only "fetch failed".
 */
const refusedPort = (url: string): string =>
  `fetch does not connect to port ${new URL(url).port} (one of the ports the Fetch standard blocks); serve the API on another port`

/** Whether a request of `method` writes (`POST`, `PATCH`, `PUT`, `DELETE`; any case, as a batch may write it). */
export const isWrite = (method: string): boolean => writeMethods.includes(method.toUpperCase())

/**
 * A failure of a request sent with a write's method that writes nothing (a `POST $batch` of
 * reads only; see {@link Request.writes}): it says so, where a write's says it may have been written.
 */
const wroteNothing = (method: string, e: CommandFailed): CommandFailed =>
  !isWrite(method) ? e : new CommandFailed({
    code: e.code,
    detail: `${e.detail} (a batch of reads: nothing was written)`,
    exit: e.exit,
    ...(e.status === undefined ? {} : { status: e.status }),
    ...(e.cause === undefined ? {} : { cause: e.cause })
  })

/**
 * A write's failure that is not retried because the write may have landed (a 503; an answer that
 * did not come in time; a connection broken once sent): what happened, and that it may have been written, `why` it is not retried.
 */
const maybeWritten = (e: CommandFailed, why = "a write's 503 is not retried"): CommandFailed =>
  new CommandFailed({
    code: e.code,
    detail: `${e.detail} (${why}: it may have been written; check before sending it again)`,
    exit: e.exit,
    mayHaveLanded: true,
    ...(e.status === undefined ? {} : { status: e.status }),
    ...(e.cause === undefined ? {} : { cause: e.cause })
  })

/**
 * A request whose answer did not come whole within the timeout, and was aborted: exit class
 * `other`, as a connection failure. A write's may have landed (the server may have done it and
 * not answered in time), and says so ({@link maybeWritten}); it is not retried. A request that
 * writes nothing (`writes` false) says nothing of the kind, and a batch of reads, sent with a
 * write's method, says that nothing was written ({@link wroteNothing}).
 */
const timedOut = (method: string, url: string, timeout: Timeout, cause: unknown, writes: boolean): CommandFailed => {
  const from = timeout.from === "the default" ? "the default; --timeout SECONDS or ENROLLCTL_TIMEOUT sets it" : timeout.from
  const e = new CommandFailed({
    code: "RequestTimedOut",
    detail: `${method} ${new URL(url).pathname}: no complete answer within ${timeout.seconds} s (${from}); the request was abandoned`,
    exit: "other",
    cause
  })
  return writes ? maybeWritten(e, "a write that timed out is not retried") : wroteNothing(method, e)
}

/** A failure after retries: what the server last answered, and what the CLI waited and why it stopped. */
const gaveUp = (e: CommandFailed, retries: number, waitedMs: number, askedMs: number): CommandFailed => {
  const waited = `${retries} ${retries === 1 ? "retry" : "retries"} over ${Math.round(waitedMs / 1000)} s`
  const why = retries >= retry.retries
    ? `still ${e.status} after ${waited}`
    : `${retries === 0 ? "not retried" : `stopped after ${waited}`}: the server asks to wait ${Math.ceil(askedMs / 1000)} s, ` +
      `past the ${retry.budgetMs / 1000} s enrollctl waits for one request`
  return new CommandFailed({ code: e.code, detail: `${e.detail} (${why})`, exit: e.exit, ...(e.status === undefined ? {} : { status: e.status }) })
}

/**
 * A successful answer (2xx) whose body is not JSON: not the service's (every answer the CLI asks
 * for is JSON, or empty), but a web page of whatever answers at the base URL (a sign-in page, a
 * site that serves one page for every path). It fails (exit 1), saying what came, rather than
 * reading as an empty list or an empty tenant. A write's may have been written.
 */
const notTheService = (method: string, url: string, res: Response, writes: boolean): CommandFailed => {
  const e = invalidAnswer(method, url, res, "not JSON")
  return writes ? maybeWritten(e, "a write answered so is not retried") : wroteNothing(method, e)
}

/**
 * An answer that is not the service's: what came (status, content type, its first characters), on
 * one line, and the question to ask. `InvalidResponse`, exit 1, whatever the status.
 */
const invalidAnswer = (method: string, url: string, res: Response, what: string): CommandFailed => {
  const type = res.headers.get("content-type")?.split(";")[0]?.trim() || "no content type"
  const text = (typeof res.body === "string" ? res.body : res.body === undefined ? "" : JSON.stringify(res.body)).replace(/\s+/g, " ").trim()
  return new CommandFailed({
    code: "InvalidResponse",
    detail: `${method} ${new URL(url).pathname} answered ${res.status} with ${type}, ${what}: is the base URL the service's root? ` +
      (text === "" ? "(the answer is empty)" : `(the answer begins ${JSON.stringify(text.slice(0, 60))})`),
    exit: "other",
    status: res.status
  })
}

/** Whether a failed answer's body is a Graph error (`{"error":{"code":"…",…}}`), as every one of the service's is. */
const isGraphError = (body: unknown): boolean =>
  typeof (body as { error?: { code?: unknown } } | undefined)?.error?.code === "string"

/**
 * The failure of an answer of 400 or more to `method` `url` (since 0.5.1): its Graph error, or, when
 * it has none (a web server's HTML 404, a proxy's 502 page), `InvalidResponse` (exit 1) saying what
 * came on one line. Before, such a page was printed whole as the error's message and exited by its
 * status: an HTML 404 from the wrong base URL read as "not found" (exit 3).
 */
const failureOfAnswer = (method: string, url: string, res: Response): CommandFailed =>
  isGraphError(res.body) ? failureOf(res) : invalidAnswer(method, url, res, "not a Graph error")

/**
 * One page of a list as the service writes it, `{"value":[…],"@odata.nextLink"?}`, or an
 * `InvalidResponse` (exit 1) for a successful answer that is none (JSON of another service):
 * a list is never read as empty because its answer was not a list.
 */
export const pageOf = (
  res: Response,
  url: string
): Effect.Effect<{ readonly value: ReadonlyArray<Record<string, unknown>>; readonly next: string | undefined }, CommandFailed> => {
  const body = res.body as { value?: unknown; "@odata.nextLink"?: unknown } | undefined
  if (typeof body !== "object" || body === null || !Array.isArray(body.value)) {
    return Effect.fail(
      new CommandFailed({
        code: "InvalidResponse",
        detail: `GET ${new URL(url).pathname} answered ${res.status} without the list's "value" array: is the base URL the service's root?`,
        exit: "other",
        status: res.status
      })
    )
  }
  // Every item an object (an entity): `[1, null, "x"]` is not a list of the service's (since 0.6.2).
  const notEntity = body.value.findIndex((v) => typeof v !== "object" || v === null || Array.isArray(v))
  if (notEntity !== -1) {
    return Effect.fail(
      new CommandFailed({
        code: "InvalidResponse",
        detail: `GET ${new URL(url).pathname} answered ${res.status} with a list whose item ${notEntity} is ${
          JSON.stringify(body.value[notEntity]) ?? "undefined"
        }, not an entity: is the base URL the service's root?`,
        exit: "other",
        status: res.status
      })
    )
  }
  const next = body["@odata.nextLink"]
  return Effect.succeed({ value: body.value as ReadonlyArray<Record<string, unknown>>, next: typeof next === "string" ? next : undefined })
}

/** The Graph error of a failed response. */
export const failureOf = (res: Response): CommandFailed => {
  const error = (res.body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error
  const code = typeof error?.code === "string" ? error.code : `HTTP${res.status}`
  const detail = typeof error?.message === "string"
    ? error.message
    : typeof res.body === "string" && res.body !== ""
    ? res.body.slice(0, 200)
    : `the service answered ${res.status}`
  return new CommandFailed({ code, detail, exit: classOfStatus(res.status), status: res.status })
}

/**
 * The token of a client's requests: `settings.token`, and, where enrollctl minted it
 * (`settings.renew`), a fresh one minted once it is within `renew.marginMs` of its expiry (its
 * `exp` claim), so that a run longer than a token's life (an import, its undo) goes on.
 */
const renewing = (settings: RemoteSettings) => {
  let token = settings.token
  let expiresAt = expiryOf(token)
  const current: Effect.Effect<string, CommandFailed> = Effect.suspend(() => {
    const renew = settings.renew
    if (renew === undefined || expiresAt === undefined || Date.now() < expiresAt - renew.marginMs) return Effect.succeed(token)
    return Effect.map(renew.mint, (fresh) => {
      token = fresh
      expiresAt = expiryOf(fresh)
      return fresh
    })
  })
  return { current }
}

/** When a JWT expires (its `exp` claim), in ms since the epoch; undefined when it says none. */
const expiryOf = (token: string): number | undefined => {
  const payload = payloadOf(token)
  return typeof payload === "object" && typeof payload.exp === "number" ? payload.exp * 1000 : undefined
}

/** The remote backend. */
export const layer = (settings: RemoteSettings) =>
  Layer.succeed(Backend, Backend.of({ describe: `remote ${settings.baseUrl}`, run: client(settings).run }))

// ---------------------------------------------------------------------------
// Credentials: the token remote mode sends, and `enrollctl token`

/**
 * The tenant a token names (its `tid` claim), read without verifying the token (the server
 * verifies it), or why it cannot be read. Only a signed JWT's payload is read: the middle one
 * of three base64url segments, a JSON object.
 */
export const claimedTenant = (token: string): { readonly tid: string } | { readonly unreadable: string } => {
  const payload = payloadOf(token)
  if (typeof payload === "string") return { unreadable: payload }
  const tid = payload.tid
  if (typeof tid !== "string" || tid === "") return { unreadable: "it has no tid claim" }
  return { tid }
}

/** A JWT's payload, read without verifying the token, or why it cannot be read. */
const payloadOf = (token: string): Record<string, unknown> | string => {
  const parts = token.split(".")
  if (parts.length !== 3) return parts.length === 5 ? "it is encrypted (a JWE)" : "it is not a JWT (header.payload.signature)"
  let payload: unknown
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(parts[1]!)) throw new Error("not base64url")
    payload = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(parts[1]!, "base64url")))
  } catch {
    return "its payload is not base64url-encoded JSON"
  }
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) return "its payload is not a JSON object"
  return payload as Record<string, unknown>
}

/**
 * Refuses a tenant given (`--tenant`, `ENROLLCTL_TENANT`) with a token (`--token`,
 * `ENROLLCTL_TOKEN`) for another tenant: the server takes the tenant from the token alone, so
 * the command would run in the token's tenant, not the one named. A token whose tenant cannot be
 * read is refused with a tenant too (nothing says they agree). Without a tenant, any token goes.
 */
export const checkTenant = (g: Resolved): Effect.Effect<void, CommandFailed> => {
  if (g.token === undefined || g.tenant === undefined) return Effect.void
  const claimed = claimedTenant(g.token)
  const tenant = given(g, "tenant", g.tenant)
  const token = origin(g, "token")
  const remedy = `the server takes the tenant from the token: leave out ${origin(g, "tenant")}, or pass a token for that tenant ` +
    `(enrollctl token --tenant ${g.tenant})`
  if ("unreadable" in claimed) {
    return Effect.fail(usage(`${tenant}: the token (${token}) cannot be checked for it: ${claimed.unreadable}; ${remedy}`))
  }
  if (claimed.tid !== g.tenant) {
    return Effect.fail(usage(`${tenant} names another tenant than the token (${token}), whose tid is ${JSON.stringify(claimed.tid)}; ${remedy}`))
  }
  return Effect.void
}

/** The variable the server reads its HS256 secret from; `enrollctl token` and remote mode read it too. */
export const secretVariable = "AUTH_HS256_SECRET"

/** Where the HS256 secret that signs a minted token comes from. */
export type SecretSource =
  | { readonly _tag: "Variable"; readonly secret: string }
  | { readonly _tag: "DataDir"; readonly dataDir: string }

/**
 * The secret a minted token is signed with: the file `DIR/auth-secret` of `--data-dir DIR` (the
 * flag: flags win); else `AUTH_HS256_SECRET`, when set (not empty), as the server reads it; else
 * the file of `ENROLLCTL_DATA_DIR`, or of `./data`.
 */
export const secretSourceOf = (g: Resolved): SecretSource => {
  const variable = process.env[secretVariable]
  if (g.fromFlags.dataDir === undefined && variable !== undefined && variable !== "") return { _tag: "Variable", secret: variable }
  return { _tag: "DataDir", dataDir: g.dataDir ?? defaultDataDir }
}

/**
 * Mints an HS256 token with the secret `source` names (the http-adapter's own minting). A secret
 * from `AUTH_HS256_SECRET` that the server refuses at start (the http-adapter's
 * `Secret.textProblem`: shorter than 32 bytes, whitespace only or around it) is refused, naming the
 * variable; the file is read as the server reads it.
 */
export const mint = (source: SecretSource, claims: Claims): Effect.Effect<string, CommandFailed> => {
  if (source._tag === "DataDir") return mintFromDataDir({ dataDir: source.dataDir, ...claims })
  return Effect.gen(function*() {
    const { Secret, Token } = yield* Effect.promise(() => import("@enrollment/http-adapter"))
    // The server's own check of the variable: a secret it would refuse at start is not minted with.
    const problem = Secret.textProblem(source.secret)
    if (problem !== undefined) return yield* usage(`${secretVariable}: ${problem}`)
    return yield* Effect.tryPromise({
      try: () => Token.mint({ secret: source.secret, ...claims }),
      catch: (e) => usage(`cannot mint a token: ${(e as Error).message}`)
    })
  })
}

/**
 * The globals of a run with remote mode's token settled, before the command runs: a token given
 * is checked against a tenant given ({@link checkTenant}); without one, a secret in
 * `AUTH_HS256_SECRET` ({@link secretSourceOf}) mints one for `--tenant` (10 minutes), which the
 * globals then carry. Otherwise they are left as they are: local mode, a refused setting or no
 * mode (the command reports it where it always has), or a token to mint from the data directory's
 * file (the runtime's `resolveMode` mints it).
 */
export const settle = (raw: Globals): Effect.Effect<Globals, CommandFailed> =>
  Effect.gen(function*() {
    const g = withEnvironment(raw)
    if ("refused" in g) return raw
    const mode = yield* Effect.option(modeOf(raw))
    if (Option.isNone(mode) || mode.value._tag !== "Remote") return raw
    if (g.token !== undefined) {
      // fetch refuses such a token before it connects, with a message that holds the token.
      const unsendable = headerValueProblem(g.token)
      if (unsendable !== undefined) {
        return yield* usage(
          `${origin(g, "token")}: expected a bearer token an HTTP header can carry (a JWT: header.payload.signature); this one holds ${unsendable}`
        )
      }
      yield* checkTenant(g)
      return raw
    }
    const source = secretSourceOf(g)
    if (source._tag === "DataDir") return raw
    const { lifetimeSeconds } = yield* MintedTokens
    return { ...raw, token: yield* mint(source, { tenant: g.tenant ?? defaultTenant, expiresIn: lifetimeSeconds }), minted: true }
  })

/** What `enrollctl token` is asked for, as its flags give it. */
export interface TokenOptions {
  readonly scopes?: string | undefined
  readonly roles?: string | undefined
  readonly subject?: string | undefined
  readonly expiresIn: string
  readonly audience?: string | undefined
  readonly issuer?: string | undefined
}

/**
 * The global flags `enrollctl token` does not read (it reads `--data-dir`, `--tenant` and
 * `--debug`), each refused as a flag given where it does nothing is (`--timeout` in local mode);
 * their variables are ignored.
 */
const notReadByToken: ReadonlyArray<readonly [keyof Globals, string]> = [
  ["baseUrl", "--base-url"],
  ["token", "--token"],
  ["store", "--store"],
  ["databaseUrl", "--database-url"],
  ["databaseSchema", "--database-schema"],
  ["output", "--output"],
  ["timeout", "--timeout"],
  ["select", "--select"]
]

const listed = (flags: ReadonlyArray<string>): string =>
  flags.length === 1 ? flags[0]! : `${flags.slice(0, -1).join(", ")} and ${flags.at(-1)}`

const spans = /^(\d+)\s*(s|sec|secs|second|seconds|m|min|mins|minute|minutes|h|hr|hrs|hour|hours|d|day|days|w|week|weeks|y|yr|yrs|year|years)$/i

/** The seconds of each unit a span names, as jose (which mints) counts them: a year is 365.25 days. */
const unitSeconds = (unit: string): number => {
  const u = unit.toLowerCase()
  if (u.startsWith("s")) return 1
  if (u.startsWith("m")) return 60
  if (u.startsWith("h")) return 3600
  if (u.startsWith("d")) return 86_400
  if (u.startsWith("w")) return 604_800
  return 31_557_600
}

/**
 * The longest lifetime `enrollctl token` mints (since 0.6.2): one year (`1y`, 365.25 days,
 * 31557600 s). A token is a bearer's key to the tenant until it expires: a longer one (`100y`, a
 * mistyped `9999999999`) is a key that is never taken back.
 */
export const maxLifetimeSeconds = 31_557_600

/**
 * `enrollctl token`: mints with the server's secret ({@link secretSourceOf}) and prints the token
 * only. Refused (usage, exit 2): a global flag it does not read ({@link notReadByToken}); a
 * lifetime that is not positive; `--scopes` with `--roles` (the server reads only the scopes of a
 * token with both); a name that is none of the service's permissions (the http-adapter's
 * `Permissions.all`, what the server grants by), which the server would ignore.
 */
export const token = (raw: Globals, options: TokenOptions) =>
  Effect.gen(function*() {
    const ignored = notReadByToken.filter(([key]) => raw[key] !== undefined).map(([, flag]) => flag)
    if (ignored.length > 0) {
      return yield* usage(
        `${listed(ignored)} ${ignored.length === 1 ? "does" : "do"} not apply to token: it mints a token here with the server's secret ` +
          `and prints it alone (it sends no request and opens no store); it reads --data-dir, --tenant and --debug`
      )
    }
    const g = yield* settingsOf(raw)
    const words = (s: string | undefined) => s === undefined ? undefined : s.split(/[\s,]+/).filter((w) => w !== "")
    for (const [flag, value] of [["--audience", options.audience], ["--issuer", options.issuer]] as const) {
      if (value !== undefined && value.trim() === "") return yield* usage(`${flag}: expected the server's value, got an empty one`)
    }
    const seconds = /^\d+$/.test(options.expiresIn)
    const span = seconds ? null : spans.exec(options.expiresIn)
    const amount = seconds ? Number(options.expiresIn) : span === null ? undefined : Number(span[1])
    const lifetime = amount === undefined ? undefined : seconds ? amount : amount * unitSeconds(span![2]!)
    if (amount === undefined || amount < 1 || lifetime! > maxLifetimeSeconds) {
      return yield* usage(
        `--expires-in: expected a positive lifetime of at most 1 year (1y, ${maxLifetimeSeconds} seconds), seconds or a span like 30m, 1h, 7d; ` +
          `got '${options.expiresIn}'`
      )
    }
    if (options.scopes !== undefined && options.roles !== undefined) {
      return yield* usage(
        "--scopes and --roles: a token is delegated (scopes) or an application's (roles), not both; the server reads only the scopes of a token with both"
      )
    }
    const scopes = words(options.scopes)
    const roles = words(options.roles)
    // An empty list mints a token that grants nothing: every request it makes is refused (403).
    for (const [flag, names] of [["--scopes", scopes], ["--roles", roles]] as const) {
      if (names !== undefined && names.length === 0) {
        return yield* usage(`${flag}: expected one or more of the service's permissions, space- or comma-separated; got none (a token that grants nothing)`)
      }
    }
    const { Permissions } = yield* Effect.promise(() => import("@enrollment/http-adapter"))
    for (const [flag, names] of [["--scopes", scopes], ["--roles", roles]] as const) {
      const unknown = (names ?? []).filter((n) => !Permissions.all.includes(n))
      if (unknown.length > 0) {
        return yield* usage(
          `${flag}: ${unknown.map((n) => `'${n}'`).join(", ")} ${unknown.length === 1 ? "is not a permission" : "are not permissions"} the service knows; ` +
            `it knows ${Permissions.all.join(", ")}`
        )
      }
    }
    const jwt = yield* mint(secretSourceOf(g), {
      tenant: g.tenant ?? defaultTenant,
      scopes,
      roles,
      subject: options.subject,
      expiresIn: seconds ? amount : options.expiresIn,
      audience: options.audience,
      issuer: options.issuer
    })
    yield* print(`${jwt}\n`)
  })
