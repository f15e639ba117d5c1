/**
 * The composed server: configuration validated from the environment, the
 * zero-config secret (0600, reused), SQLite by default, graceful stop, and a
 * child process that exits 0 on SIGTERM.
 */
import { Token } from "@enrollment/http-adapter"
import { ConfigProvider, Effect } from "effect"
import * as fs from "node:fs"
import * as http from "node:http"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "vitest"
import { App, RequestLogger, ServerConfig } from "../src/index.ts"
import { startChild } from "./child.ts"

const load = (env: Record<string, string>) =>
  Effect.runPromise(Effect.result(ServerConfig.load).pipe(Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env })))))

describe("configuration", () => {
  it("reports every bad value, one line each", async () => {
    const r = await load({
      PORT: "99999",
      STORE: "mysql",
      LOG_FORMAT: "xml",
      RATE_LIMIT_BURST: "-1",
      AUTH_HS256_SECRET: "short",
      SQLITE_SYNCHRONOUS: "sometimes",
      SQLITE_CACHE_ENTRIES: "-5",
      RESPONSE_CACHE_BYTES: "-1",
      V8_PARALLEL_SCAVENGE: "maybe"
    })
    assert.strictEqual(r._tag, "Failure")
    const problems = (r as any).failure.problems as Array<string>
    for (const v of ["PORT", "STORE", "LOG_FORMAT", "RATE_LIMIT_BURST", "AUTH_HS256_SECRET", "SQLITE_SYNCHRONOUS", "SQLITE_CACHE_ENTRIES", "RESPONSE_CACHE_BYTES", "V8_PARALLEL_SCAVENGE"]) {
      assert.ok(problems.some((p) => p.startsWith(`${v}:`)), `${v} in ${JSON.stringify(problems)}`)
    }
  })
  it("defaults to SQLite in ./data on 127.0.0.1:8080", async () => {
    const r = await load({})
    assert.strictEqual(r._tag, "Success")
    const c = (r as any).success
    assert.deepStrictEqual(
      [c.store, c.dataDir, c.host, c.port, c.sqliteSynchronous, c.sqliteCacheEntries, c.responseCacheBytes, c.v8ParallelScavenge],
      ["sqlite", "./data", "127.0.0.1", 8080, "FULL", 20_000, 16 * 1024 * 1024, "auto"]
    )
  })
  it("needs DATABASE_URL for STORE=postgres", async () => {
    const r = await load({ STORE: "postgres" })
    assert.include((r as any).failure.message, "DATABASE_URL")
  })
})

