/**
 * The API description: OpenAPI 3.1 generated from the route table, and the
 * offline /docs page rendered by a headless Chromium (skipped with a note when
 * no Chromium is installed).
 */
import { MemoryStore, ODataType } from "@enrollment/core"
import { GraphSamples } from "@enrollment/core/testing"
import SwaggerParser from "@apidevtools/swagger-parser"
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { OpenApi, Routes } from "../src/index.ts"
import { bodyChecker } from "./RequestBodies.ts"
import { start, type TestServer } from "./support.ts"

const chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => fs.existsSync(p))

describe("API description", () => {
  let s: TestServer
  beforeAll(async () => {
    s = await start({ store: MemoryStore.layer })
  })
  afterAll(async () => {
    await s?.close()
  })

  it("describes every route of the table as OpenAPI 3.1, without auth", async () => {
    const r = await s.request("GET", "/beta/openapi.json", { token: null })
    assert.strictEqual(r.status, 200)
    const doc = r.json
    assert.strictEqual(doc.openapi, "3.1.0")
    // The release whose routes it describes.
    const release = JSON.parse(fs.readFileSync(new URL("../package.json", import.meta.url), "utf8")).version
    assert.strictEqual(doc.info.version, release)
    assert.strictEqual(OpenApi.version, release)
    const ops = Object.values(doc.paths).flatMap((p: any) => Object.values(p)) as Array<any>
    // Every route of the table, and JSON batching (not a route: it runs routes).
    assert.strictEqual(ops.length, Routes.routes.length + 1)
    assert.strictEqual(new Set(ops.map((o) => o.operationId)).size, ops.length)
    const seed = doc.paths["/beta/invitations/{invitationId}/invitedUser/deviceEnrollmentConfigurations/{configurationId}/assignments/{assignmentId}"].patch
    assert.ok(seed.requestBody)
    assert.ok(seed.responses["200"].content["application/json"].schema)
    assert.ok(seed.responses["412"])
    assert.ok(seed.responses["204"], "Prefer: return=minimal answers 204")
    // The actions bound to a configuration read If-Match and If-None-Match against its ETag (since 0.18.0).
    const headersOf = (op: any) => op.parameters.filter((p: any) => p.in === "header").map((p: any) => p.name)
    for (const action of ["assign", "setPriority"]) {
      const op = doc.paths[`/beta/deviceManagement/deviceEnrollmentConfigurations/{configurationId}/${action}`].post
      assert.includeMembers(headersOf(op), ["If-Match", "If-None-Match"], action)
      assert.include(op.parameters.find((p: any) => p.name === "If-Match").description, "the entity the action is bound to", action)
      assert.ok(op.responses["412"], `${action}: 412`)
      assert.ok(op.responses["204"], `${action}: 204`)
    }
    const createCfg = doc.paths["/beta/deviceManagement/deviceEnrollmentConfigurations"].post
    assert.notInclude(headersOf(createCfg), "If-Match", "a create has no entity to match")
    assert.notOk(createCfg.responses["412"])
    const create = doc.paths["/beta/deviceManagement/deviceEnrollmentConfigurations/{configurationId}/assignments"].post
    assert.ok(create.responses["201"] && create.responses["204"])
    const count = doc.paths["/beta/deviceManagement/deviceEnrollmentConfigurations/{configurationId}/assignments/$count"].get
    assert.deepStrictEqual(count.parameters.filter((p: any) => p.in === "query").map((p: any) => p.name), ["$filter"])
    const byRef = doc.paths["/beta/groups/{groupId}/members/$ref"].delete
    assert.deepStrictEqual(byRef.parameters.filter((p: any) => p.in === "query").map((p: any) => [p.name, p.required]), [["@id", true]])
    // Type casts: one path each, naming the alias the Graph SDKs send; a cast takes its type's $filter.
    const cast = doc.paths["/beta/groups/{groupId}/members/microsoft.graph.user"].get
    assert.include(cast.description, "/beta/groups/{groupId}/members/graph.user")
    assert.include(cast.parameters.find((p: any) => p.name === "$filter").description, "userPrincipalName")
    assert.notProperty(doc.paths, "/beta/groups/{groupId}/members/graph.user")
    for (const p of ["/beta/users/{userId}/memberOf/microsoft.graph.group/$count", "/beta/groups/{groupId}/transitiveMembers/microsoft.graph.group"]) assert.ok(doc.paths[p]?.get, p)
    const references = doc.paths["/beta/groups/{groupId}/members/$ref"].get
    assert.deepStrictEqual(references.parameters.filter((p: any) => p.in === "query").map((p: any) => p.name), ["$top", "$skiptoken", "$count"])
    assert.deepStrictEqual(Object.keys(references.responses["200"].content["application/json"].schema.properties.value.items), ["$ref"])
    for (const coll of ["/beta/users/$count", "/beta/groups/$count", "/beta/invitations/$count", "/beta/deviceManagement/deviceEnrollmentConfigurations/$count"]) {
      assert.ok(doc.paths[coll]?.get?.responses["200"].content["text/plain"], coll)
    }
    assert.ok(doc.components.schemas.enrollmentConfigurationAssignment)
    assert.ok(doc.components.schemas.groupAssignmentTarget)
    assert.notInclude(JSON.stringify(doc), "#/$defs/")
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!)
    for (const ref of refs) assert.ok(doc.components.schemas[ref], `dangling $ref ${ref}`)
  })

  it("serves /docs as a self-contained page", async () => {
    const r = await s.request("GET", "/docs", { token: null })
    assert.strictEqual(r.status, 200)
    assert.match(r.headers.get("content-type")!, /^text\/html/)
    assert.notMatch(r.text, /<script[^>]+src=|<link[^>]+href="http/)
  })

  it.skipIf(chromium === undefined)("renders every operation in headless Chromium", async () => {
    const dom = await new Promise<string>((resolve, reject) => {
      execFile(chromium!, [
        "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--virtual-time-budget=5000", "--dump-dom", `${s.url}/docs`
      ], { timeout: 60_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout)))
    })
    const ready = /data-ready="(\d+)"/.exec(dom)
    assert.ok(ready, "the page did not finish rendering")
    assert.strictEqual(Number(ready[1]), Routes.routes.length + 1)
    assert.include(dom, "updateAssignmentViaInvitation")
  }, 90_000)
})

