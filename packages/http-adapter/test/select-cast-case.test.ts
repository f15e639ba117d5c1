/**
 * `$select` of a derived type's property behind its cast, in another case than declared
 * (`microsoft.graph.deviceEnrollmentLimitConfiguration/Limit`), over real HTTP: the property is
 * read as its type declares it (`limit`), as a property without a cast is, in the answer's members
 * and in `@odata.context`'s select list. Before, `Limit` was taken as written: the answer left
 * `limit` out (200, no such member) and the context said `…/Limit`. The declared names are
 * `Routes.derivedConfigurationProperties`, checked here against the installed beta SDK's models.
 */
import { MemoryStore } from "@enrollment/core"
import * as Models from "@microsoft/msgraph-beta-sdk/models/index.js"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { Routes } from "../src/index.ts"
import { calls, isEntity, type Serialize } from "./SdkModels.ts"
import { errorOf, start, type TestServer } from "./support.ts"

const G = "#microsoft.graph."
const cfgs = "deviceManagement/deviceEnrollmentConfigurations"
const limitCast = "microsoft.graph.deviceEnrollmentLimitConfiguration"
const helloCast = "microsoft.graph.deviceEnrollmentWindowsHelloForBusinessConfiguration"

describe("$select of a derived type's property behind its cast, in any case", () => {
  let s: TestServer
  const get = async (path: string) => {
    const r = await s.request("GET", path.replaceAll("#", "%23"))
    assert.strictEqual(r.status, 200, `${path} ${r.text}`)
    return r.json
  }
  const contextOf = (json: any) => (json["@odata.context"] as string).slice(`${s.base}/$metadata#`.length)

  beforeAll(async () => {
    s = await start({ store: MemoryStore.layer })
    const post = async (path: string, body: unknown) => assert.strictEqual((await s.request("POST", path, { body })).status, 201, path)
    await post(cfgs, { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: "c1", displayName: "Limit", priority: 1, limit: 5 })
    await post(cfgs, { "@odata.type": `${G}deviceEnrollmentWindowsHelloForBusinessConfiguration`, id: "c2", priority: 2, pinMinimumLength: 6, state: "enabled" })
    await post(`${cfgs}/c1/assignments`, { id: "a1", target: { "@odata.type": `${G}allLicensedUsersAssignmentTarget` } })
    await post(`${cfgs}/c2/assignments`, { id: "a2", target: { "@odata.type": `${G}allLicensedUsersAssignmentTarget` } })
    await post("users", { id: "u1", displayName: "Ada" })
  })
  afterAll(() => s.close())

  it("reads the property as declared in the answer's members and in @odata.context, on one and on a list", async () => {
    for (const written of ["Limit", "LIMIT", "limit"]) {
      const one = await get(`${cfgs}/c1?$select=${limitCast}/${written}`)
      assert.strictEqual(one.limit, 5, written)
      assert.notProperty(one, written === "limit" ? "Limit" : written)
      assert.strictEqual(contextOf(one), `${cfgs}(${limitCast}/limit)/$entity`, written)
      const list = await get(`${cfgs}?$select=${limitCast}/${written}`)
      assert.deepStrictEqual(list.value.map((c: any) => [c.id, c.limit]), [["c1", 5], ["c2", undefined]], written)
      assert.strictEqual(contextOf(list), `${cfgs}(${limitCast}/limit)`, written)
    }
  })

  it("does so beside names without a cast, with either @odata.type spelling, each name once, and for several types", async () => {
    const mixed = await get(`${cfgs}/c1?$select=DisplayName,#${limitCast}/Limit`)
    assert.deepStrictEqual([mixed.displayName, mixed.limit], ["Limit", 5])
    assert.strictEqual(contextOf(mixed), `${cfgs}(displayName,${limitCast}/limit)/$entity`)
    const twice = await get(`${cfgs}/c1?$select=${limitCast}/limit,#${limitCast}/LIMIT`)
    assert.strictEqual(contextOf(twice), `${cfgs}(${limitCast}/limit)/$entity`)
    const both = await get(`${cfgs}?$select=${limitCast}/Limit,${helloCast}/PinMinimumLength,${helloCast}/STATE`)
    assert.deepStrictEqual(both.value.map((c: any) => [c.id, c.limit, c.pinMinimumLength, c.state]), [
      ["c1", 5, undefined, undefined],
      ["c2", undefined, 6, "enabled"]
    ])
    assert.strictEqual(contextOf(both), `${cfgs}(${limitCast}/limit,${helloCast}/pinMinimumLength,${helloCast}/state)`)
    // A base property behind the cast: the base's declared name, from entities of that type only.
    const base = await get(`${cfgs}?$select=${limitCast}/DisplayName`)
    assert.deepStrictEqual(base.value.map((c: any) => [c.id, c.displayName]), [["c1", "Limit"], ["c2", undefined]])
    assert.strictEqual(contextOf(base), `${cfgs}(${limitCast}/displayName)`)
  })

  it("does so on the paths of a user's configurations too", async () => {
    const list = await get(`users/u1/deviceEnrollmentConfigurations?$select=${limitCast}/Limit`)
    assert.strictEqual(list.value.find((c: any) => c.id === "c1").limit, 5)
    assert.strictEqual(contextOf(list), `users('u1')/deviceEnrollmentConfigurations(${limitCast}/limit)`)
    const one = await get(`users/u1/deviceEnrollmentConfigurations/c1?$select=${limitCast}/LIMIT`)
    assert.strictEqual(one.limit, 5)
    assert.strictEqual(contextOf(one), `users('u1')/deviceEnrollmentConfigurations(${limitCast}/limit)/$entity`)
  })

  it("changes nothing else: a name the type does not declare is taken as written, a malformed one or a cast to no derived type is a 400", async () => {
    // Not declared by Graph, but no unknown property either (SPEC 1.4: a derived type's own properties
    // are kept as sent, unvalidated, so the service declares none of them): a property a client
    // stored under that name is selected behind its cast, and the name is no 400 where none has it.
    const kept = await s.request("POST", cfgs, { body: { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: "c3", limit: 1, nope: "kept" } })
    assert.strictEqual(kept.status, 201, kept.text)
    const selected = await get(`${cfgs}/c3?$select=${limitCast}/nope`)
    assert.deepStrictEqual([selected.nope, selected.limit], ["kept", undefined])
    assert.strictEqual(contextOf(selected), `${cfgs}(${limitCast}/nope)/$entity`)
    const listed = await get(`${cfgs}?$select=${limitCast}/nope`)
    assert.deepStrictEqual(listed.value.map((c: any) => [c.id, c.nope]), [["c1", undefined], ["c2", undefined], ["c3", "kept"]])
    assert.strictEqual((await s.request("DELETE", `${cfgs}/c3`)).status, 204)
    // Not declared (a property kept as a client sent it, SPEC 1.4, or none): as before, taken as written.
    const undeclared = await get(`${cfgs}/c1?$select=${limitCast}/Nope`)
    assert.notProperty(undeclared, "Nope")
    assert.strictEqual(contextOf(undeclared), `${cfgs}(${limitCast}/Nope)/$entity`)
    // Another type's property after this type's cast is not this type's: taken as written, and absent.
    const other = await get(`${cfgs}/c1?$select=microsoft.graph.windowsRestoreDeviceEnrollmentConfiguration/Limit`)
    assert.notProperty(other, "limit")
    assert.strictEqual(contextOf(other), `${cfgs}(microsoft.graph.windowsRestoreDeviceEnrollmentConfiguration/Limit)/$entity`)
    for (const [q, message] of [
      [`${limitCast}/1x`, "does not name a property after its type cast"],
      [`${limitCast}/`, "does not name a property after its type cast"],
      ["microsoft.graph.DeviceEnrollmentLimitConfiguration/limit", "does not name a derived type of this resource"],
      ["microsoft.graph.user/Limit", "does not name a derived type of this resource"],
      // The hint names the types that declare it, as declared (since 0.9.0)
      ["Limit", "it is a property of a derived type: select it behind its type, as microsoft.graph.deviceEnrollmentLimitConfiguration/limit"],
      [
        "platformType",
        "it is a property of 2 derived types: select it behind its type, as microsoft.graph.deviceEnrollmentPlatformRestrictionConfiguration/platformType or microsoft.graph.deviceEnrollmentNotificationConfiguration/platformType"
      ],
      // A navigation property is expanded, not selected behind a cast that would select nothing
      ["assignments", "'assignments' is a navigation property: expand it with $expand=assignments"],
      ["Assignments", "'assignments' is a navigation property: expand it with $expand=assignments"],
      // and behind a cast, a navigation property still (since 0.18.0; before, a 200 selecting nothing)
      [`${limitCast}/assignments`, "'assignments' is a navigation property: expand it with $expand=assignments"],
      [`${limitCast}/ASSIGNMENTS`, "'assignments' is a navigation property: expand it with $expand=assignments"]
    ] as const) {
      const r = await s.request("GET", `${cfgs}/c1?$select=${q}`)
      assert.strictEqual(r.status, 400, q)
      assert.include(errorOf(r).message, message, q)
    }
    // A name no type declares gets no cast to try: behind one it would be taken and select nothing.
    const typo = await s.request("GET", `${cfgs}/c1?$select=bogus`)
    assert.strictEqual(typo.status, 400)
    assert.strictEqual(errorOf(typo).message, "$select: 'bogus' is not a property of this resource")
    // Assignments have no derived types: a cast there is still a 400.
    assert.strictEqual((await s.request("GET", `${cfgs}/c1/assignments/a1?$select=${limitCast}/Limit`)).status, 400)
  })
})

