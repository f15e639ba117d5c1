/**
 * What RFC 9112 has a server do with a request's line and framing, written on raw sockets (since
 * 0.15.0; each found in a review): two Host lines or an invalid Host are a 400; a target in the
 * absolute form is served, its authority in Host's place; an expectation other than 100-continue is
 * a 417, a CONNECT a 405, a transfer coding besides chunked a 501, and two Content-Type lines a 400,
 * each in the Graph error shape; a create's Location names the route's declared segments.
 */
import * as net from "node:net"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { startWithConfiguration, type TestServer } from "./support.ts"

const cfgs = "/beta/deviceManagement/deviceEnrollmentConfigurations"

interface Raw {
  readonly status: number
  readonly head: string
  readonly body: string
  readonly closed: boolean
}

/** Sends `bytes` on a new connection and reads one answer (and whether the server then closed). */
const send = (port: number, bytes: string): Promise<Raw> =>
  new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1")
    let text = ""
    let closed = false
    const timer = setTimeout(() => finish(), 2_000)
    const finish = () => {
      clearTimeout(timer)
      socket.destroy()
      const end = text.indexOf("\r\n\r\n")
      if (end === -1) return reject(new Error(`no answer: ${JSON.stringify(text)}`))
      resolve({ status: Number(text.slice(9, 12)), head: text.slice(0, end), body: text.slice(end + 4), closed })
    }
    socket.setEncoding("latin1")
    socket.on("data", (d: string) => {
      text += d
      const end = text.indexOf("\r\n\r\n")
      const length = /content-length: (\d+)/i.exec(text.slice(0, end))
      if (end !== -1 && length !== null && text.length >= end + 4 + Number(length[1])) setTimeout(finish, 20)
    })
    socket.on("end", () => (closed = true))
    socket.on("close", () => {
      closed = true
      finish()
    })
    socket.on("error", () => {})
    socket.on("connect", () => socket.write(bytes))
  })

const errorOf = (r: Raw) => JSON.parse(r.body).error

