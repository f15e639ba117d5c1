/**
 * Cross-origin requests from browsers (CORS, http-adapter 0.12.1; a review of the HTTP face,
 * 2026-12-02: a browser app's preflight got a 405, so no single-page app could call the service as
 * it calls Graph). Over real HTTP: the preflight and the answers' headers, for allowed origins,
 * other origins and none, failures included; and in headless Chromium, a page of another origin
 * that PATCHes the seed's path with a token and an If-Match and reads the ETag and the answer.
 */
import { MemoryStore } from "@enrollment/core"
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { Cors } from "../src/index.ts"
import { errorOf, start, type TestServer } from "./support.ts"

const G = "#microsoft.graph."
const app = "https://app.example.com"
const cfgs = "deviceManagement/deviceEnrollmentConfigurations"
const seedPath = "invitations/i1/invitedUser/deviceEnrollmentConfigurations/c1/assignments/a1"

/** A configuration c1 with an assignment a1 targeted to every user, and an invitation i1, so the seed's path resolves. */
const seed = async (s: TestServer) => {
  const made = [
    await s.request("POST", cfgs, { body: { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: "c1", limit: 5 } }),
    await s.request("POST", `${cfgs}/c1/assignments`, { body: { id: "a1", target: { "@odata.type": `${G}allLicensedUsersAssignmentTarget` } } }),
    await s.request("POST", "invitations", { body: { id: "i1", invitedUserEmailAddress: "guest@example.com", inviteRedirectUrl: "https://example.com" } })
  ]
  for (const r of made) assert.strictEqual(r.status, 201, r.text)
}

const preflight = (s: TestServer, origin: string | undefined, requestHeaders?: string) =>
  s.request("OPTIONS", seedPath, {
    token: null,
    headers: {
      ...(origin !== undefined ? { origin } : {}),
      "access-control-request-method": "PATCH",
      ...(requestHeaders !== undefined ? { "access-control-request-headers": requestHeaders } : {})
    }
  })

const corsHeaders = (h: Headers) => [...h.keys()].filter((k) => k.startsWith("access-control-") || k === "vary")

describe("CORS, off by default", () => {
  let s: TestServer
  beforeAll(async () => {
    s = await start({ store: MemoryStore.layer })
    await seed(s)
  })
  afterAll(() => s?.close())

  it("answers a preflight with the 405 of any OPTIONS, and no answer carries a CORS header", async () => {
    const p = await preflight(s, app, "authorization")
    assert.strictEqual(p.status, 405, p.text)
    assert.strictEqual(errorOf(p).code, "MethodNotAllowed")
    const got = await s.request("GET", seedPath, { headers: { origin: app } })
    assert.strictEqual(got.status, 200, got.text)
    assert.deepStrictEqual([...corsHeaders(p.headers), ...corsHeaders(got.headers)], [])
  })
})

