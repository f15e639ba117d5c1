/**
 * A failed sync of the SQLite store's WAL, over real HTTP: the client gets the SPEC 6 503 and
 * nothing of the cause; the request log says what happened in an operator's terms (store-adapter
 * 0.3.1's `SqliteFailure.describeSync`), on the write the sync covered, on every later request and
 * on `/ready`. Before, the log said Node's text alone (`EIO: i/o error, fdatasync`). The sync is
 * the store's injectable one, failing as Node's `fdatasync` does on a disk that failed the
 * write-back (reproduced for real on an ext4 file system shut down under the store; README of
 * store-adapter, Durability).
 */
import { Store } from "@enrollment/core"
import { SqliteStore } from "@enrollment/store-adapter"
import { Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { errorOf, start, type TestServer } from "./support.ts"

const G = "#microsoft.graph."
const cfgs = "deviceManagement/deviceEnrollmentConfigurations"

/** What Node's `fdatasync` gives when the disk failed the write-back. */
const eio = () => Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO", errno: -5, syscall: "fdatasync" })

const said = "the store is unavailable: an I/O error syncing the WAL to disk; the writes were not made durable, and the store " +
  "fails them and every later operation (reads and ready included) until it is opened again (a restart): EIO: i/o error, fdatasync"

describe("a failed sync of the SQLite store's WAL", () => {
  let s: TestServer
  /** The next sync fails once this is set. */
  let failing = false
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sync-failure-"))

  beforeAll(async () => {
    const store = Layer.effect(
      Store,
      Effect.map(
        Effect.acquireRelease(
          Effect.sync(() => SqliteStore.open({ filename: path.join(dir, "store.db"), synchronous: "NORMAL" })),
          (db) => Effect.sync(() => db.close())
        ),
        (db) => SqliteStore.fromDatabase(db, { sync: (done) => setImmediate(() => done(failing ? eio() : undefined)) })
      )
    )
    s = await start({ store })
  })
  afterAll(async () => {
    await s?.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it("is logged in an operator's terms for the write it covered, every later request and /ready; the client hears 503 only", async () => {
    const post = (p: string, body: unknown) => s.request("POST", p, { body })
    assert.strictEqual((await post(cfgs, { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: "c1", limit: 5 })).status, 201)
    assert.strictEqual((await post(`${cfgs}/c1/assignments`, { id: "a1" })).status, 201)
    failing = true
    const patched = await s.request("PATCH", `${cfgs}/c1/assignments/a1`, { body: { sourceId: "x" } })
    const read = await s.request("GET", `${cfgs}/c1/assignments/a1`)
    const ready = await s.request("GET", "/ready", { token: null })
    for (const r of [patched, read, ready]) {
      assert.strictEqual(r.status, 503, r.text)
      assert.strictEqual(errorOf(r).code, "ServiceUnavailable")
      assert.notInclude(r.text, "EIO")
      assert.notInclude(r.text, "WAL")
      const logged = s.logs.find((l) => l.requestId === r.headers.get("request-id"))
      assert.strictEqual(String(logged?.defect), said)
    }
  })
})
