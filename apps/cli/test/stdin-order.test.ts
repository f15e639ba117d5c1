/**
 * `--body -` and `--body @file` on the ordinary commands were read before the mode and its flags
 * were checked: a usage error there (a base URL and a store both named, `--token` in local mode)
 * waited for standard input to end, and then the body's JSON error was printed instead of it.
 * `import` also read its input before finding a missing SQLite store, or remote mode's missing
 * secret. Each case runs the real CLI with a standard input left open (or a FIFO no one writes),
 * against a stub server that counts what it is sent.
 */
import { execFileSync } from "node:child_process"
import * as path from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { enrollctl, stubServer, tempDir, withOpenInput } from "./cli.ts"

describe("the mode and the flags, checked before the body or the import file is read", () => {
  let stub: Awaited<ReturnType<typeof stubServer>>
  beforeAll(async () => {
    stub = await stubServer()
  })
  afterAll(() => stub.close())

  it("refuses a usage error of the mode or the flags at once, before reading --body - or --body @file", async () => {
    const fifo = path.join(tempDir("enrollctl-stdin-order-"), "body.json")
    execFileSync("mkfifo", [fifo])
    const both = "error Usage: the flags name both a base URL (remote mode) and a store (local mode); choose one\n"
    const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
      [["--base-url", stub.baseUrl, "--store", "memory", "users", "create", "--body", "-"], both],
      [["--base-url", stub.baseUrl, "--store", "memory", "groups", "create", "--body", `@${fifo}`], both],
      [
        ["--store", "memory", "--token", "abc", "users", "patch", "--user-id", "u1", "--body", "-"],
        "error Usage: --token applies to remote mode only (--base-url): local mode runs on the store, with no token\n"
      ],
      [
        ["--store", "memory", "--timeout", "5", "device-management", "device-enrollment-configurations", "assign", "--device-enrollment-configuration-id", "c1", "--body", "-"],
        "error Usage: --timeout applies to remote mode only (--base-url): local mode sends no requests\n"
      ],
      [
        ["--store", "memory", "--data-dir", "x", "device-management", "device-enrollment-configurations", "assignments", "create", "--device-enrollment-configuration-id", "c1", "--body", "-"],
        "error Usage: --data-dir applies to SQLite (--store sqlite) and to remote mode's token, not to --store memory\n"
      ]
    ]
    for (const [args, stderr] of cases) {
      const r = await withOpenInput(args)
      assert.isDefined(r, `${args.join(" ")}: still reading its body`)
      assert.deepStrictEqual(r, { code: 2, stderr }, args.join(" "))
    }
    assert.deepStrictEqual(stub.requests, [], "nothing was sent")
  })

  it("refuses import's missing SQLite store, and remote mode's missing secret, before reading the file", async () => {
    const dir = tempDir("enrollctl-stdin-order-")
    const missing = await withOpenInput(["--store", "sqlite", "--data-dir", path.join(dir, "typo"), "import", "-"])
    assert.isDefined(missing, "import waited for standard input before finding no store")
    assert.strictEqual(missing!.code, 2, missing!.stderr)
    assert.match(missing!.stderr, /^error StoreNotFound: no store at .*typo\/enrollment\.sqlite/)
    const noSecret = await withOpenInput(["--base-url", stub.baseUrl, "--data-dir", dir, "import", "-"])
    assert.isDefined(noSecret, "import waited for standard input before finding no secret")
    assert.strictEqual(noSecret!.code, 5, noSecret!.stderr)
    assert.match(noSecret!.stderr, /^error SecretUnavailable: no token: pass --token .*auth-secret: ENOENT\)\n$/)
    assert.deepStrictEqual(stub.requests, [], "nothing was sent")
  })

  it("still reads --body - to its end, and sends it, when the mode and the flags are right", async () => {
    const waiting = await withOpenInput(["--base-url", stub.baseUrl, "--token", "t", "groups", "create", "--body", "-"], {}, 1_500)
    assert.isUndefined(waiting, "it waited for the rest of the body")
    const r = await enrollctl(["--base-url", stub.baseUrl, "--token", "t", "-o", "json", "groups", "create", "--body", "-"], {
      input: '{"displayName":"G"}'
    })
    assert.strictEqual(r.code, 0, r.stderr)
    assert.deepStrictEqual(stub.requests, ["POST /beta/groups"])
  })
})
