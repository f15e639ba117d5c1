/**
 * The assignment use cases on any of the three path families: list, count, get,
 * create, the typed PATCH (the product's centre) and delete.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, Option, Result } from "effect"
import * as Assignment from "./Assignment.ts"
import type { AssignmentFilter } from "./AssignmentFilter.ts"
import * as AssignmentPatch from "./AssignmentPatch.ts"
import * as Configuration from "./Configuration.ts"
import { EntityAlreadyExists, EntityNotFound, type InvalidInput, PreconditionFailed, type StoreUnavailable } from "./Errors.ts"
import * as ETag from "./ETag.ts"
import * as Ids from "./Ids.ts"
import * as Traced from "./Traced.ts"
import * as Json from "./Json.ts"
import * as Paths from "./Paths.ts"
import { type Check, inSnapshot, type Page, type PageRequest, Store } from "./Store.ts"

/**
 * Options of a write: its preconditions, `If-Match` and (since 0.14.0) `If-None-Match`
 * ({@link ETag.Conditions}), decided on the entity as the write finds it.
 */
export interface WriteOptions extends ETag.Conditions {}

type Fx<A, E = never> = Effect.Effect<A, E | EntityNotFound | StoreUnavailable>

/** The assignments service. */
export class Assignments extends Context.Service<Assignments, {
  readonly list: (
    tenant: string,
    parent: Paths.Parent,
    configurationId: string,
    page: PageRequest,
    filter?: AssignmentFilter
  ) => Fx<Page<Assignment.Assignment>>
  readonly count: (tenant: string, parent: Paths.Parent, configurationId: string, filter?: AssignmentFilter) => Fx<number>
  readonly get: (tenant: string, parent: Paths.Parent, configurationId: string, id: string) => Fx<Assignment.Assignment>
  readonly create: (
    tenant: string,
    parent: Paths.Parent,
    configurationId: string,
    body: unknown
  ) => Fx<Assignment.Assignment, InvalidInput | EntityAlreadyExists>
  readonly patch: (
    tenant: string,
    parent: Paths.Parent,
    configurationId: string,
    id: string,
    body: unknown,
    options?: WriteOptions
  ) => Fx<Assignment.Assignment, InvalidInput | PreconditionFailed>
  /**
   * With `ifMatch`, removes the assignment only when its ETag matches, decided in the store's
   * removal (since 0.6.0; before, a PATCH could land between the check and the removal).
   */
  readonly remove: (
    tenant: string,
    parent: Paths.Parent,
    configurationId: string,
    id: string,
    options?: WriteOptions
  ) => Fx<void, PreconditionFailed>
}>()("@enrollment/core/Assignments") {
  /** The service over the {@link Store} in context. */
  static readonly layer = Layer.effect(
    Assignments,
    Effect.gen(function*() {
      const store = yield* Store
      const fn = yield* Traced.fn
      const notFound = (id: string) => new EntityNotFound({ entity: "enrollmentConfigurationAssignment", id })
      const pathGone = (configurationId: string) => new EntityNotFound({ entity: Configuration.typeName, id: configurationId })
      const ok = Result.succeed(undefined)
      const resolve = (tenant: string, parent: Paths.Parent, configurationId: string) =>
        Paths.resolveConfiguration(store, tenant, parent, configurationId)


      return Assignments.of({
        // Under a user's path, the path and the list in one snapshot (since 0.11.0; see Store
        // `snapshot`): an `assign` landing between the two reads cannot make the answer list a set the
        // path was not decided on (a 200 where the path's 404 was due). Under the tenant's path the list
        // is read first and the configuration after (since 0.11.0): a removal between the two is a 404,
        // and an answer of items had them as the configuration's set when they were read (no child
        // outlives its parent), so each answer is the store's state at one moment with no snapshot (a
        // transaction would cost PostgreSQL two round trips a list).
        list: fn("Assignments.list")(function*(tenant, parent, configurationId, page, filter) {
          const read = store.assignments.list(tenant, configurationId, page, filter)
          return yield* parent._tag === "Tenant"
            ? Effect.tap(read, () => resolve(tenant, parent, configurationId))
            : inSnapshot(store, Effect.andThen(resolve(tenant, parent, configurationId), read))
        }),
        count: fn("Assignments.count")(function*(tenant, parent, configurationId, filter) {
          const read = store.assignments.count(tenant, configurationId, filter)
          return yield* parent._tag === "Tenant"
            ? Effect.tap(read, () => resolve(tenant, parent, configurationId))
            : inSnapshot(store, Effect.andThen(resolve(tenant, parent, configurationId), read))
        }),
        get: fn("Assignments.get")(function*(tenant, parent, configurationId, id) {
          const a = yield* Paths.resolveAssignment(store, tenant, parent, configurationId, id)
          if (Option.isNone(a)) return yield* notFound(id)
          return a.value
        }),
        create: fn("Assignments.create")(function*(tenant, parent, configurationId, body) {
          const path = yield* Paths.resolveWrite(store, tenant, parent, configurationId)
          const input = yield* Result.match(Assignment.decodeCreate(body), {
            onFailure: Effect.fail,
            onSuccess: Effect.succeed
          })
          const id = input.id ?? (yield* Ids.guid)
          // The store refuses the insert when the configuration is gone by now (EntityNotFound of
          // the configuration, as `resolve` answers), in the insert's write: a removal of the
          // configuration at the same moment cannot leave the assignment behind (see Store). Under a
          // user's path, also when the configuration no longer targets the user (since 0.10.0): an
          // `assign` at the same moment comes wholly before the insert or after it.
          return yield* store.assignments.insert(tenant, configurationId, Assignment.make(id, input), path.targeting).pipe(
            Effect.catchTag("EntityAlreadyExists", () =>
              Effect.fail(new EntityAlreadyExists({ entity: "enrollmentConfigurationAssignment", id }))),
            // Refused on a user's path: the path again, so that a user or an invitation removed at the
            // same moment is named, as its 404 would have been had it come first (a user with no
            // groups left is no longer targeted, but the configuration is not what went missing).
            Effect.catchIf(
              (e) => e._tag === "EntityNotFound" && path.targeting !== undefined,
              (e) => Effect.andThen(Paths.userOf(store, tenant, parent), Effect.fail(e))
            )
          )
        }),
        patch: fn("Assignments.patch")(function*(tenant, parent, configurationId, id, body, options) {
          const path = yield* Paths.resolveWrite(store, tenant, parent, configurationId)
          const updated = yield* store.assignments.modify(tenant, configurationId, id, (
            current
          ): Result.Result<Assignment.Assignment, EntityNotFound | InvalidInput | PreconditionFailed> => {
            // The path again, on the assignment as the write finds it (since 0.10.0): see `remove`.
            if (!path.onAssignment(current)) return Result.fail(pathGone(configurationId))
            const failed = ETag.conditional(options) ? ETag.refusal(options, Assignment.typeName, id, ETag.of(current)) : undefined
            if (failed) return Result.fail(failed)
            return Result.map(AssignmentPatch.patch(current, body), (next) => Json.equals(next, current) ? current : next)
          })
          if (Option.isNone(updated)) return yield* notFound(id)
          return updated.value
        }),
        remove: fn("Assignments.remove")(function*(tenant, parent, configurationId, id, options) {
          const path = yield* Paths.resolveWrite(store, tenant, parent, configurationId)
          // The preconditions are checked inside the store's removal: no write can come between the two.
          const ifMatch = ETag.precondition(options, Assignment.typeName, id)
          // Under a user's path, so is the path (since 0.10.0): the targeting decided again with the
          // assignment as the removal finds it, so a tenant-path PATCH that moves its target away from
          // the user at the same moment either comes first (and this is a 404) or after.
          const check: Check<Assignment.Assignment, EntityNotFound | PreconditionFailed> | undefined = parent._tag === "Tenant"
            ? ifMatch
            : (current) => path.onAssignment(current) ? (ifMatch === undefined ? ok : ifMatch(current)) : Result.fail(pathGone(configurationId))
          if (!(yield* store.assignments.remove(tenant, configurationId, id, check))) return yield* notFound(id)
        })
      })
    })
  )
}
