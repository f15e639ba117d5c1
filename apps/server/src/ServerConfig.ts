/**
 * The server's configuration, read once from the environment with effect
 * `Config` and validated at start: every bad value is reported, one clear
 * line each, before anything runs. Secrets are `Redacted`, and never echoed.
 *
 * An empty variable counts as unset where the setting has no default
 * (`DATABASE_URL=`, `AUTH_JWKS_URL=`, …: what a compose file writes for a variable
 * the host does not have); a setting with a default must be unset or have a
 * value (`PORT=` is an error, not 8080).
 *
 * @since 0.1.0
 */
import { Config, ConfigProvider, Effect, Option, Redacted, Schema } from "effect"
import { Body, Cors, Sampler, Secret as HttpSecret } from "@enrollment/http-adapter"
import * as PostgresTls from "@enrollment/store-adapter/PostgresTls"
import * as net from "node:net"
import * as path from "node:path"
import * as V8Tuning from "./V8Tuning.ts"

/** Where the data lives. */
export type StoreKind = "sqlite" | "postgres" | "memory"

/** The validated configuration. */
export interface ServerConfig {
  readonly port: number
  readonly host: string
  readonly store: StoreKind
  readonly dataDir: string
  readonly databaseUrl: Option.Option<Redacted.Redacted<string>>
  readonly databaseSchema: Option.Option<string>
  /** The most connections the PostgreSQL store's pool opens at once. */
  readonly databasePoolSize: number
  /** SQLite durability: FULL (default) survives power loss; NORMAL survives a killed process only. */
  readonly sqliteSynchronous: "FULL" | "NORMAL"
  /** Entries of the SQLite store's read cache; 0 turns it off. */
  readonly sqliteCacheEntries: number
  /** The longest a SQLite COMMIT waits for a checkpoint off the event loop to begin, in ms; 0: SQLite's own checkpoint on the event loop. */
  readonly sqliteCheckpointMs: number
  /** Bytes of GET answers kept until their tenant's data changes; 0 keeps none. */
  readonly responseCacheBytes: number
  /**
   * The longest a request may take before it is answered 503, in ms; 0: none. Unset: 60 000 on
   * PostgreSQL (whose deadline is each call's), none on SQLite and memory (since 0.7.0).
   */
  readonly requestDeadlineMs: Option.Option<number>
  readonly hs256Secret: Option.Option<Redacted.Redacted<string>>
  readonly jwksUrl: Option.Option<URL>
  readonly issuer: Option.Option<string>
  readonly audience: Option.Option<string>
  readonly logLevel: "debug" | "info" | "warn" | "error" | "none"
  readonly logFormat: "pretty" | "json"
  readonly otlpEndpoint: Option.Option<URL>
  /**
   * Which requests' traces are recorded (`OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`;
   * OpenTelemetry's names, default `parentbased_always_on`; since 0.7.0).
   */
  readonly tracesSampler: Sampler.Sampler
  /** The warnings of the sampler's settings: an argument its sampler does not read, a sampler without an exporter. */
  readonly tracesSamplerWarnings: ReadonlyArray<string>
  readonly rateLimitPerSecond: number
  readonly rateLimitBurst: number
  readonly bodyLimitBytes: number
  /** The public origin (`https://host[:port]`, no path). */
  readonly publicUrl: Option.Option<string>
  readonly tlsCertFile: Option.Option<string>
  readonly tlsKeyFile: Option.Option<string>
  /** V8's young-generation collection with helper threads: `auto` (off on one CPU), `on`, `off` (see `V8Tuning`). */
  readonly v8ParallelScavenge: V8Tuning.ParallelScavenge
  /** The port of the Prometheus endpoint's own listener (0: any free port); none: no metrics at all. */
  readonly metricsPort: Option.Option<number>
  /** Where the metrics listener listens (an address or host name, default `127.0.0.1`). */
  readonly metricsHost: string
  /**
   * The origins whose browser pages may call the API (`CORS_ALLOWED_ORIGINS`: `*`, or origins
   * separated by commas); none: no CORS (since 0.6.1).
   */
  readonly corsAllowedOrigins: Option.Option<ReadonlyArray<string> | "*">
  /** Variables that are set but have no effect with this store (see {@link unusedWarning}). */
  readonly unused: ReadonlyArray<string>
  /** `METRICS_HOST` is set without `METRICS_PORT`: no metrics listener (see {@link metricsHostWarning}). */
  readonly metricsHostUnused: boolean
}

