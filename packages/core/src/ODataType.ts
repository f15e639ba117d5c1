/**
 * `@odata.type` spellings. Graph accepts `#microsoft.graph.X` and `microsoft.graph.X`
 * on input and always writes `#microsoft.graph.X` (SPEC 1.3).
 *
 * @since 0.1.0
 */

/** The namespace every type of this model lives in. */
export const namespace = "microsoft.graph"

/** The canonical (output) spelling of a type name: `#microsoft.graph.<name>`. */
export const format = <const N extends string>(name: N): `#microsoft.graph.${N}` => `#microsoft.graph.${name}`

/**
 * The bare type name of an `@odata.type` value in either accepted spelling, or
 * `undefined` when the value is not of that form.
 */
export const parse = (value: unknown): string | undefined => {
  if (typeof value !== "string") return undefined
  const rest = value.startsWith("#microsoft.graph.")
    ? value.slice(17)
    : value.startsWith("microsoft.graph.")
    ? value.slice(16)
    : undefined
  return rest !== undefined && /^[A-Za-z][A-Za-z0-9_]*$/.test(rest) ? rest : undefined
}

/**
 * The member names {@link isAnnotation} takes, as a regular expression's source: what an API
 * description's `patternProperties` allows beside an entity's declared properties (since 0.6.0).
 */
export const annotationPattern = "^(?:[A-Za-z_][A-Za-z0-9_]*)?@[A-Za-z_][A-Za-z0-9_]*(?:\\.[A-Za-z_][A-Za-z0-9_]*)+$"

const annotation = new RegExp(annotationPattern)

/**
 * True for a member name that is an OData instance or property annotation:
 * `@odata.etag`, `source@odata.type`, `@microsoft.graph.x` (a namespace-qualified
 * term after `@`). Anything else with an `@` in it (`x@y`) is an ordinary,
 * undeclared property.
 */
export const isAnnotation = (key: string): boolean => key.includes("@") && annotation.test(key)
