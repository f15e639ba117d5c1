import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Result } from "effect"
import { Directory, DirectoryProperties, DirectoryService, ETag, Json, MemoryStore, Validation } from "../src/index.ts"
import { GraphSamples } from "../src/testing/index.ts"

const services = DirectoryService.layer.pipe(Layer.provideMerge(MemoryStore.layer))
const T = "tenant-1"

const graphUser = GraphSamples.createUser
const graphGroup = GraphSamples.createGroup
const graphInvitation = GraphSamples.createInvitation

const failure = <A>(r: Result.Result<A, { readonly message: string; readonly reason: { readonly _tag: string } }>) => {
  if (Result.isSuccess(r)) return assert.fail(`expected a refusal, got ${JSON.stringify(r.success)}`)
  return r.failure
}

const success = <A>(r: Result.Result<A, { readonly message: string }>) => {
  if (Result.isFailure(r)) return assert.fail(`expected success, got: ${r.failure.message}`)
  return r.success
}

/** A JSON value of `name`'s kind that differs per property, for round trips. */
const sample = (name: string) => ({ name, nested: [1, "two", { three: null, four: true }] })

describe("directory bodies with Graph's other properties", () => {
  it.effect("creates a user from Graph's sample body: keeps mailNickname, never keeps the password", () =>
    Effect.gen(function*() {
      const dir = yield* DirectoryService
      const u = yield* dir.createUser(T, { id: "u1", ...graphUser })
      assert.strictEqual((u as any).mailNickname, "AdeleV")
      assert.isFalse(Object.hasOwn(u, "passwordProfile"))
      const got = yield* dir.getUser(T, "u1")
      assert.deepStrictEqual(got, u)
      assert.notInclude(JSON.stringify(got), "xWwvJ]6NMw+bWH-d")
      assert.notInclude(JSON.stringify((yield* dir.listUsers(T, { limit: 10 })).items), "passwordProfile")
    }).pipe(Effect.provide(services)))

  it.effect("creates a group from Graph's sample body, keeping groupTypes and mailEnabled", () =>
    Effect.gen(function*() {
      const dir = yield* DirectoryService
      const g = yield* dir.createGroup(T, { id: "g1", ...graphGroup })
      assert.deepStrictEqual((g as any).groupTypes, ["Unified"])
      assert.strictEqual((g as any).mailEnabled, true)
      assert.strictEqual(g.mailNickname, "library")
      assert.strictEqual(g.securityEnabled, false)
      assert.deepStrictEqual(yield* dir.getGroup(T, "g1"), g)
      yield* dir.createUser(T, { id: "u1" })
      yield* dir.addMember(T, "g1", "u1")
      yield* dir.createGroup(T, { id: "g2", mailEnabled: false })
      yield* dir.addMember(T, "g2", "g1")
      const members = yield* dir.members(T, "g2", { limit: 10 })
      assert.deepStrictEqual((members.items[0] as any).groupTypes, ["Unified"], "a member group is read with its properties")
    }).pipe(Effect.provide(services)))

  it.effect("creates an invitation keeping invitedUserMessageInfo; its guest user does not take it", () =>
    Effect.gen(function*() {
      const dir = yield* DirectoryService
      const inv = yield* dir.createInvitation(T, { id: "i1", ...graphInvitation, resetRedemption: false }, "https://redeem")
      assert.deepStrictEqual((inv as any).invitedUserMessageInfo, graphInvitation.invitedUserMessageInfo)
      assert.strictEqual((inv as any).resetRedemption, false)
      assert.deepStrictEqual(yield* dir.getInvitation(T, "i1"), inv)
      assert.deepStrictEqual(Directory.invitationView(inv).invitedUserMessageInfo, graphInvitation.invitedUserMessageInfo)
      const guest = yield* dir.invitedUser(T, "i1")
      assert.isFalse(Object.hasOwn(guest, "invitedUserMessageInfo"))
    }).pipe(Effect.provide(services)))

  it("keeps every structural property Graph declares beyond the modelled ones, unchanged", () => {
    const extras = (names: ReadonlyArray<string>) => Object.fromEntries(names.map((n) => [n, sample(n)]))
    // Server-managed ones are accepted and dropped (the next test).
    const kept = (names: ReadonlyArray<string>, managed: ReadonlyArray<string>) => names.filter((n) => !managed.includes(n))
    const u = Directory.makeUser("u", success(Directory.decodeUserCreate(extras(Directory.extraProperties.user))))
    for (const n of kept(Directory.extraProperties.user, DirectoryProperties.serverManaged.user)) assert.deepStrictEqual((u as any)[n], sample(n), n)
    const g = Directory.makeGroup("g", success(Directory.decodeGroupCreate(extras(Directory.extraProperties.group))))
    for (const n of kept(Directory.extraProperties.group, DirectoryProperties.serverManaged.group)) assert.deepStrictEqual((g as any)[n], sample(n), n)
    const { invitation } = Directory.invite(
      success(Directory.decodeInvitationCreate({ ...extras(Directory.extraProperties.invitation), ...graphInvitation, invitedUserMessageInfo: sample("m") })),
      { invitation: "i", user: "u" },
      "https://redeem"
    )
    assert.deepStrictEqual((invitation as any).invitedUserMessageInfo, sample("m"))
    assert.deepStrictEqual((invitation as any).resetRedemption, sample("resetRedemption"))
  })

  it("accepts and drops what Graph sets itself (creation times, sign-in activity, a group's mail), on create and PATCH", () => {
    for (const names of [DirectoryProperties.serverManaged.user, DirectoryProperties.serverManaged.group]) {
      for (const n of names) assert.include([...DirectoryProperties.user.structural, ...DirectoryProperties.group.structural], n, `${n} is declared by Graph`)
    }
    const spoofed = { createdDateTime: "1999-01-01T00:00:00Z", signInActivity: { lastSignInDateTime: "2000-01-01T00:00:00Z" }, securityIdentifier: "S-1-5-fake" }
    const u = Directory.makeUser("u", success(Directory.decodeUserCreate({ ...graphUser, ...spoofed })))
    for (const n of Object.keys(spoofed)) assert.isFalse(Object.hasOwn(u, n), n)
    assert.strictEqual((u as any).mailNickname, graphUser.mailNickname)
    const patched = success(Directory.patchUser(u, { ...spoofed, jobTitle: "Lead" }))
    assert.deepStrictEqual(Object.keys(patched).filter((k) => k in spoofed), [])
    assert.strictEqual((patched as any).jobTitle, "Lead")
    const g = Directory.makeGroup("g", success(Directory.decodeGroupCreate({ ...graphGroup, mail: "x@contoso.com", createdDateTime: "1999-01-01T00:00:00Z" })))
    assert.isFalse(Object.hasOwn(g, "mail"))
    assert.isFalse(Object.hasOwn(g, "createdDateTime"))
  })

  it("bounds Graph's other properties as typed ones are bounded: 4 KiB strings, and 64 KiB of JSON for them all, PATCHes included", () => {
    const long = "x".repeat(Json.maxStringLength + 1)
    const e = failure(Directory.decodeUserCreate({ ...graphUser, onPremisesExtensionAttributes: { extensionAttribute1: long } }))
    assert.strictEqual(e.reason._tag, "ValueInvalid")
    assert.include(e.message, `onPremisesExtensionAttributes.extensionAttribute1: expected ${Json.maxStringExpected}`)
    const chunk = (n: number) => Array.from({ length: 20 }, (_, i) => `${n}-${i}-${"y".repeat(4000)}`)
    const tooMuch = failure(Directory.decodeUserCreate({ ...graphUser, businessPhones: chunk(1), otherMails: chunk(2) }))
    assert.include(tooMuch.message, `within ${Json.maxUntypedBytes} bytes of JSON together`)
    // Each PATCH within the bound, together past it.
    const u = Directory.makeUser("u", success(Directory.decodeUserCreate({ ...graphUser, businessPhones: chunk(1).slice(0, 12) })))
    const added = failure(Directory.patchUser(u, { otherMails: chunk(2).slice(0, 12) }))
    assert.include(added.message, `within ${Json.maxUntypedBytes} bytes of JSON together`)
    // Counted in bytes of UTF-8: 12 × 1 300 "€" is 15 600 code units but about 47 KB, twice that past 64 KiB.
    const euros = Array.from({ length: 12 }, () => "€".repeat(1300))
    success(Directory.decodeUserCreate({ ...graphUser, businessPhones: euros }))
    const wide = failure(Directory.decodeUserCreate({ ...graphUser, businessPhones: euros, otherMails: euros }))
    assert.include(wide.message, `within ${Json.maxUntypedBytes} bytes of JSON together`)
  })

  it("the kept properties are exactly Graph's structural ones, without the modelled, read-only and write-only ones", () => {
    assert.include(Directory.extraProperties.user, "mailNickname")
    assert.include(Directory.extraProperties.group, "groupTypes")
    assert.include(Directory.extraProperties.group, "mailEnabled")
    assert.deepStrictEqual(Directory.extraProperties.invitation, ["invitedUserMessageInfo", "resetRedemption"])
    for (const modelled of ["id", "displayName", "userPrincipalName", "mail", "userType", "accountEnabled", "passwordProfile"]) {
      assert.notInclude(Directory.extraProperties.user, modelled)
    }
    assert.notInclude(Directory.extraProperties.group, "mailNickname")
    assert.strictEqual(
      Directory.extraProperties.user.length,
      DirectoryProperties.user.structural.length - 7,
      "id, the five modelled properties and passwordProfile"
    )
  })

  it("refuses a property Graph does not declare on the type, naming it", () => {
    const e = failure(Directory.decodeUserCreate({ ...graphUser, favouriteColour: "blue" }))
    assert.strictEqual(e.reason._tag, "PropertyUnknown")
    assert.strictEqual(e.message, "favouriteColour: 'favouriteColour' is not a property of user")
    assert.strictEqual(failure(Directory.decodeGroupCreate({ ...graphGroup, jobTitle: "x" })).message, "jobTitle: 'jobTitle' is not a property of group")
    assert.strictEqual(
      failure(Directory.decodeInvitationCreate({ ...graphInvitation, groupTypes: [] })).message,
      "groupTypes: 'groupTypes' is not a property of invitation"
    )
  })

  it("refuses navigation properties with a message naming them", () => {
    const cases: ReadonlyArray<readonly [Result.Result<unknown, any>, string]> = [
      [Directory.decodeUserCreate({ ...graphUser, manager: { id: "m" } }), "manager"],
      [Directory.decodeUserCreate({ memberOf: [] }), "memberOf"],
      [Directory.decodeGroupCreate({ ...graphGroup, members: [{ id: "u1" }] }), "members"],
      [Directory.decodeGroupCreate({ owners: null }), "owners"],
      [Directory.decodeInvitationCreate({ ...graphInvitation, invitedUserSponsors: [{ id: "s" }] }), "invitedUserSponsors"]
    ]
    for (const [r, property] of cases) {
      const e = failure(r)
      assert.strictEqual(e.reason._tag, "ValueInvalid", property)
      assert.match(e.message, new RegExp(`^${property}: .*the navigation property '${property}'`))
    }
    assert.include(failure(Directory.decodeGroupCreate({ members: [] })).message, "POST /groups/{id}/members/$ref")
    const patched = failure(Directory.patchUser(Directory.makeUser("u", success(Directory.decodeUserCreate({}))), { manager: null }))
    assert.include(patched.message, "navigation property 'manager'")
  })

  it("refuses @odata.bind annotations and ignores other annotations", () => {
    const bind = failure(Directory.decodeGroupCreate({ ...graphGroup, "members@odata.bind": ["https://graph.microsoft.com/v1.0/users/u1"] }))
    assert.strictEqual(bind.reason._tag, "ValueInvalid")
    assert.match(bind.message, /^members@odata\.bind: expected no @odata\.bind annotation .*members\/\$ref/)
    assert.include(failure(Directory.decodeUserCreate({ "manager@odata.bind": "https://x/users/m" })).message, "manager@odata.bind")
    const g = success(Directory.decodeGroupCreate({ ...graphGroup, "groupTypes@odata.type": "#Collection(String)", "@odata.etag": "x" }))
    assert.deepStrictEqual((g as any).groupTypes, ["Unified"])
    assert.isFalse(Object.hasOwn(g, "groupTypes@odata.type"))
  })

  it("checks Graph's other properties as JSON values within the nesting limit", () => {
    let deep: unknown = 1
    for (let i = 0; i < 65; i++) deep = [deep]
    const e = failure(Directory.decodeUserCreate({ department: deep }))
    assert.strictEqual(e.message, "department: expected at most 64 levels of nesting, got deeper")
    assert.strictEqual(failure(Directory.decodeUserCreate({ passwordProfile: deep })).reason._tag, "ValueInvalid", "a write-only value is checked too")
    for (const bad of [undefined, Number.NaN, () => 1, new Date(0), { x: undefined }]) {
      assert.strictEqual(failure(Directory.decodeGroupCreate({ groupTypes: bad })).reason._tag, "ValueInvalid", String(bad))
    }
    let ok: unknown = 1
    for (let i = 0; i < 64; i++) ok = [ok]
    assert.deepStrictEqual((success(Directory.decodeUserCreate({ department: ok })) as any).department, ok)
    // SPEC 8: a `__proto__` key inside a kept value stays data, never a prototype.
    const u = Directory.makeUser("u", success(Directory.decodeUserCreate(JSON.parse('{"employeeOrgData":{"__proto__":{"polluted":true}}}'))))
    assert.strictEqual(JSON.stringify((u as any).employeeOrgData), '{"__proto__":{"polluted":true}}')
    assert.strictEqual(Object.getPrototypeOf((u as any).employeeOrgData), Object.prototype)
    assert.strictEqual(failure(Directory.decodeUserCreate(JSON.parse('{"__proto__":{"polluted":true}}'))).reason._tag, "PropertyUnknown")
  })

  it("keeps the modelled properties' types and validation", () => {
    assert.strictEqual(failure(Directory.decodeGroupCreate({ mailNickname: 42 })).reason._tag, "ValueInvalid")
    assert.strictEqual(failure(Directory.decodeGroupCreate({ securityEnabled: null })).reason._tag, "NullNotAllowed")
    assert.strictEqual(failure(Directory.decodeUserCreate({ accountEnabled: "yes" })).reason._tag, "ValueInvalid")
    assert.strictEqual(failure(Directory.decodeUserCreate({ displayName: "x".repeat(4097) })).reason._tag, "ValueInvalid")
    assert.strictEqual(failure(Directory.decodeInvitationCreate({ ...graphInvitation, status: "Completed" })).reason._tag, "PropertyReadOnly")
    assert.strictEqual(failure(Directory.decodeInvitationCreate({ ...graphInvitation, invitedUser: { id: "u" } })).reason._tag, "PropertyReadOnly")
  })

  it.effect("a user PATCH merges Graph's other properties: absent unchanged, present replaces, null sets null, a complex value member by member", () =>
    Effect.gen(function*() {
      const dir = yield* DirectoryService
      const u = yield* dir.createUser(T, {
        id: "u1",
        ...graphUser,
        department: "Sales",
        onPremisesExtensionAttributes: { extensionAttribute1: "a", extensionAttribute2: "b", extensionAttribute3: "c" },
        businessPhones: ["1", "2"]
      })
      const p = yield* dir.patchUser(T, "u1", {
        jobTitle: "Lead",
        department: null,
        onPremisesExtensionAttributes: { extensionAttribute1: "z", extensionAttribute3: null, ["__proto__"]: { polluted: true } },
        businessPhones: ["3"],
        passwordProfile: { password: "n3w-Secret!" }
      })
      assert.strictEqual((p as any).jobTitle, "Lead")
      assert.strictEqual((p as any).department, null)
      assert.isTrue(Object.hasOwn(p, "department"), "null is stored, not a removal")
      // OData 4.01 §11.4.3: a complex value's members merge; null sets a member null; a collection replaces.
      const ext = (p as any).onPremisesExtensionAttributes
      assert.deepStrictEqual(
        [ext.extensionAttribute1, ext.extensionAttribute2, ext.extensionAttribute3],
        ["z", "b", null],
        "a complex value merges member by member"
      )
      assert.isTrue(Object.hasOwn(ext, "__proto__"), "a __proto__ member stays an own property")
      assert.isUndefined(({} as any).polluted)
      assert.deepStrictEqual((p as any).businessPhones, ["3"], "a collection replaces")
      assert.strictEqual((p as any).mailNickname, "AdeleV", "absent: unchanged")
      assert.isFalse(Object.hasOwn(p, "passwordProfile"))
      assert.deepStrictEqual(yield* dir.getUser(T, "u1"), p)
      assert.notStrictEqual(ETag.of(p), ETag.of(u))
      const password = yield* dir.patchUser(T, "u1", { passwordProfile: { password: "again-1!" } })
      assert.strictEqual(ETag.of(password), ETag.of(p), "a password change alone changes nothing stored")
      assert.strictEqual(failure(Directory.patchUser(p, { department: Number.NaN })).reason._tag, "ValueInvalid")
    }).pipe(Effect.provide(services)))
})

