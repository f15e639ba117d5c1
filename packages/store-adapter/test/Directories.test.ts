import { assert, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as Directories from "../src/Directories.ts"

describe("Directories.make", () => {
  it("makes a directory and its missing parents with the mode, and answers the first it made", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "dirs-"))
    const deep = path.join(root, "a", "b", "c")
    assert.strictEqual(Directories.make(deep, 0o700), path.join(root, "a"))
    for (const d of [path.join(root, "a"), path.join(root, "a", "b"), deep]) {
      assert.isTrue(fs.statSync(d).isDirectory(), d)
      assert.strictEqual(fs.statSync(d).mode & 0o077, 0, d)
    }
    assert.strictEqual(Directories.make(deep), undefined, "there already")
  })

  it("throws the file system's error: a file on the way, and /proc (where Node's recursive mkdir loops)", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "dirs-"))
    fs.writeFileSync(path.join(root, "file"), "")
    assert.throws(() => Directories.make(path.join(root, "file", "sub")), /ENOTDIR/)
    assert.throws(() => Directories.make(path.join(root, "file")), /ENOTDIR/)
    if (fs.existsSync("/proc/self")) {
      const e = (() => {
        try {
          Directories.make(`/proc/no-such-dir-${process.pid}/data`)
        } catch (e) {
          return e as NodeJS.ErrnoException
        }
      })()
      assert.strictEqual(e?.code, "ENOENT")
    }
  })
})
