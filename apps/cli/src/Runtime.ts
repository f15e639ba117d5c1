/**
 * What a command does once parsed: choose the mode from the settings, build the
 * backend, run the operation and print its answer. Loaded by the entry point
 * only when a command runs, so `--help` stays fast.
 *
 * @since 0.1.0
 */
import * as path from "node:path"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { Backend, type LocalSettings, MintedTokens, type RemoteSettings } from "./Backend.ts"
import { CommandFailed, usage } from "./Failure.ts"
import { type Operation, operationOf, type Planned, withoutBody } from "./Operation.ts"
import * as Output from "./Output.ts"
import * as Select from "./Select.ts"
import {
  defaultDataDir,
  defaultTenant,
  emptyVariable,
  given,
  type Globals,
  headerValueProblem,
  origin,
  type Resolved,
  secretFile,
  sqliteFile,
  timeoutOf,
  withEnvironment
} from "./Settings.ts"

export * as Body from "./Body.ts"

/** The mode the settings choose. */
export type Mode =
  | { readonly _tag: "Remote"; readonly baseUrl: string }
  | { readonly _tag: "Local"; readonly settings: LocalSettings }

/** The globals of a run, the environment filled in; a value its flag would refuse is a usage error naming where it came from. */
export const settingsOf = (raw: Globals): Effect.Effect<Resolved, CommandFailed> => {
  const g = withEnvironment(raw)
  return "refused" in g ? Effect.fail(usage(g.refused)) : Effect.succeed(g)
}

/** Chooses the mode: flags first, then the environment; naming both a base URL and a store is a usage error. */
export const modeOf = (raw: Globals): Effect.Effect<Mode, CommandFailed> =>
  Effect.gen(function*() {
    const g = yield* settingsOf(raw)
    const pick = (source: Globals, from: string): Effect.Effect<Mode | undefined, CommandFailed> => {
      const local = source.store !== undefined || source.databaseUrl !== undefined
      if (source.baseUrl !== undefined && local) {
        return Effect.fail(usage(`${from} name both a base URL (remote mode) and a store (local mode); choose one`))
      }
      if (source.baseUrl !== undefined) {
        // As with another store: the flag, given where no store is opened, is refused; the variable is ignored.
        if (g.fromFlags.databaseSchema !== undefined) {
          return Effect.fail(usage(`--database-schema applies to PostgreSQL only (--database-url), not to remote mode (${origin(g, "baseUrl")})`))
        }
        // Remote mode reads the data directory only to mint a token from the server's secret: with
        // a token given it would be dropped, and the command would run with that token instead.
        if (g.fromFlags.dataDir !== undefined && g.token !== undefined) {
          const token = origin(g, "token")
          const remedy = token.startsWith("-") ? `leave out --data-dir, or ${token} to mint one` : `leave out --data-dir, or unset ${token} to mint one`
          return Effect.fail(
            usage(
              `--data-dir applies to SQLite (--store sqlite) and to remote mode's token, not to remote mode with a token given (${token}): ` +
                `the data directory is read only to mint a token from the server's secret; ${remedy}`
            )
          )
        }
        return Effect.succeed({ _tag: "Remote", baseUrl: source.baseUrl })
      }
      if (local) return Effect.map(localSettings(g, source), (settings) => ({ _tag: "Local", settings }))
      return Effect.succeed(undefined)
    }
    const mode = (yield* pick(g.fromFlags, "the flags")) ?? (yield* pick(g, "the ENROLLCTL_* variables"))
    if (mode === undefined) {
      return yield* usage(
        "no backend: pass --base-url URL (remote, or ENROLLCTL_BASE_URL) or --store sqlite [--data-dir DIR] / --database-url URL (local)"
      )
    }
    return mode
  })

