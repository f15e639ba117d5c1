/**
 * JSON batching (`POST /beta/$batch`) on a real server: each request answered
 * as if sent alone, `dependsOn` and 424, a malformed batch refused whole, the
 * batch's token for every request (and each request's own permission), and
 * Microsoft's Graph JavaScript client's `BatchRequestContent` as the client.
 */
import { MemoryStore } from "@enrollment/core"
import { HttpMethod, RequestInformation } from "@microsoft/kiota-abstractions"
import { BatchRequestContent, BatchResponseContent, Client } from "@microsoft/microsoft-graph-client"
import { GraphBetaRequestAdapter } from "@microsoft/msgraph-beta-sdk"
import { createODataErrorFromDiscriminatorValue } from "@microsoft/msgraph-beta-sdk/models/oDataErrors/index.js"
import * as Kiota from "@microsoft/msgraph-sdk-core"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import * as Batch from "../src/Batch.ts"
import * as Root from "../src/index.ts"
import { graphClient, selfSigned, start, type TestServer } from "./support.ts"

const G = "#microsoft.graph."
const cfgs = "deviceManagement/deviceEnrollmentConfigurations"
const limit = { "@odata.type": `${G}deviceEnrollmentLimitConfiguration` }
const allUsers = { "@odata.type": `${G}allLicensedUsersAssignmentTarget` }
const JSON_HEADERS = { "Content-Type": "application/json" }

const byId = (body: any): Record<string, any> => Object.fromEntries(body.responses.map((r: any) => [r.id, r]))

