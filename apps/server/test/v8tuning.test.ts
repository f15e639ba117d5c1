/**
 * V8's young-generation collection fitted to the CPUs: the decision, the flag
 * it sets, and, in a real Node process, that the flag set at run time changes
 * how V8 collects (one task per scavenge instead of several).
 */
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { assert, describe, it } from "vitest"
import { V8Tuning } from "../src/index.ts"

describe("V8Tuning", () => {
  it("collects on the main thread alone where one CPU is available, unless told otherwise", () => {
    const cases: ReadonlyArray<[V8Tuning.ParallelScavenge, number, boolean]> = [
      ["auto", 1, false],
      ["auto", 2, true],
      ["auto", 16, true],
      ["on", 1, true],
      ["on", 8, true],
      ["off", 1, false],
      ["off", 8, false]
    ]
    for (const [setting, cpus, parallel] of cases) {
      assert.strictEqual(V8Tuning.parallelScavenge(setting, cpus), parallel, `${setting} on ${cpus} CPUs`)
    }
  })

  it("sets V8's flag for what it decided, and none for auto on several CPUs", () => {
    const set = (setting: V8Tuning.ParallelScavenge, cpus: number) => {
      const flags: Array<string> = []
      const applied = V8Tuning.apply(setting, cpus, (f) => flags.push(f))
      return { flags, applied }
    }
    assert.deepStrictEqual(set("auto", 1).flags, ["--no-parallel-scavenge"])
    assert.deepStrictEqual(set("auto", 4).flags, [])
    assert.deepStrictEqual(set("on", 1).flags, ["--parallel-scavenge"])
    assert.deepStrictEqual(set("off", 4).flags, ["--no-parallel-scavenge"])
    assert.deepStrictEqual(set("auto", 1).applied, { cpus: 1, parallelScavenge: false, flag: "--no-parallel-scavenge" })
  })

  it("takes effect in a running process: one scavenge task per collection when off, several when on", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "v8tuning-"))
    const script = path.join(dir, "allocate.mjs")
    const module = pathToFileURL(path.resolve(import.meta.dirname, "../src/V8Tuning.ts")).href
    // Survivors in every collection, so each scavenge has objects to copy.
    fs.writeFileSync(script, `
      const V8Tuning = await import(${JSON.stringify(module)})
      V8Tuning.apply(process.argv[2], 1)
      let keep = []
      for (let i = 0; i < 3e6; i++) { keep.push({ i, a: [i] }); if (keep.length > 100000) keep = [] }
    `)
    const collect = (setting: V8Tuning.ParallelScavenge) => {
      const r = spawnSync(process.execPath, ["--max-semi-space-size=4", "--trace-gc", "--trace-parallel-scavenge", script, setting], { encoding: "utf8" })
      assert.strictEqual(r.status, 0, r.stderr)
      // --trace-gc: one "Scavenge" line per collection; --trace-parallel-scavenge: one "scavenge[…]" line per task.
      return { collections: (r.stdout.match(/Scavenge/g) ?? []).length, tasks: (r.stdout.match(/scavenge\[/g) ?? []).length }
    }
    const off = collect("off")
    const on = collect("on")
    assert.isAbove(off.collections, 10)
    assert.strictEqual(off.tasks, off.collections, JSON.stringify(off))
    assert.isAbove(on.collections, 10)
    assert.isAbove(on.tasks, on.collections, JSON.stringify(on))
  })

  // The server's own start (bin/server.js, what `pnpm start` runs) pinned to one CPU, as the bench runs it.
  const canPin = spawnSync("taskset", ["-c", "0", process.execPath, "-e", "0"]).status === 0
  if (!canPin) console.log("V8Tuning: taskset is not available here; the pinned start-up test is skipped")
  it.skipIf(!canPin)("the server pinned to one CPU says it collects on its main thread, and does not when told on", async () => {
    const main = fileURLToPath(new URL("../bin/server.js", import.meta.url))
    const startUp = (env: Record<string, string>) =>
      new Promise<string>((resolve, reject) => {
        const child = spawn("taskset", ["-c", "0", process.execPath, main], {
          env: { ...process.env, PORT: "0", STORE: "memory", DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), "v8tuning-")), ...env }
        })
        let err = ""
        child.stderr.on("data", (d) => {
          err += d
          if (/listening on/.test(err)) child.kill("SIGTERM")
        })
        child.on("exit", (code) => (/listening on/.test(err) ? resolve(err) : reject(new Error(`exited ${code}: ${err}`))))
      })
    assert.include(await startUp({}), "one CPU available: young-generation garbage collection on the main thread")
    assert.notInclude(await startUp({ V8_PARALLEL_SCAVENGE: "on" }), "one CPU available")
  })
})
