/**
 * The directory objects the paths and targeting need (SPEC 1.5): users, groups
 * (whose members are users or groups) and invitations (which create a guest user).
 *
 * @since 0.1.0
 */
import { Result, Schema } from "effect"
import { BoundedString } from "./AssignmentTarget.ts"
import { type InvalidInput, invalid } from "./Errors.ts"
import { Id } from "./Id.ts"
import * as Json from "./Json.ts"
import * as ODataType from "./ODataType.ts"
import * as Validation from "./Validation.ts"

const NullableString = Schema.NullOr(BoundedString)

/** `Member` or `Guest`. */
export const UserType = Schema.Literals(["Member", "Guest"])
export type UserType = typeof UserType.Type

/** A user. */
export const User = Schema.Struct({
  "@odata.type": Schema.Literal("#microsoft.graph.user"),
  id: Id,
  displayName: NullableString,
  userPrincipalName: NullableString,
  mail: NullableString,
  userType: UserType,
  accountEnabled: Schema.Boolean
}).annotate({ identifier: "user" })
export type User = typeof User.Type

/** A group. */
export const Group = Schema.Struct({
  "@odata.type": Schema.Literal("#microsoft.graph.group"),
  id: Id,
  displayName: NullableString,
  description: NullableString,
  mailNickname: NullableString,
  securityEnabled: Schema.Boolean
}).annotate({ identifier: "group" })
export type Group = typeof Group.Type

/** Where an invitation stands. */
export const InvitationStatus = Schema.Literals(["PendingAcceptance", "Completed", "InProgress", "Error"])
export type InvitationStatus = typeof InvitationStatus.Type

/** An invitation; `invitedUserId` links the guest user it created (the `invitedUser` navigation). */
export const Invitation = Schema.Struct({
  "@odata.type": Schema.Literal("#microsoft.graph.invitation"),
  id: Id,
  invitedUserEmailAddress: BoundedString,
  inviteRedirectUrl: BoundedString,
  invitedUserDisplayName: NullableString,
  invitedUserType: UserType,
  sendInvitationMessage: Schema.Boolean,
  inviteRedeemUrl: BoundedString,
  status: InvitationStatus,
  invitedUserId: Id
}).annotate({ identifier: "invitation" })
export type Invitation = typeof Invitation.Type

/** A member of a group, as a reference: which kind of object, and its id. */
export interface MemberRef {
  readonly kind: "user" | "group"
  readonly id: string
}

type Fields = Record<string, Schema.Top>

/**
 * A small typed decoder for flat directory bodies: declared properties are
 * decoded with their schema, `null` only where nullable, missing ones take a
 * default, required ones must be present, annotations are ignored, read-only
 * ones are refused and anything else is an unknown property.
 */
const flat = <F extends Fields>(options: {
  readonly typeName: string
  readonly fields: F
  readonly defaults: { readonly [K in keyof F]?: unknown }
  readonly required?: ReadonlyArray<keyof F & string>
  readonly readOnly?: ReadonlyArray<string>
}) => {
  const decoders = Object.fromEntries(
    Object.entries(options.fields).map(([k, s]) => [k, Validation.decoder(s as any)])
  ) as Record<string, (u: unknown, p: string) => Result.Result<unknown, InvalidInput>>
  const decodeId = Validation.decoder(Id)
  return (body: unknown, mode: "create" | "patch"): Result.Result<
    { id: string | undefined; values: Partial<{ [K in keyof F]: F[K]["Type"] }> },
    InvalidInput
  > => {
    if (!Json.isObject(body)) return Result.fail(invalid.value("", "a JSON object", Json.show(body)))
    let id: string | undefined
    const values: Record<string, unknown> = {}
    for (const key of Object.keys(body)) {
      const value = body[key]
      if (key === "@odata.type") {
        if (ODataType.parse(value) !== options.typeName) {
          return Result.fail(invalid.typeNotAccepted("@odata.type", Json.show(value), [options.typeName]))
        }
      } else if (key === "id") {
        const r = decodeId(value, "id")
        if (Result.isFailure(r)) return Result.fail(r.failure)
        id = r.success
      } else if (ODataType.isAnnotation(key)) {
        continue
      } else if (options.readOnly?.includes(key)) {
        return Result.fail(invalid.readOnly(key))
      } else if (Object.hasOwn(decoders, key)) {
        const r = decoders[key]!(value, key)
        if (Result.isFailure(r)) return Result.fail(r.failure)
        values[key] = r.success
      } else {
        return Result.fail(invalid.unknown(key, key, options.typeName))
      }
    }
    if (mode === "create") {
      for (const k of options.required ?? []) {
        if (!Object.hasOwn(values, k)) return Result.fail(invalid.required(k, "a value"))
      }
      for (const [k, v] of Object.entries(options.defaults)) if (!Object.hasOwn(values, k)) values[k] = v
    }
    return Result.succeed({ id, values: values as any })
  }
}

const userFields = {
  displayName: NullableString,
  userPrincipalName: NullableString,
  mail: NullableString,
  userType: UserType,
  accountEnabled: Schema.Boolean
}
const decodeUserBody = flat({
  typeName: "user",
  fields: userFields,
  defaults: { displayName: null, userPrincipalName: null, mail: null, userType: "Member", accountEnabled: true }
})

