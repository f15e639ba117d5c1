/**
 * Security review of authentication (SPEC 7) over real HTTP: which token
 * claims grant what, which tenant ids are taken, what a refusal says and how it
 * challenges, and which configurations the verifier refuses to start with.
 */
import { MemoryStore } from "@enrollment/core"
import { createHmac } from "node:crypto"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { Auth, Token } from "../src/index.ts"
import { errorOf, secret, start, type TestServer } from "./support.ts"

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url")
const nowSeconds = () => Math.floor(Date.now() / 1000)

/** An HS256 token signed with the test secret, header and claims exactly as given (no escaping by a library). */
const signed = (header: unknown, claimsJson: string): string => {
  const input = `${b64(header)}.${Buffer.from(claimsJson).toString("base64url")}`
  return `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`
}

describe("security: authentication", () => {
  let s: TestServer
  beforeAll(async () => {
    s = await start({ store: MemoryStore.layer })
  })
  afterAll(async () => {
    await s?.close()
  })

  it("takes a delegated token's permissions from scp alone, not from the user's app roles", async () => {
    // Delegated: the application was consented User.Read.All; the user's own app roles say more.
    const delegated = await Token.mint({ secret, tenant: "tenant-a", subject: "app-for-alice", scopes: ["User.Read.All"], roles: ["User.ReadWrite.All", "Directory.ReadWrite.All"] })
    assert.strictEqual((await s.request("GET", "users", { token: delegated })).status, 200)
    const w = await s.request("POST", "users", { token: delegated, body: { displayName: "from a delegated token" } })
    assert.strictEqual(w.status, 403, w.text)
    assert.strictEqual(errorOf(w).code, "Authorization_RequestDenied")
    // An empty scp is still a delegated token that was consented nothing.
    const none = await Token.mint({ secret, tenant: "tenant-a", subject: "app-for-bob", scopes: [], roles: ["User.ReadWrite.All"] })
    assert.strictEqual((await s.request("GET", "users", { token: none })).status, 403)
    // An application token (roles, no scp) has its roles.
    const app = await Token.mint({ secret, tenant: "tenant-a", subject: "daemon", roles: ["User.ReadWrite.All"] })
    assert.strictEqual((await s.request("POST", "users", { token: app, body: { displayName: "from an application" } })).status, 201)
  })

  it("takes any scp as delegated: an array's scopes (Okta's form), and nothing from roles beside one of another kind", async () => {
    const claims = (scp: string) =>
      `{"tid":"tenant-a","sub":"s","exp":${nowSeconds() + 600},"scp":${scp},"roles":["User.ReadWrite.All","Directory.ReadWrite.All"]}`
    const token = (scp: string) => signed({ alg: "HS256", typ: "JWT" }, claims(scp))
    // An array of scopes is the delegated token's consent, read as Entra's string is.
    assert.strictEqual((await s.request("GET", "users", { token: token('["User.Read.All"]') })).status, 200)
    for (const scp of ['["User.Read.All"]', '"User.Read.All"', "{}", "42", "null", "[42]"]) {
      const w = await s.request("POST", "users", { token: token(scp), body: { displayName: "from a delegated token" } })
      assert.strictEqual(w.status, 403, `scp ${scp}: ${w.text}`)
    }
    assert.strictEqual((await s.request("GET", "users", { token: token("null") })).status, 403, "a null scp grants nothing")
  })

  it("refuses a token whose tid is not a tenant id, and takes a plain one", async () => {
    const claims = (tid: string) => `{"tid":${tid},"scp":"User.Read.All","sub":"t","exp":${nowSeconds() + 600}}`
    for (const [tid, why] of [
      ['"tenant-a\\u0000x"', "a U+0000 (the stores' and the rate limiter's key separator)"],
      ['"tenant-\\u0007"', "a control character"],
      ['"tenant-\\ud800"', "a lone surrogate (stored as U+FFFD, one tenant with every other such)"],
      [JSON.stringify("t".repeat(129)), "129 characters"],
      ["42", "a number"]
    ] as const) {
      const r = await s.request("GET", "users", { token: signed({ alg: "HS256", typ: "JWT" }, claims(tid)) })
      assert.strictEqual(r.status, 401, `${why}: ${r.text}`)
      assert.strictEqual(errorOf(r).code, "InvalidAuthenticationToken", why)
      assert.include(errorOf(r).message, "tid", why)
    }
    const ok = await s.request("GET", "users", { token: signed({ alg: "HS256", typ: "JWT" }, claims(JSON.stringify("t".repeat(128)))) })
    assert.strictEqual(ok.status, 200, ok.text)
  })

  it("challenges a request without a token with a bare Bearer challenge, and a refused token with error=invalid_token", async () => {
    for (const headers of [{}, { authorization: "Basic dXNlcjpwYXNz" }, { authorization: "Bearer" }, { authorization: "Negotiate x" }]) {
      const r = await s.request("GET", "users", { token: null, headers })
      assert.strictEqual(r.status, 401, JSON.stringify(headers))
      assert.strictEqual(errorOf(r).code, "InvalidAuthenticationToken")
      // RFC 6750 3.1: no error code when the request brought no bearer token.
      assert.strictEqual(r.headers.get("www-authenticate"), 'Bearer realm="enrollment"', JSON.stringify(headers))
    }
    const expired = await Token.mint({ secret, tenant: "tenant-a", expiresIn: -3600 })
    for (const token of ["not.a.jwt", expired, `${(await s.token()).slice(0, -4)}AAAA`]) {
      const r = await s.request("GET", "users", { token })
      assert.strictEqual(r.status, 401)
      assert.strictEqual(r.headers.get("www-authenticate"), 'Bearer realm="enrollment", error="invalid_token"')
    }
    // The batch's own token is challenged the same way.
    const batch = await s.request("POST", "/beta/$batch", { token: null, body: { requests: [{ id: "1", method: "GET", url: "/users" }] } })
    assert.strictEqual(batch.status, 401)
    assert.strictEqual(batch.headers.get("www-authenticate"), 'Bearer realm="enrollment"')
  })

  it("does not echo a header's alg at length", async () => {
    const token = `${b64({ alg: "X".repeat(5000) })}.${b64({ tid: "tenant-a", exp: nowSeconds() + 60 })}.c2ln`
    const r = await s.request("GET", "users", { token })
    assert.strictEqual(r.status, 401)
    assert.isBelow(errorOf(r).message.length, 120, errorOf(r).message)
    assert.include(errorOf(r).message, "is not accepted")
  })

  it("accepts the scheme in any case and spaces before the token, and nothing else", async () => {
    const token = await s.token()
    for (const authorization of [`bearer ${token}`, `BEARER ${token}`, `Bearer    ${token}`]) {
      assert.strictEqual((await s.request("GET", "users", { headers: { authorization } })).status, 200, authorization.slice(0, 12))
    }
    for (const authorization of [`Bearer\t${token}`, `Bearer ${token} x`, `Bearer ${token}.x`, `Token ${token}`, token]) {
      assert.strictEqual((await s.request("GET", "users", { headers: { authorization } })).status, 401, authorization.slice(0, 12))
    }
  })
})

