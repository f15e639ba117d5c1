/**
 * Which form of an app the bench runs. An app's entry point runs its install's
 * bundle while every file it was built from is unchanged, else its sources
 * (`@enrollment/launch/entry`); the two differ in speed and memory (the server
 * from its sources: RSS 142 against 109 MiB, BENCHMARKS.md "from 15:18"). The
 * targets are the apps as installed, so a tree whose sources changed since its
 * install gets the bundle built again, as an install would, once per bench run
 * and before the first section starts a server.
 *
 * @since 0.2.5
 */
import { spawnSync } from "node:child_process"
import { join } from "node:path"
import { node, root } from "./Proc.ts"

/** What an app's entry point will run: `bundle`, `bundle, built again for this run`, or `sources` (no bundler). */
export type Form = "bundle" | "bundle, built again for this run" | "sources"

/** The apps the bench starts. */
export type App = "cli" | "server"

const forms = new Map<App, Promise<Form>>()

/** The entry point's choice right now: the bundle's URL, or the sources' `src/main.ts`. */
const entryOf = async (app: App): Promise<string> => {
  const { entry } = (await import(join(root, `apps/${app}/bin/entry.ts`))) as { entry: () => string }
  return entry()
}

const build = async (app: App): Promise<Form> => {
  if (!(await entryOf(app)).endsWith("/src/main.ts")) return "bundle"
  spawnSync(node, [join(root, `apps/${app}/scripts/bundle.mjs`)], { cwd: root, stdio: "ignore" })
  return (await entryOf(app)).endsWith("/src/main.ts") ? "sources" : "bundle, built again for this run"
}

/**
 * Makes the app's bundle current (building it when a source changed since it was built) and
 * says what the app runs. Done once per process: later calls say what the first one found.
 */
export const prepare = (app: App): Promise<Form> => {
  let form = forms.get(app)
  if (form === undefined) forms.set(app, form = build(app))
  return form
}
