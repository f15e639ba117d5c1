/**
 * The assignment target hierarchy (SPEC 1.2): a real inheritance tree of Graph
 * complex types, discriminated by `@odata.type`.
 *
 * ```
 * deviceAndAppManagementAssignmentTarget (abstract)
 * ├── allDevicesAssignmentTarget
 * ├── allLicensedUsersAssignmentTarget
 * ├── groupAssignmentTarget
 * │   └── exclusionGroupAssignmentTarget
 * └── configurationManagerCollectionAssignmentTarget
 * ```
 *
 * The tree is data ({@link hierarchy}); the schemas, the "is a" test and the
 * properties kept by a PATCH type switch are all derived from it, so they cannot
 * disagree.
 *
 * @since 0.1.0
 */
import { Effect, Result, Schema, SchemaTransformation } from "effect"
import { type InvalidInput, invalid } from "./Errors.ts"
import * as Json from "./Json.ts"
import * as ODataType from "./ODataType.ts"
import * as Validation from "./Validation.ts"

/** How an assignment filter applies: `none`, `include` or `exclude`. */
export const FilterType = Schema.Literals(["none", "include", "exclude"])
export type FilterType = typeof FilterType.Type

/**
 * A string of at most {@link Json.maxStringLength} bytes of UTF-8, 4 KiB (SPEC 8; since 0.8.0,
 * UTF-16 code units before), without the character U+0000 (since 0.4.0), which no SQL text
 * column takes: PostgreSQL refuses it, and the store would answer a client's value with a 503.
 * The same number as a `maxLength` stays, a bound no string within the bytes breaks: JSON
 * Schema and generated strings take it, and a longer string is refused without counting.
 */
export const BoundedString = Schema.String.check(
  Schema.isMaxLength(Json.maxStringLength, { expected: Json.maxStringExpected }),
  Schema.makeFilter(Json.isBoundedString, { expected: Json.maxStringExpected }),
  Schema.isPattern(/^[^\u0000]*$/u, { expected: "a string without the character U+0000" }),
  // Well-formed UTF-16 (since 0.9.0), as `Id`: a lone surrogate has no UTF-8, so the SQL stores kept
  // the columns a filter reads (`sourceId`, a target's `groupId`) as U+FFFD, and a filter answered
  // otherwise on them than on the memory store. HTTP bodies refused it before; local import did not.
  Schema.makeFilter((s: string) => s.isWellFormed(), { expected: "a string of well-formed Unicode (no lone surrogate)" })
)

/** Names of every type of the hierarchy, abstract base included. */
export type TypeName =
  | "deviceAndAppManagementAssignmentTarget"
  | "allDevicesAssignmentTarget"
  | "allLicensedUsersAssignmentTarget"
  | "groupAssignmentTarget"
  | "exclusionGroupAssignmentTarget"
  | "configurationManagerCollectionAssignmentTarget"

/** Names of the concrete (instantiable) types. */
export type ConcreteTypeName = Exclude<TypeName, "deviceAndAppManagementAssignmentTarget">

/** Properties declared anywhere in the hierarchy. */
export type PropertyName =
  | "deviceAndAppManagementAssignmentFilterId"
  | "deviceAndAppManagementAssignmentFilterType"
  | "groupId"
  | "collectionId"

/** One property's rules: whether it takes null, and its value when a type gains it. */
export interface PropertySpec {
  readonly nullable: boolean
  readonly initial: Json.Json
  readonly schema: Schema.Codec<any, any>
}

/** Every property of the hierarchy with its rules. */
export const properties: { readonly [P in PropertyName]: PropertySpec } = {
  deviceAndAppManagementAssignmentFilterId: { nullable: true, initial: null, schema: Schema.NullOr(BoundedString) },
  deviceAndAppManagementAssignmentFilterType: { nullable: false, initial: "none", schema: FilterType },
  groupId: { nullable: true, initial: null, schema: Schema.NullOr(BoundedString) },
  collectionId: { nullable: true, initial: null, schema: Schema.NullOr(BoundedString) }
}

