import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option, Result } from "effect"
import { Assignments, Configuration, Configurations, DirectoryService, ETag, MemoryStore, type PageRequest, Paths, Store } from "../src/index.ts"
import type { StoreUnavailable } from "../src/Errors.ts"

const services = Layer.mergeAll(Assignments.layer, Configurations.layer, DirectoryService.layer).pipe(
  Layer.provideMerge(MemoryStore.layer)
)
const T = "tenant-1"

const limitCfg = (id: string, priority = 0) => ({
  "@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration",
  id,
  displayName: id,
  priority,
  limit: 3
})

/** A tenant with: user u in group inner, inner in outer; an invitation i whose guest user is in outer. */
const world = Effect.gen(function*() {
  const dir = yield* DirectoryService
  const cfgs = yield* Configurations
  yield* dir.createUser(T, { id: "u", displayName: "U" })
  yield* dir.createGroup(T, { id: "inner" })
  yield* dir.createGroup(T, { id: "outer" })
  yield* dir.addMember(T, "inner", "u")
  yield* dir.addMember(T, "outer", "inner")
  const inv = yield* dir.createInvitation(T, { id: "i", invitedUserEmailAddress: "g@example.com", inviteRedirectUrl: "https://example.com" }, "https://redeem")
  yield* dir.addMember(T, "outer", inv.invitedUserId)
  yield* cfgs.create(T, limitCfg("c", 5))
  yield* cfgs.assign(T, "c", {
    enrollmentConfigurationAssignments: [
      { id: "a1", target: { "@odata.type": "#microsoft.graph.groupAssignmentTarget", groupId: "outer" } }
    ]
  })
  return inv
})

