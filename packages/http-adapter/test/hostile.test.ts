/**
 * Hostile input (SPEC 8): whatever a client sends, the answer is a 4xx in the
 * error shape, never a 5xx, never a crash, and nothing is written.
 */
import { MemoryStore } from "@enrollment/core"
import * as net from "node:net"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { errorOf, start, type TestServer } from "./support.ts"

const G = "#microsoft.graph."
const cfgs = "deviceManagement/deviceEnrollmentConfigurations"
const one = `${cfgs}/c1/assignments/a1`

describe("hostile input", () => {
  let s: TestServer
  let etag: string
  const unchanged = async () => {
    const r = await s.request("GET", one)
    assert.strictEqual(r.json["@odata.etag"], etag, "the entity changed")
    const list = await s.request("GET", `${cfgs}/c1/assignments/$count`)
    assert.strictEqual(list.text, "1", "something was written")
    assert.strictEqual(Object.prototype.hasOwnProperty.call(Object.prototype, "polluted"), false)
    assert.strictEqual(({} as any).polluted, undefined)
  }
  const refused = async (r: { status: number; json: any; headers: Headers; text: string }, status?: number) => {
    assert.ok(r.status >= 400 && r.status < 500, `${r.status} ${r.text}`)
    if (status !== undefined) assert.strictEqual(r.status, status, r.text)
    errorOf(r)
  }

  beforeAll(async () => {
    s = await start({ store: MemoryStore.layer })
    await s.request("POST", cfgs, { body: { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: "c1" } })
    const a = await s.request("POST", `${cfgs}/c1/assignments`, { body: { id: "a1", target: { "@odata.type": `${G}groupAssignmentTarget`, groupId: "g1" } } })
    etag = a.json["@odata.etag"]
  })
  afterAll(async () => {
    await s?.close()
  })

  it("refuses malformed and truncated JSON", async () => {
    for (const raw of ["{", '{"target":', "nul", "{'a':1}", '{"a":1,}', "[1,2", '"\\u12"', "{}{}", "\u0000"]) {
      await refused(await s.request("PATCH", one, { raw, headers: { "content-type": "application/json" } }), 400)
    }
    await unchanged()
  })

  it("refuses wrong types everywhere", async () => {
    for (const body of [[], 1, "x", null, true, { target: 1 }, { target: [] }, { source: 1 }, { sourceId: {} }, { target: { "@odata.type": 5 } },
      { target: { groupId: 12 } }, { target: { deviceAndAppManagementAssignmentFilterType: null } }, { "@odata.type": "#microsoft.graph.user" }]) {
      await refused(await s.request("PATCH", one, { body }), 400)
    }
    await unchanged()
  })

  it("refuses strings over 4 KiB in typed properties", async () => {
    await refused(await s.request("PATCH", one, { body: { sourceId: "x".repeat(4097) } }), 400)
    await refused(await s.request("POST", `${cfgs}/c1/assignments`, { body: { target: { "@odata.type": `${G}groupAssignmentTarget`, groupId: "x".repeat(5000) } } }), 400)
    await unchanged()
  })

  it("refuses JSON nested deeper than 64 levels, even very deep", async () => {
    for (const depth of [65, 100, 100_000]) {
      const raw = `{"target":${"[".repeat(depth)}${"]".repeat(depth)}}`
      const r = await s.request("PATCH", one, { raw, headers: { "content-type": "application/json" } })
      await refused(r, 400)
      assert.include(errorOf(r).message, "64")
    }
    await unchanged()
  })

  it("refuses invalid UTF-8", async () => {
    const bytes = new Uint8Array([0x7b, 0x22, 0x73, 0x6f, 0x75, 0x72, 0x63, 0x65, 0x49, 0x64, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d])
    const r = await s.request("PATCH", one, { raw: bytes, headers: { "content-type": "application/json" } })
    await refused(r, 400)
    assert.include(errorOf(r).message, "UTF-8")
    await unchanged()
  })

  it("never lets prototype keys reach a prototype", async () => {
    for (const raw of [
      '{"__proto__":{"polluted":1}}',
      '{"target":{"__proto__":{"polluted":1}}}',
      '{"constructor":{"prototype":{"polluted":1}}}',
      '{"target":{"@odata.type":"#microsoft.graph.groupAssignmentTarget","constructor":{"prototype":{"polluted":1}}}}'
    ]) {
      await refused(await s.request("PATCH", one, { raw, headers: { "content-type": "application/json" } }), 400)
      await refused(await s.request("POST", `${cfgs}/c1/assignments`, { raw, headers: { "content-type": "application/json" } }), 400)
    }
    // a configuration keeps unknown derived properties as data: the keys stay own data
    const c = await s.request("POST", cfgs, {
      raw: '{"@odata.type":"#microsoft.graph.deviceEnrollmentLimitConfiguration","id":"proto","__proto__":{"polluted":1},"limit":1}',
      headers: { "content-type": "application/json" }
    })
    assert.ok(c.status === 201 || c.status === 400, c.text)
    if (c.status === 201) await s.request("DELETE", `${cfgs}/proto`)
    await unchanged()
  })

  it("answers 413 for a body over 1 MiB", async () => {
    const big = JSON.stringify({ sourceId: "x".repeat(1024 * 1024) })
    const r = await s.request("PATCH", one, { raw: big, headers: { "content-type": "application/json" } })
    await refused(r, 413)
    assert.strictEqual(errorOf(r).code, "RequestEntityTooLarge")
    await unchanged()
  })

  it("answers 413 from the declared length without reading the body", async () => {
    const token = await s.token()
    const { port } = new URL(s.url)
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(port), "127.0.0.1", () => {
        socket.write(
          `PATCH /beta/${one} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${50 * 1024 * 1024}\r\n\r\n{"sourceId":"`
        )
      })
      let data = ""
      socket.on("data", (d) => (data += d.toString()))
      socket.on("close", () => resolve(data))
      socket.on("error", reject)
      setTimeout(() => resolve(data), 3000).unref()
    })
    assert.match(answer, /^HTTP\/1\.1 413/)
    assert.include(answer, "RequestEntityTooLarge")
    await unchanged()
  })

  it("answers 413 for a chunked body that grows past the limit", async () => {
    const token = await s.token()
    const { port } = new URL(s.url)
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(port), "127.0.0.1", () => {
        socket.write(`PATCH /beta/${one} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`)
        const chunk = "x".repeat(256 * 1024)
        for (let i = 0; i < 5; i++) socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`)
      })
      let data = ""
      socket.on("data", (d) => (data += d.toString()))
      socket.on("close", () => resolve(data))
      socket.on("error", () => resolve(data))
      setTimeout(() => resolve(data), 3000).unref()
      void reject
    })
    assert.match(answer, /^HTTP\/1\.1 413/)
    await unchanged()
  })

  it("refuses bad ids and odd paths without a 5xx", async () => {
    for (const p of [
      `${cfgs}/c1/assignments/${"x".repeat(200)}`,
      `${cfgs}/c1/assignments/%ZZ`,
      `${cfgs}/c1/assignments('unterminated`,
      `${cfgs}/%00/assignments`,
      `${cfgs}/c1/assignments/a1/extra`,
      `${cfgs}/c1/assignments/$count/x`,
      `${cfgs}('a''b')/assignments`,
      "../../etc/passwd",
      "%2e%2e/%2e%2e"
    ]) {
      const r = await s.request("GET", p)
      assert.ok(r.status >= 400 && r.status < 500, `${p}: ${r.status}`)
      errorOf(r)
    }
    await refused(await s.request("PATCH", `${cfgs}/c1/assignments/${"y".repeat(300)}`, { body: {} }), 400)
    await unchanged()
  })

  it("refuses bad or missing tokens, other tenants and missing scopes, writing nothing", async () => {
    const forged = (await s.token()).split(".")
    forged[1] = Buffer.from(JSON.stringify({ tid: "tenant-a", scp: "DeviceManagementConfiguration.ReadWrite.All", exp: 9999999999 })).toString("base64url")
    for (const headers of [{}, { authorization: "Bearer" }, { authorization: `Bearer ${forged.join(".")}` }, { authorization: "Bearer a.b.c" }, { authorization: `Bearer ${"x".repeat(12000)}` }]) {
      await refused(await s.request("PATCH", one, { token: null, headers, body: { sourceId: "evil" } }), 401)
    }
    const huge = await s.request("GET", one, { token: null, headers: { authorization: `Bearer ${"x".repeat(20000)}` } })
    await refused(huge)
    await refused(await s.request("PATCH", one, { tenant: "tenant-evil", body: { sourceId: "evil" } }), 404)
    await refused(await s.request("DELETE", one, { tenant: "tenant-evil" }), 404)
    await refused(await s.request("PATCH", one, { scopes: ["User.Read.All"], body: { sourceId: "evil" } }), 403)
    await refused(await s.request("POST", `${cfgs}/c1/assignments`, { scopes: ["DeviceManagementConfiguration.Read.All"], body: {} }), 403)
    await unchanged()
  })

  it("survives a burst of garbage in parallel and still serves", async () => {
    const garbage = Array.from({ length: 60 }, (_, i) =>
      s.request(i % 2 ? "PATCH" : "POST", i % 2 ? one : `${cfgs}/c1/assignments`, {
        raw: Buffer.from(Array.from({ length: 200 }, (_, j) => (i * 31 + j * 7) % 256)),
        headers: { "content-type": "application/json" }
      }))
    for (const r of await Promise.all(garbage)) await refused(r)
    await unchanged()
    assert.strictEqual((await s.request("GET", "/health", { token: null })).status, 200)
  })

  it("never answered with a 5xx", () => {
    assert.deepStrictEqual(s.logs.filter((l) => l.status >= 500), [])
  })
})

describe("rate limit", () => {
  it("answers 429 with Retry-After once a client's bucket is empty, per client", async () => {
    const s = await start({ store: MemoryStore.layer, rateLimit: { ratePerSecond: 1, burst: 3 } })
    try {
      const statuses: Array<number> = []
      let last: any
      for (let i = 0; i < 5; i++) {
        last = await s.request("GET", "users")
        statuses.push(last.status)
      }
      assert.deepStrictEqual(statuses, [200, 200, 200, 429, 429])
      assert.strictEqual(errorOf(last).code, "TooManyRequests")
      assert.ok(Number(last.headers.get("retry-after")) >= 1)
      const other = await s.request("GET", "users", { token: await s.token({ subject: "someone-else" }) })
      assert.strictEqual(other.status, 200)
    } finally {
      await s.close()
    }
  })
})
