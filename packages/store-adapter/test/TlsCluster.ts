/**
 * A throwaway PostgreSQL cluster that accepts TLS only, for the TLS tests: made with
 * `initdb` as the `postgres` user (PostgreSQL refuses to run as root) in a temporary
 * directory, with a self-signed certificate for `localhost` (made with `openssl`), listening
 * on a free port of 127.0.0.1 with `hostssl … trust` and `host … reject`, so a connection
 * without TLS is refused by the server itself. Started as fast as it can be: no fsync, a
 * small `shared_buffers`.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"

/** Where PostgreSQL's programs are (Debian's layout). */
const bin = process.env.PG_BIN ?? "/usr/lib/postgresql/15/bin"

/** A cluster that is running: its port, the CA file that signed its certificate, another CA's file. */
export interface TlsCluster {
  readonly port: number
  /** The server's self-signed certificate (CN and SAN localhost): the CA to verify it with. */
  readonly caFile: string
  /** A certificate that did not sign the server's: a wrong CA. */
  readonly wrongCaFile: string
  /** Stops the cluster and removes its directory. */
  readonly stop: () => void
}

/** Why a TLS cluster cannot be made on this machine, or undefined when it can. */
export const unavailableReason = (): string | undefined => {
  if (process.getuid?.() !== 0) return "the tests are not running as root (runuser needs root)"
  for (const [what, file] of [["initdb", path.join(bin, "initdb")], ["pg_ctl", path.join(bin, "pg_ctl")], ["runuser", "/usr/sbin/runuser"]]) {
    if (!fs.existsSync(file!)) return `${what} is not at ${file}`
  }
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" })
  } catch {
    return "openssl is not on the PATH"
  }
  try {
    execFileSync("id", ["postgres"], { stdio: "ignore" })
  } catch {
    return "there is no postgres user"
  }
  return undefined
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })

const asPostgres = (args: ReadonlyArray<string>) =>
  execFileSync("/usr/sbin/runuser", ["-u", "postgres", "--", ...args], { stdio: "pipe" })

const selfSigned = (dir: string, name: string, cn: string) => {
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", `/CN=${cn}`,
    "-addext", `subjectAltName=DNS:${cn}`,
    "-keyout", path.join(dir, `${name}.key`), "-out", path.join(dir, `${name}.crt`)
  ], { stdio: "pipe" })
  return path.join(dir, `${name}.crt`)
}

/** Makes and starts a cluster; `stop` it (in a finalizer) whatever the test did. */
export const start = async (): Promise<TlsCluster> => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pg-tls-"))
  // initdb runs as postgres, and writes the data directory (and the log) under this one.
  execFileSync("chown", ["postgres:postgres", dir])
  const data = path.join(dir, "data")
  let started = false
  const stop = () => {
    if (started) {
      try {
        asPostgres([path.join(bin, "pg_ctl"), "stop", "-D", data, "-m", "immediate", "-w"])
      } catch {
        // Already stopped; the directory goes anyway.
      }
    }
    fs.rmSync(dir, { recursive: true, force: true })
  }
  try {
    const caFile = selfSigned(dir, "server", "localhost")
    const wrongCaFile = selfSigned(dir, "wrong", "localhost")
    const port = await freePort()
    asPostgres([path.join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"])
    for (const f of ["server.crt", "server.key"]) {
      fs.copyFileSync(path.join(dir, f), path.join(data, f))
      execFileSync("chown", ["postgres:postgres", path.join(data, f)])
      fs.chmodSync(path.join(data, f), 0o600)
    }
    fs.writeFileSync(
      path.join(data, "pg_hba.conf"),
      [
        "local all all trust",
        "hostssl all all 127.0.0.1/32 trust",
        "hostssl all all ::1/128 trust",
        "host all all 0.0.0.0/0 reject",
        "host all all ::/0 reject",
        ""
      ].join("\n")
    )
    const options = [
      `-c listen_addresses=127.0.0.1`,
      `-c port=${port}`,
      `-c unix_socket_directories=${dir}`,
      "-c ssl=on",
      "-c fsync=off",
      "-c synchronous_commit=off",
      "-c full_page_writes=off",
      "-c shared_buffers=16MB",
      "-c max_connections=40"
    ].join(" ")
    asPostgres([path.join(bin, "pg_ctl"), "start", "-D", data, "-w", "-t", "30", "-l", path.join(dir, "log"), "-o", options])
    started = true
    return { port, caFile, wrongCaFile, stop }
  } catch (e) {
    stop()
    throw e
  }
}
