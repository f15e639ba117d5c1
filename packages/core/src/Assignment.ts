/**
 * The enrollmentConfigurationAssignment entity (SPEC 1.1): which targets a
 * device enrollment configuration is assigned to. Values of {@link Assignment}
 * are the canonical Graph JSON representation, so writing one is `JSON.stringify`.
 *
 * @since 0.1.0
 */
import { Result, Schema } from "effect"
import * as AssignmentTarget from "./AssignmentTarget.ts"
import { type InvalidInput, invalid } from "./Errors.ts"
import { Id } from "./Id.ts"
import * as Json from "./Json.ts"
import * as ODataType from "./ODataType.ts"
import * as Validation from "./Validation.ts"

/** The entity type's name. */
export const typeName = "enrollmentConfigurationAssignment"

/** Where an assignment comes from: assigned directly, or through a policy set. */
export const AssignmentSource = Schema.Literals(["direct", "policySets"])
export type AssignmentSource = typeof AssignmentSource.Type

/**
 * An assignment as stored and as returned. Decoded with Effect's default options it drops a
 * property it does not declare; decode a client's body with `{ onExcessProperty: "error" }` or
 * `Validation.decoder` to refuse one as SPEC 3 does (the services do).
 */
export const Assignment = Schema.Struct({
  "@odata.type": AssignmentTarget.ODataTypeOf(typeName),
  id: Id,
  target: Schema.NullOr(AssignmentTarget.AssignmentTarget),
  source: AssignmentSource,
  sourceId: Schema.NullOr(AssignmentTarget.BoundedString)
}).annotate({ identifier: typeName })
export type Assignment = typeof Assignment.Type

/** What a create (POST) carries, once decoded: everything but the id is settled. */
export interface AssignmentCreate {
  readonly id: string | undefined
  readonly target: AssignmentTarget.AssignmentTarget | null
  readonly source: AssignmentSource
  readonly sourceId: string | null
}

/** The properties the entity declares. */
export const declared: ReadonlyArray<string> = ["id", "target", "source", "sourceId"]

const decodeId = Validation.decoder(Id)
const decodeSourceId = Validation.decoder(Schema.NullOr(AssignmentTarget.BoundedString))
const decodeSource = Validation.decoder(AssignmentSource)
const decodeWhole = Validation.decoder(Assignment)

/** The top-level `@odata.type`, which may only name this entity type (either spelling). */
export const checkODataType = (value: unknown): InvalidInput | undefined =>
  ODataType.parse(value) === typeName ? undefined : invalid.typeNotAccepted("@odata.type", Json.show(value), [typeName])

/** Decodes `source`; null is refused (it is not nullable) and the message lists the values. */
export const decodeSourceValue = (value: unknown): Result.Result<AssignmentSource, InvalidInput> => {
  if (value === null) return Result.fail(invalid.nullNotAllowed("source", "one of 'direct', 'policySets'"))
  const r = decodeSource(value, "source")
  return Result.isSuccess(r)
    ? r
    : Result.fail(invalid.value("source", "one of 'direct', 'policySets'", Json.show(value)))
}

/** Decodes `sourceId` (a string or null). */
export const decodeSourceIdValue = (value: unknown) => decodeSourceId(value, "sourceId")

/** The members of an assignment other than its key. */
export interface Members {
  readonly target: AssignmentTarget.AssignmentTarget | null
  readonly source: AssignmentSource
  readonly sourceId: string | null
}

/**
 * Applies the members of a body onto `state` by the typed rules (SPEC 3), for
 * both a create (onto the defaults) and a PATCH (onto the stored entity): the
 * entity's own `@odata.type` in either spelling, `target` by
 * {@link AssignmentTarget.merge}, `source` and `sourceId` replaced, annotations
 * ignored, anything else refused. `id` is the caller's rule: `onId` refuses a
 * value or accepts it. Nothing is applied unless every member is valid.
 */
