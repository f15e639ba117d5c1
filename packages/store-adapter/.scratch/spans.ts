import { Effect, Result } from "effect"
import * as SqliteStore from "../src/SqliteStore.ts"
import { assignment } from "../test/fixtures/entities.ts"
const measure = async (spans: boolean) => {
  if (spans) delete process.env.NO_SPANS; else process.env.NO_SPANS = "1"
  const db = SqliteStore.open({ filename: ":memory:" })
  const store = SqliteStore.fromDatabase(db)
  await Effect.runPromise(store.assignments.insert("t", "c", assignment("x")))
  const n = 20000
  const prog = Effect.gen(function* () {
    for (let i = 0; i < n; i++) yield* store.assignments.modify("t", "c", "x", (a) => Result.succeed({ ...a, sourceId: String(i) }))
  })
  const t0 = performance.now()
  await Effect.runPromise(prog)
  const dt = performance.now() - t0
  db.close()
  return (dt * 1000 / n).toFixed(1) + "us"
}
for (let r = 0; r < 4; r++) console.log("spans", await measure(true), "none", await measure(false))
