/**
 * `enrollctl import` and user principal names (core 0.11.0), in local mode (SQLite) and remote
 * mode (the real server): two users of one name in one file refuse the second line before anything
 * is written (exit 2); a name a user of the tenant holds refuses its line when written, the lines
 * before it undone (exit 2, as the server's 400 is); so does an invitation whose guest's name such
 * a user holds; a file exported from a tenant where two invitations link one guest imports; and
 * an invitation whose guest was deleted, imported after another of its address, leaves that
 * invitation's guest alone (remote mode: the server links it, and it is not deleted).
 */
import type { ChildProcess } from "node:child_process"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { enrollctl, fileOf, jsonl, type Run, startServer, storeDir, tempDir, userLine } from "./cli.ts"

const started: Array<ChildProcess> = []
const dataDir = tempDir("enrollctl-upn-server-")
let baseUrl = ""

beforeAll(async () => {
  baseUrl = await startServer(dataDir, {}, (c) => started.push(c))
})
afterAll(() => {
  for (const child of started) child.kill("SIGTERM")
})

const message = "Another object with the same value for property userPrincipalName already exists."

/** A user line of `id` named `upn`. */
const named = (id: string, upn: string) => {
  const line = userLine(id)
  return { ...line, value: { ...line.value, userPrincipalName: upn } }
}
/** An invitation line as export writes one, with its guest. */
const invitationLine = (id: string, email: string, guestId: string) => ({
  kind: "invitation",
  value: {
    "@odata.type": "#microsoft.graph.invitation",
    id,
    invitedUserEmailAddress: email,
    inviteRedirectUrl: "https://example.com",
    invitedUserDisplayName: null,
    invitedUserType: "Guest",
    sendInvitationMessage: false,
    inviteRedeemUrl: `https://example.com/redeem?invitation=${id}`,
    status: "PendingAcceptance"
  },
  invitedUser: {
    "@odata.type": "#microsoft.graph.user",
    id: guestId,
    displayName: null,
    userPrincipalName: `${email.replace("@", "_")}#EXT#`,
    mail: email,
    userType: "Guest",
    accountEnabled: true
  }
})

type At = (...args: ReadonlyArray<string>) => Promise<Run>

/** The CLI in each mode, printing JSON, in a tenant of the test's own. */
const modes: ReadonlyArray<readonly [string, (tenant: string) => Promise<At>]> = [
  ["local", async () => {
    const dir = await storeDir()
    return (...args) => enrollctl(["--store", "sqlite", "--data-dir", dir, "-o", "json", ...args])
  }],
  ["remote", async (tenant) => {
    const token = await enrollctl(["token", "--data-dir", dataDir, "--tenant", tenant])
    assert.strictEqual(token.code, 0, token.stderr)
    return (...args) => enrollctl(["--base-url", baseUrl, "--token", token.stdout.trim(), "-o", "json", ...args])
  }]
]

const ids = (r: Run) => (r.json() as ReadonlyArray<{ readonly id: string }>).map((u) => u.id).sort()

for (const [mode, make] of modes) {
  describe(`enrollctl import (${mode}) and user principal names`, () => {
    it("refuses the second of two users of one name in the file (any case) as invalid input, writing nothing", async () => {
      const at = await make(`t-upn-file-${mode}`)
      const r = await at("import", fileOf(jsonl([named("a1", "Ada@Contoso.com"), named("a2", "ada@contoso.COM")])))
      assert.strictEqual(r.code, 2, r.stderr)
      assert.strictEqual(
        r.stderr,
        "error BadRequest: line 2: userPrincipalName 'ada@contoso.COM' of user 'a2' is also user 'a1''s on line 1 " +
          "(a user principal name is unique in a tenant, compared without regard to case)\n"
      )
      assert.deepStrictEqual(ids(await at("users", "list", "--select", "id")), [])
    })

    it("refuses a line whose name a user of the tenant holds when it is written, and undoes the lines before it", async () => {
      const at = await make(`t-upn-held-${mode}`)
      assert.strictEqual((await at("import", fileOf(jsonl([named("h1", "held@contoso.com")])))).code, 0)
      const r = await at("import", fileOf(jsonl([named("n1", "new@contoso.com"), named("n2", "HELD@contoso.com")])))
      assert.strictEqual(r.code, 2, r.stderr)
      assert.strictEqual(r.stderr, `error BadRequest: line 2: ${message}; nothing was imported\n`)
      assert.deepStrictEqual(ids(await at("users", "list", "--select", "id")), ["h1"])
      // an invitation whose guest's name a member of the tenant holds: refused too, the line before undone
      assert.strictEqual((await at("import", fileOf(jsonl([named("m1", "member_example.com#EXT#")])))).code, 0)
      const invited = await at("import", fileOf(jsonl([named("n3", "n3@contoso.com"), invitationLine("i1", "member@example.com", "g1")])))
      assert.strictEqual(invited.code, 2, invited.stderr)
      assert.match(invited.stderr, new RegExp(`^error BadRequest: line 2: ${message.replaceAll(".", "\\.")}`))
      assert.deepStrictEqual(ids(await at("users", "list", "--select", "id")), ["h1", "m1"])
    })

    it("imports a file where two invitations link one guest, as export writes it, making the guest once", async () => {
      const at = await make(`t-upn-linked-${mode}`)
      const r = await at("import", fileOf(jsonl([invitationLine("i1", "guest@example.com", "g1"), invitationLine("i2", "guest@example.com", "g1")])))
      assert.strictEqual(r.code, 0, r.stderr)
      const users = (await at("users", "list")).json() as ReadonlyArray<{ readonly id: string; readonly mail: string }>
      assert.deepStrictEqual(users.map((u) => u.mail), ["guest@example.com"])
      const guests = await Promise.all(["i1", "i2"].map(async (i) => (await at("invitations", "invited-user", "get", "--invitation-id", i)).json().id))
      assert.deepStrictEqual(guests, [users[0]!.id, users[0]!.id])
    })

    it("keeps the guest of an earlier line when an invitation of its address whose guest was deleted follows", async () => {
      const at = await make(`t-upn-dangling-${mode}`)
      const { invitedUser: _, ...dangling } = invitationLine("i1", "same@example.com", "gone")
      const r = await at("import", fileOf(jsonl([invitationLine("i2", "same@example.com", "g2"), { ...dangling, invitedUser: null }])))
      assert.strictEqual(r.code, 0, r.stderr)
      const guest = await at("invitations", "invited-user", "get", "--invitation-id", "i2")
      assert.strictEqual(guest.code, 0, guest.stderr)
      assert.strictEqual(guest.json().mail, "same@example.com")
      assert.deepStrictEqual(ids(await at("users", "list", "--select", "id")), [guest.json().id])
    })
  })
}
