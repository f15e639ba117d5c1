/**
 * The deviceEnrollmentConfiguration entity (SPEC 1.4), abstract in Graph. Its
 * base properties are typed and validated; a concrete derived type's own
 * properties are kept as JSON and returned unchanged, so no data a client sends
 * is lost. PATCH merges the typed base by the typed rules and the derived
 * properties by RFC 7396.
 *
 * @since 0.1.0
 */
import { Result, Schema } from "effect"
import { BoundedString } from "./AssignmentTarget.ts"
import { type InvalidInput, invalid } from "./Errors.ts"
import { compare as compareIds, Id } from "./Id.ts"
import * as Json from "./Json.ts"
import * as MergePatch from "./MergePatch.ts"
import * as ODataType from "./ODataType.ts"
import * as Validation from "./Validation.ts"

/** The abstract entity type's name. */
export const typeName = "deviceEnrollmentConfiguration"

/** The kinds of enrollment configuration. */
export const ConfigurationType = Schema.Literals([
  "unknown",
  "limit",
  "platformRestrictions",
  "windowsHelloForBusiness",
  "defaultLimit",
  "defaultPlatformRestrictions",
  "defaultWindowsHelloForBusiness",
  "defaultWindows10EnrollmentCompletionPageConfiguration",
  "windows10EnrollmentCompletionPageConfiguration",
  "deviceComanagementAuthorityConfiguration",
  "singlePlatformRestriction",
  "unknownFutureValue",
  "enrollmentNotificationsConfiguration",
  "windowsRestore"
])
export type ConfigurationType = typeof ConfigurationType.Type

/**
 * The concrete derived types, each with the configuration type a create gets
 * when the client does not say (our choice; Graph leaves it to the service).
 */
export const derivedTypes = {
  deviceEnrollmentLimitConfiguration: "limit",
  deviceEnrollmentPlatformRestrictionsConfiguration: "platformRestrictions",
  deviceEnrollmentPlatformRestrictionConfiguration: "singlePlatformRestriction",
  deviceEnrollmentWindowsHelloForBusinessConfiguration: "windowsHelloForBusiness",
  windows10EnrollmentCompletionPageConfiguration: "windows10EnrollmentCompletionPageConfiguration",
  deviceComanagementAuthorityConfiguration: "deviceComanagementAuthorityConfiguration",
  deviceEnrollmentNotificationConfiguration: "enrollmentNotificationsConfiguration",
  windowsRestoreDeviceEnrollmentConfiguration: "windowsRestore"
} as const satisfies Record<string, ConfigurationType>
export type DerivedTypeName = keyof typeof derivedTypes

/** The names of the derived types. */
export const derivedTypeNames = Object.keys(derivedTypes) as ReadonlyArray<DerivedTypeName>

const isDerived = (name: string | undefined): name is DerivedTypeName =>
  name !== undefined && Object.hasOwn(derivedTypes, name)

/** Int32, as Graph's Edm.Int32. */
export const Int32 = Schema.Int.check(Schema.isBetween({ minimum: -2147483648, maximum: 2147483647 }))

/** The typed base properties a client may set. */
export const BaseFields = {
  displayName: Schema.NullOr(BoundedString),
  description: Schema.NullOr(BoundedString),
  priority: Int32,
  roleScopeTagIds: Schema.Array(BoundedString),
  deviceEnrollmentConfigurationType: ConfigurationType
}

/** A configuration as stored and returned: the base, plus the derived type's own properties. */
export const Configuration = Schema.StructWithRest(
  Schema.Struct({
    "@odata.type": Schema.String,
    id: Id,
    ...BaseFields,
    createdDateTime: Schema.String,
    lastModifiedDateTime: Schema.String,
    version: Int32
  }),
  [Schema.Record(Schema.String, Json.Json)]
).annotate({ identifier: typeName })
export type Configuration = typeof Configuration.Type

/** Properties set by the server: ignored when a client sends them. */
export const serverManaged: ReadonlyArray<string> = ["createdDateTime", "lastModifiedDateTime", "version"]

const baseNames = Object.keys(BaseFields) as ReadonlyArray<keyof typeof BaseFields>
const baseDecoders = Object.fromEntries(baseNames.map((k) => [k, Validation.decoder(BaseFields[k])])) as {
  readonly [K in keyof typeof BaseFields]: (u: unknown, path: string) => Result.Result<any, InvalidInput>
}
const decodeId = Validation.decoder(Id)
const nullable: ReadonlySet<string> = new Set(["displayName", "description"])

/** The typed and untyped parts of a body, each property checked. */
interface Parts<T extends string> {
  readonly id: string | undefined
  readonly odataType: T | undefined
  readonly base: Partial<Record<keyof typeof BaseFields, unknown>>
  readonly extra: Record<string, Json.Json>
}

