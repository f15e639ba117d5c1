/**
 * A client that half-closes its connection (sends its FIN: `shutdown(SHUT_WR)`, Node's
 * `socket.end()`) right after a complete request still gets its answer, over HTTP and HTTPS,
 * whatever the request is and however long its answer takes; then the server closes the
 * connection. Raw bytes on real sockets: each request is written together with the FIN.
 *
 * The answers that are late enough to meet the FIN: a token the server has not seen before
 * (its signature is checked asynchronously) and a `$batch` whose requests run one after
 * another (`dependsOn`). Before 0.6.1 Node ended the server's side at the FIN and every such
 * answer was lost: the client saw the connection close without a byte.
 */
import { MemoryStore } from "@enrollment/core"
import * as http from "node:http"
import * as net from "node:net"
import * as tls from "node:tls"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import * as Listen from "../src/Listen.ts"
import { selfSigned, start, type TestServer } from "./support.ts"

const G = "#microsoft.graph."
const cfgs = "deviceManagement/deviceEnrollmentConfigurations"

/** Everything the server writes on one connection until it closes it (or `[timeout]` after 5 s). */
const exchange = (connect: () => net.Socket, text: string, halfClose = true): Promise<string> =>
  new Promise((resolve) => {
    const socket = connect()
    const chunks: Array<Buffer> = []
    const timer = setTimeout(() => {
      socket.destroy()
      resolve(`${Buffer.concat(chunks).toString()}[timeout]`)
    }, 5_000)
    socket.on("data", (d: Buffer) => chunks.push(d))
    socket.on("error", () => {})
    socket.on("close", () => {
      clearTimeout(timer)
      resolve(Buffer.concat(chunks).toString())
    })
    // The request and the FIN in one call: the FIN follows the request's last byte at once.
    if (halfClose) socket.end(text)
    else socket.write(text)
  })

/** The answers in `written`, in order: status and parsed JSON body (chunked bodies are not expected). */
const answersIn = (written: string): ReadonlyArray<{ readonly status: number; readonly head: string; readonly json: any }> => {
  const out: Array<{ status: number; head: string; json: any }> = []
  let rest = written
  while (rest.length > 0) {
    const end = rest.indexOf("\r\n\r\n")
    if (end === -1) break
    const head = rest.slice(0, end)
    const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? 0)
    const body = Buffer.from(rest.slice(end + 4)).subarray(0, length).toString()
    out.push({ status: Number(head.slice(9, 12)), head, json: body === "" ? undefined : JSON.parse(body) })
    rest = Buffer.from(rest.slice(end + 4)).subarray(length).toString()
  }
  return out
}

