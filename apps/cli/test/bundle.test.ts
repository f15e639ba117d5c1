/**
 * The bundle `pnpm install` builds (scripts/bundle.mjs) and the shim's choice
 * between it and the sources (bin/entry.ts): the bundle answers as the sources
 * do, lazily loaded parts included, and runs only while every file it was built
 * from is unchanged.
 */
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { readFileSync, rmSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { entry } from "../bin/entry.ts"
import { bundle } from "../scripts/bundle.mjs"
import { enrollctl, storeDir, tempDir } from "./cli.ts"

const cli = tempDir("enrollctl-bundle-")
const dist = path.join(cli, "dist")
const built = pathToFileURL(path.join(dist, "enrollctl.mjs")).href
const sources = pathToFileURL(path.join(cli, "src/main.ts")).href
const inputsFile = path.join(dist, "inputs.json")
const fromSource = { ENROLLCTL_FROM_SOURCE: "1" }

beforeAll(async () => {
  assert.strictEqual(await bundle(dist), dist)
}, 60_000)

describe("the bundle", () => {
  it("is chosen only while every file it was built from is unchanged", () => {
    const original = readFileSync(inputsFile, "utf8")
    const { inputs } = JSON.parse(original) as { inputs: Array<[string, number, number]> }
    // It lists the CLI's own sources and the packages it bundles, and the lockfile.
    const files = inputs.map(([f]) => f.replaceAll(path.sep, "/"))
    for (const want of ["apps/cli/src/main.ts", "packages/core/src/AssignmentPatch.ts", "packages/store-adapter/src/SqliteStore.ts", "pnpm-lock.yaml"]) {
      assert.isTrue(files.some((f) => f.endsWith(want)), `${want} among the inputs`)
    }
    assert.strictEqual(entry(cli, {}), built)
    assert.strictEqual(entry(cli, fromSource), sources)
    try {
      const changed = (i: number, what: (x: [string, number, number]) => [string, number, number]) =>
        writeFileSync(inputsFile, JSON.stringify({ inputs: inputs.map((x, j) => (j === i ? what(x) : x)) }))
      changed(0, ([f, m, s]) => [f, m + 1, s]) // a file modified since the build
      assert.strictEqual(entry(cli, {}), sources)
      changed(inputs.length - 1, ([f, m, s]) => [f, m, s + 1]) // same time, another size
      assert.strictEqual(entry(cli, {}), sources)
      writeFileSync(inputsFile, JSON.stringify({ inputs: [...inputs, ["../gone.ts", 0, 0]] })) // a file removed
      assert.strictEqual(entry(cli, {}), sources)
      writeFileSync(inputsFile, JSON.stringify({ inputs: [] }))
      assert.strictEqual(entry(cli, {}), sources)
      writeFileSync(inputsFile, "{")
      assert.strictEqual(entry(cli, {}), sources)
      rmSync(inputsFile)
      assert.strictEqual(entry(cli, {}), sources)
    } finally {
      writeFileSync(inputsFile, original)
    }
    assert.strictEqual(entry(cli, {}), built)
  })

  it("answers as the sources do: help, version, and a local session on SQLite", async () => {
    const script = path.join(dist, "enrollctl.mjs")
    for (const args of [["--help"], ["--version"], ["users", "create", "--help"]]) {
      const [b, s] = [await enrollctl(args, { script }), await enrollctl(args, { env: fromSource })]
      assert.strictEqual(b.code, 0, b.stderr)
      assert.deepStrictEqual([b.code, b.stdout, b.stderr], [s.code, s.stdout, s.stderr], args.join(" "))
    }
    // The local store and the services are loaded on demand (their own chunks): a session through them.
    const data = await storeDir({ script })
    const local = ["--store", "sqlite", "--data-dir", data]
    const DM = ["device-management", "device-enrollment-configurations"]
    const steps = [
      [...DM, "create", "--type", "deviceEnrollmentLimitConfiguration", "--body", '{"id":"c1","limit":5}'],
      [...DM, "assignments", "create", "--device-enrollment-configuration-id", "c1", "--body", '{"id":"a1"}'],
      [...DM, "assignments", "patch", "--device-enrollment-configuration-id", "c1", "--enrollment-configuration-assignment-id", "a1", "--body", '{"source":"policySets","sourceId":"p1"}']
    ]
    for (const step of steps) {
      const r = await enrollctl([...local, ...step], { script })
      assert.strictEqual(r.code, 0, `${step.join(" ")}: ${r.stderr}`)
    }
    const get = ["-o", "json", ...DM, "assignments", "get", "--device-enrollment-configuration-id", "c1", "--enrollment-configuration-assignment-id", "a1"]
    const [b, s] = [await enrollctl([...local, ...get], { script }), await enrollctl([...local, ...get], { env: fromSource })]
    assert.strictEqual(b.code, 0, b.stderr)
    assert.strictEqual(b.stdout, s.stdout)
    assert.deepInclude(b.json<Record<string, unknown>>(), { id: "a1", source: "policySets", sourceId: "p1" })
    // An invalid PATCH is refused the same way, with the same exit code.
    const bad = [...DM, "assignments", "patch", "--device-enrollment-configuration-id", "c1", "--enrollment-configuration-assignment-id", "a1", "--body", '{"source":"nope"}']
    const [bb, sb] = [await enrollctl([...local, ...bad], { script }), await enrollctl([...local, ...bad], { env: fromSource })]
    assert.notStrictEqual(bb.code, 0)
    assert.deepStrictEqual([bb.code, bb.stdout, bb.stderr], [sb.code, sb.stdout, sb.stderr])
  }, 60_000)
})
