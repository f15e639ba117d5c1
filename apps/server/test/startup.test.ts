/**
 * Starting the server as an operator does: a start that fails says why in one
 * line (the store's own reason, never a password) and exits 1; a bad file
 * setting exits 2 naming it; the server's own lines follow LOG_FORMAT; settings
 * the store does not use are named in one warning; the data directory it makes
 * is its user's only; the token hint names a command that exists.
 */
import * as childProcess from "node:child_process"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as util from "node:util"
import { Effect, Option, Redacted } from "effect"
import { assert, describe, it } from "vitest"
import { App, Reason, Secret, ServerConfig, TlsFiles } from "../src/index.ts"
import { closedPort, runToExit, serverBin, startChild } from "./child.ts"

const execFile = util.promisify(childProcess.execFile)
const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), `server-${prefix}-`))
const config = async (env: Record<string, string>) => Effect.runPromise(ServerConfig.load(env))
/** Lines written to stderr, none of them a stack trace's. */
const lines = (stderr: string) => stderr.trim().split("\n")

/** The server started on PostgreSQL at `127.0.0.1:port`, with a password in its URL, run until it exits. */
const startOnPostgresAt = (port: number) =>
  runToExit(serverBin, {
    PORT: "0",
    STORE: "postgres",
    DATABASE_URL: `postgres://app:sekrit-pass@127.0.0.1:${port}/db`,
    AUTH_HS256_SECRET: "x".repeat(32),
    LOG_FORMAT: "pretty"
  })

describe("a start that fails", () => {
  it("says why the store is unavailable: a SQLite file that is not a database", async () => {
    const dataDir = tmp("corrupt")
    fs.writeFileSync(path.join(dataDir, "enrollment.sqlite"), "this is not a database, and it is long enough for SQLite to read a header from it".repeat(4), { mode: 0o600 })
    const r = await runToExit(serverBin, { PORT: "0", DATA_DIR: dataDir, LOG_FORMAT: "pretty", DATABASE_URL: "" })
    assert.strictEqual(r.code, 1, r.stderr)
    assert.deepStrictEqual(lines(r.stderr), ["cannot start: the store is unavailable: file is not a database"])
  })

  it("says why PostgreSQL cannot be reached, without the password", async () => {
    const port = await closedPort()
    const r = await startOnPostgresAt(port)
    assert.strictEqual(r.code, 1, r.stderr)
    assert.deepStrictEqual(lines(r.stderr), [`cannot start: the store is unavailable: connect ECONNREFUSED 127.0.0.1:${port}`])
  })

  it("names where it went when DATABASE_URL leads to a server that is not PostgreSQL (a review found the address dropped)", async () => {
    const { createServer } = await import("node:http")
    const http = createServer((_, res) => res.end("not PostgreSQL"))
    await new Promise<void>((ok) => http.listen(0, "127.0.0.1", ok))
    const port = (http.address() as { port: number }).port
    try {
      const r = await startOnPostgresAt(port)
      assert.strictEqual(r.code, 1, r.stderr)
      const [line, ...rest] = lines(r.stderr)
      assert.deepStrictEqual(rest, [])
      assert.match(line!, new RegExp(`^cannot start: the store is unavailable: 127\\.0\\.0\\.1:${port} does not answer as a PostgreSQL server does \\(is that the database's host and port\\?\\): `))
      assert.notInclude(line!, "sekrit-pass")
    } finally {
      http.close()
    }
  })

  it("with LOG_FORMAT=json, says it as one JSON line", async () => {
    const dataDir = tmp("corrupt-json")
    fs.writeFileSync(path.join(dataDir, "enrollment.sqlite"), "not a database ".repeat(20), { mode: 0o600 })
    const r = await runToExit(serverBin, { PORT: "0", DATA_DIR: dataDir, LOG_FORMAT: "json", DATABASE_URL: "" })
    assert.strictEqual(r.code, 1, r.stderr)
    const [line, ...rest] = lines(r.stderr).map((l) => JSON.parse(l))
    assert.deepStrictEqual(rest, [])
    assert.deepStrictEqual([line.level, line.msg], ["error", "cannot start: the store is unavailable: file is not a database"])
  })

  it("a DATA_DIR that is a file is a bad setting (exit 2), not a mkdir error", async () => {
    const file = path.join(tmp("file"), "data")
    fs.writeFileSync(file, "")
    const r = await runToExit(serverBin, { PORT: "0", DATA_DIR: file, LOG_FORMAT: "pretty" })
    assert.strictEqual(r.code, 2, r.stderr)
    assert.include(r.stderr, `DATA_DIR: ${file} is not a directory`)
    assert.notInclude(r.stderr, "EEXIST")
  })

  it("a DATA_DIR under /proc says it cannot be made and exits (Node's recursive mkdir loops there for ever)", async () => {
    const dir = `/proc/enrollment-data-${process.pid}/data`
    const r = await runToExit(serverBin, { PORT: "0", DATA_DIR: dir, LOG_FORMAT: "pretty" })
    assert.strictEqual(r.code, 1, r.stderr)
    assert.include(r.stderr, `DATA_DIR ${dir}: cannot be made: no such file or directory`)
  })

  it("a STORE=postgres DATABASE_URL that is not a postgres:// URL is a bad setting (exit 2), never echoed", async () => {
    for (const url of ["notaurl", "mysql://app:sekrit-pass@db/x"]) {
      const r = await runToExit(serverBin, { PORT: "0", STORE: "postgres", DATABASE_URL: url, LOG_FORMAT: "pretty" })
      assert.strictEqual(r.code, 2, r.stderr)
      assert.include(r.stderr, "DATABASE_URL: expected a postgres:// or postgresql:// URL")
      assert.notInclude(r.stderr, "sekrit")
      assert.notInclude(r.stderr, "notaurl")
    }
  })

  it("a STORE=postgres DATABASE_URL with a malformed % escape in its password is a bad setting (exit 2), not an unavailable store", async () => {
    const url = `postgres://postgres:s3cr%ZZetpw@127.0.0.1:${await closedPort()}/test`
    const r = await runToExit(serverBin, { PORT: "0", STORE: "postgres", DATABASE_URL: url, DATA_DIR: tmp("pg-escape"), LOG_FORMAT: "pretty" })
    assert.strictEqual(r.code, 2, r.stderr)
    assert.include(r.stderr, "DATABASE_URL: the password has a malformed percent-encoding")
    assert.notInclude(r.stderr, "s3cr")
  })
})

