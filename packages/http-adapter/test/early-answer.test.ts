/**
 * A request whose body is over the limit is answered 413 before its body is read, and the
 * connection is then closed as RFC 9112 9.6 has a server close one: its side first (after the
 * answer), then it goes on reading, and drops, what the client still sends, until the request
 * ends, the client closes or a bound passes. Before 0.10.2 the server closed the connection
 * whole right after the answer: the rest of the body met a closed socket, whose kernel answers
 * with a reset, and a client still writing it (undici's fetch, curl) got EPIPE or ECONNRESET,
 * often before it had read the 413 (enrollctl said "cannot reach …: EPIPE" for what the server
 * had answered with a clear 413).
 */
import { MemoryStore } from "@enrollment/core"
import * as net from "node:net"
import * as tls from "node:tls"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { Server } from "../src/index.ts"
import { selfSigned, slowVerifier, start, type TestServer } from "./support.ts"

const limit = 16 * 1024

interface Exchange {
  /** Everything the server wrote before it closed the connection. */
  readonly written: string
  /** The client socket's error, if it had one (a reset: EPIPE, ECONNRESET). */
  readonly error: string | undefined
  /** Milliseconds from the answer's arrival to the connection's close. */
  readonly closedAfterMs: number
}

/**
 * Sends `head` and `first` on a connection that stays open for writing after the server's FIN,
 * as an HTTP client writing its body does; waits for the whole answer and the server's FIN;
 * then writes `rest` (a chunk every `gapMs`) and its end, and waits for the close.
 */
const exchange = (connect: () => net.Socket, head: string, first: Buffer, rest: ReadonlyArray<Buffer>, gapMs = 0): Promise<Exchange> =>
  new Promise((resolve) => {
    const socket = connect()
    const chunks: Array<Buffer> = []
    let error: string | undefined
    let answeredAt = 0
    const timer = setTimeout(() => socket.destroy(new Error("no close within 10 s")), 10_000)
    socket.on("data", (d: Buffer) => {
      chunks.push(d)
      if (answeredAt === 0 && answerIn(Buffer.concat(chunks).toString()) !== undefined) answeredAt = Date.now()
    })
    socket.on("error", (e: NodeJS.ErrnoException) => {
      error ??= e.code ?? e.message
    })
    socket.on("close", () => {
      clearTimeout(timer)
      resolve({ written: Buffer.concat(chunks).toString(), error, closedAfterMs: Date.now() - answeredAt })
    })
    socket.once("end", async () => {
      // The answer is whole and the server's side is closed: the client writes the rest of its body.
      for (const chunk of rest) {
        if (socket.destroyed) return
        await new Promise<void>((done) => socket.write(chunk, () => done()))
        if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs))
      }
      if (!socket.destroyed) socket.end()
    })
    socket.write(head)
    socket.write(first)
  })

/** The one answer in `written`: its status, head and parsed body (undefined while incomplete). */
const answerIn = (written: string): { readonly status: number; readonly head: string; readonly json: any } | undefined => {
  const end = written.indexOf("\r\n\r\n")
  if (end === -1) return undefined
  const head = written.slice(0, end)
  const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? 0)
  const body = Buffer.from(written.slice(end + 4))
  if (body.length < length) return undefined
  return { status: Number(head.slice(9, 12)), head, json: JSON.parse(body.subarray(0, length).toString()) }
}

/**
 * TLS options that keep the client's side open after the server's (`allowHalfOpen`, which Node's
 * TLS socket takes, as a `net.Socket`, though `tls.ConnectionOptions` does not name it).
 */
const halfOpen = (options: tls.ConnectionOptions): tls.ConnectionOptions => ({ ...options, allowHalfOpen: true } as tls.ConnectionOptions)

const chunked = (b: Buffer) => Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from("\r\n")])