/**
 * One request body and what the server answers it: `valid` is whether the served
 * description says it is accepted. A body refused for its shape (an unknown property, a
 * wrong type, a missing required one, an abstract create target) must not validate; one
 * refused only because of the stored state (a target property the stored type lacks, a
 * type the stored configuration is not) validates, and says `state`.
 */
interface Case {
  readonly method: "POST" | "PATCH"
  readonly path: string
  readonly body: unknown
  readonly status: number
  readonly valid: boolean
  readonly what: string
  readonly state?: true
}

const G = "#microsoft.graph."
const cfgs = "deviceManagement/deviceEnrollmentConfigurations"
const seed = "invitations/i1/invitedUser/deviceEnrollmentConfigurations/c1/assignments/a1"
const tenantA = `${cfgs}/c1/assignments`
const abstractTarget = { "@odata.type": "microsoft.graph.deviceAndAppManagementAssignmentTarget" }
const groupG1 = { "@odata.type": `${G}groupAssignmentTarget`, groupId: "g1", deviceAndAppManagementAssignmentFilterId: "f1", deviceAndAppManagementAssignmentFilterType: "include" }

const ok = (method: Case["method"], path: string, status: number, what: string, body: unknown): Case => ({ method, path, body, status, valid: true, what })
const refused = (method: Case["method"], path: string, what: string, body: unknown): Case => ({ method, path, body, status: 400, valid: false, what })
const byState = (method: Case["method"], path: string, what: string, body: unknown): Case => ({ method, path, body, status: 400, valid: true, what, state: true })

