/**
 * The request bodies of Microsoft Graph's documentation, for tests that send what
 * real clients send: the create samples of user, group and invitation (with the
 * properties Graph requires, the password among them).
 *
 * @since 0.4.0
 */

/** The password of {@link createUser}: a test can check that it is never returned. */
export const password = "xWwvJ]6NMw+bWH-d"

/** Graph's "Create user" sample: the properties Graph requires to create a user. */
export const createUser = {
  accountEnabled: true,
  displayName: "Adele Vance",
  mailNickname: "AdeleV",
  userPrincipalName: "AdeleV@contoso.com",
  passwordProfile: { forceChangePasswordNextSignIn: true, password }
}

/** Graph's "Create a Microsoft 365 group" sample. */
export const createGroup = {
  description: "Self help community for library",
  displayName: "Library Assist",
  groupTypes: ["Unified"],
  mailEnabled: true,
  mailNickname: "library",
  securityEnabled: false
}

/** Graph's "Create invitation" sample, with the customised message its docs describe. */
export const createInvitation = {
  invitedUserEmailAddress: "admin@fabrikam.com",
  inviteRedirectUrl: "https://myapp.contoso.com",
  invitedUserMessageInfo: {
    customizedMessageBody: "Welcome to Contoso",
    messageLanguage: "en-US",
    ccRecipients: [{ emailAddress: { name: "Sponsor", address: "sponsor@contoso.com" } }]
  }
}
