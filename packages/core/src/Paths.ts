/**
 * The three path families that reach the same stored assignments (SPEC 2), and
 * the targeting queries that decide whether a configuration is visible under a
 * user: `/deviceManagement/…` (tenant), `/users/{id}/…` (user) and
 * `/invitations/{id}/invitedUser/…` (invitation, the seed's path).
 *
 * @since 0.1.0
 */
import { Effect, Option } from "effect"
import type { Assignment } from "./Assignment.ts"
import type { Configuration } from "./Configuration.ts"
import { userPrincipalNameKey } from "./Directory.ts"
import { EntityNotFound, type StoreUnavailable } from "./Errors.ts"
import { type ConfigurationResolution, type InvitedUser, type Store, type TargetingCheck, type TargetingInputs, yieldBetweenReads } from "./Store.ts"
import * as Targeting from "./Targeting.ts"

/** Which family a configuration is reached through. */
export type Parent =
  | { readonly _tag: "Tenant" }
  | { readonly _tag: "User"; readonly userId: string }
  | { readonly _tag: "Invitation"; readonly invitationId: string }

/** `/deviceManagement/…` */
export const tenant: Parent = { _tag: "Tenant" }
/** `/users/{userId}/…`: the user's id, or (since 0.16.0) its principal name, see {@link mayBePrincipalName} */
export const user = (userId: string): Parent => ({ _tag: "User", userId })
/** `/invitations/{invitationId}/invitedUser/…` */
export const invitation = (invitationId: string): Parent => ({ _tag: "Invitation", invitationId })

// The exported functions below are typed where they are declared, so that their declarations
// (`dist/Paths.d.ts`) name the port, `Store["Service"]`, instead of spelling out its every method
// at each use, as an inferred type would.
type StoreService = Store["Service"]

/** True when configuration `configurationId` is targeted to the user (SPEC 4). */
export const isTargeted: (
  store: Store["Service"],
  tenantId: string,
  userId: string,
  configurationId: string
) => Effect.Effect<boolean, StoreUnavailable> = Effect.fnUntraced(function*(
  store: StoreService,
  tenantId: string,
  userId: string,
  configurationId: string
) {
  return targeted(yield* store.targetingOf(tenantId, userId, configurationId))
})

/** Whether targeting inputs read for one configuration target their user. */
const targeted = (inputs: TargetingInputs): boolean =>
  Targeting.isTargeted(inputs.assignments.map((r) => r.assignment), new Set(inputs.groups))

/** The ids of the configurations targeted to the user. */
export const targetedConfigurationIds: (
  store: Store["Service"],
  tenantId: string,
  userId: string
) => Effect.Effect<Array<string>, StoreUnavailable> = Effect.fnUntraced(function*(
  store: StoreService,
  tenantId: string,
  userId: string
) {
  const inputs = yield* store.targetingOf(tenantId, userId)
  const groups = new Set(inputs.groups)
  const byConfiguration = new Map<string, Array<Targeting.Targetable>>()
  for (const r of inputs.assignments) {
    const list = byConfiguration.get(r.configurationId)
    if (list) list.push(r.assignment)
    else byConfiguration.set(r.configurationId, [r.assignment])
  }
  return [...byConfiguration].filter(([, as]) => Targeting.isTargeted(as, groups)).map(([id]) => id)
})

/** The parents that name a user: a user's path or an invitation's. */
export type UserParent = Exclude<Parent, { readonly _tag: "Tenant" }>

/**
 * Whether a user's key in a path may be a `userPrincipalName`, as Graph addresses a user
 * (`/users/{id | userPrincipalName}`): one holding an `@` (Entra's `alias@domain`, its guests'
 * `ada_contoso.com#EXT#@contoso.onmicrosoft.com` included) or `#EXT#` in any case (the guest form
 * this service's invitations give, `ada_contoso.com#EXT#`, has no domain). Only a key that names
 * no user by id is read again as a name ({@link principalNameHolder}): an id is that user whatever
 * it holds, and an id that names nothing (a deleted user's) costs no second read.
 *
 * @since 0.16.0
 */