describe("POST /beta/$batch", () => {
  let s: TestServer
  beforeAll(async () => {
    s = await start({ store: MemoryStore.layer })
  })
  afterAll(async () => {
    await s?.close()
  })
  const batch = (requests: ReadonlyArray<Record<string, unknown>>, options: { scopes?: ReadonlyArray<string>; tenant?: string } = {}) =>
    s.request("POST", "$batch", { body: { requests }, ...options })

  it("answers each request as if sent alone, in dependsOn order: create, assign, the seed PATCH, reads and $count", async () => {
    const r = await batch([
      { id: "cfg", method: "POST", url: `/${cfgs}`, headers: JSON_HEADERS, body: { ...limit, id: "b1", priority: 3 } },
      { id: "inv", method: "POST", url: "invitations", headers: JSON_HEADERS, body: { id: "bi", invitedUserEmailAddress: "b@example.com", inviteRedirectUrl: "https://example.com" } },
      { id: "all", method: "POST", url: `/${cfgs}/b1/assignments`, headers: JSON_HEADERS, body: { id: "ba", target: allUsers }, dependsOn: ["cfg"] },
      {
        id: "seed",
        method: "PATCH",
        url: "/beta/invitations/bi/invitedUser/deviceEnrollmentConfigurations/b1/assignments/ba",
        headers: { "content-type": "application/json", Prefer: "return=representation" },
        body: { source: "policySets", sourceId: "p1" },
        dependsOn: ["all", "inv"]
      },
      { id: "count", method: "get", url: `/${cfgs}/b1/assignments/$count`, dependsOn: ["seed"] },
      { id: "one", method: "GET", url: `/${cfgs}/b1/assignments/ba?$select=source,sourceId`, dependsOn: ["seed"] }
    ])
    assert.strictEqual(r.status, 200, r.text)
    assert.deepStrictEqual(r.json.responses.map((x: any) => x.id), ["cfg", "inv", "all", "seed", "count", "one"], "in the order sent")
    const a = byId(r.json)
    assert.deepStrictEqual([a.cfg.status, a.inv.status, a.all.status, a.seed.status, a.count.status, a.one.status], [201, 201, 201, 200, 200, 200])
    assert.strictEqual(a.cfg.headers.Location, `${s.base}/${cfgs}/b1`)
    assert.match(a.seed.headers["Content-Type"], /^application\/json/)
    assert.strictEqual(a.seed.headers.ETag, a.seed.body["@odata.etag"])
    assert.match(a.seed.headers["request-id"], /^[0-9a-f-]{36}$/)
    assert.notProperty(a.seed.headers, "Content-Length")
    assert.deepStrictEqual([a.seed.body.source, a.seed.body.sourceId, a.seed.body.target["@odata.type"]], ["policySets", "p1", `${G}allLicensedUsersAssignmentTarget`])
    // Not JSON: the base64 of its bytes, as Graph writes such a body.
    assert.strictEqual(a.count.body, Buffer.from("1").toString("base64"))
    assert.match(a.count.headers["Content-Type"], /^text\/plain/)
    // The same answer as the request sent alone, and what the batch wrote is there.
    const alone = await s.request("GET", `${cfgs}/b1/assignments/ba?$select=source,sourceId`)
    assert.deepStrictEqual(a.one.body, alone.json)
    assert.deepStrictEqual([alone.json.source, alone.json.sourceId, alone.json["@odata.etag"]], ["policySets", "p1", a.seed.body["@odata.etag"]])
    assert.notProperty(alone.json, "target")
  })

  it("answers 424 for a request whose dependency failed, and runs the others", async () => {
    const r = await batch([
      { id: "bad", method: "POST", url: `/${cfgs}`, headers: JSON_HEADERS, body: { ...limit, id: "b2", priority: "high" } },
      { id: "after", method: "POST", url: `/${cfgs}/b2/assignments`, body: { id: "x", target: allUsers }, dependsOn: ["bad"] },
      { id: "chain", method: "GET", url: `/${cfgs}/b2/assignments/x`, dependsOn: ["after"] },
      { id: "free", method: "POST", url: `/${cfgs}`, body: { ...limit, id: "b3" } }
    ])
    assert.strictEqual(r.status, 200, r.text)
    const a = byId(r.json)
    assert.strictEqual(a.bad.status, 400)
    assert.strictEqual(a.bad.body.error.code, "BadRequest")
    assert.include(a.bad.body.error.message, "priority")
    assert.deepStrictEqual([a.after.status, a.chain.status], [424, 424])
    assert.strictEqual(a.after.body.error.code, "FailedDependency")
    assert.include(a.after.body.error.message, "'bad'")
    assert.include(a.chain.body.error.message, "'after'")
    assert.strictEqual(a.free.status, 201, "a JSON body without Content-Type is JSON")
    assert.strictEqual((await s.request("GET", `${cfgs}/b2`)).status, 404, "nothing of the failed chain was written")
  })

  it("gives a 424 answer ids of its own, as a request sent alone gets, echoing the request's client-request-id", async () => {
    const r = await batch([
      { id: "bad", method: "GET", url: `/${cfgs}/missing-424` },
      { id: "named", method: "GET", url: "/users", headers: { "client-request-id": "mine-1" }, dependsOn: ["bad"] },
      { id: "plain", method: "GET", url: "/users", dependsOn: ["bad"] }
    ], {})
    assert.strictEqual(r.status, 200, r.text)
    const a = byId(r.json)
    assert.deepStrictEqual([a.bad.status, a.named.status, a.plain.status], [404, 424, 424])
    const outer = r.headers.get("request-id")
    const ids = [a.bad, a.named, a.plain].map((x: any) => x.headers["request-id"])
    for (const id of ids) assert.match(id, /^[0-9a-f-]{36}$/)
    assert.strictEqual(new Set([outer, ...ids]).size, 4, "every answer has a request id of its own")
    assert.strictEqual(a.named.headers["client-request-id"], "mine-1")
    assert.strictEqual(a.plain.headers["client-request-id"], a.plain.headers["request-id"])
    assert.strictEqual(a.named.body.error.innerError["request-id"], a.named.headers["request-id"])
    assert.strictEqual(a.named.body.error.innerError["client-request-id"], "mine-1")
  })

  it("logs and counts a 424 as an answer of its own: its request-id, its route, its tenant", async () => {
    const metrics = Root.Metrics.make(Root.Routes.routes)
    const m = await start({ store: MemoryStore.layer, metrics })
    try {
      const r = await m.request("POST", "$batch", {
        tenant: "tenant-424",
        headers: { "user-agent": "batch-agent" },
        body: {
          requests: [
            { id: "bad", method: "DELETE", url: "/groups/missing-424" },
            { id: "next", method: "GET", url: "/users?$top=1", headers: { "user-agent": "step-agent" }, dependsOn: ["bad"] },
            { id: "last", method: "PATCH", url: `/${cfgs}/c1/assignments/a1`, body: {}, headers: JSON_HEADERS, dependsOn: ["next"] },
            { id: "doc", method: "GET", url: "/openapi.json", dependsOn: ["bad"] }
          ]
        }
      })
      const a = byId(r.json)
      assert.deepStrictEqual([a.bad.status, a.next.status, a.last.status, a.doc.status], [404, 424, 424, 424])
      for (const [step, route] of [["next", "GET /beta/users"], ["last", `PATCH /beta/${cfgs}/{configurationId}/assignments/{assignmentId}`], ["doc", "/beta/openapi.json"]] as const) {
        const id = a[step].headers["request-id"]
        const line = m.logs.find((l) => l.requestId === id)
        assert.ok(line !== undefined, `${step}'s request-id ${id} in the log`)
        assert.deepInclude(line, { status: 424, route, tenant: "tenant-424" })
        // Who sent it is the batch's sender, whatever the step's JSON says (since 0.17.0).
        if (step === "next") assert.strictEqual(line.userAgent, "batch-agent")
      }
      const counted = metrics.series().filter((x) => x.statuses.some((st) => st.status === 424))
      assert.deepStrictEqual(
        counted.map((x) => [x.method, x.route, x.statuses.find((st) => st.status === 424)!.count]).sort(),
        [["GET", "/beta/openapi.json", 1], ["GET", "/beta/users", 1], ["PATCH", `/beta/${cfgs}/{configurationId}/assignments/{assignmentId}`, 1]]
      )
    } finally {
      await m.close()
    }
  })

  it("takes a request's body as deep as it could be sent alone (64 levels under the batch's three), and refuses a deeper one whole", async () => {
    const nest = (levels: number): unknown => {
      let v: unknown = 1
      for (let i = 1; i < levels; i++) v = [v]
      return { displayName: v }
    }
    const r = await batch([
      { id: "deep", method: "PATCH", url: "/users/nobody-deep", body: nest(64) },
      { id: "fine", method: "GET", url: "/users" }
    ])
    assert.strictEqual(r.status, 200, r.text)
    const a = byId(r.json)
    // 64 levels (the object and 63 of its value) pass the body's check and reach the route: the user is not there.
    assert.strictEqual(a.deep.status, 404, JSON.stringify(a.deep.body))
    assert.strictEqual(a.fine.status, 200)
    assert.strictEqual((await s.request("PATCH", "users/nobody-deep", { body: nest(64) })).status, 404, "the same body sent alone")
    // A body refused alone makes the batch malformed: one 400, nothing run.
    const deeper = await batch([
      { id: "w", method: "POST", url: "/users", body: { id: "never-deep" } },
      { id: "deeper", method: "PATCH", url: "/users/nobody-deep", body: nest(65) }
    ])
    assert.strictEqual(deeper.status, 400)
    assert.include(deeper.json.error.message, `nested deeper than ${Batch.maxDepth} levels (a batched request's body may nest 64 levels, as sent alone, under the batch's 3)`)
    assert.strictEqual((await s.request("PATCH", "users/nobody-deep", { body: nest(65) })).status, 400, "the same body sent alone")
    assert.strictEqual((await s.request("GET", "users/never-deep")).status, 404, "nothing of the batch ran")
    const alone = await batch([{ id: "w", method: "POST", url: "/users", body: { id: "never-deep" } }])
    assert.strictEqual(byId(alone.json).w.status, 201, "the batch's other request is one that runs")
  })

  it("refuses a malformed batch whole, naming what is wrong, and runs none of it", async () => {
    const write = { id: "w", method: "POST", url: `/${cfgs}`, body: { ...limit, id: "never" } }
    const cases: ReadonlyArray<[unknown, string]> = [
      [{ requests: [write, { ...write, id: "w" }] }, "requests[1].id: 'w' is the id of requests[0] too"],
      [{ requests: [write, { id: "d", method: "GET", url: "/users", dependsOn: ["nope"] }] }, "requests[1].dependsOn: no request of this batch has the id 'nope'"],
      [{ requests: [{ ...write, dependsOn: ["w"] }] }, "requests[0].dependsOn: a request cannot depend on itself"],
      [{ requests: [{ ...write, dependsOn: ["b"] }, { id: "b", method: "GET", url: "/users", dependsOn: ["w"] }] }, "dependsOn goes round in a circle (w → b → w)"],
      [{ requests: [write, { id: "abs", method: "GET", url: "https://graph.microsoft.com/beta/users" }] }, "requests[1].url: expected a URL relative to the version root"],
      [{ requests: [write, { id: "n", method: "POST", url: "/$batch", body: { requests: [] } }] }, "requests[1].url: a batch cannot hold a batch"],
      [{ requests: [write, { id: "m", method: "TRACE", url: "/users" }] }, "requests[1].method: expected one of 'GET', 'POST', 'PATCH', 'PUT', 'DELETE'; got 'TRACE'"],
      [{ requests: [write, { id: "u", method: "GET", url: "/users", atomicityGroup: "g" }] }, "atomicityGroup"],
      [{ requests: [write, { method: "GET", url: "/users" }] }, "requests[1].id"],
      [{ requests: [] }, "requests: a batch needs at least one request"],
      [{ requests: Array.from({ length: 21 }, (_, i) => ({ id: String(i), method: "GET", url: "/users" })) }, "at most 20 requests; got 21"],
      [{ value: [] }, "'value' is not a property"],
      [[write], ""]
    ]
    for (const [body, message] of cases) {
      const r = await s.request("POST", "$batch", { body })
      assert.strictEqual(r.status, 400, JSON.stringify(body).slice(0, 120))
      assert.strictEqual(r.json.error.code, "BadRequest")
      assert.include(r.json.error.message, message)
    }
    assert.strictEqual((await s.request("GET", `${cfgs}/never`)).status, 404)
  })

  it("takes the batch's token for every request, and checks each request's own permission and tenant", async () => {
    const none = await s.request("POST", "$batch", { body: { requests: [{ id: "1", method: "GET", url: "/users" }] }, token: null })
    assert.strictEqual(none.status, 401)
    assert.strictEqual(none.json.error.code, "InvalidAuthenticationToken")
    await s.request("POST", cfgs, { body: { ...limit, id: "b4" } })
    const readOnly = await batch([
      { id: "read", method: "GET", url: `/${cfgs}/b4` },
      // A request's own Authorization header is not its token: the batch's is.
      { id: "write", method: "PATCH", url: `/${cfgs}/b4`, headers: { Authorization: `Bearer ${await s.token()}` }, body: { displayName: "x" } }
    ], { scopes: ["DeviceManagementServiceConfig.Read.All"] })
    const a = byId(readOnly.json)
    assert.strictEqual(a.read.status, 200)
    assert.strictEqual(a.write.status, 403)
    assert.strictEqual(a.write.body.error.code, "Authorization_RequestDenied")
    const other = await batch([{ id: "x", method: "GET", url: `/${cfgs}/b4` }], { tenant: "tenant-b" })
    assert.strictEqual(byId(other.json).x.status, 404, "another tenant's object is missing to it")
  })

  it("answers the batch's own errors in the Graph shape: wrong method, not JSON, unknown id forms", async () => {
    const get = await s.request("GET", "$batch")
    assert.strictEqual(get.status, 405)
    assert.strictEqual(get.json.error.code, "MethodNotAllowed")
    const text = await s.request("POST", "$batch", { raw: "{}", headers: { "content-type": "text/plain" } })
    assert.strictEqual(text.status, 415)
    const malformed = await s.request("POST", "$batch", { raw: "{", headers: { "content-type": "application/json" } })
    assert.strictEqual(malformed.status, 400)
    assert.include(malformed.json.error.message, "not valid JSON")
  })

  it("passes a base64 body of another type to the request as bytes (refused here as not JSON)", async () => {
    const r = await batch([
      { id: "t", method: "POST", url: `/${cfgs}`, headers: { "Content-Type": "text/plain" }, body: Buffer.from("hello").toString("base64") },
      { id: "j", method: "POST", url: `/${cfgs}`, headers: { "Content-Type": "application/json" }, body: { ...limit, id: "b5" } }
    ])
    const a = byId(r.json)
    assert.strictEqual(a.t.status, 415)
    assert.strictEqual(a.t.body.error.code, "UnsupportedMediaType")
    assert.strictEqual(a.j.status, 201)
  })

  it("counts each request against the caller's rate limit", async () => {
    const limited = await start({ store: MemoryStore.layer, rateLimit: { ratePerSecond: 0.001, burst: 3 } })
    try {
      const r = await limited.request("POST", "$batch", {
        body: { requests: ["1", "2", "3"].map((id) => ({ id, method: "GET", url: "/users" })) }
      })
      assert.strictEqual(r.status, 200, r.text)
      const statuses = r.json.responses.map((x: any) => x.status)
      // The batch took one token, two requests the others, the third is refused with Retry-After.
      assert.deepStrictEqual(statuses, [200, 200, 429])
      assert.match(r.json.responses[2].headers["Retry-After"], /^\d+$/)
    } finally {
      await limited.close()
    }
  })

  it("logs each request of a batch as its own line, and the batch as one", async () => {
    const before = s.logs.length
    await batch([{ id: "1", method: "GET", url: "/users" }, { id: "2", method: "GET", url: "/groups" }])
    const lines = s.logs.slice(before).map((l) => `${l.route} ${l.status}`)
    assert.sameMembers(lines, ["GET /beta/users 200", "GET /beta/groups 200", "POST /beta/$batch 200"])
  })

  it("is described in the OpenAPI document", async () => {
    const doc = await s.request("GET", "openapi.json", { token: null })
    const op = doc.json.paths["/beta/$batch"].post
    assert.strictEqual(op.operationId, "batch")
    assert.deepStrictEqual(Object.keys(op.responses).sort(), ["200", "400", "401", "413", "415", "429", "503"])
    assert.strictEqual(doc.json.components.schemas.batchRequestItem.type, "object")
    assert.include(op.description, `at most ${Batch.maxRequests} requests`)
  })
})

