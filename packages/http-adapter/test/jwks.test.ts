/**
 * The JWKS path of SPEC 7 over real HTTP: a local JWKS endpoint serves RS256 and
 * ES256 public keys (as Microsoft Entra ID does), the server is configured with
 * its URL, an issuer and an audience, and every way a token can be wrong is
 * answered 401 InvalidAuthenticationToken with a Bearer challenge. The JWKS is
 * fetched once and cached, and fetched again when a token names an unknown key
 * (rotation).
 */
import * as jose from "jose"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { errorOf, start, type TestServer } from "./support.ts"

const issuer = "https://login.example.test/tenant-a/v2.0"
const audience = "api://enrollment-tests"
/** Short, so rotation is testable without waiting jose's default 30 s. */
const cooldownSeconds = 0.25

interface Signer {
  readonly kid: string
  readonly alg: "RS256" | "ES256"
  readonly privateKey: jose.CryptoKey
  readonly publicKey: jose.CryptoKey
  readonly jwk: jose.JWK
}

const signer = async (alg: "RS256" | "ES256", kid: string): Promise<Signer> => {
  const { privateKey, publicKey } = await jose.generateKeyPair(alg)
  return { kid, alg, privateKey, publicKey, jwk: { ...(await jose.exportJWK(publicKey)), kid, alg, use: "sig" } }
}

const nowSeconds = () => Math.floor(Date.now() / 1000)
let serial = 0

/** A token signed by `key` (claims overridable; `undefined` removes one). */
const sign = (key: Signer, claims: Record<string, unknown> = {}, header: Partial<jose.JWTHeaderParameters> = {}) => {
  const payload: Record<string, unknown> = {
    tid: "tenant-a",
    scp: "User.Read.All",
    sub: "tester",
    iss: issuer,
    aud: audience,
    iat: nowSeconds(),
    exp: nowSeconds() + 3600,
    jti: `t${++serial}`,
    ...claims
  }
  for (const k of Object.keys(payload)) if (payload[k] === undefined) delete payload[k]
  return new jose.SignJWT(payload as jose.JWTPayload)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "JWT", ...header })
    .sign(key.privateKey)
}

const b64 = (v: unknown) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url")

