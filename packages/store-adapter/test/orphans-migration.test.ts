/**
 * The "orphans removed" migration (schema version 2, since 0.3.1), on real SQLite files and on
 * the real PostgreSQL server (skipped without DATABASE_URL). Each test builds a store as 0.3.0
 * left it (the migrations through version 1), writes children of missing parents into it with SQL
 * (a parent's removal racing a child's insert left such rows before 0.3.0) in two tenants, next to
 * rows that must stay, and then opens it with the current code.
 */
import { DatabaseSync } from "node:sqlite"
import { assert, describe, it } from "@effect/vitest"
import { Directory, Store } from "@enrollment/core"
import { Context, Effect, Layer, Option, Redacted } from "effect"
import * as PostgresStore from "../src/PostgresStore.ts"
import * as SqliteStore from "../src/SqliteStore.ts"
import { assignmentColumns, type Row } from "../src/StoreSql.ts"
import { pgSchemas } from "./fixtures/pgSchemas.ts"
import { sqliteFiles } from "./fixtures/sqliteFiles.ts"
import { assignment, configuration, group, invitation, target, user } from "./fixtures/entities.ts"

/** The migration under test, and the version a store had before it. */
const version = 2
const before = version - 1

// Two tenants, each holding parents whose ids the other's orphans name: a child must not be kept
// alive by a parent of the same id in another tenant.
const A = "tenant-a"
const B = "tenant-b"

type Value = string | number | null
interface Seed {
  readonly table: "configurations" | "users" | "groups" | "invitations" | "assignments" | "memberships"
  readonly row: Readonly<Record<string, Value>>
  /** Whether the migration removes the row. */
  readonly orphan: boolean
}

const entity = (table: Seed["table"], tenant: string, value: { readonly id: string }): Seed => ({
  table,
  row: { tenant_id: tenant, id: value.id, version: 3, data: JSON.stringify(value) },
  orphan: false
})
const assignmentRow = (tenant: string, configurationId: string, a: ReturnType<typeof assignment>, orphan: boolean): Seed => {
  const [source, sourceId, targetType, groupId] = assignmentColumns(a)
  return {
    table: "assignments",
    row: {
      tenant_id: tenant,
      configuration_id: configurationId,
      id: a.id,
      version: 2,
      source,
      source_id: sourceId,
      target_type: targetType,
      group_id: groupId,
      data: JSON.stringify(a)
    },
    orphan
  }
}
const membership = (tenant: string, groupId: string, memberId: string, kind: string, orphan: boolean): Seed => ({
  table: "memberships",
  row: { tenant_id: tenant, group_id: groupId, member_id: memberId, member_kind: kind },
  orphan
})

const seeds: ReadonlyArray<Seed> = [
  // Parents. Tenant A: configuration c-keep, user u-keep, groups g-keep, g-nested and g-other.
  // Tenant B: configuration c-gone, user u-gone, group g-gone (all missing from A).
  entity("configurations", A, configuration("c-keep")),
  entity("configurations", B, configuration("c-gone")),
  entity("users", A, user("u-keep", "Zoë")),
  entity("users", B, user("u-gone")),
  entity("groups", A, group("g-keep")),
  entity("groups", A, group("g-nested")),
  entity("groups", A, group("g-other")),
  entity("groups", B, group("g-gone")),
  // An invitation whose guest user was deleted is not a child: it stays (DELETE /users is allowed,
  // and an invitation outlives its user).
  entity("invitations", A, invitation("i-1", "u-deleted").invitation),

  // Assignments that stay, one of them targeting a group that is not there (a target names a
  // group; it is not its child).
  assignmentRow(A, "c-keep", assignment("a-all", target("allLicensedUsersAssignmentTarget")), false),
  assignmentRow(A, "c-keep", assignment("a-group", target("groupAssignmentTarget", "g-keep"), { sourceId: "ü-1" }), false),
  assignmentRow(A, "c-keep", assignment("a-elsewhere", target("exclusionGroupAssignmentTarget", "g-gone")), false),
  assignmentRow(B, "c-gone", assignment("b-1", target("allLicensedUsersAssignmentTarget")), false),
  // Orphans: A's c-gone is B's only, B's c-keep is A's only.
  assignmentRow(A, "c-gone", assignment("o-all", target("allLicensedUsersAssignmentTarget")), true),
  assignmentRow(A, "c-gone", assignment("o-group", target("groupAssignmentTarget", "g-keep")), true),
  assignmentRow(B, "c-keep", assignment("o-b", target("allLicensedUsersAssignmentTarget")), true),

  // Memberships that stay: u-keep in g-keep and in g-nested, g-nested in g-keep; B's u-gone in g-gone.
  membership(A, "g-keep", "u-keep", "user", false),
  membership(A, "g-keep", "g-nested", "group", false),
  membership(A, "g-nested", "u-keep", "user", false),
  membership(B, "g-gone", "u-gone", "user", false),
  // Orphans of a missing group, of a missing member, and of a member missing as the kind named.
  membership(A, "g-gone", "u-keep", "user", true),
  membership(A, "g-keep", "u-gone", "user", true),
  membership(A, "g-keep", "g-gone", "group", true),
  membership(A, "g-other", "u-keep", "group", true),
  membership(A, "g-other", "g-keep", "user", true),
  membership(B, "g-keep", "u-gone", "user", true),
  membership(B, "g-gone", "u-keep", "user", true)
]