export const applyMembers = (
  state: Members,
  body: unknown,
  onId: (value: unknown) => InvalidInput | undefined
): Result.Result<Members, InvalidInput> => {
  if (!Json.isObject(body)) return Result.fail(invalid.value("", "a JSON object", Json.show(body)))
  let { source, sourceId, target } = state
  for (const key of Object.keys(body)) {
    const value = body[key]
    switch (key) {
      case "@odata.type": {
        const e = checkODataType(value)
        if (e) return Result.fail(e)
        break
      }
      case "id": {
        const e = onId(value)
        if (e) return Result.fail(e)
        break
      }
      case "target": {
        const r = AssignmentTarget.merge(target, value, "target")
        if (Result.isFailure(r)) return Result.fail(r.failure)
        target = r.success
        break
      }
      case "source": {
        const r = decodeSourceValue(value)
        if (Result.isFailure(r)) return Result.fail(r.failure)
        source = r.success
        break
      }
      case "sourceId": {
        const r = decodeSourceIdValue(value)
        if (Result.isFailure(r)) return Result.fail(r.failure)
        sourceId = r.success
        break
      }
      default:
        if (!ODataType.isAnnotation(key)) return Result.fail(invalid.unknown(key, key, typeName))
    }
  }
  return Result.succeed({ target, source, sourceId })
}

/** What a create starts from: no target, a direct assignment. */
const defaults: Members = { target: null, source: "direct", sourceId: null }

/**
 * Decodes the body of a create (SPEC 2): `target` must name a concrete type or be
 * null, `source` defaults to `direct`, `id` is optional, unknown properties are
 * refused and annotations ignored.
 */
export const decodeCreate = (body: unknown): Result.Result<AssignmentCreate, InvalidInput> => {
  let id: string | undefined
  const members = applyMembers(defaults, body, (value) => {
    const r = decodeId(value, "id")
    if (Result.isFailure(r)) return r.failure
    id = r.success
    return undefined
  })
  return Result.map(members, (m) => ({ id, ...m }))
}

/** The entity a create makes, once its id is settled. */
export const make = (id: string, input: Omit<AssignmentCreate, "id">): Assignment => ({
  "@odata.type": "#microsoft.graph.enrollmentConfigurationAssignment",
  id,
  target: input.target,
  source: input.source,
  sourceId: input.sourceId
})

const isAssignment = Validation.guard(Assignment)

/** The members an assignment may have, and a target of each written `@odata.type`. */
const ownKeys: ReadonlySet<string> = new Set(["@odata.type", ...declared])
const targetKeys: ReadonlyMap<string, ReadonlySet<string>> = new Map(
  AssignmentTarget.concreteTypeNames.map((n) => [ODataType.format(n), new Set(["@odata.type", ...AssignmentTarget.propertiesOf(n)])])
)

/**
 * True when a value the type guard admitted has no member its type does not declare: the guard,
 * as `Schema.is` does, ignores them (the decode refuses them: the entity is not open, SPEC 3 rule 3).
 */
const onlyDeclared = (a: Assignment): boolean => {
  for (const k in a) if (!ownKeys.has(k)) return false
  if (a.target === null) return true
  const keys = targetKeys.get(a.target["@odata.type"])
  if (keys === undefined) return false
  for (const k in a.target) if (!keys.has(k)) return false
  return true
}

/** A target's decoder per concrete type: its failure is told by the type its `@odata.type` names. */
const targetDecoders = new Map(
  AssignmentTarget.concreteTypeNames.map((n) => [n as string, Validation.decoder(AssignmentTarget.schemas[n])])
)

/**
 * The full decode, run to explain a failure. A target's problem is told by the type its
 * `@odata.type` names (since 0.10.1): the union's own failure names its first member's, and a group
 * target's `groupId: 42` read "'groupId' is not a property of this type".
 */
const explain = (value: unknown): Result.Result<Assignment, InvalidInput> => {
  const r = decodeWhole(value)
  if (Result.isSuccess(r) || !Json.isObject(value) || !Json.isObject(value.target)) return r
  const name = ODataType.parse(value.target["@odata.type"])
  const decode = name === undefined ? undefined : targetDecoders.get(name)
  if (decode === undefined) return r
  const t = decode(value.target, "target")
  return Result.isFailure(t) ? Result.fail(t.failure) : r
}

/**
 * Validates a whole assignment against the schema (SPEC 3.8). The schema's type
 * guard answers the common case, with a look at the members (since 0.10.1, before
 * which a member no type declares passed, unless something else failed: then the
 * decode refused it); a full decode runs only to explain a failure.
 */
export const validate = (value: unknown): Result.Result<Assignment, InvalidInput> =>
  isAssignment(value) && onlyDeclared(value) ? Result.succeed(value) : explain(value)
