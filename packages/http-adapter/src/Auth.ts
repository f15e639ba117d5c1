/**
 * Bearer JWT verification (SPEC 7): HS256 against a shared secret, or RS256 /
 * ES256 against a JWKS (held by a {@link KeySet}: refreshed on an unknown `kid` at most once a
 * cooldown, kept while the provider fails, since 0.13.0);
 * `iss` / `aud` checked when configured, and an audience required with a JWKS
 * (an identity provider's keys sign tokens for every application it serves);
 * unsigned tokens refused. A delegated token's permissions are its `scp`, an
 * application token's its `roles`. Verified tokens are cached until they
 * expire (bounded, oldest first out, keyed by the token string), so the hot
 * path does not verify a signature per request. A token verified with the JWKS is
 * verified again once the key set has been fetched anew (since 0.15.0): a key removed
 * from the set stops admitting the cached tokens it signed at the next fetch (at most
 * `jwksMaxAgeSeconds` after the removal, which a cached token's request now starts too),
 * not when they expire.
 *
 * @since 0.1.0
 */
import * as jose from "jose"
import * as KeySet from "./KeySet.ts"
import * as Problem from "./Problem.ts"

/**
 * How tokens are verified. At least one of `hs256Secret` and `jwksUrl` is required, and
 * `jwksUrl` needs `audience` (since 0.4.0).
 */
export interface AuthOptions {
  readonly hs256Secret?: string | Uint8Array | undefined
  readonly jwksUrl?: string | undefined
  /**
   * The `iss` a token must name. With `{tenantid}` in it (since 0.13.0), the token's `tid` is put
   * there before the comparison: Microsoft Entra ID's multi-tenant issuer,
   * `https://login.microsoftonline.com/{tenantid}/v2.0`, so that a token names its own tenant's
   * issuer (a token of one tenant that claims another's `tid` is refused).
   */
  readonly issuer?: string | undefined
  /**
   * The `aud` a token must name (one member of an array suffices). Required with `jwksUrl`:
   * a key set such as Microsoft Entra ID's signs the tokens of every application of every
   * tenant, and without it a token issued to any other application would be accepted here.
   */
  readonly audience?: string | undefined
  /** How many verified tokens to keep (default 10 000). */
  readonly cacheSize?: number | undefined
  /** Clock skew tolerated on `exp` / `nbf`, in seconds (default 30). */
  readonly clockToleranceSeconds?: number | undefined
  /**
   * After a JWKS fetch, how long a token naming an unknown `kid` is refused
   * without fetching again, in seconds (default 30): bounds the fetches
   * forged kids can cause; a rotated key is picked up once it has passed. A failed
   * fetch is tried again after 1 s, doubling up to this (since 0.13.0; see `KeySet`).
   */
  readonly jwksCooldownSeconds?: number | undefined
  /**
   * How old the JWKS's keys may grow before they are fetched again, in the background, in
   * seconds (default 600); a failed fetch keeps them (since 0.13.0).
   */
  readonly jwksMaxAgeSeconds?: number | undefined
}

/** Who is calling: tenant, subject and granted permissions. */
export interface Principal {
  readonly tenant: string
  readonly subject: string
  readonly permissions: ReadonlySet<string>
  /** Expiry in epoch milliseconds (Infinity when the token has none). */
  readonly expiresAt: number
  readonly notBefore: number
}

/**
 * The verification result. A refusal that is the server's fault (the JWKS could not be
 * fetched) is a 503, with `cause` saying why for the log (never sent to the client).
 */
export type AuthResult =
  | { readonly ok: true; readonly principal: Principal }
  | { readonly ok: false; readonly problem: Problem.Problem; readonly cause?: string | undefined }

/** A verified token in the cache: its principal and the answer given for it. */
interface Verified {
  readonly principal: Principal
  readonly result: AuthResult
  /** The key set's generation it was verified against; undefined for an HS256 token. */
  readonly keys: number | undefined
}

/** A verifier: synchronous on a cache hit, a promise otherwise. */
export interface Verifier {
  readonly verify: (authorization: string | undefined) => AuthResult | Promise<AuthResult>
}

const fail = (message: string): AuthResult => ({ ok: false, problem: Problem.unauthorized(message) })

/**
 * A request that brought no bearer token at all (no header, or another scheme): RFC 6750
 * 3.1 challenges it without an error code, which is for a token that was sent and refused.
 */