describe("the services over the memory store", () => {
  it.effect("patches an assignment through the invitation path (the seed operation)", () =>
    Effect.gen(function*() {
      yield* world
      const svc = yield* Assignments
      const next = yield* svc.patch(T, Paths.invitation("i"), "c", "a1", {
        "@odata.type": "#microsoft.graph.enrollmentConfigurationAssignment",
        target: { "@odata.type": "microsoft.graph.exclusionGroupAssignmentTarget" },
        source: "policySets",
        sourceId: "Source Id value"
      })
      assert.strictEqual(next.source, "policySets")
      assert.deepStrictEqual(next.target, {
        "@odata.type": "#microsoft.graph.exclusionGroupAssignmentTarget",
        deviceAndAppManagementAssignmentFilterId: null,
        deviceAndAppManagementAssignmentFilterType: "none",
        groupId: "outer"
      })
      // now the configuration excludes the guest: it no longer resolves under the invitation
      const e = yield* Effect.flip(svc.get(T, Paths.invitation("i"), "c", "a1"))
      assert.strictEqual(e._tag, "EntityNotFound")
      assert.strictEqual(e.message, "deviceEnrollmentConfiguration 'c' not found")
      // but the tenant path still sees it
      assert.strictEqual((yield* svc.get(T, Paths.tenant, "c", "a1")).source, "policySets")
    }).pipe(Effect.provide(services)))

  it.effect("names the first missing segment of a path", () =>
    Effect.gen(function*() {
      yield* world
      const svc = yield* Assignments
      const msg = (p: Paths.Parent, c: string, a: string) => Effect.map(Effect.flip(svc.get(T, p, c, a)), (e) => e.message)
      assert.strictEqual(yield* msg(Paths.invitation("x"), "c", "a1"), "invitation 'x' not found")
      assert.strictEqual(yield* msg(Paths.user("x"), "c", "a1"), "user 'x' not found")
      assert.strictEqual(yield* msg(Paths.tenant, "x", "a1"), "deviceEnrollmentConfiguration 'x' not found")
      assert.strictEqual(yield* msg(Paths.user("u"), "c", "x"), "enrollmentConfigurationAssignment 'x' not found")
    }).pipe(Effect.provide(services)))

  it.effect("resolves the user family only for configurations targeted to the user", () =>
    Effect.gen(function*() {
      yield* world
      const svc = yield* Assignments
      const cfgs = yield* Configurations
      yield* cfgs.create(T, limitCfg("untargeted"))
      yield* cfgs.create(T, limitCfg("everyone", 1))
      yield* cfgs.assign(T, "everyone", {
        enrollmentConfigurationAssignments: [{ target: { "@odata.type": "#microsoft.graph.allLicensedUsersAssignmentTarget" } }]
      })
      assert.strictEqual((yield* svc.list(T, Paths.user("u"), "c", { limit: 10 })).items.length, 1)
      const e = yield* Effect.flip(svc.list(T, Paths.user("u"), "untargeted", { limit: 10 }))
      assert.strictEqual(e._tag, "EntityNotFound")
      const forUser = yield* cfgs.forUser(T, Paths.user("u"))
      assert.deepStrictEqual(forUser.map((c) => c.id), ["everyone", "c"], "lowest priority first")
      const forGuest = yield* cfgs.forUser(T, Paths.invitation("i"))
      assert.deepStrictEqual(forGuest.map((c) => c.id), ["everyone", "c"])
      // The tenant's path: every configuration, lowest priority first too (since 0.12.1).
      assert.deepStrictEqual((yield* cfgs.forUser(T, Paths.tenant)).map((c) => c.id), ["untargeted", "everyone", "c"])
    }).pipe(Effect.provide(services)))

  it.effect("lists every configuration under the tenant's path, past the store's pages, by priority then id (since 0.12.1)", () =>
    Effect.gen(function*() {
      const cfgs = yield* Configurations
      // 1 003 configurations: more than one page of the store's; priorities that reverse the ids' order.
      for (let i = 0; i < 1003; i++) yield* cfgs.create(T, limitCfg(`c${String(i).padStart(4, "0")}`, 2000 - i - (i % 2)))
      const all = (yield* cfgs.forUser(T, Paths.tenant)).map((c) => `${c.priority}:${c.id}`)
      assert.strictEqual(all.length, 1003)
      // Priorities come in pairs (i and i + 1 for odd i), which their ids order.
      assert.deepStrictEqual(all.slice(0, 4), ["998:c1001", "998:c1002", "1000:c0999", "1000:c1000"])
      assert.deepStrictEqual(all.slice(-3), ["1998:c0001", "1998:c0002", "2000:c0000"])
    }).pipe(Effect.provide(services)))

  it.effect("creates with a server id or the client's, and refuses a taken id", () =>
    Effect.gen(function*() {
      yield* world
      const svc = yield* Assignments
      const made = yield* svc.create(T, Paths.tenant, "c", { source: "direct" })
      assert.match(made.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
      assert.strictEqual(made.target, null)
      const mine = yield* svc.create(T, Paths.user("u"), "c", { id: "mine", target: { "@odata.type": "#microsoft.graph.allDevicesAssignmentTarget" } })
      assert.strictEqual(mine.id, "mine")
      const e = yield* Effect.flip(svc.create(T, Paths.tenant, "c", { id: "mine" }))
      assert.strictEqual(e._tag, "EntityAlreadyExists")
      const bad = yield* Effect.flip(svc.create(T, Paths.tenant, "c", { id: "x", bogus: 1 }))
      assert.strictEqual(bad._tag, "InvalidInput")
      assert.strictEqual(yield* svc.count(T, Paths.tenant, "c"), 3)
      assert.strictEqual(yield* svc.count(T, Paths.tenant, "c", { _tag: "SourceEq", value: "policySets" }), 0)
    }).pipe(Effect.provide(services)))

  it.effect("applies If-Match: a stale ETag is refused and nothing changes; * matches", () =>
    Effect.gen(function*() {
      yield* world
      const svc = yield* Assignments
      const before = yield* svc.get(T, Paths.tenant, "c", "a1")
      const tag = ETag.of(before)
      const after = yield* svc.patch(T, Paths.tenant, "c", "a1", { sourceId: "s1" }, { ifMatch: tag })
      const stale = yield* Effect.flip(svc.patch(T, Paths.tenant, "c", "a1", { sourceId: "s2" }, { ifMatch: tag }))
      assert.strictEqual(stale._tag, "PreconditionFailed")
      assert.deepStrictEqual(yield* svc.get(T, Paths.tenant, "c", "a1"), after)
      yield* svc.patch(T, Paths.tenant, "c", "a1", { sourceId: "s3" }, { ifMatch: "*" })
      const noop = yield* svc.patch(T, Paths.tenant, "c", "a1", {})
      assert.strictEqual(noop.sourceId, "s3")
      const del = yield* Effect.flip(svc.remove(T, Paths.tenant, "c", "a1", { ifMatch: tag }))
      assert.strictEqual(del._tag, "PreconditionFailed")
      yield* svc.remove(T, Paths.tenant, "c", "a1", { ifMatch: ETag.of(yield* svc.get(T, Paths.tenant, "c", "a1")) })
      assert.strictEqual((yield* Effect.flip(svc.remove(T, Paths.tenant, "c", "a1")))._tag, "EntityNotFound")
      assert.strictEqual((yield* Effect.flip(svc.patch(T, Paths.tenant, "c", "a1", {})))._tag, "EntityNotFound")
      assert.strictEqual((yield* Effect.flip(svc.remove(T, Paths.tenant, "c", "zz", { ifMatch: "*" })))._tag, "EntityNotFound")
    }).pipe(Effect.provide(services)))

  it.effect("applies If-None-Match: * or the current ETag refuses a PATCH and a DELETE, and nothing changes", () =>
    Effect.gen(function*() {
      yield* world
      const svc = yield* Assignments
      const before = yield* svc.get(T, Paths.tenant, "c", "a1")
      const tag = ETag.of(before)
      for (const ifNoneMatch of ["*", tag]) {
        const patch = yield* Effect.flip(svc.patch(T, Paths.tenant, "c", "a1", { sourceId: "inm" }, { ifNoneMatch }))
        assert.strictEqual(patch._tag, "PreconditionFailed")
        assert.strictEqual(patch._tag === "PreconditionFailed" ? patch.header : undefined, "If-None-Match")
        const del = yield* Effect.flip(svc.remove(T, Paths.tenant, "c", "a1", { ifNoneMatch }))
        assert.strictEqual(del._tag, "PreconditionFailed")
        assert.deepStrictEqual(yield* svc.get(T, Paths.tenant, "c", "a1"), before)
      }
      const after = yield* svc.patch(T, Paths.tenant, "c", "a1", { sourceId: "inm" }, { ifNoneMatch: `W/"other"` })
      assert.strictEqual(after.sourceId, "inm")
      yield* svc.remove(T, Paths.tenant, "c", "a1", { ifNoneMatch: tag })
      assert.strictEqual((yield* Effect.flip(svc.get(T, Paths.tenant, "c", "a1")))._tag, "EntityNotFound")
    }).pipe(Effect.provide(services)))

  it.effect("serialises concurrent PATCHes: each If-Match race has one winner", () =>
    Effect.gen(function*() {
      yield* world
      const svc = yield* Assignments
      const tag = ETag.of(yield* svc.get(T, Paths.tenant, "c", "a1"))
      const results = yield* Effect.forEach(
        Array.from({ length: 20 }, (_, i) => i),
        (i) => Effect.result(svc.patch(T, Paths.tenant, "c", "a1", { sourceId: `w${i}` }, { ifMatch: tag })),
        { concurrency: "unbounded" }
      )
      const winners = results.filter((r) => r._tag === "Success")
      assert.strictEqual(winners.length, 1)
      const final = yield* svc.get(T, Paths.tenant, "c", "a1")
      assert.deepStrictEqual(final, (winners[0] as any).success)
    }).pipe(Effect.provide(services)))
})

describe("configurations", () => {
  it.effect("creates, patches (typed base + RFC 7396 derived properties) and stamps version and time", () =>
    Effect.gen(function*() {
      const cfgs = yield* Configurations
      const c = yield* cfgs.create(T, { ...limitCfg("c"), version: 99, createdDateTime: "1999-01-01T00:00:00Z", nested: { a: 1, b: 2 } })
      assert.strictEqual(c.version, 1)
      assert.notStrictEqual(c.createdDateTime, "1999-01-01T00:00:00Z")
      assert.strictEqual(c.deviceEnrollmentConfigurationType, "limit")
      const p = yield* cfgs.patch(T, "c", { displayName: "renamed", nested: { a: null, c: 3 }, limit: 4 })
      assert.strictEqual(p.displayName, "renamed")
      assert.strictEqual(p.version, 2)
      assert.deepStrictEqual((p as any).nested, { b: 2, c: 3 })
      assert.strictEqual((p as any).limit, 4)
      const same = yield* cfgs.patch(T, "c", {})
      assert.strictEqual(same.version, 2, "a no-op does not bump the version")
      const bad = yield* Effect.flip(cfgs.patch(T, "c", { priority: null }))
      assert.strictEqual(bad._tag, "InvalidInput")
      const typeChange = yield* Effect.flip(cfgs.patch(T, "c", { "@odata.type": "#microsoft.graph.windowsRestoreDeviceEnrollmentConfiguration" }))
      assert.strictEqual(typeChange._tag, "InvalidInput")
      const stale = yield* Effect.flip(cfgs.patch(T, "c", { displayName: "x" }, { ifMatch: ETag.of(c) }))
      assert.strictEqual(stale._tag, "PreconditionFailed")
      yield* cfgs.setPriority(T, "c", { priority: 7 })
      assert.strictEqual((yield* cfgs.get(T, "c")).priority, 7)
      assert.strictEqual((yield* Effect.flip(cfgs.setPriority(T, "c", { priority: 1.5 })))._tag, "InvalidInput")
      assert.strictEqual((yield* Effect.flip(cfgs.setPriority(T, "c", {})))._tag, "InvalidInput")
      assert.strictEqual((yield* Effect.flip(cfgs.setPriority(T, "c", { priority: 1, other: 1 })))._tag, "InvalidInput")
      assert.strictEqual((yield* cfgs.list(T, { limit: 10 })).items.length, 1)
      yield* cfgs.remove(T, "c")
      assert.strictEqual((yield* Effect.flip(cfgs.get(T, "c")))._tag, "EntityNotFound")
      assert.strictEqual((yield* Effect.flip(cfgs.remove(T, "c")))._tag, "EntityNotFound")
    }).pipe(Effect.provide(services)))

  it.effect("refuses abstract or unknown configuration types and inline assignments", () =>
    Effect.gen(function*() {
      const cfgs = yield* Configurations
      for (const body of [
        { displayName: "x" },
        { "@odata.type": "#microsoft.graph.deviceEnrollmentConfiguration" },
        { ...limitCfg("x"), assignments: [] },
        { ...limitCfg("x"), priority: "high" },
        { ...limitCfg("x"), roleScopeTagIds: [1] },
        "nope"
      ]) {
        assert.strictEqual((yield* Effect.flip(cfgs.create(T, body)))._tag, "InvalidInput", JSON.stringify(body))
      }
      yield* cfgs.create(T, limitCfg("x"))
      assert.strictEqual((yield* Effect.flip(cfgs.create(T, limitCfg("x"))))._tag, "EntityAlreadyExists")
    }).pipe(Effect.provide(services)))

  it.effect("assign replaces every assignment at once and validates all of them first", () =>
    Effect.gen(function*() {
      yield* world
      const cfgs = yield* Configurations
      const svc = yield* Assignments
      const bad = yield* Effect.flip(cfgs.assign(T, "c", {
        enrollmentConfigurationAssignments: [
          { target: { "@odata.type": "#microsoft.graph.allDevicesAssignmentTarget" } },
          { target: { "@odata.type": "#microsoft.graph.groupAssignmentTarget", collectionId: "x" } }
        ]
      }))
      assert.strictEqual(bad._tag, "InvalidInput")
      assert.include(bad.message, "enrollmentConfigurationAssignments[1].target.collectionId")
      assert.deepStrictEqual((yield* svc.list(T, Paths.tenant, "c", { limit: 10 })).items.map((a) => a.id), ["a1"])
      const dup = yield* Effect.flip(cfgs.assign(T, "c", { enrollmentConfigurationAssignments: [{ id: "d" }, { id: "d" }] }))
      assert.strictEqual(dup._tag, "InvalidInput")
      for (const body of [[], { enrollmentConfigurationAssignments: 1 }, { other: [] }]) {
        assert.strictEqual((yield* Effect.flip(cfgs.assign(T, "c", body)))._tag, "InvalidInput")
      }
      yield* cfgs.assign(T, "c", { enrollmentConfigurationAssignments: [{ id: "n1" }, { id: "n2", source: "policySets" }] })
      assert.deepStrictEqual((yield* svc.list(T, Paths.tenant, "c", { limit: 10 })).items.map((a) => a.id), ["n1", "n2"])
      assert.strictEqual((yield* Effect.flip(cfgs.assign(T, "nope", { enrollmentConfigurationAssignments: [] })))._tag, "EntityNotFound")
    }).pipe(Effect.provide(services)))

  it.effect("assign takes at most Configuration.maxAssignItems assignments, refusing more before it reads any (since 0.15.0)", () =>
    Effect.gen(function*() {
      yield* world
      const cfgs = yield* Configurations
      const svc = yield* Assignments
      const items = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `m${i}` }))
      yield* cfgs.assign(T, "c", { enrollmentConfigurationAssignments: items(Configuration.maxAssignItems) })
      assert.strictEqual((yield* svc.list(T, Paths.tenant, "c", { limit: 2_000 })).items.length, Configuration.maxAssignItems)
      // One more, the last of them malformed: the bound is what is said, and nothing changes.
      const over = [...items(Configuration.maxAssignItems), { id: 1 }]
      const refused = yield* Effect.flip(cfgs.assign(T, "c", { enrollmentConfigurationAssignments: over }))
      assert.strictEqual(refused._tag, "InvalidInput")
      assert.strictEqual(
        refused.message,
        `enrollmentConfigurationAssignments: expected at most ${Configuration.maxAssignItems} assignments (POST …/assignments adds more, one at a time), got ${Configuration.maxAssignItems + 1}`
      )
      assert.strictEqual((yield* svc.list(T, Paths.tenant, "c", { limit: 2_000 })).items.length, Configuration.maxAssignItems)
    }).pipe(Effect.provide(services)))
})

