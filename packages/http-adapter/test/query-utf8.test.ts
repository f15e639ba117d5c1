/**
 * Percent-encoding in the query string, over real HTTP (SPEC 8: invalid UTF-8 is a 400; SPEC 5:
 * an unsupported `$filter` is a 400 saying so, never silently ignored). A query option whose
 * escapes are malformed (`%G1`, a lone `%`) or do not spell UTF-8 (`%FF`, a cut sequence, an
 * overlong form, a surrogate) is a 400 naming the option, before any option is read: it is never
 * read as U+FFFD, so `sourceId eq '%FF'` does not match a `sourceId` of U+FFFD. The same on the
 * directory's lists, for `$select` and `$top`, for a `$ref`'s `@id`, and for a `$batch` request's
 * URL. U+FFFD written as UTF-8 (`%EF%BF%BD`) is still an ordinary character.
 * And what valid UTF-8 may not spell in an id (SPEC 2): a C1 control character (U+0080 to
 * U+009F) is refused as U+0001 is, in a create's body, in a path and in a `$ref`'s URL.
 */
import { MemoryStore } from "@enrollment/core"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { errorOf, start, succeeds, type TestServer } from "./support.ts"

const G = "#microsoft.graph."
const cfgs = "deviceManagement/deviceEnrollmentConfigurations"
const assignments = `${cfgs}/cJ/assignments`
/** U+FFFD as a client writes it in a URL: its UTF-8 bytes, percent-encoded. */
const replacement = "%EF%BF%BD"

describe("a query option whose percent-encoding is not UTF-8", () => {
  let s: TestServer
  /** Asserts a 400 BadRequest in the error shape that names `option` as not validly percent-encoded. */
  const refused = (r: { status: number; text: string; json: any; headers: Headers }, option: string, what: string) => {
    assert.strictEqual(r.status, 400, `${what}: ${r.text}`)
    const e = errorOf(r)
    assert.strictEqual(e.code, "BadRequest", what)
    assert.include(e.message, `The query option '${option}' is not validly percent-encoded`, what)
    assert.notInclude(e.message, "\uFFFD", what)
  }

  beforeAll(async () => {
    s = await start({ store: MemoryStore.layer })
    await succeeds(s, "POST", cfgs, { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: "cJ" })
    await succeeds(s, "POST", assignments, { id: "aR", source: "policySets", sourceId: "\uFFFD" })
    await succeeds(s, "POST", assignments, { id: "aX", source: "policySets", sourceId: "x" })
    await succeeds(s, "POST", "users", { id: "\uFFFD", displayName: "\uFFFD" })
    await succeeds(s, "POST", "groups", { id: "gR", displayName: "Replacement" })
    await succeeds(s, "POST", "groups/gR/members/$ref", { "@odata.id": `users/${replacement}` })
  })
  afterAll(() => s.close())

  it("refuses an assignment $filter holding %FF, and does not read it as U+FFFD", async () => {
    refused(await s.request("GET", `${assignments}?$filter=sourceId%20eq%20'%FF'`), "$filter", "the list")
    refused(await s.request("GET", `${assignments}/$count?$filter=sourceId%20eq%20'%FF'`), "$filter", "/$count")
    // Under any spelling of the option's name, the name itself percent-encoded too.
    refused(await s.request("GET", `${assignments}?%24filter=sourceId%20eq%20'%FF'`), "$filter", "%24filter")
    refused(await s.request("GET", `${assignments}?filter=sourceId+eq+'%FF'`), "filter", "filter, + for the spaces")
  })

  it("still reads U+FFFD written as UTF-8, and + as a space", async () => {
    const r = await s.request("GET", `${assignments}?$filter=sourceId+eq+'${replacement}'`)
    assert.strictEqual(r.status, 200, r.text)
    assert.deepStrictEqual(r.json.value.map((a: any) => a.id), ["aR"])
    const users = await s.request("GET", `users?$filter=displayName%20eq%20'${replacement}'`)
    assert.strictEqual(users.status, 200, users.text)
    assert.deepStrictEqual(users.json.value.map((u: any) => u.id), ["\uFFFD"])
  })

  it("refuses a directory $filter, $select and $top holding %FF, naming the option", async () => {
    refused(await s.request("GET", "users?$filter=displayName%20eq%20'%FF'"), "$filter", "users $filter")
    refused(await s.request("GET", "users?$select=%FF"), "$select", "users $select")
    refused(await s.request("GET", "users?$top=%FF"), "$top", "users $top")
    refused(await s.request("GET", `${assignments}/aR?$select=%FF`), "$select", "an assignment's $select")
  })

  it("refuses malformed escapes and bytes that are not UTF-8: %G1, a lone %, a cut, overlong or surrogate sequence", async () => {
    for (const bad of ["%G1", "%", "a%2", "%E2%82", "%C0%AF", "%ED%A0%80", "%F4%90%80%80", "%80"]) {
      refused(await s.request("GET", `users?$filter=displayName%20eq%20'${bad}'`), "$filter", bad)
    }
  })

  it("refuses the whole query before any option is read, and names an undecodable name as sent", async () => {
    // `$top=0` alone is a 400 of its own: the encoding is told first, whichever option comes first.
    refused(await s.request("GET", `${assignments}?$top=0&$select=%FF`), "$select", "after a bad $top")
    refused(await s.request("GET", `${assignments}?%FFtop=1`), "%FFtop", "a name")
    // A custom option is no exception.
    refused(await s.request("GET", `${assignments}?custom=%FF`), "custom", "a custom option")
  })

  it("refuses a $ref's @id holding %FF, and removes no member", async () => {
    refused(await s.request("DELETE", "groups/gR/members/$ref?@id=users/%FF"), "@id", "@id")
    const members = await s.request("GET", "groups/gR/members")
    assert.deepStrictEqual(members.json.value.map((m: any) => m.id), ["\uFFFD"])
  })

  it("refuses a $batch request whose URL's query holds %FF, as if sent alone", async () => {
    const r = await s.request("POST", "$batch", {
      body: {
        requests: [
          { id: "1", method: "GET", url: "/users?$filter=displayName eq '%FF'" },
          { id: "2", method: "GET", url: `/users?$filter=displayName eq '${replacement}'` }
        ]
      }
    })
    assert.strictEqual(r.status, 200, r.text)
    const byId = Object.fromEntries(r.json.responses.map((a: any) => [a.id, a]))
    assert.strictEqual(byId["1"].status, 400, JSON.stringify(byId["1"]))
    assert.strictEqual(byId["1"].body.error.code, "BadRequest")
    assert.include(byId["1"].body.error.message, "The query option '$filter' is not validly percent-encoded")
    assert.strictEqual(byId["2"].status, 200, JSON.stringify(byId["2"]))
    assert.deepStrictEqual(byId["2"].body.value.map((u: any) => u.id), ["\uFFFD"])
  })
})

