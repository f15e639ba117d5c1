/**
 * What an operator found running the CLI against the real server and in local mode (CHANGELOG
 * 0.1.1): a batch of reads said it "may have been written"; local mode took a member reference
 * with other members, which the server refuses; an `--if-match` or a token that no HTTP header
 * can carry failed as a broken connection (a write "may have been written"; the token printed);
 * `--database-url` with another store was dropped; a port fetch refuses read "fetch failed"; and
 * a web page answering at the base URL read as empty answers (an empty export, exit 0). Each case
 * runs the real CLI: against the real server, in local mode on a real SQLite store, or against a
 * `node:http` server of the test's own that stalls, breaks or answers what the service never does.
 */
import type { ChildProcess } from "node:child_process"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { enrollctl, fileOf, groupLine, jsonl, startServer, storeDir, stubServer, tempDir, userLine } from "./cli.ts"

/** The CLI in remote mode at `baseUrl` (any token: these servers read none). */
const at = (baseUrl: string, args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  enrollctl(["--base-url", baseUrl, "--token", "t", ...args], { env })

const batchOf = (...methods: ReadonlyArray<string>) =>
  fileOf(JSON.stringify({ requests: methods.map((method, i) => ({ id: String(i + 1), method, url: i === 0 ? "/users" : "/groups/g1" })) }), "batch.json")

const mayHaveBeenWritten = "it may have been written; check before sending it again"

describe("a batch of reads (GET only), sent as a POST, is not said to have written anything", () => {
  const reads = batchOf("GET", "get")
  const writes = batchOf("GET", "DELETE")

  it("says nothing was written when it gets no answer in time; a batch holding a write still says it may have been", async () => {
    const s = await stubServer(() => {})
    try {
      // 2 s: long enough for the request to reach the server on a busy machine (0.5 s once was not).
      const r = await at(s.baseUrl, ["--timeout", "2", "batch", reads])
      assert.strictEqual(r.code, 1, r.stderr)
      assert.strictEqual(
        r.stderr,
        "error RequestTimedOut: POST /beta/$batch: no complete answer within 2 s (--timeout); the request was abandoned (a batch of reads: nothing was written)\n"
      )
      const w = await at(s.baseUrl, ["--timeout", "2", "batch", writes])
      assert.strictEqual(w.code, 1, w.stderr)
      assert.include(w.stderr, `(a write that timed out is not retried: ${mayHaveBeenWritten})`)
      assert.deepStrictEqual(s.requests, ["POST /beta/$batch", "POST /beta/$batch"], "each sent once")
    } finally {
      await s.close()
    }
  })

  it("says nothing was written when its connection breaks once sent", async () => {
    const s = await stubServer((req) => req.on("end", () => req.socket.destroy()))
    try {
      const r = await at(s.baseUrl, ["batch", reads])
      assert.strictEqual(r.code, 1, r.stderr)
      assert.match(r.stderr, /^error ConnectionFailed: cannot reach http:\/\/127\.0\.0\.1:\d+\/beta: \S+ \(a batch of reads: nothing was written\)\n$/)
      const w = await at(s.baseUrl, ["batch", writes])
      assert.strictEqual(w.code, 1, w.stderr)
      assert.include(w.stderr, `(a write whose connection broke once sent is not retried: ${mayHaveBeenWritten})`)
    } finally {
      await s.close()
    }
  })

  it("retries its 503 as a read's, and leaves a batch holding a write to say it may have been written", async () => {
    let answered = 0
    const s = await stubServer((req, res) => {
      req.on("end", () => {
        if (answered++ % 2 === 0) {
          res.writeHead(503, { "content-type": "application/json", "retry-after": "0" })
          res.end(JSON.stringify({ error: { code: "ServiceUnavailable", message: "The store is unavailable" } }))
          return
        }
        res.writeHead(200, { "content-type": "application/json" })
        res.end(JSON.stringify({ responses: [{ id: "1", status: 200, body: { value: [] } }, { id: "2", status: 200, body: { id: "g1" } }] }))
      })
    })
    try {
      const r = await at(s.baseUrl, ["-o", "json", "batch", reads])
      assert.strictEqual(r.code, 0, r.stderr)
      assert.deepStrictEqual(r.json().map((x: { status: number }) => x.status), [200, 200])
      assert.deepStrictEqual(s.requests, ["POST /beta/$batch", "POST /beta/$batch"], "retried once")
      const w = await at(s.baseUrl, ["batch", writes])
      assert.strictEqual(w.code, 1, w.stderr)
      assert.strictEqual(w.stderr, `error ServiceUnavailable: The store is unavailable (a write's 503 is not retried: ${mayHaveBeenWritten})\n`)
      assert.strictEqual(s.requests.length, 3, "the write batch was not retried")
    } finally {
      await s.close()
    }
  })
})

describe("both modes against the real server", () => {
  const started: Array<ChildProcess> = []
  const dataDir = tempDir("enrollctl-operator-server-")
  let baseUrl = ""
  beforeAll(async () => {
    baseUrl = await startServer(dataDir, {}, (c) => started.push(c))
  }, 60_000)
  afterAll(() => {
    for (const c of started) c.kill("SIGTERM")
  })

  it("refuses a member reference with other members in both modes, as the server does, and adds nothing", async () => {
    const local = await storeDir()
    const modes = {
      remote: (...args: ReadonlyArray<string>) => enrollctl(["--base-url", baseUrl, "--data-dir", dataDir, "--tenant", "t-ref-body", "-o", "json", ...args]),
      local: (...args: ReadonlyArray<string>) => enrollctl(["--store", "sqlite", "--data-dir", local, "-o", "json", ...args])
    }
    const bodies = [
      { body: { "@odata.id": "users/u1", other: 1 }, stderr: "error BadRequest: other: 'other' is not a property of reference\n" },
      { body: { other: 1, "@odata.id": "users/u1" }, stderr: "error BadRequest: other: 'other' is not a property of reference\n" },
      { body: { "@odata.id": "users/u1", "@odata.type": "#microsoft.graph.user" }, stderr: "error BadRequest: @odata.type: '@odata.type' is not a property of reference\n" },
      { body: [{ "@odata.id": "users/u1" }], stderr: `error BadRequest: body: expected a JSON object with '@odata.id', got [{"@odata.id":"users/u1"}]\n` },
      { body: null, stderr: "error BadRequest: body: expected a JSON object with '@odata.id', got null\n" },
      { body: { "@odata.id": 5 }, stderr: "error BadRequest: @odata.id: expected a URL string, got 5\n" },
      { body: {}, stderr: "error BadRequest: @odata.id: expected a URL string, got nothing\n" }
    ]
    const answers: Record<string, Array<{ code: number; stderr: string }>> = {}
    for (const [mode, run] of Object.entries(modes)) {
      const made = await run("import", fileOf(jsonl([userLine("u1"), groupLine("g1")])))
      assert.strictEqual(made.code, 0, `${mode}: ${made.stderr}`)
      answers[mode] = []
      for (const { body, stderr } of bodies) {
        const r = await run("groups", "members", "ref", "create", "--group-id", "g1", "--body", JSON.stringify(body))
        assert.strictEqual(r.code, 2, `${mode}: ${JSON.stringify(body)}: ${r.stderr}`)
        assert.strictEqual(r.stderr, stderr, `${mode}: ${JSON.stringify(body)}`)
        answers[mode]!.push({ code: r.code, stderr: r.stderr })
      }
      // Read before the group is looked up, as the server reads it.
      const noGroup = await run("groups", "members", "ref", "create", "--group-id", "nope", "--body", JSON.stringify({ "@odata.id": "users/u1", x: 1 }))
      assert.strictEqual(noGroup.code, 2, `${mode}: ${noGroup.stderr}`)
      assert.strictEqual(noGroup.stderr, "error BadRequest: x: 'x' is not a property of reference\n", mode)
      const members = await run("groups", "members", "list", "--group-id", "g1")
      assert.deepStrictEqual(members.json(), [], `${mode}: nothing was added`)
      // The reference alone is taken.
      const ok = await run("groups", "members", "ref", "create", "--group-id", "g1", "--body", JSON.stringify({ "@odata.id": "users/u1" }))
      assert.strictEqual(ok.code, 0, `${mode}: ${ok.stderr}`)
    }
    assert.deepStrictEqual(answers.local, answers.remote)
  })

  it("refuses in both modes an --if-match no HTTP header can carry, before anything is sent", async () => {
    const local = await storeDir()
    const remote = ["--base-url", baseUrl, "--data-dir", dataDir, "--tenant", "t-if-match"]
    assert.strictEqual((await enrollctl([...remote, "import", fileOf(jsonl([userLine("u1")]))])).code, 0)
    assert.strictEqual((await enrollctl(["--store", "sqlite", "--data-dir", local, "import", fileOf(jsonl([userLine("u1")]))])).code, 0)
    const cases = [
      { value: "W/\"a\u0001b\"", holds: "a control character (U+0001) at index 4" },
      { value: "W/\"a\rb\"", holds: "a line break (U+000D) at index 4" },
      { value: "W/\"€\"", holds: "a character beyond U+00FF (U+20AC) at index 3" }
    ]
    for (const { holds, value } of cases) {
      for (const args of [["users", "patch", "--user-id", "u1", "--body", "{}"], ["users", "delete", "--user-id", "u1"]]) {
        const expected = `error Usage: --if-match: expected an ETag (W/"…") or *, which an HTTP header can carry; this one holds ${holds}\n`
        const r = await enrollctl([...remote, "--debug", ...args, "--if-match", value])
        assert.strictEqual(r.code, 2, r.stderr)
        assert.strictEqual(r.stderr, expected, "nothing sent (no request line with --debug)")
        const l = await enrollctl(["--store", "sqlite", "--data-dir", local, ...args, "--if-match", value])
        assert.strictEqual(l.code, 2, l.stderr)
        assert.strictEqual(l.stderr, expected)
      }
    }
    // Around the value, spaces and line breaks are dropped, as fetch drops them: it is sent.
    const etag = (await enrollctl([...remote, "-o", "json", "users", "get", "--user-id", "u1"])).json()["@odata.etag"]
    const padded = await enrollctl([...remote, "-o", "json", "users", "patch", "--user-id", "u1", "--body", "{}", "--if-match", `${etag}\r\n`])
    assert.strictEqual(padded.code, 0, padded.stderr)
  })

  it("refuses a token no HTTP header can carry without printing it, naming the flag or the variable, before anything is sent", async () => {
    const secret = "s3cr3t-part-of-the-token"
    const flag = await enrollctl(["--base-url", baseUrl, "--token", `${secret}\n${secret}`, "--debug", "users", "create", "--display-name", "x"])
    assert.strictEqual(flag.code, 2, flag.stderr)
    assert.strictEqual(
      flag.stderr,
      "error Usage: --token: expected a bearer token an HTTP header can carry (a JWT: header.payload.signature); this one holds a line break (U+000A) at index 24\n"
    )
    const variable = await enrollctl(["--base-url", baseUrl, "users", "list"], { env: { ENROLLCTL_TOKEN: `${secret}€` } })
    assert.strictEqual(variable.code, 2, variable.stderr)
    assert.strictEqual(
      variable.stderr,
      "error Usage: ENROLLCTL_TOKEN: expected a bearer token an HTTP header can carry (a JWT: header.payload.signature); this one holds a character beyond U+00FF (U+20AC) at index 24\n"
    )
    assert.notInclude(flag.stderr + variable.stderr, secret)
  })
})

describe("settings and answers that misled", () => {
  it("refuses --database-url with another store, which it dropped; ignores ENROLLCTL_DATABASE_URL there", async () => {
    const dir = await storeDir()
    const url = "postgres://postgres@127.0.0.1:5432/nothing-here"
    const memory = await enrollctl(["--store", "memory", "--database-url", url, "users", "create", "--display-name", "x"])
    assert.strictEqual(memory.code, 2, memory.stderr)
    assert.strictEqual(memory.stderr, "error Usage: --database-url applies to PostgreSQL only (--store postgres, or no --store), not to --store memory\n")
    assert.strictEqual(memory.stdout, "")
    const sqlite = await enrollctl(["--store", "sqlite", "--data-dir", dir, "--database-url", url, "users", "list"])
    assert.strictEqual(sqlite.code, 2, sqlite.stderr)
    assert.include(sqlite.stderr, "not to --store sqlite")
    const variable = await enrollctl(["--store", "sqlite", "--data-dir", dir, "-o", "json", "users", "list"], { env: { ENROLLCTL_DATABASE_URL: url } })
    assert.strictEqual(variable.code, 0, variable.stderr)
    assert.deepStrictEqual(variable.json(), [])
  })

  it("says why fetch does not connect to a port it blocks, where it said 'fetch failed'", async () => {
    const r = await at("http://127.0.0.1:6000/beta", ["users", "delete", "--user-id", "u1"])
    assert.strictEqual(r.code, 1, r.stderr)
    assert.strictEqual(
      r.stderr,
      "error ConnectionFailed: cannot reach http://127.0.0.1:6000/beta: fetch does not connect to port 6000 (one of the ports the Fetch standard blocks); serve the API on another port\n"
    )
  })

  it("fails on a web page answering at the base URL, where it printed empty answers with exit 0 (an empty export)", async () => {
    const s = await stubServer((_, res) => {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" })
      res.end("<html><body>Sign in</body></html>")
    })
    try {
      const page = "(the answer begins \"<html><body>Sign in</body></html>\")"
      const list = await at(s.baseUrl, ["-o", "json", "users", "list"])
      assert.strictEqual(list.code, 1, list.stderr)
      assert.strictEqual(list.stdout, "")
      assert.strictEqual(list.stderr, `error InvalidResponse: GET /beta/users answered 200 with text/html, not JSON: is the base URL the service's root? ${page}\n`)
      const get = await at(s.baseUrl, ["-o", "json", "users", "get", "--user-id", "u1"])
      assert.strictEqual(get.code, 1, get.stderr)
      assert.include(get.stderr, "error InvalidResponse: GET /beta/users/u1 answered 200 with text/html, not JSON")
      const create = await at(s.baseUrl, ["users", "create", "--display-name", "x"])
      assert.strictEqual(create.code, 1, create.stderr)
      assert.include(create.stderr, `not JSON: is the base URL the service's root? ${page} (a write answered so is not retried: ${mayHaveBeenWritten})`)
      const exported = await at(s.baseUrl, ["export"])
      assert.strictEqual(exported.code, 1, exported.stderr)
      assert.strictEqual(exported.stdout, "")
    } finally {
      await s.close()
    }
    // JSON that is not a list: not read as an empty one.
    const other = await stubServer((_, res) => {
      res.writeHead(200, { "content-type": "application/json" })
      res.end(JSON.stringify({ status: "ok" }))
    })
    try {
      const list = await at(other.baseUrl, ["-o", "json", "groups", "list"])
      assert.strictEqual(list.code, 1, list.stderr)
      assert.strictEqual(list.stderr, "error InvalidResponse: GET /beta/groups answered 200 without the list's \"value\" array: is the base URL the service's root?\n")
      const exported = await at(other.baseUrl, ["export"])
      assert.strictEqual(exported.code, 1, exported.stderr)
      assert.strictEqual(exported.stdout, "")
    } finally {
      await other.close()
    }
  })

  // A review following the READMEs (2026-12-02): a web server's HTML 404 was printed whole as the
  // error and exited 3, "not found", as if the service had said the entity was not there.
  it("fails on an error page that is not a Graph error, on one line, exit 1, whatever its status (since 0.5.1)", async () => {
    const s = await stubServer((req, res) => {
      const status = req.method === "POST" ? 501 : 404
      res.writeHead(status, { "content-type": "text/html" })
      res.end(`<!DOCTYPE HTML>\n<html lang="en">\n  <head><title>Error ${status}</title></head>\n</html>\n`)
    })
    try {
      const get = await at(s.baseUrl, ["-o", "json", "users", "get", "--user-id", "u1"])
      assert.strictEqual(get.code, 1, get.stderr)
      assert.strictEqual(
        get.stderr,
        "error InvalidResponse: GET /beta/users/u1 answered 404 with text/html, not a Graph error: is the base URL the service's root? " +
          "(the answer begins \"<!DOCTYPE HTML> <html lang=\\\"en\\\"> <head><title>Error 404</tit\")\n"
      )
      const create = await at(s.baseUrl, ["users", "create", "--display-name", "x"])
      assert.strictEqual(create.code, 1, create.stderr)
      assert.match(create.stderr, /^error InvalidResponse: POST \/beta\/users answered 501 with text\/html, not a Graph error: .*\n$/)
      const exported = await at(s.baseUrl, ["export"])
      assert.strictEqual(exported.code, 1, exported.stderr)
      assert.strictEqual(exported.stdout, "")
    } finally {
      await s.close()
    }
    // The service's own errors are as before: a Graph 404 is "not found", exit 3.
    const graph = await stubServer((_, res) => {
      res.writeHead(404, { "content-type": "application/json" })
      res.end(JSON.stringify({ error: { code: "itemNotFound", message: "user 'u1' not found" } }))
    })
    try {
      const get = await at(graph.baseUrl, ["-o", "json", "users", "get", "--user-id", "u1"])
      assert.strictEqual(get.code, 3, get.stderr)
      assert.strictEqual(get.stderr, "error itemNotFound: user 'u1' not found\n")
    } finally {
      await graph.close()
    }
  })
})
