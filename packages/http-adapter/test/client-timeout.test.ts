/**
 * A request Node gives up on before the handler runs, because its head or its whole did not
 * arrive within the server's `headersTimeout` / `requestTimeout` (a slow or stalled client), is
 * answered 408 in the error shape (SPEC 6) by `onClientError`, not a 400 saying the request is not
 * valid HTTP. Real sockets against a real `node:http` server whose timeouts are short, so Node's
 * own timer makes the refusal.
 */
import * as http from "node:http"
import * as net from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { onClientError } from "../src/Server.ts"

/** A server whose head must come within 300 ms and whole request within 600 ms, checked every 50 ms. */
const listen = async (): Promise<{ readonly port: number; readonly close: () => void }> => {
  const server = http.createServer({ headersTimeout: 300, requestTimeout: 600, connectionsCheckingInterval: 50 }, (req, res) => {
    req.resume()
    req.on("end", () => res.end("{}"))
  })
  server.on("clientError", onClientError)
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() }
}

/** Sends `parts` (the later ones 200 ms apart) and reads until the server closes the connection. */
const exchange = (port: number, parts: ReadonlyArray<string>): Promise<string> =>
  new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1")
    let got = ""
    socket.setEncoding("utf8")
    socket.on("data", (d) => (got += d))
    socket.on("error", reject)
    socket.on("close", () => resolve(got))
    parts.forEach((p, i) => setTimeout(() => socket.writable && socket.write(p), i * 200))
  })

const answerOf = (raw: string) => {
  const [head, body] = raw.split("\r\n\r\n")
  return { status: Number(head!.split(" ")[1]), head: head!, error: JSON.parse(body!).error }
}

describe("a request that does not arrive in time", () => {
  it("is a 408 in the error shape when its head stalls", async () => {
    const s = await listen()
    try {
      const a = answerOf(await exchange(s.port, ["PATCH /beta/x HTTP/1.1\r\nHost: a\r\n"]))
      assert.strictEqual(a.status, 408)
      assert.match(a.head, /^HTTP\/1\.1 408 Request Timeout\r\n/)
      assert.match(a.head, /\r\nconnection: close/)
      assert.strictEqual(a.error.code, "RequestTimeout")
      assert.match(a.error.message, /not received in time/)
      assert.match(a.error.innerError["request-id"], /^[0-9a-f-]{36}$/)
    } finally {
      s.close()
    }
  })

  it("is a 408 when its body stalls after a complete head", async () => {
    const s = await listen()
    try {
      const a = answerOf(await exchange(s.port, [
        "PATCH /beta/x HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
        "\"a\"",
        ":"
      ]))
      assert.strictEqual(a.status, 408)
      assert.strictEqual(a.error.code, "RequestTimeout")
    } finally {
      s.close()
    }
  })

  it("malformed HTTP is still a 400", async () => {
    const s = await listen()
    try {
      const a = answerOf(await exchange(s.port, ["NOT HTTP AT ALL\r\n\r\n"]))
      assert.strictEqual(a.status, 400)
      assert.strictEqual(a.error.code, "BadRequest")
    } finally {
      s.close()
    }
  })
})
