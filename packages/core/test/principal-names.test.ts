/**
 * A user addressed by its `userPrincipalName` (core 0.16.0), as Graph's `/users/{id | userPrincipalName}`:
 * the directory's user routes and the user path family take a key that names no user by id, and
 * may be a principal name (an `@`, or `#EXT#`), as the name of the user who holds it, in any case;
 * over the memory store with its `users.idByPrincipalName`, and without it (the users paged through).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option, Ref } from "effect"
import { Assignments, Configurations, DirectoryService, MemoryStore, type PageRequest, Paths, Store } from "../src/index.ts"

const T = "tenant-1"

/** The memory store as it is, and without `users.idByPrincipalName` (a store written before 0.16.0). */
const stores = [
  ["the memory store", MemoryStore.layer],
  [
    "a store without users.idByPrincipalName",
    Layer.effect(Store, Effect.map(MemoryStore.make, (s) => Store.of({ ...s, users: { ...s.users, idByPrincipalName: undefined } })))
  ]
] as const

const limitCfg = (id: string, priority = 0) => ({
  "@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration",
  id,
  displayName: id,
  priority,
  limit: 3
})

/**
 * A tenant with: ada (`Ada@Contoso.com`) in group g; a guest of Entra's form (`grace_fabrikam.com#EXT#@contoso.onmicrosoft.com`);
 * an invitation's guest (`hedy_example.com#EXT#`); configuration c assigned to g (a1), and
 * configuration everyone assigned to all licensed users (a2).
 */
const world = Effect.gen(function*() {
  const dir = yield* DirectoryService
  const cfgs = yield* Configurations
  yield* dir.createUser(T, { id: "ada", displayName: "Ada", userPrincipalName: "Ada@Contoso.com" })
  yield* dir.createUser(T, { id: "grace", displayName: "Grace", userPrincipalName: "grace_fabrikam.com#EXT#@contoso.onmicrosoft.com", userType: "Guest" })
  const inv = yield* dir.createInvitation(T, { invitedUserEmailAddress: "hedy@example.com", inviteRedirectUrl: "https://example.com" }, "https://redeem")
  yield* dir.createGroup(T, { id: "g" })
  yield* dir.addMember(T, "g", "ada")
  yield* cfgs.create(T, limitCfg("c", 5))
  yield* cfgs.assign(T, "c", {
    enrollmentConfigurationAssignments: [{ id: "a1", target: { "@odata.type": "#microsoft.graph.groupAssignmentTarget", groupId: "g" } }]
  })
  yield* cfgs.create(T, limitCfg("everyone", 1))
  yield* cfgs.assign(T, "everyone", {
    enrollmentConfigurationAssignments: [{ id: "a2", target: { "@odata.type": "#microsoft.graph.allLicensedUsersAssignmentTarget" } }]
  })
  return { guestId: inv.invitedUserId }
})

const notFound = <A, E extends { readonly _tag: string; readonly message: string }, R>(self: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.flip(self), (e) => `${e._tag}: ${e.message}`)

