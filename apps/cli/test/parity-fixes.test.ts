/**
 * Where the two modes answered differently, or a command took what it did not use (CHANGELOG
 * 0.1.1): `--body @file` and `batch FILE` refused a byte order mark that import takes, and took
 * bytes that are not UTF-8 that import refuses; `token` took flags it never reads, and `--data-dir`
 * (with another store), `--token` (local mode) and `--database-schema` (remote mode) were dropped;
 * local mode took a body over the server's limit, which the server refuses with 413. Each case
 * runs the real CLI: against the real server and in local mode on a real SQLite store, compared,
 * or against a `node:http` server of the test's own that counts what it is sent.
 */
import { type ChildProcess, spawnSync } from "node:child_process"
import { writeFileSync } from "node:fs"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Body } from "@enrollment/http-adapter"
import { enrollctl, fileOf, shim, startServer, storeDir, stubServer, tempDir } from "./cli.ts"

/** The real server, and the CLI in each mode: remote against it, local on a SQLite store of its own. */
const bothModes = () => {
  const started: Array<ChildProcess> = []
  const dataDir = tempDir("enrollctl-parity-server-")
  const state = { baseUrl: "", local: "" }
  beforeAll(async () => {
    state.baseUrl = await startServer(dataDir, {}, (c) => started.push(c))
    state.local = await storeDir()
  }, 60_000)
  afterAll(() => {
    for (const c of started) c.kill("SIGTERM")
  })
  /** The global flags of each mode, in tenant `tenant`. */
  const globals = (tenant: string) => ({
    remote: ["--base-url", state.baseUrl, "--data-dir", dataDir, "--tenant", tenant, "-o", "json"],
    local: ["--store", "sqlite", "--data-dir", state.local, "--tenant", tenant, "-o", "json"]
  })
  return {
    globals,
    /** Runs `args` in each mode (in tenant `tenant`), answering each mode's run. */
    modes: (tenant: string) => ({
      remote: (args: ReadonlyArray<string>, options: { readonly input?: string } = {}) => enrollctl([...globals(tenant).remote, ...args], options),
      local: (args: ReadonlyArray<string>, options: { readonly input?: string } = {}) => enrollctl([...globals(tenant).local, ...args], options)
    })
  }
}

const remedy = "save the file as UTF-8 (PowerShell: Out-File -Encoding utf8, or Set-Content -Encoding utf8)"

