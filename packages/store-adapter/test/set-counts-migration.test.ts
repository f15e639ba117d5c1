/**
 * The "set counts" migration (SQLite schema version 4, store-adapter 0.11.0), on real SQLite files:
 * a store as the release before left it (the migrations through version 3, rows written into it by
 * SQL, in two tenants) opens with the current code, upgrades in place, and counts what it holds; the
 * counts then follow every write, and a write that fails leaves them as they were.
 */
import { DatabaseSync } from "node:sqlite"
import { assert, describe, it } from "@effect/vitest"
import { Store } from "@enrollment/core"
import { Context, Effect, Layer } from "effect"
import * as SqliteStore from "../src/SqliteStore.ts"
import { configuration, group, user } from "./fixtures/entities.ts"
import { sqliteFiles } from "./fixtures/sqliteFiles.ts"

const version = 4
const before = version - 1
const T = "tenant-counted"
const other = "tenant-other"

const { made } = sqliteFiles("store-adapter-counts-")

/** A store file at the version before, with `users` users and `members` members of group g1 in T, and a few rows in `other`; closed. */
const previous = (users: number, members: number): string =>
  made((db) => {
    assert.deepStrictEqual(SqliteStore.migrate(db, { through: before }), [1, 2, before])
    const put = (table: string, tenant: string, value: { readonly id: string }) =>
      db.prepare(`INSERT INTO ${table} (tenant_id, id, version, data) VALUES (?, ?, 1, ?)`).run(tenant, value.id, JSON.stringify(value))
    const member = db.prepare("INSERT INTO memberships (tenant_id, group_id, member_id, member_kind) VALUES (?, ?, ?, ?)")
    db.exec("BEGIN")
    for (let i = 0; i < users; i++) put("users", T, user(`u${i}`))
    put("groups", T, group("g1"))
    put("groups", T, group("g2"))
    for (let i = 0; i < members; i++) member.run(T, "g1", `u${i}`, "user")
    member.run(T, "g1", "g2", "group")
    put("configurations", T, configuration("c1"))
    put("users", other, user("u0"))
    put("groups", other, group("g1"))
    member.run(other, "g1", "u0", "user")
    db.exec("COMMIT")
  })

/** The counts table's rows, sorted: what the triggers and the upgrade keep. */
const rows = (filename: string, table: "set_counts" | "member_counts") => {
  const db = new DatabaseSync(filename, { readOnly: true })
  try {
    return db.prepare(`SELECT * FROM ${table} ORDER BY 1, 2, 3`).all().map((r) => Object.values(r))
  } finally {
    db.close()
  }
}

