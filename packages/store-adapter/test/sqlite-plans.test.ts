/**
 * How SQLite reads the statements that run on the event loop for a request: each table by the
 * index that holds what it looks up, never a scan per row. An audit found the transitive groups'
 * recursive step read the tenant's memberships by tenant alone, once per group reached: 5 s of the
 * event loop for a user under a chain of 1 000 groups in a tenant of 31 000 memberships.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as SqliteStore from "../src/SqliteStore.ts"

const dir = mkdtempSync(join(tmpdir(), "store-adapter-plans-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe("SQLite's plan of the transitive groups (a user's targeting, transitiveGroupsOf)", () => {
  it("looks each group's memberships up by (tenant, member) in the recursive step, never by tenant alone", () => {
    const db = SqliteStore.open({ filename: join(dir, "plans.db") })
    try {
      const plan = db.prepare(`EXPLAIN QUERY PLAN ${SqliteStore.transitiveGroupsSql}`).all({ tenant: "t", member: "u" }).map((r) => String(r.detail))
      const shown = plan.join("\n")
      const memberships = plan.filter((d) => /^(SEARCH|SCAN) m\b/.test(d))
      assert.strictEqual(memberships.length, 2, shown)
      for (const d of memberships) assert.strictEqual(d, "SEARCH m USING COVERING INDEX memberships_by_member (tenant_id=? AND member_id=?)", shown)
      // The recursive step's outer loop is the groups reached so far.
      const step = plan.slice(plan.indexOf("RECURSIVE STEP") + 1)
      assert.strictEqual(step[0], "SCAN g", shown)
    } finally {
      db.close()
    }
  })
})

describe("SQLite's plan of the counts (the port's count and groups.memberCount)", () => {
  it("reads a tenant's count of a set and a group's counts of its members by their primary keys, never by a scan", () => {
    const db = SqliteStore.open({ filename: join(dir, "counts.db") })
    try {
      const planOf = (sql: string, ...params: Array<string>) =>
        db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params).map((r) => String(r.detail))
      for (const table of ["configurations", "users", "groups", "invitations"] as const) {
        assert.deepStrictEqual(planOf(SqliteStore.countSql(table), "t"), [
          "SCAN CONSTANT ROW",
          "SCALAR SUBQUERY 1",
          "SEARCH set_counts USING PRIMARY KEY (tenant_id=? AND set_name=?)"
        ])
      }
      assert.deepStrictEqual(planOf(SqliteStore.memberCountSql, "t", "g"), ["SEARCH member_counts USING PRIMARY KEY (tenant_id=? AND group_id=?)"])
      assert.deepStrictEqual(planOf(SqliteStore.memberOfKindCountSql, "t", "g", "user"), [
        "SEARCH member_counts USING PRIMARY KEY (tenant_id=? AND group_id=? AND member_kind=?)"
      ])
    } finally {
      db.close()
    }
  })
})

describe("SQLite's plan of a user found by principal name (users.idByPrincipalName)", () => {
  it("searches the principal names' index by (tenant, key): no scan, no sort", () => {
    const db = SqliteStore.open({ filename: join(dir, "principal-names.db") })
    try {
      const plan = db.prepare(`EXPLAIN QUERY PLAN ${SqliteStore.idByPrincipalNameSql}`).all("t", "ada@contoso.com").map((r) => String(r.detail))
      assert.deepStrictEqual(plan, ["SEARCH users USING INDEX users_by_upn_key (tenant_id=? AND upn_key=?)"])
    } finally {
      db.close()
    }
  })
})
