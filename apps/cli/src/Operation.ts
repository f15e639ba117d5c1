/**
 * What a command asks of the service, independent of the mode: one value per
 * Graph operation. Remote mode turns it into an HTTP request; local mode into a
 * call of the core services. Both answer with the Graph JSON of the result, so
 * the output of a command does not depend on the mode.
 *
 * @since 0.1.0
 */
import { Errors, Id, type Paths } from "@enrollment/core"
import * as Effect from "effect/Effect"
import type { CommandFailed } from "./Failure.ts"

/** Which path family a configuration is reached through (SPEC 2). */
export type Parent = Paths.Parent

/** Options of a list: stop after `top` items (all pages otherwise). */
export interface ListOptions {
  readonly top?: number | undefined
}

/** The type a member list is narrowed to (`--type`: Graph's cast, `…/members/microsoft.graph.user`). */
export type MemberType = "user" | "group"

/** Every operation the CLI can run. */
export type Operation =
  | { readonly _tag: "assignments.list"; readonly parent: Parent; readonly configurationId: string; readonly list: ListOptions; readonly filter?: string | undefined }
  | { readonly _tag: "assignments.get"; readonly parent: Parent; readonly configurationId: string; readonly id: string }
  | { readonly _tag: "assignments.create"; readonly parent: Parent; readonly configurationId: string; readonly body: unknown }
  | { readonly _tag: "assignments.patch"; readonly parent: Parent; readonly configurationId: string; readonly id: string; readonly body: unknown; readonly ifMatch?: string | undefined }
  | { readonly _tag: "assignments.delete"; readonly parent: Parent; readonly configurationId: string; readonly id: string; readonly ifMatch?: string | undefined }
  | {
    readonly _tag: "configurations.list"
    readonly parent: Parent
    readonly list: ListOptions
    readonly expand?: string | undefined
    /** The tenant's list only (since 0.6.0): the server's `$filter` on it. */
    readonly filter?: string | undefined
  }
  | { readonly _tag: "configurations.get"; readonly parent: Parent; readonly id: string; readonly expand?: string | undefined }
  | { readonly _tag: "configurations.create"; readonly body: unknown }
  | { readonly _tag: "configurations.patch"; readonly id: string; readonly body: unknown; readonly ifMatch?: string | undefined }
  | { readonly _tag: "configurations.delete"; readonly id: string; readonly ifMatch?: string | undefined }
  | { readonly _tag: "configurations.assign"; readonly id: string; readonly body: unknown; readonly ifMatch?: string | undefined }
  | { readonly _tag: "configurations.setPriority"; readonly id: string; readonly body: unknown; readonly ifMatch?: string | undefined }
  | { readonly _tag: "users.list"; readonly list: ListOptions; readonly filter?: string | undefined }
  | { readonly _tag: "users.get"; readonly id: string }
  | { readonly _tag: "users.create"; readonly body: unknown }
  | { readonly _tag: "users.patch"; readonly id: string; readonly body: unknown; readonly ifMatch?: string | undefined }
  | { readonly _tag: "users.delete"; readonly id: string; readonly ifMatch?: string | undefined }
  | { readonly _tag: "groups.list"; readonly list: ListOptions; readonly filter?: string | undefined }
  | { readonly _tag: "groups.get"; readonly id: string }
  | { readonly _tag: "groups.create"; readonly body: unknown }
  | { readonly _tag: "groups.delete"; readonly id: string; readonly ifMatch?: string | undefined }
  | { readonly _tag: "members.list"; readonly groupId: string; readonly list: ListOptions; readonly type?: MemberType | undefined }
  | { readonly _tag: "transitiveMembers.list"; readonly groupId: string; readonly list: ListOptions; readonly type?: MemberType | undefined }
  | {
    readonly _tag: "memberOf.list"
    readonly member: { readonly kind: "user" | "group"; readonly id: string }
    readonly transitive: boolean
    readonly list: ListOptions
  }
  | { readonly _tag: "members.add"; readonly groupId: string; readonly body: unknown }
  | { readonly _tag: "members.remove"; readonly groupId: string; readonly memberId: string }
  | { readonly _tag: "invitations.list"; readonly list: ListOptions; readonly filter?: string | undefined }
  | { readonly _tag: "invitations.get"; readonly id: string }
  | { readonly _tag: "invitations.create"; readonly body: unknown }
  | { readonly _tag: "invitations.invitedUser"; readonly invitationId: string }