describe("directory", () => {
  it.effect("creates an invitation with its guest user, and reaches the user through it", () =>
    Effect.gen(function*() {
      const dir = yield* DirectoryService
      const inv = yield* dir.createInvitation(T, { invitedUserEmailAddress: "a@b.c", inviteRedirectUrl: "https://x", invitedUserDisplayName: "A" }, "https://redeem")
      assert.strictEqual(inv.status, "PendingAcceptance")
      assert.strictEqual(inv.invitedUserType, "Guest")
      const guest = yield* dir.invitedUser(T, inv.id)
      assert.strictEqual(guest.userType, "Guest")
      assert.strictEqual(guest.mail, "a@b.c")
      assert.deepStrictEqual(yield* dir.getInvitation(T, inv.id), inv)
      assert.strictEqual((yield* dir.listInvitations(T, { limit: 5 })).items.length, 1)
      for (const body of [{ inviteRedirectUrl: "https://x" }, { invitedUserEmailAddress: "nope", inviteRedirectUrl: "https://x" }, { invitedUserEmailAddress: "a@b.c", inviteRedirectUrl: "https://x", status: "Completed" }]) {
        assert.strictEqual((yield* Effect.flip(dir.createInvitation(T, body, "r")))._tag, "InvalidInput")
      }
      assert.strictEqual((yield* Effect.flip(dir.invitedUser(T, "missing")))._tag, "EntityNotFound")
    }).pipe(Effect.provide(services)))

  it.effect("manages users and groups, members included", () =>
    Effect.gen(function*() {
      const dir = yield* DirectoryService
      yield* dir.createUser(T, { id: "u1", displayName: "One" })
      yield* dir.createUser(T, { id: "u2" })
      yield* dir.createGroup(T, { id: "g1", displayName: "G" })
      yield* dir.createGroup(T, { id: "g2" })
      yield* dir.addMember(T, "g1", "u1")
      yield* dir.addMember(T, "g1", "g2")
      assert.strictEqual((yield* Effect.flip(dir.addMember(T, "g1", "u1")))._tag, "MemberAlreadyPresent")
      assert.strictEqual((yield* Effect.flip(dir.addMember(T, "g1", "ghost")))._tag, "EntityNotFound")
      assert.strictEqual((yield* Effect.flip(dir.addMember(T, "ghost", "u1")))._tag, "EntityNotFound")
      const members = yield* dir.members(T, "g1", { limit: 10 })
      assert.deepStrictEqual(members.items.map((m) => m["@odata.type"]), ["#microsoft.graph.group", "#microsoft.graph.user"])
      yield* dir.removeMember(T, "g1", "g2")
      assert.strictEqual((yield* Effect.flip(dir.removeMember(T, "g1", "g2")))._tag, "EntityNotFound")
      const patched = yield* dir.patchUser(T, "u1", { displayName: "Uno", accountEnabled: false })
      assert.strictEqual(patched.displayName, "Uno")
      assert.strictEqual((yield* Effect.flip(dir.patchUser(T, "u1", { id: "other" })))._tag, "InvalidInput")
      assert.strictEqual((yield* Effect.flip(dir.patchUser(T, "u1", { userType: "Robot" })))._tag, "InvalidInput")
      assert.strictEqual((yield* Effect.flip(dir.patchUser(T, "u1", { mail: "x" }, { ifMatch: "W/\"old\"" })))._tag, "PreconditionFailed")
      assert.strictEqual((yield* Effect.flip(dir.patchUser(T, "nobody", {})))._tag, "EntityNotFound")
      assert.strictEqual((yield* Effect.flip(dir.createUser(T, { id: "u1" })))._tag, "EntityAlreadyExists")
      assert.strictEqual((yield* Effect.flip(dir.createGroup(T, { id: "g1" })))._tag, "EntityAlreadyExists")
      // One id space for users and groups: a member is named by its id alone.
      const taken = yield* Effect.flip(dir.createGroup(T, { id: "u2" }))
      assert.deepStrictEqual([taken._tag, taken.message], ["EntityAlreadyExists", "directoryObject 'u2' already exists"])
      assert.strictEqual((yield* Effect.flip(dir.createUser(T, { id: "g2" })))._tag, "EntityAlreadyExists")
      assert.strictEqual((yield* dir.createUser("tenant-other", { id: "g2" })).id, "g2")
      assert.strictEqual((yield* Effect.flip(dir.createGroup(T, { securityEnabled: "yes" })))._tag, "InvalidInput")
      assert.strictEqual((yield* dir.listUsers(T, { limit: 10 })).items.length, 2)
      assert.strictEqual((yield* dir.listGroups(T, { limit: 10 })).items.length, 2)
      assert.strictEqual((yield* dir.getGroup(T, "g1")).displayName, "G")
      assert.strictEqual((yield* dir.getUser(T, "u2")).userType, "Member")
      yield* dir.removeUser(T, "u1")
      yield* dir.removeGroup(T, "g2")
      assert.strictEqual((yield* Effect.flip(dir.removeUser(T, "u1")))._tag, "EntityNotFound")
      assert.strictEqual((yield* Effect.flip(dir.removeGroup(T, "g2")))._tag, "EntityNotFound")
      assert.strictEqual((yield* dir.members(T, "g1", { limit: 10 })).items.length, 0)
    }).pipe(Effect.provide(services)))

  it.effect("lists a group's members through nested groups, each once, cycles included, paged by id", () =>
    Effect.gen(function*() {
      const dir = yield* DirectoryService
      for (const id of ["tu1", "tu2", "tu3"]) yield* dir.createUser(T, { id })
      for (const id of ["tg1", "tg2", "tg3", "tg4"]) yield* dir.createGroup(T, { id })
      // tg1 holds tu1 and tg2; tg2 holds tu2, tu1 and tg3; tg3 holds tg1 (a cycle); tg4 holds tu3 and is not in tg1.
      for (const [g, m] of [["tg1", "tu1"], ["tg1", "tg2"], ["tg2", "tu2"], ["tg2", "tu1"], ["tg2", "tg3"], ["tg3", "tg1"], ["tg4", "tu3"]]) {
        yield* dir.addMember(T, g!, m!)
      }
      const read = yield* dir.transitiveMembers(T, "tg1")
      const all = yield* read({ limit: 10 })
      assert.deepStrictEqual(all.items.map((m) => [m.id, m["@odata.type"]]), [
        ["tg2", "#microsoft.graph.group"],
        ["tg3", "#microsoft.graph.group"],
        ["tu1", "#microsoft.graph.user"],
        ["tu2", "#microsoft.graph.user"]
      ])
      const first = yield* read({ limit: 3 })
      assert.deepStrictEqual([first.items.map((m) => m.id), first.next], [["tg2", "tg3", "tu1"], "tu1"])
      assert.deepStrictEqual((yield* read({ after: "tu1", limit: 3 })).items.map((m) => m.id), ["tu2"])
      // An object removed after the reading is left out of the pages read later.
      yield* dir.removeUser(T, "tu2")
      assert.deepStrictEqual((yield* read({ limit: 10 })).items.map((m) => m.id), ["tg2", "tg3", "tu1"])
      assert.deepStrictEqual((yield* (yield* dir.transitiveMembers(T, "tg4"))({ limit: 10 })).items.map((m) => m.id), ["tu3"])
      assert.strictEqual((yield* Effect.flip(dir.transitiveMembers(T, "tu1")))._tag, "EntityNotFound")
    }).pipe(Effect.provide(services)))

  it.effect("lists the groups an object is in, directly and through nested groups, cycles included", () =>
    Effect.gen(function*() {
      const dir = yield* DirectoryService
      yield* dir.createUser(T, { id: "m" })
      for (const id of ["ga", "gb", "gc", "gd", "ge"]) yield* dir.createGroup(T, { id })
      // m in gb and ga; gb in gc; gc in gd; gd in gb (a cycle); ge holds nothing of m's.
      yield* dir.addMember(T, "gb", "m")
      yield* dir.addMember(T, "ga", "m")
      yield* dir.addMember(T, "gc", "gb")
      yield* dir.addMember(T, "gd", "gc")
      yield* dir.addMember(T, "gb", "gd")
      const ids = (p: { readonly items: ReadonlyArray<{ readonly id: string }> }) => p.items.map((g) => g.id)
      const user = { kind: "user", id: "m" } as const
      /** One page of what `memberOf` read. */
      const page = (member: { readonly kind: "user" | "group"; readonly id: string }, transitive: boolean, p: PageRequest) =>
        Effect.flatMap(dir.memberOf(T, member, transitive), (groupsOf) => groupsOf(p))
      assert.deepStrictEqual(ids(yield* page(user, false, { limit: 10 })), ["ga", "gb"])
      assert.deepStrictEqual(ids(yield* page(user, true, { limit: 10 })), ["ga", "gb", "gc", "gd"])
      // A group in a cycle is never listed among its own groups.
      assert.deepStrictEqual(ids(yield* page({ kind: "group", id: "gb" }, true, { limit: 10 })), ["gc", "gd"])
      assert.deepStrictEqual(ids(yield* page({ kind: "group", id: "gb" }, false, { limit: 10 })), ["gc"])
      assert.deepStrictEqual(ids(yield* page({ kind: "group", id: "ge" }, true, { limit: 10 })), [])
      // Paged by id: every group once, in order, with a next key while more follow.
      const first = yield* page(user, true, { limit: 3 })
      assert.deepStrictEqual([ids(first), first.next], [["ga", "gb", "gc"], "gc"])
      const second = yield* page(user, true, { after: first.next, limit: 3 })
      assert.deepStrictEqual([ids(second), second.next], [["gd"], undefined])
      // The object must exist, as the kind it is named as.
      assert.strictEqual((yield* Effect.flip(page({ kind: "user", id: "ga" }, false, { limit: 10 })))._tag, "EntityNotFound")
      assert.strictEqual((yield* Effect.flip(page({ kind: "group", id: "nope" }, true, { limit: 10 })))._tag, "EntityNotFound")
      // Pages are read from one reading of the memberships: any key continues after itself (a
      // key of another list too), and a group removed since the reading is left out.
      const reading = yield* dir.memberOf(T, user, true)
      assert.deepStrictEqual(ids(yield* reading({ after: "gb0", limit: 10 })), ["gc", "gd"])
      assert.deepStrictEqual(ids(yield* reading({ after: "zz", limit: 10 })), [])
      yield* dir.createGroup(T, { id: "gf" })
      yield* dir.addMember(T, "gf", "m")
      yield* dir.removeGroup(T, "gc")
      assert.deepStrictEqual(ids(yield* reading({ limit: 10 })), ["ga", "gb", "gd"])
      assert.deepStrictEqual(ids(yield* page(user, true, { limit: 10 })), ["ga", "gb", "gf"], "a new reading sees the changes")
      // What targeting reads is the transitive list.
      yield* dir.removeMember(T, "gf", "m")
      yield* dir.removeMember(T, "gb", "m")
      assert.deepStrictEqual(ids(yield* page(user, true, { limit: 10 })), ["ga"])
    }).pipe(Effect.provide(services)))
})

