/**
 * The server on a SQLite file whose write lock another process holds (a second server, a
 * `sqlite3` shell, `enrollctl` in local mode, a backup): the probes answer while a PATCH
 * waits for the lock, and the PATCH lands once the lock is let go.
 */
import { Token } from "@enrollment/http-adapter"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { DatabaseSync } from "node:sqlite"
import { assert, describe, it } from "vitest"
import { serverBin, startChild } from "./child.ts"

const secret = "a-test-secret-of-at-least-32-bytes!"
const G = "#microsoft.graph."

describe("on a SQLite file another process has locked", () => {
  it("answers /health and /ready while a PATCH waits for the write lock, and the PATCH lands once it is let go", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "server-locked-"))
    const s = await startChild(serverBin, {
      PORT: "0",
      DATA_DIR: dataDir,
      STORE: "sqlite",
      AUTH_HS256_SECRET: secret,
      DATABASE_URL: "",
      LOG_LEVEL: "none"
    })
    // The other process's connection: this test's, to the server's file.
    const other = new DatabaseSync(path.join(dataDir, "enrollment.sqlite"))
    try {
      const token = await Token.mint({ secret, tenant: "t1" })
      const call = (method: string, p: string, body?: unknown) =>
        fetch(`${s.url}/beta/deviceManagement/deviceEnrollmentConfigurations/${p}`, {
          method,
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {})
        })
      assert.strictEqual((await call("POST", "", { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: "c1" })).status, 201)
      assert.strictEqual((await call("POST", "c1/assignments", { id: "a1", target: { "@odata.type": `${G}allLicensedUsersAssignmentTarget` } })).status, 201)

      other.exec("BEGIN IMMEDIATE")
      const answered: Array<string> = []
      const patch = call("PATCH", "c1/assignments/a1", { source: "policySets", sourceId: "p1" }).then((r) => {
        answered.push("PATCH")
        return r
      })
      // Probes one after another while the PATCH waits: each answers (a server that waited for
      // the lock on its event loop answered none of them before the PATCH's 503).
      for (let i = 0; i < 5; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50))
        for (const probe of ["/health", "/ready"]) {
          const r = await fetch(`${s.url}${probe}`)
          assert.strictEqual(r.status, 200, probe)
          answered.push(probe)
        }
      }
      assert.notInclude(answered, "PATCH", "every probe answered while the PATCH waited")
      assert.isTrue(other.isTransaction, "the lock was held throughout")
      other.exec("ROLLBACK")
      const patched = await patch
      assert.strictEqual(patched.status, 200)
      assert.strictEqual(((await patched.json()) as { sourceId?: string }).sourceId, "p1")
    } finally {
      if (other.isTransaction) other.exec("ROLLBACK")
      other.close()
      await s.stop()
    }
  }, 30_000)
})
