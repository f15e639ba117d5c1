/**
 * What another team gets: the package as `pnpm pack` makes it (the manifest with its
 * `publishConfig` applied, the build `prepack` runs), unpacked into a `node_modules`
 * outside this workspace and imported there by Node, which runs no TypeScript from
 * `node_modules`.
 */
import { execFileSync } from "node:child_process"
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, assert, describe, it } from "vitest"

const pkgDir = fileURLToPath(new URL("..", import.meta.url))
const work = mkdtempSync(path.join(tmpdir(), "core-pack-"))
// A module a former build left in dist/ (one since removed or renamed from src/).
const stale = path.join(pkgDir, "dist", "RemovedModule.js")
afterAll(() => {
  rmSync(work, { recursive: true, force: true })
  rmSync(stale, { force: true })
})

describe("the packed package", () => {
  it("ships built JavaScript and declarations, no tests, effect as a peer, and runs from node_modules", () => {
    mkdirSync(path.dirname(stale), { recursive: true })
    writeFileSync(stale, "export const removed = 1\n")
    execFileSync("pnpm", ["pack", "--pack-destination", work], { cwd: pkgDir, stdio: "pipe" })
    const tarball = readdirSync(work).find((f) => f.endsWith(".tgz"))!
    const app = path.join(work, "app")
    const installed = path.join(app, "node_modules", "@enrollment", "core")
    mkdirSync(installed, { recursive: true })
    execFileSync("tar", ["-xzf", path.join(work, tarball), "-C", installed, "--strip-components=1"])
    const files = execFileSync("tar", ["-tzf", path.join(work, tarball)], { encoding: "utf8" }).trim().split("\n")
    assert.include(files, "package/dist/index.js")
    assert.include(files, "package/dist/index.d.ts")
    assert.include(files, "package/dist/testing/index.js")
    assert.notInclude(files, "package/dist/RemovedModule.js", "the build starts from an empty dist/")
    assert.deepStrictEqual(files.filter((f) => /\/(test|bench)\/|\.turbo|tsconfig|vitest/.test(f)), [])

    const manifest = JSON.parse(readFileSync(path.join(installed, "package.json"), "utf8"))
    assert.deepStrictEqual(manifest.exports["."], { types: "./dist/index.d.ts", default: "./dist/index.js" })
    assert.strictEqual(manifest.peerDependencies.effect, "~4.1.0")
    assert.notProperty(manifest.dependencies ?? {}, "effect")
    assert.notInclude(JSON.stringify(manifest), "workspace:")

    // The application's own effect: the one copy the package's services and schemas use.
    const effect = path.dirname(createRequire(path.join(pkgDir, "package.json")).resolve("effect/package.json"))
    symlinkSync(effect, path.join(app, "node_modules", "effect"), "dir")
    const script = `
      import { Schema } from "effect"
      import { AssignmentTarget, Assignments } from "@enrollment/core"
      import { StoreConformance } from "@enrollment/core/testing"
      const t = Schema.decodeUnknownSync(AssignmentTarget.AssignmentTarget)({ "@odata.type": "microsoft.graph.groupAssignmentTarget", groupId: "g1" })
      console.log(JSON.stringify([t["@odata.type"], t.deviceAndAppManagementAssignmentFilterType, typeof Assignments.layer, typeof StoreConformance.suite]))
    `
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: app, encoding: "utf8" })
    assert.deepStrictEqual(JSON.parse(out), ["#microsoft.graph.groupAssignmentTarget", "none", "object", "function"])
  }, 60_000)
})