/** Each table's key, the order a snapshot lists its rows in. */
const keys: Record<Seed["table"], ReadonlyArray<string>> = {
  configurations: ["tenant_id", "id"],
  users: ["tenant_id", "id"],
  groups: ["tenant_id", "id"],
  invitations: ["tenant_id", "id"],
  assignments: ["tenant_id", "configuration_id", "id"],
  memberships: ["tenant_id", "group_id", "member_id"]
}
const tables = Object.keys(keys) as ReadonlyArray<Seed["table"]>
const keyOf = (table: Seed["table"], row: Readonly<Record<string, unknown>>) =>
  JSON.stringify([table, ...keys[table].map((k) => row[k])])
const orphanKeys = new Set(seeds.filter((s) => s.orphan).map((s) => keyOf(s.table, s.row)))

/** Every row of every table, in key order (and `schema_migrations`). */
type Snapshot = Record<string, ReadonlyArray<Row>>
/** `snapshot` without the orphans: what the migration must leave, byte for byte. */
const withoutOrphans = (snapshot: Snapshot): Snapshot =>
  Object.fromEntries(
    Object.entries(snapshot).map(([table, rows]) => [
      table,
      table in keys ? rows.filter((r) => !orphanKeys.has(keyOf(table as Seed["table"], r))) : rows
    ])
  )
/**
 * `snapshot` as a later migration leaves it besides this one's removals: each user with its
 * principal name's key (migration 3, "user principal name keys"), every other value as it was.
 */
const withPrincipalNameKeys = (snapshot: Snapshot): Snapshot => ({
  ...snapshot,
  users: (snapshot.users ?? []).map((r) => ({
    ...r,
    upn_key: Directory.userPrincipalNameKey(JSON.parse(String(r.data)).userPrincipalName) ?? null
  }))
})
/**
 * The migrations an upgrade from before this one records: SQLite's schema has the set counts
 * (store-adapter 0.11.0) before the keys kept by the store (0.12.0).
 */
const kept = "user principal name keys kept by the store"
const trigger = "user principal name keys as the core makes them"
const recordedAfterPostgres = [[1, "initial"], [version, "orphans removed"], [3, "user principal name keys"], [4, kept], [5, trigger]]
const recordedAfterSqlite = [[1, "initial"], [version, "orphans removed"], [3, "user principal name keys"], [4, "set counts"], [5, kept]]
const insertSql = (s: Seed, placeholder: (i: number) => string, schema = "") => {
  const columns = Object.keys(s.row)
  return `INSERT INTO ${schema}${s.table} (${columns.join(", ")}) VALUES (${columns.map((_, i) => placeholder(i)).join(", ")})`
}

