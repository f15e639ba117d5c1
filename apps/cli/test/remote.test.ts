/**
 * The CLI in remote mode against the real server (apps/server) on an
 * ephemeral port, with tokens minted from the server's own secret file.
 */
import type { ChildProcess } from "node:child_process"
import { existsSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as Batch from "../src/Batch.ts"
import {
  assignWithoutBody,
  directoryFixture,
  enrollctl,
  expandFixture,
  filterFixture,
  graphBodies,
  inviteTwoAndDeleteFirstGuest,
  runAll,
  serverMain,
  startServer,
  tempDir
} from "./cli.ts"

const available = existsSync(serverMain)
if (!available) console.log(`SKIPPED remote-mode tests: ${serverMain} does not exist yet`)

const dataDir = tempDir("enrollctl-server-")
let server: ChildProcess | undefined
let baseUrl = ""

const remote = (...args: ReadonlyArray<string>) => enrollctl(["--base-url", baseUrl, "--data-dir", dataDir, "-o", "json", ...args])
const DM = ["device-management", "device-enrollment-configurations"]

describe.skipIf(!available)("remote mode against the real server", () => {
  beforeAll(async () => {
    baseUrl = await startServer(dataDir, {}, (c) => (server = c))
  })
  afterAll(() => {
    server?.kill("SIGTERM")
  })

  it("mints a token from the server's secret that the server accepts", async () => {
    const t = await enrollctl(["token", "--data-dir", dataDir, "--tenant", "t-token", "--expires-in", "5m"])
    assert.strictEqual(t.code, 0, t.stderr)
    const token = t.stdout.trim()
    assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/)
    const claims = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString())
    assert.strictEqual(claims.tid, "t-token")
    const r = await enrollctl(["--base-url", baseUrl, "--token", token, "-o", "json", "users", "list"])
    assert.strictEqual(r.code, 0, r.stderr)
    assert.deepStrictEqual(r.json(), [])
  })

  it("runs the seed's PATCH on the invitation path, and shows the exchange without the token", async () => {
    for (
      const args of [
        [...DM, "create", "--type", "deviceEnrollmentLimitConfiguration", "--body", '{"id":"c1"}'],
        ["groups", "create", "--body", '{"id":"g1","displayName":"Guests"}'],
        ["invitations", "create", "--invited-user-email-address", "bob@fabrikam.com", "--invite-redirect-url", "https://myapps.microsoft.com", "--body", '{"id":"i1"}']
      ]
    ) {
      const r = await remote(...args)
      assert.strictEqual(r.code, 0, `${args.join(" ")}: ${r.stderr}`)
    }
    const guest = (await remote("invitations", "invited-user", "get", "--invitation-id", "i1")).json()
    assert.strictEqual((await remote("groups", "members", "ref", "create", "--group-id", "g1", "--directory-object-id", guest.id)).code, 0)
    assert.strictEqual((await remote(...DM, "assignments", "create", "--device-enrollment-configuration-id", "c1", "--target-type", "group", "--group-id", "g1", "--body", '{"id":"a1"}')).code, 0)

    const patch = await remote(
      "invitations", "invited-user", "device-enrollment-configurations", "assignments", "patch",
      "--invitation-id", "i1", "--device-enrollment-configuration-id", "c1", "--enrollment-configuration-assignment-id", "a1",
      "--target-type", "exclusion-group", "--filter-id", "f1", "--filter-type", "include", "--debug"
    )
    assert.strictEqual(patch.code, 0, patch.stderr)
    assert.deepStrictEqual(patch.json().target, {
      "@odata.type": "#microsoft.graph.exclusionGroupAssignmentTarget",
      deviceAndAppManagementAssignmentFilterId: "f1",
      deviceAndAppManagementAssignmentFilterType: "include",
      groupId: "g1"
    })
    assert.include(patch.stderr, "> PATCH ")
    assert.include(patch.stderr, "< 200")
    assert.match(patch.stderr, /authorization: Bearer \[redacted\]/i)
    assert.notMatch(patch.stderr, /Bearer ey/)
    // Nor the token anywhere else, with another scheme's case or none: no JWT's three parts.
    assert.notMatch(patch.stderr, /[\w-]{10,}\.[\w-]{10,}\.[\w-]{10,}/)

    // Excluded now: the configuration no longer reaches the guest, so the path does not resolve.
    const gone = await remote("invitations", "invited-user", "device-enrollment-configurations", "assignments", "get", "--invitation-id", "i1", "--device-enrollment-configuration-id", "c1", "--enrollment-configuration-assignment-id", "a1")
    assert.strictEqual(gone.code, 3)
    assert.include(gone.stderr, "error itemNotFound:")
  })

  it("answers with the server's error code and the exit code of its class", async () => {
    const bad = await remote(...DM, "assignments", "patch", "--device-enrollment-configuration-id", "c1", "--enrollment-configuration-assignment-id", "a1", "--body", '{"source":"String"}')
    assert.strictEqual(bad.code, 2)
    assert.include(bad.stderr, "error BadRequest:")
    const conflict = await remote(...DM, "create", "--type", "deviceEnrollmentLimitConfiguration", "--body", '{"id":"c1"}')
    assert.strictEqual(conflict.code, 4)
    const auth = await enrollctl(["--base-url", baseUrl, "--token", "not-a-token", "users", "list"])
    assert.strictEqual(auth.code, 5)
    assert.include(auth.stderr, "error InvalidAuthenticationToken:")
    const down = await enrollctl(["--base-url", "http://127.0.0.1:9/beta", "--token", "x", "users", "list"])
    assert.strictEqual(down.code, 1)
    assert.include(down.stderr, "cannot reach")
  })

  it("filters assignment lists as local mode does, on the same data", async () => {
    // The same data set and expectations as local.test.ts, in a tenant of its own.
    const at = (...args: ReadonlyArray<string>) => enrollctl(["--base-url", baseUrl, "--data-dir", dataDir, "--tenant", "tenant-filter", "-o", "json", ...args])
    for (const args of filterFixture.setup) {
      const r = await at(...args)
      assert.strictEqual(r.code, 0, `${args.join(" ")}: ${r.stderr}`)
    }
    const results = await Promise.all(filterFixture.cases.map((c) => at(...filterFixture.list(c.filter))))
    results.forEach((r, i) => {
      const c = filterFixture.cases[i]!
      assert.strictEqual(r.code, 0, `${c.filter}: ${r.stderr}`)
      assert.deepStrictEqual(r.json().map((a: any) => a.id).sort(), c.ids, c.filter)
    })
    const [bad, empty] = await Promise.all([at(...filterFixture.list(filterFixture.unsupported)), at(...filterFixture.list(""))])
    for (const r of [bad, empty]) {
      assert.strictEqual(r.code, 2)
      assert.include(r.stderr, "error BadRequest: unsupported $filter expression:")
    }
    assert.include(bad.stderr, "'displayName eq 'x''")
  })

  /** The server's own 400 for `GET <path>?<query>` in `tenant`, asked without the CLI. */
  const serverError = async (tenant: string, pathAndQuery: string, status = 400) => {
    const token = (await enrollctl(["token", "--data-dir", dataDir, "--tenant", tenant])).stdout.trim()
    const res = await fetch(`${baseUrl}/${pathAndQuery}`, { headers: { Authorization: `Bearer ${token}` } })
    assert.strictEqual(res.status, status, pathAndQuery)
    return ((await res.json()) as { error: { code: string; message: string } }).error
  }

  describe("--filter on users, groups and invitations", () => {
    const tenant = "tenant-directory"
    const at = (...args: ReadonlyArray<string>) => enrollctl(["--base-url", baseUrl, "--data-dir", dataDir, "--tenant", tenant, "-o", "json", ...args])
    // Local mode on the server's own store, in the same tenant: the same data.
    const local = (...args: ReadonlyArray<string>) => enrollctl(["--store", "sqlite", "--data-dir", dataDir, "--tenant", tenant, "-o", "json", ...args])
    beforeAll(() => runAll(at, directoryFixture.setup))

    it("sends $filter and prints what the server keeps, as local mode does on the same store", async () => {
      const cases = directoryFixture.cases
      const remoteRuns = await Promise.all(cases.map((c) => at(...directoryFixture.list(c.kind, c.filter))))
      const localRuns = await Promise.all(cases.map((c) => local(...directoryFixture.list(c.kind, c.filter))))
      cases.forEach((c, i) => {
        const r = remoteRuns[i]!
        assert.strictEqual(r.code, 0, `${c.filter}: ${r.stderr}`)
        assert.deepStrictEqual(directoryFixture.keysOf(c.kind, r.json()), c.keys, `${c.kind}: ${c.filter}`)
        assert.strictEqual(localRuns[i]!.stdout, r.stdout, `local and remote differ on ${c.filter}`)
      })
      const top = ["users", "list", "--filter", "userType eq 'Guest'", "--top", "2", "--select", "id,userType"]
      const [remoteTop, localTop] = await Promise.all([at(...top), local(...top)])
      assert.strictEqual(remoteTop.code, 0, remoteTop.stderr)
      assert.deepStrictEqual(remoteTop.json().map((u: any) => u.userType), ["Guest", "Guest"])
      assert.strictEqual(localTop.stdout, remoteTop.stdout)
    })

    it("shows $filter in the request it sends", async () => {
      const r = await at("groups", "list", "--filter", "mailNickname eq 'mkt'", "--debug")
      assert.strictEqual(r.code, 0, r.stderr)
      assert.include(r.stderr, `> GET ${baseUrl}/groups?%24filter=mailNickname+eq+%27mkt%27`)
    })

    it("refuses a bad expression with the server's 400 message, exit 2, in both modes", async () => {
      for (const c of directoryFixture.refused) {
        const server = await serverError(tenant, `${c.kind}?${new URLSearchParams({ $filter: c.filter })}`)
        assert.include(server.message, c.says)
        const [remoteRun, localRun] = await Promise.all([at(...directoryFixture.list(c.kind, c.filter)), local(...directoryFixture.list(c.kind, c.filter))])
        for (const r of [remoteRun, localRun]) {
          assert.strictEqual(r.code, 2, c.filter)
          assert.strictEqual(r.stderr, `error ${server.code}: ${server.message}\n`)
          assert.strictEqual(r.stdout, "")
        }
      }
    })
  })

  describe("the groups a user or a group is in (member-of, transitive-member-of)", () => {
    const tenant = "tenant-member-of"
    const at = (...args: ReadonlyArray<string>) => enrollctl(["--base-url", baseUrl, "--data-dir", dataDir, "--tenant", tenant, "-o", "json", ...args])
    const local = (...args: ReadonlyArray<string>) => enrollctl(["--store", "sqlite", "--data-dir", dataDir, "--tenant", tenant, "-o", "json", ...args])
    const ref = (g: string, m: string) => ["groups", "members", "ref", "create", "--group-id", g, "--directory-object-id", m]
    beforeAll(() =>
      runAll(at, [
        ["users", "create", "--body", '{"id":"mu"}'],
        ...["mg1", "mg2", "mg3"].map((id) => ["groups", "create", "--body", JSON.stringify({ id, displayName: id })]),
        // mu in mg1, mg1 in mg2, mg2 in mg3
        ref("mg1", "mu"),
        ref("mg2", "mg1"),
        ref("mg3", "mg2")
      ]))

    it("prints the server's lists, as local mode does on the same store", async () => {
      const cases = [
        { args: ["users", "member-of", "list", "--user-id", "mu"], ids: ["mg1"] },
        { args: ["users", "transitive-member-of", "list", "--user-id", "mu"], ids: ["mg1", "mg2", "mg3"] },
        { args: ["users", "transitive-member-of", "list", "--user-id", "mu", "--top", "2"], ids: ["mg1", "mg2"] },
        { args: ["groups", "member-of", "list", "--group-id", "mg1"], ids: ["mg2"] },
        { args: ["groups", "transitive-member-of", "list", "--group-id", "mg1"], ids: ["mg2", "mg3"] },
        { args: ["groups", "transitive-members", "list", "--group-id", "mg3"], ids: ["mg1", "mg2", "mu"] },
        { args: ["groups", "transitive-members", "list", "--group-id", "mg3", "--top", "1"], ids: ["mg1"] },
        // --type: the server's casts (…/microsoft.graph.user), and the same members kept locally.
        { args: ["groups", "transitive-members", "list", "--group-id", "mg3", "--type", "user"], ids: ["mu"] },
        { args: ["groups", "transitive-members", "list", "--group-id", "mg3", "--type", "group", "--top", "1"], ids: ["mg1"] },
        { args: ["groups", "members", "list", "--group-id", "mg2", "--type", "group"], ids: ["mg1"] },
        { args: ["groups", "members", "list", "--group-id", "mg2", "--type", "user"], ids: [] },
        { args: ["groups", "members", "list", "--group-id", "mg1", "--type", "user"], ids: ["mu"] }
      ]
      for (const c of cases) {
        const [r, l] = await Promise.all([at(...c.args), local(...c.args)])
        assert.strictEqual(r.code, 0, `${c.args.join(" ")}: ${r.stderr}`)
        assert.deepStrictEqual(r.json().map((g: any) => g.id), c.ids, c.args.join(" "))
        assert.strictEqual(l.stdout, r.stdout, c.args.join(" "))
      }
      const [r, l] = await Promise.all([at("users", "member-of", "list", "--user-id", "mg1"), local("users", "member-of", "list", "--user-id", "mg1")])
      for (const run of [r, l]) {
        assert.strictEqual(run.code, 3)
        assert.strictEqual(run.stderr, "error itemNotFound: user 'mg1' not found\n")
      }
    })
  })

  it("refuses an id the server would refuse ('/', a control character, 129 characters) as a usage error, exit 2, in both modes", async () => {
    const local = (...args: ReadonlyArray<string>) => enrollctl(["--store", "memory", ...args])
    for (const bad of ["a/b", "a\u0001b", "x".repeat(129)]) {
      for (const run of [remote, local]) {
        const r = await run("users", "get", "--user-id", bad)
        assert.strictEqual(r.code, 2, `${JSON.stringify(bad)}: ${r.stderr}`)
        assert.include(r.stderr, "Invalid value for flag --user-id")
        assert.include(r.stderr, "Expected an id of 1 to 128 characters without '/' or control characters")
      }
    }
    const fine = await remote("users", "get", "--user-id", "x".repeat(128))
    assert.strictEqual(fine.code, 3, fine.stderr)
  })

  describe("delete --if-match on configurations, users and groups", () => {
    const tenant = "tenant-delete-if-match"
    const at = (...args: ReadonlyArray<string>) => enrollctl(["--base-url", baseUrl, "--data-dir", dataDir, "--tenant", tenant, "-o", "json", ...args])
    const local = (...args: ReadonlyArray<string>) => enrollctl(["--store", "sqlite", "--data-dir", dataDir, "--tenant", tenant, "-o", "json", ...args])
    const kinds = [
      { create: [...DM, "create", "--body"], body: (id: string) => JSON.stringify({ "@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration", id }), del: [...DM, "delete", "--device-enrollment-configuration-id"], get: [...DM, "get", "--device-enrollment-configuration-id"] },
      { create: ["users", "create", "--body"], body: (id: string) => JSON.stringify({ id }), del: ["users", "delete", "--user-id"], get: ["users", "get", "--user-id"] },
      { create: ["groups", "create", "--body"], body: (id: string) => JSON.stringify({ id, displayName: id }), del: ["groups", "delete", "--group-id"], get: ["groups", "get", "--group-id"] }
    ]

    it("refuses a stale --if-match with exit 4 and deletes with a matching one, in both modes", async () => {
      for (const [mode, run] of [["remote", at], ["local", local]] as const) {
        for (const [n, k] of kinds.entries()) {
          const id = `${mode}-${n}`
          const made = await run(...k.create, k.body(id))
          assert.strictEqual(made.code, 0, `${mode} ${k.del.join(" ")}: ${made.stderr}`)
          const etag = made.json()["@odata.etag"] as string
          const stale = await run(...k.del, id, "--if-match", 'W/"stale"')
          assert.strictEqual(stale.code, 4, `${mode} ${k.del.join(" ")}: ${stale.stderr}`)
          assert.include(stale.stderr, "error preconditionFailed:")
          assert.strictEqual((await run(...k.get, id)).code, 0, `${mode} ${k.del.join(" ")}: still there`)
          const fresh = await run(...k.del, id, "--if-match", etag)
          assert.strictEqual(fresh.code, 0, `${mode} ${k.del.join(" ")}: ${fresh.stderr}`)
          assert.strictEqual((await run(...k.get, id)).code, 3, `${mode} ${k.del.join(" ")}: gone`)
        }
      }
    })
  })

  describe("--if-match on a configuration's actions, assign and set-priority (since 0.6.3)", () => {
    const tenant = "tenant-action-if-match"
    const at = (...args: ReadonlyArray<string>) => enrollctl(["--base-url", baseUrl, "--data-dir", dataDir, "--tenant", tenant, "-o", "json", ...args])
    const local = (...args: ReadonlyArray<string>) => enrollctl(["--store", "sqlite", "--data-dir", dataDir, "--tenant", tenant, "-o", "json", ...args])

    it("refuses a stale --if-match with exit 4 and changes nothing, and acts with the configuration's ETag, in both modes", async () => {
      for (const [mode, run] of [["remote", at], ["local", local]] as const) {
        const id = `act-${mode}`
        const made = await run(...DM, "create", "--body", JSON.stringify({ "@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration", id, priority: 1 }))
        assert.strictEqual(made.code, 0, `${mode}: ${made.stderr}`)
        const etag = made.json()["@odata.etag"] as string
        const cfg = ["--device-enrollment-configuration-id", id]
        const one = JSON.stringify({ enrollmentConfigurationAssignments: [{ id: "kept" }] })
        assert.strictEqual((await run(...DM, "assign", ...cfg, "--body", one)).code, 0, mode)
        const listed = async () => (await run(...DM, "assignments", "list", ...cfg)).json().map((a: { id: string }) => a.id)
        for (const action of [
          ["assign", "--body", JSON.stringify({ enrollmentConfigurationAssignments: [] })],
          ["set-priority", "--priority", "7"]
        ]) {
          const stale = await run(...DM, ...action, ...cfg, "--if-match", 'W/"stale"')
          assert.strictEqual(stale.code, 4, `${mode} ${action[0]}: ${stale.stderr}`)
          assert.include(stale.stderr, "error preconditionFailed:")
        }
        assert.deepStrictEqual(await listed(), ["kept"], `${mode}: the stale assign removed nothing`)
        assert.strictEqual((await run(...DM, "get", ...cfg)).json().priority, 1, `${mode}: the stale set-priority set nothing`)
        const assigned = await run(...DM, "assign", ...cfg, "--body", JSON.stringify({ enrollmentConfigurationAssignments: [] }), "--if-match", etag)
        assert.strictEqual(assigned.code, 0, `${mode}: ${assigned.stderr}`)
        assert.deepStrictEqual(await listed(), [], mode)
        const prioritized = await run(...DM, "set-priority", ...cfg, "--priority", "7", "--if-match", etag)
        assert.strictEqual(prioritized.code, 0, `${mode}: ${prioritized.stderr}`)
        assert.strictEqual((await run(...DM, "get", ...cfg)).json().priority, 7, mode)
      }
    })
  })

  describe("--expand assignments on configurations", () => {
    const tenant = "tenant-expand"
    const at = (...args: ReadonlyArray<string>) => enrollctl(["--base-url", baseUrl, "--data-dir", dataDir, "--tenant", tenant, "-o", "json", ...args])
    const local = (...args: ReadonlyArray<string>) => enrollctl(["--store", "sqlite", "--data-dir", dataDir, "--tenant", tenant, "-o", "json", ...args])
    beforeAll(() => runAll(at, [...directoryFixture.setup, ...expandFixture.setup]))

    it("prints what local mode prints on the same store: each configuration with its assignments, no context", async () => {
      for (const command of [expandFixture.get, expandFixture.list, expandFixture.viaUser, expandFixture.viaInvitation, expandFixture.getViaUser, expandFixture.getViaInvitation]) {
        const [r, l] = await Promise.all([at(...command), local(...command)])
        assert.strictEqual(r.code, 0, `${command.join(" ")}: ${r.stderr}`)
        assert.strictEqual(l.stdout, r.stdout, command.join(" "))
        assert.notInclude(r.stdout, "@odata.context")
      }
      const [one, assignments] = await Promise.all([at(...expandFixture.get), at(...expandFixture.assignmentsOfXc1)])
      assert.deepStrictEqual(one.json().assignments, assignments.json())
      const list = await at(...expandFixture.list, "--select", "id")
      assert.deepStrictEqual(list.json().map((c: any) => [c.id, c.assignments.map((a: any) => a.id)]), [["xc1", ["xa1", "xa2"]], ["xc2", []]])
    })

    it("filters the tenant's configurations with --filter as local mode does", async () => {
      for (const { filter, ids } of expandFixture.filtered) {
        const command = ["device-management", "device-enrollment-configurations", "list", "--filter", filter, "--select", "id"]
        const [r, l] = await Promise.all([at(...command), local(...command)])
        assert.strictEqual(r.code, 0, `${filter}: ${r.stderr}`)
        assert.deepStrictEqual(r.json().map((c: any) => c.id), ids, filter)
        assert.strictEqual(l.stdout, r.stdout, filter)
      }
      const refused = ["device-management", "device-enrollment-configurations", "list", "--filter", expandFixture.filterRefused.filter]
      const [r, l] = await Promise.all([at(...refused), local(...refused)])
      assert.strictEqual(r.code, 2, r.stderr)
      assert.include(r.stderr, expandFixture.filterRefused.says)
      assert.strictEqual(l.stderr, r.stderr)
    })

    it("answers a configuration that does not reach the user as the server does, in both modes", async () => {
      const server = await serverError(tenant, "users/du1/deviceEnrollmentConfigurations/xc2", 404)
      assert.strictEqual(server.code, "itemNotFound")
      const [r, l] = await Promise.all([at(...expandFixture.notTargeted), local(...expandFixture.notTargeted)])
      for (const run of [r, l]) {
        assert.strictEqual(run.code, 3)
        assert.strictEqual(run.stderr, `error ${server.code}: ${server.message}\n`)
        assert.strictEqual(run.stdout, "")
      }
    })

    it("sends $expand, and drops the expansion's context the server sends", async () => {
      const r = await at(...expandFixture.get, "--debug")
      assert.strictEqual(r.code, 0, r.stderr)
      assert.include(r.stderr, "?%24expand=assignments")
      assert.include(r.stderr, '"assignments@odata.context":')
      assert.notInclude(r.stdout, "assignments@odata.context")
    })

    it("follows an expansion the server cut short to its end, as local mode prints it whole", async () => {
      // The server expands at most 10 000 assignments per answer (the http-adapter's
      // expandBudget), then writes assignments@odata.nextLink: the CLI follows it.
      // More than one `assign` takes (core's Configuration.maxAssignItems): imported, on the server's
      // own store in local mode, which writes them one at a time.
      const many = path.join(dataDir, "many-assignments.jsonl")
      writeFileSync(many, [
        // Whole records, as `export` writes them.
        {
          kind: "configuration",
          value: {
            "@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration", id: "xbig", displayName: null, description: null, priority: 0,
            roleScopeTagIds: [], deviceEnrollmentConfigurationType: "limit", createdDateTime: "2026-12-03T00:00:00.000Z",
            lastModifiedDateTime: "2026-12-03T00:00:00.000Z", version: 1
          }
        },
        ...Array.from({ length: 10_001 }, (_, i) => ({
          kind: "assignment",
          configurationId: "xbig",
          value: {
            "@odata.type": "#microsoft.graph.enrollmentConfigurationAssignment", id: `a${String(i).padStart(5, "0")}`, target: null,
            source: "direct", sourceId: null
          }
        }))
      ].map((r) => JSON.stringify(r)).join("\n") + "\n")
      const imported = await local("import", many)
      assert.strictEqual(imported.code, 0, imported.stderr)
      const token = (await enrollctl(["token", "--data-dir", dataDir, "--tenant", tenant])).stdout.trim()
      const raw = await (await fetch(`${baseUrl}/deviceManagement/deviceEnrollmentConfigurations/xbig?$expand=assignments`, { headers: { Authorization: `Bearer ${token}` } })).json() as Record<string, any>
      // What is tested needs the server's cut (in the http-adapter's unreleased changes); said when it is not there.
      if (typeof raw["assignments@odata.nextLink"] !== "string") console.log("NOTE: the server did not cut the expansion short: no next link followed")
      else assert.isBelow(raw.assignments.length, 10_001)
      const command = ["device-management", "device-enrollment-configurations", "get", "--device-enrollment-configuration-id", "xbig", "--expand", "assignments"]
      const [r, l] = await Promise.all([at(...command), local(...command)])
      assert.strictEqual(r.code, 0, r.stderr)
      const c = r.json()
      assert.strictEqual(c.assignments.length, 10_001)
      assert.strictEqual(new Set(c.assignments.map((a: any) => a.id)).size, 10_001)
      assert.notProperty(c, "assignments@odata.nextLink")
      assert.strictEqual(l.stdout, r.stdout)
    })

    it("refuses a bad expansion with the server's 400 message, exit 2, in both modes", async () => {
      for (const c of expandFixture.refused) {
        const server = await serverError(tenant, `deviceManagement/deviceEnrollmentConfigurations?${new URLSearchParams({ $expand: c.expand })}`)
        assert.strictEqual(server.message, c.says)
        const command = ["device-management", "device-enrollment-configurations", "list", "--expand", c.expand]
        const [remoteRun, localRun] = await Promise.all([at(...command), local(...command)])
        for (const r of [remoteRun, localRun]) {
          assert.strictEqual(r.code, 2, c.expand)
          assert.strictEqual(r.stderr, `error ${server.code}: ${server.message}\n`)
        }
      }
    })
  })

  describe("batch", () => {
    const tenant = "tenant-batch"
    const cli = (...args: ReadonlyArray<string>) => enrollctl(["--base-url", baseUrl, "--data-dir", dataDir, "--tenant", tenant, ...args])
    const write = (name: string, batch: unknown) => {
      const file = path.join(dataDir, name)
      writeFileSync(file, typeof batch === "string" ? batch : JSON.stringify(batch))
      return file
    }

    it("sends a JSON batch file to $batch and prints one response per request, in order", async () => {
      const file = write("batch-ok.json", {
        requests: [
          { id: "1", method: "POST", url: "/users", body: { id: "bu1", displayName: "Batch" } },
          { id: "2", method: "PATCH", url: "/users/bu1", body: { displayName: "Batched" }, dependsOn: ["1"] },
          { id: "3", method: "GET", url: "/users/bu1", dependsOn: ["2"] }
        ]
      })
      const r = await cli("-o", "json", "batch", file, "--debug")
      assert.strictEqual(r.code, 0, r.stderr)
      assert.include(r.stderr, `> POST ${baseUrl}/$batch`)
      const responses = r.json()
      assert.deepStrictEqual(responses.map((x: any) => [x.id, x.status]), [["1", 201], ["2", 200], ["3", 200]])
      assert.strictEqual(responses[2].body.displayName, "Batched")
      assert.strictEqual((await cli("-o", "json", "users", "get", "--user-id", "bu1")).json().displayName, "Batched")
    })

    it("prints a table of ids, statuses and results, and fails with the first failure's code and exit code", async () => {
      const batch = {
        requests: [
          { id: "a", method: "GET", url: "/users/bu1" },
          { id: "b", method: "GET", url: "/groups/nope" },
          { id: "c", method: "DELETE", url: "/users/bu1", dependsOn: ["b"] }
        ]
      }
      // From standard input.
      const run = await enrollctl(["--base-url", baseUrl, "--data-dir", dataDir, "--tenant", tenant, "-o", "table", "batch", "-"], { input: JSON.stringify(batch) })
      assert.strictEqual(run.code, 3, run.stderr)
      assert.deepStrictEqual(run.stdout.split("\n").map((l) => l.split(/\s{2,}/)), [
        ["ID", "STATUS", "RESULT"],
        ["a", "200", "user bu1"],
        ["b", "404", "itemNotFound: group 'nope' not found"],
        ["c", "424", "FailedDependency: The request 'c' depends on 'b', which failed"],
        [""]
      ])
      assert.strictEqual(run.stderr, "error itemNotFound: request 'b' of the batch answered 404: group 'nope' not found (2 of 3 failed: 'b', 'c')\n")
      // c did not run: bu1 is still there.
      assert.strictEqual((await cli("users", "get", "--user-id", "bu1")).code, 0)
    })

    it("shows a body that is not JSON (a $count, sent as base64 as Graph sends it) as its text", async () => {
      const batch = { requests: [{ id: "n", method: "GET", url: "/users/$count" }] }
      const run = await enrollctl(["--base-url", baseUrl, "--data-dir", dataDir, "--tenant", tenant, "-o", "table", "batch", "-"], { input: JSON.stringify(batch) })
      assert.strictEqual(run.code, 0, run.stderr)
      const [, row] = run.stdout.split("\n").map((l) => l.split(/\s{2,}/))
      assert.strictEqual(row![1], "200")
      assert.match(row![2]!, /^\d+$/, "the count, not its base64")
      const json = await enrollctl(["--base-url", baseUrl, "--data-dir", dataDir, "--tenant", tenant, "-o", "json", "batch", "-"], { input: JSON.stringify(batch) })
      const body = (JSON.parse(json.stdout) as Array<{ body: string }>)[0]?.body ?? JSON.parse(json.stdout).responses?.[0]?.body
      assert.strictEqual(Buffer.from(String(body), "base64").toString("utf8"), row![2], "-o json shows the batch's answer as sent")
    })

    it("shows a server of an earlier release's text body (not base64) as it came", () => {
      const text = { "Content-Type": "text/plain; charset=utf-8" }
      // Before http-adapter 0.14.0 a batch's $count was its text: "202" and "7" are no base64, "1234" decodes to bytes that are not UTF-8.
      for (const count of ["202", "7", "1234", "0"]) assert.strictEqual(Batch.resultText({ id: "n", status: 200, headers: text, body: count }), count)
      assert.strictEqual(Batch.resultText({ id: "n", status: 200, headers: text, body: Buffer.from("1234").toString("base64") }), "1234")
      assert.strictEqual(Batch.resultText({ id: "n", status: 200, headers: { "content-type": "application/json" }, body: "MjAy" }), "MjAy", "a JSON string is shown as it is")
    })

    it("refuses a malformed batch with the server's 400 (exit 2), running none of it, and a file that is not JSON", async () => {
      const file = write("batch-bad.json", {
        requests: [
          { id: "1", method: "POST", url: "/users", body: { id: "bu2" } },
          { id: "1", method: "GET", url: "/users" }
        ]
      })
      const r = await cli("batch", file)
      assert.strictEqual(r.code, 2)
      assert.match(r.stderr, /^error BadRequest: requests\[1\]\.id: /)
      assert.strictEqual(r.stdout, "")
      assert.strictEqual((await cli("users", "get", "--user-id", "bu2")).code, 3)
      const notJson = await cli("batch", write("batch-text.json", "GET /users"))
      assert.strictEqual(notJson.code, 2)
      assert.include(notJson.stderr, "error Usage: ")
      assert.include(notJson.stderr, "batch-text.json: invalid JSON")
      const selected = await cli("batch", file, "--select", "id")
      assert.strictEqual(selected.code, 2)
      assert.include(selected.stderr, "error Usage: --select does not apply to batch")
    })
  })

  it("refuses assign without --body before sending anything", async () => {
    const at = (...args: ReadonlyArray<string>) => enrollctl(["--base-url", baseUrl, "--data-dir", dataDir, "--tenant", "tenant-assign", "-o", "json", ...args])
    const r = await assignWithoutBody(at, "--debug")
    assert.notInclude(r.stderr, "> POST")
  })

  it("refuses --top below 1 in both modes alike, before anything is sent, and an empty --audience", async () => {
    const remote = (...args: ReadonlyArray<string>) => enrollctl(["--base-url", baseUrl, "--data-dir", dataDir, "--debug", ...args])
    const local = (...args: ReadonlyArray<string>) => enrollctl(["--store", "sqlite", "--data-dir", dataDir, ...args])
    for (const r of [await remote("users", "list", "--top", "0"), await local("users", "list", "--top", "0"), await local("groups", "list", "--top", "-3")]) {
      assert.strictEqual(r.code, 2)
      assert.match(r.stderr, /^error Usage: --top: expected a positive integer, got -?\d+\n$/)
      assert.strictEqual(r.stdout, "")
    }
    const empty = await enrollctl(["token", "--data-dir", dataDir, "--audience", " "])
    assert.deepStrictEqual([empty.code, empty.stderr, empty.stdout], [2, "error Usage: --audience: expected the server's value, got an empty one\n", ""])
  })

  it("refuses an unknown --select property as the server and local mode do", async () => {
    const tenant = "tenant-select"
    const at = (...args: ReadonlyArray<string>) => enrollctl(["--base-url", baseUrl, "--data-dir", dataDir, "--tenant", tenant, ...args])
    const local = (...args: ReadonlyArray<string>) => enrollctl(["--store", "sqlite", "--data-dir", dataDir, "--tenant", tenant, ...args])
    assert.strictEqual((await at("users", "create", "--body", '{"id":"u1"}')).code, 0)
    const token = (await enrollctl(["token", "--data-dir", dataDir, "--tenant", tenant])).stdout.trim()
    const res = await fetch(`${baseUrl}/users?$select=id,bogus`, { headers: { Authorization: `Bearer ${token}` } })
    assert.strictEqual(res.status, 400)
    const server = ((await res.json()) as { error: { code: string; message: string } }).error
    const [remoteRun, localRun] = await Promise.all([
      at("-o", "table", "users", "list", "--select", "id,bogus"),
      local("-o", "table", "users", "list", "--select", "id,bogus")
    ])
    for (const r of [remoteRun, localRun]) {
      assert.strictEqual(r.code, 2)
      assert.strictEqual(r.stderr, `error ${server.code}: ${server.message}\n`)
      assert.include(r.stderr, "'bogus'")
      assert.strictEqual(r.stdout, "")
    }
    const created = await at("-o", "json", "users", "create", "--body", '{"id":"u2"}', "--select", "bogus")
    assert.strictEqual(created.code, 2)
    assert.strictEqual((await at("users", "get", "--user-id", "u2")).code, 3)
  })

  it("exports an invitation whose guest user was deleted, as local mode does, and imports it back", async () => {
    const tenant = "tenant-dangling"
    const at = (t: string, ...args: ReadonlyArray<string>) => enrollctl(["--base-url", baseUrl, "--data-dir", dataDir, "--tenant", t, "-o", "json", ...args])
    await inviteTwoAndDeleteFirstGuest((...args) => at(tenant, ...args))

    const exported = await at(tenant, "export")
    assert.strictEqual(exported.code, 0, exported.stderr)
    const invitations = exported.stdout.trim().split("\n").map((l) => JSON.parse(l)).filter((r) => r.kind === "invitation")
    assert.deepStrictEqual(invitations.map((r) => [r.value.id, r.invitedUser === null]), [["i1", true], ["i2", false]])
    const local = await enrollctl(["--store", "sqlite", "--data-dir", dataDir, "--tenant", tenant, "export"])
    assert.strictEqual(local.code, 0, local.stderr)
    assert.strictEqual(local.stdout, exported.stdout)

    const file = path.join(dataDir, "dangling.jsonl")
    writeFileSync(file, exported.stdout)
    const imported = await at("tenant-dangling-b", "import", file)
    assert.strictEqual(imported.code, 0, imported.stderr)
    assert.strictEqual((await at("tenant-dangling-b", "invitations", "invited-user", "get", "--invitation-id", "i1")).code, 3)
    const users = await at("tenant-dangling-b", "users", "list", "--select", "mail")
    assert.deepStrictEqual(users.json(), [{ mail: "i2@fabrikam.com" }])
    const again = (await at("tenant-dangling-b", "export")).stdout.trim().split("\n").map((l) => JSON.parse(l))
    assert.deepStrictEqual(again.filter((r) => r.kind === "invitation").map((r) => [r.value.id, r.invitedUser === null]), [["i1", true], ["i2", false]])
  })

  it("exports Graph's other properties through the API and imports them into another tenant", async () => {
    const at = (t: string, ...args: ReadonlyArray<string>) => enrollctl(["--base-url", baseUrl, "--data-dir", dataDir, "--tenant", t, "-o", "json", ...args])
    const expected = await graphBodies((...args) => at("tenant-graph", ...args))
    const exported = await at("tenant-graph", "export")
    assert.strictEqual(exported.code, 0, exported.stderr)
    assert.notInclude(exported.stdout, "passwordProfile")
    const file = path.join(dataDir, "graph.jsonl")
    writeFileSync(file, exported.stdout)
    const imported = await at("tenant-graph-b", "import", file)
    assert.strictEqual(imported.code, 0, imported.stderr)
    assert.deepInclude((await at("tenant-graph-b", "users", "get", "--user-id", "gu1")).json() as object, expected.user)
    assert.deepInclude((await at("tenant-graph-b", "groups", "get", "--group-id", "gg1")).json() as object, expected.group)
    assert.deepInclude((await at("tenant-graph-b", "invitations", "get", "--invitation-id", "gi1")).json() as object, expected.invitation)
    const guest = await at("tenant-graph-b", "invitations", "invited-user", "get", "--invitation-id", "gi1")
    assert.deepInclude(guest.json() as object, expected.guest)
    const again = (await at("tenant-graph-b", "export")).stdout.trim().split("\n").map((l) => JSON.parse(l))
    const before = exported.stdout.trim().split("\n").map((l) => JSON.parse(l))
    // The same records, but for the guest user's id, which a remote import cannot choose.
    const guestId = (records: Array<any>) => records.find((r) => r.kind === "invitation").invitedUser.id
    const normal = (records: Array<any>) => JSON.parse(JSON.stringify(records).replaceAll(guestId(records), "GUEST"))
    assert.deepStrictEqual(normal(again), normal(before))
  })

  it("exports through the API and imports into another tenant", async () => {
    const exported = await remote("export")
    assert.strictEqual(exported.code, 0, exported.stderr)
    const file = path.join(dataDir, "tenant.jsonl")
    writeFileSync(file, exported.stdout)
    const other = ["--base-url", baseUrl, "--data-dir", dataDir, "--tenant", "tenant-b"]
    const imported = await enrollctl([...other, "import", file])
    assert.strictEqual(imported.code, 0, imported.stderr)
    const a = await enrollctl([...other, "-o", "json", ...DM, "assignments", "get", "--device-enrollment-configuration-id", "c1", "--enrollment-configuration-assignment-id", "a1"])
    assert.strictEqual(a.code, 0, a.stderr)
    assert.strictEqual(a.json().target.groupId, "g1")
    const members = await enrollctl([...other, "-o", "json", "groups", "members", "list", "--group-id", "g1"])
    assert.strictEqual(members.json().length, 1)
  })
})
