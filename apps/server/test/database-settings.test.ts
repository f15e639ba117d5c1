/**
 * The PostgreSQL store's settings as an operator gives them: `DATABASE_POOL_SIZE` validated and
 * reaching the store's pool (its connections counted under load), `DATABASE_URL`'s
 * `sslmode`, `sslrootcert`, `sslcert` and `sslkey` checked at start (exit 2, naming the
 * parameter, never the password), and a warning when it reaches another machine in plain text.
 */
import { PgClient } from "@effect/sql-pg"
import { Token } from "@enrollment/http-adapter"
import * as PostgresStore from "@enrollment/store-adapter/PostgresStore"
import * as PgLock from "@enrollment/tools/PgLock"
import { Effect, Redacted } from "effect"
import * as Reactivity from "effect/reactivity/Reactivity"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { assert, describe, it } from "vitest"
import { App, ServerConfig } from "../src/index.ts"
import { closedPort, runToExit, serverBin } from "./child.ts"

const load = (env: Record<string, string>) => Effect.runPromise(Effect.result(ServerConfig.load(env)))
const problemsOf = async (env: Record<string, string>): Promise<ReadonlyArray<string>> => {
  const r = await load(env)
  return r._tag === "Failure" ? r.failure.problems : []
}
const postgres = { STORE: "postgres", DATABASE_URL: "postgres://app:sekrit@db/x" }

describe("DATABASE_POOL_SIZE", () => {
  it("is 10 by default and takes a whole number from 1 to 1000", async () => {
    for (const [given, expected] of [[undefined, 10], ["1", 1], ["25", 25], ["1000", 1000]] as const) {
      const r = await load(given === undefined ? postgres : { ...postgres, DATABASE_POOL_SIZE: given })
      assert.strictEqual(r._tag, "Success")
      assert.strictEqual((r as { success: ServerConfig.ServerConfig }).success.databasePoolSize, expected)
    }
  })

  it("refuses anything else with STORE=postgres, one line naming it", async () => {
    for (const [given, got] of [["0", "0"], ["1001", "1001"], ["ten", "\"ten\""], ["1e3", "\"1e3\""], ["-5", "\"-5\""], ["", "an empty value"]] as const) {
      const problems = await problemsOf({ ...postgres, DATABASE_POOL_SIZE: given })
      assert.lengthOf(problems, 1, given)
      assert.match(problems[0]!, new RegExp(`^DATABASE_POOL_SIZE: expected a whole number of connections from 1 to 1000, got ${got.replace(/[()]/g, "\\$&")}`))
    }
  })

  it("is not read with another store, whatever its value, only named in the unused-settings warning (as DATABASE_SCHEMA)", async () => {
    for (const store of ["memory", "sqlite"] as const) {
      for (const given of ["0", "abc", "5000", "1e3", "25"]) {
        const r = await load({ STORE: store, DATA_DIR: "/srv/data", DATABASE_POOL_SIZE: given, DATABASE_SCHEMA: "pg_bad" })
        assert.strictEqual(r._tag, "Success", `${store} ${given}`)
        const config = (r as { success: ServerConfig.ServerConfig }).success
        assert.strictEqual(config.databasePoolSize, 10)
        assert.strictEqual(
          ServerConfig.unusedWarning(config),
          `DATABASE_SCHEMA, DATABASE_POOL_SIZE are set but not used with STORE=${store}: the data is ` +
            (store === "memory" ? "in memory (lost on exit)" : `in ${path.resolve("/srv/data", "enrollment.sqlite")}`)
        )
      }
      // Empty is unset, as for DATABASE_SCHEMA: neither refused nor named.
      const r = await load({ STORE: store, DATABASE_POOL_SIZE: "" })
      assert.strictEqual(r._tag, "Success", store)
      assert.isUndefined(ServerConfig.unusedWarning((r as { success: ServerConfig.ServerConfig }).success))
    }
  })
})

