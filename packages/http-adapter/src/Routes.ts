/**
 * The route table: every endpoint of the Graph (beta) face defined once, with
 * its method, path template, permission set, query options, schemas for the
 * API description, and its handler. The server serves it; the OpenAPI document
 * is generated from it.
 *
 * @since 0.1.0
 */
import {
  Assignment,
  Assignments,
  Configuration,
  Configurations,
  countPages,
  Directory,
  DirectoryService,
  Errors,
  ETag,
  type GroupsOf,
  type MembersOf,
  Id,
  Json,
  type Page,
  type PageRequest,
  inSnapshot,
  Paths,
  Store,
  yieldBetweenReads
} from "@enrollment/core"
import { Effect, Schema } from "effect"
import * as OData from "./OData.ts"
import * as Permissions from "./Permissions.ts"
import * as Requests from "./Requests.ts"

/** The services handlers need. */
export type Services = Assignments | Configurations | DirectoryService | Store

/** What a handler sees of the request. */
export interface Ctx {
  readonly params: Readonly<Record<string, string>>
  readonly tenant: string
  readonly body: unknown
  readonly query: OData.Query
  /** `<scheme>://<host>/beta` */
  readonly base: string
  /** The request path under `/beta`, as received. */
  readonly path: string
  readonly ifMatch: string | undefined
  /** The request's `If-None-Match` (since 0.15.0; optional for a context made before it). */
  readonly ifNoneMatch?: string | undefined
}

/** The request's preconditions on the entity it writes (`If-Match`, `If-None-Match`). */
const conditions = (ctx: Ctx): ETag.Conditions => ({ ifMatch: ctx.ifMatch, ifNoneMatch: ctx.ifNoneMatch })

/** What a handler answers. */
export type Reply =
  | {
    readonly _tag: "Entity"
    readonly status: 200 | 201
    readonly value: Record<string, unknown>
    readonly context: string
    /** `$expand`ed navigation properties, written after the entity's own (they are not part of its ETag). */
    readonly expanded?: Readonly<Record<string, unknown>> | undefined
  }
  | {
    readonly _tag: "Collection"
    readonly items: ReadonlyArray<Record<string, unknown>>
    readonly next: string | undefined
    readonly count: number | undefined
    readonly context: string
    /** Each item's `$expand`ed navigation properties, by position. */
    readonly expanded?: ReadonlyArray<Readonly<Record<string, unknown>>> | undefined
    /** The items are entity references (`{"@odata.id": …}`), written as they are; since 0.6.0. */
    readonly references?: boolean | undefined
    /**
     * Where the list continues after an item (its `next`): with it, the page may end early, after
     * the item whose text reaches {@link OData.pageTextBudget} (since 0.16.0).
     */
    readonly keyOf?: ((item: Record<string, unknown>) => string) | undefined
  }
  | { readonly _tag: "NoContent" }
  | { readonly _tag: "Text"; readonly text: string }

/** One endpoint. */
export interface Route {
  readonly method: "GET" | "POST" | "PATCH" | "DELETE"
  readonly path: string
  /**
   * Other paths that reach the route, with the same parameters: a type cast's segment as the
   * Graph SDKs write it (`graph.user` for `microsoft.graph.user`). The router puts them in its
   * trie when it is built; the route keeps its one `path` for metrics, logs and traces; since 0.6.0.
   */
  readonly aliases?: ReadonlyArray<string> | undefined
  readonly operationId: string
  readonly summary: string
  readonly tag: string
  readonly permission: Permissions.PermissionSet
  readonly query: OData.QueryKind
  readonly selectable: ReadonlyArray<string>
  /** The derived types whose properties `$select` may name behind a cast (configurations). */
  readonly derived?: OData.DerivedSelect | undefined
  /** The navigation properties `$expand` may name (none: `$expand` is refused). */
  readonly expandable?: ReadonlyArray<string> | undefined
  /** The properties a directory list's `$filter` may name (see `OData.parseObjectFilter`). */
  readonly filterable?: OData.FilterableProps | undefined
  /**
   * The request body's schema, for the description only (`Requests`: what the route accepts,
   * not the entity it answers); a route with one requires a JSON body.
   */
  readonly request: Schema.Top | undefined
  /** Success status and response schema for the description. */
  readonly response: { readonly status: number; readonly schema?: Schema.Top | undefined; readonly collection?: boolean; readonly text?: boolean }
  /**
   * Whether the route reads the request's `If-Match` and `If-None-Match` although its method does
   * not say so (an entity's PATCH, DELETE and GET do): an action bound to an entity, which checks
   * them against that entity's ETag (`assign` and `setPriority`, since 0.18.0). The description
   * offers the headers and the 412 where it is set.
   */
  readonly conditional?: boolean | undefined
  /**
   * The route's work. Written `Effect.fnUntraced(function*(ctx) { … })`, made once with the
   * route table: an `Effect.gen` inside an arrow would make a generator function per request,
   * which cost the server about a tenth of its PATCH and GET rate (BENCHMARKS.md).
   */
  readonly handler: (ctx: Ctx) => Effect.Effect<Reply, unknown, Services>
}

const ids = (ctx: Ctx, ...names: ReadonlyArray<string>) => {
  for (const n of names) {
    const v: string = ctx.params[n]!
    if (!Id.isId(v)) {
      return Effect.fail(Errors.invalid.value(n, "an id of 1 to 128 characters without '/' or control characters", JSON.stringify(String(v).slice(0, 60))))
    }
  }
  return Effect.void
}

const page = (ctx: Ctx) => ({ after: ctx.query.after, limit: ctx.query.top ?? OData.defaultPageSize })

const entity = (status: 200 | 201, value: Record<string, unknown>, context: string, expanded?: Record<string, unknown>): Reply =>
  expanded === undefined ? { _tag: "Entity", status, value, context } : { _tag: "Entity", status, value, context, expanded }
const collection = <A extends Record<string, unknown>>(
  p: Page<A>,
  context: string,
  count: number | undefined,
  expanded: ReadonlyArray<Record<string, unknown>> | undefined,
  keyOf: (item: A) => string
): Reply => ({
  _tag: "Collection",
  items: p.items,
  next: p.next,
  count,
  context,
  keyOf: keyOf as (item: Record<string, unknown>) => string,
  ...(expanded === undefined ? {} : { expanded })
})
const idOf = (item: Record<string, unknown>): string => String(item.id)
const noContent: Reply = { _tag: "NoContent" }

/**
 * Counts a whole list by paging through it, yielding to the event loop between two pages (since
 * 0.9.0: a synchronous store read the whole set in one turn, and the other requests waited for it;
 * an audit: 375 ms for 100 000 users under a long `$filter`, 7.8 s for a `$batch` of twenty). What a
 * filtered list's count reads, and a list whose store offers no count of its own. The core's
 * `countPages` since 0.12.0, which this was first.
 */
export const countAll = countPages

const assignmentProps = ["id", "target", "source", "sourceId"]
const configurationProps = [
  "id",
  "displayName",
  "description",
  "priority",
  "createdDateTime",
  "lastModifiedDateTime",
  "version",
  "roleScopeTagIds",
  "deviceEnrollmentConfigurationType"
]
/**
 * The properties each derived configuration type declares beside the base type's, as Graph
 * declares them: what the generated models of `@microsoft/msgraph-beta-sdk` 1.0.0-preview.81
 * write after `serializeDeviceEnrollmentConfiguration` (`test/select-cast-case.test.ts` derives
 * them again from the installed SDK). Stored as sent and not validated (SPEC 1.4); this table
 * only lets `$select` read a name after a cast as declared (`…LimitConfiguration/Limit` is
 * `limit`), as it reads the base's.
 *
 * @since 0.6.1
 */
export const derivedConfigurationProperties = {
  deviceEnrollmentLimitConfiguration: ["limit"],
  deviceEnrollmentPlatformRestrictionsConfiguration: [
    "androidForWorkRestriction", "androidRestriction", "iosRestriction", "macOSRestriction", "macRestriction", "tvosRestriction",
    "visionOSRestriction", "windowsHomeSkuRestriction", "windowsMobileRestriction", "windowsRestriction"
  ],
  deviceEnrollmentPlatformRestrictionConfiguration: ["platformRestriction", "platformType"],
  deviceEnrollmentWindowsHelloForBusinessConfiguration: [
    "enhancedBiometricsState", "enhancedSignInSecurity", "pinExpirationInDays", "pinLowercaseCharactersUsage", "pinMaximumLength",
    "pinMinimumLength", "pinPreviousBlockCount", "pinSpecialCharactersUsage", "pinUppercaseCharactersUsage", "remotePassportEnabled",
    "securityDeviceRequired", "securityKeyForSignIn", "state", "unlockWithBiometricsEnabled"
  ],
  windows10EnrollmentCompletionPageConfiguration: [
    "allowDeviceResetOnInstallFailure", "allowDeviceUseOnInstallFailure", "allowLogCollectionOnInstallFailure",
    "allowNonBlockingAppInstallation", "blockDeviceSetupRetryByUser", "customErrorMessage", "disableUserStatusTrackingAfterFirstUser",
    "installProgressTimeoutInMinutes", "installQualityUpdates", "selectedMobileAppIds", "showInstallationProgress",
    "trackInstallProgressForAutopilotOnly"
  ],
  deviceComanagementAuthorityConfiguration: ["configurationManagerAgentCommandLineArgument", "installConfigurationManagerAgent", "managedDeviceAuthority"],
  deviceEnrollmentNotificationConfiguration: [
    "brandingOptions", "defaultLocale", "notificationMessageTemplateId", "notificationTemplates", "platformType", "templateType"
  ],
  windowsRestoreDeviceEnrollmentConfiguration: ["state"]
} as const satisfies Record<Configuration.DerivedTypeName, ReadonlyArray<string>>