describe("server", () => {
  it("starts on SQLite with a zero-config secret (0600, reused) and serves the seed PATCH", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "server-"))
    const r = await load({ PORT: "0", DATA_DIR: dataDir, LOG_LEVEL: "none" })
    const config = (r as any).success
    const app = await App.start(config)
    try {
      const file = path.join(dataDir, "auth-secret")
      assert.strictEqual(fs.statSync(file).mode & 0o777, 0o600)
      assert.ok(fs.existsSync(path.join(dataDir, "enrollment.sqlite")))
      const secret = fs.readFileSync(file, "utf8").trim()
      const token = await Token.mint({ secret, tenant: "t1" })
      const call = (method: string, p: string, body?: unknown) =>
        fetch(`${app.url}/beta/${p}`, {
          method,
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {})
        })
      assert.strictEqual((await fetch(`${app.url}/beta/users`)).status, 401)
      assert.strictEqual((await call("POST", "deviceManagement/deviceEnrollmentConfigurations", { "@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration", id: "c1" })).status, 201)
      assert.strictEqual((await call("POST", "invitations", { id: "i1", invitedUserEmailAddress: "g@example.com", inviteRedirectUrl: "https://example.com" })).status, 201)
      assert.strictEqual((await call("POST", "deviceManagement/deviceEnrollmentConfigurations/c1/assignments", { id: "a1", target: { "@odata.type": "#microsoft.graph.allLicensedUsersAssignmentTarget" } })).status, 201)
      const p = await call("PATCH", "invitations/i1/invitedUser/deviceEnrollmentConfigurations/c1/assignments/a1", { source: "policySets", sourceId: "ps" })
      assert.strictEqual(p.status, 200)
      assert.strictEqual((await fetch(`${app.url}/ready`)).status, 200)
    } finally {
      await app.stop()
    }
    const again = App.authOptions(config)
    assert.strictEqual(again.created, false)
  })

  it("exports its spans to the OTLP endpoint it is given (the exporter is loaded only then)", async () => {
    const posts: Array<{ url: string; body: string }> = []
    const collector = http.createServer((req, res) => {
      let body = ""
      req.on("data", (d) => (body += d))
      req.on("end", () => {
        posts.push({ url: req.url ?? "", body })
        res.writeHead(200, { "content-type": "application/json" }).end("{}")
      })
    })
    await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve))
    const port = (collector.address() as { port: number }).port
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "server-otlp-"))
    const r = await load({ PORT: "0", DATA_DIR: dataDir, LOG_LEVEL: "none", OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` })
    const app = await App.start((r as any).success)
    try {
      const token = await Token.mint({ secret: fs.readFileSync(path.join(dataDir, "auth-secret"), "utf8").trim(), tenant: "t1" })
      const res = await fetch(`${app.url}/beta/deviceManagement/deviceEnrollmentConfigurations/c1/assignments/a1`, { headers: { authorization: `Bearer ${token}` } })
      assert.strictEqual(res.status, 404)
    } finally {
      await app.stop()
      collector.close()
    }
    const traces = posts.filter((p) => p.url === "/v1/traces")
    assert.isAbove(traces.length, 0, "spans were exported when the server stopped")
    assert.include(traces.map((p) => p.body).join(""), "Assignments.get")
  })

  it("runs as a child process through its entry point (bin/server.js) and exits 0 on SIGTERM", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "server-child-"))
    const main = fileURLToPath(new URL("../bin/server.js", import.meta.url)) // what `pnpm start` runs
    const s = await startChild(main, { PORT: "0", DATA_DIR: dataDir, STORE: "memory", LOG_FORMAT: "json" })
    assert.strictEqual((await fetch(`${s.url}/health`)).status, 200)
    assert.strictEqual(await s.stop(), 0)
    const line = JSON.parse(s.stdout().trim().split("\n")[0]!)
    assert.deepStrictEqual([line.method, line.route, line.status], ["GET", "/health", 200])
    assert.ok(line.requestId)
  })
})

describe("the request log", () => {
  it("writes a request at the statuses its level keeps, and lowestStatus names the lowest", () => {
    for (const level of ["debug", "info", "warn", "error", "none"] as const) {
      const lines: Array<string> = []
      const log = RequestLogger.make({ format: "json", level, write: (l) => lines.push(l) })
      for (const status of [200, 204, 304, 399, 400, 404, 412, 499, 500, 503]) {
        lines.length = 0
        log({ method: "GET", route: "GET /beta/x", status, durationMs: 1, requestId: "r", tenant: undefined })
        assert.strictEqual(lines.length === 1, status >= RequestLogger.lowestStatus(level), `${level} ${status}`)
      }
    }
  })

  it("at warn, the server logs failures with their route and makes no line for a success", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "server-log-"))
    const main = fileURLToPath(new URL("../bin/server.js", import.meta.url))
    const s = await startChild(main, { PORT: "0", DATA_DIR: dataDir, STORE: "memory", LOG_FORMAT: "json", LOG_LEVEL: "warn" })
    assert.strictEqual((await fetch(`${s.url}/health`)).status, 200)
    assert.strictEqual((await fetch(`${s.url}/beta/deviceManagement/deviceEnrollmentConfigurations`)).status, 401)
    assert.strictEqual((await fetch(`${s.url}/nope`)).status, 404)
    assert.strictEqual(await s.stop(), 0)
    const lines = s.stdout().trim().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l)).filter((l) => l.msg === "request")
    assert.deepStrictEqual(lines.map((l) => [l.method, l.route, l.status]), [
      ["GET", "GET /beta/deviceManagement/deviceEnrollmentConfigurations", 401],
      ["GET", "unmatched", 404]
    ])
  })
})
