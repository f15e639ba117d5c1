/**
 * The request bodies of the writes, as the OpenAPI document describes them: what the
 * server accepts, not the entity it answers. A PATCH body has every declared property
 * optional (SPEC 3.5), a create only what its decoder requires, server-set properties
 * optional and `readOnly`; each `@odata.type` takes both spellings (SPEC 1.3), OData
 * annotations are allowed beside the declared properties, and a type that is not open
 * allows nothing else (SPEC 3.3). Derived from the core's schemas and data (the target
 * hierarchy, the entities' fields, Graph's property lists), following the rules of the
 * core's decoders, which stay the authority: these schemas validate nothing on the
 * request path (`OpenApi` renders them once, with excess properties refused). One rule is
 * both: {@link referencePattern}, a reference's URL, which the server checks with the very
 * expression the document gives (since 0.6.1).
 *
 * JSON Schema counts a string's length in code points, the decoders in UTF-16 code units
 * (as JavaScript does): a string with characters beyond U+FFFF may pass `maxLength` and
 * still be refused.
 *
 * @since 0.6.0
 */
import { Assignment, AssignmentTarget, Configuration, Directory, DirectoryProperties, Id, Json, ODataType } from "@enrollment/core"
import { Schema, SchemaAST } from "effect"

type Fields = Record<string, Schema.Top>

/** `#microsoft.graph.<name>` or `microsoft.graph.<name>`, as every decoder reads an `@odata.type`. */
const spellings = (names: ReadonlyArray<string>) =>
  Schema.Literals(names.flatMap((n) => [ODataType.format(n), `${ODataType.namespace}.${n}`]))

/** A member name the decoders ignore as an OData annotation (`@odata.etag`, `source@odata.type`). */
const Annotation = Schema.String.check(Schema.isPattern(new RegExp(ODataType.annotationPattern, "u")))

/**
 * An annotation a directory body may carry: any but `…@odata.bind`, which the directory's
 * decoder refuses (this service binds no navigation property from a body).
 */
const DirectoryAnnotation = Schema.String.check(
  Schema.isPattern(new RegExp(`^(?!.*@odata\\.bind$)${ODataType.annotationPattern.slice(1)}`, "u"))
)

/** A body of `fields`, OData annotations (matching `annotation`) and nothing else. */
const closed = (fields: Fields, annotation: Schema.Top = Annotation) =>
  Schema.StructWithRest(Schema.Struct(fields), [Schema.Record(annotation as typeof Annotation, Schema.Unknown)])

/** `fields` with every one optional. */
const optional = (fields: Fields): Fields =>
  Object.fromEntries(
    Object.entries(fields).map(([k, s]) => [k, SchemaAST.isOptional(s.ast) ? s : Schema.optionalKey(s)])
  )

/** Any JSON value, set by the server: accepted and ignored. */
const ServerSet = Json.Json.annotate({ readOnly: true, description: "Set by the server: accepted and ignored" })

// ----- assignments ---------------------------------------------------------------

/** One concrete target type as a body takes it: its `@odata.type`, and any of its properties. */
const targetInput = (name: AssignmentTarget.ConcreteTypeName) =>
  closed({
    "@odata.type": spellings([name]),
    ...optional(Object.fromEntries(AssignmentTarget.propertiesOf(name).map((p) => [p, AssignmentTarget.properties[p].schema])))
  }).annotate({ identifier: `${name}Input` })

const targetInputs = AssignmentTarget.concreteTypeNames.map(targetInput)

/**
 * A target without `@odata.type`, or naming the abstract base type (SPEC 3.7): merged into
 * the stored target, which keeps its concrete type. Any property of the hierarchy may be
 * named; the stored type decides which apply (a 400 names one that does not).
 */
const TargetMerge = closed({
  "@odata.type": Schema.optionalKey(spellings([AssignmentTarget.baseTypeName])),
  ...optional(Object.fromEntries(Object.entries(AssignmentTarget.properties).map(([p, spec]) => [p, spec.schema])))
}).annotate({
  identifier: `${AssignmentTarget.baseTypeName}Merge`,
  description: "No @odata.type, or the abstract base type: merged into the stored target, which keeps its concrete type " +
    "(a PATCH only; refused when the assignment has no target). The stored type decides which properties apply: " +
    "groupId on a group or exclusion group target, collectionId on a Configuration Manager collection's"
})