/** What `$select` may name behind a cast to a derived configuration type: the type's properties and the base's. */
const configurationCasts: OData.DerivedSelect = {
  types: Configuration.derivedTypeNames,
  properties: Object.fromEntries(
    Configuration.derivedTypeNames.map((t) => [t, [...configurationProps, ...derivedConfigurationProperties[t]]])
  )
}
const userProps = ["id", "displayName", "userPrincipalName", "mail", "userType", "accountEnabled"]
const groupProps = ["id", "displayName", "description", "mailNickname", "securityEnabled"]
const invitationProps = [
  "id",
  "invitedUserEmailAddress",
  "inviteRedirectUrl",
  "invitedUserDisplayName",
  "invitedUserType",
  "sendInvitationMessage",
  "inviteRedeemUrl",
  "status"
]
/**
 * What `$select` may name on a directory object: the modelled properties, and the others
 * Graph declares, which are kept as sent (`Directory.extraProperties`; never a write-only one).
 */
const selectableOf = (modelled: ReadonlyArray<string>, extra: ReadonlyArray<string>) => [...modelled, ...extra]

/** What a directory list's `$filter` may name (every property that is a string or a Boolean). */
const filterableOf = (props: ReadonlyArray<string>, booleans: ReadonlyArray<string>): OData.FilterableProps =>
  Object.fromEntries(props.map((p) => [p, booleans.includes(p) ? "boolean" : "string"]))

const AnyObject = Schema.Record(Schema.String, Schema.Unknown).annotate({ description: "a JSON object" })
/**
 * An invitation as answered: without the store's link to its user; the answer of its create names
 * that user as Graph's does (`invitedUser: {@odata.type, id}`; since 0.11.0, its type since 0.16.0), outside the ETag, which is the
 * invitation's as a GET reads it.
 */
const InvitationView = Directory.Invitation.mapFields(({ invitedUserId: _, ...rest }) => ({
  ...rest,
  invitedUser: Schema.optionalKey(
    Schema.Struct({ "@odata.type": Schema.Literal("#microsoft.graph.user"), id: Schema.String }).annotate({
      description: "The user the invitation invites, by its type and id: in the answer of the create only (a GET reads it at …/invitedUser)"
    })
  )
})).annotate({ identifier: "invitation" })

/** A family of assignment paths: its prefix template, how it names its parent, and its context prefix. */
interface Family {
  readonly name: "tenant" | "user" | "invitation"
  readonly prefix: string
  readonly parentParams: ReadonlyArray<string>
  readonly parent: (ctx: Ctx) => Paths.Parent
  readonly contextPrefix: (ctx: Ctx) => string
}

const families: ReadonlyArray<Family> = [
  {
    name: "tenant",
    prefix: "/deviceManagement",
    parentParams: [],
    parent: () => Paths.tenant,
    contextPrefix: () => "deviceManagement"
  },
  {
    name: "user",
    prefix: "/users/{userId}",
    parentParams: ["userId"],
    parent: (ctx) => Paths.user(ctx.params.userId!),
    contextPrefix: (ctx) => `users${OData.key(ctx.params.userId!)}`
  },
  {
    name: "invitation",
    prefix: "/invitations/{invitationId}/invitedUser",
    parentParams: ["invitationId"],
    parent: (ctx) => Paths.invitation(ctx.params.invitationId!),
    contextPrefix: (ctx) => `invitations${OData.key(ctx.params.invitationId!)}/invitedUser`
  }
]

const cap = (s: string) => s[0]!.toUpperCase() + s.slice(1)

/**
 * What a request's path parameters alone decide, made once per parameters object: the
 * router hands every request of one path the same frozen object (and forgets it with the
 * path), so a path's `@odata.context` is built, and its ids checked, once, not on every
 * request. `make` must read nothing of the request but its parameters.
 */
const perPath = <A>(make: (ctx: Ctx) => A) => {
  const made = new WeakMap<object, A>()
  return (ctx: Ctx): A => {
    let a = made.get(ctx.params)
    if (a === undefined) made.set(ctx.params, a = make(ctx))
    return a
  }
}

const assignmentRoutes = (f: Family): ReadonlyArray<Route> => {
  const coll = `${f.prefix}/deviceEnrollmentConfigurations/{configurationId}/assignments`
  const one = `${coll}/{assignmentId}`
  const ctxOf = perPath((ctx) =>
    `${f.contextPrefix(ctx)}/deviceEnrollmentConfigurations${OData.key(ctx.params.configurationId!)}/assignments`
  )
  const entityCtxOf = perPath((ctx) => `${ctxOf(ctx)}/$entity`)
  // The ids of the collection's path, and of one assignment's path (which has its own parameters).
  const check = perPath((ctx) => ids(ctx, ...f.parentParams, "configurationId"))
  const checkOne = perPath((ctx) => ids(ctx, ...f.parentParams, "configurationId", "assignmentId"))
  const tag = "enrollmentConfigurationAssignment"
  const op = (verb: string, plural = false) => `${verb}Assignment${plural ? "s" : ""}${f.name === "tenant" ? "" : `Via${cap(f.name)}`}`
  const where = f.name === "tenant" ? "" : f.name === "user" ? " (through a user it is targeted to)" : " (through an invitation's invited user)"
  return [
    {
      method: "GET",
      path: coll,
      operationId: op("list", true),
      summary: `List the assignments of a configuration${where}`,
      tag,
      permission: Permissions.readConfiguration,
      query: "assignments",
      selectable: assignmentProps,
      request: undefined,
      response: { status: 200, schema: Assignment.Assignment, collection: true },
      handler: relatedInSnapshot(Effect.fnUntraced(function*(ctx: Ctx) {
        yield* check(ctx)
        const svc = yield* Assignments
        const p = yield* svc.list(ctx.tenant, f.parent(ctx), ctx.params.configurationId!, page(ctx), ctx.query.filter)
        const count = ctx.query.count
          ? yield* svc.count(ctx.tenant, f.parent(ctx), ctx.params.configurationId!, ctx.query.filter)
          : undefined
        return collection(p, ctxOf(ctx), count, undefined, idOf)
      }), always)
    },
    {
      method: "GET",
      path: `${coll}/$count`,
      operationId: op("count", true),
      summary: `Count the assignments of a configuration${where} (text/plain; $filter counts what it keeps)`,
      tag,
      permission: Permissions.readConfiguration,
      query: "count",
      selectable: [],
      request: undefined,
      response: { status: 200, text: true },
      handler: Effect.fnUntraced(function*(ctx: Ctx) {
        yield* check(ctx)
        const svc = yield* Assignments
        const n = yield* svc.count(ctx.tenant, f.parent(ctx), ctx.params.configurationId!, ctx.query.filter)
        return { _tag: "Text", text: String(n) } as const
      })
    },
    {
      method: "GET",
      path: one,
      operationId: op("get"),
      summary: `Get an assignment${where}`,
      tag,
      permission: Permissions.readConfiguration,
      query: "entity",
      selectable: assignmentProps,
      request: undefined,
      response: { status: 200, schema: Assignment.Assignment },
      handler: Effect.fnUntraced(function*(ctx: Ctx) {
        yield* checkOne(ctx)
        const a = yield* (yield* Assignments).get(ctx.tenant, f.parent(ctx), ctx.params.configurationId!, ctx.params.assignmentId!)
        return entity(200, a, entityCtxOf(ctx))
      })
    },
    {
      method: "POST",
      path: coll,
      operationId: op("create"),
      summary: `Create an assignment${where}`,
      tag,
      permission: Permissions.writeConfiguration,
      query: "none",
      selectable: [],
      request: Requests.AssignmentCreate,
      response: { status: 201, schema: Assignment.Assignment },
      handler: Effect.fnUntraced(function*(ctx: Ctx) {
        yield* check(ctx)
        const a = yield* (yield* Assignments).create(ctx.tenant, f.parent(ctx), ctx.params.configurationId!, ctx.body)
        return entity(201, a, entityCtxOf(ctx))
      })
    },
    {
      method: "PATCH",
      path: one,
      operationId: op("update"),
      summary: `Update an assignment${where}: typed OData merge (SPEC 3)`,
      tag,
      permission: Permissions.writeConfiguration,
      query: "none",
      selectable: [],
      request: Requests.AssignmentUpdate,
      response: { status: 200, schema: Assignment.Assignment },
      handler: Effect.fnUntraced(function*(ctx: Ctx) {
        yield* checkOne(ctx)
        const a = yield* (yield* Assignments).patch(
          ctx.tenant,
          f.parent(ctx),
          ctx.params.configurationId!,
          ctx.params.assignmentId!,
          ctx.body,
          conditions(ctx)
        )
        return entity(200, a, entityCtxOf(ctx))
      })
    },
    {
      method: "DELETE",
      path: one,
      operationId: op("delete"),
      summary: `Delete an assignment${where}`,
      tag,
      permission: Permissions.writeConfiguration,
      query: "none",
      selectable: [],
      request: undefined,
      response: { status: 204 },
      handler: Effect.fnUntraced(function*(ctx: Ctx) {
        yield* checkOne(ctx)
        yield* (yield* Assignments).remove(ctx.tenant, f.parent(ctx), ctx.params.configurationId!, ctx.params.assignmentId!, conditions(ctx))
        return noContent
      })
    }
  ]
}

