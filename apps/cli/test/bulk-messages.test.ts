/**
 * What import and export say is what happened: an undo that fails names every record it left
 * (kind, id, line), in both modes; a remote export a token cannot finish writes nothing; an id
 * twice in a file and an id the tenant holds fail as the README says; an import file saved as
 * UTF-16 (PowerShell 5.1's `>`) is read, and one that cannot be read says to save it as UTF-8;
 * one whose bytes are not UTF-8 is refused, naming the line, the file and the byte, with nothing
 * written; a remote import's undo names the invitations it cannot delete.
 */
import { type ChildProcess, spawnSync } from "node:child_process"
import { createServer as createHttpServer, type IncomingMessage, request as httpRequest, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import * as path from "node:path"
import { DatabaseSync } from "node:sqlite"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { enrollctl, fileOf, groupLine as group, jsonl, shim, startServer, storeDir, tempDir, userLine as user } from "./cli.ts"

const users = (n: number) => Array.from({ length: n }, (_, i) => user(`u${i + 1}`))

const ids = (r: { json(): Array<{ id: string }> }) => r.json().map((u) => u.id).sort()

const started: Array<ChildProcess> = []
const dataDir = tempDir("enrollctl-messages-server-")
let baseUrl = ""

beforeAll(async () => {
  baseUrl = await startServer(dataDir, {}, (c) => started.push(c))
})
afterAll(() => {
  for (const child of started) child.kill("SIGTERM")
})

/** The CLI against the real server, in `tenant`, with a token of `scopes` (default: every permission). */
const remote = async (tenant: string, args: ReadonlyArray<string>, scopes?: string) => {
  const token = await enrollctl(["token", "--data-dir", dataDir, "--tenant", tenant, ...(scopes === undefined ? [] : ["--scopes", scopes])])
  assert.strictEqual(token.code, 0, token.stderr)
  return enrollctl(["--base-url", baseUrl, "--token", token.stdout.trim(), "-o", "json", ...args])
}

/**
 * A proxy in front of the real server at `base`, for faults a server shows part way: `decide`
 * answers a request itself (`answer`), passes it on, or passes it on and then breaks the
 * connection without answering (the request landed, its answer is lost).
 */
const proxyTo = async (
  base: string,
  decide: (req: IncomingMessage, answer: (status: number, code: string, message: string) => void) => "forward" | "forward, then break" | void
) => {
  const target = new URL(base)
  const proxy: Server = createHttpServer((req, res) => {
    const answer = (status: number, code: string, message: string) => {
      req.resume()
      res.writeHead(status, { "content-type": "application/json" })
      res.end(JSON.stringify({ error: { code, message } }))
    }
    const how = decide(req, answer)
    if (how === undefined) return
    const upstream = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      if (how === "forward, then break") {
        up.resume()
        up.on("end", () => res.socket?.destroy())
        return
      }
      res.writeHead(up.statusCode ?? 502, up.headers)
      up.pipe(res)
    })
    req.pipe(upstream)
  })
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve))
  const via = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/beta`
  return {
    /** The CLI through the proxy, in `tenant`, with a token of every permission. */
    enrollctl: async (tenant: string, args: ReadonlyArray<string>) => {
      const token = (await enrollctl(["token", "--data-dir", dataDir, "--tenant", tenant])).stdout.trim()
      return enrollctl(["--base-url", via, "--token", token, ...args])
    },
    close: () => new Promise<void>((resolve) => proxy.close(() => resolve()))
  }
}

describe("an undo that fails names what it left", () => {
  it("local: says how many records remain and lists each (kind, id, line), which is what the store holds", async () => {
    const dir = await storeDir()
    // The store takes u1 to u14, refuses u15 (a full disk), and then deletes only u3 (the undo's
    // other deletes fail as the disk still does).
    const db = new DatabaseSync(path.join(dir, "enrollment.sqlite"))
    db.exec(`CREATE TRIGGER full BEFORE INSERT ON users WHEN NEW.id = 'u15' BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`)
    db.exec(`CREATE TRIGGER stuck BEFORE DELETE ON users WHEN OLD.id <> 'u3' BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END`)
    db.close()
    const r = await enrollctl(["--store", "sqlite", "--data-dir", dir, "import", fileOf(jsonl(users(20)))])
    assert.strictEqual(r.code, 1, r.stderr)
    const left = ["u1", "u2", "u4", "u5", "u6", "u7", "u8", "u9", "u10", "u11", "u12", "u13", "u14"]
    assert.strictEqual(
      r.stderr,
      left.map((id) => `remains: user '${id}' (line ${id.slice(1)})\n`).join("") +
        "error ServiceUnavailable: line 15: the store is unavailable: database or disk is full; " +
        "13 record(s) remain after a failed undo (1 of the 14 written were undone): " +
        left.slice(0, 10).map((id) => `user '${id}' (line ${id.slice(1)})`).join(", ") + " and 3 more (each listed above); " +
        "the undo failed with: ServiceUnavailable: the store is unavailable: disk I/O error (13 times)\n"
    )
    assert.notInclude(r.stderr, "nothing was imported")
    const held = await enrollctl(["--store", "sqlite", "--data-dir", dir, "-o", "json", "users", "list", "--select", "id"])
    assert.deepStrictEqual(ids(held), [...left].sort())
  })

  it("remote: names every record left when the server stops taking the undo's deletes, which is what the server holds", async () => {
    // The 5th user create is answered 500 and every DELETE 503 (the server's store gone), as a
    // server failing part way would answer.
    let creates = 0
    const proxy = await proxyTo(baseUrl, (req, answer) => {
      if (req.method === "POST" && req.url === "/beta/users" && ++creates === 5) return answer(500, "InternalServerError", "injected")
      if (req.method === "DELETE") return answer(503, "ServiceUnavailable", "The store is unavailable")
      return "forward"
    })
    try {
      const r = await proxy.enrollctl("t-undo-fails", ["import", fileOf(jsonl([...users(6), group("g1")]))])
      assert.strictEqual(r.code, 1, r.stderr)
      assert.strictEqual(
        r.stderr,
        "error InternalServerError: line 5: injected; 4 record(s) remain after a failed undo (0 of the 4 written were undone): " +
          "user 'u1' (line 1), user 'u2' (line 2), user 'u3' (line 3), user 'u4' (line 4); " +
          "the undo failed with: ServiceUnavailable: The store is unavailable (a write's 503 is not retried: it may have been written; check before sending it again) (4 times)\n"
      )
      assert.deepStrictEqual(ids(await remote("t-undo-fails", ["users", "list", "--select", "id"])), ["u1", "u2", "u3", "u4"])
    } finally {
      await proxy.close()
    }
  })

  it("remote: undoes a write whose connection broke after it was sent too, as one that may have landed", async () => {
    // The 3rd user create reaches the server, which writes it; its answer never comes back.
    let creates = 0
    const proxy = await proxyTo(baseUrl, (req) => req.method === "POST" && req.url === "/beta/users" && ++creates === 3 ? "forward, then break" : "forward")
    try {
      const r = await proxy.enrollctl("t-write-lost", ["import", fileOf(jsonl(users(4)))])
      assert.strictEqual(r.code, 1, r.stderr)
      assert.match(
        r.stderr,
        /^error ConnectionFailed: line 3: cannot reach http:\/\/127\.0\.0\.1:\d+\/beta: \S+ \(a write whose connection broke once sent is not retried: it may have been written; check before sending it again\); nothing was imported; line 3's had landed, and was undone too\n$/
      )
      assert.deepStrictEqual(ids(await remote("t-write-lost", ["users", "list", "--select", "id"])), [])
    } finally {
      await proxy.close()
    }
  })
})

describe("a remote import's undo names the invitations it cannot delete", () => {
  /** An import line of an invitation `id` with its guest user. */
  const invitation = (id: string) => ({
    kind: "invitation",
    value: {
      "@odata.type": "#microsoft.graph.invitation", id, invitedUserEmailAddress: `${id}@fabrikam.com`, inviteRedirectUrl: "https://myapps.microsoft.com",
      invitedUserDisplayName: null, invitedUserType: "Guest", sendInvitationMessage: false, inviteRedeemUrl: "https://x/r", status: "PendingAcceptance"
    },
    invitedUser: { ...user(`${id}-guest`).value, userPrincipalName: `${id}_fabrikam.com#EXT#`, mail: `${id}@fabrikam.com`, userType: "Guest" }
  })

  it("says which invitations remain after the undo of a failed write, not that nothing was imported", async () => {
    // The membership's write (written after the invitations) is refused; the undo deletes the
    // users and the guests, and cannot delete the invitations.
    const proxy = await proxyTo(baseUrl, (req, answer) => req.method === "POST" && req.url?.endsWith("/members/$ref") ? answer(500, "InternalServerError", "injected") : "forward")
    try {
      const file = fileOf(jsonl([user("u1"), group("g1"), invitation("i1"), invitation("i2"), { kind: "member", groupId: "g1", memberId: "u1" }]))
      const r = await proxy.enrollctl("t-invitations-stay", ["import", file])
      assert.strictEqual(r.code, 1, r.stderr)
      assert.strictEqual(
        r.stderr,
        "error InternalServerError: line 5: injected; 2 record(s) remain after the undo (2 of the 4 written were undone): " +
          "invitation 'i1' (line 3; Graph has no DELETE for invitations), invitation 'i2' (line 4; Graph has no DELETE for invitations)\n"
      )
      assert.notInclude(r.stderr, "nothing was imported")
      // What it names is what the tenant holds: the invitations, without their guests.
      assert.deepStrictEqual(ids(await remote("t-invitations-stay", ["invitations", "list", "--select", "id"])), ["i1", "i2"])
      assert.deepStrictEqual(ids(await remote("t-invitations-stay", ["users", "list", "--select", "id"])), [])
      assert.deepStrictEqual(ids(await remote("t-invitations-stay", ["groups", "list", "--select", "id"])), [])
    } finally {
      await proxy.close()
    }
  })

  it("names an invitation whose write stopped after its create, and its guest user, which it could not read", async () => {
    // The invitation is created; reading its guest user fails, so the write fails part way.
    const proxy = await proxyTo(baseUrl, (req, answer) => req.method === "GET" && req.url?.endsWith("/invitedUser") ? answer(500, "InternalServerError", "injected") : "forward")
    try {
      const r = await proxy.enrollctl("t-invitation-partway", ["import", fileOf(jsonl([user("u1"), invitation("i1")]))])
      assert.strictEqual(r.code, 1, r.stderr)
      assert.strictEqual(
        r.stderr,
        "error InternalServerError: line 2: injected; 1 record(s) remain after the undo (1 of the 1 written were undone): " +
          "invitation 'i1' (line 2; Graph has no DELETE for invitations; its guest user, not read, remains too; its write stopped part way)\n"
      )
      assert.deepStrictEqual(ids(await remote("t-invitation-partway", ["invitations", "list", "--select", "id"])), ["i1"])
      const users = (await remote("t-invitation-partway", ["users", "list", "--select", "userPrincipalName"])).json()
      assert.deepStrictEqual(users, [{ userPrincipalName: "i1_fabrikam.com#EXT#" }], "u1 was undone; the guest stays")
    } finally {
      await proxy.close()
    }
  })

  it("still says nothing was imported when no invitation was written", async () => {
    const proxy = await proxyTo(baseUrl, (req, answer) => req.method === "POST" && req.url === "/beta/groups" ? answer(500, "InternalServerError", "injected") : "forward")
    try {
      const r = await proxy.enrollctl("t-no-invitation", ["import", fileOf(jsonl([user("u1"), group("g1"), invitation("i1")]))])
      assert.strictEqual(r.code, 1, r.stderr)
      assert.strictEqual(r.stderr, "error InternalServerError: line 2: injected; nothing was imported\n")
    } finally {
      await proxy.close()
    }
  })
})

