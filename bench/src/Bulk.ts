/**
 * Bulk loading assignments straight into a SQLite data file through the store
 * adapter (its row format, its columns): chunks of inserts issued together, so
 * the store's group commit writes each chunk in one transaction. A million rows
 * in seconds, where the HTTP API would take minutes.
 *
 * @since 0.1.0
 */
import { SqliteStore } from "@enrollment/store-adapter"
import { Effect } from "effect"
import { createHash } from "node:crypto"
import { DatabaseSync } from "node:sqlite"

/** The id of bulk row `i`: fixed width, so id order is number order. */
export const bulkId = (i: number) => `bulk-${String(i).padStart(7, "0")}`

/** Adds `rows` group-targeted assignments to configuration `configurationId` of `tenant`; the server must be stopped. */
export const load = async (file: string, tenant: string, configurationId: string, rows: number): Promise<number> => {
  const t = performance.now()
  const db = SqliteStore.open({ filename: file, synchronous: "NORMAL" })
  try {
    const store = SqliteStore.fromDatabase(db, { traced: false })
    const chunk = 10_000
    for (let start = 0; start < rows; start += chunk) {
      const ids = Array.from({ length: Math.min(chunk, rows - start) }, (_, k) => start + k)
      await Effect.runPromise(Effect.forEach(ids, (i) =>
        store.assignments.insert(tenant, configurationId, {
          "@odata.type": "#microsoft.graph.enrollmentConfigurationAssignment",
          id: bulkId(i),
          target: {
            "@odata.type": "#microsoft.graph.groupAssignmentTarget",
            deviceAndAppManagementAssignmentFilterId: null,
            deviceAndAppManagementAssignmentFilterType: "none",
            groupId: `group-${i % 5000}`
          },
          source: i % 3 === 0 ? "policySets" : "direct",
          sourceId: i % 3 === 0 ? `set-${i % 97}` : null
        } as never), { concurrency: "unbounded", discard: true }))
    }
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)")
  } finally {
    db.close()
  }
  return performance.now() - t
}

/** The tables of a data file, every row in key order, as a SHA-256 (the file may be in use by a server). */
export const digest = (file: string): { readonly sha256: string; readonly rows: number } => {
  const db = new DatabaseSync(file, { readOnly: true })
  try {
    const h = createHash("sha256")
    let rows = 0
    const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all()
    for (const { name } of tables) {
      h.update(`table ${String(name)}\n`)
      const cols = db.prepare(`SELECT name FROM pragma_table_info(?) ORDER BY cid`).all(String(name)).map((c) => `"${String(c.name)}"`)
      for (const r of db.prepare(`SELECT ${cols.join(", ")} FROM "${String(name)}" ORDER BY ${cols.join(", ")}`).iterate()) {
        h.update(JSON.stringify(Object.values(r as object)))
        h.update("\n")
        rows++
      }
    }
    return { sha256: h.digest("hex"), rows }
  } finally {
    db.close()
  }
}

/** `PRAGMA integrity_check` of a data file ("ok" when sound). */
export const integrity = (file: string): string => {
  const db = new DatabaseSync(file)
  try {
    return db.prepare("PRAGMA integrity_check").all().map((r) => String(Object.values(r as object)[0])).join("; ")
  } finally {
    db.close()
  }
}