const cfgCtx = "deviceManagement/deviceEnrollmentConfigurations"

/** What the routes of one entity set share: paths, names, schema, permissions and the view written out. */
interface EntitySet<A> {
  /** The collection path, e.g. `/users`. */
  readonly path: string
  /** The key parameter, e.g. `userId`. */
  readonly param: string
  /** The entity set in `@odata.context`, e.g. `users`. */
  readonly context: string
  readonly tag: string
  /** Singular and plural nouns for operation ids (`getUser`, `listUsers`). */
  readonly noun: string
  readonly plural: string
  /** A person's words for one and for many, for summaries. */
  readonly one: string
  readonly many: string
  readonly schema: Schema.Top
  readonly props: ReadonlyArray<string>
  /** The derived types whose properties `$select` may name behind a cast. */
  readonly derived?: OData.DerivedSelect | undefined
  readonly read: Permissions.PermissionSet
  readonly write: Permissions.PermissionSet
  /** What is written for a stored value (default: the value itself). */
  readonly view?: ((a: A) => Record<string, unknown>) | undefined
  /** The navigation properties `$expand` may name, and how one entity's are read. */
  readonly expand?: Expansion<A> | undefined
  /** The properties its list's `$filter` may name; none: the list takes no `$filter`. */
  readonly filterable?: OData.FilterableProps | undefined
}

/**
 * The whole count of a list, read at once (the services' counts: the store's `COUNT(*)` where it
 * offers one), which `$count` and `$count=true` read when the request has no `$filter`.
 */
type WholeCount = (ctx: Ctx) => Op<number>

/**
 * What `$count` of `list` reads for `ctx`: `whole` when given and the request has no `$filter`,
 * else the list paged through, counting what the filter keeps ({@link countAll}).
 */
const countOfList = <A>(s: EntitySet<A>, list: (ctx: Ctx, p: PageRequest) => Op<Page<A>>, whole: WholeCount | undefined) =>
(ctx: Ctx): Op<number> => {
  const where = ctx.query.where
  if (where === undefined) return whole !== undefined ? whole(ctx) : countAll((pg) => list(ctx, pg))
  return countAll((pg) => list(ctx, pg), (a) => where(viewOf(s, a)))
}

/**
 * Whether a list with `$count=true` reads its page and its count in one snapshot of the store
 * (see {@link relatedInSnapshot}): when its count is read whole, at once (`whole`, no `$filter`).
 */
const countsWhole = (whole: WholeCount | undefined) => (ctx: Ctx) => whole !== undefined && ctx.query.where === undefined

/** How many objects one filtered or cast page reads at most before it answers what it kept (with a next link). */
const filterScanLimit = 100_000

/**
 * A page of the objects `keep` keeps, from a list that holds others too: a `$filter`'s, or a
 * type cast's (`…/members/microsoft.graph.user`, where `keep` says which are of the type). The
 * list's pages are read from `page.after` on until `page.limit` are kept or the list ends. Each
 * read asks for twice what is still missing and at least twice the last read, up to the largest
 * page, so a small page of a mixed list reads little and a sparse one few times. A page holds
 * fewer only at the end of the list, or past {@link filterScanLimit} objects read (then, maybe
 * none, with a next link, as OData's server-driven paging allows). Its next link is after the
 * last object it holds, so the next page neither repeats nor skips one; a full page has none
 * when nothing more can be kept (the rest of the list read held none). Between two reads it yields
 * to the event loop (since 0.9.0), as {@link countAll} does.
 */
export const keptPage = Effect.fnUntraced(function*<A extends { readonly id: string }, B extends A>(
  list: (p: PageRequest) => Op<Page<A>>,
  keep: (a: A) => a is B,
  page: PageRequest
) {
  const items: Array<B> = []
  let read = 0
  let cursor = page.after
  let asked = 0
  for (;;) {
    if (asked > 0) yield* yieldBetweenReads
    asked = Math.min(OData.maxPageSize, Math.max(2 * (page.limit - items.length), 2 * asked))
    const p = yield* list({ after: cursor, limit: asked })
    for (let i = 0; i < p.items.length; i++) {
      const a = p.items[i]!
      read++
      if (keep(a)) items.push(a)
      if (items.length === page.limit || read === filterScanLimit) {
        let more = p.next !== undefined
        for (let j = i + 1; !more && j < p.items.length; j++) more = keep(p.items[j]!)
        return { items, next: more ? a.id : undefined } as Page<B>
      }
    }
    if (p.next === undefined) return { items, next: undefined } as Page<B>
    cursor = p.next
  }
})

/**
 * The most related entities (assignments) one answer expands. An entity's expansion holds at
 * most this many, and a next link to the rest (`assignments@odata.nextLink`); a list's page ends
 * after the entity whose expansion reaches it, with a next link (server-driven paging: Graph's
 * pages shrink under `$expand` too). Unbounded, a page of configurations with thousands of
 * assignments each was one answer of hundreds of megabytes: seconds of blocked event loop, and
 * past V8's longest string a 500.
 *
 * @since 0.4.0
 */
export const expandBudget = 10_000

/** One entity's expanded members, and how many related entities they hold. */
interface Expanded {
  readonly members: Record<string, unknown>
  readonly size: number
}

/** A set's navigation properties for `$expand`, and what they hold for one entity. */
interface Expansion<A> {
  readonly names: ReadonlyArray<string>
  /**
   * The members written for `names` of `a` (`assignments@odata.context`, `assignments`), with at
   * most {@link expandBudget} related entities.
   */
  readonly load: (ctx: Ctx, a: A, names: ReadonlyArray<string>) => Op<Expanded>
}

/**
 * The expansions `ctx` asks for (undefined without `$expand`), of the first items: each item's
 * until {@link expandBudget} related entities are written, and always the first item's. A list
 * ends its page after the last item expanded.
 */
const expansionsOf = <A>(x: Expansion<A> | undefined, ctx: Ctx, items: ReadonlyArray<A>) => {
  const names = ctx.query.expand
  return x === undefined || names === undefined ? Effect.succeed(undefined) : expandWithin(x, ctx, items, names)
}

const expandWithin = Effect.fnUntraced(function*<A>(x: Expansion<A>, ctx: Ctx, items: ReadonlyArray<A>, names: ReadonlyArray<string>) {
  const out: Array<Record<string, unknown>> = []
  let size = 0
  for (const a of items) {
    if (size >= expandBudget) break
    const e = yield* x.load(ctx, a, names)
    out.push(e.members)
    size += e.size
  }
  return out
})

/** `p` ending after the items expanded (`expanded` of its first items), with `next` after the last of them. */
const expandedPage = <A>(p: Page<A>, expanded: ReadonlyArray<unknown> | undefined, keyOf: (a: A) => string): Page<A> =>
  expanded === undefined || expanded.length === p.items.length
    ? p
    : { items: p.items.slice(0, expanded.length), next: keyOf(p.items[expanded.length - 1]!) }

type Op<A> = Effect.Effect<A, unknown, Services>
const keyPath = <A>(s: EntitySet<A>) => `${s.path}/{${s.param}}`
const viewOf = <A>(s: EntitySet<A>, a: A) => (s.view ? s.view(a) : a as Record<string, unknown>)

const listRoute = <A>(s: EntitySet<A>, list: (ctx: Ctx, p: PageRequest) => Op<Page<A>>, whole?: WholeCount): Route => ({
  method: "GET",
  path: s.path,
  operationId: `list${s.plural}`,
  summary: `List ${s.many}`,
  tag: s.tag,
  permission: s.read,
  query: s.filterable === undefined ? "collection" : s.expand !== undefined ? "filteredCollection" : "directory",
  selectable: s.props,
  derived: s.derived,
  expandable: s.expand?.names,
  filterable: s.filterable,
  request: undefined,
  response: { status: 200, schema: s.schema, collection: true },
  handler: relatedInSnapshot(Effect.fnUntraced(function*(ctx: Ctx) {
    const where = ctx.query.where
    const p = where === undefined
      ? yield* list(ctx, page(ctx))
      : yield* keptPage((pg) => list(ctx, pg) as Op<Page<A & { readonly id: string }>>, (a): a is A & { readonly id: string } => where(viewOf(s, a)), page(ctx))
    const count = ctx.query.count ? yield* countOfList(s, list, whole)(ctx) : undefined
    const expanded = yield* expansionsOf(s.expand, ctx, p.items)
    const shown = expandedPage(p, expanded, (a) => (a as { readonly id: string }).id)
    return collection({ items: shown.items.map((a) => viewOf(s, a)), next: shown.next }, s.context, count, expanded, idOf)
  }), countsWhole(whole))
})

/**
 * `GET <collection>/$count` as text (SPEC 5: what Kiota's `count` request builders ask for;
 * the segment is never taken for an id).
 */
