/**
 * The store port: what the domain needs from persistence, whatever the engine.
 *
 * Every method takes the tenant first and sees only that tenant's objects.
 * Lists are keyset pages ordered by id, by code point (`Id.compare`, the order of the ids'
 * UTF-8 bytes: SQL's binary collations; since 0.9.0 the conformance suite checks it). Ids given to
 * the port are keys as `Id` takes them: well-formed UTF-16 (since 0.9.0 `Id` refuses a lone
 * surrogate, which no UTF-8 holds: a SQL store reads `"u\ud800"` as the row of `"u\ufffd"`). The
 * HTTP adapter and `enrollctl` check every id they pass; a caller of the port or of the services
 * with ids of its own checks them with `Id.isId`. `modify` is an atomic read-modify-write:
 * the store runs the pure `change` against the current value and writes its
 * result with no other write in between, so concurrent PATCHes serialise and
 * none is lost (SPEC 3.11). A `change` that returns the value it was given
 * (the same reference) writes nothing. Infrastructure failures surface as
 * {@link StoreUnavailable}.
 *
 * Users and groups share one id space, as Graph's directory objects do
 * (memberships and targeting name a member by its id alone): an insert of a user
 * (`users.insert`, or an invitation's guest user) whose id a group of the tenant
 * has, or of a group whose id a user has, is refused with `EntityAlreadyExists`
 * of a `directoryObject` and writes nothing. The store decides it in the same
 * atomic write as the insert (since 0.6.0), so two concurrent creates of one id,
 * one as each kind, cannot both succeed, even from two processes.
 *
 * A child is stored only under a parent that exists (since 0.6.0): an assignment
 * (`assignments.insert`, `assignments.replace`) under its configuration, a membership
 * (`groups.addMember`) under its group and of a member that exists as the kind it names.
 * The store checks the parent in the same atomic write as the insert and refuses with
 * `EntityNotFound` of the missing parent, writing nothing. A removal of the parent that
 * runs at the same moment, even in another process, then either comes first (the insert
 * is refused) or takes the child with it (removing a configuration removes its
 * assignments, a group or a user its memberships): no child outlives its parent, so a
 * parent created again with the same id starts with none.
 *
 * Every `remove` takes an optional {@link Check} of the stored value (an `If-Match`),
 * run inside the removal's own write: a refusal removes nothing, and no write of the
 * entity can come between the check and the removal (since 0.6.0). So does
 * `assignments.replace`, of the configuration (since 0.16.0: the `assign` action's
 * `If-Match`): a refusal replaces nothing.
 *
 * A refusal names what it refuses with the names the services answer (the HTTP face
 * writes them in its error messages): `EntityAlreadyExists` of a
 * `deviceEnrollmentConfiguration`, an `enrollmentConfigurationAssignment`, a `user`, a
 * `group` or an `invitation` for an id its own set has, and of a `directoryObject` for a
 * user's or a group's id the other kind has; `EntityNotFound` of the
 * `deviceEnrollmentConfiguration` for an assignment's missing configuration, and of the
 * `group` or a `directoryObject` for a membership's missing group or member;
 * `MemberAlreadyPresent` of the group and the member. The conformance suite checks the
 * name and the id of every refusal it provokes (since 0.6.0).
 *
 * A user's `userPrincipalName` is unique in its tenant, compared by
 * `Directory.userPrincipalNameKey` (without regard to ASCII case; a null name never collides)
 * (since 0.11.0): `users.insert` of a user whose name another user of the tenant holds, and a
 * `users.modify` whose change gives a user such a name, are refused with
 * `UserPrincipalNameTaken` (naming the holder) and write nothing; a change that keeps the
 * user's own key (the same name, or its case changed) is never refused, so users stored with
 * one name before 0.11.0 can still be modified as long as the change leaves the name alone.
 * `invitations.insert` with a guest `user` whose name a user of the tenant holds does not
 * insert that user: it stores the invitation linked to the holder (`invitedUserId` set to the
 * holder's id), leaving the holder as it was, and answers the invitation as stored. The store
 * decides all of it in the write's atomic step, by an index on the key (never a scan of the
 * tenant's users), so of concurrent writes of one name exactly one user is made, even from two
 * processes.
 *
 * The conformance suite in `@enrollment/core/testing` states this contract as
 * tests; every adapter runs it.
 *
 * @since 0.1.0
 */
