/**
 * The WAL file after a large transaction (found in review): cut back to `walSizeLimit` when it
 * restarts after a checkpoint, where SQLite kept it at the transaction's size until the last
 * connection closed (an upgrade rewriting a million users left 578 MB beside the store).
 */
import { statSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import * as SqliteStore from "../src/SqliteStore.ts"
import { sqliteFiles } from "./fixtures/sqliteFiles.ts"

const { fresh } = sqliteFiles("store-adapter-wal-limit-")

describe("SQLite: the WAL file's size", () => {
  it("is cut back to the limit once the WAL restarts after a checkpoint", () => {
    const filename = fresh()
    const db = SqliteStore.open({ filename })
    try {
      const wal = () => statSync(`${filename}-wal`).size
      const big = "x".repeat(1024 * 1024)
      const insert = db.prepare("INSERT INTO configurations (tenant_id, id, version, data) VALUES ('t', ?, 1, ?)")
      // A transaction of 96 MiB: the WAL grows past the limit.
      db.exec("BEGIN")
      for (let i = 0; i < 96; i++) insert.run(`c${i}`, JSON.stringify({ id: `c${i}`, big }))
      db.exec("COMMIT")
      assert.isAbove(wal(), SqliteStore.walSizeLimit)
      const [done] = db.prepare("PRAGMA wal_checkpoint(PASSIVE)").all()
      assert.strictEqual(done!.busy, 0)
      // The next write starts the WAL again from its beginning, and cuts the file to the limit.
      db.prepare("DELETE FROM configurations WHERE tenant_id = 't' AND id = 'c0'").run()
      assert.isAtMost(wal(), SqliteStore.walSizeLimit)
    } finally {
      db.close()
    }
  })
})