describe("remote export checks every read it needs before its first line", () => {
  it("writes nothing when the token cannot read one kind of record, whichever it is", async () => {
    const tenant = "t-export-denied"
    const made = await remote(tenant, ["import", fileOf(jsonl([...users(3), group("g1"), { kind: "member", groupId: "g1", memberId: "u1" }]))])
    assert.strictEqual(made.code, 0, made.stderr)
    const c = await remote(tenant, ["device-management", "device-enrollment-configurations", "create", "--type", "deviceEnrollmentLimitConfiguration", "--body", '{"id":"c1"}'])
    assert.strictEqual(c.code, 0, c.stderr)
    const denied = [
      { scopes: "User.Read.All DeviceManagementServiceConfig.Read.All", lacking: "Group.Read.All" },
      { scopes: "User.Read.All Group.Read.All", lacking: "DeviceManagementServiceConfig.Read.All" }
    ]
    for (const { lacking, scopes } of denied) {
      const r = await remote(tenant, ["export"], scopes)
      assert.strictEqual(r.code, 5, r.stderr)
      assert.strictEqual(r.stdout, "", `without ${lacking}, nothing is written`)
      assert.match(r.stderr, new RegExp(`^error Authorization_RequestDenied: .*${lacking.replaceAll(".", "\\.")}`))
    }
    const whole = await remote(tenant, ["export"], "User.Read.All Group.Read.All DeviceManagementServiceConfig.Read.All")
    assert.strictEqual(whole.code, 0, whole.stderr)
    assert.deepStrictEqual(whole.stdout.trim().split("\n").map((l) => JSON.parse(l).kind), ["user", "user", "user", "group", "member", "configuration"])
  })
})

