/**
 * The global settings of a run (flags first, then `ENROLLCTL_*` environment
 * variables), and the choice of mode they make: remote when a base URL is
 * given, local when a store is. Plain data and no heavy imports: the entry
 * point builds it, the runtime interprets it.
 *
 * @since 0.1.0
 */
import { Id } from "@enrollment/core"

/** The tenant local mode works in when `--tenant` is not given (remote mode takes it from the token). */
export const defaultTenant = "00000000-0000-0000-0000-000000000001"

/** The data directory when neither `--data-dir` nor `ENROLLCTL_DATA_DIR` is given (the server's default too). */
export const defaultDataDir = "./data"

/** The SQLite file of a data directory (the server's file). */
export const sqliteFile = "enrollment.sqlite"

/** The server's HS256 secret file of a data directory. */
export const secretFile = "auth-secret"

/** The stores `--store` (and `ENROLLCTL_STORE`) names. */
export const stores = ["sqlite", "postgres", "memory"] as const

/**
 * How long remote mode waits for one attempt of a request (its answer's headers and body), in
 * seconds, when neither `--timeout` nor `ENROLLCTL_TIMEOUT` says: the Microsoft Graph SDKs'
 * default request timeout.
 */
export const defaultTimeoutSeconds = 100

/** The longest `--timeout` a Node timer can hold (2^31 - 1 ms, about 24 days), in seconds. */
export const maxTimeoutSeconds = 2_147_483

/** The formats `--output` (and `ENROLLCTL_OUTPUT`) names. */
export const outputs = ["table", "json", "yaml"] as const

/** The global flags as parsed (absent ones undefined). */
export interface Globals {
  readonly baseUrl?: string | undefined
  readonly token?: string | undefined
  readonly dataDir?: string | undefined
  readonly store?: (typeof stores)[number] | undefined
  readonly databaseUrl?: string | undefined
  readonly databaseSchema?: string | undefined
  readonly tenant?: string | undefined
  readonly output?: (typeof outputs)[number] | undefined
  /** Remote mode: seconds to wait for one attempt of a request, as given (`0`: no limit of enrollctl's own). */
  readonly timeout?: string | undefined
  readonly select?: string | undefined
  readonly debug: boolean
  /**
   * Not a flag: whether `token` was minted by enrollctl (`Remote.settle`, from
   * `AUTH_HS256_SECRET`) rather than given, so that remote mode mints the next one before it
   * expires (`RemoteSettings.renew`).
   */
  readonly minted?: boolean | undefined
}

/** The globals a variable can give, with the flag and the variable that give each. */
const sources = {
  baseUrl: ["--base-url", "ENROLLCTL_BASE_URL"],
  token: ["--token", "ENROLLCTL_TOKEN"],
  dataDir: ["--data-dir", "ENROLLCTL_DATA_DIR"],
  store: ["--store", "ENROLLCTL_STORE"],
  databaseUrl: ["--database-url", "ENROLLCTL_DATABASE_URL"],
  databaseSchema: ["--database-schema", "ENROLLCTL_DATABASE_SCHEMA"],
  tenant: ["--tenant", "ENROLLCTL_TENANT"],
  output: ["--output", "ENROLLCTL_OUTPUT"],
  timeout: ["--timeout", "ENROLLCTL_TIMEOUT"]
} as const
type FromEither = keyof typeof sources

/** The globals of a run: flags first, then the `ENROLLCTL_*` variables; `fromFlags` holds the flags alone. */
export interface Resolved extends Globals {
  readonly fromFlags: Globals
}

/** The flag or the variable a global's value came from (the flag when neither gave one), to name in messages. */
export const origin = (g: Resolved, key: FromEither): string =>
  g.fromFlags[key] === undefined && env(sources[key][1]) !== undefined ? sources[key][1] : sources[key][0]

/** A global's value as the operator gave it: `--data-dir ./x`, or `ENROLLCTL_DATA_DIR=./x`. */
export const given = (g: Resolved, key: FromEither, value: string): string => {
  const name = origin(g, key)
  return name.startsWith("-") ? `${name} ${value}` : `${name}=${value}`
}

const env = (name: string): string | undefined => {
  const v = process.env[name]
  return v === undefined || v === "" ? undefined : v
}

/**
 * The variable of a global that is set to the empty string, where no flag gives the global:
 * it counts as unset, and a message that names the default taken says why.
 */
export const emptyVariable = (g: Resolved, key: FromEither): string | undefined => {
  const name = sources[key][1]
  return g.fromFlags[key] === undefined && process.env[name] === "" ? name : undefined
}

/**
 * Whether a tenant id is one the server can serve: core's key rule (`Id`: 1 to 128 characters,
 * no `/`, no control characters). The server takes a token's `tid` by the same length and
 * control-character rule (http-adapter `Auth`, not exported); `/` is refused here as in every
 * id the CLI takes. Data written under any other tenant (`''`) could never be read back.
 */
export const isTenant = (tenant: string): boolean => Id.isId(tenant)

