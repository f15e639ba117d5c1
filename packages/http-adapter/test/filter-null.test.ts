/**
 * Null in `$filter`, as OData 4.01 reads it (URL Conventions 5.1.1), on the directory's lists
 * (users, groups, invitations, a group's members) over real HTTP. An absent property is null;
 * `eq`, `ne` and `in` are ordinary comparisons in which null equals null and nothing else, so
 * `not (userType eq 'Guest')` keeps an object without a `userType`; a function over null
 * (`startswith(mail,'a')` with no mail) and `not` over a null Boolean are null (unknown), `and` and
 * `or` are three-valued, and an object is kept only where the whole expression is true. `not`
 * binds tighter than `eq`: `not securityEnabled eq true` is `(not securityEnabled) eq true`.
 * (The assignment `$filter`'s null is tested on every store in `HttpSuite.ts`.)
 */
import { MemoryStore } from "@enrollment/core"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import * as OData from "../src/OData.ts"
import { errorOf, start, type TestServer } from "./support.ts"

describe("$filter reads null as OData 4.01 does", () => {
  let s: TestServer
  const ok = (r: { status: number; text: string }, status: number, what = "") => assert.strictEqual(r.status, status, `${what} ${r.text}`)
  // Invitations make guest users: theirs live in a tenant of their own, apart from the users here.
  const ids = async (path: string, f: string, tenant = path === "invitations" ? "tenant-i" : "tenant-a") => {
    const r = await s.request("GET", `${path}?$filter=${encodeURIComponent(f)}`, { tenant })
    ok(r, 200, f)
    const count = await s.request("GET", `${path}/$count?$filter=${encodeURIComponent(f)}`, { tenant })
    assert.strictEqual(count.text, String(r.json.value.length), `${f}: /$count`)
    return r.json.value.map((o: any) => o.id)
  }

  beforeAll(async () => {
    s = await start({ store: MemoryStore.layer })
    const post = async (path: string, body: unknown) => ok(await s.request("POST", path, { body }), 201, path)
    await post("users", { id: "ua", displayName: "Ada", mail: "ada@contoso.com", userType: "Member" })
    await post("users", { id: "ub", displayName: "Bob", mail: "bob@contoso.com", userType: "Guest", accountEnabled: false })
    await post("users", { id: "un", displayName: "Nil" }) // no mail: null
    await post("groups", { id: "gs", displayName: "Secure", securityEnabled: true, description: "d" })
    await post("groups", { id: "gn", displayName: "Open", securityEnabled: false })
    await post("groups", { id: "mx", displayName: "Mixed" })
    for (const m of ["users/ua", "users/ub", "users/un", "groups/gs", "groups/gn"]) {
      ok(await s.request("POST", "groups/mx/members/$ref", { body: { "@odata.id": m } }), 204)
    }
    for (const body of [
      { id: "i1", invitedUserEmailAddress: "x@example.com", inviteRedirectUrl: "https://example.com", invitedUserDisplayName: "Xena" },
      { id: "i2", invitedUserEmailAddress: "y@example.com", inviteRedirectUrl: "https://example.com" }
    ]) ok(await s.request("POST", "invitations", { body, tenant: "tenant-i" }), 201)
  })
  afterAll(() => s.close())

  it("keeps an object whose property is null where eq is false: ne and not (… eq …) are true there", async () => {
    assert.deepStrictEqual(await ids("users", "not (mail eq 'ada@contoso.com')"), ["ub", "un"])
    assert.deepStrictEqual(await ids("users", "mail ne 'ada@contoso.com'"), ["ub", "un"])
    assert.deepStrictEqual(await ids("users", "not (mail in ('ada@contoso.com', 'bob@contoso.com'))"), ["un"])
    assert.deepStrictEqual(await ids("users", "not (mail eq null)"), ["ua", "ub"])
    assert.deepStrictEqual(await ids("groups", "not (description eq 'd')"), ["gn", "mx"])
    assert.deepStrictEqual(await ids("invitations", "not (invitedUserDisplayName eq 'Xena')"), ["i2"])
    // On a group's members a property the other type lacks is absent, so null: groups have no userType.
    assert.deepStrictEqual(await ids("groups/mx/members", "not (userType eq 'Guest')"), ["gn", "gs", "ua", "un"])
    assert.deepStrictEqual(await ids("groups/mx/members", "not (securityEnabled eq true)"), ["gn", "ua", "ub", "un"])
  })

  it("leaves out an object where a function or not meets null (unknown), with three-valued and / or", async () => {
    // startswith over no mail is unknown, and so is its negation: un is in neither answer.
    assert.deepStrictEqual(await ids("users", "startswith(mail,'ada')"), ["ua"])
    assert.deepStrictEqual(await ids("users", "not startswith(mail,'ada')"), ["ub"])
    assert.deepStrictEqual(await ids("users", "not (startswith(mail,'ada'))"), ["ub"])
    // unknown or true is true; unknown and false is false, so its negation is true.
    assert.deepStrictEqual(await ids("users", "startswith(mail,'ada') or mail eq null"), ["ua", "un"])
    assert.deepStrictEqual(await ids("users", "not (startswith(mail,'bob') and mail ne null)"), ["ua", "un"])
    // unknown and true is unknown: its negation leaves un out.
    assert.deepStrictEqual(await ids("users", "not (startswith(mail,'bob') and displayName eq 'Nil')"), ["ua", "ub"])
    // A Boolean the users do not have: not over it is unknown on them.
    assert.deepStrictEqual(await ids("groups/mx/members", "not securityEnabled"), ["gn"])
    assert.deepStrictEqual(await ids("groups/mx/members", "securityEnabled"), ["gs"])
    assert.deepStrictEqual(await ids("users", "not accountEnabled"), ["ub"])
  })

  it("binds not tighter than eq, as OData's precedence has it, and refuses not over a string", async () => {
    // (not securityEnabled) eq true: the users' null negated is still null, and null eq true is false.
    assert.deepStrictEqual(await ids("groups/mx/members", "not securityEnabled eq true"), ["gn"])
    assert.deepStrictEqual(await ids("groups/mx/members", "not securityEnabled eq null"), ["ua", "ub", "un"])
    assert.deepStrictEqual(await ids("users", "not accountEnabled eq false and startswith(displayName,'a')"), ["ua"])
    const r = await s.request("GET", `users?$filter=${encodeURIComponent("not userType eq 'Guest'")}`)
    ok(r, 400)
    assert.include(errorOf(r).message, "not applies to a Boolean and userType is a string; to negate a comparison, write not (userType eq …)")
    const bare = await s.request("GET", `users?$filter=${encodeURIComponent("mail")}`)
    ok(bare, 400)
    assert.include(errorOf(bare).message, "expected eq, ne or in after mail")
  })

  it("evaluates each form over an object without the property as OData's truth tables say (unit)", () => {
    const props: OData.FilterableProps = { mail: "string", accountEnabled: "boolean" }
    const keeps = (f: string, o: Record<string, unknown>) => {
      const r = OData.parseObjectFilter(f, props)
      assert.isTrue(r.ok, f)
      return r.ok && r.filter(o)
    }
    const cases: ReadonlyArray<[string, boolean]> = [
      ["mail eq 'a'", false],
      ["mail ne 'a'", true],
      ["mail eq null", true],
      ["mail ne null", false],
      ["not (mail eq 'a')", true],
      ["not (mail eq null)", false],
      ["mail in ('a', null)", true],
      ["startswith(mail,'a')", false],
      ["not startswith(mail,'a')", false],
      ["accountEnabled", false],
      ["not accountEnabled", false],
      ["not accountEnabled eq null", true],
      ["not (accountEnabled eq true)", true],
      ["startswith(mail,'a') or true eq true", false], // `true` is no property: refused below
    ]
    for (const [f, expected] of cases.slice(0, -1)) {
      assert.strictEqual(keeps(f, {}), expected, `${f} over {}`)
      assert.strictEqual(keeps(f, { mail: null, accountEnabled: null }), expected, `${f} over nulls`)
    }
    assert.isFalse(OData.parseObjectFilter(cases.at(-1)![0], props).ok)
    // The same forms over values, where nothing is unknown.
    assert.isTrue(keeps("not startswith(mail,'a')", { mail: "b" }))
    assert.isTrue(keeps("not accountEnabled", { accountEnabled: false }))
    assert.isFalse(keeps("not accountEnabled eq true", { accountEnabled: true }))
  })
})
