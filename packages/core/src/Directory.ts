/**
 * The directory objects the paths and targeting need (SPEC 1.5): users, groups
 * (whose members are users or groups) and invitations (which create a guest user).
 *
 * The properties SPEC 1.5 names are typed and validated. Every other structural
 * property Graph declares on the type ({@link DirectoryProperties}) is kept as JSON
 * and returned unchanged, as a configuration's derived properties are, so the bodies
 * Graph documents (a user's `mailNickname`, a group's `groupTypes`, an invitation's
 * `invitedUserMessageInfo`) lose nothing; write-only secrets (`passwordProfile`) are
 * accepted and never kept; navigation properties, `@odata.bind` annotations and
 * properties Graph does not declare are refused (README, "Directory bodies").
 *
 * @since 0.1.0
 */
import { Result, Schema } from "effect"
import { BoundedString } from "./AssignmentTarget.ts"
import * as DirectoryProperties from "./DirectoryProperties.ts"
import { type InvalidInput, invalid } from "./Errors.ts"
import { Id } from "./Id.ts"
import * as Json from "./Json.ts"
import * as MergePatch from "./MergePatch.ts"
import * as ODataType from "./ODataType.ts"
import * as Validation from "./Validation.ts"

const NullableString = Schema.NullOr(BoundedString)

const userFields = {
  displayName: NullableString,
  userPrincipalName: NullableString,
  mail: NullableString,
  userType: Schema.Literals(["Member", "Guest"]),
  accountEnabled: Schema.Boolean
}

const groupFields = {
  displayName: NullableString,
  description: NullableString,
  mailNickname: NullableString,
  securityEnabled: Schema.Boolean
}

const invitationFields = {
  invitedUserEmailAddress: BoundedString.check(Schema.isPattern(/^[^@\s]+@[^@\s]+$/, { expected: "an email address" })),
  inviteRedirectUrl: BoundedString.check(Schema.isPattern(/^https?:\/\/\S+$/, { expected: "an http or https URL" })),
  invitedUserDisplayName: NullableString,
  invitedUserType: userFields.userType,
  sendInvitationMessage: Schema.Boolean
}

/** The invitation's modelled properties only the server sets (SPEC 1.5). */
const invitationReadOnly = ["inviteRedeemUrl", "status"] as const

/** A user's Graph properties kept as JSON: declared by Graph, not modelled, not write-only. */
export type UserExtraName = Exclude<
  (typeof DirectoryProperties.user.structural)[number],
  "id" | keyof typeof userFields | (typeof DirectoryProperties.writeOnly.user)[number]
>
/** A group's Graph properties kept as JSON. */
export type GroupExtraName = Exclude<(typeof DirectoryProperties.group.structural)[number], "id" | keyof typeof groupFields>
/** An invitation's Graph properties kept as JSON. */
export type InvitationExtraName = Exclude<
  (typeof DirectoryProperties.invitation.structural)[number],
  "id" | keyof typeof invitationFields | (typeof invitationReadOnly)[number]
>

const extraNames = <N extends string>(
  declared: DirectoryProperties.Declared,
  modelled: ReadonlyArray<string>,
  writeOnly: ReadonlyArray<string>
): ReadonlyArray<N> => declared.structural.filter((n) => n !== "id" && !modelled.includes(n) && !writeOnly.includes(n)) as Array<N>

/**
 * The structural properties Graph declares on each type beyond the modelled ones
 * (and beyond the write-only secrets): accepted in a body, kept as JSON values and
 * returned unchanged.
 *
 * @since 0.4.0
 */
export const extraProperties: {
  readonly user: ReadonlyArray<UserExtraName>
  readonly group: ReadonlyArray<GroupExtraName>
  readonly invitation: ReadonlyArray<InvitationExtraName>
} = {
  user: extraNames(DirectoryProperties.user, Object.keys(userFields), DirectoryProperties.writeOnly.user),
  group: extraNames(DirectoryProperties.group, Object.keys(groupFields), DirectoryProperties.writeOnly.group),
  invitation: extraNames(
    DirectoryProperties.invitation,
    [...Object.keys(invitationFields), ...invitationReadOnly],
    DirectoryProperties.writeOnly.invitation
  )
}

/** Optional JSON-valued fields, one per name. */
const jsonFields = <N extends string>(names: ReadonlyArray<N>) =>
  Object.fromEntries(names.map((n) => [n, Schema.optionalKey(Json.Json)])) as {
    readonly [K in N]: Schema.optionalKey<typeof Json.Json>
  }

/** `Member` or `Guest`. */
export const UserType = userFields.userType
export type UserType = typeof UserType.Type

