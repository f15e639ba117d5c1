/**
 * The generic JSON Merge Patch of RFC 7396, for untyped documents (the
 * derived-type properties of configurations). Unlike the typed PATCH, `null`
 * removes a member here. Keys such as `__proto__` are kept as plain data and
 * never reach an object's prototype.
 *
 * @since 0.1.0
 */
import * as Json from "./Json.ts"

/** Sets an own property, even one named `__proto__`. */
export const setOwn = (target: Record<string, unknown>, key: string, value: unknown): void => {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
}

/** RFC 7396 `MergePatch(Target, Patch)`; neither argument is mutated. */
export const apply = (target: Json.Json | undefined, patch: Json.Json): Json.Json => {
  if (!Json.isObject(patch)) return patch
  const out: Record<string, Json.Json> = {}
  if (Json.isObject(target)) for (const key of Object.keys(target)) setOwn(out, key, target[key])
  for (const key of Object.keys(patch)) {
    const value = patch[key]!
    if (value === null) delete out[key]
    else setOwn(out, key, apply(Object.hasOwn(out, key) ? out[key] : undefined, value))
  }
  return out
}