describe("the Graph JavaScript client's BatchRequestContent (3.0.7)", () => {
  let s: TestServer
  let client: Client
  let base: string
  beforeAll(async () => {
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0"
    s = await start({ store: MemoryStore.layer, tls: selfSigned() })
    base = `https://localhost:${new URL(s.url).port}/beta`
    const token = await s.token()
    client = graphClient(s, token)
    await s.request("POST", cfgs, { body: { ...limit, id: "c1" } })
    await s.request("POST", `${cfgs}/c1/assignments`, { body: { id: "a1", target: { "@odata.type": `${G}groupAssignmentTarget`, groupId: "g1" } } })
  })
  afterAll(async () => {
    await s?.close()
  })

  it("sends a PATCH and a GET that depends on it, and reads both answers as Responses", async () => {
    const content = new BatchRequestContent([
      {
        id: "patch",
        request: new Request(`${base}/${cfgs}/c1/assignments/a1`, {
          method: "PATCH",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ target: { "@odata.type": `${G}exclusionGroupAssignmentTarget` } })
        })
      },
      { id: "get", request: new Request(`${base}/${cfgs}/c1/assignments`, { method: "GET" }), dependsOn: ["patch"] },
      // The client accepts serial chains (each request on the one before) or one shared dependency.
      { id: "missing", request: new Request(`${base}/${cfgs}/nope`, { method: "GET" }), dependsOn: ["get"] }
    ])
    const answer = new BatchResponseContent(await client.api("/$batch").post(await content.getContent()))
    const patched: Response = answer.getResponseById("patch")
    assert.strictEqual(patched.status, 200)
    assert.deepStrictEqual(((await patched.json()) as any).target, {
      "@odata.type": `${G}exclusionGroupAssignmentTarget`,
      deviceAndAppManagementAssignmentFilterId: null,
      deviceAndAppManagementAssignmentFilterType: "none",
      groupId: "g1"
    })
    const listed: any = await answer.getResponseById("get").json()
    assert.deepStrictEqual(listed.value.map((a: any) => a.target["@odata.type"]), [`${G}exclusionGroupAssignmentTarget`])
    const missing: Response = answer.getResponseById("missing")
    assert.strictEqual(missing.status, 404)
    assert.strictEqual(((await missing.json()) as any).error.code, "itemNotFound")
  })
})

