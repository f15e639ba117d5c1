import { PgClient } from "@effect/sql-pg"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Errors, Store } from "@enrollment/core"
import { Cause, Effect, Exit, Layer, Redacted } from "effect"
import * as Reactivity from "effect/reactivity/Reactivity"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as PostgresStore from "../src/PostgresStore.ts"
import * as PostgresTls from "../src/PostgresTls.ts"
import type { Row } from "../src/StoreSql.ts"
import * as TlsCluster from "./TlsCluster.ts"

const problemOf = (url: string): string | undefined => {
  const r = PostgresTls.fromUrl(url)
  return "problem" in r ? r.problem : undefined
}

const sslOf = (url: string) => {
  const r = PostgresTls.fromUrl(url)
  if ("problem" in r) throw new Error(r.problem)
  return r.ssl
}

describe("PostgresTls", () => {
  const base = "postgres://app:secret@db.example.com:5432/enrollment"

  it("reads no sslmode and disable as no TLS, and a Unix socket as no TLS whatever the mode", () => {
    assert.strictEqual(sslOf(base), false)
    assert.strictEqual(sslOf(`${base}?sslmode=disable`), false)
    assert.strictEqual(sslOf("postgres:///enrollment?host=/var/run/postgresql&sslmode=verify-full"), false)
    assert.strictEqual(sslOf("postgres://%2Fvar%2Frun%2Fpostgresql/enrollment?sslmode=require"), false)
  })

  it("reads require as TLS without checking the certificate", () => {
    assert.deepStrictEqual(sslOf(`${base}?sslmode=require`), { rejectUnauthorized: false })
  })

  it("reads verify-full as the chain and the host name checked, against Node's CAs without sslrootcert", () => {
    assert.deepStrictEqual(sslOf(`${base}?sslmode=verify-full`), { rejectUnauthorized: true })
    assert.deepStrictEqual(sslOf(`${base}?sslrootcert=system`), { rejectUnauthorized: true })
  })

  it("reads verify-ca, and require with sslrootcert, as the chain checked but not the host name", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pg-tls-unit-"))
    try {
      const ca = path.join(dir, "ca.pem")
      fs.writeFileSync(ca, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
      for (const url of [`${base}?sslmode=verify-ca&sslrootcert=${ca}`, `${base}?sslmode=require&sslrootcert=${ca}`]) {
        const ssl = sslOf(url)
        assert.isTrue(ssl !== false && ssl.rejectUnauthorized === true && typeof ssl.ca === "string")
        assert.isTrue(ssl !== false && ssl.checkServerIdentity!("db.example.com", {} as never) === undefined)
      }
      const full = sslOf(`${base}?sslmode=verify-full&sslrootcert=${ca}`)
      assert.isTrue(full !== false && full.checkServerIdentity === undefined && typeof full.ca === "string")
      fs.writeFileSync(path.join(dir, "empty.pem"), "not a certificate")
      assert.strictEqual(
        problemOf(`${base}?sslmode=verify-full&sslrootcert=${path.join(dir, "empty.pem")}`),
        `sslrootcert ${path.join(dir, "empty.pem")} holds no PEM certificate`
      )
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it("refuses what it cannot honour, naming the parameter and never the password", () => {
    const cases: ReadonlyArray<readonly [string, string]> = [
      ["sslmode=prefer", "sslmode=prefer is not supported"],
      ["sslmode=allow", "sslmode=allow is not supported"],
      ["sslmode=requre", "sslmode \"requre\" is not supported: expected one of disable, require, verify-ca, verify-full"],
      ["sslmode=require&sslmode=disable", "sslmode is given more than once"],
      ["sslmode=require&sslcert=client.crt", "sslcert is not supported"],
      ["ssl=true", "ssl is not supported"],
      ["requiressl=1", "requiressl is not supported"],
      ["sslrootcert=ca.pem", "sslrootcert is given with no sslmode"],
      ["sslmode=disable&sslrootcert=ca.pem", "sslrootcert is given with sslmode=disable"],
      ["sslmode=require&sslrootcert=system", "sslmode=require cannot be used with sslrootcert=system"],
      ["sslmode=verify-full&sslrootcert=/nowhere/ca.pem", "sslrootcert /nowhere/ca.pem cannot be read (ENOENT)"]
    ]
    for (const [query, expected] of cases) {
      const problem = problemOf(`${base}?${query}`)
      assert.isTrue(problem?.startsWith(expected), `${query}: ${problem}`)
      assert.notInclude(problem!, "secret")
    }
  })

  it.effect("fails the open with a TlsSettingInvalid cause, before connecting", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Layer.build(PostgresStore.layer({ url: `${"postgres://app:secret@127.0.0.1:1/x"}?sslmode=prefer` })))
      assert.isTrue(Exit.isFailure(exit))
      const error = Cause.squash((exit as Exit.Failure<unknown, unknown>).cause)
      assert.instanceOf(error, Errors.StoreUnavailable)
      const cause = (error as Errors.StoreUnavailable).cause
      assert.instanceOf(cause, PostgresTls.TlsSettingInvalid)
      assert.match((cause as Error).message, /^the connection URL's TLS settings cannot be used: sslmode=prefer is not supported/)
    }).pipe(Effect.scoped))
})

/** The message of the innermost cause of `error` (as the server's start-up line shows it). */
const innermost = (error: unknown): string => {
  let e = error as { cause?: unknown; reason?: unknown; message?: string } | undefined
  let last = String(error)
  for (let i = 0; i < 10 && e !== undefined && e !== null; i++) {
    if (typeof e.message === "string") last = e.message
    e = (e.cause ?? (typeof e.reason === "object" ? e.reason : undefined)) as typeof e
  }
  return last
}

const openFails = (url: string) =>
  Effect.gen(function*() {
    const exit = yield* Effect.exit(Layer.build(PostgresStore.layer({ url, schema: "tls_test", timeoutMillis: 10_000 })))
    assert.isTrue(Exit.isFailure(exit), "the open succeeded")
    const error = Cause.squash((exit as Exit.Failure<unknown, unknown>).cause)
    if (process.env.SHOW_TLS_ERRORS) console.log(innermost(error))
    assert.instanceOf(error, Errors.StoreUnavailable)
    return error as Errors.StoreUnavailable
  }).pipe(Effect.scoped)

const mainUrl = process.env.DATABASE_URL
describe.skipIf(mainUrl === undefined || mainUrl === "")("PostgresStore on a server without TLS", () => {
  it.effect("refuses to go on in plain text with sslmode=require", () =>
    Effect.gen(function*() {
      const u = new URL(mainUrl!)
      u.searchParams.set("sslmode", "require")
      const error = yield* openFails(u.href)
      assert.match(innermost(error), /^the server does not accept TLS \(its ssl setting is off\), and sslmode=require requires it/)
    }))
})

const unavailable = TlsCluster.unavailableReason()
if (unavailable !== undefined) console.log(`PostgreSQL TLS tests skipped: ${unavailable}`)

describe.skipIf(unavailable !== undefined)("PostgresStore over TLS (a cluster that refuses plain text)", () => {
  let cluster: TlsCluster.TlsCluster | undefined
  beforeAll(async () => {
    cluster = await TlsCluster.start()
  }, 60_000)
  afterAll(() => cluster?.stop())

  const urlOf = (host: string, query: string) => `postgres://postgres@${host}:${cluster!.port}/postgres${query}`

  /** The store's connections (by application name) and whether each is encrypted, read over a connection of its own. */
  const storeConnections = Effect.gen(function*() {
    const sql = yield* PgClient.make({ url: Redacted.make(urlOf("127.0.0.1", "")), ssl: { rejectUnauthorized: false }, maxConnections: 1 })
    return yield* sql.unsafe<Row>(
      `SELECT s.ssl, s.version FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
       WHERE a.application_name = '@enrollment/store-adapter' AND a.pid <> pg_backend_pid()`
    )
  }).pipe(Effect.scoped, Effect.provide(Reactivity.layer))

  /** Opens the store at `url`, uses it, and returns how its connections were encrypted. */
  const openAndUse = (url: string) =>
    Effect.gen(function*() {
      const store = yield* Store
      yield* store.ready
      yield* store.configurations.list("tenant", { limit: 5 })
      return yield* storeConnections
    }).pipe(Effect.provide(PostgresStore.layer({ url, schema: "tls_test" })))

  const assertEncrypted = (rows: ReadonlyArray<Row>) => {
    assert.isAbove(rows.length, 0, "no connection of the store was found")
    for (const r of rows) {
      assert.strictEqual(r.ssl, true)
      assert.match(String(r.version), /^TLSv1\.[23]$/)
    }
  }

  it.effect("connects encrypted with sslmode=require, the self-signed certificate unchecked", () =>
    Effect.gen(function*() {
      assertEncrypted(yield* openAndUse(urlOf("127.0.0.1", "?sslmode=require")))
    }), 30_000)

  it.effect("connects encrypted with sslmode=verify-full and the CA in sslrootcert", () =>
    Effect.gen(function*() {
      assertEncrypted(yield* openAndUse(urlOf("localhost", `?sslmode=verify-full&sslrootcert=${cluster!.caFile}`)))
    }), 30_000)

  it.effect("connects with sslmode=verify-ca and the CA to an address the certificate does not name", () =>
    Effect.gen(function*() {
      assertEncrypted(yield* openAndUse(urlOf("127.0.0.1", `?sslmode=verify-ca&sslrootcert=${cluster!.caFile}`)))
    }), 30_000)

  it.effect("fails the open with verify-full and a CA that did not sign the certificate, saying so", () =>
    Effect.gen(function*() {
      const error = yield* openFails(urlOf("localhost", `?sslmode=verify-full&sslrootcert=${cluster!.wrongCaFile}`))
      assert.match(
        innermost(error),
        new RegExp(`^the server's certificate was rejected \\(sslmode=verify-full, sslrootcert ${cluster!.wrongCaFile}\\): self-signed certificate`)
      )
    }), 30_000)

  it.effect("fails the open with verify-full to an address the certificate does not name, saying so", () =>
    Effect.gen(function*() {
      const error = yield* openFails(urlOf("127.0.0.1", `?sslmode=verify-full&sslrootcert=${cluster!.caFile}`))
      assert.match(innermost(error), /^the server's certificate was rejected \(sslmode=verify-full, sslrootcert .*\): .*127\.0\.0\.1/)
    }), 30_000)

  it.effect("is refused by the server without sslmode (plain text, as with disable)", () =>
    Effect.gen(function*() {
      const error = yield* openFails(urlOf("127.0.0.1", ""))
      assert.match(innermost(error), /no encryption/)
    }), 30_000)
})
