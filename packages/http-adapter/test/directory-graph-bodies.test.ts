/**
 * The bodies Graph documents and Microsoft's beta SDK writes, over real HTTP
 * (core 0.4.0): a user created with `mailNickname` and `passwordProfile` (the
 * password is never stored or returned), a group with `groupTypes` and
 * `mailEnabled`, an invitation with `invitedUserMessageInfo`, a user PATCH with
 * Graph's other properties, and a configuration PATCH naming the abstract base
 * type (Graph's own update sample). Also checks that core's lists of the
 * properties Graph declares (`DirectoryProperties`) are what the installed SDK's
 * generated models write.
 */
import { DirectoryProperties, MemoryStore, type Store } from "@enrollment/core"
import { GraphSamples } from "@enrollment/core/testing"
import { SqliteStore } from "@enrollment/store-adapter"
import { GraphBetaRequestAdapter } from "@microsoft/msgraph-beta-sdk"
import * as Models from "@microsoft/msgraph-beta-sdk/models/index.js"
import type { Layer } from "effect"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { calls, isEntity, type Serialize } from "./SdkModels.ts"
import { errorOf, start, type TestServer } from "./support.ts"

const G = "#microsoft.graph."

// ----- what the SDK's generated models write ----------------------------------


/** The structural and navigation properties a serializer writes (a navigation property's value is an entity). */
const declared = (serialize: Serialize) => {
  const out = { structural: [] as Array<string>, navigation: [] as Array<string> }
  for (const c of calls(serialize)) {
    if (c.method === "writeAdditionalData" || c.name === "@odata.type") continue
    const entityValued = (c.method === "writeObjectValue" || c.method === "writeCollectionOfObjectValues") && isEntity(c.serializer)
    out[entityValued ? "navigation" : "structural"].push(String(c.name))
  }
  return out
}

const sdkVersion = (): string => {
  const main = fs.realpathSync(createRequire(import.meta.url).resolve("@microsoft/msgraph-beta-sdk"))
  return JSON.parse(fs.readFileSync(path.join(path.dirname(main), "package.json"), "utf8")).version
}

describe("core's lists of the properties Graph declares on directory objects", () => {
  it("are what the installed beta SDK's serializers write, split into structural and navigation properties", () => {
    assert.strictEqual(
      sdkVersion(),
      DirectoryProperties.sdkVersion,
      "the SDK was updated: derive the lists in core's DirectoryProperties.ts again (this test says how) and update sdkVersion there"
    )
    for (const [type, serialize] of [["user", Models.serializeUser], ["group", Models.serializeGroup], ["invitation", Models.serializeInvitation]] as const) {
      const fromSdk = declared(serialize as Serialize)
      assert.deepStrictEqual([...DirectoryProperties[type].structural], fromSdk.structural, `${type} structural`)
      assert.deepStrictEqual([...DirectoryProperties[type].navigation], fromSdk.navigation, `${type} navigation`)
    }
    // The split, on properties whose kind is known from Graph's documentation.
    assert.include(DirectoryProperties.user.structural, "passwordProfile")
    assert.include(DirectoryProperties.user.structural, "onPremisesExtensionAttributes")
    assert.include(DirectoryProperties.user.navigation, "manager")
    assert.include(DirectoryProperties.group.navigation, "members")
    assert.include(DirectoryProperties.invitation.navigation, "invitedUser")
  })
})

// ----- the bodies, over HTTP ----------------------------------------------------

/** A value as the beta SDK serialises it (what `graphServiceClient….post(value)` sends). */
const sdkBody = (serialize: Serialize, value: object): Record<string, unknown> => {
  const adapter = new GraphBetaRequestAdapter({ authenticateRequest: async () => {} })
  const writer = adapter.getSerializationWriterFactory().getSerializationWriter("application/json")
  writer.writeObjectValue(undefined, value, serialize as any)
  return JSON.parse(new TextDecoder().decode(writer.getSerializedContent()))
}

const { createGroup: createGroupSample, createInvitation: createInvitationSample, createUser: createUserSample, password } = GraphSamples

const stores: ReadonlyArray<readonly [string, () => Layer.Layer<Store>]> = [
  ["memory", () => MemoryStore.layer],
  ["SQLite", () => SqliteStore.layer({ filename: path.join(fs.mkdtempSync(path.join(os.tmpdir(), "graph-bodies-")), "store.db") }) as Layer.Layer<Store>]
]

