/**
 * Request bodies: `--body` as inline JSON, `@file.json`, or `-` for standard
 * input; and the expanded flags (`--target-type group --group-id g …`) that
 * build the common bodies without writing JSON. Flags win over `--body` where
 * both say something (a target's properties merge into the body's target); flags
 * that contradict each other (`--target-type none` with a target's property) are
 * a usage error.
 *
 * @since 0.1.0
 */
import { Errors, Json } from "@enrollment/core"
import { fstatSync } from "node:fs"
import { readFile } from "node:fs/promises"
import * as Effect from "effect/Effect"
import * as Encoding from "./Encoding.ts"
import { type CommandFailed, usage } from "./Failure.ts"

/**
 * Standard input, read to its end; a standard input that cannot be read (a directory,
 * `< /tmp`; a closed descriptor) throws the system's error (EISDIR, EBADF). Node's stream of it
 * ends at once there, as an empty input would (since 0.6.2: before, `import - < /tmp` imported
 * nothing, exit 0, and `--body - < /tmp` read as JSON that ends too soon), so its descriptor is
 * looked at first.
 */
export const readStdin = async (): Promise<Buffer> => {
  if (fstatSync(0).isDirectory()) {
    throw Object.assign(new Error("EISDIR: illegal operation on a directory, read"), { code: "EISDIR" })
  }
  const chunks: Array<Buffer> = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/**
 * The text of a file (`-`: standard input) read as import reads one ({@link Encoding.decode}):
 * UTF-8, its byte order mark dropped, or UTF-16 with its byte order mark; anything else a usage
 * error (exit 2) after `prefix` (`--body: `), bytes that are not UTF-8 naming the line and the
 * first byte that does not decode.
 */
const read = (name: string, prefix: string) =>
  Effect.tryPromise({
    try: () => name === "-" ? readStdin() : readFile(name),
    catch: (e) => usage(`${prefix}cannot read ${name === "-" ? "standard input" : name}: ${(e as Error).message}`)
  }).pipe(Effect.flatMap((bytes) => {
    const decoded = Encoding.decode(bytes, name)
    if (decoded.ok) return Effect.succeed(decoded.text)
    const { refusal } = decoded
    return Effect.fail(usage(
      refusal._tag === "NotUtf8"
        ? `${prefix}line ${refusal.line}: ${refusal.detail}`
        : `${prefix}cannot read ${name === "-" ? "standard input" : name}: ${refusal.detail}`
    ))
  }))

/**
 * The text of a `--body` value: inline, `@file` or `-` (standard input), the file's read as import
 * reads one ({@link read}). An inline body's byte order mark (`--body "$(cat body.json)"` of a file
 * that has one) is dropped too.
 */
export const text = (raw: string) =>
  raw === "-" || raw.startsWith("@") ? read(raw === "-" ? "-" : raw.slice(1), "--body: ") : Effect.succeed(raw.replace(/^\uFEFF/, ""))

/** The text of a FILE argument (`-`: standard input), read as import reads one, or a usage error naming it. */
export const file = (name: string) => read(name, "")

/**
 * Parses JSON text, or a usage error naming the source: for text that is not JSON, and (since
 * 0.4.0) for a number a double cannot keep as written ({@link Json.inexactNumber}: `1e400`,
 * `9007199254740993`), naming its path (`--body: limit: expected …, got 1e400`), which would
 * reach the service as another number (or null) without a word; and (since 0.5.1) for a member
 * given twice in one object ({@link Json.duplicateMember}), as the server refuses one.
 */
export const parseJson = (source: string, text: string) =>
  Effect.try({
    try: () => JSON.parse(text) as unknown,
    catch: (e) => usage(`${source}: invalid JSON: ${(e as Error).message}`)
  }).pipe(Effect.flatMap((value) => {
    const inexact = Json.inexactNumber(text)
    if (inexact !== undefined) return Effect.fail(usage(`${source}: ${Errors.invalid.value(inexact.path, inexact.expected, inexact.literal).message}`))
    // A member given twice (since 0.5.1): the server refuses it, and JSON.parse would keep the last without a word.
    const repeated = Json.duplicateMember(text, value)
    return repeated === undefined ? Effect.succeed(value) : Effect.fail(usage(`${source}: ${repeated.message}`))
  }))

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v)

/**
 * The body of a request: `--body` (if given) with the expanded flags merged in
 * (a `target` object from flags merges into the body's target). With neither,
 * `fallback` (for PATCH: `{}`; for create: `{}` too, the service says what is missing).
 */
