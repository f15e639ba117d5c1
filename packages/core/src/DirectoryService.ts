/**
 * The directory use cases: users, groups and their members, and invitations
 * (creating one creates its guest user in the same write).
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, Option, Result } from "effect"
import * as Directory from "./Directory.ts"
import {
  type EntityAlreadyExists,
  EntityNotFound,
  invalid,
  type InvalidInput,
  type MemberAlreadyPresent,
  PreconditionFailed,
  type StoreUnavailable,
  type UserPrincipalNameTaken
} from "./Errors.ts"
import * as ETag from "./ETag.ts"
import * as Id from "./Id.ts"
import * as Ids from "./Ids.ts"
import * as Traced from "./Traced.ts"
import * as Json from "./Json.ts"
import { principalNameHolder } from "./Paths.ts"
import { countOf, countPages, type Page, type PageRequest, Store, yieldBetweenReads } from "./Store.ts"

type Fx<A, E = never> = Effect.Effect<A, E | EntityNotFound | StoreUnavailable>

const fromResult = <A, E>(r: Result.Result<A, E>): Effect.Effect<A, E> =>
  Result.isSuccess(r) ? Effect.succeed(r.success) : Effect.fail(r.failure)

/** A member of a group, resolved to the object. */
export type Member = Directory.User | Directory.Group

/**
 * The groups an object is in, as {@link DirectoryService} `memberOf` read them: pages of
 * them by id (`after`, `limit`), each group as it is when its page is read (one removed
 * since is left out).
 *
 * @since 0.5.0
 */
export type GroupsOf = (page: PageRequest) => Effect.Effect<Page<Directory.Group>, StoreUnavailable>

/**
 * The members of a group and of the groups in it, as {@link DirectoryService}
 * `transitiveMembers` read them: pages of them by id, each as it is when its page is read
 * (one removed since is left out).
 *
 * @since 0.5.0
 */
export type MembersOf = (page: PageRequest) => Effect.Effect<Page<Member>, StoreUnavailable>

/** Directory objects read at a time for a page of members or groups (see `readObjects`). */
const objectReads = 16

/** The index of the first of the sorted `ids` greater than `after` (`ids.length` when none is). */
const firstAfter = (ids: ReadonlyArray<string>, after: string): number => {
  let lo = 0
  let hi = ids.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (Id.compare(ids[mid]!, after) > 0) hi = mid
    else lo = mid + 1
  }
  return lo
}

