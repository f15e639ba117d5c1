/**
 * A next link's `$skiptoken` holds the last id of its page (SPEC 5), and ids may be 128 characters
 * of any script (SPEC 2). Before 0.9.0 the server read tokens of at most 400 characters, the base64url
 * of 300 bytes, and answered its own next link after an id of 101 `中` with a 400: every later page
 * was out of reach.
 */
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { OData } from "../src/index.ts"
import { pages, start, succeeds, type TestServer } from "./support.ts"

const G = "#microsoft.graph."
const cfgs = "deviceManagement/deviceEnrollmentConfigurations"
/** 128 characters of 3 bytes each (the most bytes an id of 128 holds), and one more of them after it. */
const longest = "\u20ac".repeat(128)
const cjk = "0" + "\u4e2d".repeat(127)
const everyone = { target: { "@odata.type": `${G}allLicensedUsersAssignmentTarget` } }

describe("next links after the longest ids", () => {
  let s: TestServer
  beforeAll(async () => {
    s = await start()
    for (const id of [cjk, "zzz"]) await succeeds(s, "POST", "users", { id })
    // The longest position a list holds: a user's configurations' [priority, id] with Int32's least priority.
    for (const [id, priority] of [[longest, -2147483648], ["\uffff", -2147483648], ["z", 0]] as const) {
      await succeeds(s, "POST", cfgs, { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id, priority, limit: 1 })
      await succeeds(s, "POST", `${cfgs}/${encodeURIComponent(id)}/assignments`, everyone)
    }
    for (const id of [cjk, "z"]) await succeeds(s, "POST", `${cfgs}/z/assignments`, { id })
  })
  afterAll(() => s.close())

  const get = (path: string) => s.request("GET", path)

  it("pages users past an id of 128 characters of CJK", async () => {
    const { ids, links } = await pages(s, get, "users?$top=1&$select=id")
    assert.deepStrictEqual(ids, [[cjk], ["zzz"]])
    assert.isAbove(new URL(links[0]!).searchParams.get("$skiptoken")!.length, 400)
  })

  it("pages assignments past one", async () => {
    const { ids } = await pages(s, get, `${cfgs}/z/assignments?$top=1&$select=id`)
    assert.strictEqual(ids.flat().length, 3)
    assert.includeMembers(ids.flat(), [cjk, "z"])
  })

  it("pages a user's configurations past the longest token a list makes", async () => {
    const { ids, links } = await pages(s, get, "users/zzz/deviceEnrollmentConfigurations?$top=1&$select=id")
    assert.deepStrictEqual(ids, [[longest], ["\uffff"], ["z"]])
    assert.strictEqual(new URL(links[0]!).searchParams.get("$skiptoken")!.length, OData.maxSkipTokenLength)
  })

  it("refuses a token one character longer than any it makes", async () => {
    const r = await get(`users?$skiptoken=${"A".repeat(OData.maxSkipTokenLength + 1)}`)
    assert.strictEqual(r.status, 400, r.text)
  })
})
