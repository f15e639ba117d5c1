/**
 * An import interrupted by a signal (Ctrl-C is SIGINT; SIGTERM is what `kill`, systemd and
 * container runtimes send; SIGHUP what a closed terminal or a dropped ssh session sends) stops
 * writing, undoes what it wrote, says so, and ends by the signal (a shell shows 130, 143 or 129);
 * a second signal stops the undo and names what remains; a wait to retry a throttled request
 * ends at once. Each case runs the real CLI as a subprocess and sends it a real signal while it
 * writes: remote mode against the real server, local mode on a real SQLite file; a hang-up closes
 * the real terminal (tmux) the import runs in.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { createServer, request } from "node:http"
import type { AddressInfo } from "node:net"
import { constants } from "node:os"
import * as path from "node:path"
import { DatabaseSync } from "node:sqlite"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { defaultTenant } from "../src/Settings.ts"
import { enrollctl, shim, startServer, storeDir, tempDir, userLine as user } from "./cli.ts"

/** A file of `n` users, `u1` on line 1 to `un` on line n. */
const usersFile = (n: number) => {
  const file = path.join(tempDir(), "users.jsonl")
  writeFileSync(file, Array.from({ length: n }, (_, i) => `${JSON.stringify(user(`u${i + 1}`))}\n`).join(""))
  return file
}

/** The ids of the users a tenant holds in a SQLite store, read from the file itself. */
const usersIn = (file: string, tenant: string): Set<string> => {
  // A busy timeout: the import writes the file meanwhile, and a read that finds it locked for a
  // moment (a checkpoint, the WAL index being rebuilt) waits rather than failing the test.
  const db = new DatabaseSync(file, { readOnly: true, timeout: 5_000 })
  try {
    return new Set(db.prepare("SELECT id FROM users WHERE tenant_id = ?").all(tenant).map((r) => String(r.id)))
  } finally {
    db.close()
  }
}

const until = async (what: string, ok: () => boolean, ms = 30_000) => {
  const end = Date.now() + ms
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

interface Ended {
  /** The status a shell shows: the exit code, or 128 + the number of the signal that ended the process. */
  readonly status: number
  readonly stderr: string
}

/** `enrollctl ...args` as a subprocess, its stderr readable while it runs. */
const start = (args: ReadonlyArray<string>) => {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("ENROLLCTL_")) env[k] = v
  const child: ChildProcess = spawn(process.execPath, [shim, ...args], { env, stdio: ["ignore", "pipe", "pipe"] })
  let stderr = ""
  child.stderr!.setEncoding("utf8").on("data", (d) => (stderr += d))
  child.stdout!.resume()
  const ended = new Promise<Ended>((resolve, reject) => {
    child.on("error", reject)
    child.on("close", (code, signal) =>
      resolve({ status: code ?? 128 + constants.signals[signal as keyof typeof constants.signals], stderr }))
  })
  return { child, ended, stderr: () => stderr }
}

/** The users named as remaining (`user 'u7' (line 7)`), each checked to carry its own line. */
const namedUsers = (stderr: string): Set<string> => {
  const ids = new Set<string>()
  for (const m of stderr.matchAll(/user '(u(\d+))' \(line (\d+)\)/g)) {
    assert.strictEqual(m[2], m[3], `${m[0]} names its line`)
    ids.add(m[1]!)
  }
  return ids
}

/** The two modes, each on a SQLite file the test reads: the server's, or the CLI's own. */
interface Mode {
  readonly name: string
  /** The CLI's arguments for a tenant (a store for it, in local mode). */
  readonly cli: (tenant: string) => Promise<ReadonlyArray<string>>
  /** The users the tenant holds. */
  readonly users: (tenant: string) => Set<string>
  /** How many users a file holds for the import to be still writing when the signal comes (local writes are faster). */
  readonly size: number
}

const started: Array<ChildProcess> = []
const serverDir = tempDir("enrollctl-interrupt-server-")
let baseUrl = ""
const localDirs = new Map<string, string>()

const modes: ReadonlyArray<Mode> = [
  {
    name: "remote",
    cli: async (tenant) => ["--base-url", baseUrl, "--data-dir", serverDir, "--tenant", tenant],
    users: (tenant) => usersIn(path.join(serverDir, "enrollment.sqlite"), tenant),
    size: 300
  },
  {
    name: "local",
    cli: async (tenant) => {
      const dir = localDirs.get(tenant) ?? (await storeDir())
      localDirs.set(tenant, dir)
      return ["--store", "sqlite", "--data-dir", dir]
    },
    users: (tenant) => usersIn(path.join(localDirs.get(tenant)!, "enrollment.sqlite"), defaultTenant),
    size: 1000
  }
]

beforeAll(async () => {
  baseUrl = await startServer(serverDir, {}, (c) => started.push(c))
})
afterAll(() => {
  for (const child of started) child.kill("SIGTERM")
})

