/**
 * The published packages' `prepack` guard (`tools/pack-with-pnpm.mjs`): only pnpm makes a
 * usable tarball of them (it applies `publishConfig` and rewrites `workspace:` ranges), so a
 * pack by any other client fails before anything is built, saying so.
 */
import { execFileSync, spawnSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..")
const guard = join(root, "tools", "pack-with-pnpm.mjs")
const published = ["core", "store-adapter", "http-adapter"]

/** This environment without what the client running these tests (`pnpm test`) set for its scripts. */
const outside: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k))
)

/** Runs the guard as a client would run a `prepack` script, with that client's user agent. */
const run = (agent: string | undefined, execpath?: string) => {
  const env: NodeJS.ProcessEnv = { ...outside, npm_package_name: "@enrollment/core" }
  if (agent !== undefined) env.npm_config_user_agent = agent
  if (execpath !== undefined) env.npm_execpath = execpath
  return spawnSync(process.execPath, [guard], { env, encoding: "utf8" })
}

const hasNpm = spawnSync("npm", ["--version"], { encoding: "utf8" }).status === 0

describe("the prepack guard", () => {
  it("lets pnpm pack", () => {
    for (const execpath of [undefined, "/usr/lib/node_modules/pnpm/pnpm", "/home/u/.cache/node/corepack/v1/pnpm/12.4.2/bin/pnpm.cjs"]) {
      const r = run("pnpm/12.4.2 npm/? node/v24.21.0 linux x64", execpath)
      expect([r.status, r.stderr]).toEqual([0, ""])
    }
  })

  it("refuses npm, yarn and an unknown client, naming the package and what to run instead", () => {
    for (const [agent, tool] of [
      ["npm/11.19.1 node/v24.21.0 linux x64 workspaces/false", "npm/11.19.1"],
      ["yarn/4.9.1 npm/? node/v24.21.0 linux x64", "yarn/4.9.1"],
      [undefined, "a client that is not pnpm"]
    ] as const) {
      const r = run(agent)
      expect(r.status).toBe(1)
      expect(r.stderr).toContain(`@enrollment/core: pack and publish it with pnpm (\`pnpm pack\`, \`pnpm publish\`), not ${tool}.`)
    }
  })

  it("refuses npm run where pnpm's user agent is in the environment (npm takes it from there)", () => {
    const r = run("pnpm/12.4.2 npm/? node/v24.21.0 linux x64", "/usr/lib/node_modules/npm/bin/npm-cli.js")
    expect(r.status).toBe(1)
    expect(r.stderr).toContain("not /usr/lib/node_modules/npm/bin/npm-cli.js.")
  })

  it("runs first in the prepack of every published package", () => {
    for (const name of published) {
      const manifest = JSON.parse(readFileSync(join(root, "packages", name, "package.json"), "utf8"))
      expect(manifest.scripts.prepack).toBe("node ../../tools/pack-with-pnpm.mjs && pnpm run build")
    }
  })

  it.skipIf(!hasNpm)("makes `npm pack` fail before it builds anything", () => {
    let failure: { status: number | null; stderr: string } | undefined
    try {
      execFileSync("npm", ["pack", "--dry-run"], { cwd: join(root, "packages", "core"), env: outside, encoding: "utf8", stdio: "pipe" })
    } catch (e) {
      failure = e as { status: number | null; stderr: string }
    }
    expect(failure?.status).not.toBe(0)
    expect(failure?.stderr).toContain("@enrollment/core: pack and publish it with pnpm")
  }, 60_000)
})
