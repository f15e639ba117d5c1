/**
 * A configuration's actions (`assign`, `setPriority`) are served on the tenant's path family only
 * (SPEC 2); the Graph SDKs' builders offer them under a user's configurations too. Such a request is
 * a 404, as before, and since 0.8.1 its message says where the action is served.
 */
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { errorOf, startWithConfiguration, type TestServer } from "./support.ts"

describe("a configuration's action on another path family", () => {
  let s: TestServer
  beforeAll(async () => {
    s = await startWithConfiguration({ target: { "@odata.type": "#microsoft.graph.allLicensedUsersAssignmentTarget" } })
    const ok = (r: { status: number; text: string }) => assert.strictEqual(r.status, 201, r.text)
    ok(await s.request("POST", "invitations", { body: { id: "i1", invitedUserEmailAddress: "g@fabrikam.com", inviteRedirectUrl: "https://x" } }))
  })
  afterAll(() => s.close())

  it("is a 404 naming where the action is served, and changes nothing", async () => {
    const user = (await s.request("GET", "invitations/i1/invitedUser")).json.id as string
    const bodies = { assign: { enrollmentConfigurationAssignments: [] }, setPriority: { priority: 9 } }
    for (const prefix of [`users/${user}`, "invitations/i1/invitedUser"]) {
      for (const [action, body] of Object.entries(bodies)) {
        const r = await s.request("POST", `${prefix}/deviceEnrollmentConfigurations/c1/${action}`, { body })
        assert.strictEqual(r.status, 404, `${prefix} ${action}`)
        assert.strictEqual(errorOf(r).code, "itemNotFound")
        assert.strictEqual(
          errorOf(r).message,
          `Resource not found for the segment '${action}': ${action} is served on /deviceManagement/deviceEnrollmentConfigurations/{id}/${action} only`
        )
      }
    }
    const c1 = (await s.request("GET", "deviceManagement/deviceEnrollmentConfigurations/c1?$expand=assignments")).json
    assert.strictEqual(c1.priority, 0)
    assert.strictEqual(c1.assignments.length, 1)
    // The configuration's own writes there are 405s naming what the path serves (README, "Microsoft's Graph clients").
    for (const method of ["PATCH", "DELETE"]) {
      const r = await s.request(method, `users/${user}/deviceEnrollmentConfigurations/c1`, method === "PATCH" ? { body: { priority: 3 } } : {})
      assert.strictEqual(r.status, 405, method)
      assert.strictEqual(r.headers.get("allow"), "GET, HEAD", method)
    }
    const post = await s.request("POST", `users/${user}/deviceEnrollmentConfigurations`, { body: {} })
    assert.strictEqual(post.status, 405)
    // Another unknown segment there says nothing more.
    const other = await s.request("POST", `users/${user}/deviceEnrollmentConfigurations/c1/other`, { body: {} })
    assert.strictEqual(errorOf(other).message, "Resource not found for the segment 'other'")
  })
})