describe("a file given to --body or batch is read as import reads one", () => {
  const server = bothModes()

  it("takes a byte order mark (UTF-8's, and UTF-16's as PowerShell 5.1 writes) in --body @file, --body - and inline, in both modes alike", async () => {
    const body = (name: string) => JSON.stringify({ displayName: name })
    const utf8Bom = fileOf(`\uFEFF${body("bom file")}`, "body.json")
    const utf16 = fileOf(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(body("utf16 é"), "utf16le")]), "body.json")
    const answers: Record<string, Array<unknown>> = {}
    for (const [mode, run] of Object.entries(server.modes("t-bom"))) {
      answers[mode] = []
      for (const [args, input] of [
        [["--body", `@${utf8Bom}`], undefined],
        [["--body", `@${utf16}`], undefined],
        [["--body", "-"], `\uFEFF${body("bom stdin")}`],
        [["--body", `\uFEFF${body("bom inline")}`], undefined]
      ] as const) {
        const r = await run(["users", "create", "--select", "displayName", ...args], input === undefined ? {} : { input })
        assert.strictEqual(r.code, 0, `${mode}: ${r.stderr}`)
        answers[mode]!.push(r.json())
      }
    }
    assert.deepStrictEqual(answers.remote, [
      { displayName: "bom file" },
      { displayName: "utf16 é" },
      { displayName: "bom stdin" },
      { displayName: "bom inline" }
    ])
    assert.deepStrictEqual(answers.local, answers.remote)
  })

  it("takes a batch file that starts with a byte order mark", async () => {
    const batch = fileOf(`\uFEFF${JSON.stringify({ requests: [{ id: "1", method: "GET", url: "/users" }] })}`, "batch.json")
    const r = await server.modes("t-bom-batch").remote(["batch", batch])
    assert.strictEqual(r.code, 0, r.stderr)
    assert.deepStrictEqual(r.json().map((x: { status: number }) => x.status), [200])
  })

  it("refuses bytes that are not UTF-8 in --body and batch FILE, naming the line and the byte as import does; nothing is written or sent", async () => {
    // José in Windows-1252: é is the one byte E9, on the body's second line.
    const before = "{\n  \"displayName\": \"Jos"
    const latin1 = Buffer.concat([Buffer.from(before, "utf8"), Buffer.from([0xe9]), Buffer.from("\"\n}\n", "utf8")])
    const offset = Buffer.byteLength(before)
    const file = fileOf(latin1, "body.json")
    const answers: Record<string, Array<string>> = {}
    for (const [mode, run] of Object.entries(server.modes("t-latin1"))) {
      const fromFile = await run(["users", "create", "--body", `@${file}`])
      assert.strictEqual(fromFile.code, 2, `${mode}: ${fromFile.stderr}`)
      assert.strictEqual(fromFile.stdout, "")
      assert.strictEqual(fromFile.stderr, `error Usage: --body: line 2: not UTF-8: byte 0xE9 at offset ${offset} of ${file} starts no UTF-8 character; ${remedy}\n`)
      // The same bytes on standard input (the helper writes strings: spawned as import's tests do).
      const globals = server.globals("t-latin1")[mode as "remote" | "local"]
      const fromStdin = spawnSync(process.execPath, [shim, ...globals, "users", "create", "--body", "-"], { input: latin1, encoding: "utf8" })
      assert.strictEqual(fromStdin.status, 2, fromStdin.stderr)
      assert.strictEqual(fromStdin.stderr, `error Usage: --body: line 2: not UTF-8: byte 0xE9 at offset ${offset} of standard input starts no UTF-8 character; ${remedy}\n`)
      const users = await run(["users", "list"])
      assert.deepStrictEqual(users.json(), [], `${mode}: nothing was written`)
      answers[mode] = [fromFile.stderr, fromStdin.stderr]
    }
    assert.deepStrictEqual(answers.local, answers.remote)

    const s = await stubServer()
    try {
      const start = "{\"requests\":[\n{\"id\":\"1\",\"method\":\"GET\",\"url\":\"/users/x"
      const batch = fileOf(Buffer.concat([Buffer.from(start), Buffer.from([0xe9]), Buffer.from("\"}]}")]), "batch.json")
      const r = await enrollctl(["--base-url", s.baseUrl, "--token", "t", "batch", batch])
      assert.strictEqual(r.code, 2, r.stderr)
      assert.strictEqual(r.stderr, `error Usage: line 2: not UTF-8: byte 0xE9 at offset ${start.length} of ${batch} starts no UTF-8 character; ${remedy}\n`)
      assert.deepStrictEqual(s.requests, [], "nothing sent")
    } finally {
      await s.close()
    }
  })

  it("refuses UTF-32 and UTF-16 that does not decode in --body, asking for UTF-8", async () => {
    const run = server.modes("t-utf32").local
    const utf32 = fileOf(Buffer.concat([Buffer.from([0xff, 0xfe, 0, 0]), Buffer.from("{", "utf16le")]), "body.json")
    const r = await run(["users", "create", "--body", `@${utf32}`])
    assert.strictEqual(r.code, 2, r.stderr)
    assert.strictEqual(
      r.stderr,
      `error Usage: --body: cannot read ${utf32}: it is UTF-32 (its byte order mark says so), which enrollctl does not read; save it as UTF-8 (PowerShell: Out-File -Encoding utf8, or Set-Content -Encoding utf8)\n`
    )
    const odd = fileOf(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("{}", "utf16le"), Buffer.from([0x41])]), "body.json")
    const o = await run(["users", "create", "--body", `@${odd}`])
    assert.strictEqual(o.code, 2, o.stderr)
    assert.include(o.stderr, `cannot read ${odd}: it starts as UTF-16LE (its byte order mark) but is not valid UTF-16LE`)
  })
})

