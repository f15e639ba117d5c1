/**
 * A flag's value that begins with `-` (CLI 0.5.1; a review following the READMEs: `users create
 * --display-name "-hello"` printed the help and exited 0 without creating anything, `-v` printed the
 * version, and `token --expires-in -1h` put the help text in `TOKEN=$(…)`): it is the flag's value,
 * as getopt_long reads one, whatever letters it holds.
 */
import { assert, describe, it } from "@effect/vitest"
import { booleanFlag, normalize } from "../src/Argv.ts"
import { enrollctl, storeDir } from "./cli.ts"

describe("a flag's value that begins with '-'", () => {
  it("is the value of a flag that takes one, in local mode on SQLite: the user is made with it, and nothing else is printed", async () => {
    const dir = await storeDir()
    const local = (...args: ReadonlyArray<string>) => enrollctl(["--store", "sqlite", "--data-dir", dir, "-o", "json", ...args])
    for (const name of ["-hello", "-v", "-h", "-x", "-1"]) {
      const made = await local("users", "create", "--display-name", name)
      assert.strictEqual(made.code, 0, `${name}: ${made.stderr}`)
      assert.strictEqual(made.json<{ displayName: string }>().displayName, name)
      assert.strictEqual(made.stderr, "", `${name}: nothing but the user is printed`)
    }
    const listed = await local("users", "list", "--select", "displayName")
    assert.sameMembers(listed.json<Array<{ displayName: string }>>().map((u) => u.displayName), ["-hello", "-v", "-h", "-x", "-1"])
  })

  it("is checked as the flag's value: a negative lifetime is the flag's own usage error (exit 2), not the help", async () => {
    const r = await enrollctl(["token", "--expires-in", "-1h", "--data-dir", await storeDir()])
    assert.strictEqual(r.code, 2, r.stderr)
    assert.strictEqual(r.stdout, "")
    assert.strictEqual(r.stderr, "error Usage: --expires-in: expected a positive lifetime of at most 1 year (1y, 31557600 seconds), seconds or a span like 30m, 1h, 7d; got '-1h'\n")
  })

  it("leaves flags that take no value, '-' (standard input), a word of '--', the = form and what follows -- as they are", () => {
    booleanFlag("force-test")
    assert.deepStrictEqual(normalize(["backup", "--force-test", "-o", "json", "f"]), ["backup", "--force-test", "-o", "json", "f"])
    assert.deepStrictEqual(normalize(["--no-force-test", "-o", "json"]), ["--no-force-test", "-o", "json"])
    assert.deepStrictEqual(normalize(["--help", "-v"]), ["--help", "-v"])
    assert.deepStrictEqual(normalize(["--body", "-"]), ["--body", "-"])
    assert.deepStrictEqual(normalize(["--top", "--select", "id"]), ["--top", "--select", "id"])
    assert.deepStrictEqual(normalize(["--display-name=-x", "-o", "json"]), ["--display-name=-x", "-o", "json"])
    assert.deepStrictEqual(normalize(["--display-name", "-x", "--", "--filter", "-y"]), ["--display-name=-x", "--", "--filter", "-y"])
    assert.deepStrictEqual(normalize(["--top", "-5"]), ["--top=-5"])
  })
})