describe("import's checks fail as the README says", () => {
  it("refuses an id that is twice in the file as invalid input (exit 2), and one the tenant holds as a conflict (exit 4), writing nothing", async () => {
    const dir = await storeDir()
    const at = (...args: ReadonlyArray<string>) => enrollctl(["--store", "sqlite", "--data-dir", dir, "-o", "json", ...args])
    const twice = await at("import", fileOf(jsonl([user("mm1"), user("mm1")])))
    assert.strictEqual(twice.code, 2)
    assert.strictEqual(twice.stderr, "error BadRequest: line 2: user 'mm1' is also on line 1\n")
    assert.deepStrictEqual((await at("users", "list")).json(), [])
    assert.strictEqual((await at("import", fileOf(jsonl([user("mm1")])))).code, 0)
    const held = await at("import", fileOf(jsonl([user("mm2"), user("mm1")])))
    assert.strictEqual(held.code, 4)
    assert.strictEqual(held.stderr, "error Conflict: line 2: user 'mm1' already exists\n")
    assert.deepStrictEqual(ids(await at("users", "list", "--select", "id")), ["mm1"])
  })

  it("names an assignment's property under value., as every other kind's, in both modes", async () => {
    // Before: `line 1: source: expected a value, got nothing`, and `value.body: …` for a value that is no object.
    const dir = await storeDir()
    const assignment = (value: unknown) => ({ kind: "assignment", configurationId: "c", ...(value === undefined ? {} : { value }) })
    const cases: ReadonlyArray<readonly [unknown, string]> = [
      [{ "@odata.type": "#microsoft.graph.enrollmentConfigurationAssignment", id: "a1", target: null }, "value.source: expected a value, got nothing"],
      [{ id: "a1", source: "nope", target: { "@odata.type": "#microsoft.graph.allDevicesAssignmentTarget" } }, "value.source: expected one of 'direct', 'policySets', got \"nope\""],
      [{ id: "a1", bogus: 1, target: { "@odata.type": "#microsoft.graph.allDevicesAssignmentTarget" } }, "value.bogus: 'bogus' is not a property of enrollmentConfigurationAssignment"],
      [5, "value: expected enrollmentConfigurationAssignment, got 5"],
      [undefined, "value: expected enrollmentConfigurationAssignment, got nothing"]
    ]
    for (const [value, says] of cases) {
      const file = fileOf(jsonl([assignment(value)]))
      const local = await enrollctl(["--store", "sqlite", "--data-dir", dir, "import", file])
      assert.strictEqual(local.code, 2, local.stderr)
      assert.strictEqual(local.stderr, `error BadRequest: line 1: ${says}\n`)
      const remote = await enrollctl(["--base-url", baseUrl, "--data-dir", dataDir, "import", file])
      assert.strictEqual(remote.code, 2, remote.stderr)
      assert.strictEqual(remote.stderr, local.stderr)
    }
  })
})

