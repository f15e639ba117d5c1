/**
 * A request that reads a list page after page (a directory `$count`, a filtered or cast page)
 * gives the event loop a turn between two reads, so the other requests are served meanwhile: on a
 * synchronous store (SQLite) such a request read the whole set in one turn, and every other
 * request waited (an audit: 375 ms for a `$count` of 100 000 users under a long `$filter`).
 */
import { Effect } from "effect"
import { assert, describe, it } from "vitest"
import { Routes } from "../src/index.ts"

/** A list of `size` ids read synchronously, counting the reads and the event loop's turns between them. */
const list = (size: number) => {
  const seen = { reads: 0, turnsBetween: 0 }
  let turned = false
  const read = (page: { after?: string | undefined; limit: number }) =>
    Effect.sync(() => {
      if (seen.reads > 0 && turned) seen.turnsBetween++
      seen.reads++
      turned = false
      setImmediate(() => (turned = true))
      const from = page.after === undefined ? 0 : Number(page.after) + 1
      const items = Array.from({ length: Math.max(0, Math.min(page.limit, size - from)) }, (_, i) => ({ id: String(from + i).padStart(6, "0") }))
      const last = from + items.length - 1
      return { items, next: last < size - 1 ? String(last) : undefined }
    })
  return { read, seen }
}

describe("a request that reads page after page", () => {
  it("counts with a turn of the event loop between every two pages", async () => {
    const { read, seen } = list(5_500)
    assert.strictEqual(await Effect.runPromise(Routes.countAll(read) as Effect.Effect<number>), 5_500)
    assert.strictEqual(seen.reads, 6)
    assert.strictEqual(seen.turnsBetween, 5)
  })

  it("reads a filtered page with a turn of the event loop between every two reads", async () => {
    const { read, seen } = list(20_000)
    // keeps one object in a thousand: the page reads on until it has 5
    const kept = Routes.keptPage((p) => read(p), (a: { id: string }): a is { id: string } => a.id.endsWith("999"), { limit: 5 })
    // The routes' lists need the services of a request; this one needs none.
    const page = await Effect.runPromise(kept as Effect.Effect<Effect.Success<typeof kept>>)
    assert.deepStrictEqual(page.items.map((a) => a.id), ["000999", "001999", "002999", "003999", "004999"])
    assert.isAbove(seen.reads, 1)
    assert.strictEqual(seen.turnsBetween, seen.reads - 1)
  })
})