/** The directory service. */
export class DirectoryService extends Context.Service<DirectoryService, {
  /**
   * Users and groups share one id space, as Graph's directory objects do (memberships and
   * targeting name a member by its id alone): an id a group has is taken for a user, and
   * the other way round (`EntityAlreadyExists` of a `directoryObject`, since 0.5.0; decided
   * by the store in the insert's write since 0.6.0, so concurrent creates cannot both pass).
   * A `userPrincipalName` another user of the tenant holds (without regard to case) is
   * {@link UserPrincipalNameTaken}, decided in the insert's write (since 0.11.0); so is a
   * `patchUser` that gives the user such a name (one that keeps the user's own name, or changes
   * only its case, never is).
   */
  readonly createUser: (tenant: string, body: unknown) => Fx<Directory.User, InvalidInput | EntityAlreadyExists | UserPrincipalNameTaken>
  /**
   * The user `id` names. As Graph's `/users/{id | userPrincipalName}`, an `id` that names no user
   * but may be a principal name (`Paths.mayBePrincipalName`: it holds an `@`, or `#EXT#`) names the
   * user who holds that name, in any case (since 0.16.0); so do `patchUser`, `removeUser` and
   * `memberOf` of a user. {@link EntityNotFound} names `id` as given. An id that names a user reads
   * as before.
   */
  readonly getUser: (tenant: string, id: string) => Fx<Directory.User>
  readonly listUsers: (tenant: string, page: PageRequest) => Fx<Page<Directory.User>>
  /**
   * How many users the tenant holds: the store's `count` in one read where it offers one, else
   * the list paged through (`countOf`). So `countGroups`, `countInvitations`, and `countMembers`
   * of a group's direct members, of `kind` only when given (the store's `groups.memberCount`;
   * {@link EntityNotFound} when the group does not exist).
   *
   * @since 0.12.0
   */
  readonly countUsers: (tenant: string) => Fx<number>
  /** @since 0.12.0 */
  readonly countGroups: (tenant: string) => Fx<number>
  /** @since 0.12.0 */
  readonly countInvitations: (tenant: string) => Fx<number>
  /** @since 0.12.0 */
  readonly countMembers: (tenant: string, groupId: string, kind?: Directory.MemberRef["kind"]) => Fx<number>
  readonly patchUser: (
    tenant: string,
    id: string,
    body: unknown,
    options?: ETag.Conditions
  ) => Fx<Directory.User, InvalidInput | PreconditionFailed | UserPrincipalNameTaken>
  /**
   * Removes the user and its memberships. With `ifMatch` (since 0.6.0), only when its ETag
   * matches, with `ifNoneMatch` (since 0.14.0) only when it is not excluded (else
   * {@link PreconditionFailed}, nothing removed), decided in the store's removal.
   */
  readonly removeUser: (tenant: string, id: string, options?: ETag.Conditions) => Fx<void, PreconditionFailed>
  readonly createGroup: (tenant: string, body: unknown) => Fx<Directory.Group, InvalidInput | EntityAlreadyExists>
  readonly getGroup: (tenant: string, id: string) => Fx<Directory.Group>
  readonly listGroups: (tenant: string, page: PageRequest) => Fx<Page<Directory.Group>>
  /** As `removeUser`, for a group and its memberships both ways (`ifMatch` since 0.6.0, `ifNoneMatch` since 0.14.0). */
  readonly removeGroup: (tenant: string, id: string, options?: ETag.Conditions) => Fx<void, PreconditionFailed>
  readonly members: (tenant: string, groupId: string, page: PageRequest) => Fx<Page<Member>>
  /**
   * Fails with {@link InvalidInput} for the group itself (since 0.3.0), as Graph refuses it.
   * The store checks the group and the member again in the membership's write (since 0.6.0):
   * one removed meanwhile is {@link EntityNotFound} (of the `group`, or of a `directoryObject`),
   * as when it was missing from the start, and no membership is left behind.
   */
  readonly addMember: (tenant: string, groupId: string, memberId: string) => Fx<void, MemberAlreadyPresent | InvalidInput>
  readonly removeMember: (tenant: string, groupId: string, memberId: string) => Fx<void>
  /**
   * The groups a user or a group is a member of (Graph's `memberOf`), or with `transitive`
   * also through nested groups (`transitiveMemberOf`: what targeting reads, SPEC 4): each
   * group once, never the object itself (a cycle of groups leads back to it), in id order.
   * The memberships are read once, here; the answer's pages are read from that reading
   * ({@link GroupsOf}), so a caller that reads many pages (a count, a filter) walks the
   * membership graph once. Fails with {@link EntityNotFound} when the object does not exist.
   * With `transitive`, a store that offers `groups.transitiveGroupsOf` answers the walk in one
   * read (since 0.6.0); the others are walked one nesting level a read, with the same answer.
   *
   * @since 0.5.0
   */
  readonly memberOf: (
    tenant: string,
    member: { readonly kind: "user" | "group"; readonly id: string },
    transitive: boolean
  ) => Fx<GroupsOf>
  /**
   * The members of a group and of every group in it, nested ones included (Graph's
   * `transitiveMembers`): the users a group target reaches (SPEC 4), and the groups between.
   * Each object once, never the group itself (a cycle leads back to it), in id order; read
   * once here, paged from that reading ({@link MembersOf}). Fails with {@link EntityNotFound}
   * when the group does not exist.
   *
   * @since 0.5.0
   */
  readonly transitiveMembers: (tenant: string, groupId: string) => Fx<MembersOf>
  /**
   * Creates the invitation and its guest user; when a user of the tenant already holds the
   * principal name the guest would take (`Directory.guestUserPrincipalName` of the address:
   * the guest of an earlier invitation of the address, or any user given that name), the
   * invitation links that user instead and no user is made (since 0.11.0, decided by the
   * store in the insert's write: see `Store`). The answer's `invitedUserId` is the linked user's.
   */
  readonly createInvitation: (
    tenant: string,
    body: unknown,
    redeemBase: string
  ) => Fx<Directory.Invitation, InvalidInput | EntityAlreadyExists>
  readonly getInvitation: (tenant: string, id: string) => Fx<Directory.Invitation>
  readonly listInvitations: (tenant: string, page: PageRequest) => Fx<Page<Directory.Invitation>>
  readonly invitedUser: (tenant: string, invitationId: string) => Fx<Directory.User>
}>()("@enrollment/core/DirectoryService") {
  /** The service over the {@link Store} in context. */
  static readonly layer = Layer.effect(
    DirectoryService,
    Effect.gen(function*() {
      const store = yield* Store
      const fn = yield* Traced.fn
      const found = <A>(entity: string, id: string) => (o: Option.Option<A>) =>
        Option.isSome(o) ? Effect.succeed(o.value) : Effect.fail(new EntityNotFound({ entity, id }))
      /**
       * `op` on the user `key` names: by id, and where that finds none (`none`), again on the id of
       * the user who holds `key` as a principal name, if one does (since 0.16.0; `Paths.principalNameHolder`).
       */
      const byKey = <A, E>(tenant: string, key: string, op: (id: string) => Effect.Effect<A, E>, none: (a: A) => boolean) =>
        Effect.flatMap(op(key), (a) =>
          none(a)
            ? Effect.flatMap(principalNameHolder(store, tenant, key), (holder) => Option.isNone(holder) ? Effect.succeed(a) : op(holder.value))
            : Effect.succeed(a))
      const getUser = (tenant: string, key: string) =>
        Effect.flatMap(byKey(tenant, key, (id) => store.users.get(tenant, id), Option.isNone), found<Directory.User>("user", key))
      const getGroup = (tenant: string, id: string) => Effect.flatMap(store.groups.get(tenant, id), found("group", id))
      /**
       * The objects `refs` name, each of its kind, those still there, in order. Read up to
       * {@link objectReads} at a time (since 0.9.0): on a store whose every read is a round trip
       * (PostgreSQL) one read after another cost a group of 20 000 members' `$count` 20 040 round
       * trips in a row (2.7 s); a synchronous store (SQLite) answers each at once either way.
       */
      const readObjects = (tenant: string, refs: ReadonlyArray<Directory.MemberRef>) =>
        Effect.map(
          Effect.forEach(
            refs,
            (ref): Effect.Effect<Option.Option<Member>, StoreUnavailable> =>
              ref.kind === "user" ? store.users.get(tenant, ref.id) : store.groups.get(tenant, ref.id),
            { concurrency: objectReads }
          ),
          (found) => found.flatMap((o) => Option.isSome(o) ? [o.value] : [])
        )
      /** A page of the objects `ids` (sorted) names, each of its kind, those still there, from `page.after` on. */
      const objectsPage = Effect.fnUntraced(function*(
        tenant: string,
        ids: ReadonlyArray<string>,
        kindOf: (id: string) => Directory.MemberRef["kind"],
        page: PageRequest
      ) {
        const items: Array<Member> = []
        let i = page.after === undefined ? 0 : firstAfter(ids, page.after)
        // As many ids as the page still needs at a time: none is read that the page could not hold.
        while (i < ids.length && items.length < page.limit) {
          const next = ids.slice(i, i + page.limit - items.length)
          items.push(...(yield* readObjects(tenant, next.map((id) => ({ kind: kindOf(id), id })))))
          i += next.length
        }
        return { items, next: i < ids.length ? ids[i - 1] : undefined } as Page<Member>
      })
      const asGroup = (): Directory.MemberRef["kind"] => "group"
      const getInvitation = (tenant: string, id: string) =>
        Effect.flatMap(store.invitations.get(tenant, id), found("invitation", id))

      return DirectoryService.of({
        createUser: fn("DirectoryService.createUser")(function*(tenant, body) {
          const input = yield* fromResult(Directory.decodeUserCreate(body))
          const id = input.id ?? (yield* Ids.guid)
          // The store refuses an id a user or a group has, in the insert's write (see Store).
          return yield* store.users.insert(tenant, Directory.makeUser(id, input))
        }),
        getUser: fn("DirectoryService.getUser")(function*(tenant, id) {
          return yield* getUser(tenant, id)
        }),
        listUsers: fn("DirectoryService.listUsers")(function*(tenant, page) {
          return yield* store.users.list(tenant, page)
        }),
        countUsers: fn("DirectoryService.countUsers")(function*(tenant) {
          return yield* countOf(store.users, tenant)
        }),
        countGroups: fn("DirectoryService.countGroups")(function*(tenant) {
          return yield* countOf(store.groups, tenant)
        }),
        countInvitations: fn("DirectoryService.countInvitations")(function*(tenant) {
          return yield* countOf(store.invitations, tenant)
        }),
        countMembers: fn("DirectoryService.countMembers")(function*(tenant, groupId, kind) {
          yield* getGroup(tenant, groupId)
          const { memberCount, members } = store.groups
          return yield* (memberCount !== undefined
            ? memberCount(tenant, groupId, kind)
            : countPages((page) => members(tenant, groupId, page), kind === undefined ? undefined : (m) => m.kind === kind))
        }),
        patchUser: fn("DirectoryService.patchUser")(function*(tenant, id, body, options) {
          const change = (u: Directory.User): Result.Result<Directory.User, InvalidInput | PreconditionFailed> => {
            const failed = ETag.conditional(options) ? ETag.refusal(options, "user", id, ETag.of(u)) : undefined
            if (failed !== undefined) return Result.fail(failed)
            return Result.map(Directory.patchUser(u, body), (n) => Json.equals(n, u) ? u : n)
          }
          const r = yield* byKey(tenant, id, (userId) => store.users.modify(tenant, userId, change), Option.isNone)
          return yield* found<Directory.User>("user", id)(r)
        }),
        removeUser: fn("DirectoryService.removeUser")(function*(tenant, id, options) {
          const check = ETag.precondition(options, "user", id)
          if (!(yield* byKey(tenant, id, (userId) => store.users.remove(tenant, userId, check), (removed) => !removed))) {
            return yield* new EntityNotFound({ entity: "user", id })
          }
        }),
        createGroup: fn("DirectoryService.createGroup")(function*(tenant, body) {
          const input = yield* fromResult(Directory.decodeGroupCreate(body))
          const id = input.id ?? (yield* Ids.guid)
          return yield* store.groups.insert(tenant, Directory.makeGroup(id, input))
        }),
        getGroup: fn("DirectoryService.getGroup")(function*(tenant, id) {
          return yield* getGroup(tenant, id)
        }),
        listGroups: fn("DirectoryService.listGroups")(function*(tenant, page) {
          return yield* store.groups.list(tenant, page)
        }),
        removeGroup: fn("DirectoryService.removeGroup")(function*(tenant, id, options) {
          const check = ETag.precondition(options, "group", id)
          if (!(yield* store.groups.remove(tenant, id, check))) return yield* new EntityNotFound({ entity: "group", id })
        }),
        members: fn("DirectoryService.members")(function*(tenant, groupId, page) {
          yield* getGroup(tenant, groupId)
          const refs = yield* store.groups.members(tenant, groupId, page)
          return { items: yield* readObjects(tenant, refs.items), next: refs.next }
        }),
        addMember: fn("DirectoryService.addMember")(function*(tenant, groupId, memberId) {
          yield* getGroup(tenant, groupId)
          if (memberId === groupId) {
            return yield* invalid.value("@odata.id", "a directory object other than the group itself", Json.show(memberId))
          }
          const asUser = yield* store.users.get(tenant, memberId)
          const kind = Option.isSome(asUser)
            ? "user" as const
            : Option.isSome(yield* store.groups.get(tenant, memberId))
            ? "group" as const
            : undefined
          if (kind === undefined) return yield* new EntityNotFound({ entity: "directoryObject", id: memberId })
          // The store checks the group and the member again in the membership's write (see Store).
          yield* store.groups.addMember(tenant, groupId, { kind, id: memberId })
        }),
        removeMember: fn("DirectoryService.removeMember")(function*(tenant, groupId, memberId) {
          yield* getGroup(tenant, groupId)
          if (!(yield* store.groups.removeMember(tenant, groupId, memberId))) {
            return yield* new EntityNotFound({ entity: "member", id: memberId })
          }
        }),
        memberOf: fn("DirectoryService.memberOf")(function*(tenant, member, transitive) {
          // A user by its principal name too (since 0.16.0): the memberships are the found user's.
          const { id } = yield* (member.kind === "user" ? getUser(tenant, member.id) : getGroup(tenant, member.id))
          const seen = new Set<string>()
          const transitiveGroupsOf = store.groups.transitiveGroupsOf
          if (transitive && transitiveGroupsOf !== undefined) {
            // One read where the store offers it (PostgreSQL: one round trip instead of one per level).
            for (const g of yield* transitiveGroupsOf(tenant, id)) seen.add(g)
          } else {
            let frontier: ReadonlyArray<string> = [id]
            while (frontier.length > 0) {
              const next: Array<string> = []
              for (const m of yield* store.groups.groupsOf(tenant, frontier)) {
                if (m.groupId !== id && !seen.has(m.groupId)) {
                  seen.add(m.groupId)
                  next.push(m.groupId)
                }
              }
              frontier = transitive ? next : []
            }
          }
          const ids = [...seen].sort(Id.compare)
          return (page: PageRequest) => objectsPage(tenant, ids, asGroup, page) as Effect.Effect<Page<Directory.Group>, StoreUnavailable>
        }),
        transitiveMembers: fn("DirectoryService.transitiveMembers")(function*(tenant, groupId) {
          yield* getGroup(tenant, groupId)
          const kinds = new Map<string, Directory.MemberRef["kind"]>()
          const queue: Array<string> = [groupId]
          let reads = 0
          while (queue.length > 0) {
            const group = queue.pop()!
            let after: string | undefined
            do {
              // Every 16 reads, a turn of the event loop for the other requests (since 0.9.0): a
              // synchronous store (SQLite) walked a large graph in one turn.
              if (++reads % 16 === 0) yield* yieldBetweenReads
              const p = yield* store.groups.members(tenant, group, { after, limit: 1000 })
              for (const ref of p.items) {
                if (ref.id === groupId || kinds.has(ref.id)) continue
                kinds.set(ref.id, ref.kind)
                if (ref.kind === "group") queue.push(ref.id)
              }
              after = p.next
            } while (after !== undefined)
          }
          const ids = [...kinds.keys()].sort(Id.compare)
          return (page: PageRequest) => objectsPage(tenant, ids, (id) => kinds.get(id)!, page)
        }),
        createInvitation: fn("DirectoryService.createInvitation")(function*(tenant, body, redeemBase) {
          const input = yield* fromResult(Directory.decodeInvitationCreate(body))
          const ids = { invitation: input.id ?? (yield* Ids.guid), user: yield* Ids.guid }
          const { invitation, user } = Directory.invite(input, ids, redeemBase)
          return yield* store.invitations.insert(tenant, invitation, user)
        }),
        getInvitation: fn("DirectoryService.getInvitation")(function*(tenant, id) {
          return yield* getInvitation(tenant, id)
        }),
        listInvitations: fn("DirectoryService.listInvitations")(function*(tenant, page) {
          return yield* store.invitations.list(tenant, page)
        }),
        invitedUser: fn("DirectoryService.invitedUser")(function*(tenant, invitationId) {
          const inv = yield* getInvitation(tenant, invitationId)
          return yield* Effect.flatMap(store.users.get(tenant, inv.invitedUserId), found("invitedUser", inv.invitedUserId))
        })
      })
    })
  )
}
