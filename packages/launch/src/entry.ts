/**
 * Which code an app runs: its bundle in `dist/` (built at install by
 * `bundle.mjs`) while every file the bundle was built from is as it was then,
 * else its TypeScript sources, which Node 24 runs directly (type stripping). A
 * source edited after the install is therefore always what runs.
 *
 * @since 0.1.0
 */
import { readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { pathToFileURL } from "node:url"

/** One file a bundle was built from: its path from `dist/`, modification time and size. */
type Input = readonly [file: string, mtimeMs: number, size: number]

/** Where an app is and what its bundle is called. */
export interface App {
  /** The app's directory (the one holding `src/main.ts` and `dist/`). */
  readonly dir: string
  /** The bundle's entry file in `dist/` (`enrollctl.mjs`, `server.mjs`). */
  readonly bundle: string
  /** Run the sources whatever the bundle (the app's `…_FROM_SOURCE=1`). */
  readonly fromSource?: boolean | undefined
}

/** The URL to import: `dist/<bundle>` when it is current, `src/main.ts` otherwise. */
export const entry = (app: App): string => {
  const sources = pathToFileURL(join(app.dir, "src/main.ts")).href
  if (app.fromSource === true) return sources
  const dist = join(app.dir, "dist")
  try {
    const { inputs } = JSON.parse(readFileSync(join(dist, "inputs.json"), "utf8")) as { inputs?: ReadonlyArray<Input> }
    if (!Array.isArray(inputs) || inputs.length === 0) return sources
    for (const [file, mtimeMs, size] of inputs) {
      const s = statSync(join(dist, file))
      if (s.mtimeMs !== mtimeMs || s.size !== size) return sources
    }
    return pathToFileURL(join(dist, app.bundle)).href
  } catch {
    // No bundle, or a file it was built from is gone.
    return sources
  }
}