/** A target as a create takes it: a concrete type (the abstract base has no instances). */
const TargetCreate = Schema.Union(targetInputs).annotate({ identifier: `${AssignmentTarget.baseTypeName}Create` })

/** A target as a PATCH takes it (SPEC 3.7): a concrete type, or properties merged into the stored one. */
const TargetUpdate = Schema.Union([...targetInputs, TargetMerge]).annotate({
  identifier: `${AssignmentTarget.baseTypeName}Update`
})

/** The assignment's declared properties, each optional, with `target` as `target` takes it. */
const assignmentFields = (target: Schema.Top): Fields =>
  optional({
    ...Assignment.Assignment.fields,
    "@odata.type": spellings([Assignment.typeName]),
    target: Schema.NullOr(target)
  })

/**
 * An assignment create (SPEC 2): every property optional (`source` defaults to `direct`,
 * `target` to null, `id` to a new GUID), `target` a concrete type or null.
 */
export const AssignmentCreate = closed(assignmentFields(TargetCreate)).annotate({
  identifier: `${Assignment.typeName}Create`,
  description: "Every property optional: source defaults to direct, target to null, id to a new GUID (409 when it exists)"
})

/** An assignment PATCH (SPEC 3): every property optional, `target` merged by the rules of 3.7. */
export const AssignmentUpdate = closed(assignmentFields(TargetUpdate)).annotate({
  identifier: `${Assignment.typeName}Update`,
  description: "A typed merge (SPEC 3): absent properties are unchanged, null sets a nullable one (source is not), " +
    "target merges into the stored one; id, if sent, must equal the key; {} changes nothing"
})

/** The `assign` action's parameters: the whole new set, each item as a create takes it (ids optional). */
export const AssignParameters = closed({
  enrollmentConfigurationAssignments: Schema.Array(AssignmentCreate).check(Schema.isMaxLength(Configuration.maxAssignItems))
}).annotate({
  identifier: "assignParameters",
  description: "Replaces every assignment of the configuration; an empty array removes them all; an id given twice is a 400; " +
    `at most ${Configuration.maxAssignItems} assignments (POST …/assignments adds more, one at a time)`
})

// ----- configurations ------------------------------------------------------------

/**
 * A configuration body's members besides `@odata.type`: the typed base properties, the
 * server's (ignored), no inline `assignments`, and the derived type's own, kept as JSON.
 */
const configurationFields: Fields = {
  ...optional({ id: Id.Id, ...Configuration.BaseFields }),
  ...Object.fromEntries(Configuration.serverManaged.map((k) => [k, Schema.optionalKey(ServerSet)])),
  assignments: Schema.optionalKey(
    Schema.Never.annotate({ description: "Not accepted inline: POST …/assignments, or the assign action" })
  )
}

/** An open body: `fields`, then the derived type's own properties (any JSON), as SPEC 1.4 keeps them. */
const open = (fields: Fields) => Schema.StructWithRest(Schema.Struct(fields), [Schema.Record(Schema.String, Json.Json)])

/** A configuration create: `@odata.type` names a concrete derived type; the rest is optional. */
export const ConfigurationCreate = open({
  "@odata.type": spellings(Configuration.derivedTypeNames),
  ...configurationFields
}).annotate({
  identifier: `${Configuration.typeName}Create`,
  description: "@odata.type names a concrete derived type; priority defaults to 0, roleScopeTagIds to [], " +
    "deviceEnrollmentConfigurationType to the derived type's; the derived type's own properties are kept as sent"
})

/** A configuration PATCH: `@odata.type`, if sent, restates the stored type or names the abstract base. */
export const ConfigurationUpdate = open({
  "@odata.type": Schema.optionalKey(spellings([Configuration.typeName, ...Configuration.derivedTypeNames])),
  ...configurationFields
}).annotate({
  identifier: `${Configuration.typeName}Update`,
  description: "Absent properties are unchanged; @odata.type, if sent, is the stored type or the abstract base; " +
    "the derived type's own properties merge as RFC 7396 has it"
})

