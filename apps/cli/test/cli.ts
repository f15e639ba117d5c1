/**
 * Driving the real CLI as a user would: each call spawns `bin/enrollctl.js`
 * under the running Node (24, type stripping), with its own environment.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import { type AddressInfo, createServer } from "node:net"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { PgClient } from "@effect/sql-pg"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { afterAll } from "vitest"

export const shim = fileURLToPath(new URL("../bin/enrollctl.js", import.meta.url))
export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url))

/** The server's entry (apps/server), run from its sources. */
export const serverMain = path.join(repoRoot, "apps/server/src/main.ts")

/** A port free right now (the server refuses PORT=0). */
const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer()
    s.on("error", reject)
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as AddressInfo).port
      s.close(() => resolve(port))
    })
  })

/**
 * The real server (apps/server) on SQLite in `dataDir` on a free port, with `env` added; answers
 * its base URL once it listens. `started` receives the process (for the caller to stop).
 */
export const startServer = async (dataDir: string, env: Record<string, string>, started: (child: ChildProcess) => void) => {
  const port = await freePort()
  return new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [serverMain], {
      env: { ...process.env, PORT: String(port), HOST: "127.0.0.1", DATA_DIR: dataDir, STORE: "sqlite", LOG_LEVEL: "none", ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    started(child)
    let out = ""
    const onData = (d: string) => {
      out += d
      const m = /listening on (http:\/\/\S+\/beta)/.exec(out)
      if (m) resolve(m[1]!)
    }
    child.stderr.setEncoding("utf8").on("data", onData)
    child.stdout.setEncoding("utf8").on("data", onData)
    child.on("exit", (code) => reject(new Error(`server exited ${code}: ${out}`)))
  })
}

export interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
  readonly ms: number
  json<A = any>(): A
}

/**
 * Runs `enrollctl ...args` (the shim, which runs the install's bundle while it is
 * current, or `script`); `input` goes to standard input. ENROLLCTL_* of the caller
 * are not inherited.
 */
export const enrollctl = (
  args: ReadonlyArray<string>,
  options: {
    readonly input?: string
    readonly env?: Record<string, string>
    readonly cwd?: string
    /** What to run instead of the shim (a bundle's entry). */
    readonly script?: string
    /** A command that runs Node for the CLI, e.g. `setpriv …` to run it as another user. */
    readonly via?: ReadonlyArray<string>
  } = {}
): Promise<Run> =>
  new Promise((resolve, reject) => {
    const env: Record<string, string> = {}
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("ENROLLCTL_")) env[k] = v
    const started = performance.now()
    const [command, ...before] = [...(options.via ?? []), process.execPath]
    const child = spawn(command!, [...before, options.script ?? shim, ...args], {
      env: { ...env, ...options.env },
      cwd: options.cwd ?? process.cwd(),
      stdio: ["pipe", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (d) => (stdout += d))
    child.stderr.setEncoding("utf8").on("data", (d) => (stderr += d))
    child.on("error", reject)
    child.on("close", (code) =>
      resolve({
        code: code ?? -1,
        stdout,
        stderr,
        ms: performance.now() - started,
        json: () => JSON.parse(stdout)
      }))
    child.stdin.end(options.input ?? "")
  })

/**
 * Runs `enrollctl ...args` with a standard input that stays open after the first bytes of a JSON
 * text (a producer that has not finished), the `ENROLLCTL_*` variables of the test's environment
 * left out and `env` added: how it ended, or `undefined` when it was still running after `ms` (it is
 * then killed). What a command must refuse before it reads its input ends at once.
 */
export const withOpenInput = (args: ReadonlyArray<string>, env: Record<string, string> = {}, ms = 8_000) =>
  new Promise<{ code: number; stderr: string } | undefined>((resolve) => {
    const clean: Record<string, string> = {}
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("ENROLLCTL_")) clean[k] = v
    const child = spawn(process.execPath, [shim, ...args], { env: { ...clean, ...env }, stdio: ["pipe", "pipe", "pipe"] })
    let stderr = ""
    child.stderr.setEncoding("utf8").on("data", (d) => (stderr += d))
    child.stdin.write('{"displayName":')
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      resolve(undefined)
    }, ms)
    child.on("close", (code) => {
      clearTimeout(timer)
      child.stdin.destroy()
      resolve({ code: code ?? -1, stderr })
    })
  })

