/**
 * JSON values, and the checks every untrusted document passes before the domain
 * looks at it: nesting depth, string length in typed properties, numbers a double
 * cannot keep as written, and keys that must never reach an object's prototype (SPEC 8).
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/** Any JSON value. */
export type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [key: string]: Json }

/** A JSON object. */
export type JsonObject = { readonly [key: string]: Json }

/** The schema of any JSON value. */
export const Json: Schema.Codec<Json> = Schema.Json as any

/** Deepest nesting accepted in a document (SPEC 8). */
export const maxDepth = 64

/**
 * Longest string accepted in a typed property (SPEC 8): 4 KiB, counted in bytes of UTF-8
 * (since 0.8.0; UTF-16 code units before, which let 4096 `€` through as 12 288 bytes).
 * As a count of UTF-16 code units (JSON Schema's `maxLength`, generated strings) it is a
 * loose bound: no string of more code units has fewer bytes.
 */
export const maxStringLength = 4096

/** What a typed string is expected to be, as messages say it (since 0.8.0). */
export const maxStringExpected = `a string of at most ${maxStringLength} bytes of UTF-8 (4 KiB)`

/**
 * The bytes of UTF-8 that encode `s` (an unpaired surrogate counts as the 3 of U+FFFD,
 * which an encoder writes for it), counting stopped once past `limit` (since 0.8.0).
 */
export const utf8Length = (s: string, limit: number = Infinity): number => {
  let bytes = 0
  for (let i = 0; i < s.length && bytes <= limit; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) bytes += 1
    else if (c < 0x800) bytes += 2
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4
      i++
    } else bytes += 3
  }
  return bytes
}

/**
 * True for a string within {@link maxStringLength} bytes of UTF-8 (since 0.8.0). A code unit
 * takes at most 3 bytes (a pair 4 for two), so a string of up to a third as many code units is
 * within without counting: the strings a request carries are, and cost one comparison.
 */
export const isBoundedString = (s: string): boolean =>
  s.length * 3 <= maxStringLength || (s.length <= maxStringLength && utf8Length(s, maxStringLength) <= maxStringLength)

/**
 * Most bytes of JSON text the untyped members of one entity may take together (a
 * configuration's derived-type properties, a directory object's other Graph properties;
 * since 0.4.0): a list page of 999 entities stays answerable.
 */
export const maxUntypedBytes = 65_536

/**
 * Where an untyped value breaks the bounds of SPEC 8 as typed values keep them: the
 * path (under `path`) of a string over {@link maxStringLength} bytes of UTF-8 or of a nesting
 * deeper than {@link maxDepth}, and what was expected there; undefined when within.
 */
export const unbounded = (value: unknown, path: string): { readonly path: string; readonly expected: string } | undefined =>
  // A nesting too deep is told at the value itself (its path would be as deep).
  depth(value) > maxDepth
    ? { path, expected: `at most ${maxDepth} levels of nesting` }
    : firstAt(value, path, (v, at) => typeof v === "string" && !isBoundedString(v) ? { path: at, expected: maxStringExpected } : undefined)

/**
 * What `found` answers for the first value of `v` (itself, then its members and items in
 * order, depth first) it answers anything for, given the value's path under `at` (`a.b[2]`;
 * a member of the root `""` is its bare name).
 */
const firstAt = <R>(v: unknown, at: string, found: (v: unknown, at: string) => R | undefined): R | undefined => {
  const here = found(v, at)
  if (here !== undefined || typeof v !== "object" || v === null) return here
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const r = firstAt(v[i], `${at}[${i}]`, found)
      if (r !== undefined) return r
    }
    return undefined
  }
  for (const k of Object.keys(v)) {
    const r = firstAt((v as Record<string, unknown>)[k], at === "" ? k : `${at}.${k}`, found)
    if (r !== undefined) return r
  }
  return undefined
}

