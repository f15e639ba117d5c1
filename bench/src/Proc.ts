/**
 * Processes under test: a free port, the enrollment server started as a child
 * process from its documented environment (pinned to one core), readiness by
 * polling `/ready`, and what `/proc` says about a process (RSS, open fds).
 *
 * @since 0.1.0
 */
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"

/** The repository root. */
export const root = resolve(import.meta.dirname, "../..")

/** The server's entry point (apps/server). */
export const serverMain = join(root, "apps/server/bin/server.js")

/** The node binary running this script (Node 24, which runs .ts directly). */
export const node = process.execPath

/** A secret the server is started with and tokens are minted with. */
export const secret = "bench-secret-bench-secret-bench-secret-0123456789"

/** True when `taskset` can pin processes (Linux with util-linux); pinning is skipped otherwise. */
export const canPin = existsSync("/usr/bin/taskset") || existsSync("/bin/taskset")

/** The command line that runs `argv` pinned to `cpu` (when pinning is available). */
export const pinned = (cpu: number | undefined, argv: ReadonlyArray<string>): [string, Array<string>] =>
  cpu !== undefined && canPin ? ["taskset", ["-c", String(cpu), ...argv]] : [argv[0]!, argv.slice(1)]

/** A port nobody listens on now: listen on 0, read the port, close. */
export const freePort = (): Promise<number> =>
  new Promise((done, fail) => {
    const s = createServer()
    s.once("error", fail)
    s.listen(0, "127.0.0.1", () => {
      const address = s.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      s.close(() => done(port))
    })
  })

/**
 * The temporary directories this process made, removed as it exits: the servers' data among them,
 * a scale run's table of a million assignments (hundreds of MB) too. Before, every run left its
 * directories in the system's temporary folder.
 */
const made = new Set<string>()
process.once("exit", () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true })
})

/** A new temporary directory, removed when this process exits. */
export const tempDir = (prefix: string): string => {
  const dir = mkdtempSync(join(tmpdir(), `enrollment-${prefix}-`))
  made.add(dir)
  return dir
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** Resident set size of a process in bytes (0 when it is gone). */
export const rss = (pid: number): number => {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))
    return m === null ? 0 : Number(m[1]) * 1024
  } catch {
    return 0
  }
}

/**
 * The CPU time a process has used so far, user and system, in microseconds (from
 * `/proc/<pid>/stat`, whose clock ticks are Linux's fixed `USER_HZ` of 100 a second);
 * undefined when the process is gone or there is no `/proc`.
 */
export const cpuTime = (pid: number): { readonly userUs: number; readonly systemUs: number } | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    // After the command name (in parentheses, which may hold spaces): state is field 3, utime 14, stime 15.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return { userUs: Number(f[11]) * 10_000, systemUs: Number(f[12]) * 10_000 }
  } catch {
    return undefined
  }
}

/** Open file descriptors of a process (-1 when it is gone). */
export const fdCount = (pid: number): number => {
  try {
    return readdirSync(`/proc/${pid}/fd`).length
  } catch {
    return -1
  }
}

/** True while the process exists and is not a zombie. */
export const alive = (pid: number): boolean => {
  try {
    return !/State:\s+Z/.test(readFileSync(`/proc/${pid}/status`, "utf8"))
  } catch {
    return false
  }
}

/** A child process listening on a port. */
export interface Child {
  readonly child: ChildProcess
  readonly pid: number
  readonly port: number
  readonly url: string
  /** Milliseconds from spawn to the first successful readiness answer. */
  readonly readyMs: number
  /** What it printed (stdout and stderr, the last 64 KiB). */
  readonly output: () => string
  /** Resolves with the exit code or signal once the process has exited. */
  readonly exited: Promise<number | string>
  /** Sends a signal and waits for the exit. */
  readonly kill: (signal?: NodeJS.Signals) => Promise<number | string>
}

/** What to start. */
export interface SpawnOptions {
  readonly argv: ReadonlyArray<string>
  readonly env?: Readonly<Record<string, string | undefined>>
  readonly cpu?: number | undefined
  readonly port: number
  /** The path polled for readiness (any 2xx answer). */
  readonly readyPath: string
  readonly timeoutMs?: number | undefined
  readonly cwd?: string | undefined
}