/** The temporary directories a test file made: removed after its tests (a run left hundreds behind). */
const made: Array<string> = []
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** A fresh temporary directory, removed after the test file's tests. */
export const tempDir = (prefix = "enrollctl-") => {
  const dir = mkdtempSync(path.join(tmpdir(), prefix))
  made.push(dir)
  return dir
}

/**
 * A server of the test's own on a free port: `handle` answers (or does not), and every request is
 * counted (`METHOD url`, and in `authorized` whether it carried an Authorization header); without
 * `handle`, each is answered 200 with an empty list. Closed by `close`.
 */
export const stubServer = async (handle?: (req: IncomingMessage, res: ServerResponse) => void) => {
  const requests: Array<string> = []
  const authorized: Array<boolean> = []
  const server: Server = createHttpServer((req, res) => {
    requests.push(`${req.method} ${req.url}`)
    authorized.push(req.headers.authorization !== undefined)
    if (handle !== undefined) handle(req, res)
    else res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ value: [] }))
    req.resume()
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/beta`,
    requests,
    authorized,
    close: () => {
      server.closeAllConnections()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}

/**
 * A fresh data directory holding an empty SQLite store, made the documented
 * way (local mode opens only a store that exists): `import --create` of nothing.
 */
export const storeDir = async (options: { readonly script?: string } = {}): Promise<string> => {
  const dir = tempDir()
  const r = await enrollctl(["--store", "sqlite", "--data-dir", dir, "import", "--create", "-"], options)
  if (r.code !== 0) throw new Error(`cannot make a store in ${dir}: ${r.stderr}`)
  return dir
}

/**
 * The `--filter` data set both modes are checked on: one configuration whose
 * assignments cover every filtered property, and what each filter selects.
 */
export const filterFixture = (() => {
  const DM = ["device-management", "device-enrollment-configurations"]
  const t = (type: string, groupId?: string) => ({ "@odata.type": `#microsoft.graph.${type}`, ...(groupId ? { groupId } : {}) })
  const assignments = [
    { id: "f1", target: t("groupAssignmentTarget", "g1"), source: "direct" },
    { id: "f2", target: t("exclusionGroupAssignmentTarget", "g2"), source: "direct" },
    { id: "f3", target: t("allDevicesAssignmentTarget"), source: "policySets", sourceId: "ps1" },
    { id: "f4", target: t("groupAssignmentTarget", "g1"), source: "policySets", sourceId: "ps1" },
    { id: "f5", target: null, source: "direct" },
    { id: "f6", target: t("allLicensedUsersAssignmentTarget"), source: "direct" }
  ]
  return {
    configurationId: "cf",
    /** The commands that create the data set. */
    setup: [
      [...DM, "create", "--type", "deviceEnrollmentLimitConfiguration", "--body", '{"id":"cf"}'],
      [...DM, "assign", "--device-enrollment-configuration-id", "cf", "--body", JSON.stringify({ enrollmentConfigurationAssignments: assignments })]
    ],
    /** The list command with a filter. */
    list: (filter: string) => [...DM, "assignments", "list", "--device-enrollment-configuration-id", "cf", "--filter", filter, "--select", "id"],
    /** Filters and the ids they select. */
    cases: [
      { filter: "source eq 'policySets'", ids: ["f3", "f4"] },
      // Exclusion-group targets derive from group targets, so isof includes them.
      { filter: "isof(target,'microsoft.graph.groupAssignmentTarget')", ids: ["f1", "f2", "f4"] },
      { filter: "target/groupId eq 'g1'", ids: ["f1", "f4"] },
      { filter: "source eq 'direct' and (target/groupId eq 'g2' or isof(target,'microsoft.graph.allLicensedUsersAssignmentTarget'))", ids: ["f2", "f6"] }
    ],
    unsupported: "displayName eq 'x'"
  }
})()

