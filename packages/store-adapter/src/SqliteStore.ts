/**
 * The store port on SQLite, through Node's built-in `node:sqlite` (no native
 * addon): the embedded default, one file in a data directory.
 *
 * `DatabaseSync` is synchronous and JavaScript runs one callback at a time, so
 * a read-modify-write done synchronously inside one `BEGIN IMMEDIATE … COMMIT`
 * cannot interleave with another fiber; `BEGIN IMMEDIATE` takes the file's
 * write lock first, so it cannot interleave with another process either. A failed
 * transaction is always rolled back before the error leaves.
 *
 * Locks held by other connections (another server process, `enrollctl` in local
 * mode, a `sqlite3` shell, a backup) are never waited for on the event loop: a
 * wait there is a wait of every request. The store's connection has no busy
 * timeout; a batch of writes whose `BEGIN IMMEDIATE` finds the write lock taken
 * stays queued and is tried again from a timer, and so is a read that finds the
 * file locked (another process's WAL recovery), each for up to `busyTimeout`
 * (see {@link groupCommit} and {@link runSync}). Only {@link open} waits in
 * place, at start-up.
 *
 * Durability: WAL journal; by default (`synchronous: "FULL"`) an acknowledged
 * write survives power loss. The COMMIT writes the WAL without waiting for the
 * disk, and the group commit acknowledges a batch once an `fdatasync` of the
 * WAL file, run on the libuv thread pool, has made it durable (see
 * {@link groupCommit}); readers can see a committed write up to one sync
 * before its writer hears of it.
 *
 * Group commit: every write is queued, and the writes queued for one sync are
 * committed together as it begins, one transaction for all of them, each
 * inside its own savepoint when it needs one (so one write's refusal or
 * failure undoes only that write). Under concurrent load this turns one sync
 * and one COMMIT per write into one per batch, and the event loop serves on
 * while the disk works. `synchronous: "NORMAL"` commits each turn's writes and
 * acknowledges at COMMIT without a sync: it survives a killed process
 * (SIGKILL, OOM) but may lose the last writes on power loss. {@link stats}
 * tells what the syncs did (how many, the writes they made durable, failures,
 * seconds in them): the disk's health as the writes see it.
 *
 * Read cache: stored values and each user's targeting inputs are kept in a
 * bounded {@link ReadCache} holding committed state only, made current with
 * other connections' commits through `PRAGMA data_version` (see
 * {@link fromDatabase}). The package README has the rules.
 *
 * Failures: what a statement throws is `StoreUnavailable`, whose cause says what happened
 * to the files in an operator's terms for a corrupt file, a full disk, a read-only file and
 * an I/O error, and SQLite running out of memory ({@link SqliteFailure}), looked at only once
 * something was thrown. The first corruption a statement meets is remembered, and `ready`
 * fails with it from then on. A failed sync of the WAL is said in the same terms
 * ({@link SqliteFailure.describeSync}), and fails every later operation. A store whose files
 * cannot be written is not opened ({@link checkWritable}), and `ready` fails while the database
 * file's path does not lead to the file the store has open ({@link movedFrom}), as does the next
 * sync of the WAL, which fails the store ({@link walSync}; all since 0.4.0).
 *
 * @since 0.1.0
 */
import { accessSync, closeSync, constants, existsSync, fdatasync, fstatSync, openSync, readSync, realpathSync, statSync, writeSync } from "node:fs"
import { dirname, resolve } from "node:path"
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite"
import {
  Assignment,
  Errors,
  Store,
  type AssignmentFilter,
  type AssignmentOf,
  type Change,
  type Check,
  Configuration,
  Directory,
  type InvitedUser,
  type PageRequest,
  type TargetingInputs
} from "@enrollment/core"
import { Effect, Layer, Option, References, Result, type Scope } from "effect"
import * as AssignmentFilterSql from "./AssignmentFilterSql.ts"
import * as Directories from "./Directories.ts"
import { type Key, ReadCache, Staged } from "./ReadCache.ts"
import * as SqliteFailure from "./SqliteFailure.ts"
import * as StoreSql from "./StoreSql.ts"
import {
  assignmentColumns,
  entityMethods,
  fetchLimit,
  lastById,
  newestUnknown,
  parse,
  rowText,
  toAssignmentOf,
  toMemberRef,
  toMembership,
  toPage,
  tooNew,
  unavailable,
  withSpans
} from "./StoreSql.ts"
import * as SqliteCheckpoint from "./SqliteCheckpoint.ts"

/** How to open the store. */
export interface Options {
  /** The database file; its directory is created when missing. `:memory:` for a private in-memory database. */
  readonly filename: string
  /** `FULL` (default): acknowledged writes survive power loss. `NORMAL`: they survive a killed process only. */
  readonly synchronous?: "FULL" | "NORMAL" | undefined
  /**
   * How long an operation waits for a lock another connection holds, in milliseconds (default
   * {@link defaultBusyTimeout}): a write for the write lock, a read for another process's WAL
   * recovery. Waited from timers, never on the event loop, except by {@link open} (the
   * migrations, at start-up). 0: an operation that finds the file locked fails at once.
   */
  readonly busyTimeout?: number | undefined
  /** Entries of the read cache (default {@link defaultCacheEntries}); 0 turns it off. */
  readonly cacheEntries?: number | undefined
  /**
   * Told what an upgrade of the store did as it opens (since 0.6.0): the versions, the rows the
   * migrations removed, and a warning naming ids that are both a user and a group
   * ({@link StoreSql.upgradeNotices}). Nothing for a store that is current or made new. Since
   * 0.8.0 also a warning when the checkpointer fails and the WAL's checkpoints go back to SQLite,
   * on the event loop ({@link SqliteCheckpoint}).
   */
  readonly notice?: StoreSql.Notice | undefined
  /**
   * The WAL's checkpoints run off the event loop (since 0.8.0; see {@link SqliteCheckpoint}): the
   * first COMMIT this many milliseconds after the last checkpoint began starts one, if the pages
   * written since have not started one sooner (default {@link SqliteCheckpoint.defaultIntervalMillis}).
   * 0 leaves SQLite's automatic checkpoint on the store's connection, on the event loop, as before
   * 0.8.0. Not for `:memory:`, which has no WAL.
   */
  readonly checkpointMillis?: number | undefined
}

/** How long an operation waits for another connection's lock by default, in milliseconds. */
export const defaultBusyTimeout = 5000

/** Milliseconds to a locked operation's first retry; each next waits twice as long, up to {@link lastRetryMillis}. */
const firstRetryMillis = 1
/** The longest wait between two tries of a locked operation, in milliseconds. */
const lastRetryMillis = 50

/** The delay after `delay` between two tries of a locked operation. */
const nextRetry = (delay: number) => Math.min(delay * 2, lastRetryMillis)

/** Whether the engine refused because another connection holds a lock (`SQLITE_BUSY` and its extended codes). */
const isBusy = (e: unknown): boolean => {
  const code = (e as { readonly errcode?: unknown } | null)?.errcode
  return typeof code === "number" && (code & 0xff) === 5
}

/** Milliseconds the store waits for another connection's lock: `busyTimeout`, a whole number, at least 0. */
const busyMillis = (busyTimeout: number | undefined) => Math.max(0, Math.floor(busyTimeout ?? defaultBusyTimeout))

/** Stored values and derived answers the read cache keeps by default (a few MiB). */
export const defaultCacheEntries = 20_000

/** One schema change, applied once and recorded in `schema_migrations`. */
export interface Migration {
  readonly version: number
  readonly name: string
  readonly statements: ReadonlyArray<string>
  /** What a row each statement removes is (its kind first: `membership of …`), in the upgrade's notice (since 0.6.0; by statement, undefined for one that removes none). */
  readonly removes?: ReadonlyArray<string | undefined>
}

const entityTable = (name: string) =>
  `CREATE TABLE ${name} (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    version INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
  )`

/**
 * The groups a member is in, nested ones included (`:tenant`, `:member`): what a user's targeting and
 * `groups.transitiveGroupsOf` read. The recursive step joins `g CROSS JOIN memberships` (since 0.6.0),
 * which SQLite reads in that order: each group reached looks its own memberships up by (tenant,
 * member). With a plain `JOIN` SQLite read the tenant's memberships first, by tenant alone, and every
 * group reached scanned all of them again: 5 s of the event loop for a user under a chain of 1 000
 * groups in a tenant of 31 000 memberships, 1 s for one in 200 groups (an audit's figures).
 */
export const transitiveGroupsSql = `WITH RECURSIVE g(id) AS (
       SELECT m.group_id FROM memberships m INDEXED BY memberships_by_member
        WHERE m.tenant_id = :tenant AND m.member_id = :member
          AND EXISTS (SELECT 1 FROM groups x WHERE x.tenant_id = m.tenant_id AND x.id = m.group_id)
       UNION
       SELECT m.group_id FROM g CROSS JOIN memberships m INDEXED BY memberships_by_member
           ON m.tenant_id = :tenant AND m.member_id = g.id
        WHERE EXISTS (SELECT 1 FROM groups x WHERE x.tenant_id = m.tenant_id AND x.id = m.group_id)
     ) SELECT id FROM g ORDER BY id`

/** The entity tables, whose rows each tenant has a count of (schema version 4). */
export type EntityTable = "configurations" | "users" | "groups" | "invitations"

const entityTables: ReadonlyArray<EntityTable> = ["configurations", "users", "groups", "invitations"]

/**
 * The id of the user whose principal name has a key (tenant, key): the port's
 * `users.idByPrincipalName` (since 0.16.0; core 0.16.0 reads a user's key in a path that names no user
 * by id as a principal name). One search of `users_by_upn_key`, and the least id (`min`, bytewise as
 * `Id.compare`) where a store from before schema version 3 holds the key twice, with no sort; null
 * when no user holds it.
 */
export const idByPrincipalNameSql = "SELECT min(id) AS id FROM users INDEXED BY users_by_upn_key WHERE tenant_id = ? AND upn_key = ?"

/**
 * A tenant's rows of an entity table counted (the port's `count`, since 0.10.0): since 0.11.0 one
 * row of `set_counts` read by its primary key, whatever the count (schema version 4: triggers keep
 * it in the writes' own transactions); 0 for a tenant that never had a row. Before, a
 * `count(*)` of a covering index by the tenant: about 4 ms for 100 000 users here, and 80–94 ms
 * for a million, in one turn of the event loop.
 */
export const countSql = (table: EntityTable) =>
  `SELECT coalesce((SELECT n FROM set_counts WHERE tenant_id = ? AND set_name = '${table}'), 0) AS n`

/** What the WAL file is cut back to when it restarts after a checkpoint (`journal_size_limit`), in bytes: 64 MiB. */
export const walSizeLimit = 64 * 1024 * 1024

/** The SQL of a principal name's key (`Directory.userPrincipalNameKey`) from a user's `data` column: `lower` lowers ASCII letters only. */
const principalNameKeyOf = (data: string) => `lower(json_extract(${data}, '$.userPrincipalName'))`

/**
 * What keeps each user's principal name key whoever writes the row (schema version 5): after an
 * insert, and after an update of `data`, a row whose `upn_key` is not its name's key gets it. This
 * release's writes set the key themselves, so for them the trigger's condition is false and it
 * writes nothing; the update it makes changes `upn_key` alone, so it fires no trigger of its own.
 */
const principalNameKeyTriggers: ReadonlyArray<string> = [
  `CREATE TRIGGER users_upn_key_in AFTER INSERT ON users
    WHEN NEW.upn_key IS NOT ${principalNameKeyOf("NEW.data")}
  BEGIN
    UPDATE users SET upn_key = ${principalNameKeyOf("NEW.data")} WHERE tenant_id = NEW.tenant_id AND id = NEW.id;
  END`,
  `CREATE TRIGGER users_upn_key_up AFTER UPDATE OF data ON users
    WHEN NEW.upn_key IS NOT ${principalNameKeyOf("NEW.data")}
  BEGIN
    UPDATE users SET upn_key = ${principalNameKeyOf("NEW.data")} WHERE tenant_id = NEW.tenant_id AND id = NEW.id;
  END`
]

/**
 * What keeps a table's counts (schema version 4): a trigger after each row inserted (an insert
 * that `ON CONFLICT DO NOTHING` skips is no row inserted, and fires nothing) and one after each
 * row deleted, in the write's own transaction, so a count is never out of step with the rows a
 * read sees. The rows' ids and tenants are never updated (an update changes `data`, `version`
 * and `upn_key` only), so no update trigger is needed.
 */
const countTriggers = (table: EntityTable): ReadonlyArray<string> => [
  `CREATE TRIGGER ${table}_counted_in AFTER INSERT ON ${table} BEGIN
    INSERT INTO set_counts (tenant_id, set_name, n) VALUES (NEW.tenant_id, '${table}', 1)
      ON CONFLICT (tenant_id, set_name) DO UPDATE SET n = n + 1;
  END`,
  `CREATE TRIGGER ${table}_counted_out AFTER DELETE ON ${table} BEGIN
    UPDATE set_counts SET n = n - 1 WHERE tenant_id = OLD.tenant_id AND set_name = '${table}';
  END`,
  `INSERT INTO set_counts (tenant_id, set_name, n) SELECT tenant_id, '${table}', count(*) FROM ${table} GROUP BY tenant_id`
]

/**
 * A group's direct members counted (the port's `groups.memberCount`, since 0.10.0), and those of
 * one kind (`user` or `group`): since 0.11.0 the group's rows of `member_counts` (one a kind),
 * kept by triggers as `set_counts` is (schema version 4). Before, a `count(*)` of the group's
 * rows of the primary key: about 45 ms for a million members, in one turn of the event loop.
 */
export const memberCountSql = "SELECT coalesce(sum(n), 0) AS n FROM member_counts WHERE tenant_id = ? AND group_id = ?"
export const memberOfKindCountSql = `${memberCountSql} AND member_kind = ?`

