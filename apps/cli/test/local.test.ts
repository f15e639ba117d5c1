/**
 * The CLI in local mode, on a real SQLite file, spawned as a user runs it.
 */
import { spawnSync } from "node:child_process"
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { DatabaseSync } from "node:sqlite"
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Routes } from "@enrollment/http-adapter"
import { assignWithoutBody, directoryFixture, enrollctl, expandFixture, filterFixture, graphBodies, inviteTwoAndDeleteFirstGuest, runAll, storeDir, tempDir } from "./cli.ts"

const dir = await storeDir()
const local = (...args: ReadonlyArray<string>) => enrollctl(["--store", "sqlite", "--data-dir", dir, "-o", "json", ...args])
const DM = ["device-management", "device-enrollment-configurations"]
const groupTarget = { "@odata.type": "#microsoft.graph.groupAssignmentTarget", groupId: "g1" }

describe("create --type", () => {
  it("takes the bare type name and both spellings of @odata.type", async () => {
    const typeDir = await storeDir()
    for (const [id, type] of [["t1", "deviceEnrollmentLimitConfiguration"], ["t2", "microsoft.graph.deviceEnrollmentLimitConfiguration"], ["t3", "#microsoft.graph.deviceEnrollmentLimitConfiguration"]]) {
      const r = await enrollctl(["--store", "sqlite", "--data-dir", typeDir, "-o", "json", ...DM, "create", "--type", type!, "--body", JSON.stringify({ id })])
      assert.strictEqual(r.code, 0, `${type}: ${r.stderr}`)
      assert.strictEqual(r.json<{ "@odata.type": string }>()["@odata.type"], "#microsoft.graph.deviceEnrollmentLimitConfiguration", type)
    }
  })
})

describe("set-priority", () => {
  it("without --priority or --body is a usage error, and changes nothing", async () => {
    const priorityDir = await storeDir()
    const at = (...args: ReadonlyArray<string>) => enrollctl(["--store", "sqlite", "--data-dir", priorityDir, "-o", "json", ...DM, ...args])
    assert.strictEqual((await at("create", "--type", "deviceEnrollmentLimitConfiguration", "--priority", "3", "--body", '{"id":"p1"}')).code, 0)
    const r = await at("set-priority", "--device-enrollment-configuration-id", "p1")
    assert.strictEqual(r.code, 2, r.stderr)
    assert.include(r.stderr, "error Usage: set-priority needs --priority N")
    assert.strictEqual((await at("get", "--device-enrollment-configuration-id", "p1")).json<{ priority: number }>().priority, 3)
    assert.strictEqual((await at("set-priority", "--device-enrollment-configuration-id", "p1", "--priority", "1")).code, 0)
    assert.strictEqual((await at("get", "--device-enrollment-configuration-id", "p1")).json<{ priority: number }>().priority, 1)
  })
})

describe("help, version, completions", () => {
  it("answers --help fast, with examples", async () => {
    await enrollctl(["--help"]) // warm the compile cache
    const r = await enrollctl(["--help"])
    assert.strictEqual(r.code, 0)
    assert.include(r.stdout, "EXAMPLES")
    assert.include(r.stdout, "device-management")
    console.log(`enrollctl --help: ${r.ms.toFixed(0)} ms (process wall time)`)
    assert.isBelow(r.ms, 1500)
  })

  it("prints examples in the help of every command", async () => {
    const commands = [
      [...DM, "assign"],
      [...DM, "assignments", "patch"],
      ["users", "device-enrollment-configurations", "assignments", "list"],
      ["invitations", "invited-user", "device-enrollment-configurations", "assignments", "patch"],
      ["groups", "members", "ref", "create"],
      ["invitations", "create"],
      ["token"],
      ["import"],
      ["batch"],
      ["users", "list"],
      ["groups", "list"],
      ["invitations", "list"],
      [...DM, "list"],
      [...DM, "get"],
      ["invitations", "invited-user", "device-enrollment-configurations", "list"],
      ["users", "device-enrollment-configurations", "get"],
      ["users", "transitive-member-of", "list"],
      ["groups", "member-of", "list"],
      ["groups", "transitive-members", "list"],
      ["groups", "members", "list"]
    ]
    const results = await Promise.all(commands.map((c) => enrollctl([...c, "--help"])))
    results.forEach((r, i) => {
      assert.strictEqual(r.code, 0, commands[i]!.join(" "))
      assert.include(r.stdout, "EXAMPLES", commands[i]!.join(" "))
    })
  })

  it("names in each directory list's --filter help the properties the server's route filters on", async () => {
    const lists = ["users", "groups", "invitations"]
    const helps = await Promise.all(lists.map((l) => enrollctl([l, "list", "--help"])))
    helps.forEach((r, i) => {
      const route = Routes.routes.find((x) => x.method === "GET" && x.path === `/${lists[i]}`)!
      const names = Object.keys(route.filterable!)
      assert.isAbove(names.length, 0)
      // The help wraps its lines: compare the text without its line breaks and indentation.
      const flat = r.stdout.replace(/\s+/g, " ")
      assert.include(flat, `over ${names.join(", ")};`, lists[i])
      assert.include(flat, "--filter", lists[i])
    })
  })

  it("prints its version and completion scripts", async () => {
    const [v, bash, zsh, fish] = await Promise.all([
      enrollctl(["--version"]),
      enrollctl(["--completions", "bash"]),
      enrollctl(["--completions", "zsh"]),
      enrollctl(["--completions", "fish"])
    ])
    // The release, as package.json says it.
    assert.include(v.stdout, JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version)
    for (const r of [bash, zsh, fish]) {
      assert.strictEqual(r.code, 0)
      assert.include(r.stdout, "enrollctl")
    }
  })

  it("exits 2 on a usage error, and when no backend is chosen", async () => {
    const missing = await local(...DM, "assignments", "get", "--device-enrollment-configuration-id", "c1")
    assert.strictEqual(missing.code, 2)
    assert.include(missing.stderr, "--enrollment-configuration-assignment-id")
    const none = await enrollctl(["users", "list"])
    assert.strictEqual(none.code, 2)
    assert.include(none.stderr, "no backend")
  })

  it("takes user or group as a member list's --type, and nothing else", async () => {
    const r = await local("groups", "members", "list", "--group-id", "g1", "--type", "device")
    assert.strictEqual(r.code, 2)
    assert.include(r.stderr, "--type")
  })
})