/**
 * A whole number in decimal digits, nothing else: `1e3`, `0x50`, `80.0`, ` 80` and
 * `-1` are refused (JavaScript's number parsing would take the first three).
 */
const wholeNumber = (name: string, fallback: number) =>
  Config.schema(Schema.String.check(Schema.isPattern(/^[0-9]{1,15}$/)), name).pipe(Config.map(Number), Config.withDefault(fallback))

/** A whole number in decimal digits, or nothing (unset or empty). */
const optionalWholeNumber = (name: string) =>
  Config.option(Config.schema(Schema.String.check(Schema.isPattern(/^[0-9]{1,15}$/)), name).pipe(Config.map(Number)))

/**
 * The largest `DATABASE_POOL_SIZE`: beyond it a value is taken for a typo. PostgreSQL's own
 * `max_connections` (100 by default) is shared by every process, so a pool rarely needs more than tens.
 */
export const maxPoolSize = 1000

/** `DATABASE_POOL_SIZE` when unset, and with a store that has no pool (where it is not read at all). */
const defaultPoolSize = 10

const publicUrlExpected = "the server's public origin (scheme, host and optional port), e.g. https://graph.example.com"

const corsExpected = "* (any origin) or origins separated by commas, each as a browser sends it (e.g. https://app.example.com,http://localhost:3000)"

/**
 * `CORS_ALLOWED_ORIGINS` read: `*`, or a list of origins as browsers send them (compared as sent:
 * a trailing slash, a path or upper case would never match, so each is refused with what is wrong).
 */
export const corsOrigins = (value: string): { readonly origins: ReadonlyArray<string> | "*" } | { readonly problem: string } => {
  if (value.trim() === "*") return { origins: "*" }
  const origins = value.split(",").map((o) => o.trim())
  for (const origin of origins) {
    const problem = origin === "" ? "an empty item (two commas, or one at an end)" : Cors.originProblem(origin)
    if (problem !== undefined) return { problem: `CORS_ALLOWED_ORIGINS: ${echo(origin)}: ${problem}` }
  }
  return { origins }
}

/** The defaults of the settings one store reads and another does not (see {@link unusedWith}). */
const defaults = {
  databasePoolSize: defaultPoolSize,
  sqliteSynchronous: "FULL" as const,
  sqliteCacheEntries: 20_000,
  sqliteCheckpointMs: 1000,
  responseCacheBytes: 16_777_216
}

/**
 * The variables `store` does not read. Such a variable is not read at all (a bad value does not stop
 * the start, since 0.6.1: before, `SQLITE_SYNCHRONOUS=bogus` stopped a server on PostgreSQL while
 * `DATABASE_POOL_SIZE=abc` did not stop one on SQLite); it is only named in the unused-settings
 * warning, with the store used and where its data goes.
 */
const unusedWith = (store: ServerConfig["store"]): ReadonlyArray<string> => [
  ...(store !== "postgres" ? ["DATABASE_URL", "DATABASE_SCHEMA", "DATABASE_POOL_SIZE"] : []),
  ...(store !== "sqlite" ? ["SQLITE_SYNCHRONOUS", "SQLITE_CACHE_ENTRIES", "SQLITE_CHECKPOINT_MS"] : []),
  // Answers are kept only over a store that can tell when a tenant's data changed.
  ...(store === "postgres" ? ["RESPONSE_CACHE_BYTES"] : [])
]

