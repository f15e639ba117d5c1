/**
 * The graceful close on real sockets: a request a client sent on an idle keep-alive
 * connection just as the close began is still read and answered (with `Connection: close`),
 * not reset; idle connections, and those that never sent a request, are closed once the grace
 * is over, and the close then ends.
 */
import * as http from "node:http"
import * as net from "node:net"
import * as tls from "node:tls"
import { assert, describe, it } from "vitest"
import * as Listen from "../src/Listen.ts"
import { selfSigned } from "./support.ts"

/** A raw keep-alive connection: `send` writes a request, `next` resolves with the next answer's head (or how the connection ended). */
const connection = (port: number) => {
  const socket = net.connect(port, "127.0.0.1")
  let buffered = ""
  let ended: string | undefined
  const waiting: Array<() => void> = []
  const wake = () => waiting.splice(0).forEach((w) => w())
  socket.on("data", (d) => {
    buffered += d
    wake()
  })
  socket.on("error", (e) => {
    ended ??= `error ${(e as NodeJS.ErrnoException).code}`
    wake()
  })
  socket.on("close", () => {
    ended ??= "closed"
    wake()
  })
  return {
    socket,
    send: (path: string) => socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n`),
    next: async (): Promise<string> => {
      for (;;) {
        const end = buffered.indexOf("\r\n\r\n")
        if (end !== -1) {
          const head = buffered.slice(0, end)
          const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0)
          if (buffered.length >= end + 4 + length) {
            buffered = buffered.slice(end + 4 + length)
            return head
          }
        }
        if (ended !== undefined) return ended
        await new Promise<void>((r) => waiting.push(r))
      }
    },
    ended: () => ended
  }
}

const handler: http.RequestListener = (req, res) => {
  const body = JSON.stringify({ path: req.url })
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body)
}

describe("Listen.close", () => {
  it("answers a request sent on an idle keep-alive connection as the close begins, with Connection: close, then ends", async () => {
    const running = await Listen.listen(handler, { port: 0 })
    const conns = Array.from({ length: 20 }, () => connection(running.port))
    for (const c of conns) c.send("/first")
    for (const c of conns) assert.match(await c.next(), /^HTTP\/1\.1 200/)
    // Every connection is idle now. The close begins, and in the same turn each client sends its
    // next request: it reaches the server after the close began, on a connection that looked idle.
    const closed = running.close(5_000)
    for (const c of conns) c.send("/second")
    const heads = await Promise.all(conns.map((c) => c.next()))
    for (const head of heads) {
      assert.match(head, /^HTTP\/1\.1 200/, head)
      assert.match(head, /\r\nconnection: close/i, head)
    }
    const started = Date.now()
    await closed
    assert.isBelow(Date.now() - started, 2_000, "the close ends once its connections are closed")
    for (const c of conns) assert.oneOf(c.ended(), ["closed", undefined])
    for (const c of conns) c.socket.destroy()
    // Nothing is accepted any more.
    const late = connection(running.port)
    assert.match(await late.next(), /^error ECONNREFUSED|^closed/)
  })

  it("closes an idle keep-alive connection after the grace, and the close resolves then", async () => {
    const running = await Listen.listen(handler, { port: 0 })
    const c = connection(running.port)
    c.send("/first")
    assert.match(await c.next(), /^HTTP\/1\.1 200/)
    const started = Date.now()
    await running.close(5_000, 200)
    const took = Date.now() - started
    assert.isAtLeast(took, 150, "idle connections stay open for the grace")
    assert.isBelow(took, 2_000)
    assert.strictEqual(await c.next(), "closed")
  })

  for (const scheme of ["http", "https"] as const) {
    it(`closes a connection that never sent a request once the grace is over, and the close resolves then (${scheme})`, async () => {
      const running = await Listen.listen(handler, { port: 0, ...(scheme === "https" ? { tls: selfSigned() } : {}) })
      // A load balancer's TCP check, or a pool's pre-opened connection: connected (TLS: handshake
      // done), nothing sent. Beside it, one that is still sending its request's head is left alone.
      const open = async () => {
        if (scheme === "http") {
          const socket = net.connect(running.port, "127.0.0.1")
          await new Promise((r) => socket.once("connect", r))
          return socket
        }
        const socket = tls.connect({ port: running.port, host: "127.0.0.1", rejectUnauthorized: false })
        await new Promise((r) => socket.once("secureConnect", r))
        return socket
      }
      const silent = await open()
      const sending = await open()
      sending.write("GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n")
      const silentClosed = new Promise<number>((r) => silent.once("close", () => r(Date.now())))
      silent.on("error", () => {})
      sending.on("error", () => {})
      let sendingClosed = false
      sending.once("close", () => (sendingClosed = true))
      const started = Date.now()
      const closed = running.close(3_000, 100)
      const at = await silentClosed
      assert.isAtLeast(at - started, 90, "it has the grace to send a request")
      assert.isBelow(at - started, 1_000, "then it is closed, not waited for until the limit")
      assert.isFalse(sendingClosed, "a request still arriving is not cut at the grace")
      sending.end("\r\n")
      const head = await new Promise<string>((r) => sending.once("data", (d) => r(String(d))))
      assert.match(head, /^HTTP\/1\.1 200/, "and it is answered")
      await closed
      assert.isBelow(Date.now() - started, 2_000, "the close ends once its connections are closed")
      sending.destroy()
    })
  }

  it("ends at once a connection to HTTPS whose client sends its FIN before any handshake (a TCP check), and the close does not wait for it", async () => {
    const running = await Listen.listen(handler, { port: 0, tls: selfSigned() })
    const socket = net.connect(running.port, "127.0.0.1")
    socket.on("error", () => {})
    await new Promise((r) => socket.once("connect", r))
    const sent = Date.now()
    const closed = new Promise<number>((r) => socket.once("close", () => r(Date.now() - sent)))
    socket.end()
    const after = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(Infinity), 2_000))])
    assert.isBelow(after, 1_000, "ended by the server, not held half-open until the handshake's timeout")
    const started = Date.now()
    await running.close(3_000, 100)
    assert.isBelow(Date.now() - started, 1_000, "the close does not wait for it until the limit")
    socket.destroy()
  })

  it("stops Node's own timers of the server at the close (its connections check), as http.Server's close does", async () => {
    const running = await Listen.listen(handler, { port: 0 })
    const c = connection(running.port)
    c.send("/first")
    assert.match(await c.next(), /^HTTP\/1\.1 200/)
    // Node keeps the headers-timeout check in an interval under an internal symbol; read it if it is there.
    const key = Object.getOwnPropertySymbols(running.server).find((k) => k.description === "http.server.connectionsCheckingInterval")
    const check = key === undefined ? undefined : (running.server as unknown as Record<symbol, { _destroyed?: boolean }>)[key]
    await running.close(5_000, 50)
    if (check !== undefined) assert.strictEqual(check._destroyed, true, "the connections check is stopped")
    // Closing again neither throws nor hooks the request listener twice.
    await running.close(1_000, 0).catch(() => {})
    assert.strictEqual(running.server.listeners("request").length, 2)
  })
})

