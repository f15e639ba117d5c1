/**
 * The store port's contract as executable cases, written once and run by every
 * adapter (memory, SQLite, PostgreSQL), like Effect's `KeyValueStoreTest.suite`.
 * Each case runs against a fresh tenant id, so cases never see each other's data
 * even on a shared database.
 *
 * Pure Effect: the core imports only `effect`, so the cases fail with a defect
 * carrying a message; {@link suite} registers them with any test runner.
 *
 * @since 0.1.0
 */
import { Cause, Duration, Effect, Exit, Fiber, Layer, Option, Result } from "effect"
import * as Assignment from "../Assignment.ts"
import type { AssignmentFilter } from "../AssignmentFilter.ts"
import { Assignments } from "../Assignments.ts"
import * as AssignmentTarget from "../AssignmentTarget.ts"
import type { Configuration } from "../Configuration.ts"
import * as ConfigurationModule from "../Configuration.ts"
import * as Directory from "../Directory.ts"
import * as DirectoryService from "../DirectoryService.ts"
import { EntityAlreadyExists, EntityNotFound, MemberAlreadyPresent, PreconditionFailed, UserPrincipalNameTaken } from "../Errors.ts"
import * as ETag from "../ETag.ts"
import * as Ids from "../Ids.ts"
import * as Paths from "../Paths.ts"
import { countPages, type Page, type PageRequest, Store, type TargetingInputs } from "../Store.ts"

/**
 * What a case answers when the store does not offer the optional method it is about: the suite
 * then marks the case skipped (with vitest's `skip`), saying which method, rather than passing it.
 *
 * @since 0.13.0
 */
export class NotOffered {
  readonly _tag = "NotOffered"
  readonly method: string
  constructor(method: string) {
    this.method = method
  }
  /** What a runner shows beside the skipped case. */
  get note(): string {
    return `the store does not offer ${this.method}`
  }
}

/** The answer of a case about an optional method the store does not offer. */
const notOffered = (method: string): NotOffered => new NotOffered(method)

/** One conformance case: it passes, fails, or (since 0.13.0) answers {@link NotOffered}. */
export interface Case {
  readonly name: string
  readonly run: Effect.Effect<void | NotOffered, unknown, Store>
}

/** Fails the case with `message` unless `condition` holds. */
export const check = (condition: boolean, message: string): Effect.Effect<void> =>
  condition ? Effect.void : Effect.die(new Error(message))

/** Fails the case unless the two values have the same JSON. */
export const checkEqual = (actual: unknown, expected: unknown, message: string): Effect.Effect<void> => {
  const a = JSON.stringify(actual)
  const e = JSON.stringify(expected)
  return check(a === e, `${message}: expected ${e}, got ${a}`)
}

const tenantId = Effect.map(Ids.guid, (g) => `tenant-${g}`)

/** A configuration value for tests. */
export const configuration = (id: string, priority = 0): Configuration =>
  ConfigurationModule.make(id, {
    id,
    odataType: "deviceEnrollmentLimitConfiguration",
    displayName: `cfg ${id}`,
    description: null,
    priority,
    roleScopeTagIds: ["0"],
    deviceEnrollmentConfigurationType: "limit",
    extra: { limit: 5 }
  }, "2026-01-01T00:00:00.000Z")

/** An assignment value for tests. */
export const assignment = (
  id: string,
  target: AssignmentTarget.AssignmentTarget | null = AssignmentTarget.empty("allDevicesAssignmentTarget")
): Assignment.Assignment => Assignment.make(id, { target, source: "direct", sourceId: null })

/** A group target for tests. */
export const groupTarget = (groupId: string, type: "groupAssignmentTarget" | "exclusionGroupAssignmentTarget" = "groupAssignmentTarget") =>
  ({ ...AssignmentTarget.empty(type), groupId }) as AssignmentTarget.AssignmentTarget

/** A user value for tests. */
export const user = (id: string): Directory.User =>
  Directory.makeUser(id, { displayName: id, userPrincipalName: `${id}@example.com`, mail: null, userType: "Member", accountEnabled: true })

/** An invitation `invitationId` and its guest user `userId`, for tests. */
export const invite = (invitationId: string, userId: string, email: string, displayName: string | null = null) =>
  Directory.invite(
    {
      id: undefined,
      invitedUserEmailAddress: email,
      inviteRedirectUrl: "https://example.com",
      invitedUserDisplayName: displayName,
      invitedUserType: "Guest",
      sendInvitationMessage: false
    },
    { invitation: invitationId, user: userId },
    "https://redeem"
  )

/** A group value for tests. */
export const group = (id: string): Directory.Group =>
  Directory.makeGroup(id, { displayName: id, description: null, mailNickname: id, securityEnabled: true })

const withTenant = (f: (store: Store["Service"], tenant: string) => Effect.Effect<void | NotOffered, unknown>) =>
  Effect.gen(function*() {
    const store = yield* Store
    const tenant = yield* tenantId
    return yield* f(store, tenant)
  })

/** A value as a case's message shows it: an error as its tag and message, anything else as JSON (cut at 200 characters). */
const show = (value: unknown): string => {
  if (value instanceof Error) return `${"_tag" in value ? String(value._tag) : value.name}: ${value.message}`
  let text: string
  try {
    text = JSON.stringify(value) ?? String(value)
  } catch {
    text = String(value)
  }
  return text.length > 200 ? `${text.slice(0, 200)}…` : text
}

/**
 * Runs `self`, the store call the case names `op`, which is to fail with what `expected` says:
 * answers its failure. Fails the case when it succeeds instead, saying so ("expected users.remove
 * to fail with PreconditionFailed of user 'u1', it succeeded with true").
 *
 * @since 0.6.0
 */
export const failure = <A, E, R>(op: string, expected: string, self: Effect.Effect<A, E, R>): Effect.Effect<E, never, R> =>
  Effect.matchEffect(self, {
    onFailure: Effect.succeed,
    onSuccess: (a) => Effect.die(new Error(`expected ${op} to fail with ${expected}, it succeeded with ${show(a)}`))
  })

/**
 * A refusal of the port: of an entity (not found, already there, its check refused), of a member
 * already in a group, or (since 0.11.0) of a user principal name another user holds.
 */
export type Refusal = EntityAlreadyExists | EntityNotFound | PreconditionFailed | MemberAlreadyPresent | UserPrincipalNameTaken

const refusalTags: ReadonlySet<unknown> = new Set([
  "EntityAlreadyExists",
  "EntityNotFound",
  "PreconditionFailed",
  "MemberAlreadyPresent",
  "UserPrincipalNameTaken"
])

/** What a failure names: a refusal's tag with its entity and id (a member's group and member), else the failure as {@link show} has it. */
const named = (e: unknown): string => {
  if (typeof e !== "object" || e === null || !refusalTags.has((e as { readonly _tag?: unknown })._tag)) return show(e)
  const r = e as {
    readonly _tag: string
    readonly entity?: unknown
    readonly id?: unknown
    readonly groupId?: unknown
    readonly memberId?: unknown
    readonly userPrincipalName?: unknown
    readonly heldBy?: unknown
  }
  if (r._tag === "UserPrincipalNameTaken") {
    return `UserPrincipalNameTaken of '${String(r.userPrincipalName)}' held by user '${String(r.heldBy)}'`
  }
  return r._tag === "MemberAlreadyPresent"
    ? `MemberAlreadyPresent of '${String(r.memberId)}' in group '${String(r.groupId)}'`
    : `${r._tag} of ${String(r.entity)} '${String(r.id)}'`
}

/**
 * Runs `self`, the store call the case names `op`, which is to refuse with `expected`: the same
 * tag, naming the same entity and id (the names the core's services answer with, see the `Store`
 * port), or the same group and member. Fails the case otherwise, saying what the call did
 * instead: "expected users.insert to fail with EntityAlreadyExists of user 'x2', it failed with
 * EntityAlreadyExists of thing 'x2'", or "…, it succeeded with {…}".
 *
 * @since 0.6.0
 */
export const refuses = <A, E, R>(op: string, expected: Refusal, self: Effect.Effect<A, E, R>): Effect.Effect<void, never, R> =>
  Effect.flatMap(failure(op, named(expected), self), (e) =>
    check(named(e) === named(expected), `expected ${op} to fail with ${named(expected)}, it failed with ${named(e)}`))

/** What an exit was: "ok", what its failure named (as {@link refuses} names it), or the defect. */
const outcome = (exit: Exit.Exit<unknown, unknown>): string =>
  Exit.isSuccess(exit) ? "ok" : Cause.hasDies(exit.cause) ? `defect: ${String(Cause.squash(exit.cause))}` : named(Cause.squash(exit.cause))

const notFound = (entity: string, id: string) => new EntityNotFound({ entity, id })
const alreadyExists = (entity: string, id: string) => new EntityAlreadyExists({ entity, id })
const preconditionFailed = (entity: string, id: string) => new PreconditionFailed({ entity, id })
const upnTaken = (userPrincipalName: string, heldBy: string) => new UserPrincipalNameTaken({ userPrincipalName, heldBy })

/** A user `id` with the principal name `upn` (null: none). */
const userNamed = (id: string, upn: string | null): Directory.User => ({ ...user(id), userPrincipalName: upn })

/** The users of the tenant (up to 1 000), in id order. */
const allUsers = (store: Store["Service"], t: string) => Effect.map(store.users.list(t, { limit: 1000 }), (p) => p.items)

/** The `If-Match` check of `value`'s ETag as it was, as the services make it. */
const ifMatch = (entity: string, value: { readonly id: string }) => ETag.precondition(ETag.of(value), entity, value.id)!

/** User u1 in group g1, and g1 in group g2. */
const nestedGroups = (store: Store["Service"], t: string) =>
  Effect.gen(function*() {
    yield* store.users.insert(t, user("u1"))
    yield* store.groups.insert(t, group("g1"))
    yield* store.groups.insert(t, group("g2"))
    yield* store.groups.addMember(t, "g1", { kind: "user", id: "u1" })
    yield* store.groups.addMember(t, "g2", { kind: "group", id: "g1" })
  })