/**
 * The memory store, except that its reads of configurations, groups and users still answer
 * what they held before `vanish` removed one: a removal that lands between a service's check
 * of a parent and its write of the child (another request, another process).
 */
const vanishing = Effect.gen(function*() {
  const store = yield* MemoryStore.make
  const stale = new Map<string, unknown>()
  const remember = <A>(key: string, read: Effect.Effect<Option.Option<A>, StoreUnavailable>) =>
    Effect.map(read, (o) => Option.isSome(o) || !stale.has(key) ? o : Option.some(stale.get(key) as A))
  const vanish = (kind: "configuration" | "group" | "user", id: string) =>
    Effect.gen(function*() {
      const set = kind === "configuration" ? store.configurations : kind === "group" ? store.groups : store.users
      stale.set(`${kind}/${id}`, Option.getOrThrow(yield* (set.get as (t: string, id: string) => Effect.Effect<Option.Option<unknown>>)(T, id)))
      yield* set.remove(T, id)
    })
  const wrapped: Store["Service"] = {
    ...store,
    configurations: { ...store.configurations, get: (t, id) => remember(`configuration/${id}`, store.configurations.get(t, id)) },
    groups: { ...store.groups, get: (t, id) => remember(`group/${id}`, store.groups.get(t, id)) },
    users: { ...store.users, get: (t, id) => remember(`user/${id}`, store.users.get(t, id)) }
  }
  return { wrapped, vanish }
})

