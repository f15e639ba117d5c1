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
import { type InvalidInput, invalid } from "./Errors.ts"

/** Applies `payload` to `current` by the rules of SPEC 3; `current` is never mutated. */
export const patch = (
  current: Assignment.Assignment,
  payload: unknown
): Result.Result<Assignment.Assignment, InvalidInput> =>
  Result.flatMap(
    Assignment.applyMembers(current, payload, (id) => id === current.id ? undefined : invalid.readOnly("id")),
    (m) => Assignment.validate({ "@odata.type": current["@odata.type"], id: current.id, ...m })
  )
