/**
 * One structured line per request (method, route template, status, duration,
 * request-id, tenant; never the token), as JSON or as a readable line, with
 * defects logged next to their request-id. Successful health probes are kept
 * for `debug`.
 *
 * @since 0.1.0
 */
import type { Server } from "@enrollment/http-adapter"
import { redactUrls } from "@enrollment/store-adapter/Credentials"
import { inspect } from "node:util"
import type * as ServerLog from "./ServerLog.ts"

const levelOf = (status: number) => (status >= 500 ? "error" : status >= 400 ? "warn" : "info")
const rank = { debug: 0, info: 1, warn: 2, error: 3, none: 4 } as const

/**
 * The probes a load balancer or Docker's HEALTHCHECK sends every few seconds: logged at
 * `debug` while they succeed (at `info` they would fill the log), at their failure's level
 * when they fail.
 */
const probes: ReadonlySet<string> = new Set(["/health", "/ready"])

/**
 * The tenant as the readable line writes it (since server 0.4.3): as it is when it is printable ASCII
 * without a space or a quote (a GUID, as Entra's are), else as a JSON string with the characters
 * that break or reorder a line escaped (U+2028, U+2029, bidirectional controls, C1). A token's `tid`
 * is the signer's to choose (any with an HS256 secret): written raw, `x 404 … tenant=victim` forged
 * the line's other fields.
 */