for (const [name, store] of stores) {
  const services = Layer.mergeAll(Assignments.layer, Configurations.layer, DirectoryService.layer).pipe(Layer.provideMerge(store))

  describe(`a user by its principal name, over ${name}`, () => {
    it.effect("gets, patches and deletes a user by its principal name in any case", () =>
      Effect.gen(function*() {
        yield* world
        const dir = yield* DirectoryService
        for (const key of ["Ada@Contoso.com", "ada@contoso.com", "ADA@CONTOSO.COM"]) {
          assert.strictEqual((yield* dir.getUser(T, key)).id, "ada", key)
        }
        const patched = yield* dir.patchUser(T, "ada@CONTOSO.com", { displayName: "Ada Lovelace" })
        assert.deepStrictEqual([patched.id, patched.displayName], ["ada", "Ada Lovelace"])
        assert.strictEqual((yield* dir.getUser(T, "ada")).displayName, "Ada Lovelace", "the stored user changed")
        // A PATCH that renames the user: the new name reaches it, the old one no longer does.
        yield* dir.patchUser(T, "Ada@Contoso.com", { userPrincipalName: "Ada.Lovelace@contoso.com" })
        assert.strictEqual((yield* dir.getUser(T, "ada.lovelace@contoso.com")).id, "ada")
        assert.strictEqual(yield* notFound(dir.getUser(T, "Ada@Contoso.com")), "EntityNotFound: user 'Ada@Contoso.com' not found")
        yield* dir.removeUser(T, "ADA.LOVELACE@CONTOSO.COM")
        assert.isTrue(Option.isNone(yield* (yield* Store).users.get(T, "ada")), "removed")
        assert.strictEqual(
          yield* notFound(dir.removeUser(T, "ada.lovelace@contoso.com")),
          "EntityNotFound: user 'ada.lovelace@contoso.com' not found"
        )
      }).pipe(Effect.provide(services)))

    it.effect("answers a principal name no user holds with a 404 naming the key as given", () =>
      Effect.gen(function*() {
        yield* world
        const dir = yield* DirectoryService
        const assignments = yield* Assignments
        const cfgs = yield* Configurations
        const missing = "EntityNotFound: user 'Nobody@Contoso.com' not found"
        assert.strictEqual(yield* notFound(dir.getUser(T, "Nobody@Contoso.com")), missing)
        assert.strictEqual(yield* notFound(dir.patchUser(T, "Nobody@Contoso.com", { displayName: "x" })), missing)
        assert.strictEqual(yield* notFound(dir.removeUser(T, "Nobody@Contoso.com")), missing)
        assert.strictEqual(yield* notFound(dir.memberOf(T, { kind: "user", id: "Nobody@Contoso.com" }, true)), missing)
        const p = Paths.user("Nobody@Contoso.com")
        assert.strictEqual(yield* notFound(cfgs.forUser(T, p)), missing)
        assert.strictEqual(yield* notFound(assignments.list(T, p, "c", { limit: 10 })), missing)
        assert.strictEqual(yield* notFound(assignments.get(T, p, "c", "a1")), missing)
        assert.strictEqual(yield* notFound(assignments.patch(T, p, "c", "a1", { source: "policySets" })), missing)
        // Another tenant's user's name is no user here.
        assert.strictEqual(yield* notFound(dir.getUser("tenant-2", "ada@contoso.com")), "EntityNotFound: user 'ada@contoso.com' not found")
      }).pipe(Effect.provide(services)))

    it.effect("serves the user path family by principal name: configurations, assignments, and the PATCH of an assignment", () =>
      Effect.gen(function*() {
        yield* world
        const assignments = yield* Assignments
        const cfgs = yield* Configurations
        const p = Paths.user("ADA@contoso.com")
        assert.deepStrictEqual((yield* cfgs.forUser(T, p)).map((c) => c.id), ["everyone", "c"])
        assert.deepStrictEqual((yield* assignments.list(T, p, "c", { limit: 10 })).items.map((a) => a.id), ["a1"])
        assert.strictEqual(yield* assignments.count(T, p, "c"), 1)
        assert.strictEqual((yield* assignments.get(T, p, "c", "a1")).id, "a1")
        const patched = yield* assignments.patch(T, p, "c", "a1", { source: "policySets", sourceId: "ps1" })
        assert.deepStrictEqual([patched.source, patched.sourceId], ["policySets", "ps1"])
        assert.strictEqual((yield* assignments.get(T, Paths.tenant, "c", "a1")).sourceId, "ps1", "the stored assignment changed")
        const created = yield* assignments.create(T, p, "c", { id: "a3", target: null })
        assert.strictEqual(created.id, "a3")
        yield* assignments.remove(T, p, "c", "a3")
        // The targeting is the found user's: a configuration not targeted to ada is not found under it.
        yield* cfgs.create(T, limitCfg("nobody's"))
        assert.strictEqual(
          yield* notFound(assignments.list(T, p, "nobody's", { limit: 10 })),
          "EntityNotFound: deviceEnrollmentConfiguration 'nobody's' not found"
        )
      }).pipe(Effect.provide(services)))

    it.effect("finds guests by their #EXT# principal names: Entra's form with its domain, and an invitation's", () =>
      Effect.gen(function*() {
        const { guestId } = yield* world
        const dir = yield* DirectoryService
        const assignments = yield* Assignments
        assert.strictEqual((yield* dir.getUser(T, "GRACE_fabrikam.com#ext#@contoso.onmicrosoft.com")).id, "grace")
        assert.strictEqual((yield* dir.getUser(T, "hedy_example.com#EXT#")).id, guestId)
        const p = Paths.user("Hedy_Example.com#EXT#")
        assert.deepStrictEqual((yield* assignments.list(T, p, "everyone", { limit: 10 })).items.map((a) => a.id), ["a2"])
        assert.strictEqual((yield* assignments.patch(T, p, "everyone", "a2", { sourceId: "x" })).sourceId, "x")
      }).pipe(Effect.provide(services)))

    it.effect("lists the groups of a user named by its principal name", () =>
      Effect.gen(function*() {
        yield* world
        const dir = yield* DirectoryService
        yield* dir.createGroup(T, { id: "outer" })
        yield* dir.addMember(T, "outer", "g")
        const page = (transitive: boolean, p: PageRequest) =>
          Effect.flatMap(dir.memberOf(T, { kind: "user", id: "ada@CONTOSO.com" }, transitive), (groupsOf) => groupsOf(p))
        assert.deepStrictEqual((yield* page(false, { limit: 10 })).items.map((g) => g.id), ["g"])
        assert.deepStrictEqual((yield* page(true, { limit: 10 })).items.map((g) => g.id), ["g", "outer"])
      }).pipe(Effect.provide(services)))

    it.effect("takes a key that names a user by id as that id, and reads no other key as a principal name", () =>
      Effect.gen(function*() {
        yield* world
        const dir = yield* DirectoryService
        // One user's id is another's principal name: the id wins, as an id always names its user.
        yield* dir.createUser(T, { id: "x@contoso.com", userPrincipalName: "first@contoso.com" })
        yield* dir.createUser(T, { id: "second", userPrincipalName: "X@contoso.com" })
        assert.strictEqual((yield* dir.getUser(T, "x@contoso.com")).id, "x@contoso.com")
        assert.strictEqual((yield* dir.getUser(T, "X@CONTOSO.com")).id, "second", "no user has that id: the name's holder")
        // A key with neither an `@` nor `#EXT#` is an id only, whatever name a user holds.
        yield* dir.createUser(T, { id: "u9", userPrincipalName: "plainname" })
        assert.strictEqual(yield* notFound(dir.getUser(T, "plainname")), "EntityNotFound: user 'plainname' not found")
        assert.strictEqual(yield* notFound(dir.getUser(T, "PLAINNAME")), "EntityNotFound: user 'PLAINNAME' not found")
      }).pipe(Effect.provide(services)))
  })

  describe(`a user by id, over ${name}`, () => {
    it.effect("reads no principal name for a key that names a user by id, nor for one that cannot be a name", () =>
      Effect.gen(function*() {
        yield* world
        const dir = yield* DirectoryService
        const assignments = yield* Assignments
        const cfgs = yield* Configurations
        const lookups = yield* Ref.make(0)
        // The services over the same data, with the name's look-ups (the store's, or the users paged through) counted.
        const counting = Effect.map(Effect.service(Store), (s) =>
          Store.of({
            ...s,
            users: {
              ...s.users,
              list: (t, p) => Effect.andThen(Ref.update(lookups, (n) => n + 1), s.users.list(t, p)),
              idByPrincipalName: s.users.idByPrincipalName === undefined
                ? undefined
                : (t, upn) => Effect.andThen(Ref.update(lookups, (n) => n + 1), s.users.idByPrincipalName!(t, upn))
            }
          }))
        // Fresh: the services the test runs in are built from these same layers, and would be reused.
        const counted = Layer.fresh(Layer.mergeAll(Assignments.layer, Configurations.layer, DirectoryService.layer)).pipe(
          Layer.provide(Layer.effect(Store, counting))
        )
        yield* Effect.gen(function*() {
          const d = yield* DirectoryService
          const a = yield* Assignments
          const c = yield* Configurations
          yield* d.getUser(T, "ada")
          yield* d.patchUser(T, "ada", { displayName: "A" })
          yield* Effect.flatMap(d.memberOf(T, { kind: "user", id: "ada" }, true), (groupsOf) => groupsOf({ limit: 10 }))
          yield* c.forUser(T, Paths.user("ada"))
          yield* a.list(T, Paths.user("ada"), "c", { limit: 10 })
          yield* a.get(T, Paths.user("ada"), "c", "a1")
          yield* a.patch(T, Paths.user("ada"), "c", "a1", { sourceId: "s" })
          yield* Effect.flip(d.getUser(T, "gone"))
          yield* Effect.flip(a.get(T, Paths.user("gone"), "c", "a1"))
        }).pipe(Effect.provide(counted))
        assert.strictEqual(yield* Ref.get(lookups), 0)
        // (the same services over the store in context still answer: nothing above was changed but ada's name and a1's sourceId)
        assert.strictEqual((yield* dir.getUser(T, "ada@contoso.com")).displayName, "A")
        assert.strictEqual((yield* assignments.get(T, Paths.user("ada"), "c", "a1")).sourceId, "s")
        assert.lengthOf(yield* cfgs.forUser(T, Paths.user("ada")), 2)
      }).pipe(Effect.provide(services)))
  })
}
