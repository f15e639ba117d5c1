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
  Directory,
  DirectoryService,
  Errors,
  type Page,
  Paths,
  Store
} from "@enrollment/core"
import { Effect, Schema } from "effect"
import * as OData from "./OData.ts"
import * as Permissions from "./Permissions.ts"

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
}

/** What a handler answers. */
export type Reply =
  | { readonly _tag: "Entity"; readonly status: 200 | 201; readonly value: Record<string, unknown>; readonly context: string }
  | {
    readonly _tag: "Collection"
    readonly items: ReadonlyArray<Record<string, unknown>>
    readonly next: string | undefined
    readonly count: number | undefined
    readonly context: string
  }
  | { readonly _tag: "NoContent" }
  | { readonly _tag: "Text"; readonly text: string }

/** One endpoint. */
export interface Route {
  readonly method: "GET" | "POST" | "PATCH" | "DELETE"
  readonly path: string
  readonly operationId: string
  readonly summary: string
  readonly tag: string
  readonly permission: Permissions.PermissionSet
  readonly query: OData.QueryKind
  readonly selectable: ReadonlyArray<string>
  /** Request body schema for the description; a route with one requires a JSON body. */
  readonly request: Schema.Top | undefined
  /** Success status and response schema for the description. */
  readonly response: { readonly status: number; readonly schema?: Schema.Top | undefined; readonly collection?: boolean; readonly text?: boolean }
  readonly handler: (ctx: Ctx) => Effect.Effect<Reply, unknown, Services>
}

const ids = (ctx: Ctx, ...names: ReadonlyArray<string>) => {
  for (const n of names) {
    const v = ctx.params[n]!
    if (!Schema.is(Schema.String)(v) || !isId(v)) {
      return Effect.fail(Errors.invalid.value(n, "an id of 1 to 128 characters without '/' or control characters", JSON.stringify(v.slice(0, 60))))
    }
  }
  return Effect.void
}
const isId = (s: string) => s.length >= 1 && s.length <= 128 && !/[/\u0000-\u001f\u007f]/.test(s)

const page = (ctx: Ctx) => ({ after: ctx.query.after, limit: ctx.query.top ?? OData.defaultPageSize })

const entity = (status: 200 | 201, value: Record<string, unknown>, context: string): Reply => ({ _tag: "Entity", status, value, context })
const collection = <A extends Record<string, unknown>>(p: Page<A>, context: string, count?: number, map?: (a: A) => Record<string, unknown>): Reply => ({
  _tag: "Collection",
  items: map ? p.items.map(map) : p.items,
  next: p.next,
  count,
  context
})
const noContent: Reply = { _tag: "NoContent" }

/** Counts a whole entity set by paging through it (for `$count=true` on directory lists). */
const countAll = <A>(list: (page: { after?: string | undefined; limit: number }) => Effect.Effect<Page<A>, any, any>) =>
  Effect.gen(function*() {
    let n = 0
    let after: string | undefined
    for (;;) {
      const p = yield* list({ after, limit: 1000 })
      n += p.items.length
      if (p.next === undefined) return n
      after = p.next
    }
  })

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

const AnyObject = Schema.Record(Schema.String, Schema.Unknown).annotate({ description: "a JSON object" })
const Priority = Schema.Struct({ priority: Configuration.Int32 }).annotate({ identifier: "setPriorityParameters" })
const AssignParameters = Schema.Struct({
  enrollmentConfigurationAssignments: Schema.Array(Assignment.Assignment)
}).annotate({ identifier: "assignParameters" })
const Reference = Schema.Struct({ "@odata.id": Schema.String }).annotate({ identifier: "referenceCreate" })
const InvitationView = Directory.Invitation.mapFields(({ invitedUserId: _, ...rest }) => rest).annotate({ identifier: "invitation" })

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