describe("an import file in UTF-16", () => {
  const text = jsonl([user("u1"), user("u2")])
  /** As PowerShell 5.1's `>` writes it: a byte order mark FF FE, UTF-16LE, CRLF line ends. */
  const utf16le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text.replaceAll("\n", "\r\n"), "utf16le")])
  const utf16be = Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, "utf16le").swap16()])

  it("is read as the text it holds, little- or big-endian, from a file or standard input", async () => {
    for (const [name, bytes] of [["UTF-16LE", utf16le], ["UTF-16BE", utf16be]] as const) {
      const dir = tempDir()
      const fromFile = await enrollctl(["--store", "sqlite", "--data-dir", dir, "import", "--create", fileOf(bytes)])
      assert.strictEqual(fromFile.code, 0, `${name}: ${fromFile.stderr}`)
      assert.strictEqual(fromFile.stderr, "imported 2 user(s)\n")
      const other = tempDir()
      // The bytes as they are (the harness's `input` is text).
      const fromStdin = spawnSync(process.execPath, [shim, "--store", "sqlite", "--data-dir", other, "import", "--create", "-"], { input: bytes, encoding: "utf8" })
      assert.strictEqual(fromStdin.status, 0, `${name} on standard input: ${fromStdin.stderr}`)
      const listed = await enrollctl(["--store", "sqlite", "--data-dir", other, "-o", "json", "users", "list", "--select", "id"])
      assert.deepStrictEqual(listed.json(), [{ id: "u1" }, { id: "u2" }])
    }
  })

  it("that does not decode, or UTF-32, is a usage error asking for UTF-8, and nothing is made", async () => {
    const cases = [
      { bytes: Buffer.concat([utf16le, Buffer.from([0x41])]), says: "it starts as UTF-16LE (its byte order mark) but is not valid UTF-16LE" },
      { bytes: Buffer.concat([Buffer.from([0xff, 0xfe, 0, 0]), Buffer.from("{", "utf16le")]), says: "it is UTF-32 (its byte order mark says so), which import does not read" }
    ]
    for (const c of cases) {
      const dir = path.join(tempDir(), "store")
      const file = fileOf(c.bytes)
      const r = await enrollctl(["--store", "sqlite", "--data-dir", dir, "import", "--create", file])
      assert.strictEqual(r.code, 2)
      assert.strictEqual(
        r.stderr,
        `error Usage: cannot read ${file}: ${c.says}; save it as UTF-8 (PowerShell: Out-File -Encoding utf8, or Set-Content -Encoding utf8)\n`
      )
      const after = await enrollctl(["--store", "sqlite", "--data-dir", dir, "users", "list"])
      assert.strictEqual(after.code, 2, "no store was made")
    }
  })
})

