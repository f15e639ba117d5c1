/**
 * The "user principal name keys kept by the store" migration (store-adapter 0.11.1: SQLite's
 * schema version 5, PostgreSQL's 4), on real SQLite files and on the real PostgreSQL server
 * (skipped without DATABASE_URL). Found in review: a process of a release before 0.11.0 that keeps
 * serving after another process upgraded the store (a rolling upgrade's window) writes users
 * without their name's key, and a later user of the same name was accepted. Each test writes
 * users as such a process does (SQL without `upn_key`), and checks that the store keeps the key
 * whoever writes, that the upgrade fills the keys missing from a store already at the version
 * before and warns of the names two users then hold, and that a user of a taken name is refused.
 */
import { DatabaseSync } from "node:sqlite"
import { assert, describe, it } from "@effect/vitest"
import { Store } from "@enrollment/core"
import { Context, Effect, Layer, Redacted } from "effect"
import * as PostgresStore from "../src/PostgresStore.ts"
import * as SqliteStore from "../src/SqliteStore.ts"
import type { Row } from "../src/StoreSql.ts"
import { pgSchemas } from "./fixtures/pgSchemas.ts"
import { sqliteFiles } from "./fixtures/sqliteFiles.ts"
import { user } from "./fixtures/entities.ts"

const T = "tenant-kept"
const named = (id: string, upn: string | null) => ({ ...user(id), userPrincipalName: upn })

/** What an earlier release's process runs to write a user: no key. */
const oldInsert = "INSERT INTO users (tenant_id, id, version, data) VALUES (?, ?, 1, ?)"
const oldUpdate = "UPDATE users SET data = ?, version = version + 1 WHERE tenant_id = ? AND id = ?"

/** The warning of the upgrade that fills the keys, naming the one name two users hold. */
const warned = "1 user principal name is each held by more than one user, written before core 0.11.0 (a name is unique in its tenant " +
  "since, without regard to case): \"ada@contoso.com\" in tenant \"tenant-kept\"; those users are served as before, and a " +
  "write that would give another user one of these names is refused; rename or delete all but one of each (PATCH or " +
  "DELETE /beta/users/{id}; GET /beta/users?$filter=userPrincipalName eq '<name>' lists them)"

/** A user of the name `ada@contoso.com`, in another case, is refused; `held` names who holds it. */
const refusesAda = (store: Store["Service"], id: string, held: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const refused = yield* Effect.flip(store.users.insert(T, named(id, "ADA@contoso.com")))
    assert.strictEqual(refused._tag, "UserPrincipalNameTaken")
    assert.include(held, (refused as { readonly heldBy?: string }).heldBy)
  })

/**
 * Names that hold the text `\u0000` or `\u0020` (a backslash, then the letters): written through the
 * store, whose trigger must leave each the core's key, so that one of them in another case is
 * refused and the other name is not.
 */
const escapedNames = (store: Store["Service"]) =>
  Effect.gen(function*() {
    yield* store.users.insert(T, named("esc-1", "Eve\\u0000@contoso.com"))
    const again = yield* Effect.flip(store.users.insert(T, named("esc-2", "eve\\u0000@CONTOSO.com")))
    assert.deepInclude(again, { _tag: "UserPrincipalNameTaken", heldBy: "esc-1" })
    yield* store.users.insert(T, named("esc-3", "eve\\u0020@contoso.com"))
  })

// SQLite --------------------------------------------------------------------------------------

const { made, fresh } = sqliteFiles("store-adapter-upn-kept-")

const keysOf = (db: DatabaseSync) =>
  Object.fromEntries(db.prepare("SELECT id, upn_key FROM users WHERE tenant_id = ? ORDER BY id").all(T).map((r) => [r.id, r.upn_key]))