/** What the store answers after the upgrade: nothing of the orphans, also under parents made again. */
const answersWithoutOrphans = (store: Store["Service"]) =>
  Effect.gen(function*() {
    const ids = <A extends { readonly id: string }>(items: ReadonlyArray<A>) => items.map((x) => x.id)
    const all = { after: undefined, limit: 100 }
    // Tenant A's user: its groups and the assignments concerning it, as before the race.
    const targeting = yield* store.targetingOf(A, "u-keep")
    assert.deepStrictEqual(targeting.groups, ["g-keep", "g-nested"])
    assert.deepStrictEqual(targeting.assignments.map((x) => [x.configurationId, x.assignment.id]), [
      ["c-keep", "a-all"],
      ["c-keep", "a-group"]
    ])
    assert.deepStrictEqual((yield* store.groups.members(A, "g-keep", all)).items, [
      { kind: "group", id: "g-nested" },
      { kind: "user", id: "u-keep" }
    ])
    assert.deepStrictEqual((yield* store.groups.members(A, "g-other", all)).items, [])

    // Parents made again with the orphans' ids start with no children.
    yield* store.configurations.insert(A, configuration("c-gone"))
    assert.deepStrictEqual((yield* store.assignments.list(A, "c-gone", all)).items, [])
    assert.strictEqual(yield* store.assignments.count(A, "c-gone"), 0)
    assert.deepStrictEqual((yield* store.targetingOf(A, "u-keep", "c-gone")).assignments, [])
    yield* store.groups.insert(A, group("g-gone"))
    assert.deepStrictEqual((yield* store.groups.members(A, "g-gone", all)).items, [])
    yield* store.users.insert(A, user("u-gone"))
    assert.deepStrictEqual(yield* store.groups.groupsOf(A, ["u-gone"]), [])
    assert.deepStrictEqual((yield* store.targetingOf(A, "u-gone")).groups, [])
    assert.deepStrictEqual(
      (yield* store.groups.groupsOf(A, ["u-keep", "g-keep"])).map((m) => [m.groupId, m.memberId]),
      [["g-keep", "u-keep"], ["g-nested", "u-keep"]]
    )
    const targetingAgain = yield* store.targetingOf(A, "u-keep")
    assert.deepStrictEqual(targetingAgain.groups, ["g-keep", "g-nested"])
    assert.deepStrictEqual(targetingAgain.assignments.map((x) => x.assignment.id), ["a-all", "a-group"])

    // Tenant B keeps its own, and its orphan under A's configuration id is gone.
    assert.deepStrictEqual(ids((yield* store.assignments.list(B, "c-gone", all)).items), ["b-1"])
    assert.deepStrictEqual((yield* store.groups.members(B, "g-gone", all)).items, [{ kind: "user", id: "u-gone" }])
    yield* store.configurations.insert(B, configuration("c-keep"))
    assert.strictEqual(yield* store.assignments.count(B, "c-keep"), 0)
    yield* store.groups.insert(B, group("g-keep"))
    assert.deepStrictEqual((yield* store.groups.members(B, "g-keep", all)).items, [])
    // The invitation whose user is gone stays, as before.
    assert.deepStrictEqual(yield* store.invitations.invitedUserOf(A, "i-1"), Option.some({ userId: "u-deleted", exists: false }))
  })

/** Ids that are both a user and a group, as a store written before 0.3.0 could hold them. */
const shared: ReadonlyArray<Seed> = [
  entity("users", A, user("x")),
  entity("groups", A, group("x")),
  entity("users", B, user("y")),
  entity("groups", B, group("y"))
]

/** What the upgrade of the seeds (and `shared`) is said in to the operator (store-adapter 0.6.0). */
const upgradeSaidBy = (to: string): ReadonlyArray<readonly [string, "info" | "warn"]> => [
  [
    `upgraded the store's schema from version 1 to ${to}: removed 3 assignments of a configuration that was not there, ` +
    "2 memberships in a group that was not there, 3 memberships of a user that was not there, 2 memberships of a group that was not there",
    "info"
  ],
  [
    "2 ids are both a user and a group, written before store-adapter 0.3.0 (users and groups share one id space since): " +
    "\"x\" in tenant \"tenant-a\", \"y\" in tenant \"tenant-b\"; targeting follows members by id, so such a user is in the groups the group " +
    "of its id is in, and the other way round; delete the one of each pair that should not be there (DELETE /beta/users/{id} or " +
    "/beta/groups/{id}) and add its memberships again to the one that stays",
    "warn"
  ]
]
const upgradeSaidPostgres = upgradeSaidBy(`5 ('orphans removed', 'user principal name keys', '${kept}', '${trigger}')`)
const upgradeSaidSqlite = upgradeSaidBy(`5 ('orphans removed', 'user principal name keys', 'set counts', '${kept}')`)

