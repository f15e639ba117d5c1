/**
 * The store port on PostgreSQL, through `@effect/sql-pg`: for several server
 * processes sharing one database.
 *
 * A `modify` is an optimistic compare-and-set with write combining. It reads
 * the row (`data`, `version`) with no lock, runs the pure `change` in
 * JavaScript and writes the result with one autocommit
 * `UPDATE … WHERE <key> AND version = $v AND data = $read`: the write lands
 * only if the row still holds exactly the text `change` was applied to, so
 * no concurrent write is lost or mixed in (the text as well as the version,
 * because a row removed and inserted again starts at version 1 once more).
 * Modifies of one row from this process queue behind the round in progress
 * and form the next round: their changes run in arrival order, each on the
 * value the previous one left, and one compare-and-set writes the last value
 * (`version` grows by the number of changes), so a hot row costs one commit
 * per round instead of one locking transaction per PATCH. Every modify of a
 * round answers after that commit, with the value it produced. A round starts
 * from the value the previous round wrote (its compare-and-set still checks
 * it; a round with nothing to write reads afresh instead, as nothing would
 * check it). When the compare-and-set finds the row changed (another process
 * wrote or removed it) or the engine aborts it as a conflict, the round runs
 * once more in a transaction that locks the row (`SELECT … FOR UPDATE`),
 * which nothing can overtake, so every modify ends after at most two rounds;
 * a round that finds the row gone answers none without running any change.
 * Transactions and one-statement writes the engine aborts as a serialisation
 * failure or deadlock (possible under SERIALIZABLE, e.g. on CockroachDB) are
 * retried with a jittered backoff until the call's deadline: the changes are
 * pure, so running them again is safe.
 *
 * Primary keys include the tenant; every statement is scoped by `tenant_id`.
 * Ids are `COLLATE "C"`, so pages are in bytewise order, as in SQLite and (for
 * ASCII ids) the memory store. Migrations are versioned in `schema_migrations`
 * and applied under a transaction-level advisory lock, so processes starting
 * together do not race. The statements of the hot paths are built once, so
 * the driver prepares each once per connection; `targetingOf` is one
 * statement (the recursive groups and the assignments concerning them).
 * Reads of one key asked for in the same synchronous run share one query
 * (`resolveConfiguration` and the `get`s; see {@link sharedReads}). TLS is the URL's
 * `sslmode` and `sslrootcert`, read as libpq documents them ({@link PostgresTls}).
 *
 * @since 0.1.0
 */
import { PgClient } from "@effect/sql-pg"
import {
  Assignment,
  Errors,
  Store,
  type AssignmentFilter,
  type AssignmentOf,
  type Change,
  type Check,
  Configuration,
  type ConfigurationResolution,
  Directory,
  type InvitedUser,
  type PageRequest,
  type TargetingCheck
} from "@enrollment/core"
import { Cause, Context, Deferred, Duration, Effect, Exit, Layer, Option, Redacted, References, Result, Schedule, Schema, Scope } from "effect"
import * as Reactivity from "effect/reactivity/Reactivity"
import * as SqlClient from "effect/sql/SqlClient"
import { isSqlError, type SqlError } from "effect/sql/SqlError"
import * as AssignmentFilterSql from "./AssignmentFilterSql.ts"
import * as PostgresTls from "./PostgresTls.ts"
import { keyOf, sharedReads } from "./SharedReads.ts"
import * as StoreSql from "./StoreSql.ts"
import {
  assignmentColumns,
  deadline,
  entityMethods,
  fetchLimit,
  lastById,
  newestUnknown,
  parse,
  type Row,
  toAssignmentOf,
  toMemberRef,
  toMembership,
  toPage,
  tooNew,
  unavailable,
  withDeadline,
  withSpans
} from "./StoreSql.ts"

export {
  /** TLS to PostgreSQL from the URL's `sslmode` and `sslrootcert` (see the module). */
  PostgresTls
}

/** How to reach the database. */
export interface Options {
  /**
   * A `postgres://` URL; keep it `Redacted` when it carries a password. Its `sslmode` and
   * `sslrootcert` are read as libpq documents them (see {@link PostgresTls}); values the store
   * cannot honour fail the open with `StoreUnavailable`, whose cause is a `TlsSettingInvalid`.
   */
  readonly url: Redacted.Redacted<string> | string
  /** The PostgreSQL schema to create (when missing) and use; `public` when not given. */
  readonly schema?: string | undefined
  /**
   * Whether a schema that holds no store yet (no `schema_migrations` table, or no schema)
   * is made (default true, as a server's first start does). With `false` it fails with
   * {@link StoreNotFound}: an operator's tool opening a store that must exist, where a
   * mistyped schema name must not look like an empty tenant (since 0.2.8).
   */
  readonly create?: boolean | undefined
  /**
   * The pool's size: at most this many connections are open at once (opened as calls need
   * them, closed after 60 s idle, replaced once {@link connectionTtlMillis} old); a call finding
   * all of them busy waits for one. A positive integer, default {@link defaultMaxConnections}.
   */
  readonly maxConnections?: number | undefined
  /**
   * How long a store call waits for PostgreSQL before it fails with `StoreUnavailable`
   * (default {@link defaultTimeoutMillis}); the call is abandoned, not waited for (see
   * `StoreSql.deadline`). A new connection has 5 s to open (the client's default).
   */
  readonly timeoutMillis?: number | undefined
  /**
   * Told what an upgrade of the store did as it opens (since 0.6.0): the versions, the rows the
   * migrations removed, and a warning naming ids that are both a user and a group
   * ({@link StoreSql.upgradeNotices}). Nothing for a store that is current or made new. Since
   * 0.8.1 also a warning when the start has waited {@link migrationWaitNoticeMillis} (a lock).
   */
  readonly notice?: StoreSql.Notice | undefined
}

/**
 * The schema holds no store, and `Options.create` is false: nothing was made.
 *
 * @since 0.2.8
 */
export class StoreNotFound extends Schema.TaggedError<StoreNotFound>()("StoreNotFound", {
  schema: Schema.String
}) {
  override get message(): string {
    return `schema '${this.schema}' holds no store`
  }
}

/** The default of `Options.maxConnections`. */
export const defaultMaxConnections = 10

/** The default of `Options.timeoutMillis`: 30 s, well inside a Graph client's 100 s. */
export const defaultTimeoutMillis = 30_000

/**
 * The session settings of the store's own connections (since 0.5.2), so that PostgreSQL itself
 * ends what the client can no longer reach (its cancel lost on a connection gone silent): no
 * statement runs longer than the store's deadline (`statement_timeout`, lock waits included), and
 * a transaction left idle for twice as long is ended (`idle_in_transaction_session_timeout`), its
 * locks released. A store over a `PgClient` from outside (`layerClient`) has the client's settings.
 */
export const sessionSettings = (timeoutMillis: number): Readonly<Record<string, string>> => ({
  statement_timeout: String(timeoutMillis),
  idle_in_transaction_session_timeout: String(2 * timeoutMillis)
})

/**
 * How long a pooled connection lives (since 0.8.1): it is replaced once it is older, at its next
 * use. Without it a connection in steady use was never replaced, so after a failover one that still
 * led to the old primary (a read-only standby by then, or an address DNS no longer gives) kept
 * failing every write on it; `ready` fails meanwhile (a load balancer takes the server out).
 */
export const connectionTtlMillis = 5 * 60_000

/** `application_name` of a `postgres://` URL, when it sets one. */
const urlApplicationName = (url: string): string | undefined => {
  try {
    const name = new URL(url).searchParams.get("application_name")
    return name === null || name === "" ? undefined : name
  } catch {
    return undefined
  }
}

/** Where a `postgres://` URL leads, as `host:port` (the socket directory for a local socket); undefined when it cannot be read. */
const whereOf = (url: string): string | undefined => {
  try {
    const u = new URL(url)
    const host = u.hostname !== "" ? u.hostname : u.searchParams.get("host") ?? ""
    return host.startsWith("/") ? `the socket in ${host}` : `${host === "" ? "localhost" : host}:${u.port === "" ? "5432" : u.port}`
  } catch {
    return undefined
  }
}

/**
 * The open's failure with where it went (since 0.8.1): a server that answered the start-up with
 * something PostgreSQL does not send (an HTTP server's bytes read as a message's length: `Message
 * length 1414811695 exceeds maxMessageSize`, or an odd answer to the TLS request) is said to be no
 * PostgreSQL server, and a timeout, which names no address, is given the URL's `host:port`.
 * Anything else (Node's `ECONNREFUSED 127.0.0.1:5432`, `ENOTFOUND db`, PostgreSQL's own errors) is
 * as it was.
 */
const located = (error: unknown, url: string): unknown => {
  const where = whereOf(url)
  if (where === undefined || !(error instanceof Error)) return error
  const messages: Array<string> = []
  for (let e: unknown = error; e instanceof Error && messages.length < 4; e = e.cause) {
    if (!messages.includes(e.message)) messages.push(e.message)
  }
  const text = messages.join(": ")
  if (/exceeds maxMessageSize|in response to SSLRequest/.test(text)) {
    return new Error(`${where} does not answer as a PostgreSQL server does (is that the database's host and port?): ${text}`, { cause: error })
  }
  if (/timed out|ETIMEDOUT/i.test(text) && !text.includes(where)) return new Error(`connecting to ${where}: ${text}`, { cause: error })
  return error
}

/** The longest the layer's release waits for the pool to close its connections. */
const closeMillis = 5_000

/** One schema change, applied once and recorded in `schema_migrations`. */
export interface Migration {
  readonly version: number
  readonly name: string
  /** Statements run in order; `$schema` stands for the quoted schema name. */
  readonly statements: ReadonlyArray<string>
  /** What a row each `DELETE` removes is (its kind first: `membership of …`), in the upgrade's notice (since 0.6.0; by statement, undefined for one that removes none). */
  readonly removes?: ReadonlyArray<string | undefined>
}

const entityTable = (name: string) =>
  `CREATE TABLE $schema.${name} (
    tenant_id text COLLATE "C" NOT NULL,
    id text COLLATE "C" NOT NULL,
    version integer NOT NULL,
    data text NOT NULL,
    PRIMARY KEY (tenant_id, id)
  )`

/**
 * The SQL of a principal name's key (`Directory.userPrincipalNameKey`) from a user's `data` text:
 * `lower` under the "C" collation lowers ASCII letters only. PostgreSQL's `json` cannot unescape
 * U+0000 into `text`, and fails the whole statement wherever in the row one is (a user whose
 * `employeeId` holds one could not be written, or upgraded): each escaped backslash (`\\`) is
 * written `\u005c` first (the same character), so that every backslash left begins an escape of its
 * own, and then each `\u0000` is read as `\u0020`. A name that holds the text `\u0000` (an escaped
 * backslash, then `u0000`) keeps it. A principal name holds no control character, so its key is the
 * core's. Every name is qualified with `pg_catalog`, so no schema on the search path can stand in.
 */
const principalNameKeyOf = (data: string) =>
  `pg_catalog.lower((pg_catalog.replace(pg_catalog.replace(${data}, '\\\\', '\\u005c'), '\\u0000', '\\u0020')::pg_catalog.json ` +
  `OPERATOR(pg_catalog.->>) 'userPrincipalName') COLLATE pg_catalog."C")`

