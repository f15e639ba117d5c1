/**
 * The global settings of a run (flags first, then `ENROLLCTL_*` environment
 * variables), and the choice of mode they make: remote when a base URL is
 * given, local when a store is. Plain data and no heavy imports: the entry
 * point builds it, the runtime interprets it.
 *
 * @since 0.1.0
 */

/** The tenant local mode works in when `--tenant` is not given (remote mode takes it from the token). */
export const defaultTenant = "00000000-0000-0000-0000-000000000001"

/** The data directory when neither `--data-dir` nor `ENROLLCTL_DATA_DIR` is given (the server's default too). */
export const defaultDataDir = "./data"

/** The SQLite file of a data directory (the server's file). */
export const sqliteFile = "enrollment.sqlite"

/** The server's HS256 secret file of a data directory. */
export const secretFile = "auth-secret"

/** The global flags as parsed (absent ones undefined). */
export interface Globals {
  readonly baseUrl?: string | undefined
  readonly token?: string | undefined
  readonly dataDir?: string | undefined
  readonly store?: "sqlite" | "postgres" | "memory" | undefined
  readonly databaseUrl?: string | undefined
  readonly databaseSchema?: string | undefined
  readonly tenant?: string | undefined
  readonly output?: "table" | "json" | "yaml" | undefined
  readonly select?: string | undefined
  readonly debug: boolean
}

const env = (name: string): string | undefined => {
  const v = process.env[name]
  return v === undefined || v === "" ? undefined : v
}

/** The globals with the environment filled in where a flag is absent. */
export const withEnvironment = (g: Globals): Globals & { readonly fromFlags: Globals } => ({
  fromFlags: g,
  baseUrl: g.baseUrl ?? env("ENROLLCTL_BASE_URL"),
  token: g.token ?? env("ENROLLCTL_TOKEN"),
  dataDir: g.dataDir ?? env("ENROLLCTL_DATA_DIR"),
  store: g.store ?? (env("ENROLLCTL_STORE") as Globals["store"]),
  databaseUrl: g.databaseUrl ?? env("ENROLLCTL_DATABASE_URL"),
  databaseSchema: g.databaseSchema ?? env("ENROLLCTL_DATABASE_SCHEMA"),
  tenant: g.tenant ?? env("ENROLLCTL_TENANT"),
  output: g.output ?? (env("ENROLLCTL_OUTPUT") as Globals["output"]),
  select: g.select,
  debug: g.debug
})
