/**
 * A number a double does not keep as written (`1e400`, `1e-400`, `9007199254740993`) in `--body`, a
 * `batch` FILE or an import line is a usage error (exit 2) naming where it is, and nothing is sent
 * or written (CLI 0.4.0; before, `JSON.parse` turned it into another number, or Infinity, which
 * reached the service as null). What export writes for any number, import reads again.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { configurationRecord, enrollctl, fileOf, jsonl, storeDir, stubServer } from "./cli.ts"

const DM = ["device-management", "device-enrollment-configurations"]
const limit = "#microsoft.graph.deviceEnrollmentLimitConfiguration"

const configuration = (id: string) => configurationRecord({ id })

describe("numbers a double does not keep as written", () => {
  let stub: Awaited<ReturnType<typeof stubServer>>
  beforeAll(async () => {
    stub = await stubServer()
  })
  afterAll(() => stub?.close())

  it("refuses them in --body, inline or from a file, naming the path, and sends nothing", async () => {
    const remote = (...args: ReadonlyArray<string>) => enrollctl(["--base-url", stub.baseUrl, "--token", "t", ...DM, ...args])
    const inline = await remote("create", "--body", `{"@odata.type":"${limit}","limit":1e400}`)
    assert.strictEqual(inline.code, 2, inline.stderr)
    assert.strictEqual(
      inline.stderr,
      "error Usage: --body: limit: expected a number within a double's range (at most 1.7976931348623157e308 in magnitude), got 1e400\n"
    )
    const file = await remote("patch", "--device-enrollment-configuration-id", "c1", "--body", `@${fileOf('{"nested":{"v":[0, 9007199254740993]}}', "body.json")}`)
    assert.strictEqual(file.code, 2, file.stderr)
    assert.include(file.stderr, "--body: nested.v[1]: expected an integer a double holds exactly (any up to 9007199254740991 in magnitude; a string keeps every digit), got 9007199254740993")
    const typed = await remote("assignments", "patch", "--device-enrollment-configuration-id", "c1", "--enrollment-configuration-assignment-id", "a1", "--body", '{"sourceId":1e-400}')
    assert.strictEqual(typed.code, 2, typed.stderr)
    assert.include(typed.stderr, "--body: sourceId: expected a number a double can hold (0, or at least 5e-324 in magnitude), got 1e-400")
    const batch = fileOf(`{"requests":[{"id":"1","method":"PATCH","url":"/deviceManagement/deviceEnrollmentConfigurations/c1","body":{"limit":1e400}}]}`, "batch.json")
    const batched = await enrollctl(["--base-url", stub.baseUrl, "--token", "t", "batch", batch])
    assert.strictEqual(batched.code, 2, batched.stderr)
    assert.include(batched.stderr, `${batch}: requests[0].body.limit: expected a number within a double's range`)
    assert.deepStrictEqual(stub.requests, [], "nothing sent")
  })

  it("refuses them on an import line, naming the line and the path, and writes nothing", async () => {
    const dir = await storeDir()
    const lines = `${jsonl([configuration("k1")])}${JSON.stringify(configuration("k2")).replace('"version":3', '"version":3,"limit":1e400')}\n`
    const r = await enrollctl(["--store", "sqlite", "--data-dir", dir, "import", fileOf(lines)])
    assert.strictEqual(r.code, 2, r.stderr)
    assert.include(r.stderr, "line 2: value.limit: expected a number within a double's range (at most 1.7976931348623157e308 in magnitude), got 1e400")
    const listed = await enrollctl(["--store", "sqlite", "--data-dir", dir, "-o", "json", ...DM, "list"])
    assert.deepStrictEqual(listed.json(), [], "nothing written")
  })

  it("takes what it writes back: a number export writes, import reads again, and a fraction that rounds", async () => {
    const dir = await storeDir()
    const local = (...args: ReadonlyArray<string>) => enrollctl(["--store", "sqlite", "--data-dir", dir, "-o", "json", ...args])
    // 2 ** 64 written as JSON.stringify writes it, an exponent, and a fraction a double rounds.
    const made = await local(...DM, "create", "--body", `{"@odata.type":"${limit}","id":"k1","big":18446744073709552000,"huge":1.5e300,"f":0.1}`)
    assert.strictEqual(made.code, 0, made.stderr)
    const exported = await local("export")
    assert.strictEqual(exported.code, 0, exported.stderr)
    assert.include(exported.stdout, '"big":18446744073709552000')
    const other = await storeDir()
    const imported = await enrollctl(["--store", "sqlite", "--data-dir", other, "import", fileOf(exported.stdout)])
    assert.strictEqual(imported.code, 0, imported.stderr)
    const got = await enrollctl(["--store", "sqlite", "--data-dir", other, "-o", "json", ...DM, "get", "--device-enrollment-configuration-id", "k1"])
    assert.deepInclude(got.json<Record<string, unknown>>(), { big: 2 ** 64, huge: 1.5e300, f: 0.1 })
  })

  // The server refuses a member given twice (http-adapter 0.12.1); so does the CLI, before sending or writing.
  it("refuses a member given twice in one object in --body, a batch FILE and an import line, naming the path, and sends or writes nothing (since 0.5.1)", async () => {
    const twice = "given more than once in one object; OData does not allow duplicate property names"
    const before = stub.requests.length
    const remote = (...args: ReadonlyArray<string>) => enrollctl(["--base-url", stub.baseUrl, "--token", "t", ...DM, ...args])
    const inline = await remote("assignments", "patch", "--device-enrollment-configuration-id", "c1", "--enrollment-configuration-assignment-id", "a1", "--body", '{"source":"direct","source":"policySets"}')
    assert.strictEqual(inline.code, 2, inline.stderr)
    assert.strictEqual(inline.stderr, `error Usage: --body: source: ${twice}\n`)
    const batch = fileOf(`{"requests":[{"id":"1","method":"PATCH","url":"/deviceManagement/deviceEnrollmentConfigurations/c1","body":{"target":{"groupId":"a","groupId":"b"}}}]}`, "batch.json")
    const batched = await enrollctl(["--base-url", stub.baseUrl, "--token", "t", "batch", batch])
    assert.strictEqual(batched.code, 2, batched.stderr)
    assert.include(batched.stderr, `${batch}: requests[0].body.target.groupId: ${twice}`)
    assert.strictEqual(stub.requests.length, before, "nothing sent")
    const dir = await storeDir()
    const lines = `${jsonl([configuration("k1")])}${JSON.stringify(configuration("k2")).replace('"version":3', '"version":3,"version":4')}\n`
    const r = await enrollctl(["--store", "sqlite", "--data-dir", dir, "import", fileOf(lines)])
    assert.strictEqual(r.code, 2, r.stderr)
    assert.include(r.stderr, `line 2: value.version: ${twice}`)
    const listed = await enrollctl(["--store", "sqlite", "--data-dir", dir, "-o", "json", ...DM, "list"])
    assert.deepStrictEqual(listed.json(), [], "nothing written")
  })
})
