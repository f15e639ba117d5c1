/**
 * The rule of a reference's URL in the OpenAPI document: `@odata.id` of `POST …/members/$ref`
 * (and `@id` of `DELETE …/members/$ref?@id=`) carries the server's rule as a `pattern`
 * (`Requests.referencePattern`), so a body validated against the served document with ajv is
 * one the server takes, and one the server refuses for its URL does not validate. Checked over
 * real HTTP on hand-picked references and on generated ones: the server refuses a reference for
 * its form exactly when the document's schema does.
 */
import { MemoryStore } from "@enrollment/core"
import { Ajv2020 } from "ajv/dist/2020.js"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { bodyChecker } from "./RequestBodies.ts"
import { errorOf, start, type TestServer } from "./support.ts"

const emoji = "%F0%9F%98%80" // U+1F600, percent-encoded: two UTF-16 code units

/** References the server takes (the member may not exist: then a 404, never a 400 for the URL). */
const accepted = [
  "https://graph.microsoft.com/beta/directoryObjects/m1",
  "https://graph.microsoft.com/v1.0/users/m1",
  "HTTPS://GRAPH.MICROSOFT.COM/beta/groups/m2",
  "http://127.0.0.1:8080/beta/directoryObjects/m1?$select=id",
  "https://user@[::1]:8443/x/users/m1#frag",
  "//graph.microsoft.com/beta/users/m1",
  "directoryObjects/m1",
  "/beta/users/m1/",
  "../users/m1",
  "a/../groups/m2",
  "users('m1')",
  "https://graph.microsoft.com/beta/directoryObjects('it''s')",
  "groups('a%27b')",
  "users/it's",
  "users/a%20b",
  "users/%E2%82%AC%C3%A9",
  "users/a%C2%A0b",
  "users/é€",
  "users/a:b(c)",
  `users/${emoji.repeat(64)}`,
  `users/${"x".repeat(128)}`,
  `users('${"''".repeat(128)}')`,
  "users/..x",
  "users/%2E%2E%2E"
]

/** References the server refuses for their URL (a 400 naming the member). */
const refused = [
  "",
  "m1",
  "users",
  "users/",
  "users//",
  "users/m1//",
  "devices/m1",
  "https://x/beta/devices/m1",
  "https://users/m1",
  "//users/m1",
  "https:users/m1",
  "https:/users/m1",
  "mailto:users/m1",
  "foo:/x/users/m1",
  "a:b/users/m1",
  "users/a%2Fb",
  "users/a%2fb",
  "users/a%00b",
  "users/a%7F",
  "users/a%1Fb",
  "users/x%C2%85y",
  "users/a%C2%80",
  "users/a%c2%9f",
  "users/a\u0085b",
  "groups('a%C2%85')",
  "users/a\u0001b",
  "users/a\tb",
  "users/a b",
  " users/m1",
  "users/m1 ",
  "users\\m1",
  "x\\users/m1",
  "users/100%",
  "users/%C3",
  "users/%C0%80",
  "users/%ED%A0%80",
  "users/%F4%90%80%80",
  `users/${emoji.slice(0, 6)}`,
  "users/😀",
  `users/${emoji.repeat(65)}`,
  `users/${"x".repeat(129)}`,
  `users/${"x".repeat(127)}${emoji}`,
  "users/.",
  "users/..",
  "users/%2e%2E",
  "users/m1/..",
  "users('')",
  "users('a'b')",
  "users('a/b')",
  "Users/m1",
  "users%2Fm1"
]

/**
 * References generated from a seed (the same ones every run): a start (a scheme and host, a
 * relative path, or something else), a set, a key of pieces (characters, escapes whole and
 * broken, quotes, dots, delimiters), an end; and strings of those pieces in any order.
 */
const generated = (seed: number, n: number): ReadonlyArray<string> => {
  let x = seed
  const next = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32
  const pick = (from: ReadonlyArray<string>) => from[Math.floor(next() * from.length)]!
  const starts = ["", "", "https://graph.microsoft.com/beta/", "HTTP://h:1/", "//h/", "/", "../", "a/../", "https:", "https://", "a:b/", " ", "x\\", "\t"]
  const sets = ["users", "groups", "directoryObjects", "directoryObjects", "devices", "Users"]
  const keys = [
    "m", "x1", "é", "€", ".", "..", "%2e", "%2E", "'", "''", "(", ")", ":", "@", "~", "$", "=", "%20", "%41", "%27", "%C3%A9", "%e2%82%ac",
    emoji, emoji, "%F0%9F", "%98%80", "%ED%A0%80", "%C0%80", "%2F", "%00", "%7F", "%C2%85", "%C2%A0", "\u0085", "%", "😀", " ", "\t", "\\", "/", "?", "#", "\u0001"
  ]
  const ends = ["", "", "", "/", "?x=1", "#f", "?a b", " ", "/..", "//", "/."]
  return Array.from({ length: n }, () => {
    const quoted = next() < 0.3
    let key = ""
    for (let i = 1 + Math.floor(next() * 5); i > 0; i--) key += pick(keys)
    if (next() < 0.05) key = key.repeat(40)
    if (next() < 0.15) {
      let s = ""
      for (let i = 1 + Math.floor(next() * 7); i > 0; i--) s += pick([...starts, ...sets, ...keys, ...ends, "('", "')"])
      return s
    }
    return pick(starts) + pick(sets) + (quoted ? `('${key}')` : `/${key}`) + pick(ends)
  })
}

