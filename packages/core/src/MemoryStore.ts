/**
 * The store port in memory: for tests and quick runs. JavaScript runs one
 * callback at a time, so every method here is atomic by construction.
 *
 * A snapshot (`snapshot`, since 0.11.0) holds the store's writes: while one is open, every
 * write waits for the last open snapshot to end, so the snapshot's reads see one state however
 * long it runs. A write inside a snapshot, which would wait for itself, is a defect.
 *
 * @since 0.1.0
 */
import { Context, Deferred, Effect, Layer, Option, Result } from "effect"
import type { Assignment } from "./Assignment.ts"
import * as AssignmentFilter from "./AssignmentFilter.ts"
import * as AssignmentTarget from "./AssignmentTarget.ts"
import type { Configuration } from "./Configuration.ts"
import type { Group, Invitation, MemberRef, User } from "./Directory.ts"
import { userPrincipalNameKey } from "./Directory.ts"
import { EntityAlreadyExists, EntityNotFound, MemberAlreadyPresent, UserPrincipalNameTaken } from "./Errors.ts"
import * as Id from "./Id.ts"
import { type Change, type Check, type Page, type PageRequest, Store, type TargetingInputs } from "./Store.ts"
import * as Targeting from "./Targeting.ts"
import type { Membership } from "./Targeting.ts"

/** One ordered map of id to value, per tenant and scope. */
class Table<A> {
  private readonly scopes = new Map<string, Map<string, A>>()
  scope(key: string, create = false): Map<string, A> | undefined {
    let m = this.scopes.get(key)
    if (m === undefined && create) this.scopes.set(key, m = new Map())
    return m
  }
  dropScope(key: string) {
    this.scopes.delete(key)
  }
  page(key: string, req: PageRequest, keep: (a: A) => boolean = () => true): Page<A> {
    const m = this.scope(key)
    if (m === undefined) return { items: [], next: undefined }
    const after = req.after
    const ids = [...m.keys()].filter((id) => after === undefined || Id.compare(id, after) > 0).sort(Id.compare)
    const items: Array<A> = []
    let last: string | undefined
    for (const id of ids) {
      const v = m.get(id)!
      if (!keep(v)) continue
      if (items.length === req.limit) return { items, next: last }
      items.push(v)
      last = id
    }
    return { items, next: undefined }
  }
}

const k = (...parts: ReadonlyArray<string>) => parts.join("\u0000")

/** Whether the running fiber is inside one of the store's snapshots (where a write is a defect). */
const InSnapshot = Context.Reference<boolean>("@enrollment/core/MemoryStore/InSnapshot", { defaultValue: () => false })

/** The write methods of the port, by set: each waits for the open snapshots to end. */
const writes: Record<string, ReadonlyArray<string>> = {
  configurations: ["insert", "modify", "remove"],
  assignments: ["insert", "modify", "remove", "replace"],
  users: ["insert", "modify", "remove"],
  groups: ["insert", "remove", "addMember", "removeMember"],
  invitations: ["insert", "remove"]
}

/**
 * `store` with snapshots (see the module): its writes wait while one is open. The check that none
 * is open and the write run in one step, so no snapshot begins between them.
 */
const withSnapshots = (store: Store["Service"]): Store["Service"] => {
  let open = 0
  let ended = Deferred.makeUnsafe<void>()
  const gated = <Args extends Array<unknown>>(write: (...args: Args) => Effect.Effect<unknown, unknown>) => {
    const run = (...args: Args): Effect.Effect<unknown, unknown> =>
      Effect.flatMap(InSnapshot, (inside) =>
        inside
          ? Effect.die(new Error("MemoryStore: a write inside a snapshot (the port's snapshot only reads)"))
          : Effect.suspend(() => open === 0 ? write(...args) : Effect.andThen(Deferred.await(ended), run(...args))))
    return run
  }
  const sets = Object.fromEntries(Object.entries(writes).map(([set, methods]) => {
    const members = (store as unknown as Record<string, Record<string, (...args: Array<unknown>) => Effect.Effect<unknown, unknown>>>)[set]!
    return [set, { ...members, ...Object.fromEntries(methods.map((m) => [m, gated(members[m]!)])) }]
  }))
  const snapshot = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.flatMap(InSnapshot, (inside) =>
      inside ? effect : Effect.acquireUseRelease(
        Effect.sync(() => {
          if (open++ === 0) ended = Deferred.makeUnsafe<void>()
        }),
        () => Effect.provideService(effect, InSnapshot, true),
        () =>
          Effect.sync(() => {
            if (--open === 0) Deferred.doneUnsafe(ended, Effect.void)
          })
      ))
  return { ...store, ...sets, snapshot } as Store["Service"]
}