/** One setting: its variable, its config, and how to say what is expected. */
const settings = {
  port: [wholeNumber("PORT", 8080), "PORT", "a port number from 0 to 65535 (0: any free port)"],
  host: [Config.NonEmptyString("HOST").pipe(Config.withDefault("127.0.0.1")), "HOST", "an IP address or host name to listen on (no scheme, port or brackets)"],
  store: [Config.Literals(["sqlite", "postgres", "memory"], "STORE").pipe(Config.withDefault("sqlite" as const)), "STORE", "one of sqlite, postgres, memory"],
  dataDir: [Config.NonEmptyString("DATA_DIR").pipe(Config.withDefault("./data")), "DATA_DIR", "a directory path"],
  databaseUrl: [Config.option(Config.Redacted("DATABASE_URL")), "DATABASE_URL", "a postgres:// or postgresql:// URL"],
  databaseSchema: [Config.option(Config.NonEmptyString("DATABASE_SCHEMA")), "DATABASE_SCHEMA", "a PostgreSQL schema name"],
  databasePoolSize: [wholeNumber("DATABASE_POOL_SIZE", defaultPoolSize), "DATABASE_POOL_SIZE", `a whole number of connections from 1 to ${maxPoolSize}`],
  sqliteSynchronous: [
    Config.Literals(["FULL", "NORMAL"], "SQLITE_SYNCHRONOUS").pipe(Config.withDefault(defaults.sqliteSynchronous)),
    "SQLITE_SYNCHRONOUS",
    "FULL or NORMAL"
  ],
  sqliteCacheEntries: [wholeNumber("SQLITE_CACHE_ENTRIES", defaults.sqliteCacheEntries), "SQLITE_CACHE_ENTRIES", "a whole number of entries (0 turns the cache off)"],
  sqliteCheckpointMs: [
    wholeNumber("SQLITE_CHECKPOINT_MS", defaults.sqliteCheckpointMs),
    "SQLITE_CHECKPOINT_MS",
    "a whole number of milliseconds (0: SQLite's own checkpoints, on the event loop)"
  ],
  responseCacheBytes: [wholeNumber("RESPONSE_CACHE_BYTES", defaults.responseCacheBytes), "RESPONSE_CACHE_BYTES", "a whole number of bytes (0 keeps no answers)"],
  requestDeadlineMs: [optionalWholeNumber("REQUEST_DEADLINE_MS"), "REQUEST_DEADLINE_MS", "a whole number of milliseconds (0: no deadline)"],
  hs256Secret: [Config.option(Config.Redacted("AUTH_HS256_SECRET")), "AUTH_HS256_SECRET", "a secret of at least 32 characters"],
  // http:// too: a JWKS served inside a trusted network (a local identity provider, a test's key server).
  jwksUrl: [Config.option(Config.URL("AUTH_JWKS_URL")), "AUTH_JWKS_URL", "an http:// or https:// URL of a JWKS"],
  issuer: [Config.option(Config.NonEmptyString("AUTH_ISSUER")), "AUTH_ISSUER", "the expected iss claim"],
  audience: [Config.option(Config.NonEmptyString("AUTH_AUDIENCE")), "AUTH_AUDIENCE", "the expected aud claim"],
  logLevel: [Config.Literals(["debug", "info", "warn", "error", "none"], "LOG_LEVEL").pipe(Config.withDefault("info" as const)), "LOG_LEVEL", "one of debug, info, warn, error, none"],
  logFormat: [Config.Literals(["pretty", "json"], "LOG_FORMAT").pipe(Config.withDefault("json" as const)), "LOG_FORMAT", "one of pretty, json"],
  otlpEndpoint: [Config.option(Config.URL("OTEL_EXPORTER_OTLP_ENDPOINT")), "OTEL_EXPORTER_OTLP_ENDPOINT", "an http(s):// URL of an OTLP/HTTP collector"],
  rateLimitPerSecond: [wholeNumber("RATE_LIMIT_PER_SECOND", 2000), "RATE_LIMIT_PER_SECOND", "a positive integer (requests per second per client)"],
  rateLimitBurst: [wholeNumber("RATE_LIMIT_BURST", 4000), "RATE_LIMIT_BURST", "a positive integer (burst size per client)"],
  bodyLimitBytes: [wholeNumber("BODY_LIMIT_BYTES", Body.defaultLimit), "BODY_LIMIT_BYTES", "a positive integer (bytes)"],
  publicUrl: [Config.option(Config.NonEmptyString("PUBLIC_URL")), "PUBLIC_URL", publicUrlExpected],
  tlsCertFile: [Config.option(Config.NonEmptyString("TLS_CERT_FILE")), "TLS_CERT_FILE", "a PEM certificate file"],
  tlsKeyFile: [Config.option(Config.NonEmptyString("TLS_KEY_FILE")), "TLS_KEY_FILE", "a PEM private key file"],
  v8ParallelScavenge: [
    Config.Literals(V8Tuning.parallelScavengeSettings, "V8_PARALLEL_SCAVENGE").pipe(Config.withDefault("auto" as const)),
    "V8_PARALLEL_SCAVENGE",
    "one of auto, on, off"
  ],
  metricsPort: [optionalWholeNumber("METRICS_PORT"), "METRICS_PORT", "a port number from 0 to 65535 (0: any free port) for the metrics listener"],
  corsAllowedOrigins: [Config.option(Config.NonEmptyString("CORS_ALLOWED_ORIGINS")), "CORS_ALLOWED_ORIGINS", corsExpected],
  metricsHost: [Config.NonEmptyString("METRICS_HOST").pipe(Config.withDefault("127.0.0.1")), "METRICS_HOST", "an IP address or host name (no scheme, port or brackets)"]
} as const