describe.each([
  { scheme: "http", certificate: undefined },
  { scheme: "https", certificate: selfSigned() }
])("a body over the limit, still being sent after its 413 ($scheme)", ({ scheme, certificate }) => {
  let s: TestServer
  let port: number
  let token: string
  beforeAll(async () => {
    if (certificate !== undefined) process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0"
    s = await start({ store: MemoryStore.layer, bodyLimit: limit, ...(certificate === undefined ? {} : { tls: certificate }) })
    port = Number(new URL(s.url).port)
    token = await s.token()
  })
  afterAll(async () => {
    await s?.close()
  })

  const connect = () =>
    certificate === undefined
      ? net.connect({ port, host: "127.0.0.1", allowHalfOpen: true })
      : tls.connect(halfOpen({ port, host: "127.0.0.1", rejectUnauthorized: false }))
  const head = (extra: string) =>
    `PATCH /beta/deviceManagement/deviceEnrollmentConfigurations/c1/assignments/a1 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
    `Authorization: Bearer ${token}\r\nContent-Type: application/json\r\n${extra}\r\n`
  const tooLarge = (a: ReturnType<typeof answerIn>) => {
    assert.strictEqual(a?.status, 413)
    assert.match(a!.head, /\r\nconnection: close/i, "the connection's last answer: its body was not read whole")
    assert.strictEqual(a!.json.error.code, "RequestEntityTooLarge")
    assert.strictEqual(a!.json.error.message, `The request body exceeds the limit of ${limit} bytes`)
  }
  const create = (id: string) => {
    const body = JSON.stringify({ "@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration", id })
    return `POST /beta/deviceManagement/deviceEnrollmentConfigurations HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
      `Authorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`
  }
  const pieces = (n: number, size: number) => Array.from({ length: n }, () => Buffer.alloc(size, 0x20))

  it("declared by its Content-Length: the client sends it all, reads the 413 and sees the connection end, not reset", async () => {
    const size = 64 * limit
    const r = await exchange(connect, head(`Content-Length: ${size}\r\n`), Buffer.alloc(1024, 0x20), pieces(63, limit).concat(Buffer.alloc(limit - 1024, 0x20)))
    assert.strictEqual(r.error, undefined, "the client's writes met no reset")
    tooLarge(answerIn(r.written))
    assert.strictEqual(r.written.length, r.written.indexOf("\r\n\r\n") + 4 + Number(/content-length: (\d+)/i.exec(r.written)![1]), "one answer")
  })

  it("sent in chunks with no length: the same once the limit is passed", async () => {
    const r = await exchange(
      connect,
      head("Transfer-Encoding: chunked\r\n"),
      Buffer.concat(pieces(2, limit).map(chunked)),
      [...pieces(30, limit).map(chunked), Buffer.from("0\r\n\r\n"), Buffer.from(create(`after-413-${scheme}`))]
    )
    assert.strictEqual(r.error, undefined, "the client's writes met no reset")
    tooLarge(answerIn(r.written))
    const after = await s.request("GET", `deviceManagement/deviceEnrollmentConfigurations/after-413-${scheme}`)
    assert.strictEqual(after.status, 404, "the request pipelined behind the body was not processed")
  })

  it("declared over the limit with Expect: 100-continue: the 413 comes without a 100 Continue, and the client need send no body", async () => {
    const r = await exchange(connect, head(`Content-Length: ${64 * limit}\r\nExpect: 100-continue\r\n`), Buffer.alloc(0), [])
    assert.strictEqual(r.error, undefined)
    assert.notMatch(r.written, /^HTTP\/1\.1 100 /, "no 100 Continue: the body would be dropped")
    tooLarge(answerIn(r.written))
  })

  it("within the limit with Expect: 100-continue: 100 Continue first, then the body is read and answered", async () => {
    const body = JSON.stringify({ "@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration", id: `continued-${scheme}` })
    const socket = connect()
    let written = ""
    const continued = new Promise<void>((resolve) =>
      socket.on("data", (d: Buffer) => {
        written += d.toString()
        if (written.startsWith("HTTP/1.1 100 Continue\r\n\r\n")) resolve()
      })
    )
    const closed = new Promise((r) => socket.on("close", r))
    socket.on("end", () => socket.end())
    socket.write(
      `POST /beta/deviceManagement/deviceEnrollmentConfigurations HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`
    )
    await continued
    socket.write(body)
    await closed
    const final = answerIn(written.slice("HTTP/1.1 100 Continue\r\n\r\n".length))
    assert.strictEqual(final?.status, 201, written)
    assert.strictEqual(final!.json.id, `continued-${scheme}`)
  })

  it(`is read for at most ${Server.lingerMillis} ms: a client that never stops sending is then closed`, async () => {
    const r = await exchange(connect, head(`Content-Length: ${1024 * 1024 * 1024}\r\n`), Buffer.alloc(1024, 0x20), pieces(1000, 4096), 10)
    tooLarge(answerIn(r.written))
    assert.isAtLeast(r.closedAfterMs, Server.lingerMillis - 100)
    assert.isBelow(r.closedAfterMs, Server.lingerMillis + 1_500)
  })
})

describe("fetch (undici) sending a body over the limit, as enrollctl's remote mode does", () => {
  let s: TestServer
  beforeAll(async () => {
    s = await start({ store: MemoryStore.layer, bodyLimit: limit })
  })
  afterAll(async () => {
    await s?.close()
  })

  it("gets the 413 every time, never a failed fetch", async () => {
    const token = await s.token()
    const body = JSON.stringify({ sourceId: "x".repeat(64 * limit) })
    const outcomes: Array<string> = []
    for (let i = 0; i < 20; i++) {
      try {
        const res = await fetch(`${s.base}/deviceManagement/deviceEnrollmentConfigurations/c1/assignments/a1`, {
          method: "PATCH",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body
        })
        outcomes.push(`${res.status} ${(await res.json() as any).error.code}`)
      } catch (e) {
        outcomes.push(`failed: ${(e as any).cause?.code ?? (e as Error).message}`)
      }
    }
    assert.deepStrictEqual(outcomes, Array(20).fill("413 RequestEntityTooLarge"))
  })
})