/**
 * What keeps the members' counts (schema version 4), as {@link countTriggers} keep the sets':
 * a group's removal takes its counts with it (its memberships are removed in the same write,
 * before or after: a decrement of a count that is gone changes nothing).
 */
const memberCountTriggers: ReadonlyArray<string> = [
  `CREATE TRIGGER memberships_counted_in AFTER INSERT ON memberships BEGIN
    INSERT INTO member_counts (tenant_id, group_id, member_kind, n) VALUES (NEW.tenant_id, NEW.group_id, NEW.member_kind, 1)
      ON CONFLICT (tenant_id, group_id, member_kind) DO UPDATE SET n = n + 1;
  END`,
  `CREATE TRIGGER memberships_counted_out AFTER DELETE ON memberships BEGIN
    UPDATE member_counts SET n = n - 1
     WHERE tenant_id = OLD.tenant_id AND group_id = OLD.group_id AND member_kind = OLD.member_kind;
  END`,
  `CREATE TRIGGER groups_member_counts_out AFTER DELETE ON groups BEGIN
    DELETE FROM member_counts WHERE tenant_id = OLD.tenant_id AND group_id = OLD.id;
  END`,
  `INSERT INTO member_counts (tenant_id, group_id, member_kind, n)
    SELECT tenant_id, group_id, member_kind, count(*) FROM memberships GROUP BY tenant_id, group_id, member_kind`
]

/** The schema, as ordered migrations. Ids compare with BINARY collation: bytewise, like JavaScript's `<` on ASCII. */
export const migrations: ReadonlyArray<Migration> = [
  {
    version: 1,
    name: "initial",
    statements: [
      entityTable("configurations"),
      entityTable("users"),
      entityTable("groups"),
      entityTable("invitations"),
      `CREATE TABLE assignments (
        tenant_id TEXT NOT NULL,
        configuration_id TEXT NOT NULL,
        id TEXT NOT NULL,
        version INTEGER NOT NULL,
        source TEXT NOT NULL,
        source_id TEXT,
        target_type TEXT,
        group_id TEXT,
        data TEXT NOT NULL,
        PRIMARY KEY (tenant_id, configuration_id, id)
      ) WITHOUT ROWID`,
      "CREATE INDEX assignments_by_target_type ON assignments (tenant_id, target_type)",
      "CREATE INDEX assignments_by_group ON assignments (tenant_id, group_id)",
      `CREATE TABLE memberships (
        tenant_id TEXT NOT NULL,
        group_id TEXT NOT NULL,
        member_id TEXT NOT NULL,
        member_kind TEXT NOT NULL,
        PRIMARY KEY (tenant_id, group_id, member_id)
      ) WITHOUT ROWID`,
      "CREATE INDEX memberships_by_member ON memberships (tenant_id, member_id)"
    ]
  },
  {
    // Children whose parent is not there, in their own tenant (since 0.3.1): a parent's removal
    // racing a child's insert left them behind before 0.3.0, which stores no such child. They
    // were out of sight until a parent of the same id was made again, which then inherited them
    // (a configuration made again had the old one's assignments). Each statement reads its child
    // table once (through a covering index where one holds what it reads), looks each row's parent
    // up by the parent's primary key (tenant and id), and deletes the rows it found by their own
    // key: one pass, never a scan per row (see the package README, "Storage"). Finding the keys
    // first and deleting by key halved the time of a plain `DELETE … WHERE NOT EXISTS` (1.5–1.8 s
    // against 2.9–3.7 s for a million assignments and a million memberships, 1 000 orphans in each).
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
      `DELETE FROM assignments WHERE (tenant_id, configuration_id, id) IN (
        SELECT a.tenant_id, a.configuration_id, a.id FROM assignments a
         WHERE NOT EXISTS (SELECT 1 FROM configurations c WHERE c.tenant_id = a.tenant_id AND c.id = a.configuration_id)
      )`,
      // A membership in a group that is not there.
      `DELETE FROM memberships WHERE (tenant_id, group_id, member_id) IN (
        SELECT m.tenant_id, m.group_id, m.member_id FROM memberships m
         WHERE NOT EXISTS (SELECT 1 FROM groups g WHERE g.tenant_id = m.tenant_id AND g.id = m.group_id)
      )`,
      // A membership of a member that is not there as the kind it names: a user looked up among
      // the users, any other kind (the port writes only "group") among the groups, as the
      // store's member reads and `groups.addMember` do.
      `DELETE FROM memberships WHERE (tenant_id, group_id, member_id) IN (
        SELECT m.tenant_id, m.group_id, m.member_id FROM memberships m
         WHERE m.member_kind = 'user'
           AND NOT EXISTS (SELECT 1 FROM users u WHERE u.tenant_id = m.tenant_id AND u.id = m.member_id)
      )`,
      `DELETE FROM memberships WHERE (tenant_id, group_id, member_id) IN (
        SELECT m.tenant_id, m.group_id, m.member_id FROM memberships m
         WHERE m.member_kind <> 'user'
           AND NOT EXISTS (SELECT 1 FROM groups g WHERE g.tenant_id = m.tenant_id AND g.id = m.member_id)
      )`
    ]
  },
  {
    // A user's principal name is unique in its tenant (core 0.11.0): each
    // user's key (`Directory.userPrincipalNameKey`: the name with ASCII letters lowered, which is
    // what SQLite's built-in `lower` does; null for none) in a column of its own, filled for the
    // users already stored, and an index on it that the writes look the key up by. Not a UNIQUE
    // index: a store written before may hold two users of one name, and must still open; the
    // writes keep any new pair out (see the package README, "Storage").
    version: 3,
    name: "user principal name keys",
    statements: [
      "ALTER TABLE users ADD COLUMN upn_key TEXT",
      "UPDATE users SET upn_key = lower(json_extract(data, '$.userPrincipalName'))",
      "CREATE INDEX users_by_upn_key ON users (tenant_id, upn_key)"
    ]
  },
  {
    // Each tenant's count of each entity table's rows and each group's of its members by kind
    // (store-adapter 0.11.0), kept by triggers (`countTriggers`, `memberCountTriggers`) and filled
    // from the rows already stored, so that a count reads a row or two (`countSql`,
    // `memberCountSql`) where a `count(*)` of a million users held the event loop 80–94 ms (of a
    // million members, 45 ms).
    version: 4,
    name: "set counts",
    statements: [
      `CREATE TABLE set_counts (
        tenant_id TEXT NOT NULL,
        set_name TEXT NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (tenant_id, set_name)
      ) WITHOUT ROWID`,
      ...entityTables.flatMap(countTriggers),
      `CREATE TABLE member_counts (
        tenant_id TEXT NOT NULL,
        group_id TEXT NOT NULL,
        member_kind TEXT NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (tenant_id, group_id, member_kind)
      ) WITHOUT ROWID`,
      ...memberCountTriggers
    ]
  },
  {
    // Each user's principal name key kept by the store itself (store-adapter 0.11.1): triggers
    // after an insert and after a change of `data` set `upn_key` to the key of the name the row
    // holds, whoever wrote it. A process of a release before 0.11.0 (schema 2) writes users
    // without the key, and one that keeps serving after another process upgraded the store (the
    // window of a rolling upgrade) wrote users whose names no later write saw: a user of the same
    // name was then accepted (found in review). The keys such a process wrote are filled here,
    // and the upgrade warns of the names more than one user holds, as version 3's did.
    version: 5,
    name: "user principal name keys kept by the store",
    statements: [
      ...principalNameKeyTriggers,
      `UPDATE users SET upn_key = ${principalNameKeyOf("users.data")} WHERE upn_key IS NOT ${principalNameKeyOf("users.data")}`
    ]
  }
]

/**
 * Runs `f` in a write transaction: committed when it succeeds, rolled back when
 * it returns a failure or throws. No transaction is ever left open.
 */
const transact = <A, E>(db: DatabaseSync, f: () => Result.Result<A, E>): Result.Result<A, E> => {
  db.exec("BEGIN IMMEDIATE")
  try {
    const r = f()
    db.exec(Result.isSuccess(r) ? "COMMIT" : "ROLLBACK")
    return r
  } finally {
    if (db.isTransaction) db.exec("ROLLBACK")
  }
}

/**
 * Applies the migrations `db` lacks, in one transaction, and returns the
 * versions it applied (none when the schema is current). With `through`, only
 * those up to that version (since 0.3.1): a store as an earlier release left it.
 * Throws, changing nothing, when the store records a version this release does not
 * know: a newer release migrated it (since 0.3.1).
 */
