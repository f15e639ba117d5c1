/**
 * The store port of `@enrollment/core`, on SQLite (embedded, the default) and
 * on PostgreSQL (several server processes sharing one database).
 *
 * @since 0.1.0
 */

/** The store on a SQLite file through `node:sqlite`. */
export * as SqliteStore from "./SqliteStore.ts"

/** The store on PostgreSQL through `@effect/sql-pg`. */
export * as PostgresStore from "./PostgresStore.ts"

/** An assignment `$filter` as a SQL condition. */
export * as AssignmentFilterSql from "./AssignmentFilterSql.ts"

/** Connection credentials kept out of what is printed. */
export * as Credentials from "./Credentials.ts"

/** Making a directory and its missing parents (without Node's recursive `mkdir`). */
export * as Directories from "./Directories.ts"

/**
 * What the SQL stores share, the upgrade's notices among it (`Notice`, `Upgrade`, `upgradeNotices`:
 * the `notice` option's type and lines), and `deadline`. Exported since 0.6.0, as the README names it.
 */
export * as StoreSql from "./StoreSql.ts"

/** What a SQLite store's failures say (`NotWritable`, which `SqliteStore.open` throws, and the sync's); exported since 0.6.0. */
export * as SqliteFailure from "./SqliteFailure.ts"

/** The WAL's checkpoints off the event loop, which `SqliteStore.make` runs (since 0.8.0). */
export * as SqliteCheckpoint from "./SqliteCheckpoint.ts"

/** A consistent backup of a SQLite store while it is in use (SQLite's online backup API). */
export * as SqliteBackup from "./SqliteBackup.ts"
