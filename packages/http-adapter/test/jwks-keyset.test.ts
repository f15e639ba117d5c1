/**
 * The key set under a failing identity provider, over real HTTP (KeySet, since 0.13.0; found in
 * review): a JWKS that fails is fetched again only after a backoff, whatever callers send; keys
 * held are kept while it fails; a token without `kid` is tried with each key of its type; an
 * answer over the size limit is refused; the log names the URL without its query.
 */
import * as jose from "jose"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import type { Auth } from "../src/index.ts"
import * as KeySet from "../src/KeySet.ts"
import { errorOf, start, type TestServer } from "./support.ts"

const audience = "api://enrollment-tests"

interface Signer {
  readonly kid: string
  readonly privateKey: jose.CryptoKey
  readonly jwk: jose.JWK
}

const signer = async (alg: "RS256" | "ES256", kid: string): Promise<Signer> => {
  const { privateKey, publicKey } = await jose.generateKeyPair(alg)
  return { kid, privateKey, jwk: { ...(await jose.exportJWK(publicKey)), kid, alg, use: "sig" } }
}

let serial = 0
/** A new token (its own `jti`, so never a cached one) signed by `key`, naming `kid` (none: no `kid`). */
const sign = (key: Signer, alg: "RS256" | "ES256" = "RS256", kid: string | null = key.kid) =>
  new jose.SignJWT({ tid: "tenant-a", scp: "User.Read.All", sub: "t", aud: audience, jti: `k${++serial}` })
    .setProtectedHeader(kid === null ? { alg } : { alg, kid })
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(key.privateKey)