// SQLite --------------------------------------------------------------------------------------

const { fresh, made } = sqliteFiles("store-adapter-orphans-")

/** A store file as 0.3.0 left it, holding the seeds; closed. */
const sqliteAtPreviousVersion = (): string =>
  made((db) => {
    assert.deepStrictEqual(SqliteStore.migrate(db, { through: before }), [before])
    for (const s of seeds) db.prepare(insertSql(s, () => "?")).run(...Object.values(s.row))
  })

const sqliteSnapshot = (filename: string): Snapshot => {
  const db = new DatabaseSync(filename, { readOnly: true })
  try {
    const read = (table: string, order: ReadonlyArray<string>) =>
      db.prepare(`SELECT * FROM ${table} ORDER BY ${order.join(", ")}`).all().map((r) => ({ ...r }))
    return {
      ...Object.fromEntries(tables.map((t) => [t, read(t, keys[t])])),
      schema_migrations: read("schema_migrations", ["version"])
    }
  } finally {
    db.close()
  }
}

const openSqlite = (filename: string) =>
  Effect.map(Layer.build(SqliteStore.layer({ filename })), (c) => Context.get(c, Store))

describe("SQLite: the orphans migration", () => {
  it.effect("removes every child of a missing parent in its own tenant, once, and leaves every other row as it was", () =>
    Effect.gen(function*() {
      const filename = sqliteAtPreviousVersion()
      const seeded = sqliteSnapshot(filename)
      assert.strictEqual(
        seeded.assignments!.length + seeded.memberships!.length,
        seeds.filter((s) => s.table === "assignments" || s.table === "memberships").length
      )

      yield* Effect.scoped(Effect.flatMap(openSqlite(filename), () => Effect.void))
      const upgraded = sqliteSnapshot(filename)
      const { schema_migrations: recorded, ...rows } = upgraded
      const { schema_migrations: _, ...expected } = withPrincipalNameKeys(withoutOrphans(seeded))
      assert.deepStrictEqual(rows, expected, "the orphans are gone, every other row is as it was")
      assert.deepStrictEqual(recorded!.map((r) => [r.version, r.name]), recordedAfterSqlite)

      yield* Effect.scoped(Effect.flatMap(openSqlite(filename), answersWithoutOrphans))

      // Opened again: nothing applied, nothing removed or recorded again.
      const settled = sqliteSnapshot(filename)
      yield* Effect.scoped(Effect.flatMap(openSqlite(filename), () => Effect.void))
      const db = new DatabaseSync(filename)
      try {
        assert.deepStrictEqual(SqliteStore.migrate(db), [])
      } finally {
        db.close()
      }
      assert.deepStrictEqual(sqliteSnapshot(filename), settled)
    }))

  it.effect("says what the upgrade removed and names the ids that are both a user and a group, once; nothing for a new store", () =>
    Effect.gen(function*() {
      const filename = sqliteAtPreviousVersion()
      const db = new DatabaseSync(filename)
      for (const s of shared) db.prepare(insertSql(s, () => "?")).run(...Object.values(s.row))
      db.close()
      const said: Array<readonly [string, string]> = []
      const notice = (line: string, level: "info" | "warn") => void said.push([line, level])
      const open = (f: string) => Effect.scoped(Effect.asVoid(Layer.build(SqliteStore.layer({ filename: f, notice }))))
      yield* open(filename)
      assert.deepStrictEqual(said, [...upgradeSaidSqlite])
      yield* open(filename)
      assert.strictEqual(said.length, upgradeSaidSqlite.length, "a current store says nothing")
      yield* open(fresh("store-new"))
      assert.strictEqual(said.length, upgradeSaidSqlite.length, "a new store says nothing")
    }))

  it.effect("a store already open on the file (another process) stops answering the removed rows once the upgrade commits", () =>
    Effect.gen(function*() {
      const filename = sqliteAtPreviousVersion()
      // A process of the release before, its read cache warm: an orphan read by key, the
      // targeting it would answer with a membership of a missing kind.
      const db = new DatabaseSync(filename)
      yield* Effect.addFinalizer(() => Effect.sync(() => db.close()))
      const old = SqliteStore.fromDatabase(db)
      assert.isTrue(Option.isSome(yield* old.assignments.get(A, "c-gone", "o-all")))
      assert.deepStrictEqual((yield* old.targetingOf(A, "u-keep")).groups, ["g-keep", "g-nested", "g-other"])
      const stamp = old.stampOf!(A)

      // Another process upgrades the file.
      SqliteStore.open({ filename }).close()

      yield* Effect.yieldNow
      assert.notStrictEqual(old.stampOf!(A), stamp, "the stamp moved: answers kept by it are not served")
      assert.isTrue(Option.isNone(yield* old.assignments.get(A, "c-gone", "o-all")))
      assert.deepStrictEqual((yield* old.targetingOf(A, "u-keep")).groups, ["g-keep", "g-nested"])
      assert.deepStrictEqual((yield* old.groups.members(A, "g-keep", { after: undefined, limit: 10 })).items.map((m) => m.id), [
        "g-nested",
        "u-keep"
      ])
    }))

  it("reads each child table once, looks each parent up by its key and deletes by key (EXPLAIN QUERY PLAN)", () => {
    const filename = sqliteAtPreviousVersion()
    const db = new DatabaseSync(filename)
    try {
      const statements = SqliteStore.migrations.find((m) => m.version === version)?.statements
      assert.isDefined(statements, `migration ${version}`)
      for (const statement of statements!) {
        const plan = db.prepare(`EXPLAIN QUERY PLAN ${statement}`).all().map((r) => String(r.detail))
        const shown = plan.join("\n")
        // One scan: of the child table, once.
        const scans = plan.filter((d) => d.startsWith("SCAN "))
        assert.strictEqual(scans.length, 1, shown)
        assert.match(scans[0]!, /^SCAN [am]\b/, shown)
        // Two searches: the parent by its primary key, the orphan by its own.
        const searches = plan.filter((d) => d.startsWith("SEARCH "))
        assert.strictEqual(searches.length, 2, shown)
        assert.isTrue(
          searches.some((d) => /^SEARCH (assignments|memberships) USING PRIMARY KEY \(tenant_id=\? AND \w+=\? AND \w+=\?\)$/.test(d)),
          shown
        )
        assert.isTrue(
          searches.some((d) =>
            /^SEARCH [cgu] USING COVERING INDEX sqlite_autoindex_(configurations|groups|users)_1 \(tenant_id=\? AND id=\?\)$/.test(d)
          ),
          shown
        )
      }
    } finally {
      db.close()
    }
  })
})

