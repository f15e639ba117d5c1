/**
 * HTTP problems: the one table that decides the status and Graph error code of
 * every failure, domain or protocol (SPEC 6). Domain errors carry no status;
 * this module is the only place a domain error tag meets an HTTP status.
 *
 * @since 0.1.0
 */

/**
 * One item of an error's `details`, as Graph writes them (`{"code":"ObjectConflict","message":…,
 * "target":"userPrincipalName"}`): a more precise code, and the property it is about.
 *
 * @since 0.11.0
 */
export interface ProblemDetail {
  readonly code: string
  readonly message: string
  readonly target: string
}

/** A failure ready to be written: status, Graph error code, message, extra headers, and `details` where Graph gives them. */
export interface Problem {
  readonly status: number
  readonly code: string
  readonly message: string
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** Written as the error's `details` when present (since 0.11.0; only a principal name's conflict has them). */
  readonly details?: ReadonlyArray<ProblemDetail> | undefined
}

/** Seconds a client should wait after a 503 before trying again. */
export const storeRetryAfterSeconds = 5

/**
 * Domain error tag → status and code. A tag not listed here is a defect (500).
 * The message is the domain error's own (`error.message`), which names the
 * property path; StoreUnavailable hides its cause.
 */
export const domainTable: Readonly<Record<string, { readonly status: number; readonly code: string; readonly headers?: Record<string, string> }>> = {
  InvalidInput: { status: 400, code: "BadRequest" },
  EntityNotFound: { status: 404, code: "itemNotFound" },
  EntityAlreadyExists: { status: 409, code: "Conflict" },
  PreconditionFailed: { status: 412, code: "preconditionFailed" },
  MemberAlreadyPresent: { status: 400, code: "BadRequest" },
  // A 400, as Graph answers it (not a 409: the id is free), with SPEC 6's code for every 400 and
  // Graph's `ObjectConflict` detail naming the property (see `fromDomain`).
  UserPrincipalNameTaken: { status: 400, code: "BadRequest" },
  StoreUnavailable: { status: 503, code: "ServiceUnavailable", headers: { "retry-after": String(storeRetryAfterSeconds) } }
}

/** The problem for a domain error (anything with a `_tag` from {@link domainTable}), or undefined for a defect. */
export const fromDomain = (error: unknown): Problem | undefined => {
  if (typeof error !== "object" || error === null) return undefined
  const tag = (error as { _tag?: unknown })._tag
  if (typeof tag !== "string" || !Object.hasOwn(domainTable, tag)) return undefined
  const entry = domainTable[tag]!
  const message = tag === "StoreUnavailable" ? unavailableMessage : String((error as Error).message)
  // A conflict on a property: Graph's `ObjectConflict` detail naming it (since 0.11.0).
  const property = tag === "UserPrincipalNameTaken" ? String((error as { readonly property?: unknown }).property) : undefined
  const details = property === undefined ? undefined : [{ code: "ObjectConflict", message, target: property }]
  return { status: entry.status, code: entry.code, message, headers: entry.headers, details }
}

/** Protocol problems: raised by the HTTP face itself. */
export const badRequest = (message: string): Problem => ({ status: 400, code: "BadRequest", message })
export const unauthorized = (message: string): Problem => ({
  status: 401,
  code: "InvalidAuthenticationToken",
  message,
  headers: { "www-authenticate": 'Bearer realm="enrollment", error="invalid_token"' }
})
export const forbidden = (message: string): Problem => ({ status: 403, code: "Authorization_RequestDenied", message })
export const notFound = (message: string): Problem => ({ status: 404, code: "itemNotFound", message })
/** A precondition the request's target does not meet, found outside the domain (since 0.15.0: an entity GET's `If-Match`). */
export const preconditionFailed = (message: string): Problem => ({ status: 412, code: "preconditionFailed", message })
export const methodNotAllowed = (method: string, allow: ReadonlyArray<string>): Problem => ({
  status: 405,
  code: "MethodNotAllowed",
  message: `The HTTP method '${method}' is not allowed on this resource; allowed: ${allow.join(", ")}`,
  headers: { allow: allow.join(", ") }
})
export const tooLarge = (limit: number): Problem => ({
  status: 413,
  code: "RequestEntityTooLarge",
  message: `The request body exceeds the limit of ${limit} bytes`
})
export const unsupportedMediaType = (given: string | undefined): Problem => ({
  status: 415,
  code: "UnsupportedMediaType",
  message: `The request body must be JSON with Content-Type 'application/json'${given ? `, got '${given.slice(0, 100)}'` : ""}`
})
/**
 * A body in a content coding the server does not take (since 0.8.0): 415, with `Accept-Encoding`
 * saying what it takes (RFC 9110 15.5.16), which tells a client to send it in one of those, or plain.
 */