/** The schema, as ordered migrations. JSON is kept as `text`: `jsonb` would reorder keys. */
export const migrations: ReadonlyArray<Migration> = [
  {
    version: 1,
    name: "initial",
    statements: [
      entityTable("configurations"),
      entityTable("users"),
      entityTable("groups"),
      entityTable("invitations"),
      `CREATE TABLE $schema.assignments (
        tenant_id text COLLATE "C" NOT NULL,
        configuration_id text COLLATE "C" NOT NULL,
        id text COLLATE "C" NOT NULL,
        version integer NOT NULL,
        source text NOT NULL,
        source_id text,
        target_type text,
        group_id text COLLATE "C",
        data text NOT NULL,
        PRIMARY KEY (tenant_id, configuration_id, id)
      )`,
      "CREATE INDEX assignments_by_target_type ON $schema.assignments (tenant_id, target_type)",
      "CREATE INDEX assignments_by_group ON $schema.assignments (tenant_id, group_id)",
      `CREATE TABLE $schema.memberships (
        tenant_id text COLLATE "C" NOT NULL,
        group_id text COLLATE "C" NOT NULL,
        member_id text COLLATE "C" NOT NULL,
        member_kind text NOT NULL,
        PRIMARY KEY (tenant_id, group_id, member_id)
      )`,
      "CREATE INDEX memberships_by_member ON $schema.memberships (tenant_id, member_id)"
    ]
  },
  {
    // Children whose parent is not there, in their own tenant (since 0.3.1): a parent's removal
    // racing a child's insert left them behind before 0.3.0, which stores no such child. They
    // were out of sight until a parent of the same id was made again, which then inherited them
    // (a configuration made again had the old one's assignments). Each statement is an anti-join
    // of its child table with the parent's table on the parent's primary key, tenant and id: a
    // hash or merge anti-join (one pass over each) or a nested-loop one probing the primary key,
    // as the statistics say; never a scan per row. See the package README, "Storage".
    version: 2,
    name: "orphans removed",
    removes: [
      "assignment of a configuration that was not there",
      "membership in a group that was not there",
      "membership of a user that was not there",
      "membership of a group that was not there"
    ],
    statements: [
      // An assignment of a configuration that is not there.
      `DELETE FROM $schema.assignments AS a WHERE NOT EXISTS (
        SELECT 1 FROM $schema.configurations AS c WHERE c.tenant_id = a.tenant_id AND c.id = a.configuration_id
      )`,
      // A membership in a group that is not there.
      `DELETE FROM $schema.memberships AS m WHERE NOT EXISTS (
        SELECT 1 FROM $schema.groups AS g WHERE g.tenant_id = m.tenant_id AND g.id = m.group_id
      )`,
      // A membership of a member that is not there as the kind it names: a user looked up among
      // the users, any other kind (the port writes only "group") among the groups, as the
      // store's member reads and `groups.addMember` do.
      `DELETE FROM $schema.memberships AS m WHERE m.member_kind = 'user' AND NOT EXISTS (
        SELECT 1 FROM $schema.users AS u WHERE u.tenant_id = m.tenant_id AND u.id = m.member_id
      )`,
      `DELETE FROM $schema.memberships AS m WHERE m.member_kind <> 'user' AND NOT EXISTS (
        SELECT 1 FROM $schema.groups AS g WHERE g.tenant_id = m.tenant_id AND g.id = m.member_id
      )`
    ]
  },
  {
    // A user's principal name is unique in its tenant (core 0.11.0): each user's key
    // (`Directory.userPrincipalNameKey`: the name with ASCII letters lowered, which is what `lower`
    // does under the "C" collation; null for none) in a column of its own, filled for the users
    // already stored, and an index the writes look the key up by, under an advisory lock on the
    // key (see `make`). Not a UNIQUE index: a store written before may hold two users of one name,
    // and must still open; the writes keep any new pair out (see the package README, "Storage").
    version: 3,
    name: "user principal name keys",
    statements: [
      `ALTER TABLE $schema.users ADD COLUMN upn_key text COLLATE "C"`,
      `UPDATE $schema.users SET upn_key = ${principalNameKeyOf("data")}`,
      "CREATE INDEX users_by_upn_key ON $schema.users (tenant_id, upn_key)"
    ]
  },
  {
    // Each user's principal name key kept by the store itself (store-adapter 0.11.1): a trigger
    // before each insert and each change of `data` sets `upn_key` to the key of the name the row
    // holds, whoever wrote it. A process of a release before 0.11.0 writes users without the key,
    // and one still serving after another process upgraded the store (a rolling upgrade's window)
    // wrote users whose names no later write saw, so a user of the same name was then accepted
    // (found in review). The keys such a process wrote are filled here, and the upgrade warns of
    // the names more than one user holds, as version 3's did.
    version: 4,
    name: "user principal name keys kept by the store",
    statements: [
      `CREATE FUNCTION $schema.users_upn_key() RETURNS trigger LANGUAGE plpgsql AS $body$
      BEGIN
        NEW.upn_key := ${principalNameKeyOf("NEW.data")};
        RETURN NEW;
      END
      $body$`,
      `CREATE TRIGGER users_upn_key BEFORE INSERT OR UPDATE OF data ON $schema.users
        FOR EACH ROW EXECUTE FUNCTION $schema.users_upn_key()`,
      `UPDATE $schema.users SET upn_key = ${principalNameKeyOf("data")} WHERE upn_key IS DISTINCT FROM ${principalNameKeyOf("data")}`
    ]
  },
  {
    // The key's SQL as it is since store-adapter 0.13.0 (an escaped backslash kept, every name in
    // `pg_catalog`), in the trigger of a store version 4 made before (store-adapter 0.16.0). That
    // change was made by editing version 4 in place, so a store an earlier release had brought to
    // version 4 kept the earlier function: its keys read a name holding the text `\u0000` as one
    // holding `\u0020`, and the writes, which look a name up by the key as it is now, let a second
    // user of such a name in and refused a name no user held (an upgrade review). The function is
    // replaced and every key that differs from its name's is set again; the upgrade then warns of
    // the names more than one user holds. A released migration is never edited again: its SQL is
    // pinned by a test (`test/migrations-pinned.test.ts`).
    version: 5,
    name: "user principal name keys as the core makes them",
    statements: [
      `CREATE OR REPLACE FUNCTION $schema.users_upn_key() RETURNS trigger LANGUAGE plpgsql AS $body$
      BEGIN
        NEW.upn_key := ${principalNameKeyOf("NEW.data")};
        RETURN NEW;
      END
      $body$`,
      `UPDATE $schema.users SET upn_key = ${principalNameKeyOf("data")} WHERE upn_key IS DISTINCT FROM ${principalNameKeyOf("data")}`
    ]
  }
]

/** A quoted SQL identifier. */
const quote = (identifier: string): string => `"${identifier.replaceAll("\"", "\"\"")}"`

/** The signed 64-bit FNV-1a hash of `text`'s UTF-8 bytes, as a decimal string: an advisory lock key. */
const fnv1a = (text: string): string => {
  let h = 0xcbf29ce484222325n
  for (const byte of new TextEncoder().encode(text)) {
    h = BigInt.asUintN(64, (h ^ BigInt(byte)) * 0x100000001b3n)
  }
  return BigInt.asIntN(64, h).toString()
}

/** A signed 64-bit advisory lock key for the schema (FNV-1a), as a decimal string. */
export const lockKey = (schema: string): string => fnv1a(`@enrollment/store-adapter:${schema}`)

/**
 * The advisory lock key of a directory object's id in a tenant: the same for a user and a
 * group, so their inserts of one id take one lock (see `entitySet` in {@link make}). Two
 * (tenant, id) pairs that share a key only wait for each other.
 */
const directoryIdLockKey = (schema: string, tenant: string, id: string): string =>
  fnv1a(`@enrollment/store-adapter:${schema}:directoryObject\u0000${tenant}\u0000${id}`)

/**
 * The advisory lock key of a user principal name's key in a tenant (core 0.11.0): every write
 * that may give a user the name (a user's insert or modify, an invitation's guest) takes it
 * before it looks the name up, so two of them serialise (see `make`).
 */
const principalNameLockKey = (schema: string, tenant: string, key: string): string =>
  fnv1a(`@enrollment/store-adapter:${schema}:userPrincipalName\u0000${tenant}\u0000${key}`)

/**
 * Waits a little, growing to 50 ms and jittered, before running an aborted transaction again: as
 * often as the engine aborts it, until the call's deadline (since 0.8.1; before, ten times, which a
 * busy `assign` under SERIALIZABLE used up in 2–3 s, answering 503 while the deadline had 27 s left).
 */
const conflictBackoff = Schedule.min([Schedule.exponential("2 millis"), Schedule.spaced("50 millis")]).pipe(Schedule.jittered)

/**
 * Whether PostgreSQL refused to open a connection as one too many (SQLSTATE 53300: its
 * `max_connections`, or a role's or a database's `CONNECTION LIMIT`).
 */
const isTooManyConnections = (e: unknown): boolean => {
  if (!isSqlError(e)) return false
  const code = (c: unknown) => (c as { code?: unknown } | undefined)?.code
  return code((e.reason as { cause?: unknown }).cause) === "53300" || code(e.cause) === "53300"
}

/**
 * A call on the pool (a statement, or a transaction whole) that tries again when PostgreSQL
 * refuses the connection it opens as one too many ({@link isTooManyConnections}). While another
 * of the store's calls is running on a connection the pool has open, the refused call waits for
 * one of them to end, which leaves its connection free in the pool, and tries then: each end
 * (but a refusal's, which freed nothing) wakes one waiting call, in order, so the retries open no
 * more connections than the calls that end have freed. It waits at most 250 ms for an end (a slot
 * another client held may be free by then), and 20 ms when nothing runs (the pool's own
 * connection replaced for its age may still be closing). Three tries that no end led to, or
 * `timeoutMillis` from the refusal, and it fails with the refusal, a 503, as before: nothing the
 * store does is freeing a connection (another client holds the role's slots, or the one call
 * running waits on a lock). Only the refused call waits: the others run as they would. Since
 * 0.8.2: before, every call whose connection was refused failed, although the pool's open
 * connections would serve it milliseconds later (a review measured 21 % of requests answered 503
 * with the default pool of 10 under a role's limit of 3; the test, 12 of 180 writes at once).
 * Three first cuts were reviewed and dropped: holding every call to the connections open at a
 * refusal for 30 s (one refusal, another client's moment at the limit, held the store to one
 * connection, every call queued behind its slowest); retrying on a timer (the retries' own
 * connection attempts count against the limit while PostgreSQL refuses them: one call in 180
 * waited 30 s); and waking on every end, refusals' too, and giving up only when nothing ran (refused
 * calls woke each other, an attempt every 20 ms, and with another client holding the slots every
 * call waited out its deadline, where before it failed at once).
 */
/** How long a refused call waits, at most, for a running call to end before it tries again anyway. */
const refusedPollMillis = 250

/** Whether `exit` is a refusal of the call's connection as one too many. */
const wasRefused = (exit: Exit.Exit<unknown, unknown>): boolean =>
  Exit.isFailure(exit) && exit.cause.reasons.some((r) => Cause.isFailReason(r) && isTooManyConnections(r.error))

const refusalRetrying = (timeoutMillis: number) => {
  // The calls running, and the refused calls waiting for one of them to end, first come first woken.
  let running = 0
  const waiting = new Set<() => void>()
  const counted = <A, E, R>(self: Effect.Effect<A, E, R>) =>
    Effect.suspend(() => {
      running++
      return Effect.onExit(self, (exit) =>
        Effect.sync(() => {
          running--
          // Only an end that leaves a connection free in the pool wakes a waiting call: a refused
          // attempt freed none (a review found refused calls waking each other, an attempt every 20 ms).
          if (wasRefused(exit)) return
          for (const wake of waiting) {
            waiting.delete(wake)
            wake()
            break
          }
        }))
    })
  /** True when a running call ended, false when `millis` passed first. */
  const oneEnds = (millis: number) =>
    Effect.timeoutOrElse(
      Effect.as(
        Effect.callback<void>((resume) => {
          const wake = () => resume(Effect.void)
          waiting.add(wake)
          return Effect.sync(() => waiting.delete(wake))
        }),
        true
      ),
      { duration: millis, orElse: () => Effect.succeed(false) }
    )
  return <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.catchIf(counted(self), isTooManyConnections, (refused) => {
      const until = Date.now() + timeoutMillis
      // `idle`: the tries that no end of a running call led to. Past three, nothing the store does
      // is freeing a connection (another client holds the slots, or the one call running waits on
      // a lock): the call fails, as before, rather than waiting out its deadline.
      const again = (idle: number): Effect.Effect<A, E, R> => {
        const left = until - Date.now()
        if (left <= 0 || idle >= 3) return Effect.fail(refused)
        // A call running may end and free its connection: wait for that, at most
        // `refusedPollMillis` (a slot another client held may be free by then); with none, 20 ms.
        const wait = running > 0
          ? oneEnds(Math.min(left, refusedPollMillis))
          : Effect.as(Effect.sleep(Duration.millis(Math.min(left, 20))), false)
        return Effect.flatMap(wait, (woken) =>
          Effect.catchIf(counted(self), isTooManyConnections, () => again(woken ? idle : idle + 1)))
      }
      return again(0)
    })
}

const isConflict = (e: unknown): boolean =>
  isSqlError(e) && (e.reason._tag === "SerializationError" || e.reason._tag === "DeadlockError")

/**
 * The engine's error a cause carries as a defect, when every defect in it is one (and it was
 * not interrupted); undefined otherwise. `withTransaction` (effect's SqlClient) ends a failed
 * transaction with a ROLLBACK and turns a failed ROLLBACK into a defect (`Effect.orDie`), in
 * place of the failure it was rolling back: a connection lost inside a transaction (the
 * statement fails, and the ROLLBACK on the dead connection fails too) ends as a defect
 * carrying the ROLLBACK's `SqlError`. A failed COMMIT whose cleanup fails dies the same way.
 */
