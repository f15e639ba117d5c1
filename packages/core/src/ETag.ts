/**
 * Entity tags (SPEC 3.10). An ETag is a 64-bit digest of the entity's JSON value
 * (object key order ignored), so it changes on every effective change and only
 * then, and survives a restart or a move between stores (whatever order a store
 * keeps keys in). Written weak, as Graph writes them: `W/"…"`.
 *
 * @since 0.1.0
 */
import { Result } from "effect"
import { PreconditionFailed } from "./Errors.ts"

const PRIME = 0x01000193

/**
 * Two 32-bit FNV-1a lanes over a structural walk of the value, with no
 * intermediate string: per character `c`, `h1 = (h1 ^ c) * P` and
 * `h2 = ((h2 ^ c) * P) ^ (h1 >>> 15)` (32-bit). A string is hashed as `"`, its
 * characters, its length, `"`. The lanes live in locals while a
 * string is hashed: the digest is a per-write cost, and property writes per
 * character made it several times slower. The values it gives are pinned by a test
 * (clients keep ETags across a server upgrade).
 */
let h1 = 0
let h2 = 0

const char = (c: number): void => {
  h1 = Math.imul(h1 ^ c, PRIME)
  h2 = Math.imul(h2 ^ c, PRIME) ^ (h1 >>> 15)
}

const text = (s: string): void => {
  let a = Math.imul(h1 ^ 0x22, PRIME)
  let b = Math.imul(h2 ^ 0x22, PRIME) ^ (a >>> 15)
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    a = Math.imul(a ^ c, PRIME)
    b = Math.imul(b ^ c, PRIME) ^ (a >>> 15)
  }
  // The whole length (since 0.16.0): up to 0.15.0 its low 16 bits, which a string of 65 536
  // units or more shares with a shorter one, so a string could end where another went on. A
  // length above 0xffff is a value no character has; every shorter string hashes as before.
  const n = s.length
  a = Math.imul(a ^ n, PRIME)
  b = Math.imul(b ^ n, PRIME) ^ (a >>> 15)
  a = Math.imul(a ^ 0x22, PRIME)
  h2 = Math.imul(b ^ 0x22, PRIME) ^ (a >>> 15)
  h1 = a
}

/**
 * True for a string a number's text is: `#` and what `String(n)` writes for some number (`#5`,
 * `#-1.5`, `#1e+21`, `#NaN`). Before 0.10.1 such a string was hashed as the number is, so
 * `{"a": 5}` and `{"a": "#5"}` had one ETag; it now carries a mark of its own, and every other
 * value keeps the ETag it had (the pinned values hold). The first two characters decide for all
 * but such strings: every `@odata.type` begins `#m`.
 */