/**
 * The JSON path of the first string of `value` (itself, then its members and items in order,
 * depth first), or member name, that is not well-formed Unicode: an unpaired surrogate, which
 * only JSON's `\u` escape can write and no UTF-8 can hold (since 0.10.0). A member name's path
 * ends with that name, its surrogate written as U+FFFD. Undefined when every string is well-formed.
 *
 * @since 0.10.0
 */
export const unpairedSurrogateAt = (value: unknown): string | undefined =>
  firstAt(value, "", (v, at) => {
    if (typeof v === "string") return v.isWellFormed() ? undefined : at
    if (typeof v !== "object" || v === null || Array.isArray(v)) return undefined
    for (const k of Object.keys(v)) if (!k.isWellFormed()) return at === "" ? k.toWellFormed() : `${at}.${k.toWellFormed()}`
    return undefined
  })

/**
 * A number of a JSON text that a double does not keep as written (since 0.8.0): where it is
 * (a JSON path, `""` for the whole text), its literal (cut to 60 characters, as
 * {@link show} cuts) and what was expected instead.
 */
export interface InexactNumber {
  readonly path: string
  readonly literal: string
  readonly expected: string
}

/**
 * Text that may hold a number a double does not keep: an integer part or a fraction of 16
 * digits or more, or an exponent of 3 digits or more, after what a value follows (`:`, `,`,
 * `[`, the start). Every such number is one of these (an integer of 15 digits is exact; to
 * overflow or round to 0 with a shorter exponent takes over 200 digits), so a text with none
 * is not looked at again; a match (a long id, or a string holding `:1e100`) only means "look closer".
 */