const challenge = (message: string): AuthResult => ({
  ok: false,
  problem: { ...Problem.unauthorized(message), headers: { "www-authenticate": 'Bearer realm="enrollment"' } }
})
const noToken = challenge("Access token is empty: send Authorization: Bearer <token>")
const notBearer = challenge("The Authorization header must use the Bearer scheme")

/**
 * The answer to a request that carries more than one `Authorization` header (see
 * {@link repeatsAuthorization}), whatever they hold: a 401 `InvalidAuthenticationToken`,
 * challenged with RFC 6750's `invalid_request` (a request that repeats a parameter or sends
 * more than one token).
 *
 * @since 0.6.1
 */
export const repeatedAuthorization: AuthResult = {
  ok: false,
  problem: {
    ...Problem.unauthorized("The request has more than one Authorization header; send exactly one"),
    headers: { "www-authenticate": 'Bearer realm="enrollment", error="invalid_request"' }
  }
}

/**
 * Whether a request carries more than one `Authorization` header, read from its header lines
 * as sent (`IncomingMessage.rawHeaders`: names and values in turns). Node's
 * `req.headers.authorization` is the first one alone (it drops the others), while a proxy in
 * front may have judged another: such a request is refused ({@link repeatedAuthorization}),
 * never authenticated by one of its tokens. Cheap enough for every request: a name is looked
 * at only for its length and, at the length of `authorization`, its first two letters; the
 * names are compared exactly (lower-cased) only when two such come, which in practice is a
 * request with two `Authorization` headers. Without raw headers (a `$batch`'s request, whose
 * headers are an object: one `authorization` at most, the batch's own, checked when the batch
 * came) it is false.
 *
 * @since 0.6.1
 */
export const repeatsAuthorization = (rawHeaders: ReadonlyArray<string> | undefined): boolean => {
  if (rawHeaders === undefined) return false
  let candidates = 0
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!
    // 13 characters, starting "au" in any case.
    if (name.length === 13 && (name.charCodeAt(0) | 0x20) === 0x61 && (name.charCodeAt(1) | 0x20) === 0x75) candidates++
  }
  if (candidates < 2) return false
  let n = 0
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.length === 13 && rawHeaders[i]!.toLowerCase() === "authorization" && ++n > 1) return true
  }
  return false
}

/**
 * A tenant id the stores can key data by: 1 to 128 characters, no control characters (C0, DEL and, since 0.8.0, C1, as ids; the
 * stores and the rate limiter join keys with U+0000), well-formed Unicode (a lone surrogate
 * would be stored as U+FFFD, and two such tenants as one). Entra ID's are GUIDs.
 */
const isTenantId = (tid: unknown): tid is string =>
  typeof tid === "string" && tid.length > 0 && tid.length <= 128 && !/[\u0000-\u001f\u007f-\u009f]/.test(tid) && tid.isWellFormed()

/**
 * Whether a verification failure is the key set's fetch failing (unreachable, too slow, not
 * a JWKS): the token was not judged, so the answer is a 503, not a 401 that would tell the
 * client its token is bad.
 */
const keySetUnavailable = (e: unknown): boolean =>
  e instanceof KeySet.KeySetUnavailable || e instanceof jose.errors.JWKSTimeout || e instanceof jose.errors.JWKSInvalid ||
  !(e instanceof jose.errors.JOSEError) || e.code === "ERR_JOSE_GENERIC"

const principalOf = (payload: jose.JWTPayload): AuthResult => {
  const tid = payload.tid
  if (tid === undefined || tid === "") return fail("The token has no tenant (tid claim)")
  if (!isTenantId(tid)) return fail("The token's tenant (tid claim) is not a tenant id")
  const permissions = new Set<string>()
  // A token with `scp` is delegated: the application acts for a user, within the scopes the
  // user consented to it. Its `roles` are then the user's own app roles, not permissions
  // granted to the application, and granting them too would let any application the user
  // signs in to exceed its consent. `roles` are the permissions of an application token.
  // Any `scp` makes a token delegated (since 0.16.0): Entra writes it as one space-separated string,
  // other identity providers (Okta) as an array of scopes, whose strings are taken; a token whose
  // `scp` is neither grants nothing. Before, a `scp` that was not a string let `roles` grant.
  if (payload.scp !== undefined) {
    const scopes = typeof payload.scp === "string" ? payload.scp.split(" ") : Array.isArray(payload.scp) ? payload.scp : []
    for (const s of scopes) if (typeof s === "string" && s !== "") permissions.add(s)
  } else if (Array.isArray(payload.roles)) {
    for (const r of payload.roles) if (typeof r === "string") permissions.add(r)
  }
  const subject = typeof payload.sub === "string" ? payload.sub : typeof payload.oid === "string" ? payload.oid : ""
  return {
    ok: true,
    principal: {
      tenant: tid,
      subject,
      permissions,
      expiresAt: typeof payload.exp === "number" ? payload.exp * 1000 : Number.POSITIVE_INFINITY,
      notBefore: typeof payload.nbf === "number" ? payload.nbf * 1000 : 0
    }
  }
}