describe("the request line and framing (RFC 9112)", () => {
  let s: TestServer
  let port = 0
  let auth = ""
  const get = (target: string, headers: string) => `GET ${target} HTTP/1.1\r\n${headers}Authorization: Bearer ${auth}\r\n\r\n`

  beforeAll(async () => {
    s = await startWithConfiguration()
    port = Number(new URL(s.url).port)
    auth = await s.token()
  })
  afterAll(async () => {
    await s?.close()
  })

  it("refuses two Host lines and a Host that is not a host with a 400 in the error shape", async () => {
    for (const headers of ["Host: a\r\nHost: b\r\n", "host: a\r\nHOST: a\r\n", "Host: a b/c\r\n", "Host: \r\n", "Host: a@b\r\n"]) {
      const r = await send(port, get(`${cfgs}/c1`, headers))
      assert.strictEqual(r.status, 400, `${JSON.stringify(headers)}: ${r.head}`)
      assert.strictEqual(errorOf(r).code, "BadRequest")
      assert.include(errorOf(r).message, "Host")
      assert.match(r.head, /\r\nrequest-id: /i)
    }
  })

  it("takes a Host with the characters RFC 3986 allows (a Compose service's _) and names it in the links", async () => {
    for (const host of ["enrollment_api:8080", "[::1]:9", "[fe80::1%25eth0]:80", "[fe80::1%eth0]:80", "[v1.x:y]", "xn--bcher-kva.example", "a.b~c", "Example.COM."]) {
      const r = await send(port, get(`${cfgs}/c1`, `Host: ${host}\r\n`))
      assert.strictEqual(r.status, 200, `${host}: ${r.head}`)
      assert.isTrue(JSON.parse(r.body)["@odata.context"].startsWith(`http://${host}/beta/$metadata#`), r.body)
    }
  })

  it("serves a target in the absolute form as its path, its authority in Host's place", async () => {
    const r = await send(port, get(`http://graph.example:99${cfgs}/c1?$select=id`, "Host: other\r\n"))
    assert.strictEqual(r.status, 200, r.head)
    const body = JSON.parse(r.body)
    assert.strictEqual(body.id, "c1")
    assert.isTrue(body["@odata.context"].startsWith("http://graph.example:99/beta/$metadata#"), body["@odata.context"])
    const bad = await send(port, get(`http://a b${cfgs}/c1`, "Host: x\r\n"))
    assert.strictEqual(bad.status, 400, bad.head)
  })

  it("answers an expectation other than 100-continue with a 417, and a CONNECT with a 405, in the error shape", async () => {
    const expectation = await send(port, get(`${cfgs}/c1`, "Host: x\r\nExpect: foo\r\n"))
    assert.strictEqual(expectation.status, 417, expectation.head)
    assert.strictEqual(errorOf(expectation).code, "ExpectationFailed")
    assert.match(expectation.head, /\r\nrequest-id: /i)
    const connect = await send(port, `CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`)
    assert.strictEqual(connect.status, 405, connect.head)
    assert.strictEqual(errorOf(connect).code, "MethodNotAllowed")
    assert.match(connect.head, /\r\nallow: GET, HEAD, POST, PATCH, DELETE\r\n/i)
    assert.isTrue(connect.closed)
    // Pipelined behind a write still being answered: after its answer, never in its place.
    const body = `{"displayName":"before-connect"}`
    const both = await send(
      port,
      `PATCH ${cfgs}/c1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${auth}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${body.length}\r\n\r\n${body}CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n`
    )
    assert.strictEqual(both.status, 200, both.head)
    assert.match(both.body, /HTTP\/1\.1 405 Method Not Allowed\r\n/, "the 405 after the PATCH's answer")
    assert.strictEqual((await s.request("GET", "deviceManagement/deviceEnrollmentConfigurations/c1")).json.displayName, "before-connect")
  })

  it("refuses a transfer coding besides chunked with a 501, and stores nothing", async () => {
    const body = `{"displayName":"te-gzip"}`
    const r = await send(
      port,
      `PATCH ${cfgs}/c1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${auth}\r\nContent-Type: application/json\r\n` +
        `Transfer-Encoding: gzip, chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`
    )
    assert.strictEqual(r.status, 501, r.head)
    assert.strictEqual(errorOf(r).code, "NotImplemented")
    assert.notStrictEqual((await s.request("GET", "deviceManagement/deviceEnrollmentConfigurations/c1")).json.displayName, "te-gzip")
    const chunked = await send(
      port,
      `PATCH ${cfgs}/c1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${auth}\r\nContent-Type: application/json\r\n` +
        `Transfer-Encoding: Chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`
    )
    assert.strictEqual(chunked.status, 200, chunked.head)
    // A request whose route reads no body is refused too, and does nothing.
    assert.strictEqual((await s.request("POST", "deviceManagement/deviceEnrollmentConfigurations/c1/assignments", { body: { id: "te-del" } })).status, 201)
    const del = await send(
      port,
      `DELETE ${cfgs}/c1/assignments/te-del HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${auth}\r\n` +
        `Transfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`
    )
    assert.strictEqual(del.status, 501, del.head)
    assert.strictEqual((await s.request("GET", "deviceManagement/deviceEnrollmentConfigurations/c1/assignments/te-del")).status, 200, "not removed")
  })

  it("refuses a body sent with two Content-Type lines (the same one twice included) with a 400, and stores nothing", async () => {
    const body = `{"displayName":"two-types"}`
    for (const types of ["application/json", "text/plain"]) {
      for (const [first, second] of [["application/json", types], [types, "application/json"]]) {
        const r = await send(
          port,
          `PATCH ${cfgs}/c1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${auth}\r\nContent-Type: ${first}\r\n` +
            `content-type: ${second}\r\nContent-Length: ${body.length}\r\n\r\n${body}`
        )
        assert.strictEqual(r.status, 400, `${first} then ${second}: ${r.head}`)
        assert.include(errorOf(r).message, "Content-Type")
      }
    }
    assert.notStrictEqual((await s.request("GET", "deviceManagement/deviceEnrollmentConfigurations/c1")).json.displayName, "two-types")
  })

  it("names the declared segments in a create's Location, whatever case and key form the request used", async () => {
    const r = await s.request("POST", "DEVICEMANAGEMENT/deviceEnrollmentConfigurations('c1')/Assignments/", { body: { id: "loc1" } })
    assert.strictEqual(r.status, 201, r.text)
    assert.strictEqual(r.headers.get("location"), `${s.base}/deviceManagement/deviceEnrollmentConfigurations/c1/assignments/loc1`)
    const dollar = await s.request("POST", "deviceManagement/deviceEnrollmentConfigurations/c1/assignments", { body: { id: "$x" } })
    assert.strictEqual(dollar.headers.get("location"), `${s.base}/deviceManagement/deviceEnrollmentConfigurations/c1/assignments('%24x')`)
  })
})