/** Variables whose value is never echoed in a message. */
const secrets: ReadonlySet<string> = new Set(["DATABASE_URL", "AUTH_HS256_SECRET"])

/**
 * Text settings used as written, where a space or line break at either end would be kept: a
 * directory named " ", a path beside the mounted volume, an audience no token names. A value with
 * leading or trailing whitespace is refused, as `PORT` and `HOST` refuse ` 80` (since 0.4.8).
 * `DATABASE_SCHEMA` only with `STORE=postgres`, the only store that reads it.
 */
const verbatim: ReadonlySet<string> = new Set([
  "HOST",
  "DATA_DIR",
  "DATABASE_SCHEMA",
  "AUTH_ISSUER",
  "AUTH_AUDIENCE",
  "PUBLIC_URL",
  "TLS_CERT_FILE",
  "TLS_KEY_FILE",
  "METRICS_HOST"
])

/**
 * A value as a message echoes it: quoted, its first 80 characters, and without what looks like
 * a URL's credentials (`user:token@` at the start or after `//`, up to its last `@`: a password
 * may hold one, and URL parsers split at the last), since a collector or key-set
 * URL may carry them (`instance:token@otlp.example.com` with its scheme forgotten parses as a
 * URL of the scheme `instance:`).
 */
export const echo = (value: string): string => JSON.stringify(value.replace(/(^|\/\/)[^\s/]*@/g, "$1***@").slice(0, 80))