/** In order: each case runs on the state the ones before it left. */
const cases: ReadonlyArray<Case> = [
  // README, "Try the seed operation" (and apps/server's README), in its order.
  ok("POST", cfgs, 201, "README: the configuration create", { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: "c1", displayName: "Limit", limit: 5 }),
  ok("POST", "invitations", 201, "README: the invitation create", { id: "i1", invitedUserEmailAddress: "guest@example.com", inviteRedirectUrl: "https://example.com" }),
  ok("POST", tenantA, 201, "README: the assignment create", { id: "a1", target: { "@odata.type": `${G}allLicensedUsersAssignmentTarget` } }),
  ok("PATCH", seed, 200, "README: the seed PATCH (the abstract base type as target)", {
    "@odata.type": `${G}enrollmentConfigurationAssignment`,
    target: abstractTarget,
    source: "direct",
    sourceId: "Source Id value"
  }),
  ok("PATCH", seed, 200, "apps/server README: the seed PATCH without a target", { "@odata.type": `${G}enrollmentConfigurationAssignment`, source: "direct", sourceId: "Source Id value" }),
  refused("PATCH", seed, "the seed page's own sample (source 'String', SPEC 3)", { "@odata.type": `${G}enrollmentConfigurationAssignment`, target: abstractTarget, source: "String", sourceId: "String" }),
  // SPEC 3's rules, through the seed's path.
  ok("PATCH", seed, 200, "SPEC 3.9: {} changes nothing", {}),
  ok("PATCH", seed, 200, "SPEC 3.5: source alone", { source: "policySets" }),
  ok("PATCH", seed, 200, "SPEC 3.6: null for a nullable property", { source: "direct", sourceId: null }),
  ok("PATCH", seed, 200, "SPEC 3.2: annotations are ignored", { "@odata.etag": "W/\"x\"", "sourceId@odata.type": "#String", "@microsoft.graph.tips": "x", sourceId: "s" }),
  ok("PATCH", seed, 200, "SPEC 3.4: id equal to the key", { id: "a1", "@odata.type": "microsoft.graph.enrollmentConfigurationAssignment" }),
  refused("PATCH", seed, "SPEC 3.6: null for source", { source: null }),
  refused("PATCH", seed, "SPEC 3.3: an undeclared property", { nope: 1 }),
  refused("PATCH", seed, "SPEC 3.3: a name with @ that is no annotation", { "x@y": 1 }),
  refused("PATCH", seed, "SPEC 3.2: another entity's @odata.type", { "@odata.type": `${G}user` }),
  refused("PATCH", seed, "SPEC 3.7: a target type that does not exist", { target: { "@odata.type": `${G}somethingElse` } }),
  refused("PATCH", seed, "a target that is not an object", { target: "group" }),
  refused("PATCH", seed, "sourceId of the wrong type", { sourceId: 5 }),
  refused("PATCH", seed, "SPEC 3.7: a property the named type does not declare", { target: { "@odata.type": `${G}groupAssignmentTarget`, collectionId: "c" } }),
  refused("PATCH", seed, "SPEC 3.6: null for the filter type", { target: { deviceAndAppManagementAssignmentFilterType: null } }),
  refused("PATCH", seed, "a filter type that is not one", { target: { deviceAndAppManagementAssignmentFilterType: "sometimes" } }),
  // SPEC 3's worked examples, each from its stored target (put there by a create).
  ...([
    [groupG1, { groupId: "g2" }, 200],
    [groupG1, { "@odata.type": `${G}exclusionGroupAssignmentTarget` }, 200],
    [groupG1, { "@odata.type": "microsoft.graph.allDevicesAssignmentTarget" }, 200],
    [{ "@odata.type": `${G}allDevicesAssignmentTarget` }, { "@odata.type": `${G}groupAssignmentTarget` }, 200],
    [groupG1, { collectionId: "c1" }, 400],
    [null, { groupId: "g1" }, 400],
    [groupG1, { ...abstractTarget, deviceAndAppManagementAssignmentFilterType: "exclude" }, 200]
  ] as const).flatMap(([stored, target, status], i): ReadonlyArray<Case> => [
    ok("POST", tenantA, 201, `SPEC 3's worked example ${i + 1}: its stored target`, { id: `w${i}`, target: stored }),
    status === 200
      ? ok("PATCH", `${tenantA}/w${i}`, 200, `SPEC 3's worked example ${i + 1}`, { target })
      : byState("PATCH", `${tenantA}/w${i}`, `SPEC 3's worked example ${i + 1} (the stored target decides)`, { target })
  ]),
  // Assignment creates (SPEC 2).
  ok("POST", tenantA, 201, "an assignment create with nothing (source direct, target null, a new id)", {}),
  ok("POST", tenantA, 201, "an assignment create without a target", { target: null, source: "policySets", sourceId: "ps1" }),
  refused("POST", tenantA, "SPEC 2: a create naming the abstract target type", { target: abstractTarget }),
  refused("POST", tenantA, "SPEC 2: a create with a target without a type", { target: { groupId: "g1" } }),
  refused("POST", tenantA, "SPEC 2: a create with an unknown property", { source: "direct", bogus: true }),
  // SPEC 2: ids are 1–128 characters, no '/', no control characters (the document's Id pattern).
  refused("POST", tenantA, "SPEC 2: an id with '/'", { id: "a/b" }),
  refused("POST", tenantA, "SPEC 2: an id with a control character", { id: "a\u0001b" }),
  refused("POST", tenantA, "SPEC 2: an id with DEL", { id: "a\u007fb" }),
  refused("POST", `${cfgs}/c1/assign`, "SPEC 2: an assign item's id with '/'", { enrollmentConfigurationAssignments: [{ id: "a/b" }] }),
  refused("PATCH", seed, "a sourceId holding U+0000", { sourceId: "s\u0000x" }),
  refused("PATCH", seed, "a target's groupId holding U+0000", { target: { "@odata.type": `${G}groupAssignmentTarget`, groupId: "g\u0000x" } }),
  refused("POST", "$batch", "a batch with a member it does not declare", { requests: [{ id: "1", method: "GET", url: "/users" }], bogus: 2 }),
  refused("POST", "$batch", "a batch request with a member it does not declare", { requests: [{ id: "1", method: "GET", url: "/users", foo: 1 }] }),
  // Configurations.
  ok("POST", cfgs, 201, "apps/server README: a configuration create without the derived type's properties", { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: "c2", displayName: "Limit" }),
  ok("POST", cfgs, 201, "a configuration create: the other spelling, base and derived properties", {
    "@odata.type": "microsoft.graph.windows10EnrollmentCompletionPageConfiguration",
    priority: 1,
    roleScopeTagIds: ["0"],
    showInstallationProgress: true
  }),
  ok("POST", cfgs, 201, "a configuration create carrying the server's properties (ignored)", {
    "@odata.type": `${G}deviceEnrollmentLimitConfiguration`,
    createdDateTime: "2020-01-01T00:00:00Z",
    lastModifiedDateTime: "2020-01-01T00:00:00Z",
    version: 7
  }),
  refused("POST", cfgs, "a configuration create without @odata.type", { displayName: "x" }),
  refused("POST", cfgs, "a configuration create of the abstract type", { "@odata.type": `${G}deviceEnrollmentConfiguration` }),
  refused("POST", cfgs, "a configuration create with a priority that is not an Int32", { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, priority: "high" }),
  refused("POST", cfgs, "a configuration create with a display name that is not a string", { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, displayName: 5 }),
  refused("POST", cfgs, "a configuration create with inline assignments", { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, assignments: [] }),
  ok("PATCH", `${cfgs}/c1`, 200, "a configuration PATCH of a base and a derived property", { displayName: "Renamed", limit: 7 }),
  ok("PATCH", `${cfgs}/c1`, 200, "Graph's update sample: the abstract type", { "@odata.type": `${G}deviceEnrollmentConfiguration`, priority: 4 }),
  ok("PATCH", `${cfgs}/c1`, 200, "a configuration PATCH setting a nullable property to null", { description: null }),
  ok("PATCH", `${cfgs}/c1`, 200, "a configuration PATCH of nothing", {}),
  refused("PATCH", `${cfgs}/c1`, "a configuration PATCH setting priority to null", { priority: null }),
  refused("PATCH", `${cfgs}/c1`, "a configuration PATCH naming another entity type", { "@odata.type": `${G}user` }),
  refused("PATCH", `${cfgs}/c1`, "a configuration PATCH with roleScopeTagIds not an array", { roleScopeTagIds: "0" }),
  byState("PATCH", `${cfgs}/c1`, "a configuration PATCH naming another derived type (the stored type decides)", { "@odata.type": `${G}windowsRestoreDeviceEnrollmentConfiguration` }),
  // The assign and setPriority actions.
  ok("POST", `${cfgs}/c2/assign`, 204, "apps/cli README: assign nothing", { enrollmentConfigurationAssignments: [] }),
  ok("POST", `${cfgs}/c2/assign`, 204, "assign items without ids", {
    enrollmentConfigurationAssignments: [{ target: { "@odata.type": `${G}allDevicesAssignmentTarget` } }, { source: "policySets", sourceId: "ps" }, {}]
  }),
  refused("POST", `${cfgs}/c2/assign`, "assign without its list", {}),
  refused("POST", `${cfgs}/c2/assign`, "assign with a null list", { enrollmentConfigurationAssignments: null }),
  refused("POST", `${cfgs}/c2/assign`, "assign an item with the abstract target type", { enrollmentConfigurationAssignments: [{ target: abstractTarget }] }),
  refused("POST", `${cfgs}/c2/assign`, "assign an item with an unknown property", { enrollmentConfigurationAssignments: [{ nope: 1 }] }),
  refused("POST", `${cfgs}/c2/assign`, "assign with an unknown parameter", { enrollmentConfigurationAssignments: [], x: 1 }),
  ok("POST", `${cfgs}/c2/setPriority`, 204, "setPriority", { priority: 3 }),
  refused("POST", `${cfgs}/c2/setPriority`, "setPriority without a priority", {}),
  refused("POST", `${cfgs}/c2/setPriority`, "setPriority to null", { priority: null }),
  refused("POST", `${cfgs}/c2/setPriority`, "setPriority to a fraction", { priority: 1.5 }),
  refused("POST", `${cfgs}/c2/setPriority`, "setPriority to a string", { priority: "1" }),
  refused("POST", `${cfgs}/c2/setPriority`, "setPriority with an unknown parameter", { priority: 1, x: 1 }),
  // Invitations.
  ok("POST", "invitations", 201, "Graph's invitation sample", GraphSamples.createInvitation),
  refused("POST", "invitations", "an invitation without its redirect URL", { invitedUserEmailAddress: "a@example.com" }),
  refused("POST", "invitations", "an invitation with a status", { invitedUserEmailAddress: "a@example.com", inviteRedirectUrl: "https://example.com", status: "Completed" }),
  refused("POST", "invitations", "an invitation with a redeem URL", { invitedUserEmailAddress: "a@example.com", inviteRedirectUrl: "https://example.com", inviteRedeemUrl: "https://x" }),
  refused("POST", "invitations", "an invitation with its invited user", { invitedUserEmailAddress: "a@example.com", inviteRedirectUrl: "https://example.com", invitedUser: {} }),
  refused("POST", "invitations", "an invitation to no address", { invitedUserEmailAddress: "nope", inviteRedirectUrl: "https://example.com" }),
  refused("POST", "invitations", "an invitation redirecting to no http URL", { invitedUserEmailAddress: "a@example.com", inviteRedirectUrl: "ftp://example.com" }),
  refused("POST", "invitations", "an invitation with an unknown property", { invitedUserEmailAddress: "a@example.com", inviteRedirectUrl: "https://example.com", x: 1 }),
  // Users.
  ok("POST", "users", 201, "Graph's user sample (a password, write-only)", GraphSamples.createUser),
  ok("POST", "users", 201, "a user create with an id", { id: "u1", displayName: "Ada" }),
  ok("POST", "users", 201, "a user create with nothing", {}),
  ok("POST", "users", 201, "a user create carrying server-set properties", { "@odata.type": "microsoft.graph.user", displayName: "B", createdDateTime: "2020-01-01T00:00:00Z" }),
  refused("POST", "users", "a user type that is not one", { userType: "Admin" }),
  refused("POST", "users", "accountEnabled not a Boolean", { accountEnabled: "yes" }),
  refused("POST", "users", "a navigation property", { memberOf: [] }),
  refused("POST", "users", "an @odata.bind", { "manager@odata.bind": "https://graph.microsoft.com/v1.0/users/u1" }),
  refused("POST", "users", "a property Graph does not declare", { nope: 1 }),
  refused("POST", "users", "another type", { "@odata.type": `${G}group` }),
  ok("PATCH", "users/u1", 200, "a user PATCH of {displayName}", { displayName: "Ada Lovelace" }),
  ok("PATCH", "users/u1", 200, "a user PATCH of Graph's other properties", { jobTitle: "Analyst", onPremisesExtensionAttributes: { extensionAttribute1: "x" } }),
  ok("PATCH", "users/u1", 200, "a user PATCH to null and with its own id", { id: "u1", mail: null }),
  refused("PATCH", "users/u1", "a user PATCH of userType to null", { userType: null }),
  refused("PATCH", "users/u1", "a user PATCH of accountEnabled to null", { accountEnabled: null }),
  ok("POST", "users/u1/deviceEnrollmentConfigurations/c1/assignments", 201, "an assignment create through a user (c1 targets every user)", {
    target: { "@odata.type": `${G}allLicensedUsersAssignmentTarget` }
  }),
  ok("POST", "users", 201, "a user create, for a membership", { id: "u2" }),
  // Groups and members.
  ok("POST", "groups", 201, "Graph's group sample", GraphSamples.createGroup),
  ok("POST", "groups", 201, "a group create", { id: "g1", displayName: "Guests" }),
  refused("POST", "groups", "a group with members", { members: [] }),
  refused("POST", "groups", "a group binding members", { "members@odata.bind": ["https://graph.microsoft.com/v1.0/users/u1"] }),
  refused("POST", "groups", "securityEnabled not a Boolean", { securityEnabled: "no" }),
  ok("POST", "groups/g1/members/$ref", 204, "a member by an absolute URL", { "@odata.id": "https://graph.microsoft.com/beta/directoryObjects/u1" }),
  ok("POST", "groups/g1/members/$ref", 204, "a member by a relative URL", { "@odata.id": "users('u2')" }),
  byState("POST", "groups/g1/members/$ref", "a member already there", { "@odata.id": "directoryObjects/u1" }),
  refused("POST", "groups/g1/members/$ref", "a reference with another member", { "@odata.id": "directoryObjects/u1", "@odata.type": `${G}user` }),
  refused("POST", "groups/g1/members/$ref", "a reference that is not a string", { "@odata.id": 5 }),
  refused("POST", "groups/g1/members/$ref", "no reference", {})
]