describe("a parent removed between the service's check and the child's write", () => {
  const run = <A, E>(
    f: (vanish: (kind: "configuration" | "group" | "user", id: string) => Effect.Effect<void, unknown>) => Effect.Effect<A, E, Assignments | Configurations | DirectoryService | Store>
  ) =>
    Effect.gen(function*() {
      const { vanish, wrapped } = yield* vanishing
      return yield* f(vanish).pipe(Effect.provide(
        Layer.mergeAll(Assignments.layer, Configurations.layer, DirectoryService.layer).pipe(Layer.provideMerge(Layer.succeed(Store, wrapped)))
      ))
    })

  it.effect("answers 404 of the configuration to an assignment's create and to assign, and stores nothing", () =>
    run((vanish) =>
      Effect.gen(function*() {
        const cfgs = yield* Configurations
        const svc = yield* Assignments
        yield* cfgs.create(T, limitCfg("c"))
        yield* vanish("configuration", "c")
        // The service still reads the configuration (the stale read), the store's insert refuses.
        const created = yield* Effect.flip(svc.create(T, Paths.tenant, "c", { id: "a", target: null }))
        assert.deepStrictEqual([created._tag, created.message], ["EntityNotFound", "deviceEnrollmentConfiguration 'c' not found"])
        const assigned = yield* Effect.flip(cfgs.assign(T, "c", { enrollmentConfigurationAssignments: [{ id: "a", target: null }] }))
        assert.deepStrictEqual([assigned._tag, assigned.message], ["EntityNotFound", "deviceEnrollmentConfiguration 'c' not found"])
        yield* cfgs.create(T, limitCfg("c2"))
        assert.strictEqual(yield* svc.count(T, Paths.tenant, "c2"), 0)
      })
    ))

  it.effect("answers 404 of the group or the member to a membership's add, and stores nothing", () =>
    run((vanish) =>
      Effect.gen(function*() {
        const dir = yield* DirectoryService
        yield* dir.createGroup(T, { id: "g" })
        yield* dir.createGroup(T, { id: "h" })
        yield* dir.createUser(T, { id: "u", displayName: "U" })
        yield* dir.createUser(T, { id: "v", displayName: "V" })
        yield* vanish("group", "g")
        const inGone = yield* Effect.flip(dir.addMember(T, "g", "u"))
        assert.deepStrictEqual([inGone._tag, inGone.message], ["EntityNotFound", "group 'g' not found"])
        yield* vanish("user", "v")
        const goneMember = yield* Effect.flip(dir.addMember(T, "h", "v"))
        assert.deepStrictEqual([goneMember._tag, goneMember.message], ["EntityNotFound", "directoryObject 'v' not found"])
        const store = yield* Store
        assert.deepStrictEqual(yield* store.groups.groupsOf(T, ["u", "v"]), [])
      })
    ))
})