/** Spawns a process and waits until it answers on `readyPath`. */
export const spawnReady = async (options: SpawnOptions): Promise<Child> => {
  const [cmd, args] = pinned(options.cpu, options.argv)
  const started = performance.now()
  const child = spawn(cmd, args, {
    cwd: options.cwd ?? root,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let out = ""
  const keep = (b: Buffer) => {
    out += b.toString("utf8")
    if (out.length > 65536) out = out.slice(-65536)
  }
  child.stdout!.on("data", keep)
  child.stderr!.on("data", keep)
  const exited = new Promise<number | string>((done) => {
    child.once("exit", (code, signal) => done(signal ?? code ?? -1))
  })
  let gone: number | string | undefined
  void exited.then((e) => (gone = e))
  const url = `http://127.0.0.1:${options.port}`
  const deadline = started + (options.timeoutMs ?? 15_000)
  let readyMs = -1
  while (performance.now() < deadline) {
    if (gone !== undefined) throw new Error(`${options.argv.join(" ")} exited (${gone}) before it was ready:\n${out}`)
    try {
      const res = await fetch(url + options.readyPath, { signal: AbortSignal.timeout(1000) })
      await res.arrayBuffer()
      if (res.ok) {
        readyMs = performance.now() - started
        break
      }
    } catch {
      // not listening yet
    }
    await sleep(5)
  }
  if (readyMs < 0) {
    child.kill("SIGKILL")
    throw new Error(`${options.argv.join(" ")} was not ready within ${options.timeoutMs ?? 15_000} ms:\n${out}`)
  }
  return {
    child,
    pid: child.pid!,
    port: options.port,
    url,
    readyMs,
    output: () => out,
    exited,
    kill: (signal = "SIGTERM") => {
      if (gone === undefined) child.kill(signal)
      return exited
    }
  }
}

/** The Node flags of the documented start command (`pnpm start`, the Dockerfile). */
export const serverNodeFlags: ReadonlyArray<string> = ["--max-semi-space-size=4", "--heap-growing-percent=80", "--no-memory-reducer"]

/** How to start the enrollment server (its documented environment). */
export interface ServerOptions {
  readonly store: "sqlite" | "postgres" | "memory"
  /** For sqlite: the data directory (a new temporary one when not given). */
  readonly dataDir?: string | undefined
  readonly databaseUrl?: string | undefined
  readonly databaseSchema?: string | undefined
  /** Default 0 (the server's core); `undefined` pins nothing. */
  readonly cpu?: number | undefined
  readonly port?: number | undefined
  readonly env?: Readonly<Record<string, string | undefined>>
  /** Extra node flags, e.g. `--cpu-prof`. */
  readonly nodeFlags?: ReadonlyArray<string>
  /** The server entry point to run (default this tree's {@link serverMain}; another checkout's to compare). */
  readonly main?: string | undefined
  readonly timeoutMs?: number | undefined
}

/** A running enrollment server. */
export interface Server extends Child {
  readonly dataDir: string
  /** The SQLite file (sqlite store only). */
  readonly file: string
  readonly options: ServerOptions
}

/**
 * Starts `apps/server/bin/server.js` (the entry `pnpm start` runs) with `STORE`, `DATA_DIR`, `DATABASE_URL`,
 * `AUTH_HS256_SECRET`, `PORT`, `HOST`; the rate limit is raised (the limiter
 * still runs) and the request log is quiet unless `env` says otherwise.
 */
export const startServer = async (options: ServerOptions): Promise<Server> => {
  const main = options.main ?? serverMain
  if (!existsSync(main)) throw new Error(`the server entry point ${main} does not exist`)
  const dataDir = options.dataDir ?? tempDir("data")
  const port = options.port ?? (await freePort())
  const env: Record<string, string | undefined> = {
    PORT: String(port),
    HOST: "127.0.0.1",
    STORE: options.store,
    DATA_DIR: dataDir,
    AUTH_HS256_SECRET: secret,
    RATE_LIMIT_PER_SECOND: "10000000",
    RATE_LIMIT_BURST: "10000000",
    LOG_LEVEL: "warn",
    NODE_ENV: "production",
    ...(options.databaseUrl !== undefined ? { DATABASE_URL: options.databaseUrl } : {}),
    ...(options.databaseSchema !== undefined ? { DATABASE_SCHEMA: options.databaseSchema } : {}),
    ...options.env
  }
  const child = await spawnReady({
    // The V8 flags `pnpm start` and the Dockerfile run the server with (a 4 MiB young generation).
    argv: [node, ...serverNodeFlags, ...(options.nodeFlags ?? []), main],
    env,
    cpu: "cpu" in options ? options.cpu : 0,
    port,
    readyPath: "/ready",
    timeoutMs: options.timeoutMs
  })
  return { ...child, dataDir, file: join(dataDir, "enrollment.sqlite"), options: { ...options, dataDir, port } }
}

/** Starts the same server again (same data, same port) after it stopped. */
export const restartServer = (s: Server): Promise<Server> => startServer(s.options)
