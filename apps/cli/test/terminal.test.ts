/**
 * One terminal session under tmux, as an operator sees it: the default output
 * on a terminal is an aligned table, and import draws a progress bar, which
 * moves while it imports (every frame the pane received is read, not only the
 * last screen).
 */
import { execFileSync, spawnSync } from "node:child_process"
import { readFileSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { enrollctl, shim, storeDir, tempDir } from "./cli.ts"

const hasTmux = spawnSync("tmux", ["-V"]).status === 0
if (!hasTmux) console.log("SKIPPED terminal test: tmux is not installed (apt-get install -y tmux)")

const session = `enrollctl-${process.pid}`
const tmux = (...args: ReadonlyArray<string>) => execFileSync("tmux", args, { encoding: "utf8" })

const screenUntil = async (marker: string, timeoutMs = 15_000): Promise<string> => {
  const until = Date.now() + timeoutMs
  for (;;) {
    const screen = tmux("capture-pane", "-p", "-t", session)
    if (screen.includes(marker) || Date.now() > until) return screen
    await new Promise((r) => setTimeout(r, 100))
  }
}

describe.skipIf(!hasTmux)("in a terminal", () => {
  afterAll(() => {
    spawnSync("tmux", ["kill-session", "-t", session])
  })

  it("prints a table by default and a progress bar while importing", async () => {
    const source = await storeDir()
    const store = ["--store", "sqlite", "--data-dir", source]
    const DM = ["device-management", "device-enrollment-configurations"]
    await enrollctl([...store, ...DM, "create", "--type", "deviceEnrollmentLimitConfiguration", "--body", '{"id":"c1"}'])
    await enrollctl([...store, ...DM, "assignments", "create", "--device-enrollment-configuration-id", "c1", "--target-type", "group", "--group-id", "g1", "--filter-id", "f1", "--filter-type", "include", "--body", '{"id":"a1"}'])
    await enrollctl([...store, ...DM, "assignments", "create", "--device-enrollment-configuration-id", "c1", "--target-type", "all-devices", "--body", '{"id":"a2-long-id"}'])
    const file = path.join(source, "tenant.jsonl")
    const lines = (await enrollctl([...store, "export"])).stdout
    // 1000 users: the bar is redrawn at most every 50 ms (Bulk.ts `progress`), and their writes take
    // several times that even on a fast machine (about 1.5 s here), so frames between the first and
    // the last are certain.
    const users = Array.from({ length: 1000 }, (_, i) =>
      JSON.stringify({ kind: "user", value: { "@odata.type": "#microsoft.graph.user", id: `u${i}`, displayName: `User ${i}`, userPrincipalName: null, mail: null, userType: "Member", accountEnabled: true } }))
    writeFileSync(file, `${lines}${users.join("\n")}\n`)
    const target = tempDir()

    const cli = `'${process.execPath}' '${shim}'`
    tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "40", "bash --norc --noprofile")
    tmux("send-keys", "-t", session, `${cli} --store sqlite --data-dir '${source}' ${DM.join(" ")} assignments list --device-enrollment-configuration-id c1; echo LIST-$((1+1))-DONE`, "Enter")
    const table = await screenUntil("LIST-2-DONE")
    const rows = table.split("\n")
    const header = rows.findIndex((l) => /^ID\s+TARGET\s+SOURCE\s+SOURCE ID\s*$/.test(l))
    assert.isAtLeast(header, 0, table)
    assert.match(rows[header + 1]!, /^a1\s+group g1 \(filter f1 include\)\s+direct\s+-\s*$/)
    assert.match(rows[header + 2]!, /^a2-long-id\s+all devices\s+direct\s+-\s*$/)
    // Columns line up: TARGET starts at the same column in every row.
    const col = rows[header]!.indexOf("TARGET")
    assert.strictEqual(rows[header + 1]!.indexOf("group"), col)
    assert.strictEqual(rows[header + 2]!.indexOf("all devices"), col)

    // Everything the pane receives from here on, as written (each frame of the bar is a `\r` redraw
    // that the screen keeps only the last of).
    const raw = path.join(tempDir(), "pane.out")
    writeFileSync(raw, "")
    tmux("pipe-pane", "-t", session, `cat >> '${raw}'`)
    tmux("send-keys", "-t", session, `clear; ${cli} --store sqlite --data-dir '${target}' import --create '${file}'; echo IMPORT-$((1+1))-DONE`, "Enter")
    const screen = await screenUntil("IMPORT-2-DONE")
    assert.match(screen, /importing \[#{30}\] 1003\/1003/, screen)
    assert.include(screen, "imported 1000 user(s), 1 configuration(s), 2 assignment(s)")

    const until = Date.now() + 5_000
    while (!readFileSync(raw, "utf8").includes("IMPORT-2-DONE") && Date.now() < until) await new Promise((r) => setTimeout(r, 50))
    tmux("pipe-pane", "-t", session)
    const output = readFileSync(raw, "utf8")
    const frames = [...output.matchAll(/importing \[([#-]{30})\] (\d+)\/1003/g)].map((m) => ({ bar: m[1]!, done: Number(m[2]) }))
    const shown = frames.map((f) => f.done)
    assert.strictEqual(shown[0], 0, `the bar is drawn at the start: ${shown.join(" ")}`)
    assert.strictEqual(shown.at(-1), 1003, `and at the end: ${shown.join(" ")}`)
    // Drawn while it imports, too: frames between the first and the last, in order, each bar
    // filled in proportion.
    const between = shown.filter((n) => n > 0 && n < 1003)
    assert.isAtLeast(between.length, 1, `no frame between 0/1003 and 1003/1003 in ${JSON.stringify(output.slice(-2_000))}`)
    for (let i = 1; i < shown.length; i++) assert.isAtLeast(shown[i]!, shown[i - 1]!, shown.join(" "))
    for (const f of frames) assert.strictEqual(f.bar, "#".repeat(Math.round((f.done / 1003) * 30)).padEnd(30, "-"), `${f.done}/1003`)
  })
})
