/**
 * With tracing on, each request's work runs in a server span named by its route,
 * continuing the caller's W3C trace (`traceparent`); with it off, no span is made.
 */
import { MemoryStore, Store } from "@enrollment/core"
import { Effect, Exit, Layer, Option } from "effect"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { recordingTracer, start, type TestServer } from "./support.ts"

const { spans: recorded, layer: servers } = recordingTracer()

describe("request spans", () => {
  let on: TestServer
  let off: TestServer
  beforeAll(async () => {
    on = await start({ extra: servers(true) })
    off = await start({ extra: servers(false) })
  })
  afterAll(async () => {
    await on?.close()
    await off?.close()
  })

  it("names a server span by the route, continues the caller's trace, and makes none with tracing off", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736"
    const parentId = "00f067aa0ba902b7"
    recorded.length = 0
    const r = await on.request("GET", "deviceManagement/deviceEnrollmentConfigurations/nope", { headers: { traceparent: `00-${traceId}-${parentId}-01` } })
    assert.strictEqual(r.status, 404)
    const span = recorded.find((s) => s.kind === "server")
    assert.ok(span !== undefined, `spans: ${recorded.map((s) => s.name).join(", ")}`)
    assert.strictEqual(span.name, "GET /beta/deviceManagement/deviceEnrollmentConfigurations/{configurationId}")
    assert.strictEqual(span.traceId, traceId)
    assert.strictEqual(span.parent._tag === "Some" ? span.parent.value.spanId : undefined, parentId)
    assert.strictEqual(span.attributes.get("http.route"), "/beta/deviceManagement/deviceEnrollmentConfigurations/{configurationId}")
    assert.strictEqual(span.attributes.get("request.id"), r.headers.get("request-id"))
    assert.strictEqual(span.status._tag, "Ended", "ended with the request's answer")

    // Without a traceparent the request starts a trace of its own.
    recorded.length = 0
    await on.request("GET", "users")
    const own = recorded.find((s) => s.kind === "server")
    assert.ok(own !== undefined && own.traceId !== traceId && own.parent._tag === "None")

    recorded.length = 0
    await off.request("GET", "users", { headers: { traceparent: `00-${traceId}-${parentId}-01` } })
    assert.deepStrictEqual(recorded.map((s) => s.name), [])
  })
})

describe("a request span's end", () => {
  /**
   * The memory store, whose user `broken` holds a value no JSON text can hold (its answer cannot be
   * written), and whose readiness check is traced, as the SQL stores' are.
   */
  const broken = Layer.effect(
    Store,
    Effect.map(MemoryStore.make, (s) => ({
      ...s,
      ready: Effect.withSpan(s.ready, "Store.ready"),
      users: {
        ...s.users,
        get: (t: string, id: string) => id === "broken" ? Effect.succeed(Option.some({ id, size: 1n } as never)) : s.users.get(t, id)
      }
    }))
  )
  let s: TestServer
  beforeAll(async () => {
    s = await start({ store: broken, extra: servers(true) })
  })
  afterAll(async () => {
    await s?.close()
  })

  /** The server spans of one request, by its request-id. */
  const spansOf = (requestId: string | null) => recorded.filter((x) => x.kind === "server" && x.attributes.get("request.id") === requestId)
  const ended = (span: (typeof recorded)[number]) => {
    assert.strictEqual(span.status._tag, "Ended")
    return span.status._tag === "Ended" ? span.status.exit : Exit.void
  }

  it("carries the answer's status: a client's 4xx is no error, a 500 made in writing the answer is one", async () => {
    const missing = await s.request("GET", "users/nobody")
    assert.strictEqual(missing.status, 404)
    const [notFound] = spansOf(missing.headers.get("request-id"))
    assert.ok(notFound !== undefined)
    assert.strictEqual(notFound.attributes.get("http.response.status_code"), 404)
    assert.isTrue(Exit.isSuccess(ended(notFound)), "a 404 is the client's: not an error")
    // Nor is any span under it: the service call that found nothing says so as an outcome.
    const under = recorded.filter((x) => x.traceId === notFound.traceId && x !== notFound)
    assert.isAbove(under.length, 0)
    for (const x of under) assert.isTrue(Exit.isSuccess(ended(x)), `${x.name} is no error`)
    assert.include(under.map((x) => x.attributes.get("enrollment.refusal")), "EntityNotFound")

    const invalid = await s.request("POST", "users", { body: { accountEnabled: "yes" } })
    assert.strictEqual(invalid.status, 400)
    assert.isTrue(Exit.isSuccess(ended(spansOf(invalid.headers.get("request-id"))[0]!)))

    const failed = await s.request("GET", "users/broken")
    assert.strictEqual(failed.status, 500, failed.text)
    const [internal] = spansOf(failed.headers.get("request-id"))
    assert.ok(internal !== undefined)
    assert.strictEqual(internal.attributes.get("http.response.status_code"), 500)
    const exit = ended(internal)
    assert.isTrue(Exit.isFailure(exit), "a 500 is an error")
    assert.include(String(Exit.isFailure(exit) ? exit.cause : ""), "BigInt")
  })

  it("makes no trace of a readiness probe (one every few seconds would be a trace each)", async () => {
    recorded.length = 0
    const r = await s.request("GET", "/ready")
    assert.strictEqual(r.status, 200, r.text)
    assert.deepStrictEqual(recorded.map((x) => x.name), [])
  })

  it("makes a span for an answer kept from an earlier request, saying so", async () => {
    const traceIds = ["1bf92f3577b34da6a3ce929d0e0e4736", "2bf92f3577b34da6a3ce929d0e0e4736"]
    const ids: Array<string | null> = []
    for (const traceId of traceIds) {
      const r = await s.request("GET", "users?$top=2", { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } })
      assert.strictEqual(r.status, 200)
      ids.push(r.headers.get("request-id"))
    }
    const [first, second] = ids.map((id) => spansOf(id)[0])
    assert.ok(first !== undefined && second !== undefined, "a span for each request")
    assert.deepStrictEqual([first.traceId, second.traceId], traceIds)
    assert.strictEqual(first.attributes.get("enrollment.answer.kept"), undefined)
    assert.strictEqual(second.attributes.get("enrollment.answer.kept"), true)
    assert.strictEqual(second.attributes.get("http.response.status_code"), 200)
    assert.isTrue(Exit.isSuccess(ended(second)))
  })
})