describe("a flag that does not apply to the command or the mode is refused; its variable is ignored", () => {
  const doesNotApply = "not apply to token: it mints a token here with the server's secret and prints it alone " +
    "(it sends no request and opens no store); it reads --data-dir, --tenant and --debug"

  it("refuses in token every global flag it does not read, which it took and ignored, and mints nothing", async () => {
    const secretDir = tempDir("enrollctl-parity-secret-")
    writeFileSync(`${secretDir}/auth-secret`, "s".repeat(48))
    const token = (args: ReadonlyArray<string>, env: Record<string, string> = {}) => enrollctl(["--data-dir", secretDir, ...args, "token"], { env })
    const flags = [
      ["--timeout", "5"],
      ["--store", "sqlite"],
      ["--select", "id"],
      ["--base-url", "http://127.0.0.1:8080/beta"],
      ["--token", "abc"],
      ["--database-url", "postgres://postgres@127.0.0.1:5432/x"],
      ["--database-schema", "s"],
      ["--output", "json"]
    ] as const
    for (const [flag, value] of flags) {
      const r = await token([flag, value])
      assert.strictEqual(r.code, 2, `${flag}: ${r.stderr}`)
      assert.strictEqual(r.stdout, "", `${flag}: no token`)
      assert.strictEqual(r.stderr, `error Usage: ${flag} does ${doesNotApply}\n`)
    }
    const three = await token(["--timeout", "5", "--store", "memory", "--select", "id"])
    assert.strictEqual(three.stderr, `error Usage: --store, --timeout and --select do ${doesNotApply}\n`)
    // The variables are ignored, as elsewhere where they do not apply; the flags it reads still work.
    const minted = await token(["--tenant", "t1", "--debug"], {
      ENROLLCTL_TIMEOUT: "5",
      ENROLLCTL_STORE: "memory",
      ENROLLCTL_BASE_URL: "http://127.0.0.1:1/beta",
      ENROLLCTL_DATABASE_SCHEMA: "s",
      ENROLLCTL_OUTPUT: "yaml"
    })
    assert.strictEqual(minted.code, 0, minted.stderr)
    assert.match(minted.stdout, /^[\w-]+\.[\w-]+\.[\w-]+\n$/)
  })

  it("refuses --data-dir with the memory or PostgreSQL store, which it dropped; ignores ENROLLCTL_DATA_DIR there", async () => {
    const dir = tempDir("enrollctl-parity-dir-")
    const applies = "error Usage: --data-dir applies to SQLite (--store sqlite) and to remote mode's token, not to"
    const memory = await enrollctl(["--store", "memory", "--data-dir", dir, "users", "create", "--display-name", "x"])
    assert.strictEqual(memory.code, 2, memory.stderr)
    assert.strictEqual(memory.stdout, "")
    assert.strictEqual(memory.stderr, `${applies} --store memory\n`)
    // Refused before the database is reached: this one does not exist.
    const url = "postgres://postgres@127.0.0.1:5432/nothing-here"
    const postgres = await enrollctl(["--store", "postgres", "--database-url", url, "--data-dir", dir, "users", "list"])
    assert.strictEqual(postgres.code, 2, postgres.stderr)
    assert.strictEqual(postgres.stderr, `${applies} --store postgres\n`)
    const byUrl = await enrollctl(["--database-url", url, "--data-dir", dir, "users", "list"])
    assert.strictEqual(byUrl.stderr, `${applies} PostgreSQL (--database-url)\n`)
    const storeVariable = await enrollctl(["--data-dir", dir, "users", "list"], { env: { ENROLLCTL_STORE: "memory" } })
    assert.strictEqual(storeVariable.code, 2, storeVariable.stderr)
    assert.strictEqual(storeVariable.stderr, `${applies} ENROLLCTL_STORE=memory\n`)
    const variable = await enrollctl(["--store", "memory", "-o", "json", "users", "list"], { env: { ENROLLCTL_DATA_DIR: dir } })
    assert.strictEqual(variable.code, 0, variable.stderr)
    assert.deepStrictEqual(variable.json(), [])
    // Where it applies it still does: SQLite, and remote mode's minted token (the other tests).
    const sqlite = await enrollctl(["--store", "sqlite", "--data-dir", await storeDir(), "-o", "json", "users", "list"])
    assert.strictEqual(sqlite.code, 0, sqlite.stderr)
  })

  it("refuses --token in local mode and --database-schema in remote mode, which each dropped; ignores their variables there", async () => {
    const local = await enrollctl(["--store", "memory", "--token", "abc", "users", "create", "--display-name", "x"])
    assert.strictEqual(local.code, 2, local.stderr)
    assert.strictEqual(local.stdout, "")
    assert.strictEqual(local.stderr, "error Usage: --token applies to remote mode only (--base-url): local mode runs on the store, with no token\n")
    const tokenVariable = await enrollctl(["--store", "memory", "-o", "json", "users", "list"], { env: { ENROLLCTL_TOKEN: "abc" } })
    assert.strictEqual(tokenVariable.code, 0, tokenVariable.stderr)

    const s = await stubServer()
    try {
      const remote = await enrollctl(["--base-url", s.baseUrl, "--token", "t", "--database-schema", "s", "users", "list"])
      assert.strictEqual(remote.code, 2, remote.stderr)
      assert.strictEqual(remote.stderr, "error Usage: --database-schema applies to PostgreSQL only (--database-url), not to remote mode (--base-url)\n")
      const byVariable = await enrollctl(["--token", "t", "--database-schema", "s", "users", "list"], { env: { ENROLLCTL_BASE_URL: s.baseUrl } })
      assert.strictEqual(byVariable.stderr, "error Usage: --database-schema applies to PostgreSQL only (--database-url), not to remote mode (ENROLLCTL_BASE_URL)\n")
      assert.deepStrictEqual(s.requests, [], "nothing sent")
      const schemaVariable = await enrollctl(["--base-url", s.baseUrl, "--token", "t", "-o", "json", "users", "list"], { env: { ENROLLCTL_DATABASE_SCHEMA: "s" } })
      assert.strictEqual(schemaVariable.code, 0, schemaVariable.stderr)
      assert.deepStrictEqual(s.requests, ["GET /beta/users"])
    } finally {
      await s.close()
    }
  })
})

