/**
 * JSON batching, as Graph serves it at `POST /beta/$batch`: up to
 * {@link maxRequests} requests in one body, each answered as if sent alone
 * (its own authorization check, rate-limit token, validation and store write),
 * with `dependsOn` ordering and `424 Failed Dependency` for a request whose
 * dependency failed. The batch itself is checked whole before anything runs:
 * a malformed batch (unknown or missing members, duplicate ids, a dependency
 * on nothing or a cycle, an absolute URL, a batch in a batch) is one 400 and no
 * request of it runs.
 *
 * This module is the batch's rules and shapes; `Server` runs each request
 * through the same request listener as a request sent alone.
 *
 * @since 0.4.0
 */
import { Validation } from "@enrollment/core"
import { Result, Schema } from "effect"
import { maxHeaderSize } from "node:http"
import * as Body from "./Body.ts"
import * as Problem from "./Problem.ts"

/** The most requests one batch holds (Graph's limit). */
export const maxRequests = 20

/**
 * The most levels a batch body may nest: a request's own body may nest as deep as
 * it could sent alone ({@link Body.maxDepth}), under the batch's three levels (the
 * batch object, its `requests` array, the request object). Each request's body is
 * checked against `Body.maxDepth` again when it is dispatched, as if sent alone.
 */
export const maxDepth: number = Body.maxDepth + 3

/** The methods a batched request may use (Graph's). */
export const methods: ReadonlyArray<string> = ["GET", "POST", "PATCH", "PUT", "DELETE"]

/** A request's id: unique in its batch without regard to case, as Graph compares them. */
const StepId = Schema.String.check(
  Schema.isMinLength(1, { expected: "an id of 1 to 128 characters" }),
  Schema.isMaxLength(128, { expected: "an id of 1 to 128 characters" })
)

/** One request of a batch, as a client sends it. */
export const RequestItem = Schema.Struct({
  id: StepId,
  method: Schema.String.annotate({ description: "GET, POST, PATCH, PUT or DELETE" }),
  url: Schema.String.check(Schema.isMinLength(1, { expected: "a URL relative to the version root, as /users/{id}" }))
    .annotate({
      description: "Relative to the version root (/users/{id}); a leading /beta is accepted, a space is read as %20; " +
        `with the headers, no longer than a request sent alone may be (${maxHeaderSize} bytes)`
    }),
  headers: Schema.optionalKey(Schema.Record(Schema.String, Schema.String)),
  body: Schema.optionalKey(Schema.Unknown.annotate({
    description: "JSON, or a base64 (or base64url) string of the bytes of the Content-Type header given"
  })),
  dependsOn: Schema.optionalKey(Schema.Array(StepId))
}).annotate({ identifier: "batchRequestItem" })

/** The body of `POST /$batch`. */
export const BatchRequest = Schema.Struct({
  requests: Schema.Array(RequestItem)
}).annotate({ identifier: "batchRequest" })

/** One answer of a batch. */
export const ResponseItem = Schema.Struct({
  id: Schema.String,
  status: Schema.Int,
  headers: Schema.optionalKey(Schema.Record(Schema.String, Schema.String)),
  body: Schema.optionalKey(Schema.Unknown)
}).annotate({ identifier: "batchResponseItem" })

/** The answer of `POST /$batch` (200), one item per request, in the order sent. */
export const BatchResponse = Schema.Struct({
  responses: Schema.Array(ResponseItem)
}).annotate({ identifier: "batchResponse" })

/** A checked request of a batch, ready to run. */
export interface Step {
  readonly id: string
  readonly method: string
  /** The request target under the server's root: `/beta/…`, with its query. */
  readonly target: string
  /** Lower-case names; no Authorization, Host or framing headers (the batch's own are used). */
  readonly headers: Readonly<Record<string, string>>
  readonly body: Buffer | undefined
  readonly dependsOn: ReadonlyArray<string>
}

