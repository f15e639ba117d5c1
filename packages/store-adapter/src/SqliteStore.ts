/**
 * The store port on SQLite, through Node's built-in `node:sqlite` (no native
 * addon): the embedded default, one file in a data directory.
 *
 * `DatabaseSync` is synchronous and JavaScript runs one callback at a time, so
 * a read-modify-write done synchronously inside one `BEGIN IMMEDIATE … COMMIT`
 * cannot interleave with another fiber; `BEGIN IMMEDIATE` takes the file's
 * write lock first, so it cannot interleave with another process either (a
 * second process waits up to `busyTimeout` for the lock). A failed
 * transaction is always rolled back before the error leaves.
 *
 * Durability: WAL journal with `synchronous=FULL` by default, so an
 * acknowledged write survives power loss as well as a killed process.
 *
 * Group commit: every write is queued and the writes that arrive in the same
 * turn of the event loop are committed together, one transaction and one fsync
 * for all of them, each inside its own savepoint (so one write's refusal or
 * failure undoes only that write). A write is acknowledged only after the
 * COMMIT that holds it returned. Under concurrent load this turns one fsync per
 * write into one per batch; a lone write waits no longer than before.
 * `synchronous: "NORMAL"` survives a killed process (SIGKILL, OOM) but may
 * lose the last writes on power loss; see the package README for the cost.
 *
 * @since 0.1.0
 */
import { mkdirSync } from "node:fs"
import { dirname, resolve } from "node:path"
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite"
import {
  Assignment,
  Errors,
  Store,
  type AssignmentFilter,
  type Change,
  type Configuration,
  type Directory,
  type PageRequest
} from "@enrollment/core"
import { Effect, Layer, Option, References, Result, type Scope } from "effect"
import * as AssignmentFilterSql from "./AssignmentFilterSql.ts"
import {
  assignmentColumns,
  entityMethods,
  fetchLimit,
  lastById,
  parse,
  toAssignmentOf,
  toMemberRef,
  toMembership,
  toPage,
  unavailable,
  withSpans
} from "./StoreSql.ts"

/** How to open the store. */
export interface Options {
  /** The database file; its directory is created when missing. `:memory:` for a private in-memory database. */
  readonly filename: string
  /** `FULL` (default): acknowledged writes survive power loss. `NORMAL`: they survive a killed process only. */
  readonly synchronous?: "FULL" | "NORMAL" | undefined
  /** How long a write waits for another process's write lock, in milliseconds (default 5000). */
  readonly busyTimeout?: number | undefined
}

/** One schema change, applied once and recorded in `schema_migrations`. */
export interface Migration {
  readonly version: number
  readonly name: string
  readonly statements: ReadonlyArray<string>
}

const entityTable = (name: string) =>
  `CREATE TABLE ${name} (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    version INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
  )`

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
 * versions it applied (none when the schema is current).
 */
