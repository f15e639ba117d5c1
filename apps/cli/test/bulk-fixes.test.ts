/**
 * Import and export at their edges: remote requests that the server throttles (429) or
 * cannot serve for now (503) are retried as `Retry-After` says, within bounds; local export
 * writes only memberships whose member exists, as remote export does; local import applies
 * the server's create rules; a byte order mark opens a file; a reader that stops early
 * (`export | head -1`) ends the export quietly.
 */
import { type ChildProcess, spawnSync } from "node:child_process"
import { createServer as createHttpServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import * as path from "node:path"
import { DatabaseSync } from "node:sqlite"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { retryAfterMs } from "../src/Remote.ts"
import { defaultTenant } from "../src/Settings.ts"
import { configurationRecord as configuration, enrollctl, fileOf, groupLine as group, jsonl, shim, startServer, storeDir, tempDir, userLine as user } from "./cli.ts"

const DM = ["device-management", "device-enrollment-configurations"]

// ---------------------------------------------------------------------------
// Servers

/** An HTTP server that answers every request with `status` and `headers`, counting them. */
const stub = async (status: number, headers: Record<string, string>) => {
  let requests = 0
  const server: Server = createHttpServer((req, res) => {
    requests++
    req.resume()
    res.writeHead(status, { "content-type": "application/json", ...headers })
    res.end(JSON.stringify({ error: { code: status === 429 ? "TooManyRequests" : "ServiceUnavailable", message: "Try again later" } }))
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/beta`,
    requests: () => requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

// ---------------------------------------------------------------------------

describe("remote requests retry 429 and 503 as Retry-After says", () => {
  const started: Array<ChildProcess> = []
  const dataDir = tempDir("enrollctl-throttled-")
  let baseUrl = ""
  /** The CLI against a server that takes 5 requests a second, 10 at once. */
  const at = async (tenant: string, scopes: string, ...args: ReadonlyArray<string>) => {
    const token = await enrollctl(["token", "--data-dir", dataDir, "--tenant", tenant, "--scopes", scopes])
    assert.strictEqual(token.code, 0, token.stderr)
    return enrollctl(["--base-url", baseUrl, "--token", token.stdout.trim(), "-o", "json", ...args])
  }
  const all = "Directory.ReadWrite.All DeviceManagementServiceConfig.ReadWrite.All"

  beforeAll(async () => {
    baseUrl = await startServer(dataDir, { RATE_LIMIT_PER_SECOND: "5", RATE_LIMIT_BURST: "10" }, (c) => started.push(c))
  })
  afterAll(() => {
    for (const child of started) child.kill("SIGTERM")
  })

  it("imports through a server that throttles it, waiting as told", async () => {
    // 8 existence checks and 4 creates: past the burst of 10.
    const r = await at("t-throttled", all, "import", fileOf(jsonl(["u1", "u2", "u3", "u4"].map(user))))
    assert.strictEqual(r.code, 0, r.stderr)
    assert.strictEqual(r.stderr, "imported 4 user(s)\n")
    const users = await at("t-throttled", all, "users", "list", "--select", "id")
    assert.strictEqual(users.code, 0, users.stderr)
    assert.deepStrictEqual(users.json(), [{ id: "u1" }, { id: "u2" }, { id: "u3" }, { id: "u4" }])
  })

  it("undoes a refused import through the throttling too, and says only what failed", async () => {
    // Users may be written, groups only read: the group's create is refused (403) after the users'.
    const file = fileOf(jsonl([...["v1", "v2", "v3", "v4"].map(user), group("gv")]))
    const r = await at("t-undo", "User.ReadWrite.All Group.Read.All", "import", file)
    assert.strictEqual(r.code, 5, r.stderr)
    assert.include(r.stderr, "error Authorization_RequestDenied: line 5: ")
    assert.include(r.stderr, "; nothing was imported\n")
    assert.notInclude(r.stderr, "undo step")
    assert.notInclude(r.stderr, "TooManyRequests")
    assert.deepStrictEqual((await at("t-undo", all, "users", "list")).json(), [])
  })

  it("refuses a group that is its own member before sending a write, as local import does", async () => {
    const r = await at("t-self", all, "import", fileOf(jsonl([group("gx"), { kind: "member", groupId: "gx", memberId: "gx" }])))
    assert.strictEqual(r.code, 2, r.stderr)
    assert.strictEqual(r.stderr, "error BadRequest: line 2: memberId: expected a directory object other than the group itself, got \"gx\"\n")
    assert.deepStrictEqual((await at("t-self", all, "groups", "list")).json(), [])
  })

  it("gives up after 5 retries, saying so", async () => {
    const s = await stub(429, { "retry-after": "0" })
    try {
      const r = await enrollctl(["--base-url", s.baseUrl, "--token", "t", "users", "list"])
      assert.strictEqual(r.code, 1)
      assert.strictEqual(r.stderr, "error TooManyRequests: Try again later (still 429 after 5 retries over 0 s)\n")
      assert.strictEqual(s.requests(), 6)
    } finally {
      await s.close()
    }
  })

  it("follows a next link only on the service's origin: one that leads elsewhere is refused, and the token is not sent there", async () => {
    // Another origin, which records the Authorization it is sent.
    const seen: Array<string | undefined> = []
    const elsewhere = createHttpServer((req, res) => {
      seen.push(req.headers.authorization)
      req.resume()
      res.writeHead(200, { "content-type": "application/json" })
      res.end('{"value":[]}')
    })
    await new Promise<void>((resolve) => elsewhere.listen(0, "127.0.0.1", resolve))
    const away = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}/beta/users?$skiptoken=x`
    const service = createHttpServer((req, res) => {
      req.resume()
      res.writeHead(200, { "content-type": "application/json" })
      const own = `http://127.0.0.1:${(service.address() as AddressInfo).port}/beta/users?$skiptoken=2`
      res.end(JSON.stringify(
        req.url!.includes("skiptoken=2")
          ? { value: [{ id: "u2" }], "@odata.nextLink": away }
          : { value: [{ id: "u1" }], "@odata.nextLink": own }
      ))
    })
    await new Promise<void>((resolve) => service.listen(0, "127.0.0.1", resolve))
    try {
      const baseUrl = `http://127.0.0.1:${(service.address() as AddressInfo).port}/beta`
      const r = await enrollctl(["--base-url", baseUrl, "--token", "secret-token", "users", "list"])
      assert.strictEqual(r.code, 1, r.stderr)
      assert.include(r.stderr, `error InvalidResponse: a next link leads away from http://127.0.0.1:${(service.address() as AddressInfo).port}`)
      assert.deepStrictEqual(seen, [], "nothing was sent to the other origin")
    } finally {
      await new Promise<void>((resolve) => elsewhere.close(() => resolve()))
      await new Promise<void>((resolve) => service.close(() => resolve()))
    }
  })

  it("retries a read's 503, not a write's (it may have landed), and says so", async () => {
    const s = await stub(503, { "retry-after": "0" })
    try {
      const read = await enrollctl(["--base-url", s.baseUrl, "--token", "t", "users", "list"])
      assert.strictEqual(read.code, 1)
      assert.strictEqual(read.stderr, "error ServiceUnavailable: Try again later (still 503 after 5 retries over 0 s)\n")
      assert.strictEqual(s.requests(), 6)
      const write = await enrollctl(["--base-url", s.baseUrl, "--token", "t", "users", "create", "--body", '{"id":"u1"}'])
      assert.strictEqual(write.code, 1)
      assert.strictEqual(
        write.stderr,
        "error ServiceUnavailable: Try again later (a write's 503 is not retried: it may have been written; check before sending it again)\n"
      )
      assert.strictEqual(s.requests(), 7, "the write was sent once")
    } finally {
      await s.close()
    }
  })

  it("does not start a wait longer than its budget of 60 s for one request", async () => {
    const s = await stub(503, { "retry-after": "3600" })
    try {
      const r = await enrollctl(["--base-url", s.baseUrl, "--token", "t", "users", "get", "--user-id", "u1"])
      assert.strictEqual(r.code, 1)
      assert.strictEqual(
        r.stderr,
        "error ServiceUnavailable: Try again later (not retried: the server asks to wait 3600 s, past the 60 s enrollctl waits for one request)\n"
      )
      assert.strictEqual(s.requests(), 1)
      assert.isBelow(r.ms, 10_000)
    } finally {
      await s.close()
    }
  })

  it("does not retry an import's create answered 503 (it may have landed): undoes it too, and the records before it", async () => {
    // A server whose store fails as it answers the second create (which did not land): existence
    // checks find nothing, the first create lands, the second is a 503; the undo's delete of the
    // second finds nothing, that of the first lands.
    const seen: Array<string> = []
    const server: Server = createHttpServer((req, res) => {
      seen.push(`${req.method} ${req.url}`)
      req.resume()
      const answer = (status: number, body?: unknown) => {
        res.writeHead(status, body === undefined ? {} : { "content-type": "application/json" })
        res.end(body === undefined ? undefined : JSON.stringify(body))
      }
      if (req.method === "GET") return answer(404, { error: { code: "itemNotFound", message: "not found" } })
      if (req.method === "DELETE" && req.url === "/beta/users/w1") return answer(204)
      if (req.method === "DELETE") return answer(404, { error: { code: "itemNotFound", message: "not found" } })
      const creates = seen.filter((r) => r.startsWith("POST")).length
      if (creates === 1) return answer(201, { ...user("w1"), "@odata.type": "#microsoft.graph.user" })
      return answer(503, { error: { code: "ServiceUnavailable", message: "The store is unavailable" } })
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/beta`
      const r = await enrollctl(["--base-url", base, "--token", "t", "import", fileOf(jsonl(["w1", "w2"].map(user)))])
      assert.strictEqual(r.code, 1, r.stderr)
      assert.strictEqual(
        r.stderr,
        "error ServiceUnavailable: line 2: The store is unavailable (a write's 503 is not retried: it may have been written; check before sending it again); " +
          "nothing was imported; line 2's was not in the tenant when undone (its DELETE answered 404)\n"
      )
      assert.deepStrictEqual(seen.filter((x) => !x.startsWith("GET")), [
        "POST /beta/users",
        "POST /beta/users",
        "DELETE /beta/users/w2",
        "DELETE /beta/users/w1"
      ])
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })

  it("reads Retry-After as seconds or an HTTP date, and backs off from 1 s without one", () => {
    const now = Date.parse("2026-01-01T00:00:00Z")
    assert.strictEqual(retryAfterMs("7", 0, now), 7_000)
    assert.strictEqual(retryAfterMs("Thu, 01 Jan 2026 00:00:03 GMT", 0, now), 3_000)
    // A date past is no wait the server asks for (since 0.6.2): the backoff, as for `-5` or `1.5`.
    assert.strictEqual(retryAfterMs("Wed, 31 Dec 2025 23:59:00 GMT", 0, now), 1_000)
    assert.deepStrictEqual([0, 1, 2].map((n) => retryAfterMs(null, n, now)), [1_000, 2_000, 4_000])
    assert.strictEqual(retryAfterMs("soon", 1, now), 2_000)
  })
})

describe("local export writes only memberships whose member exists", () => {
  it("leaves out a membership whose member is gone, so that the export imports again", async () => {
    const dir = tempDir()
    const at = (d: string, ...args: ReadonlyArray<string>) => enrollctl(["--store", "sqlite", "--data-dir", d, ...args])
    const made = await at(dir, "import", "--create", fileOf(jsonl([user("u1"), group("g1"), { kind: "member", groupId: "g1", memberId: "u1" }])))
    assert.strictEqual(made.code, 0, made.stderr)
    // What a store written before core 0.6.0 can hold (a delete racing an add there could leave
    // them; the store refuses them since): memberships naming a user and a group that do not exist.
    const db = new DatabaseSync(path.join(dir, "enrollment.sqlite"))
    const insert = db.prepare("INSERT INTO memberships (tenant_id, group_id, member_id, member_kind) VALUES (?, ?, ?, ?)")
    insert.run(defaultTenant, "g1", "gone-user", "user")
    insert.run(defaultTenant, "g1", "gone-group", "group")
    db.close()
    const exported = await at(dir, "export")
    assert.strictEqual(exported.code, 0, exported.stderr)
    const members = exported.stdout.trim().split("\n").map((l) => JSON.parse(l)).filter((r) => r.kind === "member")
    assert.deepStrictEqual(members, [{ kind: "member", groupId: "g1", memberId: "u1" }])
    const to = tempDir()
    const imported = await at(to, "import", "--create", fileOf(exported.stdout))
    assert.strictEqual(imported.code, 0, imported.stderr)
    assert.strictEqual((await at(to, "export")).stdout, exported.stdout)
  })
})

describe("local import applies the server's create rules", () => {
  const importInto = async (records: ReadonlyArray<unknown>) => {
    const dir = await storeDir()
    const r = await enrollctl(["--store", "sqlite", "--data-dir", dir, "import", fileOf(jsonl(records))])
    const at = (...args: ReadonlyArray<string>) => enrollctl(["--store", "sqlite", "--data-dir", dir, "-o", "json", ...args])
    return { r, at }
  }

  it("refuses a group that is its own member, naming the line, and imports nothing", async () => {
    const { at, r } = await importInto([group("gx"), { kind: "member", groupId: "gx", memberId: "gx" }])
    assert.strictEqual(r.code, 2)
    assert.strictEqual(r.stderr, "error BadRequest: line 2: memberId: expected a directory object other than the group itself, got \"gx\"\n")
    assert.deepStrictEqual((await at("groups", "list")).json(), [])
  })

  it("takes @odata.type without its # and keeps it as the server writes it", async () => {
    const { at, r } = await importInto([
      { ...user("u1"), value: { ...user("u1").value, "@odata.type": "microsoft.graph.user" } },
      { ...group("g1"), value: { ...group("g1").value, "@odata.type": "microsoft.graph.group" } },
      configuration({ "@odata.type": "microsoft.graph.deviceEnrollmentLimitConfiguration" })
    ])
    assert.strictEqual(r.code, 0, r.stderr)
    assert.strictEqual((await at(...DM, "get", "--device-enrollment-configuration-id", "c1")).json()["@odata.type"], "#microsoft.graph.deviceEnrollmentLimitConfiguration")
    assert.strictEqual((await at("users", "get", "--user-id", "u1")).json()["@odata.type"], "#microsoft.graph.user")
    assert.strictEqual((await at("groups", "get", "--group-id", "g1")).json()["@odata.type"], "#microsoft.graph.group")
  })

  it("keeps a configuration's timestamps and version only when the server could have written them", async () => {
    const cases = [
      { value: { createdDateTime: "yesterday" }, says: "value.createdDateTime: expected a date and time such as 2024-05-01T12:00:00.000Z, got \"yesterday\"" },
      { value: { lastModifiedDateTime: "2026-02-30T00:00:00Z" }, says: "value.lastModifiedDateTime: expected a date and time that exists" },
      { value: { version: 0 }, says: "value.version: expected an integer from 1 up, got 0" },
      { value: { "@odata.type": "#microsoft.graph.deviceEnrollmentConfiguration" }, says: "value.@odata.type: \"#microsoft.graph.deviceEnrollmentConfiguration\" is not an accepted type" }
    ]
    for (const c of cases) {
      const { at, r } = await importInto([user("u1"), configuration(c.value)])
      assert.strictEqual(r.code, 2, JSON.stringify(c.value))
      assert.include(r.stderr, `error BadRequest: line 2: ${c.says}`)
      assert.deepStrictEqual((await at("users", "list")).json(), [])
    }
    const { at, r } = await importInto([configuration({ createdDateTime: "2017-01-01T00:00:42.7177692-08:00" })])
    assert.strictEqual(r.code, 0, r.stderr)
    const kept = (await at(...DM, "get", "--device-enrollment-configuration-id", "c1")).json()
    assert.deepInclude(kept, { createdDateTime: "2017-01-01T00:00:42.7177692-08:00", lastModifiedDateTime: "2026-01-02T00:00:00.000Z", version: 3 })
  })

  it("refuses an invitation the server's create refuses", async () => {
    const invitation = {
      kind: "invitation",
      value: { "@odata.type": "#microsoft.graph.invitation", id: "i1", invitedUserEmailAddress: "not-an-address", inviteRedirectUrl: "https://myapps.microsoft.com", invitedUserDisplayName: null, invitedUserType: "Guest", sendInvitationMessage: false, inviteRedeemUrl: "https://x/r", status: "PendingAcceptance" },
      invitedUser: null
    }
    const { at, r } = await importInto([invitation])
    assert.strictEqual(r.code, 2)
    assert.strictEqual(r.stderr, "error BadRequest: line 1: value.invitedUserEmailAddress: expected an email address, got \"not-an-address\"\n")
    assert.deepStrictEqual((await at("invitations", "list")).json(), [])
  })
})

describe("reading and writing JSON lines", () => {
  it("takes a file that starts with a byte order mark (PowerShell 5.1 writes one), from a file and standard input", async () => {
    const text = `\uFEFF${jsonl([user("u1"), user("u2")])}`
    const fromFile = await enrollctl(["--store", "sqlite", "--data-dir", tempDir(), "import", "--create", fileOf(text)])
    assert.strictEqual(fromFile.code, 0, fromFile.stderr)
    assert.strictEqual(fromFile.stderr, "imported 2 user(s)\n")
    const dir = tempDir()
    const fromStdin = await enrollctl(["--store", "sqlite", "--data-dir", dir, "import", "--create", "-"], { input: text })
    assert.strictEqual(fromStdin.code, 0, fromStdin.stderr)
    const users = await enrollctl(["--store", "sqlite", "--data-dir", dir, "-o", "json", "users", "list", "--select", "id"])
    assert.deepStrictEqual(users.json(), [{ id: "u1" }, { id: "u2" }])
  })

  it("stops quietly with exit 0 when the reader of export closes the pipe (export | head -1)", async () => {
    const dir = tempDir()
    // Far more than a pipe holds (64 KiB), so that export is still writing when head has gone.
    const users = Array.from({ length: 3000 }, (_, i) => user(`user${String(i).padStart(4, "0")}`))
    const made = await enrollctl(["--store", "sqlite", "--data-dir", dir, "import", "--create", fileOf(jsonl(users))])
    assert.strictEqual(made.code, 0, made.stderr)
    const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`
    const r = spawnSync("bash", ["-c", `set -o pipefail; ${[process.execPath, shim, "--store", "sqlite", "--data-dir", dir, "export"].map(quote).join(" ")} | head -1`], {
      encoding: "utf8"
    })
    assert.strictEqual(r.stderr, "")
    assert.strictEqual(r.status, 0)
    assert.deepStrictEqual(JSON.parse(r.stdout), users[0])
  })
})
