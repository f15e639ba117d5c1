/**
 * Local mode: operations run directly on a store (SQLite file or PostgreSQL)
 * through the core services, with the same validation and rules as the server.
 * Answers are the Graph JSON the server would send (entities with
 * `@odata.etag`, invitations without their internal user link). Query options
 * (`--filter`, `--expand`) are read by the server's own parser on the server's
 * own route (`Query.ts`), and applied as the server applies them.
 *
 * @since 0.1.0
 */
import { accessSync, constants, existsSync, statSync } from "node:fs"
import * as path from "node:path"
import { type AssignmentFilter, Assignments, type Configuration, Configurations, Directory, DirectoryService, ETag, Errors, MemoryStore, Paths, Store } from "@enrollment/core"
import type { OData } from "@enrollment/http-adapter"
import * as Credentials from "@enrollment/store-adapter/Credentials"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { Backend, type LocalSettings } from "./Backend.ts"
import { classOfStatus, ofDomainTag } from "./ExitCode.ts"
import { CommandFailed, usage } from "./Failure.ts"
import { type Answer, bodyOf, type ListOptions, memberIdOf, type MemberType, type Operation } from "./Operation.ts"
import * as Query from "./Query.ts"

/**
 * The base of an invitation's `inviteRedeemUrl` (`<base>?invitation=<id>`, made by core's
 * `Directory.invite`), as the server makes it on `POST /invitations`: its origin and `/redeem`
 * (http-adapter `Routes`). The server's origin is its `PUBLIC_URL`, else the request's scheme
 * and `Host`, and `http://localhost` for a request that names no usable host; local mode has
 * no request, so it writes what the server writes for that one.
 */
export const redeemBase = "http://localhost/redeem"

/** The store layer the settings name. Store adapters are loaded only when used. */
export const storeLayer = (settings: LocalSettings): Layer.Layer<Store, CommandFailed> => {
  const s = settings.store
  // An older release's store is migrated as local mode opens it (its server's start would): what the
  // upgrade did is said on standard error, once (store-adapter 0.6.0's notice).
  const notice = (line: string, level: "info" | "warn") => void process.stderr.write(`${level === "warn" ? "warning: " : ""}${line}\n`)
  const secret = s._tag === "postgres" ? s.url : undefined
  const opened = (
    l: Layer.Layer<Store, unknown>,
    why: (error: unknown) => string = (e) => reasonOf(e, secret)
  ): Layer.Layer<Store, CommandFailed> =>
    Layer.catchCause(l, (cause) => {
      const error = Cause.squash(cause)
      return Layer.unwrap(Effect.fail(error instanceof CommandFailed ? error : cannotOpen(settings, why(error), error)))
    })
  switch (s._tag) {
    case "memory":
      return MemoryStore.layer
    case "sqlite":
      return opened(
        Layer.unwrap(Effect.gen(function*() {
          yield* present(settings, s)
          const { SqliteStore } = yield* Effect.promise(() => import("@enrollment/store-adapter"))
          return SqliteStore.layer({ filename: s.filename, notice })
        })),
        (e) => sqliteReason(s.filename, e)
      )
    case "postgres":
      return opened(Layer.unwrap(Effect.promise(() => import("@enrollment/store-adapter")).pipe(
        Effect.map(({ PostgresStore }) =>
          PostgresStore.layer({ url: s.url, ...(s.schema ? { schema: s.schema } : {}), create: s.create === true, notice }).pipe(
            Layer.catchTag("StoreNotFound", () => Layer.unwrap(Effect.fail(noPostgresStore(settings, s)))),
            // TLS parameters the store cannot honour are a bad value of the flag or variable, exit 2 as the
            // server's exit 2 for its DATABASE_URL (since 0.4.1; before, exit 1, "cannot open the store").
            Layer.catchCause((cause) => {
              const error = Cause.squash(cause) as { readonly _tag?: unknown; readonly cause?: unknown }
              return Layer.unwrap(Effect.failCause(
                error?._tag === "StoreUnavailable" && isTlsSettingInvalid(error.cause)
                  ? Cause.fail(usage(`${s.urlFrom ?? "--database-url"}: ${error.cause.reason}`))
                  : cause
              ))
            })
          ) as Layer.Layer<Store, unknown>
        )
      )))
  }
}

