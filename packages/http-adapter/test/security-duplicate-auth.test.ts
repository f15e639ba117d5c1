/**
 * Security review: a request with more than one `Authorization` header. Node's
 * `req.headers.authorization` keeps the first and drops the rest, while a proxy
 * in front may have judged another one, so such a request is refused (401 in
 * Graph's error shape) before any route work, whatever the headers hold; the
 * same for a `$batch`, whose requests take the batch's own header. Sent over a
 * raw socket, so the header lines go out exactly as written (fetch would join
 * two `Authorization` values into one line).
 */
import { MemoryStore } from "@enrollment/core"
import * as net from "node:net"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { Auth } from "../src/index.ts"
import { errorOf, start, type TestServer } from "./support.ts"

const G = "#microsoft.graph."
const cfgs = "/beta/deviceManagement/deviceEnrollmentConfigurations"
const one = `${cfgs}/c1/assignments/a1`

interface RawAnswer {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  readonly json: any
}

/** Sends one request over a new connection with exactly these header lines (`Host`, framing and `Connection: close` added). */
const send = (url: string, method: string, path: string, headers: ReadonlyArray<readonly [string, string]>, body?: unknown): Promise<RawAnswer> => {
  const { hostname, port } = new URL(url)
  const payload = body === undefined ? "" : JSON.stringify(body)
  const lines = [
    `${method} ${path} HTTP/1.1`,
    `Host: ${hostname}:${port}`,
    ...headers.map(([k, v]) => `${k}: ${v}`),
    ...(body === undefined ? [] : ["Content-Type: application/json", `Content-Length: ${Buffer.byteLength(payload)}`]),
    "Connection: close"
  ]
  return new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    // Written, not ended: the server closes the connection after its answer (`Connection: close`).
    const socket = net.connect(Number(port), hostname, () => socket.write(`${lines.join("\r\n")}\r\n\r\n${payload}`))
    socket.on("data", (c: Buffer) => chunks.push(c))
    socket.on("error", reject)
    socket.on("end", () => {
      const all = Buffer.concat(chunks).toString("utf8")
      const split = all.indexOf("\r\n\r\n")
      const [statusLine, ...headerLines] = all.slice(0, split).split("\r\n")
      const h = new Headers()
      for (const l of headerLines) h.append(l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1).trim())
      const text = all.slice(split + 4)
      let json: any
      try {
        json = text === "" ? undefined : JSON.parse(text)
      } catch {
        json = undefined
      }
      resolve({ status: Number(statusLine!.split(" ")[1]), headers: h, text, json })
    })
  })
}

/** Asserts the refusal of a request with more than one Authorization header. */
const refused = (r: RawAnswer, what: string) => {
  assert.strictEqual(r.status, 401, `${what}: ${r.text}`)
  const e = errorOf(r)
  assert.strictEqual(e.code, "InvalidAuthenticationToken", what)
  assert.strictEqual(e.message, "The request has more than one Authorization header; send exactly one", what)
  assert.strictEqual(r.headers.get("www-authenticate"), 'Bearer realm="enrollment", error="invalid_request"', what)
}