/** A configuration that could not be read: one line per bad value. */
export class ConfigInvalid extends Error {
  readonly problems: ReadonlyArray<string>
  constructor(problems: ReadonlyArray<string>) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`)
    this.problems = problems
  }
}

/**
 * What is wrong with `DATABASE_URL` for the PostgreSQL store, if anything; never its password: not
 * a postgres:// URL, or a malformed `%` escape in its host, user name, password or database name.
 */
export const databaseUrlProblem = (url: string): string | undefined => {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return `DATABASE_URL: expected ${settings.databaseUrl[2]}, got a value that is not a URL`
  }
  if (u.protocol === "postgres:" || u.protocol === "postgresql:") {
    // The driver decodes them, and would stop the start as a store that is unavailable (exit 1).
    const percent = PostgresTls.percentProblem(u)
    return percent === undefined ? undefined : `DATABASE_URL: ${percent}`
  }
  const scheme = /^[a-z][a-z0-9+.-]{0,19}:$/i.test(u.protocol) ? `a URL with the scheme ${u.protocol}` : "another kind of URL"
  return `DATABASE_URL: expected ${settings.databaseUrl[2]}, got ${scheme}`
}

/**
 * What is wrong with a `DATABASE_SCHEMA`, if anything: PostgreSQL reserves `pg_…` and
 * `information_schema` for itself, and silently cuts a name to 63 bytes (two long names
 * would then share one schema).
 */
export const databaseSchemaProblem = (schema: string): string | undefined => {
  const expected = "a PostgreSQL schema name of at most 63 bytes, not information_schema or pg_… (reserved for PostgreSQL)"
  if (/^pg_/i.test(schema) || schema.toLowerCase() === "information_schema") {
    return `DATABASE_SCHEMA: expected ${expected}, got ${JSON.stringify(schema)}`
  }
  const bytes = Buffer.byteLength(schema, "utf8")
  if (bytes > 63) return `DATABASE_SCHEMA: expected ${expected}, got a name of ${bytes} bytes (PostgreSQL would cut it to 63)`
  return undefined
}

/**
 * `PUBLIC_URL` as an origin, or what is wrong with it. Only an origin is used (the
 * server serves `/beta` at the root), so a path, query, fragment or user is refused
 * rather than dropped; a single trailing `/` is allowed.
 */
export const publicOrigin = (value: string): { readonly origin: string } | { readonly problem: string } => {
  let u: URL
  try {
    u = new URL(value)
  } catch {
    return { problem: `PUBLIC_URL: expected ${publicUrlExpected}, got ${echo(value)}` }
  }
  const shown = u.username !== "" || u.password !== "" ? "a URL with a user name or password" : echo(value)
  if (u.protocol !== "http:" && u.protocol !== "https:") return { problem: `PUBLIC_URL: expected ${publicUrlExpected}, got ${shown}` }
  if (u.pathname !== "/" || value.includes("?") || value.includes("#") || u.username !== "" || u.password !== "") {
    return { problem: `PUBLIC_URL: must be an origin (scheme, host and optional port, e.g. https://graph.example.com), without a path, query, fragment or user; got ${shown}` }
  }
  return { origin: u.origin }
}

/**
 * An IP address (v4 or v6, without brackets) or a host name: what a listener binds to, nothing
 * more. Digits and dots alone are an IPv4 address or nothing (`999.1.1.1` is no host name).
 */
const isHost = (value: string): boolean =>
  net.isIP(value) !== 0 ||
  (!/^[0-9.]+$/.test(value) &&
    /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(value))

/** Reads and validates the configuration from `env` (the process's environment by default). */
export const load = (env: Readonly<Record<string, string | undefined>> = process.env): Effect.Effect<ServerConfig, ConfigInvalid> =>
  read(env).pipe(Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnv({
    env: Object.fromEntries(Object.entries(env).filter((kv): kv is [string, string] => kv[1] !== undefined))
  }))))