describe("CORS for listed origins", () => {
  let s: TestServer
  beforeAll(async () => {
    s = await start({ store: MemoryStore.layer, cors: { allowedOrigins: [app, "http://localhost:3000"] } })
    await seed(s)
  })
  afterAll(() => s?.close())

  it("answers an allowed origin's preflight 204 on any path, without a token: the methods, the headers asked for, an hour", async () => {
    for (const path of [seedPath, "no/such/path", "$batch"]) {
      const p = await s.request("OPTIONS", path, {
        token: null,
        headers: { origin: app, "access-control-request-method": "PATCH", "access-control-request-headers": "authorization,content-type,if-match,sdkversion" }
      })
      assert.strictEqual(p.status, 204, `${path}: ${p.text}`)
      assert.strictEqual(p.text, "")
      assert.strictEqual(p.headers.get("access-control-allow-origin"), app)
      assert.strictEqual(p.headers.get("access-control-allow-methods"), "GET, HEAD, POST, PATCH, DELETE")
      assert.strictEqual(p.headers.get("access-control-allow-headers"), "authorization,content-type,if-match,sdkversion")
      assert.strictEqual(p.headers.get("access-control-max-age"), "3600")
      assert.strictEqual(p.headers.get("vary"), "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
      assert.isNull(p.headers.get("access-control-allow-credentials"), "credentials are never allowed")
      assert.match(p.headers.get("request-id") ?? "", /^[0-9a-f-]{36}$/)
    }
    // A list that is not of header names is answered with the headers the API reads.
    const odd = await preflight(s, "http://localhost:3000", "authorization, x y")
    assert.strictEqual(odd.status, 204)
    assert.strictEqual(odd.headers.get("access-control-allow-origin"), "http://localhost:3000")
    assert.strictEqual(odd.headers.get("access-control-allow-headers"), Cors.allowedHeaders)
    assert.strictEqual((await preflight(s, app)).headers.get("access-control-allow-headers"), Cors.allowedHeaders)
  })

  it("lets an allowed origin read every answer, failures included, and exposes the headers a Graph client reads", async () => {
    const patched = await s.request("PATCH", seedPath, { body: { source: "policySets" }, headers: { origin: app } })
    assert.strictEqual(patched.status, 200, patched.text)
    const unauthenticated = await s.request("GET", seedPath, { token: null, headers: { origin: app } })
    assert.strictEqual(unauthenticated.status, 401)
    const missing = await s.request("GET", `${cfgs}/nope`, { headers: { origin: app } })
    assert.strictEqual(missing.status, 404)
    const batch = await s.request("POST", "$batch", { body: { requests: [{ id: "1", method: "GET", url: `/${seedPath}` }] }, headers: { origin: app } })
    assert.strictEqual(batch.status, 200, batch.text)
    const health = await s.request("GET", "/health", { token: null, headers: { origin: app } })
    for (const r of [patched, unauthenticated, missing, batch, health]) {
      assert.strictEqual(r.headers.get("access-control-allow-origin"), app, r.text.slice(0, 100))
      assert.strictEqual(r.headers.get("access-control-expose-headers"), Cors.exposedHeaders)
      assert.strictEqual(r.headers.get("vary"), "Origin")
    }
    assert.include(Cors.exposedHeaders.split(", "), "ETag")
    assert.isNotNull(patched.headers.get("etag"))
    // A batch's own answers carry none (the batch's answer does), whether or not a request names an origin.
    const inner = await s.request("POST", "$batch", {
      body: { requests: [{ id: "1", method: "GET", url: `/${seedPath}` }, { id: "2", method: "GET", url: `/${seedPath}`, headers: { origin: app } }] },
      headers: { origin: app }
    })
    for (const r of inner.json.responses) {
      assert.strictEqual(r.status, 200)
      assert.deepStrictEqual(Object.keys(r.headers).filter((k) => /^(access-control-|vary$)/i.test(k)), [], r.id)
    }
  })

  it("answers another origin, and a request without Origin, with no CORS header but Vary: Origin, and its preflight is a 405", async () => {
    const p = await preflight(s, "https://evil.example.com", "authorization")
    assert.strictEqual(p.status, 405)
    // An origin differs from a listed one by scheme, port or case: another origin.
    for (const origin of ["http://app.example.com", "https://app.example.com:8443", "https://APP.example.com", "null"]) {
      const r = await s.request("GET", seedPath, { headers: { origin } })
      assert.strictEqual(r.status, 200)
      assert.deepStrictEqual(corsHeaders(r.headers), ["vary"], origin)
      assert.strictEqual(r.headers.get("vary"), "Origin", origin)
    }
    // The answer depends on Origin whether or not one was sent (a shared cache must not give an
    // answer without the allow header to an allowed origin's page): every answer says so.
    const plain = await s.request("GET", seedPath)
    assert.deepStrictEqual([...corsHeaders(p.headers), ...corsHeaders(plain.headers)], ["vary", "vary"])
    assert.deepStrictEqual([p.headers.get("vary"), plain.headers.get("vary")], ["Origin", "Origin"])
    // An OPTIONS that is no preflight (no Access-Control-Request-Method) is the 405 it was.
    const options = await s.request("OPTIONS", seedPath, { headers: { origin: app } })
    assert.strictEqual(options.status, 405)
  })
})

describe("CORS for any origin", () => {
  let s: TestServer
  beforeAll(async () => {
    s = await start({ store: MemoryStore.layer, cors: { allowedOrigins: "*", maxAgeSeconds: 600 } })
    await seed(s)
  })
  afterAll(() => s?.close())

  it("answers \"*\" to every origin, with no Vary on answers, and the preflight's age as set", async () => {
    const p = await preflight(s, "https://anyone.example", "authorization")
    assert.strictEqual(p.status, 204)
    assert.strictEqual(p.headers.get("access-control-allow-origin"), "*")
    assert.strictEqual(p.headers.get("access-control-max-age"), "600")
    const r = await s.request("GET", seedPath, { headers: { origin: "null" } })
    assert.strictEqual(r.headers.get("access-control-allow-origin"), "*")
    assert.isNull(r.headers.get("vary"))
  })
})

describe("Cors.make", () => {
  it("refuses an origin a browser never sends, saying what one is", () => {
    for (const bad of ["https://app.example.com/", "https://App.example.com", "app.example.com", "ftp://x.example", "https://x.example/path", "*", "https://x.example:70000"]) {
      assert.throws(() => Cors.make({ allowedOrigins: [bad] }), /CORS origin/, bad)
      assert.isDefined(Cors.originProblem(bad), bad)
    }
    for (const good of ["https://app.example.com", "http://localhost:3000", "http://127.0.0.1:8080", "http://[::1]:5173"]) {
      assert.isUndefined(Cors.originProblem(good), good)
    }
  })
})

const chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => fs.existsSync(p))
if (chromium === undefined) console.log("CORS in headless Chromium skipped: no /usr/bin/chromium (apt-get install chromium)")

