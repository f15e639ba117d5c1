/**
 * Request bodies from untrusted clients (SPEC 8): a byte limit enforced while
 * reading (the rest is never buffered), strict UTF-8 (and no unpaired surrogate
 * written as a `\u` escape), a nesting-depth limit checked on the bytes before
 * `JSON.parse` runs, JSON objects whose prototype-named keys stay ordinary
 * own properties, and no number a double cannot keep as written (since 0.8.0).
 *
 * @since 0.1.0
 */
import { Errors, Json } from "@enrollment/core"
import type { IncomingMessage } from "node:http"
import * as zlib from "node:zlib"
import * as Problem from "./Problem.ts"

/** Default body limit: 1 MiB. */
export const defaultLimit = 1024 * 1024

/** Deepest JSON nesting accepted. */
export const maxDepth = 64

const utf8 = new TextDecoder("utf-8", { fatal: true })

/** The outcome of reading a body: its bytes, or a problem to answer with. */
export type ReadResult = { readonly ok: true; readonly bytes: Buffer } | { readonly ok: false; readonly problem: Problem.Problem }

/**
 * Reads the body up to `limit` bytes. A declared `Content-Length` over the limit
 * is refused before a byte is read; a body that grows past it is refused as soon
 * as it does, and reading stops there: `over` is called then, synchronously, as
 * the chunk that passed the limit is parsed (before any request pipelined behind
 * it; since 0.10.2).
 */
export const read = (req: IncomingMessage, limit: number, over?: () => void): Promise<ReadResult> => {
  const refused = refuseDeclared(req, limit)
  if (refused !== undefined) {
    req.pause()
    return Promise.resolve(refused)
  }
  return new Promise((resolve) => {
    const chunks: Array<Buffer> = []
    let size = 0
    let done = false
    const finish = (r: ReadResult) => {
      if (done) return
      done = true
      req.off("data", onData)
      req.off("end", onEnd)
      req.off("error", onError)
      resolve(r)
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        req.pause()
        chunks.length = 0
        over?.()
        finish({ ok: false, problem: Problem.tooLarge(limit) })
        return
      }
      chunks.push(chunk)
    }
    const onEnd = () => finish({ ok: true, bytes: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size) })
    const onError = () => finish({ ok: false, problem: Problem.badRequest("The request body could not be read") })
    req.on("data", onData)
    req.on("end", onEnd)
    req.on("error", onError)
  })
}

/** Whether the request's `Content-Length` declares a body over `limit` (since 0.10.2). */
export const declaredOver = (req: IncomingMessage, limit: number): boolean => {
  const declared = req.headers["content-length"]
  return declared !== undefined && Number(declared) > limit
}

/** A problem with the declared `Content-Length` (not a number, or over the limit), or `undefined`. */
const refuseDeclared = (req: IncomingMessage, limit: number): ReadResult | undefined => {
  const declared = req.headers["content-length"]
  if (declared === undefined) return undefined
  const n = Number(declared)
  if (!Number.isSafeInteger(n) || n < 0) return { ok: false, problem: Problem.badRequest("Invalid Content-Length") }
  return n > limit ? { ok: false, problem: Problem.tooLarge(limit) } : undefined
}

const empty = Buffer.alloc(0)

/**
 * The body, taken in one synchronous call, when all of it has already arrived
 * (`req.complete`: the HTTP parser has read the request's last byte and holds
 * the body in the request's buffer); `undefined` while more is to come, to be
 * read with {@link read}. A body usually arrives with its headers, so by the
 * time a handler runs (after the turn that read it) this takes it without
 * stream events or a promise. What the parser buffered unread is bounded by the
 * stream's high-water mark (past it the parser stops reading the socket), so a
 * large body is never complete here, and the limit is checked all the same.
 */
export const readNow = (req: IncomingMessage, limit: number): ReadResult | undefined => {
  if (!req.complete) return undefined
  const refused = refuseDeclared(req, limit)
  if (refused !== undefined) return refused
  const bytes = (req.read() as Buffer | null) ?? empty
  return bytes.length > limit ? { ok: false, problem: Problem.tooLarge(limit) } : { ok: true, bytes }
}

/** A content coding a request body may come in (RFC 9110 8.4.1), which {@link decode} undoes (since 0.8.0). */
export type Coding = "gzip" | "deflate" | "br"

/** The codings taken, as an `Accept-Encoding` header lists them. */
export const acceptedCodings = "gzip, deflate, br"

