/**
 * An assignment `$filter` as a SQL condition over the indexed assignment
 * columns (`source`, `source_id`, `target_type`, `group_id`, filled from
 * `AssignmentFilter.columnsOf`), so that lists and counts filter in the engine
 * instead of reading every row. Values are never written into the SQL text:
 * each one goes through `bind`, which records it and returns its placeholder
 * (`?` for SQLite, `$n` for PostgreSQL).
 *
 * Every condition is two-valued (true or false, never SQL's NULL), as every
 * node of `AssignmentFilter` is in OData (null equals null and nothing else), so
 * that `NOT` negates exactly as `AssignmentFilter.matches` does: a comparison with
 * a nullable column is guarded with `IS NOT NULL` (`source` is `NOT NULL`), and `group_id` is null for an
 * assignment without a target or with a target type that has no `groupId`
 * (`columnsOf`), which is what `target/groupId` reads as null.
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
  types.length === 0 ? "1 = 0" : `(target_type IS NOT NULL AND target_type IN (${types.map(bind).join(", ")}))`

/** The condition that holds for exactly the assignments `AssignmentFilter.matches` accepts; never NULL. */
export const toSql = (filter: AssignmentFilter.AssignmentFilter, bind: Bind): string => {
  switch (filter._tag) {
    case "SourceEq":
      return `source = ${bind(filter.value)}`
    case "SourceIdEq":
      return filter.value === null ? "source_id IS NULL" : `(source_id IS NOT NULL AND source_id = ${bind(filter.value)})`
    case "TargetGroupIdEq":
      // OData reads target/groupId as null through no target and a type without groupId: the column is null then.
      return filter.value === null ? "group_id IS NULL" : `(group_id IS NOT NULL AND group_id = ${bind(filter.value)})`
    case "TargetIsOf":
      return typeIn(concreteDescendants(filter.type), bind)
    case "And":
      return `(${toSql(filter.left, bind)} AND ${toSql(filter.right, bind)})`
    case "Or":
      return `(${toSql(filter.left, bind)} OR ${toSql(filter.right, bind)})`
    case "Not":
      return `(NOT ${toSql(filter.operand, bind)})`
  }
}
