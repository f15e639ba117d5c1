/**
 * Minting HS256 tokens for local use and tests: what the zero-config server
 * accepts with the secret it keeps in its data directory (`enrollctl token`).
 *
 * @since 0.1.0
 */
import * as jose from "jose"
import { issuerOf } from "./Auth.ts"
import * as Permissions from "./Permissions.ts"

/** What a minted token says. */
export interface MintOptions {
  readonly secret: string | Uint8Array
  readonly tenant: string
  /** Delegated permissions (`scp`); default: every permission the service knows. */
  readonly scopes?: ReadonlyArray<string> | undefined
  /** Application permissions (`roles`); a token with scopes too is delegated, and the verifier reads only its `scp`. */
  readonly roles?: ReadonlyArray<string> | undefined
  readonly subject?: string | undefined
  /** Lifetime: seconds, or a jose time span such as "1h" (default "1h"). */
  readonly expiresIn?: number | string | undefined
  /** The `iss`; a `{tenantid}` in it (an issuer template, since 0.13.0) is the token's tenant. */
  readonly issuer?: string | undefined
  readonly audience?: string | undefined
}

/** A signed HS256 JWT. */
export const mint = async (options: MintOptions): Promise<string> => {
  const secret = typeof options.secret === "string" ? new TextEncoder().encode(options.secret) : options.secret
  const claims: jose.JWTPayload = { tid: options.tenant }
  const scopes = options.scopes ?? (options.roles === undefined ? Permissions.all : undefined)
  if (scopes !== undefined) claims.scp = scopes.join(" ")
  if (options.roles !== undefined) claims.roles = [...options.roles]
  let jwt = new jose.SignJWT(claims)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuedAt()
    .setSubject(options.subject ?? "local-operator")
  const exp = options.expiresIn ?? "1h"
  jwt = jwt.setExpirationTime(typeof exp === "number" ? Math.floor(Date.now() / 1000) + exp : exp)
  if (options.issuer !== undefined) jwt = jwt.setIssuer(issuerOf(options.issuer, options.tenant))
  if (options.audience !== undefined) jwt = jwt.setAudience(options.audience)
  return jwt.sign(secret)
}