const engineDefect = (cause: Cause.Cause<unknown>): SqlError | undefined => {
  let found: SqlError | undefined
  for (const reason of cause.reasons) {
    if (Cause.isInterruptReason(reason)) return undefined
    if (Cause.isDieReason(reason)) {
      if (!isSqlError(reason.defect)) return undefined
      found ??= reason.defect
    }
  }
  return found
}

/**
 * Turns the engine's errors into `StoreUnavailable`, leaving domain errors as they are: its
 * failures, and its defects (see {@link engineDefect}): the database failing is a 503 to the
 * caller, not a bug. Any other defect (a `change` or a `check` that threw, an invariant
 * broken) stays a defect, and a cause holding one is left whole; so does an engine error that
 * says the statement is wrong ({@link isOurs}), failure or defect: a 500, not a 503.
 */
const orUnavailable = <A, E, R>(
  self: Effect.Effect<A, E, R>
): Effect.Effect<A, Exclude<E, SqlError> | Errors.StoreUnavailable, R> =>
  Effect.catchCause(
    Effect.mapError(
      Effect.catchIf(self, (e): e is Extract<E, SqlError> => isSqlError(e) && isOurs(e), (e) => Effect.die(e)),
      (e) => isSqlError(e) ? unavailable(e) : e as Exclude<E, SqlError>
    ),
    (cause) => {
      const defect = engineDefect(cause)
      return defect === undefined || isOurs(defect) ? Effect.failCause(cause) : Effect.fail(unavailable(defect))
    }
  )

/**
 * An engine error that says the statement is wrong rather than the database unavailable: SQL
 * that does not parse, a constraint the store's own writes should never break, a permission the
 * schema's user lacks. It is a defect (500, logged as one), not a 503 a client would retry for
 * ever. Connection, timeout, lock, conflict and unclassified errors stay `StoreUnavailable`.
 */
const isOurs = (e: SqlError): boolean =>
  e.reason._tag === "SqlSyntaxError" || e.reason._tag === "UniqueViolation" || e.reason._tag === "ConstraintError" ||
  e.reason._tag === "AuthorizationError"

/** A row as read or written: its value, the JSON text it is stored as, and its version. */
interface Stored<A> {
  readonly value: A
  readonly data: string
  readonly version: number
}

/** The row of a `SELECT data, version`, parsed, or `undefined` when there is none. */
const toStored = <A>(rows: ReadonlyArray<Row>): Stored<A> | undefined =>
  rows.length === 0
    ? undefined
    : { value: parse<A>(rows[0]!.data), data: rows[0]!.data as string, version: Number(rows[0]!.version) }

/** The new version a compare-and-set returned, or `undefined` when it wrote nothing. */
const versionOf = (rows: ReadonlyArray<Row>): number | undefined =>
  rows.length === 0 ? undefined : Number(rows[0]!.version)

/** A modify waiting for its row's next write: its change, and where its outcome goes. */
interface Waiting<A> {
  readonly change: Change<A, unknown>
  readonly done: Deferred.Deferred<Option.Option<A>, unknown>
  cancelled: boolean
  /** When a round holding this modify must have ended (`performance.now()`; see {@link roundMillis}). */
  readonly deadline: number
}

/**
 * How long a round may take for a modify, from the moment it is asked for: the store's deadline
 * less a margin (a tenth of it, at most 1 s), so that a round still running past it is interrupted,
 * its statement cancelled, and its failure reaches the caller before the caller's own deadline
 * answers it 503 without knowing (since 0.5.2).
 */
const roundMillis = (timeoutMillis: number): number => timeoutMillis - Math.min(1_000, timeoutMillis / 10)

/** How one table's rows are read and compare-and-set, by key. */
interface RowAccess<K, A> {
  /** The row, or `undefined` when there is none; `lock` reads it `FOR UPDATE` (in a transaction). */
  readonly read: (key: K, lock: boolean) => Effect.Effect<Stored<A> | undefined, SqlError>
  /** Writes `to` (as `data`, `changes` versions on) when the row still is `from`: the new version, or `undefined`. */
  readonly write: (key: K, from: Stored<A>, to: A, data: string, changes: number) => Effect.Effect<number | undefined, SqlError>
}

/** The compare-and-set found the row changed (or gone) since it was read. */
const moved = { _tag: "RowMoved" } as const

/**
 * The changes of a round, in order, each on the value the previous one left:
 * their outcomes, the value to store, and how many of them changed it.
 */
const applyAll = <A>(from: A, batch: ReadonlyArray<Waiting<A>>) => {
  let value = from
  let changes = 0
  const outcomes = batch.map((w): Exit.Exit<Option.Option<A>, unknown> => {
    let r: Result.Result<A, unknown>
    try {
      r = w.change(value)
    } catch (defect) {
      return Exit.die(defect)
    }
    if (Result.isFailure(r)) return Exit.fail(r.failure)
    if (r.success !== value) {
      value = r.success
      changes++
    }
    return Exit.succeed(Option.some(value))
  })
  return { value, changes, outcomes }
}

/**
 * Read-modify-write of one table's rows: `modify` per key, as the port's
 * `modify`. See the module comment for why it is safe.
 */
const rowWriter = <K, A>(
  access: RowAccess<K, A>,
  transaction: <X, E>(self: Effect.Effect<X, E>) => Effect.Effect<X, E | SqlError>,
  bounded: <X, E>(self: Effect.Effect<X, E>, millis: number) => Effect.Effect<X, E | Errors.StoreUnavailable>,
  timeoutMillis: number,
  /** The caller's own transaction, when its context holds one (`layerClient` over a client it runs transactions on). */
  callersTransaction: Context.Key<any, any>
) => {
  /** The modifies waiting for the round in progress on a row, by row. */
  const queues = new Map<string, Array<Waiting<A>>>()

  /** One round: `batch` applied to the row and written by one compare-and-set, or `moved`. */
  const round = (key: K, batch: ReadonlyArray<Waiting<A>>, known: Stored<A> | undefined, lock: boolean) =>
    Effect.flatMap(
      known === undefined ? access.read(key, lock) : Effect.succeed(known),
      (from): Effect.Effect<
        { readonly stored: Stored<A> | undefined; readonly outcomes: ReadonlyArray<Exit.Exit<Option.Option<A>, unknown>> },
        SqlError | typeof moved
      > => {
        if (from === undefined) {
          return Effect.succeed({ stored: undefined, outcomes: batch.map(() => Exit.succeed(Option.none())) })
        }
        const { changes, outcomes, value } = applyAll(from.value, batch)
        // Nothing to write, so nothing checks the row: a value carried from the last round
        // may be stale (another process may have written since), so read it afresh.
        if (changes === 0) {
          return known === undefined ? Effect.succeed({ stored: from, outcomes }) : round(key, batch, undefined, lock)
        }
        const data = JSON.stringify(value)
        return Effect.flatMap(access.write(key, from, value, data, changes), (version) =>
          version === undefined
            ? Effect.fail(moved)
            : Effect.succeed({ stored: { value, data, version }, outcomes }))
      }
    )

  /**
   * Settles `batch`: one compare-and-set round (from `known`, what the last
   * round here wrote, or else from a fresh read); when the row moved under it
   * (another process wrote it), one round under the row lock, which nothing
   * can overtake.
   */
  const settle = (
    key: K,
    batch: ReadonlyArray<Waiting<A>>,
    known: Stored<A> | undefined,
    // What runs the locked round: `moved` always; a conflict too, but inside a caller's transaction.
    lockedAfter: (e: unknown) => boolean = (e) => e === moved || isConflict(e)
  ) =>
    round(key, batch, known, false).pipe(
      Effect.catchIf(
        lockedAfter,
        () =>
          transaction(round(key, batch, undefined, true)).pipe(Effect.catchIf(
            (e): e is typeof moved => e === moved,
            () => Effect.die(new Error("PostgresStore: a row changed under its lock"))
          ))
      )
    )

  /** Runs rounds on a row until no modify waits for it; from the second on, in a fiber of its own. */
  const drain = (id: string, key: K, queue: Array<Waiting<A>>, known: Stored<A> | undefined): Effect.Effect<void> => {
    const batch = queue.splice(0).filter((w) => !w.cancelled)
    // Bounded by its modifies' deadlines (since 0.5.2): a round blocked past the first of them is
    // interrupted, its statement cancelled, rather than left to commit once the block lifts, after its
    // callers had their 503s and may have read the old value. A modify that queued behind a blocked
    // round brings its own, earlier than a deadline counted from this round's start would be.
    let first = Infinity
    for (const w of batch) if (w.deadline < first) first = w.deadline
    const settled = batch.length === 0
      ? Effect.succeed({ stored: known, outcomes: [] })
      : bounded(settle(key, batch, known), Math.max(0, first - performance.now()))
    return Effect.flatMap(Effect.exit(settled), (exit) => {
      let after: Stored<A> | undefined
      if (Exit.isSuccess(exit)) {
        after = exit.value.stored
        exit.value.outcomes.forEach((o, i) => Deferred.doneUnsafe(batch[i]!.done, o))
      } else {
        for (const w of batch) Deferred.doneUnsafe(w.done, exit as Exit.Exit<never, unknown>)
      }
      if (queue.length === 0) {
        queues.delete(id)
        return Effect.void
      }
      return Effect.asVoid(Effect.forkDetach(drain(id, key, queue, after)))
    })
  }

  /**
   * A modify inside a caller's own transaction: a round of its own, in the caller's fiber, on the
   * transaction's connection, never queued with other callers' modifies of the row (since 0.8.2).
   * Before, it formed or joined the row's shared round: another request's modify that queued behind
   * it ran on the caller's transaction (committed or rolled back with it, or failed once the
   * transaction had ended, "Pinned connection was released"), and a second modify of the row in the
   * transaction joined a round that waited on the transaction's own lock until the deadline.
   */
  const alone = <E>(key: K, change: Change<A, E>): Effect.Effect<Option.Option<A>, E | SqlError> =>
    Effect.suspend(() => {
      const w: Waiting<A> = { change, done: Deferred.makeUnsafe(), cancelled: false, deadline: 0 }
      // Moved (another session wrote the row since the read): once more under the row's lock. A
      // conflict (SERIALIZABLE) is the caller's, whose transaction must run again: it goes to the
      // caller as it is, not into a savepoint of a transaction already aborted, whose "current
      // transaction is aborted" (25P02) would take its place (a review found that).
      // `moved` is caught inside `settle` (its locked round runs for it), so it never leaves.
      return settle(key, [w], undefined, (e) => e === moved).pipe(
        Effect.flatMap(({ outcomes }) => outcomes[0] as Exit.Exit<Option.Option<A>, E | SqlError>)
      ) as Effect.Effect<Option.Option<A>, E | SqlError>
    })

  return <E>(id: string, key: K, change: Change<A, E>): Effect.Effect<Option.Option<A>, E | SqlError> =>
    Effect.contextWith((context: Context.Context<never>) =>
      Context.getOrUndefined(context, callersTransaction) === undefined ? queued(id, key, change) : alone(key, change)
    )

  function queued<E>(id: string, key: K, change: Change<A, E>): Effect.Effect<Option.Option<A>, E | SqlError> {
    return Effect.suspend(() => {
      const w: Waiting<A> = { change, done: Deferred.makeUnsafe(), cancelled: false, deadline: performance.now() + roundMillis(timeoutMillis) }
      const outcome = Effect.onInterrupt(
        Deferred.await(w.done) as Effect.Effect<Option.Option<A>, E | SqlError>,
        () => Effect.sync(() => { w.cancelled = true })
      )
      const queue = queues.get(id)
      if (queue !== undefined) {
        queue.push(w)
        return outcome
      }
      const fresh = [w]
      queues.set(id, fresh)
      return Effect.andThen(Effect.uninterruptible(drain(id, key, fresh, undefined)), outcome)
    })
  }
}

/**
 * The statements of a user's targeting over the schema `s` (quoted): the recursive `t(id)` of a
 * member's groups (`groupsOf`), the assignments concerning them (`targetingRows`) and both in one
 * statement (`targetingSql`). At module level and exported (since 0.6.0) so that a test reads their
 * plans on a real server; `make` builds its statements from them.
 */
