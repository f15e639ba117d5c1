/**
 * What the SQL stores share: the row shape of an assignment, keyset paging
 * from a `LIMIT n + 1` read, and the mapping of engine failures to
 * `StoreUnavailable`.
 *
 * Every entity is stored as the JSON text of its value, verbatim (the values
 * are the canonical Graph JSON, so key order and content come back exactly as
 * given), next to the columns the port looks it up by.
 *
 * @since 0.1.0
 */
import {
  AssignmentFilter,
  Errors,
  type Assignment,
  type AssignmentOf,
  type Directory,
  type Page,
  type PageRequest,
  type Targeting
} from "@enrollment/core"
import { Effect } from "effect"
import { noteText } from "./ReadCache.ts"

/** A row as the drivers return it. */
export type Row = Record<string, unknown>

/** The indexed columns of an assignment, in the order the statements bind them. */
export const assignmentColumns = (
  a: Assignment.Assignment
): readonly [source: string, sourceId: string | null, targetType: string | null, groupId: string | null] => {
  const c = AssignmentFilter.columnsOf(a)
  return [c.source, c.sourceId, c.targetType, c.groupId]
}

/** The row limit to ask the engine for: one more than the page, to learn whether more exist. */
export const fetchLimit = (page: PageRequest): number =>
  // A negative limit never fills a page in the memory store: every item comes back.
  page.limit < 0 ? 2_147_483_647 : Math.floor(page.limit) + 1

/**
 * A page from rows read with {@link fetchLimit}: at most `limit` items, and the
 * id of the last one when more exist (never when the page is empty).
 */
export const toPage = <R, A>(
  rows: ReadonlyArray<R>,
  page: PageRequest,
  item: (row: R) => A,
  idOf: (row: R) => string
): Page<A> => {
  const limit = page.limit < 0 ? rows.length : Math.floor(page.limit)
  const more = rows.length > limit
  const kept = more ? rows.slice(0, limit) : rows
  return {
    items: kept.map(item),
    next: more && kept.length > 0 ? idOf(kept[kept.length - 1]!) : undefined
  }
}

/** The store failed; the operation did not happen (or, for a lost commit acknowledgement, may have). */
export const unavailable = (cause: unknown): Errors.StoreUnavailable => new Errors.StoreUnavailable({ cause })

/**
 * The newest of `recorded` (a store's applied migrations) that `known` (a release's migrations) does not list: a
 * migration of a newer release; undefined when there is none.
 *
 * @since 0.3.1
 */
export const newestUnknown = (
  recorded: Iterable<number>,
  known: ReadonlyArray<{ readonly version: number }>
): number | undefined => {
  let newest: number | undefined
  for (const v of recorded) {
    if (!known.some((m) => m.version === v) && (newest === undefined || v > newest)) newest = v
  }
  return newest
}

/**
 * Why a store a newer release migrated is not opened (a store at `version`, which this release does not know).
 *
 * @since 0.3.1
 */
export const tooNew = (version: number, known: ReadonlyArray<{ readonly version: number }>): string =>
  `the store's schema is at version ${version}, which this release does not know (it knows up to ${
    Math.max(0, ...known.map((m) => m.version))
  }): a newer release wrote it; run that release or a later one (nothing was changed)`

/** Reads stored JSON text back into the value it was written from (its length noted: {@link ReadCache.noteText}). */
export const parse = <A>(text: unknown): A => {
  const value = JSON.parse(text as string)
  noteText(text as string, value)
  return value as A
}

/** A value's stored JSON text (its length noted: {@link ReadCache.noteText}). */
export const rowText = (value: unknown): string => {
  const text = JSON.stringify(value)
  noteText(text, value)
  return text
}

/** A `(configuration_id, data)` row of an assignment. */
export const toAssignmentOf = (r: Row): AssignmentOf => ({
  configurationId: r.configuration_id as string,
  assignment: parse(r.data)
})

/** A `(member_id, member_kind)` row. */
export const toMemberRef = (r: Row): Directory.MemberRef => ({
  kind: r.member_kind as Directory.MemberRef["kind"],
  id: r.member_id as string
})

/** A `(group_id, member_id)` row. */
export const toMembership = (r: Row): Targeting.Membership => ({
  groupId: r.group_id as string,
  memberId: r.member_id as string
})

