/**
 * The "user principal name keys" migration (schema version 3, core 0.11.0), on real SQLite files
 * and on the real PostgreSQL server (skipped without DATABASE_URL). Each test builds a store as the
 * release before left it (the migrations through version 2), with users written into it by SQL,
 * two of them holding one name in different case (the release before let that happen), and opens
 * it with the current code: the store upgrades in place, keeps every user, serves the two, lets the
 * two be modified as long as the change leaves their name alone, and refuses a third.
 */
import { DatabaseSync } from "node:sqlite"
import { assert, describe, it } from "@effect/vitest"
import { Directory, Store } from "@enrollment/core"
import { Context, Effect, Layer, Option, Redacted, Result } from "effect"
import * as PostgresStore from "../src/PostgresStore.ts"
import * as SqliteStore from "../src/SqliteStore.ts"
import type { Row } from "../src/StoreSql.ts"
import { pgSchemas } from "./fixtures/pgSchemas.ts"
import { sqliteFiles } from "./fixtures/sqliteFiles.ts"
import { invitation, user } from "./fixtures/entities.ts"

/** The migration under test, and the version a store had before it. */
const version = 3
const before = version - 1
const T = "tenant-upn"
const other = "tenant-other"

const named = (id: string, upn: string | null) => ({ ...user(id), userPrincipalName: upn })

/** The users the earlier release left: a pair of one name, a null name, a name beyond ASCII, another tenant's. */
const seeded: ReadonlyArray<readonly [tenant: string, value: Directory.User]> = [
  [T, named("dup-1", "Ada@Contoso.com")],
  [T, named("dup-2", "ada@contoso.COM")],
  [T, named("none", null)],
  [T, named("accent", "\u00c9MILE@contoso.com")],
  [T, invitation("i-1", "guest-1", "grace@example.com").user],
  [other, named("elsewhere", "ada@contoso.com")]
]

/** The key each seeded user must have after the upgrade: the core's. */
const expectedKeys = seeded.map(([tenant, u]) => [tenant, u.id, Directory.userPrincipalNameKey(u.userPrincipalName) ?? null])

/** What the upgrade says: what it did, and the one name two users hold (as its key). */
const upgradeSaidBy = (to: string) => [
  `upgraded the store's schema from version 2 to ${to}: no row removed`,
  "1 user principal name is each held by more than one user, written before core 0.11.0 (a name is unique in its tenant " +
  "since, without regard to case): \"ada@contoso.com\" in tenant \"tenant-upn\"; those users are served as before, and a " +
  "write that would give another user one of these names is refused; rename or delete all but one of each (PATCH or " +
  "DELETE /beta/users/{id}; GET /beta/users?$filter=userPrincipalName eq '<name>' lists them)"
]
/**
 * The upgrade applies the later migrations too: the keys kept by the store (store-adapter 0.11.1;
 * SQLite's version 5, PostgreSQL's 4), and on SQLite the set counts (0.11.0) before them.
 */
const upgradeSaidPostgres = upgradeSaidBy(
  "5 ('user principal name keys', 'user principal name keys kept by the store', 'user principal name keys as the core makes them')"
)
const upgradeSaidSqlite = upgradeSaidBy("5 ('user principal name keys', 'set counts', 'user principal name keys kept by the store')")

/** What the upgraded store must do with the users it was given. */
const behavesAfterUpgrade = (store: Store["Service"]) =>
  Effect.gen(function*() {
    // every user is there and served
    for (const [tenant, u] of seeded) {
      assert.deepStrictEqual(Option.getOrNull(yield* store.users.get(tenant, u.id)), u, `${tenant}/${u.id}`)
    }
    // the pair: each modified without touching its name, and recased, still works
    yield* store.users.modify(T, "dup-1", (u) => Result.succeed({ ...u, displayName: "Ada one" }))
    yield* store.users.modify(T, "dup-2", (u) => Result.succeed({ ...u, userPrincipalName: "ADA@contoso.com" }))
    // a third user of the name is refused, naming one of the pair
    const third = yield* Effect.flip(store.users.insert(T, named("dup-3", "ada@CONTOSO.com")))
    assert.strictEqual(third._tag, "UserPrincipalNameTaken")
    assert.include(["dup-1", "dup-2"], (third as { readonly heldBy?: string }).heldBy)
    // so is a rename to the name beyond ASCII in ASCII case (its key was filled by the upgrade)
    const renamed = yield* Effect.flip(
      store.users.modify(T, "none", (u) => Result.succeed({ ...u, userPrincipalName: "\u00c9mile@CONTOSO.com" }))
    )
    assert.deepInclude(renamed, { _tag: "UserPrincipalNameTaken", heldBy: "accent" })
    // an invitation of the address of a guest written before links it
    const again = invitation("i-2", "guest-2", "grace@example.com")
    assert.strictEqual((yield* store.invitations.insert(T, again.invitation, again.user)).invitedUserId, "guest-1")
    assert.isTrue(Option.isNone(yield* store.users.get(T, "guest-2")))
    // and another tenant's holder does not count
    yield* store.users.insert(other, named("elsewhere-2", "grace_example.com#EXT#"))
  })

// SQLite --------------------------------------------------------------------------------------