for (const [storeName, layer] of stores) {
  describe(`Graph's documented bodies over HTTP (${storeName} store)`, () => {
    let s: TestServer
    beforeAll(async () => {
      s = await start({ store: layer() })
    })
    afterAll(async () => {
      await s?.close()
    })

    it("creates a user from Graph's sample (mailNickname, passwordProfile): 201, mailNickname kept, the password never returned", async () => {
      const created = await s.request("POST", "users", { body: { id: "u1", ...createUserSample } })
      assert.strictEqual(created.status, 201, created.text)
      assert.strictEqual(created.json.mailNickname, "AdeleV")
      assert.strictEqual(created.json.userPrincipalName, "AdeleV@contoso.com")
      const bySdk = await s.request("POST", "users", {
        body: sdkBody(Models.serializeUser as Serialize, {
          id: "u2",
          accountEnabled: true,
          displayName: "Alex Wilber",
          mailNickname: "AlexW",
          userPrincipalName: "AlexW@contoso.com",
          passwordProfile: { forceChangePasswordNextSignIn: true, password },
          businessPhones: ["+1 425 555 0109"],
          usageLocation: "US"
        } satisfies Models.User)
      })
      assert.strictEqual(bySdk.status, 201, bySdk.text)
      assert.deepStrictEqual(bySdk.json.businessPhones, ["+1 425 555 0109"])
      const reads = [
        created,
        bySdk,
        await s.request("GET", "users/u1"),
        await s.request("GET", "users"),
        await s.request("GET", "users?$select=id,displayName")
      ]
      for (const r of reads) {
        assert.notInclude(r.text, "passwordProfile")
        assert.notInclude(r.text, password)
      }
      assert.strictEqual(reads[2]!.json.mailNickname, "AdeleV")
      assert.deepStrictEqual(reads[3]!.json.value.map((u: any) => u.mailNickname), ["AdeleV", "AlexW"])
    })

    it("creates a group from Graph's sample (groupTypes, mailEnabled, mailNickname): 201, all kept", async () => {
      const created = await s.request("POST", "groups", { body: { id: "g1", ...createGroupSample } })
      assert.strictEqual(created.status, 201, created.text)
      assert.deepInclude(created.json, { ...createGroupSample, id: "g1", "@odata.type": `${G}group` })
      const got = await s.request("GET", "groups/g1")
      assert.deepInclude(got.json, createGroupSample)
      const bySdk = await s.request("POST", "groups", {
        body: sdkBody(Models.serializeGroup as Serialize, { id: "g2", displayName: "Sec", groupTypes: [], mailEnabled: false, mailNickname: "sec", securityEnabled: true } satisfies Models.Group)
      })
      assert.strictEqual(bySdk.status, 201, bySdk.text)
      assert.deepStrictEqual(bySdk.json.groupTypes, [])
      assert.strictEqual(bySdk.json.mailEnabled, false)
    })

    it("selects Graph's other properties with $select, but never the password or a navigation property", async () => {
      await s.request("POST", "users", { body: { id: "sel", ...createUserSample, userPrincipalName: "Sel@contoso.com", mailNickname: "Sel" } })
      const one = await s.request("GET", "users/sel?$select=mailNickname,displayName")
      assert.strictEqual(one.status, 200, one.text)
      assert.deepStrictEqual([one.json.mailNickname, one.json.displayName, one.json.accountEnabled], ["Sel", createUserSample.displayName, undefined])
      const groups = await s.request("GET", "groups?$select=groupTypes,mailEnabled")
      assert.strictEqual(groups.status, 200, groups.text)
      for (const p of ["users/sel?$select=passwordProfile", "users?$select=manager", "groups?$select=members"]) {
        const r = await s.request("GET", p)
        assert.strictEqual(r.status, 400, p)
        assert.include(errorOf(r).message, "is not a property of this resource", p)
      }
    })

    it("invites from Graph's sample with invitedUserMessageInfo: 201, kept on the invitation, not on its user", async () => {
      const created = await s.request("POST", "invitations", { body: { id: "i1", ...createInvitationSample } })
      assert.strictEqual(created.status, 201, created.text)
      assert.deepStrictEqual(created.json.invitedUserMessageInfo, createInvitationSample.invitedUserMessageInfo)
      assert.isUndefined(created.json.invitedUserId)
      const got = await s.request("GET", "invitations/i1")
      assert.deepStrictEqual(got.json.invitedUserMessageInfo, createInvitationSample.invitedUserMessageInfo)
      const user = await s.request("GET", "invitations/i1/invitedUser")
      assert.strictEqual(user.status, 200)
      assert.isUndefined(user.json.invitedUserMessageInfo)
      const bySdk = await s.request("POST", "invitations", {
        body: sdkBody(Models.serializeInvitation as Serialize, {
          id: "i2",
          invitedUserEmailAddress: "b@fabrikam.com",
          inviteRedirectUrl: "https://myapp.contoso.com",
          sendInvitationMessage: true,
          invitedUserMessageInfo: { customizedMessageBody: "Hi" }
        } satisfies Models.Invitation)
      })
      assert.strictEqual(bySdk.status, 201, bySdk.text)
      assert.deepStrictEqual(bySdk.json.invitedUserMessageInfo, { customizedMessageBody: "Hi" })
    })

    it("PATCH /users/{id} merges Graph's other properties; a password change alone changes nothing stored", async () => {
      await s.request("POST", "users", { body: { id: "u3", ...createUserSample, userPrincipalName: "u3@contoso.com", mailNickname: "u3", department: "Sales" } })
      const patched = await s.request("PATCH", "users/u3", {
        body: { jobTitle: "Lead", department: null, passwordProfile: { password: "n3w-Secret!" } }
      })
      assert.strictEqual(patched.status, 200, patched.text)
      assert.strictEqual(patched.json.jobTitle, "Lead")
      assert.strictEqual(patched.json.department, null)
      assert.strictEqual(patched.json.mailNickname, "u3")
      assert.notInclude(patched.text, "passwordProfile")
      const etag = patched.headers.get("etag")
      const again = await s.request("PATCH", "users/u3", { body: sdkBody(Models.serializeUser as Serialize, { passwordProfile: { password: "again-1!" } }) })
      assert.strictEqual(again.status, 200, again.text)
      assert.strictEqual(again.headers.get("etag"), etag)
      assert.notInclude(again.text, "again-1!")
    })

    it("refuses undeclared and navigation properties and @odata.bind with a 400 naming them", async () => {
      const cases: ReadonlyArray<readonly [string, string, unknown, string]> = [
        ["POST", "users", { ...createUserSample, favouriteColour: "blue" }, "favouriteColour: 'favouriteColour' is not a property of user"],
        ["POST", "users", { ...createUserSample, manager: { id: "m" } }, "the navigation property 'manager'"],
        ["POST", "groups", { ...createGroupSample, members: [] }, "the navigation property 'members'"],
        ["POST", "groups", { ...createGroupSample, "members@odata.bind": [`https://graph.microsoft.com/beta/users/u1`] }, "members@odata.bind: expected no @odata.bind annotation"],
        ["POST", "invitations", { ...createInvitationSample, invitedUserSponsors: [] }, "the navigation property 'invitedUserSponsors'"],
        ["PATCH", "users/u1", { memberOf: [] }, "the navigation property 'memberOf'"]
      ]
      for (const [method, p, body, message] of cases) {
        const r = await s.request(method, p, { body })
        assert.strictEqual(r.status, 400, `${method} ${p}: ${r.text}`)
        assert.strictEqual(errorOf(r).code, "BadRequest")
        assert.include(errorOf(r).message, message)
      }
      assert.strictEqual((await s.request("GET", "groups?$count=true")).json["@odata.count"], 2, "nothing was created")
    })

    it("PATCH of a configuration naming the abstract base type (Graph's update sample) answers 200 and keeps the stored type", async () => {
      const cfgs = "deviceManagement/deviceEnrollmentConfigurations"
      const made = await s.request("POST", cfgs, { body: { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: "c1", limit: 3 } })
      assert.strictEqual(made.status, 201, made.text)
      for (const type of [`${G}deviceEnrollmentConfiguration`, "microsoft.graph.deviceEnrollmentConfiguration"]) {
        const r = await s.request("PATCH", `${cfgs}/c1`, { body: { "@odata.type": type, displayName: `x ${type}` } })
        assert.strictEqual(r.status, 200, r.text)
        assert.strictEqual(r.json["@odata.type"], `${G}deviceEnrollmentLimitConfiguration`)
        assert.strictEqual(r.json.displayName, `x ${type}`)
        assert.strictEqual(r.json.limit, 3)
      }
      const bySdk = await s.request("PATCH", `${cfgs}/c1`, {
        body: sdkBody(Models.serializeDeviceEnrollmentConfiguration as Serialize, {
          odataType: `${G}deviceEnrollmentConfiguration`,
          displayName: "Display Name value",
          description: "Description value",
          priority: 8,
          version: 7
        } satisfies Models.DeviceEnrollmentConfiguration)
      })
      assert.strictEqual(bySdk.status, 200, bySdk.text)
      assert.strictEqual(bySdk.json["@odata.type"], `${G}deviceEnrollmentLimitConfiguration`)
      assert.strictEqual(bySdk.json.priority, 8)
      const other = await s.request("PATCH", `${cfgs}/c1`, { body: { "@odata.type": `${G}windowsRestoreDeviceEnrollmentConfiguration`, displayName: "y" } })
      assert.strictEqual(other.status, 400, other.text)
      assert.include(errorOf(other).message, `"${G}windowsRestoreDeviceEnrollmentConfiguration" is not an accepted type`)
      assert.include(errorOf(other).message, `${G}deviceEnrollmentLimitConfiguration`)
      assert.strictEqual((await s.request("GET", `${cfgs}/c1`)).json.displayName, "Display Name value", "nothing changed")
      const create = await s.request("POST", cfgs, { body: { "@odata.type": `${G}deviceEnrollmentConfiguration`, id: "c2" } })
      assert.strictEqual(create.status, 400, create.text)
      assert.include(errorOf(create).message, "is not an accepted type")
    })

    it("lists Graph's other properties of the members of a group", async () => {
      const added = await s.request("POST", "groups/g1/members/$ref", { body: { "@odata.id": `${s.base}/directoryObjects/u1` } })
      assert.strictEqual(added.status, 204, added.text)
      const members = await s.request("GET", "groups/g1/members")
      assert.deepStrictEqual(members.json.value.map((m: any) => m.mailNickname), ["AdeleV"])
      assert.notInclude(members.text, password)
    })
  })
}