/** The cases. */
export const cases: ReadonlyArray<Case> = [
  {
    name: "stores and returns a configuration verbatim, derived properties included",
    run: withTenant((store, t) =>
      Effect.gen(function*() {
        const c = configuration("c1")
        yield* store.configurations.insert(t, c)
        const got = yield* store.configurations.get(t, "c1")
        yield* checkEqual(Option.getOrNull(got), c, "get after insert")
        yield* check(Option.isNone(yield* store.configurations.get(t, "nope")), "unknown id is none")
      })
    )
  },
  {
    name: "stores and returns users, groups and invitations verbatim, Graph's other properties included",
    run: withTenant((store, t) =>
      Effect.gen(function*() {
        // Graph's properties beyond the modelled ones are kept as JSON (core 0.4.0): every store
        // must return them as written, through get, list and modify.
        const u: Directory.User = {
          ...user("u1"),
          mailNickname: "u1",
          businessPhones: ["+1 555 0100"],
          onPremisesExtensionAttributes: { extensionAttribute1: "a", extensionAttribute2: null },
          department: null,
          // A control character inside a JSON value: stored as JSON text, where it is escaped.
          employeeId: "e\u0000\u0001-1"
        }
        yield* store.users.insert(t, u)
        yield* checkEqual(Option.getOrNull(yield* store.users.get(t, "u1")), u, "user get")
        yield* checkEqual((yield* store.users.list(t, { limit: 10 })).items, [u], "user list")
        const patched: Directory.User = { ...u, department: "Sales", jobTitle: "Lead" }
        yield* store.users.modify(t, "u1", () => Result.succeed(patched))
        yield* checkEqual(Option.getOrNull(yield* store.users.get(t, "u1")), patched, "user after modify")
        const g: Directory.Group = { ...group("g1"), groupTypes: ["Unified"], mailEnabled: true, writebackConfiguration: { isEnabled: null } }
        yield* store.groups.insert(t, g)
        yield* checkEqual(Option.getOrNull(yield* store.groups.get(t, "g1")), g, "group get")
        yield* checkEqual((yield* store.groups.list(t, { limit: 10 })).items, [g], "group list")
        const { invitation, user: guest } = invite("i1", "gu1", "guest@example.com")
        const inv: Directory.Invitation = {
          ...invitation,
          invitedUserMessageInfo: { customizedMessageBody: "Welcome", ccRecipients: [{ emailAddress: { address: "cc@example.com" } }] },
          resetRedemption: false
        }
        yield* store.invitations.insert(t, inv, guest)
        yield* checkEqual(Option.getOrNull(yield* store.invitations.get(t, "i1")), inv, "invitation get")
        yield* checkEqual((yield* store.invitations.list(t, { limit: 10 })).items, [inv], "invitation list")
      })
    )
  },
  {
    name: "refuses a second insert with the same id and keeps the first",
    run: withTenant((store, t) =>
      Effect.gen(function*() {
        yield* store.configurations.insert(t, configuration("c1", 1))
        yield* refuses(
          "configurations.insert of a taken id",
          alreadyExists("deviceEnrollmentConfiguration", "c1"),
          store.configurations.insert(t, configuration("c1", 2))
        )
        const got = yield* store.configurations.get(t, "c1")
        yield* checkEqual(Option.map(got, (c) => c.priority), Option.some(1), "first insert kept")
        yield* store.assignments.insert(t, "c1", assignment("a1"))
        yield* refuses(
          "assignments.insert of a taken id",
          alreadyExists("enrollmentConfigurationAssignment", "a1"),
          store.assignments.insert(t, "c1", assignment("a1"))
        )
        // the same id under another configuration is another assignment
        yield* store.configurations.insert(t, configuration("c2"))
        yield* store.assignments.insert(t, "c2", assignment("a1"))
        yield* store.users.insert(t, user("u1"))
        yield* refuses("users.insert of a taken id", alreadyExists("user", "u1"), store.users.insert(t, user("u1")))
        yield* store.groups.insert(t, group("g1"))
        yield* refuses("groups.insert of a taken id", alreadyExists("group", "g1"), store.groups.insert(t, group("g1")))
      })
    )
  },
  {
    name: "pages by id with a keyset cursor that survives inserts",
    run: withTenant((store, t) =>
      Effect.gen(function*() {
        yield* store.configurations.insert(t, configuration("c"))
        for (const id of ["a05", "a01", "a03", "a02", "a04"]) yield* store.assignments.insert(t, "c", assignment(id))
        const p1 = yield* store.assignments.list(t, "c", { limit: 2 })
        yield* checkEqual(p1.items.map((a) => a.id), ["a01", "a02"], "first page")
        yield* checkEqual(p1.next, "a02", "first cursor")
        yield* store.assignments.insert(t, "c", assignment("a00"))
        const p2 = yield* store.assignments.list(t, "c", { limit: 2, after: p1.next })
        yield* checkEqual(p2.items.map((a) => a.id), ["a03", "a04"], "second page unaffected by an insert before the cursor")
        const p3 = yield* store.assignments.list(t, "c", { limit: 2, after: p2.next })
        yield* checkEqual(p3.items.map((a) => a.id), ["a05"], "last page")
        yield* checkEqual(p3.next, undefined, "no cursor after the last page")
        const exact = yield* store.assignments.list(t, "c", { limit: 6 })
        yield* checkEqual(exact.next, undefined, "a page that ends exactly at the last item has no cursor")
      })
    )
  },
  {
    name: "orders and pages ids by code point, the order of their UTF-8 bytes (Id.compare), whatever their characters",
    run: withTenant((store, t) =>
      Effect.gen(function*() {
        // UTF-16's order (JavaScript's `<`) puts U+1F600 before U+FF46; code points put it after.
        const ordered = ["z", "\u03a9", "\uff46", "\u{1f600}"]
        for (const id of ["\u{1f600}", "\uff46", "\u03a9", "z"]) yield* store.users.insert(t, user(id))
        yield* checkEqual((yield* store.users.list(t, { limit: 10 })).items.map((u) => u.id), ordered, "users.list")
        const paged: Array<string> = []
        let after: string | undefined
        do {
          const page = yield* store.users.list(t, { after, limit: 1 })
          paged.push(...page.items.map((u) => u.id))
          after = page.next
        } while (after !== undefined)
        yield* checkEqual(paged, ordered, "users.list a page at a time, by each page's cursor")
      })
    )
  },
  {
    name: "modify applies a change atomically and returns the new value",
    run: withTenant((store, t) =>
      Effect.gen(function*() {
        yield* store.configurations.insert(t, configuration("c"))
        yield* store.assignments.insert(t, "c", assignment("a"))
        const r = yield* store.assignments.modify(t, "c", "a", (a) => Result.succeed({ ...a, sourceId: "s1" }))
        yield* checkEqual(Option.map(r, (a) => a.sourceId), Option.some("s1"), "returned value")
        const got = yield* store.assignments.get(t, "c", "a")
        yield* checkEqual(Option.map(got, (a) => a.sourceId), Option.some("s1"), "stored value")
      })
    )
  },
  {
    name: "modify that refuses writes nothing and raises the refusal",
    run: withTenant((store, t) =>
      Effect.gen(function*() {
        yield* store.configurations.insert(t, configuration("c"))
        yield* store.assignments.insert(t, "c", assignment("a"))
        const refusal = yield* failure(
          "assignments.modify with a refusing change",
          "the change's refusal",
          store.assignments.modify(t, "c", "a", () => Result.fail("refused" as const))
        )
        yield* checkEqual(refusal, "refused", "modify fails with the change's refusal")
        const got = yield* store.assignments.get(t, "c", "a")
        yield* checkEqual(Option.getOrNull(got), assignment("a"), "unchanged")
      })
    )
  },
  {
    name: "modify of a missing entity is none and runs no change",
    run: withTenant((store, t) =>
      Effect.gen(function*() {
        let ran = false
        const r = yield* store.assignments.modify(t, "c", "a", (a) => {
          ran = true
          return Result.succeed(a)
        })
        yield* check(Option.isNone(r) && !ran, "none, change not run")
        const u = yield* store.users.modify(t, "u", (x) => Result.succeed(x))
        yield* check(Option.isNone(u), "users: none")
      })
    )
  },
  {
    name: "concurrent modifies of one entity lose no update",
    run: withTenant((store, t) =>
      Effect.gen(function*() {
        yield* store.configurations.insert(t, configuration("c"))
        yield* store.assignments.insert(t, "c", { ...assignment("a"), sourceId: "0" })
        const n = 40
        yield* Effect.forEach(
          Array.from({ length: n }, (_, i) => i),
          () => store.assignments.modify(t, "c", "a", (a) => Result.succeed({ ...a, sourceId: String(Number(a.sourceId) + 1) })),
          { concurrency: "unbounded", discard: true }
        )
        const got = yield* store.assignments.get(t, "c", "a")
        yield* checkEqual(Option.map(got, (a) => a.sourceId), Option.some(String(n)), "every increment applied")
      })
    )
  },
  {
    name: "filters and counts assignments by source, sourceId, type (with derived types) and groupId",
    run: withTenant((store, t) =>
      Effect.gen(function*() {
        yield* store.configurations.insert(t, configuration("c"))
        yield* store.assignments.insert(t, "c", assignment("a1", groupTarget("g1")))
        yield* store.assignments.insert(t, "c", assignment("a2", groupTarget("g1", "exclusionGroupAssignmentTarget")))
        yield* store.assignments.insert(t, "c", { ...assignment("a3"), source: "policySets", sourceId: "p1" })
        yield* store.assignments.insert(t, "c", assignment("a4", null))
        const ids = (f: Parameters<typeof store.assignments.list>[3]) =>
          Effect.map(store.assignments.list(t, "c", { limit: 100 }, f), (p) => p.items.map((a) => a.id))
        yield* checkEqual(yield* ids({ _tag: "SourceEq", value: "policySets" }), ["a3"], "source eq")
        yield* checkEqual(yield* ids({ _tag: "SourceIdEq", value: "p1" }), ["a3"], "sourceId eq")
        yield* checkEqual(
          yield* ids({ _tag: "TargetIsOf", type: "groupAssignmentTarget" }),
          ["a1", "a2"],
          "isof group includes exclusion groups"
        )
        yield* checkEqual(yield* ids({ _tag: "TargetIsOf", type: "exclusionGroupAssignmentTarget" }), ["a2"], "isof exclusion")
        yield* checkEqual(yield* ids({ _tag: "TargetGroupIdEq", value: "g1" }), ["a1", "a2"], "target/groupId eq")
        yield* checkEqual(
          yield* ids({
            _tag: "And",
            left: { _tag: "TargetGroupIdEq", value: "g1" },
            right: { _tag: "TargetIsOf", type: "exclusionGroupAssignmentTarget" }
          }),
          ["a2"],
          "and"
        )
        yield* checkEqual(
          yield* ids({ _tag: "Or", left: { _tag: "SourceEq", value: "policySets" }, right: { _tag: "TargetGroupIdEq", value: "g1" } }),
          ["a1", "a2", "a3"],
          "or"
        )
        yield* checkEqual(yield* store.assignments.count(t, "c"), 4, "count all")
        yield* checkEqual(yield* store.assignments.count(t, "c", { _tag: "SourceEq", value: "direct" }), 3, "count filtered")
        const paged = yield* store.assignments.list(t, "c", { limit: 1 }, { _tag: "TargetGroupIdEq", value: "g1" })
        yield* checkEqual([paged.items.map((a) => a.id), paged.next], [["a1"], "a1"], "filtered pages")
      })
    )
  },
  {
    name: "filters with OData's null: a target without groupId has a null one, and not keeps what eq does not",
    run: withTenant((store, t) =>
      Effect.gen(function*() {
        yield* store.configurations.insert(t, configuration("c"))
        yield* store.assignments.insert(t, "c", assignment("g1", groupTarget("g1")))
        yield* store.assignments.insert(t, "c", assignment("gx", groupTarget("g1", "exclusionGroupAssignmentTarget")))
        yield* store.assignments.insert(t, "c", assignment("gn", AssignmentTarget.empty("groupAssignmentTarget")))
        yield* store.assignments.insert(t, "c", assignment("lu", AssignmentTarget.empty("allLicensedUsersAssignmentTarget")))
        yield* store.assignments.insert(t, "c", assignment("ad"))
        yield* store.assignments.insert(t, "c", assignment("no", null))
        yield* store.assignments.insert(t, "c", { ...assignment("ps", groupTarget("g2")), source: "policySets", sourceId: "p1" })
        const ids = (f: AssignmentFilter) =>
          Effect.map(store.assignments.list(t, "c", { limit: 100 }, f), (p) => p.items.map((a) => a.id))
        const group = (value: string | null): AssignmentFilter => ({ _tag: "TargetGroupIdEq", value })
        const not = (operand: AssignmentFilter): AssignmentFilter => ({ _tag: "Not", operand })
        // OData reads target/groupId as null through a null target and a type that declares no groupId.
        yield* checkEqual(yield* ids(group(null)), ["ad", "gn", "lu", "no"], "target/groupId eq null")
        yield* checkEqual(yield* ids(not(group(null))), ["g1", "gx", "ps"], "not (target/groupId eq null)")
        // null eq 'g1' is false, so its negation is true: the targets without a groupId are kept.
        yield* checkEqual(yield* ids(not(group("g1"))), ["ad", "gn", "lu", "no", "ps"], "not (target/groupId eq 'g1')")
        yield* checkEqual(yield* ids(not({ _tag: "SourceIdEq", value: "p1" })), ["ad", "g1", "gn", "gx", "lu", "no"], "not (sourceId eq 'p1') keeps null sourceIds")
        yield* checkEqual(yield* ids(not({ _tag: "SourceIdEq", value: null })), ["ps"], "not (sourceId eq null)")
        // isof over no target is false, never unknown: its negation keeps the assignment without one.
        yield* checkEqual(
          yield* ids(not({ _tag: "TargetIsOf", type: "groupAssignmentTarget" })),
          ["ad", "lu", "no"],
          "not isof(target, group)"
        )
        yield* checkEqual(
          yield* ids(not({ _tag: "And", left: group("g1"), right: not({ _tag: "TargetIsOf", type: "exclusionGroupAssignmentTarget" }) })),
          ["ad", "gn", "gx", "lu", "no", "ps"],
          "nested not"
        )
        yield* checkEqual(yield* ids(not(not(group("g1")))), ["g1", "gx"], "not not")
        yield* checkEqual(
          yield* ids({ _tag: "Or", left: not({ _tag: "SourceEq", value: "direct" }), right: group(null) }),
          ["ad", "gn", "lu", "no", "ps"],
          "not within or"
        )
        yield* checkEqual(yield* store.assignments.count(t, "c", not(group("g1"))), 5, "count of not")
        yield* checkEqual(yield* store.assignments.count(t, "c", group(null)), 4, "count of eq null")
        const paged = yield* store.assignments.list(t, "c", { limit: 2 }, not(group("g1")))
        yield* checkEqual([paged.items.map((a) => a.id), paged.next], [["ad", "gn"], "gn"], "pages of not")
      })
    )
  },
  {
    name: "replace swaps the whole set of a configuration's assignments",
    run: withTenant((store, t) =>
      Effect.gen(function*() {
        yield* store.configurations.insert(t, configuration("c"))
        yield* store.configurations.insert(t, configuration("d"))
        yield* store.assignments.insert(t, "c", assignment("old"))
        yield* store.assignments.insert(t, "d", assignment("other"))
        yield* store.assignments.replace(t, "c", [assignment("n1"), assignment("n2")])
        const p = yield* store.assignments.list(t, "c", { limit: 10 })
        yield* checkEqual(p.items.map((a) => a.id), ["n1", "n2"], "replaced")
        yield* checkEqual((yield* store.assignments.list(t, "d", { limit: 10 })).items.map((a) => a.id), ["other"], "others kept")
        yield* store.assignments.replace(t, "c", [])
        yield* checkEqual(yield* store.assignments.count(t, "c"), 0, "emptied")
      })
    )
  },
  {
    name: "removing a configuration removes its assignments",
    run: withTenant((store, t) =>
      Effect.gen(function*() {
        yield* store.configurations.insert(t, configuration("c"))
        yield* store.assignments.insert(t, "c", assignment("a"))
        yield* check(yield* store.configurations.remove(t, "c"), "removed")
        yield* check(!(yield* store.configurations.remove(t, "c")), "second remove is false")
        yield* store.configurations.insert(t, configuration("c"))
        yield* checkEqual(yield* store.assignments.count(t, "c"), 0, "assignments gone with it")
      })
    )
  },
  {
    name: "concerning returns the assignments that can bear on a user in the given groups",
    run: withTenant((store, t) =>
      Effect.gen(function*() {
        yield* store.configurations.insert(t, configuration("c"))
        yield* store.configurations.insert(t, configuration("d"))
        yield* store.assignments.insert(t, "c", assignment("inc", groupTarget("g1")))
        yield* store.assignments.insert(t, "c", assignment("exc", groupTarget("g2", "exclusionGroupAssignmentTarget")))
        yield* store.assignments.insert(t, "c", assignment("other", groupTarget("g9")))
        yield* store.assignments.insert(t, "c", assignment("dev"))
        yield* store.assignments.insert(t, "d", assignment("all", AssignmentTarget.empty("allLicensedUsersAssignmentTarget")))
        const all = yield* store.assignments.concerning(t, ["g1", "g2"])
        yield* checkEqual(
          all.map((r) => `${r.configurationId}/${r.assignment.id}`).sort(),
          ["c/exc", "c/inc", "d/all"],
          "across configurations"
        )
        const onlyC = yield* store.assignments.concerning(t, ["g1", "g2"], "c")
        yield* checkEqual(onlyC.map((r) => r.assignment.id).sort(), ["exc", "inc"], "one configuration")
        const none = yield* store.assignments.concerning(t, [], "c")
        yield* checkEqual(none.length, 0, "no groups, no all-users target")
      })
    )
  },
  {
    name: "stores users, groups and memberships, nested groups included",
    run: withTenant((store, t) =>
      Effect.gen(function*() {
        yield* nestedGroups(store, t)
        yield* refuses(
          "groups.addMember of a member already in the group",
          new MemberAlreadyPresent({ groupId: "g1", memberId: "u1" }),
          store.groups.addMember(t, "g1", { kind: "user", id: "u1" })
        )
        yield* checkEqual(yield* store.groups.groupsOf(t, ["u1"]), [{ groupId: "g1", memberId: "u1" }], "direct groups of u1")
        yield* checkEqual(yield* store.groups.groupsOf(t, ["g1"]), [{ groupId: "g2", memberId: "g1" }], "groups of g1")
        const members = yield* store.groups.members(t, "g1", { limit: 10 })
        yield* checkEqual(members.items, [{ kind: "user", id: "u1" }], "members")
        yield* check(yield* store.groups.removeMember(t, "g1", "u1"), "member removed")
        yield* check(!(yield* store.groups.removeMember(t, "g1", "u1")), "second removal false")
        yield* checkEqual(yield* store.groups.groupsOf(t, ["u1"]), [], "no groups left")
      })
    )
  },
  {
    name: "removing a user or a group removes their memberships",
    run: withTenant((store, t) =>
      Effect.gen(function*() {
        yield* nestedGroups(store, t)
        yield* check(yield* store.users.remove(t, "u1"), "user removed")
        yield* checkEqual(yield* store.groups.groupsOf(t, ["u1"]), [], "user's memberships gone")
        yield* check(yield* store.groups.remove(t, "g1"), "group removed")
        yield* checkEqual(yield* store.groups.groupsOf(t, ["g1"]), [], "group's memberships gone")
        yield* checkEqual((yield* store.groups.members(t, "g2", { limit: 10 })).items, [], "g2 lost its member g1")
      })
    )
  },
  {
    name: "refuses an assignment under a configuration that does not exist (insert and replace), as EntityNotFound of it, writing nothing",
    run: withTenant((store, t) =>
      Effect.gen(function*() {
        const missing = notFound("deviceEnrollmentConfiguration", "c")
        yield* refuses("assignments.insert", missing, store.assignments.insert(t, "c", assignment("a1")))
        yield* refuses("assignments.replace", missing, store.assignments.replace(t, "c", [assignment("a2")]))
        yield* refuses("assignments.replace with no assignments", missing, store.assignments.replace(t, "c", []))
        yield* checkEqual(yield* store.assignments.count(t, "c"), 0, "nothing was written")
        // nothing of the refused writes waits for a configuration made with that id later
        yield* store.configurations.insert(t, configuration("c"))
        yield* checkEqual(yield* store.assignments.count(t, "c"), 0, "a configuration made later has no assignments")
        yield* store.assignments.insert(t, "c", assignment("a1"))
        // nor once the configuration is removed
        yield* check(yield* store.configurations.remove(t, "c"), "removed")
        yield* refuses("assignments.insert after the removal", missing, store.assignments.insert(t, "c", assignment("a3")))
        yield* refuses("assignments.replace after the removal", missing, store.assignments.replace(t, "c", [assignment("a4")]))
        yield* store.configurations.insert(t, configuration("c"))
        yield* checkEqual(yield* store.assignments.count(t, "c"), 0, "the configuration made again has none")
        // another tenant's configuration of that id is no parent
        const other = yield* tenantId
        yield* refuses("assignments.insert under another tenant's configuration", missing, store.assignments.insert(other, "c", assignment("a1")))
      })
    )
  },
  {
    name: "refuses a membership in a group that does not exist, or of a member that is not there as its kind, writing nothing",
    run: withTenant((store, t) =>
      Effect.gen(function*() {
        yield* store.users.insert(t, user("u1"))
        yield* store.groups.insert(t, group("g1"))
        /** The membership of `kind` `id` in `groupId` (`what` it is), refused as `missing` (of a `group` or a `directoryObject`). */
        const refused = (what: string, groupId: string, kind: "user" | "group", id: string, missing: EntityNotFound) =>
          refuses(`groups.addMember of ${what}`, missing, store.groups.addMember(t, groupId, { kind, id }))
        yield* refused("a group that does not exist", "gx", "user", "u1", notFound("group", "gx"))
        yield* refused("a missing user to a missing group (the group is named first)", "gx", "user", "ux", notFound("group", "gx"))
        yield* refused("a user that does not exist", "g1", "user", "ux", notFound("directoryObject", "ux"))
        yield* refused("a group member that does not exist", "g1", "group", "gy", notFound("directoryObject", "gy"))
        yield* refused("a user named as a group", "g1", "group", "u1", notFound("directoryObject", "u1"))
        yield* store.groups.insert(t, group("g2"))
        yield* refused("a group named as a user", "g1", "user", "g2", notFound("directoryObject", "g2"))
        yield* checkEqual((yield* store.groups.members(t, "g1", { limit: 10 })).items, [], "g1 has no members")
        yield* checkEqual(yield* store.groups.groupsOf(t, ["u1", "g2", "ux", "gy"]), [], "nobody is in a group")
        // nothing waits for objects made with those ids later
        yield* store.groups.insert(t, group("gx"))
        yield* store.users.insert(t, user("ux"))
        yield* checkEqual((yield* store.groups.members(t, "gx", { limit: 10 })).items, [], "a group made later has no members")
        yield* checkEqual(yield* store.groups.groupsOf(t, ["ux"]), [], "a user made later is in no group")
        // and once a member is removed, it cannot be added
        yield* store.groups.addMember(t, "g1", { kind: "user", id: "ux" })
        yield* check(yield* store.users.remove(t, "ux"), "ux removed")
        yield* refused("a removed user", "g1", "user", "ux", notFound("directoryObject", "ux"))
        yield* check(yield* store.groups.remove(t, "gx"), "gx removed")
        yield* refused("a removed group", "gx", "user", "u1", notFound("group", "gx"))
      })
    )
  },
  {
    name: "leaves no child behind when its parent is removed at the same time as the child is inserted: a parent made again starts empty",
    run: withTenant((store, t) =>
      Effect.gen(function*() {
        // Each round starts a removal of a parent and an insert of its child together, in both
        // orders (a store that serves calls at once, such as PostgreSQL's pool, races them).
        const rounds = Array.from({ length: 12 }, (_, i) => i)
        const together = <A, B>(i: number, remove: Effect.Effect<A, unknown>, insert: Effect.Effect<B, unknown>) =>
          Effect.map(
            Effect.all(i % 2 === 0 ? [Effect.exit(remove), Effect.exit(insert)] : [Effect.exit(insert), Effect.exit(remove)], {
              concurrency: "unbounded"
            }),
            (exits) => i % 2 === 0 ? exits : [exits[1]!, exits[0]!]
          )
        const config = (i: number) => `c${i}`
        for (const id of rounds.map(config)) yield* store.configurations.insert(t, configuration(id))
        yield* store.users.insert(t, user("u"))
        for (const i of rounds) {
          yield* store.groups.insert(t, group(`g${i}`))
          yield* store.users.insert(t, user(`u${i}`))
        }
        yield* store.groups.insert(t, group("g"))
        const outcomes = yield* Effect.forEach(rounds, (i) =>
          Effect.all([
            together(i, store.configurations.remove(t, config(i)), store.assignments.insert(t, config(i), assignment("a"))),
            together(i, store.groups.remove(t, `g${i}`), store.groups.addMember(t, `g${i}`, { kind: "user", id: "u" })),
            together(i, store.users.remove(t, `u${i}`), store.groups.addMember(t, "g", { kind: "user", id: `u${i}` }))
          ], { concurrency: "unbounded" }), { concurrency: "unbounded" })
        for (const [i, [assignmentRound, groupRound, userRound]] of outcomes.entries()) {
          const expect = (round: ReadonlyArray<Exit.Exit<unknown, unknown>>, missing: EntityNotFound, what: string) =>
            Effect.gen(function*() {
              yield* checkEqual(outcome(round[0]!), "ok", `${what} ${i}: the removal`)
              const inserted = outcome(round[1]!)
              yield* check(
                inserted === "ok" || inserted === named(missing),
                `${what} ${i}: expected the insert to succeed or to fail with ${named(missing)}, ` +
                  `it ${inserted === "ok" ? "succeeded" : `failed with ${inserted}`}`
              )
            })
          yield* expect(assignmentRound!, notFound("deviceEnrollmentConfiguration", config(i)), "configuration")
          yield* expect(groupRound!, notFound("group", `g${i}`), "group")
          yield* expect(userRound!, notFound("directoryObject", `u${i}`), "user")
        }
        // Made again with the same ids, every parent starts with no child.
        for (const i of rounds) {
          yield* store.configurations.insert(t, configuration(config(i)))
          yield* checkEqual(yield* store.assignments.count(t, config(i)), 0, `configuration ${i} made again`)
          yield* store.groups.insert(t, group(`g${i}`))
          yield* checkEqual((yield* store.groups.members(t, `g${i}`, { limit: 10 })).items, [], `group ${i} made again`)
          yield* store.users.insert(t, user(`u${i}`))
          yield* checkEqual(yield* store.groups.groupsOf(t, [`u${i}`]), [], `user ${i} made again`)
        }
        yield* checkEqual((yield* store.groups.members(t, "g", { limit: 100 })).items, [], "g holds none of the removed users")
      })
    )
  },
  {
    name: "leaves no assignment behind when the assign action's replace runs at the same time as its configuration's removal",
    run: withTenant((store, t) =>
      Effect.gen(function*() {
        const rounds = Array.from({ length: 12 }, (_, i) => `c${i}`)
        for (const id of rounds) {
          yield* store.configurations.insert(t, configuration(id))
          yield* store.assignments.insert(t, id, assignment("old"))
        }
        const outcomes = yield* Effect.forEach(rounds, (id, i) => {
          const remove = Effect.exit(store.configurations.remove(t, id))
          const replace = Effect.exit(store.assignments.replace(t, id, [assignment("n1"), assignment("n2")]))
          return Effect.all(i % 2 === 0 ? [remove, replace] : [replace, remove], { concurrency: "unbounded" })
        }, { concurrency: "unbounded" })
        for (const [i, id] of rounds.entries()) {
          const results = outcomes[i]!.map(outcome)
          const missing = named(notFound("deviceEnrollmentConfiguration", id))
          yield* check(
            results.includes("ok") && results.every((r) => r === "ok" || r === missing),
            `${id}: expected the removal to succeed and the replace to succeed or to fail with ${missing}, got ${JSON.stringify(results)}`
          )
          yield* store.configurations.insert(t, configuration(id))
          yield* checkEqual(yield* store.assignments.count(t, id), 0, `${id} made again`)
        }
      })
    )
  },
  {
    name: "remove with a check removes only what passes it, on the value stored at the removal (a change since the value was read refuses it)",
    run: withTenant((store, t) =>
      Effect.gen(function*() {
        yield* nestedGroups(store, t) // u1 in g1, g1 in g2
        yield* store.configurations.insert(t, configuration("c"))
        yield* store.assignments.insert(t, "c", assignment("a"))
        // Read, then changed by another writer, then removed with the check of what was read
        // (an If-Match with the ETag of the value read): refused, and nothing removed.
        const a0 = Option.getOrThrow(yield* store.assignments.get(t, "c", "a"))
        yield* store.assignments.modify(t, "c", "a", (a) => Result.succeed({ ...a, sourceId: "changed" }))
        yield* refuses(
          "assignments.remove with a stale check",
          preconditionFailed(Assignment.typeName, "a"),
          store.assignments.remove(t, "c", "a", ifMatch(Assignment.typeName, a0))
        )
        yield* checkEqual(Option.map(yield* store.assignments.get(t, "c", "a"), (a) => a.sourceId), Option.some("changed"), "assignment kept")

        const c0 = Option.getOrThrow(yield* store.configurations.get(t, "c"))
        yield* store.configurations.modify(t, "c", (c) => Result.succeed({ ...c, priority: 7 }))
        yield* refuses(
          "configurations.remove with a stale check",
          preconditionFailed("deviceEnrollmentConfiguration", "c"),
          store.configurations.remove(t, "c", ifMatch("deviceEnrollmentConfiguration", c0))
        )
        yield* check(Option.isSome(yield* store.configurations.get(t, "c")), "configuration kept")
        yield* checkEqual(yield* store.assignments.count(t, "c"), 1, "and its assignments")

        const u0 = Option.getOrThrow(yield* store.users.get(t, "u1"))
        yield* store.users.modify(t, "u1", (u) => Result.succeed({ ...u, displayName: "changed" }))
        yield* refuses("users.remove with a stale check", preconditionFailed("user", "u1"), store.users.remove(t, "u1", ifMatch("user", u0)))
        yield* check(Option.isSome(yield* store.users.get(t, "u1")), "user kept")
        yield* checkEqual(yield* store.groups.groupsOf(t, ["u1"]), [{ groupId: "g1", memberId: "u1" }], "and its memberships")

        // A group has no modify: a check that refuses stands for a changed one.
        const staleG = yield* failure(
          "groups.remove with a refusing check",
          "the check's refusal",
          store.groups.remove(t, "g1", () => Result.fail("refused" as const))
        )
        yield* checkEqual(staleG, "refused", "group: the check's refusal")
        yield* check(Option.isSome(yield* store.groups.get(t, "g1")), "group kept")
        yield* checkEqual(yield* store.groups.groupsOf(t, ["g1"]), [{ groupId: "g2", memberId: "g1" }], "and its memberships both ways")
        yield* checkEqual((yield* store.groups.members(t, "g1", { limit: 10 })).items.map((m) => m.id), ["u1"], "its members")

        // A check that throws is a defect (a bug of the caller), and removes nothing.
        const thrown = yield* Effect.exit(store.users.remove(t, "u1", () => {
          throw new Error("a bug")
        }))
        yield* check(Exit.isFailure(thrown) && Cause.hasDies(thrown.cause), `a throwing check dies, got ${String(thrown)}`)
        yield* check(Option.isSome(yield* store.users.get(t, "u1")), "user kept after a throwing check")

        // No check runs when there is nothing to remove.
        let ran = false
        const never = () => {
          ran = true
          return Result.fail("ran" as const)
        }
        yield* check(!(yield* store.users.remove(t, "nobody", never)), "a missing user: false")
        yield* check(!(yield* store.assignments.remove(t, "c", "nothing", never)), "a missing assignment: false")
        yield* check(!ran, "no check ran")

        // The check of the value as it is lets each go, with what goes with it.
        const now = <A extends { readonly id: string }>(entity: string, o: Option.Option<A>) => ifMatch(entity, Option.getOrThrow(o))
        yield* check(yield* store.assignments.remove(t, "c", "a", now(Assignment.typeName, yield* store.assignments.get(t, "c", "a"))), "assignment removed")
        yield* store.assignments.insert(t, "c", assignment("b"))
        yield* check(yield* store.configurations.remove(t, "c", now("deviceEnrollmentConfiguration", yield* store.configurations.get(t, "c"))), "configuration removed")
        yield* store.configurations.insert(t, configuration("c"))
        yield* checkEqual(yield* store.assignments.count(t, "c"), 0, "its assignments went with it")
        yield* check(yield* store.users.remove(t, "u1", now("user", yield* store.users.get(t, "u1"))), "user removed")
        yield* checkEqual(yield* store.groups.groupsOf(t, ["u1"]), [], "its memberships went with it")
        yield* check(yield* store.groups.remove(t, "g1", () => Result.void), "group removed")
        yield* checkEqual(yield* store.groups.groupsOf(t, ["g1"]), [], "its memberships went with it")
      })
    )
  },
  {
    name: "replace with a check replaces only when the configuration passes it, on the value stored at the replacement (since 0.16.0)",
    run: withTenant((store, t) =>
      Effect.gen(function*() {
        const entity = "deviceEnrollmentConfiguration"
        yield* store.configurations.insert(t, configuration("c"))
        yield* store.assignments.insert(t, "c", assignment("a"))
        const assigned = Effect.map(store.assignments.list(t, "c", { limit: 10 }), (p) => p.items.map((a) => a.id))
        // Read, then changed by another writer, then replaced with the check of what was read (the
        // `assign` action's If-Match with the ETag of the configuration read): refused, nothing written.
        const c0 = Option.getOrThrow(yield* store.configurations.get(t, "c"))
        yield* store.configurations.modify(t, "c", (c) => Result.succeed({ ...c, priority: 7 }))
        yield* refuses(
          "assignments.replace with a stale check",
          preconditionFailed(entity, "c"),
          store.assignments.replace(t, "c", [assignment("n1"), assignment("n2")], ifMatch(entity, c0))
        )
        yield* checkEqual(yield* assigned, ["a"], "assignments kept")
        yield* refuses(
          "assignments.replace of none with a stale check",
          preconditionFailed(entity, "c"),
          store.assignments.replace(t, "c", [], ifMatch(entity, c0))
        )
        yield* checkEqual(yield* assigned, ["a"], "assignments kept by a refused emptying")

        // The check's own refusal is the replacement's failure.
        const refusal = yield* failure(
          "assignments.replace with a refusing check",
          "the check's refusal",
          store.assignments.replace(t, "c", [assignment("n1")], () => Result.fail("refused" as const))
        )
        yield* checkEqual(refusal, "refused", "the check's refusal")
        yield* checkEqual(yield* assigned, ["a"], "assignments kept after a refusing check")

        // A check that throws is a defect, and replaces nothing.
        const thrown = yield* Effect.exit(store.assignments.replace(t, "c", [assignment("n1")], () => {
          throw new Error("a bug")
        }))
        yield* check(Exit.isFailure(thrown) && Cause.hasDies(thrown.cause), `a throwing check dies, got ${String(thrown)}`)
        yield* checkEqual(yield* assigned, ["a"], "assignments kept after a throwing check")

        // A missing configuration is refused as without a check, and the check is not run.
        let ran = false
        const never = () => {
          ran = true
          return Result.fail("ran" as const)
        }
        yield* refuses("assignments.replace under a missing configuration with a check", notFound(entity, "nope"), store.assignments.replace(t, "nope", [assignment("x")], never))
        yield* check(!ran, "no check ran")

        // The check of the configuration as it is lets the replacement go, and leaves the configuration as it was.
        const c1 = Option.getOrThrow(yield* store.configurations.get(t, "c"))
        yield* store.assignments.replace(t, "c", [assignment("n1"), assignment("n2")], ifMatch(entity, c1))
        yield* checkEqual(yield* assigned, ["n1", "n2"], "replaced")
        yield* checkEqual(Option.getOrNull(yield* store.configurations.get(t, "c")), c1, "the configuration unchanged")
        yield* store.assignments.replace(t, "c", [], ifMatch(entity, c1))
        yield* checkEqual(yield* assigned, [], "emptied")
      })
    )
  },
  {
    name: "a conditional removal and a change of one entity started together serialise: the check sees the change or the change finds nothing",
    run: withTenant((store, t) =>
      Effect.gen(function*() {
        yield* store.configurations.insert(t, configuration("c"))
        const ids = Array.from({ length: 12 }, (_, i) => `a${i}`)
        for (const id of ids) yield* store.assignments.insert(t, "c", assignment(id))
        // Each removal carries the check of the value before the change (a PATCH and a DELETE
        // with the pre-PATCH ETag sent at the same time): exactly one of the two may win.
        const outcomes = yield* Effect.forEach(ids, (id, i) => {
          const before = assignment(id)
          const change = Effect.exit(store.assignments.modify(t, "c", id, (a) => Result.succeed({ ...a, sourceId: "changed" })))
          const remove = Effect.exit(store.assignments.remove(t, "c", id, ifMatch(Assignment.typeName, before)))
          return i % 2 === 0
            ? Effect.all([change, remove], { concurrency: "unbounded" })
            : Effect.map(Effect.all([remove, change], { concurrency: "unbounded" }), ([r, c]) => [c, r] as const)
        }, { concurrency: "unbounded" })
        for (const [i, [changed, removed]] of outcomes.entries()) {
          const id = ids[i]!
          const stored = yield* store.assignments.get(t, "c", id)
          if (Option.isSome(stored)) {
            yield* check(Exit.isSuccess(changed) && Option.isSome(changed.value), `${id}: kept, so the change landed`)
            yield* checkEqual(outcome(removed), named(preconditionFailed(Assignment.typeName, id)), `${id}: and the removal was refused`)
            yield* checkEqual(stored.value.sourceId, "changed", `${id}: the change is stored`)
          } else {
            yield* check(Exit.isSuccess(removed) && removed.value, `${id}: gone, so the removal passed`)
            yield* check(Exit.isSuccess(changed) && Option.isNone(changed.value), `${id}: and the change found nothing`)
          }
        }
      })
    )
  },
  {
    name: "an invitation is stored with its guest user in one write",
    run: withTenant((store, t) =>
      Effect.gen(function*() {
        const { invitation, user: guest } = invite("i1", "u1", "x@example.com", "X")
        yield* store.invitations.insert(t, invitation, guest)
        yield* checkEqual(Option.getOrNull(yield* store.invitations.get(t, "i1")), invitation, "invitation")
        yield* checkEqual(Option.getOrNull(yield* store.users.get(t, "u1")), guest, "its user")
        const clash = invite("i2", "u1", "y@example.com")
        yield* refuses("invitations.insert of a guest with a user's id", alreadyExists("user", "u1"), store.invitations.insert(t, clash.invitation, clash.user))
        yield* check(Option.isNone(yield* store.invitations.get(t, "i2")), "and the invitation was not half-written")
        yield* checkEqual((yield* store.invitations.list(t, { limit: 10 })).items.map((i) => i.id), ["i1"], "list")
      })
    )
  },
  {
    name: "an invitation is stored without a user when none is given (its guest was deleted)",
    run: withTenant((store, t) =>
      Effect.gen(function*() {
        const { invitation } = invite("i1", "u1", "x@example.com")
        yield* store.invitations.insert(t, invitation)
        yield* checkEqual(Option.getOrNull(yield* store.invitations.get(t, "i1")), invitation, "invitation")
        yield* check(Option.isNone(yield* store.users.get(t, "u1")), "no user was written")
        yield* checkEqual(Option.getOrNull(yield* store.invitations.invitedUserOf(t, "i1")), { userId: "u1", exists: false }, "its user is missing")
        yield* refuses("invitations.insert of a taken id", alreadyExists("invitation", "i1"), store.invitations.insert(t, invitation))
        const { user: guest } = invite("i1", "u2", "y@example.com")
        yield* refuses("invitations.insert of a taken id with a guest", alreadyExists("invitation", "i1"), store.invitations.insert(t, invitation, guest))
        yield* check(Option.isNone(yield* store.users.get(t, "u2")), "and its guest was not written")
      })
    )
  },
  {
    name: "refuses a user whose id a group has, and a group whose id a user has, as a directoryObject, writing nothing",
    run: withTenant((store, t) =>
      Effect.gen(function*() {
        yield* store.groups.insert(t, group("x1"))
        yield* store.users.insert(t, user("x2"))
        yield* refuses("users.insert of a group's id", alreadyExists("directoryObject", "x1"), store.users.insert(t, user("x1")))
        yield* refuses("groups.insert of a user's id", alreadyExists("directoryObject", "x2"), store.groups.insert(t, group("x2")))
        yield* check(Option.isNone(yield* store.users.get(t, "x1")), "no user x1 was written")
        yield* check(Option.isNone(yield* store.groups.get(t, "x2")), "no group x2 was written")
        yield* checkEqual((yield* store.users.list(t, { limit: 10 })).items.map((u) => u.id), ["x2"], "users")
        yield* checkEqual((yield* store.groups.list(t, { limit: 10 })).items.map((g) => g.id), ["x1"], "groups")
        // the same kind is refused as before, naming its kind
        yield* refuses("users.insert of a second user x2", alreadyExists("user", "x2"), store.users.insert(t, user("x2")))
        yield* refuses("groups.insert of a second group x1", alreadyExists("group", "x1"), store.groups.insert(t, group("x1")))
        // the id space is the tenant's: another tenant may take the ids as the other kind
        const other = yield* tenantId
        yield* store.users.insert(other, user("x1"))
        yield* store.groups.insert(other, group("x2"))
        // and an id is free again once its object is removed
        yield* check(yield* store.groups.remove(t, "x1"), "group x1 removed")
        yield* store.users.insert(t, user("x1"))
        yield* checkEqual(Option.map(yield* store.users.get(t, "x1"), (u) => u.id), Option.some("x1"), "user x1 after the group went")
      })
    )
  },
  {
    name: "lets exactly one of a user and a group inserted with one id at the same time in",
    run: withTenant((store, t) =>
      Effect.gen(function*() {
        // All started together: a store that batches writes (SQLite's group commit) gets both in one batch.
        const ids = Array.from({ length: 20 }, (_, i) => `same${i}`)
        const outcomes = yield* Effect.forEach(ids, (id, i) => {
          const asUser = Effect.exit(Effect.asVoid(store.users.insert(t, user(id))))
          const asGroup = Effect.exit(Effect.asVoid(store.groups.insert(t, group(id))))
          return Effect.all(i % 2 === 0 ? [asUser, asGroup] : [asGroup, asUser], { concurrency: "unbounded" })
        }, { concurrency: "unbounded" })
        for (const [i, pair] of outcomes.entries()) {
          yield* checkEqual(pair.filter(Exit.isSuccess).length, 1, `${ids[i]}: one of the two inserted`)
          const refused = pair.find(Exit.isFailure)
          yield* checkEqual(
            refused === undefined ? "none refused" : outcome(refused),
            named(alreadyExists("directoryObject", ids[i]!)),
            `${ids[i]}: the other refused`
          )
        }
        const users = (yield* store.users.list(t, { limit: 100 })).items.map((u) => u.id)
        const groups = (yield* store.groups.list(t, { limit: 100 })).items.map((g) => g.id)
        yield* checkEqual([...users, ...groups].sort(), [...ids].sort(), "each id stored once, as one kind")
      })
    )
  },
  {
    name: "refuses an invitation whose guest user's id a group has, as a directoryObject, and writes neither",
    run: withTenant((store, t) =>
      Effect.gen(function*() {
        yield* store.groups.insert(t, group("g1"))
        const { invitation, user: guest } = invite("i1", "g1", "x@example.com")
        yield* refuses(
          "invitations.insert of a guest with a group's id",
          alreadyExists("directoryObject", "g1"),
          store.invitations.insert(t, invitation, guest)
        )
        yield* check(Option.isNone(yield* store.invitations.get(t, "i1")), "the invitation was not written")
        yield* checkEqual((yield* store.invitations.list(t, { limit: 10 })).items, [], "no invitations")
        yield* check(Option.isNone(yield* store.users.get(t, "g1")), "no user g1 was written")
        yield* checkEqual(Option.map(yield* store.groups.get(t, "g1"), (g) => g.id), Option.some("g1"), "the group is kept")
        // nothing of the refused write holds the invitation's id: with another guest it is stored
        const again = invite("i1", "u1", "x@example.com")
        yield* store.invitations.insert(t, again.invitation, again.user)
        yield* checkEqual(Option.getOrNull(yield* store.invitations.get(t, "i1")), again.invitation, "the invitation, with a free id for its guest")
        yield* checkEqual(Option.getOrNull(yield* store.users.get(t, "u1")), again.user, "its guest")
      })
    )
  },
  {
    name: "transitiveGroupsOf, where offered, answers what walking groupsOf answers (nested, cyclic and removed groups), and memberOf pages the same",
    run: withTenant((store, t) =>
      Effect.gen(function*() {
        const transitiveGroupsOf = store.groups.transitiveGroupsOf
        if (transitiveGroupsOf === undefined) return notOffered("groups.transitiveGroupsOf")
        for (const id of ["u1", "u2"]) yield* store.users.insert(t, user(id))
        for (const id of ["g1", "g2", "g3", "g4", "g5", "g6", "g7", "gx"]) yield* store.groups.insert(t, group(id))
        const add = (groupId: string, kind: "user" | "group", id: string) => store.groups.addMember(t, groupId, { kind, id })
        // u1 in g1 and g5; g1 in g2, g2 in g3, g3 in g1 (a cycle); g2 in g4; g4 in g4 (itself)
        yield* add("g1", "user", "u1")
        yield* add("g5", "user", "u1")
        yield* add("g2", "group", "g1")
        yield* add("g3", "group", "g2")
        yield* add("g1", "group", "g3")
        yield* add("g4", "group", "g2")
        yield* add("g4", "group", "g4")
        // u1 in gx, and gx in g6, and gx removed: g6 is not reached through it (a membership in
        // a group that does not exist, which a store written before core 0.6.0 may hold, is not
        // made through the port any more: the store refuses it)
        yield* add("gx", "user", "u1")
        yield* add("g6", "group", "gx")
        yield* store.groups.remove(t, "gx")
        // g5 in g7, and g7 removed: its memberships go with it
        yield* add("g7", "group", "g5")
        yield* store.groups.remove(t, "g7")
        // the same ids in another tenant must not show
        const other = yield* tenantId
        yield* store.groups.insert(other, group("g9"))
        yield* store.users.insert(other, user("u1"))
        yield* store.groups.addMember(other, "g9", { kind: "user", id: "u1" })

        /** The reference: groupsOf one level at a time, as DirectoryService walks without it. */
        const walk = (memberId: string) =>
          Effect.gen(function*() {
            const seen = new Set<string>()
            let frontier: ReadonlyArray<string> = [memberId]
            while (frontier.length > 0) {
              const next: Array<string> = []
              for (const m of yield* store.groups.groupsOf(t, frontier)) {
                if (m.groupId !== memberId && !seen.has(m.groupId)) {
                  seen.add(m.groupId)
                  next.push(m.groupId)
                }
              }
              frontier = next
            }
            return [...seen].sort()
          })
        const expected: Record<string, ReadonlyArray<string>> = {
          u1: ["g1", "g2", "g3", "g4", "g5"],
          u2: [],
          g1: ["g2", "g3", "g4"],
          g2: ["g1", "g3", "g4"],
          g4: [],
          g5: [],
          gx: [],
          nobody: []
        }
        for (const [id, groups] of Object.entries(expected)) {
          const answer = yield* transitiveGroupsOf(t, id)
          yield* checkEqual(answer.length, new Set(answer).size, `${id}: each group once`)
          yield* checkEqual([...answer].sort(), yield* walk(id), `${id}: as the walk`)
          yield* checkEqual([...answer].sort(), groups, `${id}: the groups`)
        }
        yield* checkEqual(yield* transitiveGroupsOf(other, "u1"), ["g9"], "the other tenant's")

        // DirectoryService answers the same pages with it as without it
        const walked: Store["Service"] = { ...store, groups: { ...store.groups, transitiveGroupsOf: undefined } }
        const pages = (s: Store["Service"], kind: "user" | "group", id: string) =>
          Effect.gen(function*() {
            const directory = yield* DirectoryService.DirectoryService
            const groupsOf = yield* directory.memberOf(t, { kind, id }, true)
            const out: Array<unknown> = []
            let after: string | undefined
            do {
              const page = yield* groupsOf({ after, limit: 2 })
              out.push([page.items.map((g) => g.id), page.next])
              after = page.next
            } while (after !== undefined)
            return out
          }).pipe(Effect.provide(DirectoryService.DirectoryService.layer.pipe(Layer.provide(Layer.succeed(Store, s)))))
        for (const [kind, id] of [["user", "u1"], ["group", "g1"], ["group", "g4"], ["user", "u2"]] as const) {
          yield* checkEqual(yield* pages(store, kind, id), yield* pages(walked, kind, id), `memberOf ${kind} ${id}: the same pages`)
        }
      })
    )
  },
  {
    name: "targetingOf reads a user's transitive groups (cycles and missing groups too) and the assignments concerning them",
    run: withTenant((store, t) =>
      Effect.gen(function*() {
        yield* nestedGroups(store, t) // u1 in g1, g1 in g2
        yield* store.groups.insert(t, group("g3"))
        yield* store.groups.addMember(t, "g3", { kind: "group", id: "g2" })
        yield* store.groups.addMember(t, "g1", { kind: "group", id: "g3" }) // a cycle g1 → g2 → g3 → g1
        yield* store.groups.insert(t, group("gone"))
        yield* store.groups.addMember(t, "gone", { kind: "user", id: "u1" })
        yield* store.groups.remove(t, "gone")
        yield* store.configurations.insert(t, configuration("c"))
        yield* store.configurations.insert(t, configuration("d"))
        yield* store.assignments.insert(t, "c", assignment("inc", groupTarget("g3")))
        yield* store.assignments.insert(t, "c", assignment("other", groupTarget("g9")))
        yield* store.assignments.insert(t, "d", assignment("all", AssignmentTarget.empty("allLicensedUsersAssignmentTarget")))
        const all = yield* store.targetingOf(t, "u1")
        yield* checkEqual([...all.groups].sort(), ["g1", "g2", "g3"], "transitive groups, each once")
        yield* checkEqual(
          all.assignments.map((r) => `${r.configurationId}/${r.assignment.id}`).sort(),
          ["c/inc", "d/all"],
          "concerning assignments across configurations"
        )
        const one = yield* store.targetingOf(t, "u1", "c")
        yield* checkEqual(one.assignments.map((r) => r.assignment.id), ["inc"], "one configuration")
        const nobody = yield* store.targetingOf(t, "nobody", "d")
        yield* checkEqual([nobody.groups, nobody.assignments.map((r) => r.assignment.id)], [[], ["all"]], "a user in no group")
      })
    )
  },
  {
    name: "invitedUserOf finds an invitation's user and says whether it still exists",
    run: withTenant((store, t) =>
      Effect.gen(function*() {
        const { invitation, user: guest } = invite("i1", "u1", "x@example.com")
        yield* store.invitations.insert(t, invitation, guest)
        yield* checkEqual(Option.getOrNull(yield* store.invitations.invitedUserOf(t, "i1")), { userId: "u1", exists: true }, "found")
        yield* store.users.remove(t, "u1")
        yield* checkEqual(Option.getOrNull(yield* store.invitations.invitedUserOf(t, "i1")), { userId: "u1", exists: false }, "user gone")
        yield* check(Option.isNone(yield* store.invitations.invitedUserOf(t, "nope")), "no invitation")
      })
    )
  },
  {
    name: "keeps every tenant's objects invisible to every other tenant",
    run: Effect.gen(function*() {
      const store = yield* Store
      const a = yield* tenantId
      const b = yield* tenantId
      yield* store.configurations.insert(a, configuration("c"))
      yield* store.assignments.insert(a, "c", assignment("x", groupTarget("g")))
      yield* store.assignments.insert(a, "c", assignment("y", AssignmentTarget.empty("allLicensedUsersAssignmentTarget")))
      yield* store.users.insert(a, user("u"))
      yield* store.groups.insert(a, group("g"))
      yield* store.groups.addMember(a, "g", { kind: "user", id: "u" })
      const { invitation, user: guest } = invite("i", "gu", "x@example.com")
      yield* store.invitations.insert(a, invitation, guest)
      yield* check(Option.isNone(yield* store.configurations.get(b, "c")), "configurations.get")
      yield* check((yield* store.configurations.list(b, { limit: 10 })).items.length === 0, "configurations.list")
      yield* check((yield* store.configurations.getMany(b, ["c"])).length === 0, "configurations.getMany")
      yield* check(Option.isNone(yield* store.configurations.modify(b, "c", (c) => Result.succeed(c))), "configurations.modify")
      yield* check(Option.isNone(yield* store.assignments.get(b, "c", "x")), "assignments.get")
      yield* check((yield* store.assignments.list(b, "c", { limit: 10 })).items.length === 0, "assignments.list")
      yield* check((yield* store.assignments.count(b, "c")) === 0, "assignments.count")
      yield* check(Option.isNone(yield* store.assignments.modify(b, "c", "x", (x) => Result.succeed(x))), "assignments.modify")
      yield* check((yield* store.assignments.concerning(b, ["g"])).length === 0, "assignments.concerning")
      yield* check((yield* store.assignments.concerning(b, ["g"], "c")).length === 0, "assignments.concerning one")
      yield* check(Option.isNone(yield* store.users.get(b, "u")), "users.get")
      yield* check((yield* store.users.list(b, { limit: 10 })).items.length === 0, "users.list")
      yield* check(Option.isNone(yield* store.users.modify(b, "u", (x) => Result.succeed(x))), "users.modify")
      yield* check(Option.isNone(yield* store.groups.get(b, "g")), "groups.get")
      yield* check((yield* store.groups.list(b, { limit: 10 })).items.length === 0, "groups.list")
      yield* check((yield* store.groups.members(b, "g", { limit: 10 })).items.length === 0, "groups.members")
      yield* check((yield* store.groups.groupsOf(b, ["u"])).length === 0, "groups.groupsOf")
      const foreign = yield* store.targetingOf(b, "u")
      yield* check(foreign.groups.length === 0 && foreign.assignments.length === 0, "targetingOf")
      yield* check(Option.isNone(yield* store.invitations.invitedUserOf(b, "i")), "invitations.invitedUserOf")
      yield* check(!(yield* store.groups.removeMember(b, "g", "u")), "groups.removeMember")
      yield* check(Option.isNone(yield* store.invitations.get(b, "i")), "invitations.get")
      yield* check((yield* store.invitations.list(b, { limit: 10 })).items.length === 0, "invitations.list")
      yield* check(!(yield* store.assignments.remove(b, "c", "x")), "assignments.remove")
      yield* refuses("assignments.replace", notFound("deviceEnrollmentConfiguration", "c"), store.assignments.replace(b, "c", []))
      yield* refuses("assignments.insert", notFound("deviceEnrollmentConfiguration", "c"), store.assignments.insert(b, "c", assignment("z")))
      yield* refuses("groups.addMember", notFound("group", "g"), store.groups.addMember(b, "g", { kind: "user", id: "u" }))
      yield* check(!(yield* store.users.remove(b, "u")), "users.remove")
      yield* check(!(yield* store.groups.remove(b, "g")), "groups.remove")
      yield* check(!(yield* store.invitations.remove(b, "i")), "invitations.remove")
      yield* check(!(yield* store.configurations.remove(b, "c")), "configurations.remove")
      // the other tenant may use the same ids freely
      yield* store.configurations.insert(b, configuration("c"))
      yield* store.users.insert(b, user("u"))
      // and tenant A is untouched by everything above
      yield* checkEqual(yield* store.assignments.count(a, "c"), 2, "tenant A's assignments intact")
      yield* checkEqual((yield* store.groups.groupsOf(a, ["u"])).length, 1, "tenant A's membership intact")
      yield* check(Option.isSome(yield* store.invitations.get(a, "i")), "tenant A's invitation intact")
    })
  },
  {
    name: "stampOf, where offered, moves with every committed write of the tenant, never repeats, and stays for reads and others' writes",
    run: withTenant((store, t) =>
      Effect.gen(function*() {
        const stampOf = store.stampOf
        if (stampOf === undefined) return notOffered("stampOf")
        const other = yield* tenantId
        const seen = new Set<number>([stampOf(t)])
        let last = stampOf(t)
        const moves = (what: string, write: Effect.Effect<unknown, unknown>) =>
          Effect.gen(function*() {
            yield* write
            const now = stampOf(t)
            yield* check(!seen.has(now), `${what}: the stamp moved to a new value (${last} -> ${now})`)
            seen.add(now)
            last = now
          })
        /** `effect`, a read or a refused write (its refusal checked), leaves the stamp where it was. */
        const stays = (what: string, effect: Effect.Effect<unknown, unknown>) =>
          Effect.gen(function*() {
            yield* effect
            yield* checkEqual(stampOf(t), last, `${what}: the stamp stayed`)
          })
        yield* moves("configuration insert", store.configurations.insert(t, configuration("c1")))
        yield* moves("configuration modify", store.configurations.modify(t, "c1", (c) => Result.succeed({ ...c, priority: 3 })))
        yield* moves("assignment insert", store.assignments.insert(t, "c1", assignment("a1")))
        yield* moves("assignment modify", store.assignments.modify(t, "c1", "a1", (a) => Result.succeed({ ...a, sourceId: "s" })))
        yield* moves("assignment replace", store.assignments.replace(t, "c1", [assignment("a2")]))
        yield* moves("assignment remove", store.assignments.remove(t, "c1", "a2"))
        yield* moves("user insert", store.users.insert(t, user("u1")))
        yield* moves("group insert", store.groups.insert(t, group("g1")))
        yield* moves("member add", store.groups.addMember(t, "g1", { kind: "user", id: "u1" }))
        yield* moves("member remove", store.groups.removeMember(t, "g1", "u1"))
        yield* moves("group remove", store.groups.remove(t, "g1"))
        yield* moves("user remove", store.users.remove(t, "u1"))
        const { invitation: inv, user: guest } = invite("i1", "guest1", "guest@example.com")
        yield* moves("invitation insert", store.invitations.insert(t, inv, guest))
        yield* moves("invitation remove", store.invitations.remove(t, "i1"))
        yield* moves("configuration remove", store.configurations.remove(t, "c1"))
        yield* stays("reads", Effect.all([store.configurations.list(t, { limit: 10 }), store.assignments.get(t, "c1", "a1"), store.targetingOf(t, "u1")]))
        yield* moves("user insert", store.users.insert(t, user("u2")))
        yield* stays("a refused insert", refuses("users.insert of a taken id", alreadyExists("user", "u2"), store.users.insert(t, user("u2"))))
        yield* stays(
          "a group refused for a user's id",
          refuses("groups.insert of a user's id", alreadyExists("directoryObject", "u2"), store.groups.insert(t, group("u2")))
        )
        yield* stays(
          "a refused change",
          failure("users.modify with a refusing change", "its refusal", store.users.modify(t, "u2", () => Result.fail("refused" as const)))
        )
        yield* stays(
          "a refused removal",
          failure("users.remove with a refusing check", "its refusal", store.users.remove(t, "u2", () => Result.fail("refused" as const)))
        )
        const missing = notFound("deviceEnrollmentConfiguration", "c9")
        yield* stays("an assignment refused for a missing configuration", refuses("assignments.insert", missing, store.assignments.insert(t, "c9", assignment("a9"))))
        yield* stays("a replace refused for a missing configuration", refuses("assignments.replace", missing, store.assignments.replace(t, "c9", [])))
        yield* stays(
          "a membership refused for a missing group",
          refuses("groups.addMember", notFound("group", "g9"), store.groups.addMember(t, "g9", { kind: "user", id: "u2" }))
        )
        yield* stays("another tenant's write", store.configurations.insert(other, configuration("c1")))
      })
    )
  },
  {
    name: "resolveConfiguration, where offered, answers what the separate reads answer (an assignment asked for included), and the path resolves the same",
    run: withTenant((store, t) =>
      Effect.gen(function*() {
        const resolve = store.resolveConfiguration
        if (resolve === undefined) return notOffered("resolveConfiguration")
        yield* store.configurations.insert(t, configuration("c1"))
        yield* store.configurations.insert(t, configuration("c2"))
        for (const id of ["u1", "u2"]) yield* store.users.insert(t, user(id))
        for (const id of ["g1", "g2", "g3"]) yield* store.groups.insert(t, group(id))
        // u1 in g1, g1 in g2 (nested), g2 in g1 (a cycle); guest1 in g3
        yield* store.groups.addMember(t, "g1", { kind: "user", id: "u1" })
        yield* store.groups.addMember(t, "g2", { kind: "group", id: "g1" })
        yield* store.groups.addMember(t, "g1", { kind: "group", id: "g2" })
        const i1 = invite("i1", "guest1", "guest1@example.com")
        yield* store.invitations.insert(t, i1.invitation, i1.user)
        yield* store.groups.addMember(t, "g3", { kind: "user", id: "guest1" })
        const i2 = invite("i2", "guest2", "guest2@example.com")
        yield* store.invitations.insert(t, i2.invitation, i2.user)
        yield* store.users.remove(t, "guest2")
        yield* store.assignments.insert(t, "c1", assignment("all", AssignmentTarget.empty("allLicensedUsersAssignmentTarget")))
        yield* store.assignments.insert(t, "c1", assignment("to-g2", groupTarget("g2")))
        yield* store.assignments.insert(t, "c1", assignment("not-g1", groupTarget("g1", "exclusionGroupAssignmentTarget")))
        yield* store.assignments.insert(t, "c1", assignment("to-missing", groupTarget("g9")))
        yield* store.assignments.insert(t, "c2", assignment("to-g3", groupTarget("g3")))
        yield* store.assignments.insert(t, "c2", assignment("devices"))
        // another tenant's rows under the same ids must not show
        const other = yield* tenantId
        yield* store.configurations.insert(other, configuration("c1"))
        yield* store.assignments.insert(other, "c1", assignment("theirs", AssignmentTarget.empty("allLicensedUsersAssignmentTarget")))

        const sorted = (i: TargetingInputs) => ({
          groups: [...i.groups].sort(),
          assignments: i.assignments.map((a) => `${a.configurationId}/${a.assignment.id}`).sort()
        })
        const parents: ReadonlyArray<Paths.UserParent> = [
          { _tag: "User", userId: "u1" },
          { _tag: "User", userId: "u2" },
          { _tag: "User", userId: "nobody" },
          { _tag: "Invitation", invitationId: "i1" },
          { _tag: "Invitation", invitationId: "i2" },
          { _tag: "Invitation", invitationId: "i-missing" }
        ]
        const separate: Store["Service"] = { ...store, resolveConfiguration: undefined }
        // a store written before 0.2.3: one read for the path, the assignment asked for left out
        const older: Store["Service"] = { ...store, resolveConfiguration: (tt, p, c) => resolve(tt, p, c) }
        for (const parent of parents) {
          for (const configurationId of ["c1", "c2", "c-missing"]) {
            const where = `${JSON.stringify(parent)} / ${configurationId}`
            const r = yield* resolve(t, parent, configurationId)
            const user = parent._tag === "Invitation"
              ? yield* store.invitations.invitedUserOf(t, parent.invitationId)
              : Option.some({ userId: parent.userId, exists: Option.isSome(yield* store.users.get(t, parent.userId)) })
            yield* checkEqual(r.user, user, `${where}: the user`)
            yield* checkEqual(r.configuration, yield* store.configurations.get(t, configurationId), `${where}: the configuration`)
            // Where the path resolves to a user and a configuration (elsewhere a store may leave the
            // targeting unread: the path is a 404 whatever it holds; core 0.14.1).
            if (Option.isSome(user) && user.value.exists && Option.isSome(r.configuration)) {
              yield* checkEqual(
                sorted(r.targeting),
                sorted(yield* store.targetingOf(t, user.value.userId, configurationId)),
                `${where}: the targeting inputs`
              )
            }
            // and the domain decides the same from it as from the separate reads
            const one = yield* Effect.exit(Paths.resolveConfiguration(store, t, parent, configurationId))
            const three = yield* Effect.exit(Paths.resolveConfiguration(separate, t, parent, configurationId))
            yield* checkEqual(one, three, `${where}: the path's outcome`)
            // asked for an assignment too: the same answers, and the assignment as assignments.get has it
            for (const assignmentId of ["all", "to-g3", "theirs", "nope"]) {
              const withIt = yield* resolve(t, parent, configurationId, assignmentId)
              yield* checkEqual([withIt.user, withIt.configuration, sorted(withIt.targeting)], [r.user, r.configuration, sorted(r.targeting)], `${where} / ${assignmentId}: the rest`)
              if (withIt.assignment !== undefined) {
                yield* checkEqual(withIt.assignment, yield* store.assignments.get(t, configurationId, assignmentId), `${where} / ${assignmentId}: the assignment`)
              }
              const bySeparateReads = yield* Effect.exit(Paths.resolveAssignment(separate, t, parent, configurationId, assignmentId))
              yield* checkEqual(
                yield* Effect.exit(Paths.resolveAssignment(store, t, parent, configurationId, assignmentId)),
                bySeparateReads,
                `${where} / ${assignmentId}: the assignment's path`
              )
              yield* checkEqual(
                yield* Effect.exit(Paths.resolveAssignment(older, t, parent, configurationId, assignmentId)),
                bySeparateReads,
                `${where} / ${assignmentId}: the assignment's path, read apart when the resolution leaves it out`
              )
            }
          }
        }
        // the cases above reach every outcome: found, and each not-found
        const outcomes = new Set<string>()
        for (const parent of parents) {
          for (const configurationId of ["c1", "c2", "c-missing"]) {
            const e = yield* Effect.exit(Paths.resolveConfiguration(store, t, parent, configurationId))
            outcomes.add(Exit.isSuccess(e) ? "found" : JSON.stringify(Exit.isFailure(e) ? (e.cause as any).reasons?.[0]?.error?.entity : "?"))
          }
        }
        yield* checkEqual([...outcomes].sort(), ["\"deviceEnrollmentConfiguration\"", "\"invitation\"", "\"invitedUser of invitation\"", "\"user\"", "found"], "outcomes reached")
      })
    )
  },
  {
    // The services decide a user's path before a write and again inside it, on the assignment
    // as the store's write finds it (core 0.10.0): a store must run `change` and `check` on the
    // value current at the write, not on one it read earlier.
    name: "a write through a user's path is refused when a write just before it took the user's targeting away",
    run: withTenant((store, t) =>
      Effect.gen(function*() {
        yield* nestedGroups(store, t)
        const { invitation, user: guest } = invite("i1", "gu1", "guest@example.com")
        yield* store.invitations.insert(t, invitation, guest)
        yield* store.groups.addMember(t, "g1", { kind: "user", id: "gu1" })
        yield* store.configurations.insert(t, configuration("c1"))
        yield* store.groups.insert(t, group("g9"))
        const reset = (target: AssignmentTarget.AssignmentTarget) =>
          store.assignments.replace(t, "c1", [assignment("a1", target), assignment("a2", groupTarget("g9"))])
        /** The tenant-path write that lands between the path's first check and the write. */
        const between = (to: (a: Assignment.Assignment) => Assignment.Assignment) =>
          Effect.asVoid(store.assignments.modify(t, "c1", "a1", (a) => Result.succeed(to(a))))
        /** The services over this store, `first` written by another request just as the write begins. */
        const racing = (first: Effect.Effect<void, unknown>): Layer.Layer<Assignments> =>
          Assignments.layer.pipe(Layer.provide(Layer.succeed(Store, {
            ...store,
            assignments: {
              ...store.assignments,
              insert: (tt, c, value, targeting) => Effect.andThen(Effect.orDie(first), store.assignments.insert(tt, c, value, targeting)),
              modify: (tt, c, id, change) => Effect.andThen(Effect.orDie(first), store.assignments.modify(tt, c, id, change)),
              remove: (tt, c, id, check) => Effect.andThen(Effect.orDie(first), store.assignments.remove(tt, c, id, check))
            }
          })))
        /** `use` of the services, over this store with `first` written just before the write. */
        const withServices = <A, E>(first: Effect.Effect<void, unknown>, use: (s: Assignments["Service"]) => Effect.Effect<A, E>) =>
          Effect.provide(Effect.flatMap(Assignments, use), racing(first))
        const movedAway = between((a) => ({ ...a, target: groupTarget("g9") }))
        const sourceOnly = between((a) => ({ ...a, sourceId: "tenant-path" }))
        const parents: ReadonlyArray<Paths.Parent> = [Paths.user("u1"), Paths.invitation("i1")]
        for (const parent of parents) {
          const where = JSON.stringify(parent)
          for (const [how, target] of [["included", groupTarget("g1")], ["included through a nested group", groupTarget("g2")]] as const) {
            yield* reset(target)
            yield* refuses(
              `${where}: a PATCH (a1 ${how}) after a1 moved to g9`,
              notFound("deviceEnrollmentConfiguration", "c1"),
              withServices(movedAway, (s) => s.patch(t, parent, "c1", "a1", { source: "policySets" }))
            )
            const kept = Option.getOrNull(yield* store.assignments.get(t, "c1", "a1"))
            yield* checkEqual([kept?.target, kept?.source], [groupTarget("g9"), "direct"], `${where}: the other write's a1, not patched`)
            yield* reset(target)
            yield* refuses(
              `${where}: a DELETE (a1 ${how}) after a1 moved to g9`,
              notFound("deviceEnrollmentConfiguration", "c1"),
              withServices(movedAway, (s) => s.remove(t, parent, "c1", "a1"))
            )
            yield* check(Option.isSome(yield* store.assignments.get(t, "c1", "a1")), `${where}: a1 not removed`)
          }
          // A create, after an `assign` whose set no longer targets the user: refused, the set kept as assigned.
          yield* reset(groupTarget("g1"))
          const assigned = Effect.asVoid(store.assignments.replace(t, "c1", [assignment("a2", groupTarget("g9"))]))
          yield* refuses(
            `${where}: a POST after an assign that no longer targets the user`,
            notFound("deviceEnrollmentConfiguration", "c1"),
            withServices(assigned, (s) => s.create(t, parent, "c1", { id: "a3", target: groupTarget("g9") }))
          )
          yield* checkEqual(
            (yield* store.assignments.list(t, "c1", { limit: 10 })).items.map((a) => a.id),
            ["a2"],
            `${where}: the assign's set alone`
          )
          // A write between that keeps the user targeted: the write goes on, onto it.
          yield* reset(groupTarget("g1"))
          const patched = yield* withServices(sourceOnly, (s) => s.patch(t, parent, "c1", "a1", { source: "policySets" }))
          yield* checkEqual([patched.source, patched.sourceId], ["policySets", "tenant-path"], `${where}: patched onto the other write`)
          yield* withServices(sourceOnly, (s) => s.remove(t, parent, "c1", "a1"))
          yield* check(Option.isNone(yield* store.assignments.get(t, "c1", "a1")), `${where}: removed after the other write`)
          yield* reset(groupTarget("g1"))
          const keptTargeted = Effect.asVoid(store.assignments.replace(t, "c1", [assignment("a1", groupTarget("g2"))]))
          yield* withServices(keptTargeted, (s) => s.create(t, parent, "c1", { id: "a3", target: groupTarget("g9") }))
          yield* checkEqual(
            (yield* store.assignments.list(t, "c1", { limit: 10 })).items.map((a) => a.id),
            ["a1", "a3"],
            `${where}: created after an assign that still targets the user`
          )
        }
        // The port's part: the check is given the user's targeting inputs as targetingOf reads them then.
        yield* reset(groupTarget("g2"))
        let given: TargetingInputs | undefined
        yield* refuses(
          "assignments.insert with a targeting check that refuses",
          notFound("deviceEnrollmentConfiguration", "c1"),
          store.assignments.insert(t, "c1", assignment("a4"), { userId: "u1", check: (inputs) => (given = inputs, false) })
        )
        yield* check(Option.isNone(yield* store.assignments.get(t, "c1", "a4")), "nothing inserted when the check refuses")
        const expected = yield* store.targetingOf(t, "u1", "c1")
        const sortedIds = (i: TargetingInputs | undefined) =>
          i === undefined ? undefined : [[...i.groups].sort(), i.assignments.map((a) => `${a.configurationId}/${a.assignment.id}`).sort()]
        yield* checkEqual(sortedIds(given), sortedIds(expected), "the check's inputs")
        yield* store.assignments.insert(t, "c1", assignment("a4"), { userId: "u1", check: () => true })
        yield* check(Option.isSome(yield* store.assignments.get(t, "c1", "a4")), "inserted when the check passes")
        // A create whose user goes just before it: refused naming what went missing, as if first.
        yield* reset(groupTarget("g1"))
        for (
          const [parent, userId, missing] of [
            [Paths.invitation("i1"), "gu1", notFound("invitedUser of invitation", "i1")],
            [Paths.user("u1"), "u1", notFound("user", "u1")]
          ] as const
        ) {
          yield* refuses(
            `${JSON.stringify(parent)}: a POST after its user was removed`,
            missing,
            withServices(Effect.asVoid(store.users.remove(t, userId)), (s) => s.create(t, parent, "c1", { id: "a5", target: null }))
          )
        }
        yield* check(Option.isNone(yield* store.assignments.get(t, "c1", "a5")), "nothing created for a removed user")
      })
    )
  },
  {
    name: "refuses a user whose userPrincipalName another user of the tenant holds, in any case, and writes nothing",
    run: withTenant((store, t) =>
      Effect.gen(function*() {
        yield* store.users.insert(t, userNamed("u1", "Alice@Contoso.com"))
        for (const [id, upn] of [["u2", "Alice@Contoso.com"], ["u3", "alice@contoso.COM"], ["u4", "ALICE@CONTOSO.COM"]] as const) {
          yield* refuses(`users.insert of ${id} named ${upn}`, upnTaken(upn, "u1"), store.users.insert(t, userNamed(id, upn)))
          yield* check(Option.isNone(yield* store.users.get(t, id)), `${id} was not written`)
        }
        // null names never collide, nor do names that differ beyond ASCII case
        yield* store.users.insert(t, userNamed("n1", null))
        yield* store.users.insert(t, userNamed("n2", null))
        yield* store.users.insert(t, userNamed("e1", "\u00c9mile@contoso.com"))
        yield* store.users.insert(t, userNamed("e2", "\u00e9mile@contoso.com"))
        // the refused id is free for another name
        yield* store.users.insert(t, userNamed("u2", "bob@contoso.com"))
        // the name is the tenant's: another tenant may hold it too
        const other = yield* tenantId
        yield* store.users.insert(other, userNamed("u1", "alice@contoso.com"))
        // and it is free again once its holder is removed
        yield* check(yield* store.users.remove(t, "u1"), "u1 removed")
        yield* store.users.insert(t, userNamed("u5", "alice@CONTOSO.com"))
        yield* checkEqual(
          (yield* allUsers(store, t)).map((u) => [u.id, u.userPrincipalName]),
          [["e1", "\u00c9mile@contoso.com"], ["e2", "\u00e9mile@contoso.com"], ["n1", null], ["n2", null], ["u2", "bob@contoso.com"], ["u5", "alice@CONTOSO.com"]],
          "the users"
        )
      })
    )
  },
  {
    name: "refuses a user whose id is taken for its id, whatever its userPrincipalName (one another user holds included)",
    run: withTenant((store, t) =>
      Effect.gen(function*() {
        yield* store.users.insert(t, userNamed("u1", "alice@contoso.com"))
        yield* store.users.insert(t, userNamed("u2", "bob@contoso.com"))
        for (const upn of ["bob@contoso.com", "BOB@contoso.com", "alice@contoso.com", "carol@contoso.com"]) {
          yield* refuses(`users.insert of u1 named ${upn}`, new EntityAlreadyExists({ entity: "user", id: "u1" }), store.users.insert(t, userNamed("u1", upn)))
        }
        yield* checkEqual((yield* allUsers(store, t)).map((u) => [u.id, u.userPrincipalName]), [["u1", "alice@contoso.com"], ["u2", "bob@contoso.com"]], "the users")
      })
    )
  },
  {
    name: "refuses a modify that gives a user another's userPrincipalName, and lets a user keep or recase its own",
    run: withTenant((store, t) =>
      Effect.gen(function*() {
        yield* store.users.insert(t, userNamed("u1", "alice@contoso.com"))
        yield* store.users.insert(t, userNamed("u2", "bob@contoso.com"))
        yield* refuses(
          "users.modify of u2 to u1's name",
          upnTaken("Alice@contoso.com", "u1"),
          store.users.modify(t, "u2", (u) => Result.succeed({ ...u, userPrincipalName: "Alice@contoso.com" }))
        )
        yield* checkEqual(Option.map(yield* store.users.get(t, "u2"), (u) => u.userPrincipalName), Option.some("bob@contoso.com"), "u2 unchanged")
        // its own name, another property changed, or the case of its own name changed: no conflict
        yield* store.users.modify(t, "u1", (u) => Result.succeed({ ...u, displayName: "Alice" }))
        yield* store.users.modify(t, "u1", (u) => Result.succeed({ ...u, userPrincipalName: "ALICE@contoso.com" }))
        yield* checkEqual(Option.map(yield* store.users.get(t, "u1"), (u) => u.userPrincipalName), Option.some("ALICE@contoso.com"), "u1 recased")
        // a name let go is free: u1 renamed, u2 takes u1's old name; null never collides
        yield* store.users.modify(t, "u1", (u) => Result.succeed({ ...u, userPrincipalName: "carol@contoso.com" }))
        yield* store.users.modify(t, "u2", (u) => Result.succeed({ ...u, userPrincipalName: "alice@contoso.com" }))
        yield* store.users.modify(t, "u1", (u) => Result.succeed({ ...u, userPrincipalName: null }))
        yield* store.users.modify(t, "u2", (u) => Result.succeed({ ...u, userPrincipalName: null }))
        yield* store.users.insert(t, userNamed("u3", "carol@contoso.com"))
        yield* checkEqual(
          (yield* allUsers(store, t)).map((u) => [u.id, u.userPrincipalName]),
          [["u1", null], ["u2", null], ["u3", "carol@contoso.com"]],
          "the users"
        )
      })
    )
  },
  {
    name: "links an invitation whose guest's userPrincipalName a user holds to that user, and makes no second user",
    run: withTenant((store, t) =>
      Effect.gen(function*() {
        const first = invite("i1", "gu1", "Ada@Example.com", "Ada")
        yield* checkEqual(yield* store.invitations.insert(t, first.invitation, first.user), first.invitation, "the first invitation")
        yield* store.users.modify(t, "gu1", (u) => Result.succeed({ ...u, displayName: "Ada Lovelace" }))
        const guest = Option.getOrNull(yield* store.users.get(t, "gu1"))
        // the same address again, in another case: the guest of the first is linked, unchanged
        const second = invite("i2", "gu2", "ada@example.COM", "Someone else")
        const stored = yield* store.invitations.insert(t, second.invitation, second.user)
        const linked = { ...second.invitation, invitedUserId: "gu1" }
        yield* checkEqual(stored, linked, "the answer links the existing guest")
        yield* checkEqual(Option.getOrNull(yield* store.invitations.get(t, "i2")), linked, "the stored invitation links it")
        yield* checkEqual(Option.getOrNull(yield* store.invitations.invitedUserOf(t, "i2")), { userId: "gu1", exists: true }, "invitedUserOf")
        yield* check(Option.isNone(yield* store.users.get(t, "gu2")), "no second guest")
        yield* checkEqual(Option.getOrNull(yield* store.users.get(t, "gu1")), guest, "the guest as it was")
        // a member given the guest form's name by a create is linked as well
        const memberName = Directory.guestUserPrincipalName("grace@example.com")
        yield* store.users.insert(t, userNamed("m1", memberName))
        const third = invite("i3", "gu3", "grace@example.com")
        yield* checkEqual((yield* store.invitations.insert(t, third.invitation, third.user)).invitedUserId, "m1", "the member linked")
        yield* check(Option.isNone(yield* store.users.get(t, "gu3")), "no guest for the member's address")
        // an invitation id taken is still refused first, linking nothing
        const again = invite("i1", "gu4", "ada@example.com")
        yield* refuses("invitations.insert of a taken id", alreadyExists("invitation", "i1"), store.invitations.insert(t, again.invitation, again.user))
        yield* checkEqual((yield* allUsers(store, t)).map((u) => u.id), ["gu1", "m1"], "the users")
      })
    )
  },
  {
    name: "users.idByPrincipalName, where offered, finds a user by its principal name in any case, as paging through list does, and a user's path resolves by it",
    run: withTenant((store, t) =>
      Effect.gen(function*() {
        const idByPrincipalName = store.users.idByPrincipalName
        if (idByPrincipalName === undefined) return notOffered("users.idByPrincipalName")
        const guestName = "grace_fabrikam.com#EXT#@contoso.onmicrosoft.com"
        yield* store.users.insert(t, userNamed("u1", "Ada@Contoso.com"))
        yield* store.users.insert(t, userNamed("u2", guestName))
        yield* store.users.insert(t, userNamed("u3", null))
        yield* store.users.insert(t, userNamed("u4", "Élodie@contoso.com"))
        const i1 = invite("i1", "gu1", "Hedy@Example.com")
        yield* store.invitations.insert(t, i1.invitation, i1.user)
        // another tenant's user of a name asked for here must not show
        const other = yield* tenantId
        yield* store.users.insert(other, userNamed("theirs", "bob@contoso.com"))
        // the same answers from the store's read and from the users paged through
        const paged: Store["Service"] = { ...store, users: { ...store.users, idByPrincipalName: undefined } }
        const finds = Effect.fnUntraced(function*(name: string, expected: string | null, what: string) {
          yield* checkEqual(Option.getOrNull(yield* idByPrincipalName(t, name)), expected, `${what}: idByPrincipalName('${name}')`)
          yield* checkEqual(Option.getOrNull(yield* Paths.principalNameHolder(paged, t, name)), expected, `${what}: paged through`)
        })
        yield* finds("Ada@Contoso.com", "u1", "the name as stored")
        yield* finds("ada@contoso.com", "u1", "in lower case")
        yield* finds("ADA@CONTOSO.COM", "u1", "in upper case")
        yield* finds("GRACE_fabrikam.com#ext#@Contoso.onmicrosoft.com", "u2", "a guest's name")
        yield* finds(Directory.guestUserPrincipalName("hedy@example.com"), "gu1", "an invitation's guest")
        yield* finds("Élodie@CONTOSO.com", "u4", "a name with a non-ASCII letter, its ASCII letters in another case")
        yield* finds("élodie@contoso.com", null, "a non-ASCII letter in another case (compared exactly)")
        yield* finds("bob@contoso.com", null, "another tenant's user")
        yield* finds("nobody@contoso.com", null, "a name nobody holds")
        // a renamed user is found by its new name only, a removed one by none
        yield* store.users.modify(t, "u1", (u) => Result.succeed({ ...u, userPrincipalName: "Ada.Lovelace@contoso.com" }))
        yield* finds("ada@contoso.com", null, "the name a user left")
        yield* finds("ada.lovelace@CONTOSO.com", "u1", "the user's new name")
        yield* store.users.remove(t, "u2")
        yield* finds(guestName, null, "a removed user's name")
        // a user's path by the principal name: the store's one read where offered, or the separate reads
        yield* store.configurations.insert(t, configuration("c1"))
        yield* store.assignments.insert(t, "c1", assignment("a1", AssignmentTarget.empty("allLicensedUsersAssignmentTarget")))
        const separate: Store["Service"] = { ...store, resolveConfiguration: undefined }
        for (const [how, s] of [["the store's reads", store], ["separate reads", separate]] as const) {
          const byName = Paths.user("ADA.LOVELACE@contoso.com")
          yield* checkEqual(yield* Paths.userOf(s, t, byName), "u1", `${how}: the user of a path by name`)
          yield* checkEqual((yield* Paths.resolveConfiguration(s, t, byName, "c1")).id, "c1", `${how}: the configuration under it`)
          yield* checkEqual(
            Option.getOrNull(yield* Paths.resolveAssignment(s, t, byName, "c1", "a1")),
            assignment("a1", AssignmentTarget.empty("allLicensedUsersAssignmentTarget")),
            `${how}: an assignment under it`
          )
          yield* refuses("Paths.resolveConfiguration of a name nobody holds", notFound("user", "Nobody@contoso.com"),
            Paths.resolveConfiguration(s, t, Paths.user("Nobody@contoso.com"), "c1"))
          yield* refuses("Paths.resolveAssignment of another tenant's user's name", notFound("user", "bob@contoso.com"),
            Paths.resolveAssignment(s, t, Paths.user("bob@contoso.com"), "c1", "a1"))
        }
      })
    )
  },
  {
    name: "makes exactly one user of concurrent creates and invitations of one userPrincipalName",
    run: withTenant((store, t) =>
      Effect.gen(function*() {
        // All started together: a store that batches writes (SQLite's group commit) gets them in one batch.
        const ids = Array.from({ length: 30 }, (_, i) => `same${i}`)
        const inserts = yield* Effect.forEach(
          ids,
          (id, i) => Effect.exit(store.users.insert(t, userNamed(id, i % 2 === 0 ? "dup@contoso.com" : "DUP@contoso.com"))),
          { concurrency: "unbounded" }
        )
        yield* checkEqual(inserts.filter(Exit.isSuccess).length, 1, "one insert succeeded")
        const winner = ids[inserts.findIndex(Exit.isSuccess)]!
        for (const [i, e] of inserts.entries()) {
          if (Exit.isSuccess(e)) continue
          yield* checkEqual(outcome(e), named(upnTaken(i % 2 === 0 ? "dup@contoso.com" : "DUP@contoso.com", winner)), `${ids[i]} refused`)
        }
        // concurrent renames of users to one name: one wins
        yield* Effect.forEach(ids.slice(0, 10), (id) => store.users.insert(t, userNamed(`r-${id}`, `${id}@contoso.com`)))
        const renames = yield* Effect.forEach(
          ids.slice(0, 10),
          (id) => Effect.exit(store.users.modify(t, `r-${id}`, (u) => Result.succeed({ ...u, userPrincipalName: "renamed@contoso.com" }))),
          { concurrency: "unbounded" }
        )
        yield* checkEqual(renames.filter(Exit.isSuccess).length, 1, "one rename succeeded")
        // concurrent invitations of one address: one guest, every invitation linked to it
        const invites = ids.map((id) => invite(`i-${id}`, `g-${id}`, "guest@example.com"))
        const stored = yield* Effect.forEach(invites, (i) => store.invitations.insert(t, i.invitation, i.user), { concurrency: "unbounded" })
        const guests = new Set(stored.map((i) => i.invitedUserId))
        yield* checkEqual(guests.size, 1, "every invitation links one guest")
        const users = yield* allUsers(store, t)
        yield* checkEqual(users.filter((u) => u.userPrincipalName?.toLowerCase() === "dup@contoso.com").length, 1, "one user named dup")
        yield* checkEqual(users.filter((u) => u.userPrincipalName === "renamed@contoso.com").length, 1, "one user renamed")
        yield* checkEqual(users.filter((u) => u.mail === "guest@example.com").map((u) => u.id), [...guests], "one guest")
        yield* checkEqual((yield* store.invitations.list(t, { limit: 100 })).items.length, ids.length, "every invitation stored")
      })
    )
  },
  {
    name: "snapshot, where offered, answers what its effect answers, passes its failure on as it is, and nests",
    run: withTenant((store, t) =>
      Effect.gen(function*() {
        const snapshot = store.snapshot
        if (snapshot === undefined) return notOffered("snapshot")
        yield* store.configurations.insert(t, configuration("c1"))
        const ids = yield* snapshot(Effect.map(store.configurations.list(t, { limit: 10 }), (p) => p.items.map((c) => c.id)))
        yield* checkEqual(ids, ["c1"], "the snapshot's list")
        const refused = yield* Effect.flip(snapshot(Effect.fail("refused" as const)))
        yield* checkEqual(refused, "refused", "the effect's failure")
        const nested = yield* snapshot(snapshot(Effect.all([store.configurations.get(t, "c1"), store.assignments.count(t, "c1")])))
        yield* check(Option.isSome(nested[0]) && nested[1] === 0, "a snapshot inside a snapshot reads")
        // Writes go on once the snapshots ended.
        yield* store.configurations.insert(t, configuration("c2"))
        yield* checkEqual((yield* store.configurations.list(t, { limit: 10 })).items.map((c) => c.id), ["c1", "c2"], "a write after the snapshots")
      })
    )
  },
  {
    name: "snapshot, where offered: a write from elsewhere during it is seen by none of its reads, and by reads after it",
    run: withTenant((store, t) =>
      Effect.gen(function*() {
        const snapshot = store.snapshot
        if (snapshot === undefined) return notOffered("snapshot")
        yield* store.configurations.insert(t, configuration("c1"))
        yield* store.assignments.replace(t, "c1", [assignment("a1")])
        const ids = (p: { readonly items: ReadonlyArray<{ readonly id: string }> }) => p.items.map((a) => a.id)
        let elsewhere: Fiber.Fiber<void, unknown> | undefined
        const seen = yield* snapshot(Effect.gen(function*() {
          const before = ids(yield* store.assignments.list(t, "c1", { limit: 10 }))
          // Another request's write, outside the snapshot (a fiber of its own, none of the snapshot's
          // context): on PostgreSQL it commits meanwhile; the memory store and SQLite hold it until the end.
          elsewhere = Effect.runFork(Effect.andThen(
            store.assignments.replace(t, "c1", [assignment("a2"), assignment("a3")]),
            store.configurations.remove(t, "c1")
          ).pipe(Effect.asVoid))
          yield* Effect.sleep(Duration.millis(300))
          const after = ids(yield* store.assignments.list(t, "c1", { limit: 10 }))
          const count = yield* store.assignments.count(t, "c1")
          const config = yield* store.configurations.get(t, "c1")
          return { before, after, count, config: Option.isSome(config) }
        }))
        yield* checkEqual(seen, { before: ["a1"], after: ["a1"], count: 1, config: true }, "the snapshot's reads")
        yield* Fiber.join(elsewhere!)
        yield* check(Option.isNone(yield* store.configurations.get(t, "c1")), "the write is seen after the snapshot")
      })
    )
  },
  {
    name: "the services list and count under a user's path in one snapshot, where the store offers one, and under the tenant's list before the path: an assign or a removal between the reads is not half seen",
    run: withTenant((store, t) =>
      Effect.gen(function*() {
        if (store.snapshot === undefined) return notOffered("snapshot")
        yield* store.users.insert(t, user("u1"))
        yield* store.groups.insert(t, group("g1"))
        yield* store.groups.insert(t, group("g9"))
        yield* store.groups.addMember(t, "g1", { kind: "user", id: "u1" })
        yield* store.configurations.insert(t, configuration("c1"))
        yield* store.configurations.insert(t, configuration("c2"))
        /** The write another request makes just after a read (armed once, after reads of `at` only). */
        let armed: Effect.Effect<unknown, unknown> | undefined
        let at: "path" | "list" = "path"
        const fire = (read: "path" | "list") => Effect.suspend(() => {
          const w = armed
          if (w === undefined || read !== at) return Effect.void
          armed = undefined
          // Outside the snapshot (a fiber of its own, none of its context), as another request's.
          const fiber = Effect.runFork(w)
          written.push(fiber)
          return Effect.sleep(Duration.millis(300))
        })
        const written: Array<Fiber.Fiber<unknown, unknown>> = []
        const after = <A, E>(read: Effect.Effect<A, E>, what: "path" | "list" = "path") => Effect.tap(read, () => fire(what))
        const hooked: Store["Service"] = {
          ...store,
          configurations: { ...store.configurations, get: (tt, id) => after(store.configurations.get(tt, id)) },
          assignments: {
            ...store.assignments,
            list: (tt, c, p, f) => after(store.assignments.list(tt, c, p, f), "list"),
            count: (tt, c, f) => after(store.assignments.count(tt, c, f), "list")
          },
          targetingOf: (tt, u, c) => after(store.targetingOf(tt, u, c)),
          resolveConfiguration: store.resolveConfiguration === undefined
            ? undefined
            : (tt, parent, c, a) => after(store.resolveConfiguration!(tt, parent, c, a))
        }
        const services = Assignments.layer.pipe(Layer.provide(Layer.succeed(Store, hooked)))
        const use = <A, E>(f: (s: Assignments["Service"]) => Effect.Effect<A, E>) => Effect.provide(Effect.flatMap(Assignments, f), services)
        const settle = Effect.gen(function*() {
          for (const f of written.splice(0)) yield* Fiber.join(f)
        })
        const parents: ReadonlyArray<Paths.Parent> = [Paths.user("u1")]
        for (const parent of parents) {
          // The set reaches u1 through g1; the assign that lands between the reads reaches only g9.
          yield* store.assignments.replace(t, "c1", [assignment("a1", groupTarget("g1"))])
          armed = store.assignments.replace(t, "c1", [assignment("a2", groupTarget("g9"))])
          const listed = yield* use((s) => s.list(t, parent, "c1", { limit: 10 }))
          yield* settle
          yield* checkEqual(listed.items.map((a) => a.id), ["a1"], "a user's path lists the set its path was decided on")
          yield* refuses("the list after the assign", notFound("deviceEnrollmentConfiguration", "c1"), use((s) => s.list(t, parent, "c1", { limit: 10 })))
          yield* store.assignments.replace(t, "c1", [assignment("a1", groupTarget("g1"))])
          armed = store.assignments.replace(t, "c1", [assignment("a2", groupTarget("g9"))])
          const counted = yield* use((s) => s.count(t, parent, "c1"))
          yield* settle
          yield* checkEqual(counted, 1, "a user's path counts the set its path was decided on")
        }
        // The tenant's path, racing the configuration's removal, landing after either read: the answer
        // is the configuration's set or its 404, never an empty list of a configuration that had items.
        for (const read of ["path", "list"] as const) {
          if (Option.isNone(yield* store.configurations.get(t, "c2"))) yield* store.configurations.insert(t, configuration("c2"))
          yield* store.assignments.replace(t, "c2", [assignment("b1"), assignment("b2")])
          at = read
          armed = store.configurations.remove(t, "c2")
          const listed = yield* Effect.result(use((s) => s.list(t, Paths.tenant, "c2", { limit: 10 })))
          const counted = yield* Effect.result(use((s) => s.count(t, Paths.tenant, "c2")))
          yield* settle
          const outcome = Result.isSuccess(listed) ? listed.success.items.map((a) => a.id) : listed.failure._tag
          yield* check(
            JSON.stringify(outcome) === JSON.stringify(["b1", "b2"]) || outcome === "EntityNotFound",
            `the tenant's path (the removal after the ${read}'s read) lists the set or answers 404: got ${JSON.stringify(outcome)}`
          )
          yield* check(Result.isFailure(counted), "the count after the removal is a 404")
          yield* refuses("the list after the removal", notFound("deviceEnrollmentConfiguration", "c2"), use((s) => s.list(t, Paths.tenant, "c2", { limit: 10 })))
        }
      })
    )
  },
  {
    name: "counts a tenant's sets and a group's members as paging through them does, where it offers counts (since 0.12.0)",
    run: Effect.gen(function*() {
      const store = yield* Store
      const t = yield* tenantId
      const other = yield* tenantId
      /** What the store counts and what paging through the list reads, each equal to `expected`. */
      const agree = Effect.fnUntraced(function*(
        what: string,
        count: Effect.Effect<number, unknown> | undefined,
        list: (page: PageRequest) => Effect.Effect<Page<unknown>, unknown>,
        expected: number
      ) {
        yield* checkEqual(yield* countPages(list), expected, `${what}, paged through`)
        if (count !== undefined) yield* checkEqual(yield* count, expected, `${what}, the store's count`)
      })
      const counts = Effect.fnUntraced(function*(
        tenant: string,
        expected: {
          readonly configurations: number
          readonly users: number
          readonly groups: number
          readonly invitations: number
          readonly members: Readonly<Record<string, number>>
          /** A group's direct users and direct groups. */
          readonly kinds?: Readonly<Record<string, readonly [users: number, groups: number]>>
        },
        when: string
      ) {
        const { configurations, users, groups, invitations } = store
        yield* agree(`configurations ${when}`, configurations.count?.(tenant), (p) => configurations.list(tenant, p), expected.configurations)
        yield* agree(`users ${when}`, users.count?.(tenant), (p) => users.list(tenant, p), expected.users)
        yield* agree(`groups ${when}`, groups.count?.(tenant), (p) => groups.list(tenant, p), expected.groups)
        yield* agree(`invitations ${when}`, invitations.count?.(tenant), (p) => invitations.list(tenant, p), expected.invitations)
        for (const [g, n] of Object.entries(expected.members)) {
          yield* agree(`the members of ${g} ${when}`, groups.memberCount?.(tenant, g), (p) => groups.members(tenant, g, p), n)
        }
        for (const [g, [users, groupsIn]] of Object.entries(expected.kinds ?? {})) {
          for (const [kind, n] of [["user", users], ["group", groupsIn]] as const) {
            const ofKind = (p: PageRequest) => Effect.map(groups.members(tenant, g, p), (page) => ({ ...page, items: page.items.filter((m) => m.kind === kind) }))
            yield* agree(`the ${kind} members of ${g} ${when}`, groups.memberCount?.(tenant, g, kind), ofKind, n)
          }
        }
      })
      const none = { configurations: 0, users: 0, groups: 0, invitations: 0, members: { g1: 0 } }
      yield* counts(t, none, "in a new tenant")
      for (const id of ["c1", "c2", "c3"]) yield* store.configurations.insert(t, configuration(id))
      for (const id of ["u1", "u2", "u3", "u4"]) yield* store.users.insert(t, user(id))
      for (const id of ["g1", "g2", "g3"]) yield* store.groups.insert(t, group(id))
      for (const [i, guest] of [["i1", "guest1"], ["i2", "guest2"]] as const) {
        const made = invite(i, guest, `${guest}@example.com`)
        yield* store.invitations.insert(t, made.invitation, made.user)
      }
      yield* store.groups.addMember(t, "g1", { kind: "user", id: "u1" })
      yield* store.groups.addMember(t, "g1", { kind: "user", id: "u2" })
      yield* store.groups.addMember(t, "g1", { kind: "group", id: "g2" })
      yield* store.groups.addMember(t, "g2", { kind: "user", id: "u1" })
      yield* store.groups.addMember(t, "g2", { kind: "user", id: "guest1" })
      // The other tenant's objects, some of the same ids, never count in this one's.
      yield* store.configurations.insert(other, configuration("c1"))
      yield* store.users.insert(other, user("u1"))
      yield* store.groups.insert(other, group("g1"))
      yield* store.groups.addMember(other, "g1", { kind: "user", id: "u1" })
      const filled = {
        configurations: 3,
        users: 6,
        groups: 3,
        invitations: 2,
        members: { g1: 3, g2: 2, g3: 0, missing: 0 },
        kinds: { g1: [2, 1], g2: [2, 0], g3: [0, 0], missing: [0, 0] }
      } as const
      yield* counts(t, filled, "after the inserts")
      yield* counts(other, { configurations: 1, users: 1, groups: 1, invitations: 0, members: { g1: 1, g2: 0 }, kinds: { g1: [1, 0] } }, "in the other tenant")
      // A removal takes its memberships with it, both ways, and the counts with them.
      yield* store.users.remove(t, "u1")
      yield* store.groups.remove(t, "g2")
      yield* store.configurations.remove(t, "c2")
      yield* store.invitations.remove(t, "i1")
      yield* store.groups.removeMember(t, "g1", "u2")
      yield* counts(t, { configurations: 2, users: 5, groups: 2, invitations: 1, members: { g1: 0, g2: 0, g3: 0 }, kinds: { g1: [0, 0] } }, "after the removals")
      yield* counts(other, { configurations: 1, users: 1, groups: 1, invitations: 0, members: { g1: 1 } }, "in the other tenant, after this one's removals")
      // What is refused or linked adds nothing (since 0.12.1): an id taken, a member added twice, an
      // invitation of a guest's address (it links the guest); a group made again starts with none.
      yield* Effect.flip(store.users.insert(t, user("u3")))
      yield* Effect.flip(store.groups.insert(t, group("g1")))
      yield* store.groups.addMember(t, "g1", { kind: "user", id: "u3" })
      yield* Effect.result(store.groups.addMember(t, "g1", { kind: "user", id: "u3" }))
      const again = invite("i3", "guest3", "guest2@example.com")
      yield* store.invitations.insert(t, again.invitation, again.user)
      yield* store.groups.insert(t, group("g2"))
      yield* counts(t, {
        configurations: 2,
        users: 5,
        groups: 3,
        invitations: 2,
        members: { g1: 1, g2: 0 },
        kinds: { g1: [1, 0], g2: [0, 0] }
      }, "after refused and linking writes")
      yield* store.groups.addMember(t, "g2", { kind: "group", id: "g1" })
      yield* counts(t, { configurations: 2, users: 5, groups: 3, invitations: 2, members: { g1: 1, g2: 1 }, kinds: { g2: [0, 1] } }, "after a member of the group made again")
    })
  },
  {
    name: "is ready when it can serve",
    run: Effect.flatMap(Store, (s) => s.ready)
  }
]