type PostgresSettings = Extract<LocalSettings["store"], { readonly _tag: "postgres" }>

/** The store's refusal of a URL's TLS parameters (store-adapter's `TlsSettingInvalid`), told by its tag. */
const isTlsSettingInvalid = (cause: unknown): cause is { readonly reason: string } =>
  typeof cause === "object" && cause !== null && (cause as { _tag?: unknown })._tag === "TlsSettingInvalid" &&
  typeof (cause as { reason?: unknown }).reason === "string"

/**
 * A PostgreSQL schema that holds no store, refused as a missing SQLite file is: a
 * mistyped `--database-schema` must not make an empty schema and look like an empty tenant.
 * The message names the schema as it was given (`--database-schema S`,
 * `ENROLLCTL_DATABASE_SCHEMA=S`), or, when none was, says `public` is the default (an empty
 * `ENROLLCTL_DATABASE_SCHEMA` named as the reason) and where a server started with a
 * `DATABASE_SCHEMA` keeps its store.
 */
const noPostgresStore = (settings: LocalSettings, s: PostgresSettings) =>
  new CommandFailed({
    code: "StoreNotFound",
    detail: s.schema === undefined
      ? `no store in schema 'public' (${describe(settings)}; the default schema: ${s.named ?? "no --database-schema or ENROLLCTL_DATABASE_SCHEMA given"}): ` +
        `the server creates it on its first start without DATABASE_SCHEMA, and enrollctl only by import --create FILE; ` +
        `for a server started with DATABASE_SCHEMA=S, pass --database-schema S`
      : `no store in schema '${s.schema}' (${describe(settings)}; ${s.named ?? `--database-schema ${s.schema}`}): the server creates it ` +
        `on its first start with DATABASE_SCHEMA=${s.schema}, and enrollctl only by import --create FILE`,
    exit: "usage"
  })

/**
 * Whether the settings name a store that `import --create` is about to make: a SQLite
 * file that is not there, or a PostgreSQL schema that holds no store (opened to see).
 */
export const isNew = (settings: LocalSettings): Effect.Effect<boolean, CommandFailed> => {
  const s = settings.store
  if (s._tag === "sqlite") return Effect.sync(() => s.create === true && !existsSync(s.filename))
  if (s._tag !== "postgres" || s.create !== true) return Effect.succeed(false)
  const probe = storeLayer({ ...settings, store: { ...s, create: false } })
  return Effect.scoped(Layer.build(probe)).pipe(
    Effect.as(false),
    Effect.catchIf((e) => e.code === "StoreNotFound", () => Effect.succeed(true))
  )
}

type SqliteSettings = Extract<LocalSettings["store"], { readonly _tag: "sqlite" }>

/**
 * Refuses a store that is not there (and is not to be made) as opening it would
 * ({@link storeLayer}): for `import`, before it reads its input. A SQLite file is looked for
 * without opening it; a PostgreSQL schema is found only by connecting, so the store is opened
 * to see and closed again (as {@link isNew} does), and a database that cannot be reached is
 * refused here too. A schema `import --create` is to make (no store in it yet) passes.
 */
export const checkPresent = (settings: LocalSettings): Effect.Effect<void, CommandFailed> => {
  const s = settings.store
  if (s._tag === "sqlite") return present(settings, s)
  if (s._tag === "memory") return Effect.void
  const probe = Effect.scoped(Layer.build(storeLayer({ ...settings, store: { ...s, create: false } })))
  return s.create === true
    ? probe.pipe(Effect.asVoid, Effect.catchIf((e) => e.code === "StoreNotFound", () => Effect.void))
    : Effect.asVoid(probe)
}

const cannotOpen = (settings: LocalSettings, reason: string, cause: unknown) =>
  new CommandFailed({ code: "ServiceUnavailable", detail: `cannot open the store (${describe(settings)}): ${reason}`, exit: "other", cause })

/**
 * Refuses a SQLite file that is not there (unless the settings create it): the
 * store would make an empty one, and a mistyped `--data-dir` must not look like
 * an empty tenant. Only the server (on its first start) and `import --create`
 * make a store.
 */
