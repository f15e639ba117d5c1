/**
 * TLS to PostgreSQL as a connection URL's libpq parameters ask for it: `sslmode` and
 * `sslrootcert`, read here and handed to `@effect/sql-pg` as its explicit `ssl` option.
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
 * - `verify-full`: TLS, the chain and the host name checked;
 * - `prefer` and `allow` are refused: the driver can fall back to plain text only with the
 *   certificate verified, which is neither libpq's meaning nor what its user asked for.
 *
 * `sslrootcert` is a PEM file (read once, at open) or `system`: Node's trusted CAs, also what
 * `verify-ca` and `verify-full` use without it (libpq would look for `~/.postgresql/root.crt`).
 * With `system`, as in libpq 16, the default mode is `verify-full` and a weaker one is refused.
 * Every other `ssl…` parameter (`sslcert`, `sslkey`, `sslcrl`, node-postgres's `ssl=true`, …)
 * and `requiressl` are refused rather than ignored. Over a Unix socket there is no TLS, as in libpq.
 *
 * @since 0.5.0
 */
import { Schema } from "effect"
import * as fs from "node:fs"
import type { ConnectionOptions } from "node:tls"

/** The `sslmode` values the store honours. */
export const modes = ["disable", "require", "verify-ca", "verify-full"] as const

/** One of {@link modes}. */
export type Mode = typeof modes[number]

/** What the URL asks for: the mode in effect and where the trusted CAs come from. */
export interface Settings {
  readonly mode: Mode
  /** A PEM file, `system` (Node's trusted CAs), or undefined (none given). */
  readonly rootCert: string | undefined
  /** The URL names a Unix socket: no TLS whatever the mode (libpq's rule). */
  readonly socket: boolean
}

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
  const params = u.searchParams
  for (const name of new Set(params.keys())) {
    if (name === "sslmode" || name === "sslrootcert") {
      if (params.getAll(name).length > 1) return { problem: `${name} is given more than once` }
    } else if (name.startsWith("ssl") || name === "requiressl") {
      return { problem: `${name.slice(0, 40)} is not supported (of the TLS parameters, only sslmode and sslrootcert are)` }
    }
  }
  const given = params.get("sslmode")
  const rootCert = params.get("sslrootcert") ?? undefined
  if (rootCert === "") return { problem: "sslrootcert is empty: give a PEM file, or system" }
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
  if (rootCert !== undefined && (mode === null || mode === "disable")) {
    return {
      problem: `sslrootcert is given with ${mode === null ? "no sslmode" : "sslmode=disable"}: ` +
        "set sslmode=verify-full (or verify-ca) to check the server's certificate with it"
    }
  }
  // libpq: require with a root certificate verifies the chain, as verify-ca does.
  if (mode === "require" && rootCert !== undefined) mode = "verify-ca"
  const host = params.get("host") ?? safeDecode(u.hostname)
  return { settings: { mode: mode ?? "disable", rootCert, socket: host.startsWith("/") } }
}

const safeDecode = (text: string): string => {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

/** The driver's `ssl` option for `settings`, reading `sslrootcert`'s file; or why it cannot be read. */
export const connectionOptions = (
  settings: Settings
): { readonly ssl: false | ConnectionOptions } | { readonly problem: string } => {
  if (settings.mode === "disable" || settings.socket) return { ssl: false }
  if (settings.mode === "require") return { ssl: { rejectUnauthorized: false } }
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
      ...(settings.mode === "verify-ca" ? { checkServerIdentity: () => undefined } : {})
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
 * self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)`; `error` itself otherwise.
 */
export const explain = (error: unknown, settings: Settings): unknown => {
  if (settings.mode !== "disable" && refusedTls(error)) {
    return new TlsNotEstablished({
      reason: `the server does not accept TLS (its ssl setting is off), and sslmode=${settings.mode} requires it: ` +
        "turn ssl on in the server, or use sslmode=disable where plain text is acceptable"
    })
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
 * did not pass `verify-ca` or `verify-full` (see {@link explain}).
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
