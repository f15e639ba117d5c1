/**
 * The `$filter` subset on assignment lists (SPEC 5), as a small expression tree
 * that every store can evaluate or translate: equality on `source`, `sourceId`
 * and `target/groupId`, `isof(target, T)` (true for T and the types derived from
 * it), joined with `and` / `or`.
 *
 * @since 0.1.0
 */
import type { Assignment } from "./Assignment.ts"
import * as AssignmentTarget from "./AssignmentTarget.ts"

/** A filter expression. */
export type AssignmentFilter =
  | { readonly _tag: "SourceEq"; readonly value: string }
  | { readonly _tag: "SourceIdEq"; readonly value: string | null }
  | { readonly _tag: "TargetGroupIdEq"; readonly value: string | null }
  | { readonly _tag: "TargetIsOf"; readonly type: AssignmentTarget.TypeName }
  | { readonly _tag: "And"; readonly left: AssignmentFilter; readonly right: AssignmentFilter }
  | { readonly _tag: "Or"; readonly left: AssignmentFilter; readonly right: AssignmentFilter }

/** True when the assignment satisfies the filter. */
export const matches = (filter: AssignmentFilter, a: Assignment): boolean => {
  switch (filter._tag) {
    case "SourceEq":
      return a.source === filter.value
    case "SourceIdEq":
      return a.sourceId === filter.value
    case "TargetGroupIdEq":
      return AssignmentTarget.isGroupTarget(a.target) && a.target.groupId === filter.value
    case "TargetIsOf":
      return a.target !== null && AssignmentTarget.isA(AssignmentTarget.typeOf(a.target), filter.type)
    case "And":
      return matches(filter.left, a) && matches(filter.right, a)
    case "Or":
      return matches(filter.left, a) || matches(filter.right, a)
  }
}

/**
 * The columns a store indexes an assignment by, so that filters and targeting
 * can be answered without reading every row.
 */
export interface AssignmentColumns {
  readonly source: string
  readonly sourceId: string | null
  readonly targetType: AssignmentTarget.ConcreteTypeName | null
  readonly groupId: string | null
}

/** The indexed columns of an assignment. */
export const columnsOf = (a: Assignment): AssignmentColumns => ({
  source: a.source,
  sourceId: a.sourceId,
  targetType: a.target === null ? null : AssignmentTarget.typeOf(a.target),
  groupId: AssignmentTarget.isGroupTarget(a.target) ? a.target.groupId : null
})