describe("If-Match on removals", () => {
  it.effect("removes a configuration, a user or a group only when the ETag matches (a list, weak or not, or *), else refuses and keeps it", () =>
    Effect.gen(function*() {
      yield* world
      const cfgs = yield* Configurations
      const dir = yield* DirectoryService
      const assignments = yield* Assignments
      const stale = 'W/"stale"'
      // A configuration (with its assignments)
      const c0 = yield* cfgs.get(T, "c")
      yield* cfgs.patch(T, "c", { displayName: "changed" })
      const refused = yield* Effect.flip(cfgs.remove(T, "c", { ifMatch: ETag.of(c0) }))
      assert.deepStrictEqual([refused._tag, refused.message], ["PreconditionFailed", "the deviceEnrollmentConfiguration 'c' has changed since the ETag given in If-Match"])
      assert.strictEqual(yield* assignments.count(T, Paths.tenant, "c"), 1, "its assignments are kept")
      const strong = ETag.of(yield* cfgs.get(T, "c")).replace(/^W\//, "")
      yield* cfgs.remove(T, "c", { ifMatch: `${stale}, ${strong}` })
      assert.strictEqual((yield* Effect.flip(cfgs.get(T, "c")))._tag, "EntityNotFound")
      // A user (with its memberships)
      assert.strictEqual((yield* Effect.flip(dir.removeUser(T, "u", { ifMatch: stale })))._tag, "PreconditionFailed")
      assert.deepStrictEqual((yield* (yield* dir.memberOf(T, { kind: "user", id: "u" }, false))({ limit: 10 })).items.map((g) => g.id), ["inner"])
      yield* dir.removeUser(T, "u", { ifMatch: ETag.of(yield* dir.getUser(T, "u")) })
      assert.strictEqual((yield* Effect.flip(dir.getUser(T, "u")))._tag, "EntityNotFound")
      // A group
      assert.strictEqual((yield* Effect.flip(dir.removeGroup(T, "outer", { ifMatch: stale })))._tag, "PreconditionFailed")
      assert.strictEqual((yield* dir.members(T, "outer", { limit: 10 })).items.length, 2, "its members are kept")
      yield* dir.removeGroup(T, "outer", { ifMatch: "*" })
      assert.strictEqual((yield* Effect.flip(dir.getGroup(T, "outer")))._tag, "EntityNotFound")
      // A missing entity is 404 whatever If-Match says
      assert.strictEqual((yield* Effect.flip(dir.removeGroup(T, "outer", { ifMatch: "*" })))._tag, "EntityNotFound")
      assert.strictEqual((yield* Effect.flip(cfgs.remove(T, "c", { ifMatch: stale })))._tag, "EntityNotFound")
    }).pipe(Effect.provide(services)))
})

describe("If-Match and If-None-Match on the configuration's actions (since 0.16.0)", () => {
  /** The ids of configuration c's assignments. */
  const assigned = Effect.flatMap(Assignments, (svc) => Effect.map(svc.list(T, Paths.tenant, "c", { limit: 10 }), (p) => p.items.map((a) => a.id)))
  const replacing = { enrollmentConfigurationAssignments: [{ id: "n1" }] }

  it.effect("assign replaces only when the configuration's ETag meets If-Match and If-None-Match, else refuses and keeps every assignment", () =>
    Effect.gen(function*() {
      yield* world
      const cfgs = yield* Configurations
      const c0 = yield* cfgs.get(T, "c")
      yield* cfgs.patch(T, "c", { displayName: "changed" })
      const tag = ETag.of(yield* cfgs.get(T, "c"))
      // The ETag from before a change, a stale one, a list without the current one.
      for (const ifMatch of [ETag.of(c0), 'W/"stale"', `W/"other", "another"`]) {
        const refused = yield* Effect.flip(cfgs.assign(T, "c", replacing, { ifMatch }))
        assert.deepStrictEqual([refused._tag, refused.message], ["PreconditionFailed", "the deviceEnrollmentConfiguration 'c' has changed since the ETag given in If-Match"], ifMatch)
        assert.deepStrictEqual(yield* assigned, ["a1"], `nothing replaced: ${ifMatch}`)
      }
      for (const conditions of [{ ifNoneMatch: "*" }, { ifNoneMatch: tag }, { ifMatch: tag, ifNoneMatch: tag }]) {
        const refused = yield* Effect.flip(cfgs.assign(T, "c", replacing, conditions))
        assert.strictEqual(refused._tag, "PreconditionFailed")
        assert.strictEqual(refused._tag === "PreconditionFailed" ? refused.header : undefined, "If-None-Match")
        assert.deepStrictEqual(yield* assigned, ["a1"], `nothing replaced: ${JSON.stringify(conditions)}`)
      }
      // The current tag (weak or strong, alone or in a list), *, or an If-None-Match of another tag: replaced.
      yield* cfgs.assign(T, "c", { enrollmentConfigurationAssignments: [{ id: "m1" }] }, { ifMatch: `W/"stale", ${tag.replace(/^W\//, "")}` })
      assert.deepStrictEqual(yield* assigned, ["m1"])
      // The assignments are not in the configuration's ETag: the same tag still matches.
      assert.strictEqual(ETag.of(yield* cfgs.get(T, "c")), tag)
      yield* cfgs.assign(T, "c", { enrollmentConfigurationAssignments: [{ id: "m2" }] }, { ifMatch: tag })
      assert.deepStrictEqual(yield* assigned, ["m2"])
      yield* cfgs.assign(T, "c", { enrollmentConfigurationAssignments: [{ id: "m3" }] }, { ifMatch: "*", ifNoneMatch: `W/"other"` })
      assert.deepStrictEqual(yield* assigned, ["m3"])
      // A missing configuration is 404 whatever the conditions say.
      assert.strictEqual((yield* Effect.flip(cfgs.assign(T, "nope", replacing, { ifMatch: "*" })))._tag, "EntityNotFound")
      assert.strictEqual((yield* Effect.flip(cfgs.assign(T, "nope", replacing, { ifNoneMatch: "*" })))._tag, "EntityNotFound")
    }).pipe(Effect.provide(services)))

  it.effect("setPriority changes the priority only when the configuration's ETag meets If-Match and If-None-Match", () =>
    Effect.gen(function*() {
      yield* world
      const cfgs = yield* Configurations
      const c0 = yield* cfgs.get(T, "c")
      const tag = ETag.of(c0)
      for (const conditions of [{ ifMatch: 'W/"stale"' }, { ifNoneMatch: "*" }, { ifNoneMatch: tag }]) {
        const refused = yield* Effect.flip(cfgs.setPriority(T, "c", { priority: 9 }, conditions))
        assert.strictEqual(refused._tag, "PreconditionFailed", JSON.stringify(conditions))
        assert.deepStrictEqual(yield* cfgs.get(T, "c"), c0, `nothing changed: ${JSON.stringify(conditions)}`)
      }
      yield* cfgs.setPriority(T, "c", { priority: 9 }, { ifMatch: tag })
      const c1 = yield* cfgs.get(T, "c")
      assert.strictEqual(c1.priority, 9)
      assert.notStrictEqual(ETag.of(c1), tag, "a new ETag")
      // The tag from before the change is stale now.
      const stale = yield* Effect.flip(cfgs.setPriority(T, "c", { priority: 1 }, { ifMatch: tag }))
      assert.deepStrictEqual([stale._tag, stale.message], ["PreconditionFailed", "the deviceEnrollmentConfiguration 'c' has changed since the ETag given in If-Match"])
      assert.strictEqual((yield* cfgs.get(T, "c")).priority, 9)
      yield* cfgs.setPriority(T, "c", { priority: 1 }, { ifMatch: "*", ifNoneMatch: tag })
      assert.strictEqual((yield* cfgs.get(T, "c")).priority, 1)
      assert.strictEqual((yield* Effect.flip(cfgs.setPriority(T, "nope", { priority: 1 }, { ifMatch: "*" })))._tag, "EntityNotFound")
    }).pipe(Effect.provide(services)))

  it.effect("assign's If-Match is decided in the store's replacement: a change of the configuration after the service read it refuses it", () =>
    Effect.gen(function*() {
      const store = yield* MemoryStore.make
      // Another writer changes the configuration between the service's read and its write.
      const racing: Store["Service"] = {
        ...store,
        assignments: {
          ...store.assignments,
          replace: (tenant, c, values, check) =>
            Effect.andThen(
              store.configurations.modify(tenant, c, (cfg) => Result.succeed({ ...cfg, version: cfg.version + 1 })),
              store.assignments.replace(tenant, c, values, check)
            )
        }
      }
      yield* Effect.gen(function*() {
        yield* world
        const cfgs = yield* Configurations
        const before = yield* cfgs.get(T, "c")
        const refused = yield* Effect.flip(cfgs.assign(T, "c", replacing, { ifMatch: ETag.of(before) }))
        assert.strictEqual(refused._tag, "PreconditionFailed")
        assert.deepStrictEqual(yield* assigned, ["a1"], "nothing replaced")
        assert.strictEqual((yield* cfgs.get(T, "c")).version, before.version + 1, "the other writer's change is stored")
      }).pipe(Effect.provide(
        Layer.mergeAll(Assignments.layer, Configurations.layer, DirectoryService.layer).pipe(Layer.provideMerge(Layer.succeed(Store, racing)))
      ))
    }))
})
