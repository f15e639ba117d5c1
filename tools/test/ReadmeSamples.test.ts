/**
 * Every TypeScript sample in the published packages' READMEs compiles and runs as it is, as a
 * reader would paste it into a file: each ```ts block is written to a file of its own in a
 * scratch directory inside its package (so that the package's own name, `effect` and its other
 * dependencies resolve as they do in a consumer's project), type-checked with `tsc` under the
 * repository's strict settings, and run with `node`. A block that imports a test runner is a
 * test file: compiled, not run.
 */
import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..")
const tsc = join(root, "node_modules", ".bin", "tsc")
const scratch: Array<string> = []
afterAll(() => scratch.forEach((d) => rmSync(d, { recursive: true, force: true })))

/** The ```ts blocks of a README, in order. */
const samples = (readme: string): ReadonlyArray<string> => [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!)

const isTestFile = (code: string) => /from "(@effect\/)?vitest"/.test(code)

/** Writes the samples of `pkg`'s README to a scratch directory in the package, with a tsconfig over them. */
const lay = (pkg: string) => {
  const pkgDir = join(root, "packages", pkg)
  const code = samples(readFileSync(join(pkgDir, "README.md"), "utf8"))
  const dir = mkdtempSync(join(pkgDir, ".readme-samples-"))
  scratch.push(dir)
  const files = code.map((c, i) => {
    const file = join(dir, `sample${i + 1}.ts`)
    writeFileSync(file, c)
    return { file, name: `sample ${i + 1}`, run: !isTestFile(c) }
  })
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({
      extends: "../../../tsconfig.base.json",
      // an application's file: no declarations to emit
      compilerOptions: { types: ["node"], declaration: false },
      include: ["*.ts"]
    })
  )
  return { dir, files }
}

const compile = (dir: string) => {
  try {
    execFileSync(tsc, ["-p", join(dir, "tsconfig.json")], { encoding: "utf8", stdio: "pipe" })
    return ""
  } catch (e) {
    return String((e as { stdout?: string }).stdout ?? e)
  }
}

describe.each(["core", "store-adapter", "http-adapter"])("the README of %s", (pkg) => {
  const { dir, files } = lay(pkg)

  it("has TypeScript samples, and each compiles (strict, exactOptionalPropertyTypes, noUncheckedIndexedAccess)", () => {
    expect(files.length).toBeGreaterThan(0)
    expect(compile(dir)).toBe("")
  }, 60_000)

  it.each(files.filter((f) => f.run).map((f) => [f.name, f.file] as const))("%s runs as it is", (_, file) => {
    // exits 0 (a sample that leaves a server or a timer behind never exits, and times out)
    execFileSync(process.execPath, [file], { cwd: dir, encoding: "utf8", stdio: "pipe", timeout: 30_000 })
  }, 60_000)
})
