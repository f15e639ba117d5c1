/**
 * Bundles the server into `dist/` (run by `pnpm install`, as this package's
 * postinstall; see `@enrollment/launch/bundle`): a start then loads a handful
 * of files instead of several hundred, and answers `/ready` sooner.
 *
 *   node scripts/bundle.mjs [outDir]
 */
import { dirname, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import * as Launch from "@enrollment/launch/bundle"

/** The server as `@enrollment/launch` sees it. */
export const app = { dir: resolve(dirname(fileURLToPath(import.meta.url)), ".."), bundle: "server.mjs" }

/** Builds the bundle into `outDir` (default `dist/`); the directory it wrote, or undefined without the bundler. */
export const bundle = (outDir) => Launch.bundle(app, outDir)

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await Launch.main(app, "server", process.argv[2])
}