/**
 * What a runner passes a test's body: vitest's test context. Its `skip(note)` marks a case about
 * a method the store does not offer as skipped; a runner that passes nothing (or no `skip`) has
 * such a case pass, as before 0.13.0.
 */
export interface RunnerContext {
  readonly skip?: (note?: string) => void
}

/** The test functions {@link suite} needs: those of vitest or @effect/vitest. */
export interface Runner {
  readonly describe: (name: string, body: () => void) => void
  readonly it: (name: string, body: (context?: RunnerContext) => Promise<void>, timeout?: number) => void
}

/**
 * Registers every case under `describe(name)`, each run against `layer` (built
 * once per case, so a memory store starts empty; persistent stores are isolated
 * by tenant). A case fails with an `Error` whose message says what went wrong: a
 * check's, or a store call that failed where the case expected it to succeed.
 */
export const suite = <E>(name: string, layer: Layer.Layer<Store, E>, runner: Runner): void => {
  runner.describe(name, () => {
    for (const c of cases) {
      // The context as a rest parameter, so the body declares none (its `length` is 0): Mocha and
      // Jest take a body that declares one for a callback-style test, and wait for a `done` call.
      runner.it(c.name, (...[context]: [context?: RunnerContext]) =>
        Effect.runPromise(run(c, layer)).then((answer) => {
          if (answer instanceof NotOffered) context?.skip?.(answer.note)
        }), 30_000)
    }
  })
}

/** Runs one case on `layer`; a failure (not a check's: those are defects) becomes a defect whose message names it. */
const run = <E>(c: Case, layer: Layer.Layer<Store, E>): Effect.Effect<void | NotOffered> =>
  Effect.catch(Effect.provide(c.run, layer), (e: unknown) =>
    Effect.die(new Error(`a store call the case expected to succeed (or the layer) failed with ${show(e)}`, { cause: e })))