/**
 * Splits a body into its parts; `typeOf` decides its `@odata.type` (which names a
 * create accepts differs from a PATCH's).
 */
const split = <T extends string>(
  body: unknown,
  typeOf: (value: unknown) => Result.Result<T, InvalidInput>
): Result.Result<Parts<T>, InvalidInput> => {
  if (!Json.isObject(body)) return Result.fail(invalid.value("", "a JSON object", Json.show(body)))
  let id: string | undefined
  let odataType: T | undefined
  const base: Record<string, unknown> = {}
  const extra: Record<string, Json.Json> = {}
  for (const key of Object.keys(body)) {
    const value = body[key]
    if (key === "@odata.type") {
      const r = typeOf(value)
      if (Result.isFailure(r)) return Result.fail(r.failure)
      odataType = r.success
    } else if (key === "id") {
      const r = decodeId(value, "id")
      if (Result.isFailure(r)) return Result.fail(r.failure)
      id = r.success
    } else if (ODataType.isAnnotation(key) || serverManaged.includes(key)) {
      continue
    } else if (key === "assignments") {
      return Result.fail(
        invalid.value("assignments", "no inline assignments (use POST …/assignments or the assign action)", "a value")
      )
    } else if (Object.hasOwn(BaseFields, key)) {
      const k = key as keyof typeof BaseFields
      if (value === null && !nullable.has(k)) return Result.fail(invalid.nullNotAllowed(k, "a non-null value"))
      const r = baseDecoders[k](value, k)
      if (Result.isFailure(r)) return Result.fail(r.failure)
      base[k] = r.success
    } else {
      // The bounds of typed values (SPEC 8) hold inside the derived type's own properties too (since 0.4.0).
      const out = Json.unbounded(value, key)
      if (out !== undefined) return Result.fail(invalid.value(out.path, out.expected, out.expected.startsWith("at most") ? "deeper" : "longer"))
      // Validated as a JSON value (SPEC 1.4; since 0.10.1, before which `NaN`, a function or a `Date`
      // was kept, and a BigInt threw), and kept as a copy: the caller's object, changed after the
      // call, must not change what is stored.
      if (!Json.isJsonValue(value)) return Result.fail(invalid.value(key, "a JSON value", Json.show(value)))
      MergePatch.setOwn(extra, key, Json.copy(value))
    }
  }
  return Result.succeed({ id, odataType, base, extra })
}

/**
 * `extra` when its JSON text is within {@link Json.maxUntypedBytes} bytes of UTF-8, else the 400
 * (since 0.4.0; counted in bytes since 0.8.0, before in UTF-16 code units).
 */
const boundedExtra = (extra: Record<string, Json.Json>): Result.Result<Record<string, Json.Json>, InvalidInput> =>
  Json.utf8Length(JSON.stringify(extra), Json.maxUntypedBytes) > Json.maxUntypedBytes
    ? Result.fail(invalid.value("", `the derived type's own properties within ${Json.maxUntypedBytes} bytes of JSON together`, "more"))
    : Result.succeed(extra)

/** What a create carries, once decoded. */
export interface ConfigurationCreate {
  readonly id: string | undefined
  readonly odataType: DerivedTypeName
  readonly displayName: string | null
  readonly description: string | null
  readonly priority: number
  readonly roleScopeTagIds: ReadonlyArray<string>
  readonly deviceEnrollmentConfigurationType: ConfigurationType
  readonly extra: Record<string, Json.Json>
}

/**
 * An `@odata.type` value for a message: a type name in full (the longest derived
 * type's is 62 characters as JSON, past the 60 at which `Json.show` cuts), anything
 * else as `Json.show` writes it.
 */
const showType = (value: unknown): string =>
  typeof value === "string" && value.length <= 128 ? JSON.stringify(value) : Json.show(value)

/** A create's `@odata.type`: a concrete derived type (SPEC 2; the abstract base has no instances). */
const createType = (value: unknown): Result.Result<DerivedTypeName, InvalidInput> => {
  const name = ODataType.parse(value)
  return isDerived(name)
    ? Result.succeed(name)
    : Result.fail(invalid.typeNotAccepted("@odata.type", showType(value), derivedTypeNames))
}

