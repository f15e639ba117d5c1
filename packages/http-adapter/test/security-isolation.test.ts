/**
 * Security review of tenant isolation (SPEC 7): for every kind of object and
 * every path family, another tenant's id is answered exactly as a missing id
 * (status, headers, error code, message but for the id), counts never include
 * it, and references to it (a member by `$ref`) fail as for a missing object.
 * Found correct in the review; kept as a regression test.
 */
import { MemoryStore } from "@enrollment/core"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import type { Client } from "../src/index.ts"
import { start, type TestServer } from "./support.ts"

const G = "#microsoft.graph."
const cfgs = "deviceManagement/deviceEnrollmentConfigurations"
const A = { tenant: "tenant-a" }
const B = { tenant: "tenant-b" }

/** What a client can observe of an answer, the id it names replaced by `{id}`. */
const observed = (r: Client.Answer, id: string) => {
  const headers: Record<string, string> = {}
  r.headers.forEach((v, k) => {
    if (!["request-id", "client-request-id", "date", "content-length"].includes(k)) headers[k] = v
  })
  const error = r.json?.error
  return {
    status: r.status,
    headers,
    code: error?.code,
    message: typeof error?.message === "string" ? error.message.replaceAll(id, "{id}") : undefined,
    length: r.text.length - (r.text.split(id).length - 1) * id.length
  }
}

describe("security: tenant isolation", () => {
  let s: TestServer
  beforeAll(async () => {
    s = await start({ store: MemoryStore.layer })
    const ok = async (p: Promise<Client.Answer>, status: number) => {
      const r = await p
      assert.strictEqual(r.status, status, r.text)
    }
    await ok(s.request("POST", cfgs, { ...A, body: { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: "cfg-a" } }), 201)
    await ok(s.request("POST", `${cfgs}/cfg-a/assignments`, { ...A, body: { id: "asg-a", target: { "@odata.type": `${G}allLicensedUsersAssignmentTarget` } } }), 201)
    await ok(s.request("POST", "users", { ...A, body: { id: "usr-a" } }), 201)
    await ok(s.request("POST", "groups", { ...A, body: { id: "grp-a" } }), 201)
    await ok(s.request("POST", "groups/grp-a/members/$ref", { ...A, body: { "@odata.id": "users/usr-a" } }), 204)
    await ok(s.request("POST", "invitations", { ...A, body: { id: "inv-a", invitedUserEmailAddress: "a@example.com", inviteRedirectUrl: "https://example.com" } }), 201)
    await ok(s.request("POST", "groups", { ...B, body: { id: "grp-b" } }), 201)
  })
  afterAll(async () => {
    await s?.close()
  })

  it("answers another tenant's ids exactly as missing ones, on every path family and method", async () => {
    // `{x}` is tenant A's id of that kind; the missing id has the same length.
    const cases: ReadonlyArray<readonly [string, string, string, unknown?]> = [
      ["usr-a", "GET", "users/{x}"],
      ["usr-a", "PATCH", "users/{x}", { displayName: "evil" }],
      ["usr-a", "DELETE", "users/{x}"],
      ["grp-a", "GET", "groups/{x}"],
      ["grp-a", "DELETE", "groups/{x}"],
      ["grp-a", "GET", "groups/{x}/members?$count=true"],
      ["grp-a", "GET", "groups/{x}/members/$count"],
      ["grp-a", "POST", "groups/{x}/members/$ref", { "@odata.id": "users/usr-a" }],
      ["usr-a", "POST", "groups/grp-b/members/$ref", { "@odata.id": "https://graph.microsoft.com/beta/directoryObjects/{x}" }],
      ["usr-a", "DELETE", "groups/grp-a/members/{x}/$ref"],
      ["inv-a", "GET", "invitations/{x}"],
      ["inv-a", "GET", "invitations/{x}/invitedUser"],
      ["inv-a", "GET", "invitations/{x}/invitedUser/deviceEnrollmentConfigurations?$count=true"],
      ["inv-a", "PATCH", `invitations/{x}/invitedUser/${cfgs}/cfg-a/assignments/asg-a`, { sourceId: "evil" }],
      ["usr-a", "GET", "users/{x}/deviceEnrollmentConfigurations/$count"],
      ["usr-a", "GET", `users/{x}/${cfgs}/cfg-a/assignments/asg-a`],
      ["cfg-a", "GET", `${cfgs}/{x}?$expand=assignments`],
      ["cfg-a", "PATCH", `${cfgs}/{x}`, { displayName: "evil" }],
      ["cfg-a", "DELETE", `${cfgs}/{x}`],
      ["cfg-a", "POST", `${cfgs}/{x}/assign`, { enrollmentConfigurationAssignments: [] }],
      ["cfg-a", "POST", `${cfgs}/{x}/setPriority`, { priority: 9 }],
      ["cfg-a", "GET", `${cfgs}/{x}/assignments?$count=true`],
      ["cfg-a", "GET", `${cfgs}/{x}/assignments/$count`],
      ["cfg-a", "POST", `${cfgs}/{x}/assignments`, { target: null }],
      ["cfg-a", "PATCH", `${cfgs}/{x}/assignments/asg-a`, { sourceId: "evil" }],
      ["asg-a", "DELETE", `${cfgs}/cfg-a/assignments/{x}`]
    ]
    for (const [id, method, path, body] of cases) {
      const missing = "zz" + id.slice(2)
      const at = (x: string) => path.replaceAll("{x}", x)
      const withBody = (x: string) => (body === undefined ? {} : { body: JSON.parse(JSON.stringify(body).replaceAll("{x}", x)) })
      const other = await s.request(method, at(id), { ...B, ...withBody(id) })
      const none = await s.request(method, at(missing), { ...B, ...withBody(missing) })
      assert.isAtLeast(other.status, 400, `${method} ${at(id)}: ${other.text}`)
      assert.deepStrictEqual(observed(other, id), observed(none, missing), `${method} ${at(id)}`)
    }
    // Tenant A's objects are as they were.
    assert.strictEqual((await s.request("GET", "groups/grp-a/members/$count", A)).text, "1")
    assert.strictEqual((await s.request("GET", `${cfgs}/cfg-a/assignments/asg-a`, A)).json.sourceId, null)
    assert.strictEqual((await s.request("GET", "users/usr-a", A)).json.displayName, null)
  })

  it("counts and lists only the caller's tenant, and lets it use another tenant's ids as its own", async () => {
    for (const p of ["users/$count", "invitations/$count", `${cfgs}/$count`, "users?$filter=id eq 'usr-a'&$count=true"]) {
      const r = await s.request("GET", p, B)
      assert.strictEqual(r.status, 200, p)
      assert.strictEqual(p.includes("?") ? String(r.json["@odata.count"]) : r.text, "0", p)
    }
    // An id taken in tenant A is free in tenant B: no 409 tells B that it exists elsewhere.
    for (const [p, body] of [
      ["users", { id: "usr-a" }],
      ["invitations", { id: "inv-a", invitedUserEmailAddress: "b@example.com", inviteRedirectUrl: "https://example.com" }],
      [cfgs, { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: "cfg-a" }]
    ] as const) {
      assert.strictEqual((await s.request("POST", p, { ...B, body })).status, 201, p)
    }
  })
})