/** The `setPriority` action's parameters. */
export const PriorityParameters = closed({ priority: Configuration.Int32 }).annotate({ identifier: "setPriorityParameters" })

// ----- directory -----------------------------------------------------------------

/**
 * A directory object's body (the directory's decoder, core `Directory`): the fields of
 * `entity` but its `@odata.type` and those in `omit`, each optional unless `required`; its
 * server-set properties optional and ignored, its write-only ones accepted and never
 * returned; annotations but `@odata.bind`; nothing else (navigation properties included).
 */
const directoryBody = (
  entity: Schema.Struct<any>,
  typeName: "user" | "group" | "invitation",
  options: { readonly omit?: ReadonlyArray<string>; readonly required?: Fields } = {}
) => {
  const fields: Fields = {}
  for (const [k, s] of Object.entries(entity.fields as Fields)) {
    if (k !== "@odata.type" && !options.omit?.includes(k)) fields[k] = s
  }
  const serverSet = DirectoryProperties.serverManaged[typeName] as ReadonlyArray<string>
  const writeOnly = DirectoryProperties.writeOnly[typeName] as ReadonlyArray<string>
  return closed({
    "@odata.type": Schema.optionalKey(spellings([typeName])),
    ...optional(fields),
    ...options.required,
    ...Object.fromEntries(serverSet.map((k) => [k, Schema.optionalKey(ServerSet)])),
    ...Object.fromEntries(writeOnly.map((k) => [k, Schema.optionalKey(Json.Json.annotate({ writeOnly: true, description: "Accepted, never stored or returned" }))]))
  }, DirectoryAnnotation)
}

/** A user create or PATCH: nothing required (SPEC 1.5's properties default on create). */
export const UserWrite = directoryBody(Directory.User, "user").annotate({
  identifier: "userWrite",
  description: "Every property optional: a create defaults userType to Member and accountEnabled to true, " +
    "a PATCH leaves absent properties unchanged (an id, if sent, must equal the key)"
})

/** A group create. */
export const GroupWrite = directoryBody(Directory.Group, "group").annotate({
  identifier: "groupWrite",
  description: "Every property optional: securityEnabled defaults to true"
})

/** An invitation create: the address and the redirect URL are required; the server sets its status and redeem URL. */
export const InvitationCreate = directoryBody(Directory.Invitation, "invitation", {
  omit: ["invitedUserId", "inviteRedeemUrl", "status"],
  required: {
    invitedUserEmailAddress: Directory.Invitation.fields.invitedUserEmailAddress.check(
      Schema.isPattern(/^[^@\s]+@[^@\s]+$/u, { expected: "an email address" })
    ),
    inviteRedirectUrl: Directory.Invitation.fields.inviteRedirectUrl.check(
      Schema.isPattern(/^https?:\/\/\S+$/u, { expected: "an http or https URL" })
    )
  }
}).annotate({
  identifier: "invitationCreate",
  description: "invitedUserType defaults to Guest, sendInvitationMessage to false; status and inviteRedeemUrl are the server's (refused when sent)"
})

// ----- references ----------------------------------------------------------------

const hex = "[0-9A-Fa-f]"
/** A UTF-8 continuation byte, percent-encoded. */
const cont = `%[89ABab]${hex}`
/** The first two bytes of a 4-byte UTF-8 sequence (U+10000 to U+10FFFF), percent-encoded: one UTF-16 code unit of two. */
const astralHead = `%(?:[Ff]0%[9ABab]${hex}|[Ff][1-3]${cont}|[Ff]4%8${hex})`
/**
 * One UTF-16 code unit of a key, written percent-encoded: an ASCII character but `/` and the
 * controls; a 2- or 3-byte UTF-8 sequence (no overlong form, no surrogate, no C1 control: U+0080 to
 * U+009F, `%C2%80` to `%C2%9F`, since 0.8.0); or half of a 4-byte
 * one, the two halves together (a character beyond U+FFFF is two code units, as the server
 * counts an id's length).
 */
