/**
 * The composed server: configuration validated from the environment, the
 * zero-config secret (0600, reused), SQLite by default, graceful stop, and a
 * child process that exits 0 on SIGTERM.
 */
import { Token } from "@enrollment/http-adapter"
import { Effect, Option } from "effect"
import * as fs from "node:fs"
import * as http from "node:http"
import * as os from "node:os"
import * as path from "node:path"
import { PassThrough } from "node:stream"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "vitest"
import { SqlError, SqlSyntaxError } from "effect/sql/SqlError"
import { App, RequestLogger, ServerConfig } from "../src/index.ts"
import { startChild } from "./child.ts"

const load = (env: Record<string, string>) => Effect.runPromise(Effect.result(ServerConfig.load(env)))

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
      SQLITE_CHECKPOINT_MS: "soon",
      RESPONSE_CACHE_BYTES: "-1",
      V8_PARALLEL_SCAVENGE: "maybe"
    })
    assert.strictEqual(r._tag, "Failure")
    const problems = (r as any).failure.problems as Array<string>
    for (const v of ["PORT", "STORE", "LOG_FORMAT", "RATE_LIMIT_BURST", "AUTH_HS256_SECRET", "SQLITE_SYNCHRONOUS", "SQLITE_CACHE_ENTRIES", "SQLITE_CHECKPOINT_MS", "RESPONSE_CACHE_BYTES", "V8_PARALLEL_SCAVENGE"]) {
      assert.ok(problems.some((p) => p.startsWith(`${v}:`)), `${v} in ${JSON.stringify(problems)}`)
    }
  })
  it("defaults to SQLite in ./data on 127.0.0.1:8080", async () => {
    const r = await load({})
    assert.strictEqual(r._tag, "Success")
    const c = (r as any).success
    assert.deepStrictEqual(
      [c.store, c.dataDir, c.host, c.port, c.sqliteSynchronous, c.sqliteCacheEntries, c.sqliteCheckpointMs, c.responseCacheBytes, c.v8ParallelScavenge],
      ["sqlite", "./data", "127.0.0.1", 8080, "FULL", 20_000, 1000, 16 * 1024 * 1024, "auto"]
    )
  })
  it("needs DATABASE_URL for STORE=postgres", async () => {
    const r = await load({ STORE: "postgres" })
    assert.include((r as any).failure.message, "DATABASE_URL")
  })
  const problemsOf = async (env: Record<string, string>) => {
    const r = await load(env)
    return r._tag === "Failure" ? (r.failure as ServerConfig.ConfigInvalid).problems : []
  }
  it("takes a port in decimal digits only, 0 to 65535, and refuses an empty PORT", async () => {
    for (const port of ["1e3", "0x50", "80.0", " 80", "-1", "65536", ""]) {
      const problems = await problemsOf({ PORT: port })
      assert.strictEqual(problems.length, 1, `PORT=${port}`)
      assert.match(problems[0]!, /^PORT: expected a port number from 0 to 65535/)
    }
    assert.include((await problemsOf({ PORT: "" }))[0], "got an empty value")
    for (const [port, n] of [["0", 0], ["80", 80], ["65535", 65535]] as const) {
      const r = await load({ PORT: port })
      assert.strictEqual((r as any).success.port, n)
    }
  })
  it("refuses an empty value for a setting with a default, and reads an empty optional one as unset", async () => {
    assert.match((await problemsOf({ STORE: "" }))[0]!, /^STORE: .*got an empty value/)
    assert.match((await problemsOf({ RATE_LIMIT_BURST: "" }))[0]!, /^RATE_LIMIT_BURST: .*got an empty value/)
    const r = await load({ DATABASE_URL: "", AUTH_JWKS_URL: "", PUBLIC_URL: "" })
    assert.strictEqual(r._tag, "Success")
    assert.deepStrictEqual((r as any).success.unused, [])
  })
  it("refuses a text setting with leading or trailing whitespace, naming it, as PORT refuses ' 80' (it would be kept: a directory named ' ', an audience no token names)", async () => {
    const cases = {
      DATA_DIR: ["/srv/data ", " "],
      AUTH_ISSUER: [" https://issuer.example.com"],
      AUTH_AUDIENCE: ["api://x ", "api://x\n"],
      PUBLIC_URL: ["https://graph.example.com "],
      TLS_CERT_FILE: ["\tcert.pem"],
      TLS_KEY_FILE: ["key.pem "],
      HOST: [" 127.0.0.1"],
      METRICS_HOST: ["127.0.0.1 "]
    }
    for (const [variable, values] of Object.entries(cases)) {
      for (const value of values) {
        const problems = await problemsOf({ [variable]: value })
        assert.strictEqual(problems.length, 1, `${variable}=${JSON.stringify(value)}: ${problems}`)
        assert.match(problems[0]!, new RegExp(`^${variable}: expected `))
        assert.isTrue(problems[0]!.endsWith(`, got ${JSON.stringify(value)}, which has leading or trailing whitespace`), problems[0])
      }
    }
    // Both TLS files, each with its own line.
    assert.deepStrictEqual((await problemsOf({ TLS_CERT_FILE: "cert.pem ", TLS_KEY_FILE: "key.pem " })).map((p) => p.split(":")[0]), ["TLS_CERT_FILE", "TLS_KEY_FILE"])
    // DATABASE_SCHEMA only where it is read.
    assert.match((await problemsOf({ STORE: "postgres", DATABASE_URL: "postgres://db/x", DATABASE_SCHEMA: "tenant_a " }))[0]!, /^DATABASE_SCHEMA: .*leading or trailing whitespace$/)
    assert.deepStrictEqual(await problemsOf({ STORE: "sqlite", DATABASE_SCHEMA: "tenant_a " }), [])
    // Inner spaces are a value's own.
    const r = await load({ DATA_DIR: "/srv/my data", AUTH_AUDIENCE: "api://x" })
    assert.deepStrictEqual([(r as any).success.dataDir, (r as any).success.audience._tag], ["/srv/my data", "Some"])
  })
  it("refuses an AUTH_HS256_SECRET of whitespace only, or with whitespace around it, without echoing it", async () => {
    const key = "k".repeat(40)
    for (const [secret, said] of [
      [" ".repeat(32), "got whitespace only"],
      ["\t\n".repeat(20), "got whitespace only"],
      [`${key}\n`, "got one with leading or trailing whitespace"],
      [` ${key}`, "got one with leading or trailing whitespace"]
    ] as const) {
      const problems = await problemsOf({ AUTH_HS256_SECRET: secret })
      assert.strictEqual(problems.length, 1, JSON.stringify(secret))
      assert.match(problems[0]!, new RegExp(`^AUTH_HS256_SECRET: expected a secret of at least 32 bytes, ${said}`))
      assert.notInclude(problems[0], "kkkk")
    }
    // Inner spaces are the secret's own.
    assert.deepStrictEqual(await problemsOf({ AUTH_HS256_SECRET: `${key} ${key}` }), [])
  })
  it("with STORE=postgres, refuses a DATABASE_URL that is not a postgres:// or postgresql:// URL, without echoing it", async () => {
    for (const url of ["notaurl", "mysql://app:sekrit@db/x", "http://app:sekrit@db/x"]) {
      const problems = await problemsOf({ STORE: "postgres", DATABASE_URL: url })
      assert.strictEqual(problems.length, 1, url)
      assert.match(problems[0]!, /^DATABASE_URL: expected a postgres:\/\/ or postgresql:\/\/ URL, got /)
      assert.notInclude(problems[0], "sekrit")
      assert.notInclude(problems[0], "notaurl")
    }
    for (const url of ["postgres://app:sekrit@db/x", "postgresql://db:6543/x"]) assert.deepStrictEqual(await problemsOf({ STORE: "postgres", DATABASE_URL: url }), [])
  })
  it("with STORE=postgres, refuses a DATABASE_URL with a malformed % escape the driver could not decode, naming the part, never the password", async () => {
    for (const [url, part] of [
      ["postgres://postgres:s3cr%ZZetpw@127.0.0.1:5432/test", "password"],
      ["postgres://postgres:s3cr%etpw@127.0.0.1:5432/test", "password"],
      ["postgres://postgres:s3cr%FFetpw@127.0.0.1:5432/test", "password"],
      ["postgres://app%Z:s3cretpw@db/test", "user name"],
      ["postgresql://app:s3cretpw@db/te%Zst", "database name"]
    ] as const) {
      const problems = await problemsOf({ STORE: "postgres", DATABASE_URL: url })
      assert.strictEqual(problems.length, 1, url)
      assert.match(problems[0]!, new RegExp(`^DATABASE_URL: the ${part} has a malformed percent-encoding`), url)
      assert.notInclude(problems[0], "s3cr", url)
    }
    assert.deepStrictEqual(await problemsOf({ STORE: "postgres", DATABASE_URL: "postgres://app%40corp:s3cr%25et%2Fpw@db/test" }), [])
    // Not read with another store: named in the unused-settings warning only, as before.
    assert.deepStrictEqual(await problemsOf({ STORE: "sqlite", DATABASE_URL: "postgres://postgres:s3cr%ZZetpw@127.0.0.1:5432/test" }), [])
  })
  it("never echoes what looks like a URL's credentials in a bad value (a collector's or key set's token)", async () => {
    const cases = {
      OTEL_EXPORTER_OTLP_ENDPOINT: "instance:s3cr3t-token@otlp.example.com/otlp",
      AUTH_JWKS_URL: "https//app:s3cr3t-token@login.example.com/keys",
      PUBLIC_URL: "admin:s3cr3t-token@graph.example.com",
      HOST: "admin:s3cr3t-token@graph.example.com"
    }
    // A password with an '@' of its own, not percent-encoded (URL parsers split at the last '@'):
    // none of it is shown either.
    const at = {
      OTEL_EXPORTER_OTLP_ENDPOINT: "instance:s3cr3t@token@otlp.example.com/otlp",
      PUBLIC_URL: "admin:s3cr3t@token@graph.example.com",
      HOST: "admin:s3cr3t@token@graph.example.com"
    }
    for (const [variable, value] of Object.entries(at)) {
      const problems = await problemsOf({ [variable]: value, AUTH_AUDIENCE: "api://x" })
      assert.strictEqual(problems.length, 1, `${variable}: ${problems}`)
      assert.notInclude(problems[0], "s3cr3t", variable)
      assert.notInclude(problems[0], "token", variable)
      assert.include(problems[0], "***@", variable)
    }
    for (const [variable, value] of Object.entries(cases)) {
      const problems = await problemsOf({ [variable]: value, AUTH_AUDIENCE: "api://x" })
      assert.strictEqual(problems.length, 1, `${variable}: ${problems}`)
      assert.match(problems[0]!, new RegExp(`^${variable}: `))
      assert.notInclude(problems[0], "s3cr3t", variable)
      assert.include(problems[0], "***@", variable)
    }
  })

  it("refuses an OTEL_EXPORTER_OTLP_ENDPOINT with credentials, which its HTTP client would refuse at every export", async () => {
    const problems = await problemsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: "https://instance:s3cr3t@otlp.example.com/otlp" })
    assert.deepStrictEqual(problems, [
      "OTEL_EXPORTER_OTLP_ENDPOINT: a URL with a user name or password cannot be used (the exporter's HTTP client refuses credentials in a URL, so no trace would be sent)"
    ])
  })

  it("refuses an OTEL_EXPORTER_OTLP_ENDPOINT with a query or fragment, to which the signal paths could not be appended, without echoing it", async () => {
    for (const url of ["https://otlp.example.com/otlp?api_key=s3cr3t", "https://otlp.example.com/otlp?", "http://127.0.0.1:4318/#s3cr3t", "http://127.0.0.1:4318#"]) {
      assert.deepStrictEqual(await problemsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: url }), [
        "OTEL_EXPORTER_OTLP_ENDPOINT: a URL with a query or fragment cannot be used (it is a base URL: the signal paths /v1/traces, /v1/metrics and /v1/logs are appended to it)"
      ], url)
    }
    for (const url of ["http://127.0.0.1:4318", "https://otlp.example.com/otlp/"]) assert.deepStrictEqual(await problemsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: url }), [], url)
  })

  it("warns when AUTH_HS256_SECRET and AUTH_JWKS_URL are both set: tokens signed with either are accepted", async () => {
    const jwks = { AUTH_JWKS_URL: "https://login.example.com/keys", AUTH_AUDIENCE: "api://x" }
    const both = await load({ ...jwks, AUTH_HS256_SECRET: "k".repeat(40) })
    assert.strictEqual(both._tag, "Success")
    assert.strictEqual(
      ServerConfig.authWarning((both as any).success),
      "AUTH_HS256_SECRET and AUTH_JWKS_URL are both set: tokens signed with the shared secret are accepted as well as the key set's (unset AUTH_HS256_SECRET to accept only the identity provider's)"
    )
    for (const env of [jwks, { AUTH_HS256_SECRET: "k".repeat(40) }, {}]) {
      const r = await load(env)
      assert.isUndefined(ServerConfig.authWarning((r as any).success), JSON.stringify(env))
    }
  })

  it("refuses a DATABASE_SCHEMA PostgreSQL reserves or would cut to 63 bytes", async () => {
    const postgres = { STORE: "postgres", DATABASE_URL: "postgres://db/x" }
    for (const schema of ["information_schema", "pg_catalog", "pg_mine", "PG_Mine", "s".repeat(64), "é".repeat(32)]) {
      const problems = await problemsOf({ ...postgres, DATABASE_SCHEMA: schema })
      assert.strictEqual(problems.length, 1, schema)
      assert.match(problems[0]!, /^DATABASE_SCHEMA: expected a PostgreSQL schema name of at most 63 bytes/)
    }
    for (const schema of ["public", "tenant_a", "s".repeat(63), "pgx"]) assert.deepStrictEqual(await problemsOf({ ...postgres, DATABASE_SCHEMA: schema }), [])
    // Set empty it counts as unset (public), as enrollctl's ENROLLCTL_DATABASE_SCHEMA does (README, "Configuration").
    assert.deepStrictEqual(await problemsOf({ ...postgres, DATABASE_SCHEMA: "" }), [])
  })
  it("takes PUBLIC_URL as an origin only: a path, query or fragment is refused, not dropped", async () => {
    for (const url of ["https://graph.example.com/prefix", "https://graph.example.com/beta/", "https://graph.example.com?x=1", "https://graph.example.com/#top", "https://graph.example.com//"]) {
      const problems = await problemsOf({ PUBLIC_URL: url })
      assert.strictEqual(problems.length, 1, url)
      assert.match(problems[0]!, /^PUBLIC_URL: must be an origin/)
    }
    assert.match((await problemsOf({ PUBLIC_URL: "graph.example.com" }))[0]!, /^PUBLIC_URL: expected the server's public origin/)
    for (const [url, origin] of [["https://graph.example.com", "https://graph.example.com"], ["https://graph.example.com/", "https://graph.example.com"], ["http://h:8443", "http://h:8443"]]) {
      const r = await load({ PUBLIC_URL: url! })
      assert.strictEqual((r as any).success.publicUrl.value, origin)
    }
  })
  it("reads CORS_ALLOWED_ORIGINS as * or origins as browsers send them, refusing one that would never match, naming it (since 0.6.1)", async () => {
    assert.isTrue(Option.isNone((await load({}) as any).success.corsAllowedOrigins), "off unless set")
    assert.isTrue(Option.isNone((await load({ CORS_ALLOWED_ORIGINS: "" }) as any).success.corsAllowedOrigins), "empty: unset")
    assert.strictEqual((await load({ CORS_ALLOWED_ORIGINS: "*" }) as any).success.corsAllowedOrigins.value, "*")
    assert.deepStrictEqual(
      (await load({ CORS_ALLOWED_ORIGINS: "https://app.example.com, http://localhost:3000" }) as any).success.corsAllowedOrigins.value,
      ["https://app.example.com", "http://localhost:3000"]
    )
    for (const [value, shown] of [
      ["https://app.example.com/", "\"https://app.example.com/\""],
      ["https://App.example.com", "\"https://App.example.com\""],
      ["app.example.com", "\"app.example.com\""],
      ["https://a.example,,https://b.example", "\"\""],
      ["https://a.example,*", "\"*\""]
    ] as const) {
      const problems = await problemsOf({ CORS_ALLOWED_ORIGINS: value })
      assert.strictEqual(problems.length, 1, value)
      assert.isTrue(problems[0]!.startsWith(`CORS_ALLOWED_ORIGINS: ${shown}: `), problems[0])
    }
  })
  it("says AUTH_JWKS_URL takes an http:// or https:// URL, as both are accepted", async () => {
    for (const url of ["ftp://keys.example.com/jwks", "not a url"]) {
      assert.match((await problemsOf({ AUTH_JWKS_URL: url }))[0]!, /^AUTH_JWKS_URL: expected an http:\/\/ or https:\/\/ URL of a JWKS, got /)
    }
    for (const url of ["http://idp.internal/keys", "https://login.microsoftonline.com/t/discovery/v2.0/keys"]) {
      assert.deepStrictEqual(await problemsOf({ AUTH_JWKS_URL: url, AUTH_AUDIENCE: "api://enrollment" }), [])
    }
  })
  it("refuses an AUTH_JWKS_URL with a user name or password (fetch would refuse every fetch), not echoing it", async () => {
    for (const url of ["https://app:s3cr3t@login.example.com/keys", "https://app@login.example.com/keys", "https://:s3cr3t@login.example.com/keys"]) {
      const problems = await problemsOf({ AUTH_JWKS_URL: url, AUTH_AUDIENCE: "api://enrollment" })
      assert.deepStrictEqual(problems, [
        "AUTH_JWKS_URL: a URL with a user name or password cannot be used (the key set's HTTP client, fetch, refuses credentials in a URL, so no token could be verified)"
      ], url)
    }
  })
  it("needs AUTH_AUDIENCE with AUTH_JWKS_URL: the key set signs other applications' tokens too", async () => {
    const problems = await problemsOf({ AUTH_JWKS_URL: "https://login.microsoftonline.com/t/discovery/v2.0/keys" })
    assert.deepStrictEqual(problems.map((p) => p.split(":")[0]), ["AUTH_AUDIENCE"])
    assert.include(problems[0]!, "required with AUTH_JWKS_URL")
  })
  it("names the settings the store does not use, and where the data goes instead", async () => {
    const warning = async (env: Record<string, string>) => ServerConfig.unusedWarning((await load(env) as any).success)
    assert.strictEqual(
      await warning({ DATABASE_URL: "postgres://app:sekrit@db:5432/x", DATA_DIR: "/srv/data" }),
      `DATABASE_URL is set but not used with STORE=sqlite: the data is in ${path.resolve("/srv/data/enrollment.sqlite")}`
    )
    assert.strictEqual(
      await warning({ STORE: "postgres", DATABASE_URL: "postgres://app:sekrit@db:5432/x", SQLITE_SYNCHRONOUS: "NORMAL", SQLITE_CACHE_ENTRIES: "5", SQLITE_CHECKPOINT_MS: "0" }),
      "SQLITE_SYNCHRONOUS, SQLITE_CACHE_ENTRIES, SQLITE_CHECKPOINT_MS are set but not used with STORE=postgres: the data is in PostgreSQL at db:5432/x, schema public"
    )
    assert.strictEqual(
      await warning({ STORE: "memory", DATABASE_SCHEMA: "s" }),
      "DATABASE_SCHEMA is set but not used with STORE=memory: the data is in memory (lost on exit)"
    )
    // Not read at all, so a bad value does not stop the start either, whichever store (since 0.6.1;
    // before, SQLITE_SYNCHRONOUS=bogus stopped a server on memory, DATABASE_POOL_SIZE=abc did not stop one on SQLite).
    for (const [env, named] of [
      [{ STORE: "memory", SQLITE_SYNCHRONOUS: "bogus", SQLITE_CACHE_ENTRIES: "abc", SQLITE_CHECKPOINT_MS: "x" }, "SQLITE_SYNCHRONOUS, SQLITE_CACHE_ENTRIES, SQLITE_CHECKPOINT_MS"],
      [{ STORE: "postgres", DATABASE_URL: "postgres://db/x", RESPONSE_CACHE_BYTES: "abc" }, "RESPONSE_CACHE_BYTES"],
      [{ STORE: "sqlite", DATABASE_POOL_SIZE: "abc" }, "DATABASE_POOL_SIZE"]
    ] as const) {
      assert.deepStrictEqual(await problemsOf(env), [], JSON.stringify(env))
      assert.match(await warning(env) ?? "", new RegExp(`^${named} (is|are) set but not used with STORE=${env.STORE}`))
    }
    // Where the store reads it, a bad value is refused as ever.
    assert.match((await problemsOf({ STORE: "sqlite", SQLITE_SYNCHRONOUS: "bogus" }))[0]!, /^SQLITE_SYNCHRONOUS: expected FULL or NORMAL/)
    assert.match((await problemsOf({ STORE: "memory", RESPONSE_CACHE_BYTES: "abc" }))[0]!, /^RESPONSE_CACHE_BYTES: expected a whole number/)
    // DATA_DIR also holds the zero-config secret, so it is used whatever the store.
    assert.strictEqual(await warning({ STORE: "memory", DATA_DIR: "/srv/data" }), undefined)
    assert.strictEqual(await warning({}), undefined)
  })
  it("warns when METRICS_HOST is set without METRICS_PORT (the metrics stay off)", async () => {
    const warning = async (env: Record<string, string>) => ServerConfig.metricsHostWarning((await load(env) as any).success)
    assert.strictEqual(
      await warning({ METRICS_HOST: "0.0.0.0" }),
      "METRICS_HOST is set but METRICS_PORT is not: no metrics listener (set METRICS_PORT to serve /metrics on 0.0.0.0)"
    )
    assert.strictEqual(await warning({ METRICS_HOST: "0.0.0.0", METRICS_PORT: "9464" }), undefined)
    assert.strictEqual(await warning({ METRICS_PORT: "" }), undefined)
    assert.strictEqual(await warning({}), undefined)
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
    assert.strictEqual((await fetch(`${s.url}/docs`)).status, 200)
    assert.strictEqual(await s.stop(), 0)
    // A successful probe is logged at debug only, so the first line at info is the page's.
    const line = JSON.parse(s.stdout().trim().split("\n")[0]!)
    assert.deepStrictEqual([line.level, line.method, line.route, line.status], ["info", "GET", "/docs", 200])
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

  it("keeps at most its bound of lines waiting for a reader that stops reading, says once that it drops the rest, and counts them when the reader is back", async () => {
    // A pipe whose reader stalls: nothing is read until `resume`.
    const out = new PassThrough({ highWaterMark: 1024 })
    out.pause()
    const said: Array<string> = []
    const write = RequestLogger.boundedWriter(out, (line, level) => said.push(`${level} ${line}`), 10_000)
    const line = "x".repeat(99)
    for (let i = 0; i < 1_000; i++) write(line)
    assert.isAtMost(out.writableLength, 10_000 + 100, "no more than the bound and one line waits")
    assert.deepStrictEqual(said, [
      "warn request log: standard output's reader is not keeping up (over 10000 bytes waiting): request lines are dropped until it does"
    ])
    // The reader catches up: the next line is written, and the drops are counted once.
    let read = 0
    out.on("data", (chunk: Buffer) => (read += chunk.length))
    out.resume()
    await new Promise((r) => setImmediate(r))
    write("after")
    await new Promise((r) => setImmediate(r))
    assert.strictEqual(said.length, 2)
    assert.match(said[1]!, /^warn request log: standard output's reader keeps up again; (\d+) request lines were dropped$/)
    const dropped = Number(/(\d+) request lines/.exec(said[1]!)![1])
    assert.strictEqual(read, (1_000 - dropped) * 100 + "after\n".length, "every line not dropped was written whole")
  })

  it("logs a defect with each of its causes, PostgreSQL's message and SQLSTATE among them, and no URL's credentials", () => {
    // As the PostgreSQL store's engine error reaches the log: the driver's error, in the reason, in the SqlError.
    const engine = Object.assign(new Error(`relation "s1.assignments" does not exist`), { code: "42P01" })
    const defect = new SqlError({ reason: new SqlSyntaxError({ cause: engine, message: "PgConnection: Query failed" }) })
    const lines: Array<string> = []
    const log = RequestLogger.make({ format: "json", level: "info", write: (l) => lines.push(l) })
    log({ method: "GET", route: "GET /beta/users", status: 500, durationMs: 1, requestId: "r", tenant: "t", defect })
    const logged: string = JSON.parse(lines[0]!).defect
    assert.match(logged, /^effect\/sql\/SqlError: PgConnection: Query failed\ncaused by: effect\/sql\/SqlError\/SqlSyntaxError: PgConnection: Query failed\ncaused by: Error: relation "s1\.assignments" does not exist \(42P01\)\n {4}at /)
    const connect = new Error("could not connect", { cause: new Error("connect to postgres://app:hunter22@db.example/enrollment failed") })
    assert.strictEqual(
      RequestLogger.defectText(connect).split("\n").slice(0, 2).join("\n"),
      "Error: could not connect\ncaused by: Error: connect to postgres://***@db.example/enrollment failed"
    )
    assert.strictEqual(RequestLogger.defectText("the store did not answer"), "the store did not answer")
  })

  it("logs a defect whose causes cannot be written as JSON (a cycle, a BigInt, a getter that throws), cuts a huge one, and hides a password given as a value", () => {
    const cyclic: Record<string, unknown> = { kind: "cyclic" }
    cyclic.self = cyclic
    const throwing = Object.defineProperty({}, "cause", { get: () => { throw new Error("boom") }, enumerable: false })
    const cases: ReadonlyArray<readonly [unknown, RegExp]> = [
      [new Error("failed", { cause: cyclic }), /^Error: failed\ncaused by: <ref \*1> \{ kind: 'cyclic', self: \[Circular \*1\] \}\n/],
      [new Error("failed", { cause: { n: 1n } }), /^Error: failed\ncaused by: \{ n: 1n \}\n/],
      [new Error("failed", { cause: throwing }), /^Error: failed\ncaused by: \{\}\n/],
      [new Error("failed", { cause: { body: "x".repeat(5_000_000) } }), /^Error: failed\ncaused by: \{ body: 'x{1900,2000}/],
      [new Error("connect failed", { cause: new Error("host=db user=app password=hunter22 dbname=e") }), /caused by: Error: host=db user=app password=\*\*\* dbname=e/]
    ]
    for (const [defect, expected] of cases) {
      const lines: Array<string> = []
      RequestLogger.make({ format: "json", level: "info", write: (l) => lines.push(l) })({ method: "GET", route: "GET /beta/users", status: 500, durationMs: 1, requestId: "r", tenant: "t", defect })
      assert.strictEqual(lines.length, 1)
      const logged: string = JSON.parse(lines[0]!).defect
      assert.match(logged, expected)
      assert.isAtMost(logged.length, 16_100)
      assert.notInclude(logged, "hunter22")
    }
  })

  it("logs a successful /health or /ready probe at debug only, and a failing one at its failure's level", () => {
    const logged = (level: "debug" | "info", route: string, status: number) => {
      const lines: Array<string> = []
      RequestLogger.make({ format: "json", level, write: (l) => lines.push(l) })({ method: "GET", route, status, durationMs: 1, requestId: "r", tenant: undefined })
      return lines.map((l) => JSON.parse(l).level)
    }
    assert.deepStrictEqual(logged("info", "/health", 200), [])
    assert.deepStrictEqual(logged("info", "/ready", 200), [])
    assert.deepStrictEqual(logged("debug", "/ready", 200), ["debug"])
    assert.deepStrictEqual(logged("info", "/ready", 503), ["error"])
    assert.deepStrictEqual(logged("info", "GET /beta/users", 200), ["info"])
  })

  it("names the caller in both formats: the connection's address, and the User-Agent and X-Forwarded-For when sent", () => {
    const entry = { method: "GET", route: "GET /beta/users", status: 200, durationMs: 1, requestId: "r", tenant: "t", clientAddress: "10.1.2.3" }
    const lines: Array<string> = []
    const json = RequestLogger.make({ format: "json", level: "info", write: (l) => lines.push(l) })
    json({ ...entry, userAgent: "kiota-typescript/1.0", forwardedFor: "203.0.113.7" })
    json({ ...entry, clientAddress: undefined })
    const [sent, bare] = lines.map((l) => JSON.parse(l))
    assert.strictEqual(sent.client, "10.1.2.3")
    assert.strictEqual(sent.userAgent, "kiota-typescript/1.0")
    assert.strictEqual(sent.forwardedFor, "203.0.113.7")
    assert.strictEqual(bare.client, null, "a socket already closed has no address")
    assert.isFalse("userAgent" in bare || "forwardedFor" in bare, "nothing for what was not sent")
    const pretty: Array<string> = []
    RequestLogger.make({ format: "pretty", level: "info", write: (l) => pretty.push(l) })({ ...entry, userAgent: "a \"quoted\" agent" })
    assert.match(pretty[0]!, / client=10\.1\.2\.3 user-agent="a \\"quoted\\" agent"$/)
    // The client's own id for the request, when it sent one: in both formats.
    json({ ...entry, clientRequestId: "ticket 4711" })
    assert.strictEqual(JSON.parse(lines[2]!).clientRequestId, "ticket 4711")
    assert.isFalse("clientRequestId" in bare)
    RequestLogger.make({ format: "pretty", level: "info", write: (l) => pretty.push(l) })({ ...entry, clientRequestId: "ticket 4711" })
    assert.match(pretty[1]!, / request-id=r client-request-id="ticket 4711" tenant=/)
  })

  it("in the pretty format, writes a tenant that could forge the line's fields as a JSON string, escaped (a token's tid is its signer's)", () => {
    const entry = { method: "GET", route: "GET /beta/users", status: 200, durationMs: 1, requestId: "r", clientAddress: "127.0.0.1" }
    const lines: Array<string> = []
    const pretty = RequestLogger.make({ format: "pretty", level: "info", write: (l) => lines.push(l) })
    const forged = "x 404 0.1ms request-id=0000 tenant=victim client=10.6.6.6 \u2028\u202eevil"
    pretty({ ...entry, tenant: forged })
    pretty({ ...entry, tenant: "0b3e1a52-5f0e-4c36-9a4b-000000000001" })
    assert.strictEqual(lines.length, 2)
    assert.match(lines[0]!, / request-id=r tenant="x 404 0\.1ms request-id=0000 tenant=victim client=10\.6\.6\.6 \\u2028\\u202eevil" client=127\.0\.0\.1$/)
    assert.notMatch(lines[0]!, /[\u2028\u202e]/)
    assert.match(lines[1]!, / tenant=0b3e1a52-5f0e-4c36-9a4b-000000000001 client=127\.0\.0\.1$/, "a GUID as it is")
  })

  it("in the pretty format, names the method once (twice only when it differs from the route's)", () => {
    const line = (method: string, route: string, status: number) => {
      const lines: Array<string> = []
      RequestLogger.make({ format: "pretty", level: "debug", write: (l) => lines.push(l) })({ method, route, status, durationMs: 1, requestId: "r", tenant: "t" })
      return lines[0]!.split(" ").slice(1, 6).filter((w) => w !== "").join(" ")
    }
    assert.strictEqual(line("GET", "GET /beta/users", 429), "WARN GET /beta/users 429")
    assert.strictEqual(line("GET", "unmatched", 404), "WARN GET unmatched 404")
    assert.strictEqual(line("HEAD", "GET /beta/users", 200), "INFO HEAD GET /beta/users")
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