const countRoute = (
  options: {
    readonly path: string
    readonly operationId: string
    readonly summary: string
    readonly tag: string
    readonly permission: Permissions.PermissionSet
    /** A directory list's `$filter` properties: the count is of what the filter keeps. */
    readonly filterable?: OData.FilterableProps | undefined
  },
  count: (ctx: Ctx) => Op<number>
): Route => ({
  method: "GET",
  path: `${options.path}/$count`,
  operationId: options.operationId,
  summary: `${options.summary} (text/plain)`,
  tag: options.tag,
  permission: options.permission,
  query: options.filterable !== undefined ? "count" : "none",
  filterable: options.filterable,
  selectable: [],
  request: undefined,
  response: { status: 200, text: true },
  handler: (ctx) => Effect.map(count(ctx), (n): Reply => ({ _tag: "Text", text: String(n) }))
})

/**
 * The list of an entity set and its `/$count`, from one page reader, and the set's whole count
 * where it can be read at once (`whole`, since 0.12.0).
 */
const listAndCount = <A>(s: EntitySet<A>, list: (ctx: Ctx, p: PageRequest) => Op<Page<A>>, whole?: WholeCount): ReadonlyArray<Route> => [
  listRoute(s, list, whole),
  countRoute(
    { path: s.path, operationId: `count${s.plural}`, summary: `Count ${s.many}`, tag: s.tag, permission: s.read, filterable: s.filterable },
    countOfList(s, list, whole)
  )
]

const getRoute = <A>(s: EntitySet<A>, get: (ctx: Ctx, id: string) => Op<A>): Route => ({
  method: "GET",
  path: keyPath(s),
  operationId: `get${s.noun}`,
  summary: `Get ${s.one}`,
  tag: s.tag,
  permission: s.read,
  query: "entity",
  selectable: s.props,
  derived: s.derived,
  expandable: s.expand?.names,
  request: undefined,
  response: { status: 200, schema: s.schema },
  handler: relatedInSnapshot(Effect.fnUntraced(function*(ctx: Ctx) {
    yield* ids(ctx, s.param)
    const a = yield* get(ctx, ctx.params[s.param]!)
    const expanded = yield* expansionsOf(s.expand, ctx, [a])
    return entity(200, viewOf(s, a), `${s.context}/$entity`, expanded?.[0])
  }))
})

/**
 * The POST of a new entity of the set; `request` is what its body may hold (`Requests`), and
 * `links` what the answer carries after the entity's own properties, outside its ETag (an
 * invitation's `invitedUser`).
 */
const createRoute = <A>(
  s: EntitySet<A>,
  summary: string,
  request: Schema.Top,
  create: (ctx: Ctx) => Op<A>,
  links?: (a: A) => Record<string, unknown>
): Route => ({
  method: "POST",
  path: s.path,
  operationId: `create${s.noun}`,
  summary,
  tag: s.tag,
  permission: s.write,
  query: "none",
  selectable: [],
  request,
  response: { status: 201, schema: s.schema },
  handler: (ctx) => Effect.map(create(ctx), (a) => entity(201, viewOf(s, a), `${s.context}/$entity`, links?.(a)))
})

/** The PATCH of one entity of the set; `request` is what its body may hold (`Requests`). */
const patchRoute = <A>(s: EntitySet<A>, request: Schema.Top, patch: (ctx: Ctx, id: string) => Op<A>): Route => ({
  method: "PATCH",
  path: keyPath(s),
  operationId: `update${s.noun}`,
  summary: `Update ${s.one}`,
  tag: s.tag,
  permission: s.write,
  query: "none",
  selectable: [],
  request,
  response: { status: 200, schema: s.schema },
  handler: Effect.fnUntraced(function*(ctx: Ctx) {
    yield* ids(ctx, s.param)
    return entity(200, viewOf(s, yield* patch(ctx, ctx.params[s.param]!)), `${s.context}/$entity`)
  })
})

/** A route answering 204 on success: a DELETE or an action, on one entity of the set. */
const commandRoute = <A>(
  s: EntitySet<A>,
  options: {
    readonly method: "POST" | "DELETE"
    readonly suffix: string
    readonly operationId: string
    readonly summary: string
    readonly request: Schema.Top | undefined
    readonly permission?: Permissions.PermissionSet
    readonly params?: ReadonlyArray<string>
    /** An action that checks the request's preconditions on the entity (see {@link Route} `conditional`). */
    readonly conditional?: boolean
  },
  run: (ctx: Ctx, id: string) => Op<void>
): Route => ({
  method: options.method,
  path: `${keyPath(s)}${options.suffix}`,
  operationId: options.operationId,
  summary: options.summary,
  tag: s.tag,
  permission: options.permission ?? s.write,
  query: "none",
  selectable: [],
  request: options.request,
  response: { status: 204 },
  ...(options.conditional === true ? { conditional: true } : {}),
  handler: Effect.fnUntraced(function*(ctx: Ctx) {
    yield* ids(ctx, s.param, ...(options.params ?? []))
    yield* run(ctx, ctx.params[s.param]!)
    return noContent
  })
})

/**
 * The DELETE of one entity. Every entity answers with an ETag, so `remove` is given the
 * request's `If-Match` and `If-None-Match` (`conditions`) and the store decides them in the
 * removal's write (SPEC 3.10's forms: `*`, weak tags, lists): 412 when one fails (If-Match since
 * 0.6.0, If-None-Match since 0.15.0).
 */
const deleteRoute = <A>(s: EntitySet<A>, summary: string, remove: (ctx: Ctx, id: string) => Op<void>): Route =>
  commandRoute(s, { method: "DELETE", suffix: "", operationId: `delete${s.noun}`, summary, request: undefined }, remove)

/**
 * A read's handler that, with `$expand` (since 0.11.0; see the core's `Store.snapshot`), reads
 * in one snapshot of the store: the entities and the related entities expanded under them (a
 * configuration and its assignments, and under a user's path the targeting that chose them) are
 * of one moment, so an `assign` or a DELETE landing between their reads is in all of them or in
 * none. Where `countToo` says so for the request (since 0.11.1), so does `$count=true`:
 * `@odata.count` counts the set the page was read from (before, a write between the page's read
 * and the count's could make the count disagree with a whole first page). That is for the lists
 * whose count is one read: a configuration's assignments (always), and since 0.12.0 the tenant's
 * configurations, users, groups, invitations and a group's members without `$filter` (the store's
 * `COUNT(*)`). A filtered directory list counts by paging through the whole list; a snapshot would
 * hold this process's writes for all of it on SQLite (about 0.4 s at 100 000 users), and Graph's
 * own directory counts are eventual (`ConsistencyLevel: eventual`), so it is read as before.
 * Without either the handler reads as it did (a list through the services is one snapshot
 * already), at no cost.
 */
const relatedInSnapshot = <A>(handler: (ctx: Ctx) => Op<A>, countToo: (ctx: Ctx) => boolean = never) => (ctx: Ctx): Op<A> =>
  ctx.query.expand === undefined && !(ctx.query.count && countToo(ctx))
    ? handler(ctx)
    : Effect.flatMap(Store, (store) => inSnapshot(store, handler(ctx)))
const never = () => false
const always = () => true

/**
 * A configuration's `assignments`, for `$expand=assignments` (Intune's scripts list
 * configurations with their assignments in one call): every assignment, in the list's
 * order, with the collection's `@odata.context` as Graph writes it (under `setPath`, the
 * path of the configurations' collection the request named).
 */
/** The list of a configuration's assignments, under any path family ({@link OData.listOf}). */
const assignmentsList = OData.listOf("{configurationId}/assignments")

const assignmentsExpansion = (setPath: (ctx: Ctx) => string): Expansion<Configuration.Configuration> => ({
  names: ["assignments"],
  load: Effect.fnUntraced(function*(ctx: Ctx, c: Configuration.Configuration) {
    const svc = yield* Assignments
    const items: Array<Record<string, unknown>> = []
    let after: string | undefined
    let more = false
    for (;;) {
      const p = yield* svc.list(ctx.tenant, Paths.tenant, c.id, { after, limit: Math.min(OData.maxPageSize, expandBudget - items.length) })
      for (const a of p.items) items.push(OData.entity(a, undefined))
      if (p.next === undefined) break
      if (items.length >= expandBudget) {
        more = true
        break
      }
      after = p.next
    }
    const members: Record<string, unknown> = {
      "assignments@odata.context": OData.context(ctx.base, `${setPath(ctx)}${OData.key(c.id)}/assignments`)
    }
    if (more) {
      // The rest, from the configuration's assignments under the path the request named.
      const at = ctx.path.replace(/\/$/, "")
      // A key in the form that names it (`Id.keyPath`: `('..')` for a dot segment, which `/..` would not).
      const path = ctx.params.configurationId === undefined ? `${at}${Id.keyPath(c.id)}` : at
      members["assignments@odata.nextLink"] = `${ctx.base}${path}/assignments?$skiptoken=${OData.skipToken(String(items[items.length - 1]!.id), assignmentsList)}`
    }
    members.assignments = items
    return { members, size: items.length }
  })
})

const configurations: EntitySet<Configuration.Configuration> = {
  path: "/deviceManagement/deviceEnrollmentConfigurations",
  param: "configurationId",
  context: cfgCtx,
  tag: "deviceEnrollmentConfiguration",
  noun: "Configuration",
  plural: "Configurations",
  one: "a device enrollment configuration",
  many: "device enrollment configurations",
  schema: Configuration.Configuration,
  props: configurationProps,
  derived: configurationCasts,
  read: Permissions.readConfiguration,
  write: Permissions.writeConfiguration,
  expand: assignmentsExpansion(() => cfgCtx),
  // `$filter` on the list and its count (since 0.15.0): the string properties every configuration has,
  // and its type, an enum (since 0.18.0: a value no member of it is a 400, and members match as written).
  filterable: {
    ...filterableOf(["id", "displayName", "description"], []),
    deviceEnrollmentConfigurationType: {
      enum: "deviceEnrollmentConfigurationType",
      members: Configuration.ConfigurationType.literals
    }
  }
}