import { Context, Effect, type Option, References, type Result } from "effect"
import type { Assignment } from "./Assignment.ts"
import type { AssignmentFilter } from "./AssignmentFilter.ts"
import type { Configuration } from "./Configuration.ts"
import type { Group, Invitation, MemberRef, User } from "./Directory.ts"
import type { EntityAlreadyExists, EntityNotFound, MemberAlreadyPresent, StoreUnavailable, UserPrincipalNameTaken } from "./Errors.ts"
import type { UserParent } from "./Paths.ts"
import type { Membership } from "./Targeting.ts"

/**
 * A page request: items with id greater than `after`, at most `limit` of them. `limit` is a whole
 * number, at least 1: the HTTP face bounds `$top` to 1–999 before a request reaches a store, and
 * the stores' answer to any other (0, negative, fractional) is not part of the contract (the
 * memory and SQL stores read a negative one as "all", a fractional one rounded down, and 0 as an
 * empty last page).
 */
export interface PageRequest {
  readonly after?: string | undefined
  readonly limit: number
}

/** A page: its items in id order (`Id.compare`'s), and the id to continue after when there are more. */
export interface Page<A> {
  readonly items: ReadonlyArray<A>
  readonly next: string | undefined
}

/** A pure change of a stored value: the new value (or the same one for no change), or a refusal. */
export type Change<A, E> = (current: A) => Result.Result<A, E>

/**
 * A pure condition on a stored value that a `remove` checks inside its own write (an
 * `If-Match`): a success lets the removal go on, a failure refuses it (the removal fails
 * with it and removes nothing). Not run when there is nothing to remove. A check that
 * throws is a defect, as a `change` that throws is. Since 0.16.0 `assignments.replace` takes
 * one too, of the configuration whose assignments it replaces.
 *
 * @since 0.6.0
 */
export type Check<A, E> = (current: A) => Result.Result<void, E>

/**
 * A user's path, checked inside the insert of an assignment under it (`assignments.insert`,
 * since 0.10.0): in the insert's own atomic write, after the configuration's existence, the
 * store reads the user's targeting inputs in the configuration as `targetingOf(tenant, userId,
 * configurationId)` answers them, seeing every write that comes before the insert (a
 * replacement of the configuration's assignments, and another insert with a `TargetingCheck`
 * under the same configuration, each either wholly before the read or wholly after the insert's
 * commit; a store that reads from a cache must read what its own transaction wrote), and inserts only when `check`
 * passes them; otherwise it refuses with `EntityNotFound` of the `deviceEnrollmentConfiguration`,
 * as when the configuration is missing. A `check` that throws is a defect.
 *
 * @since 0.10.0
 */
export interface TargetingCheck {
  readonly userId: string
  readonly check: (inputs: TargetingInputs) => boolean
}

/** What the targeting of one user needs (see {@link Store} `targetingOf`). */
export interface TargetingInputs {
  /** The groups the user is in, directly or through nested groups (each once; only groups that exist). */
  readonly groups: ReadonlyArray<string>
  /** The assignments that can bear on the user, as `assignments.concerning` over `groups`. */
  readonly assignments: ReadonlyArray<AssignmentOf>
}

/** The user an invitation created, and whether that user still exists. */
export interface InvitedUser {
  readonly userId: string
  readonly exists: boolean
}

/**
 * What resolving a configuration under a user's path reads (see {@link Store}
 * `resolveConfiguration`), all in one read.
 *
 * @since 0.2.0
 */
