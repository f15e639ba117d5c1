/**
 * A released migration is never edited (since store-adapter 0.16.0): a store records the versions
 * it has run, not their SQL, so a migration changed after a release runs its new SQL on new stores
 * only, and every store an earlier release brought to that version keeps the old (an upgrade review
 * found PostgreSQL's version 4 edited in place, its earlier trigger kept by such stores; version 5
 * replaces it). Each migration's version, name and statements are pinned here by a digest: a change
 * to one is a new migration, with a version of its own, and a new line below.
 */
import { createHash } from "node:crypto"
import { assert, describe, it } from "vitest"
import * as PostgresStore from "../src/PostgresStore.ts"
import * as SqliteStore from "../src/SqliteStore.ts"

const digest = (m: { readonly version: number; readonly name: string; readonly statements: ReadonlyArray<string> }) =>
  createHash("sha256").update(JSON.stringify([m.version, m.name, m.statements])).digest("hex").slice(0, 16)

describe("the stores' migrations", () => {
  it("PostgreSQL's released migrations are as they were released", () => {
    assert.deepStrictEqual(PostgresStore.migrations.map(digest), [
      "5ddd8ddb506a1bb8",
      "2271ba96045fb5bb",
      "2c4c4e5a92550bc9",
      // Version 4 as store-adapter 0.13.0 left it (edited in place after 0.12.0 released it; version 5 mends such stores).
      "9d6c1a226f32e3f6",
      "918d33dd889b92b8"
    ])
  })

  it("SQLite's released migrations are as they were released", () => {
    assert.deepStrictEqual(SqliteStore.migrations.map(digest), [
      "721e776c46d8dcef",
      "6a626e2e44bd11c5",
      "a86406b3eab42bff",
      "5837a5594fe60f83",
      "e5c834783d8eede2"
    ])
  })

  it("number their versions 1, 2, 3, … in order", () => {
    for (const ms of [PostgresStore.migrations, SqliteStore.migrations]) {
      assert.deepStrictEqual(ms.map((m) => m.version), ms.map((_, i) => i + 1))
    }
  })
})