const configurationRoutes: ReadonlyArray<Route> = [
  ...listAndCount(
    configurations,
    (ctx, p) => Effect.flatMap(Configurations, (svc) => svc.list(ctx.tenant, p)),
    (ctx) => Effect.flatMap(Configurations, (svc) => svc.count(ctx.tenant))
  ),
  getRoute(configurations, (ctx, id) => Effect.flatMap(Configurations, (svc) => svc.get(ctx.tenant, id))),
  createRoute(
    configurations,
    "Create a device enrollment configuration (@odata.type names a concrete derived type)",
    Requests.ConfigurationCreate,
    (ctx) => Effect.flatMap(Configurations, (svc) => svc.create(ctx.tenant, ctx.body))
  ),
  patchRoute(
    configurations,
    Requests.ConfigurationUpdate,
    (ctx, id) => Effect.flatMap(Configurations, (svc) => svc.patch(ctx.tenant, id, ctx.body, conditions(ctx)))
  ),
  deleteRoute(
    configurations,
    "Delete a device enrollment configuration and its assignments",
    (ctx, id) => Effect.flatMap(Configurations, (svc) => svc.remove(ctx.tenant, id, conditions(ctx)))
  ),
  // The actions are bound to the configuration: its ETag answers their If-Match and If-None-Match
  // (since 0.18.0; OData 4.01 Part 1 §8.2.4), decided in the store's write as a PATCH's and a
  // DELETE's are. Before, both were ignored: a stale tag's `assign` replaced every assignment.
  commandRoute(configurations, {
    method: "POST",
    suffix: "/assign",
    operationId: "assignConfiguration",
    summary: "Replace every assignment of a configuration at once",
    request: Requests.AssignParameters,
    conditional: true
  }, (ctx, id) => Effect.flatMap(Configurations, (svc) => svc.assign(ctx.tenant, id, ctx.body, conditions(ctx)))),
  commandRoute(configurations, {
    method: "POST",
    suffix: "/setPriority",
    operationId: "setConfigurationPriority",
    summary: "Set the priority of a configuration",
    request: Requests.PriorityParameters,
    conditional: true
  }, (ctx, id) => Effect.flatMap(Configurations, (svc) => svc.setPriority(ctx.tenant, id, ctx.body, conditions(ctx))))
]

/**
 * Where a page of a user's configurations continues: after the (priority, id) of the last
 * one sent, the order the list is in. A keyset, so the next page is right while other
 * writes happen (SPEC 5): a configuration that moved or went since is not sent twice and
 * does not make others be skipped.
 */
const priorityKey = (c: Configuration.Configuration): string => JSON.stringify([c.priority, c.id])

const afterPriorityKey = (token: string | undefined) => {
  if (token === undefined) return Effect.succeed(undefined)
  let key: unknown
  try {
    key = JSON.parse(token)
  } catch {
    key = undefined
  }
  return Array.isArray(key) && key.length === 2 && Number.isInteger(key[0]) && typeof key[1] === "string"
    ? Effect.succeed({ priority: key[0] as number, id: key[1] as string })
    : Effect.fail(Errors.invalid.value("$skiptoken", "a token from this list's @odata.nextLink", "another list's token"))
}

const forUserRoutes = (f: Family): ReadonlyArray<Route> => {
  const path = `${f.prefix}/deviceEnrollmentConfigurations`
  const whom = f.name === "user" ? "a user" : "an invitation's invited user"
  const targeted = (ctx: Ctx) =>
    Effect.flatMap(ids(ctx, ...f.parentParams), () => Effect.flatMap(Configurations, (svc) => svc.forUser(ctx.tenant, f.parent(ctx))))
  const setPath = (ctx: Ctx) => `${f.contextPrefix(ctx)}/deviceEnrollmentConfigurations`
  const expansion = assignmentsExpansion(setPath)
  return [
    {
      method: "GET",
      path,
      operationId: `listConfigurationsVia${cap(f.name)}`,
      summary: `List the configurations targeted to ${whom}, lowest priority first`,
      tag: "deviceEnrollmentConfiguration",
      permission: Permissions.readConfiguration,
      query: "collection",
      selectable: configurationProps,
      derived: configurationCasts,
      expandable: expansion.names,
      request: undefined,
      response: { status: 200, schema: Configuration.Configuration, collection: true },
      handler: relatedInSnapshot(Effect.fnUntraced(function*(ctx: Ctx) {
        const all = yield* targeted(ctx)
        const after = yield* afterPriorityKey(ctx.query.after)
        const limit = ctx.query.top ?? OData.defaultPageSize
        // `all` is sorted by (priority, id): the page starts at the first configuration past the key.
        const start = after === undefined
          ? 0
          : all.findIndex((c) => c.priority > after.priority || (c.priority === after.priority && Id.compare(c.id, after.id) > 0))
        const rest = start === -1 ? [] : all.slice(start)
        const items = rest.slice(0, limit)
        const next = rest.length > limit ? priorityKey(items[items.length - 1]!) : undefined
        const expanded = yield* expansionsOf(expansion, ctx, items)
        const shown = expandedPage({ items, next }, expanded, priorityKey)
        return collection(shown, setPath(ctx), ctx.query.count ? all.length : undefined, expanded, priorityKey)
      }))
    },
    {
      method: "GET",
      path: `${path}/{configurationId}`,
      operationId: `getConfigurationVia${cap(f.name)}`,
      summary: `Get a configuration targeted to ${whom} (404 when it is not targeted)`,
      tag: "deviceEnrollmentConfiguration",
      permission: Permissions.readConfiguration,
      query: "entity",
      selectable: configurationProps,
      derived: configurationCasts,
      expandable: expansion.names,
      request: undefined,
      response: { status: 200, schema: Configuration.Configuration },
      handler: relatedInSnapshot(Effect.fnUntraced(function*(ctx: Ctx) {
        yield* ids(ctx, "configurationId")
        const id = ctx.params.configurationId!
        // Answered as on the configuration's assignments path: not targeted is not found.
        const c = (yield* targeted(ctx)).find((x) => x.id === id)
        if (c === undefined) return yield* new Errors.EntityNotFound({ entity: "deviceEnrollmentConfiguration", id })
        const expanded = yield* expansionsOf(expansion, ctx, [c])
        return entity(200, c, `${setPath(ctx)}/$entity`, expanded?.[0])
      }))
    },
    countRoute({
      path,
      operationId: `countConfigurationsVia${cap(f.name)}`,
      summary: `Count the configurations targeted to ${whom}`,
      tag: "deviceEnrollmentConfiguration",
      permission: Permissions.readConfiguration
    }, (ctx) => Effect.map(targeted(ctx), (all) => all.length))
  ]
}

/** How `referencedId` reads a reference: `Requests.referencePattern`, the rule the document describes. */
const reference = new RegExp(Requests.referencePattern, "u")

/**
 * The object id an `@odata.id` reference URL (absolute or relative) names, percent-decoded (a
 * quoted key's doubled quotes undoubled); undefined when the URL does not follow the rule
 * (`Requests.referencePattern`, since 0.6.1: the pattern the OpenAPI document gives it, so a
 * body validated against the document is one the server takes). The pattern admits only whole
 * UTF-8 escapes and ids the `Id` rule allows.
 */
export const referencedId = (ref: string): string | undefined => {
  const m = reference.exec(ref)
  if (m === null) return undefined
  return m[1] !== undefined ? decodeURIComponent(m[1]) : decodeURIComponent(m[2]!).replaceAll("''", "'")
}

/** The object id a reference URL names (`where` is the body member or query option it came in). */
const referenceId = (where: string, ref: unknown) => {
  if (typeof ref !== "string") return Effect.fail(Errors.invalid.value(where, "a URL string", JSON.stringify(ref)?.slice(0, 60) ?? "nothing"))
  const id = referencedId(ref)
  if (id === undefined || !Id.isId(id)) {
    return Effect.fail(Errors.invalid.value(
      where,
      "an http(s) or relative URL ending in directoryObjects/{id}, users/{id} or groups/{id}, the id percent-encoded " +
        "(1 to 128 characters, no '/' or control characters)",
      JSON.stringify(ref.slice(0, 60))
    ))
  }
  return Effect.succeed(id)
}

const decodeReference = (body: unknown) => {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return Effect.fail(Errors.invalid.value("", "a JSON object with '@odata.id'", JSON.stringify(body)?.slice(0, 60) ?? "nothing"))
  }
  for (const k of Object.keys(body)) {
    if (k !== "@odata.id") return Effect.fail(Errors.invalid.unknown(k, k, "reference"))
  }
  return referenceId("@odata.id", (body as Record<string, unknown>)["@odata.id"])
}

/** The member a `DELETE …/members/$ref?@id=<url>` names (SPEC 2's other spelling of the removal). */
const referenceOption = (ctx: Ctx) =>
  ctx.query.ref === undefined
    ? Effect.fail(Errors.invalid.required("@id", "the query option @id naming the member's URL (…/$ref?@id=<url>)"))
    : referenceId("@id", ctx.query.ref)

