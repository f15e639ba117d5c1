/**
 * The fixes of a reviewer's findings, each through what the operator sees: `backup --force` and
 * what is not a regular file; next links (export's too) followed only on the service's origin and
 * never twice; a minted token renewed before it expires, against the real HTTP handler; an
 * unreadable standard input; a base URL with credentials, a query or a fragment; `__proto__` in
 * an answer; a read answered without an entity; a list of items that are not entities;
 * `Retry-After` that is not a wait; `token` flags that mint a useless token.
 */
import { execFileSync, spawn } from "node:child_process"
import { closeSync, lstatSync, mkdirSync, openSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from "node:fs"
import type { IncomingMessage, ServerResponse } from "node:http"
import * as path from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Assignments, Configurations, DirectoryService, MemoryStore } from "@enrollment/core"
import { Listen, Server, Token } from "@enrollment/http-adapter"
import { Effect, Layer, ManagedRuntime } from "effect"
import { MintedTokens } from "../src/Backend.ts"
import * as Bulk from "../src/Bulk.ts"
import * as Remote from "../src/Remote.ts"
import { enrollctl, shim, storeDir, stubServer, tempDir, userLine } from "./cli.ts"

/** A token the stub servers take (they read none): any JWT-shaped text. */
const anyToken = "eyJhbGciOiJIUzI1NiJ9.eyJ0aWQiOiJ0In0.c2ln"

/** `enrollctl --base-url <stub> --token … args`. */
const remote = (baseUrl: string, args: ReadonlyArray<string>) => enrollctl(["--base-url", baseUrl, "--token", anyToken, ...args])

/** A JSON answer. */
const json = (res: ServerResponse, body: unknown, status = 200, headers: Record<string, string> = {}) =>
  res.writeHead(status, { "content-type": "application/json", ...headers }).end(typeof body === "string" ? body : JSON.stringify(body))

describe("backup --force and a FILE that is not a regular file", () => {
  it("refuses a FIFO, a symbolic link and a dangling one, --force or not, as a usage error (exit 2), leaving each as it was", async () => {
    // Before: --force renamed the copy over a FIFO, a link or a device node; a dangling link was
    // refused as "made while the backup ran", which it was not.
    const dir = await storeDir()
    const out = tempDir("enrollctl-backup-not-a-file-")
    const fifo = path.join(out, "fifo")
    execFileSync("mkfifo", [fifo])
    const target = path.join(out, "target.sqlite")
    writeFileSync(target, "kept")
    const link = path.join(out, "link")
    symlinkSync(target, link)
    const dangling = path.join(out, "dangling")
    symlinkSync(path.join(out, "nothing"), dangling)
    for (const [file, kind] of [[fifo, "a FIFO (named pipe)"], [link, "a symbolic link"], [dangling, "a symbolic link"]] as const) {
      for (const force of [[], ["--force"]]) {
        const r = await enrollctl(["--store", "sqlite", "--data-dir", dir, "backup", ...force, file])
        assert.strictEqual(r.code, 2, `${file} ${force}: ${r.stderr}`)
        assert.strictEqual(r.stderr, `error Usage: ${file} is ${kind}, not a regular file: name the backup's file (nothing was written)\n`)
      }
    }
    assert.isTrue(lstatSync(fifo).isFIFO())
    assert.strictEqual(readlinkSync(link), target)
    assert.strictEqual(readFileSync(target, "utf8"), "kept")
    assert.strictEqual(readlinkSync(dangling), path.join(out, "nothing"))
  })
})

