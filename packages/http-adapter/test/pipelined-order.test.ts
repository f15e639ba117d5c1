/**
 * Requests pipelined on one connection run in the order they were sent (since 0.15.0; found in
 * review): Node hands over every request it has parsed at once, and a request whose body was still
 * arriving, or was decoded off the event loop, ran after the one sent behind it. Two PATCHes of one
 * entity were stored in the opposite order to their answers; a GET behind a PATCH read the state
 * from before it; a DELETE behind a POST found nothing and the entity stayed. RFC 9112 9.3.2 lets a
 * server run pipelined requests in parallel only when they are all safe.
 */
import * as net from "node:net"
import { gzipSync } from "node:zlib"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { Server } from "../src/index.ts"
import { slowVerifier, start, startWithConfiguration, type TestServer } from "./support.ts"

const cfgs = "/beta/deviceManagement/deviceEnrollmentConfigurations"
const path = `${cfgs}/c1/assignments/a1`

type Part = string | Buffer | { readonly delayMs: number }

/**
 * Writes `parts` on one connection (a delay between some), and reads until `answers` answers have
 * come, or with `untilClose`, until the server closes the connection (the answers it wrote).
 */
const pipelined = (
  port: number,
  parts: ReadonlyArray<Part>,
  answers: number,
  untilClose = false
): Promise<ReadonlyArray<{ status: number; body: string }>> =>
  new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1")
    let text = ""
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`fewer than ${answers} answers within 5 s: ${text}`))
    }, 5_000)
    const parsed = (all = false) => {
      const out: Array<{ status: number; body: string }> = []
      let rest = text
      while (out.length < answers) {
        const end = rest.indexOf("\r\n\r\n")
        if (end === -1) return all ? out : undefined
        const head = rest.slice(0, end)
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? "0")
        if (rest.length < end + 4 + length) return all ? out : undefined
        out.push({ status: Number(head.slice(9, 12)), body: rest.slice(end + 4, end + 4 + length) })
        rest = rest.slice(end + 4 + length)
      }
      return out
    }
    socket.setEncoding("latin1")
    socket.on("data", (d: string) => {
      text += d
      const out = untilClose ? undefined : parsed()
      if (out !== undefined) {
        clearTimeout(timer)
        socket.destroy()
        resolve(out)
      }
    })
    socket.on("error", reject)
    socket.on("close", () => {
      if (!untilClose) return
      clearTimeout(timer)
      resolve(parsed(true)!)
    })
    socket.on("connect", async () => {
      for (const p of parts) {
        if (typeof p === "object" && !Buffer.isBuffer(p)) await new Promise((r) => setTimeout(r, p.delayMs))
        else socket.write(p)
      }
    })
  })