/** A user: the modelled properties, and Graph's others as sent ({@link extraProperties}, since 0.4.0). */
export const User = Schema.Struct({
  "@odata.type": Schema.Literal("#microsoft.graph.user"),
  id: Id,
  ...userFields,
  ...jsonFields(extraProperties.user)
}).annotate({ identifier: "user" })
export type User = typeof User.Type

/** A group: the modelled properties, and Graph's others as sent ({@link extraProperties}, since 0.4.0). */
export const Group = Schema.Struct({
  "@odata.type": Schema.Literal("#microsoft.graph.group"),
  id: Id,
  ...groupFields,
  ...jsonFields(extraProperties.group)
}).annotate({ identifier: "group" })
export type Group = typeof Group.Type

/** Where an invitation stands. */
export const InvitationStatus = Schema.Literals(["PendingAcceptance", "Completed", "InProgress", "Error"])
export type InvitationStatus = typeof InvitationStatus.Type

/**
 * An invitation; `invitedUserId` links the guest user it created (the `invitedUser`
 * navigation). Graph's other properties (`invitedUserMessageInfo`, `resetRedemption`)
 * are kept as sent (since 0.4.0).
 */
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
  invitedUserId: Id,
  ...jsonFields(extraProperties.invitation)
}).annotate({ identifier: "invitation" })
export type Invitation = typeof Invitation.Type

/** A member of a group, as a reference: which kind of object, and its id. */
export interface MemberRef {
  readonly kind: "user" | "group"
  readonly id: string
}

type Fields = Record<string, Schema.Top>

/** Where a navigation property's relationship is managed instead, for the refusal's message. */
const navigationHints: Readonly<Record<string, string>> = {
  members: "add members with POST /groups/{id}/members/$ref",
  memberOf: "add the object to a group with POST /groups/{id}/members/$ref"
}

const hintOf = (property: string): string => {
  const hint = Object.hasOwn(navigationHints, property) ? navigationHints[property] : undefined
  return hint === undefined ? "" : `; ${hint}`
}

/** An untyped property's value, checked as a JSON value within the nesting limit (SPEC 8). */
const checkJson = (value: unknown, path: string): InvalidInput | undefined => {
  // The bounds of typed values (SPEC 8) hold inside untyped ones too (since 0.4.0).
  const out = Json.unbounded(value, path)
  if (out !== undefined) return invalid.value(out.path, out.expected, out.expected.startsWith("at most") ? "deeper" : "longer")
  return Json.isJsonValue(value) ? undefined : invalid.value(path, "a JSON value", Json.show(value))
}

/**
 * A small typed decoder for flat directory bodies: modelled properties are
 * decoded with their schema, `null` only where nullable, missing ones take a
 * default, required ones must be present, read-only ones are refused. Graph's
 * other structural properties (`extra`) are checked as JSON values and kept,
 * its write-only ones (`writeOnly`) are checked and dropped, its navigation
 * properties and `@odata.bind` annotations are refused, other annotations are
 * ignored and anything else is an unknown property.
 */
