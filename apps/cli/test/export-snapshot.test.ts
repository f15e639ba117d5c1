/**
 * A local-mode export is one snapshot of the store (core 0.11.0's `Store.snapshot`), taken while
 * the real server (apps/server) writes the same store: the SQLite file it has open, or the same
 * PostgreSQL schema. Writers create users and put them in groups, and create configurations with
 * assignments and delete them, all the while; every export's file imports into an empty store
 * (before, a membership of a user created after the users were read, or an assignment of a
 * configuration deleted after the configurations were read, made the import refuse a line).
 */
import type { ChildProcess } from "node:child_process"
import { existsSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { enrollctl, jsonl, pgScratch, serverMain, startServer, tempDir } from "./cli.ts"

const url = process.env.DATABASE_URL
const postgres = url !== undefined && url !== ""
if (!postgres) console.log("export snapshot on PostgreSQL skipped: DATABASE_URL is not set")
const available = existsSync(serverMain)

const G = "#microsoft.graph."
const groups = 20
const users = 400

/** The tenant the writers start from: users, each in a group, and configurations with assignments. */
const seed = () => {
  const records: Array<unknown> = []
  for (let i = 0; i < users; i++) {
    records.push({
      kind: "user",
      value: { "@odata.type": `${G}user`, id: `u${i}`, displayName: `u${i}`, userPrincipalName: `u${i}@contoso.com`, mail: null, userType: "Member", accountEnabled: true }
    })
  }
  for (let g = 0; g < groups; g++) {
    records.push({ kind: "group", value: { "@odata.type": `${G}group`, id: `g${g}`, displayName: `g${g}`, description: null, mailNickname: `g${g}`, securityEnabled: true } })
  }
  for (let i = 0; i < users; i++) records.push({ kind: "member", groupId: `g${i % groups}`, memberId: `u${i}` })
  const file = path.join(tempDir("enrollctl-snapshot-seed-"), "seed.jsonl")
  writeFileSync(file, jsonl(records))
  return file
}

/**
 * Writers through the server until `stop`: each round creates a user and adds it to a group, and
 * creates a configuration, assigns it to that group and deletes it again.
 */
const writers = (baseUrl: string, token: string) => {
  let stop = false
  const failures: Array<string> = []
  let writes = 0
  const request = async (method: string, url: string, body?: unknown) => {
    const r = await fetch(`${baseUrl}${url}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    const text = await r.text()
    if (r.status >= 300) failures.push(`${method} ${url}: ${r.status} ${text}`)
    else writes++
  }
  const one = async (w: number) => {
    for (let round = 0; !stop; round++) {
      const id = `w${w}r${round}`
      const group = `g${round % groups}`
      await request("POST", "/users", { id, displayName: id, userPrincipalName: `${id}@contoso.com`, accountEnabled: true })
      await request("POST", `/groups/${group}/members/$ref`, { "@odata.id": `https://graph.microsoft.com/beta/directoryObjects/${id}` })
      const cfgs = "/deviceManagement/deviceEnrollmentConfigurations"
      await request("POST", cfgs, { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: `c${id}`, displayName: id, priority: 1, limit: 5 })
      await request("POST", `${cfgs}/c${id}/assign`, {
        enrollmentConfigurationAssignments: [{ id: "a", target: { "@odata.type": `${G}groupAssignmentTarget`, groupId: group } }]
      })
      if (round % 2 === 1) await request("DELETE", `${cfgs}/c${id}`)
    }
  }
  const running = Promise.all([0, 1, 2].map(one))
  return {
    writes: () => writes,
    failures,
    stop: async () => {
      stop = true
      await running
    }
  }
}

/** Exports `runs` times from `source` (local-mode flags) while the writers write, and imports each file into an empty store. */
const exportsImport = async (source: ReadonlyArray<string>, baseUrl: string, token: string, runs: number) => {
  const load = writers(baseUrl, token)
  try {
    while (load.writes() < 30) await new Promise((r) => setTimeout(r, 10))
    for (let run = 0; run < runs; run++) {
      const before = load.writes()
      const exported = await enrollctl([...source, "export"])
      assert.strictEqual(exported.code, 0, exported.stderr)
      assert.isAbove(load.writes(), before, `run ${run}: the server wrote during the export`)
      const file = path.join(tempDir("enrollctl-snapshot-file-"), "tenant.jsonl")
      writeFileSync(file, exported.stdout)
      // Into an empty store of its own (memory: the same checks as SQLite's, without its syncs).
      const imported = await enrollctl(["--store", "memory", "import", file])
      assert.strictEqual(imported.code, 0, `run ${run}: the export's import: ${imported.stderr}`)
    }
  } finally {
    await load.stop()
  }
  assert.deepStrictEqual(load.failures, [])
}

const tokenFor = async (dataDir: string) => {
  const t = await enrollctl(["token", "--data-dir", dataDir, "--expires-in", "1h"])
  assert.strictEqual(t.code, 0, t.stderr)
  return t.stdout.trim()
}

describe.skipIf(!available)("a local export while the server writes the store", () => {
  const servers: Array<ChildProcess> = []
  const scratch = postgres ? pgScratch(url!, "snapshot") : undefined
  afterAll(async () => {
    // Ended before the schema is dropped: a DROP beside the server's connections may deadlock with them.
    await Promise.all(servers.map((s) =>
      new Promise<void>((resolve) => {
        if (s.exitCode !== null || s.signalCode !== null) return resolve()
        s.once("exit", () => resolve())
        s.kill("SIGTERM")
      })
    ))
    await scratch?.drop()
  })

  it("on the SQLite file the server has open, imports again every run", async () => {
    const dataDir = tempDir("enrollctl-snapshot-sqlite-")
    const local = ["--store", "sqlite", "--data-dir", dataDir]
    const seeded = await enrollctl([...local, "import", "--create", seed()])
    assert.strictEqual(seeded.code, 0, seeded.stderr)
    const baseUrl = await startServer(dataDir, {}, (c) => servers.push(c))
    await exportsImport(local, baseUrl, await tokenFor(dataDir), 5)
  }, 120_000)

  it.skipIf(!postgres)("on the PostgreSQL schema the server uses, imports again every run", async () => {
    const dataDir = tempDir("enrollctl-snapshot-pg-")
    const local = ["--database-url", url!, "--database-schema", scratch!.schema]
    const seeded = await enrollctl([...local, "import", "--create", seed()])
    assert.strictEqual(seeded.code, 0, seeded.stderr)
    const baseUrl = await startServer(dataDir, { STORE: "postgres", DATABASE_URL: url!, DATABASE_SCHEMA: scratch!.schema }, (c) => servers.push(c))
    await exportsImport(local, baseUrl, await tokenFor(dataDir), 5)
  }, 120_000)
})
