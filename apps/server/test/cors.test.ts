/**
 * `CORS_ALLOWED_ORIGINS` on the real server process (server 0.6.1): a browser's preflight from a
 * listed origin is answered 204 and the answers name the origin; another origin's preflight is a
 * 405 without CORS headers; unset, no answer carries one; a bad origin stops the start (exit 2).
 */
import { assert, describe, it } from "vitest"
import { runToExit, serverBin, startChild, tempDirs } from "./child.ts"

const secret = "x".repeat(32)
const tmp = tempDirs("cors-")

const env = () => ({ PORT: "0", DATA_DIR: tmp(), STORE: "memory", AUTH_HS256_SECRET: secret, LOG_LEVEL: "none" })
const preflight = (url: string, origin: string) =>
  fetch(`${url}/beta/deviceManagement/deviceEnrollmentConfigurations`, {
    method: "OPTIONS",
    headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type" }
  })

describe("CORS_ALLOWED_ORIGINS", () => {
  /** `f` against a server started with `extra` in its environment, stopped after. */
  const withServer = async (extra: Record<string, string>, f: (url: string) => Promise<void>) => {
    const s = await startChild(serverBin, { ...env(), ...extra })
    try {
      await f(s.url)
    } finally {
      await s.stop()
      s.child.kill("SIGKILL")
    }
  }

  it("answers a listed origin's preflight and names it on answers; another origin gets no CORS header", () =>
    withServer({ CORS_ALLOWED_ORIGINS: "https://app.example.com, http://localhost:3000" }, async (url) => {
      const p = await preflight(url, "http://localhost:3000")
      assert.strictEqual(p.status, 204)
      assert.strictEqual(p.headers.get("access-control-allow-origin"), "http://localhost:3000")
      assert.strictEqual(p.headers.get("access-control-allow-headers"), "authorization,content-type")
      const unauthenticated = await fetch(`${url}/beta/deviceManagement/deviceEnrollmentConfigurations`, { headers: { origin: "https://app.example.com" } })
      assert.strictEqual(unauthenticated.status, 401)
      assert.strictEqual(unauthenticated.headers.get("access-control-allow-origin"), "https://app.example.com")
      assert.include(unauthenticated.headers.get("access-control-expose-headers") ?? "", "WWW-Authenticate")
      const other = await preflight(url, "https://evil.example.com")
      assert.strictEqual(other.status, 405)
      assert.isNull(other.headers.get("access-control-allow-origin"))
    }))

  it("adds no CORS header when unset", () =>
    withServer({}, async (url) => {
      const p = await preflight(url, "https://app.example.com")
      assert.strictEqual(p.status, 405)
      assert.isNull(p.headers.get("access-control-allow-origin"))
    }))

  it("does not start with an origin a browser never sends, naming it (exit 2)", async () => {
    const r = await runToExit(serverBin, { ...env(), CORS_ALLOWED_ORIGINS: "https://app.example.com/" }, 20_000)
    assert.strictEqual(r.code, 2, r.stderr)
    const said = JSON.parse(r.stderr.trim().split("\n").at(-1)!)
    assert.strictEqual(said.level, "error")
    assert.include(said.msg, "invalid configuration: CORS_ALLOWED_ORIGINS: \"https://app.example.com/\": expected an origin as a browser sends it")
  })
})