const isNumberText = (s: string): boolean => {
  if (s.length < 2 || s.charCodeAt(0) !== 0x23) return false
  const c = s.charCodeAt(1)
  if (!((c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x49 || c === 0x4e)) return false
  const rest = s.slice(1)
  return String(Number(rest)) === rest
}

const value = (v: unknown): void => {
  switch (typeof v) {
    case "string":
      // A mark no other value writes (`s`) before a string that is a number's text (see {@link isNumberText}).
      if (isNumberText(v)) char(0x73)
      return text(v)
    case "number":
      return text(`#${v}`)
    case "boolean":
      return char(v ? 0x74 : 0x66)
    case "object": {
      if (v === null) return char(0x6e)
      if (Array.isArray(v)) {
        char(0x5b)
        for (const x of v) value(x)
        return char(0x5d)
      }
      const keys = Object.keys(v)
      // Sorted by UTF-16 code units, the order of `keys.sort()`. For the few members of an
      // entity an insertion sort in place, which allocates nothing (the built-in sort does);
      // past a few dozen (quadratic there), the built-in sort.
      if (keys.length > 24) keys.sort()
      else for (let i = 1; i < keys.length; i++) {
        const k = keys[i]!
        let j = i - 1
        while (j >= 0 && keys[j]! > k) {
          keys[j + 1] = keys[j]!
          j--
        }
        keys[j + 1] = k
      }
      char(0x7b)
      for (const k of keys) {
        const x = (v as any)[k]
        if (x === undefined) continue
        text(k)
        value(x)
      }
      return char(0x7d)
    }
    default:
      return char(0x75)
  }
}

/** 36⁴: a 32-bit value is `high × 36⁴ + low` with both parts small integers. */
const low36 = 1_679_616

/**
 * `n.toString(36)` for a 32-bit unsigned `n`, in two small-integer parts: V8 writes a
 * number past 2³⁰ (not a small integer to it) in any radix but 10 through a floating
 * point remainder per digit, about four times slower (a test pins the two as equal).
 */
export const base36 = (n: number): string => {
  const high = Math.floor(n / low36)
  const low = n - high * low36
  return high === 0 ? low.toString(36) : high.toString(36) + low.toString(36).padStart(4, "0")
}

/** The ETag of an entity value. */
export const of = (entity: unknown): string => {
  h1 = 0x811c9dc5 | 0
  h2 = 0xcbf29ce4 | 0
  value(entity)
  return `W/"${base36(h1 >>> 0)}${base36(h2 >>> 0)}"`
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

/**
 * True when an `If-None-Match` header value admits the entity with tag `etag` (RFC 9110
 * §13.1.2): `*` admits no existing entity; otherwise none of the listed tags may match (weak
 * comparison, as {@link matches}).
 *
 * @since 0.14.0
 */
export const noneMatch = (ifNoneMatch: string, etag: string): boolean => !matches(ifNoneMatch, etag)

/**
 * A request's preconditions on the entity it changes (RFC 9110 §13.1): `If-Match` and
 * `If-None-Match` as sent. An absent header is no condition.
 *
 * @since 0.14.0
 */
export interface Conditions {
  readonly ifMatch?: string | undefined
  readonly ifNoneMatch?: string | undefined
}

/**
 * The header whose condition the entity with tag `etag` fails, `undefined` when it meets every
 * condition: `If-Match` must {@link matches match}, `If-None-Match` must {@link noneMatch admit}
 * it. `If-Match` is evaluated first (RFC 9110 §13.2.2).
 *
 * @since 0.14.0
 */
export const failed = (conditions: Conditions, etag: string): "If-Match" | "If-None-Match" | undefined =>
  conditions.ifMatch !== undefined && !matches(conditions.ifMatch, etag)
    ? "If-Match"
    : conditions.ifNoneMatch !== undefined && !noneMatch(conditions.ifNoneMatch, etag)
    ? "If-None-Match"
    : undefined

/**
 * True when `conditions` holds a condition (an `If-Match` or an `If-None-Match`): only then need a
 * write compute the stored value's ETag for {@link refusal}.
 *
 * @since 0.14.0
 */
export const conditional = (conditions: Conditions | undefined): conditions is Conditions =>
  conditions !== undefined && (conditions.ifMatch !== undefined || conditions.ifNoneMatch !== undefined)

/**
 * The refusal of a write to entity `id` (of type `entity`) whose stored value's tag is `etag`,
 * `undefined` when the value meets `conditions` (see {@link failed}).
 *
 * @since 0.14.0
 */
export const refusal = (conditions: Conditions, entity: string, id: string, etag: string): PreconditionFailed | undefined => {
  const header = failed(conditions, etag)
  return header === undefined ? undefined : new PreconditionFailed(header === "If-Match" ? { entity, id } : { entity, id, header })
}

/**
 * The check of a request's preconditions on the stored value of `entity` `id`: none without a
 * condition; otherwise it refuses with {@link PreconditionFailed} unless the value's ETag meets
 * them (see {@link failed}). Given to a store's `remove` (a `Store` `Check`), it is decided inside
 * the removal's own write. A string is an `If-Match` alone (as before 0.14.0, which added
 * {@link Conditions} and `If-None-Match`).
 *
 * @since 0.6.0
 */
export const precondition = (
  conditions: string | Conditions | undefined,
  entity: string,
  id: string
): ((current: unknown) => Result.Result<void, PreconditionFailed>) | undefined => {
  const c: Conditions | undefined = typeof conditions === "string" ? { ifMatch: conditions } : conditions
  if (!conditional(c)) return undefined
  return (current) => {
    const refused = refusal(c, entity, id, of(current))
    return refused === undefined ? Result.void : Result.fail(refused)
  }
}