/** The settings through `Config`; `env` itself for what the provider hides (an empty value) and what a message may echo. */
const read = Effect.fnUntraced(function*(env: Readonly<Record<string, string | undefined>>) {
  const out: Record<string, unknown> = {}
  const problems: Array<string> = []
  const given = (variable: string) => env[variable] !== undefined && env[variable] !== ""
  for (const [key, [config, variable, expected]] of Object.entries(settings)) {
    // A setting the store does not read is not read (`unusedWith`); `settings` reads STORE first.
    if (key in defaults && out.store !== undefined && unusedWith(out.store as ServerConfig["store"]).includes(variable)) {
      out[key] = defaults[key as keyof typeof defaults]
      continue
    }
    const value = env[variable]
    if (verbatim.has(variable) && value !== undefined && value !== value.trim() && (key !== "databaseSchema" || out.store === "postgres")) {
      problems.push(`${variable}: expected ${expected}, got ${echo(value)}, which has leading or trailing whitespace`)
      continue
    }
    const r = yield* Effect.result(config as Config.Config<unknown>)
    const got = env[variable] === "" ? "an empty value" : secrets.has(variable) ? "a value" : echo(String(env[variable] ?? ""))
    if (r._tag === "Failure") problems.push(`${variable}: expected ${expected}, got ${got}`)
    // The provider reads "" as unset; a setting with a default is not silently given it.
    else if (env[variable] === "" && !Option.isOption(r.success)) problems.push(`${variable}: expected ${expected}, got an empty value (unset it for the default)`)
    else out[key] = r.success
  }
  const c = out as unknown as Omit<ServerConfig, "unused" | "metricsHostUnused" | "tracesSampler" | "tracesSamplerWarnings">
  if (c.store === "postgres" && c.databaseUrl !== undefined) {
    if (Option.isNone(c.databaseUrl)) problems.push("DATABASE_URL: required when STORE=postgres")
    else {
      const problem = databaseUrlProblem(Redacted.value(c.databaseUrl.value))
      if (problem !== undefined) problems.push(problem)
    }
  }
  if (c.store === "postgres" && c.databaseSchema !== undefined && Option.isSome(c.databaseSchema)) {
    const problem = databaseSchemaProblem(c.databaseSchema.value)
    if (problem !== undefined) problems.push(problem)
  }
  if (c.store === "postgres" && c.databasePoolSize !== undefined && (c.databasePoolSize < 1 || c.databasePoolSize > maxPoolSize)) {
    problems.push(`DATABASE_POOL_SIZE: expected ${settings.databasePoolSize[2]}, got ${c.databasePoolSize}`)
  }
  if (c.hs256Secret !== undefined && Option.isSome(c.hs256Secret)) {
    // Whitespace is refused, not trimmed: the value is the key, and `enrollctl token` signs with the
    // variable as written, after the same check (the zero-config file is another matter: a line
    // break ends a file).
    const problem = HttpSecret.textProblem(Redacted.value(c.hs256Secret.value))
    if (problem !== undefined) problems.push(`AUTH_HS256_SECRET: ${problem}`)
  }
  if (c.jwksUrl !== undefined && Option.isSome(c.jwksUrl) && !/^https?:$/.test(c.jwksUrl.value.protocol)) {
    problems.push(`AUTH_JWKS_URL: expected ${settings.jwksUrl[2]}, got a URL with the scheme ${c.jwksUrl.value.protocol}`)
  } else if (c.jwksUrl !== undefined && Option.isSome(c.jwksUrl) && (c.jwksUrl.value.username !== "" || c.jwksUrl.value.password !== "")) {
    // fetch refuses such a URL: the server would start, and answer every token 503. Not echoed.
    problems.push("AUTH_JWKS_URL: a URL with a user name or password cannot be used (the key set's HTTP client, fetch, refuses credentials in a URL, so no token could be verified)")
  }
  if (c.jwksUrl !== undefined && Option.isSome(c.jwksUrl) && c.audience !== undefined && Option.isNone(c.audience)) {
    // The key set (Entra ID's) signs tokens issued to every other application too.
    problems.push("AUTH_AUDIENCE: required with AUTH_JWKS_URL (the key set signs tokens issued to other applications too): set it to this API's application id URI or client id")
  }
  if (c.port !== undefined && c.port > 65535) problems.push(`PORT: expected ${settings.port[2]}, got ${c.port}`)
  if (c.metricsPort !== undefined && Option.isSome(c.metricsPort)) {
    const port = c.metricsPort.value
    if (port > 65535) problems.push(`METRICS_PORT: expected ${settings.metricsPort[2]}, got ${port}`)
    // The metrics need a listener of their own: the API's port would refuse it (or, on another
    // address of the same port, a reader of the configuration would take it for the API's).
    else if (port !== 0 && port === c.port && c.metricsHost === c.host) {
      problems.push(`METRICS_PORT: must differ from PORT (${port}) on the same host: the metrics are served by a listener of their own, never on the API's`)
    }
  }
  if (c.host !== undefined && !isHost(c.host)) {
    problems.push(`HOST: expected ${settings.host[2]}, got ${echo(c.host)}`)
  }
  // `localhost:4318` parses as a URL whose scheme is `localhost:`: refused here, not left to send no traces.
  if (c.otlpEndpoint !== undefined && Option.isSome(c.otlpEndpoint) && !/^https?:$/.test(c.otlpEndpoint.value.protocol)) {
    problems.push(`OTEL_EXPORTER_OTLP_ENDPOINT: expected ${settings.otlpEndpoint[2]}, got ${echo(c.otlpEndpoint.value.href)}`)
  } else if (c.otlpEndpoint !== undefined && Option.isSome(c.otlpEndpoint) && (c.otlpEndpoint.value.username !== "" || c.otlpEndpoint.value.password !== "")) {
    // The exporter's HTTP client (fetch) refuses such a URL: every export would fail, unseen.
    problems.push("OTEL_EXPORTER_OTLP_ENDPOINT: a URL with a user name or password cannot be used (the exporter's HTTP client refuses credentials in a URL, so no trace would be sent)")
  } else if (c.otlpEndpoint !== undefined && Option.isSome(c.otlpEndpoint) && /[?#]/.test(c.otlpEndpoint.value.href)) {
    // `/otlp?x=1` would be sent `/otlp?x=1/v1/traces`. Not echoed: a query may carry a token.
    problems.push("OTEL_EXPORTER_OTLP_ENDPOINT: a URL with a query or fragment cannot be used (it is a base URL: the signal paths /v1/traces, /v1/metrics and /v1/logs are appended to it)")
  }
  // Read beside Config: OpenTelemetry's two variables are one setting.
  const sampling = Sampler.parse(env.OTEL_TRACES_SAMPLER, env.OTEL_TRACES_SAMPLER_ARG)
  if (sampling._tag === "Problem") problems.push(sampling.problem)
  if (c.metricsHost !== undefined && !isHost(c.metricsHost)) {
    problems.push(`METRICS_HOST: expected ${settings.metricsHost[2]}, got ${echo(c.metricsHost)}`)
  }
  // Node's timers hold at most 2^31 - 1 ms (24.8 days): a longer one fires at once.
  if (c.requestDeadlineMs !== undefined && Option.isSome(c.requestDeadlineMs) && c.requestDeadlineMs.value > 2_147_483_647) {
    problems.push(`REQUEST_DEADLINE_MS: expected ${settings.requestDeadlineMs[2]} up to 2147483647 (24.8 days), got ${c.requestDeadlineMs.value}`)
  }
  for (const [k, v] of [["RATE_LIMIT_PER_SECOND", c.rateLimitPerSecond], ["RATE_LIMIT_BURST", c.rateLimitBurst], ["BODY_LIMIT_BYTES", c.bodyLimitBytes]] as const) {
    if (v !== undefined && v <= 0) problems.push(`${k}: expected a positive integer, got ${v}`)
  }
  let publicUrl = c.publicUrl
  if (publicUrl !== undefined && Option.isSome(publicUrl)) {
    const o = publicOrigin(publicUrl.value)
    if ("problem" in o) problems.push(o.problem)
    else publicUrl = Option.some(o.origin)
  }
  // Read as text, then as origins.
  const corsText = c.corsAllowedOrigins as unknown as Option.Option<string> | undefined
  let cors: Option.Option<ReadonlyArray<string> | "*"> = Option.none()
  if (corsText !== undefined && Option.isSome(corsText)) {
    const o = corsOrigins(corsText.value)
    if ("problem" in o) problems.push(o.problem)
    else cors = Option.some(o.origins)
  }
  if (c.tlsCertFile !== undefined && c.tlsKeyFile !== undefined && Option.isSome(c.tlsCertFile) !== Option.isSome(c.tlsKeyFile)) {
    problems.push("TLS_CERT_FILE / TLS_KEY_FILE: set both or neither")
  }
  if (problems.length > 0 || sampling._tag === "Problem") return yield* Effect.fail(new ConfigInvalid(problems))
  const unused = unusedWith(c.store).filter(given)
  const metricsHostUnused = given("METRICS_HOST") && Option.isNone(c.metricsPort)
  const tracesSamplerWarnings = [
    ...(sampling.warning !== undefined ? [sampling.warning] : []),
    ...(Option.isNone(c.otlpEndpoint) && (given("OTEL_TRACES_SAMPLER") || given("OTEL_TRACES_SAMPLER_ARG"))
      ? [`${["OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG"].filter(given).join(" and ")} ${given("OTEL_TRACES_SAMPLER") && given("OTEL_TRACES_SAMPLER_ARG") ? "are" : "is"} set but OTEL_EXPORTER_OTLP_ENDPOINT is not: tracing is off, and no trace is recorded`]
      : [])
  ]
  return { ...c, publicUrl, corsAllowedOrigins: cors, unused, metricsHostUnused, tracesSampler: sampling.sampler, tracesSamplerWarnings }
})

/** A request's deadline when `REQUEST_DEADLINE_MS` is unset on PostgreSQL: two calls' 30 s deadlines, inside a Graph client's 100 s. */
export const defaultPostgresRequestDeadlineMs = 60_000

/** The request deadline in effect, in ms (0: none): `REQUEST_DEADLINE_MS`, or the store's default. */
export const requestDeadline = (config: ServerConfig): number =>
  Option.getOrElse(config.requestDeadlineMs, () => (config.store === "postgres" ? defaultPostgresRequestDeadlineMs : 0))

/** Where the store keeps the data, for a person: the SQLite file, PostgreSQL's host and database, or memory. */
export const dataLocation = (config: ServerConfig): string => {
  switch (config.store) {
    case "sqlite":
      return `in ${path.resolve(config.dataDir, "enrollment.sqlite")}`
    case "memory":
      return "in memory (lost on exit)"
    case "postgres": {
      const url = Option.map(config.databaseUrl, (u) => new URL(Redacted.value(u)))
      const where = Option.match(url, {
        onNone: () => "",
        onSome: (u) => ` at ${u.host === "" ? "the local socket" : u.host}${u.pathname.length > 1 ? u.pathname : ""}`
      })
      return `in PostgreSQL${where}, schema ${Option.getOrElse(config.databaseSchema, () => "public")}`
    }
  }
}

/**
 * The start-up warning for variables that are set but not used with this store
 * (`DATABASE_URL` over SQLite, `SQLITE_SYNCHRONOUS` over PostgreSQL, …), naming
 * the store used and where its data goes; none when every set variable is used.
 * A warning, not a refusal: CI and the bench export `DATABASE_URL` to every process.
 */
export const unusedWarning = (config: ServerConfig): string | undefined =>
  config.unused.length === 0
    ? undefined
    : `${config.unused.join(", ")} ${config.unused.length === 1 ? "is" : "are"} set but not used with STORE=${config.store}: the data is ${dataLocation(config)}`

/**
 * The start-up warning for `METRICS_HOST` without `METRICS_PORT`: the metrics are off (no
 * listener), which an operator who set the host most likely did not mean.
 */
export const metricsHostWarning = (config: ServerConfig): string | undefined =>
  config.metricsHostUnused
    ? `METRICS_HOST is set but METRICS_PORT is not: no metrics listener (set METRICS_PORT to serve /metrics on ${config.metricsHost})`
    : undefined

/**
 * The start-up warning for `AUTH_HS256_SECRET` and `AUTH_JWKS_URL` set together: tokens signed with
 * either are accepted, so whoever holds the shared secret can mint tokens next to the identity
 * provider's (a test secret left in a production environment, say). Allowed, but never unseen.
 */
export const authWarning = (config: ServerConfig): string | undefined =>
  Option.isSome(config.hs256Secret) && Option.isSome(config.jwksUrl)
    ? "AUTH_HS256_SECRET and AUTH_JWKS_URL are both set: tokens signed with the shared secret are accepted as well as the key set's (unset AUTH_HS256_SECRET to accept only the identity provider's)"
    : undefined