describe("next links", () => {
  it("export follows no next link to another origin, which receives nothing (InvalidResponse, exit 1)", async () => {
    // Before: export followed it, and sent the token there.
    const elsewhere = await stubServer()
    const service = await stubServer((req, res) => {
      if (req.url?.startsWith("/beta/invitations")) {
        return json(res, { value: [], "@odata.nextLink": `${elsewhere.baseUrl}/invitations?$skiptoken=1` })
      }
      json(res, { value: [] })
    })
    try {
      const r = await remote(service.baseUrl, ["export"])
      assert.strictEqual(r.code, 1, r.stderr)
      assert.strictEqual(r.stdout, "")
      assert.match(r.stderr, /^error InvalidResponse: a next link leads away from http:\/\/127\.0\.0\.1:\d+ \(.*\): not followed, so that the token goes nowhere else\n$/)
      assert.deepStrictEqual(elsewhere.requests, [])
    } finally {
      await service.close()
      await elsewhere.close()
    }
  })

  it("stops at a next link that leads back to a page already read (InvalidResponse, exit 1), in a list and in export", async () => {
    // Before: followed forever.
    let asked = 0
    const service = await stubServer((req, res) => {
      asked++
      const base = `http://${req.headers.host}/beta`
      if (req.url?.startsWith("/beta/users") || req.url?.startsWith("/beta/invitations")) {
        const page = new URL(req.url, base).searchParams.get("page") ?? "1"
        const route = req.url.startsWith("/beta/users") ? "users" : "invitations"
        // Page 1 leads to page 2, which leads back to page 1.
        return json(res, { value: [{ id: `u${page}` }], "@odata.nextLink": `${base}/${route}?page=${page === "1" ? "2" : "1"}` })
      }
      json(res, { value: [] })
    })
    try {
      const list = await remote(service.baseUrl, ["users", "list", "-o", "json"])
      assert.strictEqual(list.code, 1, list.stderr)
      assert.match(list.stderr, /^error InvalidResponse: a next link leads back to a page already read \(http:\/\/.*\/beta\/users\?page=2\): not followed, so that the list ends\n$/)
      const exported = await remote(service.baseUrl, ["export"])
      assert.strictEqual(exported.code, 1, exported.stderr)
      assert.match(exported.stderr, /^error InvalidResponse: a next link leads back to a page already read/)
      assert.isBelow(asked, 20)
    } finally {
      await service.close()
    }
  }, 20_000)
})

/** The real HTTP handler (http-adapter) on the memory store, on a free port, verifying HS256 tokens with no clock tolerance. */
const realHandler = async (secret: string, delayMs: number) => {
  const services = Layer.mergeAll(Assignments.layer, Configurations.layer, DirectoryService.layer).pipe(Layer.provideMerge(MemoryStore.layer))
  const runtime = ManagedRuntime.make(services)
  const context = await runtime.context()
  const handler = Server.makeHandler({ context, auth: { hs256Secret: secret, clockToleranceSeconds: 0 }, log: () => {} })
  // Each write answered `delayMs` late: an import of a few records outlives a token of 2 s.
  const slow = Object.assign(
    (req: IncomingMessage, res: ServerResponse) => req.method === "GET" ? handler(req, res) : void setTimeout(() => handler(req, res), delayMs),
    handler
  )
  const running = await Listen.listen(slow, { port: 0 })
  return {
    base: `${running.url}/beta`,
    close: async () => {
      await running.close(2000, 50)
      await runtime.dispose()
    }
  }
}

