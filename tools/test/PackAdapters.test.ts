/**
 * The adapters pack as their READMEs say they are released (`pnpm pack`, `pnpm publish`): the
 * tarball's manifest has every `workspace:` range turned into a version (a dev dependency on this
 * private tools package included: pnpm needs a version to put there, and without one the pack
 * failed, "Cannot resolve workspace protocol of dependency @enrollment/tools"), exports the built
 * `dist/`, asks for `@enrollment/core` as a peer at its current version, and ships no tests. Core's
 * own pack, with an import from outside the workspace, is `packages/core/test/Packaging.test.ts`.
 */
import { execFileSync } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, assert, describe, it } from "vitest"

const root = fileURLToPath(new URL("../..", import.meta.url))
const work = mkdtempSync(join(tmpdir(), "adapters-pack-"))
afterAll(() => rmSync(work, { recursive: true, force: true }))

const coreVersion: string = JSON.parse(readFileSync(join(root, "packages", "core", "package.json"), "utf8")).version

describe("the adapters' tarballs", () => {
  for (const name of ["store-adapter", "http-adapter"]) {
    it(`${name} packs with pnpm into a manifest without workspace: ranges, exporting dist/`, () => {
      const dir = join(root, "packages", name)
      const into = join(work, name)
      execFileSync("pnpm", ["pack", "--pack-destination", into], { cwd: dir, stdio: "pipe" })
      const tarball = readdirSync(into).find((f) => f.endsWith(".tgz"))
      assert.isDefined(tarball)
      const files = execFileSync("tar", ["-tzf", join(into, tarball!)], { encoding: "utf8" }).trim().split("\n")
      assert.include(files, "package/dist/index.js")
      assert.include(files, "package/dist/index.d.ts")
      assert.deepStrictEqual(files.filter((f) => /\/(test|bench)\/|\.turbo|tsconfig|vitest/.test(f)), [])
      const manifest = JSON.parse(execFileSync("tar", ["-xzOf", join(into, tarball!), "package/package.json"], { encoding: "utf8" }))
      assert.notInclude(JSON.stringify(manifest), "workspace:")
      assert.strictEqual(manifest.peerDependencies["@enrollment/core"], `^${coreVersion}`)
      assert.strictEqual(manifest.exports["."].default, "./dist/index.js")
    }, 120_000)
  }
})
