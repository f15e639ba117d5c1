/**
 * The store port's optional one-read resolution, in the core: a MemoryStore that
 * offers `resolveConfiguration` (made here of its own separate reads, as a
 * reference) runs the whole conformance suite, so the port's resolution case runs
 * in this package too, and with it the check that `Paths.resolveConfiguration`
 * decides the same from one read as from the separate reads, for every outcome.
 */
import { describe, it } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { type ConfigurationResolution, MemoryStore, Store } from "../src/index.ts"
import { StoreConformance } from "../src/testing/index.ts"

const withResolution = Layer.effect(
  Store,
  Effect.gen(function*() {
    const s = yield* Store
    return Store.of({
      ...s,
      resolveConfiguration: (tenant, parent, configurationId) =>
        Effect.gen(function*() {
          const user = parent._tag === "Invitation"
            ? yield* s.invitations.invitedUserOf(tenant, parent.invitationId)
            : Option.some({ userId: parent.userId, exists: Option.isSome(yield* s.users.get(tenant, parent.userId)) })
          const configuration = yield* s.configurations.get(tenant, configurationId)
          const targeting = Option.isSome(user)
            ? yield* s.targetingOf(tenant, user.value.userId, configurationId)
            : { groups: [], assignments: [] }
          const resolution: ConfigurationResolution = { user, configuration, targeting }
          return resolution
        })
    })
  })
).pipe(Layer.provide(MemoryStore.layer))

StoreConformance.suite("a store offering resolveConfiguration conforms to the store port", withResolution, {
  describe,
  it: (name, body, timeout) => it(name, body, timeout)
})
