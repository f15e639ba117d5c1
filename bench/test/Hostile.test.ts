/**
 * Hostile input at volume: 10 000 generated bad requests are all answered
 * 4xx, the server stays up, and the store file is byte-for-byte unchanged.
 */
import { assert, describe, it } from "@effect/vitest"
import { requestSeries, run } from "../src/Hostile.ts"

describe("hostile input", () => {
  it("answers 10 000 generated bad requests with 4xx, stays up and leaves the store byte-identical", async () => {
    const r = await run({ requests: 10_000, seed: 42 })
    assert.deepStrictEqual([...r.failures], [])
    assert.isTrue(r.alive)
    assert.isTrue(r.ready)
    assert.strictEqual(r.after, r.before)
    assert.strictEqual(r.requests, 10_000)
    // The metrics endpoint counted the answers, each under a route of the table or a fixed
    // name: no path, id or method a client sent became a label.
    assert.isDefined(r.metrics)
    assert.deepStrictEqual([...r.metrics!.foreign], [])
    assert.isAbove(r.metrics!.answers, 5_000)
    assert.isAtMost(r.metrics!.answers, 10_000 + 10)
  })

  it("reads a scrape's request series, and tells labels outside the route table", () => {
    const scrape = [
      "# TYPE http_server_requests_total counter",
      'http_server_requests_total{method="GET",route="/beta/users",status="401"} 3',
      'http_server_requests_total{method="GET",route="/beta/users",status="404"} 1',
      'http_server_requests_total{method="_OTHER",route="unmatched",status="405"} 2',
      'http_server_requests_total{method="GET",route="/beta/users/evil",status="404"} 1',
      'http_server_requests_total{method="BREW",route="unmatched",status="405"} 1',
      'http_server_request_duration_seconds_count{method="GET",route="/beta/users"} 4'
    ].join("\n")
    const seen = requestSeries(scrape)
    assert.strictEqual(seen.series, 4)
    assert.strictEqual(seen.answers, 8)
    assert.deepStrictEqual([...seen.foreign], ["GET /beta/users/evil", "BREW unmatched"])
  })
})
