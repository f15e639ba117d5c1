/**
 * The invitation family is read with the configurations' permissions, which read no user (SPEC 7).
 * When the invitation's guest user was deleted, its 404 names the segment, not the user: before
 * core 0.9.0 it was `invitedUser '<the guest's id>' not found`, a directory object's id told to a
 * caller that may not read users.
 */
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { errorOf, start, succeeds, type TestServer } from "./support.ts"

const G = "#microsoft.graph."
const readConfigurations = ["DeviceManagementConfiguration.Read.All"]

describe("an invitation whose guest user was deleted", () => {
  let s: TestServer
  let guest: string
  beforeAll(async () => {
    s = await start()
    await succeeds(s, "POST", "invitations", { id: "inv1", invitedUserEmailAddress: "ada@example.com", inviteRedirectUrl: "https://example.com" })
    guest = (await s.request("GET", "invitations/inv1/invitedUser")).json.id
    await succeeds(s, "POST", "deviceManagement/deviceEnrollmentConfigurations", { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: "c1", limit: 1 })
    await succeeds(s, "DELETE", `users/${guest}`, undefined)
  })
  afterAll(() => s.close())

  it("is a 404 naming the invitation's invitedUser segment, never the deleted user's id", async () => {
    for (const path of ["invitations/inv1/invitedUser/deviceEnrollmentConfigurations", "invitations/inv1/invitedUser/deviceEnrollmentConfigurations/c1/assignments"]) {
      const r = await s.request("GET", path, { scopes: readConfigurations })
      assert.strictEqual(r.status, 404, r.text)
      const e = errorOf(r)
      assert.strictEqual(e.code, "itemNotFound")
      assert.strictEqual(e.message, "invitedUser of invitation 'inv1' not found")
      assert.notInclude(r.text, guest)
    }
    // Who may read users reads the invitation's invitedUser itself.
    assert.strictEqual((await s.request("GET", "invitations/inv1/invitedUser", { scopes: readConfigurations })).status, 403)
  })
})