const present = (settings: LocalSettings, s: SqliteSettings): Effect.Effect<void, CommandFailed> =>
  Effect.suspend(() => {
    try {
      if (statSync(s.filename).isFile()) return Effect.void
      return Effect.fail(cannotOpen(settings, `${s.filename} is not a file`, undefined))
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      if (code !== "ENOENT" && code !== "ENOTDIR") return Effect.fail(cannotOpen(settings, reasonOf(e), e))
      if (s.create === true) return Effect.void
      return Effect.fail(
        new CommandFailed({
          code: "StoreNotFound",
          detail: `no store at ${path.resolve(s.filename)} (${s.named ?? "--data-dir"}): the server creates it on its first start ` +
            `with that data directory, and enrollctl only by import --create FILE`,
          exit: "usage"
        })
      )
    }
  })

/**
 * SQLite's reason, made precise where it says only that it cannot open or write
 * the file: which access is refused (the file, or its directory, where the
 * journal is written).
 */
const sqliteReason = (filename: string, error: unknown): string => {
  const reason = reasonOf(error)
  if (!/unable to open database file|readonly database/.test(reason)) return reason
  const checks: ReadonlyArray<readonly [string, number]> = [
    [filename, constants.R_OK | constants.W_OK],
    [path.dirname(filename), constants.W_OK | constants.X_OK]
  ]
  for (const [p, mode] of checks) {
    try {
      accessSync(p, mode)
    } catch (e) {
      return `${reason} (${reasonOf(e)})`
    }
  }
  return reason
}

const messageOf = (e: unknown): string => {
  // A connect over several addresses (localhost: ::1 and 127.0.0.1) fails with one error per address.
  if (e instanceof AggregateError && e.message === "") return [...new Set(e.errors.map(messageOf))].join("; ")
  if (typeof e === "object" && e !== null && "message" in e) return String(e.message)
  return String(e)
}

/**
 * Why something failed, in one line: the innermost message among the error's
 * causes (`connect ECONNREFUSED 127.0.0.1:5432`, `database "x" does not exist`,
 * `file is not a database`, `EACCES: permission denied, …`), without the
 * credentials of `url` or of any other URL in it (`Credentials.redact`).
 */
export const reasonOf = (error: unknown, url?: string): string => {
  let reason = messageOf(error)
  let e: unknown = error
  for (let depth = 0; depth < 10 && typeof e === "object" && e !== null && "cause" in e && e.cause !== undefined; depth++) {
    e = e.cause
    const m = messageOf(e)
    if (m !== "") reason = m
  }
  return Credentials.redact(reason.replace(/\s+/g, " ").trim(), url)
}

/** A short description of the store, without secrets. */
export const describe = (settings: LocalSettings): string => {
  const s = settings.store
  switch (s._tag) {
    case "memory":
      return "local memory"
    case "sqlite":
      return `local sqlite ${s.filename}`
    case "postgres":
      return `local postgres ${Credentials.redactUrls(s.url)}${s.schema === undefined ? "" : ` schema ${s.schema}`}`
  }
}

/** A domain error (or any other failure) as a {@link CommandFailed}. */
export const fromDomain = (e: unknown): CommandFailed => {
  if (e instanceof CommandFailed) return e
  const tag = typeof e === "object" && e !== null && "_tag" in e ? String((e as any)._tag) : "Unknown"
  const { code, exit } = ofDomainTag(tag)
  const detail = e instanceof Error ? e.message : String(e)
  // A store failure says why (the engine's message), not only that the store is unavailable.
  const why = tag === "StoreUnavailable" ? reasonOf(e) : detail
  return new CommandFailed({ code, detail: why === detail ? detail : `${detail}: ${why}`, exit, cause: e })
}

const entity = (value: Record<string, any>): Answer => ({ _tag: "Entity", value: withETag(value) })
const withETag = (value: Record<string, any>) => ({ "@odata.etag": ETag.of(value), ...value })
const list = (items: ReadonlyArray<Record<string, any>>): Answer => ({ _tag: "List", items: items.map(withETag) })
const none: Answer = { _tag: "None" }
const invitation = (i: Directory.Invitation) => Directory.invitationView(i) as Record<string, any>