/**
 * A user, a group and an invitation made from the bodies Graph documents, with
 * properties beyond the modelled ones (core 0.4.0 keeps them): a user with
 * `mailNickname` and a `passwordProfile` (never kept), a Microsoft 365 group with
 * `groupTypes` and `mailEnabled`, an invitation with `invitedUserMessageInfo`; the
 * guest's `department` set by PATCH. Made through `at` (the CLI in one mode and
 * tenant, printing JSON). Answers what an export must carry.
 */
export const graphBodies = async (at: (...args: ReadonlyArray<string>) => Promise<Run>) => {
  const expected = {
    user: { id: "gu1", mailNickname: "AdeleV", businessPhones: ["+1 425 555 0109"], onPremisesExtensionAttributes: { extensionAttribute1: "x", extensionAttribute2: null } },
    group: { id: "gg1", groupTypes: ["Unified"], mailEnabled: true, mailNickname: "library", securityEnabled: false },
    invitation: { id: "gi1", invitedUserMessageInfo: { customizedMessageBody: "Welcome", messageLanguage: "en-US", ccRecipients: [{ emailAddress: { address: "cc@fabrikam.com" } }] } },
    guest: { department: "Partners" }
  }
  const run = async (...args: ReadonlyArray<string>) => {
    const r = await at(...args)
    if (r.code !== 0) throw new Error(`${args.slice(0, 2).join(" ")}: ${r.stderr}`)
    return r
  }
  await run("users", "create", "--display-name", "Adele Vance", "--body", JSON.stringify({
    ...expected.user,
    accountEnabled: true,
    userPrincipalName: "AdeleV@contoso.com",
    passwordProfile: { forceChangePasswordNextSignIn: true, password: "xWwvJ]6NMw+bWH-d" }
  }))
  await run("groups", "create", "--display-name", "Library Assist", "--body", JSON.stringify(expected.group))
  await run("invitations", "create", "--invited-user-email-address", "admin@fabrikam.com", "--invite-redirect-url", "https://myapp.contoso.com", "--body", JSON.stringify(expected.invitation))
  const guest = (await run("invitations", "invited-user", "get", "--invitation-id", "gi1")).json()
  await run("users", "patch", "--user-id", String(guest.id), "--body", JSON.stringify(expected.guest))
  await run("groups", "members", "ref", "create", "--group-id", "gg1", "--directory-object-id", String(guest.id))
  return expected
}

/**
 * Two invitations, `i1` and `i2`, then `i1`'s guest user deleted (Graph allows it), through
 * `at` (the CLI in one mode and tenant, printing JSON): the dangling invitation export must keep.
 * Answers the deleted user's id.
 */
export const inviteTwoAndDeleteFirstGuest = async (at: (...args: ReadonlyArray<string>) => Promise<Run>): Promise<string> => {
  for (const id of ["i1", "i2"]) {
    const r = await at("invitations", "create", "--invited-user-email-address", `${id}@fabrikam.com`, "--invite-redirect-url", "https://myapps.microsoft.com", "--body", JSON.stringify({ id }))
    if (r.code !== 0) throw new Error(`invitations create ${id}: ${r.stderr}`)
  }
  const guest = (await at("invitations", "invited-user", "get", "--invitation-id", "i1")).json()
  const deleted = await at("users", "delete", "--user-id", guest.id)
  if (deleted.code !== 0) throw new Error(`users delete: ${deleted.stderr}`)
  return String(guest.id)
}

/**
 * Makes configuration c4 holding one assignment (k1), runs `assign` on it without `--body`
 * (with `extra` flags), checks the usage error says what to send and that the set is as it
 * was, and answers the run (for a mode's own checks). `at` runs the CLI printing JSON.
 */
