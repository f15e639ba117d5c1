/**
 * TLS to PostgreSQL as a connection URL's libpq parameters ask for it: `sslmode`,
 * `sslrootcert`, and a client certificate in `sslcert` and `sslkey` (with `sslpassword` for an
 * encrypted key), read here and handed to `@effect/sql-pg` as its explicit `ssl` option.
 *
 * The driver (`@effect/sql-pg` 4, its own implementation of the protocol, not node-postgres)
 * reads `sslmode` itself, but not as libpq documents it: `require`, `verify-ca` and
 * `verify-full` all verify the certificate against Node's trusted CAs and the host name (a
 * server with a private or self-signed CA, as on Amazon RDS or Cloud SQL, cannot be reached with
 * `require`), `sslrootcert` is ignored, and `prefer` verifies too. So the store reads them:
 *
 * - unset or `disable`: no TLS (unlike libpq, whose default is `prefer`);
 * - `require`: TLS, the certificate not checked (encrypted, not authenticated); with
 *   `sslrootcert` it is `verify-ca`, as in libpq;
 * - `verify-ca`: TLS, the certificate's chain checked against `sslrootcert`, not its host name;
 *   refused without `sslrootcert` (against Node's public CAs, any certificate one of them issued,
 *   for any name, would pass; libpq would fail without `~/.postgresql/root.crt`);
 * - `verify-full`: TLS, the chain and the host name checked (against Node's trusted CAs without
 *   `sslrootcert`: right for a server whose certificate a public CA issued, such as Azure Database
 *   for PostgreSQL's);
 * - `prefer` and `allow` are refused: the driver can fall back to plain text only with the
 *   certificate verified, which is neither libpq's meaning nor what its user asked for.
 *
 * `sslrootcert` is a PEM file (read once, at open) or `system`: Node's trusted CAs, also what
 * `verify-full` uses without it (libpq would look for `~/.postgresql/root.crt`). With `system`, as
 * in libpq 16, the default mode is `verify-full` and a weaker one is refused.
 *
 * The query is read as libpq reads it: split on `&` and each part on its first `=`, each side
 * percent-decoded, a `+` kept as a plus (`sslpassword=ab+cd` is `ab+cd`, not `ab cd` as
 * URLSearchParams would have it); a malformed `%` escape is refused, naming the parameter.
 *
 * `sslcert` and `sslkey` (both or neither; libpq's `~/.postgresql/postgresql.crt` is not looked
 * for) are the client certificate (PEM, its chain after it) and its private key (PEM), read
 * once at open and presented to a server that asks (`pg_hba.conf`'s `cert` method, or
 * `clientcert=verify-ca|verify-full`). The key file is refused when group or others may access
 * it, by libpq's rule: at most 0600 when the owner is not root, 0640 when it is root (a key that
 * the operating system manages, read through a group); not checked on Windows, as in libpq. An
 * encrypted key needs `sslpassword`: it is decrypted once, at open, and the driver is given the
 * decrypted key, never the passphrase (libpq would ask on the terminal). A certificate and a key
 * that do not go together are refused, as libpq does.
 *
 * Every other `ssl…` parameter (`sslcrl`, `sslcertmode`, node-postgres's `ssl=true`, …) and
 * `requiressl` are refused rather than ignored, and so is a name in another case (`SSLMODE`,
 * `sslMode`: the names are lower case, and the driver would ignore it). Over a Unix socket there
 * is no TLS (and the files are not read), as in libpq.
 *
 * @since 0.5.0
 */
import { Redacted, Schema } from "effect"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import type { ConnectionOptions } from "node:tls"

/** The `sslmode` values the store honours. */
export const modes = ["disable", "require", "verify-ca", "verify-full"] as const

/** One of {@link modes}. */
export type Mode = typeof modes[number]

/** The client certificate the URL names: `sslcert`, `sslkey` and `sslpassword`. */
export interface ClientCertificate {
  /** `sslcert`: a PEM file, the certificate then any intermediate CAs. */
  readonly certFile: string
  /** `sslkey`: a PEM file, its private key. */
  readonly keyFile: string
  /** `sslpassword`: the key's passphrase, when the key is encrypted. */
  readonly password: Redacted.Redacted<string> | undefined
}