/**
 * Parses `--filter` with the server's own `$filter` parser (the http-adapter's
 * `OData.parseFilter`, loaded only when a filter is given), so that both modes
 * accept the same grammar and refuse the rest with the server's error:
 * `BadRequest` (a usage error, exit 2).
 */
export const parseFilter = (text: string | undefined): Effect.Effect<AssignmentFilter.AssignmentFilter | undefined, CommandFailed> => {
  if (text === undefined) return Effect.succeed(undefined)
  return Effect.flatMap(Effect.promise(() => import("@enrollment/http-adapter")), ({ OData }) => {
    const r = OData.parseFilter(text)
    if (r.ok) return Effect.succeed(r.filter)
    return Effect.fail(
      new CommandFailed({ code: r.problem.code, detail: r.problem.message, exit: classOfStatus(r.problem.status), status: r.problem.status })
    )
  })
}

/**
 * Parses a directory list's `--filter` as the server parses its `$filter`: the
 * http-adapter's `OData.parseObjectFilter`, with the properties the list's route
 * declares filterable (through `OData.parseQuery` on that route, see `Query.ts`).
 * The predicate takes the object as the server writes it.
 */
export const parseObjectFilter = (op: Operation, text: string | undefined): Effect.Effect<OData.ObjectFilter | undefined, CommandFailed> =>
  text === undefined ? Effect.succeed(undefined) : Effect.map(Query.parse(op, { $filter: text }), (q) => q?.where)

/**
 * Parses `--expand` as the server parses its `$expand` on the operation's route
 * (`assignments`, or `*`; options inside an expansion refused): the navigation
 * properties to write, or undefined without `--expand`.
 */
export const parseExpand = (op: Operation, text: string | undefined): Effect.Effect<ReadonlyArray<string> | undefined, CommandFailed> =>
  text === undefined ? Effect.succeed(undefined) : Effect.map(Query.parse(op, { $expand: text }), (q) => q?.expand)

/**
 * Refuses a request body the server would refuse for its size, before anything is read or written:
 * the server reads at most the http-adapter's `Body.defaultLimit` bytes of a body (1 MiB, unless
 * its `BODY_LIMIT_BYTES` says otherwise) and answers a longer one with 413, its
 * `Problem.tooLarge`: `RequestEntityTooLarge`, exit 2. Counted as remote mode sends the body: its
 * JSON, in UTF-8. The http-adapter is loaded only for an operation that has a body.
 */
export const checkBodySize = (op: Operation): Effect.Effect<void, CommandFailed> => {
  const body = bodyOf(op)
  if (body === undefined) return Effect.void
  const bytes = Buffer.byteLength(JSON.stringify(body), "utf8")
  return Effect.flatMap(Effect.promise(() => import("@enrollment/http-adapter")), ({ Body, Problem }) => {
    if (bytes <= Body.defaultLimit) return Effect.void
    const problem = Problem.tooLarge(Body.defaultLimit)
    return Effect.fail(new CommandFailed({ code: problem.code, detail: problem.message, exit: classOfStatus(problem.status), status: problem.status }))
  })
}

/** Reads every page (or `top` items) of a keyset-paged list. */
const all = <A, E>(
  options: ListOptions,
  page: (req: { after?: string | undefined; limit: number }) => Effect.Effect<{ items: ReadonlyArray<A>; next: string | undefined }, E>
) =>
  Effect.gen(function*() {
    const out: Array<A> = []
    let after: string | undefined
    const top = options.top ?? Infinity
    while (out.length < top) {
      const p = yield* page({ after, limit: Math.min(999, top - out.length) })
      out.push(...p.items)
      if (p.next === undefined) break
      after = p.next
    }
    return out
  })

/**
 * Reads every page (or `top` kept items) of a directory list as written (`view`),
 * keeping what `keep` (a `--filter`) keeps, as the server's filtered pages do.
 */
const kept = <A, E, B extends Record<string, any> = Record<string, any>>(
  options: ListOptions,
  page: (req: { after?: string | undefined; limit: number }) => Effect.Effect<{ items: ReadonlyArray<A>; next: string | undefined }, E>,
  view: (a: A) => B,
  keep: OData.ObjectFilter | undefined
): Effect.Effect<ReadonlyArray<B>, E> => {
  if (keep === undefined) return Effect.map(all(options, page), (items) => items.map(view))
  const filtered = (req: { after?: string | undefined; limit: number }) =>
    Effect.map(page({ after: req.after, limit: 999 }), (p) => ({ items: p.items.map(view).filter(keep), next: p.next }))
  return Effect.map(all(options, filtered), (items) => options.top === undefined ? items : items.slice(0, options.top))
}

