/**
 * The bench's temporary directories (the servers' data, a scale run's million rows) are removed
 * when its process exits.
 */
import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { existsSync } from "node:fs"
import { join } from "node:path"
import { pathToFileURL } from "node:url"

describe("the bench's temporary directories", () => {
  it("are removed, with what they hold, when the process that made them exits", () => {
    const proc = pathToFileURL(join(import.meta.dirname, "../src/Proc.ts")).href
    const r = spawnSync(process.execPath, [
      "--input-type=module",
      "-e",
      `import { tempDir } from ${JSON.stringify(proc)}
import { writeFileSync, mkdirSync } from "node:fs"
const dir = tempDir("proc-test")
mkdirSync(dir + "/data")
writeFileSync(dir + "/data/enrollment.sqlite", "x".repeat(1000))
console.log(dir)`
    ], { encoding: "utf8", timeout: 30_000 })
    assert.strictEqual(r.status, 0, r.stderr)
    const dir = r.stdout.trim()
    assert.match(dir, /enrollment-proc-test-/)
    assert.isFalse(existsSync(dir), `${dir} is left behind`)
  })
})