const localSettings = (g: Resolved, source: Globals): Effect.Effect<LocalSettings, CommandFailed> => {
  const store = source.store ?? (source.databaseUrl !== undefined ? "postgres" : g.store ?? "sqlite")
  const tenant = g.tenant ?? defaultTenant
  const debug = g.debug
  // A database URL named with another store would be dropped, and the command would run on that
  // store (`--store memory`: an empty one) while the operator reads PostgreSQL in the command line.
  if (store !== "postgres" && g.fromFlags.databaseUrl !== undefined) {
    return Effect.fail(usage(`--database-url applies to PostgreSQL only (--store postgres, or no --store), not to ${given(g, "store", store)}`))
  }
  if (store !== "postgres" && g.fromFlags.databaseSchema !== undefined) {
    return Effect.fail(usage(`--database-schema applies to PostgreSQL only (--database-url), not to ${given(g, "store", store)}`))
  }
  // The data directory holds the SQLite file (and remote mode's secret): with another store it
  // would be dropped, as the operator reads a directory in the command line.
  if (store !== "sqlite" && g.fromFlags.dataDir !== undefined) {
    const named = source.store === undefined && store === "postgres" ? `PostgreSQL (${origin(g, "databaseUrl")})` : given(g, "store", store)
    return Effect.fail(usage(`--data-dir applies to SQLite (--store sqlite) and to remote mode's token, not to ${named}`))
  }
  // As --database-schema: the flag, given where it does nothing, is refused; the variable is ignored.
  if (g.fromFlags.timeout !== undefined) {
    return Effect.fail(usage(`--timeout applies to remote mode only (--base-url): local mode sends no requests`))
  }
  if (g.fromFlags.token !== undefined) {
    return Effect.fail(usage(`--token applies to remote mode only (--base-url): local mode runs on the store, with no token`))
  }
  switch (store) {
    case "sqlite": {
      const dataDir = g.dataDir ?? defaultDataDir
      return Effect.succeed({
        store: {
          _tag: "sqlite",
          filename: path.join(dataDir, sqliteFile),
          named: g.dataDir === undefined ? `the default data directory ${defaultDataDir}` : given(g, "dataDir", dataDir)
        },
        tenant,
        debug
      })
    }
    case "postgres": {
      const url = g.databaseUrl
      if (url === undefined) return Effect.fail(usage(`${given(g, "store", store)} needs --database-url (or ENROLLCTL_DATABASE_URL)`))
      const schema = g.databaseSchema
      const empty = emptyVariable(g, "databaseSchema")
      const named = schema !== undefined
        ? { schema, named: given(g, "databaseSchema", schema) }
        : empty === undefined
        ? {}
        : { named: `${empty} is empty, which counts as unset, as the server's DATABASE_SCHEMA does` }
      return Effect.succeed({
        store: { _tag: "postgres", url, urlFrom: origin(g, "databaseUrl"), ...named },
        tenant,
        debug
      })
    }
    case "memory":
      return Effect.succeed({ store: { _tag: "memory" }, tenant, debug })
  }
}

/**
 * Reads the server's HS256 secret from its data directory, as the server reads it (the
 * http-adapter's `Secret.readFile`, since 0.5.0): a file that holds no plausible secret (a SQLite
 * database, a file over 4 KiB, bytes that are not text, fewer than 32 bytes) is refused, naming it
 * and why, not minted with.
 */
export const readSecret = (dataDir: string) =>
  Effect.gen(function*() {
    const { Secret } = yield* Effect.promise(() => import("@enrollment/http-adapter"))
    const file = path.join(dataDir, secretFile)
    return yield* Effect.try({
      try: () => Secret.readFile(file),
      catch: (e) => {
        const code = (e as NodeJS.ErrnoException).code
        return new CommandFailed({
          code: "SecretUnavailable",
          detail: code !== undefined ? `cannot read the server's secret ${file}: ${code}` : (e as Error).message,
          exit: "auth"
        })
      }
    })
  })

/** What a minted token says (the http-adapter's `Token.mint` options, without the secret). */
export interface Claims {
  readonly tenant: string
  readonly scopes?: ReadonlyArray<string> | undefined
  readonly roles?: ReadonlyArray<string> | undefined
  readonly subject?: string | undefined
  readonly expiresIn?: string | number | undefined
  readonly audience?: string | undefined
  readonly issuer?: string | undefined
}

/** Mints an HS256 token with the server's secret, read from `dataDir` (the http-adapter's own minting). */
export const mint = ({ dataDir, ...claims }: Claims & { readonly dataDir: string }) =>
  Effect.gen(function*() {
    const secret = yield* readSecret(dataDir)
    const { Token } = yield* Effect.promise(() => import("@enrollment/http-adapter"))
    return yield* Effect.tryPromise({
      try: () => Token.mint({ secret, ...claims }),
      catch: (e) => usage(`cannot mint a token: ${(e as Error).message}`)
    })
  })

