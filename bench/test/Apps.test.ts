/**
 * The bench measures the apps as installed: a server bundle made stale by an
 * edited source is built again before any section starts a server.
 */
import { assert, describe, it } from "@effect/vitest"
import { statSync, utimesSync } from "node:fs"
import { join } from "node:path"
import { prepare } from "../src/Apps.ts"
import { root } from "../src/Proc.ts"

describe("the apps the bench runs", () => {
  it("builds the server's bundle again when a source changed since it was built, once per run", async () => {
    const { entry } = (await import(join(root, "apps/server/bin/entry.ts"))) as { entry: () => string }
    const source = join(root, "apps/server/src/main.ts")
    // An edit as the bundle's check sees one: the source's modification time moves.
    utimesSync(source, statSync(source).atime, new Date())
    assert.isTrue(entry().endsWith("/src/main.ts"), "the entry point runs the sources while the bundle is stale")
    assert.strictEqual(await prepare("server"), "bundle, built again for this run")
    assert.isTrue(entry().endsWith("/dist/server.mjs"), "the entry point runs the bundle once it is current")
    assert.strictEqual(await prepare("server"), "bundle, built again for this run", "later calls say what the first one did")
  })
})
