/**
 * `$filter` on the directory lists (users, groups, invitations) and their `/$count`,
 * on a real server: the forms Graph's directory answers, case-insensitive strings,
 * paging through filtered pages, and clear 400s for what is not supported.
 */
import { MemoryStore } from "@enrollment/core"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import * as OData from "../src/OData.ts"
import { start, type TestServer } from "./support.ts"

const user = (id: string, displayName: string, upn: string | null, userType: "Member" | "Guest", accountEnabled: boolean) => ({
  id,
  displayName,
  userPrincipalName: upn,
  mail: upn,
  userType,
  accountEnabled
})

describe("$filter on directory lists", () => {
  let s: TestServer
  beforeAll(async () => {
    s = await start({ store: MemoryStore.layer })
    const users = [
      user("u1", "Ada Lovelace", "ada@contoso.com", "Member", true),
      user("u2", "Alan Turing", "alan@contoso.com", "Member", false),
      user("u3", "Grace Hopper", "grace@fabrikam.com", "Guest", true),
      user("u4", "Adele Goldberg", null, "Member", true),
      user("u5", "O'Brien", "obrien@contoso.com", "Guest", true)
    ]
    for (const u of users) assert.strictEqual((await s.request("POST", "users", { body: u })).status, 201)
    for (const g of [{ id: "g1", displayName: "Sales", mailNickname: "sales", securityEnabled: true }, { id: "g2", displayName: "Sales EMEA", mailNickname: "sales-emea", securityEnabled: false }]) {
      assert.strictEqual((await s.request("POST", "groups", { body: g })).status, 201)
    }
  })
  afterAll(async () => {
    await s?.close()
  })
  const ids = async (path: string) => {
    const r = await s.request("GET", path)
    assert.strictEqual(r.status, 200, `${path}: ${r.text}`)
    return r.json.value.map((o: any) => o.id)
  }

  it("keeps what each supported form says, strings without regard to case", async () => {
    const cases: ReadonlyArray<[string, ReadonlyArray<string>]> = [
      ["userPrincipalName eq 'ADA@contoso.com'", ["u1"]],
      ["userType eq 'Guest'", ["u3", "u5"]],
      ["userType ne 'Guest'", ["u1", "u2", "u4"]],
      ["accountEnabled eq false", ["u2"]],
      ["userPrincipalName eq null", ["u4"]],
      ["id in ('u2', 'u4', 'nope')", ["u2", "u4"]],
      ["startswith(displayName,'ad')", ["u1", "u4"]],
      ["startswith(displayName,'A') and accountEnabled eq true", ["u1", "u4"]],
      ["userType eq 'Guest' or (startswith(mail,'alan') and not accountEnabled eq true)", ["u2", "u3", "u5"]],
      ["not (userType eq 'Member')", ["u3", "u5"]],
      ["displayName eq 'O''Brien'", ["u5"]]
    ]
    for (const [f, expected] of cases) {
      assert.deepStrictEqual(await ids(`users?$filter=${encodeURIComponent(f)}`), expected, f)
    }
    assert.deepStrictEqual(await ids(`groups?$filter=${encodeURIComponent("startswith(displayName,'sales') and securityEnabled eq true")}`), ["g1"])
    assert.deepStrictEqual(await ids(`groups?filter=${encodeURIComponent("mailNickname eq 'SALES-EMEA'")}`), ["g2"])
  })

  it("pages through what the filter keeps, and counts it", async () => {
    const f = encodeURIComponent("userType eq 'Member'")
    const first = await s.request("GET", `users?$filter=${f}&$top=2&$count=true`)
    assert.deepStrictEqual(first.json.value.map((u: any) => u.id), ["u1", "u2"])
    assert.strictEqual(first.json["@odata.count"], 3)
    const next = first.json["@odata.nextLink"] as string
    assert.include(next, "$filter=")
    const second = await s.request("GET", next.slice(s.base.length + 1))
    assert.deepStrictEqual(second.json.value.map((u: any) => u.id), ["u4"])
    assert.isUndefined(second.json["@odata.nextLink"])
    const counted = await s.request("GET", `users/$count?$filter=${f}`)
    assert.strictEqual(counted.text, "3")
    assert.strictEqual((await s.request("GET", "users/$count")).text, "5")
  })

  it("refuses what it does not support, saying what is", async () => {
    const cases: ReadonlyArray<[string, string]> = [
      ["users?$filter=surname eq 'x'", "'surname' is not a property that can be filtered on"],
      ["users?$filter=accountEnabled eq 'yes'", "accountEnabled is boolean: compare it with true or false"],
      ["users?$filter=displayName eq true", "displayName is a string: compare it with a quoted value"],
      ["users?$filter=startswith(accountEnabled,'t')", "startswith takes a string property"],
      ["users?$filter=displayName gt 'a'", "expected eq, ne or in after displayName"],
      ["users?$filter=displayName eq 'a' extra", "unexpected 'extra'"],
      ["users?$filter=(displayName eq 'a'", "expected ')'"],
      ["groups/g1/members?$filter=surname eq 'a'", "'surname' is not a property that can be filtered on"],
      ["groups/g1/members/$ref?$filter=displayName eq 'a'", "The query option '$filter' is not supported on this resource"]
    ]
    for (const [p, message] of cases) {
      const r = await s.request("GET", p.replaceAll(" ", "%20"))
      assert.strictEqual(r.status, 400, p)
      assert.include(r.json.error.message, message, p)
    }
  })

  it("reads a filter as a predicate over the object as written (unit)", () => {
    const r = OData.parseObjectFilter("mail eq 'A@B.C' or id in ('x')", { id: "string", mail: "string" })
    assert.isTrue(r.ok)
    if (!r.ok) return
    assert.isTrue(r.filter({ id: "y", mail: "a@b.c" }))
    assert.isTrue(r.filter({ id: "x", mail: null }))
    assert.isFalse(r.filter({ id: "y" }))
  })
})