/**
 * The coding a `Content-Encoding` header names (since 0.8.0): undefined for none (no header,
 * `identity`, empty elements, which RFC 9110 5.6.1 has a recipient ignore), `gzip` (or its alias
 * `x-gzip`), `deflate` (the zlib format, as HTTP means it, or raw deflate data: {@link decode}) or `br`; any other coding, or two applied
 * one over the other, is a 415 naming the header.
 */
export const codingOf = (header: string | undefined): Coding | undefined | Problem.Problem => {
  if (header === undefined) return undefined
  let coding: Coding | undefined
  for (const element of header.split(",")) {
    const c = element.trim().toLowerCase()
    if (c === "" || c === "identity") continue
    const named = c === "gzip" || c === "x-gzip" ? "gzip" : c === "deflate" || c === "br" ? c : undefined
    if (named === undefined || coding !== undefined) return Problem.unsupportedEncoding(header)
    coding = named
  }
  return coding
}

type Decoder = (
  bytes: Buffer,
  options: zlib.ZlibOptions & zlib.BrotliOptions & { readonly info: true },
  done: (error: Error | null, result: { readonly buffer: Buffer; readonly engine: { readonly bytesWritten: number } }) => void
) => void

const decoders: Readonly<Record<Coding, Decoder>> = {
  gzip: zlib.gunzip as unknown as Decoder,
  deflate: zlib.inflate as unknown as Decoder,
  br: zlib.brotliDecompress as unknown as Decoder
}

/**
 * True when `bytes` begin with a zlib header (RFC 1950 2.2): the deflate method (CM 8) with a
 * window of at most 32 KiB, and the check bits that make the first two bytes a multiple of 31.
 */
const zlibHeader = (bytes: Buffer): boolean =>
  bytes.length >= 2 && (bytes[0]! & 0x0f) === 8 && bytes[0]! >> 4 <= 7 && ((bytes[0]! << 8) | bytes[1]!) % 31 === 0

/**
 * The decoder of a body in `coding`. `deflate` is the zlib format as HTTP means it (RFC 9110
 * 8.4.1.2), but some clients send the raw deflate data without its zlib wrapper (.NET's
 * `DeflateStream`, PHP's `gzdeflate`, as browsers have long read it in answers): a body that does
 * not begin with a zlib header is read as raw deflate (since 0.8.1; before, a 400).
 */
const decoderOf = (bytes: Buffer, coding: Coding): Decoder =>
  coding === "deflate" && !zlibHeader(bytes) ? zlib.inflateRaw as unknown as Decoder : decoders[coding]

/**
 * The body's bytes with its content coding undone (since 0.8.0; before, a coded body was read as
 * the JSON text and refused as not UTF-8). The limit holds for what it decodes to as for a plain
 * body (a small body that expands past it, a "zip bomb", is a 413 once the decoder has written
 * `limit` bytes, never buffered further); bytes that are not in the coding, or that follow the end
 * of its data (which zlib's inflate and brotli would drop without a word), are a 400. Decoded on
 * libuv's thread pool, not on the event loop: what a decoder costs depends on the coded input more
 * than on the output (a crafted gzip body of 1 MiB that decodes to 30 KiB took 70 ms), and no
 * client's body may hold up the others' requests for that long.
 */
export const decode = (bytes: Buffer, coding: Coding, limit: number): Promise<ReadResult> =>
  new Promise((resolve) => {
    decoderOf(bytes, coding)(bytes, { maxOutputLength: limit, info: true }, (error, result) => {
      if (error !== null) {
        return resolve((error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE"
          ? { ok: false, problem: Problem.tooLarge(limit) }
          : notInCoding(coding))
      }
      resolve(result.engine.bytesWritten === bytes.length ? { ok: true, bytes: result.buffer } : notInCoding(coding))
    })
  })

const notInCoding = (coding: Coding): ReadResult => ({
  ok: false,
  problem: Problem.badRequest(`The request body is not valid ${coding} data, as its Content-Encoding says it is`)
})

/** The deepest nesting of `[`/`{` in JSON text, ignoring brackets inside strings; stops counting past `limit`. */
export const depthOf = (text: string, limit: number = maxDepth): number => {
  let depth = 0
  let max = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92 /* \ */) i++
      else if (c === 34 /* " */) inString = false
    } else if (c === 34) inString = true
    else if (c === 123 || c === 91) {
      if (++depth > max) {
        max = depth
        if (max > limit) return max
      }
    } else if (c === 125 || c === 93) depth--
  }
  return max
}

/** The outcome of parsing: a JSON value, or a 400. */
export type ParseResult = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly problem: Problem.Problem }

/** What a string of a body must be: a JSON text's `\u` escape can write what no UTF-8 holds. */
const unicodeExpected = "well-formed Unicode (the body is not valid Unicode)"