describe("Kiota's BatchRequestBuilder (msgraph-sdk-core)", () => {
  let s: TestServer
  beforeAll(async () => {
    s = await start({ store: MemoryStore.layer })
    await s.request("POST", cfgs, { body: { ...limit, id: "c1" } })
    for (const id of ["a1", "a2", "a3"]) {
      await s.request("POST", `${cfgs}/c1/assignments`, { body: { id, target: { "@odata.type": `${G}allDevicesAssignmentTarget` } } })
    }
  })
  afterAll(async () => {
    await s?.close()
  })

  it("reads a $count's answer, which is not JSON, as the bytes of its text: sent as base64, as Graph sends it", async () => {
    const token = await s.token()
    const adapter = new GraphBetaRequestAdapter({
      authenticateRequest: async (request) => {
        request.headers.tryAdd("Authorization", `Bearer ${token}`)
      }
    })
    adapter.baseUrl = `${s.url}/beta`
    const count = new RequestInformation(HttpMethod.GET, `{+baseurl}/${cfgs}/c1/assignments/$count`)
    count.pathParameters.baseurl = adapter.baseUrl
    count.headers.tryAdd("Accept", "text/plain;q=0.9")
    const content = new Kiota.BatchRequestContent(adapter, { XXX: createODataErrorFromDiscriminatorValue })
    content.addBatchRequest(count, "n")
    const answer = await new Kiota.BatchRequestBuilder(adapter, { XXX: createODataErrorFromDiscriminatorValue }).postBatchResponseContentAsync(content)
    const n = answer?.getResponseById("n")
    assert.strictEqual(n?.status, 200)
    assert.strictEqual(new TextDecoder().decode(n!.body!), "3", "the count, not the bytes of its text read as base64")
  })
})