/** An answer as the server wrote it: status, headers as given to `writeHead`, body text. */
export interface Written {
  readonly status: number
  readonly headers: Readonly<Record<string, string | number>>
  readonly text: string
}

/** One item of the batch's answer. */
export type Answered = typeof ResponseItem.Type

const decodeBatch = Validation.decoder(BatchRequest)

/**
 * The most bytes a request's line and headers may take (Node's header limit, 16 KiB unless
 * the process says otherwise): a batched request carries no more than it could sent alone,
 * so a batch cannot hand the listener a URL Node would refuse (431), whose `$select` alone
 * could keep the event loop busy for seconds.
 */
export const maxHeadBytes: number = maxHeaderSize

/**
 * A request's headers the batch does not pass on: its own transport's (the batch's token, host and
 * framing stand), and `content-encoding` (since 0.8.0): a request's body is JSON inside the batch's
 * own, decoded already were the batch coded, and would otherwise be read as coded bytes (a 400).
 */
const ignoredHeaders = new Set(["authorization", "host", "content-length", "transfer-encoding", "connection", "expect", "content-encoding"])

/**
 * Checks a parsed batch body and makes its steps; a 400 for a malformed batch,
 * naming the member (`requests[2].dependsOn: …`).
 */
export const plan = (value: unknown): { readonly ok: true; readonly steps: ReadonlyArray<Step> } | {
  readonly ok: false
  readonly problem: Problem.Problem
} => {
  const bad = (message: string) => ({ ok: false as const, problem: Problem.badRequest(message) })
  const decoded = decodeBatch(value)
  if (Result.isFailure(decoded)) return { ok: false, problem: Problem.fromDomain(decoded.failure) ?? Problem.badRequest("Invalid batch") }
  const items = decoded.success.requests
  if (items.length === 0) return bad("requests: a batch needs at least one request")
  if (items.length > maxRequests) return bad(`requests: a batch holds at most ${maxRequests} requests; got ${items.length}`)
  // Graph compares ids without regard to case: `A` and `a` are one id.
  const index = new Map<string, number>()
  for (let i = 0; i < items.length; i++) {
    const id = items[i]!.id
    const key = id.toLowerCase()
    const other = index.get(key)
    if (other !== undefined) {
      return bad(`requests[${i}].id: '${id}' is the id of requests[${other}] too; ids must be unique (without regard to case)`)
    }
    index.set(key, i)
  }
  const steps: Array<Step> = []
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!
    const at = `requests[${i}]`
    const method = item.method.toUpperCase()
    if (!methods.includes(method)) return bad(`${at}.method: expected one of ${methods.map((m) => `'${m}'`).join(", ")}; got '${item.method.slice(0, 20)}'`)
    const target = targetOf(item.url)
    if (target === undefined) return bad(`${at}.url: expected a URL relative to the version root, as /users/{id}; got '${item.url.slice(0, 200)}'`)
    if (/^\/beta\/(?:\$|%24)batch(?:[/?]|$)/i.test(target)) return bad(`${at}.url: a batch cannot hold a batch`)
    const headers: Record<string, string> = {}
    let headBytes = Buffer.byteLength(`${method} ${target} HTTP/1.1\r\n`)
    for (const [k, v] of Object.entries(item.headers ?? {})) {
      const name = k.toLowerCase()
      headBytes += Buffer.byteLength(`${k}: ${v}\r\n`)
      if (!ignoredHeaders.has(name)) headers[name] = v
    }
    if (headBytes > maxHeadBytes) {
      return bad(`${at}: its URL and headers take ${headBytes} bytes; a request sent alone may take at most ${maxHeadBytes}`)
    }
    let body: Buffer | undefined
    if (item.body !== undefined) {
      if (typeof item.body === "string" && !Body.isJson(headers["content-type"])) {
        // Bytes of another type travel base64-encoded (Graph's rule), or in base64's URL-safe
        // form (`-`, `_`), which Graph's documentation also names.
        if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(item.body)) return bad(`${at}.body: expected JSON, or base64 text for a Content-Type other than JSON`)
        body = Buffer.from(item.body, "base64")
      } else {
        body = Buffer.from(JSON.stringify(item.body), "utf8")
        // A JSON body without a Content-Type is JSON all the same.
        headers["content-type"] ??= "application/json"
      }
    }
    const dependsOn: Array<string> = []
    for (const d of item.dependsOn ?? []) {
      const on = index.get(d.toLowerCase())
      if (on === i) return bad(`${at}.dependsOn: a request cannot depend on itself`)
      if (on === undefined) return bad(`${at}.dependsOn: no request of this batch has the id '${d}'`)
      dependsOn.push(items[on]!.id)
    }
    steps.push({ id: item.id, method, target, headers, body, dependsOn })
  }
  const cycle = cycleOf(steps)
  if (cycle !== undefined) return bad(`requests: dependsOn goes round in a circle (${cycle.join(" → ")})`)
  return { ok: true, steps }
}

