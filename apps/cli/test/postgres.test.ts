/**
 * The CLI in local mode on PostgreSQL (`--database-url`), spawned as a user
 * runs it, in a schema of its own (`--database-schema`) dropped at the end.
 * Needs DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test).
 */
import { PgClient } from "@effect/sql-pg"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { directoryFixture, enrollctl, expandFixture, filterFixture, runAll, tempDir } from "./cli.ts"

const url = process.env.DATABASE_URL
const enabled = url !== undefined && url !== ""
if (!enabled) console.log("PostgreSQL CLI tests skipped: DATABASE_URL is not set")

const schema = `cli_test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
const DM = ["device-management", "device-enrollment-configurations"]
const INV = ["invitations", "invited-user", "device-enrollment-configurations", "assignments"]
const pg = (...args: ReadonlyArray<string>) => enrollctl(["--database-url", url!, "--database-schema", schema, "-o", "json", ...args])
/** Schemas of other tests here, dropped at the end with the main one. */
const others = [`${schema}_typo`, `${schema}_new`, `${schema}_refused`]

/** Runs SQL as the test's own client. */
const direct = <A>(f: (sql: PgClient.PgClient) => Effect.Effect<A, unknown>) =>
  Effect.runPromise(
    Effect.gen(function*() {
      return yield* f(yield* PgClient.PgClient)
    }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(url!), maxConnections: 1 })))
  )
const schemaExists = async (name: string) =>
  (await direct((sql) => sql.unsafe("SELECT 1 FROM information_schema.schemata WHERE schema_name = $1", [name]))).length === 1

describe.skipIf(!enabled)("local mode on PostgreSQL", () => {
  // The store is made as an operator makes one: by import --create (an empty file here).
  beforeAll(async () => {
    const empty = path.join(tempDir("enrollctl-pg-"), "empty.jsonl")
    fs.writeFileSync(empty, "")
    const r = await pg("import", "--create", empty)
    assert.strictEqual(r.code, 0, r.stderr)
  })

  afterAll(async () => {
    await direct((sql) =>
      Effect.forEach([schema, ...others], (s) => sql.unsafe(`DROP SCHEMA IF EXISTS "${s}" CASCADE`).unprepared, { discard: true })
    )
  })

  it("refuses a schema that holds no store (a mistyped --database-schema), and makes nothing", async () => {
    const typo = others[0]!
    const r = await enrollctl(["--database-url", url!, "--database-schema", typo, "users", "list"])
    assert.strictEqual(r.code, 2, r.stderr)
    assert.include(r.stderr, `error StoreNotFound: no store in schema '${typo}' (local postgres `)
    assert.include(r.stderr, "enrollctl only by import --create FILE")
    assert.isFalse(await schemaExists(typo), "no schema was made")
  })

  it("import --create makes the schema's store only for a file that passes its checks", async () => {
    const dir = tempDir("enrollctl-pg-")
    const bad = path.join(dir, "bad.jsonl")
    fs.writeFileSync(bad, `${JSON.stringify({ kind: "member", groupId: "nope", memberId: "u1" })}\n`)
    const refused = await enrollctl(["--database-url", url!, "--database-schema", others[2]!, "import", "--create", bad])
    assert.strictEqual(refused.code, 2, refused.stderr)
    assert.isFalse(await schemaExists(others[2]!), "a refused file leaves nothing behind")

    const good = path.join(dir, "good.jsonl")
    fs.writeFileSync(good, `${JSON.stringify({
      kind: "user",
      value: { "@odata.type": "#microsoft.graph.user", id: "u1", displayName: "Ada", userPrincipalName: null, mail: null, userType: "Member", accountEnabled: true }
    })}\n`)
    const made = await enrollctl(["--database-url", url!, "--database-schema", others[1]!, "import", "--create", good])
    assert.strictEqual(made.code, 0, made.stderr)
    const listed = await enrollctl(["--database-url", url!, "--database-schema", others[1]!, "-o", "json", "users", "list"])
    assert.strictEqual(listed.code, 0, listed.stderr)
    assert.deepStrictEqual(listed.json().map((u: any) => u.id), ["u1"])
  })

  it("creates, patches through the invitation path, lists and deletes", async () => {
    const ok = async (...args: ReadonlyArray<string>) => {
      const r = await pg(...args)
      assert.strictEqual(r.code, 0, `${args.join(" ")}: ${r.stderr}`)
      return r
    }
    await ok(...DM, "create", "--type", "deviceEnrollmentLimitConfiguration", "--display-name", "Limit", "--priority", "1", "--body", '{"id":"c1"}')
    await Promise.all([
      ok("invitations", "create", "--invited-user-email-address", "bob@fabrikam.com", "--invite-redirect-url", "https://myapps.microsoft.com", "--body", '{"id":"i1"}'),
      ok(...DM, "assignments", "create", "--device-enrollment-configuration-id", "c1", "--target-type", "group", "--group-id", "g1", "--body", '{"id":"a1"}'),
      // Targets c1 to every licensed user, the invited guest included, so the invitation path resolves.
      ok(...DM, "assignments", "create", "--device-enrollment-configuration-id", "c1", "--target-type", "all-licensed-users", "--body", '{"id":"a2"}')
    ])

    const patched = await ok(
      ...INV, "patch", "--invitation-id", "i1", "--device-enrollment-configuration-id", "c1", "--enrollment-configuration-assignment-id", "a1",
      "--target-type", "exclusion-group", "--filter-id", "f1", "--filter-type", "include"
    )
    assert.deepStrictEqual(patched.json().target, {
      "@odata.type": "#microsoft.graph.exclusionGroupAssignmentTarget",
      deviceAndAppManagementAssignmentFilterId: "f1",
      deviceAndAppManagementAssignmentFilterType: "include",
      groupId: "g1"
    })

    const [listed, viaGuest, filtered] = await Promise.all([
      ok(...DM, "assignments", "list", "--device-enrollment-configuration-id", "c1"),
      ok(...INV, "list", "--invitation-id", "i1", "--device-enrollment-configuration-id", "c1", "--select", "id"),
      ok(...DM, "assignments", "list", "--device-enrollment-configuration-id", "c1", "--filter", "isof(target,'microsoft.graph.groupAssignmentTarget')", "--select", "id")
    ])
    assert.deepStrictEqual(listed.json().map((a: any) => a.id), ["a1", "a2"])
    assert.strictEqual(listed.json()[0].target["@odata.type"], "#microsoft.graph.exclusionGroupAssignmentTarget")
    assert.deepStrictEqual(viaGuest.json(), [{ id: "a1" }, { id: "a2" }])
    assert.deepStrictEqual(filtered.json(), [{ id: "a1" }])

    const deleted = await ok(...DM, "assignments", "delete", "--device-enrollment-configuration-id", "c1", "--enrollment-configuration-assignment-id", "a1")
    assert.strictEqual(deleted.stdout, "")
    const [after, gone] = await Promise.all([
      ok(...DM, "assignments", "list", "--device-enrollment-configuration-id", "c1", "--select", "id"),
      pg(...DM, "assignments", "get", "--device-enrollment-configuration-id", "c1", "--enrollment-configuration-assignment-id", "a1")
    ])
    assert.deepStrictEqual(after.json(), [{ id: "a2" }])
    assert.strictEqual(gone.code, 3)
    assert.include(gone.stderr, "error itemNotFound:")
  })

  it("works in the schema it names, not in public", async () => {
    const tables = await Effect.runPromise(
      Effect.gen(function*() {
        const sql = yield* PgClient.PgClient
        return yield* sql.unsafe<{ table_name: string }>(
          "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name",
          [schema]
        )
      }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(url!), maxConnections: 1 })))
    )
    assert.include(tables.map((t) => t.table_name), "assignments")
  })

  it("filters as the server does, on the shared data set", async () => {
    for (const args of filterFixture.setup) {
      const r = await pg(...args)
      assert.strictEqual(r.code, 0, `${args.join(" ")}: ${r.stderr}`)
    }
    const results = await Promise.all(filterFixture.cases.map((c) => pg(...filterFixture.list(c.filter))))
    results.forEach((r, i) => {
      const c = filterFixture.cases[i]!
      assert.strictEqual(r.code, 0, `${c.filter}: ${r.stderr}`)
      assert.deepStrictEqual(r.json().map((a: any) => a.id).sort(), c.ids, c.filter)
    })
  })

  it("filters users, groups and invitations as the server does, on the shared data set", async () => {
    // A tenant of its own: the other tests' users and invitations are not in its lists.
    const at = (...args: ReadonlyArray<string>) => pg("--tenant", "tenant-directory", ...args)
    await runAll(at, directoryFixture.setup)
    const results = await Promise.all(directoryFixture.cases.map((c) => at(...directoryFixture.list(c.kind, c.filter))))
    results.forEach((r, i) => {
      const c = directoryFixture.cases[i]!
      assert.strictEqual(r.code, 0, `${c.filter}: ${r.stderr}`)
      assert.deepStrictEqual(directoryFixture.keysOf(c.kind, r.json()), c.keys, `${c.kind}: ${c.filter}`)
    })
    const refused = directoryFixture.refused[0]!
    const bad = await at(...directoryFixture.list(refused.kind, refused.filter))
    assert.strictEqual(bad.code, 2)
    assert.include(bad.stderr, refused.says)
  })

  it("expands configurations' assignments as the server does", async () => {
    const at = (...args: ReadonlyArray<string>) => pg("--tenant", "tenant-expand", ...args)
    await runAll(at, [...directoryFixture.setup, ...expandFixture.setup])
    const [one, assignments, list, viaUser, viaInvitation] = await Promise.all([
      at(...expandFixture.get),
      at(...expandFixture.assignmentsOfXc1),
      at(...expandFixture.list, "--select", "id"),
      at(...expandFixture.viaUser),
      at(...expandFixture.viaInvitation)
    ])
    assert.strictEqual(one.code, 0, one.stderr)
    assert.deepStrictEqual(one.json().assignments, assignments.json())
    assert.deepStrictEqual(list.json().map((c: any) => [c.id, c.assignments.map((a: any) => a.id)]), [["xc1", ["xa1", "xa2"]], ["xc2", []]])
    for (const r of [viaUser, viaInvitation]) {
      assert.strictEqual(r.code, 0, r.stderr)
      assert.deepStrictEqual(r.json().map((c: any) => [c.id, c.assignments.length]), [["xc1", 2]])
    }
  })

  it("says why it cannot open a database that does not exist, without the password", async () => {
    const missing = new URL(url!)
    missing.pathname = `/${schema}_missing`
    missing.password = "hunter2secret"
    const r = await enrollctl(["--database-url", missing.href, "users", "list"])
    assert.strictEqual(r.code, 1, r.stderr)
    assert.include(r.stderr, `error ServiceUnavailable: cannot open the store (local postgres postgres://***@`)
    assert.include(r.stderr, `: database "${schema}_missing" does not exist`)
    assert.notInclude(r.stderr, "hunter2secret")
    assert.strictEqual(r.stderr.trim().split("\n").length, 1)
  })
})
