/**
 * Whole-tenant export and import as JSON lines, one record a line:
 *
 * ```
 * {"kind":"user","value":{…user}}
 * {"kind":"group","value":{…group}}
 * {"kind":"invitation","value":{…invitation},"invitedUser":{…its guest user} or null}
 * {"kind":"member","groupId":"g","memberId":"u"}
 * {"kind":"configuration","value":{…configuration}}
 * {"kind":"assignment","configurationId":"c","value":{…assignment}}
 * ```
 *
 * An invitation whose guest user was deleted (Graph allows it) is exported
 * with `"invitedUser":null`, and imported as it was: the invitation, without a
 * user. Locally that is one write (the store takes an invitation without its
 * user); remotely, Graph's create makes a guest user, which is deleted again, as
 * in the tenant the record came from.
 *
 * Import validates every record with the core's schemas and checks every
 * reference and id before it writes anything; then it writes, and on any write
 * failure, or SIGINT, SIGTERM or SIGHUP, undoes what it wrote (compensating deletes,
 * newest first); what an undo leaves (a step that fails, or is stopped by a
 * signal) is named, kind, id and line. Local mode
 * writes the records as they are (ids, versions, timestamps, invitation state
 * kept). Remote mode goes through the API, which sets server-managed fields
 * anew and gives re-created invitations new guest users (memberships follow
 * them; what differs on the exported guest, Graph's other properties included,
 * is set on the new one by a PATCH); Graph has no DELETE for invitations, so a
 * rolled-back remote import can leave invitations behind (their guest users are
 * deleted), which its error names. Users, groups and invitations carry Graph's
 * properties beyond the modelled ones (core 0.4.0) both ways; a password
 * (`passwordProfile`) is never stored, so never exported.
 *
 * Remote export makes each kind of read it needs once before it writes a line, so
 * that a token without a permission fails with nothing written; a failure after
 * that (the network) leaves a prefix of the lines on standard output, and a
 * non-zero exit. An import file may be UTF-8 or, with its byte order mark, UTF-16
 * (PowerShell 5.1 writes UTF-16LE); bytes that are not UTF-8 are refused, naming the line.
 *
 * @since 0.1.0
 */
import { readFile } from "node:fs/promises"
import { Assignment, Configuration, Directory, DirectoryService, Errors, Id, Ids, inSnapshot, Json, ODataType, Store, Validation } from "@enrollment/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type { LocalSettings } from "./Backend.ts"
import { readStdin } from "./Body.ts"
import * as Encoding from "./Encoding.ts"
import { CommandFailed, usage } from "./Failure.ts"
import * as Local from "./Local.ts"
import * as Remote from "./Remote.ts"
import { checkSecret, modeOf, print, resolveMode } from "./Runtime.ts"
import type { Globals } from "./Settings.ts"

type Obj = Record<string, unknown>

/** One record of an export. */
export type Record_ =
  | { readonly kind: "user"; readonly value: Directory.User }
  | { readonly kind: "group"; readonly value: Directory.Group }
  | {
    readonly kind: "invitation"
    readonly value: Directory.Invitation
    /** Its guest user; null when that user was deleted (then `value.invitedUserId` is a new id that names no user). */
    readonly invitedUser: Directory.User | null
  }
  | { readonly kind: "member"; readonly groupId: string; readonly memberId: string }
  | { readonly kind: "configuration"; readonly value: Configuration.Configuration }
  | { readonly kind: "assignment"; readonly configurationId: string; readonly value: Assignment.Assignment }

/** The order records are written in (a record only refers to earlier kinds). */
const order = ["user", "group", "configuration", "assignment", "invitation", "member"] as const

// ---------------------------------------------------------------------------
// Progress on a terminal

