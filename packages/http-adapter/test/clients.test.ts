/**
 * Microsoft's own clients, unmodified, pointed at the server: the Graph
 * JavaScript client 3.0.7 (over TLS: it sends tokens only to https hosts it
 * knows) and the Kiota-generated beta SDK (its request adapter, models and
 * serialisers; the invitations fluent package).
 */
import { MemoryStore } from "@enrollment/core"
import type { Client } from "@microsoft/microsoft-graph-client"
import { type AuthenticationProvider, HttpMethod, RequestInformation } from "@microsoft/kiota-abstractions"
import { GraphBetaRequestAdapter } from "@microsoft/msgraph-beta-sdk"
import {
  createEnrollmentConfigurationAssignmentCollectionResponseFromDiscriminatorValue,
  createEnrollmentConfigurationAssignmentFromDiscriminatorValue,
  type EnrollmentConfigurationAssignment,
  type EnrollmentConfigurationAssignmentCollectionResponse,
  serializeEnrollmentConfigurationAssignment
} from "@microsoft/msgraph-beta-sdk/models/index.js"
import { createInvitationsServiceClient } from "@microsoft/msgraph-beta-sdk-invitations"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { graphClient, selfSigned, start, type TestServer } from "./support.ts"

const G = "#microsoft.graph."
const cfgs = "deviceManagement/deviceEnrollmentConfigurations"