/** What the URL asks for: the mode in effect, where the trusted CAs come from, the client certificate. */
export interface Settings {
  readonly mode: Mode
  /** A PEM file, `system` (Node's trusted CAs), or undefined (none given). */
  readonly rootCert: string | undefined
  /** `sslcert` and `sslkey` (and `sslpassword`), or undefined (none given). */
  readonly clientCert: ClientCertificate | undefined
  /**
   * The host connected to, as the driver reads it: the last `host` parameter, else the URL's
   * host name (decoded, without an IPv6 address's brackets), else `localhost`.
   */
  readonly host: string
  /** The URL names a Unix socket: no TLS whatever the mode (libpq's rule). */
  readonly socket: boolean
}

/**
 * A malformed `%` escape in the URL's host, user name, password or database name (a `%` not
 * followed by two hex digits of UTF-8), which the driver would fail on as it connects, or undefined
 * (since 0.11.0, shared by the server's `DATABASE_URL` check and `enrollctl`'s `--database-url`:
 * a bad setting, never an unavailable store). Names the part, never its text.
 */
export const percentProblem = (u: URL): string | undefined => {
  for (const [part, text] of [["host", u.hostname], ["user name", u.username], ["password", u.password], ["database name", u.pathname]] as const) {
    try {
      decodeURIComponent(text)
    } catch {
      return `the ${part} has a malformed percent-encoding (a % not followed by two hex digits of UTF-8; write a % itself as %25)`
    }
  }
  return undefined
}

/** The parameters read here; each may be given once. */
const parameters = new Set(["sslmode", "sslrootcert", "sslcert", "sslkey", "sslpassword"])

/**
 * What the URL's TLS parameters say, or why they cannot be honoured: one sentence naming the
 * parameter (`sslmode=prefer is not supported …`), never the URL's credentials.
 */
