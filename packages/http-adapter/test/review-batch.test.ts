/**
 * JSON batching (`POST /beta/$batch`) under review, on real servers: what Graph's
 * own batch samples and documentation send (unencoded spaces in `url`, ids that
 * differ only in case, base64url bodies), a request no longer than it could be
 * sent alone, the caller's trace carried to each request, independent writes to
 * one entity serialised on every store, the answer cache, and a graceful close
 * that waits for a batch in flight.
 */
import { MemoryStore, Store } from "@enrollment/core"
import { SqliteStore } from "@enrollment/store-adapter"
import { PostgresStore } from "@enrollment/store-adapter"
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, Redacted } from "effect"
import * as fs from "node:fs"
import { maxHeaderSize } from "node:http"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { recordingTracer, start, type TestServer } from "./support.ts"

const G = "#microsoft.graph."
const cfgs = "deviceManagement/deviceEnrollmentConfigurations"
const limit = { "@odata.type": `${G}deviceEnrollmentLimitConfiguration` }
const byId = (body: any): Record<string, any> => Object.fromEntries(body.responses.map((r: any) => [r.id, r]))

describe("$batch: what Graph's documentation sends", () => {
  let s: TestServer
  beforeAll(async () => {
    s = await start({ store: MemoryStore.layer })
    for (const u of [{ id: "u1", displayName: "Ada", mail: null }, { id: "u2", displayName: "Alan", mail: "alan@contoso.com" }]) {
      assert.strictEqual((await s.request("POST", "users", { body: u })).status, 201)
    }
  })
  afterAll(async () => {
    await s?.close()
  })
  const batch = (requests: ReadonlyArray<Record<string, unknown>>) => s.request("POST", "$batch", { body: { requests } })

  it("takes a space in a request's url as %20, as Graph's batch sample writes `$filter=city eq null`", async () => {
    const r = await batch([
      // Graph's JSON batching page, request 5, with a property this service filters on.
      { id: "5", method: "GET", url: "users?$select=id,displayName,mail&$filter=mail eq null&$count=true" },
      // A trailing space, as in Graph's blog sample (`/me?$select=displayName,jobTitle,userPrincipalName `).
      { id: "6", method: "GET", url: "/users/u2?$select=displayName,mail " }
    ])
    assert.strictEqual(r.status, 200, r.text)
    const a = byId(r.json)
    assert.strictEqual(a["5"].status, 200, JSON.stringify(a["5"].body))
    assert.deepStrictEqual(a["5"].body.value.map((u: any) => u.id), ["u1"])
    assert.strictEqual(a["5"].body["@odata.count"], 1)
    assert.strictEqual(a["6"].status, 200, JSON.stringify(a["6"].body))
    assert.deepStrictEqual([a["6"].body.displayName, a["6"].body.mail], ["Alan", "alan@contoso.com"])
    // The same answer as the request sent alone, encoded.
    const alone = await s.request("GET", `users?$select=id,displayName,mail&$filter=${encodeURIComponent("mail eq null")}&$count=true`)
    assert.deepStrictEqual(a["5"].body.value, alone.json.value)
    const doc = (await s.request("GET", "openapi.json", { token: null })).json
    assert.include(doc.components.schemas.batchRequestItem.properties.url.description, "a space is read as %20")
    // A control character is still no URL.
    const tab = await batch([{ id: "1", method: "GET", url: "/users\n" }])
    assert.strictEqual(tab.status, 400)
    assert.include(tab.json.error.message, "requests[0].url")
  })

  it("compares request ids without regard to case, as Graph does: a duplicate is a 400 and dependsOn finds its request", async () => {
    const dup = await batch([{ id: "Get", method: "GET", url: "/users/u1" }, { id: "get", method: "GET", url: "/users/u2" }])
    assert.strictEqual(dup.status, 400, dup.text)
    assert.include(dup.json.error.message, "requests[1].id: 'get' is the id of requests[0] too")
    const chained = await batch([
      { id: "First", method: "GET", url: "/users/u1" },
      { id: "second", method: "GET", url: "/users/nobody", dependsOn: ["FIRST"] },
      { id: "third", method: "GET", url: "/users/u2", dependsOn: ["Second"] }
    ])
    assert.strictEqual(chained.status, 200, chained.text)
    const a = byId(chained.json)
    assert.deepStrictEqual([a.First.status, a.second.status, a.third.status], [200, 404, 424])
    assert.include(a.third.body.error.message, "depends on 'second'")
    const self = await batch([{ id: "me", method: "GET", url: "/users/u1", dependsOn: ["ME"] }])
    assert.strictEqual(self.status, 400)
    assert.include(self.json.error.message, "a request cannot depend on itself")
  })

  it("takes a body in base64's URL-safe form (Graph's docs name base64url) and passes its bytes on", async () => {
    // "-_-_" is base64url (base64 would be "+/+/"): the request runs, and is refused as not JSON.
    const r = await batch([{ id: "1", method: "POST", url: "/users", headers: { "Content-Type": "text/plain" }, body: "-_-_" }])
    assert.strictEqual(r.status, 200, r.text)
    assert.strictEqual(byId(r.json)["1"].status, 415)
    assert.strictEqual(byId(r.json)["1"].body.error.code, "UnsupportedMediaType")
  })

  it("refuses a request whose URL and headers are longer than one sent alone may be, and runs none of the batch", async () => {
    // 4 000 `$select` names: a page of users is written once per name and user. Sent alone,
    // Node refuses such a request line (431); in a batch it ran, seconds per request.
    const long = `/users?$top=999&$select=${Array.from({ length: Math.ceil(maxHeaderSize / 3) + 10 }, () => "id").join(",")}`
    const alone = await s.request("GET", long.slice(1))
    assert.strictEqual(alone.status, 431, "Node refuses it sent alone")
    const r = await batch([
      { id: "w", method: "POST", url: "/users", body: { id: "never", displayName: "x" } },
      { id: "long", method: "GET", url: long }
    ])
    assert.strictEqual(r.status, 400, r.text.slice(0, 300))
    assert.include(r.json.error.message, "requests[1]: its URL and headers take")
    assert.include(r.json.error.message, `at most ${maxHeaderSize}`)
    const headers = await batch([{ id: "h", method: "GET", url: "/users", headers: { prefer: "x".repeat(maxHeaderSize) } }])
    assert.strictEqual(headers.status, 400)
    assert.include(headers.json.error.message, "requests[0]: its URL and headers take")
    assert.strictEqual((await s.request("GET", "users/never")).status, 404, "nothing of the batch ran")
    // Within the limit it runs, as it would alone.
    const fits = await batch([{ id: "ok", method: "GET", url: `/users?$select=${Array.from({ length: 1000 }, () => "id").join(",")}` }])
    assert.strictEqual(byId(fits.json).ok.status, 200)
  })

  it("reads a request's url as the same request sent alone: `beta` as written, and a fragment dropped", async () => {
    // `/BETA/…` is no version root alone (a 404), and is none in a batch either.
    const upper = await s.request("GET", "/BETA/users/u1")
    assert.strictEqual(upper.status, 404, upper.text)
    const r = await batch([
      { id: "upper", method: "GET", url: "/BETA/users/u1" },
      { id: "lower", method: "GET", url: "/beta/users/u1" },
      // A fragment is no part of a request's target (RFC 3986): `u1#x` is the user u1.
      { id: "fragment", method: "GET", url: "/users/u1#x" },
      { id: "queryFragment", method: "GET", url: "/users?$top=1#x" },
      { id: "encoded", method: "GET", url: "/users/u1%23x" }
    ])
    assert.strictEqual(r.status, 200, r.text)
    const a = byId(r.json)
    assert.strictEqual(a.upper.status, 404, JSON.stringify(a.upper.body))
    assert.deepStrictEqual(a.upper.body.error.message, upper.json.error.message)
    assert.strictEqual(a.lower.status, 200)
    assert.strictEqual(a.fragment.status, 200, JSON.stringify(a.fragment.body))
    assert.strictEqual(a.fragment.body.id, "u1")
    assert.strictEqual(a.queryFragment.status, 200, JSON.stringify(a.queryFragment.body))
    assert.strictEqual(a.queryFragment.body.value.length, 1)
    // An encoded `#` is part of the id, as alone.
    assert.strictEqual(a.encoded.status, 404)
    assert.include(a.encoded.body.error.message, "u1#x")
    // A fragment does not hide a batch in a batch.
    const nested = await batch([{ id: "n", method: "POST", url: "/$batch#x", body: { requests: [] } }])
    assert.strictEqual(nested.status, 400)
    assert.include(nested.json.error.message, "a batch cannot hold a batch")
  })

  it("serves the batch at its path with a trailing slash and with its `$` percent-encoded, as the other paths are read", async () => {
    const body = { requests: [{ id: "1", method: "GET", url: "/users/u1" }] }
    for (const path of ["/beta/$batch/", "/beta/%24batch", "/beta/%24batch/"]) {
      const r = await s.request("POST", path, { body })
      assert.strictEqual(r.status, 200, `${path}: ${r.text}`)
      assert.strictEqual(byId(r.json)["1"].body.id, "u1", path)
    }
    const nested = await batch([{ id: "n", method: "POST", url: "/%24batch", body }])
    assert.strictEqual(nested.status, 400)
    assert.include(nested.json.error.message, "a batch cannot hold a batch")
    // `$batch` keeps its case, as `$count` and `$ref` do.
    assert.strictEqual((await s.request("POST", "/beta/$BATCH", { body })).status, 404)
  })
})