describe("a request pipelined after one whose answer closes the connection", () => {
  let s: TestServer
  let port: number
  let token: string
  beforeAll(async () => {
    s = await start({ store: MemoryStore.layer, bodyLimit: limit })
    port = Number(new URL(s.url).port)
    token = await s.token()
    const c = await s.request("POST", "deviceManagement/deviceEnrollmentConfigurations", {
      body: { "@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration", id: "c1", displayName: "before" }
    })
    assert.strictEqual(c.status, 201, c.text)
  })
  afterAll(async () => {
    await s?.close()
  })

  const patch = (extra: string, body: string) =>
    `PATCH /beta/deviceManagement/deviceEnrollmentConfigurations/c1 HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
    `Authorization: Bearer ${token}\r\nContent-Type: application/json\r\n${extra}\r\n${body}`
  const renames = (name: string) => {
    const body = JSON.stringify({ displayName: name })
    return patch(`Content-Length: ${body.length}\r\n`, body)
  }
  /** Everything the server writes on a connection given `text` at once, until it closes it. */
  const exchangeAll = (text: string): Promise<string> =>
    new Promise((resolve) => {
      const socket = net.connect({ port, host: "127.0.0.1", allowHalfOpen: true })
      let written = ""
      socket.on("data", (d: Buffer) => (written += d.toString()))
      socket.on("error", () => {})
      socket.on("end", () => socket.end())
      socket.on("close", () => resolve(written))
      socket.write(text)
    })
  const statuses = (written: string) => [...written.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]))
  const displayName = async () => (await s.request("GET", "deviceManagement/deviceEnrollmentConfigurations/c1")).json.displayName

  const over = " ".repeat(limit + 1)
  it.each([
    ["a 413 declared by Content-Length", () => patch(`Content-Length: ${over.length}\r\n`, over), 413],
    [
      "a 401 to a body declared over the limit (its answer found before the body, which is not read)",
      () => patch(`Content-Length: ${over.length}\r\n`, over).replace(`Bearer ${token}`, "Bearer not-a-token"),
      401
    ],
    ["a request whose client asked for Connection: close", () => patch("Connection: close\r\nContent-Length: 2\r\n", "{}"), 200]
  ])("after %s is neither processed nor answered", async (_, first, status) => {
    const name = await displayName()
    const written = await exchangeAll(first() + renames(`pipelined after ${status}`))
    assert.deepStrictEqual(statuses(written), [status], written)
    assert.match(written, /\r\nConnection: close\r\n/i)
    assert.strictEqual(await displayName(), name, "the pipelined PATCH was not applied")
  })

  it("after a 413 whose chunked body came whole is processed and answered: the connection is in step", async () => {
    const whole = patch("Transfer-Encoding: chunked\r\n", `${over.length.toString(16)}\r\n${over}\r\n0\r\n\r\n`)
    const last = JSON.stringify({ displayName: "after a whole 413" })
    const written = await exchangeAll(whole + patch(`Connection: close\r\nContent-Length: ${last.length}\r\n`, last))
    assert.deepStrictEqual(statuses(written), [413, 200], written)
    assert.notMatch(written.slice(0, written.indexOf("\r\n\r\n")), /\r\nConnection: close/i, "the 413 keeps the connection")
    assert.strictEqual(await displayName(), "after a whole 413")
  })

  it("that is not HTTP is answered 400 after the answers before it, in order, not in their midst", async () => {
    const written = await exchangeAll(renames("before") + renames("before") + "NOT HTTP AT ALL\r\n\r\n")
    assert.deepStrictEqual(statuses(written), [200, 200, 400], written)
    assert.match(written.slice(written.lastIndexOf("HTTP/1.1 400")), /"code":"BadRequest"/)
  })

  it("after an HTTP/1.1 request without Host is processed and answered: that one gets a 400 in the Graph shape, the connection kept", async () => {
    const last = JSON.stringify({ displayName: "after a Host-less request" })
    const written = await exchangeAll(
      `GET /beta/users HTTP/1.1\r\nAuthorization: Bearer ${token}\r\n\r\n` +
        patch(`Connection: close\r\nContent-Length: ${last.length}\r\n`, last)
    )
    assert.deepStrictEqual(statuses(written), [400, 200], written)
    const first = written.slice(0, written.indexOf("HTTP/1.1 200"))
    assert.match(first, /"code":"BadRequest","message":"The request has no Host header, which HTTP\/1\.1 requires"/)
    assert.notMatch(first, /\r\nConnection: close/i)
    assert.strictEqual(await displayName(), "after a Host-less request")
  })

  it("is processed and answered after a request answered with the connection kept", async () => {
    const last = JSON.stringify({ displayName: "second, last" })
    const written = await exchangeAll(renames("first") + patch(`Connection: close\r\nContent-Length: ${last.length}\r\n`, last))
    assert.deepStrictEqual(statuses(written), [200, 200], written)
    assert.strictEqual(await displayName(), "second, last")
  })
})

describe("requests pipelined on a connection as the server stops", () => {
  it("answers the first, which closes the connection, and neither processes nor answers the next", async () => {
    const s = await start({ store: MemoryStore.layer })
    const port = Number(new URL(s.url).port)
    const token = await s.token()
    const c = await s.request("POST", "deviceManagement/deviceEnrollmentConfigurations", {
      body: { "@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration", id: "c1" }
    })
    assert.strictEqual(c.status, 201, c.text)
    const rename = (name: string) => {
      const body = JSON.stringify({ displayName: name })
      return `PATCH /beta/deviceManagement/deviceEnrollmentConfigurations/c1 HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
        `Authorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`
    }
    const socket = net.connect({ port, host: "127.0.0.1" })
    await new Promise((r) => socket.once("connect", r))
    let written = ""
    socket.on("data", (d: Buffer) => (written += d.toString()))
    socket.on("error", () => {})
    const closed = new Promise((r) => socket.on("close", r))
    const stopped = s.close()
    socket.write(rename("first") + rename("second"))
    await Promise.all([closed, stopped])
    assert.deepStrictEqual([...written.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1])), [200], written)
    assert.match(written, /\r\nConnection: close\r\n/i)
    assert.deepStrictEqual(s.logs.filter((l) => l.method === "PATCH").map((l) => l.status), [200], "the second was not processed")
  })
})

