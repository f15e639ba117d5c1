/**
 * A request body in a content coding (RFC 9110 8.4): gzip (and its alias x-gzip), deflate (the
 * zlib format, or raw deflate data as some clients send it) and br are decoded and read as the JSON text, on every route and `$batch`, within
 * the body limit as decoded (a small body that expands past it is a 413); bytes that are not in the
 * coding they claim are a 400; any other coding, or two stacked, a 415 with `Accept-Encoding` (RFC
 * 9110 15.5.16); `identity` and a list's empty elements are no coding. The client that sends such
 * bodies, Kiota's `CompressionHandler` (the Graph SDKs' performance middleware, from
 * @microsoft/kiota-http-fetchlibrary as the beta SDK loads it), gzips a PATCH and is answered at
 * once. Before 0.8.0, the coded bytes were read as the JSON text: a 400, and that client failed.
 */
import { createRequire } from "node:module"
import * as fs from "node:fs"
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from "node:zlib"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { errorOf, startWithConfiguration, type TestServer } from "./support.ts"

interface FetchLibrary {
  readonly HttpClient: new(customFetch: undefined, ...middlewares: ReadonlyArray<unknown>) => {
    executeFetch(url: string, init: RequestInit, options?: Record<string, unknown>): Promise<Response>
  }
  readonly MiddlewareFactory: { getPerformanceMiddlewares(customFetch?: (url: string, init: RequestInit) => Promise<Response>): ReadonlyArray<unknown> }
}

/** The fetch library the beta SDK itself runs on (not one of this package's dependencies). */
const loadFetchLibrary = async (): Promise<FetchLibrary> => {
  const sdk = fs.realpathSync(createRequire(import.meta.url).resolve("@microsoft/msgraph-beta-sdk"))
  return await import(createRequire(sdk).resolve("@microsoft/kiota-http-fetchlibrary")) as FetchLibrary
}

const seed = "deviceManagement/deviceEnrollmentConfigurations/c1/assignments/a1"
const json = (value: unknown) => Buffer.from(JSON.stringify(value))