describe("Microsoft clients", () => {
  let s: TestServer
  let base: string
  let invitedUserId: string
  beforeAll(async () => {
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0"
    s = await start({ store: MemoryStore.layer, tls: selfSigned() })
    base = `https://localhost:${new URL(s.url).port}/beta`
    await s.request("POST", cfgs, { body: { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: "c1" } })
    await s.request("POST", "groups", { body: { id: "g1" } })
    await s.request("POST", `${cfgs}/c1/assignments`, { body: { id: "all", target: { "@odata.type": `${G}allLicensedUsersAssignmentTarget` } } })
  })
  afterAll(async () => {
    await s?.close()
  })

  describe("@microsoft/microsoft-graph-client 3.0.7", () => {
    let client: Client
    beforeAll(async () => {
      const token = await s.token()
      client = graphClient(s, token)
    })
    it("creates an invitation and reads its invited user", async () => {
      const inv = await client.api("/invitations").post({ id: "i1", invitedUserEmailAddress: "g@example.com", inviteRedirectUrl: "https://example.com" })
      assert.strictEqual(inv.status, "PendingAcceptance")
      const user = await client.api("/invitations/i1/invitedUser").get()
      invitedUserId = user.id
      assert.strictEqual(user.userType, "Guest")
    })
    it("creates, lists, gets, patches (seed path, type switch) and deletes assignments", async () => {
      const p = "/invitations/i1/invitedUser/deviceEnrollmentConfigurations/c1/assignments"
      const created = await client.api(p).post({ id: "a1", target: { "@odata.type": "microsoft.graph.groupAssignmentTarget", groupId: "g1" } })
      assert.strictEqual(created.target.groupId, "g1")
      const list = await client.api(p).top(10).count(true).get()
      assert.strictEqual(list["@odata.count"], 2)
      const got = await client.api(`${p}/a1`).select("target").get()
      assert.strictEqual(got.target["@odata.type"], `${G}groupAssignmentTarget`)
      const patched = await client.api(`${p}/a1`).patch({ target: { "@odata.type": `${G}exclusionGroupAssignmentTarget` } })
      assert.deepStrictEqual(patched.target, { "@odata.type": `${G}exclusionGroupAssignmentTarget`, groupId: "g1", deviceAndAppManagementAssignmentFilterId: null, deviceAndAppManagementAssignmentFilterType: "none" })
      const seed = { "@odata.type": `${G}enrollmentConfigurationAssignment`, target: { "@odata.type": "microsoft.graph.deviceAndAppManagementAssignmentTarget" }, source: "String", sourceId: "Source Id value" }
      try {
        await client.api(`${p}/a1`).patch(seed)
        assert.fail("the seed sample body must be refused")
      } catch (e: any) {
        assert.strictEqual(e.statusCode, 400)
        assert.strictEqual(e.code, "BadRequest")
        assert.include(e.message, "policySets")
      }
      const ok = await client.api(`${p}/a1`).patch({ ...seed, source: "direct" })
      assert.strictEqual(ok.sourceId, "Source Id value")
      await client.api(`${cfgs}/c1/assignments/a1`).delete()
      try {
        await client.api(`${cfgs}/c1/assignments/a1`).get()
        assert.fail("deleted")
      } catch (e: any) {
        assert.strictEqual(e.statusCode, 404)
        assert.strictEqual(e.code, "itemNotFound")
      }
    })
    it("adds a member by reference as the client sends it", async () => {
      await client.api("/groups/g1/members/$ref").post({ "@odata.id": `https://graph.microsoft.com/beta/directoryObjects/${invitedUserId}` })
      const members = await client.api("/groups/g1/members").get()
      assert.deepStrictEqual(members.value.map((m: any) => m.id), [invitedUserId])
    })
  })

  describe("Kiota beta SDK (@microsoft/msgraph-beta-sdk)", () => {
    let adapter: GraphBetaRequestAdapter
    beforeAll(async () => {
      const token = await s.token()
      const auth: AuthenticationProvider = {
        authenticateRequest: async (request) => {
          request.headers.tryAdd("Authorization", `Bearer ${token}`)
        }
      }
      adapter = new GraphBetaRequestAdapter(auth)
      adapter.baseUrl = base
    })
    const request = (method: HttpMethod, p: string, body?: EnrollmentConfigurationAssignment) => {
      const info = new RequestInformation(method, `{+baseurl}${p}`)
      info.pathParameters.baseurl = adapter.baseUrl
      info.headers.tryAdd("Accept", "application/json")
      if (body !== undefined) info.setContentFromParsable(adapter, "application/json", body, serializeEnrollmentConfigurationAssignment)
      return info
    }
    const p = "/invitations/i1/invitedUser/deviceEnrollmentConfigurations/c1/assignments"

    it("creates an invitation with the invitations fluent package", async () => {
      const client = createInvitationsServiceClient(adapter)
      const inv = await client.invitations.post({ invitedUserEmailAddress: "k@example.com", inviteRedirectUrl: "https://example.com" })
      assert.strictEqual(inv?.status, "PendingAcceptance")
      assert.ok(inv?.id)
    })
    it("creates, lists, gets, patches with a type switch and deletes on the seed path", async () => {
      const created = await adapter.send<EnrollmentConfigurationAssignment>(
        request(HttpMethod.POST, p, { id: "k1", target: { odataType: `${G}groupAssignmentTarget`, groupId: "g1" } as any, source: "direct" }),
        createEnrollmentConfigurationAssignmentFromDiscriminatorValue,
        undefined
      )
      assert.strictEqual(created?.id, "k1")
      assert.strictEqual(created?.target?.odataType, `${G}groupAssignmentTarget`)
      const list = await adapter.send<EnrollmentConfigurationAssignmentCollectionResponse>(
        request(HttpMethod.GET, p),
        createEnrollmentConfigurationAssignmentCollectionResponseFromDiscriminatorValue,
        undefined
      )
      assert.ok(list?.value?.some((a) => a.id === "k1"))
      const got = await adapter.send<EnrollmentConfigurationAssignment>(request(HttpMethod.GET, `${p}/k1`), createEnrollmentConfigurationAssignmentFromDiscriminatorValue, undefined)
      assert.strictEqual(got?.target?.odataType, `${G}groupAssignmentTarget`)
      // The generated models lose groupId (the upstream bug SPEC 3 names): make sure the store has it.
      if ((await s.request("GET", `${cfgs}/c1/assignments/k1`)).json.target.groupId !== "g1") {
        assert.strictEqual((await s.request("PATCH", `${cfgs}/c1/assignments/k1`, { body: { target: { groupId: "g1" } } })).status, 200)
      }
      // the SDK's group target serialisation may drop groupId; SPEC 3.7 keeps the stored one
      const switched = await adapter.send<EnrollmentConfigurationAssignment>(
        request(HttpMethod.PATCH, `${p}/k1`, { target: { odataType: `${G}exclusionGroupAssignmentTarget`, groupId: "g1" } as any }),
        createEnrollmentConfigurationAssignmentFromDiscriminatorValue,
        undefined
      )
      assert.strictEqual(switched?.target?.odataType, `${G}exclusionGroupAssignmentTarget`)
      const raw = await s.request("GET", `${cfgs}/c1/assignments/k1`)
      assert.strictEqual(raw.json.target.groupId, "g1")
      await adapter.sendNoResponseContent(request(HttpMethod.DELETE, `/${cfgs}/c1/assignments/k1`), undefined)
      assert.strictEqual((await s.request("GET", `${cfgs}/c1/assignments/k1`)).status, 404)
    })
    it("surfaces the service's error as an API error", async () => {
      try {
        await adapter.send<EnrollmentConfigurationAssignment>(request(HttpMethod.GET, `${p}/missing`), createEnrollmentConfigurationAssignmentFromDiscriminatorValue, undefined)
        assert.fail("expected a 404")
      } catch (e: any) {
        assert.strictEqual(e.responseStatusCode, 404)
      }
    })
  })
})
