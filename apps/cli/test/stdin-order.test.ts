/**
 * `--body -` and `--body @file` on the ordinary commands were read before the mode and its flags
 * were checked: a usage error there (a base URL and a store both named, `--token` in local mode)
 * waited for standard input to end, and then the body's JSON error was printed instead of it.
 * `import` also read its input before finding a missing SQLite store, or remote mode's missing
 * secret; then the ordinary commands read their body before finding a missing store (SQLite, or a
 * PostgreSQL schema), remote mode's missing secret, a malformed `--if-match` or a `--select` the
 * route refuses, and `import` before finding a PostgreSQL schema that holds no store. Each case
 * runs the real CLI with a standard input left open (or a FIFO no one writes), against a stub
 * server that counts what it is sent, a real SQLite store, or PostgreSQL (`DATABASE_URL`) in a
 * schema, or a database, of its own.
 */
import { execFileSync } from "node:child_process"
import * as path from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as Credentials from "@enrollment/store-adapter/Credentials"
import { enrollctl, jsonl, storeDir, stubServer, tempDir, userLine, withOpenInput, pgScratch } from "./cli.ts"

/** Each command of `cases` ends with its usage error (exit 2) while its body is still unread (standard input left open). */
const refusedBeforeReading = async (cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]>) => {
  for (const [args, stderr] of cases) {
    const r = await withOpenInput(args)
    assert.isDefined(r, `${args.join(" ")}: still reading its body`)
    assert.deepStrictEqual(r, { code: 2, stderr }, args.join(" "))
  }
}