describe("a request body in a content coding", () => {
  let s: TestServer
  beforeAll(async () => {
    s = await startWithConfiguration({ id: "a1", sourceId: "before" })
  })
  afterAll(() => s.close())

  const raw = (body: Uint8Array, headers: Record<string, string>, path = seed, method = "PATCH") =>
    s.request(method, path, { raw: body, headers: { "content-type": "application/json", ...headers } })
  const stored = async () => (await s.request("GET", seed)).json.sourceId

  it("decodes gzip, x-gzip, deflate and br, any case, identity around them", async () => {
    const cases: ReadonlyArray<readonly [string, (b: Buffer) => Buffer]> = [
      ["gzip", gzipSync],
      ["X-Gzip", gzipSync],
      ["deflate", deflateSync],
      // Raw deflate data, with no zlib wrapper, as .NET's DeflateStream writes it (since 0.8.1).
      ["Deflate", deflateRawSync],
      ["br", brotliCompressSync],
      ["identity, gzip", gzipSync]
    ]
    for (const [coding, encode] of cases) {
      const r = await raw(encode(json({ sourceId: `coded ${coding}` })), { "content-encoding": coding })
      assert.strictEqual(r.status, 200, `${coding}: ${r.text}`)
      assert.strictEqual(r.json.sourceId, `coded ${coding}`)
      assert.strictEqual(await stored(), `coded ${coding}`)
    }
  })

  it("takes identity, and a list's empty elements, as no coding", async () => {
    for (const coding of ["Identity", "", "identity,", " , identity"]) {
      const r = await raw(json({ sourceId: `plain${coding.length}` }), { "content-encoding": coding })
      assert.strictEqual(r.status, 200, `'${coding}': ${r.text}`)
      assert.strictEqual(r.json.sourceId, `plain${coding.length}`)
    }
    assert.strictEqual(await stored(), "plain11")
  })

  it("refuses another coding, or two stacked, with 415 and Accept-Encoding, writing nothing", async () => {
    for (const coding of ["compress", "zstd", "x-unknown", "gzip, br", "gzip, gzip"]) {
      const r = await raw(gzipSync(json({ sourceId: "refused" })), { "content-encoding": coding })
      assert.strictEqual(r.status, 415, coding)
      assert.strictEqual(errorOf(r).code, "UnsupportedMediaType")
      assert.include(errorOf(r).message, `Content-Encoding '${coding}' is not supported`)
      assert.strictEqual(r.headers.get("accept-encoding"), "gzip, deflate, br", coding)
    }
    assert.strictEqual(await stored(), "plain11")
  })

  it("refuses bytes that are not in the coding they claim with 400, and a body that expands past the limit with 413", async () => {
    const bad = await raw(json({ sourceId: "not gzip" }), { "content-encoding": "gzip" })
    assert.strictEqual(bad.status, 400)
    assert.include(errorOf(bad).message, "not valid gzip data")
    // Gzip data where JSON text was due: sent without its header, or gzipped twice (a retry through Kiota's CompressionHandler).
    for (const [body, headers] of [[gzipSync(json({ sourceId: "bare" })), {}], [gzipSync(gzipSync(json({ sourceId: "twice" }))), { "content-encoding": "gzip" }]] as const) {
      const r = await raw(body, headers)
      assert.strictEqual(r.status, 400)
      assert.strictEqual(errorOf(r).message, "The request body is not valid UTF-8: it is gzip data (sent without Content-Encoding: gzip, or gzipped twice)")
    }
    // Neither zlib data nor raw deflate data (JSON text read as raw deflate: an invalid block type).
    const notDeflate = await raw(json({ sourceId: "not deflate" }), { "content-encoding": "deflate" })
    assert.strictEqual(notDeflate.status, 400)
    assert.include(errorOf(notDeflate).message, "not valid deflate data")
    // A zlib header over data that is not deflate's: not read again as raw deflate.
    const header = await raw(Buffer.concat([Buffer.from([0x78, 0x9c]), deflateRawSync(json({ sourceId: "wrapped" })).subarray(0, 4)]), { "content-encoding": "deflate" })
    assert.strictEqual(header.status, 400)
    // Bytes after the end of the coded data: zlib's inflate and brotli would drop them unsaid.
    const junk = Buffer.from("JUNK")
    for (const [coding, encode] of [["gzip", gzipSync], ["deflate", deflateSync], ["deflate", deflateRawSync], ["br", brotliCompressSync]] as const) {
      const r = await raw(Buffer.concat([encode(json({ sourceId: "trailing" })), junk]), { "content-encoding": coding })
      assert.strictEqual(r.status, 400, coding)
      assert.include(errorOf(r).message, `not valid ${coding} data`)
    }
    // Two gzip members one after the other are one gzip body (RFC 1952 2.2).
    const members = await raw(Buffer.concat([gzipSync(Buffer.from('{"sourceId":')), gzipSync(Buffer.from('"members"}'))]), { "content-encoding": "gzip" })
    assert.strictEqual(members.status, 200, members.text)
    assert.strictEqual(members.json.sourceId, "members")
    assert.strictEqual((await raw(json({ sourceId: "plain11" }), {})).status, 200)
    // 2 MiB of spaces around the object: about 2 KiB coded, over the 1 MiB limit decoded.
    const bomb = gzipSync(Buffer.from(`{"sourceId":"bomb"${" ".repeat(2 * 1024 * 1024)}}`))
    assert.isBelow(bomb.length, 64 * 1024)
    const big = await raw(bomb, { "content-encoding": "gzip" })
    assert.strictEqual(big.status, 413)
    assert.strictEqual(errorOf(big).code, "RequestEntityTooLarge")
    assert.strictEqual(await stored(), "plain11")
  })

  it("decodes a $batch body, and refuses an unknown coding there", async () => {
    const body = { requests: [{ id: "1", method: "PATCH", url: `/${seed}`, headers: { "content-type": "application/json" }, body: { sourceId: "batched" } }] }
    const refused = await raw(gzipSync(json(body)), { "content-encoding": "compress" }, "$batch", "POST")
    assert.strictEqual(refused.status, 415)
    const r = await raw(gzipSync(json(body)), { "content-encoding": "gzip" }, "$batch", "POST")
    assert.strictEqual(r.status, 200, r.text)
    assert.strictEqual(r.json.responses[0].status, 200)
    assert.strictEqual(await stored(), "batched")
    // A request's own content-encoding names nothing: its body is JSON in the batch's.
    const named = { requests: [{ ...body.requests[0], headers: { "content-type": "application/json", "content-encoding": "gzip" }, body: { sourceId: "named" } }] }
    const n = await raw(json(named), {}, "$batch", "POST")
    assert.strictEqual(n.json.responses[0].status, 200, JSON.stringify(n.json))
    assert.strictEqual(await stored(), "named")
  })

  it("Kiota's CompressionHandler gzips a PATCH, and it is answered at once", async () => {
    const { HttpClient, MiddlewareFactory } = await loadFetchLibrary()
    // The requests as the handler's chain hands them to fetch: what went on the wire.
    const sent: Array<string | null> = []
    const recording = (url: string, init: RequestInit) => {
      sent.push(new Headers(init.headers).get("content-encoding"))
      return fetch(url, init)
    }
    const client = new HttpClient(undefined, ...MiddlewareFactory.getPerformanceMiddlewares(recording))
    const before = s.logs.length
    const r = await client.executeFetch(`${s.base}/${seed}`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${await s.token()}`, "content-type": "application/json" },
      body: JSON.stringify({ sourceId: "through-kiota" })
    }, {})
    assert.strictEqual(r.status, 200)
    assert.strictEqual(((await r.json()) as { sourceId: string }).sourceId, "through-kiota")
    // One request: the gzip one, decoded (before 0.8.0 a 400; with only a 415, two).
    assert.deepStrictEqual(s.logs.slice(before).map((l) => l.status), [200])
    assert.deepStrictEqual(sent, ["gzip"])
  })
})
