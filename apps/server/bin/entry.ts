// Which code the server runs: the bundle in dist/ (see scripts/bundle.mjs) while
// every file it was built from is as it was then, else the TypeScript sources
// (see @enrollment/launch/entry). SERVER_FROM_SOURCE=1 runs the sources
// whatever the bundle.
import * as Launch from "@enrollment/launch/entry"
import { fileURLToPath } from "node:url"

/** The URL to import: `dist/server.mjs` when it is current, `src/main.ts` otherwise. */
export const entry = (
  server: string = fileURLToPath(new URL("..", import.meta.url)),
  env: Readonly<Record<string, string | undefined>> = process.env
): string => Launch.entry({ dir: server, bundle: "server.mjs", fromSource: env.SERVER_FROM_SOURCE === "1" })
