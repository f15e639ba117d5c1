/**
 * Security review of request bodies (SPEC 8): a string no UTF-8 can encode
 * (an unpaired surrogate written as a `\u` escape) is a 400 like invalid UTF-8,
 * on every store and in a batch, and the server keeps serving. Before, a POST
 * with such an `id` was stored, and then building its `Location` header threw:
 * a 500 on the memory store, and on SQLite or PostgreSQL (whose answers come
 * asynchronously) an uncaught exception that ended the process.
 */
import { MemoryStore, type Store } from "@enrollment/core"
import { SqliteStore } from "@enrollment/store-adapter"
import type { Layer } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { Body } from "../src/index.ts"
import { errorOf, start, type TestServer } from "./support.ts"

const G = "#microsoft.graph."
const cfgs = "deviceManagement/deviceEnrollmentConfigurations"
const json = { "content-type": "application/json" }

describe("security: Body.parse and unpaired surrogates", () => {
  const parse = (text: string) => Body.parse(Buffer.from(text, "utf8"))

  it("refuses a string or key holding an unpaired surrogate escape, naming its JSON path", () => {
    for (
      const [text, path] of [
        ['{"id":"a\\ud800"}', "id"],
        ['{"id":"\\udc00b"}', "id"],
        ['{"x":["ok",{"y":"\\uDBFF"}]}', "x[1].y"],
        ['{"k\\ud83d":1}', "k\ufffd"],
        ['{"t":{"ok":1,"k\\ud83d":1}}', "t.k\ufffd"],
        ['"\\ud83d\\u0041"', "body"],
        ['{"a":"\\ude00\\ud83d"}', "a"]
      ] as const
    ) {
      const r = parse(text)
      assert.isFalse(r.ok, text)
      if (!r.ok) {
        assert.strictEqual(r.problem.status, 400)
        assert.strictEqual(
          r.problem.message,
          `${path}: expected well-formed Unicode (the body is not valid Unicode), got a \\u escape of an unpaired surrogate`,
          text
        )
      }
    }
  })

  it("takes paired surrogates, other escapes and an escaped backslash before 'ud800'", () => {
    for (const [text, value] of [
      ['{"e":"\\ud83d\\ude00"}', { e: "😀" }],
      ['{"e":"\\u00e9\\u0041"}', { e: "éA" }],
      ['{"e":"\\\\ud800"}', { e: "\\ud800" }],
      ['{"e":"😀"}', { e: "😀" }]
    ] as const) {
      const r = parse(text)
      assert.isTrue(r.ok, text)
      if (r.ok) assert.deepStrictEqual(r.value, value)
    }
  })
})

const overHttp = (name: string, store: () => Layer.Layer<Store>) =>
  describe(`security: unpaired surrogates over HTTP on ${name}`, () => {
    let s: TestServer
    beforeAll(async () => {
      s = await start({ store: store() })
      assert.strictEqual((await s.request("POST", cfgs, { body: { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: "c1" } })).status, 201)
    })
    afterAll(async () => {
      await s?.close()
    })

    it("answers 400 to a create whose id is an unpaired surrogate, writes nothing, and keeps serving", async () => {
      for (const [p, raw] of [
        ["users", '{"id":"u\\ud800"}'],
        ["groups", '{"id":"g\\udfff"}'],
        [`${cfgs}/c1/assignments`, '{"id":"a\\ud800","target":null}'],
        [cfgs, `{"@odata.type":"${G}deviceEnrollmentLimitConfiguration","id":"c\\udc00"}`],
        ["invitations", '{"id":"i\\ud800","invitedUserEmailAddress":"a@example.com","inviteRedirectUrl":"https://example.com"}']
      ] as const) {
        const r = await s.request("POST", p, { raw, headers: json })
        assert.strictEqual(r.status, 400, `${p}: ${r.text}`)
        assert.include(errorOf(r).message, "Unicode")
      }
      for (const p of ["users/$count", "groups/$count", `${cfgs}/c1/assignments/$count`, `${cfgs}/$count`, "invitations/$count"]) {
        const r = await s.request("GET", p)
        assert.strictEqual(r.status, 200, p)
        assert.strictEqual(r.text, p.startsWith(cfgs + "/$") ? "1" : "0", `${p}: something was written`)
      }
      assert.deepStrictEqual(s.logs.filter((l) => l.status >= 500), [])
    })

    it("answers 400 to a PATCH that would store one, and leaves the entity", async () => {
      const a = await s.request("POST", `${cfgs}/c1/assignments`, { body: { id: "a1", target: { "@odata.type": `${G}groupAssignmentTarget`, groupId: "g1" } } })
      assert.strictEqual(a.status, 201, a.text)
      for (const raw of ['{"sourceId":"\\ud800"}', '{"target":{"groupId":"x\\udbff"}}']) {
        assert.strictEqual((await s.request("PATCH", `${cfgs}/c1/assignments/a1`, { raw, headers: json })).status, 400, raw)
      }
      assert.strictEqual((await s.request("PATCH", `${cfgs}/c1`, { raw: '{"note":"\\udc00"}', headers: json })).status, 400)
      const after = await s.request("GET", `${cfgs}/c1/assignments/a1`)
      assert.strictEqual(after.json["@odata.etag"], a.json["@odata.etag"])
    })

    it("answers 400 to a batch holding a request that would store one, and runs none of it", async () => {
      const r = await s.request("POST", "/beta/$batch", {
        body: { requests: [{ id: "1", method: "POST", url: "/groups", body: { id: "fine" } }, { id: "2", method: "POST", url: "/users", body: { id: "b\ud800" } }] }
      })
      assert.strictEqual(r.status, 400, r.text)
      assert.include(errorOf(r).message, "Unicode")
      assert.match(errorOf(r).message, /^requests\[1\]\.body\.id: /)
      assert.strictEqual((await s.request("GET", "users/$count")).text, "0")
      assert.strictEqual((await s.request("GET", "groups/$count")).text, "0")
      assert.deepStrictEqual(s.logs.filter((l) => l.status >= 500), [])
    })
  })

overHttp("memory", () => MemoryStore.layer)
overHttp("SQLite", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "security-body-"))
  return SqliteStore.layer({ filename: path.join(dir, "test.sqlite"), synchronous: "NORMAL" }) as Layer.Layer<Store>
})