describe("the Batch module", () => {
  it("is exported from the package's root, as the README's module table has it", () => {
    assert.strictEqual(Root.Batch, Batch)
    assert.strictEqual(Root.Batch.maxRequests, 20)
    assert.strictEqual(Root.Batch.maxHeadBytes, Batch.maxHeadBytes)
  })
})

describe("Batch.run and Batch.runText", () => {
  const step = (id: string, dependsOn: ReadonlyArray<string> = []): Batch.Step =>
    ({ id, method: "GET", target: `/beta/users/${id}`, headers: {}, body: undefined, dependsOn })
  const steps = [step("1"), step("2"), step("3", ["1"]), step("4")]
  const answered = (id: string): Batch.Written => ({
    status: 200,
    headers: { "content-type": "application/json; charset=utf-8", "request-id": `r${id}` },
    text: `{"id":"${id}","\\u00e9":[1.50,{"k":null}]}`
  })
  const failedDependency = (): Batch.Written => ({ status: 424, headers: {}, text: "" })

  it("dispatches each step in an iteration of the event loop of its own, so other connections are served between them", async () => {
    // An iteration counter: one setImmediate a turn, as long as the batch runs.
    let turn = 0
    let running = true
    const count = () => {
      turn++
      if (running) setImmediate(count)
    }
    setImmediate(count)
    const seen: Array<number> = []
    await Batch.run(steps, async (s) => {
      seen.push(turn)
      return answered(s.id)
    }, failedDependency)
    running = false
    assert.lengthOf(seen, 4)
    assert.deepStrictEqual(new Set(seen).size, 4, `the turns the steps ran in: ${seen.join(", ")}`)
  })

  it("writes the answer's text with each JSON body as its step wrote it, the same JSON as run's answers", async () => {
    const dispatch = async (s: Batch.Step) => (s.id === "2" ? { status: 204, headers: { "request-id": "r2" }, text: "" } : answered(s.id))
    const text = await Batch.runText(steps, dispatch, failedDependency)
    const items = await Batch.run(steps, dispatch, failedDependency)
    assert.deepStrictEqual(JSON.parse(text), { responses: items })
    assert.include(text, `"body":{"id":"1","\\u00e9":[1.50,{"k":null}]}`, "the body's own text, not parsed and written again")
  })
})