const assignmentRoutes = (f: Family): ReadonlyArray<Route> => {
  const coll = `${f.prefix}/deviceEnrollmentConfigurations/{configurationId}/assignments`
  const one = `${coll}/{assignmentId}`
  const ctxOf = (ctx: Ctx) =>
    `${f.contextPrefix(ctx)}/deviceEnrollmentConfigurations${OData.key(ctx.params.configurationId!)}/assignments`
  const check = (ctx: Ctx, ...more: ReadonlyArray<string>) => ids(ctx, ...f.parentParams, "configurationId", ...more)
  const tag = "enrollmentConfigurationAssignment"
  const op = (verb: string) => `${verb}Assignment${f.name === "tenant" ? "" : `Via${cap(f.name)}`}`
  const where = f.name === "tenant" ? "" : f.name === "user" ? " (through a user it is targeted to)" : " (through an invitation's invited user)"
  return [
    {
      method: "GET",
      path: coll,
      operationId: op("list"),
      summary: `List the assignments of a configuration${where}`,
      tag,
      permission: Permissions.readConfiguration,
      query: "assignments",
      selectable: assignmentProps,
      request: undefined,
      response: { status: 200, schema: Assignment.Assignment, collection: true },
      handler: (ctx) =>
        Effect.gen(function*() {
          yield* check(ctx)
          const svc = yield* Assignments
          const p = yield* svc.list(ctx.tenant, f.parent(ctx), ctx.params.configurationId!, page(ctx), ctx.query.filter)
          const count = ctx.query.count
            ? yield* svc.count(ctx.tenant, f.parent(ctx), ctx.params.configurationId!, ctx.query.filter)
            : undefined
          return collection(p, ctxOf(ctx), count)
        })
    },
    {
      method: "GET",
      path: `${coll}/$count`,
      operationId: op("count"),
      summary: `Count the assignments of a configuration${where} (text/plain)`,
      tag,
      permission: Permissions.readConfiguration,
      query: "none",
      selectable: [],
      request: undefined,
      response: { status: 200, text: true },
      handler: (ctx) =>
        Effect.gen(function*() {
          yield* check(ctx)
          const svc = yield* Assignments
          const n = yield* svc.count(ctx.tenant, f.parent(ctx), ctx.params.configurationId!)
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
      handler: (ctx) =>
        Effect.gen(function*() {
          yield* check(ctx, "assignmentId")
          const a = yield* (yield* Assignments).get(ctx.tenant, f.parent(ctx), ctx.params.configurationId!, ctx.params.assignmentId!)
          return entity(200, a, `${ctxOf(ctx)}/$entity`)
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
      request: Assignment.Assignment,
      response: { status: 201, schema: Assignment.Assignment },
      handler: (ctx) =>
        Effect.gen(function*() {
          yield* check(ctx)
          const a = yield* (yield* Assignments).create(ctx.tenant, f.parent(ctx), ctx.params.configurationId!, ctx.body)
          return entity(201, a, `${ctxOf(ctx)}/$entity`)
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
      request: Assignment.Assignment,
      response: { status: 200, schema: Assignment.Assignment },
      handler: (ctx) =>
        Effect.gen(function*() {
          yield* check(ctx, "assignmentId")
          const a = yield* (yield* Assignments).patch(
            ctx.tenant,
            f.parent(ctx),
            ctx.params.configurationId!,
            ctx.params.assignmentId!,
            ctx.body,
            { ifMatch: ctx.ifMatch }
          )
          return entity(200, a, `${ctxOf(ctx)}/$entity`)
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
      handler: (ctx) =>
        Effect.gen(function*() {
          yield* check(ctx, "assignmentId")
          yield* (yield* Assignments).remove(ctx.tenant, f.parent(ctx), ctx.params.configurationId!, ctx.params.assignmentId!, {
            ifMatch: ctx.ifMatch
          })
          return noContent
        })
    }
  ]
}

const cfgColl = "/deviceManagement/deviceEnrollmentConfigurations"
const cfgOne = `${cfgColl}/{configurationId}`
const cfgCtx = "deviceManagement/deviceEnrollmentConfigurations"

const configurationRoutes: ReadonlyArray<Route> = [
  {
    method: "GET",
    path: cfgColl,
    operationId: "listConfigurations",
    summary: "List device enrollment configurations",
    tag: "deviceEnrollmentConfiguration",
    permission: Permissions.readConfiguration,
    query: "collection",
    selectable: configurationProps,
    request: undefined,
    response: { status: 200, schema: Configuration.Configuration, collection: true },
    handler: (ctx) =>
      Effect.gen(function*() {
        const svc = yield* Configurations
        const p = yield* svc.list(ctx.tenant, page(ctx))
        const count = ctx.query.count ? yield* countAll((pg) => svc.list(ctx.tenant, pg)) : undefined
        return collection(p, cfgCtx, count)
      })
  },
  {
    method: "GET",
    path: cfgOne,
    operationId: "getConfiguration",
    summary: "Get a device enrollment configuration",
    tag: "deviceEnrollmentConfiguration",
    permission: Permissions.readConfiguration,
    query: "entity",
    selectable: configurationProps,
    request: undefined,
    response: { status: 200, schema: Configuration.Configuration },
    handler: (ctx) =>
      Effect.gen(function*() {
        yield* ids(ctx, "configurationId")
        const c = yield* (yield* Configurations).get(ctx.tenant, ctx.params.configurationId!)
        return entity(200, c, `${cfgCtx}/$entity`)
      })
  },
  {
    method: "POST",
    path: cfgColl,
    operationId: "createConfiguration",
    summary: "Create a device enrollment configuration (@odata.type names a concrete derived type)",
    tag: "deviceEnrollmentConfiguration",
    permission: Permissions.writeConfiguration,
    query: "none",
    selectable: [],
    request: Configuration.Configuration,
    response: { status: 201, schema: Configuration.Configuration },
    handler: (ctx) =>
      Effect.gen(function*() {
        const c = yield* (yield* Configurations).create(ctx.tenant, ctx.body)
        return entity(201, c, `${cfgCtx}/$entity`)
      })
  },
  {
    method: "PATCH",
    path: cfgOne,
    operationId: "updateConfiguration",
    summary: "Update a device enrollment configuration",
    tag: "deviceEnrollmentConfiguration",
    permission: Permissions.writeConfiguration,
    query: "none",
    selectable: [],
    request: Configuration.Configuration,
    response: { status: 200, schema: Configuration.Configuration },
    handler: (ctx) =>
      Effect.gen(function*() {
        yield* ids(ctx, "configurationId")
        const c = yield* (yield* Configurations).patch(ctx.tenant, ctx.params.configurationId!, ctx.body, { ifMatch: ctx.ifMatch })
        return entity(200, c, `${cfgCtx}/$entity`)
      })
  },
  {
    method: "DELETE",
    path: cfgOne,
    operationId: "deleteConfiguration",
    summary: "Delete a device enrollment configuration and its assignments",
    tag: "deviceEnrollmentConfiguration",
    permission: Permissions.writeConfiguration,
    query: "none",
    selectable: [],
    request: undefined,
    response: { status: 204 },
    handler: (ctx) =>
      Effect.gen(function*() {
        yield* ids(ctx, "configurationId")
        yield* (yield* Configurations).remove(ctx.tenant, ctx.params.configurationId!)
        return noContent
      })
  },
  {
    method: "POST",
    path: `${cfgOne}/assign`,
    operationId: "assignConfiguration",
    summary: "Replace every assignment of a configuration at once",
    tag: "deviceEnrollmentConfiguration",
    permission: Permissions.writeConfiguration,
    query: "none",
    selectable: [],
    request: AssignParameters,
    response: { status: 204 },
    handler: (ctx) =>
      Effect.gen(function*() {
        yield* ids(ctx, "configurationId")
        yield* (yield* Configurations).assign(ctx.tenant, ctx.params.configurationId!, ctx.body)
        return noContent
      })
  },
  {
    method: "POST",
    path: `${cfgOne}/setPriority`,
    operationId: "setConfigurationPriority",
    summary: "Set the priority of a configuration",
    tag: "deviceEnrollmentConfiguration",
    permission: Permissions.writeConfiguration,
    query: "none",
    selectable: [],
    request: Priority,
    response: { status: 204 },
    handler: (ctx) =>
      Effect.gen(function*() {
        yield* ids(ctx, "configurationId")
        yield* (yield* Configurations).setPriority(ctx.tenant, ctx.params.configurationId!, ctx.body)
        return noContent
      })
  }
]

const forUserRoute = (f: Family): Route => ({
  method: "GET",
  path: `${f.prefix}/deviceEnrollmentConfigurations`,
  operationId: `listConfigurationsVia${cap(f.name)}`,
  summary: `List the configurations targeted to ${f.name === "user" ? "a user" : "an invitation's invited user"}, lowest priority first`,
  tag: "deviceEnrollmentConfiguration",
  permission: Permissions.readConfiguration,
  query: "collection",
  selectable: configurationProps,
  request: undefined,
  response: { status: 200, schema: Configuration.Configuration, collection: true },
  handler: (ctx) =>
    Effect.gen(function*() {
      yield* ids(ctx, ...f.parentParams)
      const all = yield* (yield* Configurations).forUser(ctx.tenant, f.parent(ctx))
      const limit = ctx.query.top ?? OData.defaultPageSize
      const start = ctx.query.after === undefined ? 0 : all.findIndex((c) => c.id === ctx.query.after) + 1
      const items = all.slice(start, start + limit)
      const next = start + limit < all.length ? items[items.length - 1]!.id : undefined
      return collection({ items, next }, `${f.contextPrefix(ctx)}/deviceEnrollmentConfigurations`, ctx.query.count ? all.length : undefined)
    })
})

/** Extracts the object id from an `@odata.id` reference URL (absolute or relative). */
export const referencedId = (ref: string): string | undefined => {
  let path: string
  try {
    path = new URL(ref, "http://reference.invalid/beta/").pathname
  } catch {
    return undefined
  }
  const m = /\/(?:directoryObjects|users|groups)(?:\/([^/]+)|\('((?:[^']|'')+)'\))\/?$/.exec(path)
  if (m === null) return undefined
  try {
    return m[1] !== undefined ? decodeURIComponent(m[1]) : decodeURIComponent(m[2]!).replaceAll("''", "'")
  } catch {
    return undefined
  }
}

const decodeReference = (body: unknown) => {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return Effect.fail(Errors.invalid.value("", "a JSON object with '@odata.id'", JSON.stringify(body)?.slice(0, 60) ?? "nothing"))
  }
  for (const k of Object.keys(body)) {
    if (k !== "@odata.id") return Effect.fail(Errors.invalid.unknown(k, k, "reference"))
  }
  const ref = (body as Record<string, unknown>)["@odata.id"]
  if (typeof ref !== "string") return Effect.fail(Errors.invalid.value("@odata.id", "a URL string", JSON.stringify(ref)?.slice(0, 60) ?? "nothing"))
  const id = referencedId(ref)
  if (id === undefined || !isId(id)) {
    return Effect.fail(Errors.invalid.value("@odata.id", "a URL ending in directoryObjects/{id}, users/{id} or groups/{id}", JSON.stringify(ref.slice(0, 60))))
  }
  return Effect.succeed(id)
}

const directoryRoutes: ReadonlyArray<Route> = [
  // invitations
  {
    method: "POST",
    path: "/invitations",
    operationId: "createInvitation",
    summary: "Invite a guest: creates the invitation and its guest user",
    tag: "invitation",
    permission: Permissions.createInvitation,
    query: "none",
    selectable: [],
    request: InvitationView,
    response: { status: 201, schema: InvitationView },
    handler: (ctx) =>
      Effect.gen(function*() {
        const inv = yield* (yield* DirectoryService).createInvitation(ctx.tenant, ctx.body, `${ctx.base.replace(/\/beta$/, "")}/redeem`)
        return entity(201, Directory.invitationView(inv), "invitations/$entity")
      })
  },
  {
    method: "GET",
    path: "/invitations",
    operationId: "listInvitations",
    summary: "List invitations",
    tag: "invitation",
    permission: Permissions.readUsers,
    query: "collection",
    selectable: invitationProps,
    request: undefined,
    response: { status: 200, schema: InvitationView, collection: true },
    handler: (ctx) =>
      Effect.gen(function*() {
        const svc = yield* DirectoryService
        const p = yield* svc.listInvitations(ctx.tenant, page(ctx))
        const count = ctx.query.count ? yield* countAll((pg) => svc.listInvitations(ctx.tenant, pg)) : undefined
        return collection(p, "invitations", count, Directory.invitationView)
      })
  },
  {
    method: "GET",
    path: "/invitations/{invitationId}",
    operationId: "getInvitation",
    summary: "Get an invitation",
    tag: "invitation",
    permission: Permissions.readUsers,
    query: "entity",
    selectable: invitationProps,
    request: undefined,
    response: { status: 200, schema: InvitationView },
    handler: (ctx) =>
      Effect.gen(function*() {
        yield* ids(ctx, "invitationId")
        const inv = yield* (yield* DirectoryService).getInvitation(ctx.tenant, ctx.params.invitationId!)
        return entity(200, Directory.invitationView(inv), "invitations/$entity")
      })
  },
  {
    method: "GET",
    path: "/invitations/{invitationId}/invitedUser",
    operationId: "getInvitedUser",
    summary: "Get the user an invitation created",
    tag: "invitation",
    permission: Permissions.readUsers,
    query: "entity",
    selectable: userProps,
    request: undefined,
    response: { status: 200, schema: Directory.User },
    handler: (ctx) =>
      Effect.gen(function*() {
        yield* ids(ctx, "invitationId")
        const u = yield* (yield* DirectoryService).invitedUser(ctx.tenant, ctx.params.invitationId!)
        return entity(200, u, "users/$entity")
      })
  },
  // users
  {
    method: "POST",
    path: "/users",
    operationId: "createUser",
    summary: "Create a user",
    tag: "user",
    permission: Permissions.writeUsers,
    query: "none",
    selectable: [],
    request: Directory.User,
    response: { status: 201, schema: Directory.User },
    handler: (ctx) =>
      Effect.gen(function*() {
        const u = yield* (yield* DirectoryService).createUser(ctx.tenant, ctx.body)
        return entity(201, u, "users/$entity")
      })
  },
  {
    method: "GET",
    path: "/users",
    operationId: "listUsers",
    summary: "List users",
    tag: "user",
    permission: Permissions.readUsers,
    query: "collection",
    selectable: userProps,
    request: undefined,
    response: { status: 200, schema: Directory.User, collection: true },
    handler: (ctx) =>
      Effect.gen(function*() {
        const svc = yield* DirectoryService
        const p = yield* svc.listUsers(ctx.tenant, page(ctx))
        const count = ctx.query.count ? yield* countAll((pg) => svc.listUsers(ctx.tenant, pg)) : undefined
        return collection(p, "users", count)
      })
  },
  {
    method: "GET",
    path: "/users/{userId}",
    operationId: "getUser",
    summary: "Get a user",
    tag: "user",
    permission: Permissions.readUsers,
    query: "entity",
    selectable: userProps,
    request: undefined,
    response: { status: 200, schema: Directory.User },
    handler: (ctx) =>
      Effect.gen(function*() {
        yield* ids(ctx, "userId")
        return entity(200, yield* (yield* DirectoryService).getUser(ctx.tenant, ctx.params.userId!), "users/$entity")
      })
  },
  {
    method: "PATCH",
    path: "/users/{userId}",
    operationId: "updateUser",
    summary: "Update a user",
    tag: "user",
    permission: Permissions.writeUsers,
    query: "none",
    selectable: [],
    request: Directory.User,
    response: { status: 200, schema: Directory.User },
    handler: (ctx) =>
      Effect.gen(function*() {
        yield* ids(ctx, "userId")
        const u = yield* (yield* DirectoryService).patchUser(ctx.tenant, ctx.params.userId!, ctx.body, { ifMatch: ctx.ifMatch })
        return entity(200, u, "users/$entity")
      })
  },
  {
    method: "DELETE",
    path: "/users/{userId}",
    operationId: "deleteUser",
    summary: "Delete a user",
    tag: "user",
    permission: Permissions.writeUsers,
    query: "none",
    selectable: [],
    request: undefined,
    response: { status: 204 },
    handler: (ctx) =>
      Effect.gen(function*() {
        yield* ids(ctx, "userId")
        yield* (yield* DirectoryService).removeUser(ctx.tenant, ctx.params.userId!)
        return noContent
      })
  },
  // groups
  {
    method: "POST",
    path: "/groups",
    operationId: "createGroup",
    summary: "Create a group",
    tag: "group",
    permission: Permissions.writeGroups,
    query: "none",
    selectable: [],
    request: Directory.Group,
    response: { status: 201, schema: Directory.Group },
    handler: (ctx) =>
      Effect.gen(function*() {
        return entity(201, yield* (yield* DirectoryService).createGroup(ctx.tenant, ctx.body), "groups/$entity")
      })
  },
  {
    method: "GET",
    path: "/groups",
    operationId: "listGroups",
    summary: "List groups",
    tag: "group",
    permission: Permissions.readGroups,
    query: "collection",
    selectable: groupProps,
    request: undefined,
    response: { status: 200, schema: Directory.Group, collection: true },
    handler: (ctx) =>
      Effect.gen(function*() {
        const svc = yield* DirectoryService
        const p = yield* svc.listGroups(ctx.tenant, page(ctx))
        const count = ctx.query.count ? yield* countAll((pg) => svc.listGroups(ctx.tenant, pg)) : undefined
        return collection(p, "groups", count)
      })
  },
  {
    method: "GET",
    path: "/groups/{groupId}",
    operationId: "getGroup",
    summary: "Get a group",
    tag: "group",
    permission: Permissions.readGroups,
    query: "entity",
    selectable: groupProps,
    request: undefined,
    response: { status: 200, schema: Directory.Group },
    handler: (ctx) =>
      Effect.gen(function*() {
        yield* ids(ctx, "groupId")
        return entity(200, yield* (yield* DirectoryService).getGroup(ctx.tenant, ctx.params.groupId!), "groups/$entity")
      })
  },
  {
    method: "DELETE",
    path: "/groups/{groupId}",
    operationId: "deleteGroup",
    summary: "Delete a group",
    tag: "group",
    permission: Permissions.writeGroups,
    query: "none",
    selectable: [],
    request: undefined,
    response: { status: 204 },
    handler: (ctx) =>
      Effect.gen(function*() {
        yield* ids(ctx, "groupId")
        yield* (yield* DirectoryService).removeGroup(ctx.tenant, ctx.params.groupId!)
        return noContent
      })
  },
  {
    method: "GET",
    path: "/groups/{groupId}/members",
    operationId: "listGroupMembers",
    summary: "List the direct members of a group (users and groups)",
    tag: "group",
    permission: Permissions.readGroups,
    query: "collection",
    selectable: [...new Set([...userProps, ...groupProps])],
    request: undefined,
    response: { status: 200, schema: Schema.Union([Directory.User, Directory.Group]), collection: true },
    handler: (ctx) =>
      Effect.gen(function*() {
        yield* ids(ctx, "groupId")
        const svc = yield* DirectoryService
        const p = yield* svc.members(ctx.tenant, ctx.params.groupId!, page(ctx))
        const count = ctx.query.count ? yield* countAll((pg) => svc.members(ctx.tenant, ctx.params.groupId!, pg)) : undefined
        return collection(p as Page<Record<string, unknown>>, "directoryObjects", count)
      })
  },
  {
    method: "POST",
    path: "/groups/{groupId}/members/$ref",
    operationId: "addGroupMember",
    summary: "Add a member to a group by reference",
    tag: "group",
    permission: Permissions.writeMembers,
    query: "none",
    selectable: [],
    request: Reference,
    response: { status: 204 },
    handler: (ctx) =>
      Effect.gen(function*() {
        yield* ids(ctx, "groupId")
        const memberId = yield* decodeReference(ctx.body)
        yield* (yield* DirectoryService).addMember(ctx.tenant, ctx.params.groupId!, memberId)
        return noContent
      })
  },
  {
    method: "DELETE",
    path: "/groups/{groupId}/members/{memberId}/$ref",
    operationId: "removeGroupMember",
    summary: "Remove a member from a group",
    tag: "group",
    permission: Permissions.writeMembers,
    query: "none",
    selectable: [],
    request: undefined,
    response: { status: 204 },
    handler: (ctx) =>
      Effect.gen(function*() {
        yield* ids(ctx, "groupId", "memberId")
        yield* (yield* DirectoryService).removeMember(ctx.tenant, ctx.params.groupId!, ctx.params.memberId!)
        return noContent
      })
  }
]

/** Every route of the `/beta` face. */
export const routes: ReadonlyArray<Route> = [
  ...families.flatMap(assignmentRoutes),
  ...configurationRoutes,
  forUserRoute(families[1]!),
  forUserRoute(families[2]!),
  ...directoryRoutes
]

/** The store's readiness, for `/ready`. */
export const ready = Effect.gen(function*() {
  const store = yield* Store
  yield* store.ready
})

/** Re-exported for the description. */
export const schemas = { AnyObject }
