/**
 * Bundles an app into its `dist/` (run by `pnpm install`, as the app's
 * postinstall): `src/main.ts` and everything it imports (the workspace
 * packages, effect) become a few ES modules, so a start loads a handful of
 * files instead of hundreds.
 *
 * Next to them, `dist/inputs.json` lists the workspace files the bundle was
 * built from (and the lockfile, which stands for `node_modules`) with their
 * modification times and sizes; `entry.ts` chooses the bundle only while all
 * of them are unchanged, and the sources otherwise.
 *
 * Plain JavaScript, so that any Node that runs `pnpm install` runs it. Without
 * the bundler (an install without dev dependencies, as the Dockerfile's) it
 * says so and builds nothing: the app then runs from its sources.
 *
 * @since 0.1.0
 */
import { mkdirSync, rmSync, statSync, writeFileSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"

/** The workspace's root. */
const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..")

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
 * Builds the bundle of the app in `app.dir` (its `src/main.ts`) into `outDir`
 * (default its `dist/`), the entry file named `app.bundle`; the directory it
 * wrote, or undefined when the bundler is not installed.
 */
export const bundle = async (app, outDir = join(app.dir, "dist")) => {
  let rolldown
  try {
    rolldown = await import("rolldown")
  } catch {
    return undefined
  }
  rmSync(outDir, { recursive: true, force: true })
  mkdirSync(outDir, { recursive: true })
  const { output } = await rolldown.build({
    input: join(app.dir, "src/main.ts"),
    platform: "node",
    // `pg` loads its native binding only when asked to, inside a try.
    external: [/^node:/, "pg-native"],
    logLevel: "warn",
    output: { dir: outDir, format: "esm", entryFileNames: app.bundle, chunkFileNames: "[name]-[hash].mjs" }
  })
  writeFileSync(join(outDir, "inputs.json"), JSON.stringify({ inputs: inputsOf(output, outDir) }))
  return outDir
}

/** An app's postinstall: builds its bundle (into `outDir` when given) and says what it did. */
export const main = async (app, name, outDir) => {
  const started = performance.now()
  const dir = await bundle(app, outDir === undefined ? undefined : resolve(outDir))
  console.log(
    dir === undefined
      ? `${name}: no bundler installed (an install without dev dependencies); ${name} runs from its sources`
      : `${name}: bundled into ${relative(process.cwd(), dir) || "."} in ${Math.round(performance.now() - started)} ms`
  )
}