describe("SQLite: the set counts migration", () => {
  it.effect("upgrades a store of the schema before in place and counts the rows it holds, each tenant's and each group's by kind", () =>
    Effect.gen(function*() {
      const filename = previous(1500, 1200)
      const said: Array<string> = []
      const store = yield* Effect.map(
        Layer.build(SqliteStore.layer({ filename, notice: (line) => void said.push(line) })),
        (c) => Context.get(c, Store)
      )
      assert.deepStrictEqual(said, ["upgraded the store's schema from version 3 to 5 ('set counts', 'user principal name keys kept by the store'): no row removed"])
      assert.strictEqual(yield* store.users.count!(T), 1500)
      assert.strictEqual(yield* store.groups.count!(T), 2)
      assert.strictEqual(yield* store.configurations.count!(T), 1)
      assert.strictEqual(yield* store.invitations.count!(T), 0)
      assert.strictEqual(yield* store.groups.memberCount!(T, "g1"), 1201)
      assert.strictEqual(yield* store.groups.memberCount!(T, "g1", "user"), 1200)
      assert.strictEqual(yield* store.groups.memberCount!(T, "g1", "group"), 1)
      assert.strictEqual(yield* store.users.count!(other), 1)
      assert.strictEqual(yield* store.groups.memberCount!(other, "g1"), 1)
      assert.deepStrictEqual(rows(filename, "set_counts"), [
        [T, "configurations", 1],
        [T, "groups", 2],
        [T, "users", 1500],
        [other, "groups", 1],
        [other, "users", 1]
      ])
      // The counts follow the writes: a user removed takes its memberships' counts with it.
      yield* store.users.remove(T, "u0")
      assert.strictEqual(yield* store.users.count!(T), 1499)
      assert.strictEqual(yield* store.groups.memberCount!(T, "g1", "user"), 1199)
    }).pipe(Effect.scoped))

  it.effect("drops a removed group's counts with it, and keeps counts in the writes' transactions: one rolled back counts nothing, another connection's commit counts", () =>
    Effect.gen(function*() {
      const filename = previous(3, 3)
      const store = yield* Effect.map(Layer.build(SqliteStore.layer({ filename })), (c) => Context.get(c, Store))
      yield* store.groups.remove(T, "g1")
      assert.deepStrictEqual(rows(filename, "member_counts"), [[other, "g1", "user", 1]])
      assert.strictEqual(yield* store.groups.count!(T), 1)
      // Another connection (another process, an operator's sqlite3): its rolled-back inserts count
      // nothing, its committed ones count at once through the store's read.
      const db = new DatabaseSync(filename)
      try {
        const put = db.prepare("INSERT INTO users (tenant_id, id, version, data) VALUES (?, ?, 1, ?)")
        db.exec("BEGIN IMMEDIATE")
        put.run(T, "rolled-1", JSON.stringify(user("rolled-1")))
        put.run(T, "rolled-2", JSON.stringify(user("rolled-2")))
        db.exec("ROLLBACK")
        assert.strictEqual(yield* store.users.count!(T), 3)
        db.exec("BEGIN IMMEDIATE")
        put.run(T, "kept", JSON.stringify(user("kept")))
        db.exec("COMMIT")
        assert.strictEqual(yield* store.users.count!(T), 4)
      } finally {
        db.close()
      }
    }).pipe(Effect.scoped))

  it("keeps the counts equal to count(*) through a random mix of SQL writes (the triggers alone)", () => {
    const filename = made((db) => void SqliteStore.migrate(db))
    const db = new DatabaseSync(filename)
    try {
      let seed = 42
      const next = (n: number) => (seed = (seed * 48271) % 2147483647) % n
      const insertUser = db.prepare("INSERT INTO users (tenant_id, id, version, data) VALUES (?, ?, 1, '{}') ON CONFLICT DO NOTHING")
      const removeUser = db.prepare("DELETE FROM users WHERE tenant_id = ? AND id = ?")
      const insertMember = db.prepare("INSERT INTO memberships (tenant_id, group_id, member_id, member_kind) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")
      const removeMember = db.prepare("DELETE FROM memberships WHERE tenant_id = ? AND group_id = ? AND member_id = ?")
      db.exec("BEGIN")
      for (let i = 0; i < 5000; i++) {
        const tenant = `t${next(3)}`
        const id = `x${next(40)}`
        const group = `g${next(4)}`
        switch (next(4)) {
          case 0: insertUser.run(tenant, id); break
          case 1: removeUser.run(tenant, id); break
          case 2: insertMember.run(tenant, group, id, next(2) === 0 ? "user" : "group"); break
          case 3: removeMember.run(tenant, group, id); break
        }
      }
      db.exec("COMMIT")
      const counted = db.prepare("SELECT tenant_id, n FROM set_counts WHERE set_name = 'users' AND n > 0 ORDER BY 1").all()
      const actual = db.prepare("SELECT tenant_id, count(*) AS n FROM users GROUP BY 1 ORDER BY 1").all()
      assert.deepStrictEqual(counted, actual)
      const members = db.prepare("SELECT tenant_id, group_id, member_kind, n FROM member_counts WHERE n > 0 ORDER BY 1, 2, 3").all()
      const actualMembers = db.prepare("SELECT tenant_id, group_id, member_kind, count(*) AS n FROM memberships GROUP BY 1, 2, 3 ORDER BY 1, 2, 3").all()
      assert.deepStrictEqual(members, actualMembers)
      assert.isAbove(actual.length, 0)
      assert.isAbove(actualMembers.length, 0)
    } finally {
      db.close()
    }
  })
})
