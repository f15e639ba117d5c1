/**
 * Three gaps left after the 0.1.1 fixes (CHANGELOG 0.1.1): `--select` picked columns by the names
 * as typed, though the server reads `$select` names without regard to case (`DisplayName`, a cast's
 * `…/Limit`) and answers with the declared names, so such names printed null; `--database-schema`
 * took values the server refuses as `DATABASE_SCHEMA` (empty, `pg_…`, over 63 bytes); and `import -`
 * read standard input to its end before a usage error of the mode or the flags. Each case runs the
 * real CLI: against the real server and in local mode on a real SQLite store, compared; with a
 * database URL never connected to, and on PostgreSQL (`DATABASE_URL`) in a database of its own; with
 * a standard input left open.
 */
import { PgClient } from "@effect/sql-pg"
import type { ChildProcess } from "node:child_process"
import { rmSync } from "node:fs"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { enrollctl, groupLine, jsonl, startServer, storeDir, tempDir, withOpenInput } from "./cli.ts"

const DM = ["device-management", "device-enrollment-configurations"]

describe("--select names, read as the server's $select reads them", () => {
  const started: Array<ChildProcess> = []
  const dataDir = tempDir("enrollctl-followup-server-")
  const state = { baseUrl: "", local: "" }
  beforeAll(async () => {
    state.baseUrl = await startServer(dataDir, {}, (c) => started.push(c))
    state.local = await storeDir()
    const setup = [
      [...DM, "create", "--type", "deviceEnrollmentLimitConfiguration", "--display-name", "Limit five", "--body", '{"id":"c1","limit":5}'],
      [...DM, "create", "--type", "windowsRestoreDeviceEnrollmentConfiguration", "--display-name", "Restore", "--body", '{"id":"c2"}'],
      [...DM, "assign", "--device-enrollment-configuration-id", "c1", "--body", JSON.stringify({
        enrollmentConfigurationAssignments: [{ id: "a1", target: { "@odata.type": "#microsoft.graph.groupAssignmentTarget", groupId: "g1" } }]
      })],
      ["users", "create", "--body", JSON.stringify({ id: "u1", displayName: "Ada", userPrincipalName: "ada@contoso.com", accountEnabled: true })]
    ]
    for (const mode of ["remote", "local"] as const) {
      for (const args of setup) {
        const r = await at(mode, "-o", "json", ...args)
        if (r.code !== 0) throw new Error(`${mode} ${args.slice(0, 3).join(" ")}: ${r.stderr}`)
      }
    }
  }, 60_000)
  afterAll(async () => {
    await Promise.all(started.map((c) => new Promise((resolve) => c.exitCode !== null ? resolve(null) : (c.once("exit", resolve), c.kill("SIGTERM")))))
    for (const dir of [dataDir, state.local]) if (dir !== "") rmSync(dir, { recursive: true, force: true })
  })
  const at = (mode: "remote" | "local", ...args: ReadonlyArray<string>) =>
    enrollctl([...(mode === "remote" ? ["--base-url", state.baseUrl, "--data-dir", dataDir] : ["--store", "sqlite", "--data-dir", state.local]), ...args])
  /** Runs `args` in both modes: the same output, exit 0, answered once. */
  const same = async (...args: ReadonlyArray<string>) => {
    const remote = await at("remote", ...args)
    const local = await at("local", ...args)
    assert.strictEqual(remote.code, 0, remote.stderr)
    assert.strictEqual(local.code, 0, local.stderr)
    assert.strictEqual(local.stdout, remote.stdout, "both modes print the same")
    return remote
  }
  const cast = "microsoft.graph.deviceEnrollmentLimitConfiguration"

  it("picks a property named in another case, and a cast's property, by its declared name, in both modes alike", async () => {
    const list = await same("-o", "json", ...DM, "list", "--select", `ID,DisplayName,${cast}/Limit`)
    assert.deepStrictEqual(list.json(), [{ id: "c1", displayName: "Limit five", limit: 5 }, { id: "c2", displayName: "Restore", limit: null }])
    const get = await same("-o", "yaml", ...DM, "get", "--device-enrollment-configuration-id", "c1", "--select", `displayname,${cast}/LIMIT`)
    assert.strictEqual(get.stdout, "displayName: Limit five\nlimit: 5\n")
    const table = await same("-o", "table", ...DM, "list", "--select", `id,DISPLAYNAME,${cast}/limit`)
    assert.deepStrictEqual(table.stdout.split("\n").map((l) => l.split(/\s{2,}/)), [["ID", "DISPLAYNAME", "LIMIT"], ["c1", "Limit five", "5"], ["c2", "Restore", "-"], [""]])
    // An assignment's target written for people in a table, whatever the case it is named in.
    const targets = await same("-o", "table", ...DM, "assignments", "list", "--device-enrollment-configuration-id", "c1", "--select", "Id,Target")
    assert.deepStrictEqual(targets.stdout.split("\n").map((l) => l.split(/\s{2,}/)), [["ID", "TARGET"], ["a1", "group g1"], [""]])
    // Lists and gets of other entities, and a write's answer (read by its GET's route).
    const users = await same("-o", "json", "users", "list", "--select", "displayName,USERPRINCIPALNAME")
    assert.deepStrictEqual(users.json(), [{ displayName: "Ada", userPrincipalName: "ada@contoso.com" }])
    const patched = await same("-o", "json", "users", "patch", "--user-id", "u1", "--body", '{"displayName":"Ada L."}', "--select", "DisplayName")
    assert.deepStrictEqual(patched.json(), { displayName: "Ada L." })
  })

  it("prints the server's own answer to the same $select", async () => {
    const token = await enrollctl(["token", "--data-dir", dataDir])
    assert.strictEqual(token.code, 0, token.stderr)
    const res = await fetch(`${state.baseUrl}/deviceManagement/deviceEnrollmentConfigurations?$select=ID,DisplayName,${cast}/Limit`, {
      headers: { authorization: `Bearer ${token.stdout.trim()}` }
    })
    const served = ((await res.json()) as { value: Array<Record<string, unknown>> }).value
    const printed = (await at("remote", "-o", "json", ...DM, "list", "--select", `ID,DisplayName,${cast}/Limit`)).json()
    // The server leaves out what an entity lacks; enrollctl prints it as null. Otherwise the same members.
    assert.deepStrictEqual(printed, served.map((e) => ({ id: e.id, displayName: e.displayName, limit: e.limit ?? null })))
    assert.deepStrictEqual(Object.keys(served[0]!), ["@odata.etag", "@odata.type", "id", "displayName", "limit"])
  })
})

