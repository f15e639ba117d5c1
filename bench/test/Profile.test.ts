/**
 * The profile section counts only the samples of the measured load: a process
 * that spins in one function before, another during and a third after a window
 * read in this process is summarized as the second alone, and as all three
 * without the window (so the window's clock is the profile's).
 */
import { assert, describe, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import { readdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { now, summarize } from "../src/Profile.ts"
import { node, tempDir } from "../src/Proc.ts"

const script = `
const { writeSync } = require("node:fs")
// Each phase does arithmetic in its own loop (reading the clock between rounds), so
// nearly all of its samples' self time is its own.
function spinBefore(ms) { let x = 0; const end = performance.now() + ms; while (performance.now() < end) for (let i = 0; i < 200000; i++) x = (x + i * i) % 1000003; return x }
function spinDuring(ms) { let x = 0; const end = performance.now() + ms; while (performance.now() < end) for (let i = 0; i < 200000; i++) x = (x + i * i) % 1000003; return x }
function spinAfter(ms) { let x = 0; const end = performance.now() + ms; while (performance.now() < end) for (let i = 0; i < 200000; i++) x = (x + i * i) % 1000003; return x }
spinBefore(400)
writeSync(1, "from " + process.hrtime.bigint() / 1000n + "\\n")
spinDuring(600)
writeSync(1, "to " + process.hrtime.bigint() / 1000n + "\\n")
spinAfter(400)
`

const share = (s: ReturnType<typeof summarize>, name: string) =>
  s.functions.filter((f) => f.what.startsWith(`${name} `) || f.what === name).reduce((a, f) => a + f.selfPct, 0)

describe("profile window", () => {
  it("counts the samples taken within the window only", async () => {
    const dir = tempDir("cpuprof-test")
    const file = join(dir, "spin.cjs")
    writeFileSync(file, script)
    const marks: Record<string, number> = {}
    const heardAt: Record<string, number> = {}
    const child = spawn(node, ["--cpu-prof", `--cpu-prof-dir=${dir}`, file], { stdio: ["ignore", "pipe", "inherit"] })
    let out = ""
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString()
      for (const m of out.matchAll(/^(from|to) (\d+)$/gm)) {
        if (marks[m[1]!] === undefined) {
          marks[m[1]!] = Number(m[2])
          heardAt[m[1]!] = now()
        }
      }
    })
    const code = await new Promise<number | null>((done) => child.once("exit", done))
    assert.strictEqual(code, 0)
    assert.isDefined(marks.from)
    assert.isDefined(marks.to)
    // The child's clock and this process's are one clock: a mark is heard moments after it was made.
    assert.isAtLeast(heardAt.from! - marks.from!, 0)
    assert.isBelow(heardAt.from! - marks.from!, 300_000)

    const profile = join(dir, readdirSync(dir).find((f) => f.endsWith(".cpuprofile"))!)
    const all = summarize(profile, 50)
    assert.isAbove(share(all, "spinBefore"), 15)
    assert.isAbove(share(all, "spinDuring"), 25)
    assert.isAbove(share(all, "spinAfter"), 15)
    assert.strictEqual(all.windowSamples, all.samples)

    const within = summarize(profile, 50, { fromUs: marks.from!, toUs: marks.to! })
    assert.isAbove(share(within, "spinDuring"), 85)
    assert.isBelow(share(within, "spinBefore"), 5)
    assert.isBelow(share(within, "spinAfter"), 5)
    assert.isBelow(within.windowSamples, all.samples / 2)
    assert.isAbove(within.totalMs, 400)
    assert.isBelow(within.totalMs, 800)
  })
})