export const assignWithoutBody = async (at: (...args: ReadonlyArray<string>) => Promise<Run>, ...extra: ReadonlyArray<string>): Promise<Run> => {
  const DM = ["device-management", "device-enrollment-configurations"]
  const check = (ok: boolean, what: string) => {
    if (!ok) throw new Error(what)
  }
  check((await at(...DM, "create", "--type", "deviceEnrollmentLimitConfiguration", "--body", '{"id":"c4"}')).code === 0, "create c4")
  const set = await at(...DM, "assign", "--device-enrollment-configuration-id", "c4", "--body", JSON.stringify({ enrollmentConfigurationAssignments: [{ id: "k1", target: null }] }))
  check(set.code === 0, `assign k1: ${set.stderr}`)
  const r = await at(...DM, "assign", "--device-enrollment-configuration-id", "c4", ...extra)
  check(r.code === 2, `exit ${r.code}, expected 2: ${r.stderr}`)
  for (const text of ["error Usage: --body is required", '{"enrollmentConfigurationAssignments":[…]}', "an empty array clears the set"]) {
    check(r.stderr.includes(text), `stderr lacks ${text}: ${r.stderr}`)
  }
  const list = await at(...DM, "assignments", "list", "--device-enrollment-configuration-id", "c4", "--select", "id")
  check(JSON.stringify(list.json()) === JSON.stringify([{ id: "k1" }]), `the set changed: ${list.stdout}`)
  return r
}

/**
 * The directory `--filter` data set (users, groups, invitations) both modes are
 * checked on, and what each filter keeps, as the server's `$filter` on those lists
 * keeps it. Each invitation makes a guest user (`erin_fabrikam.com#EXT#`), so user
 * lists are compared by `userPrincipalName`, which guests have deterministically.
 */
export const directoryFixture = (() => {
  const body = (v: object) => ["--body", JSON.stringify(v)]
  const invite = (id: string, email: string, name: string, send: boolean) => [
    "invitations", "create", "--invited-user-email-address", email, "--invite-redirect-url", "https://myapps.microsoft.com",
    ...body({ id, invitedUserDisplayName: name, sendInvitationMessage: send })
  ]
  const lists = {
    users: { args: ["users", "list"], key: "userPrincipalName" },
    groups: { args: ["groups", "list"], key: "id" },
    invitations: { args: ["invitations", "list"], key: "id" }
  } as const
  type Kind = keyof typeof lists
  const c = (kind: Kind, filter: string, keys: ReadonlyArray<string>) => ({ kind, filter, keys: [...keys].sort() })
  return {
    setup: [
      ["users", "create", ...body({ id: "du1", displayName: "Ada Lovelace", userPrincipalName: "ada@contoso.com", userType: "Member", accountEnabled: true })],
      ["users", "create", ...body({ id: "du2", displayName: "Bob", userPrincipalName: "bob@contoso.com", mail: "bob@contoso.com", userType: "Member", accountEnabled: false })],
      ["users", "create", ...body({ id: "du3", displayName: "Adam", userPrincipalName: "adam@fabrikam.com", userType: "Guest", accountEnabled: true })],
      ["groups", "create", ...body({ id: "dg1", displayName: "Sales", mailNickname: "sales", securityEnabled: true })],
      ["groups", "create", ...body({ id: "dg2", displayName: "Sales EU", mailNickname: "sales-eu", securityEnabled: false, description: "Europe" })],
      ["groups", "create", ...body({ id: "dg3", displayName: "Marketing", mailNickname: "mkt", securityEnabled: true })],
      invite("di1", "erin@fabrikam.com", "Erin", false),
      invite("di2", "frank@northwind.com", "Frank", true)
    ],
    /** The list command of a case, printing JSON of the case's key only. */
    list: (kind: Kind, filter: string, ...extra: ReadonlyArray<string>) => [...lists[kind].args, "--filter", filter, "--select", lists[kind].key, ...extra],
    /** The keys (UPNs, ids) a list printed. */
    keysOf: (kind: Kind, printed: ReadonlyArray<Record<string, unknown>>) => printed.map((o) => String(o[lists[kind].key])).sort(),
    cases: [
      // Strings compare without regard to case.
      c("users", "startswith(userPrincipalName,'ADA')", ["ada@contoso.com", "adam@fabrikam.com"]),
      c("users", "userType eq 'Guest' and accountEnabled eq true", ["adam@fabrikam.com", "erin_fabrikam.com#EXT#", "frank_northwind.com#EXT#"]),
      c("users", "accountEnabled eq false or mail eq 'ERIN@fabrikam.com'", ["bob@contoso.com", "erin_fabrikam.com#EXT#"]),
      c("users", "mail eq null and not (userType eq 'Guest')", ["ada@contoso.com"]),
      c("users", "id in ('du1', 'DU2', 'nope')", ["ada@contoso.com", "bob@contoso.com"]),
      c("groups", "startswith(displayName,'sales')", ["dg1", "dg2"]),
      c("groups", "securityEnabled eq true and not startswith(mailNickname,'sales')", ["dg3"]),
      c("groups", "description ne null", ["dg2"]),
      c("groups", "displayName in ('marketing', 'Sales')", ["dg1", "dg3"]),
      c("invitations", "invitedUserEmailAddress eq 'FRANK@northwind.com'", ["di2"]),
      c("invitations", "status eq 'PendingAcceptance'", ["di1", "di2"]),
      c("invitations", "startswith(invitedUserDisplayName,'e') or sendInvitationMessage eq true", ["di1", "di2"]),
      c("invitations", "sendInvitationMessage eq false", ["di1"])
    ],
    /** Expressions the server refuses, with a part of its message. */
    refused: [
      { kind: "users" as Kind, filter: "bogus eq 'x'", says: "'bogus' is not a property that can be filtered on" },
      { kind: "users" as Kind, filter: "accountEnabled eq 'yes'", says: "accountEnabled is boolean: compare it with true or false" },
      { kind: "groups" as Kind, filter: "", says: "'' is not an expression" },
      { kind: "invitations" as Kind, filter: "source eq 'direct'", says: "'source' is not a property that can be filtered on" }
    ]
  }
})()