export const mayBePrincipalName = (key: string): boolean => key.includes("@") || /#EXT#/i.test(key)

/**
 * The id of the user whose `userPrincipalName` is `key`, compared as the store keeps names unique
 * (`Directory.userPrincipalNameKey`: ASCII letters in any case, as Graph matches them), when `key`
 * {@link mayBePrincipalName}; none when it may not or no user of the tenant holds it. The store's
 * `users.idByPrincipalName` where it offers one (one read through the key's index), else the
 * tenant's users paged through, a thousand at a time.
 *
 * @since 0.16.0
 */
export const principalNameHolder: (
  store: Store["Service"],
  tenantId: string,
  key: string
) => Effect.Effect<Option.Option<string>, StoreUnavailable> = Effect.fnUntraced(function*(
  store: StoreService,
  tenantId: string,
  key: string
): Effect.fn.Return<Option.Option<string>, StoreUnavailable> {
  if (!mayBePrincipalName(key)) return Option.none()
  if (store.users.idByPrincipalName !== undefined) return yield* store.users.idByPrincipalName(tenantId, key)
  const wanted = userPrincipalNameKey(key)
  let after: string | undefined
  for (;;) {
    if (after !== undefined) yield* yieldBetweenReads
    const page = yield* store.users.list(tenantId, { after, limit: 1000 })
    const holder = page.items.find((u) => u.userPrincipalName !== null && userPrincipalNameKey(u.userPrincipalName) === wanted)
    if (holder !== undefined) return Option.some(holder.id)
    if (page.next === undefined) return Option.none()
    after = page.next
  }
})

/**
 * The user `parent` names, from what was read of it, or the first segment that does not resolve: a
 * user's path names its key as the request gave it (an id, or a principal name that names no user).
 */
const presentUser = (parent: UserParent, user: Option.Option<InvitedUser>): Effect.Effect<string, EntityNotFound> => {
  if (Option.isNone(user)) {
    return Effect.fail(
      parent._tag === "Invitation"
        ? new EntityNotFound({ entity: "invitation", id: parent.invitationId })
        : new EntityNotFound({ entity: "user", id: parent.userId })
    )
  }
  if (!user.value.exists) {
    // An invitation's deleted guest is named by the segment, not by its id (since 0.9.0): these paths
    // are read with the configurations' permissions, which do not read users (SPEC 7).
    return Effect.fail(
      parent._tag === "Invitation"
        ? new EntityNotFound({ entity: "invitedUser of invitation", id: parent.invitationId })
        : new EntityNotFound({ entity: "user", id: parent.userId })
    )
  }
  return Effect.succeed(user.value.userId)
}

/**
 * The user a parent names (none for the tenant family), or the first missing segment. A user's key
 * that names no user by id is read as a principal name (since 0.16.0, {@link principalNameHolder}).
 */
export const userOf: (
  store: Store["Service"],
  tenantId: string,
  parent: Parent
) => Effect.Effect<string | undefined, EntityNotFound | StoreUnavailable> = Effect.fnUntraced(function*(
  store: StoreService,
  tenantId: string,
  parent: Parent
): Effect.fn.Return<string | undefined, EntityNotFound | StoreUnavailable> {
  switch (parent._tag) {
    case "Tenant":
      return undefined
    case "User": {
      if (Option.isSome(yield* store.users.get(tenantId, parent.userId))) return parent.userId
      const holder = yield* principalNameHolder(store, tenantId, parent.userId)
      return yield* presentUser(parent, Option.some({ userId: Option.getOrElse(holder, () => parent.userId), exists: Option.isSome(holder) }))
    }
    case "Invitation":
      return yield* presentUser(parent, yield* store.invitations.invitedUserOf(tenantId, parent.invitationId))
  }
})