describe("an import file whose bytes are not UTF-8", () => {
  // Line 2 as a Windows-1252 (or Latin-1) editor saves it: "José" with é as the single byte E9.
  const [before, after] = jsonl([user("u1"), { ...user("u2"), value: { ...user("u2").value, displayName: "Jos\u00e9" } }, user("u3")]).split("\u00e9")
  const latin1 = Buffer.concat([Buffer.from(before!, "utf8"), Buffer.from([0xe9]), Buffer.from(after!, "utf8")])
  const offset = Buffer.byteLength(before!, "utf8")
  const remedy = "save the file as UTF-8 (PowerShell: Out-File -Encoding utf8, or Set-Content -Encoding utf8)"

  it("is invalid input naming the line, the file and the byte, and nothing is written or made", async () => {
    // Into a store that exists: nothing written.
    const dir = await storeDir()
    const file = fileOf(latin1)
    const r = await enrollctl(["--store", "sqlite", "--data-dir", dir, "import", file])
    assert.strictEqual(r.code, 2, r.stderr)
    assert.strictEqual(r.stderr, `error BadRequest: line 2: not UTF-8: byte 0xE9 at offset ${offset} of ${file} starts no UTF-8 character; ${remedy}\n`)
    const listed = await enrollctl(["--store", "sqlite", "--data-dir", dir, "-o", "json", "users", "list"])
    assert.deepStrictEqual(listed.json(), [])
    // With --create: no store is made.
    const fresh = path.join(tempDir(), "store")
    const created = await enrollctl(["--store", "sqlite", "--data-dir", fresh, "import", "--create", file])
    assert.strictEqual(created.code, 2)
    assert.strictEqual((await enrollctl(["--store", "sqlite", "--data-dir", fresh, "users", "list"])).code, 2, "no store was made")
    // From standard input (the bytes as they are), and a sequence cut short at the end of the file.
    const fromStdin = spawnSync(process.execPath, [shim, "--store", "sqlite", "--data-dir", dir, "import", "-"], { input: latin1, encoding: "utf8" })
    assert.strictEqual(fromStdin.status, 2)
    assert.strictEqual(fromStdin.stderr, `error BadRequest: line 2: not UTF-8: byte 0xE9 at offset ${offset} of standard input starts no UTF-8 character; ${remedy}\n`)
    const text = jsonl([user("u1")])
    const cutShort = fileOf(Buffer.concat([Buffer.from(text), Buffer.from([0xe2, 0x82])]))
    const short = await enrollctl(["--store", "sqlite", "--data-dir", dir, "import", cutShort])
    assert.strictEqual(short.code, 2)
    assert.strictEqual(short.stderr, `error BadRequest: line 2: not UTF-8: byte 0xE2 at offset ${Buffer.byteLength(text)} of ${cutShort} starts no UTF-8 character; ${remedy}\n`)
    assert.deepStrictEqual((await enrollctl(["--store", "sqlite", "--data-dir", dir, "-o", "json", "users", "list"])).json(), [])
  })

  it("is refused in remote mode before anything is sent", async () => {
    const file = fileOf(latin1)
    const r = await remote("t-latin1", ["import", file])
    assert.strictEqual(r.code, 2, r.stderr)
    assert.strictEqual(r.stderr, `error BadRequest: line 2: not UTF-8: byte 0xE9 at offset ${offset} of ${file} starts no UTF-8 character; ${remedy}\n`)
    assert.deepStrictEqual(ids(await remote("t-latin1", ["users", "list", "--select", "id"])), [])
  })

  it("still takes UTF-8 with its byte order mark, non-ASCII characters and U+FFFD written as UTF-8 kept", async () => {
    const dir = await storeDir()
    const names = ["Jos\u00e9", "\u00c5sa \ud83d\ude00", "x\ufffdy"]
    const text = `\uFEFF${jsonl(names.map((displayName, i) => ({ ...user(`n${i}`), value: { ...user(`n${i}`).value, displayName } })))}`
    const r = await enrollctl(["--store", "sqlite", "--data-dir", dir, "import", fileOf(Buffer.from(text, "utf8"))])
    assert.strictEqual(r.code, 0, r.stderr)
    const listed = await enrollctl(["--store", "sqlite", "--data-dir", dir, "-o", "json", "users", "list", "--select", "displayName"])
    assert.deepStrictEqual(listed.json().map((u: { displayName: string }) => u.displayName), names)
  })
})
