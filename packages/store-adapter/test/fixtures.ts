/**
 * Entities for the store tests, built with the core's own constructors so they
 * are the values the services would store.
 */
import * as Assignment from "../../core/src/Assignment.ts"
import * as AssignmentTarget from "../../core/src/AssignmentTarget.ts"
import type { Configuration } from "../../core/src/Configuration.ts"
import * as Directory from "../../core/src/Directory.ts"

let counter = 0

/** A tenant id no other test uses, so tests can share one store. */
export const freshTenant = (label = "t"): string =>
  `${label}-${Date.now().toString(36)}-${(counter++).toString(36)}-${Math.random().toString(36).slice(2, 8)}`

/** A target of a concrete type; group targets take `groupId`. */
export const target = (
  type: AssignmentTarget.ConcreteTypeName,
  groupId: string | null = null
): AssignmentTarget.AssignmentTarget => {
  const t = AssignmentTarget.empty(type) as Record<string, unknown>
  if ("groupId" in t) t.groupId = groupId
  return t as unknown as AssignmentTarget.AssignmentTarget
}

/** An assignment. */
export const assignment = (
  id: string,
  t: AssignmentTarget.AssignmentTarget | null = target("allDevicesAssignmentTarget"),
  options: { readonly source?: Assignment.AssignmentSource; readonly sourceId?: string | null } = {}
): Assignment.Assignment =>
  Assignment.make(id, { target: t, source: options.source ?? "direct", sourceId: options.sourceId ?? null })

/** A configuration of a derived type, with a derived property of its own. */
export const configuration = (id: string, displayName = `cfg ${id}`): Configuration => ({
  "@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration",
  id,
  displayName,
  description: null,
  priority: 1,
  roleScopeTagIds: ["0"],
  deviceEnrollmentConfigurationType: "limit",
  createdDateTime: "2024-01-01T00:00:00Z",
  lastModifiedDateTime: "2024-01-01T00:00:00Z",
  version: 1,
  limit: 5,
  nested: { "ü": [1, 2.5, null, true, "x"] }
})

/** A user. */
export const user = (id: string, displayName: string | null = `user ${id}`): Directory.User =>
  Directory.makeUser(id, {
    displayName,
    userPrincipalName: `${id}@example.com`,
    mail: null,
    userType: "Member",
    accountEnabled: true
  })

/** A group. */
export const group = (id: string): Directory.Group =>
  Directory.makeGroup(id, {
    displayName: `group ${id}`,
    description: null,
    mailNickname: null,
    securityEnabled: true
  })

/** An invitation and the guest user it creates. */
export const invitation = (id: string, userId: string) =>
  Directory.invite(
    {
      id,
      invitedUserEmailAddress: `${userId}@guest.example`,
      inviteRedirectUrl: "https://example.com",
      invitedUserDisplayName: null,
      invitedUserType: "Guest",
      sendInvitationMessage: false
    },
    { invitation: id, user: userId },
    "https://invitations.example/redeem"
  )