describe("the rule of a reference's URL in the OpenAPI document", () => {
  let s: TestServer
  let doc: any
  beforeAll(async () => {
    s = await start({ store: MemoryStore.layer })
    assert.strictEqual((await s.request("POST", "groups", { body: { id: "target" } })).status, 201)
    doc = (await s.request("GET", "/beta/openapi.json", { token: null })).json
  })
  afterAll(() => s.close())

  /** How the server answers a POST of `ref`: refused for its URL (400 naming @odata.id), or not. */
  const serverRefuses = async (ref: unknown) => {
    const r = await s.request("POST", "groups/target/members/$ref", { body: { "@odata.id": ref } })
    if (r.status === 400) {
      assert.match(errorOf(r).message, /^@odata\.id: expected an? /, JSON.stringify(ref))
      return true
    }
    // No such member: the URL was taken.
    assert.strictEqual(r.status, 404, `${JSON.stringify(ref)}: ${r.text}`)
    return false
  }

  it("gives @odata.id the server's rule as a pattern: a refused reference does not validate, an accepted one does", async () => {
    const check = bodyChecker(doc)
    const schema = doc.components.schemas.referenceCreate
    assert.strictEqual(typeof schema.properties["@odata.id"].pattern, "string")
    assert.deepStrictEqual(schema.required, ["@odata.id"])
    const wrong: Array<string> = []
    for (const ref of [...accepted, ...refused, 5, null, ["users/m1"]]) {
      const refusedByServer = await serverRefuses(ref)
      const errors = check("POST", "/groups/target/members/$ref", { "@odata.id": ref })!.errors
      if (refusedByServer !== refused.includes(ref as string) && typeof ref === "string") wrong.push(`${JSON.stringify(ref)}: the server ${refusedByServer ? "refuses" : "takes"} it`)
      if (refusedByServer === (errors.length === 0)) {
        wrong.push(`${JSON.stringify(ref)}: the server ${refusedByServer ? "refuses" : "takes"} it, the document's schema ${errors.length === 0 ? "takes" : "refuses"} it`)
      }
    }
    assert.deepStrictEqual(wrong, [])
  })

  it("refuses for its URL exactly the generated references the document's schema refuses, in a body and as DELETE's @id", async () => {
    const check = bodyChecker(doc)
    const ajv = new Ajv2020({ strict: true })
    const atId = doc.paths["/beta/groups/{groupId}/members/$ref"].delete.parameters.find((p: any) => p.name === "@id")
    const idValid = ajv.compile(atId.schema)
    const refs = [...new Set(generated(20_261_129, 1500))]
    const wrong: Array<string> = []
    let taken = 0
    for (let i = 0; i < refs.length; i += 25) {
      await Promise.all(refs.slice(i, i + 25).map(async (ref) => {
        const refusedByServer = await serverRefuses(ref)
        if (!refusedByServer) taken++
        const valid = check("POST", "/groups/target/members/$ref", { "@odata.id": ref })!.errors.length === 0
        if (refusedByServer === valid) wrong.push(`POST ${JSON.stringify(ref)}: server ${refusedByServer ? "refuses" : "takes"}, schema ${valid ? "takes" : "refuses"}`)
        const del = await s.request("DELETE", `groups/target/members/$ref?@id=${encodeURIComponent(ref)}`)
        assert.include([400, 404], del.status, del.text)
        if ((del.status === 400) === idValid(ref)) wrong.push(`DELETE ?@id=${JSON.stringify(ref)}: server ${del.status}, schema ${idValid(ref) ? "takes" : "refuses"}`)
      }))
    }
    assert.deepStrictEqual(wrong, [])
    // Both kinds were generated.
    assert.isAbove(taken, 50)
    assert.isAbove(refs.length - taken, 50)
  })
})