const invitations: EntitySet<Directory.Invitation> = {
  path: "/invitations",
  param: "invitationId",
  context: "invitations",
  tag: "invitation",
  noun: "Invitation",
  plural: "Invitations",
  one: "an invitation",
  many: "invitations",
  schema: InvitationView,
  props: selectableOf(invitationProps, Directory.extraProperties.invitation),
  filterable: filterableOf(invitationProps, ["sendInvitationMessage"]),
  read: Permissions.readUsers,
  write: Permissions.createInvitation,
  view: Directory.invitationView
}

const users: EntitySet<Directory.User> = {
  path: "/users",
  param: "userId",
  context: "users",
  tag: "user",
  noun: "User",
  plural: "Users",
  one: "a user",
  many: "users",
  schema: Directory.User,
  props: selectableOf(userProps, Directory.extraProperties.user),
  filterable: filterableOf(userProps, ["accountEnabled"]),
  read: Permissions.readUsers,
  write: Permissions.writeUsers
}

const groups: EntitySet<Directory.Group> = {
  path: "/groups",
  param: "groupId",
  context: "groups",
  tag: "group",
  noun: "Group",
  plural: "Groups",
  one: "a group",
  many: "groups",
  schema: Directory.Group,
  props: selectableOf(groupProps, Directory.extraProperties.group),
  filterable: filterableOf(groupProps, ["securityEnabled"]),
  read: Permissions.readGroups,
  write: Permissions.writeGroups
}

/** Runs `f` with the directory service. */
const directory = <A>(f: (svc: DirectoryService["Service"]) => Op<A>): Op<A> => Effect.flatMap(DirectoryService, f)

/**
 * What a `$filter` may name on a collection of several types: each type's filterable properties.
 * A property one type does not have is null on its objects when a filter reads it (`o[p] ?? null`),
 * as OData reads an open type's absent property (Graph's `directoryObject`, `user` and `group` are
 * open types): `userType eq 'Guest'` on a group's members keeps guest users, never a group. Throws
 * when building if two types give one property different kinds (none here).
 */
const filterableOfEach = (...each: ReadonlyArray<OData.FilterableProps | undefined>): OData.FilterableProps => {
  const out: Record<string, OData.FilterableKind> = {}
  for (const props of each) {
    for (const [p, kind] of Object.entries(props ?? {})) {
      if (out[p] !== undefined && out[p] !== kind) {
        throw new Error(`$filter: '${p}' is ${JSON.stringify(out[p])} on one type and ${JSON.stringify(kind)} on another`)
      }
      out[p] = kind
    }
  }
  return out
}

const members: EntitySet<Directory.User | Directory.Group> = {
  ...groups,
  // Users' data as well as the group's (since 0.16.0; see `Permissions.readMembers`).
  read: Permissions.readMembers,
  view: undefined,
  expand: undefined,
  // Users' and groups' (since 0.6.1; before, none: the uncast members took no `$filter`).
  filterable: filterableOfEach(users.filterable, groups.filterable),
  path: "/groups/{groupId}/members",
  param: "memberId",
  context: "directoryObjects",
  noun: "GroupMember",
  plural: "GroupMembers",
  one: "a member of a group",
  many: "the direct members of a group (users and groups)",
  schema: Schema.Union([Directory.User, Directory.Group]),
  props: [...new Set([...selectableOf(userProps, Directory.extraProperties.user), ...selectableOf(groupProps, Directory.extraProperties.group)])]
}

/** The directory types a type cast may name that the directory holds: users and groups. */
type CastType = "user" | "group"

const isUser = (m: Directory.User | Directory.Group): m is Directory.User => m["@odata.type"] === "#microsoft.graph.user"
const isGroup = (m: Directory.User | Directory.Group): m is Directory.Group => m["@odata.type"] === "#microsoft.graph.group"

/**
 * A type cast on a directory collection (`/groups/{id}/members/microsoft.graph.user`): the
 * objects of one type in `of`, written as that type's own set writes them, with its `$select`
 * and `$filter`, and the `@odata.context` Graph writes for a cast (`…$metadata#users`, not
 * `directoryObjects`). `many` says, for summaries, which objects it holds.
 */
const castOf = <A>(of: EntitySet<unknown>, type: CastType, many: string): EntitySet<A> => {
  const set = (type === "user" ? users : groups) as EntitySet<unknown>
  return {
    ...(set as EntitySet<A>),
    path: `${of.path}/microsoft.graph.${type}`,
    tag: of.tag,
    noun: `${of.noun}As${cap(type)}`,
    plural: `${of.plural}As${cap(type)}`,
    many,
    read: of.read,
    expand: undefined
  }
}

/**
 * `routes` also reached where their paths cast with `microsoft.graph.` written `graph.`: the
 * alias Graph's `$metadata` declares for its namespace, and what the Kiota-generated Graph SDKs
 * send (`…/members/graph.user`). One route each, so metrics and logs count both spellings as one.
 */
const castAliases = (routes: ReadonlyArray<Route>): ReadonlyArray<Route> =>
  routes.map((r) => ({ ...r, aliases: [r.path.replace("/microsoft.graph.", "/graph.")] }))

/**
 * The directory types Graph casts these collections to that this directory holds none of (it
 * keeps users and groups; since 0.6.1): a cast to one is served as Graph serves it, an empty
 * list. Each with its entity set (the cast's `@odata.context`, `$metadata#devices`) and its
 * properties as Graph declares them, by kind: the strings and Booleans a `$filter` may compare,
 * and the others `$select` may also name. Data, not a model: what the generated models of
 * `@microsoft/msgraph-beta-sdk` 1.0.0-preview.81 write (`serializeDevice`, …, after
 * `serializeDirectoryObject`; navigation properties left out), as core's `DirectoryProperties`
 * are for users and groups; `test/casts-empty.test.ts` derives them again from the installed SDK.
 *
 * @since 0.6.1
 */
export const typesNotHeld = {
  application: {
    set: "applications",
    strings: [
      "id", "appId", "createdByAppId", "defaultRedirectUri", "description", "disabledByMicrosoftStatus", "displayName",
      "groupMembershipClaims", "notes", "publisherDomain", "samlMetadataUrl", "serviceManagementReference", "signInAudience",
      "uniqueName"
    ],
    booleans: ["isDeviceOnlyAuthSupported", "isDisabled", "isFallbackPublicClient"],
    others: [
      "deletedDateTime", "api", "appRoles", "authenticationBehaviors", "certification", "createdDateTime", "identifierUris", "info",
      "keyCredentials", "logo", "managerApplications", "nativeAuthenticationApisEnabled", "onPremisesPublishing", "optionalClaims",
      "parentalControlSettings", "passwordCredentials", "publicClient", "requestSignatureVerification", "requiredResourceAccess",
      "servicePrincipalLockConfiguration", "signInAudienceRestrictions", "spa", "tags", "tokenEncryptionKeyId", "verifiedPublisher",
      "web", "windows"
    ]
  },
  device: {
    set: "devices",
    strings: [
      "id", "deviceCategory", "deviceId", "deviceMetadata", "deviceOwnership", "displayName", "domainName", "enrollmentProfileName",
      "enrollmentType", "kind", "managementType", "manufacturer", "mdmAppId", "model", "name", "onPremisesSecurityIdentifier",
      "operatingSystem", "operatingSystemVersion", "platform", "profileType", "status", "trustType"
    ],
    booleans: ["accountEnabled", "isCompliant", "isManaged", "isManagementRestricted", "isRooted", "onPremisesSyncEnabled"],
    others: [
      "deletedDateTime", "alternativeNames", "alternativeSecurityIds", "approximateLastSignInDateTime", "complianceExpirationDateTime",
      "deviceVersion", "extensionAttributes", "hostnames", "onPremisesLastSyncDateTime", "physicalIds", "registrationDateTime",
      "systemLabels"
    ]
  },
  orgContact: {
    set: "contacts",
    strings: ["id", "companyName", "department", "displayName", "givenName", "jobTitle", "mail", "mailNickname", "surname"],
    booleans: ["onPremisesSyncEnabled"],
    others: [
      "deletedDateTime", "addresses", "onPremisesLastSyncDateTime", "onPremisesProvisioningErrors", "phones", "proxyAddresses",
      "serviceProvisioningErrors"
    ]
  },
  servicePrincipal: {
    set: "servicePrincipals",
    strings: [
      "id", "appDescription", "appDisplayName", "appId", "applicationTemplateId", "createdByAppId", "description",
      "disabledByMicrosoftStatus", "displayName", "errorUrl", "homepage", "loginUrl", "logoutUrl", "notes", "preferredSingleSignOnMode",
      "preferredTokenSigningKeyThumbprint", "publisherName", "samlMetadataUrl", "servicePrincipalType", "signInAudience"
    ],
    booleans: ["accountEnabled", "appRoleAssignmentRequired", "isDisabled"],
    others: [
      "deletedDateTime", "addIns", "alternativeNames", "appOwnerOrganizationId", "appRoles", "customSecurityAttributes", "info",
      "keyCredentials", "notificationEmailAddresses", "passwordCredentials", "passwordSingleSignOnSettings",
      "preferredTokenSigningKeyEndDateTime", "publishedPermissionScopes", "replyUrls", "samlSingleSignOnSettings",
      "servicePrincipalNames", "tags", "tokenEncryptionKeyId", "verifiedPublisher"
    ]
  },
  directoryRole: {
    set: "directoryRoles",
    strings: ["id", "description", "displayName", "roleTemplateId"],
    booleans: [],
    others: ["deletedDateTime"]
  },
  administrativeUnit: {
    set: "administrativeUnits",
    strings: ["id", "description", "displayName", "membershipRule", "membershipRuleProcessingState", "membershipType", "visibility"],
    booleans: ["isMemberManagementRestricted"],
    others: ["deletedDateTime"]
  }
} as const satisfies Record<string, {
  readonly set: string
  readonly strings: ReadonlyArray<string>
  readonly booleans: ReadonlyArray<string>
  readonly others: ReadonlyArray<string>
}>

