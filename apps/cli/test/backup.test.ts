/**
 * `enrollctl backup FILE` on real files, against the real server (apps/server) on SQLite writing
 * all the while: the copy holds every write acknowledged before the backup began, passes SQLite's
 * integrity check and opens as a store in local mode; the server answers throughout; an existing
 * FILE is replaced only with --force; PostgreSQL and remote mode are refused; a directory that
 * cannot be written fails with nothing left in it.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process"
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { DatabaseSync } from "node:sqlite"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as SqliteStore from "@enrollment/store-adapter/SqliteStore"
import { enrollctl, serverMain, shim, startServer, storeDir, tempDir } from "./cli.ts"

const available = existsSync(serverMain)
if (!available) console.log(`SKIPPED backup tests: ${serverMain} does not exist yet`)

const dataDir = tempDir("enrollctl-backup-server-")
let server: ChildProcess | undefined
let baseUrl = ""
let token = ""

/** `enrollctl --store sqlite --data-dir DIR …` (the server's data directory unless said). */
const local = (args: ReadonlyArray<string>, dir = dataDir) => enrollctl(["--store", "sqlite", "--data-dir", dir, ...args])

/** A Graph request to the server, as a client sends it. */
const request = (method: string, url: string, body?: unknown) =>
  fetch(`${baseUrl}${url}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })

/** The users of the store in `dir` (a data directory), read by enrollctl in local mode: id to displayName. */
const usersIn = async (dir: string): Promise<Map<string, string>> => {
  const r = await local(["users", "list", "-o", "json", "--select", "id,displayName"], dir)
  assert.strictEqual(r.code, 0, r.stderr)
  return new Map(r.json<Array<{ id: string; displayName: string }>>().map((u) => [u.id, u.displayName]))
}

const integrity = (file: string): ReadonlyArray<unknown> => {
  const db = new DatabaseSync(file, { readOnly: true })
  try {
    return db.prepare("PRAGMA integrity_check").all().map((r) => Object.values(r)[0])
  } finally {
    db.close()
  }
}

describe.skipIf(!available)("backup of the SQLite store the server writes", () => {
  beforeAll(async () => {
    baseUrl = await startServer(dataDir, {}, (c) => (server = c))
    const t = await enrollctl(["token", "--data-dir", dataDir, "--expires-in", "1h"])
    assert.strictEqual(t.code, 0, t.stderr)
    token = t.stdout.trim()
  })
  afterAll(() => {
    server?.kill("SIGTERM")
  })

  it("copies every write acknowledged before it began, while the server goes on writing and answering", async () => {
    // Writers: each creates its users, then renames them again and again (PATCH), recording what was acknowledged.
    const acknowledged = new Map<string, { n: number; at: number }>()
    const failures: Array<string> = []
    const latencies: Array<{ at: number; ms: number }> = []
    let stop = false
    const writer = async (w: number) => {
      for (let round = 0; !stop; round++) {
        const id = `w${w}-${round % 25}`
        const n = Math.floor(round / 25)
        const started = performance.now()
        const r = n === 0
          ? await request("POST", "/users", { id, displayName: `${id} v${n}`, accountEnabled: true, userPrincipalName: `${id}@contoso.com` })
          : await request("PATCH", `/users/${id}`, { displayName: `${id} v${n}` })
        await r.arrayBuffer()
        const at = performance.now()
        latencies.push({ at, ms: at - started })
        if (r.status !== 201 && r.status !== 204 && r.status !== 200) failures.push(`${id} v${n}: ${r.status}`)
        else acknowledged.set(id, { n, at })
      }
    }
    const writers = Array.from({ length: 6 }, (_, w) => writer(w))
    // Load for a while, so the WAL holds recent commits when the backup starts.
    while (acknowledged.size < 150 || [...acknowledged.values()].every((a) => a.n < 2)) await new Promise((r) => setTimeout(r, 20))
    assert.isAbove(statSync(path.join(dataDir, "enrollment.sqlite-wal")).size, 0, "recent commits are in the WAL")
    const copyDir = tempDir("enrollctl-backup-copy-")
    const file = path.join(copyDir, "enrollment.sqlite")
    const begun = performance.now()
    const before = new Map([...acknowledged].map(([id, a]) => [id, a.n]))
    const backup = await local(["backup", file, "-o", "table"])
    const ended = performance.now()
    // Writes go on a moment after, then stop.
    await new Promise((r) => setTimeout(r, 100))
    stop = true
    await Promise.all(writers)

    assert.strictEqual(backup.code, 0, backup.stderr)
    assert.strictEqual(backup.stderr, "")
    assert.match(
      backup.stdout,
      new RegExp(`^backed up ${path.join(dataDir, "enrollment.sqlite")} to ${file}: [\\d.]+ (KiB|MiB), \\d+ pages of \\d+ bytes, in [\\d.]+ s\\n$`)
    )
    assert.deepStrictEqual(failures, [])
    // The server answered throughout: writes were acknowledged while enrollctl ran, none slowly.
    const during = latencies.filter((l) => l.at > begun && l.at < ended)
    assert.isAbove(during.length, 0, "writes acknowledged during the backup")
    assert.isBelow(Math.max(...during.map((l) => l.ms)), 2000, "no write waited for the backup")

    assert.deepStrictEqual(readdirSync(copyDir), ["enrollment.sqlite"], "no temporary file left")
    assert.deepStrictEqual(integrity(file), ["ok"])
    const copied = await usersIn(copyDir)
    for (const [id, n] of before) {
      const name = copied.get(id)
      assert.isDefined(name, `${id} (acknowledged before the backup) is in the copy`)
      assert.isAtLeast(Number(/ v(\d+)$/.exec(name!)![1]), n, `${id}: the copy holds its acknowledged rename v${n} or a later one`)
    }
    // The store went on: it holds writes the copy does not.
    const now = await usersIn(dataDir)
    assert.isTrue([...now].some(([id, name]) => copied.get(id) !== name), "writes after the backup are not in it")
  }, 60_000)

  it("refuses an existing FILE unless --force, which replaces it with a whole new copy", async () => {
    const dir = tempDir("enrollctl-backup-force-")
    const file = path.join(dir, "enrollment.sqlite")
    const first = await local(["backup", file, "-o", "json"])
    assert.strictEqual(first.code, 0, first.stderr)
    const made = first.json()
    assert.deepStrictEqual(Object.keys(made), ["file", "from", "bytes", "pages", "pageSize", "seconds"])
    assert.strictEqual(made.file, file)
    assert.strictEqual(made.bytes, statSync(file).size)
    assert.strictEqual(made.bytes, made.pages * made.pageSize)
    const created = await request("POST", "/users", { id: "after-first", displayName: "after", accountEnabled: true })
    assert.strictEqual(created.status, 201)
    const bytes = readFileSync(file)

    const refused = await local(["backup", file])
    assert.strictEqual(refused.code, 4, refused.stderr)
    assert.strictEqual(refused.stdout, "")
    assert.strictEqual(refused.stderr, `error DestinationExists: ${file} already exists (nothing was written); pass --force to replace it\n`)
    assert.isTrue(readFileSync(file).equals(bytes), "FILE unchanged")
    assert.isFalse((await usersIn(dir)).has("after-first"))

    const forced = await local(["backup", "--force", file, "-o", "json"])
    assert.strictEqual(forced.code, 0, forced.stderr)
    assert.isTrue((await usersIn(dir)).has("after-first"))
    assert.deepStrictEqual(readdirSync(dir), ["enrollment.sqlite"])

    const self = await local(["backup", "--force", path.join(dataDir, "enrollment.sqlite")])
    assert.strictEqual(self.code, 2)
    assert.include(self.stderr, "is the store's own file")
  }, 60_000)

  it("is refused in remote mode and on PostgreSQL, naming what to use, and writes nothing", async () => {
    const dir = tempDir("enrollctl-backup-refused-")
    const file = path.join(dir, "b.sqlite")
    const remote = await enrollctl(["--base-url", baseUrl, "--data-dir", dataDir, "backup", file])
    assert.strictEqual(remote.code, 2)
    assert.strictEqual(
      remote.stderr,
      "error Usage: backup runs in local mode on the SQLite store only (--store sqlite --data-dir DIR, the server's DATA_DIR), not in remote mode (--base-url): " +
        "it copies the store's file, on the machine that holds it; export (remote mode too) writes one tenant as JSON lines\n"
    )
    const viaEnv = await enrollctl(["backup", file], { env: { ENROLLCTL_BASE_URL: baseUrl, ENROLLCTL_TOKEN: token } })
    assert.strictEqual(viaEnv.code, 2)
    assert.include(viaEnv.stderr, "not in remote mode (ENROLLCTL_BASE_URL)")
    const url = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test"
    for (const args of [["--database-url", url], ["--store", "postgres", "--database-url", url, "--database-schema", "tenants"]]) {
      const pg = await enrollctl([...args, "backup", file])
      assert.strictEqual(pg.code, 2, args.join(" "))
      assert.include(pg.stderr, "error Usage: backup copies a SQLite store; a PostgreSQL store is backed up with PostgreSQL's own tools: pg_dump --format=custom")
      assert.notInclude(pg.stderr, url)
    }
    const tenant = await local(["--tenant", "t1", "backup", file])
    assert.strictEqual(tenant.code, 2)
    assert.include(tenant.stderr, "--tenant does not apply to backup")
    const missing = await local(["backup", file], path.join(dir, "typo"))
    assert.strictEqual(missing.code, 2)
    assert.include(missing.stderr, "error StoreNotFound: no store at ")
    assert.deepStrictEqual(readdirSync(dir), [])
  })

  // As root a directory's mode stops no one: the CLI then runs without the capabilities that let root pass (setpriv).
  const root = process.getuid?.() === 0
  const setpriv = root && spawnSync("setpriv", ["--bounding-set", "-dac_override", "true"]).status === 0
  if (root && !setpriv) console.log("SKIPPED unwritable-directory test: running as root without setpriv")
  it.skipIf(root && !setpriv)("fails in a directory it cannot write, exit 1, leaving no file there", async () => {
    const parent = tempDir("enrollctl-backup-unwritable-")
    const dir = path.join(parent, "ro")
    mkdirSync(dir)
    writeFileSync(path.join(dir, "keep"), "")
    chmodSync(dir, 0o555)
    const via = root ? ["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner"] : undefined
    const file = path.join(dir, "enrollment.sqlite")
    const r = await enrollctl(["--store", "sqlite", "--data-dir", dataDir, "backup", file], via === undefined ? {} : { via })
    chmodSync(dir, 0o755)
    assert.strictEqual(r.code, 1, r.stderr)
    assert.strictEqual(r.stdout, "")
    assert.match(r.stderr, new RegExp(`^error BackupFailed: cannot write the backup in ${dir}: EACCES: permission denied, .*; nothing was written to ${file}\\n$`))
    assert.deepStrictEqual(readdirSync(dir), ["keep"])
  })
})

describe("backup's FILE", () => {
  it("is never the data directory's signing secret, --force or not (exit 2), which is left as it was", async () => {
    // Before: `backup --force DIR/auth-secret` replaced the server's secret by the store's file, exit 0.
    const dir = await storeDir()
    const secret = path.join(dir, "auth-secret")
    writeFileSync(secret, `${"k".repeat(64)}\n`, { mode: 0o600 })
    const other = tempDir("enrollctl-backup-secret-link-")
    symlinkSync(dir, path.join(other, "data"))
    for (const [file, force] of [[secret, ["--force"]], [secret, []], [path.join(other, "data", "auth-secret"), ["--force"]]] as const) {
      const r = await enrollctl(["--store", "sqlite", "--data-dir", dir, "backup", ...force, file])
      assert.strictEqual(r.code, 2, r.stderr)
      assert.strictEqual(r.stdout, "")
      assert.strictEqual(
        r.stderr,
        file === secret
          ? `error Usage: ${file} is the server's signing secret: back it up to another path\n`
          : `error Usage: ${file} is the server's signing secret (${secret}): back it up to another path\n`
      )
    }
    assert.strictEqual(readFileSync(secret, "utf8"), `${"k".repeat(64)}\n`)
    assert.deepStrictEqual(readdirSync(dir).filter((f) => f.endsWith(".tmp")), [])
  })
})

