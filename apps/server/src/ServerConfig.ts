/**
 * The server's configuration, read once from the environment with effect
 * `Config` and validated at start: every bad value is reported, one clear
 * line each, before anything runs. Secrets are `Redacted`.
 *
 * @since 0.1.0
 */
import { Config, Effect, Option, Redacted } from "effect"
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
  /** SQLite durability: FULL (default) survives power loss; NORMAL survives a killed process only. */
  readonly sqliteSynchronous: "FULL" | "NORMAL"
  /** Entries of the SQLite store's read cache; 0 turns it off. */
  readonly sqliteCacheEntries: number
  /** Bytes of GET answers kept until their tenant's data changes; 0 keeps none. */
  readonly responseCacheBytes: number
  readonly hs256Secret: Option.Option<Redacted.Redacted<string>>
  readonly jwksUrl: Option.Option<URL>
  readonly issuer: Option.Option<string>
  readonly audience: Option.Option<string>
  readonly logLevel: "debug" | "info" | "warn" | "error" | "none"
  readonly logFormat: "pretty" | "json"
  readonly otlpEndpoint: Option.Option<URL>
  readonly rateLimitPerSecond: number
  readonly rateLimitBurst: number
  readonly bodyLimitBytes: number
  readonly publicUrl: Option.Option<string>
  readonly tlsCertFile: Option.Option<string>
  readonly tlsKeyFile: Option.Option<string>
  /** V8's young-generation collection with helper threads: `auto` (off on one CPU), `on`, `off` (see `V8Tuning`). */
  readonly v8ParallelScavenge: V8Tuning.ParallelScavenge
}

const positiveInt = (name: string, fallback: number) => Config.Int(name).pipe(Config.withDefault(fallback))

/** One setting: its variable, its config, and how to say what is expected. */
const settings = {
  port: [Config.Int("PORT").pipe(Config.withDefault(8080)), "PORT", "a port number from 0 to 65535"],
  host: [Config.NonEmptyString("HOST").pipe(Config.withDefault("127.0.0.1")), "HOST", "a host name or address"],
  store: [Config.Literals(["sqlite", "postgres", "memory"], "STORE").pipe(Config.withDefault("sqlite" as const)), "STORE", "one of sqlite, postgres, memory"],
  dataDir: [Config.NonEmptyString("DATA_DIR").pipe(Config.withDefault("./data")), "DATA_DIR", "a directory path"],
  databaseUrl: [Config.option(Config.Redacted("DATABASE_URL")), "DATABASE_URL", "a postgres:// URL"],
  databaseSchema: [Config.option(Config.NonEmptyString("DATABASE_SCHEMA")), "DATABASE_SCHEMA", "a PostgreSQL schema name"],
  sqliteSynchronous: [Config.Literals(["FULL", "NORMAL"], "SQLITE_SYNCHRONOUS").pipe(Config.withDefault("FULL" as const)), "SQLITE_SYNCHRONOUS", "FULL or NORMAL"],
  sqliteCacheEntries: [Config.Int("SQLITE_CACHE_ENTRIES").pipe(Config.withDefault(20_000)), "SQLITE_CACHE_ENTRIES", "a whole number of entries (0 turns the cache off)"],
  responseCacheBytes: [Config.Int("RESPONSE_CACHE_BYTES").pipe(Config.withDefault(16_777_216)), "RESPONSE_CACHE_BYTES", "a whole number of bytes (0 keeps no answers)"],
  hs256Secret: [Config.option(Config.Redacted("AUTH_HS256_SECRET")), "AUTH_HS256_SECRET", "a secret of at least 32 characters"],
  jwksUrl: [Config.option(Config.URL("AUTH_JWKS_URL")), "AUTH_JWKS_URL", "an https:// URL of a JWKS"],
  issuer: [Config.option(Config.NonEmptyString("AUTH_ISSUER")), "AUTH_ISSUER", "the expected iss claim"],
  audience: [Config.option(Config.NonEmptyString("AUTH_AUDIENCE")), "AUTH_AUDIENCE", "the expected aud claim"],
  logLevel: [Config.Literals(["debug", "info", "warn", "error", "none"], "LOG_LEVEL").pipe(Config.withDefault("info" as const)), "LOG_LEVEL", "one of debug, info, warn, error, none"],
  logFormat: [Config.Literals(["pretty", "json"], "LOG_FORMAT").pipe(Config.withDefault("json" as const)), "LOG_FORMAT", "one of pretty, json"],
  otlpEndpoint: [Config.option(Config.URL("OTEL_EXPORTER_OTLP_ENDPOINT")), "OTEL_EXPORTER_OTLP_ENDPOINT", "an http(s):// URL of an OTLP/HTTP collector"],
  rateLimitPerSecond: [positiveInt("RATE_LIMIT_PER_SECOND", 2000), "RATE_LIMIT_PER_SECOND", "a positive integer (requests per second per client)"],
  rateLimitBurst: [positiveInt("RATE_LIMIT_BURST", 4000), "RATE_LIMIT_BURST", "a positive integer (burst size per client)"],
  bodyLimitBytes: [positiveInt("BODY_LIMIT_BYTES", 1024 * 1024), "BODY_LIMIT_BYTES", "a positive integer (bytes)"],
  publicUrl: [Config.option(Config.URL("PUBLIC_URL").pipe(Config.map((u) => u.origin))), "PUBLIC_URL", "the server's public origin, e.g. https://graph.example.com"],
  tlsCertFile: [Config.option(Config.NonEmptyString("TLS_CERT_FILE")), "TLS_CERT_FILE", "a PEM certificate file"],
  tlsKeyFile: [Config.option(Config.NonEmptyString("TLS_KEY_FILE")), "TLS_KEY_FILE", "a PEM private key file"],
  v8ParallelScavenge: [
    Config.Literals(V8Tuning.parallelScavengeSettings, "V8_PARALLEL_SCAVENGE").pipe(Config.withDefault("auto" as const)),
    "V8_PARALLEL_SCAVENGE",
    "one of auto, on, off"
  ]
} as const