const escapedUnit = `%(?:2[0-9A-Ea-e]|[3-6]${hex}|7[0-9A-Ea-e])` +
  `|%(?:[Cc]2%[ABab]${hex}|(?:[Cc][3-9A-Fa-f]|[Dd]${hex})${cont})` +
  `|%(?:[Ee]0%[ABab]${hex}|[Ee][1-9A-Ca-c]${cont}|[Ee][Dd]%[89]${hex}|[Ee][EFef]${cont})${cont}` +
  `|${astralHead}(?=${cont}${cont})|(?<=${astralHead})${cont}${cont}`
/**
 * The characters beyond U+FFFF as a class's range, written as the characters themselves (since
 * 0.8.1): JavaScript's `\\u{10000}` escape is read by ECMAScript's `u` mode only, and Python's `re`
 * (and other JSON Schema validators) refused the whole pattern. A character is one code point to
 * both; JSON carries it as a surrogate pair's escapes or as UTF-8.
 */
const astral = `${String.fromCodePoint(0x10000)}-${String.fromCodePoint(0x10ffff)}`

/**
 * A character of a key written as it is: not a control (C0, DEL or C1), a space, `%`, a delimiter of the URL
 * (`/`, `?`, `#`), `\` (a URL parser reads it as `/`), nor a character beyond U+FFFF (which is
 * written percent-encoded, so that its two code units are counted), `'` too in a quoted key.
 */
const plain = (quoted: boolean) => `[^\\u0000-\\u0020\\u007F-\\u009F/\\\\?#%\\uD800-\\uDFFF${astral}${quoted ? "'" : ""}]`

/** A URL's authority: maybe user information, a host (a name or an IPv6 address), maybe a port. */
const authority = "(?:[A-Za-z0-9\\-._~!$&'()*+,;=:]*@)?(?:[A-Za-z0-9\\-._~]+|\\[[0-9A-Fa-f:.]+\\])(?::[0-9]*)?"

/**
 * The rule of a reference's URL: what `POST …/members/$ref` takes as `@odata.id` and `DELETE
 * …/members/$ref?@id=` as `@id` (SPEC 2), checked by the server with this very expression (the
 * `u` flag: Effect's JSON Schema leaves out a pattern without it) and described with it, so a
 * client that validates against the document accepts exactly what the server does (since 0.6.1).
 * An absolute `http(s)` URL (any host) or a relative one (its first segment without `:`), whose
 * path ends in `directoryObjects/{id}`, `users/{id}` or `groups/{id}`, or with the key in
 * OData's form, `groups('{id}')` (a quote doubled), maybe with one `/` after it, then maybe a
 * query or a fragment (not read). The key is 1 to 128 UTF-16 code units once percent-decoded
 * (a doubled quote counts once), without `/` or a control character (the `Id` rule), and is not
 * `.` or `..` (dot segments, which a URL parser removes).
 * The first capture is a key after `/`, the second a quoted one.
 */
export const referencePattern = `^(?:(?:[Hh][Tt][Tt][Pp][Ss]?:)?\\/\\/${authority}(?=\\/)|(?!\\/\\/)(?![^/?#]*:))` +
  "(?:[^?#\\\\\\u0000-\\u0020\\u007F]*?\\/)?(?:directoryObjects|users|groups)" +
  `(?:\\/(?!(?:\\.|%2[Ee]){1,2}(?:[/?#]|$))((?:${plain(false)}|${escapedUnit}){1,128})` +
  `|\\('((?:''|${plain(true)}|${escapedUnit}){1,128})'\\))` +
  "\\/?(?:[?#][\\s\\S]*)?$"

/** `POST /groups/{id}/members/$ref`: the member's URL ({@link referencePattern}), and nothing else. */
export const ReferenceCreate = Schema.Struct({
  "@odata.id": Schema.String.check(
    Schema.isPattern(new RegExp(referencePattern, "u"), {
      expected: "a URL ending in directoryObjects/{id}, users/{id} or groups/{id}"
    })
  ).annotate({
    description: "An absolute (http or https, any host) or relative URL whose path ends in directoryObjects/{id}, users/{id} or " +
      "groups/{id} (or groups('{id}')), then maybe / and a query: the id percent-encoded as in a URL (a character beyond U+FFFF " +
      "encoded), 1 to 128 UTF-16 code units once decoded, without / or control characters, not . or .."
  })
}).annotate({ identifier: "referenceCreate" })