export const tenantText = (tenant: string | undefined): string =>
  tenant === undefined
    ? "-"
    : /^[\x21\x23-\x7e]+$/.test(tenant)
    ? tenant
    : JSON.stringify(tenant).replace(/[\u0080-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)

/** A request's log level: by its status, and a successful probe's is `debug`. */
export const levelOfEntry = (entry: Pick<Server.RequestLog, "route" | "status">): keyof typeof rank =>
  entry.status < 400 && probes.has(entry.route) ? "debug" : levelOf(entry.status)

/**
 * The lowest status a sink of `level` writes (`Server.HandlerOptions.logFrom`), read off
 * the same `levelOf` the sink filters by: every request at `debug` and `info`, failures
 * from `warn` on (4xx and 5xx), 5xx at `error`, none at `none`.
 */
export const lowestStatus = (level: keyof typeof rank): number =>
  [0, 400, 500].find((status) => rank[levelOf(status)] >= rank[level]) ?? Number.POSITIVE_INFINITY

/** The longest line of a defect's text, and the most of it written: a cause can carry a whole body. */
const lineChars = 2_000
const defectChars = 16_000

/** `password=…`, `password: …` and `pwd=…` values (a libpq key/value string, a driver's options) hidden. */
const passwordValues = /\b(password|passwd|pwd)(\s*[=:]\s*)("?)[^\s"',;&]+/gi

/** `text` at most `n` characters, said so when cut. */
const cut = (text: string, n: number): string => (text.length <= n ? text : `${text.slice(0, n)}… (${text.length - n} more characters)`)

/**
 * `e`'s name and message (anything else as `util.inspect` shows it, which copes with cycles,
 * BigInts and getters that throw), with its `code` when it has one (PostgreSQL's SQLSTATE, Node's
 * `ENOENT`), on one line of at most 2 000 characters. Never throws.
 */
const described = (e: unknown): string => {
  try {
    const code = typeof e === "object" && e !== null && "code" in e && (typeof e.code === "string" || typeof e.code === "number") ? ` (${e.code})` : ""
    const text = e instanceof Error ? `${e.name}: ${e.message}` : typeof e === "string" ? e : inspect(e, { depth: 2, breakLength: Infinity, maxStringLength: lineChars, maxArrayLength: 20 })
    return cut(`${text}${code}`.replace(/\s*\n\s*/g, " "), lineChars)
  } catch {
    return Object.prototype.toString.call(e)
  }
}

/**
 * A defect as the log writes it (since server 0.4.6): its name and message, then each of its causes
 * on a line of its own (`caused by: …`, eight at most, with a `code` where one is given), then its
 * stack; 16 000 characters at most, any connection URL's credentials and any `password=` value
 * hidden. Before, only the first line and the stack were written: a PostgreSQL error the store
 * turned into a defect (a table dropped under the server, a permission taken away) read
 * `SqlError: PgConnection: Query failed`, without PostgreSQL's message or SQLSTATE. Never throws.
 */
export const defectText = (defect: unknown): string => {
  const lines = [described(defect)]
  let e: unknown = defect
  for (let depth = 0; depth < 8; depth++) {
    try {
      e = typeof e === "object" && e !== null && "cause" in e ? e.cause : undefined
    } catch {
      e = undefined
    }
    if (e === undefined || e === null) break
    lines.push(`caused by: ${described(e)}`)
  }
  let stack = ""
  try {
    if (defect instanceof Error && typeof defect.stack === "string") stack = defect.stack.split("\n").filter((l) => /^\s+at /.test(l)).join("\n")
  } catch {
    // No stack, then.
  }
  return cut(redactUrls([...lines, ...(stack === "" ? [] : [stack])].join("\n")).replace(passwordValues, "$1$2$3***"), defectChars)
}

/**
 * Bytes of request-log lines kept waiting for standard output's reader, at most (since server
 * 0.4.8). A reader that stops reading without closing (a stalled log shipper on a pipe) left every
 * line in the process's memory: a review saw 130 → 219 MB in 12 s at 5 000 requests a second.
 */
export const maxPendingBytes = 16 * 1024 * 1024

/**
 * Writes lines to `stream` while at most `limit` bytes wait for its reader; past that, drops them,
 * saying so once, and once again with their count when the reader has caught up (since server 0.4.8).
 */
export const boundedWriter = (
  stream: { readonly writableLength: number; write(chunk: string): unknown },
  say: ServerLog.Say,
  limit: number = maxPendingBytes
) => {
  let dropped = 0
  return (line: string): void => {
    if (stream.writableLength > limit) {
      if (dropped++ === 0) {
        say(`request log: standard output's reader is not keeping up (over ${limit} bytes waiting): request lines are dropped until it does`, "warn")
      }
      return
    }
    if (dropped > 0) {
      say(`request log: standard output's reader keeps up again; ${dropped} request ${dropped === 1 ? "line was" : "lines were"} dropped`, "warn")
      dropped = 0
    }
    stream.write(`${line}\n`)
  }
}

/**
 * A request-log sink writing to `write` (by default standard output, through a
 * {@link boundedWriter} that says what it drops to `say`).
 */
export const make = (options: {
  readonly format: "pretty" | "json"
  readonly level: keyof typeof rank
  readonly write?: (line: string) => void
  readonly say?: ServerLog.Say
}) => {
  const write = options.write ?? boundedWriter(process.stdout, options.say ?? (() => {}))
  const min = rank[options.level]
  return (entry: Server.RequestLog): void => {
    const level = levelOfEntry(entry)
    if (rank[level] < min) return
    const defect = entry.defect === undefined ? undefined : defectText(entry.defect)
    if (options.format === "json") {
      write(JSON.stringify({
        time: new Date().toISOString(),
        level,
        msg: "request",
        method: entry.method,
        route: entry.route,
        status: entry.status,
        durationMs: entry.durationMs,
        requestId: entry.requestId,
        ...(entry.clientRequestId !== undefined ? { clientRequestId: entry.clientRequestId } : {}),
        tenant: entry.tenant ?? null,
        client: entry.clientAddress ?? null,
        ...(entry.forwardedFor !== undefined ? { forwardedFor: entry.forwardedFor } : {}),
        ...(entry.userAgent !== undefined ? { userAgent: entry.userAgent } : {}),
        ...(defect !== undefined ? { defect } : {})
      }))
    } else {
      // A matched route's name starts with its method (`GET /beta/users`): the method once, unless it differs (HEAD on a GET route).
      const what = entry.route.startsWith(`${entry.method} `) ? entry.route : `${entry.method} ${entry.route}`
      write(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${what} ${entry.status} ${entry.durationMs}ms request-id=${entry.requestId}${
        entry.clientRequestId !== undefined ? ` client-request-id=${JSON.stringify(entry.clientRequestId)}` : ""
      } tenant=${tenantText(entry.tenant)} client=${entry.clientAddress ?? "-"}${
        entry.forwardedFor !== undefined ? ` forwarded-for=${JSON.stringify(entry.forwardedFor)}` : ""
      }${entry.userAgent !== undefined ? ` user-agent=${JSON.stringify(entry.userAgent)}` : ""}${defect !== undefined ? `\n${defect}` : ""}`)
    }
  }
}
