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
 * pseudo-code threw a `RangeError`. A patch that holds itself (a cycle, which no JSON text makes)
 * throws a `TypeError` saying so (since 0.12.1; 0.12.0 merged it until the process ran out of
 * memory); an object shared by two members, with no cycle, is merged at each.
 */
export const apply = (target: Json.Json | undefined, patch: Json.Json): Json.Json => {
  if (!Json.isObject(patch)) return patch
  const root: Record<string, Json.Json> = {}
  // Each step merges the object `patch` onto `target` into `out`, a fresh object already placed
  // where the result holds it; a member whose patch is an object is a step of its own. `open`
  // holds the patch objects on the path from the root to the step being merged: a step's `close`
  // is popped once every step pushed after it (its members') is done.
  type Step =
    | { readonly out: Record<string, Json.Json>; readonly target: Json.Json | undefined; readonly patch: Json.JsonObject }
    | { readonly close: Json.JsonObject }
  const open = new Set<Json.JsonObject>()
  const steps: Array<Step> = [{ out: root, target, patch: patch as Json.JsonObject }]
  for (let step = steps.pop(); step !== undefined; step = steps.pop()) {
    if ("close" in step) {
      open.delete(step.close)
      continue
    }
    const { out, target: t, patch: p } = step
    open.add(p)
    steps.push({ close: p })
    if (Json.isObject(t)) for (const key of Object.keys(t)) setOwn(out, key, t[key])
    for (const key of Object.keys(p)) {
      const value = p[key]!
      if (value === null) delete out[key]
      else if (!Json.isObject(value)) setOwn(out, key, value)
      else {
        if (open.has(value as Json.JsonObject)) throw new TypeError(`MergePatch.apply: the patch holds itself (a cycle at the member "${key}"): not JSON`)
        const before = Object.hasOwn(out, key) ? out[key] : undefined
        const merged: Record<string, Json.Json> = {}
        setOwn(out, key, merged)
        steps.push({ out: merged, target: before, patch: value as Json.JsonObject })
      }
    }
  }
  return root
}