export const resolve = (raw: string | undefined, fields: Record<string, unknown>, fallback: unknown = {}) =>
  Effect.gen(function*() {
    const base = raw === undefined ? undefined : yield* Effect.flatMap(text(raw), (t) => parseJson("--body", t))
    if (Object.keys(fields).length === 0) return base === undefined ? fallback : base
    if (base !== undefined && !isObject(base)) return yield* usage("--body must be a JSON object when combined with other flags")
    const out: Record<string, unknown> = { ...base }
    for (const [k, v] of Object.entries(fields)) {
      out[k] = k === "target" && isObject(v) && isObject(out.target) ? { ...out.target, ...v } : v
    }
    return out
  })

/**
 * `--body` for a command that must not run without one (the assign action
 * replaces a whole set: a forgotten flag must not be sent as `{}`): the parsed
 * body, or a usage error that says `what` to send.
 */
export const required = (raw: string | undefined, what: string) =>
  raw === undefined ? present(raw, what) : Effect.flatMap(text(raw), (t) => parseJson("--body", t))

/** Refuses a missing required `--body` (the check {@link required} makes first), without reading one. */
export const present = (raw: string | undefined, what: string): Effect.Effect<void, CommandFailed> =>
  raw === undefined ? Effect.fail(usage(`--body is required: ${what}`)) : Effect.void

/** The target types the `--target-type` flag takes, and the Graph types they name (`none`: no target). */
export const targetTypes = {
  group: "groupAssignmentTarget",
  "exclusion-group": "exclusionGroupAssignmentTarget",
  "all-devices": "allDevicesAssignmentTarget",
  "all-licensed-users": "allLicensedUsersAssignmentTarget",
  "configuration-manager-collection": "configurationManagerCollectionAssignmentTarget",
  none: null
} as const
export type TargetTypeFlag = keyof typeof targetTypes

/** The expanded assignment flags. */
export interface AssignmentFlags {
  readonly targetType?: TargetTypeFlag | undefined
  readonly groupId?: string | undefined
  readonly collectionId?: string | undefined
  readonly filterId?: string | undefined
  readonly filterType?: "none" | "include" | "exclude" | undefined
  readonly source?: "direct" | "policySets" | undefined
  readonly sourceId?: string | undefined
  readonly id?: string | undefined
}

/** The partial assignment body the expanded flags describe. */
export const assignmentFields = (f: AssignmentFlags): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  if (f.id !== undefined) out.id = f.id
  const target: Record<string, unknown> = {}
  if (f.targetType !== undefined && targetTypes[f.targetType] !== null) {
    target["@odata.type"] = `#microsoft.graph.${targetTypes[f.targetType]}`
  }
  if (f.groupId !== undefined) target.groupId = f.groupId
  if (f.collectionId !== undefined) target.collectionId = f.collectionId
  if (f.filterId !== undefined) target.deviceAndAppManagementAssignmentFilterId = f.filterId
  if (f.filterType !== undefined) target.deviceAndAppManagementAssignmentFilterType = f.filterType
  if (f.targetType === "none") out.target = null
  else if (Object.keys(target).length > 0) out.target = target
  if (f.source !== undefined) out.source = f.source
  if (f.sourceId !== undefined) out.sourceId = f.sourceId
  return out
}

/** The flags that set a property of the target, which `--target-type none` (no target) leaves nowhere to go. */
const targetPropertyFlags = [
  ["groupId", "--group-id"],
  ["collectionId", "--collection-id"],
  ["filterId", "--filter-id"],
  ["filterType", "--filter-type"]
] as const

/**
 * The body of an assignment's create or PATCH: `--body` (if given) with the expanded flags
 * merged in, the flags winning ({@link resolve}). `--target-type none` with a target's
 * property (`--group-id`, …) is a usage error: the property would be dropped with the target.
 */
export const assignment = (raw: string | undefined, f: AssignmentFlags) =>
  Effect.andThen(assignmentConflict(f), resolve(raw, assignmentFields(f)))

/**
 * Refuses `--target-type none` with a target's property (the check {@link assignment} makes
 * first), without reading the body.
 */
export const assignmentConflict = (f: AssignmentFlags): Effect.Effect<void, CommandFailed> => {
  const given = f.targetType === "none" ? targetPropertyFlags.filter(([k]) => f[k] !== undefined).map(([, flag]) => flag) : []
  return given.length > 0
    ? Effect.fail(
      usage(`--target-type none removes the target, so ${given.join(", ")} would be dropped: give the target's type (e.g. --target-type group), or leave ${given.length === 1 ? "it" : "them"} out`)
    )
    : Effect.void
}

/** Drops undefined entries (flags not given). */
export const defined = (fields: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined))
