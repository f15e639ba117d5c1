/**
 * Bundles enrollctl into `dist/` (run by `pnpm install`, as this package's
 * postinstall): `src/main.ts` and everything it imports (the workspace
 * packages, effect) become a few ES modules, so a start loads a handful of
 * files instead of about 230. `--help` then takes about a third of the time.
 *
 * Next to them, `dist/inputs.json` lists the workspace files the bundle was
 * built from (and the lockfile, which stands for `node_modules`) with their
 * modification times and sizes; `bin/entry.ts` runs the bundle only while all
 * of them are unchanged, and the sources otherwise.
 *
 * Plain JavaScript, so that any Node that runs `pnpm install` runs it. Without
 * the bundler (an install without dev dependencies, as the Dockerfile's) it
 * says so and builds nothing: enrollctl then runs from its sources.
 *
 *   node scripts/bundle.mjs [outDir]
 */
import { mkdirSync, rmSync, statSync, writeFileSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"

const cli = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const root = resolve(cli, "../..")

/** What the bundle was built from: the workspace's files (not `node_modules`) and the lockfile. */
const inputsOf = (output, outDir) => {
  const files = new Set([join(root, "pnpm-lock.yaml")])
  for (const o of output) {
    if (o.type !== "chunk") continue
    for (const id of o.moduleIds) if (!id.startsWith("\0") && !id.includes("/node_modules/")) files.add(id)
  }
  return [...files].sort().map((file) => {
    const s = statSync(file)
    return [relative(outDir, file), s.mtimeMs, s.size]
  })
}

/**
 * Builds the bundle into `outDir` (default `dist/`); the directory it wrote, or
 * undefined when the bundler is not installed.
 */
export const bundle = async (outDir = join(cli, "dist")) => {
  let rolldown
  try {
    rolldown = await import("rolldown")
  } catch {
    return undefined
  }
  rmSync(outDir, { recursive: true, force: true })
  mkdirSync(outDir, { recursive: true })
  const { output } = await rolldown.build({
    input: join(cli, "src/main.ts"),
    platform: "node",
    // `pg` loads its native binding only when asked to, inside a try.
    external: [/^node:/, "pg-native"],
    logLevel: "warn",
    output: { dir: outDir, format: "esm", entryFileNames: "enrollctl.mjs", chunkFileNames: "[name]-[hash].mjs" }
  })
  writeFileSync(join(outDir, "inputs.json"), JSON.stringify({ inputs: inputsOf(output, outDir) }))
  return outDir
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now()
  const outDir = await bundle(process.argv[2] === undefined ? undefined : resolve(process.argv[2]))
  console.log(
    outDir === undefined
      ? "enrollctl: no bundler installed (an install without dev dependencies); enrollctl runs from its sources"
      : `enrollctl: bundled into ${relative(process.cwd(), outDir) || "."} in ${Math.round(performance.now() - started)} ms`
  )
}