describe("JWT verification against a JWKS", () => {
  let s: TestServer
  let jwksServer: http.Server
  let jwksUrl: string
  let hits = 0
  let served: Array<jose.JWK> = []
  let rsa: Signer
  let ec: Signer
  let rogue: Signer

  const get = (token: string) => s.request("GET", "/beta/users", { token })
  const ok = async (token: string) => {
    const r = await get(token)
    assert.strictEqual(r.status, 200, r.text)
    assert.isArray(r.json.value)
  }
  const refused = async (token: string, why: string) => {
    const r = await get(token)
    assert.strictEqual(r.status, 401, `${why}: ${r.status} ${r.text}`)
    assert.strictEqual(errorOf(r).code, "InvalidAuthenticationToken", why)
    assert.match(r.headers.get("www-authenticate") ?? "", /^Bearer\b/, why)
    return errorOf(r).message
  }

  beforeAll(async () => {
    ;[rsa, ec, rogue] = await Promise.all([signer("RS256", "rsa-1"), signer("ES256", "ec-1"), signer("RS256", "rogue-1")])
    served = [rsa.jwk, ec.jwk]
    jwksServer = http.createServer((req, res) => {
      hits++
      res.writeHead(200, { "content-type": "application/json" })
      res.end(JSON.stringify({ keys: served }))
    })
    await new Promise<void>((resolve) => jwksServer.listen(0, "127.0.0.1", resolve))
    jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/discovery/v2.0/keys`
    s = await start({ auth: { jwksUrl, issuer, audience, jwksCooldownSeconds: cooldownSeconds } })
  })
  afterAll(async () => {
    await s?.close()
    jwksServer?.closeAllConnections()
    await new Promise<void>((resolve) => jwksServer ? jwksServer.close(() => resolve()) : resolve())
  })

  it("accepts an RS256 token signed with a served key, fetching the JWKS once", async () => {
    assert.strictEqual(hits, 0, "nothing is fetched before the first token")
    await ok(await sign(rsa))
    assert.strictEqual(hits, 1)
  })

  it("accepts an ES256 token signed with a served key, from the cached JWKS", async () => {
    await ok(await sign(ec))
    assert.strictEqual(hits, 1)
  })

  it("caches the JWKS: not fetched per request nor per token", async () => {
    const before = hits
    const same = await sign(rsa)
    for (let i = 0; i < 20; i++) await ok(same)
    // Distinct tokens (distinct jti) are each verified, all against the cached key set.
    const distinct = await Promise.all(Array.from({ length: 20 }, (_, i) => sign(i % 2 === 0 ? rsa : ec)))
    await Promise.all(distinct.map(ok))
    assert.isAtMost(hits - before, 1, `${hits - before} JWKS fetches for 40 requests`)
  })

  it("refuses a token signed by a key the JWKS does not hold", async () => {
    await refused(await sign(rogue), "unknown kid")
    // The attacker's key, claiming the kid of a served key.
    await refused(await sign(rogue, {}, { kid: rsa.kid }), "served kid, foreign key")
    // No kid at all: tried against the served keys of that algorithm, none verifies.
    const noKid = await new jose.SignJWT({ tid: "tenant-a", scp: "User.Read.All", iss: issuer, aud: audience })
      .setProtectedHeader({ alg: "RS256" }).setExpirationTime("1h").sign(rogue.privateKey)
    await refused(noKid, "no kid, foreign key")
    // A served key's signature with a tampered payload.
    const [h, , sig] = (await sign(rsa)).split(".")
    await refused(`${h}.${b64({ tid: "tenant-b", scp: "User.ReadWrite.All", iss: issuer, aud: audience, exp: nowSeconds() + 3600 })}.${sig}`, "tampered payload")
  })

  it("refuses a wrong or missing issuer", async () => {
    assert.include(await refused(await sign(rsa, { iss: "https://evil.example/v2.0" }), "wrong iss"), "iss")
    await refused(await sign(ec, { iss: undefined }), "no iss")
  })

  it("refuses a wrong or missing audience", async () => {
    assert.include(await refused(await sign(rsa, { aud: "api://someone-else" }), "wrong aud"), "aud")
    await refused(await sign(ec, { aud: ["api://a", "api://b"] }), "aud list without ours")
    await refused(await sign(rsa, { aud: undefined }), "no aud")
  })

  it("refuses an expired token and one not yet valid (beyond the clock tolerance)", async () => {
    assert.include(await refused(await sign(rsa, { iat: nowSeconds() - 7200, exp: nowSeconds() - 3600 }), "expired"), "expired")
    await refused(await sign(ec, { exp: nowSeconds() - 120 }), "expired 2 minutes ago")
    assert.include(await refused(await sign(rsa, { nbf: nowSeconds() + 3600 }), "nbf in the future"), "nbf")
    await refused(await sign(rsa, { exp: undefined }), "no exp at all")
  })

  it("refuses unsigned (alg: none) tokens", async () => {
    const claims = { tid: "tenant-a", scp: "User.Read.All", sub: "tester", iss: issuer, aud: audience, exp: nowSeconds() + 3600 }
    for (const header of [{ alg: "none" }, { alg: "none", typ: "JWT", kid: rsa.kid }, { alg: "None" }, { alg: "NONE" }]) {
      await refused(`${b64(header)}.${b64(claims)}.`, `unsigned ${JSON.stringify(header)}`)
    }
    // A none token carrying a stolen signature, and one with no signature part at all.
    const sig = (await sign(rsa)).split(".")[2]
    await refused(`${b64({ alg: "none" })}.${b64(claims)}.${sig}`, "none with a signature")
    await refused(`${b64({ alg: "none" })}.${b64(claims)}`, "two parts")
  })

  it("refuses HS256 tokens keyed with the public key or any string (algorithm confusion)", async () => {
    const claims = { tid: "tenant-a", scp: "User.Read.All", sub: "tester", iss: issuer, aud: audience }
    const hs = (secret: Uint8Array, kid?: string) =>
      new jose.SignJWT(claims).setProtectedHeader({ alg: "HS256", typ: "JWT", ...(kid !== undefined ? { kid } : {}) })
        .setExpirationTime("1h").sign(secret)
    const enc = (s: string) => new TextEncoder().encode(s)
    const pem = await jose.exportSPKI(rsa.publicKey)
    const secrets: Array<[string, Uint8Array]> = [
      ["SPKI PEM of the served RSA key", enc(pem)],
      ["served RSA JWK as JSON", enc(JSON.stringify(rsa.jwk))],
      ["served RSA modulus", Buffer.from(rsa.jwk.n!, "base64url")],
      ["served EC JWK as JSON", enc(JSON.stringify(ec.jwk))],
      ["any string", enc("any-string-at-all-of-some-32-bytes!!")],
      ["empty-ish", enc("x")]
    ]
    for (const [what, secret] of secrets) {
      await refused(await hs(secret, rsa.kid), `HS256 with ${what}`)
      await refused(await hs(secret), `HS256 with ${what}, no kid`)
    }
  })

  it("refuses algorithms other than RS256 and ES256, even with a served kid", async () => {
    const claims = { tid: "tenant-a", scp: "User.Read.All", iss: issuer, aud: audience }
    const ps = await jose.generateKeyPair("PS256")
    await refused(await new jose.SignJWT(claims).setProtectedHeader({ alg: "PS256", kid: rsa.kid }).setExpirationTime("1h").sign(ps.privateKey), "PS256")
    // The served RSA key's alg is RS256: an RS384 header is refused before any key is tried.
    const rs384 = await jose.generateKeyPair("RS384")
    await refused(await new jose.SignJWT(claims).setProtectedHeader({ alg: "RS384", kid: rsa.kid }).setExpirationTime("1h").sign(rs384.privateKey), "RS384")
    // ES256 header naming the RSA key's kid.
    await refused(await sign(ec, {}, { kid: rsa.kid }), "ES256 under an RSA kid")
  })

  it("picks up a rotated key: an unknown kid refreshes the JWKS once", async () => {
    const next = await signer("ES256", "ec-2")
    const rotated = await sign(next)
    served = [...served, next.jwk]
    // Past the cooldown since the last fetch, an unknown kid causes exactly one fetch.
    await new Promise((r) => setTimeout(r, cooldownSeconds * 1000 + 50))
    const before = hits
    await ok(rotated)
    assert.strictEqual(hits - before, 1, "one fetch for the new kid")
    // The refreshed set serves the new key and the old ones without further fetches.
    for (const k of [next, rsa, ec]) await ok(await sign(k))
    assert.strictEqual(hits - before, 1)
    // Then the old RSA key is retired: tokens under it are refused once the set is refreshed.
    served = served.filter((k) => k.kid !== rsa.kid)
    await new Promise((r) => setTimeout(r, cooldownSeconds * 1000 + 50))
    const later = await signer("RS256", "rsa-2")
    served = [...served, later.jwk]
    await ok(await sign(later))
    await refused(await sign(rsa), "retired key")
  })

  it("does not fetch the JWKS per token when tokens name unknown kids (cooldown)", async () => {
    const before = hits
    const forged = await Promise.all(Array.from({ length: 20 }, (_, i) => sign(rogue, {}, { kid: `random-${i}` })))
    for (const t of forged) await refused(t, "unknown kid")
    assert.isAtMost(hits - before, 1, `${hits - before} JWKS fetches for 20 unknown kids`)
  })
})

describe("a JWKS that cannot be fetched", () => {
  it("answers 503 (not 401: the token was never judged) and logs why, for a closed port and for an answer that is no JWKS", async () => {
    // A port with nothing listening: taken, then closed.
    const probe = http.createServer()
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve))
    const closedPort = (probe.address() as AddressInfo).port
    await new Promise<void>((resolve) => probe.close(() => resolve()))
    const broken = http.createServer((_req, res) => {
      res.writeHead(500, { "content-type": "text/plain" })
      res.end("down")
    })
    await new Promise<void>((resolve) => broken.listen(0, "127.0.0.1", resolve))
    const key = await signer("RS256", "k-1")
    try {
      for (const [url, why] of [
        [`http://127.0.0.1:${closedPort}/keys`, "ECONNREFUSED"],
        [`http://127.0.0.1:${(broken.address() as AddressInfo).port}/keys`, "200"]
      ] as const) {
        const s = await start({ auth: { jwksUrl: url, issuer, audience } })
        try {
          const r = await s.request("GET", "/beta/users", { token: await sign(key) })
          assert.strictEqual(r.status, 503, `${url}: ${r.text}`)
          assert.strictEqual(errorOf(r).code, "ServiceUnavailable")
          assert.ok(r.headers.get("retry-after"))
          assert.notInclude(r.text, "127.0.0.1", "the cause stays in the log")
          const logged = s.logs.find((l) => l.status === 503)
          assert.ok(logged !== undefined)
          assert.include(String(logged.defect), "the JWKS could not be fetched")
          assert.include(String(logged.defect), why)
          // A token that is bad on its face is still a 401: nothing needs fetching to refuse it.
          assert.strictEqual((await s.request("GET", "/beta/users", { token: "not-a-jwt" })).status, 401)
        } finally {
          await s.close()
        }
      }
    } finally {
      broken.closeAllConnections()
      await new Promise<void>((resolve) => broken.close(() => resolve()))
    }
  })
})
