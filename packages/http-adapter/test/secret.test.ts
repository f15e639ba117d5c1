/**
 * `Secret`: the one check of an HS256 secret that the server (which verifies with it) and
 * `enrollctl` (which mints with it) share, so that neither takes a secret the other refuses.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Auth, Secret, Token } from "../src/index.ts"

const dir = mkdtempSync(path.join(tmpdir(), "secret-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const fileOf = (name: string, content: string | Buffer) => {
  const file = path.join(dir, name)
  writeFileSync(file, content)
  return file
}

describe("Secret.textProblem", () => {
  it("takes 32 bytes of text or more, inner spaces included, and says what is wrong with anything else without echoing it", () => {
    const key = "k".repeat(40)
    assert.strictEqual(Secret.textProblem(key), undefined)
    assert.strictEqual(Secret.textProblem(`${key} ${key}`), undefined)
    // Bytes, as Auth.make counts: 16 two-byte characters are 32 bytes.
    assert.strictEqual(Secret.textProblem("é".repeat(16)), undefined)
    assert.doesNotThrow(() => Auth.make({ hs256Secret: "é".repeat(16) }))
    assert.strictEqual(Secret.textProblem("s".repeat(31)), "expected a secret of at least 32 bytes (RFC 7518 3.2); this one has 31")
    assert.strictEqual(Secret.textProblem(" ".repeat(40)), "expected a secret of at least 32 bytes, got whitespace only")
    assert.strictEqual(Secret.textProblem(""), "expected a secret of at least 32 bytes, got an empty one")
    for (const padded of [`${key}\n`, ` ${key}`, `\t${key}`]) {
      const problem = Secret.textProblem(padded)!
      assert.match(problem, /^expected a secret of at least 32 bytes, got one with leading or trailing whitespace/)
      assert.notInclude(problem, "kkkk")
    }
  })
})

describe("Secret.readFile", () => {
  it("reads the secret a file holds, its line break not part of it, and mints what verifies", async () => {
    const key = "k".repeat(40)
    assert.strictEqual(Secret.readFile(fileOf("line", `${key}\n`)), key)
    assert.strictEqual(Secret.readFile(fileOf("crlf", `${key}\r\n`)), key)
    const token = await Token.mint({ secret: Secret.readFile(fileOf("plain", key)), tenant: "t1" })
    const verified = await Auth.make({ hs256Secret: key }).verify(`Bearer ${token}`)
    assert.isTrue(verified.ok)
  })

  it("refuses a file that holds no secret, naming the file and why", () => {
    const sqlite = fileOf("db", Buffer.concat([Buffer.from("SQLite format 3\0", "latin1"), Buffer.alloc(100)]))
    assert.throws(() => Secret.readFile(sqlite), `${sqlite} holds no signing secret: it is a SQLite database;`)
    const large = fileOf("large", "s".repeat(Secret.maxFileBytes + 1))
    assert.throws(() => Secret.readFile(large), `${large} holds no signing secret: it is larger than 4096 bytes, which no secret is;`)
    const binary = fileOf("binary", Buffer.from([0xff, ...Buffer.from("s".repeat(40))]))
    assert.throws(() => Secret.readFile(binary), `${binary} holds no signing secret: it is not text (its bytes are not UTF-8);`)
    const control = fileOf("control", `${"s".repeat(40)}\u0000`)
    assert.throws(() => Secret.readFile(control), `${control} holds no signing secret: it is not text (it holds the control character U+0000);`)
    const short = fileOf("short", `${"s".repeat(31)}\n`)
    assert.throws(() => Secret.readFile(short), `${short}: the secret is shorter than 32 bytes; delete the file to make a new one`)
    assert.throws(() => Secret.readFile(path.join(dir, "missing")), /ENOENT/)
  })
})
