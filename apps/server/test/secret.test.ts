/**
 * The zero-config signing secret as the server reads it: a file that holds no plausible secret (a
 * SQLite database written over it, bytes that are not text, a file far larger than a secret) is
 * refused at start, naming the file and what to do; every secret the server or an operator writes
 * (32 characters of text or more, with a line break after it or not) is taken as before.
 */
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { DatabaseSync } from "node:sqlite"
import { afterAll, assert, describe, it } from "vitest"
import { Secret } from "../src/index.ts"
import { runToExit, serverBin } from "./child.ts"

const root = fs.mkdtempSync(path.join(os.tmpdir(), "server-secret-"))
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

/** A data directory of its own whose `auth-secret` holds `content`. */
const withSecret = (content: string | Uint8Array) => {
  const dir = fs.mkdtempSync(path.join(root, "d-"))
  const file = path.join(dir, Secret.fileName)
  fs.writeFileSync(file, content, { mode: 0o600 })
  return { dir, file }
}

const remedy = "put the secret back (from a backup of the data directory), or delete the file for the server to make a new one (tokens signed with the old one are then refused)"

describe("the signing secret's file", () => {
  it("is refused when a SQLite database was written over it, naming the file and what to do", () => {
    // Before: the server started, signing with the database's bytes read as text (what a backup to auth-secret left).
    const { dir, file } = withSecret("")
    fs.rmSync(file)
    const db = new DatabaseSync(file)
    db.exec("CREATE TABLE t (x); INSERT INTO t VALUES (1)")
    db.close()
    assert.throws(() => Secret.ensure(dir), `${file} holds no signing secret: it is a SQLite database; ${remedy}`)
  })

  it("is refused when it is not text or larger than 4 KiB", () => {
    const cases: ReadonlyArray<readonly [string | Uint8Array, string]> = [
      [Buffer.concat([Buffer.from("k".repeat(40)), Buffer.from([0xff, 0xfe])]), "it is not text (its bytes are not UTF-8)"],
      [`${"k".repeat(40)}\u0000`, "it is not text (it holds the control character U+0000)"],
      [`${"k".repeat(40)}\u001b[31m`, "it is not text (it holds the control character U+001B)"],
      [`${"k".repeat(40)}\u0085`, "it is not text (it holds the control character U+0085)"],
      ["k".repeat(4097), "it is larger than 4096 bytes, which no secret is"]
    ]
    for (const [content, why] of cases) {
      const { dir, file } = withSecret(content)
      assert.throws(() => Secret.ensure(dir), `${file} holds no signing secret: ${why}; ${remedy}`)
    }
  })

  it("takes every secret the server or an operator writes, as it took them before", () => {
    const made = Secret.ensure(fs.mkdtempSync(path.join(root, "made-")))
    assert.isTrue(made.created)
    assert.strictEqual(Secret.ensure(path.dirname(made.file)).secret, made.secret)
    const secret = crypto.randomBytes(48).toString("base64")
    const cases: ReadonlyArray<readonly [string, string]> = [
      [secret, secret],
      [`${secret}\n`, secret],
      [`${secret}\r\n`, secret],
      [`\ufeff${secret}\n`, secret],
      [`  ${"é".repeat(32)}\t\n`, "é".repeat(32)],
      ["pass phrase\twith tabs and spaces, 32+ characters", "pass phrase\twith tabs and spaces, 32+ characters"],
      ["first line of a secret\nand its second line", "first line of a secret\nand its second line"],
      ["k".repeat(4096), "k".repeat(4096)]
    ]
    for (const [content, read] of cases) {
      const { dir } = withSecret(content)
      const got = Secret.ensure(dir)
      assert.isFalse(got.created)
      assert.strictEqual(got.secret, read, JSON.stringify(content))
    }
  })

  it("stops the server's start, exit 1, naming the file", async () => {
    const { dir, file } = withSecret(Buffer.concat([Buffer.from("SQLite format 3\u0000", "latin1"), crypto.randomBytes(4000)]))
    const r = await runToExit(serverBin, { PORT: "0", DATA_DIR: dir, STORE: "memory", LOG_FORMAT: "pretty" })
    assert.strictEqual(r.code, 1, r.stderr)
    assert.include(r.stderr, `cannot start: ${file} holds no signing secret: it is a SQLite database; ${remedy}`)
  }, 30_000)
})
