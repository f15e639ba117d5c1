/**
 * Request metrics (`Metrics`): counts by route and status, durations in fixed
 * buckets, a bounded set of series whatever clients send, and the listener
 * counting every answer once (a batch's requests as themselves), timing nothing
 * when neither metrics nor a log asks for it.
 */
import { Assignments, Configurations, DirectoryService, MemoryStore } from "@enrollment/core"
import { afterEach, assert, describe, it, vi } from "@effect/vitest"
import { Layer, ManagedRuntime } from "effect"
import type { IncomingMessage, ServerResponse } from "node:http"
import { Metrics, Routes, Server } from "../src/index.ts"
import { secret, start } from "./support.ts"

const users = { method: "GET", path: "/users" } as const
const patch = { method: "PATCH", path: "/users/{userId}" } as const

/** Each series as `METHOD route status×count…`, for comparing whole. */
const summary = (r: Metrics.Recorder) =>
  r.series().map((s) => `${s.method} ${s.route} ${s.statuses.map((x) => `${x.status}×${x.count}`).join(" ")}`)

describe("Metrics: the recorder", () => {
  it("counts each route's answers by status, on the route's template", () => {
    const r = Metrics.make([users, patch])
    r.record(users, "ignored", "GET", 200, 0.001)
    r.record(users, "ignored", "GET", 200, 0.001)
    r.record(users, "ignored", "GET", 401, 0.001)
    r.record(patch, "ignored", "PATCH", 400, 0.001)
    r.record(patch, "ignored", "PATCH", 200, 0.001)
    assert.deepStrictEqual(summary(r), ["GET /beta/users 200×2 401×1", "PATCH /beta/users/{userId} 200×1 400×1"])
  })

  it("puts a duration in the first bucket whose bound it does not pass, cumulatively, and sums the seconds", () => {
    const r = Metrics.make([users], { buckets: [0.01, 0.1, 1] })
    for (const seconds of [0.005, 0.01, 0.05, 0.1, 0.5, 7]) r.record(users, "", "GET", 200, seconds)
    const [s] = r.series()
    assert.deepStrictEqual(r.bounds, [0.01, 0.1, 1])
    // A bound is inclusive (Prometheus's `le`): 0.01 is in the first bucket, 0.1 in the second.
    assert.deepStrictEqual(s!.buckets, [2, 4, 5])
    assert.strictEqual(s!.count, 6, "7 s is in +Inf only")
    assert.closeTo(s!.sum, 7.665, 1e-9)
  })

  it("has the documented default buckets, from 0.5 ms to 10 s", () => {
    assert.deepStrictEqual(Metrics.make([]).bounds, [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10])
  })

  it("refuses bucket bounds that are not positive and ascending", () => {
    for (const buckets of [[0.1, 0.1], [1, 0.5], [0, 1], [Number.NaN], [1, Number.POSITIVE_INFINITY]]) {
      assert.throws(() => Metrics.make([], { buckets }), /ascending/, JSON.stringify(buckets))
    }
  })

  it("counts a HEAD on a GET route as HEAD, on the same template", () => {
    const r = Metrics.make([users])
    r.record(users, "", "HEAD", 200, 0)
    r.record(users, "", "GET", 200, 0)
    assert.deepStrictEqual(summary(r), ["GET /beta/users 200×1", "HEAD /beta/users 200×1"])
  })

  it("lists only the series that have answered, the table's routes in order, then the fixed ones", () => {
    const r = Metrics.make([users, patch])
    assert.deepStrictEqual(r.series(), [])
    r.record(undefined, "/health", "GET", 200, 0)
    r.record(patch, "", "PATCH", 200, 0)
    assert.deepStrictEqual(summary(r), ["PATCH /beta/users/{userId} 200×1", "GET /health 200×1"])
  })

  it("keeps every status, however many a series meets", () => {
    const r = Metrics.make([users])
    const statuses = Array.from({ length: 40 }, (_, i) => 200 + i * 10)
    for (const status of statuses) r.record(users, "", "GET", status, 0)
    for (const status of statuses) r.record(users, "", "GET", status, 0)
    const [s] = r.series()
    assert.deepStrictEqual(s!.statuses, statuses.map((status) => ({ status, count: 2 })))
    assert.strictEqual(s!.count, 80)
  })

  it("gives a route it was not made with a series of its own, on first sight", () => {
    const r = Metrics.make([users])
    r.record(patch, "", "PATCH", 204, 0)
    r.record(patch, "", "PATCH", 204, 0)
    assert.deepStrictEqual(summary(r), ["PATCH /beta/users/{userId} 204×2"])
  })

  it("keeps requests outside the table in a fixed set of series, whatever name and method they come with", () => {
    const r = Metrics.make([users])
    const names = ["/health", "/ready", "/docs", "/beta/openapi.json", "POST /beta/$batch", "unmatched", "/beta/evil", "GET /beta/x{y}", "\"}\n"]
    const methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "PROPFIND", "get", "BREW"]
    for (let i = 0; i < 1000; i++) {
      r.record(undefined, i % 3 === 0 ? `/client/${i}` : names[i % names.length]!, i % 2 === 0 ? `M${i}` : methods[i % methods.length]!, 404, 0)
    }
    const series = r.series()
    const routes = new Set(Metrics.fixedRoutes.map((f) => f.route))
    const methodLabels = new Set([...Metrics.methods, Metrics.otherMethod])
    for (const s of series) {
      assert.ok(routes.has(s.route), s.route)
      assert.ok(methodLabels.has(s.method), s.method)
    }
    assert.isAtMost(series.length, routes.size * methodLabels.size)
    assert.strictEqual(series.reduce((n, s) => n + s.count, 0), 1000, "every request counted")
    // A batch is labelled by its path; an unknown name is `unmatched`, an unknown method `_OTHER`.
    const one = Metrics.make([])
    one.record(undefined, "POST /beta/$batch", "POST", 200, 0)
    one.record(undefined, "/beta/evil", "BREW", 404, 0)
    assert.deepStrictEqual(summary(one), ["POST /beta/$batch 200×1", "_OTHER unmatched 404×1"])
  })
})

