/**
 * The properties Microsoft Graph (beta) declares on the directory types the
 * service keeps (user, group, invitation), each with those of its base types
 * (directoryObject: `deletedDateTime`; entity: `id`). `@odata.type` is not listed.
 *
 * Data, not a model: the JSON names that the generated models of
 * `@microsoft/msgraph-beta-sdk` **1.0.0-preview.81** write (`models/index.js`:
 * `serializeUser`, `serializeGroup` and `serializeInvitation`, each after
 * `serializeDirectoryObject` / `serializeEntity`), in the order they write them. A
 * property whose value the SDK writes with an entity type's serializer (one that
 * starts as `serializeEntity` does) is a navigation property, a relationship to
 * other objects; every other one (primitive, enum, complex type, or a collection
 * of those) is structural. The http-adapter's test `directory-graph-bodies.test.ts`
 * derives the lists again from the installed SDK and fails when they differ, so an
 * SDK update shows what changed.
 *
 * What the service does with them is decided in `Directory` (README, "Directory
 * bodies"): structural properties beyond the modelled ones are kept as JSON,
 * {@link writeOnly} ones are accepted and dropped, navigation properties are refused.
 *
 * @since 0.4.0
 */

/** The version of `@microsoft/msgraph-beta-sdk` the lists were taken from. */
export const sdkVersion = "1.0.0-preview.81"

/** The properties one type declares, by kind. */
export interface Declared {
  /** Primitive, enum and complex-typed properties, and collections of them. */
  readonly structural: ReadonlyArray<string>
  /** Relationships to other entities (`manager`, `memberOf`, `members`, …). */
  readonly navigation: ReadonlyArray<string>
}

/** The user: `serializeUser`, after `serializeDirectoryObject` and `serializeEntity`. */
export const user = {
  structural: [
    "id", "deletedDateTime", "aboutMe", "accountEnabled", "ageGroup", "assignedLicenses", "assignedPlans",
    "authorizationInfo", "birthday", "businessPhones", "city", "cloudLicensing",
    "cloudRealtimeCommunicationInfo", "companyName", "consentProvidedForMinor", "country", "createdDateTime",
    "creationType", "customSecurityAttributes", "department", "deviceEnrollmentLimit", "deviceKeys",
    "displayName", "employeeHireDate", "employeeId", "employeeLeaveDateTime", "employeeOrgData", "employeeType",
    "externalUserState", "externalUserStateChangeDateTime", "faxNumber", "givenName", "hireDate", "identities",
    "identityGovernance", "identityParentId", "imAddresses", "infoCatalogs", "interests",
    "isLicenseReconciliationNeeded", "isManagementRestricted", "isResourceAccount", "jobTitle",
    "lastPasswordChangeDateTime", "legalAgeGroupClassification", "licenseAssignmentStates", "mail",
    "mailboxSettings", "mailNickname", "mobilePhone", "mySite", "officeLocation", "onPremisesDistinguishedName",
    "onPremisesDomainName", "onPremisesExtensionAttributes", "onPremisesImmutableId",
    "onPremisesLastSyncDateTime", "onPremisesProvisioningErrors", "onPremisesSamAccountName",
    "onPremisesSecurityIdentifier", "onPremisesSipInfo", "onPremisesSyncEnabled", "onPremisesUserPrincipalName",
    "otherMails", "passwordPolicies", "passwordProfile", "pastProjects", "postalCode", "preferredDataLocation",
    "preferredLanguage", "preferredName", "print", "provisionedPlans", "proxyAddresses",
    "refreshTokensValidFromDateTime", "responsibilities", "schools", "securityIdentifier",
    "serviceProvisioningErrors", "showInAddressList", "signInActivity", "signInSessionsValidFromDateTime",
    "skills", "state", "streetAddress", "surname", "usageLocation", "userPrincipalName", "userType"
  ],
  navigation: [
    "activities", "adhocCalls", "agreementAcceptances", "analytics", "appConsentRequestsForApproval",
    "appRoleAssignedResources", "appRoleAssignments", "approvals", "authentication", "calendar",
    "calendarGroups", "calendars", "calendarView", "chats", "cloudClipboard", "cloudPcPools", "cloudPCs",
    "communications", "contactFolders", "contacts", "createdObjects", "dataSecurityAndGovernance",
    "deviceEnrollmentConfigurations", "deviceManagementTroubleshootingEvents", "devices", "directReports",
    "distributionLists", "drive", "drives", "employeeExperience", "events", "extensions", "followedSites",
    "inferenceClassification", "informationProtection", "insights", "invitedBy", "joinedGroups", "joinedTeams",
    "licenseDetails", "mailFolders", "managedAppLogCollectionRequests", "managedAppRegistrations",
    "managedDevices", "manager", "memberOf", "messages", "mobileAppIntentAndStates",
    "mobileAppTroubleshootingEvents", "notifications", "oauth2PermissionGrants", "onenote", "onlineMeetings",
    "onPremisesSyncBehavior", "outlook", "ownedDevices", "ownedObjects", "pendingAccessReviewInstances",
    "people", "permissionGrants", "photo", "photos", "planner", "presence", "profile", "registeredDevices",
    "scopedRoleMemberOf", "security", "settings", "solutions", "sponsorOf", "sponsors", "teamwork", "todo",
    "transitiveMemberOf", "transitiveReports", "usageRights", "virtualEvents",
    "windowsInformationProtectionDeviceRegistrations"
  ]
} as const satisfies Declared