/** A directory type this directory holds none of. */
export type TypeNotHeld = keyof typeof typesNotHeld

/**
 * The casts Graph offers on each collection beyond users and groups (its beta SDKs' request
 * builders and PowerShell cmdlets, and its reference pages: a group's members are "users,
 * contacts, devices, service principals, and other groups", applications too in the SDKs; what
 * an object is a member of, "groups, directory roles, and administrative units").
 */
const membersNotHeld: ReadonlyArray<TypeNotHeld> = ["application", "device", "orgContact", "servicePrincipal"]
const containersNotHeld: ReadonlyArray<TypeNotHeld> = ["administrativeUnit", "directoryRole"]

/** The objects of a type the directory holds none of, as an answer describes them: Graph's properties, any JSON. */
const notHeldSchema = (type: TypeNotHeld) => {
  const t = typesNotHeld[type]
  return Schema.Struct({
    "@odata.type": Schema.Literal(`#microsoft.graph.${type}`),
    id: Id.Id,
    ...Object.fromEntries([...t.strings, ...t.booleans, ...t.others].filter((p) => p !== "id").map((p) => [p, Schema.optionalKey(Json.Json)]))
  }).annotate({
    identifier: type,
    description: `Graph's ${type}. This directory holds users and groups only: a list cast to ${type} is always empty`
  })
}

/** No objects: the page of a cast to a type the directory holds none of. */
const nothing: Page<never> = { items: [], next: undefined }

/**
 * A cast on `of` to a type the directory holds none of (`…/members/microsoft.graph.device`), and
 * its `/$count`, each also spelled `graph.`: after the checks a cast to users or groups makes
 * (`parent` fails when the object whose collection it is does not exist; the permission; the
 * query options, `$select` and `$filter` of the type's properties), an empty list and a count
 * of 0, as Graph answers a cast to a type the collection holds none of. `where` says, after the
 * type's plural, which objects it would hold.
 */
const castToNoneOf = (of: EntitySet<unknown>, type: TypeNotHeld, where: string, parent: (ctx: Ctx) => Op<unknown>): ReadonlyArray<Route> => {
  const t = typesNotHeld[type]
  const set: EntitySet<never> = {
    path: `${of.path}/microsoft.graph.${type}`,
    param: of.param,
    context: t.set,
    tag: of.tag,
    noun: `${of.noun}As${cap(type)}`,
    plural: `${of.plural}As${cap(type)}`,
    one: `an object of type ${type}`,
    many: `the ${t.set} ${where} (none: this directory holds users and groups only)`,
    schema: notHeldSchema(type),
    props: [...t.strings, ...t.booleans, ...t.others],
    filterable: filterableOf([...t.strings, ...t.booleans], t.booleans),
    read: of.read,
    write: of.write
  }
  return castAliases(listAndCount(set, (ctx) => Effect.as(parent(ctx), nothing)))
}

/** The group a path names (`groupId`), checked to exist: the parent of its members' lists. */
const groupOf = (ctx: Ctx): Op<Directory.Group> =>
  Effect.flatMap(ids(ctx, "groupId"), () => directory((svc) => svc.getGroup(ctx.tenant, ctx.params.groupId!)))

/**
 * A reading made once per request, by its first page: a `$count` or `$filter` reads many
 * pages of a membership walk, and each page walked the whole membership graph again (a count
 * of a user in 100 000 groups walked it 100 times). A request has one `Ctx`.
 */
const oncePerRequest = <R>(read: (ctx: Ctx) => Op<R>) => {
  const readings = new WeakMap<Ctx, R>()
  return (ctx: Ctx): Op<R> => {
    const done = readings.get(ctx)
    if (done !== undefined) return Effect.succeed(done)
    return Effect.map(read(ctx), (r) => {
      readings.set(ctx, r)
      return r
    })
  }
}

/**
 * The `@odata.id` of a directory object: the URL `POST …/members/$ref` takes (SPEC 2), its key in the
 * form that names it (`Id.keyPath`, since 0.9.0: `directoryObjects/..` was the URL of no object).
 */
const referenceTo = (ctx: Ctx, id: string) => ({ "@odata.id": `${ctx.base}/directoryObjects${Id.keyPath(id)}` })

const ReferenceRead = Schema.Struct({ "@odata.id": Schema.String }).annotate({
  identifier: "directoryObjectReference",
  description: "An entity reference: the directory object's URL, <base>/directoryObjects/{id}"
})

/**
 * `GET <members>/$ref`: the objects `list` pages as entity references, OData's `Collection($ref)`
 * (`{"@odata.id": "<base>/directoryObjects/{id}"}` each), in its order, paged and counted as
 * the list is. Each URL is one `POST …/members/$ref` takes back. A reference has no properties:
 * `$select` and `$filter` are refused.
 */
const referencesRoute = (
  options: { readonly path: string; readonly operationId: string; readonly summary: string },
  list: (ctx: Ctx, p: PageRequest) => Op<Page<{ readonly id: string }>>,
  whole?: WholeCount
): Route => ({
  method: "GET",
  path: options.path,
  operationId: options.operationId,
  summary: options.summary,
  tag: groups.tag,
  permission: groups.read,
  query: "references",
  selectable: [],
  request: undefined,
  response: { status: 200, schema: ReferenceRead, collection: true },
  handler: relatedInSnapshot(Effect.fnUntraced(function*(ctx: Ctx) {
    const p = yield* list(ctx, page(ctx))
    const count = ctx.query.count ? yield* (whole !== undefined ? whole(ctx) : countAll((pg) => list(ctx, pg))) : undefined
    const reply: Reply = {
      _tag: "Collection",
      items: p.items.map((m) => referenceTo(ctx, m.id)),
      next: p.next,
      count,
      context: "Collection($ref)",
      references: true
    }
    return reply
  }), countsWhole(whole))
})

/**
 * `GET /groups/{id}/members`, and its casts (`…/members/microsoft.graph.user`, each also
 * `graph.user`), each with `/$count`: to users and to groups, which read the members' pages and
 * keep the objects of their type ({@link keptPage}); to the types Graph's members may also be,
 * which this directory holds none of ({@link castToNoneOf}). And the members as references,
 * `GET /groups/{id}/members/$ref`, and the same under each cast (`…/microsoft.graph.user/$ref`:
 * the references of the cast's members; since 0.6.1).
 */
const membersRoutes = (() => {
  const list = (ctx: Ctx, p: PageRequest): Op<Page<Directory.User | Directory.Group>> =>
    Effect.flatMap(ids(ctx, "groupId"), () => directory((svc) => svc.members(ctx.tenant, ctx.params.groupId!, p)))
  /** The count of the group's direct members (of `kind` only, for a cast), in one read of the store where it offers one. */
  const wholeOf = (kind?: Directory.MemberRef["kind"]) => (ctx: Ctx): Op<number> =>
    Effect.flatMap(ids(ctx, "groupId"), () => directory((svc) => svc.countMembers(ctx.tenant, ctx.params.groupId!, kind)))
  const whole = wholeOf()
  const usersIn = (ctx: Ctx, p: PageRequest) => keptPage((q) => list(ctx, q), isUser, p)
  const groupsIn = (ctx: Ctx, p: PageRequest) => keptPage((q) => list(ctx, q), isGroup, p)
  const of = members as EntitySet<unknown>
  const where = "among the direct members of a group"
  /** The references of a cast's members: `many` says which, for the summary. */
  const references = (
    cast: string,
    many: string,
    read: (ctx: Ctx, p: PageRequest) => Op<Page<{ readonly id: string }>>,
    count?: WholeCount
  ) =>
    referencesRoute({
      path: `/groups/{groupId}/members/microsoft.graph.${cast}/$ref`,
      operationId: `listGroupMemberReferencesAs${cap(cast)}`,
      summary: `List ${many} as references (@odata.id of each)`
    }, read, count)
  return [
    ...listAndCount(members, list, whole),
    ...castAliases(listAndCount(castOf<Directory.User>(of, "user", "the users among the direct members of a group"), usersIn, wholeOf("user"))),
    ...castAliases(listAndCount(castOf<Directory.Group>(of, "group", "the groups among the direct members of a group"), groupsIn, wholeOf("group"))),
    ...membersNotHeld.flatMap((type) => castToNoneOf(of, type, where, groupOf)),
    referencesRoute({
      path: "/groups/{groupId}/members/$ref",
      operationId: "listGroupMemberReferences",
      summary: "List the direct members of a group as references (@odata.id of each)"
    }, list, whole),
    ...castAliases([
      references("user", `the users ${where}`, usersIn, wholeOf("user")),
      references("group", `the groups ${where}`, groupsIn, wholeOf("group")),
      ...membersNotHeld.map((type) =>
        references(type, `the ${typesNotHeld[type].set} ${where} (none: this directory holds users and groups only)`, (ctx) =>
          Effect.as(groupOf(ctx), nothing))
      )
    ])
  ]
})()

