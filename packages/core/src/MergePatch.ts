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

/**
 * RFC 7396 `MergePatch(Target, Patch)`; neither argument is mutated. Iterative (since 0.12.0): a
 * patch nested deeper than the call stack (a library caller's own value; HTTP bodies are bounded
 * at depth 64 before they reach it) is merged as any other, where the recursive form of the RFC's
 * pseudo-code threw a `RangeError`.
 */
export const apply = (target: Json.Json | undefined, patch: Json.Json): Json.Json => {
  if (!Json.isObject(patch)) return patch
  const root: Record<string, Json.Json> = {}
  // Each step merges the object `patch` onto `target` into `out`, a fresh object already placed
  // where the result holds it; a member whose patch is an object is a step of its own.
  const steps: Array<{ readonly out: Record<string, Json.Json>; readonly target: Json.Json | undefined; readonly patch: Json.JsonObject }> = [
    { out: root, target, patch: patch as Json.JsonObject }
  ]
  for (let step = steps.pop(); step !== undefined; step = steps.pop()) {
    const { out, target: t, patch: p } = step
    if (Json.isObject(t)) for (const key of Object.keys(t)) setOwn(out, key, t[key])
    for (const key of Object.keys(p)) {
      const value = p[key]!
      if (value === null) delete out[key]
      else if (!Json.isObject(value)) setOwn(out, key, value)
      else {
        const before = Object.hasOwn(out, key) ? out[key] : undefined
        const merged: Record<string, Json.Json> = {}
        setOwn(out, key, merged)
        steps.push({ out: merged, target: before, patch: value as Json.JsonObject })
      }
    }
  }
  return root
}