/**
 * `/beta/…` for a URL relative to the version root (`/users/x`, `users/x`, `/beta/users/x`); undefined
 * for an absolute one or one holding a control character. A space is taken as `%20`: Graph's own batch
 * samples write `$filter=city eq null` unencoded in `url`. A fragment (`#…`) is no part of a request's
 * target (RFC 3986: a client never sends one) and is dropped (since 0.12.2; before, it was read as
 * part of the last segment or query value). The version segment is `beta` as written, as a request
 * sent alone has it (since 0.12.2; before, `/BETA/users/x` was read as `/beta/users/x` in a batch and
 * was a 404 alone).
 */
const targetOf = (raw: string): string | undefined => {
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(raw) || raw.startsWith("//") || raw.includes("\\")) return undefined
  if (/[\u0000-\u001f\u007f-\u009f]/.test(raw)) return undefined
  const hash = raw.indexOf("#")
  const url = (hash === -1 ? raw : raw.slice(0, hash)).replaceAll(" ", "%20")
  const rel = url.startsWith("/") ? url.slice(1) : url
  const rest = /^beta(?=[/?]|$)/.test(rel) ? rel.slice(4) : rel.length === 0 ? "" : `/${rel}`
  return `/beta${rest.startsWith("?") ? `/${rest}` : rest}`
}

/** A chain of ids that depends on itself, or undefined. */
const cycleOf = (steps: ReadonlyArray<Step>): ReadonlyArray<string> | undefined => {
  const byId = new Map(steps.map((s) => [s.id, s]))
  const state = new Map<string, "open" | "done">()
  const path: Array<string> = []
  const visit = (id: string): ReadonlyArray<string> | undefined => {
    if (state.get(id) === "done") return undefined
    if (state.get(id) === "open") return [...path.slice(path.indexOf(id)), id]
    state.set(id, "open")
    path.push(id)
    for (const d of byId.get(id)!.dependsOn) {
      const found = visit(d)
      if (found !== undefined) return found
    }
    path.pop()
    state.set(id, "done")
    return undefined
  }
  for (const s of steps) {
    const found = visit(s.id)
    if (found !== undefined) return found
  }
  return undefined
}

/**
 * Runs the steps: each once every step it depends on has been answered, all others
 * at once; a step one of whose dependencies failed (status 400 or more) is not run
 * and is answered `424` (made by `failedDependency`). The answers come in the
 * order of the steps.
 *
 * Each step is dispatched in a turn of the event loop of its own, the next step's turn after the
 * one before's (since 0.16.0), so that the server reads and serves other connections between them.
 * Before, the steps that depend on none were all run in the turn the batch arrived in, and a batch
 * of 20 slow reads held every other request of the server for their sum (a review: 17 s).
 */
export const run = (
  steps: ReadonlyArray<Step>,
  dispatch: (step: Step) => Promise<Written>,
  failedDependency: (step: Step, dependency: string) => Written
): Promise<ReadonlyArray<Answered>> =>
  Promise.all(written(steps, dispatch, failedDependency).map((p, i) => p.then((w) => item(steps[i]!.id, w))))

