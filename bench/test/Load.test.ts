/**
 * The load runner's per-request server CPU: a server that burns 2 ms of its CPU time per request
 * is measured at about that, a bare one at far less, and a process that is gone reads as
 * unknown rather than zero.
 */
import { assert, describe, it } from "@effect/vitest"
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