describe("Routes.derivedConfigurationProperties", () => {
  it("is what the installed beta SDK's models declare of each derived configuration type, beside the base type's", () => {
    const baseNames = new Set(calls(Models.serializeDeviceEnrollmentConfiguration as Serialize).map((c) => c.name))
    const serializers: Record<keyof typeof Routes.derivedConfigurationProperties, Serialize> = {
      deviceEnrollmentLimitConfiguration: Models.serializeDeviceEnrollmentLimitConfiguration as Serialize,
      deviceEnrollmentPlatformRestrictionsConfiguration: Models.serializeDeviceEnrollmentPlatformRestrictionsConfiguration as Serialize,
      deviceEnrollmentPlatformRestrictionConfiguration: Models.serializeDeviceEnrollmentPlatformRestrictionConfiguration as Serialize,
      deviceEnrollmentWindowsHelloForBusinessConfiguration: Models.serializeDeviceEnrollmentWindowsHelloForBusinessConfiguration as Serialize,
      windows10EnrollmentCompletionPageConfiguration: Models.serializeWindows10EnrollmentCompletionPageConfiguration as Serialize,
      deviceComanagementAuthorityConfiguration: Models.serializeDeviceComanagementAuthorityConfiguration as Serialize,
      deviceEnrollmentNotificationConfiguration: Models.serializeDeviceEnrollmentNotificationConfiguration as Serialize,
      windowsRestoreDeviceEnrollmentConfiguration: Models.serializeWindowsRestoreDeviceEnrollmentConfiguration as Serialize
    }
    for (const [type, serialize] of Object.entries(serializers)) {
      const own = calls(serialize).filter((c) => !baseNames.has(c.name))
      // Structural properties only (a navigation property's object is an entity): none are navigations today.
      assert.isFalse(own.some((c) => isEntity(c.serializer)), type)
      assert.deepStrictEqual(
        [...Routes.derivedConfigurationProperties[type as keyof typeof serializers]].sort(),
        own.map((c) => String(c.name)).sort(),
        `${type}: the SDK changed; update Routes.derivedConfigurationProperties`
      )
    }
  })
})