const suspectNumber = /(?:^|[:,[])\s*-?(?:\d{16}|\d+\.\d{16}|\d+(?:\.\d+)?[eE][+-]?\d{3})/

/** An integer as JSON writes one, or with a fraction of zeros (`9007199254740993.0`): its integer part. */
const integerLiteral = /^(-?\d+)(?:\.0+)?$/

/** What a double fails to keep of `literal`, parsed as `value`, or undefined when it keeps it. */
const inexact = (literal: string, value: number): string | undefined => {
  if (!Number.isFinite(value)) return "a number within a double's range (at most 1.7976931348623157e308 in magnitude)"
  if (value === 0) {
    const e = literal.search(/[eE]/)
    return /[1-9]/.test(e === -1 ? literal : literal.slice(0, e))
      ? "a number a double can hold (0, or at least 5e-324 in magnitude)"
      : undefined
  }
  // An integer is kept when its value is the double's, or when it is written as the double is
  // written back (`18446744073709552000`, as JSON.stringify writes 2 ** 64): what was sent is
  // what is returned, and what this service (or a JavaScript client) writes, it reads again.
  const integer = integerLiteral.exec(literal)
  return integer !== null && BigInt(integer[1]!) !== BigInt(value) && String(value) !== integer[1]
    ? "an integer a double holds exactly (any up to 9007199254740991 in magnitude; a string keeps every digit)"
    : undefined
}

/** A member given twice in one object of a JSON text: its name, the JSON path of the second, and what to tell the sender. */
export interface DuplicateMember {
  readonly key: string
  readonly path: string
  /** `target.groupId: given more than once in one object; OData does not allow duplicate property names`. */
  readonly message: string
}

const repeated = (key: string, path: string): DuplicateMember => ({
  key,
  path,
  message: `${path}: given more than once in one object; OData does not allow duplicate property names`
})

/**
 * The first member of JSON `text` given again in the same object, or undefined (since 0.12.1):
 * `value` is what `JSON.parse(text)` made of it, which keeps the last of the two without a word,
 * so a client's body read by anything that keeps the first (a proxy, an audit log) would say
 * another thing than the one the service applied. OData refuses such a body ("duplicate property
 * names are not allowed"), and so does Graph, with a 400. Most texts cost a count of `:`s and of
 * the value's members (a text with no more `:`s than members holds no repeat: each member takes one,
 * and a string may hold more); a text with more is scanned for the repeat.
 *
 * @since 0.12.1
 */
export const duplicateMember = (text: string, value: unknown): DuplicateMember | undefined => {
  let colons = 0
  for (let i = text.indexOf(":"); i !== -1; i = text.indexOf(":", i + 1)) colons++
  if (colons === 0 || colons <= membersOf(value)) return undefined
  return firstRepeat(text)
}

/** How many members the objects of a parsed JSON value have, all told. */
const membersOf = (value: unknown): number => {
  let n = 0
  const stack: Array<unknown> = [value]
  while (stack.length > 0) {
    const v = stack.pop()
    if (typeof v !== "object" || v === null) continue
    if (Array.isArray(v)) {
      for (const item of v) if (typeof item === "object" && item !== null) stack.push(item)
    } else {
      for (const key in v) {
        n++
        const member = (v as Record<string, unknown>)[key]
        if (typeof member === "object" && member !== null) stack.push(member)
      }
    }
  }
  return n
}

/** The first repeated member of JSON text that parses: a scan of its tokens, keeping each open object's names. */
const firstRepeat = (text: string): DuplicateMember | undefined =>
  scanTokens<DuplicateMember>(text, (key, frame) => {
    const names = frame.names ??= new Set()
    if (names.has(key)) return repeated(key, pathIn(frame))
    names.add(key)
    return undefined
  }, undefined)

/** An open object or array of a scan ({@link scanTokens}): its path, its current member's name or item's index. */
interface Frame {
  readonly object: boolean
  readonly path: string
  index: number
  key: string | undefined
  /** The names seen so far, where a scan keeps them. */
  names: Set<string> | undefined
}

/** The path of the value a frame is at (`a.b[2]`; a member of the root is its bare name). */
const pathIn = (frame: Frame | undefined): string =>
  frame === undefined
    ? ""
    : !frame.object
    ? `${frame.path}[${frame.index}]`
    : frame.path === "" ? frame.key! : `${frame.path}.${frame.key!}`

/** A number literal of JSON text, from where it starts. */
const numberToken = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y

/**
 * One pass over the tokens of JSON text that parses (since 0.14.1): `onName` hears each member's
 * name with its object's frame, `onNumber` each number literal with the frame it is a value of;
 * the first answer either gives ends the scan. Strings are skipped by their quotes.
 */
const scanTokens = <R>(
  text: string,
  onName: ((key: string, frame: Frame) => R | undefined) | undefined,
  onNumber: ((literal: string, frame: Frame | undefined) => R | undefined) | undefined
): R | undefined => {
  const frames: Array<Frame> = []
  // Whether the next string of the innermost object is a member's name.
  let nameNext = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 34 /* " */) {
      const start = i
      let escaped = false
      for (i++; i < text.length && text.charCodeAt(i) !== 34; i++) {
        if (text.charCodeAt(i) === 92 /* \ */) {
          escaped = true
          i++
        }
      }
      if (!nameNext) continue
      nameNext = false
      const frame = frames[frames.length - 1]!
      const token = text.slice(start, i + 1)
      frame.key = escaped ? JSON.parse(token) as string : token.slice(1, -1)
      const found = onName?.(frame.key, frame)
      if (found !== undefined) return found
    } else if (c === 123 /* { */ || c === 91 /* [ */) {
      const path = pathIn(frames[frames.length - 1])
      frames.push({ object: c === 123, path, index: 0, key: undefined, names: undefined })
      nameNext = c === 123
    } else if (c === 125 /* } */ || c === 93 /* ] */) {
      frames.pop()
      nameNext = false
    } else if (c === 44 /* , */) {
      const frame = frames[frames.length - 1]!
      if (!frame.object) frame.index++
      else nameNext = true
    } else if (onNumber !== undefined && (c === 45 /* - */ || (c >= 48 && c <= 57))) {
      numberToken.lastIndex = i
      const literal = numberToken.exec(text)![0]
      i += literal.length - 1
      const found = onNumber(literal, frames[frames.length - 1])
      if (found !== undefined) return found
    }
  }
  return undefined
}

