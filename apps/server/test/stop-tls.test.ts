/**
 * A stop (SIGTERM) of the real server over HTTPS is not held by connections still in their TLS
 * handshake: a TCP check that connected and sent nothing, or a client that sent part of its
 * ClientHello, is closed after the drain's short grace (as a plain-HTTP connection that sent
 * nothing is), not left to the drain's 10 s, which also made the stop say that requests in flight
 * went unanswered.
 */
import * as childProcess from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import { assert, describe, it } from "vitest"
import { serverBin, startChild, tempDirs } from "./child.ts"

const tmp = tempDirs("stop-tls-")

/** The start of a TLS record carrying a ClientHello, cut short: the server waits for the rest. */
const partialClientHello = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03])

const openssl = ["/usr/bin/openssl", "/bin/openssl", "/usr/local/bin/openssl"].find((f) => fs.existsSync(f))

describe("stopping over HTTPS", () => {
  it.skipIf(openssl === undefined)("is not held by connections still in their TLS handshake: they are closed after the grace", async () => {
    const dir = tmp()
    const cert = path.join(dir, "cert.pem")
    const key = path.join(dir, "key.pem")
    childProcess.execFileSync(openssl!, ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=enrollment"], { stdio: "ignore" })
    const env = { PORT: "0", DATA_DIR: tmp(), STORE: "memory", AUTH_HS256_SECRET: "x".repeat(32), LOG_FORMAT: "pretty", LOG_LEVEL: "none", TLS_CERT_FILE: cert, TLS_KEY_FILE: key }
    const s = await startChild(serverBin, env)
    const port = Number(new URL(s.url).port)
    const sockets: Array<net.Socket> = []
    try {
      for (const send of [undefined, partialClientHello]) {
        const socket = net.connect(port, "127.0.0.1")
        socket.on("error", () => {})
        await new Promise((r) => socket.once("connect", r))
        if (send !== undefined) socket.write(send)
        sockets.push(socket)
      }
      const closed = sockets.map((socket) => new Promise<number>((r) => socket.once("close", () => r(Date.now()))))
      await new Promise((r) => setTimeout(r, 100))
      const sent = Date.now()
      s.child.kill("SIGTERM")
      assert.strictEqual(await s.exited, 0, s.stderr())
      const took = Date.now() - sent
      assert.isBelow(took, 3_000, `the stop took ${took} ms: ${s.stderr()}`)
      for (const at of await Promise.all(closed)) assert.isBelow(at - sent, 3_000, "each was closed by the server")
      assert.notInclude(s.stderr(), "connections still open", "no request was in flight")
      assert.match(s.stderr(), /\nstopped\n$/)
    } finally {
      for (const socket of sockets) socket.destroy()
      s.child.kill("SIGKILL")
    }
  }, 20_000)
})
