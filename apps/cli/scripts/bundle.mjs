/**
 * Bundles enrollctl into `dist/` (run by `pnpm install`, as this package's
 * postinstall; see `@enrollment/launch/bundle`): a start then loads a handful
 * of files instead of about 230, and `--help` takes about a third of the time.
 *
 *   node scripts/bundle.mjs [outDir]
 */
import { dirname, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import * as Launch from "@enrollment/launch/bundle"

/** The CLI as `@enrollment/launch` sees it. */
export const app = { dir: resolve(dirname(fileURLToPath(import.meta.url)), ".."), bundle: "enrollctl.mjs" }

/** Builds the bundle into `outDir` (default `dist/`); the directory it wrote, or undefined without the bundler. */
export const bundle = (outDir) => Launch.bundle(app, outDir)

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await Launch.main(app, "enrollctl", process.argv[2])
}