/** Makes a fresh, empty in-memory store (`stampOf`, `snapshot`, the counts and `users.idByPrincipalName` included; not `transitiveGroupsOf` nor `resolveConfiguration`). */
export const make: Effect.Effect<Store["Service"]> = Effect.map(Effect.sync(() => {
  const configurations = new Table<Configuration>()
  const assignments = new Table<Assignment>()
  const users = new Table<User>()
  const groups = new Table<Group>()
  const invitations = new Table<Invitation>()
  const members = new Table<MemberRef>()

  // The port's stampOf: one process holds every value, so a per-tenant counter moved by each
  // write is exact. Scope keys start with the tenant (see `k`).
  const stamps = new Map<string, number>()
  let written = 0
  const bump = (scopeKey: string) => {
    const end = scopeKey.indexOf("\u0000")
    stamps.set(end === -1 ? scopeKey : scopeKey.slice(0, end), ++written)
  }

  /**
   * Users and groups share one id space (see {@link Store}): the refusal of `id` when
   * `other`, the other kind's table, has it in the tenant.
   */
  const takenBy = (other: Table<unknown> | undefined, tenant: string, id: string): EntityAlreadyExists | undefined =>
    other?.scope(tenant)?.has(id) ? new EntityAlreadyExists({ entity: "directoryObject", id }) : undefined

  /** A removal's (or a replacement's, of its configuration) check of the value `m` holds at `id`: its refusal, or undefined (also when there is none). */
  const checked = <A, E>(m: Map<string, A> | undefined, id: string, check: Check<A, E> | undefined) => {
    if (check === undefined) return undefined
    const current = m?.get(id)
    if (current === undefined) return undefined
    const r = check(current)
    return Result.isFailure(r) ? r : undefined
  }

  /** The refusal of a child's insert under configuration `c` when it does not exist (see {@link Store}). */
  const configurationMissing = (tenant: string, c: string) =>
    configurations.scope(tenant)?.has(c) ? undefined : new EntityNotFound({ entity: "deviceEnrollmentConfiguration", id: c })

  const entitySet = <A extends { readonly id: string }>(
    table: Table<A>,
    entity: string,
    onRemove?: (t: string, id: string) => void,
    /** The table whose ids this set's inserts may not take (users' and groups' each other's). */
    sharesIdsWith?: Table<unknown>
  ) => ({
    get: (tenant: string, id: string) => Effect.sync(() => Option.fromNullishOr(table.scope(tenant)?.get(id))),
    list: (tenant: string, page: PageRequest) => Effect.sync(() => table.page(tenant, page)),
    count: (tenant: string) => Effect.sync(() => table.scope(tenant)?.size ?? 0),
    insert: (tenant: string, value: A) =>
      Effect.suspend(() => {
        const taken = takenBy(sharesIdsWith, tenant, value.id)
        if (taken !== undefined) return Effect.fail(taken)
        const m = table.scope(tenant, true)!
        if (m.has(value.id)) return Effect.fail(new EntityAlreadyExists({ entity, id: value.id }))
        m.set(value.id, value)
        bump(tenant)
        return Effect.succeed(value)
      }),
    modify: <E>(tenant: string, id: string, change: Change<A, E>) =>
      Effect.suspend(() => {
        const m = table.scope(tenant)
        const current = m?.get(id)
        if (m === undefined || current === undefined) return Effect.succeed(Option.none<A>())
        const r = change(current)
        if (Result.isFailure(r)) return Effect.fail(r.failure)
        if (r.success !== current) {
          m.set(id, r.success)
          bump(tenant)
        }
        return Effect.succeed(Option.some(r.success))
      }),
    remove: <E = never>(tenant: string, id: string, check?: Check<A, E>) =>
      Effect.suspend(() => {
        const m = table.scope(tenant)
        const refused = checked(m, id, check)
        if (refused !== undefined) return Effect.fail(refused.failure)
        const removed = m?.delete(id) ?? false
        if (removed) {
          onRemove?.(tenant, id)
          bump(tenant)
        }
        return Effect.succeed(removed)
      })
  })

  /**
   * The users of each principal-name key, by tenant (since 0.11.0): the index the uniqueness
   * of `userPrincipalName` is decided by (see {@link Store}), kept with every user write.
   */
  const byPrincipalName = new Map<string, Map<string, Set<string>>>()
  const indexUser = (tenant: string, u: User, add: boolean) => {
    const key = userPrincipalNameKey(u.userPrincipalName)
    if (key === undefined) return
    let keys = byPrincipalName.get(tenant)
    if (keys === undefined) byPrincipalName.set(tenant, keys = new Map())
    let ids = keys.get(key)
    if (ids === undefined) keys.set(key, ids = new Set())
    if (add) ids.add(u.id)
    else {
      ids.delete(u.id)
      if (ids.size === 0) keys.delete(key)
    }
  }
  /** A user other than `except` whose principal name has `u`'s key: its id, or undefined (also for a null name). */
  const principalNameHolder = (tenant: string, u: User, except?: string): string | undefined => {
    const key = userPrincipalNameKey(u.userPrincipalName)
    if (key === undefined) return undefined
    for (const id of byPrincipalName.get(tenant)?.get(key) ?? []) if (id !== except) return id
    return undefined
  }
  const taken = (u: User, heldBy: string) => new UserPrincipalNameTaken({ userPrincipalName: u.userPrincipalName ?? "", heldBy })

  const removeMemberEverywhere = (tenant: string, memberId: string) => {
    for (const g of groups.scope(tenant)?.keys() ?? []) members.scope(k(tenant, g))?.delete(memberId)
  }

  const concerningNow = (tenant: string, groupIds: ReadonlyArray<string>, configurationId?: string) => {
    const wanted = new Set(groupIds)
    const out: Array<{ configurationId: string; assignment: Assignment }> = []
    const cfgIds = configurationId === undefined ? [...(configurations.scope(tenant)?.keys() ?? [])] : [configurationId]
    for (const c of cfgIds) {
      for (const a of assignments.scope(k(tenant, c))?.values() ?? []) {
        const t = a.target
        if (t === null) continue
        if (
          AssignmentTarget.typeOf(t) === "allLicensedUsersAssignmentTarget" ||
          (AssignmentTarget.isGroupTarget(t) && t.groupId !== null && wanted.has(t.groupId))
        ) out.push({ configurationId: c, assignment: a })
      }
    }
    return out
  }
  const concerning = (tenant: string, groupIds: ReadonlyArray<string>, configurationId?: string) =>
    Effect.sync(() => concerningNow(tenant, groupIds, configurationId))
  /** `targetingOf` as it is now. */
  const targetingNow = (tenant: string, userId: string, configurationId?: string): TargetingInputs => {
    // only memberships in groups that exist count, as in groupsOf
    const parents = (id: string) => {
      const out: Array<string> = []
      for (const g of groups.scope(tenant)?.keys() ?? []) if (members.scope(k(tenant, g))?.has(id)) out.push(g)
      return out
    }
    const gs = [...Targeting.transitiveGroups(userId, parents)].sort(Id.compare)
    return { groups: gs, assignments: concerningNow(tenant, gs, configurationId) }
  }

  const cfgSet = entitySet(configurations, "deviceEnrollmentConfiguration", (t, id) => assignments.dropScope(k(t, id)))
  const assignmentScope = (tenant: string, configurationId: string) => k(tenant, configurationId)

  return Store.of({
    configurations: {
      ...cfgSet,
      getMany: (tenant, ids) =>
        Effect.sync(() => ids.flatMap((id) => {
          const c = configurations.scope(tenant)?.get(id)
          return c === undefined ? [] : [c]
        }))
    },
    assignments: {
      get: (tenant, c, id) => Effect.sync(() => Option.fromNullishOr(assignments.scope(assignmentScope(tenant, c))?.get(id))),
      list: (tenant, c, page, filter) =>
        Effect.sync(() =>
          assignments.page(assignmentScope(tenant, c), page, filter ? (a) => AssignmentFilter.matches(filter, a) : undefined)
        ),
      count: (tenant, c, filter) =>
        Effect.sync(() => {
          let n = 0
          for (const a of assignments.scope(assignmentScope(tenant, c))?.values() ?? []) {
            if (!filter || AssignmentFilter.matches(filter, a)) n++
          }
          return n
        }),
      insert: (tenant, c, value, targeting) =>
        Effect.suspend(() => {
          // When it runs, not when it is made: the configuration may go in between, and so may the
          // user's targeting (since 0.10.0).
          const missing = configurationMissing(tenant, c) ??
            (targeting === undefined || targeting.check(targetingNow(tenant, targeting.userId, c))
              ? undefined
              : new EntityNotFound({ entity: "deviceEnrollmentConfiguration", id: c }))
          if (missing !== undefined) return Effect.fail<EntityNotFound | EntityAlreadyExists>(missing)
          return entitySet(assignments, "enrollmentConfigurationAssignment").insert(assignmentScope(tenant, c), value)
        }),
      modify: (tenant, c, id, change) => entitySet(assignments, "").modify(assignmentScope(tenant, c), id, change),
      remove: (tenant, c, id, check) =>
        Effect.suspend(() => {
          const m = assignments.scope(assignmentScope(tenant, c))
          const refused = checked(m, id, check)
          if (refused !== undefined) return Effect.fail(refused.failure)
          const removed = m?.delete(id) ?? false
          if (removed) bump(tenant)
          return Effect.succeed(removed)
        }),
      replace: <E = never>(tenant: string, c: string, values: ReadonlyArray<Assignment>, check?: Check<Configuration, E>) =>
        Effect.suspend((): Effect.Effect<void, EntityNotFound | E> => {
          const missing = configurationMissing(tenant, c)
          if (missing !== undefined) return Effect.fail(missing)
          // The configuration's check (since 0.16.0), in the same step as the replacement.
          const refused = checked(configurations.scope(tenant), c, check)
          if (refused !== undefined) return Effect.fail(refused.failure)
          bump(tenant)
          const m = new Map<string, Assignment>()
          for (const v of values) m.set(v.id, v)
          assignments.dropScope(assignmentScope(tenant, c))
          const scope = assignments.scope(assignmentScope(tenant, c), true)!
          for (const [id, v] of m) scope.set(id, v)
          return Effect.void
        }),
      concerning
    },
    users: (() => {
      const set = entitySet(users, "user", (t, id) => {
        removeMemberEverywhere(t, id)
      }, groups)
      return {
        ...set,
        insert: (tenant: string, value: User) =>
          Effect.suspend((): Effect.Effect<User, EntityAlreadyExists | UserPrincipalNameTaken> => {
            if (users.scope(tenant)?.has(value.id) || groups.scope(tenant)?.has(value.id)) return set.insert(tenant, value)
            const holder = principalNameHolder(tenant, value)
            if (holder !== undefined) return Effect.fail(taken(value, holder))
            return Effect.map(set.insert(tenant, value), (inserted) => {
              indexUser(tenant, inserted, true)
              return inserted
            })
          }),
        modify: <E>(tenant: string, id: string, change: Change<User, E>) =>
          set.modify<E | UserPrincipalNameTaken>(tenant, id, (current) => {
            const r = change(current)
            if (Result.isFailure(r) || r.success === current) return r
            const next = r.success
            const key = userPrincipalNameKey(next.userPrincipalName)
            if (key !== undefined && key !== userPrincipalNameKey(current.userPrincipalName)) {
              const holder = principalNameHolder(tenant, next, id)
              if (holder !== undefined) return Result.fail(taken(next, holder))
            }
            // Synchronous with the write that follows (the set's modify writes what this returns).
            indexUser(tenant, current, false)
            indexUser(tenant, next, true)
            return r
          }),
        remove: <E = never>(tenant: string, id: string, check?: Check<User, E>) =>
          Effect.suspend(() => {
            const current = users.scope(tenant)?.get(id)
            return Effect.map(set.remove<E>(tenant, id, check), (removed) => {
              if (removed && current !== undefined) indexUser(tenant, current, false)
              return removed
            })
          }),
        // Through the uniqueness's own index (since 0.16.0): the least id of the key's users.
        idByPrincipalName: (tenant: string, userPrincipalName: string) =>
          Effect.sync(() => {
            let least: string | undefined
            for (const id of byPrincipalName.get(tenant)?.get(userPrincipalNameKey(userPrincipalName)!) ?? []) {
              if (least === undefined || Id.compare(id, least) < 0) least = id
            }
            return Option.fromNullishOr(least)
          })
      }
    })(),
    groups: {
      ...entitySet(groups, "group", (t, id) => {
        members.dropScope(k(t, id))
        removeMemberEverywhere(t, id)
      }, users),
      members: (tenant, g, page) => Effect.sync(() => members.page(k(tenant, g), page)),
      memberCount: (tenant, g, kind) =>
        Effect.sync(() => {
          const m = members.scope(k(tenant, g))
          if (m === undefined || kind === undefined) return m?.size ?? 0
          let n = 0
          for (const ref of m.values()) if (ref.kind === kind) n++
          return n
        }),
      addMember: (tenant, g, member) =>
        Effect.suspend((): Effect.Effect<void, EntityNotFound | MemberAlreadyPresent> => {
          if (!groups.scope(tenant)?.has(g)) return Effect.fail(new EntityNotFound({ entity: "group", id: g }))
          if (!(member.kind === "user" ? users : groups).scope(tenant)?.has(member.id)) {
            return Effect.fail(new EntityNotFound({ entity: "directoryObject", id: member.id }))
          }
          const m = members.scope(k(tenant, g), true)!
          if (m.has(member.id)) return Effect.fail(new MemberAlreadyPresent({ groupId: g, memberId: member.id }))
          m.set(member.id, { kind: member.kind, id: member.id })
          bump(tenant)
          return Effect.void
        }),
      removeMember: (tenant, g, memberId) =>
        Effect.sync(() => {
          const removed = members.scope(k(tenant, g))?.delete(memberId) ?? false
          if (removed) bump(tenant)
          return removed
        }),
      groupsOf: (tenant, memberIds) =>
        Effect.sync(() => {
          const wanted = new Set(memberIds)
          const out: Array<Membership> = []
          for (const g of groups.scope(tenant)?.keys() ?? []) {
            for (const id of members.scope(k(tenant, g))?.keys() ?? []) {
              if (wanted.has(id)) out.push({ groupId: g, memberId: id })
            }
          }
          return out
        })
    },
    invitations: {
      ...(({ insert: _, modify: __, ...rest }) => rest)(entitySet(invitations, "invitation")),
      invitedUserOf: (tenant, invitationId) =>
        Effect.sync(() => {
          const inv = invitations.scope(tenant)?.get(invitationId)
          if (inv === undefined) return Option.none()
          return Option.some({ userId: inv.invitedUserId, exists: users.scope(tenant)?.has(inv.invitedUserId) ?? false })
        }),
      insert: (tenant, invitation, user) =>
        Effect.suspend(() => {
          const inv = invitations.scope(tenant, true)!
          const us = users.scope(tenant, true)!
          if (inv.has(invitation.id)) return Effect.fail(new EntityAlreadyExists({ entity: "invitation", id: invitation.id }))
          // The guest's principal name held already: the invitation links the holder (see Store).
          const holder = user === undefined ? undefined : principalNameHolder(tenant, user)
          if (holder !== undefined) {
            const linked: Invitation = { ...invitation, invitedUserId: holder }
            inv.set(linked.id, linked)
            bump(tenant)
            return Effect.succeed(linked)
          }
          const taken = user === undefined ? undefined : takenBy(groups, tenant, user.id)
          if (taken !== undefined) return Effect.fail(taken)
          if (user !== undefined && us.has(user.id)) return Effect.fail(new EntityAlreadyExists({ entity: "user", id: user.id }))
          inv.set(invitation.id, invitation)
          if (user !== undefined) {
            us.set(user.id, user)
            indexUser(tenant, user, true)
          }
          bump(tenant)
          return Effect.succeed(invitation)
        })
    },
    targetingOf: (tenant, userId, configurationId) => Effect.sync(() => targetingNow(tenant, userId, configurationId)),
    ready: Effect.void,
    stampOf: (tenant) => stamps.get(tenant) ?? 0
  })
}), withSnapshots)

/** A layer with a fresh, empty in-memory store. */
export const layer: Layer.Layer<Store> = Layer.effect(Store, make)
