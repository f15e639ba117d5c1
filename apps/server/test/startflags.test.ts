/**
 * The server's Node flags: `pnpm start` (the root's and this package's) and the
 * Dockerfile run the server with the same V8 flags, the bench runs it with them
 * too, and Node accepts every one of them (an unknown flag stops Node at start).
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "vitest"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")
const read = (file: string) => fs.readFileSync(path.join(root, file), "utf8")

/** The `--` flags before the script of a `node … script` command line. */
const flagsOf = (words: ReadonlyArray<string>): Array<string> => {
  assert.strictEqual(words[0], "node", words.join(" "))
  return words.slice(1).filter((w) => w.startsWith("--"))
}

const startScript = (file: string) => flagsOf(JSON.parse(read(file)).scripts.start.split(/\s+/))

describe("the server's Node flags", () => {
  const rootStart = startScript("package.json")
  const packageStart = startScript("apps/server/package.json")
  const docker = flagsOf(JSON.parse(/^CMD (\[.*\])$/m.exec(read("Dockerfile"))![1]!))
  const bench = JSON.parse(/serverNodeFlags: ReadonlyArray<string> = (\[.*\])/.exec(read("bench/src/Proc.ts"))![1]!) as Array<string>

  it("are the same for pnpm start, the package's start, the Dockerfile and the bench", () => {
    assert.deepStrictEqual(packageStart, rootStart)
    assert.deepStrictEqual(docker, rootStart)
    assert.deepStrictEqual(bench, rootStart)
  })

  it("keep V8's memory reducer off (its idle-time collections leave Node's nextTick on a slow path, BENCHMARKS.md)", () => {
    assert.include(rootStart, "--no-memory-reducer")
  })

  it("are all accepted by the Node the server runs on", () => {
    const r = spawnSync(process.execPath, [...rootStart, "-e", "0"], { encoding: "utf8" })
    assert.strictEqual(r.status, 0, r.stderr)
    const bad = spawnSync(process.execPath, ["--no-such-v8-flag-here", "-e", "0"], { encoding: "utf8" })
    assert.notStrictEqual(bad.status, 0, "Node refuses an unknown flag, so the check above can fail")
  })
})