/**
 * The groups a user or a group is in: `memberOf` (direct) and `transitiveMemberOf` (through
 * nested groups too: what targeting reads, SPEC 4), for seeing why a configuration reaches a
 * user. They answer groups, so they need a permission that reads groups (SPEC 7's group row).
 * A request reads the memberships once ({@link oncePerRequest}). Each also cast to groups
 * (`…/memberOf/microsoft.graph.group`, or `graph.group`): the same groups, since a user or a
 * group is in nothing else here, written as Graph writes a cast (`…$metadata#groups`); and to
 * the other types Graph says an object may be a member of, directory roles and administrative
 * units, which this directory holds none of ({@link castToNoneOf}).
 */
const memberOfRoutes = (of: EntitySet<unknown>, kind: "user" | "group"): ReadonlyArray<Route> =>
  ([false, true] as const).flatMap((transitive) => {
    const read = oncePerRequest((ctx): Op<GroupsOf> =>
      Effect.flatMap(ids(ctx, of.param), () => directory((svc) => svc.memberOf(ctx.tenant, { kind, id: ctx.params[of.param]! }, transitive)))
    )
    const exists = (ctx: Ctx): Op<unknown> =>
      Effect.flatMap(ids(ctx, of.param), () =>
        directory((svc): Op<unknown> => kind === "user" ? svc.getUser(ctx.tenant, ctx.params[of.param]!) : svc.getGroup(ctx.tenant, ctx.params[of.param]!)))
    const segment = transitive ? "transitiveMemberOf" : "memberOf"
    const set: EntitySet<Directory.Group> = {
      ...groups,
      // A user's memberships tell of the user too (since 0.16.0; see `Permissions.readMembers`).
      read: kind === "user" ? Permissions.readMembers : groups.read,
      path: `${of.path}/{${of.param}}/${segment}`,
      tag: of.tag,
      noun: `${of.noun}${transitive ? "TransitiveMemberOf" : "MemberOf"}`,
      plural: `${of.noun}${transitive ? "TransitiveMemberOf" : "MemberOf"}`,
      context: "directoryObjects",
      one: "a group",
      many: `the groups ${of.one} is a member of${transitive ? ", directly or through nested groups" : " (direct memberships)"}`
    }
    const list = (ctx: Ctx, p: PageRequest) => Effect.flatMap(read(ctx), (groupsOf) => groupsOf(p))
    const where = `${of.one} is a member of${transitive ? ", directly or through nested groups" : ""}`
    return [
      ...listAndCount(set, list),
      ...castAliases(listAndCount(castOf(set as EntitySet<unknown>, "group", set.many), list)),
      ...containersNotHeld.flatMap((type) => castToNoneOf(set as EntitySet<unknown>, type, where, exists))
    ]
  })

/**
 * `GET /groups/{id}/transitiveMembers`: the members of a group and of the groups in it, the
 * users a group target reaches (SPEC 4), read once per request ({@link oncePerRequest}); and
 * its casts, as on `/members`.
 */
const transitiveMembersRoutes = (() => {
  const read = oncePerRequest((ctx): Op<MembersOf> =>
    Effect.flatMap(ids(ctx, "groupId"), () => directory((svc) => svc.transitiveMembers(ctx.tenant, ctx.params.groupId!)))
  )
  const set: EntitySet<Directory.User | Directory.Group> = {
    ...members,
    path: "/groups/{groupId}/transitiveMembers",
    noun: "GroupTransitiveMember",
    plural: "GroupTransitiveMembers",
    many: "the members of a group and of the groups in it, nested ones included (users and groups)"
  }
  const of = set as EntitySet<unknown>
  return [
    ...listAndCount(set, (ctx, p) => Effect.flatMap(read(ctx), (membersOf) => membersOf(p))),
    ...castAliases(listAndCount(
      castOf<Directory.User>(of, "user", "the users in a group and in the groups in it, nested ones included: the users a group target reaches"),
      (ctx, p) => Effect.flatMap(read(ctx), (membersOf) => keptPage(membersOf, isUser, p))
    )),
    ...castAliases(listAndCount(
      castOf<Directory.Group>(of, "group", "the groups in a group and in the groups in it, nested ones included"),
      (ctx, p) => Effect.flatMap(read(ctx), (membersOf) => keptPage(membersOf, isGroup, p))
    )),
    ...membersNotHeld.flatMap((type) => castToNoneOf(of, type, "in a group and in the groups in it, nested ones included", groupOf))
  ]
})()

const directoryRoutes: ReadonlyArray<Route> = [
  createRoute(
    invitations,
    "Invite a guest: creates the invitation and its guest user",
    Requests.InvitationCreate,
    (ctx) => directory((svc) => svc.createInvitation(ctx.tenant, ctx.body, `${ctx.base.replace(/\/beta$/, "")}/redeem`)),
    // Graph's answer names the invited user: the guest made, or the one an earlier invitation of the
    // address made, which this one links (core 0.11.0). An entity, so with its `@odata.type` (SPEC
    // 1.3; since http-adapter 0.16.0, before which only its id).
    (i) => ({ invitedUser: { "@odata.type": "#microsoft.graph.user", id: i.invitedUserId } })
  ),
  ...listAndCount(
    invitations,
    (ctx, p) => directory((svc) => svc.listInvitations(ctx.tenant, p)),
    (ctx) => directory((svc) => svc.countInvitations(ctx.tenant))
  ),
  getRoute(invitations, (ctx, id) => directory((svc) => svc.getInvitation(ctx.tenant, id))),
  {
    ...getRoute(
      { ...users, path: "/invitations", param: "invitationId", noun: "InvitedUser", one: "the user an invitation created" },
      (ctx, id) => directory((svc) => svc.invitedUser(ctx.tenant, id))
    ),
    path: "/invitations/{invitationId}/invitedUser",
    tag: "invitation"
  },
  createRoute(users, "Create a user", Requests.UserWrite, (ctx) => directory((svc) => svc.createUser(ctx.tenant, ctx.body))),
  ...listAndCount(users, (ctx, p) => directory((svc) => svc.listUsers(ctx.tenant, p)), (ctx) => directory((svc) => svc.countUsers(ctx.tenant))),
  getRoute(users, (ctx, id) => directory((svc) => svc.getUser(ctx.tenant, id))),
  patchRoute(users, Requests.UserWrite, (ctx, id) => directory((svc) => svc.patchUser(ctx.tenant, id, ctx.body, conditions(ctx)))),
  deleteRoute(users, "Delete a user", (ctx, id) => directory((svc) => svc.removeUser(ctx.tenant, id, conditions(ctx)))),
  createRoute(groups, "Create a group", Requests.GroupWrite, (ctx) => directory((svc) => svc.createGroup(ctx.tenant, ctx.body))),
  ...listAndCount(groups, (ctx, p) => directory((svc) => svc.listGroups(ctx.tenant, p)), (ctx) => directory((svc) => svc.countGroups(ctx.tenant))),
  getRoute(groups, (ctx, id) => directory((svc) => svc.getGroup(ctx.tenant, id))),
  deleteRoute(groups, "Delete a group", (ctx, id) => directory((svc) => svc.removeGroup(ctx.tenant, id, conditions(ctx)))),
  ...membersRoutes,
  ...memberOfRoutes(users as EntitySet<unknown>, "user"),
  ...memberOfRoutes(groups as EntitySet<unknown>, "group"),
  ...transitiveMembersRoutes,
  commandRoute(groups, {
    method: "POST",
    suffix: "/members/$ref",
    operationId: "addGroupMember",
    summary: "Add a member to a group by reference",
    request: Requests.ReferenceCreate,
    permission: Permissions.writeMembers
  }, (ctx, id) =>
    Effect.flatMap(decodeReference(ctx.body), (memberId) => directory((svc) => svc.addMember(ctx.tenant, id, memberId)))),
  commandRoute(groups, {
    method: "DELETE",
    suffix: "/members/{memberId}/$ref",
    operationId: "removeGroupMember",
    summary: "Remove a member from a group",
    request: undefined,
    permission: Permissions.writeMembers,
    params: ["memberId"]
  }, (ctx, id) => directory((svc) => svc.removeMember(ctx.tenant, id, ctx.params.memberId!))),
  commandRoute(groups, {
    method: "DELETE",
    suffix: "/members/$ref",
    operationId: "removeGroupMemberByReference",
    summary: "Remove a member from a group, named by the query option @id (a URL as in @odata.id)",
    request: undefined,
    permission: Permissions.writeMembers
  }, (ctx, id) => Effect.flatMap(referenceOption(ctx), (memberId) => directory((svc) => svc.removeMember(ctx.tenant, id, memberId))))
]

/** Every route of the `/beta` face. */
export const routes: ReadonlyArray<Route> = [
  ...families.flatMap(assignmentRoutes),
  ...configurationRoutes,
  ...forUserRoutes(families[1]!),
  ...forUserRoutes(families[2]!),
  ...directoryRoutes
]

/** The store's readiness, for `/ready`. */
export const ready = Effect.gen(function*() {
  const store = yield* Store
  yield* store.ready
})

/** Re-exported for the description. */
export const schemas = { AnyObject }