/**
 * The port's entity-set methods of an adapter's entity set, without its
 * adapter-only helpers (such as `insertRow`).
 */
export const entityMethods = <
  S extends { readonly get: unknown; readonly list: unknown; readonly count: unknown; readonly insert: unknown; readonly modify: unknown; readonly remove: unknown }
>(
  set: S
): Pick<S, "get" | "list" | "count" | "insert" | "modify" | "remove"> => ({
  get: set.get,
  list: set.list,
  count: set.count,
  insert: set.insert,
  modify: set.modify,
  remove: set.remove
})

/** Keeps the last value given for each id, in id order of first appearance (as a Map does). */
export const lastById = <A extends { readonly id: string }>(values: ReadonlyArray<A>): ReadonlyArray<A> => {
  const m = new Map<string, A>()
  for (const v of values) m.set(v.id, v)
  return [...m.values()]
}

/**
 * `self`, or a {@link Errors.StoreUnavailable} once `millis` have passed without its
 * answer. The caller is answered at the deadline; `self` is interrupted in the
 * background and not waited for: an interrupted query on a connection whose peer
 * stopped answering (a network black hole) can hang in its cleanup (a ROLLBACK that
 * never returns), and the request must not hang with it.
 *
 * @since 0.2.7
 */
export const deadline = <A, E>(self: Effect.Effect<A, E>, millis: number): Effect.Effect<A, E | Errors.StoreUnavailable> =>
  Effect.withFiber((parent) =>
    Effect.callback<A, E | Errors.StoreUnavailable>((resume) => {
      const fiber = Effect.runForkWith(parent.context)(self)
      const timer = setTimeout(() => {
        resume(Effect.fail(unavailable(new Error(`the database did not answer within ${millis} ms`))))
        fiber.interruptUnsafe()
      }, millis)
      fiber.addObserver((exit) => {
        clearTimeout(timer)
        resume(exit)
      })
      return Effect.sync(() => {
        clearTimeout(timer)
        fiber.interruptUnsafe()
      })
    })
  )

/**
 * The store with every method's effect under a {@link deadline} of `millis` (`stampOf`, synchronous,
 * as it is, and `snapshot`, whose reads each have their own).
 */
export const withDeadline = <S extends object>(store: S, millis: number): S => {
  const wrap = (value: unknown): unknown => {
    if (Effect.isEffect(value)) return deadline(value as Effect.Effect<unknown, unknown>, millis)
    if (typeof value === "function") {
      const method = value as (...args: Array<unknown>) => Effect.Effect<unknown, unknown>
      return (...args: Array<unknown>) => deadline(method(...args), millis)
    }
    if (typeof value === "object" && value !== null) {
      // `snapshot` runs its caller's reads, each under its own deadline: a long export is no one call.
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === "stampOf" || k === "snapshot" ? v : wrap(v)]))
    }
    return value
  }
  return wrap(store) as S
}

/**
 * The store with every method traced as a span named `<name>.<set>.<method>`
 * (e.g. `SqliteStore.assignments.modify`), as `Effect.fn` names service
 * methods. Stack traces are not captured: on SQLite they would double the cost
 * of a call. With `enabled` false (tracing off when the store was built) the
 * store is returned as it is: even a disabled span costs about 2 µs a call.
 */
export const withSpans = <S extends object>(name: string, store: S, enabled: boolean): S => {
  if (!enabled) return store
  const options = { captureStackTrace: false } as const
  const wrap = (value: unknown, path: string): unknown => {
    if (Effect.isEffect(value)) return Effect.withSpan(value, path, options)
    if (typeof value === "function") {
      const method = value as (...args: Array<unknown>) => Effect.Effect<unknown, unknown>
      return (...args: Array<unknown>) => Effect.withSpan(method(...args), path, options)
    }
    if (typeof value === "object" && value !== null) {
      // `stampOf` is synchronous (it answers a number, not an Effect): nothing to trace.
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === "stampOf" ? v : wrap(v, `${path}.${k}`)]))
    }
    return value
  }
  return wrap(store, name) as S
}

/**
 * What an upgrade of a store did, for its operator (since 0.6.0): the versions it went from and to,
 * the rows its migrations removed (by what they were), and the ids that are both a user and a group
 * (what releases before 0.3.0 could write: users and groups share one id space since, and nothing
 * can decide which of the two is the right one).
 */