describe("DATABASE_URL's TLS parameters", () => {
  it("stop the start with exit 2 when the store cannot honour them, naming the parameter and never the password", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "server-sslmode-"))
    const cases = [
      ["sslmode=prefer", "DATABASE_URL: sslmode=prefer is not supported (the driver falls back to plain text only after verifying the certificate): use require"],
      ["sslmode=verify-full&sslrootcert=/nowhere/ca.pem", "DATABASE_URL: sslrootcert /nowhere/ca.pem cannot be read (ENOENT)"],
      ["sslmode=require&sslcert=/nowhere/client.crt", "DATABASE_URL: sslcert is given without sslkey: give both"],
      ["sslmode=verify-ca", "DATABASE_URL: sslmode=verify-ca needs sslrootcert naming the server's CA file"],
      ["SSLMODE=verify-full", "DATABASE_URL: SSLMODE is not read: parameter names are lower case (write sslmode)"],
      [
        "sslmode=require&sslcert=/nowhere/client.crt&sslkey=/nowhere/client.key&sslpassword=sekrit-phrase",
        "DATABASE_URL: sslcert /nowhere/client.crt cannot be read (ENOENT)"
      ]
    ] as const
    for (const [query, line] of cases) {
      const r = await runToExit(serverBin, {
        PORT: "0",
        DATA_DIR: dataDir,
        STORE: "postgres",
        DATABASE_URL: `postgres://app:sekrit-pass@127.0.0.1:1/db?${query}`,
        LOG_FORMAT: "pretty"
      })
      assert.strictEqual(r.code, 2, r.stderr)
      assert.include(r.stderr, line)
      assert.notInclude(r.stderr, "sekrit")
    }
  }, 30_000)
})

describe("DATABASE_URL without TLS to another machine", () => {
  const warningOf = (url: string) => {
    const r = PostgresStore.PostgresTls.settingsOf(url)
    if ("problem" in r) throw new Error(r.problem)
    return App.plainTextDatabaseWarning(r.settings)
  }

  it("is warned of, naming the host and suggesting sslmode=verify-full with sslrootcert", () => {
    for (const [url, host] of [
      ["postgres://app:sekrit@db.example.com:5432/x", "db.example.com"],
      ["postgres://app:sekrit@db.example.com/x?sslmode=disable", "db.example.com"],
      ["postgres://app:sekrit@10.0.0.5/x", "10.0.0.5"],
      ["postgres://app:sekrit@[fd00::5]:5432/x", "fd00::5"],
      ["postgres://app:sekrit@localhost/x?host=db.internal", "db.internal"]
    ] as const) {
      const warning = warningOf(url)
      assert.strictEqual(
        warning,
        `DATABASE_URL connects to ${host} without TLS (no sslmode, or sslmode=disable): the connection, its password ` +
          "exchange included, goes over the network in plain text; add sslmode=verify-full with sslrootcert (the " +
          "server's CA file, or system for a CA Node trusts)",
        url
      )
      assert.notInclude(warning!, "sekrit")
    }
  })

  it("is not warned of for a loopback host, a Unix socket, or with TLS", () => {
    for (const url of [
      "postgres://app:sekrit@127.0.0.1:5432/x",
      "postgres://app:sekrit@127.0.0.53/x",
      "postgres://app:sekrit@[::1]:5432/x",
      "postgres://app:sekrit@localhost/x?sslmode=disable",
      "postgres://app:sekrit@LOCALHOST/x",
      "postgres:///x",
      "postgres:///x?host=/var/run/postgresql",
      "postgres://%2Fvar%2Frun%2Fpostgresql/x",
      "postgres://app:sekrit@db.example.com/x?host=",
      "postgres://app:sekrit@db.example.com/x?sslmode=require",
      "postgres://app:sekrit@db.example.com/x?sslmode=verify-full"
    ]) {
      assert.isUndefined(warningOf(url), url)
    }
  })

  /** `App.start` for `url`, its lines as `say` gets them; the start may fail (the database need not be there). */
  const startLines = async (url: string) => {
    const lines: Array<readonly [string, string]> = []
    const config = await Effect.runPromise(ServerConfig.load({
      PORT: "0",
      STORE: "postgres",
      DATABASE_URL: url,
      AUTH_HS256_SECRET: "s".repeat(40),
      LOG_LEVEL: "none"
    }))
    const started = await App.start(config, (line, level = "info") => lines.push([level, line])).then(
      (app) => app.stop(),
      (e: unknown) => e
    )
    return { lines, started }
  }

  it("is said once at start, as a warning, before the store opens (the database is not reached)", async () => {
    // .invalid never resolves (RFC 6761): the store's open fails at once, after the warning.
    const { lines, started } = await startLines("postgres://app:sekrit-pass@db.invalid:5432/x")
    assert.instanceOf(started, Error)
    assert.deepStrictEqual(lines, [["warn", warningOf("postgres://db.invalid/x")!]])
    assert.match(lines[0]![1], /^DATABASE_URL connects to db\.invalid without TLS/)
    assert.notInclude(JSON.stringify(lines), "sekrit")
  }, 30_000)

  it("is not said for a database on this machine", async () => {
    const port = await closedPort()
    for (const host of ["127.0.0.1", "localhost", "[::1]"]) {
      const { lines, started } = await startLines(`postgres://app:sekrit-pass@${host}:${port}/x`)
      assert.instanceOf(started, Error, host)
      assert.deepStrictEqual(lines, [], host)
    }
  }, 30_000)
})