/**
 * What a command plans to run: an operation whose body, if it sends one, is still to be read
 * (`--body -` reads standard input, `--body @file` a file). Everything a command checks without the
 * body (the mode and the flags, `--top`, `--if-match`, `--select`, the store, remote mode's secret)
 * is checked before it is read: a mistake there never waits for a producer to finish.
 */
export type Planned =
  | { readonly _tag: "Ready"; readonly operation: Operation }
  | {
    readonly _tag: "Unread"
    /** The body: `--body` read and parsed, the expanded flags merged in (`Body.resolve`). */
    readonly body: Effect.Effect<unknown, CommandFailed>
    readonly operation: (body: unknown) => Operation
    /**
     * The checks of the body's flags that need no body (`--body` missing where it is required,
     * `--target-type none` with `--group-id`): made with the other flag checks, before the store
     * is opened or the secret checked, so that a usage mistake is named as one.
     */
    readonly check?: Effect.Effect<void, CommandFailed> | undefined
  }

/**
 * The operation a plan runs, but for its body (left undefined): its route, its `--if-match` and
 * its `--top`, which is what the checks made before the body is read look at.
 */
export const withoutBody = (planned: Planned): Operation =>
  planned._tag === "Ready" ? planned.operation : planned.operation(undefined)

/** The operation a plan runs, its body read. */
export const operationOf = (planned: Planned): Effect.Effect<Operation, CommandFailed> =>
  planned._tag === "Ready" ? Effect.succeed(planned.operation) : Effect.map(planned.body, planned.operation)

/** The request body an operation sends (remote mode sends its JSON), or undefined when it sends none. */
export const bodyOf = (op: Operation): unknown => ("body" in op ? op.body : undefined)

/**
 * What an operation answers: one entity, a list of them, or nothing (204).
 * `expanded` names the navigation properties written into the entities
 * (`--expand`: `assignments`), which `--select` keeps as the server's `$select` does.
 */
export type Answer =
  | { readonly _tag: "Entity"; readonly value: Record<string, unknown>; readonly expanded?: ReadonlyArray<string> | undefined }
  | { readonly _tag: "List"; readonly items: ReadonlyArray<Record<string, unknown>>; readonly expanded?: ReadonlyArray<string> | undefined }
  | { readonly _tag: "None" }

/**
 * The id a `members.add` body names, read as the server reads it (the http-adapter's
 * `decodeReference` in `Routes`, step by step): a JSON object, with no member but `@odata.id`
 * (`{"@odata.id": …, "other": 1}` is refused, naming `other`), whose `@odata.id` is a string
 * that the http-adapter's `Routes.referencedId` reads (it matches `Requests.referencePattern`,
 * the rule the server checks and its OpenAPI document gives) to an id the key rule (`Id`)
 * takes. Each refusal is the server's 400 with the server's message (`InvalidInput`, through
 * core's `Errors.invalid`), so local mode takes exactly the references the server takes
 * (`groups('g1')` too), and refuses the same (an `ftp:` URL, a dot segment, an id past 128
 * characters, another member) the same way. The http-adapter is loaded only here, when a
 * reference is added.
 */
export const memberIdOf = (body: unknown): Effect.Effect<string, Errors.InvalidInput> => {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return Effect.fail(Errors.invalid.value("", "a JSON object with '@odata.id'", JSON.stringify(body)?.slice(0, 60) ?? "nothing"))
  }
  for (const k of Object.keys(body)) {
    if (k !== "@odata.id") return Effect.fail(Errors.invalid.unknown(k, k, "reference"))
  }
  const ref = (body as Record<string, unknown>)["@odata.id"]
  if (typeof ref !== "string") {
    return Effect.fail(Errors.invalid.value("@odata.id", "a URL string", JSON.stringify(ref)?.slice(0, 60) ?? "nothing"))
  }
  return Effect.flatMap(Effect.promise(() => import("@enrollment/http-adapter")), ({ Routes }) => {
    const id = Routes.referencedId(ref)
    if (id !== undefined && Id.isId(id)) return Effect.succeed(id)
    return Effect.fail(Errors.invalid.value(
      "@odata.id",
      "an http(s) or relative URL ending in directoryObjects/{id}, users/{id} or groups/{id}, the id percent-encoded " +
        "(1 to 128 characters, no '/' or control characters)",
      JSON.stringify(ref.slice(0, 60))
    ))
  })
}