/** A progress bar on stderr, drawn only when stderr is a terminal. */
export const progress = (label: string, total: number) => {
  const tty = process.stderr.isTTY === true
  let done = 0
  let last = 0
  const draw = (force = false) => {
    if (!tty) return
    const now = Date.now()
    if (!force && now - last < 50) return
    last = now
    const width = 30
    const filled = total === 0 ? width : Math.round((done / total) * width)
    process.stderr.write(`\r${label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${done}/${total}`)
  }
  draw(true)
  return {
    tick: () => {
      done++
      draw(done === total)
    },
    end: () => {
      if (tty) {
        draw(true)
        process.stderr.write("\n")
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Validation

const withoutAnnotations = (v: unknown): unknown => {
  if (!Json.isObject(v)) return v
  return Object.fromEntries(Object.entries(v).filter(([k]) => k === "@odata.type" || !k.startsWith("@odata.")))
}

/**
 * `v` with its `@odata.type` in the written spelling (`#microsoft.graph.X`) when it names
 * `name` in either spelling the server accepts (SPEC 1.3), as the server stores what a POST
 * sends; any other value is left for the decoder to refuse.
 */
const canonicalType = (v: unknown, name: string): unknown =>
  Json.isObject(v) && ODataType.parse(v["@odata.type"]) === name ? { ...v, "@odata.type": ODataType.format(name) } : v

const decodeUser = Validation.decoder(Directory.User)
const decodeGroup = Validation.decoder(Directory.Group)
const decodeInvitation = Validation.decoder(Directory.Invitation)
const decodeConfiguration = Validation.decoder(Configuration.Configuration)
const decodeAssignment = Validation.decoder(Assignment.Assignment)
const decodeId = Validation.decoder(Id.Id)

/** Whether the calendar has the date and the clock the time (`Date.parse` rolls 2026-02-30 over to March). */
const dateTimeExists = (text: string): boolean => {
  const [y, mo, d, h, mi, s] = (text.match(/\d+/g) ?? []).slice(0, 6).map(Number) as Array<number>
  const day = new Date(Date.UTC(y!, mo! - 1, d!))
  return day.getUTCFullYear() === y && day.getUTCMonth() === mo! - 1 && day.getUTCDate() === d && h! < 24 && mi! < 60 && s! < 60
}

/**
 * The server-managed properties of a configuration, which local import keeps: what the server
 * writes (an ISO 8601 date and time; a version from 1 up). Core types them as a string and an
 * Int32 only.
 */
const decodeDateTime = Validation.decoder(
  Schema.String.check(
    Schema.isPattern(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/, {
      expected: "a date and time such as 2024-05-01T12:00:00.000Z"
    }),
    Schema.makeFilter(dateTimeExists, { expected: "a date and time that exists" })
  )
)
const decodeVersion = Validation.decoder(Configuration.Int32.check(Schema.isGreaterThanOrEqualTo(1, { expected: "an integer from 1 up" })))

/** What a POST of the invitation sends (remote import), and what the server's create checks. */
const invitationCreateBody = (v: Obj): Obj => ({
  ...(v["@odata.type"] === undefined ? {} : { "@odata.type": v["@odata.type"] }),
  id: v.id,
  invitedUserEmailAddress: v.invitedUserEmailAddress,
  inviteRedirectUrl: v.inviteRedirectUrl,
  invitedUserDisplayName: v.invitedUserDisplayName,
  invitedUserType: v.invitedUserType,
  sendInvitationMessage: v.sendInvitationMessage,
  // Graph's other properties (`invitedUserMessageInfo`, …), as exported.
  ...Object.fromEntries(Directory.extraProperties.invitation.filter((k) => Object.hasOwn(v, k)).map((k) => [k, v[k]]))
})

const invalidLine = (line: number, message: string) =>
  new CommandFailed({ code: "BadRequest", detail: `line ${line}: ${message}`, exit: "usage" })

const check = <A>(line: number, r: Result.Result<A, { readonly message: string }>, where = ""): Effect.Effect<A, CommandFailed> =>
  Result.isSuccess(r)
    ? Effect.succeed(r.success)
    : Effect.fail(invalidLine(line, `${where}${r.failure.message}`))

/**
 * Parses and validates one line into a record: against the stored entity's schema, and with
 * the rules the server's create applies to the same value (its create decoder: email and URL
 * patterns, bounds of Graph's other properties, a concrete configuration type; a group is not
 * its own member), so that local import takes what remote import takes. `@odata.type` may be
 * written either way the server accepts, and is kept as the server writes it.
 */
export const parseLine = (line: number, text: string): Effect.Effect<Record_, CommandFailed> =>
  Effect.gen(function*() {
    let raw: unknown
    try {
      raw = JSON.parse(text)
    } catch (e) {
      return yield* invalidLine(line, `invalid JSON: ${(e as Error).message}`)
    }
    if (!Json.isObject(raw)) return yield* invalidLine(line, "expected a JSON object")
    if (Json.depth(raw) > Json.maxDepth) return yield* invalidLine(line, `nesting deeper than ${Json.maxDepth}`)
    // A number JSON.parse did not keep as written (1e400 as null, 9007199254740993 as …992) is
    // named, not imported as another (since 0.4.0).
    const inexact = Json.inexactNumber(text)
    if (inexact !== undefined) return yield* invalidLine(line, Errors.invalid.value(inexact.path, inexact.expected, inexact.literal).message)
    // A member given twice in one object (since 0.5.1), as the server refuses it.
    const repeated = Json.duplicateMember(text, raw)
    if (repeated !== undefined) return yield* invalidLine(line, repeated.message)
    const value = withoutAnnotations(raw.value)
    const user = (u: unknown, where: string) =>
      Effect.gen(function*() {
        const v = yield* check(line, decodeUser(canonicalType(u, "user"), where))
        yield* check(line, Directory.decodeUserCreate(v), `${where}.`)
        return v
      })
    switch (raw.kind) {
      case "user":
        return { kind: "user", value: yield* user(value, "value") }
      case "group": {
        const v = yield* check(line, decodeGroup(canonicalType(value, "group"), "value"))
        yield* check(line, Directory.decodeGroupCreate(v), "value.")
        return { kind: "group", value: v }
      }
      case "invitation": {
        if (raw.invitedUser === undefined) {
          return yield* invalidLine(line, "invitedUser: expected the guest user, or null when it was deleted; got nothing")
        }
        const invitedUser = raw.invitedUser === null ? null : yield* user(withoutAnnotations(raw.invitedUser), "invitedUser")
        const invitedUserId = invitedUser === null ? yield* Ids.guid : invitedUser.id
        const typed = canonicalType(value, "invitation")
        const v = yield* check(line, decodeInvitation(Json.isObject(typed) ? { ...typed, invitedUserId } : typed, "value"))
        yield* check(line, Directory.decodeInvitationCreate(invitationCreateBody(v)), "value.")
        return { kind: "invitation", value: v, invitedUser }
      }
      case "member": {
        const groupId = yield* check(line, decodeId(raw.groupId, "groupId"))
        const memberId = yield* check(line, decodeId(raw.memberId, "memberId"))
        // The server's rule (DirectoryService.addMember): a group is not a member of itself.
        if (memberId === groupId) {
          return yield* invalidLine(line, `memberId: expected a directory object other than the group itself, got ${Json.show(memberId)}`)
        }
        return { kind: "member", groupId, memberId }
      }
      case "configuration": {
        const v = yield* check(line, decodeConfiguration(value, "value"))
        const created = yield* check(line, Configuration.decodeCreate(value), "value.")
        yield* check(line, decodeDateTime(v.createdDateTime, "value.createdDateTime"))
        yield* check(line, decodeDateTime(v.lastModifiedDateTime, "value.lastModifiedDateTime"))
        yield* check(line, decodeVersion(v.version, "value.version"))
        return { kind: "configuration", value: { ...v, "@odata.type": ODataType.format(created.odataType) } }
      }
      case "assignment": {
        const configurationId = yield* check(line, decodeId(raw.configurationId, "configurationId"))
        // Not an object: said of `value` as the other kinds say it (the create's decoder names the request's body).
        if (!Json.isObject(value)) yield* check(line, decodeAssignment(value, "value"))
        yield* check(line, Assignment.decodeCreate(value), "value.")
        const v = yield* check(line, Assignment.validate(value), "value.")
        return { kind: "assignment", configurationId, value: v }
      }
      default:
        return yield* invalidLine(
          line,
          `kind: expected one of user, group, invitation, member, configuration, assignment; got ${Json.show(raw.kind)}`
        )
    }
  })

/** What the target already holds, asked per id (for conflicts and references). */
interface Existing {
  readonly has: (kind: "user" | "group" | "invitation" | "configuration", id: string) => Effect.Effect<boolean, CommandFailed>
  readonly hasAssignment: (configurationId: string, id: string) => Effect.Effect<boolean, CommandFailed>
}

/** Checks ids and references of all records, against each other and the target. */
const checkAll = (records: ReadonlyArray<{ readonly line: number; readonly record: Record_ }>, existing: Existing) =>
  Effect.gen(function*() {
    const seen = new Map<string, number>()
    const users = new Set<string>()
    const groups = new Set<string>()
    const configurations = new Set<string>()
    const conflict = (line: number, what: string, id: string) =>
      new CommandFailed({ code: "Conflict", detail: `line ${line}: ${what} '${id}' already exists`, exit: "conflict" })
    // A user principal name is unique in a tenant (core 0.11.0): the users' and the guests' names
    // in the file, by key, with the line and user that holds each. An invitation whose guest is the
    // guest of an earlier invitation (an export writes a guest once per invitation that links it)
    // holds nothing more: the store links the second invitation to it.
    const names = new Map<string, { readonly line: number; readonly id: string }>()
    const guests = new Set<string>()
    const claimName = (line: number, u: Directory.User) => {
      const key = Directory.userPrincipalNameKey(u.userPrincipalName)
      if (key === undefined) return Effect.void
      const before = names.get(key)
      if (before !== undefined) {
        return Effect.fail(invalidLine(
          line,
          `userPrincipalName '${u.userPrincipalName}' of user '${u.id}' is also user '${before.id}''s on line ${before.line} ` +
            "(a user principal name is unique in a tenant, compared without regard to case)"
        ))
      }
      names.set(key, { line, id: u.id })
      return Effect.void
    }
    const claim = (line: number, key: string, what: string, id: string) => {
      const before = seen.get(key)
      if (before !== undefined) return Effect.fail(invalidLine(line, `${what} '${id}' is also on line ${before}`))
      seen.set(key, line)
      return Effect.void
    }
    for (const { line, record: r } of records) {
      switch (r.kind) {
        case "user":
        case "group":
        case "configuration": {
          yield* claim(line, `${r.kind === "configuration" ? "c" : "d"}:${r.value.id}`, r.kind, r.value.id)
          if (r.kind === "user") {
            users.add(r.value.id)
            yield* claimName(line, r.value)
          }
          if (r.kind === "group") groups.add(r.value.id)
          if (r.kind === "configuration") configurations.add(r.value.id)
          if (r.kind !== "configuration" && (yield* existing.has(r.kind === "user" ? "group" : "user", r.value.id))) {
            return yield* conflict(line, "directory object", r.value.id)
          }
          if (yield* existing.has(r.kind, r.value.id)) return yield* conflict(line, r.kind, r.value.id)
          break
        }
        case "invitation": {
          yield* claim(line, `i:${r.value.id}`, "invitation", r.value.id)
          if (r.invitedUser !== null && !guests.has(r.invitedUser.id)) {
            yield* claim(line, `d:${r.invitedUser.id}`, "user", r.invitedUser.id)
            yield* claimName(line, r.invitedUser)
            guests.add(r.invitedUser.id)
            users.add(r.invitedUser.id)
          }
          if (yield* existing.has("invitation", r.value.id)) return yield* conflict(line, "invitation", r.value.id)
          if (r.invitedUser !== null && (yield* existing.has("group", r.invitedUser.id))) {
            return yield* conflict(line, "directory object", r.invitedUser.id)
          }
          if (r.invitedUser !== null && (yield* existing.has("user", r.invitedUser.id))) {
            return yield* conflict(line, "user", r.invitedUser.id)
          }
          break
        }
        case "assignment":
          yield* claim(line, `a:${r.configurationId}/${r.value.id}`, "assignment", r.value.id)
          break
        case "member":
          yield* claim(line, `m:${r.groupId}/${r.memberId}`, "membership", `${r.groupId}/${r.memberId}`)
          break
      }
    }
    for (const { line, record: r } of records) {
      if (r.kind === "assignment") {
        if (!configurations.has(r.configurationId) && !(yield* existing.has("configuration", r.configurationId))) {
          return yield* invalidLine(line, `configuration '${r.configurationId}' is neither in the file nor in the tenant`)
        }
        if (!configurations.has(r.configurationId) && (yield* existing.hasAssignment(r.configurationId, r.value.id))) {
          return yield* conflict(line, "assignment", r.value.id)
        }
      }
      if (r.kind === "member") {
        if (!groups.has(r.groupId) && !(yield* existing.has("group", r.groupId))) {
          return yield* invalidLine(line, `group '${r.groupId}' is neither in the file nor in the tenant`)
        }
        if (!groups.has(r.groupId)) {
          return yield* invalidLine(line, `group '${r.groupId}' is not in the file: import adds members only to groups it creates`)
        }
        if (
          !users.has(r.memberId) && !groups.has(r.memberId) &&
          !(yield* existing.has("user", r.memberId)) && !(yield* existing.has("group", r.memberId))
        ) {
          return yield* invalidLine(line, `member '${r.memberId}' is neither in the file nor in the tenant`)
        }
      }
    }
    return { users, groups }
  })

const readAll = (file: string) =>
  Effect.tryPromise({
    try: async () => {
      if (file !== "-") return readFile(file)
      return readStdin()
    },
    catch: (e) => usage(`cannot read ${file === "-" ? "standard input" : file}: ${(e as Error).message}`)
  }).pipe(Effect.flatMap((bytes) => decodeText(bytes, file)))

/**
 * The text of an import file, read as every file enrollctl reads ({@link Encoding.decode}): UTF-8
 * (its byte order mark dropped) or UTF-16 with its byte order mark. Bytes that are not UTF-8 are
 * invalid input, as a line that is not JSON is, naming the line; a file that cannot be read
 * otherwise (UTF-32, UTF-16 that does not decode) is a usage error asking for UTF-8.
 */
const decodeText = (bytes: Uint8Array, file: string): Effect.Effect<string, CommandFailed> => {
  const decoded = Encoding.decode(bytes, file, "import")
  if (decoded.ok) return Effect.succeed(decoded.text)
  const { refusal } = decoded
  return Effect.fail(refusal._tag === "NotUtf8" ? invalidLine(refusal.line, refusal.detail) : usage(`cannot read ${file}: ${refusal.detail}`))
}

// ---------------------------------------------------------------------------
// Writers: one write per record, each with its undo

/** An undo step; `cut` ends a wait to retry its request at once (see {@link Writer}). */
type Undo = (cut: Effect.Effect<never, WaitCut>) => Effect.Effect<void, CommandFailed | WaitCut>

/** The undo of a write that failed but may have landed: whether it found the record (and removed it). */
type UndoUnsure = (cut: Effect.Effect<never, WaitCut>) => Effect.Effect<boolean, CommandFailed | WaitCut>

interface Writer {
  readonly existing: Existing
  /**
   * Writes the record; answers its undo. `cut` fails when a wait to retry one of its requests is
   * to end at once (a stop signal): the write then fails with its {@link WaitCut}.
   */
  readonly write: (r: Record_, cut: Effect.Effect<never, WaitCut>) => Effect.Effect<Undo, CommandFailed | WaitCut>
  /**
   * Why (a part of) the record stays in the tenant once written, whatever its undo does, or once
   * its write stopped part way; undefined when its undo removes it whole. Remote mode: an
   * invitation once created (Graph has no DELETE for invitations).
   */
  readonly stays: (r: Record_) => string | undefined
  /**
   * The undo of the record's write when it failed but may have landed (a 503, an answer that did
   * not come in time, a connection broken once sent: `CommandFailed.mayHaveLanded`): it removes
   * the record if it is there; undefined when no such undo is known (local mode, whose failed
   * writes did not land; a remote invitation, which Graph cannot delete).
   */
  readonly undoUnsure: (r: Record_) => UndoUnsure | undefined
}

const localWriter = (store: Store["Service"], tenant: string): Writer => {
  const fail = (e: unknown) => Local.fromDomain(e)
  const isUser = (id: string) => Effect.map(store.users.get(tenant, id), Option.isSome)
  return {
    existing: {
      has: (kind, id) => {
        const found: Effect.Effect<boolean, unknown> = kind === "user"
          ? Effect.map(store.users.get(tenant, id), Option.isSome)
          : kind === "group"
          ? Effect.map(store.groups.get(tenant, id), Option.isSome)
          : kind === "invitation"
          ? Effect.map(store.invitations.get(tenant, id), Option.isSome)
          : Effect.map(store.configurations.get(tenant, id), Option.isSome)
        return Effect.mapError(found, fail)
      },
      hasAssignment: (c, id) => Effect.mapError(Effect.map(store.assignments.get(tenant, c, id), Option.isSome), fail)
    },
    write: (r) => {
      const run = (): Effect.Effect<Effect.Effect<void, unknown>, unknown> => {
        switch (r.kind) {
          case "user":
            return Effect.as(store.users.insert(tenant, r.value), Effect.asVoid(store.users.remove(tenant, r.value.id)))
          case "group":
            return Effect.as(store.groups.insert(tenant, r.value), Effect.asVoid(store.groups.remove(tenant, r.value.id)))
          case "configuration":
            return Effect.as(
              store.configurations.insert(tenant, r.value),
              Effect.asVoid(store.configurations.remove(tenant, r.value.id))
            )
          case "assignment":
            return Effect.as(
              store.assignments.insert(tenant, r.configurationId, r.value),
              Effect.asVoid(store.assignments.remove(tenant, r.configurationId, r.value.id))
            )
          case "invitation": {
            const v = r.value
            const removeInvitation = Effect.asVoid(store.invitations.remove(tenant, v.id))
            const guest = r.invitedUser
            if (guest !== null) {
              return Effect.gen(function*() {
                const stored = yield* store.invitations.insert(tenant, v, guest)
                // Linked to a user of the tenant that holds the guest's name (core 0.11.0) rather
                // than to the guest of the file (or of an earlier invitation of it): the file's
                // guest cannot be made, so the line is refused as a user of that name would be.
                if (stored.invitedUserId !== guest.id) {
                  yield* removeInvitation
                  return yield* new Errors.UserPrincipalNameTaken({
                    userPrincipalName: guest.userPrincipalName ?? "",
                    heldBy: stored.invitedUserId
                  })
                }
                return Effect.asVoid(Effect.andThen(removeInvitation, store.users.remove(tenant, guest.id)))
              })
            }
            // Its guest user was deleted: the invitation alone, as it was exported.
            return Effect.as(store.invitations.insert(tenant, v), removeInvitation)
          }
          case "member":
            return Effect.gen(function*() {
              const kind = (yield* isUser(r.memberId)) ? "user" as const : "group" as const
              yield* store.groups.addMember(tenant, r.groupId, { kind, id: r.memberId })
              return Effect.asVoid(store.groups.removeMember(tenant, r.groupId, r.memberId))
            })
        }
      }
      return Effect.mapError(Effect.map(run(), (undo): Undo => () => Effect.mapError(undo, fail)), fail)
    },
    stays: () => undefined,
    undoUnsure: () => undefined
  }
}

const remoteWriter = (api: ReturnType<typeof Remote.client>): Writer => {
  const exists = (path: string) =>
    api.request({ method: "GET", path }).pipe(
      Effect.as(true),
      Effect.catchIf((e) => e.status === 404, () => Effect.succeed(false))
    )
  const del = (path: string) => Effect.asVoid(api.request({ method: "DELETE", path }))
  /** An undo that deletes `path`, its wait to retry cut as it says. */
  const undoBy = (path: string): Undo => (cut) => Effect.asVoid(api.request({ method: "DELETE", path }, cut))
  const invitedUsers = new Map<string, string>()
  const configurationPath = (id: string) => `deviceManagement/${Remote.key("deviceEnrollmentConfigurations", id)}`
  const memberOf = (r: Extract<Record_, { kind: "member" }>) => invitedUsers.get(r.memberId) ?? r.memberId
  /** What deletes the record (every kind but an invitation, which Graph cannot delete). */
  const deletePath = (r: Record_): string | undefined => {
    switch (r.kind) {
      case "user":
        return Remote.key("users", r.value.id)
      case "group":
        return Remote.key("groups", r.value.id)
      case "configuration":
        return configurationPath(r.value.id)
      case "assignment":
        return `${configurationPath(r.configurationId)}/${Remote.key("assignments", r.value.id)}`
      case "member":
        return `${Remote.key("groups", r.groupId)}/${Remote.key("members", memberOf(r))}/$ref`
      case "invitation":
        return undefined
    }
  }
  /** The invitations created (Graph has no DELETE for them), with what stays of each. */
  const invited = new Map<string, string>()
  const noDelete = "Graph has no DELETE for invitations"
  const strip = (v: Obj, keys: ReadonlyArray<string>) => Object.fromEntries(Object.entries(v).filter(([k]) => !keys.includes(k)))
  return {
    existing: {
      has: (kind, id) =>
        exists(
          kind === "user"
            ? Remote.key("users", id)
            : kind === "group"
            ? Remote.key("groups", id)
            : kind === "invitation"
            ? Remote.key("invitations", id)
            : `deviceManagement/${Remote.key("deviceEnrollmentConfigurations", id)}`
        ),
      hasAssignment: (c, id) => exists(`deviceManagement/${Remote.key("deviceEnrollmentConfigurations", c)}/${Remote.key("assignments", id)}`)
    },
    write: (r, cut) => {
      switch (r.kind) {
        case "user":
          return Effect.as(api.request({ method: "POST", path: "users", body: r.value }, cut), undoBy(deletePath(r)!))
        case "group":
          return Effect.as(api.request({ method: "POST", path: "groups", body: r.value }, cut), undoBy(deletePath(r)!))
        case "configuration":
          return Effect.as(
            api.request({ method: "POST", path: "deviceManagement/deviceEnrollmentConfigurations", body: strip(r.value, Configuration.serverManaged) }, cut),
            undoBy(deletePath(r)!)
          )
        case "assignment":
          return Effect.as(
            api.request({ method: "POST", path: `${configurationPath(r.configurationId)}/assignments`, body: r.value }, cut),
            undoBy(deletePath(r)!)
          )
        case "invitation":
          return Effect.gen(function*() {
            const v = r.value
            const { "@odata.type": _, ...body } = invitationCreateBody(v)
            // The users that hold the name the guest would take (core 0.11.0: the server links the
            // invitation to such a user rather than make a guest). One that this import did not make
            // refuses a line with a guest before anything is sent, as local import refuses it: the
            // file's guest, which its memberships name, could not be made.
            const name = Directory.guestUserPrincipalName(v.invitedUserEmailAddress)
            const found = yield* api.request({
              method: "GET",
              path: "users",
              query: { $filter: `userPrincipalName eq '${name.replaceAll("'", "''")}'`, $select: "id" }
            }, cut)
            const holders = ((found.body as { readonly value?: ReadonlyArray<Obj> } | undefined)?.value ?? []).map((u) => String(u.id))
            const madeHere = new Set(invitedUsers.values())
            if (r.invitedUser !== null && holders.some((id) => !madeHere.has(id))) {
              return yield* new CommandFailed({
                code: "BadRequest",
                detail: "Another object with the same value for property userPrincipalName already exists.",
                exit: "usage"
              })
            }
            yield* api.request({ method: "POST", path: "invitations", body }, cut)
            invited.set(v.id, `${noDelete}; its guest user, not read, remains too`)
            const user = yield* api.request({ method: "GET", path: `${Remote.key("invitations", v.id)}/invitedUser` }, cut)
            const made = user.body as Obj
            const newId = String(made.id)
            invited.set(v.id, noDelete)
            const guestStays = () => Effect.sync(() => invited.set(v.id, `${noDelete}; its guest user '${newId}' remains too`))
            if (r.invitedUser === null) {
              // The create linked a user that was there before it (another line's guest, say): not the
              // create's to delete. The invitation stays linked to it (Graph makes no invitation without a user).
              if (holders.length > 0) return () => Effect.void
              // Its guest user was deleted: delete the one the create made (Graph has no DELETE for invitations).
              // Let finish, not cut: a guest left would not be known.
              yield* del(Remote.key("users", newId)).pipe(Effect.tapError(guestStays))
              return () => Effect.void
            }
            // The guest of an earlier invitation of the file (an export writes it once per invitation
            // that links it): the server linked this invitation to it (core 0.11.0), and the earlier
            // invitation's undo deletes it.
            const linked = invitedUsers.get(r.invitedUser.id) === newId
            invitedUsers.set(r.invitedUser.id, newId)
            if (linked) return () => Effect.void
            // The guest as exported: what was changed on it after the invitation (Graph's other
            // properties included) is set on the new one; its id is the server's.
            const changed = Object.entries(r.invitedUser).filter(([k, x]) => k !== "id" && k !== "@odata.type" && !Json.equals(made[k], x))
            if (changed.length > 0) {
              // Refused (or cut): the new guest goes (this write has no undo yet); the invitation stays, as above.
              yield* api.request({ method: "PATCH", path: Remote.key("users", newId), body: Object.fromEntries(changed) }, cut).pipe(
                Effect.tapError(() => Effect.ignore(del(Remote.key("users", newId)).pipe(Effect.tapError(guestStays))))
              )
            }
            return undoBy(Remote.key("users", newId))
          })
        case "member":
          return Effect.as(
            api.request({
              method: "POST",
              path: `${Remote.key("groups", r.groupId)}/members/$ref`,
              body: { "@odata.id": `${api.base}/${Remote.key("directoryObjects", memberOf(r))}` }
            }, cut),
            undoBy(deletePath(r)!)
          )
      }
    },
    stays: (r) => r.kind === "invitation" ? invited.get(r.value.id) : undefined,
    // The undo's DELETE: answered 404, nothing was there to undo.
    undoUnsure: (r) => {
      const path = deletePath(r)
      if (path === undefined) return undefined
      return (cut) =>
        api.request({ method: "DELETE", path }, cut).pipe(
          Effect.as(true),
          Effect.catchIf((e): e is CommandFailed => e._tag === "CommandFailed" && e.status === 404, () => Effect.succeed(false))
        )
    }
  }
}

type Numbered = ReadonlyArray<{ readonly line: number; readonly record: Record_ }>

/** Parses and validates every line. */
const parseAll = (text: string): Effect.Effect<Numbered, CommandFailed> =>
  Effect.gen(function*() {
    // The text holds no byte order mark (PowerShell 5.1 writes one): decodeText dropped it.
    const lines = text.split("\n")
    const records: Array<{ line: number; record: Record_ }> = []
    const nonEmpty = lines.filter((l) => l.trim() !== "").length
    const validating = progress("validating", nonEmpty)
    for (let i = 0; i < lines.length; i++) {
      if (lines[i]!.trim() === "") continue
      records.push({ line: i + 1, record: yield* parseLine(i + 1, lines[i]!).pipe(Effect.tapError(() => Effect.sync(validating.end))) })
      validating.tick()
    }
    validating.end()
    return records
  })

/** A target that holds nothing yet: the store `import --create` is about to make. */
const nothing: Existing = { has: () => Effect.succeed(false), hasAssignment: () => Effect.succeed(false) }

// ---------------------------------------------------------------------------
// Signals while an import writes

/**
 * The signals that stop an import, with their numbers: a shell shows a process they end as 128 +
 * the number (130, 143, 129). SIGHUP is what a closed terminal or a dropped ssh session sends.
 */
const stopSignals = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const
type StopSignal = keyof typeof stopSignals
const StopSignal = Schema.Literals(Object.keys(stopSignals) as Array<StopSignal>)

/**
 * A wait to retry a request (remote mode, after a 429) that the signal stopping the import cut
 * short: the request was not sent again, so nothing of it landed.
 */
class WaitCut extends Schema.TaggedError<WaitCut>()("WaitCut", { signal: StopSignal }) {}

/** The signals received while an import writes and undoes. */
interface Signals {
  /** Those received so far, in order. */
  readonly received: ReadonlyArray<StopSignal>
  /** Succeeds with the `n`th signal once it has come (at once if it has). */
  readonly reach: (n: number) => Effect.Effect<StopSignal>
}

/**
 * A failed write to standard error, ignored: after SIGHUP the terminal is gone, and every write to
 * it fails (EIO), which Node reports as an `error` event that, unheard, would end the process half
 * way through the undo. There is no one left to tell.
 */
const ignoreStderrError = () => {}

/**
 * SIGINT, SIGTERM and SIGHUP, trapped for the scope (an import's writes and their undo): counted
 * instead of ending the process half way, for the import to stop where it is and undo what it
 * wrote; a failed write to standard error is ignored meanwhile ({@link ignoreStderrError}). The
 * entry point leaves signals to Node (it runs the program with `runPromiseExit`), so outside this
 * scope they end the process at once, as before: nothing is written there.
 */
const trapSignals: Effect.Effect<Signals, never, Scope.Scope> = Effect.acquireRelease(
  Effect.sync(() => {
    const received: Array<StopSignal> = []
    const waiting = new Set<() => void>()
    const listeners = (Object.keys(stopSignals) as Array<StopSignal>).map((signal) => {
      const listener = () => {
        received.push(signal)
        for (const wake of [...waiting]) wake()
      }
      process.on(signal, listener)
      return [signal, listener] as const
    })
    process.stderr.on("error", ignoreStderrError)
    const signals: Signals = {
      received,
      reach: (n) =>
        Effect.callback<StopSignal>((resume) => {
          const wake = () => {
            if (received.length < n) return
            waiting.delete(wake)
            resume(Effect.succeed(received[n - 1]!))
          }
          waiting.add(wake)
          wake()
          return Effect.sync(() => waiting.delete(wake))
        })
    }
    return { signals, listeners }
  }),
  ({ listeners }) =>
    Effect.sync(() => {
      for (const [signal, listener] of listeners) process.off(signal, listener)
      process.stderr.off("error", ignoreStderrError)
    })
).pipe(Effect.map(({ signals }) => signals))

/** An import a signal stopped: the error line to print, and the signal the process then ends by. */
class ImportInterrupted extends Schema.TaggedError<ImportInterrupted>()("ImportInterrupted", {
  signal: StopSignal,
  code: Schema.String,
  detail: Schema.String
}) {}

/**
 * Prints the error and ends the process by its signal, with the signal's default action, as a
 * process that had not trapped it would have ended: a shell shows 130 for SIGINT, 143 for
 * SIGTERM, 129 for SIGHUP, and a script running enrollctl stops too (bash stops a loop whose
 * command died of SIGINT, not one whose command exited 130). Run once the store is closed. After
 * SIGHUP the error line may reach no terminal: its failure is ignored.
 */
const endBy = (e: ImportInterrupted): Effect.Effect<never> =>
  Effect.suspend(() => {
    process.stderr.on("error", ignoreStderrError)
    process.stderr.write(`error ${e.code}: ${e.detail}\n`)
    process.kill(process.pid, e.signal)
    // Should the signal not end it (a listener elsewhere), the same status as an exit code.
    process.exitCode = 128 + stopSignals[e.signal]
    return Effect.never
  })

// ---------------------------------------------------------------------------
// Writing, and undoing

/** How many records an error names at most; past it, every record is also listed above the error, one a line. */
const listedAtMost = 10

/** A record as messages name it: its kind, its id and its line in the file (and a note). */
const nameOf = ({ line, note, record: r }: { readonly line: number; readonly record: Record_; readonly note?: string | undefined }): string => {
  const where = `(line ${line}${note === undefined ? "" : `; ${note}`})`
  switch (r.kind) {
    case "member":
      return `member '${r.memberId}' of group '${r.groupId}' ${where}`
    case "assignment":
      return `assignment '${r.value.id}' of configuration '${r.configurationId}' ${where}`
    default:
      return `${r.kind} '${r.value.id}' ${where}`
  }
}

/** Records named in a message: all of them, or the first {@link listedAtMost} and how many more (then each is on a line of its own above). */
const nameAll = (records: ReadonlyArray<Parameters<typeof nameOf>[0]>): string => {
  const names = records.slice(0, listedAtMost).map(nameOf).join(", ")
  return records.length <= listedAtMost ? names : `${names} and ${records.length - listedAtMost} more (each listed above)`
}

/** Distinct messages with how often each came, the first few. */
const tally = (messages: ReadonlyArray<string>): string => {
  const counts = new Map<string, number>()
  for (const m of messages) counts.set(m, (counts.get(m) ?? 0) + 1)
  const shown = [...counts].slice(0, 3).map(([m, n]) => (n === 1 ? m : `${m} (${n} times)`))
  return counts.size > 3 ? `${shown.join("; ")}; and ${counts.size - 3} other error(s)` : shown.join("; ")
}

/**
 * Whether a write that failed may have landed all the same, as remote mode marks it
 * (`CommandFailed.mayHaveLanded`): the server answered 503 (its store lost as it answered; see
 * Remote's `retry`), its answer did not come within the timeout (`--timeout`), or the connection
 * broke once the request may have reached the server (a connection never made, refused say, sent nothing). Its
 * undo is tried too (the writer's `undoUnsure`). A write a second signal cut off may have landed
 * too (named so; its undo is not tried).
 */
const mayHaveLanded = (e: CommandFailed): boolean => e.mayHaveLanded === true

type Written = Numbered[number] & { readonly undo: Undo }

/**
 * Checks, then writes all records or none. A write that fails stops the writes, and what was
 * written is undone, newest first. So does SIGINT, SIGTERM or SIGHUP (see {@link trapSignals}): the
 * write in flight is let finish (its undo is then known), but not a wait to retry it (after a
 * 429), which the signal ends at once (the request is not sent again); the process ends by the
 * signal once the undo is done. A signal during an undo stops it (the second, when a signal
 * started it), a wait to retry its step too: what remains is named, kind, id and line. A second
 * signal while the interrupted write is still in flight stops it too (it may have landed, and is
 * named so). What an undo cannot remove (the writer's `stays`: remote invitations) is named as
 * remaining, as is the part of a stopped write that stays.
 */
const importWith = (records: Numbered, writer: Writer): Effect.Effect<void, CommandFailed | ImportInterrupted> =>
  Effect.scoped(Effect.gen(function*() {
    yield* checkAll(records, writer.existing)
    const sorted = [...records].sort((a, b) => order.indexOf(a.record.kind) - order.indexOf(b.record.kind))
    const signals = yield* trapSignals
    /** Fails once the `n`th signal has come: a wait to retry then ends at once. */
    const cutAt = (n: number) => Effect.flatMap(signals.reach(n), (signal) => Effect.fail(new WaitCut({ signal })))
    const written: Array<Written> = []
    let failed: (Numbered[number] & { readonly error: CommandFailed }) | undefined
    let cut: Numbered[number] | undefined
    // A write whose wait to retry the first signal ended: not sent again.
    let notRetried: Numbered[number] | undefined
    const writing = progress("importing", sorted.length)
    for (const item of sorted) {
      if (signals.received.length > 0) break
      const outcome = yield* Effect.raceFirst(Effect.result(writer.write(item.record, cutAt(1))), Effect.as(signals.reach(2), "cut" as const))
      if (outcome === "cut") {
        cut = item
        break
      }
      if (Result.isFailure(outcome)) {
        if (outcome.failure._tag === "WaitCut") notRetried = item
        else failed = { ...item, error: outcome.failure }
        break
      }
      written.push({ ...item, undo: outcome.success })
      writing.tick()
    }
    writing.end()
    const signal = signals.received[0]
    if (failed === undefined && signal === undefined) {
      const counts: Record<string, number> = {}
      for (const { record } of records) counts[record.kind] = (counts[record.kind] ?? 0) + 1
      process.stderr.write(`imported ${order.filter((k) => counts[k]).map((k) => `${counts[k]} ${k}(s)`).join(", ") || "nothing"}\n`)
      return
    }

    // Undo, newest first, until the signal that stops it: after a failed write the first; after a
    // signal that stopped the writes the next one, the third when a second signal cut off the write
    // in flight (two quick Ctrl-Cs stop the writes, and the undo still runs).
    const stopAt = signal === undefined ? 1 : cut === undefined ? 2 : 3
    if (signal !== undefined && signals.received.length < stopAt) {
      process.stderr.write(
        `${signal}: stopping the import; undoing the ${written.length} record(s) written, newest first ` +
          `(SIGINT, SIGTERM or SIGHUP again stops the undo and lists what remains)\n`
      )
    }
    // A failed write that may have landed is undone too, first (it is the newest): removed if it
    // is there. Whether it was there, once known.
    const undoUnsure = failed !== undefined && mayHaveLanded(failed.error) && writer.stays(failed.record) === undefined
      ? writer.undoUnsure(failed.record)
      : undefined
    let unsureFound: boolean | undefined
    const unsureStep: Written | undefined = failed === undefined || undoUnsure === undefined ? undefined : {
      line: failed.line,
      record: failed.record,
      undo: (stop) => Effect.map(undoUnsure(stop), (found) => void (unsureFound = found))
    }
    const steps = unsureStep === undefined ? written : [...written, unsureStep]
    // What remains, with a note for a record whose undo was cut off in flight, or that stays.
    const remain = new Map<Written, string | undefined>()
    const undoErrors: Array<string> = []
    let undone = 0
    let stoppedBy: StopSignal | undefined
    const undoing = signal === undefined ? undefined : progress("undoing", written.length)
    for (let i = steps.length - 1; i >= 0; i--) {
      const w = steps[i]!
      // The signal that stops the undo lets the step in flight finish, so that what remains is
      // known (a wait to retry it ends: the step is not done); one more cuts it off.
      const r = signals.received.length >= stopAt
        ? ("stopped" as const)
        : yield* Effect.raceFirst(Effect.result(w.undo(cutAt(stopAt))), Effect.as(signals.reach(stopAt + 1), "cut" as const))
      const failure = typeof r === "string" || Result.isSuccess(r) ? undefined : r.failure
      if (r === "stopped" || r === "cut" || failure?._tag === "WaitCut") {
        stoppedBy = signals.received[stopAt - 1]
        for (const older of steps.slice(0, i + 1)) remain.set(older, undefined)
        if (r === "cut") remain.set(w, "its undo was cut off: it may be gone")
        break
      }
      if (failure !== undefined) {
        remain.set(w, undefined)
        undoErrors.push(failure.message)
      } else if (writer.stays(w.record) !== undefined) {
        remain.set(w, writer.stays(w.record))
      } else if (w !== unsureStep) {
        undone++
      }
      if (w !== unsureStep) undoing?.tick()
    }
    undoing?.end()
    // The failed write that may have landed, when its undo did not settle it: named as remaining.
    if (unsureStep !== undefined && remain.has(unsureStep)) {
      const note = remain.get(unsureStep)
      remain.set(unsureStep, `its write may have landed${note === undefined ? "" : `; ${note}`}`)
    }

    // The record whose write stopped part way (failed, not retried, cut off), when a part of it stays.
    const partway = failed ?? notRetried ?? cut
    const stays = partway === undefined ? undefined : writer.stays(partway.record)
    const left = [
      ...steps.filter((w) => remain.has(w)).map((w) => ({ ...w, note: remain.get(w) })),
      ...(partway === undefined || stays === undefined ? [] : [{ ...partway, note: `${stays}; its write stopped part way` }])
    ]
    if (left.length > listedAtMost) {
      process.stderr.write(left.map((w) => `remains: ${nameOf(w)}\n`).join(""))
    }
    // A write that may be in the tenant, and whose undo was not tried (a write cut off in flight).
    const unsure = stays !== undefined || unsureStep !== undefined
      ? undefined
      : failed !== undefined && mayHaveLanded(failed.error)
      ? failed.line
      : cut?.line
    // What the undo of a failed write that may have landed found. Without an answer (a timeout, a
    // broken connection) the server may still be at the write: a record not found may come later.
    const unanswered = failed?.error.status === undefined
    const settled = unsureFound === undefined || remain.has(unsureStep!)
      ? undefined
      : unsureFound
      ? `line ${failed!.line}'s had landed, and was undone too`
      : `line ${failed!.line}'s was not in the tenant when undone (its DELETE answered 404)${
        unanswered ? ", but the server, which did not answer, may still be writing it" : ""
      }`
    const count = written.length
    const undoFailures = undoErrors.length === 0 ? "" : `; the undo failed with: ${tally(undoErrors)}`
    let summary: string
    if (left.length > 0) {
      const why = stoppedBy !== undefined
        ? ` (${stopAt === 1 ? stoppedBy : `a ${stopAt === 2 ? "second" : "third"} ${stoppedBy}`} stopped the undo ${
          undone === 0 ? "before any was undone" : `after undoing ${undone} of the ${count} written`
        }${undoErrors.length === 0 ? "" : `; ${undoErrors.length} undo step(s) failed`})`
        : count === 0
        ? ""
        : ` after ${undoErrors.length === 0 ? "the undo" : "a failed undo"} (${undone} of the ${count} written were undone)`
      summary = `${left.length} record(s) remain${why}: ${nameAll(left)}${undoFailures}`
    } else if (unsure !== undefined || (unsureFound === false && unanswered)) {
      summary = count === 0 ? "nothing else was written" : "the records before it were undone"
    } else if (signal !== undefined) {
      summary = count === 0 ? "nothing was written" : `all ${count} were undone: nothing was imported`
    } else {
      summary = "nothing was imported"
    }
    const detail = [
      failed !== undefined
        ? `line ${failed.line}: ${failed.error.detail}`
        : `${signal} stopped the import after ${count} of ${sorted.length} record(s) were written${
          notRetried === undefined ? "" : ` (the write of line ${notRetried.line}, waiting to be retried, was not sent again)`
        }`,
      summary,
      ...(settled === undefined ? [] : [settled]),
      ...(unsure === undefined
        ? []
        : [cut === undefined ? `line ${unsure}'s may be in the tenant` : `a second ${signals.received[1]} cut off the write of line ${unsure}: it may be in the tenant`])
    ].join("; ")
    const ending = stoppedBy ?? signal
    if (ending !== undefined) return yield* new ImportInterrupted({ signal: ending, code: failed?.error.code ?? "Interrupted", detail })
    return yield* new CommandFailed({ code: failed!.error.code, detail, exit: failed!.error.exit })
  }))

/**
 * `enrollctl import [--create] FILE`. With `create` (local mode), a store that is
 * not there (a SQLite file, or a PostgreSQL schema's tables) is made, once every
 * line and reference has been checked; without it, a missing one is refused as
 * every local command refuses it. The mode and the flags are checked before the
 * file is read: a usage error never waits for standard input to end (`import -`);
 * so are a missing store (a SQLite file, a PostgreSQL schema that holds none, or its
 * database out of reach) and, without a token, remote mode's missing secret. Remote
 * mode's token is minted once it is read (a minted one lasts 10 minutes).
 */
export const importFile = (raw: Globals, file: string, options: { readonly create: boolean }) =>
  Effect.gen(function*() {
    const chosen = yield* modeOf(raw)
    if (chosen._tag === "Remote" && options.create) {
      return yield* usage("import --create applies to local mode (--store sqlite or postgres): the server makes its own store")
    }
    const withCreate = (settings: LocalSettings): LocalSettings => {
      const s = settings.store
      return options.create && s._tag !== "memory" ? { ...settings, store: { ...s, create: true } } : settings
    }
    // A missing store (a SQLite file, a PostgreSQL schema's), or remote mode's missing secret, is
    // refused before the input is read too.
    if (chosen._tag === "Local") yield* Local.checkPresent(withCreate(chosen.settings))
    else yield* checkSecret(raw)
    const text = yield* readAll(file)
    const mode = yield* resolveMode(raw)
    if (mode._tag === "Remote") return yield* importWith(yield* parseAll(text), remoteWriter(Remote.client(mode.settings)))
    const settings = withCreate(mode.settings)
    const records = yield* parseAll(text)
    // Nothing is made for a file that would be refused.
    if (yield* Local.isNew(settings)) yield* checkAll(records, nothing)
    yield* Effect.gen(function*() {
      const store = yield* Store
      yield* importWith(records, localWriter(store, settings.tenant))
    }).pipe(Effect.provide(Local.storeLayer(settings)))
  }).pipe(
    // Here, outside the store's scope: the store is closed before the process ends.
    Effect.catchTag("ImportInterrupted", endBy)
  )

// ---------------------------------------------------------------------------
// Export

const line = (r: Record_) => `${JSON.stringify(r)}\n`

const pages = <A, E>(page: (req: { after?: string | undefined; limit: number }) => Effect.Effect<{ items: ReadonlyArray<A>; next: string | undefined }, E>) =>
  Effect.gen(function*() {
    const out: Array<A> = []
    let after: string | undefined
    for (;;) {
      const p = yield* page({ after, limit: 999 })
      out.push(...p.items)
      if (p.next === undefined) return out
      after = p.next
    }
  })

/**
 * The local export. Members are read through the core's member list, which the server's
 * `GET /groups/{id}/members` answers with: a membership whose member is gone (left by a
 * delete that raced an add) is not written, as remote export does not write it, and the
 * file imports again.
 *
 * Every read is of one snapshot of the store (core 0.11.0's `Store.snapshot`): on
 * SQLite one read transaction held over the whole export, on PostgreSQL one `REPEATABLE READ
 * READ ONLY` transaction. A server writing the tenant meanwhile writes on, and the file holds
 * the tenant as it was at one moment: its import into an empty store succeeds.
 */
const exportLocal = (store: Store["Service"], directory: DirectoryService["Service"], t: string) =>
  inSnapshot(store, Effect.gen(function*() {
    const invitations = yield* pages((p) => store.invitations.list(t, p))
    const invited = new Set(invitations.map((i) => i.invitedUserId))
    for (const u of yield* pages((p) => store.users.list(t, p))) if (!invited.has(u.id)) yield* print(line({ kind: "user", value: u }))
    const groups = yield* pages((p) => store.groups.list(t, p))
    for (const g of groups) yield* print(line({ kind: "group", value: g }))
    for (const i of invitations) {
      const user = yield* store.users.get(t, i.invitedUserId)
      const { invitedUserId: _, ...view } = i
      yield* print(line({ kind: "invitation", value: view as any, invitedUser: Option.getOrNull(user) }))
    }
    for (const g of groups) {
      for (const m of yield* pages((p) => directory.members(t, g.id, p))) {
        yield* print(line({ kind: "member", groupId: g.id, memberId: m.id }))
      }
    }
    for (const c of yield* pages((p) => store.configurations.list(t, p))) {
      yield* print(line({ kind: "configuration", value: c }))
      for (const a of yield* pages((p) => store.assignments.list(t, c.id, p))) {
        yield* print(line({ kind: "assignment", configurationId: c.id, value: a }))
      }
    }
  })).pipe(Effect.mapError(Local.fromDomain))

const exportRemote = (api: ReturnType<typeof Remote.client>) =>
  Effect.gen(function*() {
    // Every page, its next links followed as every list's are (only on the service's origin, none
    // twice); a page that is none (a web page at the base URL) fails: never an empty tenant.
    const listAll = (path: string) =>
      Effect.gen(function*() {
        const query = { $top: "999" }
        const res = yield* api.request({ method: "GET", path, query })
        const items = yield* api.pages(res, `${api.base}/${path}?${new URLSearchParams(query)}`)
        return items.map(clean)
      })
    const clean = (v: Obj): Obj => Object.fromEntries(Object.entries(v).filter(([k]) => k === "@odata.type" || !k.startsWith("@odata.")))
    const invitations = yield* listAll("invitations")
    const invitedUsers = new Map<string, Obj>()
    for (const i of invitations) {
      // 404: the guest user was deleted; the invitation is exported without it.
      const u = yield* api.request({ method: "GET", path: `${Remote.key("invitations", String(i.id))}/invitedUser` }).pipe(
        Effect.map((res) => clean(res.body as Obj)),
        Effect.catchIf((e) => e.status === 404, () => Effect.succeed(undefined))
      )
      if (u !== undefined) invitedUsers.set(String(i.id), u)
    }
    // Every other kind of read the export makes, once, cheaply, before its first line: a token
    // without a permission one of them needs fails here, with nothing written (the users are read
    // whole before they are written, as the invitations and their guests were above). A failure
    // after this (the network, the server) still stops the export part way, its output a prefix.
    const first = (path: string) =>
      Effect.flatMap(api.request({ method: "GET", path, query: { $top: "1" } }), (res) =>
        Effect.map(Remote.pageOf(res, `${api.base}/${path}`), (page) => page.value[0] as Obj | undefined))
    const someGroup = yield* first("groups")
    const someConfiguration = yield* first("deviceManagement/deviceEnrollmentConfigurations")
    if (someGroup !== undefined) yield* first(`${Remote.key("groups", String(someGroup.id))}/members`)
    if (someConfiguration !== undefined) {
      yield* first(`deviceManagement/${Remote.key("deviceEnrollmentConfigurations", String(someConfiguration.id))}/assignments`)
    }
    const invitedIds = new Set([...invitedUsers.values()].map((u) => String(u.id)))
    for (const u of yield* listAll("users")) if (!invitedIds.has(String(u.id))) yield* print(line({ kind: "user", value: u as any }))
    const groups = yield* listAll("groups")
    for (const g of groups) yield* print(line({ kind: "group", value: g as any }))
    for (const i of invitations) {
      yield* print(line({ kind: "invitation", value: i as any, invitedUser: (invitedUsers.get(String(i.id)) ?? null) as any }))
    }
    for (const g of groups) {
      for (const m of yield* listAll(`${Remote.key("groups", String(g.id))}/members`)) {
        yield* print(line({ kind: "member", groupId: String(g.id), memberId: String(m.id) }))
      }
    }
    for (const c of yield* listAll("deviceManagement/deviceEnrollmentConfigurations")) {
      yield* print(line({ kind: "configuration", value: c as any }))
      for (const a of yield* listAll(`deviceManagement/${Remote.key("deviceEnrollmentConfigurations", String(c.id))}/assignments`)) {
        yield* print(line({ kind: "assignment", configurationId: String(c.id), value: a as any }))
      }
    }
  })

/** `enrollctl export`. */
export const exportTenant = (raw: Globals) =>
  Effect.gen(function*() {
    const mode = yield* resolveMode(raw)
    if (mode._tag === "Remote") return yield* exportRemote(Remote.client(mode.settings))
    const settings = mode.settings
    yield* Effect.gen(function*() {
      yield* exportLocal(yield* Store, yield* DirectoryService, settings.tenant)
    }).pipe(Effect.provide(DirectoryService.layer.pipe(Layer.provideMerge(Local.storeLayer(settings)))))
  })