describe("local mode on SQLite", () => {
  beforeAll(async () => {
    for (
      const args of [
        [...DM, "create", "--type", "deviceEnrollmentLimitConfiguration", "--display-name", "Limit", "--priority", "1", "--body", '{"id":"c1"}'],
        ["groups", "create", "--display-name", "Sales", "--body", '{"id":"g1"}'],
        ["users", "create", "--display-name", "Ada", "--body", '{"id":"u1"}'],
        ["invitations", "create", "--invited-user-email-address", "bob@fabrikam.com", "--invite-redirect-url", "https://myapps.microsoft.com", "--body", '{"id":"i1"}'],
        ["groups", "members", "ref", "create", "--group-id", "g1", "--directory-object-id", "u1"]
      ]
    ) {
      const r = await local(...args)
      assert.strictEqual(r.code, 0, `${args.join(" ")}: ${r.stderr}`)
    }
    const guest = await local("invitations", "invited-user", "get", "--invitation-id", "i1")
    const r = await local("groups", "members", "ref", "create", "--group-id", "g1", "--body", JSON.stringify({ "@odata.id": `https://graph.microsoft.com/beta/directoryObjects/${guest.json().id}` }))
    assert.strictEqual(r.code, 0, r.stderr)
  })

  it("creates an assignment from the expanded flags", async () => {
    const r = await local(...DM, "assignments", "create", "--device-enrollment-configuration-id", "c1", "--target-type", "group", "--group-id", "g1", "--filter-id", "f1", "--filter-type", "include", "--body", '{"id":"a1"}')
    assert.strictEqual(r.code, 0, r.stderr)
    const a = r.json()
    assert.deepStrictEqual(a.target, {
      "@odata.type": "#microsoft.graph.groupAssignmentTarget",
      deviceAndAppManagementAssignmentFilterId: "f1",
      deviceAndAppManagementAssignmentFilterType: "include",
      groupId: "g1"
    })
    assert.strictEqual(a.source, "direct")
    assert.match(a["@odata.etag"], /^W\/"/)
  })

  it("patches through the seed's invitation path, keeping groupId on a type switch", async () => {
    const r = await local(
      "invitations", "invited-user", "device-enrollment-configurations", "assignments", "patch",
      "--invitation-id", "i1", "--device-enrollment-configuration-id", "c1", "--enrollment-configuration-assignment-id", "a1",
      "--body", JSON.stringify({ target: { "@odata.type": "#microsoft.graph.groupAssignmentTarget" }, source: "direct" })
    )
    assert.strictEqual(r.code, 0, r.stderr)
    assert.strictEqual(r.json().target.groupId, "g1")
  })

  it("reads --body from a file and from standard input", async () => {
    const file = path.join(dir, "patch.json")
    writeFileSync(file, JSON.stringify({ target: groupTarget, sourceId: "from-file" }))
    const fromFile = await local(...DM, "assignments", "patch", "--device-enrollment-configuration-id", "c1", "--enrollment-configuration-assignment-id", "a1", "--body", `@${file}`)
    assert.strictEqual(fromFile.json().sourceId, "from-file")
    const stdin = await enrollctl(
      ["--store", "sqlite", "--data-dir", dir, "-o", "json", "users", "device-enrollment-configurations", "assignments", "patch", "--user-id", "u1", "--device-enrollment-configuration-id", "c1", "--enrollment-configuration-assignment-id", "a1", "--body", "-"],
      { input: JSON.stringify({ sourceId: "from-stdin" }) }
    )
    assert.strictEqual(stdin.code, 0, stdin.stderr)
    assert.strictEqual(stdin.json().sourceId, "from-stdin")
  })

  it("prints the domain's code and message, with an exit code per class and no stack trace", async () => {
    const bad = await local(...DM, "assignments", "patch", "--device-enrollment-configuration-id", "c1", "--enrollment-configuration-assignment-id", "a1", "--body", '{"source":"String"}')
    assert.strictEqual(bad.code, 2)
    assert.include(bad.stderr, "error BadRequest:")
    assert.include(bad.stderr, "'direct', 'policySets'")
    assert.notInclude(bad.stderr, "    at ")

    const missing = await local("invitations", "invited-user", "device-enrollment-configurations", "assignments", "get", "--invitation-id", "nope", "--device-enrollment-configuration-id", "c1", "--enrollment-configuration-assignment-id", "a1")
    assert.strictEqual(missing.code, 3)
    assert.include(missing.stderr, "error itemNotFound: invitation 'nope' not found")

    const conflict = await local(...DM, "assignments", "create", "--device-enrollment-configuration-id", "c1", "--target-type", "all-devices", "--body", '{"id":"a1"}')
    assert.strictEqual(conflict.code, 4)
    assert.include(conflict.stderr, "error Conflict:")

    const stale = await local(...DM, "assignments", "patch", "--device-enrollment-configuration-id", "c1", "--enrollment-configuration-assignment-id", "a1", "--if-match", 'W/"stale"', "--source-id", "x")
    assert.strictEqual(stale.code, 4)
    assert.include(stale.stderr, "error preconditionFailed:")

    const badJson = await local(...DM, "assignments", "patch", "--device-enrollment-configuration-id", "c1", "--enrollment-configuration-assignment-id", "a1", "--body", "{nope")
    assert.strictEqual(badJson.code, 2)
    assert.include(badJson.stderr, "--body: invalid JSON")
  })

  it("lists what reaches a user, and honours --select and yaml", async () => {
    const cfgs = await local("users", "device-enrollment-configurations", "list", "--user-id", "u1")
    assert.deepStrictEqual(cfgs.json().map((c: any) => c.id), ["c1"])
    const selected = await local(...DM, "assignments", "list", "--device-enrollment-configuration-id", "c1", "--select", "id,source")
    assert.deepStrictEqual(selected.json(), [{ id: "a1", source: "direct" }])
    const yaml = await enrollctl(["--store", "sqlite", "--data-dir", dir, "-o", "yaml", ...DM, "get", "--device-enrollment-configuration-id", "c1"])
    assert.include(yaml.stdout, "id: c1\n")
    assert.include(yaml.stdout, '"@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration"')
  })

  it("prints a readable table", async () => {
    const r = await enrollctl(["--store", "sqlite", "--data-dir", dir, "-o", "table", ...DM, "assignments", "list", "--device-enrollment-configuration-id", "c1"])
    const [header, row] = r.stdout.split("\n")
    assert.match(header!, /^ID\s+TARGET\s+SOURCE\s+SOURCE ID$/)
    assert.include(row!, "group g1 (filter f1 include)")
  })

  it("runs the configuration actions", async () => {
    const setPriority = await local(...DM, "set-priority", "--device-enrollment-configuration-id", "c1", "--priority", "7")
    assert.strictEqual(setPriority.code, 0, setPriority.stderr)
    assert.strictEqual((await local(...DM, "get", "--device-enrollment-configuration-id", "c1")).json().priority, 7)
    await local(...DM, "create", "--type", "deviceEnrollmentLimitConfiguration", "--body", '{"id":"c2"}')
    const assign = await local(...DM, "assign", "--device-enrollment-configuration-id", "c2", "--body", JSON.stringify({ enrollmentConfigurationAssignments: [{ id: "x1", target: { "@odata.type": "#microsoft.graph.allLicensedUsersAssignmentTarget" } }] }))
    assert.strictEqual(assign.code, 0, assign.stderr)
    const list = await local(...DM, "assignments", "list", "--device-enrollment-configuration-id", "c2")
    assert.deepStrictEqual(list.json().map((a: any) => a.id), ["x1"])
    const del = await local(...DM, "delete", "--device-enrollment-configuration-id", "c2")
    assert.strictEqual(del.code, 0)
    assert.strictEqual(del.stdout, "")
  })
})

describe("assign needs its --body", () => {
  let assignDir = ""
  const at = (...args: ReadonlyArray<string>) => enrollctl(["--store", "sqlite", "--data-dir", assignDir, "-o", "json", ...args])

  beforeAll(async () => {
    assignDir = await storeDir()
  })

  it("refuses assign without --body, saying what the body is, and keeps the assignments", async () => {
    await assignWithoutBody(at)
  })

  it("clears the set with an empty array", async () => {
    const r = await at(...DM, "assign", "--device-enrollment-configuration-id", "c4", "--body", '{"enrollmentConfigurationAssignments":[]}')
    assert.strictEqual(r.code, 0, r.stderr)
    assert.deepStrictEqual((await at(...DM, "assignments", "list", "--device-enrollment-configuration-id", "c4")).json(), [])
  })
})

describe("--select in local mode (the server's $select rules)", () => {
  let selectDir = ""
  const at = (...args: ReadonlyArray<string>) => enrollctl(["--store", "sqlite", "--data-dir", selectDir, ...args])

  beforeAll(async () => {
    selectDir = await storeDir()
    for (
      const args of [
        ["users", "create", "--display-name", "Ada", "--body", '{"id":"u1"}'],
        [...DM, "create", "--type", "deviceEnrollmentLimitConfiguration", "--body", '{"id":"c1","limit":5}'],
        [...DM, "create", "--type", "windowsRestoreDeviceEnrollmentConfiguration", "--body", '{"id":"c2","limit":9}']
      ]
    ) {
      const r = await at(...args)
      assert.strictEqual(r.code, 0, `${args.join(" ")}: ${r.stderr}`)
    }
  })

  it("refuses an unknown property with the server's BadRequest, exit 2, naming it", async () => {
    const r = await at("-o", "table", "users", "list", "--select", "id,bogus")
    assert.strictEqual(r.code, 2)
    assert.include(r.stderr, "error BadRequest: $select: 'bogus' is not a property of this resource")
    assert.strictEqual(r.stdout, "")
    const one = await at("-o", "json", "users", "get", "--user-id", "u1", "--select", "nope")
    assert.strictEqual(one.code, 2)
    assert.include(one.stderr, "'nope'")
  })

  it("refuses it before a write", async () => {
    const r = await at("-o", "json", "users", "create", "--body", '{"id":"u2"}', "--select", "id,bogus")
    assert.strictEqual(r.code, 2)
    assert.include(r.stderr, "'bogus'")
    assert.strictEqual((await at("users", "get", "--user-id", "u2")).code, 3)
  })

  it("takes * and a derived type's property behind its cast", async () => {
    const all = await at("-o", "json", "users", "get", "--user-id", "u1", "--select", "*")
    assert.strictEqual(all.code, 0, all.stderr)
    assert.strictEqual(all.json().displayName, "Ada")
    assert.strictEqual(all.json()["@odata.type"], "#microsoft.graph.user")
    const limit = await at("-o", "json", ...DM, "list", "--select", "id,microsoft.graph.deviceEnrollmentLimitConfiguration/limit")
    assert.strictEqual(limit.code, 0, limit.stderr)
    assert.deepStrictEqual(limit.json(), [{ id: "c1", limit: 5 }, { id: "c2", limit: null }])
    const table = await at("-o", "table", ...DM, "list", "--select", "id,microsoft.graph.deviceEnrollmentLimitConfiguration/limit,microsoft.graph.windowsRestoreDeviceEnrollmentConfiguration/limit")
    assert.strictEqual(table.code, 0, table.stderr)
    assert.deepStrictEqual(table.stdout.split("\n").map((l) => l.split(/\s+/)), [["ID", "LIMIT"], ["c1", "5"], ["c2", "9"], [""]])
  })
})

describe("--filter in local mode (the server's $filter parser)", () => {
  let filterDir = ""
  const at = (...args: ReadonlyArray<string>) => enrollctl(["--store", "sqlite", "--data-dir", filterDir, "-o", "json", ...args])

  beforeAll(async () => {
    filterDir = await storeDir()
    for (const args of filterFixture.setup) {
      const r = await at(...args)
      assert.strictEqual(r.code, 0, `${args.join(" ")}: ${r.stderr}`)
    }
  })

  it("selects by source, target type (derived types included) and group id, with and / or", async () => {
    const results = await Promise.all(filterFixture.cases.map((c) => at(...filterFixture.list(c.filter))))
    results.forEach((r, i) => {
      const c = filterFixture.cases[i]!
      assert.strictEqual(r.code, 0, `${c.filter}: ${r.stderr}`)
      assert.deepStrictEqual(r.json().map((a: any) => a.id).sort(), c.ids, c.filter)
    })
  })

  it("refuses an unsupported expression as the server does: BadRequest, exit 2", async () => {
    const [bad, empty] = await Promise.all([at(...filterFixture.list(filterFixture.unsupported)), at(...filterFixture.list(""))])
    for (const r of [bad, empty]) {
      assert.strictEqual(r.code, 2)
      assert.include(r.stderr, "error BadRequest: unsupported $filter expression:")
      assert.include(r.stderr, "supported: source eq")
      assert.strictEqual(r.stdout, "")
    }
    assert.include(bad.stderr, "'displayName eq 'x''")
  })
})

describe("--filter on users, groups and invitations in local mode (the server's directory $filter)", () => {
  let dirDir = ""
  const at = (...args: ReadonlyArray<string>) => enrollctl(["--store", "sqlite", "--data-dir", dirDir, "-o", "json", ...args])

  beforeAll(async () => {
    dirDir = await storeDir()
    await runAll(at, directoryFixture.setup)
  })

  it("keeps what the server's filter keeps: eq, ne, in, startswith, not, and, or, null, Booleans, any case", async () => {
    const results = await Promise.all(directoryFixture.cases.map((c) => at(...directoryFixture.list(c.kind, c.filter))))
    results.forEach((r, i) => {
      const c = directoryFixture.cases[i]!
      assert.strictEqual(r.code, 0, `${c.filter}: ${r.stderr}`)
      assert.deepStrictEqual(directoryFixture.keysOf(c.kind, r.json()), c.keys, `${c.kind}: ${c.filter}`)
    })
  })

  it("stops at --top items that the filter keeps", async () => {
    const r = await at("users", "list", "--filter", "userType eq 'Guest'", "--top", "2", "--select", "userType")
    assert.strictEqual(r.code, 0, r.stderr)
    assert.deepStrictEqual(r.json(), [{ userType: "Guest" }, { userType: "Guest" }])
  })

  it("refuses what the server refuses, with its BadRequest message, exit 2, before printing anything", async () => {
    const results = await Promise.all(directoryFixture.refused.map((c) => at(...directoryFixture.list(c.kind, c.filter))))
    results.forEach((r, i) => {
      const c = directoryFixture.refused[i]!
      assert.strictEqual(r.code, 2, c.filter)
      assert.match(r.stderr, /^error BadRequest: \$filter: /, c.filter)
      assert.include(r.stderr, c.says, c.filter)
      assert.include(r.stderr, "supported: p eq v, p ne v, p in (v, …), startswith(p,'text'), not, and, or, parentheses, over ", c.filter)
      assert.strictEqual(r.stdout, "")
    })
  })
})

describe("--expand assignments in local mode (the server's $expand on configurations)", () => {
  let expandDir = ""
  const cli = (...args: ReadonlyArray<string>) => enrollctl(["--store", "sqlite", "--data-dir", expandDir, ...args])
  const at = (...args: ReadonlyArray<string>) => cli("-o", "json", ...args)

  beforeAll(async () => {
    expandDir = await storeDir()
    await runAll(at, [...directoryFixture.setup, ...expandFixture.setup])
  })

  it("writes a configuration's assignments after its own properties, as its assignments list prints them, without a context", async () => {
    const [one, assignments, plain] = await Promise.all([
      at(...expandFixture.get),
      at(...expandFixture.assignmentsOfXc1),
      at(...DM, "get", "--device-enrollment-configuration-id", "xc1")
    ])
    assert.strictEqual(one.code, 0, one.stderr)
    const c = one.json()
    assert.deepStrictEqual(c.assignments, assignments.json())
    assert.deepStrictEqual(c.assignments.map((a: any) => a.id), ["xa1", "xa2"])
    assert.match(c.assignments[0]["@odata.etag"], /^W\//)
    assert.deepStrictEqual(Object.keys(c).at(-1), "assignments")
    assert.notInclude(one.stdout, "@odata.context")
    // The configuration itself is what a plain get prints (ETag included: the expansion is not part of it).
    const { assignments: _, ...own } = c
    assert.deepStrictEqual(own, plain.json())
    assert.notProperty(plain.json(), "assignments")
  })

  it("keeps the configurations --filter keeps (the server's $filter), with --expand beside it, and refuses what it cannot filter on", async () => {
    for (const { filter, ids } of expandFixture.filtered) {
      const r = await at(...DM, "list", "--filter", filter, "--expand", "assignments", "--select", "id")
      assert.strictEqual(r.code, 0, `${filter}: ${r.stderr}`)
      assert.deepStrictEqual(r.json().map((c: any) => c.id), ids, filter)
    }
    const refused = await at(...DM, "list", "--filter", expandFixture.filterRefused.filter)
    assert.strictEqual(refused.code, 2, refused.stderr)
    assert.include(refused.stderr, expandFixture.filterRefused.says)
  })

  it("expands every configuration of a list, those without assignments too, and keeps them under --select", async () => {
    const r = await at(...expandFixture.list, "--select", "id,priority")
    assert.strictEqual(r.code, 0, r.stderr)
    assert.deepStrictEqual(r.json().map((c: any) => [c.id, c.priority, c.assignments.map((a: any) => a.id)]), [["xc1", 1, ["xa1", "xa2"]], ["xc2", 2, []]])
    assert.deepStrictEqual(Object.keys(r.json()[0]), ["id", "priority", "assignments"])
  })

  it("gets a configuration through a user and an invited user it reaches, and not one it does not reach", async () => {
    const [user, invited, tenant, missing] = await Promise.all([
      at(...expandFixture.getViaUser),
      at(...expandFixture.getViaInvitation),
      at(...DM, "get", "--device-enrollment-configuration-id", "xc1"),
      at(...expandFixture.notTargeted)
    ])
    assert.strictEqual(user.code, 0, user.stderr)
    assert.strictEqual(invited.code, 0, invited.stderr)
    assert.deepStrictEqual(user.json().assignments.map((a: any) => a.id), ["xa1", "xa2"])
    const { assignments: _, ...own } = user.json()
    assert.deepStrictEqual(own, tenant.json())
    assert.deepStrictEqual(invited.json(), tenant.json())
    assert.strictEqual(missing.code, 3)
    assert.strictEqual(missing.stderr, "error itemNotFound: deviceEnrollmentConfiguration 'xc2' not found\n")
    assert.strictEqual(missing.stdout, "")
    // The configuration exists: through the tenant it is found.
    assert.strictEqual((await at(...DM, "get", "--device-enrollment-configuration-id", "xc2")).code, 0)
  })

  it("expands the configurations that reach a user and an invited user (* too)", async () => {
    const [user, invited] = await Promise.all([at(...expandFixture.viaUser), at(...expandFixture.viaInvitation)])
    for (const r of [user, invited]) {
      assert.strictEqual(r.code, 0, r.stderr)
      assert.deepStrictEqual(r.json().map((c: any) => [c.id, c.assignments.map((a: any) => a.id)]), [["xc1", ["xa1", "xa2"]]])
    }
  })

  it("shows the assignments' targets in a table column", async () => {
    const r = await cli("-o", "table", ...expandFixture.list, "--select", "id")
    assert.strictEqual(r.code, 0, r.stderr)
    assert.deepStrictEqual(r.stdout.split("\n").map((l) => l.split(/\s{2,}/)), [["ID", "ASSIGNMENTS"], ["xc1", "group dg3; all licensed users"], ["xc2", "-"], [""]])
    const yaml = await cli("-o", "yaml", ...expandFixture.get, "--select", "id")
    assert.include(yaml.stdout, "assignments:\n- \"@odata.etag\"")
  })

  it("refuses what the server's $expand refuses, with its BadRequest message, exit 2", async () => {
    const runs = await Promise.all(expandFixture.refused.flatMap((c) => [
      at(...DM, "get", "--device-enrollment-configuration-id", "xc1", "--expand", c.expand),
      at(...DM, "list", "--expand", c.expand)
    ]))
    runs.forEach((r, i) => {
      const c = expandFixture.refused[Math.floor(i / 2)]!
      assert.strictEqual(r.code, 2, c.expand)
      assert.strictEqual(r.stderr, `error BadRequest: ${c.says}\n`)
      assert.strictEqual(r.stdout, "")
    })
  })
})

describe("batch in local mode", () => {
  it("is refused as a usage error: JSON batching is the HTTP API's", async () => {
    const file = path.join(tempDir(), "batch.json")
    writeFileSync(file, JSON.stringify({ requests: [{ id: "1", method: "POST", url: "/users", body: { id: "bx" } }] }))
    const r = await local("batch", file)
    assert.strictEqual(r.code, 2)
    assert.strictEqual(r.stderr, "error Usage: batch applies to remote mode (--base-url): JSON batching is the HTTP API's ($batch); in local mode run the commands one by one\n")
    assert.strictEqual(r.stdout, "")
    assert.strictEqual((await local("users", "get", "--user-id", "bx")).code, 3)
  })
})

describe("import and export", () => {
  it("exports a tenant and imports it into an empty store unchanged", async () => {
    const exported = await local("export")
    assert.strictEqual(exported.code, 0, exported.stderr)
    const kinds = exported.stdout.trim().split("\n").map((l) => JSON.parse(l).kind)
    for (const k of ["user", "group", "invitation", "member", "configuration", "assignment"]) assert.include(kinds, k)
    const other = tempDir()
    const file = path.join(other, "tenant.jsonl")
    writeFileSync(file, exported.stdout)
    const imported = await enrollctl(["--store", "sqlite", "--data-dir", other, "import", "--create", file])
    assert.strictEqual(imported.code, 0, imported.stderr)
    const again = await enrollctl(["--store", "sqlite", "--data-dir", other, "export"])
    assert.strictEqual(again.stdout, exported.stdout)
    const twice = await enrollctl(["--store", "sqlite", "--data-dir", other, "import", file])
    assert.strictEqual(twice.code, 4)
    assert.include(twice.stderr, "already exists")
  })

  /**
   * A store made by `setup`, exported, and imported into a new store: what each step gave,
   * with the import's export already checked to be the same text.
   */
  const exportAndImport = async <A>(setup: (run: (...args: ReadonlyArray<string>) => ReturnType<typeof enrollctl>) => Promise<A>) => {
    const from = await storeDir()
    const at = (d: string, ...args: ReadonlyArray<string>) => enrollctl(["--store", "sqlite", "--data-dir", d, "-o", "json", ...args])
    const made = await setup((...args) => at(from, ...args))
    const exported = await at(from, "export")
    assert.strictEqual(exported.code, 0, exported.stderr)
    const records: Array<any> = exported.stdout.trim().split("\n").map((l) => JSON.parse(l))
    const to = tempDir()
    const file = path.join(to, "tenant.jsonl")
    writeFileSync(file, exported.stdout)
    const imported = await at(to, "import", "--create", file)
    assert.strictEqual(imported.code, 0, imported.stderr)
    assert.strictEqual((await at(to, "export")).stdout, exported.stdout)
    return { made, exported, records, into: (...args: ReadonlyArray<string>) => at(to, ...args) }
  }

  it("exports an invitation whose guest user was deleted, and imports it back without a user", async () => {
    const { exported, into, made: deletedGuest, records } = await exportAndImport(inviteTwoAndDeleteFirstGuest)
    const invitations = records.filter((r) => r.kind === "invitation")
    assert.deepStrictEqual(invitations.map((r) => [r.value.id, r.invitedUser === null]), [["i1", true], ["i2", false]])
    assert.notInclude(exported.stdout, deletedGuest)
    assert.strictEqual((await into("invitations", "get", "--invitation-id", "i1")).code, 0)
    const gone = await into("invitations", "invited-user", "get", "--invitation-id", "i1")
    assert.strictEqual(gone.code, 3)
    assert.include(gone.stderr, "error itemNotFound: invitedUser")
    assert.deepStrictEqual((await into("users", "list", "--select", "mail")).json(), [{ mail: "i2@fabrikam.com" }])
  })

  it("exports Graph's other properties of users, groups and invitations, never a password, and imports them back unchanged", async () => {
    const { exported, into, made: expected, records } = await exportAndImport(graphBodies)
    const one = (kind: string) => records.find((r) => r.kind === kind)!
    assert.deepInclude(one("user").value, expected.user)
    assert.deepInclude(one("group").value, expected.group)
    assert.deepInclude(one("invitation").value, expected.invitation)
    assert.deepInclude(one("invitation").invitedUser, expected.guest)
    assert.notInclude(exported.stdout, "passwordProfile")
    assert.notInclude(exported.stdout, "xWwvJ]6NMw+bWH-d")
    assert.deepInclude((await into("groups", "get", "--group-id", "gg1")).json() as object, expected.group)
  })

  it("refuses an import line with a property Graph does not declare, naming it", async () => {
    const other = tempDir()
    const file = path.join(other, "bad.jsonl")
    const user = { "@odata.type": "#microsoft.graph.user", id: "u1", displayName: null, userPrincipalName: null, mail: null, userType: "Member", accountEnabled: true }
    writeFileSync(file, `${JSON.stringify({ kind: "user", value: { ...user, mailNickname: "ok" } })}\n${JSON.stringify({ kind: "user", value: { ...user, id: "u2", favouriteColour: "blue" } })}\n`)
    const r = await enrollctl(["--store", "sqlite", "--data-dir", other, "import", "--create", file])
    assert.strictEqual(r.code, 2)
    assert.include(r.stderr, "line 2: value.favouriteColour")
    assert.isFalse(existsSync(path.join(other, "store.db")), "nothing is made for a refused file")
  })

  it("refuses an import line whose id holds a lone surrogate, as the server does (core 0.9.0)", async () => {
    const other = tempDir()
    const file = path.join(other, "bad.jsonl")
    // `\ud800` as JSON writes it: no UTF-8 holds it, and the store kept such a key as U+FFFD.
    writeFileSync(file, '{"kind":"user","value":{"@odata.type":"#microsoft.graph.user","id":"a\\ud800","displayName":null,"userPrincipalName":null,"mail":null,"userType":"Member","accountEnabled":true}}\n')
    const r = await enrollctl(["--store", "sqlite", "--data-dir", other, "import", "--create", file])
    assert.strictEqual(r.code, 2, r.stderr)
    assert.include(r.stderr, "line 1: value.id")
    assert.isFalse(existsSync(path.join(other, "enrollment.sqlite")), "nothing is made for a refused file")
  })

  it("refuses an invitation line without invitedUser", async () => {
    const other = tempDir()
    const file = path.join(other, "bad.jsonl")
    writeFileSync(file, JSON.stringify({ kind: "invitation", value: { "@odata.type": "#microsoft.graph.invitation", id: "i1", invitedUserEmailAddress: "a@b.c", inviteRedirectUrl: "https://x.y", invitedUserDisplayName: null, invitedUserType: "Guest", sendInvitationMessage: false, inviteRedeemUrl: "https://x.y/r", status: "PendingAcceptance" } }) + "\n")
    // --create: without it, the missing store is refused before the file is read.
    const r = await enrollctl(["--store", "sqlite", "--data-dir", other, "import", "--create", file])
    assert.strictEqual(r.code, 2)
    assert.include(r.stderr, "line 1: invitedUser: expected the guest user, or null when it was deleted")
  })

  it("validates everything before writing: a bad line writes nothing", async () => {
    const other = await storeDir()
    const file = path.join(other, "bad.jsonl")
    writeFileSync(file, [
      JSON.stringify({ kind: "user", value: { "@odata.type": "#microsoft.graph.user", id: "v1", displayName: null, userPrincipalName: null, mail: null, userType: "Member", accountEnabled: true } }),
      JSON.stringify({ kind: "configuration", value: { "@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration", id: "k1", displayName: null, description: null, priority: 0, roleScopeTagIds: [], deviceEnrollmentConfigurationType: "limit", createdDateTime: "2026-01-01T00:00:00.000Z", lastModifiedDateTime: "2026-01-01T00:00:00.000Z", version: 1 } }),
      JSON.stringify({ kind: "assignment", configurationId: "k1", value: { "@odata.type": "#microsoft.graph.enrollmentConfigurationAssignment", id: "b1", target: null, source: "String", sourceId: null } })
    ].join("\n"))
    const r = await enrollctl(["--store", "sqlite", "--data-dir", other, "import", file])
    assert.strictEqual(r.code, 2)
    assert.include(r.stderr, "line 3:")
    const users = await enrollctl(["--store", "sqlite", "--data-dir", other, "-o", "json", "users", "list"])
    assert.deepStrictEqual(users.json(), [])
  })

  it("undoes what it wrote when a write fails", async () => {
    const other = await storeDir()
    // Make the store refuse one assignment, as a failing disk or a constraint would.
    const db = new DatabaseSync(path.join(other, "enrollment.sqlite"))
    db.exec(`CREATE TRIGGER refuse BEFORE INSERT ON assignments WHEN NEW.id = 'boom' BEGIN SELECT RAISE(ABORT, 'refused'); END`)
    db.close()
    const exported = (await local("export")).stdout
    const file = path.join(other, "tenant.jsonl")
    writeFileSync(file, exported + JSON.stringify({ kind: "assignment", configurationId: "c1", value: { "@odata.type": "#microsoft.graph.enrollmentConfigurationAssignment", id: "boom", target: null, source: "direct", sourceId: null } }) + "\n")
    const r = await enrollctl(["--store", "sqlite", "--data-dir", other, "import", file])
    assert.notStrictEqual(r.code, 0)
    assert.include(r.stderr, "nothing was imported")
    assert.include(r.stderr, "the store is unavailable: refused")
    const after = await enrollctl(["--store", "sqlite", "--data-dir", other, "export"])
    assert.strictEqual(after.stdout, "")
  })

  it("refuses an invitation whose guest user has the id of a group in the tenant (one id space)", async () => {
    const dir = path.join(tempDir(), "store")
    const at = (...args: ReadonlyArray<string>) => enrollctl(["--store", "sqlite", "--data-dir", dir, ...args])
    const group = path.join(path.dirname(dir), "group.jsonl")
    writeFileSync(group, `${JSON.stringify({ kind: "group", value: { "@odata.type": "#microsoft.graph.group", id: "gx", displayName: null, description: null, mailNickname: null, securityEnabled: true } })}\n`)
    assert.strictEqual((await at("import", "--create", group)).code, 0)
    const invitation = path.join(path.dirname(dir), "invitation.jsonl")
    writeFileSync(invitation, `${JSON.stringify({
      kind: "invitation",
      value: { "@odata.type": "#microsoft.graph.invitation", id: "ix", invitedUserEmailAddress: "x@fabrikam.com", inviteRedirectUrl: "https://x", invitedUserDisplayName: null, invitedUserType: "Guest", sendInvitationMessage: false, inviteRedeemUrl: "https://x/redeem?invitation=ix", status: "PendingAcceptance" },
      invitedUser: { "@odata.type": "#microsoft.graph.user", id: "gx", displayName: null, userPrincipalName: null, mail: "x@fabrikam.com", userType: "Guest", accountEnabled: true }
    })}\n`)
    const r = await at("import", invitation)
    assert.strictEqual(r.code, 4, r.stderr)
    assert.include(r.stderr, "error Conflict: line 1: directory object 'gx' already exists")
    assert.strictEqual((await at("users", "get", "--user-id", "gx")).code, 3)
  })
})

describe("a store that cannot be opened says why", () => {
  const oneLine = (stderr: string) => assert.strictEqual(stderr.trim().split("\n").length, 1, stderr)

  it("gives the connection's reason for PostgreSQL, in one line, without the password", async () => {
    for (const url of ["postgres://postgres:hunter2secret@127.0.0.1:1/x", "postgres://postgres@127.0.0.1:1/x?password=hunter2secret"]) {
      const r = await enrollctl(["--database-url", url, "users", "list"])
      assert.strictEqual(r.code, 1, r.stderr)
      assert.include(r.stderr, "error ServiceUnavailable: cannot open the store (local postgres postgres://***@127.0.0.1:1/x")
      assert.include(r.stderr, ": connect ECONNREFUSED 127.0.0.1:1")
      assert.notInclude(r.stderr, "hunter2secret")
      oneLine(r.stderr)
    }
  })

  it("says on standard error what the upgrade of an older release's store did as local mode opened it, once", async () => {
    const data = tempDir()
    const { SqliteStore } = await import("@enrollment/store-adapter")
    const { DatabaseSync } = await import("node:sqlite")
    const db = new DatabaseSync(path.join(data, "enrollment.sqlite"))
    SqliteStore.migrate(db, { through: 1 })
    db.prepare("INSERT INTO memberships (tenant_id, group_id, member_id, member_kind) VALUES ('t', 'gone', 'u', 'user')").run()
    db.close()
    const first = await enrollctl(["--store", "sqlite", "--data-dir", data, "--tenant", "t", "users", "list", "--output", "json"])
    assert.strictEqual(first.code, 0, first.stderr)
    assert.strictEqual(first.stderr, "upgraded the store's schema from version 1 to 5 ('orphans removed', 'user principal name keys', 'set counts', 'user principal name keys kept by the store'): removed 1 membership in a group that was not there\n")
    const again = await enrollctl(["--store", "sqlite", "--data-dir", data, "--tenant", "t", "users", "list", "--output", "json"])
    assert.strictEqual(again.code, 0, again.stderr)
    assert.strictEqual(again.stderr, "")
  })

  it("says a SQLite file is not a database", async () => {
    const data = tempDir()
    writeFileSync(path.join(data, "enrollment.sqlite"), "not a database\n".repeat(100))
    const r = await enrollctl(["--store", "sqlite", "--data-dir", data, "users", "list"])
    assert.strictEqual(r.code, 1)
    assert.include(r.stderr, `error ServiceUnavailable: cannot open the store (local sqlite ${path.join(data, "enrollment.sqlite")}): file is not a database`)
    oneLine(r.stderr)
  })

  // As root every file is readable: the CLI then runs as nobody (setpriv), which cannot read root's 0600 file.
  const root = process.getuid?.() === 0
  const setpriv = root && spawnSync("setpriv", ["--version"]).status === 0
  if (root && !setpriv) console.log("SKIPPED permission test: running as root without setpriv")
  it.skipIf(root && !setpriv)("says permission denied when the file cannot be read", async () => {
    const parent = tempDir()
    chmodSync(parent, 0o755)
    const data = path.join(parent, "data")
    const made = await enrollctl(["--store", "sqlite", "--data-dir", data, "import", "--create", "-"])
    assert.strictEqual(made.code, 0, made.stderr)
    const file = path.join(data, "enrollment.sqlite")
    chmodSync(file, root ? 0o600 : 0o000)
    const via = root ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : undefined
    const r = await enrollctl(["--store", "sqlite", "--data-dir", data, "users", "list"], via === undefined ? {} : { via })
    assert.strictEqual(r.code, 1, r.stderr)
    assert.include(r.stderr, `error ServiceUnavailable: cannot open the store (local sqlite ${file}): `)
    assert.include(r.stderr, "EACCES: permission denied")
    oneLine(r.stderr)
  })
})

describe("a data directory without a store", () => {
  const user = JSON.stringify({ kind: "user", value: { "@odata.type": "#microsoft.graph.user", id: "v1", displayName: "Vera", userPrincipalName: null, mail: null, userType: "Member", accountEnabled: true } })

  it("is refused, naming the file and how a store is made, and nothing is created", async () => {
    const typo = path.join(tempDir(), "typo")
    for (const args of [["users", "list"], ["export"], [...DM, "create", "--type", "deviceEnrollmentLimitConfiguration", "--body", '{"id":"c1"}']]) {
      const r = await enrollctl(["--store", "sqlite", "--data-dir", typo, "-o", "json", ...args])
      assert.strictEqual(r.code, 2, args.join(" "))
      assert.strictEqual(r.stdout, "")
      assert.include(r.stderr, `error StoreNotFound: no store at ${path.join(typo, "enrollment.sqlite")} (--data-dir ${typo}): `)
      assert.include(r.stderr, "the server creates it on its first start")
      assert.include(r.stderr, "import --create")
    }
    assert.isFalse(existsSync(typo))
  })

  it("names ENROLLCTL_DATA_DIR, or the default, when the directory came from there", async () => {
    const cwd = tempDir()
    const fromEnv = await enrollctl(["--store", "sqlite", "users", "list"], { cwd, env: { ENROLLCTL_DATA_DIR: "typo" } })
    assert.strictEqual(fromEnv.code, 2)
    assert.include(fromEnv.stderr, "(ENROLLCTL_DATA_DIR=typo)")
    const byDefault = await enrollctl(["--store", "sqlite", "users", "list"], { cwd })
    assert.strictEqual(byDefault.code, 2)
    assert.include(byDefault.stderr, `no store at ${path.join(cwd, "data", "enrollment.sqlite")} (the default data directory ./data)`)
    assert.isFalse(existsSync(path.join(cwd, "typo")))
    assert.isFalse(existsSync(path.join(cwd, "data")))
  })

  it("import makes a store only with --create, once every line and reference is checked", async () => {
    const parent = tempDir()
    const fresh = path.join(parent, "restored")
    const good = path.join(parent, "good.jsonl")
    const dangling = path.join(parent, "dangling.jsonl")
    writeFileSync(good, `${user}\n`)
    writeFileSync(dangling, `${JSON.stringify({ kind: "member", groupId: "nope", memberId: "v1" })}\n`)
    const at = (...args: ReadonlyArray<string>) => enrollctl(["--store", "sqlite", "--data-dir", fresh, "-o", "json", ...args])

    const plain = await at("import", good)
    assert.strictEqual(plain.code, 2)
    assert.include(plain.stderr, "error StoreNotFound:")
    const refused = await at("import", "--create", dangling)
    assert.strictEqual(refused.code, 2)
    assert.include(refused.stderr, "line 1: group 'nope' is neither in the file nor in the tenant")
    assert.isFalse(existsSync(fresh))

    const created = await at("import", "--create", good)
    assert.strictEqual(created.code, 0, created.stderr)
    assert.deepStrictEqual((await at("users", "list", "--select", "id")).json(), [{ id: "v1" }])
    // Private to its user, as the server makes its data directory: every tenant's data is in it.
    assert.strictEqual(statSync(fresh).mode & 0o777, 0o700)
    assert.strictEqual(statSync(path.join(fresh, "enrollment.sqlite")).mode & 0o777, 0o600)
    // An existing store is used as it is: its ids conflict as they would without --create.
    const again = await at("import", "--create", good)
    assert.strictEqual(again.code, 4)
    assert.include(again.stderr, "error Conflict: line 1: user 'v1' already exists")
  })

  it("refuses import --create in remote mode, before anything is sent", async () => {
    const file = path.join(tempDir(), "t.jsonl")
    writeFileSync(file, `${user}\n`)
    const r = await enrollctl(["--base-url", "http://127.0.0.1:1/beta", "--token", "t", "import", "--create", file])
    assert.strictEqual(r.code, 2)
    assert.include(r.stderr, "error Usage: import --create applies to local mode")
  })
})

describe("ENROLLCTL_* variables are checked as their flags are", () => {
  it("refuses a value its flag would refuse, naming the variable", async () => {
    const cases: ReadonlyArray<readonly [Record<string, string>, string]> = [
      [{ ENROLLCTL_STORE: "memory", ENROLLCTL_OUTPUT: "bogus" }, "error Usage: ENROLLCTL_OUTPUT: expected table, json or yaml, got 'bogus'"],
      [{ ENROLLCTL_STORE: "nope" }, "error Usage: ENROLLCTL_STORE: expected sqlite, postgres or memory, got 'nope'"],
      [{ ENROLLCTL_BASE_URL: "not-a-url", ENROLLCTL_TOKEN: "t" }, "error Usage: ENROLLCTL_BASE_URL: expected the Graph API's http(s) URL"],
      [{ ENROLLCTL_DATABASE_URL: "mysql://u:hunter2secret@h/db" }, "error Usage: ENROLLCTL_DATABASE_URL: expected a PostgreSQL URL"]
    ]
    const results = await Promise.all(cases.map(([env]) => enrollctl(["users", "list"], { env })))
    results.forEach((r, i) => {
      const [env, message] = cases[i]!
      assert.strictEqual(r.code, 2, JSON.stringify(env))
      assert.strictEqual(r.stdout, "")
      assert.include(r.stderr, message)
      assert.notInclude(r.stderr, "--store")
      assert.notInclude(r.stderr, "hunter2secret")
    })
  })

  it("names the flag when the flag gave the value", async () => {
    const r = await enrollctl(["--base-url", "not-a-url", "--token", "t", "users", "list"])
    assert.strictEqual(r.code, 2)
    assert.include(r.stderr, "error Usage: --base-url: expected the Graph API's http(s) URL")
  })

  it("lets a flag win over its variable, takes a valid variable, and counts an empty one as unset", async () => {
    const flagWins = await enrollctl(["--store", "memory", "-o", "json", "users", "list"], { env: { ENROLLCTL_OUTPUT: "bogus" } })
    assert.strictEqual(flagWins.code, 0, flagWins.stderr)
    assert.deepStrictEqual(flagWins.json(), [])
    const yaml = await enrollctl(["users", "create", "--display-name", "Ada"], { env: { ENROLLCTL_STORE: "memory", ENROLLCTL_OUTPUT: "yaml" } })
    assert.strictEqual(yaml.code, 0, yaml.stderr)
    assert.include(yaml.stdout, "displayName: Ada\n")
    const empty = await enrollctl(["-o", "json", "users", "list"], { env: { ENROLLCTL_BASE_URL: "", ENROLLCTL_STORE: "memory" } })
    assert.strictEqual(empty.code, 0, empty.stderr)
    assert.deepStrictEqual(empty.json(), [])
  })
})
