/**
 * The configuration use cases (tenant family): list, get, create, PATCH, delete
 * (with its assignments), the `assign` action (replaces every assignment at once)
 * and `setPriority`, and the configurations targeted to a user. Every write takes the
 * request's preconditions on the configuration (`If-Match`, `If-None-Match`; the actions'
 * since 0.16.0), decided in the store's write.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, Option, Result } from "effect"
import * as Assignment from "./Assignment.ts"
import * as Configuration from "./Configuration.ts"
import {
  EntityAlreadyExists,
  EntityNotFound,
  invalid,
  type InvalidInput,
  PreconditionFailed,
  type StoreUnavailable
} from "./Errors.ts"
import * as ETag from "./ETag.ts"
import * as Ids from "./Ids.ts"
import * as Traced from "./Traced.ts"
import * as Json from "./Json.ts"
import * as ODataType from "./ODataType.ts"
import * as Paths from "./Paths.ts"
import { countOf, inSnapshot, type Page, type PageRequest, Store } from "./Store.ts"
import * as Validation from "./Validation.ts"

type Fx<A, E = never> = Effect.Effect<A, E | EntityNotFound | StoreUnavailable>
type C = Configuration.Configuration

const fromResult = <A, E>(r: Result.Result<A, E>): Effect.Effect<A, E> =>
  Result.isSuccess(r) ? Effect.succeed(r.success) : Effect.fail(r.failure)

const decodePriority = Validation.decoder(Configuration.Int32)

/** The configurations service. */
export class Configurations extends Context.Service<Configurations, {
  readonly list: (tenant: string, page: PageRequest) => Fx<Page<C>>
  /**
   * How many configurations the tenant holds: the store's `count` in one read where it offers
   * one, else the list paged through (`countOf`).
   *
   * @since 0.12.0
   */
  readonly count: (tenant: string) => Fx<number>
  readonly get: (tenant: string, id: string) => Fx<C>
  readonly create: (tenant: string, body: unknown) => Fx<C, InvalidInput | EntityAlreadyExists>
  readonly patch: (
    tenant: string,
    id: string,
    body: unknown,
    options?: ETag.Conditions
  ) => Fx<C, InvalidInput | PreconditionFailed>
  /**
   * Removes the configuration and its assignments. With `ifMatch` (since 0.6.0), only when its
   * ETag matches, with `ifNoneMatch` (since 0.14.0) only when it is not excluded (else
   * {@link PreconditionFailed}, nothing removed), decided in the store's removal.
   */
  readonly remove: (tenant: string, id: string, options?: ETag.Conditions) => Fx<void, PreconditionFailed>
  /**
   * The `assign` action: `{"enrollmentConfigurationAssignments":[…]}` replaces the whole set
   * atomically. With `options` (since 0.16.0), only when the configuration's ETag meets them, as
   * `remove`'s (else {@link PreconditionFailed}, no assignment changed), decided in the store's
   * replacement: the action is bound to the configuration, so its `If-Match` is the
   * configuration's (OData 4.01 Part 1 §8.2.4), and the set it replaces is not in that ETag.
   */
  readonly assign: (tenant: string, id: string, body: unknown, options?: ETag.Conditions) => Fx<void, InvalidInput | PreconditionFailed>
  /**
   * The `setPriority` action: `{"priority": n}`. With `options` (since 0.16.0), only when the
   * configuration's ETag meets them, as `patch`'s (else {@link PreconditionFailed}, nothing changed).
   */
  readonly setPriority: (
    tenant: string,
    id: string,
    body: unknown,
    options?: ETag.Conditions
  ) => Fx<void, InvalidInput | PreconditionFailed>
  /**
   * The configurations targeted to a user, lowest priority first. Under the tenant's path
   * (`Paths.tenant`, no user), every configuration of the tenant, in the same order (since 0.12.1).
   */
  readonly forUser: (tenant: string, parent: Paths.Parent) => Fx<ReadonlyArray<C>>
}>()("@enrollment/core/Configurations") {
  /** The service over the {@link Store} in context. */
  static readonly layer = Layer.effect(
    Configurations,
    Effect.gen(function*() {
      const store = yield* Store
      const fn = yield* Traced.fn
      const notFound = (id: string) => new EntityNotFound({ entity: "deviceEnrollmentConfiguration", id })

      /** Stamps a changed configuration: version + 1 and a new modification time. */
      const stamp = (current: C, next: C, now: string): C =>
        Json.equals(next, current) ? current : { ...next, version: current.version + 1, lastModifiedDateTime: now }

      /**
       * The refusal of a change to configuration `c` under the request's preconditions, undefined
       * when it meets them (or there are none): what `patch` and `setPriority` run in the store's
       * `modify`, on the value stored at the write.
       */
      const refusal = (c: C, options: ETag.Conditions | undefined): PreconditionFailed | undefined =>
        ETag.conditional(options) ? ETag.refusal(options, Configuration.typeName, c.id, ETag.of(c)) : undefined

      const modify = Effect.fnUntraced(function*<E>(tenant: string, id: string, f: (c: C) => Result.Result<C, E>) {
        const now = yield* Ids.now
        const r = yield* store.configurations.modify(tenant, id, (c) => Result.map(f(c), (n) => stamp(c, n, now)))
        if (Option.isNone(r)) return yield* notFound(id)
        return r.value
      })

      /** What `forUser` reads, in one snapshot where the store offers one (since 0.11.0). */
      const forUserReads = Effect.fnUntraced(function*(tenant: string, parent: Paths.Parent) {
        const userId = yield* Paths.userOf(store, tenant, parent)
        if (userId === undefined) {
          // No user (the tenant's path): every configuration of the tenant, paged through to its
          // end and in the same order (since 0.12.1; before, in id order and at most 1 000 000).
          const all: Array<C> = []
          let after: string | undefined
          do {
            const page = yield* store.configurations.list(tenant, { after, limit: 1000 })
            all.push(...page.items)
            after = page.next
          } while (after !== undefined)
          return all.sort(Configuration.byPriority)
        }
        const ids = yield* Paths.targetedConfigurationIds(store, tenant, userId)
        const cs = yield* store.configurations.getMany(tenant, ids)
        return [...cs].sort(Configuration.byPriority)
      })

      return Configurations.of({
        list: fn("Configurations.list")(function*(tenant, page) {
          return yield* store.configurations.list(tenant, page)
        }),
        count: fn("Configurations.count")(function*(tenant) {
          return yield* countOf(store.configurations, tenant)
        }),
        get: fn("Configurations.get")(function*(tenant, id) {
          const c = yield* store.configurations.get(tenant, id)
          if (Option.isNone(c)) return yield* notFound(id)
          return c.value
        }),
        create: fn("Configurations.create")(function*(tenant, body) {
          const input = yield* fromResult(Configuration.decodeCreate(body))
          const id = input.id ?? (yield* Ids.guid)
          const now = yield* Ids.now
          return yield* store.configurations.insert(tenant, Configuration.make(id, input, now)).pipe(
            Effect.catchTag("EntityAlreadyExists", () =>
              Effect.fail(new EntityAlreadyExists({ entity: "deviceEnrollmentConfiguration", id })))
          )
        }),
        patch: fn("Configurations.patch")(function*(tenant, id, body, options) {
          return yield* modify(tenant, id, (c): Result.Result<C, InvalidInput | PreconditionFailed> => {
            const failed = refusal(c, options)
            return failed !== undefined ? Result.fail(failed) : Configuration.patch(c, body)
          })
        }),
        remove: fn("Configurations.remove")(function*(tenant, id, options) {
          const check = ETag.precondition(options, Configuration.typeName, id)
          if (!(yield* store.configurations.remove(tenant, id, check))) return yield* notFound(id)
        }),
        assign: fn("Configurations.assign")(function*(tenant, id, body, options) {
          const c = yield* store.configurations.get(tenant, id)
          if (Option.isNone(c)) return yield* notFound(id)
          if (!Json.isObject(body)) return yield* invalid.value("", "a JSON object", Json.show(body))
          for (const key of Object.keys(body)) {
            if (key !== "enrollmentConfigurationAssignments" && !ODataType.isAnnotation(key)) {
              return yield* invalid.unknown(key, key, "assign action parameters")
            }
          }
          // The action replaces the whole set: a missing or null list is refused, never read as
          // an empty one (a forgotten parameter must not delete every assignment).
          const list = body.enrollmentConfigurationAssignments
          if (list === undefined) {
            return yield* invalid.required("enrollmentConfigurationAssignments", "an array (an empty one removes every assignment)")
          }
          if (list === null) {
            return yield* invalid.nullNotAllowed("enrollmentConfigurationAssignments", "an array (an empty one removes every assignment)")
          }
          if (!Array.isArray(list)) {
            return yield* invalid.value("enrollmentConfigurationAssignments", "an array", Json.show(list))
          }
          // Checked before any item is read: the action's work and its lock stay bounded.
          if (list.length > Configuration.maxAssignItems) {
            return yield* invalid.value(
              "enrollmentConfigurationAssignments",
              `at most ${Configuration.maxAssignItems} assignments (POST …/assignments adds more, one at a time)`,
              `${list.length}`
            )
          }
          const values: Array<Assignment.Assignment> = []
          const seen = new Set<string>()
          for (let i = 0; i < list.length; i++) {
            const r = Assignment.decodeCreate(list[i])
            if (Result.isFailure(r)) {
              const reason = r.failure.reason
              const path = `enrollmentConfigurationAssignments[${i}]${reason.path === "" ? "" : "."}${reason.path}`
              return yield* Effect.fail(
                new (r.failure.constructor as any)({ reason: new (reason.constructor as any)({ ...reason, path }) })
              ) as Effect.Effect<never, InvalidInput>
            }
            const aid = r.success.id ?? (yield* Ids.guid)
            if (seen.has(aid)) {
              return yield* invalid.value(`enrollmentConfigurationAssignments[${i}].id`, "a unique id", Json.show(aid))
            }
            seen.add(aid)
            values.push(Assignment.make(aid, r.success))
          }
          // Refused by the store (EntityNotFound, as above) when the configuration is gone by now,
          // in the replacement's write: a removal at the same moment leaves no assignment behind.
          // So are the preconditions (since 0.16.0), on the configuration as that write sees it: a
          // change of it since the ETag was read refuses the replacement, however late it came.
          yield* store.assignments.replace(tenant, id, values, ETag.precondition(options, Configuration.typeName, id))
        }),
        setPriority: fn("Configurations.setPriority")(function*(tenant, id, body, options) {
          if (!Json.isObject(body)) return yield* invalid.value("", "a JSON object", Json.show(body))
          for (const key of Object.keys(body)) {
            if (key !== "priority" && !ODataType.isAnnotation(key)) return yield* invalid.unknown(key, key, "setPriority parameters")
          }
          if (body.priority === undefined) return yield* invalid.required("priority", "an Int32")
          if (body.priority === null) return yield* invalid.nullNotAllowed("priority", "an Int32")
          const priority = yield* fromResult(decodePriority(body.priority, "priority"))
          yield* modify(tenant, id, (c): Result.Result<C, PreconditionFailed> => {
            const failed = refusal(c, options)
            return failed !== undefined ? Result.fail(failed) : Result.succeed(c.priority === priority ? c : { ...c, priority })
          })
        }),
        forUser: fn("Configurations.forUser")(function*(tenant, parent) {
          return yield* inSnapshot(store, forUserReads(tenant, parent))
        })
      })
    })
  )
}

