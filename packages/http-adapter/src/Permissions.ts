/**
 * The permission sets of SPEC 7: an operation needs any one of its set, taken
 * from the token's `scp` (delegated, space-separated) or `roles` (application).
 *
 * @since 0.1.0
 */

/** A set of permissions of which any one suffices, with a name for messages. */
export interface PermissionSet {
  readonly name: string
  readonly anyOf: ReadonlyArray<string>
  /** A second set of which one is needed too (since 0.16.0): an operation that reads two kinds of object. */
  readonly and?: PermissionSet | undefined
}

const set = (name: string, anyOf: ReadonlyArray<string>): PermissionSet => ({ name, anyOf })

/** Read assignments and configurations. */
export const readConfiguration = set("read assignments and configurations", [
  "DeviceManagementServiceConfig.Read.All",
  "DeviceManagementServiceConfig.ReadWrite.All",
  "DeviceManagementConfiguration.Read.All",
  "DeviceManagementConfiguration.ReadWrite.All"
])
/** Write assignments and configurations. */
export const writeConfiguration = set("write assignments and configurations", [
  "DeviceManagementServiceConfig.ReadWrite.All",
  "DeviceManagementConfiguration.ReadWrite.All"
])
/** Create invitations. */
export const createInvitation = set("create invitations", ["User.Invite.All", "User.ReadWrite.All", "Directory.ReadWrite.All"])
/** Read users and invitations. */
export const readUsers = set("read users", ["User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"])
/**
 * Read groups and their members. SPEC 7 names Group.Read.All, Directory.Read.All and their
 * ReadWrite: GroupMember.ReadWrite.All writes memberships and reads nothing (since 0.4.0).
 */
export const readGroups = set("read groups", ["Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"])
/** Write users. */
export const writeUsers = set("write users", ["User.ReadWrite.All", "Directory.ReadWrite.All"])
/** Write groups. */
export const writeGroups = set("write groups", ["Group.ReadWrite.All", "Directory.ReadWrite.All"])
/** Write group memberships. */
export const writeMembers = set("write group memberships", ["GroupMember.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All"])

/**
 * A group's members (users and groups) and a user's memberships (since 0.16.0): one of the group
 * reads and one of the user reads. Before, the group reads alone, and a token of `Group.Read.All`
 * read every member's profile (`$select=userPrincipalName,mobilePhone`), found users by principal
 * name through a member list's `$filter`, and told which user ids exist through `/users/{id}/memberOf`
 * (a security review): SPEC 7 gives users' data to the user reads only.
 */
export const readMembers: PermissionSet = { ...set("read group members and memberships", readGroups.anyOf), and: readUsers }

/** True when the granted permissions include one of the set (and one of its `and`, where it has one). */
export const allows = (granted: ReadonlySet<string>, required: PermissionSet): boolean => {
  for (const p of required.anyOf) if (granted.has(p)) return required.and === undefined || allows(granted, required.and)
  return false
}

/** What a refusal says a set needs: `one of A, B` (`, and one of C, D` for an `and`). */
export const needs = (required: PermissionSet): string =>
  `one of ${required.anyOf.join(", ")}${required.and === undefined ? "" : `, and ${needs(required.and)}`}`

/** Every permission named by any set (for tokens minted for operators and tests). */
export const all: ReadonlyArray<string> = [
  ...new Set([
    ...readConfiguration.anyOf,
    ...writeConfiguration.anyOf,
    ...createInvitation.anyOf,
    ...readUsers.anyOf,
    ...readGroups.anyOf,
    ...writeUsers.anyOf,
    ...writeGroups.anyOf,
    ...writeMembers.anyOf
  ])
]
