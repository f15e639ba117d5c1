/**
 * `enrollctl batch FILE`: Graph's JSON batching (`POST /beta/$batch`), remote
 * mode only. The file (`-`: standard input) is the batch as Graph takes it,
 * `{"requests":[{"id","method","url","headers"?,"body"?,"dependsOn"?}]}`, and is
 * sent as it is: the server checks it whole, so a malformed batch is its 400
 * (exit 2) and none of its requests runs. The answer prints as a list prints:
 * its responses, one per request, in the order sent (json and yaml as the
 * server wrote them; a table shows each one's id, status and result in a line).
 *
 * Each request succeeds or fails on its own (Graph has no atomicity for a
 * batch). When one failed, the command fails after printing every response:
 * `error <code>: …` for the first failure (a `424 FailedDependency` only when
 * nothing else failed: it follows another failure), with the exit code of its
 * status's class. A batch of reads (`GET` only) writes nothing, and its failure says nothing of
 * the kind ({@link writes}). Local mode has no batching (it is the HTTP API's; run the
 * commands one by one): a usage error, before the file is read.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Body from "./Body.ts"
import { classOfStatus } from "./ExitCode.ts"
import { CommandFailed, usage } from "./Failure.ts"
import * as Output from "./Output.ts"
import * as Remote from "./Remote.ts"
import { markDone, print, resolveMode, settingsOf } from "./Runtime.ts"
import type { Globals } from "./Settings.ts"

type Row = Record<string, unknown>

const isObject = (v: unknown): v is Row => typeof v === "object" && v !== null && !Array.isArray(v)

const errorOf = (body: unknown): { readonly code?: unknown; readonly message?: unknown } | undefined =>
  isObject(body) && isObject(body.error) ? body.error : undefined

/** Whether a response's `Content-Type` is JSON (none: taken as JSON, as a batch's JSON bodies are). */
const isJson = (headers: unknown): boolean => {
  if (!isObject(headers)) return true
  const type = Object.entries(headers).find(([k]) => k.toLowerCase() === "content-type")?.[1]
  return typeof type !== "string" || /^application\/(?:[\w.+-]+\+)?json\b/i.test(type.trim())
}

/**
 * The text a batch's non-JSON body holds: the base64 of its bytes (Graph's form, and the server's
 * since http-adapter 0.14.0), decoded when it is base64 and decodes to printable UTF-8; else the
 * body as it came (a server of an earlier release sent the text itself: `202`, `7`).
 */
const fromBase64 = (body: string): string => {
  if (body.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(body)) return body
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(body, "base64"))
    return /[\u0000-\u0008\u000b-\u001f\u007f]/.test(text) ? body : text
  } catch {
    return body
  }
}

/** A response's result in one line: its error, its entity, its item count, its text, or `-`. */
export const resultText = (response: Row): string => {
  const body = response.body
  const error = errorOf(body)
  if (error !== undefined) return `${String(error.code)}: ${String(error.message)}`
  if (isObject(body)) {
    if (Array.isArray(body.value)) return `${body.value.length} item${body.value.length === 1 ? "" : "s"}`
    const type = typeof body["@odata.type"] === "string" ? body["@odata.type"].replace(/^#?microsoft\.graph\./, "") : "entity"
    return body.id === undefined ? type : `${type} ${String(body.id)}`
  }
  if (body === undefined || body === null || body === "") return "-"
  // A body that is not JSON (a `$count`) comes as the base64 of its bytes, as Graph sends it.
  if (typeof body === "string") return isJson(response.headers) ? body : fromBase64(body)
  return JSON.stringify(body)
}

/** The failure of a batch one of whose requests failed: the first real failure (424s follow one). */
const failureOf = (responses: ReadonlyArray<Row>): CommandFailed | undefined => {
  const failed = responses.filter((r) => typeof r.status === "number" && r.status >= 400)
  if (failed.length === 0) return undefined
  const first = failed.find((r) => r.status !== 424) ?? failed[0]!
  const status = first.status as number
  const error = errorOf(first.body)
  const ids = failed.map((r) => `'${String(r.id)}'`).join(", ")
  return new CommandFailed({
    code: typeof error?.code === "string" ? error.code : `HTTP${status}`,
    detail: `request '${String(first.id)}' of the batch answered ${status}` +
      `${typeof error?.message === "string" ? `: ${error.message}` : ""} (${failed.length} of ${responses.length} failed: ${ids})`,
    exit: classOfStatus(status),
    status
  })
}

/**
 * Whether a batch may write: whether one of its requests has a method that writes (`POST`,
 * `PATCH`, `PUT`, `DELETE`, in any case, as the server reads it). A batch of reads (`GET`) writes
 * nothing though it is sent as a `POST`: its failure (no answer in time, a broken connection)
 * does not say that it may have been written, and its 503 is retried as a read's. A request
 * without a method writes nothing: the server refuses the whole batch before anything runs.
 */
export const writes = (body: unknown): boolean => {
  const requests = isObject(body) ? body.requests : undefined
  return Array.isArray(requests) && requests.some((r) => isObject(r) && typeof r.method === "string" && Remote.isWrite(r.method))
}

/** Sends the batch in `file` and prints its responses. */
export const send = (raw: Globals, file: string) =>
  Effect.gen(function*() {
    const g = yield* settingsOf(raw)
    if (g.select !== undefined) return yield* usage("--select does not apply to batch: it prints one response per request, as the server wrote it")
    const mode = yield* resolveMode(raw)
    if (mode._tag === "Local") {
      return yield* usage("batch applies to remote mode (--base-url): JSON batching is the HTTP API's ($batch); in local mode run the commands one by one")
    }
    const body = yield* Effect.flatMap(Body.file(file), (text) => Body.parseJson(file === "-" ? "standard input" : file, text))
    const res = yield* Remote.client(mode.settings).request({ method: "POST", path: "$batch", body, writes: writes(body) })
    const responses = isObject(res.body) ? res.body.responses : undefined
    if (!Array.isArray(responses) || !responses.every(isObject)) {
      return yield* new CommandFailed({ code: "InvalidResponse", detail: "the $batch answer holds no responses array", exit: "other" })
    }
    const format = Output.formatOf(g.output, process.stdout.isTTY === true)
    if (writes(body)) yield* markDone("the batch was run: do not send it again for its answer")
    yield* print(
      format === "table"
        ? Output.table(responses.map((r) => ({ id: r.id, status: r.status, result: resultText(r) })))
        : Output.render({ _tag: "List", items: responses }, { format })
    )
    const failure = failureOf(responses)
    if (failure !== undefined) return yield* failure
  })