describe.each([
  { scheme: "http", tls: undefined },
  { scheme: "https", tls: selfSigned() }
])("a request followed by the client's FIN ($scheme)", ({ scheme, tls: certificate }) => {
  let s: TestServer
  let port: number
  let subjects = 0
  beforeAll(async () => {
    // The setup's own requests (fetch) over the self-signed certificate, as the other HTTPS suites do.
    if (certificate !== undefined) process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0"
    s = await start({ store: MemoryStore.layer, ...(certificate === undefined ? {} : { tls: certificate }) })
    port = Number(new URL(s.url).port)
    const c = await s.request("POST", cfgs, { body: { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: "c1" } })
    assert.strictEqual(c.status, 201, c.text)
    const a = await s.request("POST", `${cfgs}/c1/assignments`, { body: { id: "a1", target: { "@odata.type": `${G}allLicensedUsersAssignmentTarget` } } })
    assert.strictEqual(a.status, 201, a.text)
  })
  afterAll(async () => {
    await s?.close()
  })

  const connect = () =>
    certificate === undefined ? net.connect(port, "127.0.0.1") : tls.connect({ port, host: "127.0.0.1", rejectUnauthorized: false })
  /** A request's bytes, with a token the server has not verified yet (a subject of its own). */
  const request = async (method: string, path: string, body?: unknown, extra = "") => {
    const token = await s.token({ subject: `half-close-${scheme}-${subjects++}` })
    const text = body === undefined ? undefined : JSON.stringify(body)
    return `${method} /beta/${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${token}\r\n${extra}` +
      (text === undefined ? "" : `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n`) +
      `\r\n${text ?? ""}`
  }

  it("answers a POST /beta/$batch whose requests run one after another, then closes", async () => {
    const requests = Array.from({ length: 5 }, (_, i) => ({
      id: `${i}`,
      method: "PATCH",
      url: `/${cfgs}/c1/assignments/a1`,
      body: { sourceId: `batch-${i}` },
      ...(i > 0 ? { dependsOn: [`${i - 1}`] } : {})
    }))
    const written = await exchange(connect, await request("POST", "$batch", { requests }))
    const answers = answersIn(written)
    assert.strictEqual(answers.length, 1, written.slice(0, 300) || "no answer before the connection closed")
    assert.strictEqual(answers[0]!.status, 200)
    assert.deepStrictEqual(answers[0]!.json.responses.map((r: any) => r.status), [200, 200, 200, 200, 200])
    assert.strictEqual(answers[0]!.json.responses[4].body.sourceId, "batch-4")
  })

  it("answers a GET, a PATCH and a POST, each then closing the connection", async () => {
    const get = answersIn(await exchange(connect, await request("GET", `${cfgs}/c1/assignments/a1`)))
    assert.deepStrictEqual(get.map((a) => a.status), [200])
    assert.strictEqual(get[0]!.json.id, "a1")

    const patch = answersIn(await exchange(connect, await request("PATCH", `${cfgs}/c1/assignments/a1`, { sourceId: "half-closed" })))
    assert.deepStrictEqual(patch.map((a) => a.status), [200])
    assert.strictEqual(patch[0]!.json.sourceId, "half-closed")
    assert.strictEqual((await s.request("GET", `${cfgs}/c1/assignments/a1`)).json.sourceId, "half-closed", "the PATCH was applied")

    const post = answersIn(await exchange(connect, await request("POST", `${cfgs}/c1/assignments`, { id: `a-${scheme}` })))
    assert.deepStrictEqual(post.map((a) => a.status), [201])
    assert.strictEqual(post[0]!.json.id, `a-${scheme}`)
  })

  it("answers every request pipelined before the FIN, in order, and closes after the last", async () => {
    const first = await request("PATCH", `${cfgs}/c1/assignments/a1`, { sourceId: "first" })
    const second = await request("GET", `${cfgs}/c1/assignments/a1`)
    const answers = answersIn(await exchange(connect, first + second))
    assert.deepStrictEqual(answers.map((a) => a.status), [200, 200])
    assert.strictEqual(answers[1]!.json.sourceId, "first")
  })

  it("answers with the problem a request earns (a 404), then closes", async () => {
    const answers = answersIn(await exchange(connect, await request("GET", `${cfgs}/nope/assignments/a1`)))
    assert.deepStrictEqual(answers.map((a) => a.status), [404])
    assert.strictEqual(answers[0]!.json.error.code, "itemNotFound")
  })
})

describe("a connection the client half-closes with nothing in progress", () => {
  let s: TestServer
  beforeAll(async () => {
    s = await start({ store: MemoryStore.layer })
  })
  afterAll(async () => {
    await s?.close()
  })

  it("is closed by the server at once: nothing is left half open", async () => {
    const port = Number(new URL(s.url).port)
    const socket = net.connect(port, "127.0.0.1")
    const closed = new Promise<number>((resolve) => socket.on("close", () => resolve(Date.now())))
    socket.on("error", () => {})
    await new Promise<void>((resolve) => socket.on("connect", () => resolve()))
    const sent = Date.now()
    socket.end()
    assert.isBelow((await closed) - sent, 2_000)
  })
})

describe("Listen.answersHalfClosed on a server made elsewhere", () => {
  it("lets a node:http server answer, 50 ms later, a request whose client half-closed at once", async () => {
    const server = Listen.answersHalfClosed(http.createServer((req, res) => {
      req.resume()
      setTimeout(() => res.end("late"), 50)
    }))
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    try {
      const port = (server.address() as net.AddressInfo).port
      const written = await exchange(() => net.connect(port, "127.0.0.1"), "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
      assert.match(written, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nlate$/)
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })
})
