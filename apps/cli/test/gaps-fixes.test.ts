/**
 * Three gaps left after the refusals of flags that do not apply (CHANGELOG 0.1.1): remote mode
 * dropped `--data-dir` when a token was given; `import` took `--select` and `-o table|yaml`, which
 * export refuses; and PostgreSQL's `StoreNotFound` named `--database-schema` when none was given.
 * Each case runs the real CLI: against a `node:http` server of the test's own that counts what it
 * is sent, on a real SQLite store, or on PostgreSQL (`DATABASE_URL`) in a schema, or a database,
 * of its own.
 */
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Credentials from "@enrollment/store-adapter/Credentials"
import { writeFileSync } from "node:fs"
import { enrollctl, fileOf, jsonl, storeDir, stubServer, tempDir, userLine, pgScratch } from "./cli.ts"

describe("remote mode with a token given", () => {
  const applies = "error Usage: --data-dir applies to SQLite (--store sqlite) and to remote mode's token, not to remote mode with a token given"
  const why = "the data directory is read only to mint a token from the server's secret"

  it("refuses --data-dir, which it dropped, before anything is sent; ignores ENROLLCTL_DATA_DIR there", async () => {
    const s = await stubServer()
    try {
      // A directory that is not there: the command ran all the same, with the token.
      const typo = `${tempDir("enrollctl-gaps-")}/typo`
      const byFlag = await enrollctl(["--base-url", s.baseUrl, "--token", "abc", "--data-dir", typo, "-o", "json", "users", "list"])
      assert.strictEqual(byFlag.code, 2, byFlag.stderr)
      assert.strictEqual(byFlag.stdout, "")
      assert.strictEqual(byFlag.stderr, `${applies} (--token): ${why}; leave out --data-dir, or --token to mint one\n`)
      const byVariable = await enrollctl(["--base-url", s.baseUrl, "--data-dir", typo, "-o", "json", "users", "list"], { env: { ENROLLCTL_TOKEN: "abc" } })
      assert.strictEqual(byVariable.code, 2, byVariable.stderr)
      assert.strictEqual(byVariable.stderr, `${applies} (ENROLLCTL_TOKEN): ${why}; leave out --data-dir, or unset ENROLLCTL_TOKEN to mint one\n`)
      // Every command that sends: an import's writes, a batch, an export.
      const importing = await enrollctl(["--base-url", s.baseUrl, "--token", "abc", "--data-dir", typo, "import", "-"], { input: jsonl([userLine("u1")]) })
      assert.strictEqual(importing.code, 2, importing.stderr)
      assert.include(importing.stderr, applies)
      const exporting = await enrollctl(["--base-url", s.baseUrl, "--token", "abc", "--data-dir", typo, "export"])
      assert.strictEqual(exporting.code, 2, exporting.stderr)
      assert.include(exporting.stderr, applies)
      assert.deepStrictEqual(s.requests, [], "nothing sent")

      // The variable is ignored with a token, as the other variables are where they do not apply.
      const variable = await enrollctl(["--base-url", s.baseUrl, "--token", "abc", "-o", "json", "users", "list"], { env: { ENROLLCTL_DATA_DIR: typo } })
      assert.strictEqual(variable.code, 0, variable.stderr)
      assert.deepStrictEqual(variable.json(), [])
      // Without a token it still applies: the token is minted from its secret.
      const secretDir = tempDir("enrollctl-gaps-secret-")
      writeFileSync(`${secretDir}/auth-secret`, "s".repeat(48))
      const minted = await enrollctl(["--base-url", s.baseUrl, "--data-dir", secretDir, "-o", "json", "users", "list"])
      assert.strictEqual(minted.code, 0, minted.stderr)
      assert.deepStrictEqual(s.requests, ["GET /beta/users", "GET /beta/users"])
      assert.deepStrictEqual(s.authorized, [true, true], "each with the token given")
    } finally {
      await s.close()
    }
  })
})