describe("the reason given", () => {
  it("is the error's message and its innermost cause's, on one line, without a connection URL's password", () => {
    const inner = new Error("password authentication failed for postgres://app:hunter22@db/x\nat line 2")
    const e = Object.assign(new Error("the store is unavailable"), { cause: { message: "PgConnection: Failed to connect", cause: inner } })
    assert.strictEqual(
      Reason.of(e),
      "the store is unavailable: password authentication failed for postgres://***@db/x at line 2"
    )
    const refused = new AggregateError([new Error("connect ECONNREFUSED ::1:5432"), new Error("connect ECONNREFUSED 127.0.0.1:5432")], "")
    assert.strictEqual(Reason.of(Object.assign(new Error("the store is unavailable"), { cause: refused })), "the store is unavailable: connect ECONNREFUSED ::1:5432; connect ECONNREFUSED 127.0.0.1:5432")
    const url = Option.some(Redacted.make("postgres://app:hunter22@db/x"))
    assert.strictEqual(Reason.of(new Error("no: hunter22 postgres://app:hunter22@db/x"), url), "no: *** (DATABASE_URL)")
    // A password given as a parameter is as secret as one in the user part.
    const inQuery = Option.some(Redacted.make("postgres://app@db/x?password=hunter23"))
    assert.strictEqual(Reason.of(new Error("no: hunter23 at postgres://app@db/x?password=hunter23"), inQuery), "no: *** at (DATABASE_URL)")
    assert.strictEqual(Reason.of(new Error("failed for postgresql://other:pw@h/y?sslmode=require&password=p2")), "failed for postgresql://***@h/y?sslmode=require&password=***")
  })
})