/** Remote mode without a token, and no secret to mint one from. */
const noToken = (e: CommandFailed) =>
  new CommandFailed({
    code: e.code,
    detail: `no token: pass --token (or ENROLLCTL_TOKEN), or --data-dir of a server with a local secret (${e.detail})`,
    exit: "auth"
  })

/**
 * Fails as {@link resolveMode} would when remote mode has no token and no secret to mint one
 * from (the data directory's `auth-secret`), without minting: for a command that reads its input
 * first and mints after, so a token minted for 10 minutes is not spent waiting for the input.
 */
export const checkSecret = (raw: Globals): Effect.Effect<void, CommandFailed> =>
  Effect.gen(function*() {
    const g = yield* settingsOf(raw)
    if (g.token !== undefined) return
    yield* readSecret(g.dataDir ?? defaultDataDir).pipe(Effect.mapError(noToken))
  })

/** The settings of the chosen mode, the remote token resolved (given, or minted from the local secret). */
export const resolveMode = (raw: Globals): Effect.Effect<
  { readonly _tag: "Remote"; readonly settings: RemoteSettings } | { readonly _tag: "Local"; readonly settings: LocalSettings },
  CommandFailed
> =>
  Effect.gen(function*() {
    const mode = yield* modeOf(raw)
    if (mode._tag === "Local") return mode
    const g = yield* settingsOf(raw)
    const settings = { baseUrl: mode.baseUrl, timeout: timeoutOf(g), debug: g.debug }
    const { lifetimeSeconds, renewBeforeMs } = yield* MintedTokens
    const claims = { tenant: g.tenant ?? defaultTenant, expiresIn: lifetimeSeconds }
    // A token given by the operator is sent as it is; one enrollctl minted, it mints again before
    // it expires (with the secret it was minted with), so that a long run does not outlive it.
    if (g.token !== undefined && raw.minted !== true) return { _tag: "Remote" as const, settings: { ...settings, token: g.token } }
    const again = g.token !== undefined
      ? Effect.flatMap(Effect.promise(() => import("./Remote.ts")), (Remote) => Remote.mint(Remote.secretSourceOf(g), claims))
      : mint({ dataDir: g.dataDir ?? defaultDataDir, ...claims }).pipe(Effect.mapError(noToken))
    const token = g.token ?? (yield* again)
    return { _tag: "Remote" as const, settings: { ...settings, token, renew: { mint: again, marginMs: renewBeforeMs } } }
  })

/** The backend the settings choose. */
export const backendLayer = (raw: Globals): Layer.Layer<Backend, CommandFailed> =>
  Layer.unwrap(Effect.gen(function*() {
    const mode = yield* resolveMode(raw)
    if (mode._tag === "Local") {
      const Local = yield* Effect.promise(() => import("./Local.ts"))
      return Local.layer(mode.settings) as Layer.Layer<Backend, CommandFailed>
    }
    const Remote = yield* Effect.promise(() => import("./Remote.ts"))
    return Remote.layer(mode.settings)
  }))

/**
 * A reader that stops early (`enrollctl export | head -1`) closes the pipe, and the next
 * write to it fails with EPIPE. enrollctl then stops there, quietly, with exit 0, as Node
 * command-line tools do (Node ignores SIGPIPE, so nothing stops it the way `cat` is
 * stopped): the reader had what it wanted. Any other error of standard output (a full disk,
 * ENOSPC) is fatal: it prints as every error does, on standard error, without a stack unless
 * --debug, and enrollctl stops with exit 1 (what it wrote so far is incomplete).
 */
const onStdoutError = (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0)
  process.stderr.write(`error OutputFailed: cannot write the output: ${e.message}${done === undefined ? "" : ` (${done})`}\n`)
  if (process.argv.includes("--debug")) process.stderr.write(`${e.stack ?? String(e)}\n`)
  process.exit(1)
}

/**
 * What the command had done when its answer is printed, if it changed anything (since 0.5.1): an
 * `OutputFailed` then says so, so that the command is not run again for the answer it could not
 * print (a create made twice, a backup refused as existing). Set by {@link markDone}.
 */
let done: string | undefined

/** Says that the command's change is made, before its answer is printed (see {@link done}). */
export const markDone = (what: string) =>
  Effect.sync(() => {
    done = what
  })