export interface ConfigurationResolution {
  /**
   * The path's user: for an invitation, its invited user (none when the
   * invitation does not exist); for a user, that id and whether it exists.
   */
  readonly user: Option.Option<InvitedUser>
  /** The configuration, none when it does not exist. */
  readonly configuration: Option.Option<Configuration>
  /**
   * `targetingOf(tenant, user, configurationId)`, read in the same snapshot, where the path's user
   * exists and the configuration does. Where either is missing the path does not resolve whatever
   * the targeting, and a store may answer no groups and no assignments without reading them (the
   * SQLite store does since store-adapter 0.14.0: a user in many groups asked for under ids that
   * name nothing cost it memory and time for nothing).
   */
  readonly targeting: TargetingInputs
  /**
   * When `resolveConfiguration` was asked for an assignment: what
   * `assignments.get(tenant, configurationId, assignmentId)` answers, read in the
   * same snapshot. Absent when not asked for, or when the store does not offer it
   * (callers then read it separately).
   *
   * @since 0.2.3
   */
  readonly assignment?: Option.Option<Assignment> | undefined
}

/** An assignment with the configuration it belongs to. */
export interface AssignmentOf {
  readonly configurationId: string
  readonly assignment: Assignment
}

type Fx<A, E = never> = Effect.Effect<A, E | StoreUnavailable>

/** Operations common to every top-level entity set. */
export interface EntitySet<A> {
  readonly get: (tenant: string, id: string) => Fx<Option.Option<A>>
  readonly list: (tenant: string, page: PageRequest) => Fx<Page<A>>
  readonly insert: (tenant: string, value: A) => Fx<A, EntityAlreadyExists>
  readonly modify: <E>(tenant: string, id: string, change: Change<A, E>) => Fx<Option.Option<A>, E>
  /**
   * Removes the entity (and what goes with it): true, or false when there was none. With
   * `check`, only when the stored value passes it, decided in the removal's write (since 0.6.0).
   */
  readonly remove: <E = never>(tenant: string, id: string, check?: Check<A, E>) => Fx<boolean, E>
  /**
   * Optional: how many entities of the set the tenant holds, in one read (SQL's `COUNT(*)` over
   * the key's index): what paging through `list` to its end counts, without reading the entities.
   * Callers without it page through `list` ({@link countPages}); the services'
   * counts use it when it is offered (the conformance suite checks the two agree).
   *
   * @since 0.12.0
   */
  readonly count?: ((tenant: string) => Fx<number>) | undefined
}

/**
 * Yields to the event loop between two parts of a long read, as {@link countPages} does, unless
 * the fiber runs where it must not (`References.PreventSchedulerYield`): a SQLite store's snapshot
 * sets it, since its read transaction is the connection's, which every read of the process shares,
 * so that a snapshot that waited a turn held every other request's reads at its moment (a review:
 * 210 of 300 reads stale beside a cast of a group's members with `$count=true`; since 0.14.1).
 *
 * @since 0.14.1
 */
export const yieldBetweenReads: Effect.Effect<void> = Effect.flatMap(
  Effect.service(References.PreventSchedulerYield),
  (prevented) => (prevented ? Effect.void : Effect.yieldNow)
)

/**
 * How many items `list`'s pages hold from the first to the last (those `keep` keeps, when given),
 * read a thousand at a time. Between two pages it yields to the event loop: a synchronous store
 * (SQLite) would read a whole set in one turn, and the other requests wait for it. What a count
 * reads when the store has no count of its own ({@link EntitySet} `count`), or of a filtered list.
 *
 * @since 0.12.0
 */
export const countPages = Effect.fnUntraced(function*<A, E, R>(
  list: (page: PageRequest) => Effect.Effect<Page<A>, E, R>,
  keep?: (a: A) => boolean
) {
  let n = 0
  let after: string | undefined
  for (;;) {
    if (after !== undefined) yield* yieldBetweenReads
    const p = yield* list({ after, limit: 1000 })
    if (keep === undefined) n += p.items.length
    else for (const a of p.items) if (keep(a)) n++
    if (p.next === undefined) return n
    after = p.next
  }
})

/**
 * How many entities of `set` the tenant holds: the set's own `count` where the store offers it,
 * else its list paged through ({@link countPages}).
 *
 * @since 0.12.0
 */
export const countOf = <A>(set: Pick<EntitySet<A>, "list" | "count">, tenant: string): Fx<number> =>
  set.count !== undefined ? set.count(tenant) : countPages((page) => set.list(tenant, page))

