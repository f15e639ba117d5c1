/**
 * The PostgreSQL store's settings as an operator gives them: `DATABASE_POOL_SIZE` validated and
 * reaching the store's pool (its connections counted under load), and `DATABASE_URL`'s
 * `sslmode` and `sslrootcert` checked at start (exit 2, naming the parameter, never the password).
 */
import { Token } from "@enrollment/http-adapter"
import type * as PostgresStore from "@enrollment/store-adapter/PostgresStore"
import { Deferred, Effect, Fiber, Redacted, type Scope } from "effect"
import * as Reactivity from "effect/reactivity/Reactivity"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as os from "node:os"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { assert, describe, it } from "vitest"
import { App, ServerConfig } from "../src/index.ts"
import { runToExit, serverBin } from "./child.ts"

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

  it("is named in the unused-settings warning with another store", async () => {
    const r = await load({ STORE: "memory", DATABASE_POOL_SIZE: "0" })
    assert.strictEqual(r._tag, "Success")
    assert.strictEqual(
      ServerConfig.unusedWarning((r as { success: ServerConfig.ServerConfig }).success),
      "DATABASE_POOL_SIZE is set but not used with STORE=memory: the data is in memory (lost on exit)"
    )
  })
})

describe("DATABASE_URL's TLS parameters", () => {
  it("stop the start with exit 2 when the store cannot honour them, naming the parameter and never the password", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "server-sslmode-"))
    const cases = [
      ["sslmode=prefer", "DATABASE_URL: sslmode=prefer is not supported (the driver falls back to plain text only after verifying the certificate): use require"],
      ["sslmode=verify-full&sslrootcert=/nowhere/ca.pem", "DATABASE_URL: sslrootcert /nowhere/ca.pem cannot be read (ENOENT)"]
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

type PgClient = Parameters<typeof PostgresStore.migrateWith>[0]

/**
 * The driver the store uses (`@effect/sql-pg`, the store-adapter's dependency, not the
 * server's), for the test's own connections beside the server's.
 */
const PgClient = async (): Promise<{
  readonly make: (options: { readonly url: Redacted.Redacted; readonly maxConnections: number }) => Effect.Effect<PgClient, unknown, Scope.Scope | Reactivity.Reactivity>
}> => {
  const storeAdapter = createRequire(import.meta.resolve("@enrollment/store-adapter/PostgresStore"))
  return (await import(pathToFileURL(storeAdapter.resolve("@effect/sql-pg")).href)).PgClient
}

const url = process.env.DATABASE_URL
describe.skipIf(url === undefined || url === "")("DATABASE_POOL_SIZE against PostgreSQL", () => {
  it("is the most connections the server opens, however many requests wait", async () => {
    const schema = `server_pool_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
    const secret = "s".repeat(40)
    const config = await Effect.runPromise(ServerConfig.load({
      PORT: "0",
      STORE: "postgres",
      DATABASE_URL: url!,
      DATABASE_SCHEMA: schema,
      DATABASE_POOL_SIZE: "3",
      AUTH_HS256_SECRET: secret,
      LOG_LEVEL: "none"
    }))
    const { make } = await PgClient()
    const app = await App.start(config)
    // The test's own connections: one holds the configurations table locked, so every request
    // takes a connection of the server's and waits in PostgreSQL; the other counts them.
    await Effect.runPromise(Effect.gen(function*() {
      const sql = yield* make({ url: Redacted.make(url!), maxConnections: 2 })
      const count = sql.unsafe<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE application_name = '@enrollment/store-adapter' AND wait_event_type = 'Lock' AND query LIKE $1`,
        [`%"${schema}"%`]
      )
      // Counted outside the locking transaction: inside one, pg_stat_activity is a snapshot.
      const locked = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const holder = yield* Effect.forkChild(sql.withTransaction(Effect.gen(function*() {
        yield* sql.unsafe(`LOCK TABLE "${schema}".configurations IN ACCESS EXCLUSIVE MODE`)
        yield* Deferred.succeed(locked, undefined)
        yield* Deferred.await(release)
      })))
      yield* Deferred.await(locked)
      const answers = Promise.all(Array.from({ length: 12 }, async (_, i) => {
        const token = await Token.mint({ secret, tenant: `tenant-${i}` })
        const r = await fetch(`${app.url}/beta/deviceManagement/deviceEnrollmentConfigurations/c`, {
          headers: { authorization: `Bearer ${token}` }
        })
        return r.status
      }))
      // Until the number of waiting connections has not grown for 300 ms (10 s at most).
      let seen = -1
      for (let stable = 0, i = 0; stable < 6 && i < 200; i++) {
        const n = Number((yield* count)[0]!.n)
        stable = n === seen && n > 0 ? stable + 1 : 0
        seen = n
        yield* Effect.sleep("50 millis")
      }
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(holder)
      assert.strictEqual(seen, 3, "connections of the server waiting for the lock")
      // The lock let go, every request is answered (404: no such configuration).
      assert.deepStrictEqual(yield* Effect.promise(() => answers), Array.from({ length: 12 }, () => 404))
      yield* sql.unsafe(`DROP SCHEMA "${schema}" CASCADE`)
    }).pipe(Effect.scoped, Effect.provide(Reactivity.layer), Effect.ensuring(Effect.promise(() => app.stop()))))
  }, 30_000)
})