const url = process.env.DATABASE_URL
const secret = "s".repeat(40)
/** A server on PostgreSQL in a schema of its own (named from `prefix`), with `env` beside. */
const serverOnPostgres = async (prefix: string, env: Record<string, string>) => {
  const schema = `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
  const config = await Effect.runPromise(ServerConfig.load({
    PORT: "0",
    STORE: "postgres",
    DATABASE_URL: url!,
    DATABASE_SCHEMA: schema,
    AUTH_HS256_SECRET: secret,
    LOG_LEVEL: "none",
    ...env
  }))
  return { schema, app: await App.start(config) }
}

describe.skipIf(url === undefined || url === "")("DATABASE_POOL_SIZE against PostgreSQL", () => {
  it("is the most connections the server opens, however many requests wait", async () => {
    const { app, schema } = await serverOnPostgres("server_pool", { DATABASE_POOL_SIZE: "3" })
    // The test's own connections: one holds the configurations table locked, so every request
    // takes a connection of the server's and waits in PostgreSQL; the other counts them.
    await Effect.runPromise(Effect.gen(function*() {
      const sql = yield* PgClient.make({ url: Redacted.make(url!), maxConnections: 2 })
      const count = sql.unsafe<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE application_name = '@enrollment/store-adapter' AND wait_event_type = 'Lock' AND query LIKE $1`,
        [`%"${schema}"%`]
      )
      const release = yield* PgLock.holdLocked(sql, `"${schema}".configurations`)
      const answers = Promise.all(Array.from({ length: 12 }, async (_, i) => {
        const token = await Token.mint({ secret, tenant: `tenant-${i}` })
        const r = await fetch(`${app.url}/beta/deviceManagement/deviceEnrollmentConfigurations/c`, {
          headers: { authorization: `Bearer ${token}` }
        })
        return r.status
      }))
      const seen = yield* PgLock.settled(Effect.map(count, ([r]) => Number(r!.n)), (n) => n)
      yield* release
      assert.strictEqual(seen, 3, "connections of the server waiting for the lock")
      // The lock let go, every request is answered (404: no such configuration).
      assert.deepStrictEqual(yield* Effect.promise(() => answers), Array.from({ length: 12 }, () => 404))
      yield* sql.unsafe(`DROP SCHEMA "${schema}" CASCADE`)
    }).pipe(Effect.scoped, Effect.provide(Reactivity.layer), Effect.ensuring(Effect.promise(() => app.stop()))))
  }, 30_000)
})