describe.skipIf(chromium === undefined)("CORS in headless Chromium", () => {
  let s: TestServer
  let page: import("node:http").Server
  let pageOrigin: string
  /** The page's script: a preflighted PATCH of the seed's path, then one with a stale ETag; what it read, into the DOM. */
  const script = (api: string, token: string) => `
    const out = document.getElementById("out")
    const call = (ifMatch) => fetch(${JSON.stringify(api)}, {
      method: "PATCH",
      headers: { Authorization: "Bearer ${token}", "Content-Type": "application/json", "If-Match": ifMatch },
      // The page from another origin would write another value, if its PATCH reached the server.
      body: JSON.stringify({ source: location.hostname === "localhost" ? "direct" : "policySets" })
    })
    ;(async () => {
      try {
        const first = await call("*")
        const body = await first.json()
        const stale = await call('W/"stale"')
        const error = await stale.json()
        out.textContent = JSON.stringify({ status: first.status, etag: first.headers.get("ETag"), source: body.source, requestId: first.headers.get("request-id"),
          staleStatus: stale.status, staleCode: error.error.code })
      } catch (e) {
        out.textContent = JSON.stringify({ blocked: String(e) })
      }
      out.setAttribute("data-done", "1")
    })()`
  const render = (url: string) =>
    new Promise<string>((resolve, reject) => {
      execFile(chromium!, [
        "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--virtual-time-budget=10000", "--dump-dom", url
      ], { timeout: 60_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout)))
    })
  const resultOf = (dom: string) => {
    const m = /<pre id="out" data-done="1">([^<]*)<\/pre>/.exec(dom)
    assert.ok(m, `the page did not finish: ${dom.slice(0, 500)}`)
    return JSON.parse(m[1]!.replaceAll("&quot;", "\"").replaceAll("&amp;", "&"))
  }

  beforeAll(async () => {
    // The page is served from an origin of its own (another port); the API allows it, and no other.
    let token = ""
    let api = ""
    page = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" })
      res.end(`<!doctype html><html><body><pre id="out"></pre><script>${script(api, token)}</script></body></html>`)
    })
    await new Promise<void>((resolve) => page.listen(0, "127.0.0.1", resolve))
    pageOrigin = `http://127.0.0.1:${(page.address() as AddressInfo).port}`
    s = await start({ store: MemoryStore.layer, cors: { allowedOrigins: [pageOrigin] } })
    await seed(s)
    token = await s.token()
    api = `${s.url}/beta/${seedPath}`
  })
  afterAll(async () => {
    await s?.close()
    await new Promise<void>((resolve) => page?.close(() => resolve()))
  })

  it("lets a page of an allowed origin PATCH the seed's path with a token and If-Match, and read the ETag, the entity and a 412", async () => {
    const got = resultOf(await render(pageOrigin))
    assert.deepInclude(got, { status: 200, source: "policySets", staleStatus: 412, staleCode: "preconditionFailed" })
    assert.match(got.etag, /^W\/"/)
    assert.match(got.requestId, /^[0-9a-f-]{36}$/)
    const stored = await s.request("GET", seedPath)
    assert.strictEqual(stored.json.source, "policySets")
    assert.strictEqual(stored.headers.get("etag"), got.etag)
  }, 90_000)

  it("keeps a page of another origin from sending the PATCH: the browser blocks it at the preflight", async () => {
    const before = await s.request("GET", seedPath)
    const mark = s.logs.length
    // The same page from another origin: localhost is not 127.0.0.1 to a browser.
    const other = pageOrigin.replace("127.0.0.1", "localhost")
    const got = resultOf(await render(other))
    assert.match(got.blocked ?? "", /TypeError|Failed to fetch/)
    const after = await s.request("GET", seedPath)
    assert.strictEqual(after.text, before.text, "the PATCH reached the server")
    // Its preflight reached the server (a 405, no CORS header), its PATCH never did.
    const seen = s.logs.slice(mark).filter((l) => l.method === "PATCH" || l.method === "OPTIONS")
    assert.deepStrictEqual(seen.map((l) => [l.method, l.status]), [["OPTIONS", 405]])
  }, 90_000)
})
