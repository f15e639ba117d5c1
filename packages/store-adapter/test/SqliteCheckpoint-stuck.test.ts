import { EventEmitter } from "node:events"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { vi } from "vitest"
import { Store } from "@enrollment/core"
import { Effect, Exit, Fiber, Layer, Scope } from "effect"
import * as SqliteCheckpoint from "../src/SqliteCheckpoint.ts"
import * as SqliteStore from "../src/SqliteStore.ts"
import { assignment, configuration, freshTenant } from "./fixtures/entities.ts"

// A worker whose second checkpoint never ends (a disk that stopped answering its sync): it answers
// the first, leaving frames for the batch after it to wait for, and then answers nothing, its
// "close" included (a worker's messages are taken one after another).
const asked: Array<string> = []
vi.mock("node:worker_threads", async (importOriginal) => ({
  ...(await importOriginal<typeof import("node:worker_threads")>()),
  Worker: class extends EventEmitter {
    constructor() {
      super()
      setImmediate(() => this.emit("message", { ready: true }))
    }
    postMessage(message: string) {
      asked.push(message)
      if (message === "checkpoint" && asked.filter((m) => m === "checkpoint").length === 1) {
        setImmediate(() => this.emit("message", { log: 10, checkpointed: 5, copied: 5, busy: 0, seconds: 0.001 }))
      }
    }
    ref() {}
    unref() {}
    terminate() {
      return Promise.resolve(0)
    }
  }
}))

const dir = mkdtempSync(join(tmpdir(), "store-adapter-stuck-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe("SqliteCheckpoint with a worker stuck in a checkpoint", () => {
  it.live("closes the store closeWaitMillis into the close, lets the write it held go on and be answered, and says the WAL is left", () =>
    Effect.gen(function*() {
      const filename = join(dir, "store.db")
      const notices: Array<readonly [string, string]> = []
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(
        SqliteStore.layer({ filename, checkpointMillis: 60_000, notice: (line, level) => notices.push([line, level]) }),
        scope
      )
      const store = context.mapUnsafe.get(Store.key) as Store["Service"]
      const t = freshTenant()
      yield* store.configurations.insert(t, configuration("c"))
      // The 100th COMMIT starts the first checkpoint beside the writes, which ends leaving frames behind.
      for (let i = 1; i < SqliteCheckpoint.firstCheckpointCommits; i++) yield* store.assignments.insert(t, "c", assignment(`a${i}`))
      for (let i = 0; i < 200 && SqliteStore.checkpointStats(store)!.checkpoints === 0; i++) yield* Effect.sleep("5 millis")
      assert.strictEqual(SqliteStore.checkpointStats(store)!.checkpoints, 1)
      // The next batch waits for the second, which never ends.
      const write = yield* Effect.forkDetach(store.assignments.insert(t, "c", assignment("last")))
      yield* Effect.sleep("100 millis")
      assert.isUndefined(write.pollUnsafe(), "held by the stuck checkpoint")
      assert.deepStrictEqual(asked, ["checkpoint", "checkpoint"])
      const began = performance.now()
      yield* Scope.close(scope, Exit.void)
      const took = performance.now() - began
      assert.isAtLeast(took, SqliteCheckpoint.closeWaitMillis - 5)
      assert.isBelow(took, SqliteCheckpoint.closeWaitMillis + 1000, `the close took ${took} ms`)
      assert.deepStrictEqual(asked, ["checkpoint", "checkpoint", "close"])
      yield* Fiber.join(write)
      assert.deepStrictEqual(notices, [[
        "the checkpointer's worker was still in a checkpoint 500 ms into the store's close (a stalled disk?): the store closed " +
          "beside it; what the checkpoint has not copied stays in the WAL, which the next open recovers (the process may " +
          "not end before the disk answers the checkpoint's sync)",
        "warn"
      ]])
      // No worker had the file open here: the store's close was its last, and every write is in it.
      assert.isFalse(existsSync(`${filename}-wal`))
      yield* Effect.gen(function*() {
        assert.strictEqual(yield* (yield* Store).assignments.count(t, "c"), SqliteCheckpoint.firstCheckpointCommits)
      }).pipe(Effect.provide(SqliteStore.layer({ filename, checkpointMillis: 0 })))
    }))
})