describe("backup stopped by a signal", () => {
  it("ends with exit 0 when the signal comes once FILE is in place, as its answer is printed", async () => {
    // Before: the trap was gone once the backup returned, and a signal during the shutdown ended
    // the process by its default action (exit 143 for SIGTERM), though FILE was in place.
    const data = await storeDir()
    const out = tempDir("enrollctl-backup-late-signal-")
    const env: Record<string, string> = {}
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("ENROLLCTL_")) env[k] = v
    const runs = 12
    for (let i = 0; i < runs; i++) {
      const signal = (["SIGTERM", "SIGINT", "SIGHUP"] as const)[i % 3]!
      const file = path.join(out, `b${i}.sqlite`)
      const child = spawn(process.execPath, [shim, "--store", "sqlite", "--data-dir", data, "-o", "table", "backup", file], { env, stdio: ["ignore", "pipe", "pipe"] })
      let stdout = ""
      let stderr = ""
      let sent = false
      child.stderr.setEncoding("utf8").on("data", (d) => (stderr += d))
      child.stdout.setEncoding("utf8").on("data", (d) => {
        stdout += d
        // Sent as soon as the answer (printed once FILE is in place) arrives.
        if (!sent && stdout.includes("backed up")) sent = child.kill(signal)
      })
      const [code, by] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on("close", (c, s) => resolve([c, s])))
      assert.isTrue(sent, `run ${i}: no answer: ${stderr}`)
      assert.deepStrictEqual([code, by], [0, null], `run ${i} (${signal}): ${stderr}`)
      assert.strictEqual(stderr, "")
      assert.match(stdout, new RegExp(`^backed up .* to ${file}: `))
      assert.isTrue(existsSync(file))
    }
    assert.strictEqual(readdirSync(out).length, runs, "no temporary file left")
  }, 60_000)

  it("removes its temporary file, says nothing was written, and ends by the signal", async () => {
    // A store large enough for the copy to take a while (about 120 MiB).
    const data = tempDir("enrollctl-backup-big-")
    const db = SqliteStore.open({ filename: path.join(data, "enrollment.sqlite") })
    const insert = db.prepare("INSERT INTO users (tenant_id, id, version, data) VALUES ('t', ?, 1, ?)")
    const pad = "x".repeat(2000)
    db.exec("BEGIN")
    for (let i = 0; i < 60_000; i++) insert.run(`u${i}`, JSON.stringify({ id: `u${i}`, displayName: pad }))
    db.exec("COMMIT")
    db.close()
    const out = tempDir("enrollctl-backup-stopped-")
    const file = path.join(out, "b.sqlite")
    const env: Record<string, string> = {}
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("ENROLLCTL_")) env[k] = v
    const child = spawn(process.execPath, [shim, "--store", "sqlite", "--data-dir", data, "backup", file], { env, stdio: ["ignore", "pipe", "pipe"] })
    let stderr = ""
    child.stderr.setEncoding("utf8").on("data", (d) => (stderr += d))
    const ended = new Promise<NodeJS.Signals | null>((resolve) => child.on("close", (_code, signal) => resolve(signal)))
    // Stopped once the copy is being written.
    let sent = false
    while (!sent && child.exitCode === null) {
      if (readdirSync(out).some((f) => f.endsWith(".tmp"))) {
        child.kill("SIGTERM")
        sent = true
      } else await new Promise((r) => setTimeout(r, 5))
    }
    const signal = await ended
    assert.isTrue(sent, `the backup ended before it could be stopped: ${stderr}`)
    assert.strictEqual(signal, "SIGTERM")
    assert.strictEqual(stderr, `error Interrupted: the backup was stopped by SIGTERM; nothing was written to ${file}\n`)
    assert.deepStrictEqual(readdirSync(out), [])
  }, 60_000)
})