/** Decodes a create: `@odata.type` must name a concrete derived type; server-managed properties are ignored. */
export const decodeCreate = (body: unknown): Result.Result<ConfigurationCreate, InvalidInput> =>
  Result.flatMap(split(body, createType), (p) => {
    if (p.odataType === undefined) {
      return Result.fail(invalid.typeNotAccepted("@odata.type", "nothing", derivedTypeNames))
    }
    const bounded = boundedExtra(p.extra)
    if (Result.isFailure(bounded)) return Result.fail(bounded.failure)
    return Result.succeed({
      id: p.id,
      odataType: p.odataType,
      displayName: (p.base.displayName ?? null) as string | null,
      description: (p.base.description ?? null) as string | null,
      priority: (p.base.priority ?? 0) as number,
      roleScopeTagIds: (p.base.roleScopeTagIds ?? []) as ReadonlyArray<string>,
      deviceEnrollmentConfigurationType: (p.base.deviceEnrollmentConfigurationType ??
        derivedTypes[p.odataType]) as ConfigurationType,
      extra: p.extra
    })
  })

/** The stored configuration a create makes, at time `now` (ISO 8601). */
export const make = (id: string, input: ConfigurationCreate, now: string): Configuration =>
  withExtra({
    "@odata.type": ODataType.format(input.odataType),
    id,
    displayName: input.displayName,
    description: input.description,
    priority: input.priority,
    roleScopeTagIds: [...input.roleScopeTagIds],
    deviceEnrollmentConfigurationType: input.deviceEnrollmentConfigurationType,
    createdDateTime: now,
    lastModifiedDateTime: now,
    version: 1
  }, input.extra)

/** The base properties first, then the derived type's own (as Graph writes them). */
const withExtra = (base: Record<string, unknown>, extra: Record<string, Json.Json>): Configuration => {
  for (const key of Object.keys(extra)) MergePatch.setOwn(base, key, extra[key])
  return base as Configuration
}

const reserved = new Set(["@odata.type", "id", ...baseNames, ...serverManaged])

/** The derived type's own properties of a stored configuration. */
export const extraOf = (c: Configuration): Record<string, Json.Json> => {
  const out: Record<string, Json.Json> = {}
  for (const key of Object.keys(c)) if (!reserved.has(key)) MergePatch.setOwn(out, key, (c as any)[key])
  return out
}

/**
 * The `@odata.type`s a PATCH of a configuration stored as `stored` accepts: the
 * stored concrete type, or the abstract base type (Graph's own update samples and
 * SDK snippets send it; as for a target's abstract type, SPEC 3 rule 7, it keeps the
 * stored type). Any other type, another concrete derived type included, is
 * refused, naming both types: OData 4.01 does not let an update change an entity's
 * type (Protocol 11.4.3).
 */
const patchTypes = (stored: string): ReadonlyArray<string> => {
  const name = ODataType.parse(stored)
  return name === undefined || name === typeName ? [typeName] : [name, typeName]
}

/**
 * PATCH of a configuration: typed base properties replace (null only where
 * nullable), `id` may only restate the stored value, `@odata.type` may restate
 * the stored type or name the abstract base type (either keeps the stored type;
 * since 0.4.0, the base type was refused before), server-managed properties are
 * ignored, derived properties merge by RFC 7396. Returns the merged entity without
 * touching `version` or the timestamps; the service stamps those when something
 * changed.
 */
export const patch = (current: Configuration, payload: unknown): Result.Result<Configuration, InvalidInput> => {
  const accepted = patchTypes(current["@odata.type"])
  const patchType = (value: unknown): Result.Result<string, InvalidInput> => {
    const name = ODataType.parse(value)
    return name !== undefined && accepted.includes(name)
      ? Result.succeed(name)
      : Result.fail(invalid.typeNotAccepted("@odata.type", showType(value), accepted))
  }
  return Result.flatMap(split(payload, patchType), (p) => {
    if (p.id !== undefined && p.id !== current.id) return Result.fail(invalid.readOnly("id"))
    const base: Record<string, unknown> = { "@odata.type": current["@odata.type"], id: current.id }
    for (const k of baseNames) base[k] = Object.hasOwn(p.base, k) ? p.base[k] : current[k]
    base.createdDateTime = current.createdDateTime
    base.lastModifiedDateTime = current.lastModifiedDateTime
    base.version = current.version
    return Result.map(
      boundedExtra(MergePatch.apply(extraOf(current), p.extra) as Record<string, Json.Json>),
      (extra) => withExtra(base, extra)
    )
  })
}

/** Orders configurations as Graph does for a user: lowest priority first, then id (by code point since 0.9.0: `Id.compare`). */
export const byPriority = (a: Configuration, b: Configuration): number => a.priority - b.priority || compareIds(a.id, b.id)

/**
 * The most assignments one `assign` action may carry (since 0.15.0). Graph names no bound; this
 * one keeps an action's work within what a request may take: a review sent 349 000 (`{}` each,
 * within the 1 MiB body limit), which held SQLite's event loop for 24 s and ran PostgreSQL's write
 * to its 30 s deadline, holding the configuration's lock all along. A larger set is built with
 * `POST …/assignments`, one at a time, which takes no bound.
 *
 * @since 0.15.0
 */
export const maxAssignItems = 1_000
