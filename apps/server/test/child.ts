/** Test support: the server as a child process (what `pnpm start` runs), started and stopped. */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process"

/** A running server process: its URL, what it has written to stdout so far, and a stop (its exit code). */
export interface Child {
  readonly child: ChildProcessWithoutNullStreams
  readonly url: string
  readonly stdout: () => string
  readonly stop: () => Promise<number | null>
}

/** Runs `script` with `env` and waits for its "listening on" line. */
export const startChild = async (script: string, env: Readonly<Record<string, string>>): Promise<Child> => {
  const child = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "pipe"] })
  let err = ""
  let out = ""
  child.stdout.on("data", (d) => (out += d))
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.on("data", (d) => {
      err += d
      const m = /listening on (\S+)\/beta/.exec(err)
      if (m) resolve(m[1]!)
    })
    child.on("exit", (code) => reject(new Error(`exited ${code}: ${err}`)))
  })
  const stop = () =>
    new Promise<number | null>((resolve) => {
      child.on("exit", (c) => resolve(c))
      child.kill("SIGTERM")
    })
  return { child, url, stdout: () => out, stop }
}