export const settingsOf = (url: string): { readonly settings: Settings } | { readonly problem: string } => {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return { problem: "not a URL" }
  }
  const percent = percentProblem(u)
  if (percent !== undefined) return { problem: percent }
  const params = queryOf(u.search)
  if ("problem" in params) return params
  for (const [name, values] of params.query) {
    if (parameters.has(name)) {
      if (values.length > 1) return { problem: `${name} is given more than once` }
    } else if (parameters.has(name.toLowerCase())) {
      // Names are case-sensitive (libpq's, the driver's): SSLMODE=verify-full would be ignored, and the connection plain text.
      return { problem: `${name.slice(0, 40)} is not read: parameter names are lower case (write ${name.toLowerCase()})` }
    } else if (name.toLowerCase().startsWith("ssl") || name.toLowerCase() === "requiressl") {
      return {
        problem: `${name.slice(0, 40)} is not supported (of the TLS parameters, only sslmode, sslrootcert, ` +
          "sslcert, sslkey and sslpassword are, their names in lower case)"
      }
    }
  }
  const get = (name: string): string | undefined => params.query.get(name)?.[0]
  const given = get("sslmode") ?? null
  const rootCert = get("sslrootcert")
  if (rootCert === "") return { problem: "sslrootcert is empty: give a PEM file, or system" }
  const certFile = get("sslcert")
  const keyFile = get("sslkey")
  const password = get("sslpassword")
  if (certFile === "") return { problem: "sslcert is empty: give the client certificate's PEM file" }
  if (keyFile === "") return { problem: "sslkey is empty: give the client certificate's private key (a PEM file)" }
  if (certFile !== undefined && keyFile === undefined) {
    return { problem: "sslcert is given without sslkey: give both (the client certificate and its private key), or neither" }
  }
  if (keyFile !== undefined && certFile === undefined) {
    return { problem: "sslkey is given without sslcert: give both (the client certificate and its private key), or neither" }
  }
  // The passphrase itself is never said, not even its length.
  if (password !== undefined && keyFile === undefined) {
    return { problem: "sslpassword is given without sslkey: it is the passphrase of the client certificate's key" }
  }
  const supported = `one of ${modes.join(", ")}`
  if (given === "prefer" || given === "allow") {
    return {
      problem: `sslmode=${given} is not supported (the driver falls back to plain text only after verifying ` +
        `the certificate): use require for TLS without checking the certificate, verify-full to check it, or disable`
    }
  }
  if (given !== null && !(modes as ReadonlyArray<string>).includes(given)) {
    return { problem: `sslmode ${JSON.stringify(given.slice(0, 40))} is not supported: expected ${supported}` }
  }
  let mode = given as Mode | null
  if (rootCert === "system") {
    mode ??= "verify-full"
    if (mode !== "verify-full") {
      return { problem: `sslmode=${mode} cannot be used with sslrootcert=system (as in libpq): use verify-full` }
    }
  }
  if (mode === "verify-ca" && rootCert === undefined) {
    // Node's CAs without the host name would take any public CA's certificate, for any name.
    return {
      problem: "sslmode=verify-ca needs sslrootcert naming the server's CA file (a PEM file): it checks the chain " +
        "but not the host name, so against the public CAs any certificate they issued, for any name, would pass " +
        "(libpq would fail without ~/.postgresql/root.crt); use verify-full for a server whose certificate a public CA issued"
    }
  }
  if (rootCert !== undefined && (mode === null || mode === "disable")) {
    return {
      problem: `sslrootcert is given with ${mode === null ? "no sslmode" : "sslmode=disable"}: ` +
        "set sslmode=verify-full (or verify-ca) to check the server's certificate with it"
    }
  }
  if (certFile !== undefined && (mode === null || mode === "disable")) {
    return {
      problem: `sslcert is given with ${mode === null ? "no sslmode" : "sslmode=disable"}: a client certificate ` +
        "is presented over TLS only; set sslmode=verify-full (or verify-ca, or require)"
    }
  }
  // libpq: require with a root certificate verifies the chain, as verify-ca does.
  if (mode === "require" && rootCert !== undefined) mode = "verify-ca"
  // As the driver reads it (URLSearchParams): the last host parameter wins, and no host at all,
  // or an empty one (`?host=`), is localhost.
  const hostParameter = u.searchParams.getAll("host").at(-1)
  const host = hostParameter !== undefined
    ? (hostParameter === "" ? "localhost" : hostParameter)
    : (u.hostname === "" ? "localhost" : safeDecode(u.hostname).replace(/^\[(.*)\]$/, "$1"))
  const clientCert = certFile === undefined || keyFile === undefined
    ? undefined
    : { certFile, keyFile, password: password === undefined ? undefined : Redacted.make(password) }
  return { settings: { mode: mode ?? "disable", rootCert, clientCert, host, socket: host.startsWith("/") } }
}

/**
 * The query's parameters as libpq reads them: split on `&` and each part on its first `=`, each
 * side percent-decoded (`+` is a plus, not a space as URLSearchParams has it). A part that cannot be
 * decoded is refused, naming its parameter, never its value (it may be `sslpassword`'s).
 */
const queryOf = (
  search: string
): { readonly query: ReadonlyMap<string, ReadonlyArray<string>> } | { readonly problem: string } => {
  const query = new Map<string, Array<string>>()
  for (const part of search.replace(/^\?/, "").split("&")) {
    if (part === "") continue
    const at = part.indexOf("=")
    const rawName = at === -1 ? part : part.slice(0, at)
    let name: string
    let value: string
    try {
      name = decodeURIComponent(rawName)
    } catch {
      return { problem: `the parameter ${JSON.stringify(rawName.slice(0, 40))} cannot be decoded (a % not followed by two hex digits, or not UTF-8)` }
    }
    try {
      value = at === -1 ? "" : decodeURIComponent(part.slice(at + 1))
    } catch {
      return { problem: `${name.slice(0, 40)}'s value cannot be decoded (a % not followed by two hex digits, or not UTF-8): write a % as %25` }
    }
    const values = query.get(name)
    if (values === undefined) query.set(name, [value])
    else values.push(value)
  }
  return { query }
}