/** Whether an operation changes anything: every one but the reads (`….list`, `….get`, `invitations.invitedUser`). */
const changes = (tag: string): boolean => !/\.(list|get|invitedUser)$/.test(tag)

/** Prints text to standard output. */
export const print = (text: string) =>
  Effect.sync(() => {
    if (text === "") return
    if (process.stdout.listenerCount("error", onStdoutError) === 0) process.stdout.on("error", onStdoutError)
    process.stdout.write(text)
  })

/**
 * Runs a planned operation on the chosen backend and prints its answer. What the command would
 * refuse anyway is refused before its body is read (`--body -` waits for standard input to end, and
 * a mistake must not wait for it, nor hide behind the body's own error): the mode and the flags,
 * `--top`, `--if-match`, `--select` and the body's flags that need no body (`Planned`'s `check`); then local mode opens its store (a missing one refused:
 * no SQLite file, a PostgreSQL schema that holds no store), and remote mode checks it has a token,
 * or the secret to mint one from (minted once the body is read: it lasts 10 minutes).
 */
export const execute = (raw: Globals, planned: Planned) =>
  Effect.gen(function*() {
    const g = yield* settingsOf(raw)
    const mode = yield* modeOf(raw)
    const unread = withoutBody(planned)
    // Both modes alike: remote mode would send `$top=0`, which the server refuses.
    if ("list" in unread && unread.list.top !== undefined && unread.list.top < 1) {
      return yield* usage(`--top: expected a positive integer, got ${unread.list.top}`)
    }
    // Both modes alike: remote mode cannot send an If-Match header that holds such a character
    // (fetch refuses it), so local mode, which could compare it, refuses it too.
    const ifMatch = "ifMatch" in unread ? unread.ifMatch : undefined
    const unsendable = ifMatch === undefined ? undefined : headerValueProblem(ifMatch)
    if (unsendable !== undefined) {
      return yield* usage(`--if-match: expected an ETag (W/"…") or *, which an HTTP header can carry; this one holds ${unsendable}`)
    }
    // The names as the server's $select reads them (`DisplayName` is `displayName`), so both modes
    // print the same columns under the declared names. The route alone decides: the body is not needed.
    const select = yield* Select.check(unread, Output.parseSelect(g.select))
    // The body's flags that need no body, checked before the store is opened or the secret checked.
    if (planned._tag === "Unread" && planned.check !== undefined) yield* planned.check
    const run = (operation: Operation) =>
      Effect.gen(function*() {
        const backend = yield* Backend
        return yield* backend.run(operation)
      })
    const onBackend = <A>(effect: Effect.Effect<A, CommandFailed, Backend>) => effect.pipe(Effect.provide(backendLayer(raw)))
    const answer = mode._tag === "Local"
      // The store opened first, and the body read with it open: a missing store never waits for the body.
      ? yield* onBackend(Effect.flatMap(operationOf(planned), run))
      // The token minted (for 10 minutes) once the body is read; the secret it needs is checked before.
      : yield* checkSecret(raw).pipe(Effect.andThen(operationOf(planned)), Effect.flatMap((operation) => onBackend(run(operation))))
    const format = Output.formatOf(g.output, process.stdout.isTTY === true)
    if (changes(unread._tag)) yield* markDone("the change was made: do not run the command again for its answer")
    yield* print(Output.render(answer, { format, select, kind: Output.kindOfOperation(unread._tag) }))
  })

/** `enrollctl import [--create] FILE`. */
export const bulkImport = (raw: Globals, file: string, options: { readonly create: boolean }) =>
  Effect.flatMap(Effect.promise(() => import("./Bulk.ts")), (Bulk) => Bulk.importFile(raw, file, options))

/** `enrollctl batch FILE` (remote mode). */
export const batch = (raw: Globals, file: string) =>
  Effect.flatMap(Effect.promise(() => import("./Batch.ts")), (Batch) => Batch.send(raw, file))

/** `enrollctl export`. */
export const bulkExport = (raw: Globals) =>
  Effect.flatMap(Effect.promise(() => import("./Bulk.ts")), (Bulk) => Bulk.exportTenant(raw))

/** `enrollctl backup [--force] FILE` (local mode on SQLite). */
export const backup = (raw: Globals, file: string, options: { readonly force: boolean }) =>
  Effect.flatMap(Effect.promise(() => import("./Backup.ts")), (Backup) => Backup.run(raw, file, options))
