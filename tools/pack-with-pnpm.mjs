/**
 * The `prepack` guard of the published packages (core, store-adapter, http-adapter): it fails
 * unless pnpm runs the pack (`pnpm pack`, `pnpm publish`). pnpm applies the manifest's
 * `publishConfig` (`exports` and `types` pointing at the built `dist/`) and turns `workspace:`
 * ranges into versions; npm and yarn do neither, and their tarball would point Node at
 * TypeScript sources under `node_modules` (which Node does not run) and ask for
 * `@enrollment/core@workspace:^`, a range no registry answers. Publishing a tarball that
 * `pnpm pack` made, with any client, runs no `prepack` and is fine.
 *
 * Reads `npm_config_user_agent`, which every package manager sets for the scripts it runs, and
 * `npm_execpath`, the client itself: npm takes the agent from the environment when it has one, so
 * `npm pack` run from a pnpm script would pass for pnpm on the agent alone.
 */
import { basename } from "node:path"

const agent = process.env.npm_config_user_agent ?? ""
const execpath = process.env.npm_execpath ?? ""
/** The client running the pack when it is not pnpm, else undefined. */
const other = !agent.startsWith("pnpm/")
  ? agent.split(" ")[0] || "a client that is not pnpm"
  : execpath !== "" && !/pnpm/i.test(basename(execpath))
  ? execpath
  : undefined
if (other !== undefined) {
  const name = process.env.npm_package_name ?? "this package"
  console.error(
    `${name}: pack and publish it with pnpm (\`pnpm pack\`, \`pnpm publish\`), not ${other}.\n` +
      "Only pnpm applies the manifest's publishConfig (exports of the built dist/) and turns\n" +
      "workspace: ranges into versions; this tarball would export TypeScript sources and ask\n" +
      "for a workspace: range. (A tarball made by `pnpm pack` may be published with any client.)"
  )
  process.exit(1)
}
