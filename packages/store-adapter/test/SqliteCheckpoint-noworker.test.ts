import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { vi } from "vitest"
import { Store } from "@enrollment/core"
import { Effect } from "effect"
import * as SqliteStore from "../src/SqliteStore.ts"
import { assignment, configuration, freshTenant } from "./fixtures/entities.ts"

// A process run with `--permission` without `--allow-worker`: every `new Worker` throws.
vi.mock("node:worker_threads", async (importOriginal) => ({
  ...(await importOriginal<typeof import("node:worker_threads")>()),
  Worker: class {
    constructor() {
      throw Object.assign(new Error("Access to this API has been restricted"), { code: "ERR_ACCESS_DENIED" })
    }
  }
}))

const dir = mkdtempSync(join(tmpdir(), "store-adapter-noworker-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe("SqliteCheckpoint without worker threads", () => {
  for (const synchronous of ["FULL", "NORMAL"] as const) {
    it.live(`answers every write and checkpoints on the connection again when no worker can start (synchronous ${synchronous})`, () =>
      Effect.gen(function*() {
        const notices: Array<readonly [string, string]> = []
        const t = freshTenant()
        yield* Effect.gen(function*() {
          const store = yield* Store
          yield* store.configurations.insert(t, configuration("c"))
          // One COMMIT after checkpointMillis: it starts the first checkpoint, whose worker cannot start.
          yield* Effect.sleep("20 millis")
          yield* Effect.forEach(Array.from({ length: 5 }, (_, i) => i), (i) => store.assignments.insert(t, "c", assignment(`a${i}`)), {
            concurrency: "unbounded",
            discard: true
          })
          yield* Effect.sleep("20 millis")
          yield* store.assignments.insert(t, "c", assignment("after"))
          assert.strictEqual(yield* store.assignments.count(t, "c"), 6)
          const stats = SqliteStore.checkpointStats(store)!
          assert.strictEqual(stats.checkpointFailures, 1)
          assert.strictEqual(stats.checkpoints, 0)
        }).pipe(Effect.provide(SqliteStore.layer({
          filename: join(dir, synchronous, "store.db"),
          synchronous,
          checkpointMillis: 5,
          notice: (line, level) => notices.push([line, level])
        })))
        assert.deepStrictEqual(notices, [[
          "the WAL's checkpoints are back on the event loop (SQLite's own): the checkpointer failed: Access to this API has been restricted",
          "warn"
        ]])
      }))
  }
})