/**
 * The first number of JSON `text` (text that parses, nested no deeper than a body may be) that a
 * double does not keep as written, or undefined (since 0.8.0): one that overflows (`1e400`
 * parses to Infinity, which JSON writes as null), a literal other than 0 that underflows to 0
 * (`1e-400`), or an integer whose value is not the double's (`9007199254740993` parses to
 * 9007199254740992; since 0.8.1 also one written with a fraction of zeros, `9007199254740993.0`); fractions and exponents that round as doubles do (`0.1`, `1.5e300`) are
 * kept (RFC 7493, I-JSON). `JSON.parse` takes the others without a word, so the data a client
 * sent would be lost (SPEC 1.4). Most texts cost one regular expression test; a text it
 * matches is scanned once, token by token, to its first such number (since 0.14.1; before, it was
 * parsed again with a reviver reading every value's source text, and walked to the number's path:
 * 90–140 ms for 1 MiB of `1e100`s or of 16-digit integers, which gzip brings in 1.6 KB, now 10–55 ms;
 * `JSON.parse` takes 3–8 ms).
 */
export const inexactNumber = (text: string): InexactNumber | undefined => {
  if (!suspectNumber.test(text)) return undefined
  return scanTokens<InexactNumber>(text, undefined, (literal, frame) => {
    if (!suspectLiteral.test(literal)) return undefined
    const expected = inexact(literal, Number(literal))
    if (expected === undefined) return undefined
    return { path: pathIn(frame), literal: literal.length > 60 ? `${literal.slice(0, 57)}...` : literal, expected }
  })
}

/** A number literal of the shape {@link suspectNumber} looks for; no other can be inexact. */
const suspectLiteral = /^-?(?:\d{16}|\d+\.\d{16}|\d+(?:\.\d+)?[eE][+-]?\d{3})/

/** Keys that would reach an object's prototype if assigned naively. */
export const isPrototypeKey = (key: string): boolean =>
  key === "__proto__" || key === "constructor" || key === "prototype"

/**
 * True for a plain JSON object: not null, not an array, and made by an object literal,
 * `JSON.parse` or `Object.create(null)` in any realm (its prototype null or the root of its
 * prototype chain, a realm's `Object.prototype`). Since 0.12.1 a `Map`, `Set`, `Date` or other
 * class instance a library caller passes is not one (before, it was read as the object of its own
 * enumerable properties, mostly `{}`, and a body of it was taken as an empty patch or an entity of
 * defaults). Since 0.12.2 an object of another realm (`node:vm`, an iframe, a test runner's
 * sandbox) is one again, as it was before 0.12.1: 0.12.1 compared the prototype with this realm's
 * `Object.prototype` alone, and refused such a body (`MergePatch.apply` then took it whole).
 */
export const isObject = (value: unknown): value is { readonly [key: string]: unknown } => {
  if (typeof value !== "object" || value === null) return false
  const proto = Object.getPrototypeOf(value)
  // This realm's literals first (one comparison); then another realm's (its `Object.prototype` is
  // the one prototype whose own prototype is null; an array's or a class's has one above it).
  return proto === Object.prototype || proto === null || Object.getPrototypeOf(proto) === null
}

/** The depth of a JSON value: a scalar is 0, `{}` or `[]` is 1. Stops counting past `limit`. */
export const depth = (value: unknown, limit: number = maxDepth): number => {
  const walk = (v: unknown, d: number): number => {
    if (typeof v !== "object" || v === null) return d
    if (d + 1 > limit) return d + 1
    let max = d + 1
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      const cd = walk(child, d + 1)
      if (cd > max) max = cd
      if (max > limit) return max
    }
    return max
  }
  return walk(value, 0)
}