describe("--database-schema, checked as the server checks DATABASE_SCHEMA", () => {
  // Never connected to: a refused schema is a usage error before any store is opened.
  const unreachable = "postgres://enrollctl@127.0.0.1:1/none"
  const expected = "expected a PostgreSQL schema name of 1 to 63 bytes, not information_schema or pg_… (reserved for PostgreSQL), as the server's DATABASE_SCHEMA"

  it("refuses an empty name, pg_… and information_schema, and a name over 63 bytes, from the flag or the variable, exit 2", async () => {
    const cases: ReadonlyArray<readonly [string, string]> = [
      ["", "got an empty name"],
      ["pg_enroll", 'got "pg_enroll"'],
      ["PG_Enroll", 'got "PG_Enroll"'],
      ["information_schema", 'got "information_schema"'],
      ["s".repeat(64), "got a name of 64 bytes (PostgreSQL would cut it to 63)"],
      // 32 characters, 64 bytes of UTF-8.
      ["é".repeat(32), "got a name of 64 bytes (PostgreSQL would cut it to 63)"]
    ]
    for (const [schema, got] of cases) {
      const byFlag = await enrollctl(["--database-url", unreachable, "--database-schema", schema, "users", "list"])
      assert.deepStrictEqual({ code: byFlag.code, stdout: byFlag.stdout, stderr: byFlag.stderr }, {
        code: 2,
        stdout: "",
        stderr: `error Usage: --database-schema: ${expected}; ${got}\n`
      })
      if (schema === "") continue
      const byVariable = await enrollctl(["--database-url", unreachable, "users", "list"], { env: { ENROLLCTL_DATABASE_SCHEMA: schema } })
      assert.strictEqual(byVariable.code, 2, byVariable.stderr)
      assert.strictEqual(byVariable.stderr, `error Usage: ENROLLCTL_DATABASE_SCHEMA: ${expected}; ${got}\n`)
    }
    // import --create too, before its file is read.
    const create = await enrollctl(["--database-url", unreachable, "--database-schema", "", "import", "--create", "-"], { input: "not JSON\n" })
    assert.strictEqual(create.stderr, `error Usage: --database-schema: ${expected}; got an empty name\n`)
  })

  it("takes 63 bytes, and leaves an empty ENROLLCTL_DATABASE_SCHEMA unset, as every empty variable", async () => {
    const long = await enrollctl(["--database-url", unreachable, "--database-schema", "s".repeat(63), "users", "list"])
    assert.strictEqual(long.code, 1, long.stderr)
    assert.match(long.stderr, /^error ServiceUnavailable: cannot open the store /)
    const empty = await enrollctl(["--database-url", unreachable, "users", "list"], { env: { ENROLLCTL_DATABASE_SCHEMA: "" } })
    assert.strictEqual(empty.code, 1, empty.stderr)
    assert.match(empty.stderr, /^error ServiceUnavailable: cannot open the store \(local postgres postgres:\/\/\*\*\*@127\.0\.0\.1:1\/none\)/)
  })

  const url = process.env.DATABASE_URL
  const database = `enrollctl_followup_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
  const made = { database: false }
  /** Runs SQL as the test's own client, on `on`. */
  const direct = <A>(f: (sql: PgClient.PgClient) => Effect.Effect<A, unknown>, on: string) =>
    Effect.runPromise(
      Effect.gen(function*() {
        return yield* f(yield* PgClient.PgClient)
      }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(on), maxConnections: 1 })))
    )
  afterAll(async () => {
    if (made.database) await direct((sql) => sql.unsafe(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`).unprepared, url!)
  })

  it.skipIf(url === undefined || url === "")("makes nothing for a refused schema: import --create --database-schema '' left public empty", async () => {
    await direct((sql) => sql.unsafe(`CREATE DATABASE "${database}"`).unprepared, url!)
    made.database = true
    const own = new URL(url!)
    own.pathname = `/${database}`
    const r = await enrollctl(["--database-url", own.toString(), "--database-schema", "", "import", "--create", "/dev/null"])
    assert.strictEqual(r.code, 2, r.stderr)
    assert.strictEqual(r.stderr, `error Usage: --database-schema: ${expected}; got an empty name\n`)
    const tables = await direct((sql) => sql.unsafe("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"), own.toString())
    assert.deepStrictEqual(tables, [], "no store was made in public")
  })
})