describe("$batch: the caller's trace", () => {
  const { spans: recorded, layer: traced } = recordingTracer()
  let s: TestServer
  beforeAll(async () => {
    s = await start({ extra: traced() })
  })
  afterAll(async () => {
    await s?.close()
  })

  it("runs each request of a batch in the batch's trace, as a child of the caller's span, unless it names its own", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736"
    const parentId = "00f067aa0ba902b7"
    const ownTrace = "0af7651916cd43dd8448eb211c80319c"
    recorded.length = 0
    const r = await s.request("POST", "$batch", {
      headers: { traceparent: `00-${traceId}-${parentId}-01` },
      body: {
        requests: [
          { id: "users", method: "GET", url: "/users" },
          { id: "groups", method: "GET", url: "/groups", dependsOn: ["users"] },
          { id: "own", method: "GET", url: "/invitations", headers: { traceparent: `00-${ownTrace}-b7ad6b7169203331-01` } }
        ]
      }
    })
    assert.strictEqual(r.status, 200, r.text)
    const spanOf = (name: string) => {
      const span = recorded.find((x) => x.kind === "server" && x.name === name)
      assert.ok(span !== undefined, `no span ${name}: ${recorded.map((x) => x.name).join(", ")}`)
      return span
    }
    for (const name of ["GET /beta/users", "GET /beta/groups"]) {
      const span = spanOf(name)
      assert.strictEqual(span.traceId, traceId, name)
      assert.strictEqual(span.parent._tag === "Some" ? span.parent.value.spanId : undefined, parentId, name)
    }
    assert.strictEqual(spanOf("GET /beta/invitations").traceId, ownTrace, "a request's own traceparent wins")
  })
})

const pgUrl = process.env.DATABASE_URL
const pgSchema = `review_batch_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 7)}`
const stores: ReadonlyArray<readonly [string, () => Layer.Layer<Store>]> = [
  ["memory", () => MemoryStore.layer],
  ["SQLite", () => SqliteStore.layer({ filename: path.join(fs.mkdtempSync(path.join(os.tmpdir(), "review-batch-")), "s.db") }) as Layer.Layer<Store>],
  ...(pgUrl === undefined || pgUrl === ""
    ? []
    : [["PostgreSQL", () => PostgresStore.layer({ url: pgUrl, schema: pgSchema, maxConnections: 4 }) as Layer.Layer<Store>] as const])
]
if (pgUrl !== undefined && pgUrl !== "") {
  afterAll(async () => {
    await Effect.runPromise(
      Effect.gen(function*() {
        const sql = yield* PgClient.PgClient
        yield* sql.unsafe(`DROP SCHEMA IF EXISTS "${pgSchema}" CASCADE`).unprepared
      }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(pgUrl), maxConnections: 1 })))
    )
  })
}

for (const [name, layer] of stores) {
  describe(`$batch: independent writes to one entity (${name} store)`, () => {
    let s: TestServer
    beforeAll(async () => {
      s = await start({ store: layer() })
    })
    afterAll(async () => {
      await s?.close()
    })

    it("serialises 20 independent PATCHes of one configuration and of one user: none is lost", async () => {
      assert.strictEqual((await s.request("POST", cfgs, { body: { ...limit, id: "c1" } })).status, 201)
      const r = await s.request("POST", "$batch", {
        body: { requests: Array.from({ length: 20 }, (_, i) => ({ id: String(i), method: "PATCH", url: `/${cfgs}/c1`, body: { [`p${i}`]: i } })) }
      })
      assert.strictEqual(r.status, 200, r.text.slice(0, 300))
      assert.deepStrictEqual(r.json.responses.map((x: any) => x.status), Array(20).fill(200))
      const c = (await s.request("GET", `${cfgs}/c1`)).json
      assert.deepStrictEqual(Array.from({ length: 20 }, (_, i) => c[`p${i}`]), Array.from({ length: 20 }, (_, i) => i))
      assert.strictEqual(c.version, 21, "one version per change")
      const versions = r.json.responses.map((x: any) => x.body.version).sort((a: number, b: number) => a - b)
      assert.deepStrictEqual(versions, Array.from({ length: 20 }, (_, i) => i + 2), "each saw the one before it")

      assert.strictEqual((await s.request("POST", "users", { body: { id: "u1", displayName: "Ada" } })).status, 201)
      const props = ["jobTitle", "department", "city", "country", "companyName", "officeLocation", "postalCode", "state", "streetAddress", "usageLocation"]
      const u = await s.request("POST", "$batch", {
        body: { requests: props.map((p, i) => ({ id: String(i), method: "PATCH", url: "/users/u1", body: { [p]: `v${i}` } })) }
      })
      assert.deepStrictEqual(u.json.responses.map((x: any) => x.status), Array(props.length).fill(200))
      const got = (await s.request("GET", "users/u1")).json
      assert.deepStrictEqual(props.map((p) => got[p]), props.map((_, i) => `v${i}`))
    })

    it("lets exactly one of 10 PATCHes with the same If-Match win; the others are 412", async () => {
      await s.request("POST", `${cfgs}/c1/assignments`, { body: { id: "a1", target: { "@odata.type": `${G}allDevicesAssignmentTarget` } } })
      const etag = (await s.request("GET", `${cfgs}/c1/assignments/a1`)).headers.get("etag")!
      const r = await s.request("POST", "$batch", {
        body: {
          requests: Array.from({ length: 10 }, (_, i) => ({
            id: String(i),
            method: "PATCH",
            url: `/${cfgs}/c1/assignments/a1`,
            headers: { "If-Match": etag },
            body: { sourceId: `s${i}` }
          }))
        }
      })
      const statuses: Array<number> = r.json.responses.map((x: any) => x.status)
      assert.strictEqual(statuses.filter((x) => x === 200).length, 1, statuses.join(","))
      assert.strictEqual(statuses.filter((x) => x === 412).length, 9, statuses.join(","))
      const winner = r.json.responses.find((x: any) => x.status === 200)
      assert.strictEqual((await s.request("GET", `${cfgs}/c1/assignments/a1`)).json.sourceId, winner.body.sourceId)
    })
  })
}

describe("$batch: the answer cache and a graceful close", () => {
  it("answers a batched GET as the same GET alone (answers are kept), and a write earlier in the batch retires the kept answer", async () => {
    const s = await start({ store: MemoryStore.layer })
    try {
      await s.request("POST", "users", { body: { id: "u1", displayName: "Ada" } })
      const get = { id: "get", method: "GET", url: "/users/u1" }
      const first = byId((await s.request("POST", "$batch", { body: { requests: [get] } })).json).get
      const alone = await s.request("GET", "users/u1")
      assert.deepStrictEqual(first.body, alone.json)
      assert.notStrictEqual(first.headers["request-id"], alone.headers.get("request-id"), "a kept answer still gets its own request id")
      const r = await s.request("POST", "$batch", {
        body: { requests: [{ id: "patch", method: "PATCH", url: "/users/u1", body: { displayName: "Lovelace" } }, { ...get, dependsOn: ["patch"] }] }
      })
      assert.strictEqual(byId(r.json).get.body.displayName, "Lovelace", "the write retired the kept answer")
      assert.strictEqual((await s.request("GET", "users/u1")).json.displayName, "Lovelace")
    } finally {
      await s.close()
    }
  })

  it("waits, when closing, for a batch whose requests are still running, and answers it whole", async () => {
    // A store whose reads of a user take 300 ms: the batch is in flight when the close starts.
    const slow = Layer.effect(
      Store,
      Effect.map(Effect.service(Store), (store) => ({
        ...store,
        stampOf: undefined,
        users: { ...store.users, get: (tenant: string, id: string) => Effect.delay(store.users.get(tenant, id), "300 millis") }
      }))
    ).pipe(Layer.provide(MemoryStore.layer))
    const s = await start({ store: slow })
    await s.request("POST", "users", { body: { id: "u1", displayName: "Ada" } })
    const pending = s.request("POST", "$batch", {
      body: { requests: [{ id: "1", method: "GET", url: "/users/u1" }, { id: "2", method: "GET", url: "/users/u1", dependsOn: ["1"] }] }
    })
    await new Promise((resolve) => setTimeout(resolve, 100))
    const closeStarted = performance.now()
    let closedAt = Number.NaN
    const closing = s.close().then(() => {
      closedAt = performance.now()
    })
    const r = await pending
    assert.strictEqual(r.status, 200, r.text)
    assert.deepStrictEqual(r.json.responses.map((x: any) => [x.id, x.status, x.body.displayName]), [["1", 200, "Ada"], ["2", 200, "Ada"]])
    await closing
    // The batch's two reads, one after the other, take 600 ms from its start, 100 ms before the
    // close began: a close that did not wait for it would end at once (and the batch would fail).
    assert.isAtLeast(closedAt - closeStarted, 450, "the close waited for the batch's answer")
  })
})