describe("Metrics: the listener", () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it("counts every answer once by its route's template, never by what the client sent; a batch's requests as themselves", async () => {
    const recorder = Metrics.make(Routes.routes)
    const s = await start({ store: MemoryStore.layer, metrics: recorder })
    try {
      const marker = `client-${Math.random().toString(36).slice(2)}`
      assert.strictEqual((await s.request("GET", "users", { token: null })).status, 401)
      assert.strictEqual((await s.request("GET", "users")).status, 200)
      assert.strictEqual((await s.request("HEAD", "users")).status, 200)
      assert.strictEqual((await s.request("GET", `users/${marker}`)).status, 404)
      assert.strictEqual((await s.request("GET", `${marker}/x`)).status, 404)
      assert.strictEqual((await s.request("GET", `/${marker}`)).status, 404)
      assert.strictEqual((await s.request("PROPFIND", `/${marker}`)).status, 404)
      assert.strictEqual((await s.request("PUT", "users")).status, 405)
      assert.strictEqual((await s.request("GET", "/health")).status, 200)
      const batch = await s.request("POST", "$batch", {
        body: { requests: [{ id: "1", method: "GET", url: "/users" }, { id: "2", method: "GET", url: `/users/${marker}` }] }
      })
      assert.strictEqual(batch.status, 200)
      assert.deepStrictEqual(summary(recorder), [
        "GET /beta/users/{userId} 404×2",
        "GET /beta/users 200×2 401×1",
        "HEAD /beta/users 200×1",
        "GET /health 200×1",
        "POST /beta/$batch 200×1",
        "GET unmatched 404×2",
        "PUT unmatched 405×1",
        "_OTHER unmatched 404×1"
      ].sort((a, b) => order(a) - order(b)))
      for (const series of recorder.series()) assert.notInclude(`${series.method} ${series.route}`, marker)
      // The request log and the metrics see the same answers.
      assert.strictEqual(recorder.series().reduce((n, x) => n + x.count, 0), s.logs.length)
    } finally {
      await s.close()
    }
  })

  it("counts a type cast by its one template, whichever spelling of the cast the client sent", async () => {
    const recorder = Metrics.make(Routes.routes)
    const s = await start({ store: MemoryStore.layer, metrics: recorder })
    try {
      assert.strictEqual((await s.request("POST", "groups", { body: { id: "g1" } })).status, 201)
      for (const p of ["groups/g1/members/microsoft.graph.user", "groups/g1/members/graph.user", "groups('g1')/members/graph.user", "groups/nope/members/graph.user"]) {
        await s.request("GET", p)
      }
      assert.strictEqual((await s.request("GET", "groups/g1/members/graph.user/$count")).text, "0")
      assert.strictEqual((await s.request("GET", "groups/g1/members/microsoft.graph.Device")).status, 404)
      assert.deepStrictEqual(summary(recorder), [
        "POST /beta/groups 201×1",
        "GET /beta/groups/{groupId}/members/microsoft.graph.user 200×3 404×1",
        "GET /beta/groups/{groupId}/members/microsoft.graph.user/$count 200×1",
        "GET unmatched 404×1"
      ])
    } finally {
      await s.close()
    }
  })

  const order = (line: string) => {
    const [method, route] = line.split(" ")
    const inTable = Routes.routes.findIndex((r) => `/beta${r.path}` === route)
    if (inTable >= 0) return inTable * 2 + (method === "HEAD" ? 1 : 0)
    const fixed = Metrics.fixedRoutes.findIndex((f) => f.route === route)
    const m = Metrics.methods.indexOf(method!)
    return 10_000 + fixed * 100 + (m === -1 ? 99 : m)
  }

  it("times nothing for an answer when neither metrics nor a log is configured, and twice with metrics", async () => {
    const runtime = ManagedRuntime.make(Layer.mergeAll(Assignments.layer, Configurations.layer, DirectoryService.layer).pipe(Layer.provideMerge(MemoryStore.layer)))
    const context = await runtime.context()
    try {
      /** Answers `/health` (synchronously, no network) and says how often `performance.now` was read. */
      const nowsPerHealth = (options: Partial<Server.HandlerOptions>) => {
        const listener = Server.makeHandler({ context, auth: { hs256Secret: secret }, ...options })
        let ended = false
        const res = {
          headersSent: false,
          writeHead() {
            res.headersSent = true
            return res
          },
          end() {
            ended = true
            return res
          }
        }
        const now = vi.spyOn(performance, "now")
        try {
          listener({ method: "GET", url: "/health", headers: {} } as IncomingMessage, res as unknown as ServerResponse)
          return now.mock.calls.length
        } finally {
          now.mockRestore()
          assert.ok(ended)
        }
      }
      assert.strictEqual(nowsPerHealth({}), 0)
      const recorder = Metrics.make(Routes.routes)
      assert.strictEqual(nowsPerHealth({ metrics: recorder }), 2)
      assert.deepStrictEqual(summary(recorder), ["GET /health 200×1"])
    } finally {
      await runtime.dispose()
    }
  })
})
