/**
 * Links the server writes name a dot-segment id in the key form, which no URL parser removes (as a
 * create's Location has since 0.8.1): a configuration's `assignments@odata.nextLink` in a list's
 * `$expand`, and a member's `@odata.id` in `members/$ref`. Before 0.9.0 they wrote `…/..`, which a
 * client's URL parser turns into the parent's URL: the nested next link answered 404, and the
 * reference named no object.
 */
import { MemoryStore } from "@enrollment/core"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { heldMemoryStore, start, succeeds, type TestServer } from "./support.ts"

const G = "#microsoft.graph."
const cfgs = "deviceManagement/deviceEnrollmentConfigurations"
/** One more than an answer expands (`Routes.expandBudget`). */
const overBudget = 10_001

describe("links to entities whose id is a dot segment", () => {
  let s: TestServer
  const store = heldMemoryStore()
  /** The path a client requests for a link the server wrote, parsed as `fetch` parses it. */
  const followed = (link: string) => {
    const url = new URL(link)
    return `${url.pathname.slice(new URL(s.base).pathname.length + 1)}${url.search}`
  }
  beforeAll(async () => {
    s = await start({ store: store.layer })
    await succeeds(s, "POST", cfgs, { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: "..", limit: 1 })
    const all = Array.from({ length: overBudget }, (_, i) => ({ id: `a${String(i).padStart(6, "0")}`, target: { "@odata.type": `${G}allLicensedUsersAssignmentTarget` } }))
    // More than one `assign` takes (core's Configuration.maxAssignItems): set in the store.
    await store.replace("tenant-a", "..", all)
    await succeeds(s, "POST", "users", { id: ".." })
    for (const id of ["g1", "g2"]) await succeeds(s, "POST", "groups", { id })
    await succeeds(s, "POST", "groups/g1/members/$ref", { "@odata.id": `${s.base}/users('..')` })
  })
  afterAll(() => s.close())

  it("a list's expansion links the rest of a '..' configuration's assignments in the key form", async () => {
    const list = await s.request("GET", `${cfgs}?$expand=assignments`)
    assert.strictEqual(list.status, 200, list.text.slice(0, 300))
    const c = list.json.value.find((x: any) => x.id === "..")
    const link: string = c["assignments@odata.nextLink"]
    assert.include(link, `/${cfgs}('..')/assignments?$skiptoken=`)
    const rest = await s.request("GET", followed(link))
    assert.strictEqual(rest.status, 200, rest.text)
    assert.deepStrictEqual(rest.json.value.map((a: any) => a.id), [`a${String(overBudget - 1).padStart(6, "0")}`])
  })

  it("members/$ref names a '..' member in the key form, a reference POST takes back", async () => {
    const refs = await s.request("GET", "groups/g1/members/$ref")
    assert.strictEqual(refs.status, 200, refs.text)
    const ref: string = refs.json.value[0]["@odata.id"]
    assert.strictEqual(ref, `${s.base}/directoryObjects('..')`)
    assert.strictEqual(new URL(ref).pathname.endsWith("/directoryObjects('..')"), true)
    await succeeds(s, "POST", "groups/g2/members/$ref", { "@odata.id": ref })
    const members = await s.request("GET", "groups/g2/members")
    assert.deepStrictEqual(members.json.value.map((m: any) => m.id), [".."])
  })
})