describe("import - and a usage error", () => {
  it("refuses the mode and the flags before reading standard input, which it does not wait for", async () => {
    const cases: ReadonlyArray<readonly [ReadonlyArray<string>, Record<string, string>, string]> = [
      [["--base-url", "http://127.0.0.1:1/beta", "--store", "memory", "import", "-"], {}, "error Usage: the flags name both a base URL (remote mode) and a store (local mode); choose one\n"],
      [["--base-url", "http://127.0.0.1:1/beta", "--token", "abc", "import", "--create", "-"], {}, "error Usage: import --create applies to local mode (--store sqlite or postgres): the server makes its own store\n"],
      [["--store", "memory", "--token", "abc", "import", "-"], {}, "error Usage: --token applies to remote mode only (--base-url): local mode runs on the store, with no token\n"],
      [["--store", "memory", "import", "-"], { ENROLLCTL_OUTPUT: "xml" }, "error Usage: ENROLLCTL_OUTPUT: expected table, json or yaml, got 'xml'\n"]
    ]
    for (const [args, env, stderr] of cases) {
      const r = await withOpenInput(args, env)
      assert.isDefined(r, `${args.join(" ")}: still reading standard input`)
      assert.deepStrictEqual(r, { code: 2, stderr })
    }
  })

  it("still reads standard input to its end when the mode and the flags are right", async () => {
    const r = await withOpenInput(["--store", "memory", "import", "-"], {}, 2_000)
    assert.isUndefined(r, "it waited for the rest of the file")
    const whole = await enrollctl(["--store", "memory", "import", "-"], { input: jsonl([groupLine("g1")]) })
    assert.strictEqual(whole.code, 0, whole.stderr)
    assert.strictEqual(whole.stderr, "imported 1 group(s)\n")
  })
})