export const targetingStatements = (s: string) => {
  const a = `${s}.assignments`
  const m = `${s}.memberships`
  // As in the memory store, only memberships in groups that exist are seen or removed through the member.
  const groupExists = `EXISTS (SELECT 1 FROM ${s}.groups g WHERE g.tenant_id = m.tenant_id AND g.id = m.group_id)`
  const allLicensed = "a.target_type = 'allLicensedUsersAssignmentTarget'"
  // A user's groups, transitively: UNION (not UNION ALL) visits each group once, so
  // membership cycles end; only memberships in groups that exist count (as in groupsOf).
  // With them, in the same statement, the assignments concerning them: one row per group
  // (no configuration_id) first, then one per assignment.
  /** The recursive `t(id)`: the transitive groups of the members `member` names (`= $2`, `IN (…)`). */
  const groupsOf = (member: string) =>
    `t(id) AS (
      SELECT m.group_id FROM ${m} AS m WHERE m.tenant_id = $1 AND m.member_id ${member} AND ${groupExists}
      UNION
      SELECT m.group_id FROM t JOIN ${m} AS m ON m.tenant_id = $1 AND m.member_id = t.id WHERE ${groupExists}
    )`
  /**
   * The rows `toTargetingInputs` reads, over `t`, for the assignments in `scope`. The groups as an
   * array (`= ANY(ARRAY(…))`, since 0.6.0): with `IN (SELECT id FROM t)` beside the `OR`, no index
   * served the condition, and PostgreSQL read every assignment of the tenant and tested each
   * against the groups, hashed while it estimated them few, one by one past that: an audit's
   * tenant of 1.1 million assignments took 338 ms for a user in 29 groups and more than 150 s for
   * one in 2 000 (13 ms and 0.64 s now: a bitmap OR of the target-type and group indexes).
   */
  const targetingRows = (scope: string) =>
    `SELECT * FROM (SELECT NULL::text COLLATE "C" AS configuration_id, id, NULL::text AS data FROM t ORDER BY id) AS g
    UNION ALL
    SELECT * FROM (
      SELECT a.configuration_id, a.id, a.data FROM ${a} AS a
      WHERE a.tenant_id = $1 AND (${allLicensed} OR a.group_id = ANY(ARRAY(SELECT id FROM t))) AND ${scope}
      ORDER BY a.configuration_id, a.id
    ) AS x`
  const targetingSql = (scope: string) => `WITH RECURSIVE ${groupsOf("= $2")} ${targetingRows(scope)}`
  return { groupExists, allLicensed, groupsOf, targetingRows, targetingSql }
}

/**
 * Makes the store over the `PgClient` in context, in `options.schema`, first
 * bringing the schema up to date.
 */
