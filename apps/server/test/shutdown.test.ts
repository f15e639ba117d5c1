/**
 * Stopping is bounded: in-flight requests get `App.drainMillis`, then the store
 * `App.closeMillis`; a store that does not close in time (PostgreSQL behind a
 * network black hole) is reported in one line and the process exits 1, and a
 * second SIGTERM or SIGINT while stopping exits at once.
 */
import { Token } from "@enrollment/http-adapter"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { assert, describe, it } from "vitest"
import { App } from "../src/index.ts"
import { serverBin, startChild } from "./child.ts"

const secret = "s".repeat(40)

/** Resolves once `read()` matches `pattern`, polling every 20 ms. */
const until = async (read: () => string, pattern: RegExp, timeoutMs = 5_000) => {
  const deadline = Date.now() + timeoutMs
  while (!pattern.test(read())) {
    if (Date.now() > deadline) throw new Error(`no ${pattern} in:\n${read()}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

const body = JSON.stringify({ "@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration", id: "c1", displayName: "Limit" })

/**
 * A keep-alive request whose body has not all been sent: in flight until `finish()` sends
 * the rest (or the server gives up on it); `received()` is what came back so far.
 */
const stuckRequest = async (url: string) => {
  const token = await Token.mint({ secret, tenant: "t1" })
  const { hostname, port } = new URL(url)
  const socket = net.connect(Number(port), hostname)
  let received = ""
  socket.on("data", (d) => (received += d))
  socket.on("error", () => {})
  socket.write(
    `POST /beta/deviceManagement/deviceEnrollmentConfigurations HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${token}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: keep-alive\r\n\r\n${body.slice(0, 10)}`
  )
  return { socket, finish: () => socket.write(body.slice(10)), received: () => received }
}

describe("stopping", () => {
  it("a second SIGTERM while in-flight requests drain exits at once, non-zero, and says so", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "server-stop-"))
    const s = await startChild(serverBin, { PORT: "0", DATA_DIR: dataDir, AUTH_HS256_SECRET: secret, LOG_FORMAT: "pretty", LOG_LEVEL: "none" })
    const { socket } = await stuckRequest(s.url)
    try {
      await new Promise((r) => setTimeout(r, 100))
      s.child.kill("SIGTERM")
      await until(s.stderr, /SIGTERM: stopping/)
      // Still draining: the request has up to 10 s.
      const early = await Promise.race([s.exited, new Promise((r) => setTimeout(() => r("running"), 300))])
      assert.strictEqual(early, "running", s.stderr())
      const sent = Date.now()
      s.child.kill("SIGTERM")
      assert.strictEqual(await s.exited, 143, s.stderr())
      assert.isBelow(Date.now() - sent, 2_000)
      assert.include(s.stderr(), "SIGTERM while stopping: exiting now, without waiting for in-flight requests or the store")
    } finally {
      socket.destroy()
      s.child.kill("SIGKILL")
    }
  })

  it("a request that finishes while draining is answered, and its idle keep-alive connection does not hold the stop", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "server-drain-"))
    const s = await startChild(serverBin, { PORT: "0", DATA_DIR: dataDir, AUTH_HS256_SECRET: secret, LOG_FORMAT: "pretty", LOG_LEVEL: "none" })
    const request = await stuckRequest(s.url)
    try {
      await new Promise((r) => setTimeout(r, 100))
      s.child.kill("SIGTERM")
      await until(s.stderr, /SIGTERM: stopping/)
      const sent = Date.now()
      request.finish()
      assert.strictEqual(await s.exited, 0, s.stderr())
      assert.isBelow(Date.now() - sent, 2_000, "well before the drain's 10 s")
      assert.match(request.received(), /^HTTP\/1\.1 201 /)
    } finally {
      request.socket.destroy()
      s.child.kill("SIGKILL")
    }
  })

  it("a request still in flight when the drain's time is up is cut off, and the stop says so", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "server-cut-"))
    const s = await startChild(serverBin, { PORT: "0", DATA_DIR: dataDir, AUTH_HS256_SECRET: secret, LOG_FORMAT: "pretty", LOG_LEVEL: "none" })
    const request = await stuckRequest(s.url)
    try {
      await new Promise((r) => setTimeout(r, 100))
      const sent = Date.now()
      s.child.kill("SIGTERM")
      assert.strictEqual(await s.exited, 0, s.stderr())
      assert.isAtLeast(Date.now() - sent, App.drainMillis - 100)
      assert.strictEqual(request.received(), "", "never answered")
      const lines = s.stderr().trim().split("\n")
      assert.deepStrictEqual(lines.slice(-2), [
        `warning: connections still open after ${App.drainMillis / 1000} s were closed: a request still in flight on one got no answer`,
        "stopped"
      ])
    } finally {
      request.socket.destroy()
      s.child.kill("SIGKILL")
    }
  }, 20_000)

  // PostgreSQL behind a TCP proxy that, once told, stops forwarding (and closes nothing): a network black hole.
  const databaseUrl = process.env.DATABASE_URL
  if (databaseUrl === undefined || databaseUrl === "") {
    console.log("shutdown: DATABASE_URL is unset; the PostgreSQL black-hole test is skipped")
  }
  it.skipIf(databaseUrl === undefined || databaseUrl === "")(
    "with PostgreSQL behind a black hole, exits 1 once the store has had its time to close, saying so",
    async () => {
      const target = new URL(databaseUrl!)
      let hole = false
      const sockets: Array<net.Socket> = []
      const proxy = net.createServer((client) => {
        const upstream = net.connect(Number(target.port || 5432), target.hostname)
        sockets.push(client, upstream)
        for (const [from, to] of [[client, upstream], [upstream, client]] as const) {
          from.on("data", (d) => hole || to.write(d))
          from.on("error", () => {})
          from.on("close", () => hole || to.destroy())
        }
      })
      await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve))
      const viaProxy = new URL(databaseUrl!)
      viaProxy.hostname = "127.0.0.1"
      viaProxy.port = String((proxy.address() as net.AddressInfo).port)
      const s = await startChild(serverBin, {
        PORT: "0",
        STORE: "postgres",
        DATABASE_URL: viaProxy.href,
        DATABASE_SCHEMA: "server_shutdown_test",
        AUTH_HS256_SECRET: secret,
        LOG_FORMAT: "pretty",
        LOG_LEVEL: "none"
      })
      try {
        assert.strictEqual((await fetch(`${s.url}/ready`)).status, 200)
        hole = true
        // A query into the hole: the pool's connection now waits for an answer that never comes.
        fetch(`${s.url}/ready`).then((r) => r.arrayBuffer(), () => {})
        await new Promise((r) => setTimeout(r, 300))
        const sent = Date.now()
        s.child.kill("SIGTERM")
        assert.strictEqual(await s.exited, 1, s.stderr())
        assert.isBelow(Date.now() - sent, App.drainMillis + App.closeMillis + 3_000)
        assert.include(s.stderr(), `the store (STORE=postgres) did not close within ${App.closeMillis / 1000} s; exiting without it`)
      } finally {
        s.child.kill("SIGKILL")
        for (const socket of sockets) socket.destroy()
        proxy.close()
      }
    },
    30_000
  )
})
