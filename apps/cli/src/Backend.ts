/**
 * The backend a command runs against: the Graph API over HTTP (remote mode) or
 * the store through the core services (local mode). Both take an
 * {@link Operation} and answer its Graph JSON, so commands are written once.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type { CommandFailed } from "./Failure.ts"
import type { Answer, Operation } from "./Operation.ts"
import type { Timeout } from "./Settings.ts"

/** The backend service. */
export class Backend extends Context.Service<Backend, {
  /** `remote <base url>` or `local <store>`, for messages. */
  readonly describe: string
  readonly run: (operation: Operation) => Effect.Effect<Answer, CommandFailed>
}>()("@enrollment/cli/Backend") {}

/** The remote mode's settings. */
export interface RemoteSettings {
  readonly baseUrl: string
  /** The token of the first request. */
  readonly token: string
  /**
   * How to mint another token, when enrollctl minted `token` itself (it holds the server's
   * secret): the client mints a fresh one `marginMs` before the one it sends expires, so a run
   * that outlives a token (a long import, its undo) goes on. Undefined for a token the operator
   * gave (`--token`, `ENROLLCTL_TOKEN`): it is sent as it is, until it expires.
   */
  readonly renew?: { readonly mint: Effect.Effect<string, CommandFailed>; readonly marginMs: number } | undefined
  /** How long one attempt of a request may take, headers and body (`--timeout`, `ENROLLCTL_TIMEOUT`). */
  readonly timeout: Timeout
  readonly debug: boolean
}

/**
 * The tokens enrollctl mints for remote mode from the server's secret (since 0.6.2): how long
 * each lasts (10 minutes), and how long before it expires the next is minted (60 s). A
 * reference, so that a test can shorten both rather than wait 10 minutes.
 */
export const MintedTokens = Context.Reference<{ readonly lifetimeSeconds: number; readonly renewBeforeMs: number }>(
  "@enrollment/cli/Backend/MintedTokens",
  { defaultValue: () => ({ lifetimeSeconds: 600, renewBeforeMs: 60_000 }) }
)

/** The local mode's settings. */
export interface LocalSettings {
  readonly store:
    | {
      readonly _tag: "sqlite"
      readonly filename: string
      /** How the data directory was named (`--data-dir DIR`, `ENROLLCTL_DATA_DIR=DIR`, the default), for messages. */
      readonly named?: string | undefined
      /** Create the file (and its directory) when missing: only `import --create`; otherwise a missing file is refused. */
      readonly create?: boolean | undefined
    }
    | {
      readonly _tag: "postgres"
      readonly url: string
      /** Where the URL came from (`--database-url`, `ENROLLCTL_DATABASE_URL`), for messages (since 0.4.1). */
      readonly urlFrom?: string | undefined
      readonly schema?: string | undefined
      /**
       * How the schema was named (`--database-schema S`, `ENROLLCTL_DATABASE_SCHEMA=S`), for messages; with no `schema`
       * (`public`), why, when a variable set empty says it; undefined: not named.
       */
      readonly named?: string | undefined
      /** Make the schema's store when it holds none: only `import --create`; otherwise a schema without one is refused. */
      readonly create?: boolean | undefined
    }
    | { readonly _tag: "memory" }
  readonly tenant: string
  readonly debug: boolean
}