/** One node of the tree: its parent, whether it is abstract, and the properties it declares itself. */
export interface TypeNode {
  readonly parent: TypeName | undefined
  readonly abstract: boolean
  readonly own: ReadonlyArray<PropertyName>
}

/** The inheritance tree, as data. */
export const hierarchy: { readonly [N in TypeName]: TypeNode } = {
  deviceAndAppManagementAssignmentTarget: {
    parent: undefined,
    abstract: true,
    own: ["deviceAndAppManagementAssignmentFilterId", "deviceAndAppManagementAssignmentFilterType"]
  },
  allDevicesAssignmentTarget: { parent: "deviceAndAppManagementAssignmentTarget", abstract: false, own: [] },
  allLicensedUsersAssignmentTarget: { parent: "deviceAndAppManagementAssignmentTarget", abstract: false, own: [] },
  groupAssignmentTarget: { parent: "deviceAndAppManagementAssignmentTarget", abstract: false, own: ["groupId"] },
  exclusionGroupAssignmentTarget: { parent: "groupAssignmentTarget", abstract: false, own: [] },
  configurationManagerCollectionAssignmentTarget: {
    parent: "deviceAndAppManagementAssignmentTarget",
    abstract: false,
    own: ["collectionId"]
  }
}

/** The abstract base type's name. */
export const baseTypeName = "deviceAndAppManagementAssignmentTarget" as const

/** Every type name, base first. */
export const typeNames = Object.keys(hierarchy) as ReadonlyArray<TypeName>

/** The concrete type names. */
export const concreteTypeNames = typeNames.filter((n) => !hierarchy[n].abstract) as ReadonlyArray<ConcreteTypeName>

/** True when `name` is a type of this hierarchy. */
export const isTypeName = (name: string): name is TypeName => Object.hasOwn(hierarchy, name)

/** The type and its ancestors, the type first. */
export const ancestry = (name: TypeName): ReadonlyArray<TypeName> => {
  const out: Array<TypeName> = []
  for (let n: TypeName | undefined = name; n !== undefined; n = hierarchy[n].parent) out.push(n)
  return out
}

/** True when a value of type `name` is also a value of type `ancestor` (every type is a itself). */
export const isA = (name: TypeName, ancestor: TypeName): boolean => ancestry(name).includes(ancestor)

/** The type and every type derived from it. */
export const descendants = (name: TypeName): ReadonlyArray<TypeName> => typeNames.filter((n) => isA(n, name))

/** The properties a type has: its own and its ancestors', base first. */
export const propertiesOf = (name: TypeName): ReadonlyArray<PropertyName> =>
  ancestry(name).toReversed().flatMap((n) => hierarchy[n].own)

/** The most derived type that both types are (the lowest common ancestor). */
export const commonAncestor = (a: TypeName, b: TypeName): TypeName => {
  const bs = ancestry(b)
  return ancestry(a).find((n) => bs.includes(n)) ?? baseTypeName
}

/** The properties two types share through their common ancestors. */
export const sharedProperties = (a: TypeName, b: TypeName): ReadonlyArray<PropertyName> =>
  propertiesOf(commonAncestor(a, b))

/** The `@odata.type` of one type: either spelling decodes, the canonical one is written. */
export const ODataTypeOf = <const N extends string>(name: N) => {
  const canonical = ODataType.format(name)
  return Schema.Literals([canonical, `${ODataType.namespace}.${name}` as const]).pipe(
    Schema.decodeTo(
      Schema.Literal(canonical),
      SchemaTransformation.transform<typeof canonical, string>({ decode: () => canonical, encode: (c) => c }) as any
    )
  )
}

const withDefault = <S extends Schema.Top>(schema: S, value: S["Type"]) =>
  schema.pipe(Schema.withDecodingDefaultKey(Effect.succeed(value) as any))

const baseFields = {
  deviceAndAppManagementAssignmentFilterId: withDefault(Schema.NullOr(BoundedString), null),
  deviceAndAppManagementAssignmentFilterType: withDefault(FilterType, "none")
}