/**
 * A short, safe rendering of a value for an error message. It never throws (since 0.10.1): a value
 * nested deeper than {@link maxDepth} is shown as its outermost brackets (`[…]`, `{…}`; before, about
 * 5 000 levels overflowed the stack in `JSON.stringify`, and a decoder that named such a value threw
 * a `RangeError` instead of returning its failure), one that has no JSON text (a BigInt, a cycle) by
 * its kind.
 */
export const show = (value: unknown): string => {
  try {
    return shown(value)
  } catch {
    // A revoked proxy, or a proxy whose traps throw, throws even on `Array.isArray` (since 0.12.2).
    return "a value that cannot be shown"
  }
}

const shown = (value: unknown): string => {
  if (value === undefined) return "nothing"
  // Numbers JSON has no text for, said as JavaScript does (since 0.12.1; before, `null`).
  if (typeof value === "number" && !Number.isFinite(value)) return String(value)
  if (typeof value === "object" && value !== null && !Array.isArray(value) && !isObject(value)) return kindOf(value)
  let text: string
  try {
    if (typeof value === "object" && value !== null && depth(value) > maxDepth) {
      return Array.isArray(value) ? "[…] (nested too deep to show)" : "{…} (nested too deep to show)"
    }
    text = JSON.stringify(value) ?? String(value)
  } catch {
    // A cycle, a BigInt, or a getter that throws (since 0.12.1 caught here too: `depth` reads members).
    text = typeof value === "object" && value !== null ? (Array.isArray(value) ? "an array" : "an object") : typeof value
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

/** An object that is not plain JSON, by its kind: "a Map", "a Date", "an object of class Body". */
const kindOf = (value: object): string => {
  let name: unknown
  try {
    name = (value as { readonly constructor?: { readonly name?: unknown } }).constructor?.name
  } catch {
    name = undefined
  }
  if (typeof name !== "string" || name === "") return "an object that is not plain JSON"
  return name === "Map" || name === "Set" || name === "Date" || name === "RegExp" || name === "Promise"
    ? `a ${name}`
    : `an object of class ${name.length > 40 ? `${name.slice(0, 37)}...` : name}`
}

/**
 * True for a plain JSON value: null, a boolean, a finite number, a string, an array or a plain
 * object of them (no `undefined`, function, BigInt, `NaN`, `Date`, `Map` or class instance). Check
 * the nesting first ({@link unbounded}): the walk recurses per level.
 *
 * @since 0.10.1
 */
export const isJsonValue = (value: unknown): value is Json => {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true
    case "number":
      return Number.isFinite(value)
    case "object": {
      if (value === null) return true
      if (Array.isArray(value)) return value.every(isJsonValue)
      const proto = Object.getPrototypeOf(value)
      return (proto === Object.prototype || proto === null) && Object.values(value).every(isJsonValue)
    }
    default:
      return false
  }
}

/**
 * A copy of a JSON value that shares nothing with it (a scalar is its own copy): what an entity
 * keeps of a caller's untyped value, so that the caller changing its object afterwards changes
 * nothing stored (since 0.10.1).
 *
 * @since 0.10.1
 */
export const copy = <A extends Json>(value: A): A =>
  typeof value === "object" && value !== null ? JSON.parse(JSON.stringify(value)) as A : value

/** Deep equality of two JSON values (object key order does not matter). */
export const equals = (a: unknown, b: unknown): boolean => {
  if (a === b) return true
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  if (Array.isArray(a)) {
    const bb = b as Array<unknown>
    return a.length === bb.length && a.every((x, i) => equals(x, bb[i]))
  }
  const ka = Object.keys(a)
  const kb = Object.keys(b)
  if (ka.length !== kb.length) return false
  for (const k of ka) {
    if (!Object.hasOwn(b, k) || !equals((a as any)[k], (b as any)[k])) return false
  }
  return true
}