/** The PostgreSQL schemas the server takes (`DATABASE_SCHEMA`), as messages describe them. */
const schemaExpected = "a PostgreSQL schema name of 1 to 63 bytes, not information_schema or pg_… (reserved for PostgreSQL)"

/**
 * What keeps `schema` from being a schema the server takes as its `DATABASE_SCHEMA`, or
 * undefined when nothing does: the server's rule (apps/server's `ServerConfig`, copied: it is
 * exported by no package the CLI depends on): not `pg_…` (any case) or `information_schema`
 * (PostgreSQL's own), and at most 63 bytes of UTF-8 (PostgreSQL cuts a longer name to 63, so two
 * long names would share a schema). And not empty: `--database-schema ''` names no schema (the
 * store would open in `public`). An empty `ENROLLCTL_DATABASE_SCHEMA` never reaches this: it
 * counts as unset, as the server reads an empty `DATABASE_SCHEMA` (`public`), so both find the
 * same store from the same environment ({@link emptyVariable} names it in messages).
 */
export const databaseSchemaProblem = (schema: string): string | undefined => {
  if (schema === "") return "got an empty name"
  if (/^pg_/i.test(schema) || schema.toLowerCase() === "information_schema") return `got ${JSON.stringify(schema)}`
  const bytes = Buffer.byteLength(schema, "utf8")
  return bytes > 63 ? `got a name of ${bytes} bytes (PostgreSQL would cut it to 63)` : undefined
}

/**
 * Whether a base URL is the service root the server names in its own links (`<origin>/beta`:
 * `@odata.nextLink`, `Location`), a trailing `/` allowed. Any other path reaches none of its routes:
 * the server would answer a missing segment (404), which reads as a missing entity.
 */
const isServiceRoot = (url: string): boolean => /\/beta\/*$/.test(new URL(url).pathname)

/**
 * What keeps an http(s) URL from being a base URL, as the end of a message (`, without …`), or
 * undefined when nothing does: a path that is not the service root ({@link isServiceRoot}); a
 * user or password (sent to no one: the token is the credential, and messages would show it);
 * a query or a fragment (`?x=1`, `#top`: the CLI writes each request's path and query after the
 * base URL, so they would end up inside the request's query or be dropped) (since 0.6.2).
 */