// PostgreSQL ----------------------------------------------------------------------------------

const { direct, freshSchema, url } = pgSchemas("orphans_test")

/** A schema as 0.3.0 left it, holding the seeds. */
const postgresAtPreviousVersion = (label: string) =>
  Effect.gen(function*() {
    const schema = freshSchema(label)
    yield* direct((sql) =>
      Effect.gen(function*() {
        assert.deepStrictEqual(yield* PostgresStore.migrateWith(sql, schema, { through: before }), [before])
        for (const s of seeds) yield* sql.unsafe(insertSql(s, (i) => `$${i + 1}`, `"${schema}".`), Object.values(s.row))
      })
    )
    return schema
  })

const postgresSnapshot = (schema: string) =>
  direct((sql) =>
    Effect.gen(function*() {
      const read = (table: string, order: ReadonlyArray<string>) =>
        sql.unsafe<Row>(`SELECT * FROM "${schema}".${table} ORDER BY ${order.join(", ")}`)
      const out: Record<string, ReadonlyArray<Row>> = {}
      for (const t of tables) out[t] = (yield* read(t, keys[t])).map((r) => ({ ...r }))
      out.schema_migrations = (yield* read("schema_migrations", ["version"])).map((r) => ({ ...r }))
      return out as Snapshot
    })
  )

const openPostgres = (schema: string) =>
  Effect.map(
    Layer.build(PostgresStore.layer({ url: Redacted.make(url!), schema, maxConnections: 2 })),
    (c) => Context.get(c, Store)
  )

