// Which code enrollctl runs: the bundle in dist/ (see scripts/bundle.mjs) while
// every file it was built from is as it was then, else the TypeScript sources.
// A source edited after the install is therefore always what runs.
// ENROLLCTL_FROM_SOURCE=1 runs the sources whatever the bundle.
import { readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

/** One file the bundle was built from: its path from `dist/`, modification time and size. */
type Input = readonly [file: string, mtimeMs: number, size: number]

/** The URL to import: `dist/enrollctl.mjs` when it is current, `src/main.ts` otherwise. */
export const entry = (
  cli: string = fileURLToPath(new URL("..", import.meta.url)),
  env: Readonly<Record<string, string | undefined>> = process.env
): string => {
  const sources = pathToFileURL(join(cli, "src/main.ts")).href
  if (env.ENROLLCTL_FROM_SOURCE === "1") return sources
  const dist = join(cli, "dist")
  try {
    const { inputs } = JSON.parse(readFileSync(join(dist, "inputs.json"), "utf8")) as { inputs?: ReadonlyArray<Input> }
    if (!Array.isArray(inputs) || inputs.length === 0) return sources
    for (const [file, mtimeMs, size] of inputs) {
      const s = statSync(join(dist, file))
      if (s.mtimeMs !== mtimeMs || s.size !== size) return sources
    }
    return pathToFileURL(join(dist, "enrollctl.mjs")).href
  } catch {
    // No bundle, or a file it was built from is gone.
    return sources
  }
}
