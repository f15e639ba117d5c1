/**
 * JSON values, and the checks every untrusted document passes before the domain
 * looks at it: nesting depth, string length in typed properties, and keys that
 * must never reach an object's prototype (SPEC 8).
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

/** Longest string accepted in a typed property (SPEC 8), in UTF-16 code units. */
export const maxStringLength = 4096

/**
 * Most bytes of JSON text the untyped members of one entity may take together (a
 * configuration's derived-type properties, a directory object's other Graph properties;
 * since 0.4.0): a list page of 999 entities stays answerable.
 */
export const maxUntypedBytes = 65_536

/**
 * Where an untyped value breaks the bounds of SPEC 8 as typed values keep them: the
 * path (under `path`) of a string longer than {@link maxStringLength} or of a nesting
 * deeper than {@link maxDepth}, and what was expected there; undefined when within.
 */
export const unbounded = (value: unknown, path: string): { readonly path: string; readonly expected: string } | undefined => {
  // A nesting too deep is told at the value itself (its path would be as deep).
  if (depth(value) > maxDepth) return { path, expected: `at most ${maxDepth} levels of nesting` }
  const walk = (v: unknown, at: string): { readonly path: string; readonly expected: string } | undefined => {
    if (typeof v === "string") return v.length > maxStringLength ? { path: at, expected: `a string of at most ${maxStringLength} characters` } : undefined
    if (typeof v !== "object" || v === null) return undefined
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const r = walk(v[i], `${at}[${i}]`)
        if (r !== undefined) return r
      }
      return undefined
    }
    for (const k of Object.keys(v)) {
      const r = walk((v as Record<string, unknown>)[k], `${at}.${k}`)
      if (r !== undefined) return r
    }
    return undefined
  }
  return walk(value, path)
}

/** Keys that would reach an object's prototype if assigned naively. */
export const isPrototypeKey = (key: string): boolean =>
  key === "__proto__" || key === "constructor" || key === "prototype"

/** True for a plain JSON object (not null, not an array). */
export const isObject = (value: unknown): value is { readonly [key: string]: unknown } =>
  typeof value === "object" && value !== null && !Array.isArray(value)

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

/** A short, safe rendering of a value for an error message. */
export const show = (value: unknown): string => {
  if (value === undefined) return "nothing"
  let text: string
  try {
    text = JSON.stringify(value) ?? String(value)
  } catch {
    text = String(value)
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

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