/**
 * {@link run}, answered as the text of the batch's answer ({@link BatchResponse}): each JSON body
 * written in as its step wrote it, not parsed and written again (since 0.16.0; a review's batch of
 * 20 pages of large users held each answer three times over).
 */
export const runText = (
  steps: ReadonlyArray<Step>,
  dispatch: (step: Step) => Promise<Written>,
  failedDependency: (step: Step, dependency: string) => Written
): Promise<string> =>
  Promise.all(written(steps, dispatch, failedDependency).map((p, i) => p.then((w) => itemText(steps[i]!.id, w))))
    .then((items) => `{"responses":[${items.join(",")}]}`)

/** Each step's answer, in the order of the steps (see {@link run}). */
const written = (
  steps: ReadonlyArray<Step>,
  dispatch: (step: Step) => Promise<Written>,
  failedDependency: (step: Step, dependency: string) => Written
): ReadonlyArray<Promise<Written>> => {
  const byId = new Map(steps.map((s) => [s.id, s]))
  const answers = new Map<string, Promise<Written>>()
  // The turn the last step to be dispatched waits for: the next one's comes after it (a `setImmediate`
  // set in a turn's check phase runs in the next iteration of the loop, after its I/O).
  let turns: Promise<void> = Promise.resolve()
  const inTurn = (step: Step): Promise<Written> => {
    const turn = turns.then(nextTurn)
    turns = turn
    return turn.then(() => dispatch(step))
  }
  const answer = (step: Step): Promise<Written> => {
    let p = answers.get(step.id)
    if (p === undefined) {
      p = Promise.all(step.dependsOn.map((d) => answer(byId.get(d)!))).then((done) => {
        const failed = done.findIndex((w) => w.status >= 400)
        return failed === -1 ? inTurn(step) : failedDependency(step, step.dependsOn[failed]!)
      })
      answers.set(step.id, p)
    }
    return p
  }
  return steps.map(answer)
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** Header names as Graph writes them in a batch's answers (clients look for `Content-Type`). */
const canonical: Readonly<Record<string, string>> = {
  etag: "ETag",
  "odata-version": "OData-Version",
  "www-authenticate": "WWW-Authenticate",
  "request-id": "request-id",
  "client-request-id": "client-request-id"
}
const headerName = (name: string): string =>
  canonical[name] ?? name.split("-").map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join("-")

/**
 * A written answer as a batch item: headers by Graph's names, a JSON body as JSON, any other body
 * (a `$count`'s `text/plain`) as the base64 of its bytes, as Graph writes it (since 0.14.0; before,
 * as text, which Microsoft's Kiota batch client decoded as base64 into other bytes, and which code
 * written for Graph, decoding base64, misread). A request's non-JSON body is base64 too (`Batch.steps`).
 */
const item = (id: string, w: Written): Answered => {
  const { headers, json } = itemHeaders(w)
  if (w.text === "") return { id, status: w.status, headers }
  return { id, status: w.status, headers, body: json ? JSON.parse(w.text) : Buffer.from(w.text, "utf8").toString("base64") }
}

/** {@link item} as JSON text: a JSON body is the step's own text (the server's, so JSON). */
const itemText = (id: string, w: Written): string => {
  const { headers, json } = itemHeaders(w)
  const head = `{"id":${JSON.stringify(id)},"status":${w.status},"headers":${JSON.stringify(headers)}`
  if (w.text === "") return `${head}}`
  return `${head},"body":${json ? w.text : JSON.stringify(Buffer.from(w.text, "utf8").toString("base64"))}}`
}

const itemHeaders = (w: Written): { readonly headers: Record<string, string>; readonly json: boolean } => {
  const headers: Record<string, string> = {}
  let json = false
  for (const [k, v] of Object.entries(w.headers)) {
    const name = k.toLowerCase()
    if (name === "content-length") continue
    if (name === "content-type") json = Body.isJson(String(v))
    headers[headerName(name)] = String(v)
  }
  return { headers, json }
}