describe("an id holding a C1 control character (U+0080 to U+009F)", () => {
  let s: TestServer
  const refused = (r: { status: number; text: string; json: any; headers: Headers }, what: string) => {
    assert.strictEqual(r.status, 400, `${what}: ${r.text}`)
    assert.strictEqual(errorOf(r).code, "BadRequest", what)
  }

  beforeAll(async () => {
    s = await start({ store: MemoryStore.layer })
    await succeeds(s, "POST", cfgs, { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: "cJ" })
    await succeeds(s, "POST", "groups", { id: "g", displayName: "G" })
  })
  afterAll(() => s.close())

  it("refuses it in a create's body, as U+0001 and U+007F are, and stores nothing", async () => {
    for (const id of ["x\u0085y", "\u0080", "x\u009f", "x\u0001y", "x\u007fy"]) {
      refused(await s.request("POST", assignments, { body: { id } }), JSON.stringify(id))
      refused(await s.request("POST", "users", { body: { id, displayName: "U" } }), `a user ${JSON.stringify(id)}`)
    }
    const list = await s.request("GET", assignments)
    assert.deepStrictEqual(list.json.value, [])
  })

  it("refuses it in a path and in a $ref's URL, in the body and in @id", async () => {
    refused(await s.request("GET", `${assignments}/x%C2%85y`), "GET …/assignments/x%C2%85y")
    refused(await s.request("GET", `${assignments}('x%C2%85y')`), "the key form")
    refused(await s.request("PATCH", `${assignments}/x%C2%85y`, { body: { sourceId: "s" } }), "PATCH")
    refused(await s.request("POST", "groups/g/members/$ref", { body: { "@odata.id": "users/x%C2%85y" } }), "@odata.id")
    refused(await s.request("DELETE", `groups/g/members/$ref?@id=${encodeURIComponent("users/x%C2%85y")}`), "@id")
  })
})
