/**
 * A vitest global setup for the packages whose tests make temporary files (test support, not
 * shipped): the run's test files, and every process they start, make them under one directory of
 * the run's own, removed when the run ends. It sets `TMPDIR`, which `os.tmpdir()` reads at each
 * call and child processes inherit, so a test that does not clean up after itself (a failed one
 * included) leaves nothing in the machine's temporary directory. What cannot be removed (a mount
 * a test left, an immutable file) is named on standard error.
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

export default function setup(): () => void {
  const before = process.env.TMPDIR
  const root = mkdtempSync(join(tmpdir(), "enrollment-tests-"))
  // Searchable by other users, as /tmp is: tests run PostgreSQL's initdb as postgres and a store
  // as nobody in directories of their own under it (each made 0700 by mkdtemp, opened by the test).
  chmodSync(root, 0o755)
  process.env.TMPDIR = root
  return () => {
    if (before === undefined) delete process.env.TMPDIR
    else process.env.TMPDIR = before
    try {
      rmSync(root, { recursive: true, force: true })
    } catch (error) {
      console.error(`the tests' temporary directory ${root} could not be removed: ${String(error)}`)
    }
  }
}