describe("the mode and the flags, checked before the body or the import file is read", () => {
  let stub: Awaited<ReturnType<typeof stubServer>>
  beforeAll(async () => {
    stub = await stubServer()
  })
  afterAll(() => stub.close())

  it("refuses a usage error of the mode or the flags at once, before reading --body - or --body @file", async () => {
    const fifo = path.join(tempDir("enrollctl-stdin-order-"), "body.json")
    execFileSync("mkfifo", [fifo])
    const both = "error Usage: the flags name both a base URL (remote mode) and a store (local mode); choose one\n"
    const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
      [["--base-url", stub.baseUrl, "--store", "memory", "users", "create", "--body", "-"], both],
      [["--base-url", stub.baseUrl, "--store", "memory", "groups", "create", "--body", `@${fifo}`], both],
      [
        ["--store", "memory", "--token", "abc", "users", "patch", "--user-id", "u1", "--body", "-"],
        "error Usage: --token applies to remote mode only (--base-url): local mode runs on the store, with no token\n"
      ],
      [
        ["--store", "memory", "--timeout", "5", "device-management", "device-enrollment-configurations", "assign", "--device-enrollment-configuration-id", "c1", "--body", "-"],
        "error Usage: --timeout applies to remote mode only (--base-url): local mode sends no requests\n"
      ],
      [
        ["--store", "memory", "--data-dir", "x", "device-management", "device-enrollment-configurations", "assignments", "create", "--device-enrollment-configuration-id", "c1", "--body", "-"],
        "error Usage: --data-dir applies to SQLite (--store sqlite) and to remote mode's token, not to --store memory\n"
      ]
    ]
    await refusedBeforeReading(cases)
    assert.deepStrictEqual(stub.requests, [], "nothing was sent")
  })

  it("refuses import's missing SQLite store, and remote mode's missing secret, before reading the file", async () => {
    const dir = tempDir("enrollctl-stdin-order-")
    const missing = await withOpenInput(["--store", "sqlite", "--data-dir", path.join(dir, "typo"), "import", "-"])
    assert.isDefined(missing, "import waited for standard input before finding no store")
    assert.strictEqual(missing!.code, 2, missing!.stderr)
    assert.match(missing!.stderr, /^error StoreNotFound: no store at .*typo\/enrollment\.sqlite/)
    const noSecret = await withOpenInput(["--base-url", stub.baseUrl, "--data-dir", dir, "import", "-"])
    assert.isDefined(noSecret, "import waited for standard input before finding no secret")
    assert.strictEqual(noSecret!.code, 5, noSecret!.stderr)
    assert.match(noSecret!.stderr, /^error SecretUnavailable: no token: pass --token .*auth-secret: ENOENT\)\n$/)
    assert.deepStrictEqual(stub.requests, [], "nothing was sent")
  })

  it("refuses a missing SQLite store, and remote mode's missing secret, before reading --body - or --body @file", async () => {
    const dir = tempDir("enrollctl-stdin-order-")
    const fifo = path.join(dir, "body.json")
    execFileSync("mkfifo", [fifo])
    const typo = path.join(dir, "typo")
    const stores: ReadonlyArray<ReadonlyArray<string>> = [
      ["--store", "sqlite", "--data-dir", typo, "users", "create", "--body", "-"],
      ["--store", "sqlite", "--data-dir", typo, "groups", "create", "--body", `@${fifo}`],
      ["--data-dir", typo, "device-management", "device-enrollment-configurations", "assign", "--device-enrollment-configuration-id", "c1", "--body", "-"]
    ]
    for (const args of stores) {
      const r = await withOpenInput(args, args[0] === "--data-dir" ? { ENROLLCTL_STORE: "sqlite" } : {})
      assert.isDefined(r, `${args.join(" ")}: still reading its body`)
      assert.strictEqual(r!.code, 2, r!.stderr)
      assert.match(r!.stderr, /^error StoreNotFound: no store at .*typo\/enrollment\.sqlite \(--data-dir .*typo\): the server creates it/)
    }
    const secrets: ReadonlyArray<ReadonlyArray<string>> = [
      ["--base-url", stub.baseUrl, "--data-dir", dir, "users", "patch", "--user-id", "u1", "--body", "-"],
      ["--base-url", stub.baseUrl, "--data-dir", dir, "groups", "members", "ref", "create", "--group-id", "g1", "--body", `@${fifo}`]
    ]
    for (const args of secrets) {
      const r = await withOpenInput(args)
      assert.isDefined(r, `${args.join(" ")}: still reading its body`)
      assert.strictEqual(r!.code, 5, r!.stderr)
      assert.match(r!.stderr, /^error SecretUnavailable: no token: pass --token .*auth-secret: ENOENT\)\n$/)
    }
    assert.deepStrictEqual(stub.requests, [], "nothing was sent")
  })

  it("refuses a malformed --if-match, or a --select the route does not take, before reading the body", async () => {
    const fifo = path.join(tempDir("enrollctl-stdin-order-"), "body.json")
    execFileSync("mkfifo", [fifo])
    const header = (where: string) =>
      `error Usage: --if-match: expected an ETag (W/"…") or *, which an HTTP header can carry; this one holds ${where}\n`
    const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
      [["--store", "memory", "users", "patch", "--user-id", "u1", "--if-match", 'W/"a\nb"', "--body", "-"], header("a line break (U+000A) at index 4")],
      [
        ["--base-url", stub.baseUrl, "--token", "t", "device-management", "device-enrollment-configurations", "patch", "--device-enrollment-configuration-id", "c1", "--if-match", "W/\"\u00e9\u20ac\"", "--body", `@${fifo}`],
        header("a character beyond U+00FF (U+20AC) at index 4")
      ],
      [
        ["--base-url", stub.baseUrl, "--token", "t", "--select", "id,bogus", "groups", "create", "--body", "-"],
        "error BadRequest: $select: 'bogus' is not a property of this resource\n"
      ],
      [
        ["--store", "memory", "--select", "limit", "device-management", "device-enrollment-configurations", "assignments", "create", "--device-enrollment-configuration-id", "c1", "--body", `@${fifo}`],
        "error BadRequest: $select: 'limit' is not a property of this resource\n"
      ]
    ]
    await refusedBeforeReading(cases)
    assert.deepStrictEqual(stub.requests, [], "nothing was sent")
  })

  it("refuses a missing required --body, or --target-type none with a target's property, before opening the store or checking the secret", async () => {
    // No store at `typo`, no secret in `dir`: the usage mistake is named, not the missing store or secret.
    const dir = tempDir("enrollctl-stdin-order-")
    const typo = path.join(dir, "typo")
    const C = ["device-management", "device-enrollment-configurations"]
    const required =
      `error Usage: --body is required: the assign action replaces every assignment of the configuration with {"enrollmentConfigurationAssignments":[…]} (an empty array clears the set)\n`
    const none = (flags: string) =>
      `error Usage: --target-type none removes the target, so ${flags} would be dropped: give the target's type (e.g. --target-type group), or leave ${
        flags.includes(",") ? "them" : "it"
      } out\n`
    const local = ["--store", "sqlite", "--data-dir", typo]
    const remote = ["--base-url", stub.baseUrl, "--data-dir", dir]
    const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
      [[...local, ...C, "assign", "--device-enrollment-configuration-id", "c1"], required],
      [[...remote, ...C, "assign", "--device-enrollment-configuration-id", "c1"], required],
      [[...local, ...C, "assignments", "create", "--device-enrollment-configuration-id", "c1", "--target-type", "none", "--group-id", "g"], none("--group-id")],
      [
        [...remote, ...C, "assignments", "patch", "--device-enrollment-configuration-id", "c1", "--enrollment-configuration-assignment-id", "a1", "--target-type", "none", "--group-id", "g", "--collection-id", "k", "--body", "-"],
        none("--group-id, --collection-id")
      ],
      [
        [...local, "users", "device-enrollment-configurations", "assignments", "create", "--user-id", "u1", "--device-enrollment-configuration-id", "c1", "--target-type", "none", "--collection-id", "k", "--body", "-"],
        none("--collection-id")
      ]
    ]
    await refusedBeforeReading(cases)
    assert.deepStrictEqual(stub.requests, [], "nothing was sent")
  })

  it("refuses import's database out of reach before reading the file, without its password", async () => {
    const r = await withOpenInput(["--database-url", "postgres://operator:s3cret@127.0.0.1:1/none", "import", "-"])
    assert.isDefined(r, "import waited for standard input before finding no database")
    assert.strictEqual(r!.code, 1, r!.stderr)
    assert.match(r!.stderr, /^error ServiceUnavailable: cannot open the store \(local postgres postgres:\/\/\*\*\*@127\.0\.0\.1:1\/none\): .*ECONNREFUSED/)
    assert.notInclude(r!.stderr, "s3cret")
  })

  it("still reads --body - to its end in local mode, the store opened first, and writes it", async () => {
    const dir = await storeDir()
    const args = ["--store", "sqlite", "--data-dir", dir, "-o", "json", "users", "create", "--body", "-"]
    const waiting = await withOpenInput(args, {}, 1_500)
    assert.isUndefined(waiting, "it waited for the rest of the body")
    const r = await enrollctl(args, { input: '{"id":"u1","displayName":"Ada","userPrincipalName":"ada@contoso.com"}' })
    assert.strictEqual(r.code, 0, r.stderr)
    const list = await enrollctl(["--store", "sqlite", "--data-dir", dir, "-o", "json", "--select", "id", "users", "list"])
    assert.deepStrictEqual(list.json(), [{ id: "u1" }])
  })

  it("still reads --body - to its end, and sends it, when the mode and the flags are right", async () => {
    const waiting = await withOpenInput(["--base-url", stub.baseUrl, "--token", "t", "groups", "create", "--body", "-"], {}, 1_500)
    assert.isUndefined(waiting, "it waited for the rest of the body")
    const r = await enrollctl(["--base-url", stub.baseUrl, "--token", "t", "-o", "json", "groups", "create", "--body", "-"], {
      input: '{"displayName":"G"}'
    })
    assert.strictEqual(r.code, 0, r.stderr)
    assert.deepStrictEqual(stub.requests, ["POST /beta/groups"])
  })
})