describe("a request body over the server's limit", () => {
  const server = bothModes()
  const limit = Body.defaultLimit

  /**
   * An assign body whose JSON (as both modes count it: what remote mode sends, in UTF-8) is
   * exactly `bytes` long: group targets whose ids hold 'é' (two bytes, one character), the last
   * padded to the byte.
   */
  const assignBody = (bytes: number) => {
    const assignment = (i: number, groupId: string) => ({ id: `a${i}`, target: { "@odata.type": "#microsoft.graph.groupAssignmentTarget", groupId } })
    const items: Array<ReturnType<typeof assignment>> = []
    const size = () => Buffer.byteLength(JSON.stringify({ enrollmentConfigurationAssignments: items }))
    while (size() < bytes - 4000) items.push(assignment(items.length, "é".repeat(1000)))
    items.push(assignment(items.length, ""))
    items[items.length - 1] = assignment(items.length - 1, "x".repeat(bytes - size()))
    const text = JSON.stringify({ enrollmentConfigurationAssignments: items })
    assert.strictEqual(Buffer.byteLength(text), bytes)
    return text
  }

  it("is refused in local mode as the server refuses it (413 RequestEntityTooLarge, exit 2), before anything is read or written; one at the limit is taken by both", async () => {
    const over = fileOf(assignBody(limit + 1), "over.json")
    const atLimit = assignBody(limit)
    const at = fileOf(atLimit, "at.json")
    const DM = ["device-management", "device-enrollment-configurations"]
    const answers: Record<string, Array<{ code: number; stderr: string }>> = {}
    for (const [mode, run] of Object.entries(server.modes("t-limit"))) {
      const made = await run([...DM, "create", "--type", "deviceEnrollmentLimitConfiguration", "--body", "{\"id\":\"c1\"}"])
      assert.strictEqual(made.code, 0, `${mode}: ${made.stderr}`)
      const refused = [
        await run([...DM, "assign", "--device-enrollment-configuration-id", "c1", "--body", `@${over}`]),
        // Before the user is looked up, as the server reads the body first.
        await run(["users", "patch", "--user-id", "nobody", "--body", `@${over}`])
      ]
      for (const r of refused) {
        assert.strictEqual(r.code, 2, `${mode}: ${r.stderr}`)
        assert.strictEqual(r.stderr, `error RequestEntityTooLarge: The request body exceeds the limit of ${limit} bytes\n`, mode)
      }
      const none = await run([...DM, "assignments", "list", "--device-enrollment-configuration-id", "c1"])
      assert.deepStrictEqual(none.json(), [], `${mode}: nothing was assigned`)
      const taken = await run([...DM, "assign", "--device-enrollment-configuration-id", "c1", "--body", `@${at}`])
      assert.strictEqual(taken.code, 0, `${mode}: ${taken.stderr}`)
      const all = await run([...DM, "assignments", "list", "--device-enrollment-configuration-id", "c1", "--select", "id"])
      assert.strictEqual(all.json().length, JSON.parse(atLimit).enrollmentConfigurationAssignments.length, mode)
      answers[mode] = refused.map((r) => ({ code: r.code, stderr: r.stderr }))
    }
    assert.deepStrictEqual(answers.local, answers.remote)
  }, 60_000)
})