describe.each(modes)("an import interrupted by a signal ($name mode)", (mode) => {
  for (const [signal, status] of [["SIGINT", 130], ["SIGTERM", 143], ["SIGHUP", 129]] as const) {
    it(`stops writing on ${signal}, undoes what it wrote, says so, and ends with ${status}`, async () => {
      const tenant = `t-${mode.name}-${signal}`
      const cli = await mode.cli(tenant)
      const file = usersFile(mode.size)
      const run = start([...cli, "import", file])
      await until("30 users written", () => mode.users(tenant).size >= 30)
      run.child.kill(signal)
      const r = await run.ended
      assert.strictEqual(r.status, status, r.stderr)
      const m = new RegExp(
        `^error Interrupted: (SIG\\w+) stopped the import after (\\d+) of ${mode.size} record\\(s\\) were written; all (\\d+) were undone: nothing was imported\n$`,
        "m"
      ).exec(r.stderr)
      assert.isNotNull(m, r.stderr)
      assert.strictEqual(m![1], signal)
      assert.strictEqual(m![2], m![3])
      assert.isAtLeast(Number(m![2]), 30)
      assert.include(r.stderr, `${signal}: stopping the import; undoing the ${m![2]} record(s) written, newest first`)
      assert.deepStrictEqual([...mode.users(tenant)], [])
      // Nothing is left to conflict with: the same file imports whole.
      const again = await enrollctl([...cli, "import", file])
      assert.strictEqual(again.code, 0, again.stderr)
      assert.strictEqual(again.stderr, `imported ${mode.size} user(s)\n`)
      assert.strictEqual(mode.users(tenant).size, mode.size)
    }, 90_000)
  }

  it("stops the undo on a second SIGINT and names every record that remains, with its line", async () => {
    const tenant = `t-${mode.name}-twice`
    const cli = await mode.cli(tenant)
    const run = start([...cli, "import", usersFile(900)])
    await until("300 users written", () => mode.users(tenant).size >= 300)
    run.child.kill("SIGINT")
    await until("the undo to start", () => run.stderr().includes("again stops the undo"))
    run.child.kill("SIGINT")
    const r = await run.ended
    assert.strictEqual(r.status, 130, r.stderr)
    const m = /^error Interrupted: SIGINT stopped the import after (\d+) of 900 record\(s\) were written; (\d+) record\(s\) remain \(a second SIGINT stopped the undo after undoing (\d+) of the (\d+) written\): user 'u1' \(line 1\), /m
      .exec(r.stderr)
    assert.isNotNull(m, r.stderr.slice(-2000))
    const [written, remain, undone] = [Number(m![1]), Number(m![2]), Number(m![3])]
    assert.strictEqual(Number(m![4]), written)
    assert.strictEqual(remain + undone, written)
    assert.isAbove(remain, 10, "the undo was stopped part way")
    // Past ten, the error names ten and how many more, and every one is on a line of its own above it.
    assert.include(r.stderr, ` and ${remain - 10} more (each listed above)\n`)
    assert.strictEqual(r.stderr.split("\n").filter((l) => l.startsWith("remains: user ")).length, remain)
    // What it names is what the tenant holds: the oldest records, which the undo (newest first) had not reached.
    const held = mode.users(tenant)
    assert.deepStrictEqual([...namedUsers(r.stderr)].sort(), [...held].sort())
    assert.deepStrictEqual([...held].sort(), Array.from({ length: remain }, (_, i) => `u${i + 1}`).sort())
  }, 90_000)
})

