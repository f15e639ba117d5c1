/**
 * Entity keys: 1 to 128 characters, no `/`, no control characters (SPEC 2).
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/** What a malformed key is told it should be. */
const expected = "an id of 1 to 128 characters without '/' or control characters"

/** A key of any entity. A value that is not a string at all is told the same as a malformed one. */
export const Id = Schema.String.annotate({ message: `Expected ${expected}` }).check(
  Schema.isMinLength(1, { expected }),
  Schema.isMaxLength(128, { expected }),
  Schema.isPattern(/^[^/\u0000-\u001f\u007f]+$/u, { expected })
).annotate({ identifier: "Id", description: "1 to 128 characters, no '/', no control characters" })
export type Id = typeof Id.Type

/** True for a well-formed key. */
export const isId = Schema.is(Id)

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
