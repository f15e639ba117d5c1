/**
 * The domain's errors. None of them carries an HTTP status: the HTTP face maps
 * each tag to a status in one table. Every error has a `message` fit to show a
 * person, naming what was wrong and where (a JSON path such as `target.groupId`).
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/** A property the type does not declare (the assignment is not an open type). */
export class PropertyUnknown extends Schema.TaggedClass<PropertyUnknown>()("PropertyUnknown", {
  path: Schema.String,
  property: Schema.String,
  typeName: Schema.String
}) {
  get message(): string {
    return `${this.path}: '${this.property}' is not a property of ${this.typeName}`
  }
}

/** A read-only property sent with a value other than the stored one. */
export class PropertyReadOnly extends Schema.TaggedClass<PropertyReadOnly>()("PropertyReadOnly", {
  path: Schema.String
}) {
  get message(): string {
    return `${this.path}: the property is read-only and cannot be changed`
  }
}

/** `null` for a property that is not nullable. */
export class NullNotAllowed extends Schema.TaggedClass<NullNotAllowed>()("NullNotAllowed", {
  path: Schema.String,
  expected: Schema.String
}) {
  get message(): string {
    return `${this.path}: null is not allowed, expected ${this.expected}`
  }
}

/** A value of the wrong type or out of range. */
export class ValueInvalid extends Schema.TaggedClass<ValueInvalid>()("ValueInvalid", {
  path: Schema.String,
  expected: Schema.String,
  actual: Schema.String
}) {
  get message(): string {
    return `${this.path === "" ? "body" : this.path}: expected ${this.expected}, got ${this.actual}`
  }
}

/** A target with no concrete type where there is no current target to take it from. */
export class TargetTypeRequired extends Schema.TaggedClass<TargetTypeRequired>()("TargetTypeRequired", {
  path: Schema.String
}) {
  get message(): string {
    return `${this.path}: a concrete target type is required (@odata.type)`
  }
}

/** An `@odata.type` that does not name one of the accepted types. */
export class TypeNotAccepted extends Schema.TaggedClass<TypeNotAccepted>()("TypeNotAccepted", {
  path: Schema.String,
  given: Schema.String,
  accepted: Schema.Array(Schema.String)
}) {
  /** `given` is the value as JSON (`"#microsoft.graph.x"`), or `nothing` when none was sent. */
  get message(): string {
    const accepted = this.accepted.map((a) => `#microsoft.graph.${a}`).join(", ")
    return this.given === "nothing"
      ? `${this.path}: a type is required; expected one of ${accepted}`
      : `${this.path}: ${this.given} is not an accepted type; expected one of ${accepted}`
  }
}

/** Why an input was refused. */
export const InvalidInputReason = Schema.Union([
  PropertyUnknown,
  PropertyReadOnly,
  NullNotAllowed,
  ValueInvalid,
  TargetTypeRequired,
  TypeNotAccepted
])
export type InvalidInputReason = typeof InvalidInputReason.Type

/** Input (a body, a key, a query value) that the domain refuses; `reason` says why. */
export class InvalidInput extends Schema.TaggedError<InvalidInput>()("InvalidInput", {
  reason: InvalidInputReason
}) {
  override get message(): string {
    return this.reason.message
  }
}

/** An entity that does not exist, or exists in another tenant (the two look alike). */
export class EntityNotFound extends Schema.TaggedError<EntityNotFound>()("EntityNotFound", {
  entity: Schema.String,
  id: Schema.String
}) {
  override get message(): string {
    return `${this.entity} '${this.id}' not found`
  }
}

/** A create whose id is taken. */
export class EntityAlreadyExists extends Schema.TaggedError<EntityAlreadyExists>()("EntityAlreadyExists", {
  entity: Schema.String,
  id: Schema.String
}) {
  override get message(): string {
    return `${this.entity} '${this.id}' already exists`
  }
}

/**
 * A precondition that the stored entity does not meet: an `If-Match` (the entity has changed
 * since) or, since 0.14.0, an `If-None-Match` (`header`; the entity exists, or its ETag is one the
 * header lists). Without `header`, an `If-Match`.
 */
export class PreconditionFailed extends Schema.TaggedError<PreconditionFailed>()("PreconditionFailed", {
  entity: Schema.String,
  id: Schema.String,
  header: Schema.optionalKey(Schema.Literals(["If-Match", "If-None-Match"]))
}) {
  override get message(): string {
    return this.header === "If-None-Match"
      ? `the ${this.entity} '${this.id}' exists with an ETag that If-None-Match excludes`
      : `the ${this.entity} '${this.id}' has changed since the ETag given in If-Match`
  }
}

/** A member added to a group it already belongs to (Graph answers this with a 400). */
export class MemberAlreadyPresent extends Schema.TaggedError<MemberAlreadyPresent>()("MemberAlreadyPresent", {
  groupId: Schema.String,
  memberId: Schema.String
}) {
  override get message(): string {
    return `One or more added object references already exist for the following modified properties: 'members' (group '${this.groupId}', member '${this.memberId}')`
  }
}

/**
 * A user's `userPrincipalName` that another user of the tenant holds, compared without regard
 * to case ({@link Directory.userPrincipalNameKey}). Graph answers it with a 400 whose message
 * is this one and whose details name `userPrincipalName` (`ObjectConflict`).
 *
 * @since 0.11.0
 */
export class UserPrincipalNameTaken extends Schema.TaggedError<UserPrincipalNameTaken>()("UserPrincipalNameTaken", {
  /** The principal name as the refused write gave it. */
  userPrincipalName: Schema.String,
  /** The user that holds it. */
  heldBy: Schema.String
}) {
  /** The property the conflict is on, as Graph's error details name it. */
  get property(): "userPrincipalName" {
    return "userPrincipalName"
  }
  override get message(): string {
    return "Another object with the same value for property userPrincipalName already exists."
  }
}

/** The store cannot be reached or failed; the operation did not happen. */
export class StoreUnavailable extends Schema.TaggedError<StoreUnavailable>()("StoreUnavailable", {
  cause: Schema.Defect()
}) {
  override get message(): string {
    return "the store is unavailable"
  }
}

/** Helpers to raise an {@link InvalidInput} with one reason. */
export const invalid = {
  unknown: (path: string, property: string, typeName: string) =>
    new InvalidInput({ reason: new PropertyUnknown({ path, property, typeName }) }),
  readOnly: (path: string) => new InvalidInput({ reason: new PropertyReadOnly({ path }) }),
  nullNotAllowed: (path: string, expected: string) =>
    new InvalidInput({ reason: new NullNotAllowed({ path, expected }) }),
  value: (path: string, expected: string, actual: string) =>
    new InvalidInput({ reason: new ValueInvalid({ path, expected, actual }) }),
  /** A required property that was not sent: `priority: expected an Int32, got nothing` (since 0.3.0). */
  required: (path: string, expected: string) =>
    new InvalidInput({ reason: new ValueInvalid({ path, expected, actual: "nothing" }) }),
  targetTypeRequired: (path: string) => new InvalidInput({ reason: new TargetTypeRequired({ path }) }),
  typeNotAccepted: (path: string, given: string, accepted: ReadonlyArray<string>) =>
    new InvalidInput({ reason: new TypeNotAccepted({ path, given, accepted: [...accepted] }) })
}