describe("a token enrollctl minted, renewed before it expires", () => {
  const secret = "s".repeat(24) + "-review-fixes-secret"
  const dataDir = tempDir("enrollctl-renew-")
  let server: Awaited<ReturnType<typeof realHandler>> | undefined
  beforeAll(async () => {
    writeFileSync(path.join(dataDir, "auth-secret"), secret, { mode: 0o600 })
    server = await realHandler(secret, 200)
  })
  afterAll(async () => {
    await server?.close()
  })

  const records = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => JSON.stringify(userLine(`${prefix}${i}`))).join("\n") + "\n"

  const usersNamed = async (prefix: string) => {
    const token = await Token.mint({ secret, tenant: "00000000-0000-0000-0000-000000000001" })
    const res = await fetch(`${server!.base}/users?$top=999`, { headers: { authorization: `Bearer ${token}` } })
    return ((await res.json()) as { value: Array<{ id: string }> }).value.map((u) => u.id).filter((id) => id.startsWith(prefix))
  }

  it.effect("imports a file whose run outlives the token it began with: a fresh one is minted before each expires", () =>
    Effect.gen(function*() {
      // Before: the token was minted once, for 10 minutes; a longer import failed part way, and its
      // undo sent the same expired token. Here tokens last 2 s and the import about 4 s.
      // Both secrets enrollctl mints with: the data directory's file, and AUTH_HS256_SECRET (`Remote.settle`).
      for (const source of ["data-dir", "variable"] as const) {
        const prefix = `renewed-${source}-`
        const file = path.join(dataDir, `${source}.jsonl`)
        writeFileSync(file, records(prefix, 16))
        const started = Date.now()
        const run = source === "data-dir"
          ? Bulk.importFile({ baseUrl: server!.base, dataDir, debug: false }, file, { create: false })
          : Effect.acquireUseRelease(
            Effect.sync(() => (process.env.AUTH_HS256_SECRET = secret)),
            () => Effect.flatMap(Remote.settle({ baseUrl: server!.base, debug: false }), (raw) => Bulk.importFile(raw, file, { create: false })),
            () => Effect.sync(() => delete process.env.AUTH_HS256_SECRET)
          )
        yield* run.pipe(Effect.provideService(MintedTokens, { lifetimeSeconds: 2, renewBeforeMs: 1_000 }))
        assert.isAbove(Date.now() - started, 3_000, `${source}: the run outlived the first token`)
        const ids = yield* Effect.promise(() => usersNamed(prefix))
        assert.strictEqual(ids.length, 16, source)
      }
    }), 60_000)

  it("leaves a token given as it is: one that expires mid-run fails the import, saying so and naming what remains (exit 5)", async () => {
    const token = await Token.mint({ secret, tenant: "00000000-0000-0000-0000-000000000001", expiresIn: 3 })
    const r = await enrollctl(["--base-url", server!.base, "--token", token, "import", "-"], { input: records("given-", 24) })
    assert.strictEqual(r.code, 5, r.stderr)
    assert.match(r.stderr, /^error InvalidAuthenticationToken: line \d+: The bearer token has expired; \d+ record\(s\) remain after a failed undo/)
  }, 30_000)
})

/** `enrollctl args` with standard input opened on `file` (a directory: `< /tmp`). */
const withStdinFrom = (file: string, args: ReadonlyArray<string>) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
    const fd = openSync(file, "r")
    const env: Record<string, string> = {}
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("ENROLLCTL_")) env[k] = v
    const child = spawn(process.execPath, [shim, ...args], { env, stdio: [fd, "pipe", "pipe"] })
    closeSync(fd)
    let stdout = ""
    let stderr = ""
    child.stdout!.setEncoding("utf8").on("data", (d) => (stdout += d))
    child.stderr!.setEncoding("utf8").on("data", (d) => (stderr += d))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }))
  })

describe("a standard input that cannot be read", () => {
  it("is a usage error naming standard input and the system's error (exit 2): import -, --body -, batch -", async () => {
    // Before: `import - < /tmp` imported nothing (exit 0); `--body -` and `batch -` read it as JSON that ends too soon.
    const dir = tempDir("enrollctl-stdin-dir-")
    const stub = await stubServer()
    try {
      const cases = [
        [["--store", "memory", "import", "-"], "error Usage: cannot read standard input: EISDIR: illegal operation on a directory, read\n"],
        [["--store", "memory", "users", "create", "--body", "-"], "error Usage: --body: cannot read standard input: EISDIR: illegal operation on a directory, read\n"],
        [["--base-url", stub.baseUrl, "--token", anyToken, "batch", "-"], "error Usage: cannot read standard input: EISDIR: illegal operation on a directory, read\n"]
      ] as const
      for (const [args, says] of cases) {
        const r = await withStdinFrom(dir, args)
        assert.strictEqual(r.code, 2, `${args.join(" ")}: ${r.stderr}`)
        assert.strictEqual(r.stderr, says, args.join(" "))
        assert.strictEqual(r.stdout, "")
      }
      assert.deepStrictEqual(stub.requests, [])
    } finally {
      await stub.close()
    }
  })
})

