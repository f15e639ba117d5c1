/**
 * A throwaway PostgreSQL cluster that accepts TLS only, for the TLS tests: made with
 * `initdb` as the `postgres` user (PostgreSQL refuses to run as root) in a temporary
 * directory, with a self-signed certificate for `localhost` (made with `openssl`), listening
 * on a free port of 127.0.0.1 with `hostssl … trust` and `host … reject`, so a connection
 * without TLS is refused by the server itself. With `clientCertificates`, `hostssl … cert`
 * instead of `trust`: the server asks for a client certificate issued by a CA of its own (its
 * `ssl_ca_file`) and takes the user from its CN; the test gets a certificate for `postgres`, its
 * key (0600, also encrypted), and made with `openssl`. Started as fast as it can be: no fsync, a
 * small `shared_buffers`, EC keys for the client's files.
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
  /** `wrongCaFile`'s key (0600): with it, a client certificate no CA of the server's issued. */
  readonly wrongKeyFile: string
  /** With `clientCertificates`: a certificate for the user postgres, issued by the server's client CA, and its key. */
  readonly client: ClientFiles | undefined
  /** Stops the cluster and removes its directory. */
  readonly stop: () => void
}

/** A client certificate the cluster accepts, its key (mode 0600), and the key encrypted with a passphrase. */
export interface ClientFiles {
  readonly certFile: string
  readonly keyFile: string
  /** `keyFile` encrypted (PKCS #8, AES-256) with `password`, mode 0600. */
  readonly encryptedKeyFile: string
  readonly password: string
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

const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"]

/** A client CA (as `clientca.crt`, its key beside it) and a certificate it issued for the user postgres. */
const clientFiles = (dir: string): ClientFiles => {
  const f = (name: string) => path.join(dir, name)
  execFileSync("openssl", [
    "req", "-x509", ...ec, "-subj", "/CN=enrollment test client CA",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    "-keyout", f("clientca.key"), "-out", f("clientca.crt")
  ], { stdio: "pipe" })
  // pg_hba.conf's cert method takes the user from the CN.
  execFileSync("openssl", [
    "req", "-x509", ...ec, "-subj", "/CN=postgres", "-CA", f("clientca.crt"), "-CAkey", f("clientca.key"),
    "-addext", "basicConstraints=CA:FALSE", "-addext", "extendedKeyUsage=clientAuth",
    "-keyout", f("client.key"), "-out", f("client.crt")
  ], { stdio: "pipe" })
  const password = "correct horse battery staple"
  execFileSync("openssl", [
    "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", f("client.key"), "-out", f("client-encrypted.key"),
    "-passout", `pass:${password}`
  ], { stdio: "pipe" })
  for (const key of ["client.key", "client-encrypted.key"]) fs.chmodSync(f(key), 0o600)
  return { certFile: f("client.crt"), keyFile: f("client.key"), encryptedKeyFile: f("client-encrypted.key"), password }
}

/**
 * Makes and starts a cluster; `stop` it (in a finalizer) whatever the test did. With
 * `clientCertificates`, connections must present a certificate of the cluster's client CA.
 */
export const start = async (options: { readonly clientCertificates?: boolean } = {}): Promise<TlsCluster> => {
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
    const wrongKeyFile = path.join(dir, "wrong.key")
    fs.chmodSync(wrongKeyFile, 0o600)
    const client = options.clientCertificates === true ? clientFiles(dir) : undefined
    const port = await freePort()
    asPostgres([path.join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"])
    for (const f of ["server.crt", "server.key", ...(client === undefined ? [] : ["clientca.crt"])]) {
      fs.copyFileSync(path.join(dir, f), path.join(data, f))
      execFileSync("chown", ["postgres:postgres", path.join(data, f)])
      fs.chmodSync(path.join(data, f), 0o600)
    }
    const method = client === undefined ? "trust" : "cert"
    fs.writeFileSync(
      path.join(data, "pg_hba.conf"),
      [
        "local all all trust",
        `hostssl all all 127.0.0.1/32 ${method}`,
        `hostssl all all ::1/128 ${method}`,
        "host all all 0.0.0.0/0 reject",
        "host all all ::/0 reject",
        ""
      ].join("\n")
    )
    const serverOptions = [
      `-c listen_addresses=127.0.0.1`,
      `-c port=${port}`,
      `-c unix_socket_directories=${dir}`,
      "-c ssl=on",
      ...(client === undefined ? [] : ["-c ssl_ca_file=clientca.crt"]),
      "-c fsync=off",
      "-c synchronous_commit=off",
      "-c full_page_writes=off",
      "-c shared_buffers=16MB",
      "-c max_connections=40"
    ].join(" ")
    asPostgres([path.join(bin, "pg_ctl"), "start", "-D", data, "-w", "-t", "30", "-l", path.join(dir, "log"), "-o", serverOptions])
    started = true
    return { port, caFile, wrongCaFile, wrongKeyFile, client, stop }
  } catch (e) {
    stop()
    throw e
  }
}
