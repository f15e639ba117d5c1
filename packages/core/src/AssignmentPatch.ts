/**
 * The typed merge-PATCH of an assignment (SPEC 3): a pure function from the
 * stored entity and a payload to the new entity or the precise reason it is
 * refused. It is OData's PATCH, close to RFC 7396 but typed: `null` sets a
 * nullable property and is refused for the others, unknown properties are
 * refused, and the polymorphic `target` merges by the rules of
 * {@link AssignmentTarget.merge}. Nothing is changed unless everything is valid.
 *
 * @since 0.1.0
 */
import { Result } from "effect"
import * as Assignment from "./Assignment.ts"
import * as AssignmentTarget from "./AssignmentTarget.ts"
import { type InvalidInput, invalid } from "./Errors.ts"
import * as Json from "./Json.ts"
import * as ODataType from "./ODataType.ts"

/** Applies `payload` to `current` by the rules of SPEC 3; `current` is never mutated. */
export const patch = (
  current: Assignment.Assignment,
  payload: unknown
): Result.Result<Assignment.Assignment, InvalidInput> => {
  if (!Json.isObject(payload)) return Result.fail(invalid.value("", "a JSON object", Json.show(payload)))
  let target = current.target
  let source = current.source
  let sourceId = current.sourceId
  for (const key of Object.keys(payload)) {
    const value = payload[key]
    switch (key) {
      case "@odata.type": {
        const e = Assignment.checkODataType(value)
        if (e) return Result.fail(e)
        break
      }
      case "id":
        if (value !== current.id) return Result.fail(invalid.readOnly("id"))
        break
      case "target": {
        const r = AssignmentTarget.merge(target, value, "target")
        if (Result.isFailure(r)) return Result.fail(r.failure)
        target = r.success
        break
      }
      case "source": {
        const r = Assignment.decodeSourceValue(value)
        if (Result.isFailure(r)) return Result.fail(r.failure)
        source = r.success
        break
      }
      case "sourceId": {
        const r = Assignment.decodeSourceIdValue(value)
        if (Result.isFailure(r)) return Result.fail(r.failure)
        sourceId = r.success
        break
      }
      default:
        if (!ODataType.isAnnotation(key)) return Result.fail(invalid.unknown(key, key, Assignment.typeName))
    }
  }
  return Assignment.validate({ "@odata.type": current["@odata.type"], id: current.id, target, source, sourceId })
}