/** A JWKS endpoint whose answer the test sets: the keys, a status, or a body. */
const jwksEndpoint = async () => {
  const state = { hits: 0, status: 200, keys: [] as Array<jose.JWK>, body: undefined as string | undefined }
  const server = http.createServer((_req, res) => {
    state.hits++
    if (state.status !== 200) {
      res.writeHead(state.status, { "content-type": "text/plain" })
      return res.end("down")
    }
    res.writeHead(200, { "content-type": "application/json" })
    res.end(state.body ?? JSON.stringify({ keys: state.keys }))
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const port = (server.address() as AddressInfo).port
  return {
    state,
    url: `http://127.0.0.1:${port}/keys?sig=TOPSECRET`,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * A JWKS endpoint that `serve` sets up, a server verifying against it (with `auth`'s other
 * options), `test` run on the two, and both closed.
 */
const withJwks = async (
  serve: (state: Awaited<ReturnType<typeof jwksEndpoint>>["state"]) => void,
  auth: Partial<Auth.AuthOptions>,
  test: (s: TestServer, state: Awaited<ReturnType<typeof jwksEndpoint>>["state"]) => Promise<void>
) => {
  const jwks = await jwksEndpoint()
  serve(jwks.state)
  const s = await start({ auth: { jwksUrl: jwks.url, audience, ...auth } })
  try {
    await test(s, jwks.state)
  } finally {
    await s.close()
    await jwks.close()
  }
}

describe("a JWKS that fails after it served", () => {
  let s: TestServer
  let jwks: Awaited<ReturnType<typeof jwksEndpoint>>
  let rsa: Signer
  let rogue: Signer
  const get = (token: string) => s.request("GET", "/beta/users", { token })

  beforeAll(async () => {
    ;[rsa, rogue] = await Promise.all([signer("RS256", "rsa-1"), signer("RS256", "rogue")])
    jwks = await jwksEndpoint()
    jwks.state.keys = [rsa.jwk]
    // A cooldown of 2 s: the first failure's backoff is 1 s, the next 2 s.
    s = await start({ auth: { jwksUrl: jwks.url, audience, jwksCooldownSeconds: 2, jwksMaxAgeSeconds: 0.3 } })
  })
  afterAll(async () => {
    await s?.close()
    await jwks?.close()
  })

  it("keeps the keys it holds: tokens of a known key are verified while the JWKS fails, past the keys' age", async () => {
    assert.strictEqual((await get(await sign(rsa))).status, 200)
    assert.strictEqual(jwks.state.hits, 1)
    jwks.state.status = 500
    await sleep(400)
    // Older than their age: fetched again in the background (which fails), verified with the keys held.
    for (let i = 0; i < 5; i++) {
      const r = await get(await sign(rsa))
      assert.strictEqual(r.status, 200, r.text)
    }
    assert.strictEqual(jwks.state.hits, 2, "one background fetch, which failed")
  })

  it("fetches a failing JWKS at most once a backoff, whatever kids the tokens name", async () => {
    const before = jwks.state.hits
    const began = Date.now()
    let unavailable = 0
    for (let i = 0; i < 60; i++) {
      const r = await get(await sign(rogue, "RS256", `forged-${i}`))
      // An unknown kid while the key set cannot be fetched: not judged, a 503.
      if (r.status === 503) unavailable++
      else assert.strictEqual(r.status, 401, r.text)
    }
    const seconds = (Date.now() - began) / 1000
    // 1 s, then 2 s, between attempts: at most one fetch a second, and one more for the start.
    assert.isAtMost(jwks.state.hits - before, Math.ceil(seconds) + 1, `${jwks.state.hits - before} fetches in ${seconds} s for 60 tokens`)
    assert.isAbove(unavailable, 0)
    // Tokens of the known key still pass meanwhile.
    assert.strictEqual((await get(await sign(rsa))).status, 200)
  })

  it("logs why, naming the JWKS without its query", async () => {
    const logged = s.logs.filter((l) => l.status === 503).map((l) => String(l.defect))
    assert.isAbove(logged.length, 0)
    for (const line of logged) {
      assert.include(line, "the JWKS could not be fetched")
      assert.include(line, "/keys answered 500, expected 200 OK")
      assert.notInclude(line, "TOPSECRET")
    }
  })

  it("picks up a new key once the JWKS serves again, after the backoff", async () => {
    const next = await signer("ES256", "ec-2")
    jwks.state.keys = [rsa.jwk, next.jwk]
    jwks.state.status = 200
    await sleep(2100)
    const r = await get(await sign(next, "ES256"))
    assert.strictEqual(r.status, 200, r.text)
  })
})

describe("a JWKS that cannot be read at the first token", () => {
  it("answers 503 without a fetch per request, and verifies once it serves", async () => {
    const rsa = await signer("RS256", "rsa-1")
    await withJwks((state) => {
      state.keys = [rsa.jwk]
      state.status = 503
    }, { jwksCooldownSeconds: 30 }, async (s, state) => {
      for (let i = 0; i < 20; i++) {
        const r = await s.request("GET", "/beta/users", { token: await sign(rsa) })
        assert.strictEqual(r.status, 503, r.text)
        assert.strictEqual(errorOf(r).code, "ServiceUnavailable")
      }
      assert.strictEqual(state.hits, 1, "one fetch; the others wait out its backoff of 1 s")
      state.status = 200
      await sleep(1100)
      const r = await s.request("GET", "/beta/users", { token: await sign(rsa) })
      assert.strictEqual(r.status, 200, r.text)
      assert.strictEqual(state.hits, 2)
    })
  })

  it("refuses an answer over 1 MiB as no key set (a 503 saying so)", async () => {
    const rsa = await signer("RS256", "rsa-1")
    await withJwks((state) => {
      state.body = JSON.stringify({ keys: [rsa.jwk], padding: "x".repeat(1024 * 1024) })
    }, {}, async (s) => {
      const r = await s.request("GET", "/beta/users", { token: await sign(rsa) })
      assert.strictEqual(r.status, 503, r.text)
      const logged = s.logs.find((l) => l.status === 503)
      assert.match(String(logged?.defect), /the JWKS at http:\/\/127\.0\.0\.1:\d+\/keys (declares \d+ bytes|sent more than the \d+ bytes)/)
    })
  })
})

describe("a JWKS with a byte-order mark", () => {
  it("is read as the JSON after it, as fetch's json() reads it", async () => {
    const rsa = await signer("RS256", "rsa-1")
    await withJwks((state) => {
      state.body = `\ufeff${JSON.stringify({ keys: [rsa.jwk] })}`
    }, {}, async (s) => {
      const r = await s.request("GET", "/beta/users", { token: await sign(rsa) })
      assert.strictEqual(r.status, 200, r.text)
    })
  })
})

describe("a token without kid", () => {
  it("is verified with each key of its type the JWKS holds, and refused when none signed it", async () => {
    const [a, b, ec, rogue] = await Promise.all([signer("RS256", "a"), signer("RS256", "b"), signer("ES256", "e"), signer("RS256", "r")])
    await withJwks((state) => {
      state.keys = [a.jwk, b.jwk, ec.jwk]
    }, {}, async (s, state) => {
      for (const key of [a, b]) {
        const r = await s.request("GET", "/beta/users", { token: await sign(key, "RS256", null) })
        assert.strictEqual(r.status, 200, `${key.kid}: ${r.text}`)
      }
      assert.strictEqual((await s.request("GET", "/beta/users", { token: await sign(ec, "ES256", null) })).status, 200)
      const forged = await s.request("GET", "/beta/users", { token: await sign(rogue, "RS256", null) })
      assert.strictEqual(forged.status, 401, forged.text)
      assert.strictEqual(errorOf(forged).message, "The bearer token signature is invalid")
      assert.strictEqual(state.hits, 1)
    })
  })

  it("finds a key added to the set since its last fetch, once the cooldown allows a fetch, and forged ones fetch no more", async () => {
    const [a, b, rogue] = await Promise.all([signer("RS256", "a"), signer("RS256", "b"), signer("RS256", "r")])
    await withJwks((state) => {
      state.keys = [a.jwk]
    }, { jwksCooldownSeconds: 0.5 }, async (s, state) => {
      const get = async (key: Signer) => (await s.request("GET", "/beta/users", { token: await sign(key, "RS256", null) })).status
      assert.strictEqual(await get(a), 200)
      state.keys = [a.jwk, b.jwk]
      // Within the cooldown: the set held is all there is.
      assert.strictEqual(await get(b), 401)
      assert.strictEqual(state.hits, 1)
      await sleep(600)
      assert.strictEqual(await get(b), 200)
      assert.strictEqual(state.hits, 2)
      // Tokens no key signed: at most one fetch a cooldown, however many come.
      const began = Date.now()
      for (let i = 0; i < 20; i++) assert.strictEqual(await get(rogue), 401)
      const cooldowns = Math.ceil((Date.now() - began) / 500)
      assert.isAtMost(state.hits - 2, cooldowns, `${state.hits - 2} fetches in ${cooldowns} cooldowns for 20 tokens`)
    })
  })
})

describe("tokens cached as verified when their key leaves the JWKS (since 0.15.0)", () => {
  let s: TestServer
  let jwks: Awaited<ReturnType<typeof jwksEndpoint>>
  let kept: Signer
  let removed: Signer
  const get = (token: string) => s.request("GET", "/beta/users", { token })

  beforeAll(async () => {
    ;[kept, removed] = await Promise.all([signer("RS256", "kept"), signer("ES256", "removed")])
    jwks = await jwksEndpoint()
    jwks.state.keys = [kept.jwk, removed.jwk]
    s = await start({ auth: { jwksUrl: jwks.url, audience, jwksCooldownSeconds: 30, jwksMaxAgeSeconds: 0.3 } })
  })
  afterAll(async () => {
    await s?.close()
    await jwks?.close()
  })

  it("refuses a cached token of a removed key once the set is fetched again, by its own requests alone; a kept key's cached token still passes", async () => {
    const gone = await sign(removed, "ES256")
    const still = await sign(kept)
    for (let i = 0; i < 3; i++) {
      assert.strictEqual((await get(gone)).status, 200)
      assert.strictEqual((await get(still)).status, 200)
    }
    assert.strictEqual(jwks.state.hits, 1, "verified once, then served from the cache")
    jwks.state.keys = [kept.jwk]
    await sleep(400)
    // Older than their age: the cached token's own request starts the background fetch (no
    // lookup of a key happens for a cached token), and the next request finds the new set.
    assert.strictEqual((await get(gone)).status, 200, "the request that noticed the age is served with what was verified")
    for (let i = 0; i < 50 && jwks.state.hits < 2; i++) await sleep(20)
    assert.strictEqual(jwks.state.hits, 2, "one background fetch")
    const refused = await get(gone)
    assert.strictEqual(refused.status, 401, refused.text)
    assert.strictEqual(errorOf(refused).code, "InvalidAuthenticationToken")
    assert.strictEqual((await get(gone)).status, 401, "and stays refused")
    for (let i = 0; i < 3; i++) assert.strictEqual((await get(still)).status, 200, "the kept key's token, verified again once")
    assert.strictEqual(jwks.state.hits, 2)
  })
})

describe("KeySet.generation (since 0.15.0)", () => {
  it("moves when a fetch finds another set, not when it finds the same one", async () => {
    const [a, b] = await Promise.all([signer("RS256", "a"), signer("RS256", "b")])
    const jwks = await jwksEndpoint()
    try {
      jwks.state.keys = [a.jwk]
      const keys = KeySet.make({ url: new URL(jwks.url), cooldownMs: 0 })
      assert.strictEqual(keys.generation(), 0, "nothing fetched yet")
      await keys.getKey({ alg: "RS256", kid: "a" }, { payload: "", signature: "" } as never)
      assert.strictEqual(keys.generation(), 1)
      assert.isTrue(await keys.refresh())
      assert.strictEqual(keys.generation(), 1, "the same set again")
      jwks.state.keys = [a.jwk, b.jwk]
      assert.isTrue(await keys.refresh())
      assert.strictEqual(keys.generation(), 2, "a key added")
      jwks.state.keys = [b.jwk]
      assert.isTrue(await keys.refresh())
      assert.strictEqual(keys.generation(), 3, "a key removed")
      assert.strictEqual(jwks.state.hits, 4)
    } finally {
      await jwks.close()
    }
  })
})
