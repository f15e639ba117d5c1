/**
 * The `$filter` subset on assignment lists (SPEC 5), as a small expression tree
 * that every store can evaluate or translate: equality on `source`, `sourceId`
 * and `target/groupId`, `isof(target, T)` (true for T and the types derived from
 * it), joined with `and` / `or` and negated with `not`.
 *
 * Null follows OData 4.01 (URL Conventions 5.1.1.1): `eq` is an ordinary comparison
 * in which null equals null and nothing else, so every node is true or false, never
 * unknown, and `not` is plain negation. `target/groupId` is null where the target has
 * no `groupId`: a group target without one, a target of a type that declares none
 * (all licensed users, all devices, a collection), and no target at all, as OData
 * reads a property path through a null or a type without the property. So
 * `target/groupId eq null` keeps all of those, and `not (target/groupId eq 'g1')`
 * keeps every assignment but those of group `g1` (before 0.7.0, only group targets
 * had a null `groupId`, and there was no `not`).
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
  /** `not`: true where the operand is false (the operand is never unknown). */
  | { readonly _tag: "Not"; readonly operand: AssignmentFilter }

/** `target/groupId` as a filter reads it: the group target's `groupId`, else null (no target, or a type without one). */
export const targetGroupIdOf = (a: Assignment): string | null =>
  AssignmentTarget.isGroupTarget(a.target) ? a.target.groupId : null

/** True when the assignment satisfies the filter. */
export const matches = (filter: AssignmentFilter, a: Assignment): boolean => {
  switch (filter._tag) {
    case "SourceEq":
      return a.source === filter.value
    case "SourceIdEq":
      return a.sourceId === filter.value
    case "TargetGroupIdEq":
      return targetGroupIdOf(a) === filter.value
    case "TargetIsOf":
      return a.target !== null && AssignmentTarget.isA(AssignmentTarget.typeOf(a.target), filter.type)
    case "And":
      return matches(filter.left, a) && matches(filter.right, a)
    case "Or":
      return matches(filter.left, a) || matches(filter.right, a)
    case "Not":
      return !matches(filter.operand, a)
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
  groupId: targetGroupIdOf(a)
})
