/**
 * Who sent a request, in its log entry: the connection's address, and what the client and a
 * proxy in front say (`User-Agent`, `X-Forwarded-For`), as sent and bounded, so that an
 * operator behind a proxy can trace a request back to its caller.
 */
import { MemoryStore } from "@enrollment/core"
import * as net from "node:net"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { Metrics } from "../src/index.ts"
import { start, type TestServer } from "./support.ts"

describe("the request log's caller", () => {
  let s: TestServer
  beforeAll(async () => {
    s = await start({ store: MemoryStore.layer })
  })
  afterAll(() => s.close())

  const last = () => s.logs[s.logs.length - 1]!

  it("names the connection's address, the User-Agent and X-Forwarded-For as sent", async () => {
    const r = await s.request("GET", "users", { headers: { "user-agent": "enrollctl/0.1.1", "x-forwarded-for": "203.0.113.7, 10.0.0.2" } })
    assert.strictEqual(r.status, 200)
    const entry = last()
    assert.strictEqual(entry.route, "GET /beta/users")
    assert.strictEqual(entry.clientAddress, "127.0.0.1")
    assert.strictEqual(entry.userAgent, "enrollctl/0.1.1")
    assert.strictEqual(entry.forwardedFor, "203.0.113.7, 10.0.0.2")
  })

  it("names the client-request-id a client sent (the id it quotes), bounded as the other headers are, and none for a client that sent none", async () => {
    await s.request("GET", "users", { headers: { "client-request-id": "ticket-4711" } })
    assert.strictEqual(last().clientRequestId, "ticket-4711")
    await s.request("GET", "users")
    assert.isFalse("clientRequestId" in last())
    const long = await s.request("GET", "users", { headers: { "client-request-id": "x".repeat(201) } })
    assert.strictEqual(long.headers.get("client-request-id"), "x".repeat(201), "echoed whole")
    assert.strictEqual(last().clientRequestId, `${"x".repeat(200)}…`, "logged cut at 200 characters")
  })

  it("leaves out what was not sent, bounds what was, and names the caller of a refused request too", async () => {
    const r = await s.request("GET", "users", { token: null, headers: { "user-agent": "u".repeat(500) } })
    assert.strictEqual(r.status, 401)
    const entry = last()
    assert.strictEqual(entry.status, 401)
    assert.strictEqual(entry.clientAddress, "127.0.0.1")
    assert.strictEqual(entry.forwardedFor, undefined)
    assert.strictEqual(entry.userAgent, `${"u".repeat(200)}…`)
  })

  it("writes a header's control and non-ASCII characters escaped, so that no client can break or forge a log line (NEL, CSI)", async () => {
    const port = Number(new URL(s.url).port)
    const token = await s.token()
    const before = s.logs.length
    // Node passes bytes 0x80-0xFF of a header's value (obs-text) on as U+0080-U+00FF: U+0085 is a line
    // break to Unicode-aware log tools, U+009B a terminal's CSI; JSON.stringify leaves both as they are.
    const head = Buffer.concat([
      Buffer.from(`GET /beta/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\nUser-Agent: ok/1`),
      Buffer.from([0x85]),
      Buffer.from("level=error msg=forged\tx"),
      Buffer.from([0x9b, 0x32, 0x4a]),
      Buffer.from("\r\nX-Forwarded-For: 203.0.113.7"),
      Buffer.from([0x85, 0xe9]),
      Buffer.from("\r\n\r\n")
    ])
    await new Promise<void>((resolve, reject) => {
      const socket = net.connect(port, "127.0.0.1", () => socket.end(head))
      socket.on("data", () => {})
      socket.on("error", reject)
      socket.on("close", () => resolve())
    })
    assert.isAbove(s.logs.length, before)
    const entry = last()
    assert.strictEqual(entry.status, 200)
    assert.strictEqual(entry.userAgent, "ok/1\\x85level=error msg=forged\\x09x\\x9b2J")
    assert.strictEqual(entry.forwardedFor, "203.0.113.7\\x85\\xe9")
  })

  it("names the address of a client that went away before its answer (half a body sent, then a reset)", async () => {
    const port = Number(new URL(s.url).port)
    const token = await s.token({ subject: "request-log-gone" })
    const socket = net.connect(port, "127.0.0.1")
    socket.on("error", () => {})
    await new Promise((r) => socket.once("connect", r))
    const before = s.logs.length
    socket.write(`PATCH /beta/deviceManagement/deviceEnrollmentConfigurations/c1 HTTP/1.1\r\nHost: x\r\n` +
      `User-Agent: gone/1.0\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":`)
    await new Promise((r) => setTimeout(r, 100))
    socket.resetAndDestroy()
    for (let i = 0; i < 40 && s.logs.length === before; i++) await new Promise((r) => setTimeout(r, 25))
    const entry = last()
    assert.strictEqual(entry.userAgent, "gone/1.0", "its entry")
    assert.strictEqual(entry.clientAddress, "127.0.0.1", "the connection's address, read while it was there")
  })
})

describe("a request log or metrics sink that throws", () => {
  const throwing = () => {
    throw new TypeError("Converting circular structure to JSON")
  }
  const sinks = {
    "the request log": { log: throwing },
    "the metrics recorder": { metrics: { ...Metrics.make([]), record: throwing } }
  } as const
  it.each(Object.keys(sinks) as Array<keyof typeof sinks>)("leaves every answer whole, and is said once as a process warning: %s", async (sink) => {
    const warnings: Array<string> = []
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`)
    process.on("warning", onWarning)
    const s = await start({ store: MemoryStore.layer, ...sinks[sink] })
    try {
      for (let i = 0; i < 3; i++) {
        const ok = await s.request("GET", "users")
        assert.strictEqual(ok.status, 200)
        assert.deepStrictEqual((ok.json as { value: unknown }).value, [])
        const missing = await s.request("GET", "users/nobody")
        assert.strictEqual(missing.status, 404)
        assert.strictEqual((missing.json as { error: { code: string } }).error.code, "itemNotFound")
      }
      await new Promise((resolve) => setImmediate(resolve))
      assert.deepStrictEqual(warnings, [
        "RequestSinkWarning: the request log or metrics sink threw; answers are written regardless: Converting circular structure to JSON"
      ])
    } finally {
      process.off("warning", onWarning)
      await s.close()
    }
  })
})