/**
 * The configuration at `…/deviceEnrollmentConfigurations/{configurationId}` under
 * a parent, or {@link EntityNotFound} naming the first segment that does not
 * resolve. Under a user, a configuration not targeted to the user is not found.
 * With a store that offers `resolveConfiguration`, a user's path is resolved from
 * that one read; otherwise from separate reads. The decisions are the same code.
 */
export const resolveConfiguration: (
  store: Store["Service"],
  tenantId: string,
  parent: Parent,
  configurationId: string
) => Effect.Effect<Configuration, EntityNotFound | StoreUnavailable> = Effect.fnUntraced(function*(
  store: StoreService,
  tenantId: string,
  parent: Parent,
  configurationId: string
): Effect.fn.Return<Configuration, EntityNotFound | StoreUnavailable> {
  if (parent._tag === "Tenant") {
    const c = yield* store.configurations.get(tenantId, configurationId)
    return Option.isNone(c) ? yield* configurationNotFound(configurationId) : c.value
  }
  const path = yield* readUserPath(store, tenantId, parent, configurationId)
  if (!targeted(path.inputs)) return yield* configurationNotFound(configurationId)
  return path.configuration
})

/**
 * What deciding a configuration under a user's path reads: the path's user, the configuration
 * and the user's targeting inputs in it, from the store's one read when it offers one, else from
 * separate reads; or the first segment that does not resolve before the targeting decides.
 */
const readUserPath = Effect.fnUntraced(function*(
  store: StoreService,
  tenantId: string,
  parent: UserParent,
  configurationId: string
): Effect.fn.Return<
  { readonly userId: string; readonly configuration: Configuration; readonly inputs: TargetingInputs },
  EntityNotFound | StoreUnavailable
> {
  if (store.resolveConfiguration !== undefined) {
    const r = yield* resolveOnce(store, tenantId, parent, configurationId)
    const userId = yield* presentUser(parent, r.user)
    if (Option.isNone(r.configuration)) return yield* configurationNotFound(configurationId)
    return { userId, configuration: r.configuration.value, inputs: r.targeting }
  }
  const userId = (yield* userOf(store, tenantId, parent))!
  const c = yield* store.configurations.get(tenantId, configurationId)
  if (Option.isNone(c)) return yield* configurationNotFound(configurationId)
  return { userId, configuration: c.value, inputs: yield* store.targetingOf(tenantId, userId, configurationId) }
})

/**
 * The store's one read of a user's path (`resolveConfiguration`, which the caller checked it
 * offers); where a user's key names no user by id but a user holds it as a principal name, that
 * read again with the holder's id (since 0.16.0): a path by id reads as before.
 */
const resolveOnce = Effect.fnUntraced(function*(
  store: StoreService,
  tenantId: string,
  parent: UserParent,
  configurationId: string,
  assignmentId?: string
): Effect.fn.Return<ConfigurationResolution, StoreUnavailable> {
  const r = yield* store.resolveConfiguration!(tenantId, parent, configurationId, assignmentId)
  if (parent._tag !== "User" || Option.isNone(r.user) || r.user.value.exists) return r
  const holder = yield* principalNameHolder(store, tenantId, parent.userId)
  return Option.isNone(holder) ? r : yield* store.resolveConfiguration!(tenantId, { _tag: "User", userId: holder.value }, configurationId, assignmentId)
})

/**
 * A write's path, decided before the write, and what decides it again inside the write (see
 * {@link resolveWrite}).
 *
 * @since 0.10.0
 */
export interface WritePath {
  /**
   * Whether a PATCH or a DELETE may go on, decided on the assignment as the write finds it
   * stored: false when the path no longer resolves with it. The tenant path's passes all.
   */
  readonly onAssignment: (current: Assignment) => boolean
  /** For an insert under a user's path: the targeting check the store runs in the insert's write. */
  readonly targeting: TargetingCheck | undefined
}

const tenantWrite: WritePath = { onAssignment: () => true, targeting: undefined }