export const unsupportedEncoding = (given: string): Problem => ({
  status: 415,
  code: "UnsupportedMediaType",
  message: `Content-Encoding '${given.slice(0, 100)}' is not supported: send the request body plain, or in one of gzip, deflate or br`,
  headers: { "accept-encoding": "gzip, deflate, br" }
})
export const tooManyRequests = (retryAfterSeconds: number): Problem => ({
  status: 429,
  code: "TooManyRequests",
  message: "Too many requests; slow down and retry after the time given in Retry-After",
  headers: { "retry-after": String(retryAfterSeconds) }
})
/** What a 503 says to the client: never why (the log says that). */
export const unavailableMessage = "The service is temporarily unavailable; try again later."
export const internal: Problem = {
  status: 500,
  code: "InternalServerError",
  message: "An internal error occurred; quote the request-id when reporting it"
}
export const unavailable = (message: string): Problem => ({
  status: 503,
  code: "ServiceUnavailable",
  message,
  headers: { "retry-after": String(storeRetryAfterSeconds) }
})

const messageOf = (e: unknown): string => {
  if (e instanceof AggregateError && e.message === "") {
    // Node's connect over several addresses (localhost: ::1 and 127.0.0.1) fails with one error per address.
    return [...new Set(e.errors.map(messageOf))].join("; ")
  }
  if (typeof e === "object" && e !== null && "message" in e) return String(e.message)
  return String(e)
}

/**
 * Why something failed, in one line for an operator's log: the error's own message
 * and its innermost cause's when that says something more (`the store is unavailable:
 * connect ECONNREFUSED 127.0.0.1:5432`, `the JWKS …: fetch failed: …`), no stack trace,
 * and no credentials of a URL in it (`//user:password@` as `//***@`, `password=` values).
 * Never sent to a client.
 *
 * @since 0.3.0
 */
export const causeChain = (error: unknown): string => {
  const top = messageOf(error)
  const below: Array<string> = []
  let e: unknown = error
  for (let depth = 0; depth < 8 && typeof e === "object" && e !== null && "cause" in e && e.cause !== undefined; depth++) {
    e = e.cause
    const m = messageOf(e)
    if (m !== "") below.push(m)
  }
  // The innermost cause's message, or a cause's above it that says where it happened and ends with
  // it (`connecting to db:5432: Connection timed out`; since 0.14.0: before, a timeout named no address).
  const innermost = below.at(-1)
  const inner = innermost === undefined ? undefined : below.find((m) => m.endsWith(innermost))
  const line = inner === undefined || inner === top || top.endsWith(inner) ? top : top === "" ? inner : `${top}: ${inner}`
  // A URL's credentials hidden as the server's and the CLI's reasons hide them (`Credentials.redactUrls`).
  return line.replace(/\s*\n\s*/g, " ").replace(/\/\/[^\s@/]*@/g, "//***@").replace(/([?&]password=)[^&\s]*/gi, "$1***")
}

/** The error body of SPEC 6. */
export const body = (p: Problem, requestId: string, clientRequestId: string, date: string) => ({
  error: {
    code: p.code,
    message: p.message,
    ...(p.details === undefined ? {} : { details: p.details }),
    innerError: { date, "request-id": requestId, "client-request-id": clientRequestId }
  }
})