describe("security: more than one Authorization header", () => {
  let s: TestServer
  let token: string
  let other: string
  let etag: string
  beforeAll(async () => {
    s = await start({ store: MemoryStore.layer })
    const scopes = ["DeviceManagementServiceConfig.ReadWrite.All"]
    token = await s.token({ scopes })
    other = await s.token({ tenant: "tenant-b", scopes, subject: "someone-else" })
    assert.strictEqual((await s.request("POST", cfgs, { scopes, body: { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: "c1" } })).status, 201)
    const created = await s.request("POST", `${cfgs}/c1/assignments`, {
      scopes,
      body: { id: "a1", target: { "@odata.type": `${G}allLicensedUsersAssignmentTarget` } }
    })
    assert.strictEqual(created.status, 201)
    etag = created.headers.get("etag")!
  })
  afterAll(async () => {
    await s?.close()
  })

  it("refuses two identical and two different headers with a 401 in Graph's error shape, whatever their case and order, and takes one", async () => {
    const cases: ReadonlyArray<readonly [string, ReadonlyArray<readonly [string, string]>]> = [
      ["the same header twice", [["Authorization", `Bearer ${token}`], ["Authorization", `Bearer ${token}`]]],
      ["the caller's token, then another tenant's", [["Authorization", `Bearer ${token}`], ["Authorization", `Bearer ${other}`]]],
      ["another tenant's token, then the caller's", [["Authorization", `Bearer ${other}`], ["Authorization", `Bearer ${token}`]]],
      ["a valid token and a broken one", [["Authorization", `Bearer ${token}`], ["authorization", "Bearer not.a.token"]]],
      ["two spellings of the name, between other headers", [["authorization", `Bearer ${token}`], ["Accept", "application/json"], ["AUTHORIZATION", `Bearer ${token}`]]],
      ["a token and another scheme", [["Authorization", "Basic dXNlcjpwYXNz"], ["Authorization", `Bearer ${token}`]]],
      ["three", [["Authorization", `Bearer ${token}`], ["Authorization", `Bearer ${token}`], ["Authorization", `Bearer ${token}`]]]
    ]
    for (const [what, headers] of cases) {
      const r = await send(s.url, "GET", one, headers)
      refused(r, what)
      // The answer's ids, as every answer's.
      assert.strictEqual(errorOf(r) && r.json.error.innerError["request-id"], r.headers.get("request-id"), what)
    }
    // One header is taken, in either case of its name.
    for (const name of ["Authorization", "authorization"]) {
      const r = await send(s.url, "GET", one, [["Accept", "application/json"], [name, `Bearer ${token}`], ["Accept-Ranges", "bytes"]])
      assert.strictEqual(r.status, 200, r.text)
      assert.strictEqual(r.json.id, "a1")
    }
    // A value that reads "Authorization" is a value, not a second header.
    assert.strictEqual((await send(s.url, "GET", one, [["X-Note", "Authorization"], ["Authorization", `Bearer ${token}`]])).status, 200)
  })

  it("answers it where a token problem is answered: after an unknown path (404) and a wrong method (405)", async () => {
    const twice = [["Authorization", `Bearer ${token}`], ["Authorization", `Bearer ${other}`]] as const
    assert.strictEqual((await send(s.url, "GET", "/beta/nothingHere", twice)).status, 404)
    assert.strictEqual((await send(s.url, "PUT", one, twice)).status, 405)
    // The probes take no token, and read none.
    assert.strictEqual((await send(s.url, "GET", "/health", twice)).status, 200)
  })

  it("writes nothing for a refused PATCH, whichever header holds the valid token", async () => {
    for (const headers of [
      [["Authorization", `Bearer ${token}`], ["Authorization", `Bearer ${other}`]],
      [["Authorization", `Bearer ${other}`], ["Authorization", `Bearer ${token}`]],
      [["Authorization", `Bearer ${token}`], ["Authorization", `Bearer ${token}`]]
    ] as const) {
      refused(await send(s.url, "PATCH", one, headers, { source: "policySets", sourceId: "from-a-refused-request" }), "PATCH")
    }
    const after = await send(s.url, "GET", one, [["Authorization", `Bearer ${token}`]])
    assert.strictEqual(after.status, 200)
    assert.strictEqual(after.json.source, "direct")
    assert.strictEqual(after.json.sourceId ?? null, null)
    assert.strictEqual(after.headers.get("etag"), etag, "the entity is unchanged")
    // The refusals are logged as the route's 401s, with no tenant.
    const refusals = s.logs.filter((l) => l.method === "PATCH" && l.status === 401)
    assert.strictEqual(refusals.length, 3)
    for (const l of refusals) assert.isUndefined(l.tenant)
    // With one header the same PATCH applies.
    const patched = await send(s.url, "PATCH", one, [["Authorization", `Bearer ${token}`]], { source: "policySets", sourceId: "ps" })
    assert.strictEqual(patched.status, 200, patched.text)
    assert.strictEqual(patched.json.sourceId, "ps")
    etag = patched.headers.get("etag")!
  })

  it("refuses a $batch with two Authorization headers whole, before any of its requests runs; with one, its requests run with it", async () => {
    const body = {
      requests: [
        { id: "1", method: "PATCH", url: "/deviceManagement/deviceEnrollmentConfigurations/c1/assignments/a1", body: { sourceId: "from-a-refused-batch" } },
        { id: "2", method: "GET", url: "/deviceManagement/deviceEnrollmentConfigurations/c1/assignments/a1", dependsOn: ["1"] }
      ]
    }
    for (const headers of [
      [["Authorization", `Bearer ${token}`], ["Authorization", `Bearer ${other}`]],
      [["Authorization", `Bearer ${token}`], ["authorization", `Bearer ${token}`]]
    ] as const) {
      refused(await send(s.url, "POST", "/beta/$batch", headers, body), "$batch")
    }
    const unchanged = await send(s.url, "GET", one, [["Authorization", `Bearer ${token}`]])
    assert.strictEqual(unchanged.json.sourceId, "ps", "no request of a refused batch ran")
    assert.strictEqual(unchanged.headers.get("etag"), etag)

    // One header: each request is run with it (a batched request's headers are an object, with no second one).
    const ok = await send(s.url, "POST", "/beta/$batch", [["Authorization", `Bearer ${token}`]], {
      requests: [
        { id: "1", method: "PATCH", url: "/deviceManagement/deviceEnrollmentConfigurations/c1/assignments/a1", body: { sourceId: "from-the-batch" } },
        // A request's own Authorization (in any spelling) is not used: the batch's is.
        {
          id: "2",
          method: "GET",
          url: "/deviceManagement/deviceEnrollmentConfigurations/c1/assignments/a1",
          headers: { Authorization: `Bearer ${other}`, authorization: "Bearer not.a.token" },
          dependsOn: ["1"]
        }
      ]
    })
    assert.strictEqual(ok.status, 200, ok.text)
    const answers = Object.fromEntries(ok.json.responses.map((r: any) => [r.id, r]))
    assert.strictEqual(answers["1"].status, 200, JSON.stringify(answers["1"]))
    assert.strictEqual(answers["2"].status, 200, JSON.stringify(answers["2"]))
    assert.strictEqual(answers["2"].body.sourceId, "from-the-batch")
  })

  it("Auth.repeatsAuthorization reads header names only, in any case, and nothing without raw headers", () => {
    const t = Auth.repeatsAuthorization
    assert.isFalse(t(undefined))
    assert.isFalse(t([]))
    assert.isFalse(t(["Authorization", "Bearer x"]))
    assert.isFalse(t(["Host", "h", "Authorization", "Bearer x", "Accept-Ranges", "bytes", "Cache-Control", "no-cache", "Authorizatio", "x"]))
    assert.isFalse(t(["X-Note", "Authorization", "Authorization", "Bearer x", "X-Other", "authorization"]))
    // Two names of its length starting "au" are compared exactly.
    assert.isFalse(t(["Autoconfigure", "1", "Authorization", "Bearer x", "AUTHORIZATIOM", "y"]))
    assert.isTrue(t(["Authorization", "Bearer x", "authorization", "Bearer x"]))
    assert.isTrue(t(["aUtHoRiZaTiOn", "", "Host", "h", "AUTHORIZATION", "Bearer y"]))
    assert.isTrue(t(["Authorization", "", "Authorization", ""]))
  })
})