export const migrate = (
  db: DatabaseSync,
  options: { readonly through?: number | undefined; readonly notice?: StoreSql.Notice | undefined } = {}
): ReadonlyArray<number> => {
  // Said once the migrations' transaction has committed.
  let upgrade: StoreSql.Upgrade | undefined
  const applied = Result.getOrThrow(transact(db, () => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at TEXT NOT NULL
    )`)
    const done = new Set(db.prepare("SELECT version FROM schema_migrations").all().map((r) => Number(r.version)))
    // A newer release's store: this one would write it without what its later migrations made
    // (a column, a table, a rule the newer code keeps), so it is not opened at all (since 0.3.1).
    const unknown = newestUnknown(done, migrations)
    if (unknown !== undefined) throw new Error(tooNew(unknown, migrations))
    const record = db.prepare(
      "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"
    )
    const applied: Array<number> = []
    const names: Array<string> = []
    const removed: Array<readonly [string, number]> = []
    // Rows a statement removed: the connection's count of changed rows before and after it (DDL changes none).
    const changes = db.prepare("SELECT total_changes() AS n")
    const changed = () => Number(changes.get()!.n)
    for (const m of migrations) {
      if (done.has(m.version) || m.version > (options.through ?? Infinity)) continue
      m.statements.forEach((statement, i) => {
        const before = changed()
        db.exec(statement)
        const what = m.removes?.[i]
        if (what !== undefined) removed.push([what, changed() - before])
      })
      record.run(m.version, m.name)
      applied.push(m.version)
      names.push(m.name)
    }
    const from = done.size === 0 ? 0 : Math.max(...done)
    if (options.notice !== undefined && from > 0 && applied.length > 0) {
      // Once, at the upgrade: a join of the two tables on their keys (what 0.3.0 stopped writing).
      const pairs = "FROM users AS u JOIN groups AS g ON g.tenant_id = u.tenant_id AND g.id = u.id"
      const count = Number(db.prepare(`SELECT count(*) AS n ${pairs}`).get()!.n)
      const first = count === 0 ? [] : db.prepare(`SELECT u.tenant_id AS tenant, u.id AS id ${pairs} ORDER BY 1, 2 LIMIT ${StoreSql.sharedIdsShown}`).all()
        .map((r) => ({ tenant: String(r.tenant), id: String(r.id) }))
      // At the upgrades that made principal names unique (3) and filled the keys an earlier release's
      // process left out (5): the names more than one user holds (through the index).
      let sharedNames: StoreSql.Upgrade["sharedNames"]
      if (applied.includes(3) || applied.includes(5)) {
        const held = StoreSql.sharedNamesSql("users")
        const total = Number(db.prepare(`SELECT count(*) AS n FROM (${held})`).get()!.n)
        sharedNames = {
          count: total,
          first: total === 0 ? [] : db.prepare(`${held} ORDER BY 1, 2 LIMIT ${StoreSql.sharedIdsShown}`).all()
            .map((r) => ({ tenant: String(r.tenant), name: String(r.name) }))
        }
      }
      upgrade = { from, to: applied[applied.length - 1]!, migrations: names, removed, shared: { count, first }, sharedNames }
    }
    return Result.succeed(applied)
  }))
  if (upgrade !== undefined) for (const [line, level] of StoreSql.upgradeNotices(upgrade)) options.notice?.(line, level)
  return applied
}

/**
 * Makes a missing store private to its user: the directories it needs with mode 0700 and
 * the file with 0600 (SQLite gives its `-wal` and `-shm` files the database file's mode),
 * as the server's data directory is: the file holds every tenant's data. A directory or a
 * file that is there keeps its mode (the operator chose it). The file is opened without
 * `O_EXCL`, which would take a symbolic link to a file not made yet for the file: SQLite
 * then made it where the link points, as the umask allowed.
 */
const makePrivate = (filename: string): void => {
  const file = resolve(filename)
  Directories.make(dirname(file), 0o700)
  try {
    // `O_CREAT` without `O_EXCL`: a file that is there is only opened, for reading (it may be
    // read-only) and without waiting (a FIFO would wait for a writer).
    closeSync(openSync(file, constants.O_RDONLY | constants.O_CREAT | constants.O_NONBLOCK, 0o600))
  } catch (e) {
    // Not a file (a directory): SQLite says why it cannot open it.
    if ((e as NodeJS.ErrnoException).code === "EISDIR") return
    // Not there and not made: its directory cannot be written (since 0.4.0; an unreadable file that is there is said as it is).
    if (!existsSync(file) && isNotWritable(e)) throw new SqliteFailure.NotWritable("directory", dirname(file), e)
    throw e
  }
}

/** Whether a file system error says a file or directory cannot be written: read-only, immutable, or not allowed. */
const isNotWritable = (e: unknown): boolean => {
  const code = (e as NodeJS.ErrnoException | null)?.code
  return code === "EROFS" || code === "EPERM" || code === "EACCES"
}

/**
 * Refuses a store whose files cannot all be written, before SQLite opens it (since 0.4.0), with
 * a {@link SqliteFailure.NotWritable} naming the part, its path, why and what to do: the database
 * file, its directory (where SQLite makes its `-wal` and `-shm` files) and those files where they
 * are there, each on a read-only file system, immutable or append-only (`chattr +i`, `+a`, which
 * stop root too), or not allowed to this user. Before, SQLite opened a file it could not write
 * read-only without a word: the store started, `ready` said yes, and every write failed; the
 * other cases failed with `unable to open database file` or `attempt to write a readonly
 * database`, naming nothing. The file is opened `O_RDWR` and closed (what SQLite does), the
 * directory asked with `access(W_OK | X_OK)` and the `-wal` and `-shm` with `access(W_OK)` (which
 * answer EROFS and, for an immutable one, EPERM, to root too). Paths as SQLite uses them: symbolic links followed.
 * Anything but a regular file at the path is left to SQLite, which says why it cannot open it.
 */
const checkWritable = (filename: string): void => {
  let file: string
  try {
    file = realpathSync(filename)
    if (!statSync(file).isFile()) return
  } catch {
    return
  }
  // The -wal and -shm only asked (`access`), never opened (since 0.5.0): closing any descriptor of a
  // file drops every POSIX lock this process holds on it, and a store already open here holds
  // SQLite's on the -shm, which tells another process closing the store it is not the last (without
  // it and the database file's, that process deleted the live -wal and -shm). `access` answers
  // EPERM for an immutable file, EROFS on a read-only mount (to root too), not for an append-only one.
  const tryWrite = (part: SqliteFailure.Part, path: string, missingOk: boolean) => {
    try {
      if (part === "file") closeSync(openSync(path, constants.O_RDWR | constants.O_NONBLOCK))
      else accessSync(path, constants.W_OK)
    } catch (e) {
      if (missingOk && (e as NodeJS.ErrnoException).code === "ENOENT") return
      if (isNotWritable(e)) throw new SqliteFailure.NotWritable(part, path, e)
      throw e
    }
  }
  tryWrite("file", file, false)
  try {
    accessSync(dirname(file), constants.W_OK | constants.X_OK)
  } catch (e) {
    if (isNotWritable(e)) throw new SqliteFailure.NotWritable("directory", dirname(file), e)
    throw e
  }
  tryWrite("wal", `${file}-wal`, true)
  tryWrite("shm", `${file}-shm`, true)
}

/**
 * Opens the file with the store's settings and brings its schema up to date. A store
 * that is not there is made private to its user (since 0.2.9: directories 0700, the file
 * 0600; before, as the process's umask allowed, usually readable by every user). A store
 * whose file, directory, `-wal` or `-shm` cannot be written is not opened (since 0.4.0;
 * see {@link checkWritable}): it throws a {@link SqliteFailure.NotWritable}.
 *
 * The connection waits in place for a lock another connection holds, up to `busyTimeout`
 * (SQLite's `busy_timeout`): the migrations run before anything is served, and a caller
 * using the connection directly gets SQLite's usual behaviour. {@link fromDatabase} turns
 * that wait off: the store waits from timers instead.
 */
export const open = (options: Options): DatabaseSync => {
  if (options.filename !== ":memory:") {
    makePrivate(options.filename)
    checkWritable(options.filename)
  }
  const busyTimeout = busyMillis(options.busyTimeout)
  const db = new DatabaseSync(options.filename, { timeout: busyTimeout, enableForeignKeyConstraints: true })
  try {
    db.exec(`PRAGMA busy_timeout = ${busyTimeout}`)
    db.exec("PRAGMA journal_mode = WAL")
    db.exec(`PRAGMA synchronous = ${options.synchronous === "NORMAL" ? "NORMAL" : "FULL"}`)
    db.exec("PRAGMA foreign_keys = ON")
    // 16 MiB of page cache: the hot indexes of a million assignments fit; more only grows RSS.
    db.exec("PRAGMA cache_size = -16384")
    // The WAL file cut back to 64 MiB when it restarts after a checkpoint (since 0.12.0, found in
    // review): a large transaction (an upgrade rewriting a million users, an import) grew it to its
    // size, and SQLite kept that size on disk until the last connection closed.
    db.exec(`PRAGMA journal_size_limit = ${walSizeLimit}`)
    try {
      migrate(db, { notice: options.notice })
    } catch (e) {
      // Said in an operator's terms (since 0.13.1, found in review: a second server started beside one
      // upgrading a file of 3 million users said only "database is locked"). Ends with SQLite's own
      // words, which `Problem.causeChain` keeps this cause for.
      if (!isBusy(e)) throw e
      throw new Error(
        `the store's schema could not be checked or brought up to date: another connection held the file's write lock ` +
          `for ${busyTimeout} ms (busyTimeout), as a process upgrading a large store does for minutes; start again once it ` +
          `is done: ${e instanceof Error ? e.message : String(e)}`,
        { cause: e }
      )
    }
    // The statement journals of the writes in memory (since 0.11.0): a write that fires a trigger
    // (the counts of schema version 4) opens one, which SQLite otherwise keeps in a temporary file,
    // 6–15 µs an insert of a user here, where in memory it is 1–2 µs. Set after the migrations, whose
    // index builds and deletes of a million rows may sort more than memory should hold.
    db.exec("PRAGMA temp_store = MEMORY")
    return db
  } catch (e) {
    db.close()
    throw e
  }
}

/** A thrown `change`: a bug in the caller, not a store failure. */
class ChangeDefect {
  readonly cause: unknown
  constructor(cause: unknown) {
    this.cause = cause
  }
}

/**
 * How a store turns what its statements threw into its failure (see {@link fromDatabase}): called only
 * once an operation failed, never on a path that succeeds.
 */
type Failed = (cause: unknown) => Errors.StoreUnavailable

/** What a throw of synchronous store code is: the store failing (`failed`), or a defect for a `change` that threw. */
const thrownEffect = (cause: unknown, failed: Failed): Effect.Effect<never, Errors.StoreUnavailable> =>
  cause instanceof ChangeDefect ? Effect.die(cause.cause) : Effect.fail(failed(cause))

const resultEffect = <A, E>(r: Result.Result<A, E>): Effect.Effect<A, E> =>
  Result.isSuccess(r) ? Effect.succeed(r.success) : Effect.fail(r.failure)

/**
 * Runs synchronous store code: what it throws is the store failing, except a `change` that threw (a defect).
 * Code that finds the file locked by another connection (`SQLITE_BUSY`) is run again from a timer, after 1 ms,
 * then twice as long each time up to 50 ms, until `busyTimeout` ms have passed since it first did: the event
 * loop serves on meanwhile. Only reads run here, and a read finds the file locked only while another
 * process recovers the WAL (it holds the write and recovery locks of the `-shm` file); readers never wait for
 * a writer in WAL mode.
 */
const runSync = <A, E = never>(
  f: () => Result.Result<A, E>,
  busyTimeout: number,
  failed: Failed
): Effect.Effect<A, E | Errors.StoreUnavailable> =>
  Effect.suspend((): Effect.Effect<A, E | Errors.StoreUnavailable> => {
    let r: Result.Result<A, E>
    try {
      r = f()
    } catch (cause) {
      return isBusy(cause) && busyTimeout > 0 ? runWhenUnlocked(f, busyTimeout, failed) : thrownEffect(cause, failed)
    }
    return resultEffect(r)
  })

/** {@link runSync}'s tries after the first found the file locked. */
const runWhenUnlocked = <A, E>(
  f: () => Result.Result<A, E>,
  busyTimeout: number,
  failed: Failed
): Effect.Effect<A, E | Errors.StoreUnavailable> =>
  Effect.callback<A, E | Errors.StoreUnavailable>((resume) => {
    const began = performance.now()
    let delay = firstRetryMillis
    const attempt = () => {
      let r: Result.Result<A, E>
      try {
        r = f()
      } catch (cause) {
        if (isBusy(cause) && performance.now() - began < busyTimeout) {
          delay = nextRetry(delay)
          timer = setTimeout(attempt, delay)
          return
        }
        return resume(thrownEffect(cause, failed))
      }
      resume(resultEffect(r))
    }
    let timer = setTimeout(attempt, delay)
    return Effect.sync(() => clearTimeout(timer))
  })

const ok = Result.succeed

const applyChange = <A, B, E>(change: (current: A) => Result.Result<B, E>, current: A): Result.Result<B, E> => {
  try {
    return change(current)
  } catch (e) {
    throw new ChangeDefect(e)
  }
}

/** A write waiting for the next group commit. */
interface Pending {
  /** The tenant whose data the write changes (its stamp moves when the write commits). */
  readonly tenant: string
  readonly work: (staged: Staged) => Result.Result<unknown, unknown>
  /** The work writes with at most one statement, as its last act (see {@link groupCommit}). */
  readonly oneStatement: boolean
  readonly resume: (effect: Effect.Effect<unknown, unknown>) => void
}

/**
 * What the group commit's syncs have done since the store was made (see {@link stats}):
 * the disk's health as the writes see it.
 *
 * @since 0.2.9
 */
export interface SyncStats {
  /** Syncs of the WAL that ended (made durable or failed). */
  readonly syncs: number
  /** Writes acknowledged as durable by a sync that succeeded (refused writes, which changed nothing, are not counted). */
  readonly syncedWrites: number
  /** Syncs that failed (the store then fails every later operation). */
  readonly failures: number
  /** Seconds spent in syncs, from the start of each to its callback. */
  readonly seconds: number
}

/** The outcome of one write of a batch. */
type Outcome = Result.Result<unknown, unknown> | { readonly thrown: unknown }

/**
 * Makes committed WAL frames durable: calls `done` once everything written to
 * the file before the call is on stable storage (or with the error that kept it
 * from being). Runs off the event loop.
 */
export type Sync = (done: (error: unknown) => void) => void

/**
 * Group commit (see the module doc): `write(tenant, work)` queues `work` and resolves
 * once the transaction that ran it has committed, and, with a `sync`, once
 * that commit is durable. Each work runs synchronously inside a savepoint of
 * the batch's transaction, unless it writes with one statement as its last act
 * (`oneStatement`: a modify): SQLite undoes a failed statement by itself, and a
 * work that fails before it wrote nothing, so the savepoint would undo nothing
 * (when the engine ends the whole transaction instead, the batch fails as
 * below). A work's failure rolls back to its savepoint, a throw is
 * the store failing (or a defect for a thrown `change`), and a failed COMMIT
 * fails every write of the batch (none of them happened). A work stages its
 * changes to the read cache; the cache takes them once the COMMIT returned,
 * and only those of the works that succeeded.
 *
 * With a `sync`, the writes wait in the queue, uncommitted, until the sync that
 * will make them durable begins: it commits them all in one transaction (its
 * COMMIT does not wait for the disk) and then syncs the WAL. A write queued while
 * a sync runs could not be acknowledged before the next one anyway, so it costs no
 * latency to commit it only then, and one COMMIT per sync instead of one per turn
 * of the event loop writes each changed page to the WAL once per sync: at 50
 * connections updating one assignment, one WAL frame a sync instead of about five
 * (since 0.2.5). The next sync starts once the running one has ended: when a write
 * reaches its target, or else in the check phase of the turn it ended in, once that
 * turn has queued its own writes (so they join it). A failed sync fails
 * the writes it was to make durable and every later operation: the store can
 * no longer say what is on disk.
 *
 * A sync costs the server's core CPU of its own (the kernel's work for the flush:
 * about 160 µs a sync on the 2026-11-29 VM, a tenth of the core at 600 syncs a
 * second), so under load the next sync waits for more writes
 * ({@link syncTarget}): for a share of the writes that were in flight when the
 * last sync ended, or until the event loop has passed {@link quietTurns} turns
 * that queued nothing new (the server has no more writes to take for now). The
 * write that reaches the share starts the sync at once, in the middle of the
 * event loop's turn (since 0.2.6; before, in the turn's check phase): the
 * requests the turn has yet to read are then served while the disk works,
 * instead of the core waiting for the sync with every writer in it. A
 * lone writer's sync starts in the turn it was queued (nothing else was in
 * flight), or a few turns after it when the last sync ended amid more writes;
 * 50 writers' syncs cover 1.7 times as many writes each (324 syncs a second
 * instead of 553 at the same PATCH rate), 10 writers' 1.5 times.
 *
 * When another connection holds the file's write lock, the batch's `BEGIN IMMEDIATE`
 * fails at once (the connection has no busy timeout) and the queue waits for it from a
 * timer (see {@link waitForLock}): nothing of it has run, later writes join it, and
 * it is committed, synced and acknowledged as any batch once the lock is taken.
 */
const groupCommit = (
  db: DatabaseSync,
  cache: ReadCache,
  begun: () => void,
  sync: Sync | undefined,
  busyTimeout: number,
  failure: Failed,
  checkpointer: SqliteCheckpoint.Checkpointer | undefined,
  /** True while a snapshot of the store holds the connection's read transaction: no batch begins. */
  held: () => boolean = () => false,
  /** After each COMMIT: an error when the WAL is damaged (see {@link StoreOptions.walCheck}). */
  walCheck: (() => unknown) | undefined = undefined
) => {
  // Counted per sync, not per write (read through `stats`).
  const counted = { syncs: 0, syncedWrites: 0, failures: 0, seconds: 0 }
  /** The writes of the last committed batch that succeeded (what its sync makes durable). */
  let committedWrites = 0
  // Prepared once: `exec` compiles its text on every call, and these run per write.
  const begin = db.prepare("BEGIN IMMEDIATE")
  const commit = db.prepare("COMMIT")
  const savepoint = db.prepare("SAVEPOINT w")
  const release = db.prepare("RELEASE w")
  const rollbackTo = db.prepare("ROLLBACK TO w")
  let queue: Array<Pending> = []
  let scheduled = false
  /** Writes handed to `write` and not yet settled. */
  let inFlight = 0
  /** Queued writes that start the next sync at once (see {@link syncTarget}). */
  let target = 1
  /** The queue's length when the waiting sync last looked, and the turns since it last grew. */
  let seenQueued = 0
  let quiet = 0
  let watching = false
  let syncing = false
  /** When the running sync began (`performance.now()`). */
  let syncBegan = 0
  /** While the checkpointer's worker runs a checkpoint that was due before the next batch: no batch begins. */
  let checkpointing = false
  /** When that checkpoint began (`performance.now()`). */
  let checkpointBegan = 0
  let broken: unknown
  /** While the queue waits for another connection's write lock: the timer of its next try (see {@link waitForLock}). */
  let lockTimer: ReturnType<typeof setTimeout> | undefined
  /** The delay of the try after that one. */
  let lockDelay = firstRetryMillis
  /** When each of the queue's first writes first found the lock taken, in the queue's order (the longest wait first). */
  let lockWaits: Array<number> = []
  /** Takes the queue for a batch: whatever happens to the batch, its writes wait for the lock no more. */
  const takeQueue = () => {
    const batch = queue
    queue = []
    // Only after a wait (a delay grows only while writes wait): nothing to reset otherwise.
    if (lockWaits.length > 0) {
      lockWaits = []
      lockDelay = firstRetryMillis
    }
    return batch
  }
  const settle = (item: Pending, outcome: Outcome) => {
    inFlight--
    if ("thrown" in outcome) {
      item.resume(thrownEffect(outcome.thrown, failure))
    } else {
      item.resume(Result.isSuccess(outcome) ? Effect.succeed(outcome.success) : Effect.fail(outcome.failure))
    }
  }
  /**
   * Commits the queued writes in one transaction and returns what tells their writers,
   * or settles them at once when the transaction could not commit (undefined then).
   */
  const commitQueue = (): (() => void) | undefined => {
    // Waiting for another connection's write lock, or for a checkpoint: the queue's next try commits it.
    if (lockTimer !== undefined || checkpointing) return undefined
    if (broken !== undefined) {
      for (const item of takeQueue()) settle(item, { thrown: broken })
      return undefined
    }
    // A snapshot holds the connection's read transaction (see `snapshot`): the queue waits for its
    // end as for another connection's write lock, from a timer, up to `busyTimeout`.
    if (held()) {
      waitForLock(snapshotHeld)
      return undefined
    }
    if (checkpointer?.due()) {
      checkpointing = true
      checkpointBegan = performance.now()
      checkpointer.run(afterCheckpoint)
      return undefined
    }
    try {
      begin.run()
      begun()
    } catch (thrown) {
      // A closed database (the store's scope closed with writes queued: a server stopping amid
      // requests) refuses `BEGIN`, and `isTransaction` would throw too: its writes fail with
      // `StoreUnavailable`, nothing of them stored (since 0.3.1; before, the throw escaped
      // from a timer or an immediate and ended the process, the writers unanswered).
      if (db.isOpen && db.isTransaction) db.exec("ROLLBACK")
      if (isBusy(thrown)) {
        waitForLock(thrown)
        return undefined
      }
      for (const item of takeQueue()) settle(item, { thrown })
      return undefined
    }
    const batch = takeQueue()
    const staged = new Staged()
    const outcomes: Array<Outcome> = []
    try {
      for (const item of batch) {
        const guarded = !item.oneStatement
        if (guarded) savepoint.run()
        let outcome: Outcome
        try {
          outcome = item.work(staged)
        } catch (thrown) {
          // A failed statement undid itself, unless the engine rolled the transaction back (SQLITE_FULL,
          // some I/O errors): then the whole batch fails with this error. Guarded works too (since
          // 0.3.1): their ROLLBACK TO found no savepoint, and the batch failed with `no such savepoint`.
          if (!db.isTransaction) throw thrown
          outcome = { thrown }
        }
        if (!("thrown" in outcome) && Result.isSuccess(outcome)) {
          if (guarded) release.run()
          staged.keep()
        } else {
          if (guarded) {
            rollbackTo.run()
            release.run()
          }
          staged.drop()
        }
        outcomes.push(outcome)
      }
      commit.run()
    } catch (thrown) {
      if (db.isTransaction) db.exec("ROLLBACK")
      // Whatever the engine did, the cache must not outlive what is stored.
      cache.clear()
      for (const item of batch) settle(item, { thrown })
      return undefined
    }
    // A WAL cut short or written over under the store (see `walSync`): the batch's writers are
    // refused, and the checkpointer never hears of the COMMIT, whose frames lie past a hole of zeros
    // it would copy into the file.
    const damage = walCheck?.()
    if (damage !== undefined) broken ??= damage
    // Told after the COMMIT, outside its try: whatever it did, the batch is committed and its writers hear.
    else {
      try {
        checkpointer?.committed()
      } catch {
        // A checkpointer that threw has given the checkpoints back to the connection (see SqliteCheckpoint).
      }
    }
    // Later transactions build on this one, so the cache takes it now; its writers hear once it is durable.
    staged.commit(cache)
    committedWrites = 0
    for (let i = 0; i < batch.length; i++) {
      const outcome = outcomes[i]!
      if (!("thrown" in outcome) && Result.isSuccess(outcome)) {
        cache.bump(batch[i]!.tenant)
        committedWrites++
      }
    }
    return () => {
      for (let i = 0; i < batch.length; i++) {
        const outcome = outcomes[i]!
        // Refused writes changed nothing: their answer does not depend on the disk.
        settle(batch[i]!, broken !== undefined && !("thrown" in outcome) && Result.isSuccess(outcome) ? { thrown: broken } : outcome)
      }
    }
  }
  /**
   * Another connection holds the file's write lock (`busy`, the refusal of the batch's
   * `BEGIN IMMEDIATE`): the queue stays as it is, nothing of it having run, and is tried
   * again from a timer, after 1 ms, then twice as long each time up to 50 ms, while the
   * event loop serves on (reads need no write lock in WAL mode). Writes queued meanwhile
   * join it, and no batch is committed or synced before it: writes keep their order. A
   * write that has waited `busyTimeout` since it first found the lock taken fails with
   * `StoreUnavailable` (give or take the last try's delay); they are the queue's first,
   * the longest waiting, and were never committed, so no acknowledged write is undone.
   */
  const waitForLock = (busy: unknown) => {
    const now = performance.now()
    while (lockWaits.length < queue.length) lockWaits.push(now)
    let expired = 0
    while (expired < queue.length && now - lockWaits[expired]! >= busyTimeout) expired++
    const failed = queue.slice(0, expired)
    if (expired > 0) {
      queue = queue.slice(expired)
      lockWaits = lockWaits.slice(expired)
    }
    // Settled last: a writer that hears may write again at once, and finds the wait as it is.
    if (queue.length > 0) {
      lockTimer = setTimeout(retryLock, lockDelay)
      lockDelay = nextRetry(lockDelay)
    } else {
      lockDelay = firstRetryMillis
    }
    for (const item of failed) settle(item, { thrown: busy })
  }
  /**
   * The checkpoint that was due before the queue's batch has ended (see {@link SqliteCheckpoint}):
   * the queue, grown meanwhile, is committed (and synced) now, whatever its size.
   */
  const afterCheckpoint = () => {
    checkpointing = false
    if (queue.length === 0) return
    if (sync === undefined) commitQueue()?.()
    else if (!syncing) startSync(sync)
  }
  /** The queue's next try at the write lock: it commits (and syncs) the whole queue, whatever its size. */
  const retryLock = () => {
    lockTimer = undefined
    // No sync runs while the queue waits: none starts without a commit.
    if (sync === undefined) commitQueue()?.()
    else startSync(sync)
  }
  /** Commits the queue and syncs: its writers hear once the sync is done. */
  const startSync = (sync: Sync) => {
    const acknowledge = commitQueue()
    if (acknowledge === undefined) return
    const writes = committedWrites
    syncing = true
    quiet = 0
    const began = performance.now()
    syncBegan = began
    sync((error) => {
      const failed = error !== undefined && error !== null
      counted.syncs++
      counted.seconds += (performance.now() - began) / 1000
      if (failed) counted.failures++
      else counted.syncedWrites += writes
      syncing = false
      // Said in an operator's terms (EIO, a full disk, a read-only file system; since 0.3.1): the
      // failure every later operation gets, and the server logs.
      if (failed) broken ??= SqliteFailure.describeSync(error)
      // Before the acknowledgements: the writes in flight now are this sync's and the ones
      // queued since it began, and nothing of what its writers send next.
      target = syncTarget(inFlight)
      acknowledge()
      // Not here: the next sync starts when a write of this turn reaches the target, or else in
      // this turn's check phase, so the writes this turn's requests make join it.
      if (queue.length > 0) setImmediate(maybeSync)
    })
  }
  /** Starts the next sync once enough writes are queued or the server is quiet. */
  const maybeSync = () => {
    if (sync === undefined || syncing || queue.length === 0) return
    if (queue.length >= target || quiet >= quietTurns) return startSync(sync)
    if (!watching) {
      watching = true
      seenQueued = queue.length
      setImmediate(watch)
    }
  }
  // One look per turn of the event loop (its check phase) while the sync waits.
  const watch = () => {
    watching = false
    if (syncing || queue.length === 0) return
    quiet = queue.length === seenQueued ? quiet + 1 : 0
    maybeSync()
  }
  /** The check phase after writes were queued: without a sync, they commit and are acknowledged now. */
  const turn = () => {
    scheduled = false
    if (sync === undefined) return commitQueue()?.()
    maybeSync()
  }
  const write = <A, E = never>(
    tenant: string,
    work: (staged: Staged) => Result.Result<A, E>,
    oneStatement = false
  ): Effect.Effect<A, E | Errors.StoreUnavailable> =>
    Effect.callback<A, E | Errors.StoreUnavailable>((resume) => {
      inFlight++
      queue.push({ tenant, work, oneStatement, resume: resume as Pending["resume"] })
      // Under load the write that reaches the target starts the sync here, amid the turn's reads,
      // rather than in its check phase: the requests the turn has yet to read are served while the
      // disk works (their writes join the next sync). A target of 1 (no load) waits for the check
      // phase, so that a burst after a quiet spell shares one sync.
      if (sync !== undefined && !syncing && target > 1 && queue.length >= target) return startSync(sync)
      if (!scheduled) {
        scheduled = true
        setImmediate(turn)
      }
    })
  /** How long the running sync has taken so far, in milliseconds; 0 when none runs. */
  const syncRunning = (): number => (syncing ? performance.now() - syncBegan : 0)
  /** How long the checkpoint the writes wait for has taken so far, in milliseconds; 0 when they wait for none. */
  const checkpointHeld = (): number => (checkpointing ? performance.now() - checkpointBegan : 0)
  return { write, broken: () => broken, syncRunning, checkpointHeld, stats: (): SyncStats => ({ ...counted }) }
}

/** Why a write waited out `busyTimeout` behind a snapshot of the store in its own process. */
const snapshotHeld = new Error("the store's writes waited for a snapshot (an export) read in this process")

/**
 * The queued writes that start the next sync at once: a share of the writes in
 * flight when the last sync ended (at least one). 0.6 leaves the other writers' work
 * for the core while the sync runs: with 50 writers, a sync of about 30 writes.
 *
 * @since 0.2.4
 */
export const syncTarget = (inFlight: number): number => Math.max(1, Math.floor(inFlight * 0.6))

/**
 * Turns of the event loop that queue no new write after which a waiting sync starts
 * below its target: a lone writer waits a few turns (microseconds), not for a timer.
 *
 * @since 0.2.4
 */
export const quietTurns = 4

/** Prepares each statement text once and keeps the most recently used ones (filters make a few variants). */
const statementCache = (db: DatabaseSync, capacity = 256) => {
  const cache = new Map<string, StatementSync>()
  return (sql: string): StatementSync => {
    let s = cache.get(sql)
    if (s === undefined) {
      s = db.prepare(sql)
      if (cache.size >= capacity) cache.delete(cache.keys().next().value!)
    } else {
      cache.delete(sql)
    }
    cache.set(sql, s)
    return s
  }
}

/** How {@link fromDatabase} builds the store. */
export interface StoreOptions {
  /** Spans per store call (default true; the layer passes whether tracing is on). */
  readonly traced?: boolean | undefined
  /** Entries of the read cache (default {@link defaultCacheEntries}); 0 turns it off. */
  readonly cacheEntries?: number | undefined
  /**
   * How committed writes are made durable before they are acknowledged (see
   * {@link groupCommit}); without one, a write is acknowledged when its COMMIT
   * returns, as durable as the connection's `synchronous` setting makes it.
   */
  readonly sync?: Sync | undefined
  /**
   * How long a sync may run before `ready` answers that the store is unavailable, in
   * milliseconds (default {@link defaultSyncStallMillis}; since 0.3.1).
   */
  readonly syncStallMillis?: number | undefined
  /**
   * How long an operation waits for a lock another connection holds, from timers, in
   * milliseconds (default {@link defaultBusyTimeout}; see {@link Options.busyTimeout}).
   */
  readonly busyTimeout?: number | undefined
  /**
   * Runs the WAL's checkpoints off the event loop, between batches of writes (since 0.8.0; see
   * {@link SqliteCheckpoint}): {@link make} passes one it started on the file.
   */
  readonly checkpointer?: SqliteCheckpoint.Checkpointer | undefined
  /**
   * Run after each batch's COMMIT, before the checkpointer hears of it: an error when the WAL is
   * found damaged (since 0.13.0; {@link make} passes {@link walSync}'s `check`). The batch's writes
   * are then refused, and so is every later operation, as after a failed sync.
   */
  readonly walCheck?: (() => unknown) | undefined
  /**
   * Run by `ready`: an error when a file the store works through is gone (since 0.15.0; {@link make}
   * passes {@link walSync}'s `shared`, the shared-memory file removed), said before the next COMMIT
   * refuses the writes (an idle store's `ready` said yes until then).
   */
  readonly readyCheck?: (() => Error | undefined) | undefined
}

/**
 * A sync of the WAL still running after this long (a stalled or failing disk: a sync takes
 * milliseconds) makes `ready` fail, naming it, so that a load balancer or an orchestrator takes
 * the server out of rotation while its writes wait; reads are still served, and the writes are
 * acknowledged once the sync ends. Since 0.3.1.
 */
export const defaultSyncStallMillis = 10_000

/** The targeting inputs of a path whose user does not resolve: nothing reads them. */
const noTargeting: TargetingInputs = { groups: [], assignments: [] }

/**
 * Makes the store over an open database (its schema current). The caller owns `db`. The
 * connection's busy timeout is set to 0: the store waits for other connections' locks from
 * timers, never on the event loop (`busyTimeout`; see {@link runSync} and {@link groupCommit}).
 */
export const fromDatabase = (db: DatabaseSync, options: StoreOptions = {}): Store["Service"] => {
  db.exec("PRAGMA busy_timeout = 0")
  const busyTimeout = busyMillis(options.busyTimeout)
  const syncStallMillis = options.syncStallMillis ?? defaultSyncStallMillis
  const prepared = statementCache(db)
  const rowsOf = (sql: string, params: ReadonlyArray<SQLInputValue>) => prepared(sql).all(...params)

  // The read cache (see ReadCache): made current once per synchronous run of reads (one
  // request's lookups) and at the start of every write batch, by asking whether another
  // connection committed since the last look.
  const cache = new ReadCache(options.cacheEntries ?? defaultCacheEntries)
  const dataVersion = db.prepare("PRAGMA data_version")
  dataVersion.setReturnArrays(true)
  let seenVersion: unknown
  let looked = false
  const forget = () => {
    looked = false
  }
  const look = () => {
    const version = (dataVersion.get() as unknown as ReadonlyArray<unknown>)[0]
    if (version !== seenVersion) {
      seenVersion = version
      cache.clear()
    }
  }
  const fresh = () => {
    if (looked || cache.capacity === 0) return
    // Looked only once the look succeeded: a look that found the file locked is made again by the next read.
    look()
    looked = true
    queueMicrotask(forget)
  }
  /** The file the connection opened, where it has one (not `:memory:`): `ready` checks its path still leads to it. */
  const opened = openedFile(db)
  /** The first corruption a statement met (since 0.3.1): `ready` fails with it from then on. */
  let corrupt: SqliteFailure.SqliteFailure | undefined
  /**
   * What a statement threw, as the store's failure: a SQLite error of a code an operator acts on said
   * in the operator's terms ({@link SqliteFailure.describe}; the server logs it), and a corruption
   * remembered. Only ever called once an operation failed: nothing is added to a path that succeeds.
   */
  const failed: Failed = (cause) => {
    const described = SqliteFailure.describe(cause)
    if (corrupt === undefined && described instanceof SqliteFailure.SqliteFailure && described.kind === "corrupt") {
      corrupt = described
    }
    return unavailable(described)
  }
  /** The snapshots open on the connection (see `snapshot`): while any is, its read transaction is open. */
  let snapshots = 0
  const { broken, checkpointHeld, syncRunning, stats: syncStats, write } = groupCommit(db, cache, () => {
    // The batch holds the write lock: nobody else can commit until it ends.
    if (cache.capacity > 0) look()
  }, options.sync, busyTimeout, failed, options.checkpointer, () => snapshots > 0, options.walCheck)
  // A read of a table, which takes the read transaction's snapshot (a `BEGIN` alone takes none).
  const pin = db.prepare("SELECT count(*) FROM schema_migrations")
  /**
   * The port's `snapshot` (since 0.9.0): a read transaction (`BEGIN` and a first read) on the
   * store's connection, held until the last snapshot open on it ends; snapshots open at once share
   * it (one begun while another is open reads the other's moment, which may be before another
   * connection's latest commit). In WAL mode it blocks no other connection's writes; this store's own writes (the group
   * commit's batches) wait for its end as for another connection's write lock. The read cache is
   * made current as the snapshot is taken and stays so: `data_version` does not move inside a read
   * transaction, and nothing of this connection commits in it.
   *
   * The snapshot runs without yielding to other fibers (`PreventSchedulerYield`, since 0.14.0), and
   * the reads that yield between their pages on purpose do not inside it (core's
   * `yieldBetweenReads`): its read transaction is the connection's, which every read of the process
   * shares, and while one stayed open across turns of the event loop every other request of the
   * process read its moment and this process's writes waited. Before, Effect's scheduler yielded
   * every 2 048 operations, and a long read in one (a list of configurations with `$expand`) spanned
   * turns: a review saw reads answered with data seconds and 1 760 acknowledged writes of another
   * process old, and overlapping snapshots held the transaction open until this process's writes
   * failed with 503.
   * An `effect` that waits for something asynchronous (a timer, I/O) still spans turns, with the same
   * consequences while it waits: keep a snapshot's work to the store's reads.
   */
  const snapshot = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | Errors.StoreUnavailable, R> =>
    Effect.provideService(inReadTransaction(effect), References.PreventSchedulerYield, true)
  const inReadTransaction = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | Errors.StoreUnavailable, R> =>
    Effect.acquireUseRelease(
      runSync(() => {
        const b = broken()
        if (b !== undefined) throw b
        if (snapshots === 0) {
          db.exec("BEGIN")
          try {
            pin.get()
            if (cache.capacity > 0) look()
          } catch (thrown) {
            if (db.isTransaction) db.exec("ROLLBACK")
            throw thrown
          }
        }
        snapshots++
        return ok(undefined)
      }, busyTimeout, failed),
      () => effect,
      () =>
        Effect.sync(() => {
          if (--snapshots > 0 || !db.isOpen || !db.isTransaction) return
          try {
            db.exec("COMMIT")
          } catch {
            // A read transaction has nothing to keep: ended either way, so the writes can begin.
            if (db.isOpen && db.isTransaction) db.exec("ROLLBACK")
          }
        })
    )
  /** A read: fails once a sync failed (what is on disk is then unknown); waits for another process's WAL recovery (see {@link runSync}). */
  const run = <A, E = never>(f: () => Result.Result<A, E>) =>
    runSync(() => {
      const b = broken()
      if (b !== undefined) throw b
      return f()
    }, busyTimeout, failed)
  /** A read through the cache (see {@link Key}): `load` reads the database, and what it finds is kept. */
  const cached = <A>(tenant: string, space: string, group: string, id: string, load: () => A | undefined): A | undefined => {
    fresh()
    let v = cache.get(tenant, space, group, id) as A | undefined
    if (v === undefined) {
      v = load()
      if (v !== undefined) cache.set(tenant, space, group, id, v)
    }
    return v
  }
  const optionOf = <A>(v: A | undefined): Option.Option<A> => (v === undefined ? Option.none() : Option.some(v))

  /** What a write to an entity set changes besides the entity's own key. */
  interface Effects {
    /** Inserting one changes targeting (groups, and configurations for the all-configurations query). */
    readonly insertTouches: boolean
    /** What removing one does: targeting changes (its memberships went), or rows of other tables went. */
    readonly remove: "Touch" | "ClearTenant" | "None"
  }

  // User principal names (migration 3): the holder of a key, read through `users_by_upn_key`
  // inside a write (the batch holds the file's write lock and sees its earlier writes).
  // The statements that name migration 3's column and index are prepared at their first use (here
  // and in the users' set; migration 4's counts too), so a connection opened on a file of an earlier schema serves every
  // other call as before (a test stands for an earlier release's process that way).
  const upnHolderSql = "SELECT id FROM users INDEXED BY users_by_upn_key WHERE tenant_id = ? AND upn_key = ? AND id <> ? LIMIT 1"
  /** A user other than `except` whose principal name has `key`: its id, or undefined. */
  const principalNameHolder = (tenant: string, key: string, except: string): string | undefined => {
    const row = prepared(upnHolderSql).get(tenant, key, except)
    return row === undefined ? undefined : String(row.id)
  }
  const principalNameTaken = (user: Directory.User, heldBy: string) =>
    new Errors.UserPrincipalNameTaken({ userPrincipalName: user.userPrincipalName ?? "", heldBy })

  const entitySet = <A extends { readonly id: string }, Refused = Errors.EntityAlreadyExists>(
    table: EntityTable,
    entity: string,
    effects: Effects,
    onRemove?: (tenant: string, id: string) => void,
    /** The table whose ids this set's inserts may not take: users and groups share one id space (see the port). */
    sharesIdsWith?: "users" | "groups"
  ) => {
    const get = db.prepare(`SELECT data FROM ${table} WHERE tenant_id = ? AND id = ?`)
    const exists = db.prepare(`SELECT 1 FROM ${table} WHERE tenant_id = ? AND id = ?`)
    // Read inside the insert's write: the batch holds the file's write lock (BEGIN IMMEDIATE), so
    // no other connection can add the id between this read and the insert, and a write earlier in
    // the same batch is seen (the cache is not: it takes a batch's changes only at COMMIT).
    const otherHas = sharesIdsWith === undefined ? undefined : db.prepare(`SELECT 1 FROM ${sharesIdsWith} WHERE tenant_id = ? AND id = ?`)
    const first = db.prepare(`SELECT id, data FROM ${table} WHERE tenant_id = ? ORDER BY id LIMIT ?`)
    const after = db.prepare(`SELECT id, data FROM ${table} WHERE tenant_id = ? AND id > ? ORDER BY id LIMIT ?`)
    // Prepared at its first use, as migration 3's statements are: it reads migration 4's table.
    const countOf = countSql(table)
    // Users carry their principal name's key in a column of its own (migration 3): written with
    // every insert and update, looked up by `users_by_upn_key` (see `principalNameHolder`).
    const keyed = table === "users"
    const insertSql = keyed
      ? `INSERT INTO users (tenant_id, id, version, data, upn_key) VALUES (?, ?, 1, ?, ?) ON CONFLICT DO NOTHING`
      : `INSERT INTO ${table} (tenant_id, id, version, data) VALUES (?, ?, 1, ?) ON CONFLICT DO NOTHING`
    const updateSql = keyed
      ? "UPDATE users SET data = ?, version = version + 1, upn_key = ? WHERE tenant_id = ? AND id = ?"
      : `UPDATE ${table} SET data = ?, version = version + 1 WHERE tenant_id = ? AND id = ?`
    // Users' at first use (see `principalNameHolder`); the other sets' at once, as before.
    const insertNow = keyed ? undefined : db.prepare(insertSql)
    const updateNow = keyed ? undefined : db.prepare(updateSql)
    const insert = { run: (...values: Array<SQLInputValue>) => (insertNow ?? prepared(insertSql)).run(...values) }
    const update = { run: (...values: Array<SQLInputValue>) => (updateNow ?? prepared(updateSql)).run(...values) }
    const keyOfUser = (value: A): string | null =>
      Directory.userPrincipalNameKey((value as unknown as Directory.User).userPrincipalName) ?? null
    const remove = db.prepare(`DELETE FROM ${table} WHERE tenant_id = ? AND id = ?`)
    // An entity set's values are the space named after its table, with no groups.
    const keyOf = (tenant: string, id: string): Key => ({ tenant, space: table, group: "", id })
    const load = (tenant: string, id: string): A | undefined => {
      const row = get.get(tenant, id)
      return row === undefined ? undefined : parse<A>(row.data)
    }
    const lookup = (tenant: string, id: string) => cached(tenant, table, "", id, () => load(tenant, id))
    /**
     * Inserts inside a write: undefined, or the refusal when the id is taken (by this set, or the one
     * it shares ids with), or for users the name (`Refused` then includes `UserPrincipalNameTaken`).
     */
    const insertRow = (staged: Staged, tenant: string, value: A): Refused | undefined =>
      insertRefused(staged, tenant, value) as Refused | undefined
    const insertRefused = (
      staged: Staged,
      tenant: string,
      value: A
    ): Errors.EntityAlreadyExists | Errors.UserPrincipalNameTaken | undefined => {
      if (otherHas?.get(tenant, value.id) !== undefined) {
        return new Errors.EntityAlreadyExists({ entity: "directoryObject", id: value.id })
      }
      let inserted: boolean
      if (keyed) {
        // The id first (a taken id is refused as such, whatever its name), then the name, read
        // under the batch's write lock as the other checks here are.
        if (exists.get(tenant, value.id) !== undefined) return new Errors.EntityAlreadyExists({ entity, id: value.id })
        const key = keyOfUser(value)
        const holder = key === null ? undefined : principalNameHolder(tenant, key, value.id)
        if (holder !== undefined) return principalNameTaken(value as unknown as Directory.User, holder)
        inserted = insert.run(tenant, value.id, rowText(value), key).changes > 0
      } else {
        inserted = insert.run(tenant, value.id, rowText(value)).changes > 0
      }
      if (!inserted) {
        return new Errors.EntityAlreadyExists({ entity, id: value.id })
      }
      staged.stage({ _tag: "Put", key: keyOf(tenant, value.id), value })
      if (effects.insertTouches) staged.stage({ _tag: "Touch", tenant })
      return undefined
    }
    return {
      insertRow,
      lookup,
      /**
       * Whether the entity exists, read from the database: inside a write (the parent check of a
       * child's insert), where the batch holds the file's write lock and sees its earlier writes.
       */
      has: (tenant: string, id: string): boolean => exists.get(tenant, id) !== undefined,
      /**
       * The entity as a write sees it (an earlier write of its batch included), under the batch's
       * write lock: what a replacement's check of its configuration reads (since 0.16.0).
       */
      current: (staged: Staged, tenant: string, id: string): A | undefined => staged.read(cache, tenant, table, "", id, () => load(tenant, id)),
      get: (tenant: string, id: string) => run(() => ok(optionOf(lookup(tenant, id)))),
      list: (tenant: string, page: PageRequest) =>
        run(() => {
          const rows = page.after === undefined
            ? first.all(tenant, fetchLimit(page))
            : after.all(tenant, page.after, fetchLimit(page))
          return ok(toPage(rows, page, (r) => parse<A>(r.data), (r) => r.id as string))
        }),
      count: (tenant: string) => run(() => ok(Number(prepared(countOf).get(tenant)!.n))),
      insert: (tenant: string, value: A) =>
        write(tenant, (staged) => {
          const refused = insertRow(staged, tenant, value)
          return refused === undefined ? ok(value) : Result.fail(refused)
        }),
      modify: <E>(tenant: string, id: string, change: Change<A, E>) =>
        write(tenant, (staged): Result.Result<Option.Option<A>, E | Exclude<Refused, Errors.EntityAlreadyExists>> => {
          const current = staged.read(cache, tenant, table, "", id, () => load(tenant, id))
          if (current === undefined) return ok(Option.none())
          const r = applyChange(change, current)
          if (Result.isFailure(r)) return Result.fail(r.failure)
          if (r.success !== current) {
            if (keyed) {
              // A user that takes another key: refused when another user holds it (a key kept,
              // even one a user stored before the rule shares, is never refused).
              const key = keyOfUser(r.success)
              if (key !== null && key !== keyOfUser(current)) {
                const holder = principalNameHolder(tenant, key, id)
                if (holder !== undefined) {
                  return Result.fail(principalNameTaken(r.success as unknown as Directory.User, holder) as Exclude<Refused, Errors.EntityAlreadyExists>)
                }
              }
              staged.stage({ _tag: "Put", key: keyOf(tenant, id), value: r.success })
              update.run(rowText(r.success), key, tenant, id)
              return ok(Option.some(r.success))
            }
            staged.stage({ _tag: "Put", key: keyOf(tenant, id), value: r.success })
            update.run(rowText(r.success), tenant, id)
          }
          return ok(Option.some(r.success))
        }, true),
      remove: <E = never>(tenant: string, id: string, check?: Check<A, E>) =>
        write(tenant, (staged): Result.Result<boolean, E> => {
          // The check reads the value as this write sees it (a change earlier in the batch
          // included), under the write lock: nothing can come between it and the removal.
          if (check !== undefined) {
            const current = staged.read(cache, tenant, table, "", id, () => load(tenant, id))
            if (current === undefined) return ok(false)
            const passed = applyChange(check, current)
            if (Result.isFailure(passed)) return Result.fail(passed.failure)
          }
          const removed = remove.run(tenant, id).changes > 0
          if (removed) {
            onRemove?.(tenant, id)
            staged.stage({ _tag: "Delete", key: keyOf(tenant, id) })
            if (effects.remove !== "None") staged.stage({ _tag: effects.remove, tenant })
          }
          return ok(removed)
        })
    }
  }

  // Assignments
  const aGet = db.prepare("SELECT data FROM assignments WHERE tenant_id = ? AND configuration_id = ? AND id = ?")
  const aInsert = db.prepare(
    `INSERT INTO assignments (tenant_id, configuration_id, id, version, source, source_id, target_type, group_id, data)
     VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`
  )
  // Two updates: the usual PATCH leaves the target's columns alone, and then their indexes are not rewritten.
  const aUpdate = db.prepare(
    `UPDATE assignments SET data = ?, version = version + 1, source = ?, source_id = ?, target_type = ?, group_id = ?
     WHERE tenant_id = ? AND configuration_id = ? AND id = ?`
  )
  const aUpdateSameTarget = db.prepare(
    `UPDATE assignments SET data = ?, version = version + 1, source = ?, source_id = ?
     WHERE tenant_id = ? AND configuration_id = ? AND id = ?`
  )
  const aRemove = db.prepare("DELETE FROM assignments WHERE tenant_id = ? AND configuration_id = ? AND id = ?")
  const aRemoveAll = db.prepare("DELETE FROM assignments WHERE tenant_id = ? AND configuration_id = ?")
  // Assignments are grouped by configuration in the cache, as in the table.
  const aKey = (tenant: string, configurationId: string, id: string): Key => ({ tenant, space: "assignments", group: configurationId, id })
  const aLoad = (tenant: string, configurationId: string, id: string): Assignment.Assignment | undefined => {
    const row = aGet.get(tenant, configurationId, id)
    return row === undefined ? undefined : parse<Assignment.Assignment>(row.data)
  }
  const aLookup = (tenant: string, configurationId: string, id: string) =>
    cached(tenant, "assignments", configurationId, id, () => aLoad(tenant, configurationId, id))
  // The two kinds of target that concern a user are read through their own index each (the
  // planner, without statistics on a young file, would rather scan the tenant), and never overlap:
  // all-licensed-users targets have no group id.
  const concerningSql = (one: boolean, columns: string) => {
    const scope = one
      ? "a.configuration_id = ?"
      : "EXISTS (SELECT 1 FROM configurations c WHERE c.tenant_id = a.tenant_id AND c.id = a.configuration_id)"
    return `SELECT ${columns} FROM assignments a INDEXED BY assignments_by_target_type
       WHERE a.tenant_id = ? AND a.target_type = 'allLicensedUsersAssignmentTarget' AND ${scope}
     UNION ALL
     SELECT ${columns} FROM assignments a INDEXED BY assignments_by_group
       WHERE a.tenant_id = ? AND a.group_id IN (SELECT value FROM json_each(?)) AND ${scope}
     ORDER BY 1, 2`
  }
  const aConcerningAll = db.prepare(concerningSql(false, "a.configuration_id, a.id, a.data"))
  const aConcerningOne = db.prepare(concerningSql(true, "a.configuration_id, a.id, a.data"))
  const concerning = (tenant: string, groupIds: ReadonlyArray<string>, configurationId: string | undefined) =>
    (configurationId === undefined
      ? aConcerningAll.all(tenant, tenant, JSON.stringify(groupIds))
      : aConcerningOne.all(tenant, configurationId, tenant, JSON.stringify(groupIds), configurationId)).map(toAssignmentOf)
  // A user's groups, transitively, in one statement: UNION (not UNION ALL) visits each group
  // once, so membership cycles end; only memberships in groups that exist count (as in groupsOf).
  const tGroups = db.prepare(transitiveGroupsSql)
  /**
   * A user's targeting inputs, as cached: the groups and which assignments concern them
   * (by key), stamped with the tenant's targeting generation. The assignments themselves
   * are read through the cache on every use, so their content is always current.
   */
  interface TargetingEntry {
    readonly generation: number
    readonly groups: ReadonlyArray<string>
    readonly concerning: ReadonlyArray<{ readonly configurationId: string; readonly id: string }>
  }
  /** A user's groups, transitively, as cached: one entry a user, whose list every targeting entry of the user shares. */
  interface GroupsEntry {
    readonly generation: number
    readonly groups: ReadonlyArray<string>
  }
  /**
   * A user's groups at the tenant's targeting generation, read once a generation (since 0.14.0):
   * before, every configuration's targeting entry of a user held a list of its own, so a user in
   * 10 000 groups cost about 600 KB a configuration id asked for, and a review's 3 000 requests of
   * configuration ids that did not exist took a server from 173 MiB to 2 GiB (14 000 ended it out
   * of memory); the 20 000 entries of the cache bound their number, not their size.
   */
  const groupsOf = (tenant: string, userId: string, generation: number): ReadonlyArray<string> => {
    const kept = cache.get(tenant, "groups*", "", userId) as GroupsEntry | undefined
    if (kept !== undefined && kept.generation === generation) return kept.groups
    const groups = tGroups.all({ tenant, member: userId }).map((r) => r.id as string)
    cache.set(tenant, "groups*", "", userId, { generation, groups } satisfies GroupsEntry)
    return groups
  }
  const targetingOf = (tenant: string, userId: string, configurationId: string | undefined) => {
    fresh()
    // By user, in the space of one configuration's targeting or of all configurations'.
    const space = configurationId === undefined ? "targeting*" : "targeting"
    const group = configurationId ?? ""
    const generation = cache.generation(tenant)
    let entry = cache.get(tenant, space, group, userId) as TargetingEntry | undefined
    if (entry === undefined || entry.generation !== generation) {
      const groups = groupsOf(tenant, userId, generation)
      const rows = concerning(tenant, groups, configurationId)
      for (const r of rows) cache.set(tenant, "assignments", r.configurationId, r.assignment.id, r.assignment)
      entry = { generation, groups, concerning: rows.map((r) => ({ configurationId: r.configurationId, id: r.assignment.id })) }
      cache.set(tenant, space, group, userId, entry)
      return { groups, assignments: rows }
    }
    const assignments: Array<AssignmentOf> = []
    for (const c of entry.concerning) {
      const a = aLookup(tenant, c.configurationId, c.id)
      // Gone without a generation change cannot happen through this store; read afresh if it does.
      if (a === undefined) {
        cache.apply({ _tag: "Touch", tenant })
        return targetingOf(tenant, userId, configurationId)
      }
      assignments.push({ configurationId: c.configurationId, assignment: a })
    }
    return { groups: entry.groups, assignments }
  }
  /** The refusal of a child's write under a configuration that does not exist. */
  const configurationMissing = (configurationId: string) =>
    new Errors.EntityNotFound({ entity: Configuration.typeName, id: configurationId })
  const aInsertRow = (staged: Staged, tenant: string, configurationId: string, a: Assignment.Assignment): boolean => {
    if (aInsert.run(tenant, configurationId, a.id, ...assignmentColumns(a), rowText(a)).changes === 0) return false
    staged.stage({ _tag: "Put", key: aKey(tenant, configurationId, a.id), value: a })
    staged.stage({ _tag: "Touch", tenant })
    return true
  }

  /** The WHERE clause and parameters of an assignment list or count. */
  const assignmentWhere = (
    tenant: string,
    configurationId: string,
    after: string | undefined,
    filter: AssignmentFilter.AssignmentFilter | undefined
  ) => {
    const params: Array<SQLInputValue> = [tenant, configurationId]
    let where = "tenant_id = ? AND configuration_id = ?"
    if (after !== undefined) {
      where += " AND id > ?"
      params.push(after)
    }
    if (filter !== undefined) {
      where += ` AND ${
        AssignmentFilterSql.toSql(filter, (v) => {
          params.push(v)
          return "?"
        })
      }`
    }
    return { where, params }
  }

  // Memberships
  const mFirst = db.prepare(
    "SELECT member_id, member_kind FROM memberships WHERE tenant_id = ? AND group_id = ? ORDER BY member_id LIMIT ?"
  )
  const mAfter = db.prepare(
    `SELECT member_id, member_kind FROM memberships WHERE tenant_id = ? AND group_id = ? AND member_id > ?
     ORDER BY member_id LIMIT ?`
  )
  const mAdd = db.prepare(
    "INSERT INTO memberships (tenant_id, group_id, member_id, member_kind) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"
  )
  const mRemove = db.prepare("DELETE FROM memberships WHERE tenant_id = ? AND group_id = ? AND member_id = ?")
  const mRemoveOfGroup = db.prepare("DELETE FROM memberships WHERE tenant_id = ? AND group_id = ?")
  // As in the memory store, only memberships in groups that exist are seen or removed through the member.
  const mRemoveMember = db.prepare(
    `DELETE FROM memberships INDEXED BY memberships_by_member WHERE tenant_id = ? AND member_id = ?
     AND EXISTS (SELECT 1 FROM groups g WHERE g.tenant_id = memberships.tenant_id AND g.id = memberships.group_id)`
  )
  const mGroupsOf = db.prepare(
    `SELECT m.group_id, m.member_id FROM memberships m INDEXED BY memberships_by_member
     WHERE m.tenant_id = ? AND m.member_id IN (SELECT value FROM json_each(?))
       AND EXISTS (SELECT 1 FROM groups g WHERE g.tenant_id = m.tenant_id AND g.id = m.group_id)
     ORDER BY m.group_id, m.member_id`
  )
  const cGetMany = db.prepare(
    "SELECT id, data FROM configurations WHERE tenant_id = ? AND id IN (SELECT value FROM json_each(?))"
  )
  const ping = db.prepare("SELECT 1")

  // A configuration's removal takes its assignments (the tenant's cache dropped: ClearTenant); a user's or
  // group's takes memberships (Touch).
  const configurations = entitySet<Configuration.Configuration>(
    "configurations",
    "deviceEnrollmentConfiguration",
    { insertTouches: true, remove: "ClearTenant" },
    (tenant, id) => aRemoveAll.run(tenant, id)
  )
  const users = entitySet<Directory.User, Errors.EntityAlreadyExists | Errors.UserPrincipalNameTaken>(
    "users",
    "user",
    { insertTouches: false, remove: "Touch" },
    (tenant, id) => mRemoveMember.run(tenant, id),
    "groups"
  )
  const groups = entitySet<Directory.Group>("groups", "group", { insertTouches: true, remove: "Touch" }, (tenant, id) => {
    mRemoveOfGroup.run(tenant, id)
    mRemoveMember.run(tenant, id)
  }, "users")
  const invitations = entitySet<Directory.Invitation>("invitations", "invitation", { insertTouches: false, remove: "None" })
  /** The invitation's invited user and whether it is still present; none when the invitation does not exist. */
  const invitedUserOf = (tenant: string, invitationId: string): Option.Option<InvitedUser> => {
    const invitation = invitations.lookup(tenant, invitationId)
    if (invitation === undefined) return Option.none()
    const userId = invitation.invitedUserId
    return Option.some({ userId, exists: users.lookup(tenant, userId) !== undefined })
  }

  const store = Store.of(withSpans("SqliteStore", {
    configurations: {
      ...entityMethods(configurations),
      getMany: (tenant, ids) =>
        run(() => {
          const found = new Map<string, Configuration.Configuration>()
          for (const r of cGetMany.all(tenant, JSON.stringify(ids))) found.set(r.id as string, parse(r.data))
          return ok(ids.flatMap((id) => {
            const c = found.get(id)
            return c === undefined ? [] : [c]
          }))
        })
    },
    assignments: {
      get: (tenant, configurationId, id) => run(() => ok(optionOf(aLookup(tenant, configurationId, id)))),
      list: (tenant, configurationId, page, filter) =>
        run(() => {
          const { params, where } = assignmentWhere(tenant, configurationId, page.after, filter)
          params.push(fetchLimit(page))
          const rows = rowsOf(`SELECT id, data FROM assignments WHERE ${where} ORDER BY id LIMIT ?`, params)
          return ok(toPage(rows, page, (r) => parse<Assignment.Assignment>(r.data), (r) => r.id as string))
        }),
      count: (tenant, configurationId, filter) =>
        run(() => {
          const { params, where } = assignmentWhere(tenant, configurationId, undefined, filter)
          return ok(Number(rowsOf(`SELECT count(*) AS n FROM assignments WHERE ${where}`, params)[0]!.n))
        }),
      insert: (tenant, configurationId, value, targeting) =>
        write(tenant, (staged): Result.Result<Assignment.Assignment, Errors.EntityAlreadyExists | Errors.EntityNotFound> => {
          // The parent is checked in the insert's write (the port's rule): a removal of the
          // configuration is a write too, so it comes wholly before or after this one. So is a user's
          // targeting (since 0.10.0), read by the statements themselves, not the cache: a replacement
          // queued in the same transaction before this insert is in the rows, not yet in the cache.
          if (!configurations.has(tenant, configurationId)) return Result.fail(configurationMissing(configurationId))
          if (targeting !== undefined) {
            const groups = tGroups.all({ tenant, member: targeting.userId }).map((r) => r.id as string)
            if (!targeting.check({ groups, assignments: concerning(tenant, groups, configurationId) })) {
              return Result.fail(configurationMissing(configurationId))
            }
          }
          return aInsertRow(staged, tenant, configurationId, value)
            ? ok(value)
            : Result.fail(new Errors.EntityAlreadyExists({ entity: Assignment.typeName, id: value.id }))
        }),
      modify: (tenant, configurationId, id, change) =>
        write(tenant, (staged) => {
          const current = staged.read(cache, tenant, "assignments", configurationId, id, () => aLoad(tenant, configurationId, id))
          if (current === undefined) return ok(Option.none())
          const r = applyChange(change, current)
          if (Result.isFailure(r)) return Result.fail(r.failure)
          const next = r.success
          if (next !== current) {
            const [source, sourceId, targetType, groupId] = assignmentColumns(next)
            const before = assignmentColumns(current)
            const data = rowText(next)
            // Staged first: the statement is this work's last act (it runs without a savepoint).
            staged.stage({ _tag: "Put", key: aKey(tenant, configurationId, id), value: next })
            if (before[2] === targetType && before[3] === groupId) {
              aUpdateSameTarget.run(data, source, sourceId, tenant, configurationId, id)
            } else {
              staged.stage({ _tag: "Touch", tenant })
              aUpdate.run(data, source, sourceId, targetType, groupId, tenant, configurationId, id)
            }
          }
          return ok(Option.some(next))
        }, true),
      remove: <E = never>(tenant: string, configurationId: string, id: string, check?: Check<Assignment.Assignment, E>) =>
        write(tenant, (staged): Result.Result<boolean, E> => {
          // As the entity sets' remove: the check on the value this write sees, under the write lock.
          if (check !== undefined) {
            const current = staged.read(cache, tenant, "assignments", configurationId, id, () => aLoad(tenant, configurationId, id))
            if (current === undefined) return ok(false)
            const passed = applyChange(check, current)
            if (Result.isFailure(passed)) return Result.fail(passed.failure)
          }
          const removed = aRemove.run(tenant, configurationId, id).changes > 0
          if (removed) {
            staged.stage({ _tag: "Delete", key: aKey(tenant, configurationId, id) })
            staged.stage({ _tag: "Touch", tenant })
          }
          return ok(removed)
        }),
      replace: <E = never>(
        tenant: string,
        configurationId: string,
        values: ReadonlyArray<Assignment.Assignment>,
        check?: Check<Configuration.Configuration, E>
      ) =>
        write(tenant, (staged): Result.Result<void, Errors.EntityNotFound | E> => {
          if (check === undefined) {
            if (!configurations.has(tenant, configurationId)) return Result.fail(configurationMissing(configurationId))
          } else {
            // The configuration's check (since 0.16.0), as a checked removal's: on the value this
            // write sees, under the write lock, so nothing can come between it and the replacement.
            const current = configurations.current(staged, tenant, configurationId)
            if (current === undefined) return Result.fail(configurationMissing(configurationId))
            const passed = applyChange(check, current)
            if (Result.isFailure(passed)) return Result.fail(passed.failure)
          }
          aRemoveAll.run(tenant, configurationId)
          // The tenant's cache, not every tenant's (since 0.6.0: one tenant's `assign` dropped them all).
          staged.stage({ _tag: "ClearTenant", tenant })
          for (const a of lastById(values)) aInsertRow(staged, tenant, configurationId, a)
          return ok(undefined)
        }),
      concerning: (tenant, groupIds, configurationId) => run(() => ok(concerning(tenant, groupIds, configurationId)))
    },
    users: {
      ...entityMethods(users),
      // Read from the file, not the cache, which keeps users by id alone: one indexed read.
      idByPrincipalName: (tenant, userPrincipalName) =>
        run(() => {
          const row = prepared(idByPrincipalNameSql).get(tenant, Directory.userPrincipalNameKey(userPrincipalName)!)
          return ok(row === undefined || row.id === null ? Option.none<string>() : Option.some(String(row.id)))
        })
    },
    groups: {
      ...(({ modify: _, ...rest }) => rest)(entityMethods(groups)),
      members: (tenant, groupId, page) =>
        run(() => {
          const rows = page.after === undefined
            ? mFirst.all(tenant, groupId, fetchLimit(page))
            : mAfter.all(tenant, groupId, page.after, fetchLimit(page))
          return ok(toPage(rows, page, toMemberRef, (r) => r.member_id as string))
        }),
      memberCount: (tenant, groupId, kind) =>
        // Prepared at their first use: they read migration 4's table (see `countOf`).
        run(() =>
          ok(Number((kind === undefined
            ? prepared(memberCountSql).get(tenant, groupId)
            : prepared(memberOfKindCountSql).get(tenant, groupId, kind))!.n))
        ),
      addMember: (tenant, groupId, member) =>
        write(tenant, (staged): Result.Result<void, Errors.MemberAlreadyPresent | Errors.EntityNotFound> => {
          // The group and the member are checked in the membership's write (the port's rule).
          if (!groups.has(tenant, groupId)) return Result.fail(new Errors.EntityNotFound({ entity: "group", id: groupId }))
          if (!(member.kind === "user" ? users : groups).has(tenant, member.id)) {
            return Result.fail(new Errors.EntityNotFound({ entity: "directoryObject", id: member.id }))
          }
          if (mAdd.run(tenant, groupId, member.id, member.kind).changes === 0) {
            return Result.fail(new Errors.MemberAlreadyPresent({ groupId, memberId: member.id }))
          }
          staged.stage({ _tag: "Touch", tenant })
          return ok(undefined)
        }),
      removeMember: (tenant, groupId, memberId) =>
        write(tenant, (staged) => {
          const removed = mRemove.run(tenant, groupId, memberId).changes > 0
          if (removed) staged.stage({ _tag: "Touch", tenant })
          return ok(removed)
        }),
      groupsOf: (tenant, memberIds) =>
        run(() =>
          ok(mGroupsOf.all(tenant, JSON.stringify(memberIds)).map(toMembership))
        ),
      // The statement of a user's targeting groups serves any member: one store call instead of
      // one a nesting level. The member itself is left out (a cycle of groups leads back to it).
      transitiveGroupsOf: (tenant, memberId) =>
        run(() => ok(tGroups.all({ tenant, member: memberId }).flatMap((r) => r.id === memberId ? [] : [r.id as string])))
    },
    invitations: {
      get: invitations.get,
      list: invitations.list,
      count: invitations.count,
      remove: invitations.remove,
      invitedUserOf: (tenant, invitationId) => run(() => ok(invitedUserOf(tenant, invitationId))),
      insert: (tenant, invitation, user) =>
        write(tenant, (staged): Result.Result<Directory.Invitation, Errors.EntityAlreadyExists> => {
          // The guest's principal name held already (core 0.11.0): the invitation links the holder,
          // and no user is written (see the port). Read under the batch's write lock.
          const key = user === undefined ? null : Directory.userPrincipalNameKey(user.userPrincipalName) ?? null
          const holder = key === null ? undefined : principalNameHolder(tenant, key, "")
          const stored = holder === undefined ? invitation : { ...invitation, invitedUserId: holder }
          // In the write's savepoint: a refused user rolls the invitation back with it.
          const refused = invitations.insertRow(staged, tenant, stored) ??
            (user === undefined || holder !== undefined ? undefined : users.insertRow(staged, tenant, user))
          // The user's name was free a statement ago, under the same lock: it cannot be taken now.
          if (refused instanceof Errors.UserPrincipalNameTaken) throw new Error("SqliteStore: a guest's principal name was taken under the write lock")
          return refused === undefined ? ok(stored) : Result.fail(refused)
        })
    },
    targetingOf: (tenant, userId, configurationId) => run(() => ok(targetingOf(tenant, userId, configurationId))),
    // The same cached reads as the separate calls, in one synchronous run: one store call per path
    // instead of three (each a step of the caller's fiber), and one look at other processes' commits.
    resolveConfiguration: (tenant, parent, configurationId, assignmentId) =>
      run(() => {
        const user = parent._tag === "Invitation"
          ? invitedUserOf(tenant, parent.invitationId)
          : Option.some({ userId: parent.userId, exists: users.lookup(tenant, parent.userId) !== undefined })
        const configuration = optionOf(configurations.lookup(tenant, configurationId))
        return ok({
          user,
          configuration,
          // Only what a path that resolves needs (since 0.14.0): no user or no configuration is a 404
          // before the targeting is looked at, and no entry is made for an id that names nothing.
          targeting: Option.isSome(user) && user.value.exists && Option.isSome(configuration)
            ? targetingOf(tenant, user.value.userId, configurationId)
            : noTargeting,
          assignment: assignmentId === undefined ? undefined : optionOf(aLookup(tenant, configurationId, assignmentId))
        })
      }),
    snapshot,
    // Current with other processes through the same look as the cache; none without the cache.
    stampOf: cache.capacity === 0 ? undefined : (tenant: string) => {
      if (broken() !== undefined) return Number.NaN
      try {
        fresh()
      } catch {
        return Number.NaN
      }
      return cache.stamp(tenant)
    },
    // Also not ready once a statement met a corrupt file (since 0.3.1; `SELECT 1` reads no page, so
    // it would say yes), and while a sync of the WAL, or a checkpoint the writes wait for (since
    // 0.8.0), has run past its bound: every write waits for it.
    // And not ready while the database file's path does not lead to the file the store has open (since
    // 0.4.0): one `stat` per `ready`, nothing per request. A sync that ends meanwhile fails (see
    // `walSync`), and from then on `ready` says that failure (`broken`), even once the file is back.
    ready: run(() => {
      if (corrupt !== undefined) throw corrupt
      // The stalled sync first (since 0.5.0): a `stat` on that disk may wait as long as the sync.
      const running = syncRunning()
      if (running > syncStallMillis) {
        throw new Error(`a sync of the WAL has not finished for ${(running / 1000).toFixed(1)} s (a stalled disk?): writes wait for it`)
      }
      // The same for the short checkpoint the writes wait for (since 0.8.0): its syncs are the disk's too.
      const held = checkpointHeld()
      if (held > syncStallMillis) {
        throw new Error(`a checkpoint of the WAL has not finished for ${(held / 1000).toFixed(1)} s (a stalled disk?): writes wait for it`)
      }
      const gone = opened === undefined ? undefined : movedFrom(opened)
      if (gone !== undefined) throw gone
      const shared = options.readyCheck?.()
      if (shared !== undefined) throw shared
      return ok(void ping.get())
    })
  }, options.traced ?? true))
  syncStatsOf.set(store, syncStats)
  return store
}

/** The path SQLite opened (symbolic links followed) and the identity of the file there then. */
interface OpenedFile extends SqliteFailure.FileId {
  readonly path: string
}

/**
 * The file `db` has open, read once, as the store is made; undefined for a database with no file
 * (`:memory:`). A path already gone by then is no file's: `ready` fails until the store is opened again.
 */
const openedFile = (db: DatabaseSync): OpenedFile | undefined => {
  const path = db.location()
  return path === null || path === "" ? undefined : fileAt(path)
}

/** The identity of the file at `path` now, or none's (a device and inode of -1) where there is none. */
const fileAt = (path: string): OpenedFile => {
  try {
    const { dev, ino } = statSync(path, { bigint: true })
    return { path, dev, ino }
  } catch {
    return { path, dev: -1n, ino: -1n }
  }
}

/**
 * An error when `opened.path` no longer leads to the file the store opened (since 0.4.0): it was
 * renamed or deleted (an operator's mistake, a cleanup job), or another file put there. SQLite writes
 * on to the file it has open (in WAL mode it does not look), every write answered and then lost at
 * the restart, which opens what is at the path. Undefined when it leads there again: a file renamed
 * back is the store's again, and `ready` answers. One `stat` of the path; said by `say`
 * ({@link SqliteFailure.moved} for `ready`, {@link SqliteFailure.movedAtSync} for a sync).
 */
const movedFrom = (opened: OpenedFile, say: typeof SqliteFailure.moved = SqliteFailure.moved): Error | undefined => {
  let now: SqliteFailure.FileId
  try {
    now = statSync(opened.path, { bigint: true })
  } catch (e) {
    // A sync fails only on a path that leads nowhere (since 0.5.0): any other error (EACCES on a
    // directory of the path, EIO) says nothing of the file, and the write was synced; `ready` says it.
    const code = (e as NodeJS.ErrnoException).code
    if (say === SqliteFailure.movedAtSync && code !== "ENOENT" && code !== "ENOTDIR") return undefined
    return say(opened.path, opened, e as NodeJS.ErrnoException)
  }
  return now.dev === opened.dev && now.ino === opened.ino ? undefined : say(opened.path, opened, now)
}

/** The group commit's counters of each store made here (the `Store` port has no place for them). */
const syncStatsOf = new WeakMap<Store["Service"], () => SyncStats>()

/**
 * What the group commit's syncs have done so far, read when asked (a copy), for a store
 * made by {@link fromDatabase}, {@link make} or {@link layer}; undefined for any other store.
 * Without a sync (`synchronous: "NORMAL"`, `:memory:`) every count stays 0.
 *
 * @since 0.2.9
 */
export const stats = (store: Store["Service"]): SyncStats | undefined => syncStatsOf.get(store)?.()

/** The checkpointer's counters of each store {@link make} made with one. */
const checkpointStatsOf = new WeakMap<Store["Service"], () => SqliteCheckpoint.CheckpointStats>()

/**
 * What the store's checkpoints off the event loop have done so far (a copy), for a store made by
 * {@link make} or {@link layer} on a file; undefined for any other store (`:memory:`,
 * `checkpointMillis: 0`, {@link fromDatabase}).
 *
 * @since 0.8.0
 */
export const checkpointStats = (store: Store["Service"]): SqliteCheckpoint.CheckpointStats | undefined =>
  checkpointStatsOf.get(store)?.()

/**
 * An error when the file open at `fd` has no name any more (its directory or the file was
 * removed under the running store): synced, it is still a file no restart will find. One
 * `fstat` per sync (1.1–1.7 µs of CPU measured around real syncs), not per write.
 */
const unlinked = (fd: number, path: string): Error | undefined => {
  try {
    return fstatSync(fd).nlink === 0
      ? new Error(
        `${path} was removed while the store had it open: what is written to it is lost unless the store closes cleanly. ` +
          "Stop the server with SIGTERM, not SIGKILL (its close copies the WAL into the database file, when that file is " +
          "still there), then start it again"
      )
      : undefined
  } catch (error) {
    return error as Error
  }
}

/** The magic numbers a WAL's header begins with (big-endian; the last bit names the checksums' byte order). */
const walMagic: ReadonlySet<number> = new Set([0x377f0682, 0x377f0683])

/**
 * An error when the WAL open at `fd` no longer begins with a WAL's header (since 0.13.0): it was
 * cut short or written over under the running store (`truncate -s 0 …-wal`, `> …-wal`, an editor).
 * SQLite writes its next frames where it left off, past a hole of zeros where the frames it
 * indexes were, and a checkpoint (the checkpointer's, or the one SQLite's close makes) would copy
 * those zeros into the database file: a file that reads "malformed" after the restart, every
 * write acknowledged meanwhile. A WAL of no bytes is no damage (a `TRUNCATE` checkpoint of another
 * connection leaves one; its next writer begins with a header): read right after a COMMIT of this
 * connection, the WAL holds that COMMIT's frames and, unless cut, its header. One read of 4 bytes
 * per batch.
 */
const overwritten = (fd: number, path: string): Error | undefined => {
  const head = Buffer.alloc(4)
  let read: number
  try {
    read = readSync(fd, head, 0, 4, 0)
  } catch (error) {
    return error as Error
  }
  if (read === 0 || (read === 4 && walMagic.has(head.readUInt32BE(0)))) return undefined
  return new WalDamaged(path)
}

/**
 * A WAL cut short or written over under the running store (see {@link walSync}): the store refuses
 * every later operation, and the WAL is set aside: its index in the shared-memory file is
 * invalidated, so that the next connection to read it (the checkpointer's, the store's own close)
 * rebuilds it from the WAL file, finds no header there, and reads the database file as of its last
 * checkpoint. Nothing of the WAL is copied into the file.
 *
 * @since 0.13.0
 */
export class WalDamaged extends Error {
  readonly path: string
  constructor(path: string) {
    super(
      `${path} was cut short or written over while the store had it open (it no longer begins with a WAL's header): ` +
        "the writes since the last checkpoint are lost. The store refuses every operation and has set the WAL aside (it is not " +
        "checkpointed into the database file, which would copy the damage into it); restart the server: the database file " +
        "opens as of its last checkpoint"
    )
    this.path = path
  }
}

