/**
 * Request bodies checked against the OpenAPI document's JSON Schema (ajv, draft
 * 2020-12, strict), as a generated client or a gateway validating requests would
 * check them: the route a request reaches (matched by the server's own router) and
 * the schema its operation describes the body with.
 */
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js"
import { OpenApi, Router, Routes } from "../src/index.ts"

/** A body's check: the operation it was checked against, and ajv's errors (none when it validates). */
export interface Checked {
  readonly operation: string
  readonly errors: ReadonlyArray<string>
}

/**
 * A checker of request bodies against `doc` (by default the document the server serves,
 * made as it makes it). `check(method, path, body)` answers undefined for a request whose
 * route takes no body; `path` is under `/beta`, with or without its query.
 */
export const bodyChecker = (doc: any = OpenApi.document(Routes.routes, { batch: true })) => {
  const ajv = new Ajv2020({ strict: true, allErrors: true, validateFormats: false })
  // The components, once, as one schema's definitions; an operation's schema refers to them.
  ajv.addSchema({ $id: "components", $defs: JSON.parse(JSON.stringify(doc.components.schemas).replaceAll("#/components/schemas/", "#/$defs/")) })
  const router = Router.make(Routes.routes)
  const compiled = new Map<string, ValidateFunction>()
  const operationOf = (method: string, path: string): { readonly id: string; readonly schema: unknown } | undefined => {
    const bare = path.split("?")[0]!
    const template = bare === "/$batch" ? "/$batch" : (() => {
      const m = router.match(method, bare)
      return m._tag === "Found" ? m.route.path : undefined
    })()
    const op = template === undefined ? undefined : doc.paths[`/beta${template}`]?.[method.toLowerCase()]
    const schema = op?.requestBody?.content?.["application/json"]?.schema
    return schema === undefined ? undefined : { id: `${op.operationId} (${method} /beta${template})`, schema }
  }
  return (method: string, path: string, body: unknown): Checked | undefined => {
    const op = operationOf(method.toUpperCase(), path)
    if (op === undefined) return undefined
    let validate = compiled.get(op.id)
    if (validate === undefined) {
      validate = ajv.compile(JSON.parse(JSON.stringify(op.schema).replaceAll("#/components/schemas/", "components#/$defs/")))
      compiled.set(op.id, validate)
    }
    const valid = validate(body)
    return {
      operation: op.id,
      errors: valid ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ""}`)
    }
  }
}

let shared: ReturnType<typeof bodyChecker> | undefined

/** The checker of the served document, made once per test file. */
export const servedBodies = () => (shared ??= bodyChecker())