const { made } = sqliteFiles("store-adapter-upn-")

/** A store file as the release before left it, holding the seeded users; closed. */
const sqliteAtPreviousVersion = (): string =>
  made((db) => {
    assert.deepStrictEqual(SqliteStore.migrate(db, { through: before }), [1, before])
    for (const [tenant, u] of seeded) {
      db.prepare("INSERT INTO users (tenant_id, id, version, data) VALUES (?, ?, 1, ?)").run(tenant, u.id, JSON.stringify(u))
    }
  })

const sqliteKeys = (filename: string) => {
  const db = new DatabaseSync(filename, { readOnly: true })
  try {
    return db.prepare("SELECT tenant_id, id, upn_key FROM users").all().map((r) => [r.tenant_id, r.id, r.upn_key])
  } finally {
    db.close()
  }
}

const sortRows = (rows: ReadonlyArray<ReadonlyArray<unknown>>) => [...rows].map((r) => JSON.stringify(r)).sort()

describe("SQLite: the user principal name keys migration", () => {
  it.effect("upgrades a store of the schema before in place, keeps its users (duplicates included) and holds new writes to the rule", () =>
    Effect.gen(function*() {
      const filename = sqliteAtPreviousVersion()
      const said: Array<string> = []
      const store = yield* Effect.map(
        Layer.build(SqliteStore.layer({ filename, notice: (line) => void said.push(line) })),
        (c) => Context.get(c, Store)
      )
      assert.deepStrictEqual(said, [...upgradeSaidSqlite])
      assert.deepStrictEqual(sortRows(sqliteKeys(filename)), sortRows(expectedKeys))
      yield* behavesAfterUpgrade(store)
    }).pipe(Effect.scoped))

  it("looks a name up through its index, never a scan of the users (EXPLAIN QUERY PLAN)", () => {
    const filename = sqliteAtPreviousVersion()
    SqliteStore.open({ filename }).close()
    const db = new DatabaseSync(filename, { readOnly: true })
    try {
      // The statement the writes run, as the store has it (INDEXED BY fails to prepare without the index).
      const plan = db.prepare(
        "EXPLAIN QUERY PLAN SELECT id FROM users INDEXED BY users_by_upn_key WHERE tenant_id = ? AND upn_key = ? AND id <> ? LIMIT 1"
      ).all().map((r) => String(r.detail))
      assert.strictEqual(plan.length, 1, plan.join("\n"))
      assert.match(plan[0]!, /^SEARCH users USING (COVERING )?INDEX users_by_upn_key \(tenant_id=\? AND upn_key=\?\)$/)
    } finally {
      db.close()
    }
  })
})

// PostgreSQL ----------------------------------------------------------------------------------

const { direct, freshSchema, url } = pgSchemas("upn_test")

describe.skipIf(url === undefined || url === "")("PostgreSQL: the user principal name keys migration", () => {
  it.effect("upgrades a store of the schema before in place, keeps its users (duplicates included) and holds new writes to the rule", () =>
    Effect.gen(function*() {
      const schema = freshSchema("upgrade")
      yield* direct((sql) =>
        Effect.gen(function*() {
          assert.deepStrictEqual(yield* PostgresStore.migrateWith(sql, schema, { through: before }), [1, before])
          for (const [tenant, u] of seeded) {
            yield* sql.unsafe(`INSERT INTO "${schema}".users (tenant_id, id, version, data) VALUES ($1, $2, 1, $3)`, [
              tenant,
              u.id,
              JSON.stringify(u)
            ])
          }
        })
      )
      const said: Array<string> = []
      const store = yield* Effect.map(
        Layer.build(PostgresStore.layer({ url: Redacted.make(url!), schema, maxConnections: 4, notice: (line) => void said.push(line) })),
        (c) => Context.get(c, Store)
      )
      assert.deepStrictEqual(said, [...upgradeSaidPostgres])
      const keys = yield* direct((sql) => sql.unsafe<Row>(`SELECT tenant_id, id, upn_key FROM "${schema}".users`))
      assert.deepStrictEqual(sortRows(keys.map((r) => [r.tenant_id, r.id, r.upn_key])), sortRows(expectedKeys))
      yield* behavesAfterUpgrade(store)
      // The look-up the writes run goes through the index (sequential scans off: the table is tiny),
      // on statistics made here: left to autovacuum, which may or may not have read the table by
      // now, the planner chose the primary key's index once in a while.
      yield* direct((sql) => sql.unsafe(`ANALYZE "${schema}".users`).unprepared)
      const plan = yield* direct((sql) =>
        sql.withTransaction(Effect.gen(function*() {
          yield* sql.unsafe("SET LOCAL enable_seqscan = off").unprepared
          const rows = yield* sql.unsafe<Row>(
            `EXPLAIN (COSTS OFF) SELECT id FROM "${schema}".users WHERE tenant_id = 'a' AND upn_key = 'b' AND id <> 'c' LIMIT 1`
          ).unprepared
          return rows.map((r) => String(r["QUERY PLAN"])).join("\n")
        }))
      )
      assert.match(plan, /(Index (Only )?Scan using|Bitmap Index Scan on) users_by_upn_key/, plan)
    }).pipe(Effect.scoped), { timeout: 30_000 })
})
