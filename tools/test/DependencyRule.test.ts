/**
 * The layer rules of `.dependency-cruiser.cjs`, checked against scratch trees:
 * each case lays out a few files the way the repository is laid out and runs
 * the real `depcruise` with the real configuration on them.
 */
import { execFileSync } from "node:child_process"
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..")
const depcruise = join(root, "node_modules", ".bin", "depcruise")
const scratch: Array<string> = []
afterAll(() => scratch.forEach((d) => rmSync(d, { recursive: true, force: true })))

/** Runs depcruise over a scratch tree; returns the violated rule names (none when it passes). */
const cruise = (files: Record<string, string>): ReadonlyArray<string> => {
  const dir = mkdtempSync(join(tmpdir(), "deprule-"))
  scratch.push(dir)
  cpSync(join(root, ".dependency-cruiser.cjs"), join(dir, ".dependency-cruiser.cjs"))
  // effect resolves as it does in the repository
  mkdirSync(join(dir, "node_modules"))
  mkdirSync(join(dir, "packages"))
  mkdirSync(join(dir, "apps"))
  symlinkSync(join(root, "packages", "core", "node_modules", "effect"), join(dir, "node_modules", "effect"))
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), text)
  }
  // With JSON output depcruise exits 0 whatever it found: read the violations from the report.
  const stdout = execFileSync(depcruise, ["--config", ".dependency-cruiser.cjs", "--output-type", "json", "packages", "apps"], {
    cwd: dir,
    stdio: "pipe"
  })
  const out = JSON.parse(String(stdout)) as { summary: { violations: Array<{ rule: { name: string } }> } }
  return [...new Set(out.summary.violations.map((v) => v.rule.name))].sort()
}

/** The exit code of `pnpm lint:deps` as CI runs it (error output) over a scratch tree. */
const lintExit = (files: Record<string, string>): number => {
  const dir = mkdtempSync(join(tmpdir(), "deprule-"))
  scratch.push(dir)
  cpSync(join(root, ".dependency-cruiser.cjs"), join(dir, ".dependency-cruiser.cjs"))
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), text)
  }
  mkdirSync(join(dir, "apps"), { recursive: true })
  try {
    execFileSync(depcruise, ["--config", ".dependency-cruiser.cjs", "packages", "apps"], { cwd: dir, stdio: "pipe" })
    return 0
  } catch (e) {
    return (e as { status: number }).status
  }
}

const pure = `import { Effect } from "effect"\nimport * as Other from "./Other.ts"\nexport const x = Effect.succeed(Other.y)\n`

describe("the layer rules", () => {
  it("pass a core that imports only effect and its own modules", () => {
    expect(cruise({
      "packages/core/src/A.ts": pure,
      "packages/core/src/Other.ts": `export const y = 1\n`
    })).toEqual([])
  }, 30_000)

  it("fail when the core imports node:fs", () => {
    expect(cruise({
      "packages/core/src/A.ts": `import * as fs from "node:fs"\nexport const x = fs\n`
    })).toContain("core-no-node-builtins")
  }, 30_000)

  it("fail when the core imports a third-party package or another package of ours", () => {
    expect(cruise({ "packages/core/src/A.ts": `import { jwtVerify } from "jose"\nexport const x = jwtVerify\n` }))
      .toContain("core-is-pure")
    expect(cruise({
      "packages/core/src/A.ts": `import * as S from "../../store-adapter/src/S.ts"\nexport const x = S\n`,
      "packages/store-adapter/src/S.ts": `export const s = 1\n`
    })).toContain("core-is-pure")
  }, 30_000)

  it("make the CI command exit non-zero on a violation", () => {
    expect(lintExit({ "packages/core/src/A.ts": `import * as fs from "node:fs"\nexport const x = fs\n` })).not.toBe(0)
  }, 30_000)

  it("fail when an adapter imports an app", () => {
    expect(cruise({
      "packages/http-adapter/src/A.ts": `import { main } from "../../../apps/server/src/main.ts"\nexport const x = main\n`,
      "apps/server/src/main.ts": `export const main = 1\n`
    })).toContain("adapters-never-import-apps")
  }, 30_000)
})
