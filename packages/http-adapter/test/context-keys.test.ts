/**
 * An `@odata.context` is a URL (OData 4.01 JSON Format 10): a key in it is percent-encoded as in a
 * resource path. Before http-adapter 0.9.0 a key was written as it is, so `c#?x y%é` made a context
 * with a second `#`, a space and a lone `%`, which no URL parser reads as its path.
 */
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { start, succeeds, type TestServer } from "./support.ts"

const G = "#microsoft.graph."
const cfgs = "deviceManagement/deviceEnrollmentConfigurations"
const id = "c#?x y%\u00e9'q"
const encoded = "c%23%3Fx%20y%25%C3%A9''q"

describe("keys in @odata.context", () => {
  let s: TestServer
  beforeAll(async () => {
    s = await start()
    await succeeds(s, "POST", cfgs, { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id, limit: 1 })
    await succeeds(s, "POST", `${cfgs}/${encodeURIComponent(id)}/assignments`, { id: "a1", target: { "@odata.type": `${G}allLicensedUsersAssignmentTarget` } })
    await succeeds(s, "POST", "users", { id: "u \u00fc#" })
  })
  afterAll(() => s.close())

  it("percent-encodes them, so the context parses as a URL whose fragment holds the key", async () => {
    const path = `${cfgs}/${encodeURIComponent(id)}/assignments`
    const list = await s.request("GET", path)
    assert.strictEqual(list.json["@odata.context"], `${s.base}/$metadata#${cfgs}('${encoded}')/assignments`)
    const one = await s.request("GET", `${path}/a1`)
    const context = new URL(one.json["@odata.context"])
    assert.strictEqual(context.pathname, new URL(`${s.base}/$metadata`).pathname)
    assert.strictEqual(decodeURIComponent(context.hash), `#${cfgs}('${id.replaceAll("'", "''")}')/assignments/$entity`)
  })

  it("on the user family's prefix and an expansion's context too", async () => {
    const mine = await s.request("GET", `users/${encodeURIComponent("u \u00fc#")}/deviceEnrollmentConfigurations?$expand=assignments`)
    assert.strictEqual(mine.status, 200, mine.text)
    assert.strictEqual(mine.json["@odata.context"], `${s.base}/$metadata#users('u%20%C3%BC%23')/deviceEnrollmentConfigurations(assignments())`)
    assert.strictEqual(
      mine.json.value[0]["assignments@odata.context"],
      `${s.base}/$metadata#users('u%20%C3%BC%23')/deviceEnrollmentConfigurations('${encoded}')/assignments`
    )
  })
})