export const migrate = (db: DatabaseSync): ReadonlyArray<number> =>
  Result.getOrThrow(transact(db, () => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at TEXT NOT NULL
    )`)
    const done = new Set(db.prepare("SELECT version FROM schema_migrations").all().map((r) => Number(r.version)))
    const record = db.prepare(
      "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"
    )
    const applied: Array<number> = []
    for (const m of migrations) {
      if (done.has(m.version)) continue
      for (const s of m.statements) db.exec(s)
      record.run(m.version, m.name)
      applied.push(m.version)
    }
    return Result.succeed(applied)
  }))

/** Opens the file with the store's settings and brings its schema up to date. */
export const open = (options: Options): DatabaseSync => {
  if (options.filename !== ":memory:") mkdirSync(dirname(resolve(options.filename)), { recursive: true })
  const busyTimeout = Math.max(0, Math.floor(options.busyTimeout ?? 5000))
  const db = new DatabaseSync(options.filename, { timeout: busyTimeout, enableForeignKeyConstraints: true })
  try {
    db.exec(`PRAGMA busy_timeout = ${busyTimeout}`)
    db.exec("PRAGMA journal_mode = WAL")
    db.exec(`PRAGMA synchronous = ${options.synchronous === "NORMAL" ? "NORMAL" : "FULL"}`)
    db.exec("PRAGMA foreign_keys = ON")
    // 16 MiB of page cache: the hot indexes of a million assignments fit; more only grows RSS.
    db.exec("PRAGMA cache_size = -16384")
    migrate(db)
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

/** Runs synchronous store code: what it throws is the store failing, except a `change` that threw (a defect). */
const run = <A, E = never>(f: () => Result.Result<A, E>): Effect.Effect<A, E | Errors.StoreUnavailable> =>
  Effect.suspend((): Effect.Effect<A, E | Errors.StoreUnavailable> => {
    let r: Result.Result<A, E>
    try {
      r = f()
    } catch (cause) {
      return cause instanceof ChangeDefect ? Effect.die(cause.cause) : Effect.fail(unavailable(cause))
    }
    return Result.isSuccess(r) ? Effect.succeed(r.success) : Effect.fail(r.failure)
  })

const ok = Result.succeed

const applyChange = <A, E>(change: Change<A, E>, current: A): Result.Result<A, E> => {
  try {
    return change(current)
  } catch (e) {
    throw new ChangeDefect(e)
  }
}

/** A write waiting for the next group commit. */
interface Pending {
  readonly work: () => Result.Result<unknown, unknown>
  readonly resume: (effect: Effect.Effect<unknown, unknown>) => void
}

/**
 * Group commit (see the module doc): `write(work)` queues `work` and resolves
 * once the transaction that ran it has committed. Each work runs synchronously
 * inside a savepoint of the batch's transaction; its failure rolls back to the
 * savepoint, a throw is the store failing (or a defect for a thrown `change`),
 * and a failed COMMIT fails every write of the batch (none of them happened).
 */
const groupCommit = (db: DatabaseSync) => {
  let queue: Array<Pending> = []
  let scheduled = false
  const settle = (item: Pending, outcome: Result.Result<unknown, unknown> | { readonly thrown: unknown }) => {
    if ("thrown" in outcome) {
      const cause = outcome.thrown
      item.resume(cause instanceof ChangeDefect ? Effect.die(cause.cause) : Effect.fail(unavailable(cause)))
    } else {
      item.resume(Result.isSuccess(outcome) ? Effect.succeed(outcome.success) : Effect.fail(outcome.failure))
    }
  }
  const flush = () => {
    scheduled = false
    const batch = queue
    queue = []
    try {
      db.exec("BEGIN IMMEDIATE")
    } catch (thrown) {
      for (const item of batch) settle(item, { thrown })
      return
    }
    const outcomes: Array<Result.Result<unknown, unknown> | { readonly thrown: unknown }> = []
    try {
      for (const item of batch) {
        db.exec("SAVEPOINT w")
        let outcome: Result.Result<unknown, unknown> | { readonly thrown: unknown }
        try {
          outcome = item.work()
        } catch (thrown) {
          outcome = { thrown }
        }
        if (!("thrown" in outcome) && Result.isSuccess(outcome)) db.exec("RELEASE w")
        else db.exec("ROLLBACK TO w; RELEASE w")
        outcomes.push(outcome)
      }
      db.exec("COMMIT")
    } catch (thrown) {
      if (db.isTransaction) db.exec("ROLLBACK")
      for (const item of batch) settle(item, { thrown })
      return
    }
    for (let i = 0; i < batch.length; i++) settle(batch[i]!, outcomes[i]!)
  }
  return <A, E = never>(work: () => Result.Result<A, E>): Effect.Effect<A, E | Errors.StoreUnavailable> =>
    Effect.callback<A, E | Errors.StoreUnavailable>((resume) => {
      queue.push({ work, resume: resume as Pending["resume"] })
      if (!scheduled) {
        scheduled = true
        setImmediate(flush)
      }
    })
}

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

/** Makes the store over an open database (its schema current). The caller owns `db`. */
export const fromDatabase = (db: DatabaseSync, options: { readonly traced?: boolean | undefined } = {}): Store["Service"] => {
  const prepared = statementCache(db)
  const write = groupCommit(db)
  const rowsOf = (sql: string, params: ReadonlyArray<SQLInputValue>) => prepared(sql).all(...params)

  const entitySet = <A extends { readonly id: string }>(
    table: "configurations" | "users" | "groups" | "invitations",
    entity: string,
    onRemove?: (tenant: string, id: string) => void
  ) => {
    const get = db.prepare(`SELECT data FROM ${table} WHERE tenant_id = ? AND id = ?`)
    const first = db.prepare(`SELECT id, data FROM ${table} WHERE tenant_id = ? ORDER BY id LIMIT ?`)
    const after = db.prepare(`SELECT id, data FROM ${table} WHERE tenant_id = ? AND id > ? ORDER BY id LIMIT ?`)
    const insert = db.prepare(
      `INSERT INTO ${table} (tenant_id, id, version, data) VALUES (?, ?, 1, ?) ON CONFLICT DO NOTHING`
    )
    const update = db.prepare(`UPDATE ${table} SET data = ?, version = version + 1 WHERE tenant_id = ? AND id = ?`)
    const remove = db.prepare(`DELETE FROM ${table} WHERE tenant_id = ? AND id = ?`)
    const insertRow = (tenant: string, value: A): boolean =>
      insert.run(tenant, value.id, JSON.stringify(value)).changes > 0
    return {
      insertRow,
      get: (tenant: string, id: string) =>
        run(() => {
          const row = get.get(tenant, id)
          return ok(row === undefined ? Option.none<A>() : Option.some(parse<A>(row.data)))
        }),
      list: (tenant: string, page: PageRequest) =>
        run(() => {
          const rows = page.after === undefined
            ? first.all(tenant, fetchLimit(page))
            : after.all(tenant, page.after, fetchLimit(page))
          return ok(toPage(rows, page, (r) => parse<A>(r.data), (r) => r.id as string))
        }),
      insert: (tenant: string, value: A) =>
        write(() =>
          insertRow(tenant, value) ? ok(value) : Result.fail(new Errors.EntityAlreadyExists({ entity, id: value.id }))
        ),
      modify: <E>(tenant: string, id: string, change: Change<A, E>) =>
        write((): Result.Result<Option.Option<A>, E> => {
            const row = get.get(tenant, id)
            if (row === undefined) return ok(Option.none())
            const current = parse<A>(row.data)
            const r = applyChange(change, current)
            if (Result.isFailure(r)) return Result.fail(r.failure)
            if (r.success !== current) update.run(JSON.stringify(r.success), tenant, id)
            return ok(Option.some(r.success))
          }),
      remove: (tenant: string, id: string) =>
        write(() => {
          const removed = remove.run(tenant, id).changes > 0
          if (removed) onRemove?.(tenant, id)
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
  const aUpdate = db.prepare(
    `UPDATE assignments SET data = ?, version = version + 1, source = ?, source_id = ?, target_type = ?, group_id = ?
     WHERE tenant_id = ? AND configuration_id = ? AND id = ?`
  )
  const aRemove = db.prepare("DELETE FROM assignments WHERE tenant_id = ? AND configuration_id = ? AND id = ?")
  const aRemoveAll = db.prepare("DELETE FROM assignments WHERE tenant_id = ? AND configuration_id = ?")
  // The two kinds of target that concern a user are read through their own index each (the
  // planner, without statistics on a young file, would rather scan the tenant), and never overlap:
  // all-licensed-users targets have no group id.
  const concerningSql = (one: boolean) => {
    const scope = one
      ? "a.configuration_id = ?"
      : "EXISTS (SELECT 1 FROM configurations c WHERE c.tenant_id = a.tenant_id AND c.id = a.configuration_id)"
    return `SELECT a.configuration_id, a.id, a.data FROM assignments a INDEXED BY assignments_by_target_type
       WHERE a.tenant_id = ? AND a.target_type = 'allLicensedUsersAssignmentTarget' AND ${scope}
     UNION ALL
     SELECT a.configuration_id, a.id, a.data FROM assignments a INDEXED BY assignments_by_group
       WHERE a.tenant_id = ? AND a.group_id IN (SELECT value FROM json_each(?)) AND ${scope}
     ORDER BY 1, 2`
  }
  const aConcerningAll = db.prepare(concerningSql(false))
  const aConcerningOne = db.prepare(concerningSql(true))
  const concerning = (tenant: string, groupIds: ReadonlyArray<string>, configurationId: string | undefined) =>
    (configurationId === undefined
      ? aConcerningAll.all(tenant, tenant, JSON.stringify(groupIds))
      : aConcerningOne.all(tenant, configurationId, tenant, JSON.stringify(groupIds), configurationId)).map(toAssignmentOf)
  // A user's groups, transitively, in one statement: UNION (not UNION ALL) visits each group
  // once, so membership cycles end; only memberships in groups that exist count (as in groupsOf).
  const tGroups = db.prepare(
    `WITH RECURSIVE g(id) AS (
       SELECT m.group_id FROM memberships m INDEXED BY memberships_by_member
        WHERE m.tenant_id = :tenant AND m.member_id = :member
          AND EXISTS (SELECT 1 FROM groups x WHERE x.tenant_id = m.tenant_id AND x.id = m.group_id)
       UNION
       SELECT m.group_id FROM g JOIN memberships m INDEXED BY memberships_by_member
           ON m.tenant_id = :tenant AND m.member_id = g.id
        WHERE EXISTS (SELECT 1 FROM groups x WHERE x.tenant_id = m.tenant_id AND x.id = m.group_id)
     ) SELECT id FROM g ORDER BY id`
  )
  const iInvitedUser = db.prepare(
    `SELECT json_extract(i.data, '$.invitedUserId') AS user_id,
            EXISTS (SELECT 1 FROM users u WHERE u.tenant_id = i.tenant_id AND u.id = json_extract(i.data, '$.invitedUserId')) AS present
       FROM invitations i WHERE i.tenant_id = ? AND i.id = ?`
  )
  const aInsertRow = (tenant: string, configurationId: string, a: Assignment.Assignment): boolean =>
    aInsert.run(tenant, configurationId, a.id, ...assignmentColumns(a), JSON.stringify(a)).changes > 0

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

  const configurations = entitySet<Configuration.Configuration>(
    "configurations",
    "deviceEnrollmentConfiguration",
    (tenant, id) => aRemoveAll.run(tenant, id)
  )
  const users = entitySet<Directory.User>("users", "user", (tenant, id) => mRemoveMember.run(tenant, id))
  const groups = entitySet<Directory.Group>("groups", "group", (tenant, id) => {
    mRemoveOfGroup.run(tenant, id)
    mRemoveMember.run(tenant, id)
  })
  const invitations = entitySet<Directory.Invitation>("invitations", "invitation")

  return Store.of(withSpans("SqliteStore", {
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
      get: (tenant, configurationId, id) =>
        run(() => {
          const row = aGet.get(tenant, configurationId, id)
          return ok(row === undefined ? Option.none() : Option.some(parse<Assignment.Assignment>(row.data)))
        }),
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
      insert: (tenant, configurationId, value) =>
        write(() =>
          aInsertRow(tenant, configurationId, value)
            ? ok(value)
            : Result.fail(new Errors.EntityAlreadyExists({ entity: Assignment.typeName, id: value.id }))
        ),
      modify: (tenant, configurationId, id, change) =>
        write(() => {
            const row = aGet.get(tenant, configurationId, id)
            if (row === undefined) return ok(Option.none())
            const current = parse<Assignment.Assignment>(row.data)
            const r = applyChange(change, current)
            if (Result.isFailure(r)) return Result.fail(r.failure)
            const next = r.success
            if (next !== current) {
              aUpdate.run(JSON.stringify(next), ...assignmentColumns(next), tenant, configurationId, id)
            }
            return ok(Option.some(next))
          }),
      remove: (tenant, configurationId, id) =>
        write(() => ok(aRemove.run(tenant, configurationId, id).changes > 0)),
      replace: (tenant, configurationId, values) =>
        write(() => {
          aRemoveAll.run(tenant, configurationId)
          for (const a of lastById(values)) aInsertRow(tenant, configurationId, a)
          return ok(undefined)
        }),
      concerning: (tenant, groupIds, configurationId) => run(() => ok(concerning(tenant, groupIds, configurationId)))
    },
    users: {
      ...entityMethods(users)
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
      addMember: (tenant, groupId, member) =>
        write(() =>
          mAdd.run(tenant, groupId, member.id, member.kind).changes > 0
            ? ok(undefined)
            : Result.fail(new Errors.MemberAlreadyPresent({ groupId, memberId: member.id }))
        ),
      removeMember: (tenant, groupId, memberId) => write(() => ok(mRemove.run(tenant, groupId, memberId).changes > 0)),
      groupsOf: (tenant, memberIds) =>
        run(() =>
          ok(mGroupsOf.all(tenant, JSON.stringify(memberIds)).map(toMembership))
        )
    },
    invitations: {
      get: invitations.get,
      list: invitations.list,
      remove: invitations.remove,
      invitedUserOf: (tenant, invitationId) =>
        run(() => {
          const row = iInvitedUser.get(tenant, invitationId)
          return ok(row === undefined ? Option.none() : Option.some({ userId: String(row.user_id), exists: Number(row.present) === 1 }))
        }),
      insert: (tenant, invitation, user) =>
        write(() => {
          if (!invitations.insertRow(tenant, invitation)) {
            return Result.fail(new Errors.EntityAlreadyExists({ entity: "invitation", id: invitation.id }))
          }
          if (!users.insertRow(tenant, user)) {
            return Result.fail(new Errors.EntityAlreadyExists({ entity: "user", id: user.id }))
          }
          return ok(invitation)
        })
    },
    targetingOf: (tenant, userId, configurationId) =>
      run(() => {
        const groupIds = tGroups.all({ tenant, member: userId }).map((r) => r.id as string)
        return ok({ groups: groupIds, assignments: concerning(tenant, groupIds, configurationId) })
      }),
    ready: run(() => ok(void ping.get()))
  }, options.traced ?? true))
}

/** Opens the store for the life of the scope: the file is opened (and migrated) at acquire and closed at release. */
export const make = (options: Options): Effect.Effect<Store["Service"], Errors.StoreUnavailable, Scope.Scope> =>
  Effect.gen(function*() {
    const traced = yield* References.TracerEnabled
    const db = yield* Effect.acquireRelease(
      Effect.try({ try: () => open(options), catch: unavailable }),
      (db) => Effect.sync(() => db.close())
    )
    return fromDatabase(db, { traced })
  })

/** The store on the SQLite file `options.filename`. */
export const layer = (options: Options): Layer.Layer<Store, Errors.StoreUnavailable> =>
  Layer.effect(Store, make(options))
