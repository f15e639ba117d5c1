import { assert, describe, it } from "@effect/vitest"
import * as Credentials from "../src/Credentials.ts"

describe("Credentials", () => {
  it("hides the user part of every URL and every password= value", () => {
    assert.strictEqual(
      Credentials.redactUrls("a postgres://app:s3cret@db:5432/x and postgresql://ro@h/y?sslmode=require&Password=p w"),
      "a postgres://***@db:5432/x and postgresql://***@h/y?sslmode=require&Password=*** w"
    )
    assert.strictEqual(Credentials.redactUrls("no URL here: user@example.com"), "no URL here: user@example.com")
  })

  it("shows the URL in use as asked, and hides its password wherever it appears, as written and decoded", () => {
    const url = "postgres://app:p%40ss-word@db/x"
    assert.strictEqual(Credentials.redact(`at ${url}: p@ss-word and p%40ss-word`, url, "(DATABASE_URL)"), "at (DATABASE_URL): *** and ***")
    assert.strictEqual(Credentials.redact(`at ${url}`, url), "at postgres://***@db/x")
    // Its masked form (as a log line may already carry it) is the URL in use too.
    assert.strictEqual(Credentials.redact("at postgres://***@db/x", url, "(DATABASE_URL)"), "at (DATABASE_URL)")
  })

  it("leaves a short password alone outside a URL (it would blank out words), and copes with text that is no URL", () => {
    assert.strictEqual(Credentials.redact("a pw b, postgres://u:pw@h/d", "postgres://u:pw@h/d", "(URL)"), "a pw b, (URL)")
    assert.strictEqual(Credentials.redact("nothing", "not a url"), "nothing")
  })
})