describe("SQLite: principal name keys kept by the store", () => {
  it.effect("gives a user an earlier release's process writes after the upgrade its key, so the name is then taken", () =>
    Effect.gen(function*() {
      const filename = fresh()
      const store = yield* Effect.map(Layer.build(SqliteStore.layer({ filename })), (c) => Context.get(c, Store))
      // The earlier release's process, on the same file: a user without key, then a rename.
      const old = new DatabaseSync(filename)
      try {
        old.prepare(oldInsert).run(T, "by-old", JSON.stringify(named("by-old", "Ada@Contoso.com")))
        old.prepare(oldInsert).run(T, "renamed", JSON.stringify(named("renamed", "first@contoso.com")))
        old.prepare(oldUpdate).run(JSON.stringify(named("renamed", "Grace@Contoso.com")), T, "renamed")
        old.prepare(oldInsert).run(T, "nameless", JSON.stringify(named("nameless", null)))
        assert.deepStrictEqual(keysOf(old), { "by-old": "ada@contoso.com", nameless: null, renamed: "grace@contoso.com" })
      } finally {
        old.close()
      }
      yield* refusesAda(store, "by-new", ["by-old"])
      const grace = yield* Effect.flip(store.users.insert(T, named("grace-2", "grace@CONTOSO.com")))
      assert.deepInclude(grace, { _tag: "UserPrincipalNameTaken", heldBy: "renamed" })
      yield* escapedNames(store)
    }).pipe(Effect.scoped))

  it.effect("fills at the upgrade the keys such a process left out at the version before, and warns of the names two users hold", () =>
    Effect.gen(function*() {
      const filename = made((db) => {
        assert.deepStrictEqual(SqliteStore.migrate(db, { through: 4 }), [1, 2, 3, 4])
        // One user written by this release's code (key set), one by an earlier process (none).
        db.prepare("INSERT INTO users (tenant_id, id, version, data, upn_key) VALUES (?, ?, 1, ?, ?)")
          .run(T, "by-new", JSON.stringify(named("by-new", "ada@contoso.com")), "ada@contoso.com")
        db.prepare(oldInsert).run(T, "by-old", JSON.stringify(named("by-old", "ADA@contoso.com")))
        assert.deepStrictEqual(keysOf(db), { "by-new": "ada@contoso.com", "by-old": null })
      })
      const said: Array<string> = []
      const store = yield* Effect.map(
        Layer.build(SqliteStore.layer({ filename, notice: (line) => void said.push(line) })),
        (c) => Context.get(c, Store)
      )
      assert.deepStrictEqual(said, [
        "upgraded the store's schema from version 4 to 5 ('user principal name keys kept by the store'): no row removed",
        warned
      ])
      const db = new DatabaseSync(filename, { readOnly: true })
      try {
        assert.deepStrictEqual(keysOf(db), { "by-new": "ada@contoso.com", "by-old": "ada@contoso.com" })
      } finally {
        db.close()
      }
      yield* refusesAda(store, "third", ["by-new", "by-old"])
    }).pipe(Effect.scoped))
})

// PostgreSQL ----------------------------------------------------------------------------------

const { direct, freshSchema, url } = pgSchemas("upn_kept")

const pgKeys = (schema: string) =>
  Effect.map(
    direct((sql) => sql.unsafe<Row>(`SELECT id, upn_key FROM "${schema}".users WHERE tenant_id = $1 ORDER BY id`, [T])),
    (rows) => Object.fromEntries(rows.map((r) => [r.id, r.upn_key]))
  )

const pgOld = (schema: string, statement: string, values: ReadonlyArray<string>) =>
  direct((sql) => sql.unsafe(statement.replace(/\busers\b/, `"${schema}".users`).replace(/\?/g, (() => {
    let i = 0
    return () => `$${++i}`
  })()), [...values]))

const pgLayer = (schema: string, notice?: (line: string) => void) =>
  PostgresStore.layer({ url: Redacted.make(url!), schema, maxConnections: 2, notice })

