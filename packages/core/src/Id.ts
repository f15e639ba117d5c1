/**
 * Entity keys: 1 to 128 characters, no `/`, no control characters (SPEC 2): C0
 * (U+0000 to U+001F), DEL (U+007F) and, since 0.8.0, C1 (U+0080 to U+009F).
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/** What a malformed key is told it should be. */
const expected = "an id of 1 to 128 characters without '/' or control characters"

/**
 * What a key's characters must match: none is `/` or a control character (Unicode's Cc: C0,
 * DEL and C1). Before 0.8.0 the C1 controls (U+0080 to U+009F, e.g. NEL, U+0085) were let
 * through, though they are control characters as much as U+0001 is. The OpenAPI document's
 * `Id` schema is made from it, so the `u` flag stays: Effect's JSON Schema leaves out a pattern
 * without it. Since 0.8.0.
 */
export const pattern = /^[^/\u0000-\u001f\u007f-\u009f]+$/u

/** A key of any entity. A value that is not a string at all is told the same as a malformed one. */
export const Id = Schema.String.annotate({ message: `Expected ${expected}` }).check(
  Schema.isMinLength(1, { expected }),
  Schema.isMaxLength(128, { expected }),
  Schema.isPattern(pattern, { expected }),
  // Well-formed UTF-16 (since 0.9.0): a lone surrogate (`"\ud800"`, which JSON's `\u` escape can
  // write) has no UTF-8, so a store keeps the key as U+FFFD while the entity's JSON keeps the
  // surrogate, and two ids became one key. HTTP bodies refused them before; `enrollctl`'s local
  // import and the library's callers did not.
  Schema.makeFilter((s: string) => s.isWellFormed(), { expected })
).annotate({ identifier: "Id", description: "1 to 128 characters, no '/', no control characters" })
export type Id = typeof Id.Type

/** True for a well-formed key. */
export const isId = Schema.is(Id)

/**
 * True for `.` and `..`: dot segments, which every URL parser removes from a path before the
 * request is sent (RFC 3986 5.2.4; WHATWG URL, so `fetch`, curl and the Graph SDKs). They are valid
 * keys (SPEC 2), but a key-as-segment URL of such an id names its parent:
 * `DELETE …/configurations/c1/assignments/..` reaches the server as `DELETE …/configurations/c1`.
 * Only the parenthesis form names them ({@link keyPath}).
 *
 * @since 0.8.1
 */
export const isDotSegment = (id: string): boolean => id === "." || id === ".."

/**
 * A key's path under its collection's URL (since 0.8.1): `/id` percent-encoded, or the OData
 * parenthesis form, `('id')` (a quote doubled), where a path segment of its own would not name it:
 * a dot segment ({@link isDotSegment}), or an id beginning with `$`, which a
 * server reads as OData's system segment (`$count`, `$ref`, `$value`) whether written `$` or `%24`.
 * Both forms address the same entity (SPEC 2).
 *
 * @since 0.8.1
 */
export const keyPath = (id: string): string => {
  // A lone surrogate (in an id stored before 0.9.0, which `Id` now refuses) as U+FFFD, as the SQL
  // stores keep it: `encodeURIComponent` throws on one.
  const key = id.toWellFormed()
  return isDotSegment(key) || key.startsWith("$") ? `('${encodeURIComponent(key.replaceAll("'", "''"))}')` : `/${encodeURIComponent(key)}`
}

/**
 * The order of keys everywhere (since 0.9.0): by Unicode code point, which is the order of their
 * UTF-8 bytes, as the SQL stores sort them (SQLite's `BINARY`, PostgreSQL's `COLLATE "C"`).
 * JavaScript's `<` and `sort()` compare UTF-16 code units instead, which put a character above
 * U+FFFF (`😀`, written as two surrogates, U+D800 to U+DFFF) before one from U+E000 to U+FFFF
 * (`ｆ`, U+FF46): the memory store listed and paged such ids in another order than the SQL stores.
 * Negative, zero or positive, as `sort` takes it.
 *
 * @since 0.9.0
 */
export const compare = (a: string, b: string): number => {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x === y) continue
    // A surrogate begins a code point above U+FFFF: above every unit that is not one. Between two
    // surrogates, or two units that are not, the units' order is the code points'.
    const xs = x >= 0xd800 && x <= 0xdfff
    return xs === (y >= 0xd800 && y <= 0xdfff) ? x - y : xs ? 1 : -1
  }
  return a.length - b.length
}

const hex = (n: number) => n.toString(16).padStart(2, "0")

/**
 * A new random (version 4) GUID from the given random source, which returns an
 * integer in [0, 256). Pure: the caller supplies the randomness.
 */
export const guid = (byte: () => number): string => {
  const b = Array.from({ length: 16 }, () => byte() & 0xff)
  b[6] = (b[6]! & 0x0f) | 0x40
  b[8] = (b[8]! & 0x3f) | 0x80
  const h = b.map(hex).join("")
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}