describe("an import whose write in flight a second signal cuts off (remote mode)", () => {
  it("still undoes what was written: the second signal stops the writes, a third would stop the undo", async () => {
    // A proxy in front of the real server that holds the 4th user's create and every one after it.
    let creates = 0
    const held: Array<() => void> = []
    const proxy = createServer((req, res) => {
      const forward = () => {
        const out = request(new URL(req.url!, baseUrl), { method: req.method, headers: req.headers }, (answer) => {
          res.writeHead(answer.statusCode!, answer.headers)
          answer.pipe(res)
        })
        req.pipe(out)
      }
      if (req.method === "POST" && req.url === "/beta/users" && ++creates >= 4) held.push(forward)
      else forward()
    })
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve))
    try {
      const via = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/beta`
      const run = start(["--base-url", via, "--data-dir", serverDir, "--tenant", "t-cut", "import", usersFile(10)])
      await until("the 4th create to be held", () => held.length > 0)
      run.child.kill("SIGINT")
      await new Promise((resolve) => setTimeout(resolve, 200))
      run.child.kill("SIGINT")
      const ended = await run.ended
      assert.strictEqual(ended.status, 130, ended.stderr)
      // The three written were undone; the held 4th never reached the server.
      assert.deepStrictEqual([...usersIn(path.join(serverDir, "enrollment.sqlite"), "t-cut")], [])
      assert.include(ended.stderr, "SIGINT: stopping the import; undoing the 3 record(s) written")
      assert.include(ended.stderr, "error Interrupted: SIGINT stopped the import after 3 of 10 record(s) were written")
      assert.include(ended.stderr, "a second SIGINT cut off the write of line 4: it may be in the tenant")
      assert.notInclude(ended.stderr, "record(s) remain")
    } finally {
      proxy.closeAllConnections()
      await new Promise<void>((resolve) => proxy.close(() => resolve()))
    }
  })
})

const hasTmux = spawnSync("tmux", ["-V"]).status === 0
if (!hasTmux) console.log("SKIPPED hang-up test: tmux is not installed (apt-get install -y tmux)")

/** Whether process `pid` has ended (gone, or a zombie not yet reaped). */
const ended = (pid: number) => {
  const stat = `/proc/${pid}/stat`
  if (!existsSync(stat)) return true
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(stat, "utf8"))
  } catch {
    return true
  }
}

describe.skipIf(!hasTmux)("an import whose terminal is closed (local mode)", () => {
  it("undoes what it wrote though it can no longer write to the terminal, and ends", async () => {
    // A tmux server of its own: killing it closes the terminal, and the kernel sends SIGHUP.
    const socket = `enrollctl-hangup-${process.pid}`
    const tmux = (...args: ReadonlyArray<string>) => execFileSync("tmux", ["-L", socket, ...args], { encoding: "utf8" })
    const dir = await storeDir()
    const file = usersFile(1000)
    const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`
    try {
      // exec: the CLI is the terminal's process, as in an ssh session; it draws its progress bar there.
      tmux("new-session", "-d", "-x", "120", "-y", "20", `exec ${[process.execPath, shim, "--store", "sqlite", "--data-dir", dir, "import", file].map(quote).join(" ")}`)
      const pid = Number(tmux("list-panes", "-F", "#{pane_pid}").trim())
      const users = () => usersIn(path.join(dir, "enrollment.sqlite"), defaultTenant)
      await until("30 users written", () => users().size >= 30)
      tmux("kill-server")
      await until("the import to end", () => ended(pid))
      assert.deepStrictEqual([...users()], [], "everything written was undone")
    } finally {
      spawnSync("tmux", ["-L", socket, "kill-server"])
    }
  }, 90_000)
})

describe("a wait to retry a throttled request (remote mode)", () => {
  it("ends at once on a signal: the write waiting is not sent again, and the undo's step waiting is stopped by the next signal", async () => {
    // A proxy in front of the real server: it answers u3's first create, and the undo's first
    // delete (u2's), 429 with a Retry-After of 30 s (within the 60 s enrollctl waits).
    const seen: Array<string> = []
    const throttle = new Set(["POST /beta/users u3", "DELETE /beta/users/u2"])
    const proxy = createServer((req, res) => {
      let body = ""
      req.setEncoding("utf8").on("data", (d) => (body += d))
      req.on("end", () => {
        const key = `${req.method} ${req.url}${req.method === "POST" ? ` ${JSON.parse(body).id}` : ""}`
        seen.push(key)
        if (throttle.delete(key)) {
          res.writeHead(429, { "content-type": "application/json", "retry-after": "30" })
          res.end(JSON.stringify({ error: { code: "TooManyRequests", message: "Too many requests" } }))
          return
        }
        const out = request(new URL(req.url!, baseUrl), { method: req.method, headers: req.headers }, (answer) => {
          res.writeHead(answer.statusCode!, answer.headers)
          answer.pipe(res)
        })
        out.end(body)
      })
    })
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve))
    try {
      const via = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/beta`
      const run = start(["--base-url", via, "--data-dir", serverDir, "--tenant", "t-retry", "import", usersFile(5)])
      await until("u3's create to be throttled", () => seen.includes("POST /beta/users u3"))
      await new Promise((resolve) => setTimeout(resolve, 200))
      const first = Date.now()
      run.child.kill("SIGINT")
      await until("the undo's delete to be throttled", () => seen.includes("DELETE /beta/users/u2"))
      assert.isBelow(Date.now() - first, 10_000, "the first signal ended the wait to retry the create")
      await new Promise((resolve) => setTimeout(resolve, 200))
      const second = Date.now()
      run.child.kill("SIGINT")
      const r = await run.ended
      assert.isBelow(Date.now() - second, 10_000, "the second signal ended the wait to retry the delete")
      assert.strictEqual(r.status, 130, r.stderr)
      assert.strictEqual(
        r.stderr.split("\n").filter((l) => l.startsWith("error ")).join("\n"),
        "error Interrupted: SIGINT stopped the import after 2 of 5 record(s) were written " +
          "(the write of line 3, waiting to be retried, was not sent again); " +
          "2 record(s) remain (a second SIGINT stopped the undo before any was undone): user 'u1' (line 1), user 'u2' (line 2)"
      )
      // u3's create was sent once, and nothing after it; u2's delete once.
      assert.deepStrictEqual(seen.filter((k) => !k.startsWith("GET")), ["POST /beta/users u1", "POST /beta/users u2", "POST /beta/users u3", "DELETE /beta/users/u2"])
      assert.deepStrictEqual([...usersIn(path.join(serverDir, "enrollment.sqlite"), "t-retry")].sort(), ["u1", "u2"])
    } finally {
      proxy.closeAllConnections()
      await new Promise<void>((resolve) => proxy.close(() => resolve()))
    }
  }, 90_000)
})