/** The store port. */
export class Store extends Context.Service<Store, {
  /**
   * Configurations; removing one removes its assignments, in the same atomic write as the
   * configuration (an assignment inserted at the same moment is refused or removed with it).
   */
  readonly configurations: EntitySet<Configuration> & {
    readonly getMany: (tenant: string, ids: ReadonlyArray<string>) => Fx<ReadonlyArray<Configuration>>
  }
  /** Assignments, contained in a configuration. */
  readonly assignments: {
    readonly get: (tenant: string, configurationId: string, id: string) => Fx<Option.Option<Assignment>>
    readonly list: (
      tenant: string,
      configurationId: string,
      page: PageRequest,
      filter?: AssignmentFilter
    ) => Fx<Page<Assignment>>
    readonly count: (tenant: string, configurationId: string, filter?: AssignmentFilter) => Fx<number>
    /**
     * Inserts an assignment of the configuration: `EntityAlreadyExists` when the configuration
     * has one with its id, and (since 0.6.0) `EntityNotFound` of the
     * `deviceEnrollmentConfiguration` when the configuration does not exist, checked in the
     * insert's atomic write (see {@link Store}). With `targeting` (since 0.10.0), also that
     * `EntityNotFound` when the configuration no longer targets the user of a user's path: see
     * {@link TargetingCheck}. A store written for 0.9 ignores the argument (and fails the 0.10
     * conformance suite); the services then rely on the check they made before the insert.
     */
    readonly insert: (
      tenant: string,
      configurationId: string,
      value: Assignment,
      targeting?: TargetingCheck
    ) => Fx<Assignment, EntityAlreadyExists | EntityNotFound>
    readonly modify: <E>(
      tenant: string,
      configurationId: string,
      id: string,
      change: Change<Assignment, E>
    ) => Fx<Option.Option<Assignment>, E>
    /** As `EntitySet.remove`: with `check`, only when the stored assignment passes it (since 0.6.0). */
    readonly remove: <E = never>(
      tenant: string,
      configurationId: string,
      id: string,
      check?: Check<Assignment, E>
    ) => Fx<boolean, E>
    /**
     * Replaces every assignment of a configuration at once (the `assign` action). Refused
     * with `EntityNotFound` of the `deviceEnrollmentConfiguration` when the configuration does
     * not exist (since 0.6.0), checked in the replacement's atomic write, as `insert` does.
     * With `check` (since 0.16.0), only when the stored configuration passes it (the action's
     * `If-Match`, of the configuration's ETag), decided in the same write, after the
     * configuration's existence (a missing one is `EntityNotFound`, and `check` is not run): a
     * refusal fails the replacement with it and leaves every assignment as it was, and no write
     * of the configuration can come between the check and the replacement. A store written for
     * 0.15 ignores the argument (and fails the 0.16 conformance suite).
     */
    readonly replace: <E = never>(
      tenant: string,
      configurationId: string,
      values: ReadonlyArray<Assignment>,
      check?: Check<Configuration, E>
    ) => Fx<void, EntityNotFound | E>
    /**
     * The assignments that can bear on the targeting of a user in `groupIds`:
     * those targeting all licensed users, and the group and exclusion-group
     * targets over one of `groupIds`; across all configurations, or only `configurationId`.
     */
    readonly concerning: (
      tenant: string,
      groupIds: ReadonlyArray<string>,
      configurationId?: string
    ) => Fx<ReadonlyArray<AssignmentOf>>
  }
  /**
   * Users; removing one removes its memberships (in the removal's atomic write). `insert` refuses an id the user has
   * with `EntityAlreadyExists` of a `user`, and an id a group has with one of a
   * `directoryObject` (since 0.6.0), deciding both in the insert's atomic write.
   *
   * Since 0.11.0 (a change of the port's types: a caller that matches the errors exhaustively
   * meets one more), `insert` also refuses, and `modify` fails instead of writing, with
   * {@link UserPrincipalNameTaken} when the user would take a `userPrincipalName` another user
   * of the tenant holds (see {@link Store}); a `modify` that keeps the user's key is never
   * refused. A store written for 0.10 never refuses (and fails the 0.11 conformance suite).
   */
  readonly users: Omit<EntitySet<User>, "insert" | "modify"> & {
    readonly insert: (tenant: string, value: User) => Fx<User, EntityAlreadyExists | UserPrincipalNameTaken>
    readonly modify: <E>(tenant: string, id: string, change: Change<User, E>) => Fx<Option.Option<User>, E | UserPrincipalNameTaken>
    /**
     * Optional: the id of the tenant's user whose `userPrincipalName` has the key of
     * `userPrincipalName` (`Directory.userPrincipalNameKey`: ASCII letters in any case), in one read
     * through the index the uniqueness is decided by (never a scan of the tenant's users); none when
     * no user holds it. Where a store from before 0.11.0 holds one key twice, the least of the ids
     * (`Id.compare`). What a user's key in a path that names no user by id is read by, as Graph
     * addresses a user by id or by principal name (`Paths.principalNameHolder`); callers without it
     * page through `list` for it (the conformance suite checks the two agree).
     *
     * @since 0.16.0
     */
    readonly idByPrincipalName?: ((tenant: string, userPrincipalName: string) => Fx<Option.Option<string>>) | undefined
  }
  /**
   * Groups and their direct members; removing a group removes its memberships both ways
   * (in the removal's atomic write).
   * `insert` refuses an id a group has with `EntityAlreadyExists` of a `group`, and an id a
   * user has with one of a `directoryObject` (since 0.6.0), in the insert's atomic write.
   */
  readonly groups: Omit<EntitySet<Group>, "modify"> & {
    readonly members: (tenant: string, groupId: string, page: PageRequest) => Fx<Page<MemberRef>>
    /**
     * Optional: how many direct members the group has (of `kind` only, when given), in one read
     * (0 when it does not exist): what paging through `members` counts (see `EntitySet.count`).
     *
     * @since 0.12.0
     */
    readonly memberCount?: ((tenant: string, groupId: string, kind?: MemberRef["kind"]) => Fx<number>) | undefined
    /**
     * Adds `member` to the group: `MemberAlreadyPresent` when it is in it, and (since 0.6.0)
     * `EntityNotFound` of the `group` when the group does not exist, or of a `directoryObject`
     * when no object of the member's kind has its id, checked in the insert's atomic write (see
     * {@link Store}): a removal of the group or of the member at the same moment is either seen
     * or takes the membership with it.
     */
    readonly addMember: (tenant: string, groupId: string, member: MemberRef) => Fx<void, MemberAlreadyPresent | EntityNotFound>
    readonly removeMember: (tenant: string, groupId: string, memberId: string) => Fx<boolean>
    /** The direct memberships of any of `memberIds`. */
    readonly groupsOf: (tenant: string, memberIds: ReadonlyArray<string>) => Fx<ReadonlyArray<Membership>>
    /**
     * Optional: the groups `memberId` (a user or a group) is in, directly or through nested
     * groups, in one read, for stores whose every call is a round trip. Each group once, in
     * no particular order; only groups that exist (as in `groupsOf`); a cycle of groups ends,
     * and `memberId` itself is never among them. It answers what walking `groupsOf` one
     * nesting level at a time answers (the conformance suite checks it); callers without it
     * walk.
     *
     * @since 0.6.0
     */
    readonly transitiveGroupsOf?: ((tenant: string, memberId: string) => Fx<ReadonlyArray<string>>) | undefined
  }
  /** Invitations; inserting one inserts its guest user in the same write. */
  readonly invitations: Omit<EntitySet<Invitation>, "insert" | "modify"> & {
    /**
     * Stores the invitation and its guest `user` in one write, all or nothing. Without
     * `user` the invitation is stored alone: one whose invited user was deleted (as an
     * export keeps it, to be imported again); its `invitedUserId` then names no user,
     * as after `users.remove`. `EntityAlreadyExists` names the `invitation` whose id is
     * taken, the `user` whose id a user has, or (since 0.6.0) a `directoryObject` when a
     * group has the user's id: users and groups share one id space, as in `users.insert`.
     * A refusal writes neither the invitation nor the user.
     *
     * When a user of the tenant holds the `userPrincipalName` of `user` (compared by
     * `Directory.userPrincipalNameKey`), the store links the invitation to that user instead
     * (since 0.11.0): `user` is not written, the holder is left as it is, the invitation is
     * stored with `invitedUserId` the holder's id, and the answer is the invitation as stored
     * (callers must use it, not the one they gave). Decided in the insert's atomic write, so
     * concurrent invitations of one address make one user.
     *
     * @since 0.1.0 (`user` optional since 0.4.0; the group check since 0.6.0; the link since 0.11.0)
     */
    readonly insert: (tenant: string, invitation: Invitation, user?: User) => Fx<Invitation, EntityAlreadyExists>
    /** The invitation's invited user in one read: none when the invitation does not exist. */
    readonly invitedUserOf: (tenant: string, invitationId: string) => Fx<Option.Option<InvitedUser>>
  }
  /**
   * The inputs of a user's targeting in one read: the user's transitive groups
   * (cycles allowed) and the assignments `concerning` them, across all
   * configurations or only `configurationId`. The decision stays in the core
   * ({@link Targeting.isTargeted}).
   */
  readonly targetingOf: (tenant: string, userId: string, configurationId?: string) => Fx<TargetingInputs>
  /**
   * Optional: everything resolving `configurationId` under a user's or an invitation's
   * path reads (the invited user or the user's existence, the configuration, the user's
   * targeting inputs in it), in one read, for stores whose every call is a round trip.
   * It answers what `invitations.invitedUserOf` / `users.get`, `configurations.get` and
   * `targetingOf` answer (the conformance suite checks it); callers without it make
   * those calls. With `assignmentId` (since 0.2.3) it may read that assignment of the
   * configuration in the same read (`assignment` in the answer), so a GET of an
   * assignment on such a path is one read.
   *
   * @since 0.2.0
   */
  readonly resolveConfiguration?:
    | ((tenant: string, parent: UserParent, configurationId: string, assignmentId?: string) => Fx<ConfigurationResolution>)
    | undefined
  /**
   * Optional: runs `effect` so that every read of this store it makes (in its own fiber and in
   * fibers it forks) sees one snapshot of the store: the committed state of one moment, with no
   * write of this process or of another in between (since 0.11.0). Reads that decide a path and
   * the reads that answer under it (a user's path and its assignment list) then agree, and an
   * export of a tenant is self-consistent. `effect` only reads: a write of the store inside it is
   * refused with `StoreUnavailable` or waits for the snapshot's end, as the store documents (never
   * run one there). A snapshot inside a snapshot is the outer one. What `effect` answers or fails
   * with is passed on unchanged; the store adds `StoreUnavailable` when it cannot take or hold the
   * snapshot. Writes of this process wait for the end of a snapshot, or another's snapshot, on a
   * store that serialises them so (memory, SQLite): keep snapshots short where writes run.
   *
   * Absent when the store cannot offer one: callers then read as they did before 0.11.0, each
   * read seeing the store as it is then ({@link inSnapshot} does this choice). The conformance
   * suite checks that a write landing between two reads of a snapshot is seen by neither.
   *
   * @since 0.11.0
   */
  readonly snapshot?: (<A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | StoreUnavailable, R>) | undefined
  /** Succeeds when the store can serve requests. */
  readonly ready: Fx<void>
  /**
   * Optional: a cheap, synchronous stamp of the tenant's stored data. It differs after
   * every committed change of the tenant's data, by this process or by any other, and
   * never takes a value it had before, so an answer derived from the tenant's data in one
   * synchronous run may be kept while the stamp read in that run is unchanged. `NaN`
   * (equal to nothing) when the store cannot say. Absent when the store cannot tell
   * cheaply (PostgreSQL: other processes write without notice); callers then keep nothing.
   *
   * @since 0.2.0
   */
  readonly stampOf?: ((tenant: string) => number) | undefined
}>()("@enrollment/core/Store") {}

/**
 * Runs `effect` in one snapshot of `store` when the store offers one ({@link Store}
 * `snapshot`), and as it is otherwise: what a reader of several related values calls.
 *
 * @since 0.11.0
 */
export const inSnapshot = <A, E, R>(
  store: Store["Service"],
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, E | StoreUnavailable, R> => store.snapshot === undefined ? effect : store.snapshot(effect)