describe("--base-url", () => {
  it("refuses a user or password, a query and a fragment as a usage error (exit 2), the password not shown", async () => {
    // Before: the path alone was checked; the password was printed in errors, and `?x=1` or `#f` made wrong request URLs.
    const refused = [
      ["http://user:hunter2@127.0.0.1:18799/beta", "http://user:[redacted]@127.0.0.1:18799/beta", "without a user or password (the token is the credential)"],
      ["http://user@127.0.0.1:18799/beta", "http://user@127.0.0.1:18799/beta", "without a user or password (the token is the credential)"],
      ["http://127.0.0.1:18799/beta?x=1", "http://127.0.0.1:18799/beta?x=1", "without a query or fragment (? or #)"],
      ["http://127.0.0.1:18799/beta#frag", "http://127.0.0.1:18799/beta#frag", "without a query or fragment (? or #)"]
    ] as const
    for (const [url, shown, why] of refused) {
      for (const given of [{ args: ["--base-url", url], env: {}, name: "--base-url" }, { args: [], env: { ENROLLCTL_BASE_URL: url }, name: "ENROLLCTL_BASE_URL" }]) {
        const r = await enrollctl([...given.args, "--token", anyToken, "users", "list"], { env: given.env })
        assert.strictEqual(r.code, 2, r.stderr)
        assert.strictEqual(
          r.stderr,
          `error Usage: ${given.name}: expected the service root, ending in /beta (e.g. http://127.0.0.1:8080/beta), ${why}; got '${shown}'\n`
        )
        assert.notInclude(r.stderr, "hunter2")
      }
    }
  })

  it("--token '' is a usage error (exit 2), as --base-url '' is", async () => {
    const r = await enrollctl(["--base-url", "http://127.0.0.1:18799/beta", "--token", "", "users", "list"])
    assert.strictEqual(r.code, 2, r.stderr)
    assert.strictEqual(r.stderr, "error Usage: --token: expected a bearer token (a JWT: header.payload.signature), got an empty one\n")
  })
})

