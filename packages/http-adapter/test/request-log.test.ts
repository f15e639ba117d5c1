/**
 * Who sent a request, in its log entry: the connection's address, and what the client and a
 * proxy in front say (`User-Agent`, `X-Forwarded-For`), as sent and bounded, so that an
 * operator behind a proxy can trace a request back to its caller.
 */
import { MemoryStore, Store } from "@enrollment/core"
import { Effect, Layer } from "effect"
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

/** Writes `bytes` on a new connection to `s` and answers what came back until the server closed it. */
const exchange = (s: TestServer, bytes: string | Buffer, endAfterWrite = true): Promise<string> =>
  new Promise((resolve, reject) => {
    const socket = net.connect(Number(new URL(s.url).port), "127.0.0.1", () => endAfterWrite ? socket.end(bytes) : socket.write(bytes))
    let text = ""
    socket.setEncoding("latin1")
    socket.on("data", (d: string) => text += d)
    socket.on("error", reject)
    socket.on("close", () => resolve(text))
  })

describe("the request log and the metrics, for every answer (since 0.17.0)", () => {
  let s: TestServer
  const metrics = Metrics.make([])
  beforeAll(async () => {
    // One user whose read takes 300 ms: a request pipelined behind it waits that long for its turn.
    const slowStore = Layer.effect(
      Store,
      Effect.map(MemoryStore.make, (store) =>
        Store.of({
          ...store,
          users: {
            ...store.users,
            get: (t, id) => id === "slow" ? Effect.delay(store.users.get(t, id), "300 millis") : store.users.get(t, id)
          }
        }))
    )
    s = await start({ store: slowStore, metrics })
  })
  afterAll(() => s.close())
  const unmatchedCount = (method: string, status: number) =>
    metrics.series().find((x) => x.route === Metrics.unmatched && x.method === method)?.statuses.find((x) => x.status === status)?.count ?? 0

  it("logs and counts what Node refuses before the listener (malformed HTTP, a CONNECT), with a request-id of the server's sequence", async () => {
    const sequence = (await s.request("GET", "users")).headers.get("request-id")!
    const before = s.logs.length
    const malformed = await exchange(s, "GET /beta/users HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n")
    assert.match(malformed, /^HTTP\/1\.1 400 /)
    const malformedId = /request-id: ([0-9a-f-]+)\r\n/.exec(malformed)![1]!
    const connect = await exchange(s, "CONNECT 127.0.0.1:80 HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n", false)
    assert.match(connect, /^HTTP\/1\.1 405 /)
    const connectId = /request-id: ([0-9a-f-]+)\r\n/.exec(connect)![1]!
    const entries = s.logs.slice(before)
    assert.deepStrictEqual(entries.map((e) => [e.method, e.route, e.status, e.requestId]), [
      [Metrics.otherMethod, Metrics.unmatched, 400, malformedId],
      ["CONNECT", Metrics.unmatched, 405, connectId]
    ])
    assert.strictEqual(entries[0]!.clientAddress, "127.0.0.1")
    // The id a client quotes from the body is the one logged, and of the sequence a log sorts by.
    assert.include(malformed, `"request-id":"${malformedId}"`)
    for (const id of [malformedId, connectId]) assert.strictEqual(id.slice(0, 24), sequence.slice(0, 24))
    assert.strictEqual(unmatchedCount(Metrics.otherMethod, 400), 1)
    assert.strictEqual(unmatchedCount(Metrics.otherMethod, 405), 1, "CONNECT is no method label of its own")
  })

  it("logs and counts once a request whose body Node finds malformed while the listener has it (the listener's own answer)", async () => {
    const token = await s.token()
    const before = s.logs.length
    const all400 = () => metrics.series().reduce((n, x) => n + (x.statuses.find((st) => st.status === 400)?.count ?? 0), 0)
    const counted = all400()
    const answer = await exchange(s, `POST /beta/deviceManagement/deviceEnrollmentConfigurations HTTP/1.1\r\nHost: x\r\n` +
      `Authorization: Bearer ${token}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"a":\r\nZZZ\r\n\r\n`)
    assert.match(answer, /^HTTP\/1\.1 400 /)
    await new Promise((r) => setTimeout(r, 50))
    assert.lengthOf(s.logs.slice(before), 1, JSON.stringify(s.logs.slice(before)))
    assert.strictEqual(s.logs[before]!.route, "POST /beta/deviceManagement/deviceEnrollmentConfigurations")
    assert.strictEqual(all400(), counted + 1)
  })

  it("times a pipelined request from its arrival, its wait for the answers before it included", async () => {
    const token = await s.token({ scopes: ["User.ReadWrite.All"] })
    assert.strictEqual((await s.request("POST", "users", { body: { id: "slow", displayName: "S", userPrincipalName: "slow@x" }, scopes: ["User.ReadWrite.All"] })).status, 201)
    const before = s.logs.length
    const request = (method: string, path: string, close = false) =>
      `${method} /beta/${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n${close ? "Connection: close\r\n" : ""}\r\n`
    // A write waits for the read before it on its connection (reads alone would run side by side).
    const answers = await exchange(s, request("GET", "users/slow") + request("DELETE", "users/nobody", true), false)
    assert.match(answers, /^HTTP\/1\.1 200 [\s\S]*HTTP\/1\.1 404 /)
    // Logged as each answer's head is written: the second's line may come first.
    const slow = s.logs.slice(before).find((e) => e.route === "GET /beta/users/{userId}")
    const queued = s.logs.slice(before).find((e) => e.route === "DELETE /beta/users/{userId}")
    assert.isAtLeast(slow!.durationMs, 280)
    assert.isAtLeast(queued!.durationMs, 250, "its wait behind the slow one counts")
  })

  it("logs the client-request-id a client sent even where the answer does not echo it (too long, beyond ASCII)", async () => {
    const long = await s.request("GET", "users", { headers: { "client-request-id": "y".repeat(1500) } })
    assert.strictEqual(long.headers.get("client-request-id"), long.headers.get("request-id"), "not echoed")
    assert.strictEqual(s.logs[s.logs.length - 1]!.clientRequestId, `${"y".repeat(200)}…`)
    const token = await s.token()
    const before = s.logs.length
    await exchange(s, Buffer.concat([
      Buffer.from(`GET /beta/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\nclient-request-id: caf`),
      Buffer.from([0xe9]),
      Buffer.from("\u2028\r\n\r\n", "utf8")
    ]))
    assert.strictEqual(s.logs[before]!.clientRequestId, "caf\\xe9\\xe2\\x80\\xa8", "each byte beyond ASCII escaped, as Node reads it")
  })

  it("gives a batch's requests the batch's User-Agent and X-Forwarded-For in the log, never what the batch's JSON says", async () => {
    const before = s.logs.length
    const r = await s.request("POST", "$batch", {
      headers: { "user-agent": "real-agent/1.0", "x-forwarded-for": "203.0.113.9" },
      body: {
        requests: [
          { id: "1", method: "GET", url: "/users/nobody", headers: { "x-forwarded-for": "6.6.6.6", "user-agent": "evil-agent" } },
          { id: "2", method: "GET", url: "/users", dependsOn: ["1"], headers: { "x-forwarded-for": "6.6.6.6", "user-agent": "evil-agent" } },
          { id: "3", method: "GET", url: "/users" }
        ]
      }
    })
    assert.strictEqual(r.status, 200)
    const entries = s.logs.slice(before)
    assert.deepStrictEqual(entries.map((e) => e.status).sort(), [200, 200, 404, 424])
    for (const e of entries) {
      assert.strictEqual(e.userAgent, "real-agent/1.0", `${e.route} ${e.status}`)
      assert.strictEqual(e.forwardedFor, "203.0.113.9", `${e.route} ${e.status}`)
    }
  })

  it("writes a character past U+00FF (a batch's JSON can hold one) as \\uNNNN, not as an \\x escape that reads as two characters", async () => {
    const before = s.logs.length
    const r = await s.request("POST", "$batch", {
      body: { requests: [{ id: "1", method: "GET", url: "/users", headers: { "client-request-id": "a\u2028b\u00e9" } }] }
    })
    assert.strictEqual(r.status, 200)
    const step = s.logs.slice(before).find((e) => e.route === "GET /beta/users")!
    assert.strictEqual(step.clientRequestId, "a\\u2028b\\xe9")
  })
})