const serviceRootProblem = (text: string): string | undefined => {
  const url = new URL(text)
  if (url.username !== "" || url.password !== "") return ", without a user or password (the token is the credential)"
  // The text, not `search`: a bare `?` or `#` leaves `search` and `hash` empty.
  if (/[?#]/.test(text)) return ", without a query or fragment (? or #)"
  return isServiceRoot(text) ? undefined : ""
}

/** A URL as messages show it: the password in it, if any, replaced by `[redacted]`. */
export const redactUrl = (text: string): string => text.replace(/^([^:/?#]+:\/\/[^/?#@:]*:)[^/?#]*@/, "$1[redacted]@")

/**
 * The seconds a timeout names: a number, decimals allowed (`30`, `2.5`, `.5`), from 0 (no limit
 * of enrollctl's own) to {@link maxTimeoutSeconds}; undefined for anything else.
 */
const timeoutSeconds = (text: string): number | undefined => {
  if (!/^(?:\d+(?:\.\d*)?|\.\d+)$/.test(text)) return undefined
  const seconds = Number(text)
  return seconds <= maxTimeoutSeconds ? seconds : undefined
}

/** Remote mode's wait for one attempt of a request, and how it was set, for messages. */
export interface Timeout {
  /** In milliseconds; undefined: no limit of enrollctl's own (`0`). */
  readonly ms: number | undefined
  /** The seconds, as messages write them (`0.5`, `100`). */
  readonly seconds: number
  /** Where it came from: `--timeout`, `ENROLLCTL_TIMEOUT`, or the default. */
  readonly from: string
}

/**
 * The timeout of a run's remote requests: `--timeout`, else `ENROLLCTL_TIMEOUT`, else
 * {@link defaultTimeoutSeconds}; `0` sets none. The value was checked by {@link withEnvironment}.
 */
export const timeoutOf = (g: Resolved): Timeout => {
  const seconds = g.timeout === undefined ? defaultTimeoutSeconds : timeoutSeconds(g.timeout) ?? defaultTimeoutSeconds
  const from = g.timeout === undefined ? "the default" : origin(g, "timeout")
  return { ms: seconds === 0 ? undefined : Math.max(1, Math.round(seconds * 1000)), seconds, from }
}

/**
 * What keeps `value` from being sent as an HTTP header's value, or undefined when nothing does.
 * The rule is `fetch`'s: the spaces, tabs and line breaks around the value are dropped, and what
 * is left may hold tabs, spaces, visible ASCII and the characters U+0080 to U+00FF (sent as one
 * byte each), nothing else. `fetch` refuses anything else before it connects, with a message that
 * holds the value (a token's too), so remote mode checks first (`--token`, `--if-match`):
 * `a line break (U+000A) at index 7`.
 */
export const headerValueProblem = (value: string): string | undefined => {
  const start = value.length - value.replace(/^[\t\n\r ]+/, "").length
  const inner = value.replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, "")
  const bad = /[^\t\x20-\x7e\x80-\xff]/.exec(inner)
  if (bad === null) return undefined
  const c = bad[0].charCodeAt(0)
  const u = `U+${c.toString(16).toUpperCase().padStart(4, "0")}`
  const what = c > 0xff ? `a character beyond U+00FF (${u})` : c === 0x0a || c === 0x0d ? `a line break (${u})` : `a control character (${u})`
  return `${what} at index ${start + bad.index}`
}

const listed = (values: ReadonlyArray<string>) => `${values.slice(0, -1).join(", ")} or ${values.at(-1)}`

const oneOf = <A extends string>(values: ReadonlyArray<A>, v: string | undefined): v is A | undefined =>
  v === undefined || (values as ReadonlyArray<string>).includes(v)

const isUrl = (v: string, protocols: ReadonlyArray<string>): boolean => {
  try {
    return protocols.includes(new URL(v).protocol)
  } catch {
    return false
  }
}

/**
 * The globals with the environment filled in where a flag is absent, or, when
 * a value is one its flag would refuse (or that could not work: a base URL that
 * is not http(s), a database URL that is not postgres), why, naming the flag or
 * the variable it came from. An empty variable counts as unset.
 */
export const withEnvironment = (g: Globals): Resolved | { readonly refused: string } => {
  const store = g.store ?? env("ENROLLCTL_STORE")
  const output = g.output ?? env("ENROLLCTL_OUTPUT")
  const resolved = {
    fromFlags: g,
    baseUrl: g.baseUrl ?? env("ENROLLCTL_BASE_URL"),
    token: g.token ?? env("ENROLLCTL_TOKEN"),
    dataDir: g.dataDir ?? env("ENROLLCTL_DATA_DIR"),
    store: undefined,
    databaseUrl: g.databaseUrl ?? env("ENROLLCTL_DATABASE_URL"),
    databaseSchema: g.databaseSchema ?? env("ENROLLCTL_DATABASE_SCHEMA"),
    tenant: g.tenant ?? env("ENROLLCTL_TENANT"),
    output: undefined,
    timeout: g.timeout ?? env("ENROLLCTL_TIMEOUT"),
    select: g.select,
    debug: g.debug
  }
  const name = (key: FromEither) => origin(resolved, key)
  if (!oneOf(stores, store)) return { refused: `${name("store")}: expected ${listed(stores)}, got '${store}'` }
  if (!oneOf(outputs, output)) return { refused: `${name("output")}: expected ${listed(outputs)}, got '${output}'` }
  if (resolved.baseUrl !== undefined && !isUrl(resolved.baseUrl, ["http:", "https:"])) {
    return {
      refused: `${name("baseUrl")}: expected the Graph API's http(s) URL, e.g. http://127.0.0.1:8080/beta; got '${redactUrl(resolved.baseUrl)}'`
    }
  }
  // An empty variable counts as unset; an empty flag is a mistake (sent, it would be `Bearer `).
  if (g.token === "") return { refused: "--token: expected a bearer token (a JWT: header.payload.signature), got an empty one" }
  const baseUrlProblem = resolved.baseUrl === undefined ? undefined : serviceRootProblem(resolved.baseUrl)
  if (baseUrlProblem !== undefined) {
    return {
      refused: `${name("baseUrl")}: expected the service root, ending in /beta (e.g. http://127.0.0.1:8080/beta)${baseUrlProblem}; ` +
        `got '${redactUrl(resolved.baseUrl!)}'`
    }
  }
  if (resolved.tenant !== undefined && !isTenant(resolved.tenant)) {
    return {
      refused: `${name("tenant")}: expected a tenant id of 1 to 128 characters without '/' or control characters; got ${JSON.stringify(resolved.tenant)}`
    }
  }
  if (resolved.timeout !== undefined && timeoutSeconds(resolved.timeout) === undefined) {
    return {
      refused: `${name("timeout")}: expected seconds to wait for a request, a number such as 30 or 2.5 ` +
        `(0: no limit; at most ${maxTimeoutSeconds}); got ${JSON.stringify(resolved.timeout)}`
    }
  }
  const schemaProblem = resolved.databaseSchema === undefined ? undefined : databaseSchemaProblem(resolved.databaseSchema)
  if (schemaProblem !== undefined) {
    return { refused: `${name("databaseSchema")}: expected ${schemaExpected}, as the server's DATABASE_SCHEMA; ${schemaProblem}` }
  }
  if (resolved.databaseUrl !== undefined && !isUrl(resolved.databaseUrl, ["postgres:", "postgresql:"])) {
    // Not echoed: it may hold a password.
    return { refused: `${name("databaseUrl")}: expected a PostgreSQL URL, postgres://user@host:5432/database` }
  }
  return { ...resolved, store, output }
}
