/**
 * The image's health check (`bin/health.js`, the Dockerfile's HEALTHCHECK) against the real
 * server: it asks the address, port and scheme the same environment makes the server listen
 * on, so a server on HTTPS or on another address than 127.0.0.1 is healthy, and a stopped one is not.
 */
import * as childProcess from "node:child_process"
import * as fs from "node:fs"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "vitest"
import { closedPort, runToExit, serverBin, startChild, tempDirs } from "./child.ts"

const healthBin = fileURLToPath(new URL("../bin/health.js", import.meta.url))
const secret = "x".repeat(32)
const tmp = tempDirs("health-")

/** The health check's exit code and output, with the server's own environment. */
const check = (env: Record<string, string>) => runToExit(healthBin, { HOST: "", TLS_CERT_FILE: "", ...env }, 10_000)
const portOf = (url: string) => new URL(url).port

describe("the image's health check", () => {
  it("is the one the Dockerfile's HEALTHCHECK runs", () => {
    const dockerfile = fs.readFileSync(fileURLToPath(new URL("../../../Dockerfile", import.meta.url)), "utf8")
    assert.match(dockerfile, /^HEALTHCHECK [^\n]*\\\n\s+CMD \["node", "apps\/server\/bin\/health\.js"\]$/m)
    assert.match(dockerfile, /^COPY apps\/server\/bin apps\/server\/bin$/m, "the runtime stage has it")
  })

  it("is healthy on a server over HTTP, and names the address of one that is stopped", async () => {
    const env = { PORT: "0", DATA_DIR: tmp(), STORE: "memory", AUTH_HS256_SECRET: secret, LOG_LEVEL: "none" }
    const s = await startChild(serverBin, env)
    try {
      const port = portOf(s.url)
      const ok = await check({ PORT: port })
      assert.strictEqual(ok.code, 0, ok.stderr)
      assert.strictEqual(await s.stop(), 0)
      const down = await check({ PORT: port })
      assert.strictEqual(down.code, 1)
      assert.match(down.stderr, new RegExp(`^health: http://127\\.0\\.0\\.1:${port}/health: ECONNREFUSED\\n$`))
    } finally {
      s.child.kill("SIGKILL")
    }
    const nothing = await check({ PORT: String(await closedPort()) })
    assert.strictEqual(nothing.code, 1)
  })

  const openssl = ["/usr/bin/openssl", "/bin/openssl", "/usr/local/bin/openssl"].find((f) => fs.existsSync(f))
  it.skipIf(openssl === undefined)("is healthy on a server over HTTPS with its own certificate (a probe over plain HTTP is not)", async () => {
    const dir = tmp()
    const cert = path.join(dir, "cert.pem")
    const key = path.join(dir, "key.pem")
    childProcess.execFileSync(openssl!, ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=enrollment"], { stdio: "ignore" })
    const env = { PORT: "0", DATA_DIR: tmp(), STORE: "memory", AUTH_HS256_SECRET: secret, LOG_LEVEL: "none", TLS_CERT_FILE: cert, TLS_KEY_FILE: key }
    const s = await startChild(serverBin, env)
    try {
      assert.match(s.url, /^https:/)
      const ok = await check({ PORT: portOf(s.url), TLS_CERT_FILE: cert, TLS_KEY_FILE: key })
      assert.strictEqual(ok.code, 0, ok.stderr)
      // What the image's check asked before: plain HTTP on the TLS port.
      const plain = await check({ PORT: portOf(s.url) })
      assert.strictEqual(plain.code, 1)
      assert.match(plain.stderr, /^health: http:\/\/127\.0\.0\.1:\d+\/health: /)
    } finally {
      await s.stop()
      s.child.kill("SIGKILL")
    }
  })

  it("asks the address HOST names, and the loopback where the server listens on every address", async () => {
    const env = { PORT: "0", DATA_DIR: tmp(), STORE: "memory", AUTH_HS256_SECRET: secret, LOG_LEVEL: "none" }
    const s = await startChild(serverBin, { ...env, HOST: "127.0.0.2" })
    try {
      const port = portOf(s.url)
      const ok = await check({ PORT: port, HOST: "127.0.0.2" })
      assert.strictEqual(ok.code, 0, ok.stderr)
      const loopback = await check({ PORT: port })
      assert.strictEqual(loopback.code, 1, "127.0.0.1 is not where this server listens")
    } finally {
      await s.stop()
      s.child.kill("SIGKILL")
    }
    const all = await startChild(serverBin, { ...env, HOST: "0.0.0.0" })
    try {
      const ok = await check({ PORT: portOf(all.url), HOST: "0.0.0.0" })
      assert.strictEqual(ok.code, 0, ok.stderr)
    } finally {
      await all.stop()
      all.child.kill("SIGKILL")
    }
  })

  it("is unhealthy when /health answers anything but 200, or nothing within 2 s, and says which", async () => {
    // A stand-in for a server in trouble, on a real port: a 503, and an answer that never comes.
    let status = 503
    const stub = http.createServer((req, res) => {
      if (status === 0) return // no answer
      res.writeHead(req.url === "/health" ? status : 404).end()
    })
    await new Promise<void>((resolve) => stub.listen(0, "127.0.0.1", resolve))
    const port = String((stub.address() as AddressInfo).port)
    try {
      const unavailable = await check({ PORT: port })
      assert.strictEqual(unavailable.code, 1)
      assert.strictEqual(unavailable.stderr, `health: http://127.0.0.1:${port}/health: answered 503\n`)
      status = 200
      assert.strictEqual((await check({ PORT: port })).code, 0, "the same stand-in, healthy")
      status = 0
      const started = performance.now()
      const silent = await check({ PORT: port })
      assert.strictEqual(silent.code, 1)
      assert.strictEqual(silent.stderr, `health: http://127.0.0.1:${port}/health: no answer within 2 s\n`)
      assert.isAtLeast(performance.now() - started, 1_900)
    } finally {
      stub.closeAllConnections()
      await new Promise((resolve) => stub.close(resolve))
    }
  })
})