describe("REQUEST_DEADLINE_MS", () => {
  const config = async (env: Record<string, string>) => {
    const r = await load(env)
    assert.strictEqual(r._tag, "Success", JSON.stringify(r))
    return r._tag === "Success" ? r.success : (undefined as never)
  }
  it("is 60 s on PostgreSQL by default, none on SQLite and memory, and takes a whole number of ms (0: none)", async () => {
    assert.strictEqual(ServerConfig.requestDeadline(await config(postgres)), ServerConfig.defaultPostgresRequestDeadlineMs)
    assert.strictEqual(ServerConfig.defaultPostgresRequestDeadlineMs, 60_000)
    assert.strictEqual(ServerConfig.requestDeadline(await config({ STORE: "sqlite" })), 0)
    assert.strictEqual(ServerConfig.requestDeadline(await config({ STORE: "memory" })), 0)
    assert.strictEqual(ServerConfig.requestDeadline(await config({ ...postgres, REQUEST_DEADLINE_MS: "0" })), 0)
    assert.strictEqual(ServerConfig.requestDeadline(await config({ STORE: "sqlite", REQUEST_DEADLINE_MS: "45000" })), 45_000)
  })

  it("refuses what is not a whole number of ms, and a deadline past what Node's timers hold", async () => {
    for (const bad of ["1e3", "-1", "30s", " 100"]) {
      assert.deepStrictEqual(await problemsOf({ ...postgres, REQUEST_DEADLINE_MS: bad }), [
        `REQUEST_DEADLINE_MS: expected a whole number of milliseconds (0: no deadline), got ${JSON.stringify(bad)}`
      ])
    }
    assert.deepStrictEqual(await problemsOf({ ...postgres, REQUEST_DEADLINE_MS: "2147483648" }), [
      "REQUEST_DEADLINE_MS: expected a whole number of milliseconds (0: no deadline) up to 2147483647 (24.8 days), got 2147483648"
    ])
  })
})

describe.skipIf(url === undefined || url === "")("REQUEST_DEADLINE_MS against PostgreSQL", () => {
  it("answers a request still waiting for a lock at its deadline 503, long before the store's own 30 s", async () => {
    // A fault-injection review: behind a busy pool of one, a request of two calls waited 51.5 s.
    const { app, schema } = await serverOnPostgres("server_deadline", { DATABASE_POOL_SIZE: "1", REQUEST_DEADLINE_MS: "1500" })
    await Effect.runPromise(Effect.gen(function*() {
      const sql = yield* PgClient.make({ url: Redacted.make(url!), maxConnections: 1 })
      const release = yield* PgLock.holdLocked(sql, `"${schema}".configurations`)
      const token = yield* Effect.promise(() => Token.mint({ secret, tenant: "t1" }))
      const began = Date.now()
      const r = yield* Effect.promise(() =>
        fetch(`${app.url}/beta/deviceManagement/deviceEnrollmentConfigurations/c`, { headers: { authorization: `Bearer ${token}` } })
      )
      const took = Date.now() - began
      const body = (yield* Effect.promise(() => r.json())) as { error: { code: string } }
      yield* release
      assert.strictEqual(r.status, 503)
      assert.strictEqual(r.headers.get("retry-after"), "5")
      assert.strictEqual(body.error.code, "ServiceUnavailable")
      assert.isAtLeast(took, 1_400)
      assert.isBelow(took, 10_000, "the request's deadline, not the call's 30 s")
      yield* sql.unsafe(`DROP SCHEMA "${schema}" CASCADE`)
    }).pipe(Effect.scoped, Effect.provide(Reactivity.layer), Effect.ensuring(Effect.promise(() => app.stop()))))
  }, 30_000)
})
