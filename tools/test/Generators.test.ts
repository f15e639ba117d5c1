/**
 * No generator function made per call on the request path. `Effect.gen(function*() { … })`
 * inside a function makes a new generator function every time the function runs, and V8
 * pays for each (in-process about 1.5 µs, against 0.14 µs for a generator made once); the
 * server answered PATCH and GET about 12 % faster once the route handlers were made once
 * with `Effect.fnUntraced` (BENCHMARKS.md). So in the packages and the server, `Effect.gen`
 * appears only where it runs once: a module constant, or a layer or store being built.
 * This lists those places; a new one fails here until it is made once (`Effect.fnUntraced`
 * at module or layer level) or added below with its reason.
 */
import { readdirSync, readFileSync, statSync } from "node:fs"
import { dirname, join, relative } from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..")

/** Where `Effect.gen` may appear, and why each runs once. */
const allowed: Readonly<Record<string, { readonly count: number; readonly why: string }>> = {
  "packages/core/src/Assignments.ts": { count: 1, why: "the layer's constructor" },
  "packages/core/src/Configurations.ts": { count: 1, why: "the layer's constructor" },
  "packages/core/src/DirectoryService.ts": { count: 1, why: "the layer's constructor" },
  "packages/core/src/Ids.ts": { count: 1, why: "a module constant" },
  "packages/http-adapter/src/Routes.ts": { count: 1, why: "`ready`, a module constant" },
  "packages/store-adapter/src/SqliteStore.ts": { count: 1, why: "`make`, once per store" },
  "packages/store-adapter/src/PostgresStore.ts": { count: 3, why: "the store's constructor, the migrations, the layer" },
  "packages/store-adapter/src/SqliteBackup.ts": { count: 1, why: "`backup`'s scope, once per backup (an operator's command, never a request)" },
  "apps/server/src/ServerConfig.ts": { count: 1, why: "the configuration, read at start" }
}

const sources = (dir: string): Array<string> =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    // `src/testing` is the stores' conformance suite, run by tests only.
    if (statSync(path).isDirectory()) return name === "testing" ? [] : sources(path)
    return name.endsWith(".ts") ? [path] : []
  })

/** `Effect.gen(` occurrences per file of the request path (packages and the server). */
export const occurrences = (): Record<string, number> => {
  const dirs = [
    ...readdirSync(join(root, "packages")).map((p) => join(root, "packages", p, "src")),
    join(root, "apps", "server", "src")
  ]
  const found: Record<string, number> = {}
  for (const file of dirs.flatMap(sources)) {
    const n = readFileSync(file, "utf8").match(/\bEffect\.gen\(/g)?.length ?? 0
    if (n > 0) found[relative(root, file)] = n
  }
  return found
}

describe("generator functions on the request path", () => {
  it("Effect.gen appears only where it runs once", () => {
    const found = occurrences()
    const unexpected = Object.entries(found)
      .filter(([file, n]) => n > (allowed[file]?.count ?? 0))
      .map(([file, n]) => `${file}: ${n} Effect.gen (allowed ${allowed[file]?.count ?? 0}); make the generator once with Effect.fnUntraced`)
    expect(unexpected).toEqual([])
  })

  it("finds what it looks for", () => {
    // The scan sees the allowed ones: a scan that found nothing would pass the check above.
    const found = occurrences()
    expect(found["packages/core/src/Assignments.ts"]).toBe(1)
    expect(found["packages/store-adapter/src/PostgresStore.ts"]).toBe(3)
  })
})
