/**
 * The load runner's per-request server CPU: a server that burns 2 ms of its CPU time per
 * request is measured at about that, a bare one at far less, a process that is gone reads as
 * unknown rather than zero, and the warm-up (run by the generator's own process, which says
 * when the measured part begins) is not counted. And its bodies that change from request to
 * request: made before the load, each connection's own, sent in turn.
 */
import { assert, describe, it } from "@effect/vitest"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import * as Baselines from "../src/Baselines.ts"
import * as Load from "../src/Load.ts"
import { cpuTime, freePort, node, spawnReady } from "../src/Proc.ts"

const burner = `
const http = require("node:http")
http.createServer((req, res) => {
  // 2 ms of this process's CPU time (not wall time: a preempted loop would burn less).
  const start = process.cpuUsage()
  for (;;) {
    const used = process.cpuUsage(start)
    if (used.user + used.system >= 2000) break
  }
  req.resume()
  req.on("end", () => res.end("{}"))
}).listen(Number(process.env.PORT), "127.0.0.1")
`

const load = (url: string, pid: number) =>
  Load.run({ name: "cpu", url, connections: 2, seconds: 1, warmupSeconds: 0, pid, requests: { method: "GET", path: "/" } })

describe("server CPU per request", () => {
  it("is what the server spends on each request", async () => {
    const port = await freePort()
    const burning = await spawnReady({ argv: [node, "-e", burner], env: { PORT: String(port) }, cpu: undefined, port, readyPath: "/" })
    const bare = await Baselines.bare(undefined)
    try {
      const b = await load(burning.url, burning.pid)
      const cpu = b.serverCpuPerRequest
      assert.isDefined(cpu)
      assert.isAbove(b.total, 50)
      // 2 ms of CPU per request, read in 10 ms clock ticks over the run.
      assert.isAtLeast(cpu!.userUs + cpu!.systemUs, 1500)
      assert.isAtMost(cpu!.userUs + cpu!.systemUs, 4000)
      const q = await load(bare.url, bare.pid)
      assert.isDefined(q.serverCpuPerRequest)
      assert.isBelow(q.serverCpuPerRequest!.userUs + q.serverCpuPerRequest!.systemUs, 1000)
    } finally {
      await burning.kill()
      await bare.kill()
    }
    assert.isUndefined(cpuTime(burning.pid), "a process that is gone has no CPU time to read")
  })
})

describe("the measured part", () => {
  it("is what the server's CPU is read around: a warm-up's cost is not counted", async () => {
    // Burns 2 ms of CPU per request for the first 1.5 s after its first request (the readiness
    // probe), then none: the warm-up (2 s) takes all the burning, the measured second none of it.
    const port = await freePort()
    const server = await spawnReady({
      argv: [node, "-e", burner.replace("const start = process.cpuUsage()", "if ((globalThis.t0 ??= Date.now()) + 1500 < Date.now()) { req.resume(); return req.on('end', () => res.end('{}')) }\n  const start = process.cpuUsage()")],
      env: { PORT: String(port) },
      cpu: undefined,
      port,
      readyPath: "/"
    })
    const perRequest = (r: Load.LoadResult) => r.serverCpuPerRequest!.userUs + r.serverCpuPerRequest!.systemUs
    try {
      const warmed = await Load.run({ name: "warmed", url: server.url, connections: 2, seconds: 1, warmupSeconds: 2, pid: server.pid, requests: { method: "GET", path: "/" } })
      assert.isAbove(warmed.total, 100)
      // The CPU read around the measured second: its main thread's second at most, and V8's
      // helpers' share (the first runs of the code after the burning are compiled then). Counted,
      // the warm-up's 1.5 s of burning alone would be more. (Not a ratio to a later, unburdened
      // run: on a noisy host the compilation alone moved that by more than half.)
      const measuredUs = perRequest(warmed) * warmed.total
      assert.isBelow(measuredUs, 1_500_000, `${Math.round(measuredUs / 1000)} ms of CPU read around the measured second`)
    } finally {
      await server.kill()
    }
  })
})

describe("bodies that change from request to request", () => {
  it("are each connection's own, in turn, so two PATCHes in a row never carry the same body", async () => {
    // What arrives, per connection, in order.
    const seen = new Map<object, Array<string>>()
    const order: Array<string> = []
    const server = createServer((req, res) => {
      const chunks: Array<Buffer> = []
      req.on("data", (c: Buffer) => chunks.push(c))
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8")
        const mine = seen.get(req.socket) ?? []
        mine.push(body)
        seen.set(req.socket, mine)
        order.push(body)
        res.end("{}")
      })
    })
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done))
    const port = (server.address() as AddressInfo).port
    try {
      const make = (n: number) => `{"n":${n}}`
      await Load.run({
        name: "bodies",
        url: `http://127.0.0.1:${port}`,
        connections: 4,
        seconds: 1,
        warmupSeconds: 0,
        requests: { method: "PATCH", path: "/", body: make }
      })
      assert.strictEqual(seen.size, 4)
      const per = Load.bodiesPerConnection
      const firsts = new Set<number>()
      for (const bodies of seen.values()) {
        assert.isAbove(bodies.length, per, "every connection went round its bodies at least once")
        const ns = bodies.map((b) => JSON.parse(b).n as number)
        const first = ns[0]!
        assert.strictEqual(first % per, 0, "a connection starts at its own first body")
        firsts.add(first)
        // In turn, round and round: the k-th request carries body first + k mod per.
        ns.forEach((n, k) => assert.strictEqual(n, first + (k % per)))
      }
      assert.strictEqual(firsts.size, 4, "no two connections share their bodies")
      for (let i = 1; i < order.length; i++) assert.notStrictEqual(order[i], order[i - 1])
    } finally {
      await new Promise((done) => server.close(done))
    }
  })

  it("keep fixed bodies and body-less requests as they are", () => {
    const specs = [{ method: "GET" as const, path: "/a" }, { method: "PATCH" as const, path: "/b", body: "{}" }]
    assert.deepStrictEqual(Load.requestsOf(specs, 3), [
      { method: "GET", path: "/a", headers: {} },
      { method: "PATCH", path: "/b", headers: { "content-type": "application/json" }, body: "{}" }
    ])
  })
})