describe("bad files", () => {
  it("name TLS_CERT_FILE or TLS_KEY_FILE and the file: garbage, missing, or the two swapped", async () => {
    const dir = tmp("tls")
    const { privateKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" })
    const keyPem = path.join(dir, "key.pem")
    fs.writeFileSync(keyPem, privateKey.export({ type: "pkcs8", format: "pem" }))
    const garbage = path.join(dir, "garbage.pem")
    fs.writeFileSync(garbage, "not a certificate")
    const certLike = path.join(dir, "cert.pem")
    fs.writeFileSync(certLike, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    const problems = async (cert: string, key: string) => {
      const c = await config({ PORT: "0", STORE: "memory", AUTH_HS256_SECRET: "x".repeat(32), TLS_CERT_FILE: cert, TLS_KEY_FILE: key })
      const e = await App.start(c).then((app) => app.stop().then(() => undefined), (e: unknown) => e)
      assert.instanceOf(e, ServerConfig.ConfigInvalid)
      return (e as ServerConfig.ConfigInvalid).problems
    }
    const bad = await problems(garbage, keyPem)
    assert.strictEqual(bad.length, 1, JSON.stringify(bad))
    assert.match(bad[0]!, new RegExp(`^TLS_CERT_FILE: ${garbage} is not a PEM certificate`))
    const swapped = await problems(keyPem, certLike)
    assert.deepStrictEqual(swapped, [
      `TLS_CERT_FILE: ${keyPem} is not a PEM certificate (it holds a private key: are TLS_CERT_FILE and TLS_KEY_FILE swapped?)`,
      `TLS_KEY_FILE: ${certLike} is not a PEM private key (it holds a certificate: are TLS_CERT_FILE and TLS_KEY_FILE swapped?)`
    ])
    const missing = await problems(path.join(dir, "nope.pem"), keyPem)
    assert.deepStrictEqual(missing, [`TLS_CERT_FILE: cannot read ${path.join(dir, "nope.pem")}: no such file or directory`])
  })
})

describe("the TLS certificate's dates", () => {
  it("warn when the certificate has expired or is not valid yet, and say nothing while it is valid", () => {
    const dates = { notBefore: new Date("2026-01-01T00:00:00Z"), notAfter: new Date("2026-03-01T00:00:00Z") }
    assert.strictEqual(
      TlsFiles.validityWarning("/etc/tls/cert.pem", dates, new Date("2026-03-02T00:00:00Z")),
      "TLS_CERT_FILE /etc/tls/cert.pem: the certificate expired at 2026-03-01T00:00:00.000Z; clients will refuse it (renew it, then send SIGHUP)"
    )
    assert.strictEqual(
      TlsFiles.validityWarning("/etc/tls/cert.pem", dates, new Date("2025-12-31T00:00:00Z")),
      "TLS_CERT_FILE /etc/tls/cert.pem: the certificate is not valid before 2026-01-01T00:00:00.000Z; clients will refuse it until then"
    )
    assert.isUndefined(TlsFiles.validityWarning("/etc/tls/cert.pem", dates, new Date("2026-02-01T00:00:00Z")))
  })
})

describe("a start that works", () => {
  it("writes its own lines as JSON with LOG_FORMAT=json, and as text with pretty", async () => {
    for (const format of ["json", "pretty"] as const) {
      const s = await startChild(serverBin, { PORT: "0", DATA_DIR: tmp("format"), STORE: "memory", LOG_FORMAT: format, DATABASE_URL: "postgres://ci@db/x" })
      const code = await s.stop()
      assert.strictEqual(code, 0, `${format}: ${s.stderr()}`)
      const out = lines(s.stderr())
      assert.isAtLeast(out.length, 4, s.stderr())
      if (format === "json") {
        const parsed = out.map((l) => JSON.parse(l))
        assert.deepStrictEqual(parsed.filter((l) => l.level === "warn").map((l) => l.msg), [
          "DATABASE_URL is set but not used with STORE=memory: the data is in memory (lost on exit)"
        ])
        assert.include(parsed.at(-1).msg, "stopped")
        assert.ok(parsed.every((l) => typeof l.time === "string"))
      } else {
        assert.ok(out.every((l) => !l.startsWith("{")), s.stderr())
        assert.include(out, "warning: DATABASE_URL is set but not used with STORE=memory: the data is in memory (lost on exit)")
      }
    }
  })

  it("makes the data directory 0700 and the SQLite file 0600, and leaves a directory it did not make as it is", async () => {
    const parent = tmp("modes")
    const made = path.join(parent, "made", "data")
    const app = await App.start(await config({ PORT: "0", DATA_DIR: made, LOG_LEVEL: "none" }))
    await app.stop()
    assert.strictEqual(fs.statSync(made).mode & 0o777, 0o700)
    for (const f of fs.readdirSync(made)) assert.strictEqual(fs.statSync(path.join(made, f)).mode & 0o777, 0o600, f)
    const own = path.join(parent, "own")
    fs.mkdirSync(own, { mode: 0o750 })
    fs.chmodSync(own, 0o750)
    const again = await App.start(await config({ PORT: "0", DATA_DIR: own, LOG_LEVEL: "none" }))
    await again.stop()
    assert.strictEqual(fs.statSync(own).mode & 0o777, 0o750)
  })

  // A full disk needs a small file system of its own: a tmpfs, which only root may mount.
  const canMount = process.getuid?.() === 0 && (() => {
    const probe = tmp("mount-probe")
    const ok = childProcess.spawnSync("mount", ["-t", "tmpfs", "-o", "size=8k", "tmpfs", probe]).status === 0
    if (ok) childProcess.spawnSync("umount", [probe])
    return ok
  })()
  it.skipIf(!canMount)("a secret that cannot be written (a full disk) leaves no file behind, and the next start makes one", () => {
    const dir = tmp("full")
    childProcess.execFileSync("mount", ["-t", "tmpfs", "-o", "size=8k", "tmpfs", dir])
    try {
      const filler = path.join(dir, "filler")
      try {
        fs.writeFileSync(filler, Buffer.alloc(64 * 1024))
      } catch {
        // full: what the test wants
      }
      const file = path.join(dir, "auth-secret")
      assert.throws(() => Secret.ensure(dir), `${file}: the signing secret could not be written: ENOSPC`)
      assert.deepStrictEqual(fs.readdirSync(dir), ["filler"])
      fs.rmSync(filler)
      const made = Secret.ensure(dir)
      assert.isTrue(made.created)
      assert.strictEqual(fs.readFileSync(file, "utf8"), `${made.secret}\n`)
      assert.strictEqual(Secret.ensure(dir).secret, made.secret)
    } finally {
      childProcess.spawnSync("umount", [dir])
    }
  })

  it("warns when the local signing secret can be read by other users", async () => {
    const dataDir = tmp("secret-mode")
    fs.writeFileSync(path.join(dataDir, "auth-secret"), `${"k".repeat(48)}\n`)
    fs.chmodSync(path.join(dataDir, "auth-secret"), 0o644)
    const said: Array<[string, string | undefined]> = []
    const app = await App.start(await config({ PORT: "0", DATA_DIR: dataDir, STORE: "memory", LOG_LEVEL: "none" }), (line, level) => said.push([line, level]))
    await app.stop()
    const secretFile = path.join(dataDir, "auth-secret")
    assert.deepStrictEqual(said.filter(([, level]) => level === "warn"), [
      [`the local signing secret ${secretFile} has mode 0644: other users can read it and mint tokens; chmod 600 it`, "warn"]
    ])
    fs.chmodSync(secretFile, 0o600)
    const quiet: Array<string | undefined> = []
    const again = await App.start(await config({ PORT: "0", DATA_DIR: dataDir, STORE: "memory", LOG_LEVEL: "none" }), (_, level) => quiet.push(level))
    await again.stop()
    assert.notInclude(quiet, "warn")
  })

  it("warns when every user can read the SQLite store's file (a store made before store-adapter 0.2.9), and not once they cannot", async () => {
    const dataDir = tmp("store-mode")
    const secret = { AUTH_HS256_SECRET: "s".repeat(40) }
    const first = await App.start(await config({ PORT: "0", DATA_DIR: dataDir, STORE: "sqlite", LOG_LEVEL: "none", ...secret }))
    await first.stop()
    const file = path.join(dataDir, "enrollment.sqlite")
    assert.strictEqual(fs.statSync(file).mode & 0o777, 0o600, "a new store is private")
    fs.chmodSync(file, 0o644)
    const said: Array<[string, string | undefined]> = []
    const app = await App.start(await config({ PORT: "0", DATA_DIR: dataDir, STORE: "sqlite", LOG_LEVEL: "none", ...secret }), (line, level) => said.push([line, level]))
    await app.stop()
    assert.deepStrictEqual(said.filter(([, level]) => level === "warn"), [
      [`the store's file ${file} has mode 0644: every user of this machine can read it, and it holds every tenant's data; chmod 600 it (or 640 for a group of your own)`, "warn"]
    ])
    // The group's bits are the operator's: a store a backup group reads is not warned of.
    fs.chmodSync(file, 0o640)
    const quiet: Array<string | undefined> = []
    const again = await App.start(await config({ PORT: "0", DATA_DIR: dataDir, STORE: "sqlite", LOG_LEVEL: "none", ...secret }), (_, level) => quiet.push(level))
    await again.stop()
    assert.notInclude(quiet, "warn")
  })

  it("says what an upgrade of an older release's store did, once (store-adapter 0.6.0's notice)", async () => {
    const dataDir = tmp("upgrade")
    const file = path.join(dataDir, "enrollment.sqlite")
    // A store as releases before store-adapter 0.3.1 left it: schema version 1, an orphan and an id both a user and a group.
    const { SqliteStore } = await import("@enrollment/store-adapter")
    const { DatabaseSync } = await import("node:sqlite")
    const db = new DatabaseSync(file)
    SqliteStore.migrate(db, { through: 1 })
    const row = (table: string, id: string, data: object) =>
      db.prepare(`INSERT INTO ${table} (tenant_id, id, version, data) VALUES ('t', ?, 1, ?)`).run(id, JSON.stringify({ id, ...data }))
    row("users", "x", { "@odata.type": "#microsoft.graph.user" })
    row("groups", "x", { "@odata.type": "#microsoft.graph.group" })
    db.prepare("INSERT INTO memberships (tenant_id, group_id, member_id, member_kind) VALUES ('t', 'gone', 'x', 'user')").run()
    db.close()
    fs.chmodSync(file, 0o600)
    const secret = { AUTH_HS256_SECRET: "s".repeat(40) }
    const said: Array<[string, string | undefined]> = []
    const app = await App.start(await config({ PORT: "0", DATA_DIR: dataDir, STORE: "sqlite", LOG_LEVEL: "none", ...secret }), (line, level) => said.push([line, level]))
    await app.stop()
    const upgrade = said.filter(([line]) => line.startsWith("upgraded the store's schema") || line.includes("both a user and a group"))
    const expected = [
      ["upgraded the store's schema from version 1 to 5 ('orphans removed', 'user principal name keys', 'set counts', 'user principal name keys kept by the store'): removed 1 membership in a group that was not there", "info"],
      ["1 id is both a user and a group, written before store-adapter 0.3.0 (users and groups share one id space since): \"x\" in tenant \"t\"; ", "warn"]
    ]
    assert.deepStrictEqual(upgrade.map(([line, level], i) => [line.slice(0, expected[i]?.[0]?.length), level]), expected)
    const quiet: Array<string> = []
    const again = await App.start(await config({ PORT: "0", DATA_DIR: dataDir, STORE: "sqlite", LOG_LEVEL: "none", ...secret }), (line) => quiet.push(line))
    await again.stop()
    assert.isFalse(quiet.some((line) => line.startsWith("upgraded") || line.includes("both a user and a group")), quiet.join("\n"))
  })

  // Another user than the server's owns the directory: as root, the server runs as nobody (root
  // writes anywhere); otherwise the test's user takes its own write permission away.
  it("without SQLite, reads a local secret that is already there from a directory it cannot write, and serves", async () => {
    const dataDir = tmp("read-only")
    fs.writeFileSync(path.join(dataDir, "auth-secret"), `${"k".repeat(48)}\n`, { mode: 0o400 })
    const root = process.getuid?.() === 0
    const as = root ? { uid: 65534, gid: 65534 } : {}
    if (root) {
      fs.chmodSync(path.dirname(dataDir), 0o755)
      for (const f of [dataDir, path.join(dataDir, "auth-secret")]) fs.chownSync(f, 65534, 65534)
    }
    fs.chmodSync(dataDir, 0o500)
    try {
      for (const store of ["memory", "postgres"].filter((s) => s === "memory" || (process.env.DATABASE_URL ?? "") !== "")) {
        const s = await startChild(
          serverBin,
          { PORT: "0", DATA_DIR: dataDir, STORE: store, DATABASE_SCHEMA: "server_read_only_test", LOG_FORMAT: "pretty", LOG_LEVEL: "none" },
          as
        )
        try {
          assert.strictEqual((await fetch(`${s.url}/ready`)).status, 200, store)
          assert.include(s.stderr(), `using the local signing secret ${dataDir}/auth-secret`)
          assert.strictEqual(await s.stop(), 0, s.stderr())
        } finally {
          s.child.kill("SIGKILL")
        }
      }
      // SQLite writes there: refused, saying why.
      const r = await runToExit(serverBin, { PORT: "0", DATA_DIR: dataDir, LOG_FORMAT: "pretty" }, 20_000, as)
      assert.strictEqual(r.code, 1, r.stderr)
      assert.match(r.stderr, /^cannot start: DATA_DIR .*: permission denied \(the server reads and writes it\)$/m)
    } finally {
      fs.chmodSync(dataDir, 0o700)
    }
  }, 30_000)

  it("hints, with AUTH_AUDIENCE and AUTH_ISSUER over the local secret, at a token command that mints them (else every token is a 401)", async () => {
    const dataDir = tmp("audience")
    const said: Array<string> = []
    const app = await App.start(
      await config({ PORT: "0", DATA_DIR: dataDir, STORE: "memory", LOG_LEVEL: "none", AUTH_AUDIENCE: "api://enrollment it's", AUTH_ISSUER: "https://issuer.example" }),
      (line) => said.push(line)
    )
    try {
      const hint = said.find((l) => l.includes("mint a token with: "))!
      assert.include(hint, "(no AUTH_HS256_SECRET or AUTH_JWKS_URL)")
      assert.match(hint, / --audience 'api:\/\/enrollment it'\\''s' --issuer https:\/\/issuer\.example$/)
      // The CLI the hint names, through this Node, with the hint's claims and without them.
      const cli = fileURLToPath(new URL("../../cli/bin/enrollctl.js", import.meta.url))
      const run = async (claims: ReadonlyArray<string>) =>
        (await execFile(process.execPath, [cli, "token", "--data-dir", dataDir, ...claims])).stdout.trim()
      const status = async (token: string) =>
        (await fetch(`${app.url}/beta/users`, { headers: { authorization: `Bearer ${token}` } })).status
      assert.strictEqual(await status(await run(["--audience", "api://enrollment it's", "--issuer", "https://issuer.example"])), 200)
      assert.strictEqual(await status(await run([])), 401)
    } finally {
      await app.stop()
    }
  })

  it("hints at a token command that exists where it runs (the server's own Node and the CLI's file, no pnpm)", () => {
    // Started by pnpm (`pnpm start`): the operator's shell may have an older node; pnpm runs the CLI on Node 24.
    assert.strictEqual(App.tokenCommand(path.resolve("data"), { npm_config_user_agent: "pnpm/12.4.2 npm/? node/v24.21.0 linux x64" }), "pnpm --silent enrollctl token --data-dir data")
    const hint = (PATH: string) => {
      const saved = process.env.PATH
      process.env.PATH = PATH
      try {
        const command = App.tokenCommand(path.resolve("data"), {})
        const m = /^(\S+) (\S+) token --data-dir (\S+)$/.exec(command)
        assert.ok(m, command)
        assert.ok(fs.existsSync(path.resolve(m[2]!)), command)
        assert.ok(m[2]!.endsWith(path.join("apps", "cli", "bin", "enrollctl.js")), command)
        assert.strictEqual(m[3], "data")
        return m[1]!
      } finally {
        process.env.PATH = saved
      }
    }
    // The PATH's first node is this Node: `node`.
    assert.strictEqual(hint(path.dirname(process.execPath)), "node")
    // Another node first on the PATH (a machine's older Node, which the CLI refuses): this Node's own path.
    const other = tmp("other-node")
    fs.writeFileSync(path.join(other, "node"), "#!/bin/sh\necho v20.0.0\n", { mode: 0o755 })
    const node = hint(`${other}${path.delimiter}${path.dirname(process.execPath)}`)
    assert.notStrictEqual(node, "node")
    assert.strictEqual(fs.realpathSync(path.resolve(node)), fs.realpathSync(process.execPath))
  })
})
