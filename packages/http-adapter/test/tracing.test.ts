/**
 * With tracing on, each request's work runs in a server span named by its route,
 * continuing the caller's W3C trace (`traceparent`); with it off, no span is made.
 */
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
    assert.strictEqual(span.status._tag, "Ended", "ended with the request's work")

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