describe("answers remote mode reads", () => {
  it("keeps a property named __proto__ in an entity and in a list's items, as local mode does", async () => {
    // Before: it was assigned to a plain object, which set its prototype and printed nothing of it.
    const service = await stubServer((req, res) => {
      const user = '{"id":"u1","displayName":"U","__proto__":{"polluted":true}}'
      if (req.url === "/beta/users/u1") return json(res, `{"@odata.context":"x",${user.slice(1)}`)
      json(res, `{"value":[${user}]}`)
    })
    try {
      const one = await remote(service.baseUrl, ["users", "get", "--user-id", "u1", "-o", "json"])
      assert.strictEqual(one.code, 0, one.stderr)
      assert.strictEqual(one.stdout.replace(/\s/g, ""), '{"id":"u1","displayName":"U","__proto__":{"polluted":true}}')
      const list = await remote(service.baseUrl, ["users", "list", "-o", "json"])
      assert.strictEqual(list.code, 0, list.stderr)
      assert.strictEqual(list.stdout.replace(/\s/g, ""), '[{"id":"u1","displayName":"U","__proto__":{"polluted":true}}]')
    } finally {
      await service.close()
    }
  })

  it("fails a read answered without an entity (empty, null, 204, an array) with InvalidResponse, exit 1", async () => {
    // Before: it printed nothing, exit 0.
    const answers: Record<string, (res: ServerResponse) => void> = {
      empty: (res) => res.writeHead(200, { "content-type": "application/json" }).end(),
      null: (res) => json(res, "null"),
      noContent: (res) => res.writeHead(204).end(),
      array: (res) => json(res, "[]")
    }
    const service = await stubServer((req, res) => answers[req.url!.split("/").at(-1)!]!(res))
    try {
      for (const [id, says] of [["empty", "answered 200 with application/json, not an entity"], ["null", "answered 200 with application/json, not an entity"], [
        "noContent",
        "answered 204 with no content type, no content"
      ], ["array", "answered 200 with application/json, not an entity"]] as const) {
        const r = await remote(service.baseUrl, ["users", "get", "--user-id", id])
        assert.strictEqual(r.code, 1, `${id}: ${r.stderr}`)
        assert.strictEqual(r.stdout, "")
        assert.include(r.stderr, `error InvalidResponse: GET /beta/users/${id} ${says}: is the base URL the service's root?`)
      }
    } finally {
      await service.close()
    }
  })

  it("fails a list whose items are not entities with InvalidResponse, exit 1", async () => {
    // Before: `InternalError: Cannot convert undefined or null to object`.
    const service = await stubServer((_req, res) => json(res, { value: [{ id: "u1" }, 1, null, "x"] }))
    try {
      const r = await remote(service.baseUrl, ["users", "list"])
      assert.strictEqual(r.code, 1, r.stderr)
      assert.match(r.stderr, /^error InvalidResponse: GET \/beta\/users answered 200 with a list whose item 1 is 1, not an entity: is the base URL the service's root\?\n$/)
    } finally {
      await service.close()
    }
  })
})

describe("Retry-After", () => {
  const now = Date.parse("2026-12-03T12:00:00Z")
  it("reads whole seconds and a date in the future; anything else is the default backoff", () => {
    // Before: `-5` and `1.5` read as dates long past: a retry at once.
    assert.strictEqual(Remote.retryAfterMs("120", 0, now), 120_000)
    assert.strictEqual(Remote.retryAfterMs("0", 0, now), 0)
    assert.strictEqual(Remote.retryAfterMs("Thu, 03 Dec 2026 12:00:30 GMT", 0, now), 30_000)
    for (const header of ["-5", "1.5", "Thu, 03 Dec 2026 11:59:00 GMT", "soon", "", null]) {
      assert.strictEqual(Remote.retryAfterMs(header, 0, now), Remote.retry.firstBackoffMs, String(header))
      assert.strictEqual(Remote.retryAfterMs(header, 2, now), Remote.retry.firstBackoffMs * 4, String(header))
    }
  })
})

describe("enrollctl token", () => {
  const dataDir = tempDir("enrollctl-token-flags-")
  beforeAll(() => {
    mkdirSync(dataDir, { recursive: true })
    writeFileSync(path.join(dataDir, "auth-secret"), "t".repeat(48), { mode: 0o600 })
  })

  it("refuses --scopes '' and --roles '', a token that grants nothing, as a usage error (exit 2)", async () => {
    for (const flag of ["--scopes", "--roles"]) {
      const r = await enrollctl(["token", "--data-dir", dataDir, flag, ""])
      assert.strictEqual(r.code, 2, r.stderr)
      assert.strictEqual(r.stdout, "")
      assert.strictEqual(
        r.stderr,
        `error Usage: ${flag}: expected one or more of the service's permissions, space- or comma-separated; got none (a token that grants nothing)\n`
      )
    }
  })

  it("mints for at most 1 year (1y, 31557600 seconds); a longer --expires-in is a usage error (exit 2)", async () => {
    for (const ok of ["1y", "31557600", "365d"]) {
      const r = await enrollctl(["token", "--data-dir", dataDir, "--expires-in", ok])
      assert.strictEqual(r.code, 0, `${ok}: ${r.stderr}`)
    }
    for (const tooLong of ["2y", "366d", "53w", "31557601", "9999999999"]) {
      const r = await enrollctl(["token", "--data-dir", dataDir, "--expires-in", tooLong])
      assert.strictEqual(r.code, 2, `${tooLong}: ${r.stderr}`)
      assert.strictEqual(
        r.stderr,
        `error Usage: --expires-in: expected a positive lifetime of at most 1 year (1y, 31557600 seconds), seconds or a span like 30m, 1h, 7d; got '${tooLong}'\n`
      )
    }
  })
})
