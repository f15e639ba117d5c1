/** Test support: the server as a child process (what `pnpm start` runs), started and stopped. */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll } from "vitest"

/** A test file's temporary directories: each call makes one, and all are removed when the file's tests end. */
export const tempDirs = (prefix: string): () => string => {
  const dirs: Array<string> = []
  afterAll(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true })
  })
  return () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
    dirs.push(d)
    return d
  }
}

/** What `pnpm start` runs. */
export const serverBin = fileURLToPath(new URL("../bin/server.js", import.meta.url))

/** A running server process: its URL, what it has written so far, and a stop (its exit code). */
export interface Child {
  readonly child: ChildProcessWithoutNullStreams
  readonly url: string
  readonly stdout: () => string
  readonly stderr: () => string
  /** Resolves with the exit code once the process has exited. */
  readonly exited: Promise<number | null>
  readonly stop: () => Promise<number | null>
}

/** Who the child runs as (another user than the test's: `uid` and `gid`). */
export interface As {
  readonly uid?: number
  readonly gid?: number
}

/** Runs `script` with `env` and waits for its "listening on" line. */
export const startChild = async (script: string, env: Readonly<Record<string, string>>, as: As = {}): Promise<Child> => {
  const child = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "pipe"], ...as })
  let err = ""
  let out = ""
  child.stdout.on("data", (d) => (out += d))
  const exited = new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)))
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.on("data", (d) => {
      err += d
      const m = /listening on (\S+)\/beta/.exec(err)
      if (m) resolve(m[1]!)
    })
    child.on("exit", (code) => reject(new Error(`exited ${code}: ${err}`)))
  })
  const stop = () => {
    child.kill("SIGTERM")
    return exited
  }
  return { child, url, stdout: () => out, stderr: () => err, exited, stop }
}

/** Runs `script` with `env` until it exits (killed after `timeoutMs`): its exit code and output. */
export const runToExit = (script: string, env: Readonly<Record<string, string>>, timeoutMs = 20_000, as: As = {}) =>
  new Promise<{ readonly code: number | null; readonly stdout: string; readonly stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], ...as })
    let out = ""
    let err = ""
    child.stdout.on("data", (d) => (out += d))
    child.stderr.on("data", (d) => (err += d))
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs)
    child.on("exit", (code) => {
      clearTimeout(timer)
      resolve({ code, stdout: out, stderr: err })
    })
  })

/** A local port nothing listens on right now. */
export const closedPort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })
