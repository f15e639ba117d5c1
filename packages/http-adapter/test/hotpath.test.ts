/**
 * What the request path remembers between requests, checked to stay correct:
 * the verifier's last Authorization header (a remembered token still expires,
 * and another client's header never gets its principal), the router's resolved
 * paths (shared parameters are frozen, every method and every outcome of the
 * path stays right, and past its bound a path resolves again), and kept GET
 * answers by scope (another Host or another tenant on the same path never gets
 * an answer made for someone else). And the written entity: its text, made
 * without copying the entity, is the text of the entity's representation.
 */
import { afterEach, assert, describe, it, vi } from "@effect/vitest"
import * as http from "node:http"
import * as net from "node:net"
import { Assignment, ETag } from "@enrollment/core"
import { Auth, OData, Router, Server, Token } from "../src/index.ts"
import { AnswerCache } from "../src/AnswerCache.ts"
import { secret, start } from "./support.ts"

const G = "#microsoft.graph."

describe("Auth: a remembered header", () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  const verified = async (v: Auth.Verifier, header: string) => {
    const r = await v.verify(header)
    if (!r.ok) throw new Error(`refused: ${r.problem.message}`)
    return r.principal
  }

  it("answers each client's header with its own principal, and still expires", async () => {
    vi.useFakeTimers({ toFake: ["Date"] })
    const t0 = Date.UTC(2026, 10, 28, 12)
    vi.setSystemTime(t0)
    const v = Auth.make({ hs256Secret: secret, clockToleranceSeconds: 0 })
    const a = `Bearer ${await Token.mint({ secret, tenant: "tenant-a", subject: "alice", expiresIn: 120 })}`
    const b = `Bearer ${await Token.mint({ secret, tenant: "tenant-b", subject: "bob", expiresIn: 3600 })}`
    // First sight verifies the signature (a promise); then the cache answers synchronously.
    assert.instanceOf(v.verify(a), Promise)
    assert.strictEqual((await verified(v, a)).tenant, "tenant-a")
    const again = v.verify(a)
    assert.notInstanceOf(again, Promise)
    assert.strictEqual((await verified(v, b)).tenant, "tenant-b")
    // Alternating clients: each header keeps its own principal.
    for (let i = 0; i < 4; i++) {
      assert.strictEqual((await verified(v, a)).subject, "alice")
      assert.strictEqual((await verified(v, a)).subject, "alice")
      assert.strictEqual((await verified(v, b)).subject, "bob")
    }
    // The same header twice in a row (the remembered one), then past its expiry.
    assert.strictEqual((await verified(v, a)).tenant, "tenant-a")
    assert.strictEqual((await verified(v, a)).tenant, "tenant-a")
    vi.setSystemTime(t0 + 121_000)
    for (let i = 0; i < 2; i++) {
      const r = await v.verify(a)
      assert.isFalse(r.ok, "an expired token is refused, remembered or not")
      if (!r.ok) {
        assert.strictEqual(r.problem.status, 401)
        assert.include(r.problem.message, "expired")
      }
    }
    assert.strictEqual((await verified(v, b)).tenant, "tenant-b", "another client's token is unaffected")
    // The scheme is case-insensitive on every path, remembered or not.
    const lower = b.replace("Bearer ", "bearer ")
    assert.strictEqual((await verified(v, lower)).subject, "bob")
    assert.strictEqual((await verified(v, lower)).subject, "bob")
  })
})

describe("Router: resolved paths", () => {
  const routes = [
    { method: "GET", path: "/things/{thingId}" },
    { method: "PATCH", path: "/things/{thingId}" },
    { method: "GET", path: "/things/$count" },
    { method: "GET", path: "/things/{thingId}/parts/{partId}" }
  ] as const
  const found = (m: Router.Match<(typeof routes)[number]>) => {
    if (m._tag !== "Found") throw new Error(`expected Found, got ${m._tag}`)
    return m
  }

  it("gives every method and every outcome of a path again, with frozen shared parameters", () => {
    const r = Router.make(routes)
    for (let i = 0; i < 3; i++) {
      const get = found(r.match("GET", "/things/t1/parts/p%2F2"))
      assert.deepStrictEqual(get.params, { thingId: "t1", partId: "p/2" })
      assert.isTrue(Object.isFrozen(get.params), "parameters shared between requests cannot be changed")
      assert.strictEqual(found(r.match("PATCH", "/things('t''1')")).params.thingId, "t'1")
      assert.strictEqual(found(r.match("GET", "/things/$count")).route.path, "/things/$count")
      // One path, three methods: each its own outcome.
      assert.strictEqual(found(r.match("GET", "/things/t1")).route.method, "GET")
      assert.strictEqual(found(r.match("PATCH", "/things/t1")).route.method, "PATCH")
      const post = r.match("POST", "/things/t1")
      assert.strictEqual(post._tag, "MethodNotAllowed")
      if (post._tag === "MethodNotAllowed") assert.sameMembers([...post.allow], ["GET", "PATCH"])
      assert.strictEqual(r.match("GET", "/things/t1/nope")._tag, "NotFound")
      assert.strictEqual(r.match("GET", "/things/%E0%A4%A")._tag, "BadPath")
      assert.strictEqual(r.match("GET", "/things/t1/parts")._tag, "NotFound")
    }
  })

  it("resolves a path again once more paths than it remembers have passed", () => {
    const r = Router.make(routes)
    const first = found(r.match("GET", "/things/first"))
    for (let i = 0; i < 5000; i++) assert.strictEqual(found(r.match("GET", `/things/t${i}`)).params.thingId, `t${i}`)
    const again = found(r.match("GET", "/things/first"))
    assert.deepStrictEqual(again.params, first.params)
    assert.strictEqual(again.route, first.route)
    // Resolved again, not remembered: the memo is bounded (a remembered path answers its very match).
    assert.notStrictEqual(again, first, "the path was still remembered after 5000 others")
    assert.strictEqual(found(r.match("GET", "/things/t4999")), found(r.match("GET", "/things/t4999")), "a recent path is remembered")
    const recent = found(r.match("GET", "/things/t4998"))
    found(r.match("GET", "/things/other"))
    assert.strictEqual(found(r.match("GET", "/things/t4998")), recent, "a recent path, not the last, is remembered")
  })

  it("reaches a route by each of its aliases, with the same parameters, an id the alias spells still an id", () => {
    const cast = { method: "GET", path: "/things/{thingId}/parts/ns.kind", aliases: ["/things/{thingId}/parts/n.kind"] }
    const r = Router.make<Router.Template>([...routes, cast])
    const at = (p: string) => {
      const m = r.match("GET", p)
      if (m._tag !== "Found") throw new Error(`${p}: ${m._tag}`)
      return m
    }
    for (const p of ["/things/t1/parts/ns.kind", "/things/t1/parts/n.kind", "/things('t1')/parts/n.kind"]) {
      assert.strictEqual(at(p).route, cast, p)
      assert.deepStrictEqual(at(p).params, { thingId: "t1" }, p)
    }
    // The alias is a literal segment: a part whose id is another name is still reached as a part.
    assert.deepStrictEqual(at("/things/t1/parts/x.kind").params, { thingId: "t1", partId: "x.kind" })
    assert.throws(() => Router.make([...routes, cast, { method: "GET", path: "/things/{thingId}/parts/n.kind" }]), /duplicate route GET \/things\/\{thingId\}\/parts\/n\.kind/)
  })
})

describe("kept answers by scope", () => {
  it("AnswerCache: a key answers only in the scope it was kept in", () => {
    const c = new AnswerCache(1 << 20)
    const answer = { status: 200, body: "for a", type: "application/json", headers: undefined }
    c.set("/beta/x", 1, answer, "tenant-a\u0000http://h1/beta")
    assert.strictEqual(c.get("/beta/x", 1, "tenant-a\u0000http://h1/beta")?.body, "for a")
    assert.isUndefined(c.get("/beta/x", 1, "tenant-b\u0000http://h1/beta"))
    assert.isUndefined(c.get("/beta/x", 1, "tenant-a\u0000http://h2/beta"))
    c.set("/beta/x", 1, { ...answer, body: "for b" }, "tenant-b\u0000http://h1/beta")
    assert.strictEqual(c.size, 1, "a key holds one answer")
    assert.isUndefined(c.get("/beta/x", 1, "tenant-a\u0000http://h1/beta"))
    assert.strictEqual(c.get("/beta/x", 1, "tenant-b\u0000http://h1/beta")?.body, "for b")
  })

  it("the server never serves an answer kept for another Host or another tenant", async () => {
    const s = await start()
    try {
      const ok = (r: { status: number; text: string }, status: number) => assert.strictEqual(r.status, status, r.text)
      for (const tenant of ["tenant-a", "tenant-b"]) {
        ok(await s.request("POST", "deviceManagement/deviceEnrollmentConfigurations", { tenant, body: { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: "c1", displayName: "Limit", limit: 5 } }), 201)
        ok(await s.request("POST", "deviceManagement/deviceEnrollmentConfigurations/c1/assignments", { tenant, body: { id: "a1", source: "policySets", sourceId: tenant, target: { "@odata.type": `${G}allDevicesAssignmentTarget` } } }), 201)
      }
      const one = "/beta/deviceManagement/deviceEnrollmentConfigurations/c1/assignments/a1"
      const port = new URL(s.url).port
      const get = (tenant: string, host: string) =>
        s.token({ tenant }).then((token) =>
          new Promise<{ status: number; json: any }>((resolve, reject) => {
            const req = http.request({ host: "127.0.0.1", port, path: one, headers: { host, authorization: `Bearer ${token}` } }, (res) => {
              let text = ""
              res.setEncoding("utf8")
              res.on("data", (c) => (text += c))
              res.on("end", () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }))
            })
            req.on("error", reject)
            req.end()
          })
        )
      for (let round = 0; round < 2; round++) {
        for (const [tenant, host] of [["tenant-a", "one.example"], ["tenant-a", "two.example:8443"], ["tenant-b", "one.example"], ["tenant-b", "two.example:8443"]] as const) {
          const r = await get(tenant, host)
          assert.strictEqual(r.status, 200)
          assert.strictEqual(r.json.sourceId, tenant, "the tenant's own data")
          assert.isTrue(String(r.json["@odata.context"]).startsWith(`http://${host}/beta/$metadata#`), `the context names ${host}`)
        }
      }
    } finally {
      await s.close()
    }
  })
})

describe("OData.entityJson: the written text", () => {
  const ctx = "https://graph.example/beta/$metadata#deviceManagement/deviceEnrollmentConfigurations('c')/assignments/$entity"
  /** What is written: the representation `OData.entity` builds, stringified. */
  const expected = (value: Record<string, unknown>) => ({ etag: ETag.of(value), json: JSON.stringify(OData.entity(value, undefined, ctx)) })

  it.prop("is the representation's text for every assignment, kept or not", [Assignment.Assignment], ([a]) => {
    const value = a as unknown as Record<string, unknown>
    assert.deepStrictEqual(OData.entityJson(value, undefined, ctx, false), expected(value))
    assert.deepStrictEqual(OData.entityJson(value, undefined, ctx, true), expected(value))
    // Kept: the second writing is the same text.
    assert.deepStrictEqual(OData.entityJson(value, undefined, ctx, true), expected(value))
  })

  it("puts @odata.type first whatever the value's order, and keeps a __proto__ member as data", () => {
    const reordered = JSON.parse('{"id":"a1","__proto__":{"x":1},"@odata.type":"#microsoft.graph.enrollmentConfigurationAssignment","source":"direct"}')
    const out = OData.entityJson(reordered, undefined, ctx, false)
    assert.deepStrictEqual(out, expected(reordered))
    assert.deepStrictEqual(Object.keys(JSON.parse(out.json)), ["@odata.context", "@odata.etag", "@odata.type", "id", "__proto__", "source"])
    const typeFirst = JSON.parse('{"@odata.type":"#microsoft.graph.enrollmentConfigurationAssignment","__proto__":{"x":1},"id":"a1"}')
    assert.deepStrictEqual(OData.entityJson(typeFirst, undefined, ctx, false), expected(typeFirst))
    assert.deepStrictEqual(JSON.parse(OData.entityJson(typeFirst, undefined, ctx, false).json).__proto__, { x: 1 })
  })

  it("keeps a __proto__ member as data under $select too, plain or behind its type's cast", () => {
    const value = JSON.parse('{"@odata.type":"#microsoft.graph.deviceEnrollmentLimitConfiguration","id":"c1","__proto__":{"x":1},"limit":2}')
    for (const name of ["__proto__", "microsoft.graph.deviceEnrollmentLimitConfiguration/__proto__"]) {
      const out = OData.entity(value, [name])
      assert.strictEqual(Object.getPrototypeOf(out), Object.prototype)
      assert.deepStrictEqual(JSON.parse(JSON.stringify(out)), JSON.parse(`{"@odata.etag":${JSON.stringify(ETag.of(value))},"@odata.type":"#microsoft.graph.deviceEnrollmentLimitConfiguration","id":"c1","__proto__":{"x":1}}`))
    }
  })
})

describe("an answer's @odata.context: made once per path, right for every path", () => {
  it("OData.entityJson writes each context given, in turns", () => {
    const value = JSON.parse('{"@odata.type":"#microsoft.graph.enrollmentConfigurationAssignment","id":"a1","source":"direct"}')
    const contexts = ["http://h/beta/$metadata#x('1')/$entity", "http://h/beta/$metadata#x('2')/$entity", "http://h/beta/$metadata#x(\'\"q\")/$entity"]
    for (let round = 0; round < 2; round++) {
      for (const ctx of [...contexts, contexts[0]!, contexts[0]!]) {
        assert.strictEqual(JSON.parse(OData.entityJson(value, undefined, ctx, false).json)["@odata.context"], ctx)
      }
    }
  })

  it("the server answers each path with its own context, through every family and Host, in turns", async () => {
    const s = await start()
    try {
      const ok = (r: { status: number; text: string }, status: number) => assert.strictEqual(r.status, status, r.text)
      for (const c of ["c1", "c'2"]) {
        ok(await s.request("POST", "deviceManagement/deviceEnrollmentConfigurations", { body: { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: c, displayName: "Limit", limit: 5 } }), 201)
        ok(await s.request("POST", `deviceManagement/deviceEnrollmentConfigurations/${encodeURIComponent(c)}/assignments`, { body: { id: "a1", target: { "@odata.type": `${G}allLicensedUsersAssignmentTarget` } } }), 201)
      }
      const user = (await s.request("POST", "users", { body: { displayName: "U", userPrincipalName: "u@example.com" } })).json.id as string
      const port = new URL(s.url).port
      const token = await s.token()
      const patch = (path: string, host: string) =>
        new Promise<{ status: number; json: any }>((resolve, reject) => {
          const body = JSON.stringify({ sourceId: `${host}${path}` })
          const req = http.request({ host: "127.0.0.1", port, method: "PATCH", path, headers: { host, authorization: `Bearer ${token}`, "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (res) => {
            let text = ""
            res.setEncoding("utf8")
            res.on("data", (c) => (text += c))
            res.on("end", () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }))
          })
          req.on("error", reject)
          req.end(body)
        })
      const paths = [
        ["/beta/deviceManagement/deviceEnrollmentConfigurations/c1/assignments/a1", "deviceManagement/deviceEnrollmentConfigurations('c1')/assignments/$entity"],
        ["/beta/deviceManagement/deviceEnrollmentConfigurations/c'2/assignments/a1", "deviceManagement/deviceEnrollmentConfigurations('c''2')/assignments/$entity"],
        [`/beta/users/${user}/deviceEnrollmentConfigurations/c1/assignments/a1`, `users('${user}')/deviceEnrollmentConfigurations('c1')/assignments/$entity`]
      ] as const
      for (let round = 0; round < 2; round++) {
        for (const host of ["one.example", "two.example:8443"]) {
          for (const [path, context] of [...paths, paths[0], paths[0]]) {
            const r = await patch(path, host)
            assert.strictEqual(r.status, 200, JSON.stringify(r.json))
            assert.strictEqual(r.json["@odata.context"], `http://${host}/beta/$metadata#${context}`)
            assert.strictEqual(r.json.sourceId, `${host}${path}`, "the answer is this request's")
          }
        }
      }
    } finally {
      await s.close()
    }
  })
})

describe("a path's ids: checked once per path, the verdict right on every request", () => {
  it("refuses a malformed id on every request of its path, and serves the well-formed path between", async () => {
    const s = await start()
    try {
      assert.strictEqual((await s.request("POST", "deviceManagement/deviceEnrollmentConfigurations", { body: { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: "c1", displayName: "Limit", limit: 5 } })).status, 201)
      assert.strictEqual((await s.request("POST", "deviceManagement/deviceEnrollmentConfigurations/c1/assignments", { body: { id: "a1", target: null } })).status, 201)
      const long = "x".repeat(129)
      for (let round = 0; round < 3; round++) {
        for (const bad of ["%01", long]) {
          for (const method of ["GET", "PATCH"]) {
            const r = await s.request(method, `deviceManagement/deviceEnrollmentConfigurations/c1/assignments/${bad}`, method === "PATCH" ? { body: { sourceId: "x" } } : {})
            assert.strictEqual(r.status, 400, `${method} ${bad.slice(0, 5)}: ${r.text}`)
            assert.include(r.json.error.message, "assignmentId")
          }
          const list = await s.request("GET", `deviceManagement/deviceEnrollmentConfigurations/${bad}/assignments`)
          assert.strictEqual(list.status, 400, list.text)
          assert.include(list.json.error.message, "configurationId")
        }
        const ok = await s.request("PATCH", "deviceManagement/deviceEnrollmentConfigurations/c1/assignments/a1", { body: { sourceId: `r${round}` } })
        assert.strictEqual(ok.status, 200, ok.text)
        assert.strictEqual(ok.json.sourceId, `r${round}`)
      }
    } finally {
      await s.close()
    }
  })
})

describe("request ids", () => {
  it("are GUIDs (version 4), all different, and another handler's differ from the first's", () => {
    const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
    const next = Server.requestIds()
    const seen = new Set<string>()
    for (let i = 0; i < 10_000; i++) {
      const id = next()
      assert.match(id, guid)
      seen.add(id)
    }
    assert.strictEqual(seen.size, 10_000)
    const other = Server.requestIds()()
    assert.match(other, guid)
    assert.notStrictEqual(other.slice(0, 24), [...seen][0]!.slice(0, 24), "another handler draws another prefix")
  })

  it("count up in their last 48 bits, carrying between the halves and wrapping at the end", () => {
    const tail = (from: number, n: number) => {
      const next = Server.requestIds(from)
      return Array.from({ length: n }, () => next().slice(24))
    }
    assert.deepStrictEqual(tail(2 ** 24 - 2, 3), ["000000fffffe", "000000ffffff", "000001000000"])
    assert.deepStrictEqual(tail(2 ** 48 - 2, 3), ["fffffffffffe", "ffffffffffff", "000000000000"])
    assert.deepStrictEqual(tail(0x123456abcdef, 2), ["123456abcdef", "123456abcdf0"])
  })
})

describe("the request body: taken at once when it came with its headers, read as it comes otherwise", () => {
  const cfgs = "deviceManagement/deviceEnrollmentConfigurations"
  const one = `${cfgs}/c1/assignments/a1`
  const setUp = async (bodyLimit?: number) => {
    const s = await start(bodyLimit === undefined ? {} : { bodyLimit })
    await s.request("POST", cfgs, { body: { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: "c1" } })
    await s.request("POST", `${cfgs}/c1/assignments`, { body: { id: "a1", target: { "@odata.type": `${G}groupAssignmentTarget`, groupId: "g1" } } })
    return s
  }
  /** Writes `parts` to one connection, `gapMs` apart, and answers all the server sent until it closed. */
  const exchange = (url: string, parts: ReadonlyArray<string>, gapMs = 0) =>
    new Promise<string>((resolve, reject) => {
      const { port } = new URL(url)
      let data = ""
      const socket = net.connect(Number(port), "127.0.0.1", async () => {
        for (const p of parts) {
          socket.write(p)
          if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs))
        }
      })
      socket.on("data", (d) => (data += d.toString()))
      socket.on("close", () => resolve(data))
      socket.on("error", reject)
    })
  const patch = (token: string, body: string, close: boolean, headers = `Content-Length: ${Buffer.byteLength(body)}\r\n`) =>
    `PATCH /beta/${one} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\n${headers}${close ? "Connection: close\r\n" : ""}\r\n`
  const sourceIdNow = async (s: Awaited<ReturnType<typeof setUp>>) => (await s.request("GET", one)).json.sourceId

  it("applies a body sent with its headers, and one sent in pieces after them", async () => {
    const s = await setUp()
    try {
      const token = await s.token()
      const together = JSON.stringify({ sourceId: "together" })
      const answer = await exchange(s.url, [patch(token, together, true) + together])
      assert.match(answer, /^HTTP\/1\.1 200/)
      assert.include(answer, '"sourceId":"together"')
      assert.strictEqual(await sourceIdNow(s), "together")

      const later = JSON.stringify({ sourceId: "in-pieces" })
      const late = await exchange(s.url, [patch(token, later, true), later.slice(0, 5), later.slice(5)], 60)
      assert.match(late, /^HTTP\/1\.1 200/)
      assert.include(late, '"sourceId":"in-pieces"')
      assert.strictEqual(await sourceIdNow(s), "in-pieces")
    } finally {
      await s.close()
    }
  })

  it("answers pipelined PATCHes on one connection in order, each with its own body", async () => {
    const s = await setUp()
    try {
      const token = await s.token()
      const bodies = ["p1", "p2", "p3"].map((id) => JSON.stringify({ sourceId: id }))
      const answer = await exchange(s.url, [bodies.map((b, i) => patch(token, b, i === bodies.length - 1) + b).join("")])
      const statuses = [...answer.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1])
      assert.deepStrictEqual(statuses, ["200", "200", "200"])
      const order = ["p1", "p2", "p3"].map((id) => answer.indexOf(`"sourceId":"${id}"`))
      assert.isTrue(order[0]! >= 0 && order[0]! < order[1]! && order[1]! < order[2]!, answer)
      assert.strictEqual(await sourceIdNow(s), "p3")
    } finally {
      await s.close()
    }
  })

  it("refuses a body over the limit that arrived whole with its headers (chunked, no declared length)", async () => {
    const s = await setUp(100)
    try {
      const token = await s.token()
      const body = JSON.stringify({ sourceId: "x".repeat(200) })
      const chunked = `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`
      const answer = await exchange(s.url, [patch(token, body, true, "Transfer-Encoding: chunked\r\n") + chunked])
      assert.match(answer, /^HTTP\/1\.1 413/)
      assert.include(answer, "RequestEntityTooLarge")
      assert.isNull(await sourceIdNow(s), "nothing was written")
    } finally {
      await s.close()
    }
  })
})
