/**
 * An assignment `$filter` as a SQL condition over the indexed assignment
 * columns (`source`, `source_id`, `target_type`, `group_id`, filled from
 * `AssignmentFilter.columnsOf`), so that lists and counts filter in the engine
 * instead of reading every row. Values are never written into the SQL text:
 * each one goes through `bind`, which records it and returns its placeholder
 * (`?` for SQLite, `$n` for PostgreSQL).
 *
 * The filter language has no negation, so SQL's NULL (unknown) behaves as
 * false here exactly as a failed match does in `AssignmentFilter.matches`.
 *
 * @since 0.1.0
 */
import { AssignmentTarget, type AssignmentFilter } from "@enrollment/core"

/** Records a bound value and returns its placeholder. */
export type Bind = (value: string) => string

const concreteDescendants = (name: AssignmentTarget.TypeName): ReadonlyArray<AssignmentTarget.ConcreteTypeName> =>
  AssignmentTarget.descendants(name).filter((n): n is AssignmentTarget.ConcreteTypeName =>
    !AssignmentTarget.hierarchy[n].abstract
  )

/** The concrete target types that carry a `groupId` (group targets, exclusion groups included). */
export const groupTargetTypes: ReadonlyArray<AssignmentTarget.ConcreteTypeName> = concreteDescendants(
  "groupAssignmentTarget"
)

const typeIn = (types: ReadonlyArray<string>, bind: Bind): string =>
  types.length === 0 ? "1 = 0" : `target_type IN (${types.map(bind).join(", ")})`

/** The condition that holds for exactly the assignments `AssignmentFilter.matches` accepts. */
export const toSql = (filter: AssignmentFilter.AssignmentFilter, bind: Bind): string => {
  switch (filter._tag) {
    case "SourceEq":
      return `source = ${bind(filter.value)}`
    case "SourceIdEq":
      return filter.value === null ? "source_id IS NULL" : `source_id = ${bind(filter.value)}`
    case "TargetGroupIdEq":
      // Only group targets have a group id column; a null one must still be a group target.
      return filter.value === null
        ? `(${typeIn(groupTargetTypes, bind)} AND group_id IS NULL)`
        : `group_id = ${bind(filter.value)}`
    case "TargetIsOf":
      return typeIn(concreteDescendants(filter.type), bind)
    case "And":
      return `(${toSql(filter.left, bind)} AND ${toSql(filter.right, bind)})`
    case "Or":
      return `(${toSql(filter.left, bind)} OR ${toSql(filter.right, bind)})`
  }
}
