/**
 * A request body in a content coding (`Content-Encoding: gzip`) is a 415, as RFC 9110 (15.5.16)
 * asks of a coding the server does not take, and nothing is written; `identity` is no coding. The
 * client that sends such bodies, Kiota's `CompressionHandler` (the Graph SDKs' performance
 * middleware, from @microsoft/kiota-http-fetchlibrary as the beta SDK loads it), answers the 415 by
 * sending the body again uncompressed: its PATCH succeeds on the second request. Before, the coded
 * bytes were read as the JSON text, a 400, and that client failed.
 */
import { MemoryStore } from "@enrollment/core"
import { createRequire } from "node:module"
import * as fs from "node:fs"
import { gzipSync } from "node:zlib"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { errorOf, start, type TestServer } from "./support.ts"

interface FetchLibrary {
  readonly HttpClient: new(customFetch: undefined, ...middlewares: ReadonlyArray<unknown>) => {
    executeFetch(url: string, init: RequestInit, options?: Record<string, unknown>): Promise<Response>
  }
  readonly MiddlewareFactory: { getPerformanceMiddlewares(): ReadonlyArray<unknown> }
}

/** The fetch library the beta SDK itself runs on (not one of this package's dependencies). */
const loadFetchLibrary = async (): Promise<FetchLibrary> => {
  const sdk = fs.realpathSync(createRequire(import.meta.url).resolve("@microsoft/msgraph-beta-sdk"))
  return await import(createRequire(sdk).resolve("@microsoft/kiota-http-fetchlibrary")) as FetchLibrary
}

const seed = "deviceManagement/deviceEnrollmentConfigurations/c1/assignments/a1"

describe("a request body in a content coding", () => {
  let s: TestServer
  beforeAll(async () => {
    s = await start({ store: MemoryStore.layer })
    const ok = (r: { status: number; text: string }) => assert.strictEqual(r.status, 201, r.text)
    ok(await s.request("POST", "deviceManagement/deviceEnrollmentConfigurations", {
      body: { "@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration", id: "c1", limit: 1 }
    }))
    ok(await s.request("POST", "deviceManagement/deviceEnrollmentConfigurations/c1/assignments", { body: { id: "a1", sourceId: "before" } }))
  })
  afterAll(() => s.close())

  const raw = (body: Uint8Array, headers: Record<string, string>, path = seed, method = "PATCH") =>
    s.request(method, path, { raw: body, headers: { "content-type": "application/json", ...headers } })

  it("is a 415 naming the coding, and nothing is written", async () => {
    for (const coding of ["gzip", "br", "deflate", "gzip, identity", "x-unknown"]) {
      const r = await raw(gzipSync(JSON.stringify({ sourceId: "coded" })), { "content-encoding": coding })
      assert.strictEqual(r.status, 415, coding)
      assert.strictEqual(errorOf(r).code, "UnsupportedMediaType")
      assert.include(errorOf(r).message, `Content-Encoding '${coding}'`)
      assert.strictEqual(r.headers.get("accept-encoding"), "identity", coding)
    }
    assert.strictEqual((await s.request("GET", seed)).json.sourceId, "before")
  })

  it("takes identity, and a list's empty elements, as no coding", async () => {
    for (const coding of ["Identity", "", "identity,", " , identity"]) {
      const r = await raw(new TextEncoder().encode(JSON.stringify({ sourceId: `plain${coding.length}` })), { "content-encoding": coding })
      assert.strictEqual(r.status, 200, `'${coding}': ${r.text}`)
      assert.strictEqual(r.json.sourceId, `plain${coding.length}`)
    }
    assert.strictEqual((await s.request("GET", seed)).json.sourceId, "plain11")
  })

  it("is a 415 on $batch too", async () => {
    const body = { requests: [{ id: "1", method: "PATCH", url: `/${seed}`, headers: { "content-type": "application/json" }, body: { sourceId: "batched" } }] }
    const r = await raw(gzipSync(JSON.stringify(body)), { "content-encoding": "gzip" }, "$batch", "POST")
    assert.strictEqual(r.status, 415)
    assert.strictEqual((await s.request("GET", seed)).json.sourceId, "plain11")
  })

  it("Kiota's CompressionHandler sends the body again uncompressed after the 415, and its PATCH succeeds", async () => {
    const { HttpClient, MiddlewareFactory } = await loadFetchLibrary()
    const client = new HttpClient(undefined, ...MiddlewareFactory.getPerformanceMiddlewares())
    const before = s.logs.length
    const r = await client.executeFetch(`${s.base}/${seed}`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${await s.token()}`, "content-type": "application/json" },
      body: JSON.stringify({ sourceId: "through-kiota" })
    }, {})
    assert.strictEqual(r.status, 200)
    assert.strictEqual(((await r.json()) as { sourceId: string }).sourceId, "through-kiota")
    // The handler's two requests: the gzip one refused, the plain one taken.
    assert.deepStrictEqual(s.logs.slice(before).map((l) => l.status), [415, 200])
  })
})
