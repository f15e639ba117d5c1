/**
 * The graceful close over HTTPS with connections still in their TLS handshake (a TCP check that
 * connected and sent nothing, a client that sent part of its ClientHello): they are closed once
 * the grace is over, as a plain-HTTP connection that sent nothing is, instead of holding the close
 * until its limit; one whose handshake and request come within the grace is answered.
 */
import * as http from "node:http"
import * as net from "node:net"
import * as tls from "node:tls"
import { assert, describe, it } from "vitest"
import * as Listen from "../src/Listen.ts"
import { selfSigned } from "./support.ts"

const handler: http.RequestListener = (req, res) => {
  const body = JSON.stringify({ path: req.url })
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body)
}

/** A raw TCP connection to `port`, connected; `closed` resolves with the time it closed. */
const connect = async (port: number) => {
  const socket = net.connect(port, "127.0.0.1")
  socket.on("error", () => {})
  const closed = new Promise<number>((r) => socket.once("close", () => r(Date.now())))
  await new Promise((r) => socket.once("connect", r))
  return { socket, closed }
}

/** The start of a TLS 1.2 record carrying a ClientHello, cut short: the server waits for the rest. */
const partialClientHello = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03])

describe("Listen.close over HTTPS", () => {
  const limit = 5_000
  const grace = 100

  for (const [what, send] of [["sent nothing", undefined], ["sent part of its ClientHello", partialClientHello]] as const) {
    it(`closes a connection still in its TLS handshake (it ${what}) once the grace is over, and the close resolves then`, async () => {
      const running = await Listen.listen(handler, { port: 0, tls: selfSigned() })
      const c = await connect(running.port)
      if (send !== undefined) c.socket.write(send)
      // The server has accepted it (and read what was sent) before the close begins.
      await new Promise((r) => setTimeout(r, 50))
      const started = Date.now()
      const closed = running.close(limit, grace)
      const at = await Promise.race([c.closed, new Promise<number>((r) => setTimeout(() => r(Infinity), limit + 1_000))])
      assert.isAtLeast(at - started, grace - 10, "it has the grace to finish its handshake and send a request")
      assert.isBelow(at - started, 1_000, "then it is closed, not waited for until the limit")
      await closed
      assert.isBelow(Date.now() - started, 1_000, "the close ends once its connections are closed")
      c.socket.destroy()
    })
  }

  it("answers a client that connected before the close and finishes its handshake and request within the grace", async () => {
    const running = await Listen.listen(handler, { port: 0, tls: selfSigned() })
    const c = await connect(running.port)
    // Still in its handshake when the close begins: it has not sent a byte.
    await new Promise((r) => setTimeout(r, 50))
    const started = Date.now()
    const closed = running.close(limit, 1_000)
    const secure = tls.connect({ socket: c.socket, rejectUnauthorized: false })
    secure.on("error", () => {})
    await new Promise((r) => secure.once("secureConnect", r))
    secure.write("GET /late HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    const head = await new Promise<string>((r) => secure.once("data", (d) => r(String(d))))
    assert.match(head, /^HTTP\/1\.1 200/, "its request is answered")
    assert.match(head, /\r\nconnection: close/i, "and the connection closed after it")
    await closed
    assert.isBelow(Date.now() - started, 2_000, "the close ends once it is answered")
    secure.destroy()
  })
})
