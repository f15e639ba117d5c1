/**
 * The zero-config secret on a file system without hard links (some network and FUSE mounts,
 * where `link` fails with EPERM): it is still made whole, moved into place, and read again.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, assert, describe, it, vi } from "vitest"

vi.mock("node:fs", async (original) => {
  const real = await original<typeof import("node:fs")>()
  return {
    ...real,
    linkSync: () => {
      throw Object.assign(new Error("EPERM: operation not permitted, link"), { code: "EPERM" })
    }
  }
})

const { ensure } = await import("../src/Secret.ts")
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "secret-nolink-"))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

describe("the signing secret where the file system has no hard links", () => {
  it("is made whole (mode 0600), moved into place, and the same one is read at the next start", () => {
    const made = ensure(dir)
    assert.isTrue(made.created)
    assert.isAtLeast(made.secret.length, 32)
    assert.strictEqual(fs.readFileSync(made.file, "utf8"), `${made.secret}\n`)
    assert.strictEqual(fs.statSync(made.file).mode & 0o777, 0o600)
    assert.deepStrictEqual(fs.readdirSync(dir), ["auth-secret"], "no temporary file is left")
    const again = ensure(dir)
    assert.isFalse(again.created)
    assert.strictEqual(again.secret, made.secret)
  })
})