/**
 * An error when the shared-memory file open at `fd` has no name any more (since 0.13.0): it was
 * deleted under the running store. Another process that opens the database then (`enrollctl`'s local
 * mode, a second server, `sqlite3`) makes a new one, and the two no longer see each other's writes
 * or locks: a review saw every write the CLI acknowledged lost. The store refuses its writes from
 * the next COMMIT on, and `ready` says why.
 */
const shmRemoved = (fd: number, path: string): Error | undefined => {
  try {
    return fstatSync(fd).nlink === 0
      ? new Error(
        `${path} was removed while the store had it open: another process that opens the database now does not see this one's ` +
          "writes, nor this one its: stop every process that has the database open, then start them again"
      )
      : undefined
  } catch (error) {
    return error as Error
  }
}

/**
 * Sets a damaged WAL aside (see {@link WalDamaged}): both copies of the WAL-index header, the
 * shared-memory file's first 96 bytes, are written over with zeros. SQLite reads such an index as
 * one to rebuild, and its next reader rebuilds it from the WAL file, where it finds no header: the
 * WAL reads as empty, and its frames are never checkpointed. Best effort: a file that cannot be
 * written leaves the store refusing every operation, as it does anyway.
 */
const setAside = (shm: string): void => {
  let fd: number | undefined
  try {
    fd = openSync(shm, "r+")
    writeSync(fd, Buffer.alloc(96), 0, 96, 0)
  } catch {
    // Nothing more to do: the store is broken.
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

/**
 * fsync of the database's WAL file on the libuv thread pool. The file is
 * opened at the first sync (it exists once a transaction has committed) and
 * stays open: it is the same file for as long as the database is open.
 *
 * `filename` must be the path SQLite opened, as `DatabaseSync.location()` answers
 * it ({@link make} passes that): SQLite follows symbolic links and writes the WAL
 * next to the file they lead to, so `<link>-wal` is not its WAL (since 0.3.1; before,
 * a store opened through a link synced a file that was not there, or a stale one
 * that was). The path is made absolute here, once: a later `chdir` changes nothing.
 *
 * A sync fails when the WAL has no name any more (since 0.3.1): its directory was removed
 * under the running store (an operator's `rm -rf`, a cleaner of a temporary directory), and
 * `fdatasync` succeeded on a file no restart will find, each write acknowledged and lost.
 *
 * And a sync fails when the database file's path no longer leads to the file that was there when
 * `walSync` was made (since 0.4.0; {@link make} makes it right after SQLite opened the file): it
 * was renamed, deleted or replaced under the running store. SQLite writes on to the file it has
 * open, and the restart opens what is at the path: a new, empty store where nothing is, or the file
 * put there. A deleted file's writes are gone with it; a renamed one's latest are in its `-wal`,
 * which SQLite's close leaves at the old path (it does not checkpoint a database that moved), and
 * which SQLite deletes as it opens the new, empty file there (seen with Node 24's SQLite), or may
 * replay into another database put there. The same device and inode comparison as `ready` makes ({@link movedFrom}), said by
 * {@link SqliteFailure.movedAtSync}; nothing of the sync is acknowledged, and, as after any failed
 * sync, the store fails every later operation until it is opened again, `ready` saying this
 * failure, even once the file is put back (the writes refused meanwhile may be in it, or not).
 * One `stat` of the path per sync, after the `fstat`, not per write: 1.6–1.8 µs of CPU a call (20
 * loops of 10 000 `statSync(path, { bigint: true })` on tmpfs and ext4, the 2-core dev VM), and a
 * median of 1.5–1.7 µs a sync more in 80 alternating in-process rounds of 5 000 syncs on tmpfs
 * against syncs without it (quartiles −3 to +5 µs: the noise of the 28–30 µs a sync costs there).
 * A store without syncs (`synchronous: "NORMAL"`, `fromDatabase` without `sync`) has only
 * `ready`'s look.
 *
 * Neither check for a sync that ends after `close` while the path leads to the database file
 * (before 0.4.0: while a file was there): the database's own close (the last connection)
 * checkpoints the WAL into it and removes the WAL. One that moved SQLite does not checkpoint
 * at close: that sync fails.
 */
export const walSync = (filename: string): {
  readonly sync: Sync
  readonly close: () => void
  /**
   * Run right after a COMMIT (see {@link StoreOptions.walCheck}), durable or not: a
   * {@link WalDamaged} when the WAL no longer begins with its header, whose index is then
   * invalidated, or an error when the shared-memory file was removed (since 0.13.0). One `pread`
   * and one `fstat` a batch.
   */
  readonly check: () => WalDamaged | Error | undefined
  /**
   * Run by `ready` (see {@link StoreOptions.readyCheck}): an error when the shared-memory file was
   * removed (since 0.15.0), without waiting for a COMMIT to find it. One `fstat`.
   */
  readonly shared: () => Error | undefined
} => {
  const database = resolve(filename)
  const wal = `${database}-wal`
  const shm = `${database}-shm`
  /** The database file at its path now: the file SQLite opened, when made by {@link make}. */
  const opened = fileAt(database)
  let fd: number | undefined
  /** The shared-memory file, opened as this is made (none where SQLite keeps it in memory, `locking_mode=EXCLUSIVE`). */
  let shmFd: number | undefined
  /** Syncs begun and not ended, and whether `close` was called: the descriptor is closed once none runs. */
  let running = 0
  let closed = false
  const closeFile = () => {
    if (fd !== undefined) closeSync(fd)
    if (shmFd !== undefined) closeSync(shmFd)
    fd = undefined
    shmFd = undefined
  }
  /** Opens the WAL (it exists once a transaction has committed), once. */
  const openFiles = (): number => {
    if (fd === undefined) fd = openSync(wal, "r")
    return fd
  }
  // The shared-memory file is opened now, once (since 0.15.0): the one SQLite made as the store
  // opened. Opened when first checked, a `-shm` removed before that was not seen, and once another
  // process had made a new one, this store took that for its own (a review: `/ready` said 200, and
  // a write the CLI had acknowledged was lost). None there (SQLite keeps it in memory with
  // `locking_mode=EXCLUSIVE`), or none that can be opened: not checked.
  try {
    if (existsSync(shm)) shmFd = openSync(shm, "r")
  } catch {
    shmFd = undefined
  }
  return {
    check: () => {
      if (closed) return undefined
      let walFd: number
      try {
        walFd = openFiles()
      } catch (error) {
        return error as Error
      }
      const damage = overwritten(walFd, wal)
      if (damage instanceof WalDamaged) setAside(shm)
      return damage ?? (shmFd === undefined ? undefined : shmRemoved(shmFd, shm))
    },
    shared: () => closed || shmFd === undefined ? undefined : shmRemoved(shmFd, shm),
    sync: (done) => {
      if (closed) return done(new Error("the store is closed"))
      let synced: number
      try {
        synced = openFiles()
      } catch (error) {
        return done(error)
      }
      running++
      fdatasync(synced, (error) => {
        // After `close`, SQLite's own close may have checkpointed the WAL into the database file
        // and removed it (the last connection does): no link then is no loss while the path
        // leads to the database file (SQLite checkpoints only a database that has not moved).
        const failed = error ??
          (closed
            ? movedFrom(opened, SqliteFailure.movedAtSync)
            : unlinked(synced, wal) ?? movedFrom(opened, SqliteFailure.movedAtSync))
        if (--running === 0 && closed) closeFile()
        done(failed)
      })
    },
    // Not under a running sync (since 0.3.1): `fdatasync` waits for a thread of the pool, and a
    // descriptor closed meanwhile made it fail (EBADF), or sync whatever file took its number
    // and answer success for a WAL it never synced.
    close: () => {
      closed = true
      if (running === 0) closeFile()
    }
  }
}

/** Opens the store for the life of the scope: the file is opened (and migrated) at acquire and closed at release. */
export const make = (options: Options): Effect.Effect<Store["Service"], Errors.StoreUnavailable, Scope.Scope> =>
  Effect.gen(function*() {
    const traced = yield* References.TracerEnabled
    const durable = options.synchronous !== "NORMAL" && options.filename !== ":memory:"
    // Durable writes: the COMMIT writes the WAL without waiting for the disk (synchronous=NORMAL),
    // and the group commit fsyncs the WAL off the event loop before it acknowledges.
    // The WAL's and the shared-memory file's descriptors (`files`, below) are closed after the
    // connection (since 0.15.0): closing a descriptor of a file drops every POSIX lock the process
    // holds on it, and before, the `-shm`'s went while SQLite's connection still held its locks there.
    let opened: ReturnType<typeof walSync> | undefined
    const db = yield* Effect.acquireRelease(
      Effect.try({ try: () => open(durable ? { ...options, synchronous: "NORMAL" } : options), catch: unavailable }),
      (db) =>
        Effect.sync(() => {
          try {
            db.close()
          } finally {
            opened?.close()
          }
        })
    )
    // The WAL SQLite writes is next to the file it opened: through a symbolic link, where the link
    // leads. Its checks after each COMMIT (a WAL cut short, a `-shm` removed) run whatever the
    // durability (since 0.13.0); its sync only for durable writes.
    const files = options.filename === ":memory:" ? undefined : opened = walSync(db.location() ?? options.filename)
    const sync = durable ? files : undefined
    // Released before the database: its connection closed first, the store's close is the file's
    // last, which checkpoints the WAL into the file and removes it.
    const checkpoints = options.filename === ":memory:" || options.checkpointMillis === 0
      ? undefined
      : yield* Effect.acquireRelease(
        Effect.sync(() =>
          SqliteCheckpoint.start(db, db.location() ?? options.filename, {
            intervalMillis: options.checkpointMillis,
            onFailure: (message) =>
              options.notice?.(`the WAL's checkpoints are back on the event loop (SQLite's own): the checkpointer failed: ${message}`, "warn"),
            onSlowClose: (waited) =>
              options.notice?.(
                `the checkpointer's worker was still in a checkpoint ${waited} ms into the store's close (a stalled disk?): ` +
                  "the store closed beside it; what the checkpoint has not copied stays in the WAL, which the next open recovers " +
                  "(the process may not end before the disk answers the checkpoint's sync)",
                "warn"
              )
          })
        ),
        (c) => Effect.promise(c.close)
      )
    const store = fromDatabase(db, {
      traced,
      cacheEntries: options.cacheEntries,
      sync: sync?.sync,
      walCheck: files?.check,
      readyCheck: files?.shared,
      busyTimeout: options.busyTimeout,
      checkpointer: checkpoints
    })
    if (checkpoints !== undefined) checkpointStatsOf.set(store, checkpoints.stats)
    return store
  })

/** The store on the SQLite file `options.filename`. */
export const layer = (options: Options): Layer.Layer<Store, Errors.StoreUnavailable> =>
  Layer.effect(Store, make(options))