/**
 * Resolves the path of a write to assignments of `configurationId` as
 * {@link resolveConfiguration} does (the same failures), and answers what decides it again
 * inside the write. Under a user's or an invitation's path: for a PATCH or a DELETE, the
 * targeting with the assignment as the write finds it stored and the rest as read here; for an
 * insert, the user's targeting as the store reads it in the insert's write. A write through the
 * tenant path at the same moment that moves the assignment's target away from the user, or an
 * `assign` that no longer targets the user, then lands either before the write (which is refused:
 * the check sees it) or after it.
 *
 * @since 0.10.0
 */
export const resolveWrite: (
  store: Store["Service"],
  tenantId: string,
  parent: Parent,
  configurationId: string
) => Effect.Effect<WritePath, EntityNotFound | StoreUnavailable> = Effect.fnUntraced(function*(
  store: StoreService,
  tenantId: string,
  parent: Parent,
  configurationId: string
): Effect.fn.Return<WritePath, EntityNotFound | StoreUnavailable> {
  if (parent._tag === "Tenant") {
    yield* resolveConfiguration(store, tenantId, parent, configurationId)
    return tenantWrite
  }
  const { inputs, userId } = yield* readUserPath(store, tenantId, parent, configurationId)
  // The decision `resolveConfiguration` makes, with one set of the user's groups for both.
  const groups = new Set(inputs.groups)
  if (!Targeting.isTargeted(inputs.assignments.map((r) => r.assignment), groups)) return yield* configurationNotFound(configurationId)
  return {
    onAssignment: (current) => {
      // Decided again only when the assignment bears on the user otherwise than as it was read.
      const read = inputs.assignments.find((r) => r.assignment.id === current.id)?.assignment
      if (read === current) return true
      if (Targeting.effect(current.target, groups) === (read === undefined ? "none" : Targeting.effect(read.target, groups))) return true
      const as: Array<Targeting.Targetable> = [current]
      for (const r of inputs.assignments) if (r.assignment !== read) as.push(r.assignment)
      return Targeting.isTargeted(as, groups)
    },
    targeting: { userId, check: targeted }
  }
})

const configurationNotFound = (configurationId: string) =>
  Effect.fail(new EntityNotFound({ entity: "deviceEnrollmentConfiguration", id: configurationId }))

/** The configuration a one-read resolution found, or the first segment that does not resolve. */
const resolved = (
  parent: UserParent,
  configurationId: string,
  r: ConfigurationResolution
): Effect.Effect<Configuration, EntityNotFound> =>
  Effect.flatMap(presentUser(parent, r.user), () =>
    Option.isNone(r.configuration) || !targeted(r.targeting)
      ? configurationNotFound(configurationId)
      : Effect.succeed(r.configuration.value))

/**
 * The assignment `assignmentId` of the configuration at the path (none when the
 * configuration has no such assignment), once the path resolves as
 * {@link resolveConfiguration} resolves it. With a store whose one-read resolution
 * also reads the assignment, a user's or an invitation's path takes one read.
 *
 * @since 0.2.3
 */
export const resolveAssignment: (
  store: Store["Service"],
  tenantId: string,
  parent: Parent,
  configurationId: string,
  assignmentId: string
) => Effect.Effect<Option.Option<Assignment>, EntityNotFound | StoreUnavailable> = Effect.fnUntraced(function*(
  store: StoreService,
  tenantId: string,
  parent: Parent,
  configurationId: string,
  assignmentId: string
): Effect.fn.Return<Option.Option<Assignment>, EntityNotFound | StoreUnavailable> {
  if (parent._tag !== "Tenant" && store.resolveConfiguration !== undefined) {
    const r = yield* resolveOnce(store, tenantId, parent, configurationId, assignmentId)
    yield* resolved(parent, configurationId, r)
    if (r.assignment !== undefined) return r.assignment
  } else {
    yield* resolveConfiguration(store, tenantId, parent, configurationId)
  }
  return yield* store.assignments.get(tenantId, configurationId, assignmentId)
})
