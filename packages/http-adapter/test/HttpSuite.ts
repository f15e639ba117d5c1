/**
 * The HTTP behaviour of SPEC 2, 3, 5, 6, 7 over real HTTP, written once and run
 * against every store (memory, SQLite, PostgreSQL when DATABASE_URL is set).
 */
import type { Store } from "@enrollment/core"
import type { Layer } from "effect"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { errorOf, pages as pagesOf, start, type TestServer } from "./support.ts"

const G = "#microsoft.graph."
const cfgs = "deviceManagement/deviceEnrollmentConfigurations"

export const httpSuite = (name: string, store: () => Layer.Layer<Store>) =>
  describe(`HTTP on ${name}`, () => {
    let s: TestServer
    let invitedUserId: string
    const inv = (c = "c1") => `invitations/i1/invitedUser/deviceEnrollmentConfigurations/${c}/assignments`
    const tenantA = (c = "c1") => `${cfgs}/${c}/assignments`

    const groupTarget = { "@odata.type": `${G}groupAssignmentTarget`, groupId: "g1", deviceAndAppManagementAssignmentFilterId: "f1", deviceAndAppManagementAssignmentFilterType: "include" }

    /** Puts assignment a1 back to a known target through the tenant path. */
    const reset = async (target: unknown) => {
      await s.request("DELETE", `${tenantA()}/a1`)
      const r = await s.request("POST", tenantA(), { body: { id: "a1", target } })
      assert.strictEqual(r.status, 201, r.text)
    }
    const patchSeed = (body: unknown, headers?: Record<string, string>) =>
      s.request("PATCH", `${inv()}/a1`, { body, ...(headers ? { headers } : {}) })

    beforeAll(async () => {
      s = await start({ store: store() })
      const ok = (r: { status: number; text: string }, status: number) => assert.strictEqual(r.status, status, r.text)
      ok(await s.request("POST", cfgs, { body: { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: "c1", displayName: "Limit", priority: 2, limit: 5 } }), 201)
      ok(await s.request("POST", "invitations", { body: { id: "i1", invitedUserEmailAddress: "guest@example.com", inviteRedirectUrl: "https://example.com" } }), 201)
      const u = await s.request("GET", "invitations/i1/invitedUser")
      ok(u, 200)
      invitedUserId = u.json.id
      ok(await s.request("POST", "groups", { body: { id: "g1", displayName: "Guests" } }), 201)
      ok(await s.request("POST", "groups/g1/members/$ref", { body: { "@odata.id": `https://graph.microsoft.com/beta/directoryObjects/${invitedUserId}` } }), 204)
      // keeps c1 targeted to the invited user whatever a1 becomes
      ok(await s.request("POST", tenantA(), { body: { id: "keep", target: { "@odata.type": `${G}allLicensedUsersAssignmentTarget` } } }), 201)
      ok(await s.request("POST", tenantA(), { body: { id: "a1", target: groupTarget } }), 201)
    })
    afterAll(async () => {
      await s?.close()
    })

    describe("PATCH on the invitation path (SPEC 3 worked examples)", () => {
      const cases: ReadonlyArray<[string, unknown, unknown, Record<string, unknown> | string]> = [
        ["merges groupId into the current group target", groupTarget, { groupId: "g2" }, { ...groupTarget, groupId: "g2" }],
        ["switches to an exclusion group keeping groupId and the filter", groupTarget, { "@odata.type": `${G}exclusionGroupAssignmentTarget` }, { ...groupTarget, "@odata.type": `${G}exclusionGroupAssignmentTarget` }],
        ["switches to all devices keeping only the filter", groupTarget, { "@odata.type": "microsoft.graph.allDevicesAssignmentTarget" }, { "@odata.type": `${G}allDevicesAssignmentTarget`, deviceAndAppManagementAssignmentFilterId: "f1", deviceAndAppManagementAssignmentFilterType: "include" }],
        ["switches all devices to a group with groupId null", { "@odata.type": `${G}allDevicesAssignmentTarget` }, { "@odata.type": `${G}groupAssignmentTarget` }, { "@odata.type": `${G}groupAssignmentTarget`, groupId: null, deviceAndAppManagementAssignmentFilterId: null, deviceAndAppManagementAssignmentFilterType: "none" }],
        ["refuses collectionId on a group target", groupTarget, { collectionId: "c1" }, "collectionId"],
        ["refuses a target without a concrete type when there is none", null, { groupId: "g1" }, "a concrete target type is required"],
        ["merges through the abstract base type", groupTarget, { "@odata.type": "microsoft.graph.deviceAndAppManagementAssignmentTarget", deviceAndAppManagementAssignmentFilterType: "exclude" }, { ...groupTarget, deviceAndAppManagementAssignmentFilterType: "exclude" }],
        ["refuses an unknown target type naming the accepted types", groupTarget, { "@odata.type": `${G}somethingElse` }, "#microsoft.graph.groupAssignmentTarget"]
      ]
      for (const [title, stored, payload, expected] of cases) {
        it(title, async () => {
          await reset(stored)
          const r = await patchSeed({ target: payload })
          if (typeof expected === "string") {
            assert.strictEqual(r.status, 400, r.text)
            const e = errorOf(r)
            assert.strictEqual(e.code, "BadRequest")
            assert.include(e.message, expected)
            const after = await s.request("GET", `${tenantA()}/a1`)
            assert.deepStrictEqual(after.json.target, stored === null ? null : (await s.request("GET", `${tenantA()}/a1`)).json.target)
          } else {
            assert.strictEqual(r.status, 200, r.text)
            assert.deepStrictEqual(r.json.target, expected)
            assert.strictEqual(r.json["@odata.type"], `${G}enrollmentConfigurationAssignment`)
            assert.strictEqual(r.headers.get("etag"), r.json["@odata.etag"])
            assert.match(r.json["@odata.context"], /\/\$metadata#invitations\('i1'\)\/invitedUser\/deviceEnrollmentConfigurations\('c1'\)\/assignments\/\$entity$/)
          }
        })
      }
    })

    describe("PATCH protocol", () => {
      it("answers the seed body with source 'String' by a 400 listing direct and policySets, and leaves the entity", async () => {
        await reset(groupTarget)
        const before = await s.request("GET", `${tenantA()}/a1`)
        const seed = {
          "@odata.type": `${G}enrollmentConfigurationAssignment`,
          target: { "@odata.type": "microsoft.graph.deviceAndAppManagementAssignmentTarget" },
          source: "String",
          sourceId: "Source Id value"
        }
        const r = await patchSeed(seed)
        assert.strictEqual(r.status, 400)
        const e = errorOf(r)
        assert.include(e.message, "direct")
        assert.include(e.message, "policySets")
        assert.include(e.message, "source")
        const after = await s.request("GET", `${tenantA()}/a1`)
        assert.strictEqual(after.json["@odata.etag"], before.json["@odata.etag"])
        const ok = await patchSeed({ ...seed, source: "policySets" })
        assert.strictEqual(ok.status, 200, ok.text)
        assert.strictEqual(ok.json.source, "policySets")
        assert.strictEqual(ok.json.sourceId, "Source Id value")
        assert.strictEqual(ok.json.target.groupId, "g1")
      })
      it("answers 204 with Preference-Applied for Prefer: return=minimal", async () => {
        await reset(groupTarget)
        const r = await patchSeed({ sourceId: "x" }, { prefer: "return=minimal" })
        assert.strictEqual(r.status, 204)
        assert.strictEqual(r.text, "")
        assert.strictEqual(r.headers.get("preference-applied"), "return=minimal")
        assert.ok(r.headers.get("etag"))
        assert.match(r.headers.get("request-id")!, /^[0-9a-f-]{36}$/, "a 204 carries the request ids too (SPEC 5)")
        assert.strictEqual(r.headers.get("client-request-id"), r.headers.get("request-id"))
        assert.strictEqual((await s.request("GET", `${tenantA()}/a1`)).json.sourceId, "x")
      })
      it("reads Prefer as RFC 7240 writes it: a quoted value, parameters, the first return preference deciding", async () => {
        await reset(groupTarget)
        const cases: ReadonlyArray<readonly [string, number]> = [
          ['return="minimal"', 204],
          ["return=minimal; foo=bar", 204],
          ["respond-async, RETURN = Minimal", 204],
          ["return=representation, return=minimal", 200],
          ["return=minimal, return=representation", 204],
          ["handling=strict", 200],
          ['return="representation"', 200]
        ]
        let n = 0
        for (const [prefer, status] of cases) {
          const r = await patchSeed({ sourceId: `p${n++}` }, { prefer })
          assert.strictEqual(r.status, status, prefer)
          assert.strictEqual(r.headers.get("preference-applied"), status === 204 ? "return=minimal" : null, prefer)
        }
        assert.strictEqual((await s.request("GET", `${tenantA()}/a1`)).json.sourceId, `p${n - 1}`)
      })
      it("honours If-Match: 412 on a stale tag, success on the current tag and on *", async () => {
        await reset(groupTarget)
        const cur = await s.request("GET", `${tenantA()}/a1`)
        const stale = await patchSeed({ sourceId: "y" }, { "if-match": 'W/"stale"' })
        assert.strictEqual(stale.status, 412)
        assert.strictEqual(errorOf(stale).code, "preconditionFailed")
        const ok = await patchSeed({ sourceId: "y" }, { "if-match": cur.headers.get("etag")! })
        assert.strictEqual(ok.status, 200)
        assert.notStrictEqual(ok.headers.get("etag"), cur.headers.get("etag"))
        const star = await patchSeed({ sourceId: "z" }, { "if-match": "*" })
        assert.strictEqual(star.status, 200)
        const del = await s.request("DELETE", `${tenantA()}/a1`, { headers: { "if-match": cur.headers.get("etag")! } })
        assert.strictEqual(del.status, 412)
      })
      it("treats {} as a no-op that keeps the ETag", async () => {
        await reset(groupTarget)
        const cur = await s.request("GET", `${tenantA()}/a1`)
        const r = await patchSeed({})
        assert.strictEqual(r.status, 200)
        assert.strictEqual(r.headers.get("etag"), cur.headers.get("etag"))
        assert.deepStrictEqual(r.json.target, cur.json.target)
      })
      it("refuses unknown properties, a changed id and null source", async () => {
        await reset(groupTarget)
        assert.include(errorOf(await patchSeed({ foo: 1 })).message, "foo")
        assert.strictEqual((await patchSeed({ id: "other" })).status, 400)
        assert.strictEqual((await patchSeed({ id: "a1" })).status, 200)
        assert.strictEqual((await patchSeed({ source: null })).status, 400)
      })
      it("needs a JSON content type (415) and a body (400)", async () => {
        const t = await s.request("PATCH", `${inv()}/a1`, { raw: "{}", headers: { "content-type": "text/plain" } })
        assert.strictEqual(t.status, 415)
        assert.strictEqual(errorOf(t).code, "UnsupportedMediaType")
        const withParams = await s.request("PATCH", `${inv()}/a1`, { raw: "{}", headers: { "content-type": "application/json; charset=utf-8; odata.metadata=minimal" } })
        assert.strictEqual(withParams.status, 200)
        const empty = await s.request("PATCH", `${inv()}/a1`, { raw: "", headers: { "content-type": "application/json" } })
        assert.strictEqual(empty.status, 400)
        const none = await s.request("PATCH", `${inv()}/a1`)
        assert.strictEqual(none.status, 400)
        errorOf(none)
      })
    })

    describe("paths and keys", () => {
      it("addresses the same entity on all three families and in both key forms", async () => {
        await reset(groupTarget)
        const paths = [
          `${tenantA()}/a1`,
          `deviceManagement/deviceEnrollmentConfigurations('c1')/assignments('a1')`,
          `users/${invitedUserId}/deviceEnrollmentConfigurations/c1/assignments/a1`,
          `users('${invitedUserId}')/deviceEnrollmentConfigurations('c1')/assignments('a1')`,
          `${inv()}/a1`,
          `invitations('i1')/invitedUser/deviceEnrollmentConfigurations('c1')/assignments('a1')`
        ]
        const tags = new Set<string>()
        for (const p of paths) {
          const r = await s.request("GET", p)
          assert.strictEqual(r.status, 200, `${p}: ${r.text}`)
          tags.add(r.json["@odata.etag"])
        }
        assert.strictEqual(tags.size, 1)
      })
      it("answers 404 naming the first missing segment", async () => {
        const cases: Array<[string, string]> = [
          ["invitations/nope/invitedUser/deviceEnrollmentConfigurations/c1/assignments/a1", "invitation 'nope' not found"],
          ["invitations/i1/invitedUser/deviceEnrollmentConfigurations/nope/assignments/a1", "deviceEnrollmentConfiguration 'nope'"],
          ["invitations/i1/invitedUser/deviceEnrollmentConfigurations/c1/assignments/nope", "'nope' not found"],
          ["users/nope/deviceEnrollmentConfigurations/c1/assignments", "user 'nope' not found"],
          ["nothingHere", "nothingHere"]
        ]
        for (const [p, message] of cases) {
          const r = await s.request("GET", p)
          assert.strictEqual(r.status, 404, p)
          const e = errorOf(r)
          assert.strictEqual(e.code, "itemNotFound")
          assert.include(e.message, message)
        }
      })
      it("hides a configuration not targeted to the user on the user path", async () => {
        await s.request("POST", cfgs, { body: { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: "untargeted" } })
        const r = await s.request("GET", `users/${invitedUserId}/deviceEnrollmentConfigurations/untargeted/assignments`)
        assert.strictEqual(r.status, 404)
        assert.strictEqual((await s.request("GET", `${cfgs}/untargeted/assignments`)).status, 200)
      })
      it("answers another tenant's objects exactly as missing ones", async () => {
        for (const p of [`${tenantA()}/a1`, `${cfgs}/c1`, "invitations/i1", `${inv()}/a1`, "groups/g1", `users/${invitedUserId}`]) {
          const r = await s.request("GET", p, { tenant: "tenant-b" })
          assert.strictEqual(r.status, 404, p)
        }
        const w = await s.request("PATCH", `${tenantA()}/a1`, { tenant: "tenant-b", body: { sourceId: "evil" } })
        assert.strictEqual(w.status, 404)
        assert.notStrictEqual((await s.request("GET", `${tenantA()}/a1`)).json.sourceId, "evil")
      })
      it("refuses a malformed id with 400", async () => {
        const r = await s.request("GET", `${tenantA()}/${"x".repeat(129)}`)
        assert.strictEqual(r.status, 400)
        assert.strictEqual((await s.request("GET", `${tenantA()}/a%2Fb`)).status, 400)
        assert.strictEqual((await s.request("GET", `${tenantA()}/a%01b`)).status, 400)
      })
      it("answers 405 with Allow for a known path and a wrong method", async () => {
        const r = await s.request("PUT", `${tenantA()}/a1`, { body: {} })
        assert.strictEqual(r.status, 405)
        assert.strictEqual(errorOf(r).code, "MethodNotAllowed")
        assert.include(r.headers.get("allow")!, "PATCH")
      })
    })

    describe("assignments: create, list, delete, OData options", () => {
      /** The ids of the assignments under `path` that `f` keeps (answered 200), sorted; with `counted`, `/$count` agrees. */
      const filtered = async (f: string, path = tenantA(), counted = false) => {
        const r = await s.request("GET", `${path}?$filter=${encodeURIComponent(f)}`)
        assert.strictEqual(r.status, 200, `${f}: ${r.text}`)
        if (counted) {
          const count = await s.request("GET", `${path}/$count?$filter=${encodeURIComponent(f)}`)
          assert.strictEqual(count.text, String(r.json.value.length), `${f}: /$count`)
        }
        return r.json.value.map((a: any) => a.id).sort()
      }
      /** The seed's a1 (a group target, g1) beside ex (an exclusion of g9, from policy set ps1): what the `$filter` tests read. */
      const withExclusion = async () => {
        await reset(groupTarget)
        await s.request("POST", tenantA(), { body: { id: "ex", target: { "@odata.type": `${G}exclusionGroupAssignmentTarget`, groupId: "g9" }, source: "policySets", sourceId: "ps1" } })
      }
      /** Each of `filters` answered 400 saying `message` (by default, an unsupported `$filter` expression). */
      const refused = async (filters: ReadonlyArray<string>, message = "unsupported $filter expression") => {
        for (const f of filters) {
          const r = await s.request("GET", `${tenantA()}?$filter=${encodeURIComponent(f)}`)
          assert.strictEqual(r.status, 400, f.slice(0, 60))
          assert.include(errorOf(r).message, message)
        }
      }
      it("creates with 201, Location and a generated GUID; 409 on an existing id; 400 on an abstract target", async () => {
        const r = await s.request("POST", tenantA(), { body: { target: { "@odata.type": `${G}allDevicesAssignmentTarget` } } })
        assert.strictEqual(r.status, 201)
        assert.match(r.json.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
        assert.strictEqual(r.json.source, "direct")
        assert.strictEqual(r.headers.get("location"), `${s.base}/${tenantA()}/${r.json.id}`)
        assert.strictEqual((await s.request("GET", r.headers.get("location")!.slice(s.base.length + 1))).status, 200)
        const dup = await s.request("POST", tenantA(), { body: { id: r.json.id } })
        assert.strictEqual(dup.status, 409)
        assert.strictEqual(errorOf(dup).code, "Conflict")
        const abs = await s.request("POST", tenantA(), { body: { target: { "@odata.type": `${G}deviceAndAppManagementAssignmentTarget` } } })
        assert.strictEqual(abs.status, 400)
        const minimal = await s.request("POST", tenantA(), { body: {}, headers: { prefer: "return=minimal" } })
        assert.strictEqual(minimal.status, 204)
        assert.ok(minimal.headers.get("location"))
        assert.strictEqual(minimal.headers.get("preference-applied"), "return=minimal")
        // The entity the 204 does not carry is named by its id (OData 4.01 Protocol 8.3.4; since 0.18.0).
        assert.strictEqual(minimal.headers.get("odata-entityid"), minimal.headers.get("location"))
        assert.strictEqual(r.headers.get("odata-entityid"), null, "a 201 carries the entity")
        assert.strictEqual((await s.request("DELETE", `${tenantA()}/${r.json.id}`)).status, 204)
        assert.strictEqual((await s.request("DELETE", `${tenantA()}/${r.json.id}`)).status, 404)
      })
      it("pages with $top and a keyset $skiptoken that stays correct while inserting", async () => {
        await s.request("POST", cfgs, { body: { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: "paging" } })
        const ids = ["p2", "p4", "p6", "p8", "pa"]
        for (const id of ids) await s.request("POST", tenantA("paging"), { body: { id } })
        const seen: Array<string> = []
        let url: string | undefined = `${tenantA("paging")}?$top=2`
        let round = 0
        while (url !== undefined) {
          const r = await s.request("GET", url)
          assert.strictEqual(r.status, 200, r.text)
          seen.push(...r.json.value.map((a: any) => a.id))
          const next: string | undefined = r.json["@odata.nextLink"]
          if (next !== undefined) {
            assert.ok(next.startsWith(`${s.base}/`), next)
            assert.include(next, "$top=2")
            url = next.slice(s.base.length + 1)
          } else url = undefined
          // inserts before and after the cursor while paging
          if (round++ === 0) {
            await s.request("POST", tenantA("paging"), { body: { id: "p1" } })
            await s.request("POST", tenantA("paging"), { body: { id: "p9" } })
          }
        }
        assert.deepStrictEqual(seen, ["p2", "p4", "p6", "p8", "p9", "pa"])
        const bad = await s.request("GET", `${tenantA("paging")}?$skiptoken=%%%`)
        assert.strictEqual(bad.status, 400)
      })
      it("refuses another list's $skiptoken on every list, and reads a list's own under any path family", async () => {
        // Two of everything, so that each list's first page of one has a next link.
        for (const id of ["tk1", "tk2"]) {
          await s.request("POST", cfgs, { body: { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id } })
          await s.request("POST", "users", { body: { id: `tku${id}` } })
          await s.request("POST", "groups", { body: { id: `tkg${id}` } })
          await s.request("POST", "groups/tkgtk1/members/$ref", { body: { "@odata.id": `users/tku${id}` } })
          await s.request("POST", tenantA(id), { body: { target: { "@odata.type": `${G}groupAssignmentTarget`, groupId: "tkgtk1" } } })
          await s.request("POST", tenantA("tk1"), { body: { id: `tka${id}`, target: { "@odata.type": `${G}groupAssignmentTarget`, groupId: "tkgtk1" } } })
        }
        const tokenOf = async (url: string) => {
          const r = await s.request("GET", url)
          assert.strictEqual(r.status, 200, r.text)
          const next = r.json["@odata.nextLink"]
          assert.isString(next, url)
          return new URL(next).searchParams.get("$skiptoken")!
        }
        const lists = {
          configurations: `${cfgs}?$top=1`,
          assignments: `${tenantA("tk1")}?$top=1`,
          users: "users?$top=1",
          groups: "groups?$top=1",
          members: "groups/tkgtk1/members?$top=1",
          targeted: "users/tkutk1/deviceEnrollmentConfigurations?$top=1"
        }
        const tokens = Object.fromEntries(await Promise.all(Object.entries(lists).map(async ([k, url]) => [k, await tokenOf(url)])))
        // A server of a release before 0.13.0 refuses a token whose text holds a control character:
        // this release's begin with one, so such a server beside this one refuses them (a 400).
        for (const token of Object.values(tokens)) assert.match(Buffer.from(String(token), "base64url").toString("utf8"), /^\u0001[0-9a-f]{8}./)
        for (const [list, url] of Object.entries(lists)) {
          for (const [from, token] of Object.entries(tokens)) {
            const r = await s.request("GET", `${url}&$skiptoken=${token}`)
            if (from === list) assert.strictEqual(r.status, 200, `${list}'s own token: ${r.text}`)
            else {
              assert.strictEqual(r.status, 400, `${from}'s token on ${list}: ${r.text}`)
              assert.strictEqual(errorOf(r).message, "$skiptoken: expected a token from this list's @odata.nextLink, got another list's token")
            }
          }
        }
        // A configuration's assignments are one list under every path family: the tenant path's
        // token continues it under a user's path (the configuration targets the user's group).
        const viaUser = await s.request("GET", `users/tkutk1/deviceEnrollmentConfigurations/tk1/assignments?$top=1&$skiptoken=${tokens.assignments}`)
        assert.strictEqual(viaUser.status, 200, viaUser.text)
        const viaTenant = await s.request("GET", `${tenantA("tk1")}?$top=1&$skiptoken=${tokens.assignments}`)
        const first = await s.request("GET", `${tenantA("tk1")}?$top=1`)
        assert.strictEqual(viaUser.json.value.length, 1)
        assert.deepStrictEqual(viaUser.json.value.map((a: any) => a.id), viaTenant.json.value.map((a: any) => a.id))
        assert.notDeepEqual(viaUser.json.value.map((a: any) => a.id), first.json.value.map((a: any) => a.id))
      })
      it("counts with $count=true and at …/assignments/$count as text/plain", async () => {
        const list = await s.request("GET", `${tenantA("paging")}?$count=true&$top=1`)
        assert.strictEqual(list.json["@odata.count"], 7)
        assert.strictEqual(list.json.value.length, 1)
        const c = await s.request("GET", `${tenantA("paging")}/$count`)
        assert.strictEqual(c.status, 200)
        assert.match(c.headers.get("content-type")!, /^text\/plain/)
        assert.strictEqual(c.text, "7")
        const viaInvitation = await s.request("GET", `${inv()}/$count`)
        assert.strictEqual(viaInvitation.status, 200)
      })
      it("selects properties with $select and refuses unknown ones", async () => {
        await reset(groupTarget)
        const r = await s.request("GET", `${tenantA()}/a1?$select=source`)
        assert.strictEqual(r.status, 200)
        assert.deepStrictEqual(Object.keys(r.json).sort(), ["@odata.context", "@odata.etag", "@odata.type", "id", "source"].sort())
        const l = await s.request("GET", `${tenantA()}?$select=target,source`)
        assert.ok(l.json.value.every((a: any) => !("sourceId" in a) && "target" in a))
        const bad = await s.request("GET", `${tenantA()}/a1?$select=nope`)
        assert.strictEqual(bad.status, 400)
        assert.include(errorOf(bad).message, "nope")
      })
      it("filters with the supported $filter subset and refuses the rest", async () => {
        await withExclusion()
        const ids = (f: string) => filtered(f)
        assert.deepStrictEqual(await ids("source eq 'policySets'"), ["ex"])
        assert.deepStrictEqual(await ids("sourceId eq 'ps1'"), ["ex"])
        assert.deepStrictEqual(await ids("isof(target,'microsoft.graph.groupAssignmentTarget')"), ["a1", "ex"])
        assert.deepStrictEqual(await ids("isof(target,'#microsoft.graph.exclusionGroupAssignmentTarget')"), ["ex"])
        assert.deepStrictEqual(await ids("target/groupId eq 'g1'"), ["a1"])
        assert.deepStrictEqual(await ids("(target/groupId eq 'g1' or source eq 'policySets') and isof(target,'microsoft.graph.groupAssignmentTarget')"), ["a1", "ex"])
        assert.deepStrictEqual(await ids("source eq 'direct' and target/groupId eq 'g9'"), [])
        const count = await s.request("GET", `${tenantA()}?$count=true&$filter=${encodeURIComponent("source eq 'policySets'")}`)
        assert.strictEqual(count.json["@odata.count"], 1)
        await refused(["startswith(source,'d')", "source gt 'direct'", "id eq 'a1'", "source eq", "source eq 'direct' and", "(source eq 'direct'", "not source eq 'direct'", "not", "source ne null"])
        await s.request("DELETE", `${tenantA()}/ex`)
      })
      it("says which bound a $filter passed: its length, or its nesting", async () => {
        const nested = (n: number) => `${"(".repeat(n)}source eq 'direct'${")".repeat(n)}`
        assert.deepStrictEqual(await filtered(nested(16)), await filtered("source eq 'direct'"))
        await refused([nested(17), `${"not (".repeat(17)}source eq 'direct'${")".repeat(17)}`], "$filter: parentheses and not nest deeper than 16 levels")
        await refused([Array.from({ length: 120 }, (_, i) => `sourceId eq 's${i}'`).join(" or ")], "$filter: the expression is longer than 2000 characters")
      })
      it("reads the $filter keywords without regard to case, as the directory filter does", async () => {
        await withExclusion()
        const ids = (f: string) => filtered(f)
        // Graph's documentation writes `NOT(…)`.
        assert.deepStrictEqual(await ids("NOT (source eq 'direct')"), ["ex"])
        assert.deepStrictEqual(await ids("NOT(source EQ 'direct')"), ["ex"])
        assert.deepStrictEqual(await ids("source EQ 'direct' AND target/groupId Eq 'g1'"), ["a1"])
        assert.deepStrictEqual(await ids("source NE 'direct' Or target/groupId eq 'g1'"), ["a1", "ex"])
        assert.deepStrictEqual(await ids("Not NOT ISOF(target,'microsoft.graph.exclusionGroupAssignmentTarget')"), ["ex"])
        // The grammar is otherwise unchanged: `not` over an enum is still refused, in any case.
        await refused(["NOT source eq 'direct'", "source EQ 'direct' AND"])
        await s.request("DELETE", `${tenantA()}/ex`)
      })
      it("takes isof's type as OData writes it: unquoted, quoted, and with the graph alias", async () => {
        await reset(groupTarget)
        const ex = await s.request("POST", tenantA(), { body: { id: "ex", target: { "@odata.type": `${G}exclusionGroupAssignmentTarget`, groupId: "g9" } } })
        assert.strictEqual(ex.status, 201, ex.text)
        const ids = (f: string, path = tenantA()) => filtered(f, path)
        for (const type of ["microsoft.graph.groupAssignmentTarget", "graph.groupAssignmentTarget", "#microsoft.graph.groupAssignmentTarget", "'graph.groupAssignmentTarget'"]) {
          assert.deepStrictEqual(await ids(`isof(target,${type})`), ["a1", "ex"], type)
        }
        assert.deepStrictEqual(await ids("isof(target, microsoft.graph.exclusionGroupAssignmentTarget) and source eq 'direct'"), ["ex"])
        assert.deepStrictEqual(await ids("isof(target,graph.allDevicesAssignmentTarget) or target/groupId eq 'g1'"), ["a1"])
        // The seed's path family filters in the same store query.
        assert.deepStrictEqual(await ids("isof(target,graph.exclusionGroupAssignmentTarget)", inv()), ["ex"])
        const count = await s.request("GET", `${tenantA()}/$count?$filter=${encodeURIComponent("isof(target,graph.exclusionGroupAssignmentTarget)")}`)
        assert.strictEqual(count.text, "1")
        await refused(["isof(target,microsoft.graph.somethingElse)", "isof(target,contoso.groupAssignmentTarget)", "isof(target,groupAssignmentTarget)", "isof(source,graph.groupAssignmentTarget)"])
        await s.request("DELETE", `${tenantA()}/ex`)
      })
      it("reads null as OData 4.01 does in $filter: a target without groupId has a null one, ne and not keep it", async () => {
        const c = "nullf"
        const made = await s.request("POST", cfgs, { body: { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: c } })
        assert.strictEqual(made.status, 201, made.text)
        const bodies = [
          { id: "g1", target: { "@odata.type": `${G}groupAssignmentTarget`, groupId: "g1" } },
          { id: "gx", target: { "@odata.type": `${G}exclusionGroupAssignmentTarget`, groupId: "g1" } },
          { id: "gn", target: { "@odata.type": `${G}groupAssignmentTarget` } },
          { id: "lu", target: { "@odata.type": `${G}allLicensedUsersAssignmentTarget` } },
          { id: "ad", target: { "@odata.type": `${G}allDevicesAssignmentTarget` } },
          { id: "no", target: null },
          { id: "ps", target: { "@odata.type": `${G}groupAssignmentTarget`, groupId: "g2" }, source: "policySets", sourceId: "p1" }
        ]
        for (const body of bodies) assert.strictEqual((await s.request("POST", tenantA(c), { body })).status, 201, body.id)
        const ids = (f: string) => filtered(f, tenantA(c), true)
        const cases: ReadonlyArray<[string, ReadonlyArray<string>]> = [
          // target/groupId is null through no target and a type that has no groupId, as OData reads the path.
          ["target/groupId eq null", ["ad", "gn", "lu", "no"]],
          ["target/groupId ne null", ["g1", "gx", "ps"]],
          // null eq 'g1' is false, so not (…) and ne are true there: the targets without a groupId are kept.
          ["not (target/groupId eq 'g1')", ["ad", "gn", "lu", "no", "ps"]],
          ["target/groupId ne 'g1'", ["ad", "gn", "lu", "no", "ps"]],
          ["not (target/groupId eq 'g1') and isof(target,graph.allLicensedUsersAssignmentTarget)", ["lu"]],
          ["sourceId ne 'p1'", ["ad", "g1", "gn", "gx", "lu", "no"]],
          ["not (sourceId eq null)", ["ps"]],
          ["source ne 'direct'", ["ps"]],
          // isof over no target is false, not unknown: not isof keeps the assignment without one.
          ["not isof(target,microsoft.graph.groupAssignmentTarget)", ["ad", "lu", "no"]],
          ["not not isof(target,graph.exclusionGroupAssignmentTarget)", ["gx"]],
          ["not (target/groupId eq 'g1' or target/groupId eq 'g2') and not (target/groupId eq null)", []],
          ["not (source eq 'direct' and target/groupId eq null)", ["g1", "gx", "ps"]]
        ]
        for (const [f, expected] of cases) assert.deepStrictEqual(await ids(f), expected, f)
        assert.strictEqual((await s.request("DELETE", `${cfgs}/${c}`)).status, 204)
      })
      it("refuses a source that is not a member of its enum, naming the members", async () => {
        for (const f of ["source eq 'bogus'", "source eq 'Direct'", "source eq 'direct' or source eq 'String'"]) {
          for (const path of [tenantA(), `${tenantA()}/$count`]) {
            const r = await s.request("GET", `${path}?$filter=${encodeURIComponent(f)}`)
            assert.strictEqual(r.status, 400, `${path} ${f}`)
            assert.include(errorOf(r).message, "is not a value of source")
            assert.include(errorOf(r).message, "'direct', 'policySets'")
          }
        }
      })
      it("refuses unknown or bad query options", async () => {
        for (const q of ["$expand=x", "$orderby=id", "$top=0", "$top=1000", "$top=abc", "$count=yes", "$top=1&$top=2"]) {
          const r = await s.request("GET", `${tenantA()}?${q}`)
          assert.strictEqual(r.status, 400, q)
          errorOf(r)
        }
        assert.strictEqual((await s.request("GET", `${tenantA()}/a1?$top=1`)).status, 400)
        assert.strictEqual((await s.request("GET", `${tenantA()}?$top=999`)).status, 200)
      })
    })

    describe("configurations", () => {
      it("creates, gets, patches (version and ETag move), sets priority and deletes with assignments", async () => {
        const c = await s.request("POST", cfgs, { body: { "@odata.type": "microsoft.graph.windows10EnrollmentCompletionPageConfiguration", displayName: "ESP", showInstallationProgress: true, version: 99 } })
        assert.strictEqual(c.status, 201, c.text)
        assert.strictEqual(c.json.version, 1)
        assert.strictEqual(c.json.showInstallationProgress, true)
        assert.strictEqual(c.json["@odata.type"], `${G}windows10EnrollmentCompletionPageConfiguration`)
        const id = c.json.id
        const p = await s.request("PATCH", `${cfgs}/${id}`, { body: { description: "d" } })
        assert.strictEqual(p.status, 200)
        assert.strictEqual(p.json.version, 2)
        assert.notStrictEqual(p.headers.get("etag"), c.headers.get("etag"))
        assert.strictEqual((await s.request("POST", `${cfgs}/${id}/setPriority`, { body: { priority: 7 } })).status, 204)
        assert.strictEqual((await s.request("GET", `${cfgs}('${id}')`)).json.priority, 7)
        assert.strictEqual((await s.request("POST", `${cfgs}/${id}/setPriority`, { body: { priority: "high" } })).status, 400)
        await s.request("POST", `${cfgs}/${id}/assignments`, { body: { id: "x1" } })
        assert.strictEqual((await s.request("DELETE", `${cfgs}/${id}`)).status, 204)
        assert.strictEqual((await s.request("GET", `${cfgs}/${id}/assignments/x1`)).status, 404)
        const abstract = await s.request("POST", cfgs, { body: { "@odata.type": `${G}deviceEnrollmentConfiguration` } })
        assert.strictEqual(abstract.status, 400)
        const list = await s.request("GET", `${cfgs}?$count=true&$select=displayName`)
        assert.strictEqual(list.status, 200)
        assert.strictEqual(list.json["@odata.count"], list.json.value.length)
      })
      it("filters the list and its count with $filter over id, displayName, description and the configuration type (since 0.15.0)", async () => {
        const made = [
          { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: "flt-l1", displayName: "FLT limit one", description: "north" },
          { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: "flt-l2", displayName: "flt limit two" },
          { "@odata.type": `${G}windows10EnrollmentCompletionPageConfiguration`, id: "flt-e1", displayName: "FLT esp", description: "north" }
        ]
        for (const body of made) assert.strictEqual((await s.request("POST", cfgs, { body })).status, 201)
        await s.request("POST", `${cfgs}/flt-l2/assignments`, { body: { id: "flt-a" } })
        const ids = async (filter: string, more = "") => {
          const r = await s.request("GET", `${cfgs}?$filter=${encodeURIComponent(`startswith(displayName,'flt') and (${filter})`)}${more}`)
          assert.strictEqual(r.status, 200, `${filter}: ${r.text}`)
          return r
        }
        const idsOf = (r: { json: any }) => r.json.value.map((c: { id: string }) => c.id)
        assert.deepStrictEqual(idsOf(await ids("deviceEnrollmentConfigurationType eq 'limit'")), ["flt-l1", "flt-l2"])
        assert.deepStrictEqual(idsOf(await ids("description eq 'NORTH'")), ["flt-e1", "flt-l1"], "strings without regard to case")
        assert.deepStrictEqual(idsOf(await ids("description eq null")), ["flt-l2"])
        assert.deepStrictEqual(idsOf(await ids("id in ('flt-e1', 'flt-l2')")), ["flt-e1", "flt-l2"])
        // With $count, $top (a next link that keeps the filter) and $expand together.
        const first = await ids("deviceEnrollmentConfigurationType ne 'windows10EnrollmentCompletionPageConfiguration'", "&$count=true&$top=1&$expand=assignments")
        assert.strictEqual(first.json["@odata.count"], 2)
        assert.deepStrictEqual(idsOf(first), ["flt-l1"])
        const next = await s.request("GET", first.json["@odata.nextLink"].slice(s.base.length + 1))
        assert.deepStrictEqual(idsOf(next), ["flt-l2"])
        assert.deepStrictEqual(next.json.value[0].assignments.map((a: { id: string }) => a.id), ["flt-a"])
        const count = await s.request("GET", `${cfgs}/$count?$filter=${encodeURIComponent("startswith(displayName,'FLT') and deviceEnrollmentConfigurationType eq 'limit'")}`)
        assert.strictEqual(count.text, "2")
        // The type is an enum (since 0.18.0): a value no member of it is a 400 naming the members, not
        // an empty list, and a member matches only as written (OData's members are case-sensitive).
        for (const [filter, why] of [
          ["deviceEnrollmentConfigurationType eq 'nope'", "'nope' is not a value of deviceEnrollmentConfigurationType"],
          ["deviceEnrollmentConfigurationType eq 'LIMIT'", "'LIMIT' is not a value of deviceEnrollmentConfigurationType"],
          ["deviceEnrollmentConfigurationType in ('limit', 'Limit')", "'Limit' is not a value"],
          ["startswith(deviceEnrollmentConfigurationType,'lim')", "startswith takes a string property; deviceEnrollmentConfigurationType is an enum"]
        ] as const) {
          const r = await s.request("GET", `${cfgs}?$filter=${encodeURIComponent(filter)}`)
          assert.strictEqual(r.status, 400, `${filter}: ${r.text}`)
          assert.strictEqual(errorOf(r).code, "BadRequest")
          assert.include(errorOf(r).message, why, filter)
        }
        const members = await s.request("GET", `${cfgs}/$count?$filter=${encodeURIComponent("deviceEnrollmentConfigurationType eq 'limt'")}`)
        assert.strictEqual(members.status, 400, "the count too")
        assert.include(errorOf(members).message, "expected one of 'unknown', 'limit', 'platformRestrictions'")
        assert.deepStrictEqual(idsOf(await ids("deviceEnrollmentConfigurationType in ('limit', 'singlePlatformRestriction')")), ["flt-l1", "flt-l2"])
        // What it cannot filter on is a 400 naming what it can.
        const refused = await s.request("GET", `${cfgs}?$filter=${encodeURIComponent("priority eq 1")}`)
        assert.strictEqual(refused.status, 400)
        assert.include(errorOf(refused).message, "deviceEnrollmentConfigurationType")
      })
      it("replaces every assignment with the assign action", async () => {
        await s.request("POST", cfgs, { body: { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: "assignme" } })
        await s.request("POST", tenantA("assignme"), { body: { id: "old" } })
        const r = await s.request("POST", `${cfgs}/assignme/assign`, {
          body: { enrollmentConfigurationAssignments: [{ id: "n1", target: { "@odata.type": `${G}allDevicesAssignmentTarget` } }, { id: "n2" }] }
        })
        assert.strictEqual(r.status, 204, r.text)
        const l = await s.request("GET", tenantA("assignme"))
        assert.deepStrictEqual(l.json.value.map((a: any) => a.id), ["n1", "n2"])
        const bad = await s.request("POST", `${cfgs}/assignme/assign`, { body: { enrollmentConfigurationAssignments: [{ source: "nope" }] } })
        assert.strictEqual(bad.status, 400)
        assert.include(errorOf(bad).message, "enrollmentConfigurationAssignments[0]")
        assert.strictEqual((await s.request("GET", tenantA("assignme"))).json.value.length, 2)
      })
      it("lists the configurations targeted to a user, lowest priority first", async () => {
        await s.request("POST", cfgs, { body: { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: "first", priority: 1 } })
        await s.request("POST", tenantA("first"), { body: { target: { "@odata.type": `${G}groupAssignmentTarget`, groupId: "g1" } } })
        const r = await s.request("GET", `users/${invitedUserId}/deviceEnrollmentConfigurations`)
        assert.strictEqual(r.status, 200, r.text)
        const ids = r.json.value.map((c: any) => c.id)
        assert.deepStrictEqual(ids.slice(0, 2), ["first", "c1"])
        assert.notInclude(ids, "untargeted")
        const viaInv = await s.request("GET", "invitations/i1/invitedUser/deviceEnrollmentConfigurations")
        assert.deepStrictEqual(viaInv.json.value.map((c: any) => c.id), ids)
        assert.match(viaInv.json["@odata.context"], /#invitations\('i1'\)\/invitedUser\/deviceEnrollmentConfigurations$/)
      })
    })

    describe("directory", () => {
      it("creates an invitation with its guest user, hides invitedUserId", async () => {
        const r = await s.request("POST", "invitations", { body: { invitedUserEmailAddress: "x@example.com", inviteRedirectUrl: "https://example.com/x", invitedUserDisplayName: "X" } })
        assert.strictEqual(r.status, 201, r.text)
        assert.strictEqual(r.json.status, "PendingAcceptance")
        assert.notProperty(r.json, "invitedUserId")
        assert.match(r.json.inviteRedeemUrl, /^http:\/\/127\.0\.0\.1:\d+\/redeem\?invitation=/)
        const u = await s.request("GET", `invitations/${r.json.id}/invitedUser`)
        assert.strictEqual(u.json.userType, "Guest")
        assert.strictEqual(u.json.mail, "x@example.com")
        const list = await s.request("GET", "invitations?$count=true")
        assert.ok(list.json.value.every((i: any) => !("invitedUserId" in i)))
        assert.strictEqual((await s.request("POST", "invitations", { body: { inviteRedirectUrl: "https://e.com" } })).status, 400)
      })
      it("creates, lists, patches and deletes users", async () => {
        const u = await s.request("POST", "users", { body: { id: "u1", displayName: "U", userPrincipalName: "u@example.com" } })
        assert.strictEqual(u.status, 201)
        const p = await s.request("PATCH", "users/u1", { body: { accountEnabled: false } })
        assert.strictEqual(p.json.accountEnabled, false)
        const l = await s.request("GET", "users?$select=displayName&$top=999")
        assert.ok(l.json.value.some((x: any) => x.id === "u1"))
        assert.strictEqual((await s.request("DELETE", "users/u1")).status, 204)
        assert.strictEqual((await s.request("GET", "users/u1")).status, 404)
      })
      it("manages groups and members by reference", async () => {
        await s.request("POST", "users", { body: { id: "m1" } })
        await s.request("POST", "groups", { body: { id: "g2" } })
        for (const ref of [`${s.base}/users/m1`, "groups/g1", "https://graph.microsoft.com/beta/directoryObjects('m1x')"]) {
          if (ref.includes("m1x")) {
            const r = await s.request("POST", "groups/g2/members/$ref", { body: { "@odata.id": ref } })
            assert.strictEqual(r.status, 404)
          } else {
            const r = await s.request("POST", "groups/g2/members/$ref", { body: { "@odata.id": ref } })
            assert.strictEqual(r.status, 204, r.text)
          }
        }
        // Users and groups share one id space (a member is named by its id alone).
        const sameId = await s.request("POST", "users", { body: { id: "g2" } })
        assert.deepStrictEqual([sameId.status, sameId.json.error.code, sameId.json.error.message], [409, "Conflict", "directoryObject 'g2' already exists"])
        assert.strictEqual((await s.request("POST", "groups", { body: { id: "m1" } })).status, 409)
        const again = await s.request("POST", "groups/g2/members/$ref", { body: { "@odata.id": "users/m1" } })
        assert.strictEqual(again.status, 400)
        assert.strictEqual((await s.request("POST", "groups/g2/members/$ref", { body: { "@odata.id": "https://x/beta/devices/m1" } })).status, 400)
        const members = await s.request("GET", "groups/g2/members")
        assert.deepStrictEqual(members.json.value.map((m: any) => m.id).sort(), ["g1", "m1"])
        assert.strictEqual((await s.request("DELETE", "groups/g2/members/m1/$ref")).status, 204)
        assert.strictEqual((await s.request("DELETE", "groups/g2/members/m1/$ref")).status, 404)
        assert.strictEqual((await s.request("GET", "groups/g2")).status, 200)
        assert.strictEqual((await s.request("DELETE", "groups/g2")).status, 204)
        assert.strictEqual((await s.request("GET", "groups?$count=true")).status, 200)
      })
      it("lists the groups a user or a group is in, directly and transitively, paged, counted, tenant-bound", async () => {
        const ok = (r: { status: number; text: string }, status: number) => assert.strictEqual(r.status, status, r.text)
        ok(await s.request("POST", "users", { body: { id: "mo-u" } }), 201)
        for (const id of ["mo-a", "mo-b", "mo-c"]) ok(await s.request("POST", "groups", { body: { id, displayName: id.toUpperCase() } }), 201)
        // mo-u in mo-a; mo-a in mo-b; mo-b in mo-c; mo-c in mo-a (a cycle)
        for (const [g, m] of [["mo-a", "users/mo-u"], ["mo-b", "groups/mo-a"], ["mo-c", "groups/mo-b"], ["mo-a", "groups/mo-c"]]) {
          ok(await s.request("POST", `groups/${g}/members/$ref`, { body: { "@odata.id": m } }), 204)
        }
        const ids = (r: { json: any }) => r.json.value.map((g: any) => g.id)
        const direct = await s.request("GET", "users/mo-u/memberOf")
        ok(direct, 200)
        assert.deepStrictEqual(ids(direct), ["mo-a"])
        assert.strictEqual(direct.json["@odata.context"], `${s.base}/$metadata#directoryObjects`)
        // Each group as the group's own GET writes it, without its context.
        const { "@odata.context": _, ...groupA } = (await s.request("GET", "groups/mo-a")).json
        assert.deepStrictEqual(direct.json.value[0], groupA)
        assert.strictEqual(direct.json.value[0]["@odata.type"], `${G}group`)
        assert.deepStrictEqual(ids(await s.request("GET", "users/mo-u/transitiveMemberOf")), ["mo-a", "mo-b", "mo-c"])
        // A group in a cycle is not among its own groups.
        assert.deepStrictEqual(ids(await s.request("GET", "groups/mo-a/transitiveMemberOf")), ["mo-b", "mo-c"])
        assert.deepStrictEqual(ids(await s.request("GET", "groups/mo-a/memberOf")), ["mo-b"])
        // Paged by id with a next link, counted, selected and filtered as other group lists are.
        const first = await s.request("GET", "users/mo-u/transitiveMemberOf?$top=2&$count=true&$select=displayName")
        ok(first, 200)
        assert.deepStrictEqual(first.json.value.map((g: any) => g.displayName), ["MO-A", "MO-B"])
        assert.strictEqual(first.json["@odata.count"], 3)
        const next = await s.request("GET", first.json["@odata.nextLink"].slice(s.base.length + 1))
        assert.deepStrictEqual(ids(next), ["mo-c"])
        assert.notProperty(next.json, "@odata.nextLink")
        const counted = await s.request("GET", "users/mo-u/transitiveMemberOf/$count")
        assert.strictEqual(counted.text, "3")
        assert.deepStrictEqual(ids(await s.request("GET", "users/mo-u/transitiveMemberOf?$filter=displayName eq 'MO-B'")), ["mo-b"])
        // Not found: an unknown object, an object of the other kind, another tenant's.
        assert.strictEqual((await s.request("GET", "users/nobody/memberOf")).status, 404)
        assert.strictEqual((await s.request("GET", "users/mo-a/memberOf")).status, 404)
        assert.strictEqual((await s.request("GET", "groups/mo-u/transitiveMemberOf")).status, 404)
        assert.strictEqual((await s.request("GET", "users/mo-u/memberOf", { tenant: "tenant-b" })).status, 404)
        // Groups of a user are answered: a permission that reads users alone is not enough, nor one that
        // reads groups alone (the answer tells of the user; since 0.16.0).
        assert.strictEqual((await s.request("GET", "users/mo-u/memberOf", { scopes: ["User.Read.All"] })).status, 403)
        assert.strictEqual((await s.request("GET", "users/mo-u/memberOf", { scopes: ["Group.Read.All"] })).status, 403)
        assert.strictEqual((await s.request("GET", "users/mo-u/memberOf", { scopes: ["Group.Read.All", "User.Read.All"] })).status, 200)
        assert.strictEqual((await s.request("GET", "groups/mo-a/memberOf", { scopes: ["Group.Read.All"] })).status, 200)
        assert.strictEqual((await s.request("POST", "users/mo-u/memberOf", { body: {} })).status, 405)
        // From the group's side: every member through nested groups, users and groups, the group itself left out.
        const down = await s.request("GET", "groups/mo-c/transitiveMembers?$count=true")
        ok(down, 200)
        assert.deepStrictEqual(down.json.value.map((m: any) => [m.id, m["@odata.type"]]), [["mo-a", `${G}group`], ["mo-b", `${G}group`], ["mo-u", `${G}user`]])
        assert.strictEqual(down.json["@odata.count"], 3)
        assert.strictEqual((await s.request("GET", "groups/mo-c/transitiveMembers/$count")).text, "3")
        const downFirst = await s.request("GET", "groups/mo-c/transitiveMembers?$top=2&$select=id")
        assert.deepStrictEqual(ids(downFirst), ["mo-a", "mo-b"])
        assert.deepStrictEqual(ids(await s.request("GET", downFirst.json["@odata.nextLink"].slice(s.base.length + 1))), ["mo-u"])
        assert.strictEqual((await s.request("GET", "groups/mo-u/transitiveMembers")).status, 404)
        assert.strictEqual((await s.request("GET", "groups/mo-c/transitiveMembers", { scopes: ["User.Read.All"] })).status, 403)
        // A membership removed is gone from both lists.
        ok(await s.request("DELETE", "groups/mo-b/members/mo-a/$ref"), 204)
        assert.deepStrictEqual(ids(await s.request("GET", "users/mo-u/transitiveMemberOf")), ["mo-a"])
        assert.deepStrictEqual(ids(await s.request("GET", "groups/mo-c/transitiveMembers")), ["mo-b"])
      })

      describe("type casts and references (a tenant of their own)", () => {
        const T = { tenant: "tenant-cast" }
        const ok = (r: { status: number; text: string }, status: number) => assert.strictEqual(r.status, status, r.text)
        const get = (p: string, o: { scopes?: ReadonlyArray<string> } = {}) => s.request("GET", p, { ...T, ...o })
        const users = ["cm0", "cm2", "cm4", "cm6", "cm8"]
        const groups = ["cm1", "cm3", "cm5", "cm7", "cm9"]
        /** Every page from `path` on, following each next link: the ids of each page, and the links. */
        const pages = (path: string) => pagesOf(s, get, path)

        beforeAll(async () => {
          // castg holds five users and five groups, their ids interleaved (cm0 a user, cm1 a group, …);
          // cm1 holds cn0, a user castg reaches only through it.
          ok(await s.request("POST", "groups", { ...T, body: { id: "castg", displayName: "Cast" } }), 201)
          for (let i = 0; i < 10; i++) {
            const set = i % 2 === 0 ? "users" : "groups"
            ok(await s.request("POST", set, { ...T, body: { id: `cm${i}`, displayName: `CM${i}` } }), 201)
            ok(await s.request("POST", "groups/castg/members/$ref", { ...T, body: { "@odata.id": `${set}/cm${i}` } }), 204)
          }
          ok(await s.request("POST", "users", { ...T, body: { id: "cn0", displayName: "CN0" } }), 201)
          ok(await s.request("POST", "groups/cm1/members/$ref", { ...T, body: { "@odata.id": "users/cn0" } }), 204)
        })

        it("pages a cast of mixed members in full pages, its next links keeping the cast, $top and the key form", async () => {
          const u = await pages("groups/castg/members/microsoft.graph.user?$top=2")
          assert.deepStrictEqual(u.ids, [["cm0", "cm2"], ["cm4", "cm6"], ["cm8"]])
          for (const l of u.links) assert.isTrue(l.startsWith(`${s.base}/groups/castg/members/microsoft.graph.user?$top=2&$skiptoken=`), l)
          const g = await pages("groups/castg/members/microsoft.graph.group?$top=2")
          assert.deepStrictEqual(g.ids, [["cm1", "cm3"], ["cm5", "cm7"], ["cm9"]])
          assert.deepStrictEqual((await pages("groups/castg/members/microsoft.graph.group?$top=3")).ids, [["cm1", "cm3", "cm5"], ["cm7", "cm9"]])
          // The namespace alias the Graph SDKs write, and the parenthesis key: the same pages, each link as sent.
          const alias = await pages("groups('castg')/members/graph.user?$top=2")
          assert.deepStrictEqual(alias.ids, u.ids)
          for (const l of alias.links) assert.isTrue(l.startsWith(`${s.base}/groups('castg')/members/graph.user?$top=2&$skiptoken=`), l)
          assert.deepStrictEqual((await pages("groups/castg/members/microsoft.graph.user")).ids, [users])
        })

        it("writes a cast as the type's own set: its context, its objects whole, its $select and $filter", async () => {
          const r = await get("groups/castg/members/microsoft.graph.user?$count=true&$top=1")
          ok(r, 200)
          assert.strictEqual(r.json["@odata.context"], `${s.base}/$metadata#users`)
          assert.strictEqual(r.json["@odata.count"], 5)
          const { "@odata.context": _, ...cm0 } = (await get("users/cm0")).json
          assert.deepStrictEqual(r.json.value, [cm0])
          const g = await get("groups/castg/members/microsoft.graph.group?$select=displayName")
          assert.strictEqual(g.json["@odata.context"], `${s.base}/$metadata#groups(displayName)`)
          assert.deepStrictEqual(g.json.value.map((x: any) => [x["@odata.type"], x.id, x.displayName]), groups.map((id) => [`${G}group`, id, id.toUpperCase()]))
          // A cast selects and filters what its type has; the uncast members both types' (since 0.6.1).
          const notUser = await get("groups/castg/members/microsoft.graph.user?$select=securityEnabled")
          ok(notUser, 400)
          assert.include(errorOf(notUser).message, "securityEnabled")
          ok(await get("groups/castg/members?$select=securityEnabled"), 200)
          const f = encodeURIComponent("displayName in ('CM2', 'CM3', 'CM8')")
          assert.deepStrictEqual((await pages(`groups/castg/members/microsoft.graph.user?$filter=${f}&$top=1`)).ids, [["cm2"], ["cm8"]])
          assert.deepStrictEqual((await pages(`groups/castg/members/microsoft.graph.group?$filter=${f}`)).ids, [["cm3"]])
          assert.strictEqual((await get(`groups/castg/members/microsoft.graph.user/$count?$filter=${f}`)).text, "2")
          assert.deepStrictEqual((await pages(`groups/castg/members?$filter=${f}&$top=2`)).ids, [["cm2", "cm3"], ["cm8"]])
          assert.strictEqual((await get(`groups/castg/members/$count?$filter=${f}`)).text, "3")
          const fn = encodeURIComponent("startswith(displayName,'cn') or securityEnabled eq true and displayName eq 'CM1'")
          assert.deepStrictEqual((await pages(`groups/castg/transitiveMembers?$filter=${fn}`)).ids, [["cm1", "cn0"]])
        })

        it("counts a cast with /$count, through nested groups too, and casts what an object is in to groups", async () => {
          assert.strictEqual((await get("groups/castg/members/microsoft.graph.user/$count")).text, "5")
          assert.strictEqual((await get("groups/castg/members/graph.group/$count")).text, "5")
          assert.strictEqual((await get("groups/castg/members/$count")).text, "10")
          const t = await pages("groups/castg/transitiveMembers/microsoft.graph.user?$top=4")
          assert.deepStrictEqual(t.ids, [["cm0", "cm2", "cm4", "cm6"], ["cm8", "cn0"]])
          for (const l of t.links) assert.isTrue(l.startsWith(`${s.base}/groups/castg/transitiveMembers/microsoft.graph.user?`), l)
          assert.strictEqual((await get("groups/castg/transitiveMembers/microsoft.graph.user/$count")).text, "6")
          assert.deepStrictEqual((await pages("groups/castg/transitiveMembers/graph.group?$top=2")).ids, [["cm1", "cm3"], ["cm5", "cm7"], ["cm9"]])
          const tf = await get(`groups/castg/transitiveMembers/microsoft.graph.user?$count=true&$filter=${encodeURIComponent("startswith(displayName,'cn')")}`)
          assert.deepStrictEqual([tf.json.value.map((x: any) => x.id), tf.json["@odata.count"]], [["cn0"], 1])
          const of = await get("users/cn0/transitiveMemberOf/microsoft.graph.group?$count=true")
          ok(of, 200)
          assert.strictEqual(of.json["@odata.context"], `${s.base}/$metadata#groups`)
          assert.deepStrictEqual([of.json.value.map((x: any) => x.id), of.json["@odata.count"]], [["castg", "cm1"], 2])
          assert.deepStrictEqual((await pages("users/cn0/memberOf/microsoft.graph.group")).ids, [["cm1"]])
          assert.strictEqual((await get("groups/cm1/memberOf/graph.group/$count")).text, "1")
          assert.strictEqual((await get("groups('cm1')/transitiveMemberOf/microsoft.graph.group/$count")).text, "1")
        })

        it("answers a cast it does not serve, a missing group and a permission short of groups as Graph's errors, never a 500", async () => {
          // A type Graph offers there but this service holds none of is an empty collection (since 0.6.1).
          assert.deepStrictEqual((await get("groups/castg/members/microsoft.graph.device")).json.value, [])
          assert.strictEqual((await get("groups/castg/members/microsoft.graph.device/$count")).text, "0")
          for (const p of [
            "groups/castg/members/microsoft.graph.administrativeUnit",
            "users/cm0/memberOf/microsoft.graph.user",
            "users/cm0/memberOf/microsoft.graph.device",
            "groups/castg/members/microsoft.graph.User"
          ]) {
            const r = await get(p)
            assert.strictEqual(r.status, 404, `${p}: ${r.text}`)
            assert.strictEqual(errorOf(r).code, "itemNotFound", p)
            assert.include(errorOf(r).message, "Resource not found for the segment", p)
          }
          assert.include(errorOf(await get("users/cm0/memberOf/microsoft.graph.user")).message, "'microsoft.graph.user'")
          assert.strictEqual((await get("groups/nothere/members/microsoft.graph.user")).status, 404)
          assert.strictEqual((await get("groups/cm0/members/microsoft.graph.user")).status, 404, "cm0 is a user")
          assert.strictEqual((await s.request("GET", "groups/castg/members/microsoft.graph.user")).status, 404, "another tenant's group")
          const denied = await get("groups/castg/members/microsoft.graph.user", { scopes: ["User.Read.All"] })
          assert.strictEqual(denied.status, 403)
          assert.strictEqual(errorOf(denied).code, "Authorization_RequestDenied")
          ok(await get("groups/castg/members/microsoft.graph.user", { scopes: ["GroupMember.Read.All", "Group.Read.All"] }), 403)
          ok(await get("groups/castg/members/microsoft.graph.user", { scopes: ["GroupMember.Read.All", "Group.Read.All", "User.Read.All"] }), 200)
          assert.strictEqual((await s.request("POST", "groups/castg/members/microsoft.graph.user", { ...T, body: {} })).status, 405)
        })

        it("still reaches a member whose id is a cast's segment, by the paths below it", async () => {
          ok(await s.request("POST", "users", { ...T, body: { id: "microsoft.graph.user" } }), 201)
          ok(await s.request("POST", "groups", { ...T, body: { id: "castid" } }), 201)
          ok(await s.request("POST", "groups/castid/members/$ref", { ...T, body: { "@odata.id": "users/microsoft.graph.user" } }), 204)
          assert.deepStrictEqual((await pages("groups/castid/members/microsoft.graph.user")).ids, [["microsoft.graph.user"]])
          ok(await s.request("DELETE", "groups/castid/members/microsoft.graph.user/$ref", T), 204)
          assert.strictEqual((await get("groups/castid/members/$count")).text, "0")
        })

        it("lists members as references: Collection($ref), paged and counted, each @odata.id one POST …/$ref takes back", async () => {
          const first = await get("groups/castg/members/$ref?$top=4&$count=true")
          ok(first, 200)
          assert.strictEqual(first.json["@odata.context"], `${s.base}/$metadata#Collection($ref)`)
          assert.strictEqual(first.json["@odata.count"], 10)
          assert.deepStrictEqual(first.json.value, ["cm0", "cm1", "cm2", "cm3"].map((id) => ({ "@odata.id": `${s.base}/directoryObjects/${id}` })))
          const all = await pages("groups/castg/members/$ref?$top=4")
          assert.deepStrictEqual(all.ids.flat(), [...users, ...groups].sort().map((id) => `${s.base}/directoryObjects/${id}`))
          assert.deepStrictEqual(all.ids.map((p) => p.length), [4, 4, 2])
          for (const l of all.links) assert.isTrue(l.startsWith(`${s.base}/groups/castg/members/$ref?$top=4&$skiptoken=`), l)
          // The references name what they name: added to another group, the same members.
          ok(await s.request("POST", "groups", { ...T, body: { id: "castcopy" } }), 201)
          for (const ref of all.ids.flat()) ok(await s.request("POST", "groups/castcopy/members/$ref", { ...T, body: { "@odata.id": ref } }), 204)
          assert.deepStrictEqual((await pages("groups/castcopy/members?$select=id")).ids, [[...users, ...groups].sort()])
          // An id is written percent-encoded in its URL, and read back.
          ok(await s.request("POST", "users", { ...T, body: { id: "a b'c" } }), 201)
          ok(await s.request("POST", "groups/castcopy/members/$ref", { ...T, body: { "@odata.id": "users/a%20b'c" } }), 204)
          const odd = await get("groups/castcopy/members/$ref?$top=1")
          assert.deepStrictEqual(odd.json.value, [{ "@odata.id": `${s.base}/directoryObjects/a%20b'c` }])
          ok(await s.request("DELETE", `groups/castcopy/members/$ref?@id=${encodeURIComponent(odd.json.value[0]["@odata.id"])}`, T), 204)
          // No properties to select or filter; an empty group, a missing one, and the permission to read groups.
          ok(await get("groups/castg/members/$ref?$select=id"), 400)
          ok(await get("groups/castg/members/$ref?$filter=id eq 'cm0'"), 400)
          assert.deepStrictEqual((await get("groups/castid/members/$ref")).json.value, [])
          assert.strictEqual((await get("groups/nothere/members/$ref")).status, 404)
          assert.strictEqual((await get("groups/castg/members/$ref", { scopes: ["User.Read.All"] })).status, 403)
          assert.strictEqual((await s.request("HEAD", "groups/castg/members/$ref", T)).status, 200)
        })
      })
    })

    describe("found in review (2026-11-29)", () => {
      it("answers U+0000 in a value, a filter or a page token with a 400 on every store, never a 503", async () => {
        const nul = Buffer.from("a\u0000b").toString("base64url")
        for (const p of [`users?$skiptoken=${nul}`, `${cfgs}?$skiptoken=${nul}`, `${tenantA()}?$skiptoken=${nul}`, `${tenantA()}?$filter=sourceId%20eq%20'a%00b'`]) {
          const r = await s.request("GET", p)
          assert.strictEqual(r.status, 400, `${p}: ${r.text}`)
        }
        const before = (await s.request("GET", `${tenantA()}/a1`)).json
        for (const body of [{ sourceId: "a\u0000b" }, { target: { groupId: "\u0000" } }]) {
          const r = await s.request("PATCH", `${tenantA()}/a1`, { body })
          assert.strictEqual(r.status, 400, `${JSON.stringify(body)}: ${r.text}`)
          assert.include(errorOf(r).message, "without the character U+0000")
        }
        assert.deepStrictEqual((await s.request("GET", `${tenantA()}/a1`)).json, before, "nothing was written")
        const created = await s.request("POST", tenantA(), { body: { id: "nul", sourceId: "\u0000" } })
        assert.strictEqual(created.status, 400, created.text)
      })

      it("refuses an assign action without its list, or with null, and keeps the assignments", async () => {
        await s.request("POST", cfgs, { body: { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: "keepall" } })
        await s.request("POST", tenantA("keepall"), { body: { id: "k1" } })
        for (const body of [{}, { enrollmentConfigurationAssignments: null }]) {
          const r = await s.request("POST", `${cfgs}/keepall/assign`, { body })
          assert.strictEqual(r.status, 400, JSON.stringify(body))
          assert.include(errorOf(r).message, "enrollmentConfigurationAssignments")
        }
        assert.include(errorOf(await s.request("POST", `${cfgs}/keepall/assign`, { body: {} })).message, "got nothing")
        assert.deepStrictEqual((await s.request("GET", tenantA("keepall"))).json.value.map((a: any) => a.id), ["k1"])
        const cleared = await s.request("POST", `${cfgs}/keepall/assign`, { body: { enrollmentConfigurationAssignments: [] } })
        assert.strictEqual(cleared.status, 204)
        assert.strictEqual((await s.request("GET", `${tenantA("keepall")}/$count`)).text, "0")
      })
      it("tells a missing parameter from a null one", async () => {
        const missing = await s.request("POST", `${cfgs}/c1/setPriority`, { body: {} })
        assert.strictEqual(missing.status, 400)
        assert.strictEqual(errorOf(missing).message, "priority: expected an Int32, got nothing")
        const nul = await s.request("POST", `${cfgs}/c1/setPriority`, { body: { priority: null } })
        assert.strictEqual(errorOf(nul).message, "priority: null is not allowed, expected an Int32")
        const badId = await s.request("POST", tenantA(), { body: { id: "bad/id" } })
        assert.strictEqual(errorOf(badId).message, `id: expected an id of 1 to 128 characters without '/' or control characters, got "bad/id"`)
        const numId = await s.request("POST", tenantA(), { body: { id: 5 } })
        assert.strictEqual(errorOf(numId).message, "id: expected an id of 1 to 128 characters without '/' or control characters, got 5")
        const email = await s.request("POST", "invitations", { body: { invitedUserEmailAddress: "nope", inviteRedirectUrl: "https://e.com" } })
        assert.strictEqual(errorOf(email).message, `invitedUserEmailAddress: expected an email address, got "nope"`)
        const filterType = await s.request("POST", tenantA(), {
          body: { target: { "@odata.type": `${G}allDevicesAssignmentTarget`, deviceAndAppManagementAssignmentFilterType: "bogus" } }
        })
        assert.include(errorOf(filterType).message, "expected one of 'none', 'include', 'exclude', got \"bogus\"")
        const type = await s.request("POST", tenantA(), { body: { target: { "@odata.type": `${G}somethingElse` } } })
        assert.match(errorOf(type).message, /^target\.@odata\.type: "#microsoft\.graph\.somethingElse" is not an accepted type; expected one of /)
      })
      it("pages a user's configurations by (priority, id), right while priorities change and configurations go", async () => {
        const u = "pager"
        assert.strictEqual((await s.request("POST", "users", { body: { id: u } })).status, 201)
        await s.request("POST", "groups", { body: { id: "gpager" } })
        await s.request("POST", "groups/gpager/members/$ref", { body: { "@odata.id": `users/${u}` } })
        // Priorities below every other configuration's: the user's list starts with these.
        const made: Array<[string, number]> = [["q1", -106], ["q2", -105], ["q3", -104], ["q4", -103], ["q5", -102], ["q6", -101]]
        for (const [id, priority] of made) {
          assert.strictEqual((await s.request("POST", cfgs, { body: { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id, priority } })).status, 201)
          await s.request("POST", tenantA(id), { body: { target: { "@odata.type": `${G}groupAssignmentTarget`, groupId: "gpager" } } })
        }
        const page = async (url: string) => {
          const r = await s.request("GET", url)
          assert.strictEqual(r.status, 200, r.text)
          const next: string | undefined = r.json["@odata.nextLink"]
          return { ids: r.json.value.map((c: any) => c.id), next: next?.slice(s.base.length + 1) }
        }
        const first = await page(`users/${u}/deviceEnrollmentConfigurations?$top=2`)
        assert.deepStrictEqual(first.ids, ["q1", "q2"])
        // The last one sent moves behind the rest, and the next one goes: the rest still comes once each.
        assert.strictEqual((await s.request("POST", `${cfgs}/q2/setPriority`, { body: { priority: -50 } })).status, 204)
        assert.strictEqual((await s.request("DELETE", `${cfgs}/q3`)).status, 204)
        const second = await page(first.next!)
        assert.deepStrictEqual(second.ids, ["q4", "q5"])
        const third = await page(second.next!)
        assert.deepStrictEqual(third.ids, ["q6", "q2"])
        // A token of another list (an assignment list's: an id alone) is refused, not read as the start.
        const foreign = await s.request("GET", `users/${u}/deviceEnrollmentConfigurations?$skiptoken=eHh4`)
        assert.strictEqual(foreign.status, 400)
        assert.include(errorOf(foreign).message, "$skiptoken")
        const count = await s.request("GET", `users/${u}/deviceEnrollmentConfigurations/$count`)
        assert.strictEqual(count.status, 200)
        const all = (await s.request("GET", `users/${u}/deviceEnrollmentConfigurations?$top=999`)).json.value
        assert.strictEqual(count.text, String(all.length))
        assert.notInclude(all.map((c: any) => c.id), "q3")
      })
      it("counts with $filter at …/assignments/$count", async () => {
        await reset(groupTarget)
        const f = encodeURIComponent("target/groupId eq 'g1'")
        const c = await s.request("GET", `${tenantA()}/$count?$filter=${f}`)
        assert.strictEqual(c.status, 200, c.text)
        const l = await s.request("GET", `${tenantA()}?$count=true&$filter=${f}`)
        assert.strictEqual(c.text, String(l.json["@odata.count"]))
        assert.strictEqual((await s.request("GET", `${tenantA()}/$count?$filter=${encodeURIComponent("id eq 'x'")}`)).status, 400)
        assert.strictEqual((await s.request("GET", `${tenantA()}/$count?$top=1`)).status, 400)
      })
      it("answers /$count on every collection, and still reaches an entity whose id is $count", async () => {
        for (const path of ["users", "groups", "invitations", cfgs, "groups/g1/members", `invitations/i1/invitedUser/deviceEnrollmentConfigurations`]) {
          const c = await s.request("GET", `${path}/$count`)
          assert.strictEqual(c.status, 200, `${path}: ${c.text}`)
          assert.match(c.headers.get("content-type")!, /^text\/plain/)
          const l = await s.request("GET", `${path}?$count=true`)
          assert.strictEqual(c.text, String(l.json["@odata.count"]), path)
        }
        assert.strictEqual((await s.request("POST", cfgs, { body: { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: "$count" } })).status, 201)
        assert.strictEqual((await s.request("GET", `${cfgs}('$count')`)).json.id, "$count")
        assert.strictEqual((await s.request("POST", `${cfgs}/$count/assignments`, { body: { id: "dc" } })).status, 201)
        assert.strictEqual((await s.request("GET", `${cfgs}/$count/assignments/dc`)).status, 200)
        assert.strictEqual((await s.request("DELETE", `${cfgs}('$count')`)).status, 204)
      })
      it("selects every property with *, and a configuration's derived property behind its type cast", async () => {
        const star = await s.request("GET", `${cfgs}/c1?$select=*`)
        assert.strictEqual(star.status, 200, star.text)
        assert.strictEqual(star.json.limit, 5)
        const cast = await s.request("GET", `${cfgs}/c1?$select=displayName,microsoft.graph.deviceEnrollmentLimitConfiguration/limit`)
        assert.strictEqual(cast.status, 200, cast.text)
        assert.deepStrictEqual(Object.keys(cast.json).sort(), ["@odata.context", "@odata.etag", "@odata.type", "displayName", "id", "limit"].sort())
        const other = await s.request("GET", `${cfgs}/c1?$select=microsoft.graph.windowsRestoreDeviceEnrollmentConfiguration/limit`)
        assert.strictEqual(other.status, 200)
        assert.notProperty(other.json, "limit")
        const bare = await s.request("GET", `${cfgs}/c1?$select=limit`)
        assert.strictEqual(bare.status, 400)
        assert.include(errorOf(bare).message, "microsoft.graph.")
        for (const q of ["microsoft.graph.user/limit", "microsoft.graph.deviceEnrollmentLimitConfiguration/", "nope.x/limit"]) {
          assert.strictEqual((await s.request("GET", `${cfgs}/c1?$select=${q}`)).status, 400, q)
        }
        assert.strictEqual((await s.request("GET", `${tenantA()}/a1?$select=microsoft.graph.deviceEnrollmentLimitConfiguration/limit`)).status, 400)
        assert.strictEqual((await s.request("GET", `users/${invitedUserId}/deviceEnrollmentConfigurations?$select=*`)).status, 200)
      })
      it("serves HEAD wherever GET is served, and lists it in Allow", async () => {
        const get = await s.request("GET", `${tenantA()}/a1`)
        const head = await s.request("HEAD", `${tenantA()}/a1`)
        assert.strictEqual(head.status, 200)
        assert.strictEqual(head.text, "")
        assert.strictEqual(head.headers.get("etag"), get.headers.get("etag"))
        assert.strictEqual(head.headers.get("content-length"), String(Buffer.byteLength(get.text)))
        assert.strictEqual((await s.request("HEAD", `${tenantA()}/nope`)).status, 404)
        const put = await s.request("PUT", `${tenantA()}/a1`, { body: {} })
        assert.include(put.headers.get("allow")!, "HEAD")
      })
      it("refuses a group as its own member", async () => {
        const r = await s.request("POST", "groups/g1/members/$ref", { body: { "@odata.id": "groups/g1" } })
        assert.strictEqual(r.status, 400)
        assert.include(errorOf(r).message, "other than the group itself")
        const members = await s.request("GET", "groups/g1/members")
        assert.ok(members.json.value.every((m: any) => m.id !== "g1"))
      })
      it("reads system query options in any case and without their $ (Graph beta)", async () => {
        for (const q of ["$TOP=1", "top=1", "Top=1"]) {
          const r = await s.request("GET", `${tenantA()}?${q}`)
          assert.strictEqual(r.status, 200, `${q}: ${r.text}`)
          assert.strictEqual(r.json.value.length, 1, q)
          const next: string = r.json["@odata.nextLink"]
          const again = await s.request("GET", next.slice(s.base.length + 1))
          assert.strictEqual(again.status, 200, `${q} next: ${again.text}`)
        }
        const skip = (await s.request("GET", `${tenantA()}?$top=1`)).json["@odata.nextLink"] as string
        const token = new URL(skip).searchParams.get("$skiptoken")!
        const spelled = await s.request("GET", `${tenantA()}?top=1&SkipToken=${token}`)
        assert.strictEqual(spelled.status, 200, spelled.text)
        const link = new URL(spelled.json["@odata.nextLink"])
        assert.deepStrictEqual([...link.searchParams.keys()].filter((k) => k.toLowerCase().endsWith("skiptoken")), ["$skiptoken"])
        assert.strictEqual((await s.request("GET", `${tenantA()}?$top=1&top=2`)).status, 400)
        assert.strictEqual((await s.request("GET", `${tenantA()}?EXPAND=x`)).status, 400)
        assert.strictEqual((await s.request("GET", `${tenantA()}?custom=1`)).status, 200)
      })
    })

    describe("a parent deleted while a child is created (the store checks the parent in the child's write)", () => {
      it("never leaves an assignment or a membership for a configuration, group or user made again with the same id", async () => {
        const ok = (r: { status: number; text: string }, status: number) => assert.strictEqual(r.status, status, r.text)
        const limit = (id: string) => ({ "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id })
        const directoryObject = (id: string) => ({ "@odata.id": `${s.base}/directoryObjects/${id}` })
        ok(await s.request("POST", "users", { body: { id: "orphan-u", displayName: "U", userPrincipalName: "orphan-u@example.com" } }), 201)
        ok(await s.request("POST", "groups", { body: { id: "orphan-g", displayName: "G" } }), 201)
        for (let i = 0; i < 20; i++) {
          const [c, g, u] = [`orphan-c${i}`, `orphan-g${i}`, `orphan-u${i}`]
          ok(await s.request("POST", cfgs, { body: limit(c) }), 201)
          ok(await s.request("POST", "groups", { body: { id: g, displayName: g } }), 201)
          ok(await s.request("POST", "users", { body: { id: u, displayName: u, userPrincipalName: `${u}@example.com` } }), 201)
          const answers = await Promise.all([
            s.request("POST", `${cfgs}/${c}/assignments`, { body: { id: "a", target: null } }),
            s.request("DELETE", `${cfgs}/${c}`),
            s.request("POST", `groups/${g}/members/$ref`, { body: directoryObject("orphan-u") }),
            s.request("DELETE", `groups/${g}`),
            s.request("POST", "groups/orphan-g/members/$ref", { body: directoryObject(u) }),
            s.request("DELETE", `users/${u}`)
          ])
          answers.forEach((r, k) => assert.include(k % 2 === 0 ? [201, 204, 404] : [204], r.status, `${i}.${k}: ${r.text}`))
          ok(await s.request("POST", cfgs, { body: limit(c) }), 201)
          ok(await s.request("POST", "groups", { body: { id: g, displayName: g } }), 201)
          ok(await s.request("POST", "users", { body: { id: u, displayName: u, userPrincipalName: `${u}@example.com` } }), 201)
          assert.deepStrictEqual((await s.request("GET", `${cfgs}/${c}/assignments`)).json.value, [], `${c} made again has no assignment`)
          assert.deepStrictEqual((await s.request("GET", `groups/${g}/members`)).json.value, [], `${g} made again has no member`)
          assert.deepStrictEqual((await s.request("GET", `users/${u}/memberOf`)).json.value, [], `${u} made again is in no group`)
        }
      })
    })

    describe("If-Match on DELETE (SPEC 3.10: decided in the store's removal)", () => {
      // Each entity with an ETag, its DELETE path, how to make it, and how to change it (a new ETag).
      const kinds: ReadonlyArray<{
        readonly name: string
        readonly path: string
        readonly make: () => Promise<void>
        readonly change?: () => Promise<void>
        /** What must still be there after a refused DELETE (its children), and be gone after a 204. */
        readonly children?: string
      }> = [
        {
          name: "an assignment",
          path: `${cfgs}/im-c/assignments/im-a`,
          make: async () => {
            await s.request("POST", cfgs, { body: { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: "im-c" } })
            assert.strictEqual((await s.request("POST", `${cfgs}/im-c/assignments`, { body: { id: "im-a", target: null } })).status, 201)
          },
          change: async () => {
            assert.strictEqual((await s.request("PATCH", `${cfgs}/im-c/assignments/im-a`, { body: { sourceId: "changed" } })).status, 200)
          }
        },
        {
          name: "a configuration",
          path: `${cfgs}/im-cfg`,
          make: async () => {
            assert.strictEqual((await s.request("POST", cfgs, { body: { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: "im-cfg" } })).status, 201)
            assert.strictEqual((await s.request("POST", `${cfgs}/im-cfg/assignments`, { body: { id: "child", target: null } })).status, 201)
          },
          change: async () => {
            assert.strictEqual((await s.request("PATCH", `${cfgs}/im-cfg`, { body: { displayName: "changed" } })).status, 200)
          },
          children: `${cfgs}/im-cfg/assignments/child`
        },
        {
          name: "a user",
          path: "users/im-u",
          make: async () => {
            assert.strictEqual((await s.request("POST", "users", { body: { id: "im-u", displayName: "U", userPrincipalName: "im-u@example.com" } })).status, 201)
            await s.request("POST", "groups", { body: { id: "im-users", displayName: "Users" } })
            assert.strictEqual((await s.request("POST", "groups/im-users/members/$ref", { body: { "@odata.id": `${s.base}/directoryObjects/im-u` } })).status, 204)
          },
          change: async () => {
            assert.strictEqual((await s.request("PATCH", "users/im-u", { body: { displayName: "changed" } })).status, 200)
          },
          children: "users/im-u/memberOf"
        },
        {
          name: "a group",
          path: "groups/im-g",
          make: async () => {
            assert.strictEqual((await s.request("POST", "groups", { body: { id: "im-g", displayName: "G" } })).status, 201)
            await s.request("POST", "users", { body: { id: "im-member", displayName: "M", userPrincipalName: "im-member@example.com" } })
            assert.strictEqual((await s.request("POST", "groups/im-g/members/$ref", { body: { "@odata.id": `${s.base}/directoryObjects/im-member` } })).status, 204)
          },
          children: "groups/im-g/members"
        }
      ]
      for (const k of kinds) {
        it(`refuses the DELETE of ${k.name} with a stale or changed ETag (412, nothing removed), and takes a current one, * or a list naming it`, async () => {
          await k.make()
          const before = await s.request("GET", k.path)
          assert.strictEqual(before.status, 200, before.text)
          const etag = before.headers.get("etag")!
          assert.match(etag, /^W\/"/)
          const kept = async (why: string) => {
            assert.strictEqual((await s.request("GET", k.path)).status, 200, `${k.name} kept: ${why}`)
            if (k.children !== undefined) {
              const c = await s.request("GET", k.children)
              assert.strictEqual(c.status, 200, `${k.children}: ${c.text}`)
              if (Array.isArray(c.json.value)) assert.strictEqual(c.json.value.length, 1, `its children kept: ${why}`)
            }
          }
          const stale = await s.request("DELETE", k.path, { headers: { "if-match": 'W/"stale"' } })
          assert.strictEqual(stale.status, 412, stale.text)
          assert.strictEqual(errorOf(stale).code, "preconditionFailed")
          await kept("a stale tag")
          const list = `W/"other", "another"`
          assert.strictEqual((await s.request("DELETE", k.path, { headers: { "if-match": list } })).status, 412)
          await kept("a list without its tag")
          let current = etag
          if (k.change !== undefined) {
            await k.change()
            const refused = await s.request("DELETE", k.path, { headers: { "if-match": etag } })
            assert.strictEqual(refused.status, 412, "the ETag from before a change")
            await kept("the ETag from before a change")
            current = (await s.request("GET", k.path)).headers.get("etag")!
            assert.notStrictEqual(current, etag)
          }
          // The current tag, written strong and in a list, matches (weak comparison).
          const ok = await s.request("DELETE", k.path, { headers: { "if-match": `W/"stale", ${current.replace(/^W\//, "")}` } })
          assert.strictEqual(ok.status, 204, ok.text)
          assert.strictEqual((await s.request("GET", k.path)).status, 404)
          if (k.children !== undefined && k.name !== "a user" && k.name !== "a group") {
            assert.strictEqual((await s.request("GET", k.children)).status, 404, "its children went with it")
          }
          // Made again: * matches any existing entity, and a missing one is 404 whatever If-Match says.
          await k.make()
          assert.strictEqual((await s.request("DELETE", k.path, { headers: { "if-match": "*" } })).status, 204)
          const missing = await s.request("DELETE", k.path, { headers: { "if-match": "*" } })
          assert.strictEqual(missing.status, 404)
          assert.strictEqual(errorOf(missing).code, "itemNotFound")
          await k.make()
          assert.strictEqual((await s.request("DELETE", k.path)).status, 204, "no If-Match: removed as before")
        })
      }
      it("lets exactly one of a PATCH and a DELETE carrying the ETag from before it win, sent at the same time", async () => {
        await s.request("POST", cfgs, { body: { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: "im-race" } })
        const both: Array<string> = []
        for (let i = 0; i < 30; i++) {
          const path = `${cfgs}/im-race/assignments/r${i}`
          const created = await s.request("POST", `${cfgs}/im-race/assignments`, { body: { id: `r${i}`, target: null } })
          const etag = created.headers.get("etag")!
          const [patch, del] = await Promise.all([
            s.request("PATCH", path, { body: { sourceId: "changed" } }),
            s.request("DELETE", path, { headers: { "if-match": etag } })
          ])
          const after = await s.request("GET", path)
          if (patch.status === 200 && del.status === 204) both.push(`r${i}`)
          // Either the PATCH came first (the DELETE's tag is stale: 412, the change kept) or the DELETE did (the PATCH finds nothing: 404).
          assert.deepStrictEqual(
            [patch.status, del.status, after.status],
            patch.status === 200 ? [200, 412, 200] : [404, 204, 404],
            `r${i}: ${patch.status} ${del.status} ${after.status}`
          )
        }
        assert.deepStrictEqual(both, [], "never both")
      })
      // RFC 9110 13.1.2 (since http-adapter 0.15.0, core 0.14.0): a write with If-None-Match that
      // names the stored entity's ETag, or `*` (it exists), is refused and changes nothing; a GET
      // answers 304 with the ETag and no body.
      const patches: Readonly<Record<string, unknown>> = {
        "an assignment": { sourceId: "inm" },
        "a configuration": { displayName: "inm" },
        "a user": { displayName: "inm" }
      }
      for (const k of kinds) {
        it(`honours If-None-Match on ${k.name}: 304 on a GET, 412 on a write, nothing changed`, async () => {
          await k.make()
          const before = await s.request("GET", k.path)
          assert.strictEqual(before.status, 200, before.text)
          const etag = before.headers.get("etag")!
          for (const inm of [etag, "*", `W/"other", ${etag.replace(/^W\//, "")}`]) {
            // Twice: the second GET may be served from the answers the server keeps.
            for (const method of ["GET", "GET", "HEAD"]) {
              const r = await s.request(method, k.path, { headers: { "if-none-match": inm } })
              assert.strictEqual(r.status, 304, `${method} If-None-Match: ${inm}: ${r.text}`)
              assert.strictEqual(r.text, "", "no body")
              assert.strictEqual(r.headers.get("etag"), etag)
            }
          }
          if (k.name === "a configuration") {
            // An expanded answer's ETag is the configuration's alone: its assignments may have
            // changed under it, so the whole answer is sent.
            const expanded = await s.request("GET", `${k.path}?$expand=assignments`, { headers: { "if-none-match": etag } })
            assert.strictEqual(expanded.status, 200, expanded.text)
            assert.strictEqual(expanded.headers.get("etag"), etag)
          }
          const other = await s.request("GET", k.path, { headers: { "if-none-match": 'W/"other"' } })
          assert.strictEqual(other.status, 200, "a list without its tag")
          assert.strictEqual(other.text, before.text)
          // If-Match on a GET: a stale tag is a 412, the current one answers.
          const staleGet = await s.request("GET", k.path, { headers: { "if-match": 'W/"stale"' } })
          assert.strictEqual(staleGet.status, 412, staleGet.text)
          assert.strictEqual(errorOf(staleGet).code, "preconditionFailed")
          assert.strictEqual((await s.request("GET", k.path, { headers: { "if-match": etag } })).status, 200)
          const body = patches[k.name]
          if (body !== undefined) {
            for (const headers of [{ "if-none-match": "*" }, { "if-none-match": etag }, { "if-match": etag, "if-none-match": etag }]) {
              const refused = await s.request("PATCH", k.path, { body, headers })
              assert.strictEqual(refused.status, 412, `PATCH ${JSON.stringify(headers)}: ${refused.text}`)
              assert.strictEqual(errorOf(refused).code, "preconditionFailed")
              assert.include(errorOf(refused).message, "If-None-Match")
              const after = await s.request("GET", k.path)
              assert.strictEqual(after.headers.get("etag"), etag, "nothing changed")
            }
            const ok = await s.request("PATCH", k.path, { body, headers: { "if-none-match": 'W/"other"' } })
            assert.strictEqual(ok.status, 200, ok.text)
            assert.notStrictEqual(ok.headers.get("etag"), etag)
          }
          for (const inm of ["*", (await s.request("GET", k.path)).headers.get("etag")!]) {
            const refused = await s.request("DELETE", k.path, { headers: { "if-none-match": inm } })
            assert.strictEqual(refused.status, 412, `DELETE If-None-Match: ${inm}: ${refused.text}`)
            assert.strictEqual((await s.request("GET", k.path)).status, 200, "not removed")
          }
          assert.strictEqual((await s.request("DELETE", k.path, { headers: { "if-none-match": 'W/"other"' } })).status, 204)
          assert.strictEqual((await s.request("GET", k.path, { headers: { "if-none-match": "*" } })).status, 404, "gone: a 404, not a 304")
        })
      }
      it("a user's and a group's memberships go with them", async () => {
        const memberOf = await s.request("GET", "groups/im-users/members")
        assert.deepStrictEqual(memberOf.json.value.map((m: { id: string }) => m.id), [], "the removed user is no member")
        await s.request("POST", "groups", { body: { id: "im-g", displayName: "G" } })
        assert.deepStrictEqual((await s.request("GET", "groups/im-g/members")).json.value, [], "a group made again has no members")
      })
    })

    describe("If-Match and If-None-Match on a configuration's actions (OData 4.01 Part 1 §8.2.4: decided in the store's write)", () => {
      // Each action, a body that changes what it writes, and what it writes as the test reads it back.
      const actions: ReadonlyArray<{
        readonly name: "assign" | "setPriority"
        readonly body: (n: number) => unknown
        readonly written: (id: string) => Promise<unknown>
      }> = [
        {
          name: "assign",
          body: (n) => ({ enrollmentConfigurationAssignments: [{ id: `ac-n${n}`, target: null }] }),
          written: async (id) => (await s.request("GET", `${cfgs}/${id}/assignments`)).json.value.map((a: { id: string }) => a.id)
        },
        {
          name: "setPriority",
          body: (n) => ({ priority: 100 + n }),
          written: async (id) => (await s.request("GET", `${cfgs}/${id}`)).json.priority
        }
      ]
      for (const a of actions) {
        it(`refuses ${a.name} with a stale or excluded ETag of the configuration (412, nothing changed), and takes a current one or *`, async () => {
          const id = `ac-${a.name}`
          const path = `${cfgs}/${id}/${a.name}`
          assert.strictEqual((await s.request("POST", cfgs, { body: { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id, priority: 3 } })).status, 201)
          assert.strictEqual((await s.request("POST", `${cfgs}/${id}/assignments`, { body: { id: "ac-kept", target: null } })).status, 201)
          const before = (await s.request("GET", `${cfgs}/${id}`)).headers.get("etag")!
          assert.strictEqual((await s.request("PATCH", `${cfgs}/${id}`, { body: { displayName: "changed" } })).status, 200)
          const current = (await s.request("GET", `${cfgs}/${id}`)).headers.get("etag")!
          assert.notStrictEqual(current, before)
          const unchanged = { etag: current, written: await a.written(id) }
          const kept = async (why: string) => {
            assert.strictEqual((await s.request("GET", `${cfgs}/${id}`)).headers.get("etag"), unchanged.etag, `the configuration unchanged: ${why}`)
            assert.deepStrictEqual(await a.written(id), unchanged.written, `nothing written: ${why}`)
          }
          let n = 0
          for (const ifMatch of [before, 'W/"stale"', `W/"other", "another"`]) {
            const r = await s.request("POST", path, { body: a.body(n++), headers: { "if-match": ifMatch, "client-request-id": "mine" } })
            assert.strictEqual(r.status, 412, `If-Match: ${ifMatch}: ${r.text}`)
            const e = errorOf(r)
            assert.strictEqual(e.code, "preconditionFailed")
            assert.strictEqual(e.message, `the deviceEnrollmentConfiguration '${id}' has changed since the ETag given in If-Match`)
            assert.strictEqual(r.json.error.innerError["client-request-id"], "mine")
            await kept(`If-Match: ${ifMatch}`)
          }
          for (const headers of [{ "if-none-match": "*" }, { "if-none-match": current }, { "if-match": current, "if-none-match": current }]) {
            const r = await s.request("POST", path, { body: a.body(n++), headers })
            assert.strictEqual(r.status, 412, `${JSON.stringify(headers)}: ${r.text}`)
            assert.strictEqual(errorOf(r).code, "preconditionFailed")
            assert.include(errorOf(r).message, "If-None-Match")
            await kept(JSON.stringify(headers))
          }
          // The current tag, written strong and in a list (weak comparison): done.
          const ok = await s.request("POST", path, { body: a.body(n), headers: { "if-match": `W/"stale", ${current.replace(/^W\//, "")}` } })
          assert.strictEqual(ok.status, 204, ok.text)
          assert.deepStrictEqual(await a.written(id), a.name === "assign" ? [`ac-n${n}`] : 100 + n)
          const after = (await s.request("GET", `${cfgs}/${id}`)).headers.get("etag")!
          // setPriority changes the configuration (a new ETag); assign changes its assignments, which its ETag does not cover.
          if (a.name === "assign") assert.strictEqual(after, current)
          else assert.notStrictEqual(after, current)
          n++
          assert.strictEqual((await s.request("POST", path, { body: a.body(n), headers: { "if-match": "*", "if-none-match": 'W/"other"' } })).status, 204)
          assert.deepStrictEqual(await a.written(id), a.name === "assign" ? [`ac-n${n}`] : 100 + n)
          n++
          assert.strictEqual((await s.request("POST", path, { body: a.body(n) })).status, 204, "no condition: done as before")
          // A missing configuration is 404 whatever If-Match says.
          const missing = await s.request("POST", `${cfgs}/ac-nope/${a.name}`, { body: a.body(n), headers: { "if-match": "*" } })
          assert.strictEqual(missing.status, 404, missing.text)
          assert.strictEqual(errorOf(missing).code, "itemNotFound")
        })
      }
    })

    describe("authentication and permissions", () => {
      it("answers 401 with WWW-Authenticate for missing, malformed, badly signed, expired, unsigned and tenantless tokens", async () => {
        const jose = await import("jose")
        const key = new TextEncoder().encode("another-secret-of-at-least-32-bytes!!")
        const wrongKey = await new jose.SignJWT({ tid: "tenant-a", scp: "DeviceManagementConfiguration.ReadWrite.All" }).setProtectedHeader({ alg: "HS256" }).setExpirationTime("1h").sign(key)
        const { secret } = await import("./support.ts")
        const sk = new TextEncoder().encode(secret)
        const expired = await new jose.SignJWT({ tid: "tenant-a", scp: "DeviceManagementConfiguration.ReadWrite.All" }).setProtectedHeader({ alg: "HS256" }).setExpirationTime(Math.floor(Date.now() / 1000) - 3600).sign(sk)
        const noTid = await new jose.SignJWT({ scp: "DeviceManagementConfiguration.ReadWrite.All" }).setProtectedHeader({ alg: "HS256" }).setExpirationTime("1h").sign(sk)
        const unsigned = new jose.UnsecuredJWT({ tid: "tenant-a", scp: "DeviceManagementConfiguration.ReadWrite.All" }).setExpirationTime("1h").encode()
        for (const auth of [undefined, "Basic abc", "Bearer ", "Bearer not.a.jwt", `Bearer ${wrongKey}`, `Bearer ${expired}`, `Bearer ${noTid}`, `Bearer ${unsigned}`]) {
          const r = await s.request("GET", `${tenantA()}/a1`, auth === undefined ? { token: null } : { headers: { authorization: auth } })
          assert.strictEqual(r.status, 401, String(auth))
          assert.strictEqual(errorOf(r).code, "InvalidAuthenticationToken")
          assert.match(r.headers.get("www-authenticate")!, /^Bearer/)
        }
      })
      it("answers 403 for a valid token without the permission", async () => {
        const read = { scopes: ["DeviceManagementConfiguration.Read.All"] }
        assert.strictEqual((await s.request("GET", `${tenantA()}/a1`, read)).status, 200)
        const w = await s.request("PATCH", `${tenantA()}/a1`, { ...read, body: { sourceId: "no" } })
        assert.strictEqual(w.status, 403)
        assert.strictEqual(errorOf(w).code, "Authorization_RequestDenied")
        assert.strictEqual((await s.request("GET", "users", read)).status, 403)
        assert.strictEqual((await s.request("POST", "invitations", { scopes: ["User.Invite.All"], body: { invitedUserEmailAddress: "r@e.com", inviteRedirectUrl: "https://e.com" } })).status, 201)
        const roles = await s.token({ roles: ["DeviceManagementServiceConfig.ReadWrite.All"] })
        assert.strictEqual((await s.request("PATCH", `${tenantA()}/a1`, { token: roles, body: {} })).status, 200)
      })
      it("serves health, readiness and the API description without a token", async () => {
        for (const p of ["/health", "/ready", "/beta/openapi.json", "/docs"]) {
          const r = await s.request("GET", p, { token: null })
          assert.strictEqual(r.status, 200, p)
          const head = await s.request("HEAD", p, { token: null })
          assert.strictEqual(head.status, 200, `HEAD ${p}`)
          assert.strictEqual(head.text, "", `HEAD ${p}`)
        }
      })
      it("answers another method on the probes' and the description's paths with 405 and Allow, not 404", async () => {
        for (const p of ["/health", "/ready", "/beta/openapi.json", "/docs", "/docs/"]) {
          for (const method of ["POST", "PUT", "PATCH", "DELETE"]) {
            const r = await s.request(method, p, { token: null })
            assert.strictEqual(r.status, 405, `${method} ${p}`)
            assert.strictEqual(errorOf(r).code, "MethodNotAllowed", `${method} ${p}`)
            assert.strictEqual(r.headers.get("allow"), "GET, HEAD", `${method} ${p}`)
          }
        }
      })
    })

    describe("envelope", () => {
      it("sends a new request-id on every response and echoes client-request-id", async () => {
        const a = await s.request("GET", `${tenantA()}/a1`, { headers: { "client-request-id": "mine-123" } })
        assert.strictEqual(a.headers.get("client-request-id"), "mine-123")
        const b = await s.request("GET", "nothing", { token: null })
        assert.match(b.headers.get("request-id")!, /^[0-9a-f-]{36}$/)
        assert.strictEqual(b.headers.get("client-request-id"), b.headers.get("request-id"))
        assert.notStrictEqual(a.headers.get("request-id"), b.headers.get("request-id"))
        assert.strictEqual(errorOf(b).code, "itemNotFound")
        assert.strictEqual(a.headers.get("content-type"), "application/json; odata.metadata=minimal; charset=utf-8")
      })
      it("echoes a client-request-id of ASCII text up to 1 024 characters as sent, in the header and an error's innerError", async () => {
        for (const sent of ["x".repeat(1024), "ticket 1\tz", "a, b"]) {
          const r = await s.request("GET", `${tenantA()}/missing`, { headers: { "client-request-id": sent } })
          assert.strictEqual(r.status, 404)
          assert.strictEqual(r.headers.get("client-request-id"), sent)
          assert.strictEqual(r.json.error.innerError["client-request-id"], sent)
        }
        // Bytes beyond ASCII would not come back as sent (Node writes the head in the body's encoding),
        // and a longer one would make a head a proxy refuses: the request-id stands in, as for none.
        for (const sent of ["ticket é", "", "y".repeat(1025)]) {
          const r = await s.request("GET", `${tenantA()}/missing`, { headers: { "client-request-id": sent } })
          assert.strictEqual(r.headers.get("client-request-id"), r.headers.get("request-id"), JSON.stringify(sent))
          assert.strictEqual(r.json.error.innerError["client-request-id"], r.headers.get("request-id"))
        }
      })
      it("logs one line per request with the route template and tenant, never the token", async () => {
        await s.request("GET", `${tenantA()}/a1`)
        const last = s.logs[s.logs.length - 1]!
        assert.strictEqual(last.route, "GET /beta/deviceManagement/deviceEnrollmentConfigurations/{configurationId}/assignments/{assignmentId}")
        assert.strictEqual(last.tenant, "tenant-a")
        assert.strictEqual(last.status, 200)
        assert.notInclude(JSON.stringify(s.logs), "eyJ")
      })
    })
  })