describe("requests pipelined on one connection", () => {
  let s: TestServer
  let port = 0
  let auth = ""
  const head = (method: string, target: string, length?: number, extra = "") =>
    `${method} ${target} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${auth}\r\n` +
    (length === undefined ? "" : `Content-Type: application/json\r\nContent-Length: ${length}\r\n`) + `${extra}\r\n`
  const patch = (body: string, extra = "") => head("PATCH", path, Buffer.byteLength(body), extra) + body
  const stored = async () => (await s.request("GET", path.slice("/beta/".length))).json.sourceId

  beforeAll(async () => {
    s = await startWithConfiguration({ id: "a1" })
    port = Number(new URL(s.url).port)
    auth = await s.token()
  })
  afterAll(async () => {
    await s?.close()
  })

  it("stores two PATCHes in the order sent when the first one's body arrives with the second", async () => {
    for (let i = 0; i < 5; i++) {
      const first = `{"sourceId":"first-${i}"}`
      const second = `{"sourceId":"second-${i}"}`
      const whole = patch(first)
      const cut = whole.length - first.length + 4
      const answers = await pipelined(port, [whole.slice(0, cut), { delayMs: 30 }, whole.slice(cut) + patch(second)], 2)
      assert.deepStrictEqual(answers.map((a) => [a.status, JSON.parse(a.body).sourceId]), [[200, `first-${i}`], [200, `second-${i}`]])
      assert.strictEqual(await stored(), `second-${i}`, "the last one sent is the one stored")
    }
  })

  it("stores a gzip-coded PATCH (decoded off the event loop) before the plain one sent behind it", async () => {
    const coded = gzipSync(Buffer.from(`{"sourceId":"coded"}`))
    const plain = `{"sourceId":"plain"}`
    const codedHead = head("PATCH", path, coded.length, "Content-Encoding: gzip\r\n")
    const answers = await pipelined(port, [Buffer.concat([Buffer.from(codedHead), coded, Buffer.from(patch(plain))])], 2)
    assert.deepStrictEqual(answers.map((a) => a.status), [200, 200])
    assert.strictEqual(await stored(), "plain")
  })

  it("answers a GET sent behind a PATCH with the PATCH applied, and a DELETE behind a POST removes what it made", async () => {
    const body = `{"sourceId":"seen"}`
    const whole = patch(body)
    const cut = whole.length - 3
    const get = head("GET", `${path}?$select=sourceId`)
    const [patched, read] = await pipelined(port, [whole.slice(0, cut), { delayMs: 30 }, whole.slice(cut) + get], 2)
    assert.strictEqual(patched!.status, 200)
    assert.strictEqual(JSON.parse(read!.body).sourceId, "seen")

    const made = `{"id":"p1"}`
    const post = head("POST", `${cfgs}/c1/assignments`, made.length) + made
    const cutPost = post.length - 2
    const answers = await pipelined(port, [
      post.slice(0, cutPost),
      { delayMs: 30 },
      post.slice(cutPost) + head("GET", `${cfgs}/c1/assignments/p1`) + head("DELETE", `${cfgs}/c1/assignments/p1`) + head("GET", `${cfgs}/c1/assignments/p1`)
    ], 4)
    assert.deepStrictEqual(answers.map((a) => a.status), [201, 200, 204, 404])
    assert.strictEqual((await s.request("GET", "deviceManagement/deviceEnrollmentConfigurations/c1/assignments/p1")).status, 404)
  })

  it("serves a client that does not pipeline as before, request after request on one connection", async () => {
    for (let i = 0; i < 3; i++) {
      const [one] = await pipelined(port, [patch(`{"sourceId":"alone-${i}"}`)], 1)
      assert.strictEqual(one!.status, 200)
    }
    // Many connections at once, each a request at a time: none waits for another's.
    const all = await Promise.all(Array.from({ length: 20 }, (_, i) => pipelined(port, [patch(`{"sourceId":"c-${i}"}`), head("GET", path)], 2)))
    for (const [p, g] of all) assert.deepStrictEqual([p!.status, g!.status], [200, 200])
  })

  /** A server whose tokens written `slow.<token>` are verified after 300 ms: the requests behind such a one wait. */
  const slowServer = () => start({ auth: slowVerifier(300) })

  it(`refuses a request pipelined past ${Server.maxWaitingOnConnection} waiting with a 503, unprocessed, after the answers before it, and closes the connection`, async () => {
    const slow = await slowServer()
    try {
      const token = await slow.token()
      const at = Number(new URL(slow.url).port)
      // A write first: nothing runs beside it, the health checks behind it wait.
      const created = `{"id":"w"}`
      const first = `POST /beta/groups HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer slow.${token}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${created.length}\r\n\r\n{"id":"w"}`
      const behind = Server.maxWaitingOnConnection + 5
      const answers = await pipelined(at, [first + "GET /health HTTP/1.1\r\nHost: x\r\n\r\n".repeat(behind)], behind + 1, true)
      const statuses = answers.map((a) => a.status)
      // The 33rd waiting is refused, and the 4 after it are neither processed nor answered.
      assert.deepStrictEqual(statuses, [201, ...Array(Server.maxWaitingOnConnection).fill(200), 503])
      assert.include(JSON.parse(answers.at(-1)!.body).error.message, "pipelined")
      assert.strictEqual(slow.logs.filter((l) => l.status === 200).length, Server.maxWaitingOnConnection)
    } finally {
      await slow.close()
    }
  })

  it("runs pipelined GETs beside each other (RFC 9112 9.3.2), and a write only once those before it are answered", async () => {
    const slow = await slowServer()
    try {
      const token = await slow.token()
      const at = Number(new URL(slow.url).port)
      const slowGet = `GET /beta/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer slow.${token}\r\n\r\n`
      const health = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
      const body = `{"id":"g1"}`
      const post = `POST /beta/groups HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${body.length}\r\n\r\n${body}`
      const answers = await pipelined(at, [slowGet + health + post + health], 4)
      // Node writes the answers in order; the log says in which order they were made.
      assert.deepStrictEqual(answers.map((a) => a.status), [200, 200, 201, 200])
      const order = slow.logs.map((l) => String(l.route ?? l.method))
      const healthFirst = order.findIndex((r) => r.includes("/health"))
      const usersAt = order.findIndex((r) => r.includes("/beta/users"))
      const groupsAt = order.findIndex((r) => r.includes("/beta/groups"))
      assert.isBelow(healthFirst, usersAt, `the health check behind the slow GET ran beside it: ${order.join(" | ")}`)
      assert.isAbove(groupsAt, usersAt, `the POST waited for the GET before it: ${order.join(" | ")}`)
    } finally {
      await slow.close()
    }
  })
})