/**
 * A `\u` escape of a surrogate (U+D800 to U+DFFF). Text decoded from valid UTF-8 holds no
 * surrogate of its own, so this is the only way a parsed string can hold an unpaired one.
 */
const surrogateEscape = /\\u[dD][89a-fA-F]/

/**
 * Decodes and parses a JSON body. An empty body, invalid UTF-8, nesting deeper
 * than `depth` ({@link maxDepth} unless a caller adds the levels of its own
 * wrapper, as `$batch` does), malformed JSON, or a string holding an unpaired
 * surrogate (`"\ud800"`: no UTF-8 can encode it, so no store or header can
 * carry it; I-JSON, RFC 7493, forbids it) is a 400. So is a number a double
 * cannot keep as written (since 0.8.0; {@link Json.inexactNumber}: `1e400`,
 * `1e-400`, `9007199254740993`), which `JSON.parse` would turn into another
 * without a word, naming its JSON path and literal (in a `$batch`, under
 * `requests[i].body`: the batch is parsed once, whole), and a member given twice in one object
 * (since 0.12.1; {@link Json.duplicateMember}, named by its path: OData and Graph refuse it, and
 * `JSON.parse` would keep the second without a word). `JSON.parse` defines every
 * member, `__proto__` included, as an own data property, so no key reaches a
 * prototype here; the domain copies objects only with own-property writes.
 */
/**
 * What a body that is not UTF-8 looks like when it is coded data (since 0.8.1): gzip's magic
 * bytes (RFC 1952) begin a body sent without its `Content-Encoding`, or gzipped twice (Kiota's
 * `CompressionHandler` gzips a body again when its retry handler resends it: the server undoes one
 * coding and finds another).
 */
const codedHint = (bytes: Uint8Array): string =>
  bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b
    ? ": it is gzip data (sent without Content-Encoding: gzip, or gzipped twice)"
    : ""

export const parse = (bytes: Uint8Array, depth: number = maxDepth): ParseResult => {
  if (bytes.length === 0) return { ok: false, problem: Problem.badRequest("A request body is required") }
  let text: string
  try {
    text = utf8.decode(bytes)
  } catch {
    return { ok: false, problem: Problem.badRequest(`The request body is not valid UTF-8${codedHint(bytes)}`) }
  }
  if (text.trim() === "") return { ok: false, problem: Problem.badRequest("A request body is required") }
  // Each level takes a byte, so a body of at most `depth` bytes cannot nest deeper.
  if (bytes.length > depth && depthOf(text, depth) > depth) {
    // A batch's own limit is its requests' bodies' under its three levels: said as theirs (since 0.12.2).
    return {
      ok: false,
      problem: Problem.badRequest(
        depth === maxDepth
          ? `The JSON body is nested deeper than ${depth} levels`
          : `The JSON body is nested deeper than ${depth} levels (a batched request's body may nest ${maxDepth} levels, as sent alone, under the batch's ${depth - maxDepth})`
      )
    }
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (e) {
    return { ok: false, problem: Problem.badRequest(`The request body is not valid JSON: ${(e as Error).message.slice(0, 200)}`) }
  }
  // Walked only when the text escapes a surrogate, which a body seldom does; named by its JSON path
  // (since 0.10.0; SPEC 6: where the bad value is), as a number a double cannot keep is below.
  if (text.includes("\\u") && surrogateEscape.test(text)) {
    const at = Json.unpairedSurrogateAt(value)
    if (at !== undefined) {
      return { ok: false, problem: Problem.badRequest(Errors.invalid.value(at, unicodeExpected, "a \\u escape of an unpaired surrogate").message) }
    }
  }
  // One regular expression test, unless the text holds a long number or a long exponent.
  const inexact = Json.inexactNumber(text)
  if (inexact !== undefined) {
    return { ok: false, problem: Problem.badRequest(Errors.invalid.value(inexact.path, inexact.expected, inexact.literal).message) }
  }
  // A member given twice in one object (since 0.12.1), which `JSON.parse` would take the last of:
  // a count of `:`s and of members, unless the text's strings hold `:`s too.
  const repeated = Json.duplicateMember(text, value)
  if (repeated !== undefined) return { ok: false, problem: Problem.badRequest(repeated.message) }
  return { ok: true, value }
}

/** True for `application/json`, with any parameters (`charset`, `odata.metadata`, …). */
export const isJson = (contentType: string | undefined): boolean => {
  if (contentType === undefined) return false
  if (contentType === "application/json") return true // what most clients send: no slicing, no lowering
  const semi = contentType.indexOf(";")
  const media = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase()
  return media === "application/json"
}