export interface Upgrade {
  readonly from: number
  readonly to: number
  readonly migrations: ReadonlyArray<string>
  readonly removed: ReadonlyArray<readonly [what: string, rows: number]>
  /** How many ids are both a user and a group, and the first of them (at most {@link sharedIdsShown}). */
  readonly shared: { readonly count: number; readonly first: ReadonlyArray<{ readonly tenant: string; readonly id: string }> }
  /**
   * At the upgrade that made principal names unique (schema version 3, core 0.11.0): how many names
   * (keys, by tenant) more than one user holds, and the first of them (at most {@link sharedIdsShown}).
   */
  readonly sharedNames?: { readonly count: number; readonly first: ReadonlyArray<{ readonly tenant: string; readonly name: string }> } | undefined
}

/** The SQL (both engines') of the principal names more than one user of a tenant holds, `users` the table's name. */
export const sharedNamesSql = (users: string) =>
  `SELECT tenant_id AS tenant, upn_key AS name FROM ${users} WHERE upn_key IS NOT NULL
   GROUP BY tenant_id, upn_key HAVING count(*) > 1`

/** A line for the store's operator, and how serious it is. */
export type Notice = (line: string, level: "info" | "warn") => void

/**
 * An id or tenant as a notice names it: JSON's string, so a quote or a comma in it cannot make the
 * list read otherwise, with the characters that reorder a terminal's line (bidirectional controls)
 * escaped too.
 */
const quoted = (s: string): string =>
  JSON.stringify(s).replace(/[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)

/** The shared ids an upgrade's notice names; the rest are counted. */
export const sharedIdsShown = 10

/**
 * The lines an upgrade is said in: one of what it did, and a warning naming the ids that are both a
 * user and a group. A store made new (from version 0) says nothing: there was nothing to upgrade.
 */
export const upgradeNotices = (u: Upgrade): ReadonlyArray<readonly [line: string, level: "info" | "warn"]> => {
  if (u.from === 0 || u.migrations.length === 0) return []
  // "1 membership of …", "2 memberships of …": the label's first word is the row's kind.
  const removed = u.removed.filter(([, n]) => n > 0).map(([what, n]) => `${n} ${n === 1 ? what : what.replace(/^(\w+)/, "$1s")}`)
  const lines: Array<readonly [string, "info" | "warn"]> = [[
    `upgraded the store's schema from version ${u.from} to ${u.to} (${u.migrations.map((m) => `'${m}'`).join(", ")}): ${
      removed.length === 0 ? "no row removed" : `removed ${removed.join(", ")}`
    }`,
    "info"
  ]]
  if (u.shared.count > 0) {
    const shown = u.shared.first.map((x) => `${quoted(x.id)} in tenant ${quoted(x.tenant)}`).join(", ")
    lines.push([
      `${u.shared.count} ${u.shared.count === 1 ? "id is" : "ids are"} both a user and a group, written before store-adapter 0.3.0 ` +
      `(users and groups share one id space since): ${shown}${u.shared.count > u.shared.first.length ? ", …" : ""}; ` +
      "targeting follows members by id, so such a user is in the groups the group of its id is in, and the other way round; " +
      "delete the one of each pair that should not be there (DELETE /beta/users/{id} or /beta/groups/{id}) " +
      "and add its memberships again to the one that stays",
      "warn"
    ])
  }
  const names = u.sharedNames
  if (names !== undefined && names.count > 0) {
    const shown = names.first.map((x) => `${quoted(x.name)} in tenant ${quoted(x.tenant)}`).join(", ")
    lines.push([
      `${names.count} user principal ${names.count === 1 ? "name is" : "names are"} each held by more than one user, written before ` +
      `core 0.11.0 (a name is unique in its tenant since, without regard to case): ${shown}${names.count > names.first.length ? ", …" : ""}; ` +
      "those users are served as before, and a write that would give another user one of these names is refused; " +
      "rename or delete all but one of each (PATCH or DELETE /beta/users/{id}; " +
      "GET /beta/users?$filter=userPrincipalName eq '<name>' lists them)",
      "warn"
    ])
  }
  return lines
}