/** `--type`: the members of that type, as the server's cast keeps them (none: every member). */
const ofType = (type: MemberType | undefined): OData.ObjectFilter | undefined =>
  type === undefined ? undefined : (m) => m["@odata.type"] === `#microsoft.graph.${type}`

/** The backend over the services in context. */
export const make = (settings: LocalSettings) =>
  Effect.gen(function*() {
    const assignments = yield* Assignments
    const configurations = yield* Configurations
    const directory = yield* DirectoryService
    const t = settings.tenant

    /**
     * The configurations with the navigation properties `names` written after their
     * own members, as the server writes `$expand=assignments`: every assignment of
     * each (read on the tenant path, as the server reads them), each written as the
     * server writes an entity. No `assignments@odata.context`: the CLI prints no
     * context in either mode (remote mode drops the server's).
     */
    const expand = (configs: ReadonlyArray<Configuration.Configuration>, names: ReadonlyArray<string> | undefined) => {
      if (names === undefined || !names.includes("assignments")) return Effect.succeed(configs.map(withETag))
      return Effect.flatMap(Effect.promise(() => import("@enrollment/http-adapter")), ({ OData }) =>
        Effect.forEach(configs, (c) =>
          Effect.map(
            all({}, (p) => assignments.list(t, Paths.tenant, c.id, p)),
            (as) => ({ ...withETag(c), assignments: as.map((a) => OData.entity(a, undefined)) })
          )))
    }
    const expanded = (names: ReadonlyArray<string> | undefined) => names === undefined ? {} : { expanded: names }

    const dispatch = (op: Operation): Effect.Effect<Answer, unknown> => {
      switch (op._tag) {
        case "assignments.list":
          return Effect.flatMap(parseFilter(op.filter), (filter) =>
            Effect.map(all(op.list, (p) => assignments.list(t, op.parent, op.configurationId, p, filter)), list))
        case "assignments.get":
          return Effect.map(assignments.get(t, op.parent, op.configurationId, op.id), entity)
        case "assignments.create":
          return Effect.map(assignments.create(t, op.parent, op.configurationId, op.body), entity)
        case "assignments.patch":
          return Effect.map(
            assignments.patch(t, op.parent, op.configurationId, op.id, op.body, { ifMatch: op.ifMatch }),
            entity
          )
        case "assignments.delete":
          return Effect.as(assignments.remove(t, op.parent, op.configurationId, op.id, { ifMatch: op.ifMatch }), none)
        case "configurations.list":
          return Effect.gen(function*() {
            const names = yield* parseExpand(op, op.expand)
            const keep = yield* parseObjectFilter(op, op.filter)
            const { parent, list: options } = op
            const cs = parent._tag === "Tenant"
              ? yield* kept(options, (p) => configurations.list(t, p), (c) => c, keep)
              : (yield* configurations.forUser(t, parent)).slice(0, options.top)
            return { _tag: "List", items: yield* expand(cs, names), ...expanded(names) } satisfies Answer
          })
        case "configurations.get":
          return Effect.gen(function*() {
            const names = yield* parseExpand(op, op.expand)
            const { parent, id } = op
            // Through a user, as the server answers: a configuration not targeted to the user is not found.
            const c = parent._tag === "Tenant"
              ? yield* configurations.get(t, id)
              : (yield* configurations.forUser(t, parent)).find((x) => x.id === id)
            if (c === undefined) return yield* new Errors.EntityNotFound({ entity: "deviceEnrollmentConfiguration", id })
            const [value] = yield* expand([c], names)
            return { _tag: "Entity", value: value!, ...expanded(names) } satisfies Answer
          })
        case "configurations.create":
          return Effect.map(configurations.create(t, op.body), entity)
        case "configurations.patch":
          return Effect.map(configurations.patch(t, op.id, op.body, { ifMatch: op.ifMatch }), entity)
        case "configurations.delete":
          return Effect.as(configurations.remove(t, op.id, { ifMatch: op.ifMatch }), none)
        case "configurations.assign":
          return Effect.as(configurations.assign(t, op.id, op.body, { ifMatch: op.ifMatch }), none)
        case "configurations.setPriority":
          return Effect.as(configurations.setPriority(t, op.id, op.body, { ifMatch: op.ifMatch }), none)
        case "users.list":
          return Effect.flatMap(parseObjectFilter(op, op.filter), (keep) =>
            Effect.map(kept(op.list, (p) => directory.listUsers(t, p), (u) => u, keep), list))
        case "users.get":
          return Effect.map(directory.getUser(t, op.id), entity)
        case "users.create":
          return Effect.map(directory.createUser(t, op.body), entity)
        case "users.patch":
          return Effect.map(directory.patchUser(t, op.id, op.body, { ifMatch: op.ifMatch }), entity)
        case "users.delete":
          return Effect.as(directory.removeUser(t, op.id, { ifMatch: op.ifMatch }), none)
        case "groups.list":
          return Effect.flatMap(parseObjectFilter(op, op.filter), (keep) =>
            Effect.map(kept(op.list, (p) => directory.listGroups(t, p), (g) => g, keep), list))
        case "groups.get":
          return Effect.map(directory.getGroup(t, op.id), entity)
        case "groups.create":
          return Effect.map(directory.createGroup(t, op.body), entity)
        case "groups.delete":
          return Effect.as(directory.removeGroup(t, op.id, { ifMatch: op.ifMatch }), none)
        case "members.list":
          return Effect.map(kept(op.list, (p) => directory.members(t, op.groupId, p), (m) => m, ofType(op.type)), list)
        case "transitiveMembers.list":
          return Effect.map(
            Effect.flatMap(directory.transitiveMembers(t, op.groupId), (membersOf) => kept(op.list, membersOf, (m) => m, ofType(op.type))),
            list
          )
        case "memberOf.list":
          return Effect.map(Effect.flatMap(directory.memberOf(t, op.member, op.transitive), (groupsOf) => all(op.list, groupsOf)), list)
        case "members.add":
          // The body is read first, as the server reads it before it looks the group up.
          return Effect.flatMap(memberIdOf(op.body), (memberId) => Effect.as(directory.addMember(t, op.groupId, memberId), none))
        case "members.remove":
          return Effect.as(directory.removeMember(t, op.groupId, op.memberId), none)
        case "invitations.list":
          return Effect.flatMap(parseObjectFilter(op, op.filter), (keep) =>
            Effect.map(kept(op.list, (p) => directory.listInvitations(t, p), invitation, keep), list))
        case "invitations.get":
          return Effect.map(directory.getInvitation(t, op.id), (i) => entity(invitation(i)))
        case "invitations.create":
          // As the server answers it: the invited user named after the invitation's own properties,
          // outside its ETag (the guest made, or the one an earlier invitation of the address made).
          return Effect.map(directory.createInvitation(t, op.body, redeemBase), (i): Answer => ({
            _tag: "Entity",
            value: { ...withETag(invitation(i)), invitedUser: { id: i.invitedUserId } }
          }))
        case "invitations.invitedUser":
          return Effect.map(directory.invitedUser(t, op.invitationId), entity)
      }
    }

    return Backend.of({
      describe: describe(settings),
      run: (op) =>
        // The server refuses a body over its limit before it reads the store.
        Effect.andThen(checkBodySize(op), Effect.suspend(() => dispatch(op))).pipe(
          Effect.catchDefect((defect) => Effect.fail(new CommandFailed({ code: "InternalError", detail: String(defect), exit: "other", cause: defect }))),
          Effect.mapError(fromDomain)
        )
    })
  })

/** The core services over the store the settings name. */
export const servicesLayer = (settings: LocalSettings) =>
  Layer.mergeAll(Assignments.layer, Configurations.layer, DirectoryService.layer).pipe(
    Layer.provideMerge(storeLayer(settings))
  )

/** The local backend, with the core services it runs on. */
export const layer = (settings: LocalSettings) =>
  Layer.effect(Backend, make(settings)).pipe(Layer.provideMerge(servicesLayer(settings)))