const url = process.env.DATABASE_URL
const enabled = url !== undefined && url !== ""

describe.skipIf(!enabled)("a PostgreSQL schema without a store, found before the body or the import file is read", () => {
  const { schema, database, direct, fresh, made, drop } = pgScratch(url!, "stdin")
  const schemaMade = async () =>
    (await direct((sql) => sql.unsafe("SELECT 1 FROM information_schema.schemata WHERE schema_name = $1", [schema]))).length > 0

  afterAll(drop)

  it("refuses import's and a command's schema without a store before reading; import --create reads, then makes it", async () => {
    const notFound = `error StoreNotFound: no store in schema '${schema}' (local postgres ${Credentials.redactUrls(url!)} schema ${schema}; ` +
      `--database-schema ${schema}): the server creates it on its first start with DATABASE_SCHEMA=${schema}, and enrollctl only by import --create FILE\n`
    const at = ["--database-url", url!, "--database-schema", schema]
    for (const args of [[...at, "import", "-"], [...at, "users", "create", "--body", "-"]]) {
      const r = await withOpenInput(args)
      assert.isDefined(r, `${args.slice(4).join(" ")}: still reading its input`)
      assert.deepStrictEqual(r, { code: 2, stderr: notFound }, args.slice(4).join(" "))
    }
    // import --create waits for its input, and makes nothing before it has checked it.
    const waiting = await withOpenInput([...at, "import", "--create", "-"], {}, 1_500)
    assert.isUndefined(waiting, "import --create waited for its input")
    assert.isFalse(await schemaMade(), "nothing was made before the input was read")
    const create = await enrollctl([...at, "import", "--create", "-"], { input: jsonl([userLine("u1")]) })
    assert.deepStrictEqual({ code: create.code, stderr: create.stderr }, { code: 0, stderr: "imported 1 user(s)\n" })
    const list = await enrollctl([...at, "-o", "json", "--select", "id", "users", "list"])
    assert.deepStrictEqual(list.json(), [{ id: "u1" }])
  })

  it("names an empty ENROLLCTL_DATABASE_SCHEMA, which counts as unset as the server's DATABASE_SCHEMA, when public holds no store", async () => {
    // A database of its own: its public schema holds no store, whatever other tests put in DATABASE_URL's.
    await direct((sql) => sql.unsafe(`CREATE DATABASE "${database}"`).unprepared)
    made.database = true
    const r = await withOpenInput(["--database-url", fresh(), "users", "create", "--body", "-"], { ENROLLCTL_DATABASE_SCHEMA: "" })
    assert.isDefined(r, "still reading its body")
    assert.deepStrictEqual(r, {
      code: 2,
      stderr: `error StoreNotFound: no store in schema 'public' (local postgres ${Credentials.redactUrls(fresh())}; the default schema: ` +
        `ENROLLCTL_DATABASE_SCHEMA is empty, which counts as unset, as the server's DATABASE_SCHEMA does): the server creates it on its ` +
        `first start without DATABASE_SCHEMA, and enrollctl only by import --create FILE; for a server started with DATABASE_SCHEMA=S, pass --database-schema S\n`
    })
    // The flag, given, wins over the empty variable, and is named.
    const flag = await enrollctl(["--database-url", fresh(), "--database-schema", "public", "users", "list"], { env: { ENROLLCTL_DATABASE_SCHEMA: "" } })
    assert.strictEqual(flag.code, 2, flag.stderr)
    assert.include(flag.stderr, "; --database-schema public): the server creates it on its first start with DATABASE_SCHEMA=public,")
  })
})