/** A configuration that could not be read: one line per bad value. */
export class ConfigInvalid extends Error {
  readonly problems: ReadonlyArray<string>
  constructor(problems: ReadonlyArray<string>) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`)
    this.problems = problems
  }
}

/** Reads and validates the configuration from the current `ConfigProvider` (the environment by default). */
export const load: Effect.Effect<ServerConfig, ConfigInvalid> = Effect.gen(function*() {
  const out: Record<string, unknown> = {}
  const problems: Array<string> = []
  for (const [key, [config, variable, expected]] of Object.entries(settings)) {
    const r = yield* Effect.result(config as Config.Config<unknown>)
    if (r._tag === "Success") out[key] = r.success
    else problems.push(`${variable}: expected ${expected}, got ${JSON.stringify(String(process.env[variable] ?? "").slice(0, 80))}`)
  }
  const c = out as unknown as ServerConfig
  {
    if (c.store === "postgres" && c.databaseUrl !== undefined && Option.isNone(c.databaseUrl)) problems.push("DATABASE_URL: required when STORE=postgres")
    if (c.hs256Secret !== undefined && Option.isSome(c.hs256Secret) && Redacted.value(c.hs256Secret.value).length < 32) {
      problems.push("AUTH_HS256_SECRET: expected a secret of at least 32 characters")
    }
    if (c.jwksUrl !== undefined && Option.isSome(c.jwksUrl) && !/^https?:$/.test(c.jwksUrl.value.protocol)) problems.push("AUTH_JWKS_URL: expected an http(s) URL")
    if (c.port !== undefined && c.port < 0 || c.port > 65535) problems.push(`PORT: expected a port number from 0 to 65535, got ${c.port}`)
    for (const [k, v] of [["RATE_LIMIT_PER_SECOND", c.rateLimitPerSecond], ["RATE_LIMIT_BURST", c.rateLimitBurst], ["BODY_LIMIT_BYTES", c.bodyLimitBytes]] as const) {
      if (v !== undefined && v <= 0) problems.push(`${k}: expected a positive integer, got ${v}`)
    }
    if (c.sqliteCacheEntries !== undefined && c.sqliteCacheEntries < 0) {
      problems.push(`SQLITE_CACHE_ENTRIES: expected a whole number of entries (0 turns the cache off), got ${c.sqliteCacheEntries}`)
    }
    if (c.responseCacheBytes !== undefined && c.responseCacheBytes < 0) {
      problems.push(`RESPONSE_CACHE_BYTES: expected a whole number of bytes (0 keeps no answers), got ${c.responseCacheBytes}`)
    }
    if (c.tlsCertFile !== undefined && c.tlsKeyFile !== undefined && Option.isSome(c.tlsCertFile) !== Option.isSome(c.tlsKeyFile)) {
      problems.push("TLS_CERT_FILE / TLS_KEY_FILE: set both or neither")
    }
  }
  if (problems.length > 0) return yield* Effect.fail(new ConfigInvalid(problems))
  return c
})