/** All devices of the tenant. */
export const AllDevicesAssignmentTarget = Schema.Struct({
  "@odata.type": ODataTypeOf("allDevicesAssignmentTarget"),
  ...baseFields
}).annotate({ identifier: "allDevicesAssignmentTarget" })
export type AllDevicesAssignmentTarget = typeof AllDevicesAssignmentTarget.Type

/** All licensed users of the tenant. */
export const AllLicensedUsersAssignmentTarget = Schema.Struct({
  "@odata.type": ODataTypeOf("allLicensedUsersAssignmentTarget"),
  ...baseFields
}).annotate({ identifier: "allLicensedUsersAssignmentTarget" })
export type AllLicensedUsersAssignmentTarget = typeof AllLicensedUsersAssignmentTarget.Type

/** The transitive members of a group. */
export const GroupAssignmentTarget = Schema.Struct({
  "@odata.type": ODataTypeOf("groupAssignmentTarget"),
  ...baseFields,
  groupId: withDefault(Schema.NullOr(BoundedString), null)
}).annotate({ identifier: "groupAssignmentTarget" })
export type GroupAssignmentTarget = typeof GroupAssignmentTarget.Type

/** Excludes the transitive members of a group; it is a group target. */
export const ExclusionGroupAssignmentTarget = Schema.Struct({
  "@odata.type": ODataTypeOf("exclusionGroupAssignmentTarget"),
  ...baseFields,
  groupId: withDefault(Schema.NullOr(BoundedString), null)
}).annotate({ identifier: "exclusionGroupAssignmentTarget" })
export type ExclusionGroupAssignmentTarget = typeof ExclusionGroupAssignmentTarget.Type

/** A Configuration Manager collection of devices. */
export const ConfigurationManagerCollectionAssignmentTarget = Schema.Struct({
  "@odata.type": ODataTypeOf("configurationManagerCollectionAssignmentTarget"),
  ...baseFields,
  collectionId: withDefault(Schema.NullOr(BoundedString), null)
}).annotate({ identifier: "configurationManagerCollectionAssignmentTarget" })
export type ConfigurationManagerCollectionAssignmentTarget = typeof ConfigurationManagerCollectionAssignmentTarget.Type

/**
 * Any concrete target; `@odata.type` picks the member.
 *
 * Like every struct here, the schemas are open as Effect's are: decoded with the default options,
 * a property a type does not declare is dropped, not refused. SPEC 3 refuses one (a 400), and so
 * do the services, `merge` and `Validation.decoder`; a caller decoding a client's body itself
 * passes `{ onExcessProperty: "error" }` (README, "Decode a target").
 */
export const AssignmentTarget = Schema.Union([
  AllDevicesAssignmentTarget,
  AllLicensedUsersAssignmentTarget,
  GroupAssignmentTarget,
  ExclusionGroupAssignmentTarget,
  ConfigurationManagerCollectionAssignmentTarget
]).annotate({ identifier: "deviceAndAppManagementAssignmentTarget" })
export type AssignmentTarget = typeof AssignmentTarget.Type

/** The schema of each concrete type, by name. */
export const schemas: { readonly [N in ConcreteTypeName]: Schema.Codec<AssignmentTarget, any> } = {
  allDevicesAssignmentTarget: AllDevicesAssignmentTarget,
  allLicensedUsersAssignmentTarget: AllLicensedUsersAssignmentTarget,
  groupAssignmentTarget: GroupAssignmentTarget,
  exclusionGroupAssignmentTarget: ExclusionGroupAssignmentTarget,
  configurationManagerCollectionAssignmentTarget: ConfigurationManagerCollectionAssignmentTarget
}

/** The bare type name of a decoded target. */
export const typeOf = (target: AssignmentTarget): ConcreteTypeName =>
  target["@odata.type"].slice(17) as ConcreteTypeName

/** The `@odata.type` of every group target type, exclusion groups included, as decoded targets write it. */
const groupTypes: ReadonlySet<string> = new Set(descendants("groupAssignmentTarget").map(ODataType.format))