describe.skipIf(url === undefined || url === "")("PostgreSQL: the orphans migration", () => {
  it.effect("removes every child of a missing parent in its own tenant, once, and leaves every other row as it was", () =>
    Effect.gen(function*() {
      const schema = yield* postgresAtPreviousVersion("upgrade")
      const seeded = yield* postgresSnapshot(schema)

      yield* Effect.scoped(Effect.flatMap(openPostgres(schema), () => Effect.void))
      const { schema_migrations: recorded, ...rows } = yield* postgresSnapshot(schema)
      const { schema_migrations: _, ...expected } = withPrincipalNameKeys(withoutOrphans(seeded))
      assert.deepStrictEqual(rows, expected, "the orphans are gone, every other row is as it was")
      assert.deepStrictEqual(recorded!.map((r) => [r.version, r.name]), recordedAfterPostgres)

      yield* Effect.scoped(Effect.flatMap(openPostgres(schema), answersWithoutOrphans))

      // Opened again (two processes at once): nothing applied, nothing removed or recorded again.
      const settled = yield* postgresSnapshot(schema)
      yield* Effect.all([1, 2].map(() => Effect.scoped(Effect.flatMap(openPostgres(schema), () => Effect.void))), {
        concurrency: "unbounded",
        discard: true
      })
      assert.deepStrictEqual(yield* direct((sql) => PostgresStore.migrateWith(sql, schema)), [])
      assert.deepStrictEqual(yield* postgresSnapshot(schema), settled)
    }), { timeout: 30_000 })

  it.effect("says what the upgrade removed and names the ids that are both a user and a group, once; nothing for a new store", () =>
    Effect.gen(function*() {
      const schema = yield* postgresAtPreviousVersion("said")
      yield* direct((sql) => Effect.forEach(shared, (s) => sql.unsafe(insertSql(s, (i) => `$${i + 1}`, `"${schema}".`), Object.values(s.row))))
      const said: Array<readonly [string, string]> = []
      const notice = (line: string, level: "info" | "warn") => void said.push([line, level])
      const open = (sc: string) =>
        Effect.scoped(Effect.asVoid(Layer.build(PostgresStore.layer({ url: Redacted.make(url!), schema: sc, maxConnections: 2, notice }))))
      yield* open(schema)
      assert.deepStrictEqual(said, [...upgradeSaidPostgres])
      yield* open(schema)
      assert.strictEqual(said.length, upgradeSaidPostgres.length, "a current store says nothing")
      yield* open(freshSchema("said_new"))
      assert.strictEqual(said.length, upgradeSaidPostgres.length, "a new store says nothing")
    }), { timeout: 30_000 })

  it.effect("deletes by anti-joins on the parents' keys, never a scan per row (EXPLAIN)", () =>
    Effect.gen(function*() {
      const schema = yield* postgresAtPreviousVersion("plans")
      const statements = PostgresStore.migrations.find((m) => m.version === version)?.statements
      assert.isDefined(statements, `migration ${version}`)
      const plans = yield* direct((sql) =>
        sql.withTransaction(Effect.gen(function*() {
          const explain = (statement: string) =>
            Effect.map(
              sql.unsafe<Row>(`EXPLAIN (COSTS OFF) ${statement.replaceAll("$schema", `"${schema}"`)}`).unprepared,
              (rows) => rows.map((r) => String(r["QUERY PLAN"])).join("\n")
            )
          // As the planner chooses (a hash or merge anti-join on these small tables), and with the
          // hash and merge joins off: the per-row strategy is then an index lookup of the parent.
          const chosen = yield* Effect.forEach(statements!, explain)
          yield* sql.unsafe("SET LOCAL enable_hashjoin = off").unprepared
          yield* sql.unsafe("SET LOCAL enable_mergejoin = off").unprepared
          const nested = yield* Effect.forEach(statements!, explain)
          return { chosen, nested }
        }))
      )
      for (const plan of [...plans.chosen, ...plans.nested]) {
        assert.match(plan, /(Hash|Merge|Nested Loop) Anti Join/, plan)
        assert.notMatch(plan, /SubPlan/, plan)
      }
      for (const plan of plans.nested) {
        assert.match(
          plan,
          /Index (Only )?Scan using (configurations|groups|users)_pkey on (configurations|groups|users) [cgu]\s+Index Cond: \(\(tenant_id = \w\.tenant_id\) AND \(id = \w\.(configuration_id|group_id|member_id)\)\)/,
          plan
        )
      }
    }), { timeout: 30_000 })
})