describe("security: an issuer template (Entra ID's multi-tenant issuer)", () => {
  const template = "https://login.microsoftonline.com/{tenantid}/v2.0"
  let s: TestServer
  beforeAll(async () => {
    s = await start({ store: MemoryStore.layer, auth: { hs256Secret: secret, issuer: template } })
  })
  afterAll(async () => {
    await s?.close()
  })

  it("takes a token whose iss is its own tenant's, and refuses another tenant's issuer or none", async () => {
    const own = await Token.mint({ secret, tenant: "tenant-a", issuer: template })
    assert.strictEqual(JSON.parse(Buffer.from(own.split(".")[1]!, "base64url").toString()).iss, "https://login.microsoftonline.com/tenant-a/v2.0")
    assert.strictEqual((await s.request("GET", "users", { token: own })).status, 200)
    for (const [iss, says] of [
      ["https://login.microsoftonline.com/tenant-b/v2.0", 'unexpected "iss" claim value'],
      [template, 'unexpected "iss" claim value'],
      [undefined, 'missing required "iss" claim']
    ] as const) {
      const claims = { tid: "tenant-a", scp: "User.Read.All", exp: nowSeconds() + 600, ...(iss === undefined ? {} : { iss }) }
      const r = await s.request("GET", "users", { token: signed({ alg: "HS256", typ: "JWT" }, JSON.stringify(claims)) })
      assert.strictEqual(r.status, 401, `${iss}: ${r.text}`)
      assert.strictEqual(errorOf(r).message, `The bearer token was refused: ${says}`)
    }
  })

  it("puts a tenant with $ in the template as it is (no replacement pattern)", async () => {
    const token = (tid: string, iss: string) =>
      signed({ alg: "HS256", typ: "JWT" }, JSON.stringify({ tid, iss, scp: "User.Read.All", exp: nowSeconds() + 600 }))
    assert.strictEqual(Auth.issuerOf(template, "a$&b$$c$'d"), "https://login.microsoftonline.com/a$&b$$c$'d/v2.0")
    assert.strictEqual((await s.request("GET", "users", { token: token("x$$", "https://login.microsoftonline.com/x$$/v2.0") })).status, 200)
    assert.strictEqual((await s.request("GET", "users", { token: token("x$$", "https://login.microsoftonline.com/x$/v2.0") })).status, 401)
  })
})

describe("security: verifier configuration", () => {
  it("refuses a JWKS without an audience: its keys sign tokens issued to other applications too", () => {
    assert.throws(() => Auth.make({ jwksUrl: "https://login.example.test/keys" }), /audience/)
    assert.throws(() => Auth.make({ jwksUrl: "https://login.example.test/keys", audience: "" }), /audience/)
    assert.throws(() => Auth.make({ jwksUrl: "https://login.example.test/keys", hs256Secret: secret, issuer: "https://login.example.test/" }), /audience/)
    // A URL a fetch cannot send: refused at once, not a 503 at every token.
    assert.throws(() => Auth.make({ jwksUrl: "https://app:s3cr3t@login.example.test/keys", audience: "api://e" }), /user name or password/)
    assert.throws(() => Auth.make({ jwksUrl: "ftp://login.example.test/keys", audience: "api://e" }), /http:\/\/ or https:\/\//)
    // With one it starts (nothing is fetched before the first token), and a secret alone needs none.
    Auth.make({ jwksUrl: "https://login.example.test/keys", audience: "api://enrollment" })
    Auth.make({ hs256Secret: secret })
  })

  it("refuses an HS256 secret shorter than 32 bytes (RFC 7518 3.2), as a string (its UTF-8 bytes) or bytes", () => {
    assert.throws(() => Auth.make({ hs256Secret: "x" }), /at least 32 bytes .*this one has 1/)
    assert.throws(() => Auth.make({ hs256Secret: "s".repeat(31) }), /at least 32 bytes/)
    assert.throws(() => Auth.make({ hs256Secret: new Uint8Array(16) }), /at least 32 bytes/)
    Auth.make({ hs256Secret: "s".repeat(32) })
    Auth.make({ hs256Secret: "é".repeat(16) })
  })
})