const safeDecode = (text: string): string => {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

/**
 * The key file's mode is too open for libpq, or undefined when it is not: group or others may
 * access it, beyond read by the group when root owns it (fe-secure-openssl.c's rule). Not checked
 * on Windows, as in libpq.
 */
export const keyModeProblem = (stat: { readonly uid: number; readonly mode: number }): string | undefined => {
  if (process.platform === "win32") return undefined
  const open = stat.uid === 0 ? stat.mode & 0o037 : stat.mode & 0o077
  if (open === 0) return undefined
  return `has group or world access (mode 0${(stat.mode & 0o777).toString(8).padStart(3, "0")}): it must be 0600 or less ` +
    "if not owned by root, or 0640 or less if owned by root (libpq's rule); chmod 600 it"
}

/**
 * The client certificate's files, read and checked as libpq does before it connects: the
 * certificate a PEM one, the key a regular file not open to others ({@link keyModeProblem}), in
 * PEM, decrypted with `sslpassword` when it is encrypted, and the certificate's. The key is
 * returned decrypted (PKCS #8 PEM): the driver never holds the passphrase, nor decrypts per
 * connection. A problem names the parameter and its file, never the passphrase.
 */
const readClientCertificate = (
  client: ClientCertificate
): { readonly cert: string; readonly key: string } | { readonly problem: string } => {
  const { certFile, keyFile } = client
  let cert: string
  try {
    cert = fs.readFileSync(certFile, "utf8")
  } catch (e) {
    return { problem: `sslcert ${certFile} cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})` }
  }
  let x509: crypto.X509Certificate
  try {
    if (!cert.includes("-----BEGIN CERTIFICATE-----")) throw new Error("no PEM certificate")
    x509 = new crypto.X509Certificate(cert)
  } catch {
    return { problem: `sslcert ${certFile} holds no PEM certificate` }
  }
  let stat: fs.Stats
  try {
    stat = fs.statSync(keyFile)
  } catch (e) {
    return { problem: `sslkey ${keyFile} cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})` }
  }
  if (!stat.isFile()) return { problem: `sslkey ${keyFile} is not a regular file` }
  const modeProblem = keyModeProblem(stat)
  if (modeProblem !== undefined) return { problem: `sslkey ${keyFile} ${modeProblem}` }
  let pem: string
  try {
    pem = fs.readFileSync(keyFile, "utf8")
  } catch (e) {
    return { problem: `sslkey ${keyFile} cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})` }
  }
  if (!/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(pem)) return { problem: `sslkey ${keyFile} holds no PEM private key` }
  const encrypted = pem.includes("-----BEGIN ENCRYPTED PRIVATE KEY-----") || /^Proc-Type: *4, *ENCRYPTED/m.test(pem)
  if (encrypted && client.password === undefined) {
    return { problem: `sslkey ${keyFile} is encrypted: give its passphrase in sslpassword` }
  }
  let key: crypto.KeyObject
  try {
    key = crypto.createPrivateKey({
      key: pem,
      format: "pem",
      ...(encrypted && client.password !== undefined ? { passphrase: Redacted.value(client.password) } : {})
    })
  } catch (e) {
    const code = (e as { readonly code?: unknown }).code
    return {
      problem: encrypted && code === "ERR_OSSL_BAD_DECRYPT"
        ? `sslkey ${keyFile} cannot be decrypted with sslpassword (a wrong passphrase?)`
        : `sslkey ${keyFile} holds no PEM private key that can be read${typeof code === "string" ? ` (${code})` : ""}`
    }
  }
  if (!x509.checkPrivateKey(key)) {
    return { problem: `sslcert ${certFile} does not go with sslkey ${keyFile}: the certificate is not the key's` }
  }
  return { cert, key: key.export({ type: "pkcs8", format: "pem" }) as string }
}

/**
 * The driver's `ssl` option for `settings`, reading `sslrootcert`'s file and the client
 * certificate's (`sslcert`, `sslkey`); or why they cannot be used.
 */
export const connectionOptions = (
  settings: Settings
): { readonly ssl: false | ConnectionOptions } | { readonly problem: string } => {
  if (settings.mode === "disable" || settings.socket) return { ssl: false }
  let client: { readonly cert: string; readonly key: string } | undefined
  if (settings.clientCert !== undefined) {
    const read = readClientCertificate(settings.clientCert)
    if ("problem" in read) return read
    client = read
  }
  if (settings.mode === "require") return { ssl: { rejectUnauthorized: false, ...client } }
  let ca: string | undefined
  if (settings.rootCert !== undefined && settings.rootCert !== "system") {
    try {
      ca = fs.readFileSync(settings.rootCert, "utf8")
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? String(e)
      return { problem: `sslrootcert ${settings.rootCert} cannot be read (${code})` }
    }
    if (!ca.includes("-----BEGIN CERTIFICATE-----")) {
      return { problem: `sslrootcert ${settings.rootCert} holds no PEM certificate` }
    }
  }
  return {
    ssl: {
      rejectUnauthorized: true,
      ...(ca === undefined ? {} : { ca }),
      // verify-ca: the chain only; the host name is verify-full's (Node's check, on the URL's host).
      ...(settings.mode === "verify-ca" ? { checkServerIdentity: () => undefined } : {}),
      ...client
    }
  }
}

/** The driver's `ssl` option the URL asks for, or why it cannot be honoured: {@link settingsOf}, then {@link connectionOptions}. */
export const fromUrl = (
  url: string
): { readonly ssl: false | ConnectionOptions; readonly settings: Settings } | { readonly problem: string } => {
  const s = settingsOf(url)
  if ("problem" in s) return s
  const c = connectionOptions(s.settings)
  return "problem" in c ? c : { ssl: c.ssl, settings: s.settings }
}

/**
 * The certificate problem Node's TLS found in `error`'s chain of causes (a `code` such as
 * `DEPTH_ZERO_SELF_SIGNED_CERT` or `ERR_TLS_CERT_ALTNAME_INVALID`), or undefined.
 */
const certificateProblem = (error: unknown): { readonly code: string; readonly message: string } | undefined => {
  let e = error as { readonly code?: unknown; readonly message?: unknown; readonly cause?: unknown; readonly reason?: unknown } | null | undefined
  for (let depth = 0; depth < 16 && typeof e === "object" && e !== null; depth++) {
    if (typeof e.code === "string" && /CERT|SELF_SIGNED|UNABLE_TO_(VERIFY|GET_ISSUER)/.test(e.code)) {
      // Node's advice (`--use-system-ca`) does not apply to a CA named by sslrootcert.
      return { code: e.code, message: String(e.message).split("; if the root CA is installed locally")[0]! }
    }
    e = (e.cause ?? e.reason) as typeof e
  }
  return undefined
}

/**
 * The TLS alert the server sent about the client's certificate (none given, or one it does not
 * trust: `ERR_SSL_TLSV1_ALERT_UNKNOWN_CA`, `…_BAD_CERTIFICATE`, `…_CERTIFICATE_REQUIRED`), or
 * undefined. Checked before {@link certificateProblem}, whose codes these would match.
 */
const clientCertificateAlert = (error: unknown): { readonly code: string; readonly message: string } | undefined => {
  let e = error as { readonly code?: unknown; readonly message?: unknown; readonly cause?: unknown; readonly reason?: unknown } | null | undefined
  for (let depth = 0; depth < 16 && typeof e === "object" && e !== null; depth++) {
    if (typeof e.code === "string" && /^ERR_SSL_.*ALERT_.*(CERTIFICATE|UNKNOWN_CA)/.test(e.code)) {
      // OpenSSL's message is a line of internals; its reason is the alert (`tlsv1 alert unknown ca`).
      return { code: e.code, message: typeof e.reason === "string" ? e.reason : String(e.message).trim() }
    }
    e = (e.cause ?? e.reason) as typeof e
  }
  return undefined
}

/** The server's refusal of a connection without a client certificate (`pg_hba.conf`'s `cert` or `clientcert=…`). */
const clientCertificateRequired = (error: unknown): string | undefined => {
  let e = error as { readonly message?: unknown; readonly cause?: unknown; readonly reason?: unknown } | null | undefined
  for (let depth = 0; depth < 16 && typeof e === "object" && e !== null; depth++) {
    if (typeof e.message === "string" && e.message.includes("requires a valid client certificate")) return e.message
    e = (e.cause ?? e.reason) as typeof e
  }
  return undefined
}

/** The server answered the driver's TLS request with no (`@effect/sql-pg` says so in its message). */
const refusedTls = (error: unknown): boolean => {
  let e = error as { readonly message?: unknown; readonly cause?: unknown; readonly reason?: unknown } | null | undefined
  for (let depth = 0; depth < 16 && typeof e === "object" && e !== null; depth++) {
    if (e.message === "The server does not support TLS") return true
    e = (e.cause ?? e.reason) as typeof e
  }
  return false
}

/**
 * `error` (a connection's failure) said again as the certificate's rejection, when that is what
 * it was: `the server's certificate was rejected (sslmode=verify-full, sslrootcert /etc/ca.pem):
 * self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)`, or the client's: `the server requires a
 * client certificate …`, `the server rejected the client certificate (sslcert …): tlsv1 alert
 * unknown ca …`; `error` itself otherwise.
 */
export const explain = (error: unknown, settings: Settings): unknown => {
  if (settings.mode !== "disable" && refusedTls(error)) {
    return new TlsNotEstablished({
      reason: `the server does not accept TLS (its ssl setting is off), and sslmode=${settings.mode} requires it: ` +
        "turn ssl on in the server, or use sslmode=disable where plain text is acceptable"
    })
  }
  const requirement = "give sslcert and sslkey, a certificate its ssl_ca_file trusts, for the user connecting"
  const alert = clientCertificateAlert(error)
  if (alert !== undefined) {
    return new TlsNotEstablished({
      reason: settings.clientCert === undefined
        ? `the server requires a client certificate (${alert.message}, ${alert.code}): ${requirement}`
        : `the server rejected the client certificate (sslcert ${settings.clientCert.certFile}): ${alert.message} ` +
          `(${alert.code}); its ssl_ca_file must hold the CA that issued it`
    })
  }
  const required = settings.clientCert === undefined ? clientCertificateRequired(error) : undefined
  if (required !== undefined) {
    return new TlsNotEstablished({ reason: `the server requires a client certificate (${required}): ${requirement}` })
  }
  const found = certificateProblem(error)
  if (found === undefined) return error
  const roots = settings.rootCert === undefined || settings.rootCert === "system"
    ? "Node's trusted CAs"
    : `sslrootcert ${settings.rootCert}`
  return new TlsNotEstablished({
    reason: `the server's certificate was rejected (sslmode=${settings.mode}, ${roots}): ${found.message} (${found.code})`
  })
}

/**
 * The server's TLS was not what the URL's `sslmode` requires: it has none, or its certificate
 * did not pass `verify-ca` or `verify-full`; or the server wanted a client certificate that was
 * not given, or refused the one given (see {@link explain}).
 */
export class TlsNotEstablished extends Schema.TaggedError<TlsNotEstablished>()("TlsNotEstablished", {
  reason: Schema.String
}) {
  override get message(): string {
    return this.reason
  }
}

/**
 * The connection URL's TLS parameters cannot be honoured: an unsupported `sslmode`, an
 * unreadable `sslrootcert`, … (`reason` says which). Nothing was opened.
 */
export class TlsSettingInvalid extends Schema.TaggedError<TlsSettingInvalid>()("TlsSettingInvalid", {
  reason: Schema.String
}) {
  override get message(): string {
    return `the connection URL's TLS settings cannot be used: ${this.reason}`
  }
}
