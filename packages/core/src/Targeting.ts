/**
 * Which configurations reach a user (SPEC 4), as pure functions of the
 * assignments and the group memberships.
 *
 * A configuration is targeted to a user when at least one of its assignments
 * includes the user and none excludes them: `allLicensedUsers` includes every
 * user, a group target includes the group's transitive members, an exclusion
 * group excludes its transitive members (exclusion wins), and device targets
 * (`allDevices`, Configuration Manager collections) include no user. Filters
 * apply to devices at enrollment and do not change user targeting.
 *
 * @since 0.1.0
 */
import * as AssignmentTarget from "./AssignmentTarget.ts"

/** A direct membership edge: `memberId` (a user or a group) is a member of `groupId`. */
export interface Membership {
  readonly groupId: string
  readonly memberId: string
}

/** What targeting needs of an assignment. */
export interface Targetable {
  readonly target: AssignmentTarget.AssignmentTarget | null
}

/**
 * The groups `memberId` belongs to, directly or through nested groups. Cycles
 * are fine: each group is visited once.
 */
export const transitiveGroups = (
  memberId: string,
  parentsOf: (id: string) => Iterable<string>
): ReadonlySet<string> => {
  const seen = new Set<string>()
  const queue: Array<string> = [memberId]
  while (queue.length > 0) {
    const id = queue.pop()!
    for (const g of parentsOf(id)) {
      if (!seen.has(g)) {
        seen.add(g)
        queue.push(g)
      }
    }
  }
  return seen
}

/** An index from member to its direct groups, for {@link transitiveGroups}. */
export const parentsIndex = (memberships: Iterable<Membership>): (id: string) => ReadonlyArray<string> => {
  const index = new Map<string, Array<string>>()
  for (const m of memberships) {
    const list = index.get(m.memberId)
    if (list) list.push(m.groupId)
    else index.set(m.memberId, [m.groupId])
  }
  return (id) => index.get(id) ?? []
}

/** How one assignment's target bears on a user in `groups`. */
export const effect = (target: AssignmentTarget.AssignmentTarget | null, groups: ReadonlySet<string>): "include" | "exclude" | "none" => {
  if (target === null) return "none"
  switch (AssignmentTarget.typeOf(target)) {
    case "allLicensedUsersAssignmentTarget":
      return "include"
    case "exclusionGroupAssignmentTarget":
      return (target as AssignmentTarget.ExclusionGroupAssignmentTarget).groupId !== null &&
          groups.has((target as AssignmentTarget.ExclusionGroupAssignmentTarget).groupId!)
        ? "exclude"
        : "none"
    case "groupAssignmentTarget":
      return (target as AssignmentTarget.GroupAssignmentTarget).groupId !== null &&
          groups.has((target as AssignmentTarget.GroupAssignmentTarget).groupId!)
        ? "include"
        : "none"
    default:
      return "none"
  }
}

/** True when the assignments of one configuration target a user who is in `groups` (transitively). */
export const isTargeted = (assignments: Iterable<Targetable>, groups: ReadonlySet<string>): boolean => {
  let included = false
  for (const a of assignments) {
    const e = effect(a.target, groups)
    if (e === "exclude") return false
    if (e === "include") included = true
  }
  return included
}

/** The same decision from raw memberships: is the configuration targeted to `userId`? */
export const isTargetedTo = (
  assignments: Iterable<Targetable>,
  memberships: Iterable<Membership>,
  userId: string
): boolean => isTargeted(assignments, transitiveGroups(userId, parentsIndex(memberships)))
