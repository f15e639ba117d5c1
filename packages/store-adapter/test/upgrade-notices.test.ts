/**
 * What an upgrade is said in (`StoreSql.upgradeNotices`, since 0.6.0): counts in the singular or
 * plural, and ids named so that no id can make the line read otherwise (a quote and a comma in it,
 * or a character that reorders a terminal's line).
 */
import { assert, describe, it } from "@effect/vitest"
import * as StoreSql from "../src/StoreSql.ts"

const upgrade = (over: Partial<StoreSql.Upgrade>): StoreSql.Upgrade => ({
  from: 1,
  to: 2,
  migrations: ["orphans removed"],
  removed: [],
  shared: { count: 0, first: [] },
  ...over
})

describe("upgradeNotices", () => {
  it("counts rows in the singular and the plural, and leaves out what removed none", () => {
    const [[line]] = StoreSql.upgradeNotices(upgrade({
      removed: [["assignment of a configuration that was not there", 1], ["membership in a group that was not there", 0], ["membership of a user that was not there", 2]]
    })) as any
    assert.strictEqual(
      line,
      "upgraded the store's schema from version 1 to 2 ('orphans removed'): removed 1 assignment of a configuration that was not there, 2 memberships of a user that was not there"
    )
    assert.strictEqual(StoreSql.upgradeNotices(upgrade({}))[0]![0], "upgraded the store's schema from version 1 to 2 ('orphans removed'): no row removed")
  })

  it("names ids as JSON strings, bidirectional controls escaped, so that none reads as two or as another", () => {
    const said = StoreSql.upgradeNotices(upgrade({ shared: { count: 11, first: [{ tenant: "t", id: "x\", \"y" }, { tenant: "t\u202e", id: "z" }] } }))
    assert.strictEqual(said.length, 2)
    const [line, level] = said[1]!
    assert.strictEqual(level, "warn")
    assert.isTrue(line.startsWith("11 ids are both a user and a group, written before store-adapter 0.3.0 (users and groups share one id space since): "), line)
    assert.include(line, String.raw`"x\", \"y" in tenant "t", "z" in tenant "t\u202e", …;`)
    assert.notInclude(line, "\u202e")
  })

  it("says nothing of a store made new, or of one nothing was applied to", () => {
    assert.deepStrictEqual(StoreSql.upgradeNotices(upgrade({ from: 0, shared: { count: 3, first: [] } })), [])
    assert.deepStrictEqual(StoreSql.upgradeNotices(upgrade({ migrations: [] })), [])
  })
})