describe.skipIf(url === undefined || url === "")("PostgreSQL: principal name keys kept by the store", () => {
  it.effect("gives a user an earlier release's process writes after the upgrade its key, so the name is then taken", () =>
    Effect.gen(function*() {
      const schema = freshSchema("kept")
      const store = yield* Effect.map(Layer.build(pgLayer(schema)), (c) => Context.get(c, Store))
      yield* pgOld(schema, oldInsert, [T, "by-old", JSON.stringify(named("by-old", "Ada@Contoso.com"))])
      yield* pgOld(schema, oldInsert, [T, "renamed", JSON.stringify(named("renamed", "first@contoso.com"))])
      yield* pgOld(schema, oldUpdate, [JSON.stringify(named("renamed", "Grace@Contoso.com")), T, "renamed"])
      yield* pgOld(schema, oldInsert, [T, "nameless", JSON.stringify(named("nameless", null))])
      // U+0000 elsewhere in the row, which PostgreSQL's json cannot read into text: the key all the same.
      yield* pgOld(schema, oldInsert, [T, "nul", JSON.stringify({ ...named("nul", "Nul@Contoso.com"), employeeId: "e\u0000\\u0000" })])
      assert.deepStrictEqual(yield* pgKeys(schema), {
        "by-old": "ada@contoso.com",
        nameless: null,
        nul: "nul@contoso.com",
        renamed: "grace@contoso.com"
      })
      yield* refusesAda(store, "by-new", ["by-old"])
      const grace = yield* Effect.flip(store.users.insert(T, named("grace-2", "grace@CONTOSO.com")))
      assert.deepInclude(grace, { _tag: "UserPrincipalNameTaken", heldBy: "renamed" })
      yield* escapedNames(store)
      const keys = yield* pgKeys(schema)
      assert.deepStrictEqual([keys["esc-1"], keys["esc-3"]], ["eve\\u0000@contoso.com", "eve\\u0020@contoso.com"])
    }).pipe(Effect.scoped), { timeout: 30_000 })

  it.effect("fills at the upgrade the keys such a process left out at the version before, and warns of the names two users hold", () =>
    Effect.gen(function*() {
      const schema = freshSchema("fill")
      yield* direct((sql) =>
        Effect.gen(function*() {
          assert.deepStrictEqual(yield* PostgresStore.migrateWith(sql, schema, { through: 3 }), [1, 2, 3])
          yield* sql.unsafe(`INSERT INTO "${schema}".users (tenant_id, id, version, data, upn_key) VALUES ($1, $2, 1, $3, $4)`, [
            T, "by-new", JSON.stringify(named("by-new", "ada@contoso.com")), "ada@contoso.com"
          ])
          yield* sql.unsafe(`INSERT INTO "${schema}".users (tenant_id, id, version, data) VALUES ($1, $2, 1, $3)`, [
            T, "by-old", JSON.stringify(named("by-old", "ADA@contoso.com"))
          ])
        })
      )
      assert.deepStrictEqual(yield* pgKeys(schema), { "by-new": "ada@contoso.com", "by-old": null })
      const said: Array<string> = []
      const store = yield* Effect.map(Layer.build(pgLayer(schema, (line) => void said.push(line))), (c) => Context.get(c, Store))
      assert.deepStrictEqual(said, [
        "upgraded the store's schema from version 3 to 5 ('user principal name keys kept by the store', 'user principal name keys as the " +
          "core makes them'): no row removed",
        warned
      ])
      assert.deepStrictEqual(yield* pgKeys(schema), { "by-new": "ada@contoso.com", "by-old": "ada@contoso.com" })
      yield* refusesAda(store, "third", ["by-new", "by-old"])
    }).pipe(Effect.scoped), { timeout: 30_000 })
  it.effect("replaces the key's trigger a release before 0.13.0 made at version 4, and sets again the keys it made (version 5)", () =>
    Effect.gen(function*() {
      const schema = freshSchema("trigger")
      yield* direct((sql) =>
        Effect.gen(function*() {
          assert.deepStrictEqual(yield* PostgresStore.migrateWith(sql, schema, { through: 4 }), [1, 2, 3, 4])
          // Version 4's function as store-adapter 0.12.0 released it (server 0.6.4): a `\u0000` in
          // the row's text read as `\u0020`, an escaped backslash's included.
          yield* sql.unsafe(`CREATE OR REPLACE FUNCTION "${schema}".users_upn_key() RETURNS trigger LANGUAGE plpgsql AS $body$
            BEGIN
              NEW.upn_key := lower((replace(NEW.data, '\\u0000', '\\u0020')::json ->> 'userPrincipalName') COLLATE "C");
              RETURN NEW;
            END
            $body$`)
        })
      )
      yield* pgOld(schema, oldInsert, [T, "esc-1", JSON.stringify(named("esc-1", "Eve\\u0000@contoso.com"))])
      yield* pgOld(schema, oldInsert, [T, "by-old", JSON.stringify(named("by-old", "Ada@Contoso.com"))])
      assert.deepStrictEqual(yield* pgKeys(schema), { "by-old": "ada@contoso.com", "esc-1": "eve\\u0020@contoso.com" }, "the earlier key")
      const said: Array<string> = []
      const store = yield* Effect.map(Layer.build(pgLayer(schema, (line) => void said.push(line))), (c) => Context.get(c, Store))
      assert.deepStrictEqual(said, [
        "upgraded the store's schema from version 4 to 5 ('user principal name keys as the core makes them'): no row removed"
      ])
      assert.deepStrictEqual(yield* pgKeys(schema), { "by-old": "ada@contoso.com", "esc-1": "eve\\u0000@contoso.com" })
      // The name in another case is taken, and the other name is not (before, the reverse).
      const again = yield* Effect.flip(store.users.insert(T, named("esc-2", "eve\\u0000@CONTOSO.com")))
      assert.deepInclude(again, { _tag: "UserPrincipalNameTaken", heldBy: "esc-1" })
      yield* store.users.insert(T, named("esc-3", "eve\\u0020@contoso.com"))
      // The trigger is the one version 4 makes now: a row another process writes gets the core's key.
      yield* pgOld(schema, oldInsert, [T, "esc-4", JSON.stringify(named("esc-4", "Zed\\u0000@contoso.com"))])
      const keys = yield* pgKeys(schema)
      assert.deepStrictEqual([keys["esc-3"], keys["esc-4"]], ["eve\\u0020@contoso.com", "zed\\u0000@contoso.com"])
      yield* refusesAda(store, "third", ["by-old"])
    }).pipe(Effect.scoped), { timeout: 30_000 })
})