/** True for a group target, exclusion groups included (they are group targets). */
export const isGroupTarget = (
  target: AssignmentTarget | null
): target is GroupAssignmentTarget | ExclusionGroupAssignmentTarget =>
  // A set of the written types: `isA(typeOf(target), …)` looked the type's name up
  // in the hierarchy by a new string, a string-table search, on every call (every write).
  target !== null && groupTypes.has(target["@odata.type"])

/** True for an exclusion group target. */
export const isExclusionTarget = (target: AssignmentTarget | null): target is ExclusionGroupAssignmentTarget =>
  target !== null && typeOf(target) === "exclusionGroupAssignmentTarget"

/** A target of the given concrete type with every property at its initial value. */
export const empty = (name: ConcreteTypeName): AssignmentTarget => {
  const out: Record<string, Json.Json> = { "@odata.type": ODataType.format(name) }
  for (const p of propertiesOf(name)) out[p] = properties[p].initial
  return out as unknown as AssignmentTarget
}

const propertyDecoders: { readonly [P in PropertyName]: (u: unknown, path: string) => Result.Result<any, InvalidInput> } =
  {
    deviceAndAppManagementAssignmentFilterId: Validation.decoder(properties.deviceAndAppManagementAssignmentFilterId.schema),
    deviceAndAppManagementAssignmentFilterType: Validation.decoder(FilterType),
    groupId: Validation.decoder(properties.groupId.schema),
    collectionId: Validation.decoder(properties.collectionId.schema)
  }

const expectedOf: { readonly [P in PropertyName]: string } = {
  deviceAndAppManagementAssignmentFilterId: "a string",
  deviceAndAppManagementAssignmentFilterType: "one of 'none', 'include', 'exclude'",
  groupId: "a string",
  collectionId: "a string"
}

/**
 * Merges a target payload into the current target by the typed PATCH rules of
 * SPEC 3.7, and decodes a target on create (`current` = null) by the same rules:
 *
 * - `null` clears the target;
 * - no `@odata.type`, or the abstract base type, keeps the current concrete type
 *   (and needs one: with no current target it is {@link TargetTypeRequired});
 * - the current type merges; another concrete type switches type, keeping the
 *   properties both types inherit from their common ancestors;
 * - a property the resulting type does not declare is {@link PropertyUnknown}.
 */
export const merge = (
  current: AssignmentTarget | null,
  payload: unknown,
  path: string = "target"
): Result.Result<AssignmentTarget | null, InvalidInput> => {
  if (payload === null) return Result.succeed(null)
  if (!Json.isObject(payload)) {
    return Result.fail(invalid.value(path, "an object or null", Json.show(payload)))
  }
  let name: TypeName | undefined
  const given = payload["@odata.type"]
  if (given !== undefined) {
    const parsed = ODataType.parse(given)
    if (parsed === undefined || !isTypeName(parsed)) {
      return Result.fail(invalid.typeNotAccepted(`${path}.@odata.type`, Json.show(given), typeNames))
    }
    name = parsed
  }
  let type: ConcreteTypeName
  if (name === undefined || hierarchy[name].abstract) {
    if (current === null) return Result.fail(invalid.targetTypeRequired(path))
    type = typeOf(current)
  } else {
    type = name as ConcreteTypeName
  }
  const next: Record<string, unknown> = {}
  if (current !== null && typeOf(current) === type) {
    Object.assign(next, current)
  } else {
    Object.assign(next, empty(type))
    if (current !== null) {
      for (const p of sharedProperties(typeOf(current), type)) next[p] = (current as any)[p]
    }
  }
  const declared = propertiesOf(type)
  for (const key of Object.keys(payload)) {
    if (ODataType.isAnnotation(key)) continue
    const where = `${path}.${key}`
    if (!(declared as ReadonlyArray<string>).includes(key)) {
      return Result.fail(invalid.unknown(where, key, type))
    }
    const p = key as PropertyName
    const value = payload[key]
    if (value === null && !properties[p].nullable) {
      return Result.fail(invalid.nullNotAllowed(where, expectedOf[p]))
    }
    const decoded = propertyDecoders[p](value, where)
    if (Result.isFailure(decoded)) return Result.fail(decoded.failure)
    next[p] = decoded.success
  }
  return Result.succeed(next as AssignmentTarget)
}
