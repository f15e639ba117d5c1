/**
 * Entity tags (SPEC 3.10). An ETag is a digest of the entity's canonical JSON, so
 * it changes on every effective change and only then, and survives a restart or a
 * move between stores. Written weak, as Graph writes them: `W/"…"`.
 *
 * @since 0.1.0
 */
import * as Json from "./Json.ts"

const fnv1a64 = (text: string): string => {
  let h1 = 0x811c9dc5 | 0
  let h2 = 0xcbf29ce4 | 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    h1 = Math.imul(h1 ^ c, 0x01000193)
    h2 = Math.imul(h2 ^ c, 0x01000193) ^ (h1 >>> 15)
  }
  return (h1 >>> 0).toString(36) + (h2 >>> 0).toString(36)
}

/** The ETag of an entity value. */
export const of = (entity: unknown): string => `W/"${fnv1a64(Json.canonical(entity))}"`

/**
 * True when an `If-Match` header value admits the entity with tag `etag`: `*`
 * admits any existing entity; otherwise one of the listed tags must match (weak
 * comparison, so `W/"x"` and `"x"` are the same tag).
 */
export const matches = (ifMatch: string, etag: string): boolean => {
  const trimmed = ifMatch.trim()
  if (trimmed === "*") return true
  const strip = (t: string) => t.trim().replace(/^W\//, "")
  const want = strip(etag)
  return trimmed.split(",").some((t) => strip(t) === want)
}