describe("import", () => {
  const file = () => fileOf(jsonl([userLine("u1")]))

  it("refuses --select and -o table|yaml, which export refuses, before reading the file; writes nothing, sends nothing", async () => {
    const dir = await storeDir()
    const runs = [
      await enrollctl(["--store", "sqlite", "--data-dir", dir, "--select", "id", "import", file()]),
      await enrollctl(["--store", "sqlite", "--data-dir", dir, "-o", "table", "import", file()]),
      await enrollctl(["--store", "sqlite", "--data-dir", dir, "--output", "yaml", "import", file()]),
      // Standard input is not read: the refusal comes first.
      await enrollctl(["--store", "sqlite", "--data-dir", dir, "--select", "id", "import", "-"], { input: "not JSON\n" })
    ]
    for (const r of runs) {
      assert.strictEqual(r.code, 2, r.stderr)
      assert.strictEqual(r.stdout, "")
    }
    assert.strictEqual(runs[0]!.stderr, "error Usage: --select does not apply to import: it prints no records, only what it imported, on standard error\n")
    assert.strictEqual(runs[1]!.stderr, "error Usage: -o table does not apply to import: it prints no answer to format, only what it imported, on standard error\n")
    assert.strictEqual(runs[2]!.stderr, "error Usage: -o yaml does not apply to import: it prints no answer to format, only what it imported, on standard error\n")
    assert.strictEqual(runs[3]!.stderr, runs[0]!.stderr)
    const exported = await enrollctl(["--store", "sqlite", "--data-dir", dir, "export"])
    assert.strictEqual(exported.stdout, "", "nothing was imported")

    const s = await stubServer()
    try {
      const remote = await enrollctl(["--base-url", s.baseUrl, "--token", "abc", "--select", "id", "import", file()])
      assert.strictEqual(remote.code, 2, remote.stderr)
      assert.strictEqual(remote.stderr, runs[0]!.stderr)
      assert.deepStrictEqual(s.requests, [], "nothing sent")
    } finally {
      await s.close()
    }
  })

  it("prints the same with -o json, the format of its lines, and with ENROLLCTL_OUTPUT, as export does", async () => {
    const runs = [
      await enrollctl(["--store", "memory", "import", file()]),
      await enrollctl(["--store", "memory", "-o", "json", "import", file()]),
      await enrollctl(["--store", "memory", "import", file()], { env: { ENROLLCTL_OUTPUT: "yaml" } })
    ]
    for (const r of runs) {
      assert.strictEqual(r.code, 0, r.stderr)
      assert.deepStrictEqual({ stdout: r.stdout, stderr: r.stderr }, { stdout: "", stderr: "imported 1 user(s)\n" })
    }
  })
})

const url = process.env.DATABASE_URL
const enabled = url !== undefined && url !== ""

describe.skipIf(!enabled)("a PostgreSQL store that is not there", () => {
  const { schema, database, direct, fresh, made, drop } = pgScratch(url!, "gaps")

  afterAll(drop)

  it("names --database-schema, or its variable, as it was given, with the schema", async () => {
    const byFlag = await enrollctl(["--database-url", url!, "--database-schema", schema, "users", "list"])
    assert.strictEqual(byFlag.code, 2, byFlag.stderr)
    assert.strictEqual(
      byFlag.stderr,
      `error StoreNotFound: no store in schema '${schema}' (local postgres ${Credentials.redactUrls(url!)} schema ${schema}; --database-schema ${schema}): ` +
        `the server creates it on its first start with DATABASE_SCHEMA=${schema}, and enrollctl only by import --create FILE\n`
    )
    const byVariable = await enrollctl(["--database-url", url!, "users", "list"], { env: { ENROLLCTL_DATABASE_SCHEMA: schema } })
    assert.strictEqual(byVariable.code, 2, byVariable.stderr)
    assert.include(byVariable.stderr, `schema ${schema}; ENROLLCTL_DATABASE_SCHEMA=${schema}): the server creates it on its first start with DATABASE_SCHEMA=${schema},`)
    const schemas = await direct((sql) => sql.unsafe("SELECT 1 FROM information_schema.schemata WHERE schema_name = $1", [schema]))
    assert.strictEqual(schemas.length, 0, "no schema was made")
  })

  it("says public is the default when no schema was given, and where a server's DATABASE_SCHEMA puts the store; does not name --database-schema as given", async () => {
    // A database of its own: its public schema holds no store, whatever other tests put in DATABASE_URL's.
    await direct((sql) => sql.unsafe(`CREATE DATABASE "${database}"`).unprepared)
    made.database = true
    const r = await enrollctl(["--database-url", fresh(), "users", "list"])
    assert.strictEqual(r.code, 2, r.stderr)
    assert.strictEqual(
      r.stderr,
      `error StoreNotFound: no store in schema 'public' (local postgres ${Credentials.redactUrls(fresh())}; ` +
        `the default schema: no --database-schema or ENROLLCTL_DATABASE_SCHEMA given): the server creates it on its first start without ` +
        `DATABASE_SCHEMA, and enrollctl only by import --create FILE; for a server started with DATABASE_SCHEMA=S, pass --database-schema S\n`
    )
    const tables = await direct((sql) => sql.unsafe("SELECT 1 FROM information_schema.tables WHERE table_schema = 'public'"), fresh())
    assert.strictEqual(tables.length, 0, "nothing was made")
  })
})