const flat = <F extends Fields>(options: {
  readonly typeName: string
  readonly fields: F
  readonly defaults: { readonly [K in keyof F]?: unknown }
  readonly required?: ReadonlyArray<keyof F & string>
  readonly readOnly?: ReadonlyArray<string>
  readonly declared: DirectoryProperties.Declared
  readonly extra: ReadonlyArray<string>
  readonly writeOnly: ReadonlyArray<string>
  /** Set by the server: accepted, checked and dropped (`DirectoryProperties.serverManaged`). */
  readonly serverManaged: ReadonlyArray<string>
}) => {
  const decoders = Object.fromEntries(
    Object.entries(options.fields).map(([k, s]) => [k, Validation.decoder(s as any)])
  ) as Record<string, (u: unknown, p: string) => Result.Result<unknown, InvalidInput>>
  const decodeId = Validation.decoder(Id)
  const extra: ReadonlySet<string> = new Set(options.extra)
  const writeOnly: ReadonlySet<string> = new Set([...options.writeOnly, ...options.serverManaged])
  const navigation: ReadonlySet<string> = new Set(options.declared.navigation)
  return (body: unknown, mode: "create" | "patch"): Result.Result<
    { id: string | undefined; values: Partial<{ [K in keyof F]: F[K]["Type"] }> & { readonly [k: string]: unknown } },
    InvalidInput
  > => {
    if (!Json.isObject(body)) return Result.fail(invalid.value("", "a JSON object", Json.show(body)))
    let id: string | undefined
    const values: Record<string, unknown> = {}
    let untypedBytes = 0
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
      } else if (key.endsWith("@odata.bind")) {
        const property = key.slice(0, -"@odata.bind".length)
        return Result.fail(invalid.value(
          key,
          `no @odata.bind annotation (this service does not bind navigation properties from a body${hintOf(property)})`,
          Json.show(value)
        ))
      } else if (ODataType.isAnnotation(key)) {
        continue
      } else if (options.readOnly?.includes(key)) {
        return Result.fail(invalid.readOnly(key))
      } else if (Object.hasOwn(decoders, key)) {
        const r = decoders[key]!(value, key)
        if (Result.isFailure(r)) return Result.fail(r.failure)
        values[key] = r.success
      } else if (writeOnly.has(key) || extra.has(key)) {
        const e = checkJson(value, key)
        if (e !== undefined) return Result.fail(e)
        if (writeOnly.has(key)) continue
        const text = JSON.stringify(value)
        untypedBytes += Json.utf8Length(key) + Json.utf8Length(text)
        if (untypedBytes > Json.maxUntypedBytes) {
          return Result.fail(invalid.value(key, `Graph's other properties of a ${options.typeName} within ${Json.maxUntypedBytes} bytes of JSON together`, "more"))
        }
        // A copy: the caller's object, changed after the call, must not change what is stored (since 0.10.1).
        MergePatch.setOwn(values, key, typeof value === "object" && value !== null ? JSON.parse(text) : value)
      } else if (navigation.has(key)) {
        return Result.fail(invalid.value(
          key,
          `a property of ${options.typeName}`,
          `the navigation property '${key}' (a relationship to other objects, which a body cannot set${hintOf(key)})`
        ))
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

/** `base` with the extra properties `input` carries (of `names`), after the modelled ones. */
const withExtras = <A extends object>(base: A, input: object, names: ReadonlyArray<string>): A => {
  for (const key of names) {
    if (Object.hasOwn(input, key)) MergePatch.setOwn(base as Record<string, unknown>, key, (input as any)[key])
  }
  return base
}

const decodeUserBody = flat({
  typeName: "user",
  fields: userFields,
  defaults: { displayName: null, userPrincipalName: null, mail: null, userType: "Member", accountEnabled: true },
  declared: DirectoryProperties.user,
  extra: extraProperties.user,
  writeOnly: DirectoryProperties.writeOnly.user,
  serverManaged: DirectoryProperties.serverManaged.user
})

/** What a user create carries: the modelled properties and Graph's others ({@link extraProperties}). */
export type UserCreate = { readonly id: string | undefined } & Omit<User, "@odata.type" | "id">

/** Decodes a user create; `passwordProfile` is accepted and dropped (since 0.4.0). */
export const decodeUserCreate = (body: unknown): Result.Result<UserCreate, InvalidInput> =>
  Result.map(decodeUserBody(body, "create"), ({ id, values }) => ({ id, ...(values as any) }))

/**
 * OData's PATCH of a complex value (4.01 §11.4.3): a JSON object sent over a stored JSON
 * object merges member by member, recursively; anything else (a collection, a primitive,
 * `null`) replaces. Keys are written as own properties (`__proto__` included).
 */
const mergeComplex = (current: unknown, sent: unknown): unknown => {
  if (!Json.isObject(current) || !Json.isObject(sent)) return sent
  const out: Record<string, unknown> = {}
  for (const k of Object.keys(current)) MergePatch.setOwn(out, k, current[k])
  for (const k of Object.keys(sent)) MergePatch.setOwn(out, k, mergeComplex(Object.hasOwn(current, k) ? current[k] : undefined, sent[k]))
  return out
}

/**
 * Applies a user PATCH: each present property replaces the stored one (`null` sets
 * null); Graph's other properties likewise, except that a complex value (a JSON object,
 * as `onPremisesExtensionAttributes`) sent over a stored one merges member by member, as
 * OData has it (since 0.4.0); absent properties are unchanged.
 */
export const patchUser = (current: User, body: unknown): Result.Result<User, InvalidInput> =>
  Result.flatMap(decodeUserBody(body, "patch"), ({ id, values }) => {
    if (id !== undefined && id !== current.id) return Result.fail(invalid.readOnly("id"))
    const next: Record<string, unknown> = { ...current, ...values }
    let untypedBytes = 0
    for (const key of extraProperties.user) {
      if (Object.hasOwn(values, key) && Object.hasOwn(current, key)) {
        MergePatch.setOwn(next, key, mergeComplex((current as Record<string, unknown>)[key], values[key]))
      }
      if (Object.hasOwn(next, key)) untypedBytes += Json.utf8Length(key) + Json.utf8Length(JSON.stringify(next[key]) ?? "")
    }
    // The user as it would be stored, not only the body, keeps the bound (PATCHes add up).
    if (untypedBytes > Json.maxUntypedBytes) {
      return Result.fail(invalid.value("", `Graph's other properties of a user within ${Json.maxUntypedBytes} bytes of JSON together`, "more"))
    }
    return Result.succeed(next as User)
  })

const decodeGroupBody = flat({
  typeName: "group",
  fields: groupFields,
  defaults: { displayName: null, description: null, mailNickname: null, securityEnabled: true },
  declared: DirectoryProperties.group,
  extra: extraProperties.group,
  writeOnly: DirectoryProperties.writeOnly.group,
  serverManaged: DirectoryProperties.serverManaged.group
})

/** What a group create carries: the modelled properties and Graph's others ({@link extraProperties}). */
export type GroupCreate = { readonly id: string | undefined } & Omit<Group, "@odata.type" | "id">

/** Decodes a group create. */
export const decodeGroupCreate = (body: unknown): Result.Result<GroupCreate, InvalidInput> =>
  Result.map(decodeGroupBody(body, "create"), ({ id, values }) => ({ id, ...(values as any) }))

const decodeInvitationBody = flat({
  typeName: "invitation",
  fields: invitationFields,
  defaults: { invitedUserDisplayName: null, invitedUserType: "Guest", sendInvitationMessage: false },
  required: ["invitedUserEmailAddress", "inviteRedirectUrl"],
  readOnly: [...invitationReadOnly, "invitedUser"],
  declared: DirectoryProperties.invitation,
  extra: extraProperties.invitation,
  writeOnly: DirectoryProperties.writeOnly.invitation,
  serverManaged: DirectoryProperties.serverManaged.invitation
})

/** What an invitation create carries: the modelled properties and Graph's others ({@link extraProperties}). */
export interface InvitationCreate extends InvitationExtras {
  readonly id: string | undefined
  readonly invitedUserEmailAddress: string
  readonly inviteRedirectUrl: string
  readonly invitedUserDisplayName: string | null
  readonly invitedUserType: UserType
  readonly sendInvitationMessage: boolean
}

/** An invitation's Graph properties beyond the modelled ones, as sent. */
export type InvitationExtras = { readonly [K in InvitationExtraName]?: Json.Json }

/** Decodes an invitation create (the email address and redirect URL are required). */
export const decodeInvitationCreate = (body: unknown): Result.Result<InvitationCreate, InvalidInput> =>
  Result.map(decodeInvitationBody(body, "create"), ({ id, values }) => ({ id, ...(values as any) }))

/**
 * The invitation and its guest user, as a create makes them: the user takes the
 * invited address and display name, its UPN is the address in Entra's guest form.
 * The invitation keeps Graph's other properties the create carries.
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
    userPrincipalName: guestUserPrincipalName(input.invitedUserEmailAddress),
    mail: input.invitedUserEmailAddress,
    userType: input.invitedUserType,
    accountEnabled: true
  }
  const invitation: Invitation = withExtras({
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
  }, input, extraProperties.invitation)
  return { invitation, user }
}

/**
 * The key two users' `userPrincipalName`s are compared by (a tenant holds each key at most
 * once, since 0.11.0): the name with the ASCII letters `A`–`Z` as `a`–`z`, everything else
 * as it is; none for a null name, which never collides. Entra ID compares principal names
 * without regard to case and takes only ASCII in them, so on every name Graph accepts this is
 * Graph's comparison; a name with other letters (this service does not refuse them) compares
 * them exactly (`É` and `é` differ). Chosen over full Unicode case folding because the SQL
 * stores compute the same key in SQL (SQLite's `lower`, PostgreSQL's `lower(… COLLATE "C")`
 * fold ASCII only), so an upgrade fills the key of stored users without running JavaScript.
 *
 * @since 0.11.0
 */
export const userPrincipalNameKey = (userPrincipalName: string | null): string | undefined =>
  userPrincipalName === null ? undefined : userPrincipalName.replace(/[A-Z]+/g, (s) => s.toLowerCase())

/** The principal name an invitation's guest takes for `email` (Entra's guest form: `x_example.com#EXT#`). */
export const guestUserPrincipalName = (email: string): string => `${email.replace("@", "_")}#EXT#`

/** An invitation as Graph writes it: without the internal link to its user. */
export const invitationView = ({ invitedUserId: _, ...rest }: Invitation) => rest

/** The user a create makes: the modelled properties, then Graph's others the input carries. */
export const makeUser = (id: string, input: Omit<UserCreate, "id">): User =>
  withExtras({
    "@odata.type": "#microsoft.graph.user",
    id,
    displayName: input.displayName,
    userPrincipalName: input.userPrincipalName,
    mail: input.mail,
    userType: input.userType,
    accountEnabled: input.accountEnabled
  }, input, extraProperties.user)

/** The group a create makes: the modelled properties, then Graph's others the input carries. */
export const makeGroup = (id: string, input: Omit<GroupCreate, "id">): Group =>
  withExtras({
    "@odata.type": "#microsoft.graph.group",
    id,
    displayName: input.displayName,
    description: input.description,
    mailNickname: input.mailNickname,
    securityEnabled: input.securityEnabled
  }, input, extraProperties.group)