describe("requests pipelined behind a slow one", () => {
  it("are read no further than Node's backpressure on the answers waiting allows (memory stays bounded)", async () => {
    // The first request's answer waits 2 s.
    const s = await start({ store: MemoryStore.layer, auth: slowVerifier(2_000), rateLimit: { ratePerSecond: 1e9, burst: 1e9 } })
    try {
      const port = Number(new URL(s.url).port)
      const token = await s.token()
      let parsed = 0
      s.server.on("request", () => parsed++)
      const socket = net.connect({ port, host: "127.0.0.1" })
      socket.on("error", () => {})
      await new Promise((r) => socket.once("connect", r))
      socket.write(`GET /beta/deviceManagement/deviceEnrollmentConfigurations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer slow.${token}\r\n\r\n`)
      const block = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n".repeat(1000)
      const started = Date.now()
      while (Date.now() - started < 1_500) {
        if (socket.writableLength < 1_000_000) socket.write(block)
        await new Promise((r) => setTimeout(r, 1))
      }
      const taken = parsed
      socket.destroy()
      // Node stops reading once the answers queued behind the slow one pass its high-water mark
      // (a review measured 1 965 then); a server that held requests back unanswered read 251 367.
      assert.isBelow(taken, 20_000, `${taken} requests parsed behind one answer still waiting`)
    } finally {
      await s.close()
    }
  }, 20_000)

  it("that are not HTTP wait for the answer in progress once, however many chunks follow", async () => {
    const s = await start({ store: MemoryStore.layer, auth: slowVerifier(1_000) })
    try {
      const port = Number(new URL(s.url).port)
      const token = await s.token()
      let inProgress: import("node:http").ServerResponse | undefined
      s.server.on("request", (_req, res) => (inProgress ??= res))
      const finishListeners = () => inProgress!.listenerCount("finish")
      const socket = net.connect({ port, host: "127.0.0.1", allowHalfOpen: true })
      let written = ""
      socket.on("data", (d: Buffer) => (written += d.toString()))
      socket.on("error", () => {})
      socket.on("end", () => socket.end())
      const closed = new Promise((r) => socket.on("close", r))
      await new Promise((r) => socket.once("connect", r))
      socket.write(`GET /beta/deviceManagement/deviceEnrollmentConfigurations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer slow.${token}\r\n\r\n`)
      await new Promise((r) => setTimeout(r, 50))
      const before = finishListeners()
      for (let i = 0; i < 200; i++) {
        socket.write(Buffer.alloc(4096, 0x58))
        await new Promise((r) => setTimeout(r, 1))
      }
      assert.isAtMost(finishListeners() - before, 1, "one wait, not one per chunk")
      await closed
      assert.deepStrictEqual([...written.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1])), [200, 400], written.slice(0, 500))
    } finally {
      await s.close()
    }
  }, 20_000)
})
