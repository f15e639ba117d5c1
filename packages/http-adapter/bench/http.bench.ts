/**
 * PATCH throughput of the full stack (auth with the JWT cache, routing, JSON
 * parse, the typed PATCH on the invitation path, memory store, one
 * JSON.stringify) against a bare node:http server that answers the same JSON,
 * measured in the same run with autocannon. The server runs pinned to CPU 0
 * (`taskset -c 0`), autocannon to CPU 1.
 *
 *   node bench/http.bench.ts            # 10 s per target
 *   BENCH_SECONDS=3 node bench/http.bench.ts
 */
import { spawn, type ChildProcess } from "node:child_process"
import { fileURLToPath } from "node:url"

const seconds = Number(process.env.BENCH_SECONDS ?? 10)
const here = fileURLToPath(import.meta.url)
const role = process.argv[2]

if (role === "bare") {
  const http = await import("node:http")
  const { randomUUID } = await import("node:crypto")
  // The same status, headers and body bytes as the full stack's answer, so the client's work is equal.
  const sample = JSON.parse(process.env.BENCH_SAMPLE!) as { body: string; headers: Record<string, string> }
  const server = http.createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c) => chunks.push(c))
    req.on("end", () => {
      JSON.parse(Buffer.concat(chunks).toString() || "{}")
      const id = randomUUID()
      res.setHeader("request-id", id)
      res.setHeader("client-request-id", id)
      res.writeHead(200, { ...sample.headers, "content-length": Buffer.byteLength(sample.body) })
      res.end(sample.body)
    })
  })
  server.listen(0, "127.0.0.1", () => process.stdout.write(`READY ${(server.address() as any).port}\n`))
} else if (role === "full") {
  const { Assignments, Configurations, DirectoryService, MemoryStore } = await import("@enrollment/core")
  const { Context, Layer, ManagedRuntime, References } = await import("effect")
  const { Listen, Server, Token } = await import("../src/index.ts")
  const secret = "bench-secret-bench-secret-bench-secret!!"
  const runtime = ManagedRuntime.make(
    Layer.mergeAll(Assignments.layer, Configurations.layer, DirectoryService.layer).pipe(Layer.provideMerge(MemoryStore.layer))
  )
  // As apps/server does when no OTLP endpoint is configured: no spans to build.
  const context = Context.add(await runtime.context(), References.TracerEnabled, false)
  const handler = Server.makeHandler({ context, auth: { hs256Secret: secret }, rateLimit: { ratePerSecond: 1e9, burst: 1e9 } })
  const running = await Listen.listen(handler, { port: 0 })
  const token = await Token.mint({ secret, tenant: "bench", expiresIn: "2h" })
  const call = async (method: string, path: string, body: unknown) => {
    const r = await fetch(`${running.url}/beta/${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body)
    })
    if (r.status >= 300) throw new Error(`${path}: ${r.status} ${await r.text()}`)
    return r.status === 204 ? undefined : r.json()
  }
  await call("POST", "deviceManagement/deviceEnrollmentConfigurations", { "@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration", id: "c1" })
  await call("POST", "invitations", { id: "i1", invitedUserEmailAddress: "g@example.com", inviteRedirectUrl: "https://example.com" })
  await call("POST", "groups", { id: "g1" })
  const user: any = await (await fetch(`${running.url}/beta/invitations/i1/invitedUser`, { headers: { authorization: `Bearer ${token}` } })).json()
  await call("POST", "groups/g1/members/$ref", { "@odata.id": `https://graph.microsoft.com/beta/directoryObjects/${user.id}` })
  await call("POST", "deviceManagement/deviceEnrollmentConfigurations/c1/assignments", { id: "a1", target: { "@odata.type": "#microsoft.graph.groupAssignmentTarget", groupId: "g1" } })
  process.on("SIGINT", () => process.exit(0))
  process.stdout.write(`READY ${running.port} ${token}\n`)
} else {
  const autocannon = (await import("autocannon")).default
  const startChild = (which: string, env: Record<string, string> = {}) =>
    new Promise<{ child: ChildProcess; port: number; token?: string }>((resolve, reject) => {
      const child = spawn("taskset", ["-c", "0", process.execPath, here, which], { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, ...env } })
      let out = ""
      child.stdout!.on("data", (d) => {
        out += d
        const m = /READY (\d+)(?: (\S+))?/.exec(out)
        if (m) resolve({ child, port: Number(m[1]), ...(m[2] ? { token: m[2] } : {}) })
      })
      child.on("exit", (code) => reject(new Error(`${which} exited ${code}`)))
    })
  const load = (port: number, token: string | undefined) =>
    new Promise<any>((resolve, reject) => {
      // autocannon runs in this process: pin it to CPU 1
      autocannon({
        url: `http://127.0.0.1:${port}/beta/invitations/i1/invitedUser/deviceEnrollmentConfigurations/c1/assignments/a1`,
        method: "PATCH",
        connections: 50,
        duration: seconds,
        headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ source: "direct", target: { groupId: "g1" } })
      }, (err: unknown, result: any) => (err ? reject(err) : resolve(result)))
    })
  spawn("taskset", ["-p", "-c", "1", String(process.pid)], { stdio: "ignore" })
  const results: Record<string, { rps: number; p99: number; non2xx: number }> = {}
  let sample = ""
  for (const which of ["full", "bare"]) {
    const { child, port, token } = await startChild(which, { BENCH_SAMPLE: sample })
    if (which === "full") {
      const r = await fetch(`http://127.0.0.1:${port}/beta/invitations/i1/invitedUser/deviceEnrollmentConfigurations/c1/assignments/a1`, {
        method: "PATCH",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ source: "direct", target: { groupId: "g1" } })
      })
      const headers: Record<string, string> = {}
      for (const k of ["content-type", "etag", "odata-version"]) headers[k] = r.headers.get(k)!
      sample = JSON.stringify({ body: await r.text(), headers })
    }
    await load(port, token) // warm-up
    const r = await load(port, token)
    results[which] = { rps: r.requests.average, p99: r.latency.p99, non2xx: r.non2xx }
    child.kill("SIGTERM")
  }
  const ratio = results.full!.rps / results.bare!.rps
  console.log(`bare node:http        ${results.bare!.rps.toFixed(0)} req/s  p99 ${results.bare!.p99} ms`)
  console.log(`full PATCH stack      ${results.full!.rps.toFixed(0)} req/s  p99 ${results.full!.p99} ms  non-2xx ${results.full!.non2xx}`)
  console.log(`ratio full / bare     ${ratio.toFixed(2)}  (target >= 0.50)`)
  process.exit(results.full!.non2xx > 0 ? 1 : 0)
}
