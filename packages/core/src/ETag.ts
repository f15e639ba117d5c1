/**
 * Entity tags (SPEC 3.10). An ETag is a 64-bit digest of the entity's JSON value
 * (object key order ignored), so it changes on every effective change and only
 * then, and survives a restart or a move between stores (whatever order a store
 * keeps keys in). Written weak, as Graph writes them: `W/"…"`.
 *
 * @since 0.1.0
 */

/** Two 32-bit FNV-1a lanes over a structural walk of the value: no intermediate string. */
class Digest {
  h1 = 0x811c9dc5 | 0
  h2 = 0xcbf29ce4 | 0
  char(c: number) {
    this.h1 = Math.imul(this.h1 ^ c, 0x01000193)
    this.h2 = Math.imul(this.h2 ^ c, 0x01000193) ^ (this.h1 >>> 15)
  }
  text(s: string) {
    this.char(0x22)
    for (let i = 0; i < s.length; i++) this.char(s.charCodeAt(i))
    this.char(s.length & 0xffff)
    this.char(0x22)
  }
  value(v: unknown): void {
    switch (typeof v) {
      case "string":
        return this.text(v)
      case "number":
        return this.text(`#${v}`)
      case "boolean":
        return this.char(v ? 0x74 : 0x66)
      case "object": {
        if (v === null) return this.char(0x6e)
        if (Array.isArray(v)) {
          this.char(0x5b)
          for (const x of v) this.value(x)
          return this.char(0x5d)
        }
        const keys = Object.keys(v)
        for (let i = 1; i < keys.length; i++) {
          if (keys[i - 1]! > keys[i]!) {
            keys.sort()
            break
          }
        }
        this.char(0x7b)
        for (const k of keys) {
          const x = (v as any)[k]
          if (x === undefined) continue
          this.text(k)
          this.value(x)
        }
        return this.char(0x7d)
      }
      default:
        return this.char(0x75)
    }
  }
}

/** The ETag of an entity value. */
export const of = (entity: unknown): string => {
  const d = new Digest()
  d.value(entity)
  return `W/"${(d.h1 >>> 0).toString(36)}${(d.h2 >>> 0).toString(36)}"`
}

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
