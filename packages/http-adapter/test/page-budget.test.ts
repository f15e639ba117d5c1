/**
 * A page of a list ends early once its items' text reaches `OData.pageTextBudget`, with a next link
 * to the rest (server-driven paging, since 0.16.0). A review's 999 users of 60 KB each made each page
 * of `/users?$top=999` 60 MB (1.7–2 s of the event loop) and twenty of them in one `$batch` a 500.
 */
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { OData } from "../src/index.ts"
import { pages, start, succeeds, type TestServer } from "./support.ts"

const G = "#microsoft.graph."
const cfgs = "deviceManagement/deviceEnrollmentConfigurations"
const n = 100
/** About 60 KB of text in an entity: 15 strings of 4 000 characters (a typed string holds at most 4 KiB). */
const long = Array.from({ length: 15 }, (_, i) => `${i}`.padEnd(4_000, "x"))
const longChars = JSON.stringify(long).length
const ids = Array.from({ length: n }, (_, i) => `e${String(i).padStart(3, "0")}`)

describe("pages of large entities", () => {
  let s: TestServer
  beforeAll(async () => {
    s = await start()
    await succeeds(s, "POST", "users", { id: "reader" })
    for (const id of ids) {
      await succeeds(s, "POST", "users", { id, businessPhones: long })
      await succeeds(s, "POST", cfgs, { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id, limit: 1, description: null, roleScopeTagIds: long })
      await succeeds(s, "POST", `${cfgs}/${id}/assignments`, { target: { "@odata.type": `${G}allLicensedUsersAssignmentTarget` } })
    }
  }, 120_000)
  afterAll(() => s.close())

  const get = (path: string) => s.request("GET", path)
  const budgetItems = Math.ceil(OData.pageTextBudget / longChars)

  for (
    const [name, path, expected] of [
      ["users", "users?$top=999", ["reader", ...ids].sort()],
      ["configurations", `${cfgs}?$top=999&$count=true`, ids],
      ["a user's configurations (by priority, then id)", "users/reader/deviceEnrollmentConfigurations?$top=999", ids]
    ] as const
  ) {
    it(`ends a page of ${name} once its text reaches the budget, and the next links reach every item once`, async () => {
      const { ids: got } = await pages(s, get, path)
      assert.isAbove(got.length, 1, "more than one page")
      assert.isAtMost(got[0]!.length, budgetItems + 1)
      assert.isAtLeast(got[0]!.length, budgetItems - 1)
      assert.deepStrictEqual(got.flat(), [...expected])
    }, 60_000)
  }

  it("keeps @odata.count the whole list's on a page the budget ended", async () => {
    const r = await get(`${cfgs}?$top=999&$count=true`)
    assert.strictEqual(r.json["@odata.count"], n)
    assert.isBelow(r.json.value.length, n)
    assert.isString(r.json["@odata.nextLink"])
    assert.deepStrictEqual(Object.keys(r.json), ["@odata.context", "@odata.count", "value", "@odata.nextLink"])
  })
})