describe("API description of request bodies", () => {
  let s: TestServer
  let doc: any
  beforeAll(async () => {
    s = await start({ store: MemoryStore.layer })
    doc = (await s.request("GET", "/beta/openapi.json", { token: null })).json
  })
  afterAll(async () => {
    await s?.close()
  })

  it("serves the document the route table makes (so other tests may check bodies against it)", () => {
    assert.deepStrictEqual(doc, OpenApi.document(Routes.routes, { batch: true }))
  })

  it("is a valid OpenAPI 3.1 document by the specification's own schema, every $ref resolving (as generators read it)", async () => {
    // A copy: the validator dereferences in place.
    const checked = await SwaggerParser.validate(structuredClone(doc)) as { openapi?: string; paths?: Record<string, unknown> }
    assert.strictEqual(checked.openapi, "3.1.0")
    assert.strictEqual(Object.keys(checked.paths ?? {}).length, Object.keys(doc.paths).length)
    // The check can fail: a document with a dangling reference is refused.
    const broken = structuredClone(doc)
    broken.paths["/beta/users"].get.responses["200"].content["application/json"].schema = { $ref: "#/components/schemas/NoSuchSchema" }
    await SwaggerParser.validate(broken).then(
      () => assert.fail("a dangling $ref validated"),
      (e: Error) => assert.match(e.message, /NoSuchSchema/)
    )
  })

  it("validates every body the server accepts, and none it refuses for its shape", async () => {
    const check = bodyChecker(doc)
    const wrong: Array<string> = []
    for (const c of cases) {
      const r = await s.request(c.method, c.path, { body: c.body })
      assert.strictEqual(r.status, c.status, `${c.what}: ${r.text}`)
      const checked = check(c.method, `/${c.path}`, c.body)
      assert.ok(checked, `${c.what}: no request schema for ${c.method} ${c.path}`)
      if ((checked.errors.length === 0) !== c.valid) {
        wrong.push(`${c.what} (${c.method} ${c.path}, answered ${r.status}): ${c.valid ? `does not validate: ${checked.errors.join("; ")}` : "validates"}`)
      }
    }
    assert.deepStrictEqual(wrong, [])
  })

  it("documents the headers a client reads back, and no parameter the server ignores (since 0.8.1)", async () => {
    const coll = "/beta/deviceManagement/deviceEnrollmentConfigurations/{configurationId}/assignments"
    const create = doc.paths[coll].post
    assert.deepStrictEqual(Object.keys(create.responses["201"].headers), ["ETag", "Location"])
    assert.deepStrictEqual(Object.keys(create.responses["204"].headers), ["Preference-Applied", "ETag", "Location", "OData-EntityId"])
    assert.deepStrictEqual(Object.keys(doc.paths[`${coll}/{assignmentId}`].patch.responses["200"].headers), ["ETag"])
    assert.deepStrictEqual(Object.keys(doc.paths[`${coll}/{assignmentId}`].patch.responses["204"].headers), ["Preference-Applied", "ETag"])
    assert.notProperty(doc.paths[coll].get.responses["200"], "headers")
    assert.include(doc.paths[`${coll}/{assignmentId}`].get.responses["200"].description, "With $select")
    // What the server sends for them.
    const cfg = await s.request("POST", "deviceManagement/deviceEnrollmentConfigurations", {
      body: { "@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration", id: "hdr", limit: 1 }
    })
    assert.strictEqual(cfg.status, 201)
    const made = await s.request("POST", "deviceManagement/deviceEnrollmentConfigurations/hdr/assignments", { body: { id: "a" } })
    assert.strictEqual(made.status, 201)
    assert.strictEqual(made.headers.get("etag"), made.json["@odata.etag"])
    assert.isTrue(made.headers.get("location")!.endsWith("/hdr/assignments/a"))
    // A membership reference has no ETag: its DELETE offers no If-Match (nor a 412); `@id` only where the path names no member.
    const keyed = doc.paths["/beta/groups/{groupId}/members/{memberId}/$ref"].delete
    assert.deepStrictEqual(keyed.parameters.map((p: any) => p.name), ["groupId", "memberId"])
    assert.notProperty(keyed.responses, "412")
    const byQuery = doc.paths["/beta/groups/{groupId}/members/$ref"].delete
    assert.deepStrictEqual(byQuery.parameters.map((p: any) => p.name), ["groupId", "@id"])
    assert.notProperty(byQuery.responses, "412")
    assert.property(doc.paths["/beta/groups/{groupId}"].delete.responses, "412")
    // If-None-Match (since 0.15.0): an entity's writes and GET read it, a GET answering 304; a list has no ETag to compare.
    const headerNames = (o: any) => o.parameters.filter((p: any) => p.in === "header").map((p: any) => p.name)
    const seedPath = doc.paths["/beta/invitations/{invitationId}/invitedUser/deviceEnrollmentConfigurations/{configurationId}/assignments/{assignmentId}"]
    assert.includeMembers(headerNames(seedPath.get), ["If-Match", "If-None-Match"])
    assert.property(seedPath.get.responses, "304")
    assert.property(seedPath.get.responses, "412")
    assert.includeMembers(headerNames(seedPath.patch), ["If-Match", "If-None-Match"])
    assert.notProperty(seedPath.patch.responses, "304")
    const list = doc.paths["/beta/deviceManagement/deviceEnrollmentConfigurations/{configurationId}/assignments"].get
    assert.notInclude(headerNames(list), "If-None-Match")
    assert.notProperty(list.responses, "304")
    assert.strictEqual(doc.components.schemas.batchResponseItem.properties.status.type, "integer")
    // Where $expand takes assignments, the answer declares them (an entity's, and a list's items).
    const cfgPath = "/beta/deviceManagement/deviceEnrollmentConfigurations"
    const expanded = doc.paths[`${cfgPath}/{configurationId}`].get.responses["200"].content["application/json"].schema.allOf[1].properties
    assert.strictEqual(expanded.assignments.items.$ref, "#/components/schemas/enrollmentConfigurationAssignment")
    assert.property(expanded, "assignments@odata.nextLink")
    const items = doc.paths[cfgPath].get.responses["200"].content["application/json"].schema.properties.value.items.allOf[1].properties
    assert.deepStrictEqual(Object.keys(items), ["@odata.etag", "assignments", "assignments@odata.nextLink"])
    assert.notProperty(doc.paths[`${coll}/{assignmentId}`].get.responses["200"].content["application/json"].schema.allOf[1].properties, "assignments")
  })

  it("declares what the server answers besides success: error headers, the statuses each operation can give, what a header or option does where (since 0.17.0)", async () => {
    const cfgs = "/beta/deviceManagement/deviceEnrollmentConfigurations"
    const assignment = doc.paths[`${cfgs}/{configurationId}/assignments/{assignmentId}`]
    // A 401 carries WWW-Authenticate, as the server sends it; 429 and 503 Retry-After.
    const denied = await s.request("GET", `deviceManagement/deviceEnrollmentConfigurations`, { token: null })
    assert.strictEqual(denied.status, 401)
    assert.match(denied.headers.get("www-authenticate")!, /^Bearer /)
    for (const op of [assignment.patch, doc.paths["/beta/$batch"].post]) {
      assert.property(op.responses["401"].headers, "WWW-Authenticate")
      assert.property(op.responses["429"].headers, "Retry-After")
      assert.property(op.responses["503"].headers, "Retry-After")
      assert.notProperty(op.responses["400"], "headers")
    }
    // 409 only where a create's id can be taken: a member reference that exists is a 400, assign replaces.
    assert.property(doc.paths[`${cfgs}/{configurationId}/assignments`].post.responses, "409")
    for (const p of ["/beta/groups/{groupId}/members/$ref", `${cfgs}/{configurationId}/assign`, `${cfgs}/{configurationId}/setPriority`]) {
      assert.notProperty(doc.paths[p].post.responses, "409", p)
    }
    // $select names a derived type's property behind a cast only on configurations.
    const selectOf = (op: any) => op.parameters.find((p: any) => p.name === "$select").description as string
    assert.include(selectOf(doc.paths[`${cfgs}/{configurationId}`].get), "microsoft.graph.deviceEnrollmentLimitConfiguration/limit")
    for (const op of [doc.paths["/beta/users"].get, assignment.get]) assert.notInclude(selectOf(op), "microsoft.graph")
    // With $expand the answer holds other entities than its ETag versions: the If- headers say they are not read then.
    const ifMatchOf = (op: any) => op.parameters.find((p: any) => p.name === "If-Match").description as string
    assert.include(ifMatchOf(doc.paths[`${cfgs}/{configurationId}`].get), "not read with $expand")
    assert.notInclude(ifMatchOf(doc.paths[`${cfgs}/{configurationId}`].patch), "$expand")
    assert.notInclude(ifMatchOf(assignment.get), "$expand")
    const stale = await s.request("POST", "deviceManagement/deviceEnrollmentConfigurations", {
      body: { "@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration", id: "exp", limit: 1 }
    })
    assert.strictEqual(stale.status, 201)
    const expandedGet = await s.request("GET", "deviceManagement/deviceEnrollmentConfigurations/exp?$expand=assignments", { headers: { "if-match": `W/"other"` } })
    assert.strictEqual(expandedGet.status, 200)
    const plainGet = await s.request("GET", "deviceManagement/deviceEnrollmentConfigurations/exp", { headers: { "if-match": `W/"other"` } })
    assert.strictEqual(plainGet.status, 412)
    // assign's bound (since 0.17.0): declared, and answered 400 in the error shape past it.
    assert.strictEqual(doc.components.schemas.assignParameters.properties.enrollmentConfigurationAssignments.maxItems, 1000)
    const over = await s.request("POST", "deviceManagement/deviceEnrollmentConfigurations/exp/assign", {
      body: { enrollmentConfigurationAssignments: Array.from({ length: 1001 }, () => ({})) }
    })
    assert.strictEqual(over.status, 400)
    assert.include(over.json.error.message, "at most 1000 assignments")
    // The bounds of the members a schema leaves open, which JSON Schema's {} cannot carry.
    assert.include(doc.info.description, "65536 bytes of JSON text together")
    assert.include(doc.info.description, "64 levels of nesting")
  })

  it("refuses to build a document where a request schema would take an answer's name", () => {
    const seedRoute = Routes.routes.find((r) => r.operationId === "updateAssignmentViaInvitation")!
    // The entity's own schema as a request body renders closed: it would replace the open answer.
    const clash = { ...seedRoute, operationId: "clash", path: "/clash", request: seedRoute.response.schema }
    assert.throws(() => OpenApi.document([seedRoute, clash]), /two schemas are named '\w+'/)
  })

  it("describes writes apart from answers: the entity answered, the body taken", () => {
    const schemas = doc.components.schemas
    const body = (path: string, method: string) => doc.paths[`/beta${path}`][method].requestBody.content["application/json"].schema.$ref
    // An answer's entity, under the annotations every answer adds (allOf, since 0.8.1).
    const answer = (path: string, method: string, status: string) => {
      const schema = doc.paths[`/beta${path}`][method].responses[status].content["application/json"].schema
      assert.deepStrictEqual(Object.keys(schema.allOf[1].properties), ["@odata.etag", "@odata.context"])
      return schema.allOf[0].$ref
    }
    const one = "/deviceManagement/deviceEnrollmentConfigurations/{configurationId}/assignments/{assignmentId}"
    assert.strictEqual(body(one, "patch"), "#/components/schemas/enrollmentConfigurationAssignmentUpdate")
    assert.strictEqual(body(one.replace("/{assignmentId}", ""), "post"), "#/components/schemas/enrollmentConfigurationAssignmentCreate")
    // The answers are the entity's, every member present, as before.
    assert.strictEqual(answer(one, "patch", "200"), "#/components/schemas/enrollmentConfigurationAssignment")
    assert.deepStrictEqual(schemas.enrollmentConfigurationAssignment.required, ["@odata.type", "id", "target", "source", "sourceId"])
    const update = schemas.enrollmentConfigurationAssignmentUpdate
    assert.strictEqual(update.required, undefined)
    assert.strictEqual(update.additionalProperties, false)
    assert.deepStrictEqual(Object.keys(update.patternProperties), [ODataType.annotationPattern])
    assert.include(JSON.stringify(schemas.deviceAndAppManagementAssignmentTargetUpdate), "deviceAndAppManagementAssignmentTargetMerge")
    assert.notInclude(JSON.stringify(schemas.deviceAndAppManagementAssignmentTargetCreate), "deviceAndAppManagementAssignmentTargetMerge")
    // Server-set properties: optional and readOnly; a secret: writeOnly; the invitation's two required members.
    assert.strictEqual(schemas.deviceEnrollmentConfigurationCreate.properties.version.readOnly, true)
    assert.deepStrictEqual(schemas.deviceEnrollmentConfigurationCreate.required, ["@odata.type"])
    assert.strictEqual(schemas.userWrite.properties.createdDateTime.readOnly, true)
    assert.strictEqual(schemas.userWrite.properties.passwordProfile.writeOnly, true)
    assert.deepStrictEqual(schemas.invitationCreate.required, ["invitedUserEmailAddress", "inviteRedirectUrl"])
    // Every pattern avoids the escapes only ECMAScript's u mode reads (`\u{…}`, `\p{…}`): Python's re and
    // other validators refused the reference's whole pattern before 0.8.1.
    const patterns = [...JSON.stringify(doc).matchAll(/"pattern":("(?:[^"\\]|\\.)*")/g)].map((m) => JSON.parse(m[1]!) as string)
    assert.isAtLeast(patterns.length, 4)
    for (const pattern of patterns) assert.notMatch(pattern, /\\[up]\{/, pattern.slice(0, 80))
    assert.notProperty(schemas.invitationCreate.properties, "status")
    // Lengths: the server counts UTF-16 code units, JSON Schema code points; the document says so.
    assert.include(doc.info.description, "UTF-16 code units")
  })
})

if (chromium === undefined) console.log("headless Chromium check skipped: no /usr/bin/chromium (apt-get install chromium)")