export const make = (
  options: {
    readonly schema?: string | undefined
    readonly timeoutMillis?: number | undefined
    readonly create?: boolean | undefined
    readonly notice?: StoreSql.Notice | undefined
    /**
     * A client of its own for `ready` (since 0.8.3; {@link layer} makes one of one connection): its
     * check then waits for no connection of the pool, whose every connection may be held by calls
     * waiting on locks while the database answers. Refused as one connection too many (53300), the
     * check runs on the pool as it does without one.
     */
    readonly readyClient?: PgClient.PgClient | undefined
  } = {}
): Effect.Effect<Store["Service"], Errors.StoreUnavailable | StoreNotFound, PgClient.PgClient> =>
  Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    const traced = yield* References.TracerEnabled
    const schema = options.schema ?? "public"
    const s = quote(schema)
    const timeoutMillis = options.timeoutMillis ?? defaultTimeoutMillis
    // Calls outside a transaction take a connection of the pool each, and try again when
    // PostgreSQL refuses one as one too many (`refusalRetrying`); a statement inside a transaction
    // runs on the transaction's connection.
    const retryingRefusal = refusalRetrying(timeoutMillis)
    const onPool = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
      Effect.contextWith((context: Context.Context<never>) =>
        Context.getOrUndefined(context, sql.transactionService) === undefined ? retryingRefusal(self) : self
      )
    /**
     * One statement on the pool. A statement the engine aborts as a conflict (40001 under
     * SERIALIZABLE: a read-only one too, as a pivot of another's read/write dependencies) is run
     * again, as `retriedAlone` runs a transaction, but outside a caller's own transaction only
     * (since 0.15.0; before, a list or a count so aborted was a 503: a review counted 85 of 2 800
     * list reads beside `assign`s). Only a failure pays for it: the statement is sent as before.
     */
    const query = (text: string, params: ReadonlyArray<unknown> = []) => {
      const once = sql.unsafe<Row>(text, params)
      return onPool(Effect.catchIf(once, isConflict, (e) =>
        Effect.contextWith((context: Context.Context<never>) =>
          Context.getOrUndefined(context, sql.transactionService) === undefined
            ? Effect.retry(once, { while: isConflict, schedule: conflictBackoff })
            : Effect.fail(e)
        )))
    }
    /**
     * The work that runs on behalf of several callers (a shared read, a PATCH round), which no
     * caller's deadline may interrupt, under a deadline of its own (since 0.5.2): interrupted
     * there, the client cancels its statement (a `CancelRequest`), and closes a connection whose
     * statement does not end within seconds of it, so the pool opens a fresh one. Before, such work
     * ran on past its callers' 503s: a PATCH blocked by a lock committed once the lock lifted, and
     * reads blocked on a lock, or on a connection gone silent, held their pool connections until
     * every request of the process was a 503.
     */
    const bounded = <A, E>(self: Effect.Effect<A, E>, millis: number = timeoutMillis): Effect.Effect<A, E | Errors.StoreUnavailable> =>
      Effect.timeoutOrElse(Effect.interruptible(self), {
        duration: millis,
        orElse: () => Effect.fail(unavailable(new Error(`the database did not answer within ${timeoutMillis} ms`)))
      })
    // Reads in a transaction (of a caller sharing the pool's client) are never shared.
    const share = sharedReads(sql.transactionService)
    // A shared read's callers all asked in the run that sent it: the store's deadline from its start is theirs.
    const shared = <A, E>(key: string, read: Effect.Effect<A, E>) => share(key, bounded(read))
    /**
     * Runs `self` again while the engine aborts it as a conflict, but inside a caller's own
     * transaction (`layerClient` over a client the caller runs transactions on): there the abort
     * is the caller's, whose transaction must run again as a whole, and a savepoint run again only
     * fails again (since 0.8.1, when the retries became as many as the deadline allows; a review
     * measured 4 s spent so, and the caller's 40001 lost).
     */
    const retriedAlone = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
      Effect.contextWith((context: Context.Context<never>) =>
        Context.getOrUndefined(context, sql.transactionService) === undefined
          ? Effect.retry(self, { while: isConflict, schedule: conflictBackoff })
          : self
      )
    /** Runs `self` in one transaction, again when the engine aborted it as a conflict (see `retriedAlone`). */
    const transaction = <A, E, R>(self: Effect.Effect<A, E, R>) => onPool(retriedAlone(sql.withTransaction(self)))

    yield* orUnavailable(migrateWith(sql, schema, { create: options.create, notice: options.notice }))

    // Users and groups share one id space (the port's rule): an insert of either must not take
    // an id the other kind has, even when two processes insert one id as a user and as a group
    // at the same moment. Under READ COMMITTED a check and then an insert is not enough: neither
    // transaction sees the other's uncommitted row, and the two tables' keys cannot catch it.
    // So both kinds' inserts of one (tenant, id) first take one transaction-level advisory lock
    // (`directoryIdLockKey`), and only then check the other table and insert, in one statement
    // whose snapshot is taken after the lock was granted: a transaction that held the lock had
    // committed before it let go, so the check sees its row. Chosen over a table of the shared
    // ids (one key over both kinds): that needs a migration with a backfill, which a store written
    // before core 0.5.0 (where a user and a group could share an id) would fail, and a second row
    // to write and remove with every user and group. The lock costs a directory insert three
    // round trips more (BEGIN, the lock, COMMIT) and nothing anywhere else: assignment writes and
    // reads never take it. Under SERIALIZABLE (CockroachDB) the statement's snapshot is the
    // transaction's, taken before the lock, but the engine then sees the two transactions' reads
    // and writes as write skew and aborts one, which `transaction` runs again and which then
    // finds the other's row.
    const entitySet = <A extends { readonly id: string }>(
      table: "configurations" | "users" | "groups" | "invitations",
      entity: string,
      onRemove?: (tenant: string, id: string) => Effect.Effect<unknown, SqlError>,
      /** The table whose ids this set's inserts may not take (users' and groups' each other's). */
      sharesIdsWith?: "users" | "groups"
    ) => {
      const t = `${s}.${table}`
      const getSql = `SELECT data FROM ${t} WHERE tenant_id = $1 AND id = $2`
      const taken = (id: string) => new Errors.EntityAlreadyExists({ entity, id })
      const insertSql = `INSERT INTO ${t} (tenant_id, id, version, data) VALUES ($1, $2, 1, $3)
        ON CONFLICT DO NOTHING RETURNING id`
      /** Inserts `value`: undefined, or the refusal when the id is taken. */
      const insertAlone = (tenant: string, value: A): Effect.Effect<Errors.EntityAlreadyExists | undefined, SqlError> =>
        Effect.map(query(insertSql, [tenant, value.id, JSON.stringify(value)]), (rows) => rows.length > 0 ? undefined : taken(value.id))
      /**
       * Inserts `value` unless the id is taken in this set or in `other`: undefined, or the
       * refusal. It must run in a transaction: the lock it takes is held to the transaction's end.
       */
      const insertUnlessIn = (other: "users" | "groups") => {
        const checkAndInsertSql = `WITH other AS (
            SELECT 1 FROM ${s}.${other} WHERE tenant_id = $1::text AND id = $2::text
          ), inserted AS (
            INSERT INTO ${t} (tenant_id, id, version, data) SELECT $1::text, $2::text, 1, $3::text
            WHERE NOT EXISTS (SELECT 1 FROM other)
            ON CONFLICT DO NOTHING RETURNING id
          )
          SELECT EXISTS (SELECT 1 FROM other) AS other, EXISTS (SELECT 1 FROM inserted) AS inserted`
        return (tenant: string, value: A): Effect.Effect<Errors.EntityAlreadyExists | undefined, SqlError> =>
          Effect.andThen(
            query("SELECT pg_advisory_xact_lock($1::bigint)", [directoryIdLockKey(schema, tenant, value.id)]),
            Effect.map(query(checkAndInsertSql, [tenant, value.id, JSON.stringify(value)]), (rows) =>
              rows[0]!.other === true
                ? new Errors.EntityAlreadyExists({ entity: "directoryObject", id: value.id })
                : rows[0]!.inserted === true
                ? undefined
                : taken(value.id))
          )
      }
      const insertRow = sharesIdsWith === undefined ? insertAlone : insertUnlessIn(sharesIdsWith)
      const readSql = `SELECT data, version FROM ${t} WHERE tenant_id = $1 AND id = $2`
      const lockSql = `${readSql} FOR UPDATE`
      const writeSql = `UPDATE ${t} SET data = $3, version = version + $4
        WHERE tenant_id = $1 AND id = $2 AND version = $5 AND data = $6 RETURNING version`
      const modify = rowWriter<readonly [tenant: string, id: string], A>({
        read: (key, lock) => Effect.map(query(lock ? lockSql : readSql, key), toStored<A>),
        write: (key, from, _to, data, changes) =>
          Effect.map(query(writeSql, [...key, data, changes, from.version, from.data]), versionOf)
      }, transaction, bounded, timeoutMillis, sql.transactionService)
      return {
        insertRow,
        get: (tenant: string, id: string) =>
          orUnavailable(shared(
            keyOf(table, tenant, id),
            Effect.map(query(getSql, [tenant, id]), (rows) =>
              rows.length === 0 ? Option.none<A>() : Option.some(parse<A>(rows[0]!.data)))
          )),
        list: (tenant: string, page: PageRequest) =>
          orUnavailable(Effect.map(
            page.after === undefined
              ? query(`SELECT id, data FROM ${t} WHERE tenant_id = $1 ORDER BY id LIMIT $2`, [tenant, fetchLimit(page)])
              : query(
                `SELECT id, data FROM ${t} WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
                [tenant, page.after, fetchLimit(page)]
              ),
            (rows) => toPage(rows, page, (r) => parse<A>(r.data), (r) => r.id as string)
          )),
        // The tenant's rows counted over the primary key's index, never reading their data (since 0.10.0).
        count: (tenant: string) =>
          orUnavailable(Effect.map(query(`SELECT count(*)::int AS n FROM ${t} WHERE tenant_id = $1`, [tenant]), (rows) => Number(rows[0]!.n))),
        insert: (tenant: string, value: A) => {
          const inserted = Effect.flatMap(insertRow(tenant, value), (refused) =>
            refused === undefined ? Effect.succeed(value) : Effect.fail(refused))
          // One statement, run again when the engine aborts it as a conflict (since 0.8.1), as a transaction is.
          return orUnavailable(sharesIdsWith === undefined ? conflicts(inserted) : transaction(inserted))
        },
        modify: <E>(tenant: string, id: string, change: Change<A, E>) =>
          orUnavailable(modify(`${tenant}\u0000${id}`, [tenant, id], change)),
        remove: <E = never>(tenant: string, id: string, check?: Check<A, E>) => {
          // The entity's row goes first, its children (`onRemove`) after, in separate statements
          // of one transaction: the DELETE waits for the key-share locks of children's inserts in
          // flight (`insertUnderParent`, `addMember`), and the children's DELETE, a statement of
          // its own, takes a snapshot after they committed, so it sees their rows (why this is
          // sound: the comment above `conflicts`). Keep this order.
          const remove = Effect.map(
            query(`DELETE FROM ${t} WHERE tenant_id = $1 AND id = $2 RETURNING id`, [tenant, id]),
            (rows) => rows.length > 0
          )
          const removeAll = onRemove === undefined ? remove : Effect.tap(remove, (removed) =>
            removed ? onRemove(tenant, id) : Effect.void)
          if (check === undefined) return orUnavailable(onRemove === undefined ? conflicts(remove) : transaction(removeAll))
          // With a check: the row is read locked (FOR UPDATE: a concurrent modify's compare-and-set
          // waits, then finds it gone), checked, and removed, in one transaction.
          return orUnavailable(transaction(Effect.flatMap(query(lockSql, [tenant, id]), (rows): Effect.Effect<boolean, E | SqlError> => {
            const current = toStored<A>(rows)
            if (current === undefined) return Effect.succeed(false)
            const passed = check(current.value)
            return Result.isFailure(passed) ? Effect.fail(passed.failure) : removeAll
          })))
        }
      }
    }

    const a = `${s}.assignments`
    const m = `${s}.memberships`
    // `ready` (since 0.8.1): the store's own table read, and a server that takes writes. Before, a
    // `SELECT 1`, which answered for a schema dropped under the store (every call then a 500) and for
    // a standby or a read-only session (every write a 503: a failover's old primary, or DNS still
    // leading to it).
    // A hot standby's sessions are read-only too (PostgreSQL makes every transaction there read-only),
    // so one setting tells both; `current_setting` is also CockroachDB's and YugabyteDB's.
    const readySql = `SELECT (SELECT max(version) FROM ${s}.schema_migrations) AS version,
      current_setting('transaction_read_only') AS read_only`
    const readyClient = options.readyClient
    const readyRows = readyClient === undefined
      ? query(readySql)
      : Effect.catch(readyClient.unsafe<Row>(readySql), (e) => isTooManyConnections(e) ? query(readySql) : Effect.fail(e))
    const aGetSql = `SELECT data FROM ${a} WHERE tenant_id = $1 AND configuration_id = $2 AND id = $3`
    const aReadSql = `SELECT data, version FROM ${a} WHERE tenant_id = $1 AND configuration_id = $2 AND id = $3`
    const aLockSql = `${aReadSql} FOR UPDATE`
    const aRemoveSql = `DELETE FROM ${a} WHERE tenant_id = $1 AND configuration_id = $2 AND id = $3 RETURNING id`
    const aWriteSql = `UPDATE ${a} SET data = $4, version = version + $5, source = $6, source_id = $7, target_type = $8,
        group_id = $9 WHERE tenant_id = $1 AND configuration_id = $2 AND id = $3 AND version = $10 AND data = $11
      RETURNING version`
    const modifyAssignment = rowWriter<readonly [tenant: string, configurationId: string, id: string], Assignment.Assignment>({
      read: (key, lock) => Effect.map(query(lock ? aLockSql : aReadSql, key), toStored<Assignment.Assignment>),
      write: (key, from, to, data, changes) =>
        Effect.map(
          query(aWriteSql, [...key, data, changes, ...assignmentColumns(to), from.version, from.data]),
          versionOf
        )
    }, transaction, bounded, timeoutMillis, sql.transactionService)
    const removeAssignmentsOf = (tenant: string, configurationId: string) =>
      query(`DELETE FROM ${a} WHERE tenant_id = $1 AND configuration_id = $2`, [tenant, configurationId])
    // A child is stored only under a parent that exists (the port's rule), even when another
    // process removes the parent at the same moment. Under READ COMMITTED a check and then an
    // insert is not enough: the removal's DELETE of the children does not see the insert's row
    // while it is uncommitted, and the insert's check does not see the removal's uncommitted
    // DELETE. So a child's insert locks its parent's row FOR KEY SHARE in the statement that
    // inserts (one statement, its own transaction, one round trip), and a parent's removal
    // DELETEs the parent's row first and its children after, in a later statement of the same
    // transaction (see `entitySet`'s remove). Either the insert takes the key-share lock first:
    // the removal's DELETE of the parent waits for the insert's commit, and its DELETE of the
    // children, a later statement with a snapshot of its own, sees the child and removes it. Or
    // the removal's DELETE locks the row first: the insert's FOR KEY SHARE waits for the
    // removal's commit, then finds the row deleted (READ COMMITTED re-reads a row locked this
    // way), and the insert writes nothing: refused. FOR KEY SHARE conflicts with a DELETE, a key
    // change and a FOR UPDATE: other inserts and a configuration's PATCH's plain UPDATE of `data`
    // (FOR NO KEY UPDATE) do not wait; the row locks a PATCH's retried round, a checked removal
    // and a replacement take (FOR UPDATE) do, as long as the one statement of the insert.
    // Under SERIALIZABLE (CockroachDB) the engine aborts one of the two instead (a serialization
    // failure), which is run again (`conflicts`), and then sees the other's outcome.
    /** Runs one statement again when the engine aborted it as a conflict (a statement is its own transaction). */
    const conflicts = retriedAlone
    const assignmentValues = "$1::text, $2::text, $3::text, 1, $4::text, $5::text, $6::text, $7::text, $8::text"
    // A replacement's set in one statement (since 0.6.0): the rows as one JSON array. Before,
    // one INSERT a round trip under the configuration's row lock: 9 500 assignments (the 1 MiB body
    // limit) took 1.4 s, and a PATCH of that configuration waited for them (an audit's figures).
    // A kept id's row is updated in place, and only when its value changed (see `replaceAssignments`).
    const upsertAssignmentsSql = `INSERT INTO ${a} (tenant_id, configuration_id, id, version, source, source_id, target_type, group_id, data)
      SELECT $1::text, $2::text, v.id, 1, v.source, v.source_id, v.target_type, v.group_id, v.data
      FROM json_to_recordset($3::json) AS v(id text, source text, source_id text, target_type text, group_id text, data text)
      ON CONFLICT (tenant_id, configuration_id, id) DO UPDATE SET version = ${a}.version + 1, source = EXCLUDED.source,
        source_id = EXCLUDED.source_id, target_type = EXCLUDED.target_type, group_id = EXCLUDED.group_id, data = EXCLUDED.data
      WHERE ${a}.data IS DISTINCT FROM EXCLUDED.data`
    const parentSql = `SELECT 1 FROM ${s}.configurations WHERE tenant_id = $1::text AND id = $2::text FOR KEY SHARE`
    const insertUnderParentSql = `WITH parent AS (${parentSql}), inserted AS (
        INSERT INTO ${a} (tenant_id, configuration_id, id, version, source, source_id, target_type, group_id, data)
        SELECT ${assignmentValues} WHERE EXISTS (SELECT 1 FROM parent)
        ON CONFLICT DO NOTHING RETURNING id
      )
      SELECT EXISTS (SELECT 1 FROM parent) AS parent, EXISTS (SELECT 1 FROM inserted) AS inserted`
    const assignmentParams = (tenant: string, configurationId: string, value: Assignment.Assignment) =>
      [tenant, configurationId, value.id, ...assignmentColumns(value), JSON.stringify(value)]
    /** Assignments as the JSON array of rows the statements above read with `json_to_recordset`. */
    const assignmentRows = (values: ReadonlyArray<Assignment.Assignment>): string =>
      JSON.stringify(values.map((v) => {
        const [source, sourceId, targetType, groupId] = assignmentColumns(v)
        return { id: v.id, source, source_id: sourceId, target_type: targetType, group_id: groupId, data: JSON.stringify(v) }
      }))
    const configurationMissing = (configurationId: string) =>
      new Errors.EntityNotFound({ entity: Configuration.typeName, id: configurationId })
    /** The port's `assignments.insert`: under its configuration's key-share lock, in one statement. */
    const insertUnderParent = (tenant: string, configurationId: string, value: Assignment.Assignment) =>
      Effect.flatMap(
        conflicts(query(insertUnderParentSql, assignmentParams(tenant, configurationId, value))),
        (rows): Effect.Effect<Assignment.Assignment, Errors.EntityNotFound | Errors.EntityAlreadyExists> =>
          rows[0]!.parent !== true
            ? Effect.fail(configurationMissing(configurationId))
            : rows[0]!.inserted === true
            ? Effect.succeed(value)
            : Effect.fail(new Errors.EntityAlreadyExists({ entity: Assignment.typeName, id: value.id }))
      )
    /**
     * The port's `assignments.insert` under a user's path (since 0.10.0): in one transaction, the
     * configuration's row locked FOR NO KEY UPDATE first, which waits for an `assign` of it (FOR
     * UPDATE) and for another insert under a user's path (the same lock) to commit; then the
     * user's targeting read by a later statement, whose snapshot sees those commits; then the
     * insert. An `assign` that locks after this waits for its commit and removes the new row with
     * the rest. FOR KEY SHARE, which the tenant path's inserts take, would let two such inserts
     * read the targeting before either committed: each an exclusion of the other's user, both were
     * stored (181 of 200 pairs in a review's test). Four round trips more than an insert without
     * the check (BEGIN, the lock, the targeting, COMMIT).
     */
    const targetedLockSql = `SELECT 1 FROM ${s}.configurations WHERE tenant_id = $1::text AND id = $2::text FOR NO KEY UPDATE`
    const insertChecked = Effect.fnUntraced(function*(
      tenant: string,
      configurationId: string,
      value: Assignment.Assignment,
      targeting: TargetingCheck
    ) {
      if ((yield* query(targetedLockSql, [tenant, configurationId])).length === 0) return yield* Effect.fail(configurationMissing(configurationId))
      const inputs = toTargetingInputs(yield* query(targetingInSql, [tenant, targeting.userId, configurationId]))
      if (!targeting.check(inputs)) return yield* Effect.fail(configurationMissing(configurationId))
      return yield* insertUnderParent(tenant, configurationId, value)
    })
    const insertTargeted = (tenant: string, configurationId: string, value: Assignment.Assignment, targeting: TargetingCheck) =>
      transaction(insertChecked(tenant, configurationId, value, targeting))
    // A membership's insert locks its group's row and its member's (a user's or a group's) the same way.
    const addMemberSql = (memberTable: "users" | "groups") =>
      `WITH parent AS (
          SELECT 1 FROM ${s}.groups WHERE tenant_id = $1::text AND id = $2::text FOR KEY SHARE
        ), member AS (
          SELECT 1 FROM ${s}.${memberTable} WHERE tenant_id = $1::text AND id = $3::text FOR KEY SHARE
        ), inserted AS (
          INSERT INTO ${m} (tenant_id, group_id, member_id, member_kind) SELECT $1::text, $2::text, $3::text, $4::text
          WHERE EXISTS (SELECT 1 FROM parent) AND EXISTS (SELECT 1 FROM member)
          ON CONFLICT DO NOTHING RETURNING member_id
        )
        SELECT EXISTS (SELECT 1 FROM parent) AS parent, EXISTS (SELECT 1 FROM member) AS member,
          EXISTS (SELECT 1 FROM inserted) AS inserted`
    const addUserSql = addMemberSql("users")
    const addGroupSql = addMemberSql("groups")
    /** The WHERE clause and parameters of an assignment list or count. */
    const assignmentWhere = (
      tenant: string,
      configurationId: string,
      after: string | undefined,
      filter: AssignmentFilter.AssignmentFilter | undefined
    ) => {
      const params: Array<unknown> = [tenant, configurationId]
      const bind = (v: unknown) => {
        params.push(v)
        return `$${params.length}`
      }
      let where = "tenant_id = $1 AND configuration_id = $2"
      if (after !== undefined) where += ` AND id > ${bind(after)}`
      if (filter !== undefined) where += ` AND ${AssignmentFilterSql.toSql(filter, bind)}`
      return { where, params, bind }
    }
    const { groupExists, allLicensed, groupsOf, targetingRows, targetingSql } = targetingStatements(s)
    const inSomeConfiguration = `EXISTS (SELECT 1 FROM ${s}.configurations c
      WHERE c.tenant_id = a.tenant_id AND c.id = a.configuration_id)`
    const concerningSql = (groups: string, scope: string) =>
      `SELECT a.configuration_id, a.data FROM ${a} AS a
       WHERE a.tenant_id = $1 AND (${allLicensed} OR a.group_id = ANY(${groups})) AND ${scope}
       ORDER BY a.configuration_id, a.id`
    const concerningAnywhereSql = concerningSql("$2::text[]", inSomeConfiguration)
    const concerningInSql = concerningSql("$2::text[]", "a.configuration_id = $3")
    /** The assignments that can bear on a user in `groupIds` (the port's `concerning`). */
    const concerning = (tenant: string, groupIds: ReadonlyArray<string>, configurationId: string | undefined) =>
      Effect.map(
        configurationId === undefined
          ? query(concerningAnywhereSql, [tenant, [...groupIds]])
          : query(concerningInSql, [tenant, [...groupIds], configurationId]),
        (rows) => rows.map(toAssignmentOf)
      )
    // `groups.transitiveGroupsOf`: the same recursion for any member, the member itself left out
    // (a cycle of groups leads back to it).
    const transitiveGroupsSql = `WITH RECURSIVE ${groupsOf("= $2")} SELECT id FROM t WHERE id <> $2 ORDER BY id`
    const targetingAnywhereSql = targetingSql(inSomeConfiguration)
    const targetingInSql = targetingSql("a.configuration_id = $3")
    const toTargetingInputs = (rows: ReadonlyArray<Row>) => {
      const groups: Array<string> = []
      const assignments: Array<AssignmentOf> = []
      for (const r of rows) {
        if (r.configuration_id === null) groups.push(r.id as string)
        else assignments.push(toAssignmentOf(r))
      }
      return { groups, assignments }
    }
    // `json`, not `jsonb`: the text is scanned once for the one field, not converted whole.
    const invitedUserSql = `SELECT v.user_id,
        EXISTS (SELECT 1 FROM ${s}.users u WHERE u.tenant_id = i.tenant_id AND u.id = v.user_id) AS present
      FROM ${s}.invitations AS i CROSS JOIN LATERAL (SELECT i.data::json ->> 'invitedUserId' AS user_id) AS v
      WHERE i.tenant_id = $1 AND i.id = $2`
    // `resolveConfiguration`: the path's user, the configuration and the user's targeting inputs
    // in it, in one statement (one snapshot, one round trip instead of three). Rows by `kind`:
    // 'u' the user (id, present; none when the invitation does not exist), 'c' the
    // configuration, 't' the rows of `targetingOf` for the user in the configuration.
    // With an assignment id ($4), 'a' is that assignment of the configuration, when it exists.
    const resolveSql = (user: string, withAssignment: boolean) =>
      `WITH RECURSIVE v(user_id) AS (${user}),
      u(id) AS (SELECT us.id FROM ${s}.users AS us JOIN v ON us.tenant_id = $1 AND us.id = v.user_id),
      ${groupsOf("IN (SELECT id FROM u)")}
      SELECT 'u' AS kind, NULL::text COLLATE "C" AS configuration_id, v.user_id COLLATE "C" AS id, NULL::text AS data,
        EXISTS (SELECT 1 FROM u) AS present FROM v
      UNION ALL
      SELECT 'c', NULL, c.id, c.data, NULL FROM ${s}.configurations AS c WHERE c.tenant_id = $1 AND c.id = $3
      UNION ALL
      SELECT 't', r.configuration_id, r.id, r.data, NULL FROM (${targetingRows("a.configuration_id = $3")}) AS r${
        withAssignment
          ? `
      UNION ALL
      SELECT 'a', NULL, one.id, one.data, NULL FROM ${a} AS one
      WHERE one.tenant_id = $1 AND one.configuration_id = $3 AND one.id = $4`
          : ""
      }`
    const invitedUserIdSql =
      `SELECT i.data::json ->> 'invitedUserId' FROM ${s}.invitations AS i WHERE i.tenant_id = $1 AND i.id = $2`
    const resolveInvitationSql = resolveSql(invitedUserIdSql, false)
    const resolveInvitationAssignmentSql = resolveSql(invitedUserIdSql, true)
    const resolveUserSql = resolveSql("SELECT $2::text", false)
    const resolveUserAssignmentSql = resolveSql("SELECT $2::text", true)
    /** The rows of a resolution; `asked` when it was asked for an assignment ('a' rows). */
    const toResolution = (rows: ReadonlyArray<Row>, asked: boolean): ConfigurationResolution => {
      let user = Option.none<InvitedUser>()
      let configuration = Option.none<Configuration.Configuration>()
      let assignment = asked ? Option.none<Assignment.Assignment>() : undefined
      const targeting: Array<Row> = []
      for (const r of rows) {
        if (r.kind === "u") user = Option.some({ userId: String(r.id), exists: r.present === true })
        else if (r.kind === "c") configuration = Option.some(parse<Configuration.Configuration>(r.data))
        else if (r.kind === "a") assignment = Option.some(parse<Assignment.Assignment>(r.data))
        else targeting.push(r)
      }
      return { user, configuration, targeting: toTargetingInputs(targeting), assignment }
    }
    const toResolutionOnly = (rows: ReadonlyArray<Row>) => toResolution(rows, false)
    const toResolutionWithAssignment = (rows: ReadonlyArray<Row>) => toResolution(rows, true)
    const removeMemberEverywhere = (tenant: string, memberId: string) =>
      query(`DELETE FROM ${m} AS m WHERE m.tenant_id = $1 AND m.member_id = $2 AND ${groupExists}`, [tenant, memberId])

    const configurations = entitySet<Configuration.Configuration>(
      "configurations",
      "deviceEnrollmentConfiguration",
      removeAssignmentsOf
    )
    // Users' get, list and remove; their insert and modify, which keep `upn_key`, are `insertUser` and
    // `modifyUser` below (the set's own would write a user without its key).
    const users = entitySet<Directory.User>("users", "user", removeMemberEverywhere, "groups")
    const groups = entitySet<Directory.Group>("groups", "group", (tenant, id) =>
      Effect.andThen(
        query(`DELETE FROM ${m} WHERE tenant_id = $1 AND group_id = $2`, [tenant, id]),
        removeMemberEverywhere(tenant, id)
      ), "users")
    const invitations = entitySet<Directory.Invitation>("invitations", "invitation")
    // Made once, not per call (a generator function made per call costs more than the work it frames).
    // In a transaction (the caller's): the configuration's row is locked FOR UPDATE first and held
    // until the replacement commits. That lock conflicts with itself and with an insert's FOR KEY
    // SHARE (see above), so two replacements, or a replacement and an insert, of one configuration
    // run one after the other: under READ COMMITTED the waiting one's DELETE, a statement after
    // the lock was granted, sees what the other committed and removes it (with a shared lock, two
    // replacements each deleted what they saw and both sets were left). A configuration's PATCH
    // takes the same lock, and waits as long as one `assign`.
    //
    // The ids the new set keeps are updated in place, and only the others deleted (since 0.14.0).
    // Before, every row was deleted and the set inserted again: a PATCH or DELETE of a kept id in
    // another transaction that waited for its row's lock (a PATCH's locked round, a checked removal)
    // found the row deleted, READ COMMITTED's re-check not seeing the new row of the same key, and
    // answered 404 for an assignment that was there before and after (a review: 55 of 800 PATCHes
    // from three processes, up to a third of DELETEs). Updated in place, the row is the same one,
    // and the waiting statement reads its new version. A kept row whose value is unchanged is not
    // written at all: its version, and so a PATCH's compare-and-set on it, stays as it was.
    const replaceLockSql = `SELECT 1 FROM ${s}.configurations WHERE tenant_id = $1::text AND id = $2::text FOR UPDATE`
    // With a check (since 0.16.0: the action's If-Match), the same lock reads the configuration, and
    // the check runs on it before anything is written: as a checked removal's, no write of the
    // configuration can come between the two (a PATCH's compare-and-set waits for the lock).
    const replaceCheckedLockSql = `SELECT data, version FROM ${s}.configurations WHERE tenant_id = $1::text AND id = $2::text FOR UPDATE`
    // The kept ids alone (since 0.15.0; before, the whole rows' JSON, sent a second time for the upsert).
    const removeOthersSql = `DELETE FROM ${a} WHERE tenant_id = $1 AND configuration_id = $2 AND NOT (id = ANY($3::text[]))`
    const replaceAssignments = Effect.fnUntraced(function*<E>(
      tenant: string,
      configurationId: string,
      values: ReadonlyArray<Assignment.Assignment>,
      check: Check<Configuration.Configuration, E> | undefined
    ) {
      if (check === undefined) {
        if ((yield* query(replaceLockSql, [tenant, configurationId])).length === 0) return yield* configurationMissing(configurationId)
      } else {
        const current = toStored<Configuration.Configuration>(yield* query(replaceCheckedLockSql, [tenant, configurationId]))
        if (current === undefined) return yield* configurationMissing(configurationId)
        const passed = check(current.value)
        if (Result.isFailure(passed)) return yield* Effect.fail(passed.failure)
      }
      const set = lastById(values)
      if (set.length === 0) return yield* removeAssignmentsOf(tenant, configurationId)
      yield* query(removeOthersSql, [tenant, configurationId, set.map((v) => v.id)])
      yield* query(upsertAssignmentsSql, [tenant, configurationId, assignmentRows(set)])
    })
    // In one transaction (the caller's): a refused user rolls the invitation back with it.
    // A user's principal name is unique in its tenant (core 0.11.0). Under READ COMMITTED a look-up
    // and then a write is not enough (neither of two transactions sees the other's uncommitted
    // row), and a UNIQUE index cannot be had (a store written before may hold duplicates, and must
    // open). So every write that may give a user a name first takes a transaction-level advisory
    // lock on (tenant, the name's key) (`principalNameLockKey`), and only then looks the key up
    // through `users_by_upn_key`, in a statement whose snapshot is taken after the lock was
    // granted: a transaction that held the lock had committed before it let go, so the look-up
    // sees its row. A user's insert takes its id's lock first (see `entitySet`), then the name's;
    // an invitation's insert the same two in the same order; a modify locks the user's row, then
    // the new name's: never the other way round, so these writes cannot deadlock each other.
    // Under SERIALIZABLE (CockroachDB) the engine aborts one of two racing writes as a write
    // skew, and `transaction` runs it again.
    const u = `${s}.users`
    const lockPrincipalName = (tenant: string, key: string) =>
      query("SELECT pg_advisory_xact_lock($1::bigint)", [principalNameLockKey(schema, tenant, key)])
    const holderSql = `SELECT id FROM ${u} WHERE tenant_id = $1 AND upn_key = $2 AND id <> $3 LIMIT 1`
    // A user's key in a path read as a principal name (core 0.16.0, `users.idByPrincipalName`):
    // through `users_by_upn_key`, the least id of the key's rows.
    const idByPrincipalNameSql = `SELECT id FROM ${u} WHERE tenant_id = $1 AND upn_key = $2 ORDER BY id LIMIT 1`
    const holderOf = (tenant: string, key: string, except: string) =>
      Effect.map(query(holderSql, [tenant, key, except]), (rows) => rows.length === 0 ? undefined : String(rows[0]!.id))
    const principalNameTaken = (user: Directory.User, heldBy: string) =>
      new Errors.UserPrincipalNameTaken({ userPrincipalName: user.userPrincipalName ?? "", heldBy })
    const insertUserSql = `WITH other AS (
        SELECT 1 FROM ${s}.groups WHERE tenant_id = $1::text AND id = $2::text
      ), mine AS (
        SELECT 1 FROM ${u} WHERE tenant_id = $1::text AND id = $2::text
      ), holder AS (
        SELECT id FROM ${u} WHERE tenant_id = $1::text AND upn_key = $4::text AND id <> $2::text LIMIT 1
      ), inserted AS (
        INSERT INTO ${u} (tenant_id, id, version, data, upn_key) SELECT $1::text, $2::text, 1, $3::text, $4::text
        WHERE NOT EXISTS (SELECT 1 FROM other) AND NOT EXISTS (SELECT 1 FROM mine) AND NOT EXISTS (SELECT 1 FROM holder)
        ON CONFLICT DO NOTHING RETURNING id
      )
      SELECT EXISTS (SELECT 1 FROM other) AS other, EXISTS (SELECT 1 FROM mine) AS mine, (SELECT id FROM holder) AS holder,
        EXISTS (SELECT 1 FROM inserted) AS inserted`
    /**
     * Inserts a user unless its id is taken (by a user, or a group: a `directoryObject`) or its
     * name is held: undefined, or the refusal. In a transaction: the locks are held to its end.
     */
    const insertUser: (
      tenant: string,
      value: Directory.User
    ) => Effect.Effect<Errors.EntityAlreadyExists | Errors.UserPrincipalNameTaken | undefined, SqlError> = Effect.fnUntraced(
      function*(tenant: string, value: Directory.User) {
        const key = Directory.userPrincipalNameKey(value.userPrincipalName)
        yield* query("SELECT pg_advisory_xact_lock($1::bigint)", [directoryIdLockKey(schema, tenant, value.id)])
        if (key !== undefined) yield* lockPrincipalName(tenant, key)
        const row = (yield* query(insertUserSql, [tenant, value.id, JSON.stringify(value), key ?? null]))[0]!
        if (row.other === true) return new Errors.EntityAlreadyExists({ entity: "directoryObject", id: value.id })
        if (row.inserted === true) return undefined
        // The id first: a taken id is refused as such, whatever the name (since 0.13.1; before, an id
        // taken together with a name another user holds was refused for the name, a 400 where the
        // other stores answer the id's 409).
        if (row.mine === true || row.holder === null || row.holder === undefined) {
          return new Errors.EntityAlreadyExists({ entity: "user", id: value.id })
        }
        return principalNameTaken(value, String(row.holder))
      }
    )
    const userLockSql = `SELECT data, version FROM ${u} WHERE tenant_id = $1 AND id = $2 FOR UPDATE`
    const userUpdateSql = `UPDATE ${u} SET data = $3, version = version + 1, upn_key = $4 WHERE tenant_id = $1 AND id = $2`
    /**
     * A user's modify, in one transaction: the row locked, the change applied, the new name (a key
     * other than the user's own) looked up under its lock, and the row written. Not the shared
     * compare-and-set rounds of the other entities (`rowWriter`): a round writes the last of many
     * changes at once, and a refusal of one of them for its name would have to be undone alone.
     */
    const modifyUserUnlocked = Effect.fnUntraced(function*<E>(tenant: string, id: string, change: Change<Directory.User, E>) {
        const current = toStored<Directory.User>(yield* query(userLockSql, [tenant, id]))
        if (current === undefined) return Option.none<Directory.User>()
        const r = change(current.value)
        if (Result.isFailure(r)) return yield* Effect.fail(r.failure)
        if (r.success === current.value) return Option.some(current.value)
        const key = Directory.userPrincipalNameKey(r.success.userPrincipalName)
        if (key !== undefined && key !== Directory.userPrincipalNameKey(current.value.userPrincipalName)) {
          yield* lockPrincipalName(tenant, key)
          const holder = yield* holderOf(tenant, key, id)
          if (holder !== undefined) return yield* Effect.fail(principalNameTaken(r.success, holder))
        }
        yield* query(userUpdateSql, [tenant, id, JSON.stringify(r.success), key ?? null])
        return Option.some(r.success)
      })
    const modifyUser = <E>(tenant: string, id: string, change: Change<Directory.User, E>) =>
      transaction(modifyUserUnlocked(tenant, id, change))

    const insertInvitation = Effect.fnUntraced(function*(tenant: string, invitation: Directory.Invitation, user: Directory.User | undefined) {
      const key = user === undefined ? undefined : Directory.userPrincipalNameKey(user.userPrincipalName)
      let holder: string | undefined
      if (user !== undefined && key !== undefined) {
        // The guest's locks in the order a user's insert takes them (its id's, then its name's).
        yield* query("SELECT pg_advisory_xact_lock($1::bigint)", [directoryIdLockKey(schema, tenant, user.id)])
        yield* lockPrincipalName(tenant, key)
        holder = yield* holderOf(tenant, key, "")
      }
      // The guest's name held already: the invitation links the holder, and no user is written (see the port).
      const stored = holder === undefined ? invitation : { ...invitation, invitedUserId: holder }
      const refused = (yield* invitations.insertRow(tenant, stored)) ??
        (user === undefined || holder !== undefined ? undefined : yield* insertUser(tenant, user))
      // The name was free a statement ago, under its lock: it cannot be held now.
      if (refused instanceof Errors.UserPrincipalNameTaken) return yield* Effect.die(new Error("PostgresStore: a guest's principal name was taken under its lock"))
      if (refused !== undefined) return yield* refused
      return stored
    })

    /**
     * The port's `snapshot` (since 0.9.0): `effect` in one `REPEATABLE READ READ ONLY` transaction
     * on one connection of the pool (`BEGIN` and `COMMIT`, two round trips more), whose every
     * statement reads the snapshot its first one took. Inside a transaction already (a snapshot's,
     * or a caller's sharing the client) it runs in that one. A write inside it is refused by the
     * engine (`StoreUnavailable`). The connection's `idle_in_transaction_session_timeout` (twice
     * the store's deadline) ends a snapshot whose caller does not read for that long.
     */
    const snapshot = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | Errors.StoreUnavailable, R> =>
      Effect.contextWith((context: Context.Context<never>): Effect.Effect<A, E | Errors.StoreUnavailable, R> =>
        Context.getOrUndefined(context, sql.transactionService) !== undefined
          ? effect
          // The engine's errors (BEGIN's, COMMIT's) as the store's; `effect`'s own failures as they are.
          // The BEGIN is this transaction's alone: inside, a transaction of another client (another
          // store's, in the caller's fiber) begins as its client does.
          : orUnavailable(onPool(sql.withTransaction(Effect.provideService(effect, SqlClient.BeginTransaction, undefined)))).pipe(
            Effect.provideService(SqlClient.BeginTransaction, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
          ) as Effect.Effect<A, E | Errors.StoreUnavailable, R>
      )

    return Store.of(withDeadline(withSpans("PostgresStore", {
      snapshot,
      configurations: {
        ...entityMethods(configurations),
        getMany: (tenant, ids) =>
          orUnavailable(Effect.map(
            query(`SELECT id, data FROM ${s}.configurations WHERE tenant_id = $1 AND id = ANY($2::text[])`, [tenant, [
              ...ids
            ]]),
            (rows) => {
              const found = new Map<string, Configuration.Configuration>()
              for (const r of rows) found.set(r.id as string, parse(r.data))
              return ids.flatMap((id) => {
                const c = found.get(id)
                return c === undefined ? [] : [c]
              })
            }
          ))
      },
      assignments: {
        get: (tenant, configurationId, id) =>
          orUnavailable(shared(
            keyOf("assignments", tenant, configurationId, id),
            Effect.map(query(aGetSql, [tenant, configurationId, id]), (rows) =>
              rows.length === 0 ? Option.none() : Option.some(parse<Assignment.Assignment>(rows[0]!.data)))
          )),
        list: (tenant, configurationId, page, filter) => {
          const { bind, params, where } = assignmentWhere(tenant, configurationId, page.after, filter)
          const text = `SELECT id, data FROM ${a} WHERE ${where} ORDER BY id LIMIT ${bind(fetchLimit(page))}`
          return orUnavailable(Effect.map(
            query(text, params),
            (rows) => toPage(rows, page, (r) => parse<Assignment.Assignment>(r.data), (r) => r.id as string)
          ))
        },
        count: (tenant, configurationId, filter) => {
          const { params, where } = assignmentWhere(tenant, configurationId, undefined, filter)
          return orUnavailable(Effect.map(
            query(`SELECT count(*) AS n FROM ${a} WHERE ${where}`, params),
            (rows) => Number(rows[0]!.n)
          ))
        },
        insert: (tenant, configurationId, value, targeting) =>
          orUnavailable(
            targeting === undefined
              ? insertUnderParent(tenant, configurationId, value)
              : insertTargeted(tenant, configurationId, value, targeting)
          ),
        modify: (tenant, configurationId, id, change) =>
          orUnavailable(modifyAssignment(`${tenant}\u0000${configurationId}\u0000${id}`, [tenant, configurationId, id], change)),
        remove: <E = never>(tenant: string, configurationId: string, id: string, check?: Check<Assignment.Assignment, E>) => {
          const remove = Effect.map(query(aRemoveSql, [tenant, configurationId, id]), (rows) => rows.length > 0)
          if (check === undefined) return orUnavailable(conflicts(remove))
          // As the entity sets' remove with a check: read locked, checked and removed in one transaction.
          return orUnavailable(transaction(Effect.flatMap(query(aLockSql, [tenant, configurationId, id]), (rows): Effect.Effect<boolean, E | SqlError> => {
            const current = toStored<Assignment.Assignment>(rows)
            if (current === undefined) return Effect.succeed(false)
            const passed = check(current.value)
            return Result.isFailure(passed) ? Effect.fail(passed.failure) : remove
          })))
        },
        replace: <E = never>(
          tenant: string,
          configurationId: string,
          values: ReadonlyArray<Assignment.Assignment>,
          check?: Check<Configuration.Configuration, E>
        ) => orUnavailable(transaction(replaceAssignments(tenant, configurationId, values, check))),
        concerning: (tenant, groupIds, configurationId) => orUnavailable(concerning(tenant, groupIds, configurationId))
      },
      users: {
        ...entityMethods(users),
        insert: (tenant, value) =>
          orUnavailable(transaction(Effect.flatMap(insertUser(tenant, value), (refused) =>
            refused === undefined ? Effect.succeed(value) : Effect.fail(refused)))),
        modify: (tenant, id, change) => orUnavailable(modifyUser(tenant, id, change)),
        idByPrincipalName: (tenant, userPrincipalName) => {
          const key = Directory.userPrincipalNameKey(userPrincipalName)!
          return orUnavailable(shared(
            keyOf("user by principal name", tenant, key),
            Effect.map(query(idByPrincipalNameSql, [tenant, key]), (rows) =>
              rows.length === 0 ? Option.none<string>() : Option.some(String(rows[0]!.id)))
          ))
        }
      },
      groups: {
        ...(({ modify: _, ...rest }) => rest)(entityMethods(groups)),
        members: (tenant, groupId, page) =>
          orUnavailable(Effect.map(
            page.after === undefined
              ? query(
                `SELECT member_id, member_kind FROM ${m} WHERE tenant_id = $1 AND group_id = $2
                 ORDER BY member_id LIMIT $3`,
                [tenant, groupId, fetchLimit(page)]
              )
              : query(
                `SELECT member_id, member_kind FROM ${m} WHERE tenant_id = $1 AND group_id = $2 AND member_id > $3
                 ORDER BY member_id LIMIT $4`,
                [tenant, groupId, page.after, fetchLimit(page)]
              ),
            (rows) =>
              toPage(
                rows,
                page,
                toMemberRef,
                (r) => r.member_id as string
              )
          )),
        memberCount: (tenant, groupId, kind) =>
          orUnavailable(Effect.map(
            kind === undefined
              ? query(`SELECT count(*)::int AS n FROM ${m} WHERE tenant_id = $1 AND group_id = $2`, [tenant, groupId])
              : query(`SELECT count(*)::int AS n FROM ${m} WHERE tenant_id = $1 AND group_id = $2 AND member_kind = $3`, [tenant, groupId, kind]),
            (rows) => Number(rows[0]!.n)
          )),
        addMember: (tenant, groupId, member) =>
          orUnavailable(Effect.flatMap(
            conflicts(query(member.kind === "user" ? addUserSql : addGroupSql, [tenant, groupId, member.id, member.kind])),
            (rows): Effect.Effect<void, Errors.EntityNotFound | Errors.MemberAlreadyPresent> =>
              rows[0]!.parent !== true
                ? Effect.fail(new Errors.EntityNotFound({ entity: "group", id: groupId }))
                : rows[0]!.member !== true
                ? Effect.fail(new Errors.EntityNotFound({ entity: "directoryObject", id: member.id }))
                : rows[0]!.inserted === true
                ? Effect.void
                : Effect.fail(new Errors.MemberAlreadyPresent({ groupId, memberId: member.id }))
          )),
        removeMember: (tenant, groupId, memberId) =>
          orUnavailable(conflicts(Effect.map(
            query(`DELETE FROM ${m} WHERE tenant_id = $1 AND group_id = $2 AND member_id = $3 RETURNING member_id`, [
              tenant,
              groupId,
              memberId
            ]),
            (rows) => rows.length > 0
          ))),
        groupsOf: (tenant, memberIds) =>
          orUnavailable(Effect.map(
            query(
              `SELECT m.group_id, m.member_id FROM ${m} AS m
               WHERE m.tenant_id = $1 AND m.member_id = ANY($2::text[]) AND ${groupExists}
               ORDER BY m.group_id, m.member_id`,
              [tenant, [...memberIds]]
            ),
            (rows) => rows.map(toMembership)
          )),
        transitiveGroupsOf: (tenant, memberId) =>
          orUnavailable(Effect.map(query(transitiveGroupsSql, [tenant, memberId]), (rows) => rows.map((r) => r.id as string)))
      },
      invitations: {
        get: invitations.get,
        list: invitations.list,
        count: invitations.count,
        remove: invitations.remove,
        invitedUserOf: (tenant, invitationId) =>
          orUnavailable(Effect.map(query(invitedUserSql, [tenant, invitationId]), (rows) =>
            rows.length === 0
              ? Option.none()
              : Option.some({ userId: String(rows[0]!.user_id), exists: rows[0]!.present === true })
          )),
        insert: (tenant, invitation, user) => orUnavailable(transaction(insertInvitation(tenant, invitation, user)))
      },
      targetingOf: (tenant, userId, configurationId) =>
        orUnavailable(Effect.map(
          configurationId === undefined
            ? query(targetingAnywhereSql, [tenant, userId])
            : query(targetingInSql, [tenant, userId, configurationId]),
          toTargetingInputs
        )),
      resolveConfiguration: (tenant, parent, configurationId, assignmentId) => {
        const [kind, id] = parent._tag === "Invitation" ? ["invitation", parent.invitationId] : ["user", parent.userId]
        const read = assignmentId === undefined
          ? Effect.map(
            query(kind === "invitation" ? resolveInvitationSql : resolveUserSql, [tenant, id, configurationId]),
            toResolutionOnly
          )
          : Effect.map(
            query(kind === "invitation" ? resolveInvitationAssignmentSql : resolveUserAssignmentSql, [
              tenant,
              id,
              configurationId,
              assignmentId
            ]),
            toResolutionWithAssignment
          )
        return orUnavailable(shared(
          assignmentId === undefined
            ? keyOf("resolve", kind, tenant, id, configurationId)
            : keyOf("resolve with an assignment", kind, tenant, id, configurationId, assignmentId),
          read
        ))
      },
      ready: orUnavailable(Effect.flatMap(readyRows, (rows) =>
        rows[0]?.read_only === "on"
          ? Effect.fail(unavailable(new Error(
            "PostgreSQL's session is read-only (a standby, or default_transaction_read_only on), which takes no writes"
          )))
          : Effect.void))
    }, traced), timeoutMillis))
  })

/**
 * Applies the migrations `schema` lacks, in one transaction under an advisory
 * lock, and returns the versions it applied (none when the schema is current).
 * With `create: false`, a schema holding no store (no `schema_migrations`) is
 * {@link StoreNotFound}, and nothing is made. With `through`, only the migrations
 * up to that version are applied (since 0.3.1): a store as an earlier release left it.
 * A store that records a version this release does not know (a newer release migrated
 * it) is `StoreUnavailable`, and nothing is changed (since 0.3.1).
 */
export const migrateWith = (
  sql: PgClient.PgClient,
  schema: string,
  options: {
    readonly create?: boolean | undefined
    readonly through?: number | undefined
    readonly notice?: StoreSql.Notice | undefined
  } = {}
): Effect.Effect<ReadonlyArray<number>, SqlError | StoreNotFound | Errors.StoreUnavailable> => {
  const s = quote(schema)
  // Said once the migrations' transaction has committed.
  let upgrade: StoreSql.Upgrade | undefined
  const said = Effect.sync(() => {
    if (upgrade !== undefined) for (const [line, level] of StoreSql.upgradeNotices(upgrade)) options.notice?.(line, level)
  })
  let timer: ReturnType<typeof setTimeout> | undefined
  const migration = sql.withTransaction(Effect.gen(function*() {
    // No statement timeout for the migration (the store's connections have one, since 0.5.2): it
    // may wait for another process's migration, and a backfill may take long on a large store.
    yield* sql.unsafe("SET LOCAL statement_timeout = 0").unprepared
    // From here on it waits only for locks (or its own work): a connection that never opened is not said to.
    timer = yield* waiting
    yield* sql.unsafe("SELECT pg_advisory_xact_lock($1::bigint)", [lockKey(schema)])
    if (options.create === false) {
      const store = yield* sql.unsafe(
        "SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'schema_migrations'",
        [schema]
      )
      if (store.length === 0) return yield* new StoreNotFound({ schema })
    }
    const exists = yield* sql.unsafe("SELECT 1 FROM information_schema.schemata WHERE schema_name = $1", [schema])
    if (exists.length === 0) yield* sql.unsafe(`CREATE SCHEMA ${s}`).unprepared
    yield* sql.unsafe(`CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`).unprepared
    const done = new Set(
      (yield* sql.unsafe<Row>(`SELECT version FROM ${s}.schema_migrations`)).map((r) => Number(r.version))
    )
    // A newer release's store: this one would write it without what its later migrations made,
    // so it is not opened at all (since 0.3.1); the transaction rolls back, nothing is changed.
    const unknown = newestUnknown(done, migrations)
    if (unknown !== undefined) return yield* Effect.fail(unavailable(new Error(tooNew(unknown, migrations))))
    const applied: Array<number> = []
    const names: Array<string> = []
    const removed: Array<readonly [string, number]> = []
    for (const m of migrations) {
      if (done.has(m.version) || m.version > (options.through ?? Infinity)) continue
      for (const [i, statement] of m.statements.entries()) {
        const text = statement.replaceAll("$schema", () => s)
        const what = m.removes?.[i]
        if (what === undefined) {
          yield* sql.unsafe(text).unprepared
          continue
        }
        // A DELETE that counts what it removed.
        const [row] = yield* sql.unsafe<Row>(`WITH removed AS (${text} RETURNING 1) SELECT count(*)::int AS n FROM removed`)
        removed.push([what, Number(row?.n ?? 0)])
      }
      yield* sql.unsafe(`INSERT INTO ${s}.schema_migrations (version, name) VALUES ($1, $2)`, [m.version, m.name])
      applied.push(m.version)
      names.push(m.name)
    }
    const from = done.size === 0 ? 0 : Math.max(...done)
    if (options.notice !== undefined && from > 0 && applied.length > 0) {
      // Once, at the upgrade: a join of the two tables on their keys (what 0.3.0 stopped writing).
      const pairs = `FROM ${s}.users AS u JOIN ${s}.groups AS g ON g.tenant_id = u.tenant_id AND g.id = u.id`
      const [counted] = yield* sql.unsafe<Row>(`SELECT count(*)::int AS n ${pairs}`)
      const count = Number(counted?.n ?? 0)
      const first = count === 0
        ? []
        : (yield* sql.unsafe<Row>(`SELECT u.tenant_id AS tenant, u.id AS id ${pairs} ORDER BY 1, 2 LIMIT ${StoreSql.sharedIdsShown}`))
          .map((r) => ({ tenant: String(r.tenant), id: String(r.id) }))
      // At the upgrade that made principal names unique: the names more than one user holds (through the new index).
      let sharedNames: StoreSql.Upgrade["sharedNames"]
      if (applied.includes(3) || applied.includes(4) || applied.includes(5)) {
        const held = StoreSql.sharedNamesSql(`${s}.users`)
        const [n] = yield* sql.unsafe<Row>(`SELECT count(*)::int AS n FROM (${held}) AS x`)
        const total = Number(n?.n ?? 0)
        sharedNames = {
          count: total,
          first: total === 0 ? [] : (yield* sql.unsafe<Row>(`${held} ORDER BY 1, 2 LIMIT ${StoreSql.sharedIdsShown}`))
            .map((r) => ({ tenant: String(r.tenant), name: String(r.name) }))
        }
      }
      upgrade = { from, to: applied[applied.length - 1]!, migrations: names, removed, shared: { count, first }, sharedNames }
    }
    return applied
  })).pipe(Effect.ensuring(Effect.sync(() => clearTimeout(timer))), Effect.tap(() => said))
  // A migration that waits for a lock says so once it has waited a while (since 0.8.1): before, a
  // start behind another process's migration, or behind an operator's lock on the store's tables,
  // neither listened nor logged anything until the lock went, however long that took.
  const waiting = Effect.sync(() => {
    const timer = setTimeout(() => {
      try {
        options.notice?.(
        `the store in schema ${s} has not opened in ${migrationWaitNoticeMillis / 1000} s: its migration waits for a lock (another ` +
          "process migrating it, or a session holding a lock on its tables: see pg_locks and pg_stat_activity) or upgrades a large " +
          "store; the start goes on waiting",
          "warn"
        )
      } catch {
        // A notice that throws says nothing; the start goes on.
      }
    }, migrationWaitNoticeMillis)
    timer.unref?.()
    return timer
  })
  return migration
}

/** How long a migration waits for a lock before the store's `notice` hears it (since 0.8.1). */
export const migrationWaitNoticeMillis = 5_000

/**
 * The store over a `PgClient` provided from outside (its pool shared with other users);
 * `schema`, `timeoutMillis` and `create` as in {@link Options}.
 */
export const layerClient = (
  options: {
    readonly schema?: string | undefined
    readonly timeoutMillis?: number | undefined
    readonly create?: boolean | undefined
  } = {}
): Layer.Layer<Store, Errors.StoreUnavailable | StoreNotFound, PgClient.PgClient> => Layer.effect(Store, make(options))

/**
 * The store on the database at `options.url`, with its own pool of at most
 * `options.maxConnections` connections, over TLS as the URL's `sslmode` and `sslrootcert`
 * say (see {@link PostgresTls}).
 */
export const layer = (options: Options): Layer.Layer<Store, Errors.StoreUnavailable | StoreNotFound> =>
  Layer.effect(
    Store,
    Effect.gen(function*() {
      // The pool lives in a scope of its own whose close is bounded like a call: closing
      // connections to a server that stopped answering would otherwise never end, and a
      // process shutting down would hang with it.
      const pool = yield* Scope.make()
      const timeoutMillis = options.timeoutMillis ?? defaultTimeoutMillis
      yield* Effect.addFinalizer((exit) =>
        deadline(Scope.close(pool, exit), Math.min(timeoutMillis, closeMillis)).pipe(
          Effect.catch(() =>
            Effect.logWarning(`PostgreSQL: the pool did not close within ${Math.min(timeoutMillis, closeMillis)} ms; left to close in the background`)
          )
        ))
      const url = Redacted.isRedacted(options.url) ? options.url : Redacted.make(options.url)
      // The URL's sslmode and sslrootcert as libpq means them, given to the driver explicitly:
      // its own reading of them verifies the certificate even with `require` (see PostgresTls).
      const tls = PostgresTls.fromUrl(Redacted.value(url))
      if ("problem" in tls) return yield* Effect.fail(unavailable(new PostgresTls.TlsSettingInvalid({ reason: tls.problem })))
      const maxConnections = options.maxConnections ?? defaultMaxConnections
      if (!Number.isSafeInteger(maxConnections) || maxConnections < 1) {
        return yield* Effect.die(new RangeError(`PostgresStore: maxConnections must be a positive integer, got ${maxConnections}`))
      }
      const clientOf = (connections: number, applicationName: string) =>
        PgClient.make({
          url,
          ssl: tls.ssl,
          maxConnections: connections,
          connectionTTL: Duration.millis(connectionTtlMillis),
          applicationName,
          startupParameters: sessionSettings(options.timeoutMillis ?? defaultTimeoutMillis)
        }).pipe(Scope.provide(pool), Effect.mapError(unavailable))
      // The URL's own `application_name` when it has one (since 0.8.1: before, always this name,
      // and an operator could not tell deployments' sessions apart in `pg_stat_activity`).
      const name = urlApplicationName(Redacted.value(url)) ?? "@enrollment/store-adapter"
      const client = yield* clientOf(maxConnections, name)
      // `ready`'s own connection (since 0.8.3), opened at its first check (a pool opens none before it is
      // asked), named so in `pg_stat_activity`: see `make`'s `readyClient`.
      const readyClient = yield* clientOf(1, `${name.slice(0, 55)} (ready)`)
      return yield* Effect.provideService(
        make({ schema: options.schema, timeoutMillis: options.timeoutMillis, create: options.create, notice: options.notice, readyClient }),
        PgClient.PgClient,
        client
      ).pipe(
        // The first connection opens here: a certificate it rejected is said as such, and a server
        // that could not be reached or does not speak PostgreSQL is named.
        Effect.mapError((e) => {
          if (e._tag !== "StoreUnavailable") return e
          const explained = located(PostgresTls.explain(e.cause, tls.settings), Redacted.value(url))
          return explained === e.cause ? e : unavailable(explained)
        })
      )
    })
  ).pipe(Layer.provide(Reactivity.layer))