/** The group: `serializeGroup`, after `serializeDirectoryObject` and `serializeEntity`. */
export const group = {
  structural: [
    "id", "deletedDateTime", "accessType", "allowExternalSenders", "assignedLabels", "assignedLicenses",
    "autoSubscribeNewMembers", "classification", "cloudLicensing", "createdByAppId", "createdDateTime",
    "description", "displayName", "expirationDateTime", "groupTypes", "hasMembersWithLicenseErrors",
    "hideFromAddressLists", "hideFromOutlookClients", "infoCatalogs", "isArchived", "isAssignableToRole",
    "isFavorite", "isManagementRestricted", "isSubscribedByMail", "licenseProcessingState", "mail",
    "mailEnabled", "mailNickname", "membershipRule", "membershipRuleProcessingState",
    "membershipRuleProcessingStatus", "onPremisesDomainName", "onPremisesExtensionAttributes",
    "onPremisesLastSyncDateTime", "onPremisesNetBiosName", "onPremisesProvisioningErrors",
    "onPremisesSamAccountName", "onPremisesSecurityIdentifier", "onPremisesSyncEnabled", "organizationId",
    "preferredDataLocation", "preferredLanguage", "proxyAddresses", "renewedDateTime", "resourceBehaviorOptions",
    "resourceProvisioningOptions", "securityEnabled", "securityIdentifier", "serviceProvisioningErrors", "theme",
    "uniqueName", "unseenConversationsCount", "unseenCount", "unseenMessagesCount", "visibility",
    "welcomeMessageEnabled", "writebackConfiguration"
  ],
  navigation: [
    "acceptedSenders", "appRoleAssignments", "calendar", "calendarView", "conversations", "createdOnBehalfOf",
    "drive", "drives", "endpoints", "events", "extensions", "groupLifecyclePolicies", "memberOf", "members",
    "membersWithLicenseErrors", "onenote", "onPremisesSyncBehavior", "owners", "permissionGrants", "photo",
    "photos", "planner", "rejectedSenders", "settings", "sites", "team", "threads", "transitiveMemberOf",
    "transitiveMembers"
  ]
} as const satisfies Declared

/** The invitation: `serializeInvitation`, after `serializeEntity`. */
export const invitation = {
  structural: [
    "id", "invitedUserDisplayName", "invitedUserEmailAddress", "invitedUserMessageInfo", "invitedUserType",
    "inviteRedeemUrl", "inviteRedirectUrl", "resetRedemption", "sendInvitationMessage", "status"
  ],
  navigation: [
    "invitedUser", "invitedUserSponsors"
  ]
} as const satisfies Declared

/**
 * Structural properties Graph takes on input and never returns on read: secrets.
 * Not from the SDK (its models cannot say) but from Graph's documentation of the
 * types: a user's `passwordProfile` carries the password, which Graph never
 * returns. The group and the invitation have none.
 */
export const writeOnly = {
  user: ["passwordProfile"],
  group: [],
  invitation: []
} as const satisfies Record<"user" | "group" | "invitation", ReadonlyArray<string>>

/**
 * Structural properties Graph sets itself and a client cannot (read-only in Graph's
 * documentation of the types: creation and deletion times, sign-in activity, the
 * on-premises synchronisation's, licences granted by actions, security identifiers).
 * A body may carry them (clients send back what they read): they are accepted and
 * dropped, never stored, as a configuration's server-managed properties are; `$select`
 * may still name them (since 0.4.0).
 */
export const serverManaged = {
  user: [
    "createdDateTime", "deletedDateTime", "lastPasswordChangeDateTime", "signInActivity", "securityIdentifier",
    "externalUserState", "externalUserStateChangeDateTime", "onPremisesSyncEnabled", "onPremisesLastSyncDateTime",
    "onPremisesSecurityIdentifier", "onPremisesProvisioningErrors", "onPremisesDistinguishedName", "onPremisesDomainName",
    "onPremisesSamAccountName", "onPremisesUserPrincipalName", "refreshTokensValidFromDateTime",
    "signInSessionsValidFromDateTime", "creationType", "assignedLicenses", "assignedPlans", "provisionedPlans",
    "licenseAssignmentStates", "proxyAddresses", "imAddresses", "isManagementRestricted"
  ],
  group: [
    "createdDateTime", "deletedDateTime", "renewedDateTime", "expirationDateTime", "securityIdentifier",
    "onPremisesSyncEnabled", "onPremisesLastSyncDateTime", "onPremisesSecurityIdentifier", "onPremisesProvisioningErrors",
    "onPremisesDomainName", "onPremisesNetBiosName", "onPremisesSamAccountName", "proxyAddresses", "mail",
    "assignedLicenses", "hasMembersWithLicenseErrors", "membershipRuleProcessingStatus", "isManagementRestricted"
  ],
  invitation: []
} as const satisfies Record<"user" | "group" | "invitation", ReadonlyArray<string>>