/** Where an issuer template takes a token's tenant (since 0.13.0): Entra ID's own placeholder. */
export const tenantSlot = "{tenantid}"

/** The issuer `issuer` names for `tenant`: the template with the tenant in its slot, or itself. */
export const issuerOf = (issuer: string, tenant: string): string =>
  // A function, so that a `$` in the tenant (`$&`, `$$`) is the tenant's, never a replacement pattern.
  issuer.replaceAll(tenantSlot, () => tenant)

/** The fewest bytes an HS256 secret may have: the size of SHA-256's output (RFC 7518 3.2); since 0.6.0. */
export const minSecretBytes = 32

/**
 * Makes a verifier. Throws when neither a secret nor a JWKS URL is given (the server never runs
 * without auth), and (since 0.6.0) when the HS256 secret is shorter than {@link minSecretBytes}.
 */
export const make = (options: AuthOptions): Verifier => {
  if (options.hs256Secret === undefined && options.jwksUrl === undefined) {
    throw new Error("authentication needs an HS256 secret or a JWKS URL")
  }
  if (options.jwksUrl !== undefined && (options.audience === undefined || options.audience === "")) {
    throw new Error("authentication with a JWKS URL needs an audience: the key set signs tokens issued to other applications too")
  }
  const secret = typeof options.hs256Secret === "string" ? new TextEncoder().encode(options.hs256Secret) : options.hs256Secret
  // RFC 7518 3.2: an HS256 key of at least the hash's size. A shorter one can be guessed offline
  // from any token it signed; the server's settings refuse it too, and so does the library.
  if (secret !== undefined && secret.byteLength < minSecretBytes) {
    throw new Error(`an HS256 secret needs at least ${minSecretBytes} bytes (RFC 7518 3.2); this one has ${secret.byteLength}`)
  }
  const jwks = options.jwksUrl !== undefined
    ? KeySet.make({
      url: new URL(options.jwksUrl),
      cooldownMs: (options.jwksCooldownSeconds ?? 30) * 1000,
      maxAgeMs: (options.jwksMaxAgeSeconds ?? 600) * 1000
    })
    : undefined
  const tolerance = options.clockToleranceSeconds ?? 30
  const verifyOptions = {
    ...(options.issuer !== undefined && !options.issuer.includes(tenantSlot) ? { issuer: options.issuer } : {}),
    ...(options.audience !== undefined ? { audience: options.audience } : {}),
    clockTolerance: tolerance,
    // SPEC 7: `exp` is verified, so a token must carry one (Entra ID tokens always do);
    // a token without it would otherwise be valid, and cached, forever.
    requiredClaims: ["exp"]
  }
  const capacity = options.cacheSize ?? 10_000
  // Verified tokens, each with its (immutable) answer, made once.
  const cache = new Map<string, Verified>()
  // The last Authorization header that hit the cache: a client sends the same header on every
  // request, and comparing it is cheaper than hashing the token for the map.
  let lastHeader: string | undefined
  let lastToken = ""
  let last: Verified | undefined

  const remember = (token: string, principal: Principal, keys: number | undefined) => {
    if (cache.size >= capacity) {
      const oldest = cache.keys().next().value
      if (oldest !== undefined) cache.delete(oldest)
    }
    cache.set(token, { principal, result: { ok: true, principal }, keys })
  }
  const forget = (token: string) => {
    cache.delete(token)
    lastHeader = last = undefined
    lastToken = ""
  }
  /**
   * A cached token's answer now: its verdict, or expired (and forgotten), or, verified against a
   * key set fetched anew since (a key may have left it), verified again.
   */
  const current = (token: string, v: Verified): AuthResult | Promise<AuthResult> => {
    const now = Date.now()
    const p = v.principal
    if (v.keys !== undefined) {
      jwks!.keepFresh(now)
      if (v.keys !== jwks!.generation()) {
        forget(token)
        return slow(token)
      }
    }
    if (now < p.expiresAt + tolerance * 1000 && now + tolerance * 1000 >= p.notBefore) return v.result
    forget(token)
    return fail("The bearer token has expired")
  }

  const keyOptions = { ...verifyOptions, algorithms: ["RS256", "ES256"] }
  /**
   * The payload of `token` verified with the key set's key. A token with no `kid` that several
   * keys of its type could have signed (a set of two RSA keys) is tried with each, as jose's
   * `JWKSMultipleMatchingKeys` asks (since 0.13.0; before, it was refused as badly signed).
   */
  const withKeySet = async (token: string, keys: KeySet.KeySet): Promise<jose.JWTPayload> => {
    try {
      return await withKeysHeld(token, keys)
    } catch (e) {
      // A token without `kid` that no key held verifies may be signed by a key added to the set
      // since: the set is fetched again if the cooldown allows (as an unknown `kid` fetches it).
      if (!(e instanceof jose.errors.JWSSignatureVerificationFailed) || jose.decodeProtectedHeader(token).kid !== undefined) throw e
      if (!(await keys.refresh())) throw e
      return await withKeysHeld(token, keys)
    }
  }
  const withKeysHeld = async (token: string, keys: KeySet.KeySet): Promise<jose.JWTPayload> => {
    try {
      return (await jose.jwtVerify(token, keys.getKey, keyOptions)).payload
    } catch (e) {
      if (!(e instanceof jose.errors.JWKSMultipleMatchingKeys)) throw e
      let last: unknown = e
      for await (const key of e) {
        try {
          return (await jose.jwtVerify(token, key, keyOptions)).payload
        } catch (inner) {
          if (!(inner instanceof jose.errors.JWSSignatureVerificationFailed)) throw inner
          last = inner
        }
      }
      throw last
    }
  }

  const slow = async (token: string): Promise<AuthResult> => {
    let alg: string | undefined
    try {
      alg = jose.decodeProtectedHeader(token).alg
    } catch {
      return fail("The bearer token is malformed")
    }
    try {
      let payload: jose.JWTPayload
      // The key set's generation before the keys are looked up: a fetch that ends meanwhile has the
      // token verified again at its next use, never a token of a removed key kept as verified.
      let keys: number | undefined
      if (alg === "HS256" && secret !== undefined) {
        payload = (await jose.jwtVerify(token, secret, { ...verifyOptions, algorithms: ["HS256"] })).payload
      } else if ((alg === "RS256" || alg === "ES256") && jwks !== undefined) {
        const before = jwks.generation()
        payload = await withKeySet(token, jwks)
        // With no set held before, the keys were those of the fetch this token waited for.
        keys = before === 0 ? jwks.generation() : before
      } else {
        return fail(`The token's signing algorithm ${JSON.stringify(alg)?.slice(0, 40) ?? "(none)"} is not accepted`)
      }
      const r = principalOf(payload)
      if (!r.ok) return r
      if (options.issuer !== undefined && options.issuer.includes(tenantSlot)) {
        // The tenant's own issuer: its `tid` in the template (jose's words for a mismatch).
        if (payload.iss === undefined) return fail('The bearer token was refused: missing required "iss" claim')
        if (payload.iss !== issuerOf(options.issuer, r.principal.tenant)) return fail('The bearer token was refused: unexpected "iss" claim value')
      }
      remember(token, r.principal, keys)
      return r
    } catch (e) {
      if (e instanceof jose.errors.JWTExpired) return fail("The bearer token has expired")
      if (e instanceof jose.errors.JWTClaimValidationFailed) return fail(`The bearer token was refused: ${e.message}`)
      if (alg !== "HS256" && keySetUnavailable(e)) {
        return {
          ok: false,
          problem: Problem.unavailable("The keys that verify tokens cannot be fetched right now; try again later"),
          cause: `the JWKS could not be fetched: ${Problem.causeChain(e)}`
        }
      }
      if (!(e instanceof jose.errors.JOSEError)) return fail("The bearer token could not be verified")
      return fail("The bearer token signature is invalid")
    }
  }

  return {
    verify: (authorization) => {
      if (authorization === undefined || authorization === "") return noToken
      if (authorization === lastHeader) return current(lastToken, last!)
      if (authorization.length < 8 || authorization.slice(0, 7).toLowerCase() !== "bearer ") {
        // "Bearer " with no token (Node trims the value to "Bearer") brings no token either.
        return authorization.toLowerCase() === "bearer" ? noToken : notBearer
      }
      const token = authorization.slice(7).trim()
      if (token === "" || token.length > 16384) return fail("The bearer token is malformed")
      const hit = cache.get(token)
      if (hit !== undefined) {
        lastHeader = authorization
        lastToken = token
        last = hit
        return current(token, hit)
      }
      return slow(token)
    }
  }
}
