/**
 * The API description: OpenAPI 3.1 generated from the route table, and the
 * offline /docs page rendered by a headless Chromium (skipped with a note when
 * no Chromium is installed).
 */
import { MemoryStore } from "@enrollment/core"
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { Routes } from "../src/index.ts"
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
    const ops = Object.values(doc.paths).flatMap((p: any) => Object.values(p)) as Array<any>
    // Every route of the table, and JSON batching (not a route: it runs routes).
    assert.strictEqual(ops.length, Routes.routes.length + 1)
    assert.strictEqual(new Set(ops.map((o) => o.operationId)).size, ops.length)
    const seed = doc.paths["/beta/invitations/{invitationId}/invitedUser/deviceEnrollmentConfigurations/{configurationId}/assignments/{assignmentId}"].patch
    assert.ok(seed.requestBody)
    assert.ok(seed.responses["200"].content["application/json"].schema)
    assert.ok(seed.responses["412"])
    assert.ok(seed.responses["204"], "Prefer: return=minimal answers 204")
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
if (chromium === undefined) console.log("headless Chromium check skipped: no /usr/bin/chromium (apt-get install chromium)")