/**
 * The `--expand assignments` data set: configuration xc1 with two assignments (a group
 * and all licensed users, so it reaches every user, du1 and di1's guest included), xc2
 * with none. Run after {@link directoryFixture}'s setup (the users and invitations).
 */
export const expandFixture = (() => {
  const DM = ["device-management", "device-enrollment-configurations"]
  const assignments = [
    { id: "xa1", target: { "@odata.type": "#microsoft.graph.groupAssignmentTarget", groupId: "dg3" } },
    { id: "xa2", target: { "@odata.type": "#microsoft.graph.allLicensedUsersAssignmentTarget" } }
  ]
  return {
    setup: [
      [...DM, "create", "--type", "deviceEnrollmentLimitConfiguration", "--priority", "1", "--body", '{"id":"xc1","limit":3}'],
      [...DM, "create", "--type", "deviceEnrollmentLimitConfiguration", "--priority", "2", "--body", '{"id":"xc2"}'],
      [...DM, "assign", "--device-enrollment-configuration-id", "xc1", "--body", JSON.stringify({ enrollmentConfigurationAssignments: assignments })]
    ],
    get: [...DM, "get", "--device-enrollment-configuration-id", "xc1", "--expand", "assignments"],
    list: [...DM, "list", "--expand", "assignments"],
    viaUser: ["users", "device-enrollment-configurations", "list", "--user-id", "du1", "--expand", "*", "--select", "id"],
    viaInvitation: ["invitations", "invited-user", "device-enrollment-configurations", "list", "--invitation-id", "di1", "--expand", "assignments", "--select", "id"],
    /** xc1 through du1 and through di1's guest (it reaches every user), with its assignments. */
    getViaUser: ["users", "device-enrollment-configurations", "get", "--user-id", "du1", "--device-enrollment-configuration-id", "xc1", "--expand", "assignments"],
    getViaInvitation: ["invitations", "invited-user", "device-enrollment-configurations", "get", "--invitation-id", "di1", "--device-enrollment-configuration-id", "xc1"],
    /** xc2 has no assignment: it reaches no user, so through a user it is not found. */
    notTargeted: ["users", "device-enrollment-configurations", "get", "--user-id", "du1", "--device-enrollment-configuration-id", "xc2"],
    /** xc1's assignments as its assignments list prints them. */
    assignmentsOfXc1: [...DM, "assignments", "list", "--device-enrollment-configuration-id", "xc1"],
    /** The tenant's list under `--filter` (since cli 0.6.0), with what it keeps of xc1 and xc2. */
    filtered: [
      { filter: "id eq 'XC2' or deviceEnrollmentConfigurationType eq 'windows10EnrollmentCompletionPageConfiguration'", ids: ["xc2"] },
      { filter: "deviceEnrollmentConfigurationType eq 'limit' and displayName eq null", ids: ["xc1", "xc2"] },
      { filter: "startswith(id,'xc') and not (id eq 'xc1')", ids: ["xc2"] }
    ],
    filterRefused: { filter: "priority eq '1'", says: "'priority' is not a property that can be filtered on" },
    refused: [
      { expand: "assignments($select=id)", says: "$expand: options inside an expansion ('assignments($select=id)') are not supported; expand 'assignments' whole" },
      { expand: "target", says: "$expand: 'target' is not a navigation property of this resource; expected 'assignments' or *" }
    ]
  }
})()

