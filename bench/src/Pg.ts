/**
 * PostgreSQL helpers: a fresh schema per run (so runs never see each other's
 * rows) and SQL run on the `DATABASE_URL` database.
 *
 * @since 0.1.0
 */
import pg from "pg"

/** Runs statements on the database and returns the last result's rows. */
export const sql = async (url: string, ...statements: ReadonlyArray<string>): Promise<Array<Record<string, unknown>>> => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    let rows: Array<Record<string, unknown>> = []
    for (const s of statements) rows = (await client.query(s)).rows
    return rows
  } finally {
    await client.end()
  }
}

/** A new schema name (created), and a function that drops it. */
export const freshSchema = async (url: string, prefix: string) => {
  const name = `${prefix}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6).toString(36)}`
  await sql(url, `CREATE SCHEMA "${name}"`)
  return { name, drop: () => sql(url, `DROP SCHEMA IF EXISTS "${name}" CASCADE`).then(() => undefined) }
}