describe("the directory schemas (stored values, as the CLI's import decodes them)", () => {
  const decodeUser = Validation.decoder(Directory.User)
  const decodeGroup = Validation.decoder(Directory.Group)
  const decodeInvitation = Validation.decoder(Directory.Invitation)

  it("accept Graph's other properties and refuse undeclared, write-only and navigation ones", () => {
    const u = Directory.makeUser("u", success(Directory.decodeUserCreate({ ...graphUser, department: { any: ["json"] } })))
    assert.deepStrictEqual(success(decodeUser(u)), u)
    assert.strictEqual(failure(decodeUser({ ...u, passwordProfile: { password: "x" } })).reason._tag, "PropertyUnknown")
    assert.strictEqual(failure(decodeUser({ ...u, manager: null })).reason._tag, "PropertyUnknown")
    assert.strictEqual(failure(decodeUser({ ...u, favouriteColour: "x" })).reason._tag, "PropertyUnknown")
    const g = Directory.makeGroup("g", success(Directory.decodeGroupCreate(graphGroup)))
    assert.deepStrictEqual(success(decodeGroup(g)), g)
    assert.strictEqual(failure(decodeGroup({ ...g, members: [] })).reason._tag, "PropertyUnknown")
    const { invitation } = Directory.invite(success(Directory.decodeInvitationCreate(graphInvitation)), { invitation: "i", user: "u" }, "https://r")
    assert.deepStrictEqual(success(decodeInvitation(invitation)), invitation)
    assert.strictEqual(failure(decodeInvitation({ ...invitation, invitedUserSponsors: [] })).reason._tag, "PropertyUnknown")
  })
})