/** Runs `commands` through `at`, failing on the first that fails. */
export const runAll = async (at: (...args: ReadonlyArray<string>) => Promise<Run>, commands: ReadonlyArray<ReadonlyArray<string>>) => {
  for (const args of commands) {
    const r = await at(...args)
    if (r.code !== 0) throw new Error(`${args.slice(0, 3).join(" ")}: exit ${r.code}: ${r.stderr}`)
  }
}

/** Import lines: one JSON record a line. */
export const jsonl = (records: ReadonlyArray<unknown>) => records.map((r) => `${JSON.stringify(r)}\n`).join("")

/** An import record of a limit configuration as export writes one (id `c1`), `value`'s members over it. */
export const configurationRecord = (value: Record<string, unknown> = {}) => ({
  kind: "configuration",
  value: {
    "@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration",
    id: "c1",
    displayName: null,
    description: null,
    priority: 0,
    roleScopeTagIds: [],
    deviceEnrollmentConfigurationType: "limit",
    createdDateTime: "2026-01-01T00:00:00.000Z",
    lastModifiedDateTime: "2026-01-02T00:00:00.000Z",
    version: 3,
    ...value
  }
})

/** A file of `content` in a fresh directory. */
export const fileOf = (content: string | Uint8Array, name = "tenant.jsonl") => {
  const file = path.join(tempDir(), name)
  writeFileSync(file, content)
  return file
}

/** An import line of a user whose id, name and address derive from `id`. */
export const userLine = (id: string) => ({
  kind: "user",
  value: { "@odata.type": "#microsoft.graph.user", id, displayName: id, userPrincipalName: `${id}@contoso.com`, mail: null, userType: "Member", accountEnabled: true }
})

/** An import line of a security group named `id`. */
export const groupLine = (id: string) => ({
  kind: "group",
  value: { "@odata.type": "#microsoft.graph.group", id, displayName: id, description: null, mailNickname: null, securityEnabled: true }
})

/**
 * A PostgreSQL schema and a database no other test uses (`cli_<tag>_…`, `enrollctl_<tag>_…`) on
 * the server of `url`: `direct` runs SQL as the test's own client (on `url`'s database, or `on`),
 * `fresh` is the URL of the scratch database (made by the test, which then sets `made.database`),
 * and `drop` removes the schema and, when made, the database (for `afterAll`).
 */
export const pgScratch = (url: string, tag: string) => {
  const suffix = `${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
  const schema = `cli_${tag}_${suffix}`
  const database = `enrollctl_${tag}_${suffix}`
  const direct = <A>(f: (sql: PgClient.PgClient) => Effect.Effect<A, unknown>, on: string = url) =>
    Effect.runPromise(
      Effect.gen(function*() {
        return yield* f(yield* PgClient.PgClient)
      }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(on), maxConnections: 1 })))
    )
  const fresh = () => {
    const u = new URL(url)
    u.pathname = `/${database}`
    return u.toString()
  }
  const made = { database: false }
  const drop = async () => {
    await direct((sql) => sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).unprepared)
    if (made.database) await direct((sql) => sql.unsafe(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`).unprepared)
  }
  return { schema, database, direct, fresh, made, drop }
}