/** What a user create carries. */
export type UserCreate = { readonly id: string | undefined } & Omit<User, "@odata.type" | "id">

/** Decodes a user create. */
export const decodeUserCreate = (body: unknown): Result.Result<UserCreate, InvalidInput> =>
  Result.map(decodeUserBody(body, "create"), ({ id, values }) => ({ id, ...(values as any) }))

/** Applies a user PATCH (each present property replaces the stored one). */
export const patchUser = (current: User, body: unknown): Result.Result<User, InvalidInput> =>
  Result.flatMap(decodeUserBody(body, "patch"), ({ id, values }) =>
    id !== undefined && id !== current.id
      ? Result.fail(invalid.readOnly("id"))
      : Result.succeed({ ...current, ...values } as User))

const decodeGroupBody = flat({
  typeName: "group",
  fields: {
    displayName: NullableString,
    description: NullableString,
    mailNickname: NullableString,
    securityEnabled: Schema.Boolean
  },
  defaults: { displayName: null, description: null, mailNickname: null, securityEnabled: true }
})

/** What a group create carries. */
export type GroupCreate = { readonly id: string | undefined } & Omit<Group, "@odata.type" | "id">

/** Decodes a group create. */
export const decodeGroupCreate = (body: unknown): Result.Result<GroupCreate, InvalidInput> =>
  Result.map(decodeGroupBody(body, "create"), ({ id, values }) => ({ id, ...(values as any) }))

const decodeInvitationBody = flat({
  typeName: "invitation",
  fields: {
    invitedUserEmailAddress: BoundedString.check(Schema.isPattern(/^[^@\s]+@[^@\s]+$/, { expected: "an email address" })),
    inviteRedirectUrl: BoundedString.check(Schema.isPattern(/^https?:\/\/\S+$/, { expected: "an http or https URL" })),
    invitedUserDisplayName: NullableString,
    invitedUserType: UserType,
    sendInvitationMessage: Schema.Boolean
  },
  defaults: { invitedUserDisplayName: null, invitedUserType: "Guest", sendInvitationMessage: false },
  required: ["invitedUserEmailAddress", "inviteRedirectUrl"],
  readOnly: ["inviteRedeemUrl", "status", "invitedUser"]
})

/** What an invitation create carries. */
export interface InvitationCreate {
  readonly id: string | undefined
  readonly invitedUserEmailAddress: string
  readonly inviteRedirectUrl: string
  readonly invitedUserDisplayName: string | null
  readonly invitedUserType: UserType
  readonly sendInvitationMessage: boolean
}

/** Decodes an invitation create (the email address and redirect URL are required). */
export const decodeInvitationCreate = (body: unknown): Result.Result<InvitationCreate, InvalidInput> =>
  Result.map(decodeInvitationBody(body, "create"), ({ id, values }) => ({ id, ...(values as any) }))

/**
 * The invitation and its guest user, as a create makes them: the user takes the
 * invited address and display name, its UPN is the address in Entra's guest form.
 */
export const invite = (
  input: InvitationCreate,
  ids: { readonly invitation: string; readonly user: string },
  redeemBase: string
): { readonly invitation: Invitation; readonly user: User } => {
  const user: User = {
    "@odata.type": "#microsoft.graph.user",
    id: ids.user,
    displayName: input.invitedUserDisplayName,
    userPrincipalName: `${input.invitedUserEmailAddress.replace("@", "_")}#EXT#`,
    mail: input.invitedUserEmailAddress,
    userType: input.invitedUserType,
    accountEnabled: true
  }
  const invitation: Invitation = {
    "@odata.type": "#microsoft.graph.invitation",
    id: ids.invitation,
    invitedUserEmailAddress: input.invitedUserEmailAddress,
    inviteRedirectUrl: input.inviteRedirectUrl,
    invitedUserDisplayName: input.invitedUserDisplayName,
    invitedUserType: input.invitedUserType,
    sendInvitationMessage: input.sendInvitationMessage,
    inviteRedeemUrl: `${redeemBase}?invitation=${encodeURIComponent(ids.invitation)}`,
    status: "PendingAcceptance",
    invitedUserId: ids.user
  }
  return { invitation, user }
}

/** An invitation as Graph writes it: without the internal link to its user. */
export const invitationView = ({ invitedUserId: _, ...rest }: Invitation) => rest

/** The user a create makes. */
export const makeUser = (id: string, input: Omit<UserCreate, "id">): User => ({
  "@odata.type": "#microsoft.graph.user",
  id,
  displayName: input.displayName,
  userPrincipalName: input.userPrincipalName,
  mail: input.mail,
  userType: input.userType,
  accountEnabled: input.accountEnabled
})

/** The group a create makes. */
export const makeGroup = (id: string, input: Omit<GroupCreate, "id">): Group => ({
  "@odata.type": "#microsoft.graph.group",
  id,
  displayName: input.displayName,
  description: input.description,
  mailNickname: input.mailNickname,
  securityEnabled: input.securityEnabled
})
