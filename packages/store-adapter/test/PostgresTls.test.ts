import { PgClient } from "@effect/sql-pg"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Errors, Store } from "@enrollment/core"
import { Cause, Effect, Exit, Layer, Redacted } from "effect"
import * as Reactivity from "effect/reactivity/Reactivity"
import { execFileSync } from "node:child_process"
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
      ["sslmode=require&sslcert=client.crt", "sslcert is given without sslkey: give both"],
      ["sslmode=require&sslkey=client.key", "sslkey is given without sslcert: give both"],
      ["sslmode=require&sslcert=&sslkey=client.key", "sslcert is empty"],
      ["sslmode=require&sslcert=client.crt&sslkey=", "sslkey is empty"],
      ["sslmode=require&sslpassword=secret", "sslpassword is given without sslkey"],
      ["sslcert=client.crt&sslkey=client.key", "sslcert is given with no sslmode: a client certificate is presented over TLS only"],
      ["sslmode=disable&sslcert=client.crt&sslkey=client.key", "sslcert is given with sslmode=disable"],
      ["sslmode=require&sslcert=a.crt&sslcert=b.crt&sslkey=client.key", "sslcert is given more than once"],
      ["sslmode=require&sslcert=/nowhere/client.crt&sslkey=/nowhere/client.key&sslpassword=secret", "sslcert /nowhere/client.crt cannot be read (ENOENT)"],
      ["sslmode=require&sslcrl=crl.pem", "sslcrl is not supported (of the TLS parameters, only sslmode, sslrootcert, sslcert, sslkey and sslpassword are, their names in lower case)"],
      ["sslmode=verify-ca", "sslmode=verify-ca needs sslrootcert naming the server's CA file (a PEM file): it checks the chain but not the host name"],
      ["sslmode=verify-ca&sslrootcert=system", "sslmode=verify-ca cannot be used with sslrootcert=system"],
      ["SSLMODE=verify-full", "SSLMODE is not read: parameter names are lower case (write sslmode)"],
      ["sslMode=verify-full", "sslMode is not read: parameter names are lower case (write sslmode)"],
      ["sslmode=verify-full&SslRootCert=ca.pem", "SslRootCert is not read: parameter names are lower case (write sslrootcert)"],
      ["RequireSSL=1", "RequireSSL is not supported (of the TLS parameters"],
      ["SSLcrl=crl.pem", "SSLcrl is not supported (of the TLS parameters"],
      ["sslmode=require&sslcert=a.crt&sslkey=b.key&sslpassword=secret%zz", "sslpassword's value cannot be decoded (a % not followed by two hex digits, or not UTF-8)"],
      ["sslmode=require&sslcert=a.crt&sslkey=b.key&sslpassword=secret%E0%A4", "sslpassword's value cannot be decoded"],
      ["sslmode=require&ssl%zzmode=require", "the parameter \"ssl%zzmode\" cannot be decoded"],
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

  it("reads a + in a parameter as a plus, as libpq does, and %2B as one too", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pg-tls-plus-"))
    try {
      const ca = path.join(dir, "ca+1.pem")
      fs.writeFileSync(ca, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
      for (const given of [ca, ca.replace("+", "%2B")]) {
        const r = PostgresTls.settingsOf(`${base}?sslmode=verify-full&sslrootcert=${given}`)
        assert.deepStrictEqual("settings" in r ? r.settings.rootCert : r.problem, ca, given)
        const ssl = sslOf(`${base}?sslmode=verify-full&sslrootcert=${given}`)
        assert.isTrue(ssl !== false && typeof ssl.ca === "string", given)
      }
      for (const given of ["ab+cd", "ab%2Bcd"]) {
        const r = PostgresTls.settingsOf(`${base}?sslmode=require&sslcert=a.crt&sslkey=b.key&sslpassword=${given}`)
        if ("problem" in r) throw new Error(r.problem)
        assert.strictEqual(Redacted.value(r.settings.clientCert!.password!), "ab+cd", given)
      }
      // Each part splits on its first =, and an encoded & or = stays in its value.
      const r = PostgresTls.settingsOf(`${base}?sslmode=require&sslcert=a.crt&sslkey=b.key&sslpassword=a=b%26c%3D`)
      if ("problem" in r) throw new Error(r.problem)
      assert.strictEqual(Redacted.value(r.settings.clientCert!.password!), "a=b&c=")
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it("reads the host connected to as the driver does, for a Unix socket too", () => {
    const hostOf = (url: string) => {
      const r = PostgresTls.settingsOf(url)
      if ("problem" in r) throw new Error(r.problem)
      return [r.settings.host, r.settings.socket]
    }
    assert.deepStrictEqual(hostOf(base), ["db.example.com", false])
    assert.deepStrictEqual(hostOf("postgres://app@[::1]:5432/x"), ["::1", false])
    assert.deepStrictEqual(hostOf("postgres:///x"), ["localhost", false])
    assert.deepStrictEqual(hostOf("postgres://%2Fvar%2Frun%2Fpostgresql/x"), ["/var/run/postgresql", true])
    assert.deepStrictEqual(hostOf(`${base}?host=a.example.com&host=/tmp`), ["/tmp", true])
    // An empty host parameter is the driver's default, localhost.
    assert.deepStrictEqual(hostOf(`${base}?host=`), ["localhost", false])
    assert.deepStrictEqual(hostOf("postgres:///x?host="), ["localhost", false])
  })

  it("refuses a client key others can read, by libpq's rule (0600 when not root's, 0640 when root's)", () => {
    const mode = (uid: number, mode: number) => PostgresTls.keyModeProblem({ uid, mode: 0o100000 | mode })
    for (const [uid, m] of [[1000, 0o600], [1000, 0o400], [0, 0o600], [0, 0o640], [0, 0o440]] as const) {
      assert.isUndefined(mode(uid, m), `${uid} ${m.toString(8)}`)
    }
    for (const [uid, m] of [[1000, 0o640], [1000, 0o644], [1000, 0o604], [1000, 0o610], [0, 0o644], [0, 0o660], [0, 0o650], [0, 0o641]] as const) {
      assert.strictEqual(
        mode(uid, m),
        `has group or world access (mode 0${m.toString(8)}): it must be 0600 or less if not owned by root, ` +
          "or 0640 or less if owned by root (libpq's rule); chmod 600 it",
        `${uid} ${m.toString(8)}`
      )
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

describe.skipIf(unavailable !== undefined)("PostgresStore with a client certificate (a cluster that asks for one)", () => {
  let cluster: TlsCluster.TlsCluster | undefined
  let client: TlsCluster.ClientFiles
  beforeAll(async () => {
    cluster = await TlsCluster.start({ clientCertificates: true })
    client = cluster.client!
  }, 60_000)
  afterAll(() => cluster?.stop())

  const urlOf = (query: string) =>
    `postgres://postgres@localhost:${cluster!.port}/postgres?sslmode=verify-full&sslrootcert=${cluster!.caFile}${query}`
  const withCert = (cert: string, key: string, password?: string) =>
    `&sslcert=${cert}&sslkey=${key}${password === undefined ? "" : `&sslpassword=${encodeURIComponent(password)}`}`

  /** The open's failure as the server's start-up line says it, checked to be the TLS settings' (nothing opened). */
  const settingFails = (url: string) =>
    Effect.gen(function*() {
      const error = yield* openFails(url)
      assert.instanceOf(error.cause, PostgresTls.TlsSettingInvalid)
      return innermost(error)
    })

  /** `file`'s contents in a file of its own with `mode`, beside the cluster's; removed after `f`. */
  const copyOf = <A, E, R>(file: string, mode: number, f: (copy: string) => Effect.Effect<A, E, R>) =>
    Effect.acquireUseRelease(
      Effect.sync(() => {
        const copy = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "pg-tls-key-")), path.basename(file))
        fs.copyFileSync(file, copy)
        fs.chmodSync(copy, mode)
        return copy
      }),
      f,
      (copy) => Effect.sync(() => fs.rmSync(path.dirname(copy), { recursive: true, force: true }))
    )

  it.effect("connects with the client certificate, the server authenticating the user by it", () =>
    Effect.gen(function*() {
      const store = yield* Store
      yield* store.ready
      yield* store.configurations.list("tenant", { limit: 5 })
      // Read over a connection of the test's own (with the certificate too: the server wants one).
      const rows = yield* Effect.gen(function*() {
        const sql = yield* PgClient.make({
          url: Redacted.make(`postgres://postgres@127.0.0.1:${cluster!.port}/postgres`),
          ssl: { rejectUnauthorized: false, cert: fs.readFileSync(client.certFile), key: fs.readFileSync(client.keyFile) },
          maxConnections: 1
        })
        return yield* sql.unsafe<Row>(
          `SELECT s.ssl, s.client_dn FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
           WHERE a.application_name = '@enrollment/store-adapter' AND a.pid <> pg_backend_pid()`
        )
      }).pipe(Effect.scoped, Effect.provide(Reactivity.layer))
      assert.isAbove(rows.length, 0, "no connection of the store was found")
      for (const r of rows) assert.deepStrictEqual([r.ssl, r.client_dn], [true, "/CN=postgres"])
    }).pipe(Effect.provide(PostgresStore.layer({ url: urlOf(withCert(client.certFile, client.keyFile)), schema: "tls_test" }))), 30_000)

  it.effect("connects with an encrypted key and its passphrase in sslpassword, also with sslmode=require", () =>
    Effect.gen(function*() {
      for (const url of [
        urlOf(withCert(client.certFile, client.encryptedKeyFile, client.password)),
        `postgres://postgres@127.0.0.1:${cluster!.port}/postgres?sslmode=require${withCert(client.certFile, client.encryptedKeyFile, client.password)}`
      ]) {
        yield* Effect.gen(function*() {
          const store = yield* Store
          yield* store.ready
        }).pipe(Effect.provide(PostgresStore.layer({ url, schema: "tls_test" })))
      }
    }), 30_000)

  it.effect("is refused by the server without a client certificate, saying one is required", () =>
    Effect.gen(function*() {
      const error = yield* openFails(urlOf(""))
      assert.strictEqual(
        innermost(error),
        "the server requires a client certificate (connection requires a valid client certificate): " +
          "give sslcert and sslkey, a certificate its ssl_ca_file trusts, for the user connecting"
      )
    }), 30_000)

  it.effect("is refused by the server with a certificate no CA of its issued, saying so", () =>
    Effect.gen(function*() {
      const error = yield* openFails(urlOf(withCert(cluster!.wrongCaFile, cluster!.wrongKeyFile)))
      assert.match(
        innermost(error),
        new RegExp(`^the server rejected the client certificate \\(sslcert ${cluster!.wrongCaFile}\\): .*unknown ca`)
      )
    }), 30_000)

  it.effect("refuses a key with mode 0644 before connecting, and takes one root owns with 0640 (libpq's rule)", () =>
    Effect.gen(function*() {
      assert.strictEqual(process.getuid?.(), 0, "the key files are root's")
      yield* copyOf(client.keyFile, 0o644, (key) =>
        Effect.gen(function*() {
          assert.strictEqual(
            yield* settingFails(urlOf(withCert(client.certFile, key))),
            `the connection URL's TLS settings cannot be used: sslkey ${key} has group or world access (mode 0644): ` +
              "it must be 0600 or less if not owned by root, or 0640 or less if owned by root (libpq's rule); chmod 600 it"
          )
        }))
      yield* copyOf(client.keyFile, 0o640, (key) =>
        Effect.gen(function*() {
          yield* Effect.gen(function*() {
            yield* (yield* Store).ready
          }).pipe(Effect.provide(PostgresStore.layer({ url: urlOf(withCert(client.certFile, key)), schema: "tls_test" })))
          // The same mode is too open for a key root does not own.
          execFileSync("chown", ["postgres", key])
          assert.match(yield* settingFails(urlOf(withCert(client.certFile, key))), /sslkey .* has group or world access \(mode 0640\)/)
        }))
    }), 30_000)

  it.effect("refuses an unreadable, a non-PEM or a mismatched file, an encrypted key without or with a wrong sslpassword, naming the parameter and never the password", () =>
    Effect.gen(function*() {
      const dir = path.dirname(client.certFile)
      const junk = path.join(dir, "junk.pem")
      fs.writeFileSync(junk, "not PEM at all", { mode: 0o600 })
      const cases: ReadonlyArray<readonly [string, string]> = [
        [withCert(path.join(dir, "missing.crt"), client.keyFile), `sslcert ${path.join(dir, "missing.crt")} cannot be read (ENOENT)`],
        [withCert(client.certFile, path.join(dir, "missing.key")), `sslkey ${path.join(dir, "missing.key")} cannot be read (ENOENT)`],
        [withCert(junk, client.keyFile), `sslcert ${junk} holds no PEM certificate`],
        [withCert(client.certFile, junk), `sslkey ${junk} holds no PEM private key`],
        [withCert(client.certFile, dir), `sslkey ${dir} is not a regular file`],
        [withCert(client.certFile, client.encryptedKeyFile), `sslkey ${client.encryptedKeyFile} is encrypted: give its passphrase in sslpassword`],
        [
          withCert(client.certFile, client.encryptedKeyFile, "not the passphrase"),
          `sslkey ${client.encryptedKeyFile} cannot be decrypted with sslpassword (a wrong passphrase?)`
        ],
        [
          withCert(cluster!.caFile, client.keyFile),
          `sslcert ${cluster!.caFile} does not go with sslkey ${client.keyFile}: the certificate is not the key's`
        ]
      ]
      for (const [query, expected] of cases) {
        const message = yield* settingFails(urlOf(query))
        assert.strictEqual(message, `the connection URL's TLS settings cannot be used: ${expected}`, query)
        assert.notInclude(message, "not the passphrase")
        assert.notInclude(message, client.password)
      }
    }), 30_000)
})
