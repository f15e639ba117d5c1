/**
 * The server's bundle (`scripts/bundle.mjs`, built by `pnpm install`) and the
 * entry point's choice between it and the sources (`bin/entry.ts`): the bundle
 * is chosen only while every file it was built from is unchanged, and it serves
 * as the sources do, the SQLite store and the lazily loaded parts included.
 */
import { Token } from "@enrollment/http-adapter"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { assert, beforeAll, describe, it } from "vitest"
import { entry } from "../bin/entry.ts"
import { bundle } from "../scripts/bundle.mjs"
import { startChild } from "./child.ts"

const server = fs.mkdtempSync(path.join(os.tmpdir(), "server-bundle-"))
const dist = path.join(server, "dist")
const built = pathToFileURL(path.join(dist, "server.mjs")).href
const sources = pathToFileURL(path.join(server, "src/main.ts")).href
const inputsFile = path.join(dist, "inputs.json")

beforeAll(async () => {
  assert.strictEqual(await bundle(dist), dist)
}, 60_000)

/** Runs `script` as the server on SQLite in a new data directory; its URL, its secret, and a stop (its exit code). */
const run = async (script: string) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "server-bundle-data-"))
  const s = await startChild(script, { PORT: "0", DATA_DIR: dataDir, STORE: "sqlite", LOG_LEVEL: "none" })
  return { url: s.url, secret: fs.readFileSync(path.join(dataDir, "auth-secret"), "utf8").trim(), stop: s.stop }
}

/** The seed's sequence: an invitation, a configuration assigned to all, an assignment on the invitation's path, a PATCH, a GET. */
const session = async (url: string, secret: string) => {
  const token = await Token.mint({ secret, tenant: "t1" })
  const call = async (method: string, p: string, body?: unknown) => {
    const r = await fetch(`${url}/beta/${p}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    const text = await r.text()
    return { status: r.status, json: text === "" ? undefined : JSON.parse(text) }
  }
  const G = "#microsoft.graph."
  const inv = await call("POST", "invitations", { invitedUserEmailAddress: "guest@example.com", inviteRedirectUrl: "https://example.com" })
  const cfg = await call("POST", "deviceManagement/deviceEnrollmentConfigurations", { "@odata.type": `${G}deviceEnrollmentLimitConfiguration`, id: "c1", limit: 5 })
  const assign = await call("POST", "deviceManagement/deviceEnrollmentConfigurations/c1/assign", {
    enrollmentConfigurationAssignments: [{ id: "all", target: { "@odata.type": `${G}allLicensedUsersAssignmentTarget` } }]
  })
  const at = `invitations/${inv.json?.id}/invitedUser/deviceEnrollmentConfigurations/c1/assignments`
  const created = await call("POST", at, { id: "a1", target: { "@odata.type": `${G}groupAssignmentTarget`, groupId: "g1" } })
  const patched = await call("PATCH", `${at}/a1`, { source: "policySets", sourceId: "p1" })
  const got = await call("GET", `${at}/a1`)
  const refused = await call("PATCH", `${at}/a1`, { source: "nope" })
  return {
    statuses: [inv.status, cfg.status, assign.status, created.status, patched.status, got.status, refused.status],
    patched: { source: patched.json?.source, sourceId: patched.json?.sourceId, etag: patched.json?.["@odata.etag"] === got.json?.["@odata.etag"] },
    refused: refused.json?.error?.code
  }
}

describe("the server's bundle", () => {
  it("is chosen only while every file it was built from is unchanged", () => {
    const original = fs.readFileSync(inputsFile, "utf8")
    const { inputs } = JSON.parse(original) as { inputs: Array<[string, number, number]> }
    const files = inputs.map(([f]) => f.replaceAll(path.sep, "/"))
    for (const want of ["apps/server/src/main.ts", "packages/http-adapter/src/Server.ts", "packages/store-adapter/src/SqliteStore.ts", "pnpm-lock.yaml"]) {
      assert.isTrue(files.some((f) => f.endsWith(want)), `${want} among the inputs`)
    }
    assert.strictEqual(entry(server, {}), built)
    assert.strictEqual(entry(server, { SERVER_FROM_SOURCE: "1" }), sources)
    try {
      fs.writeFileSync(inputsFile, JSON.stringify({ inputs: inputs.map(([f, m, s], i) => (i === 0 ? [f, m + 1, s] : [f, m, s])) }))
      assert.strictEqual(entry(server, {}), sources, "a file modified since the build")
      fs.writeFileSync(inputsFile, JSON.stringify({ inputs: [...inputs, ["../gone.ts", 0, 0]] }))
      assert.strictEqual(entry(server, {}), sources, "a file removed")
      fs.rmSync(inputsFile)
      assert.strictEqual(entry(server, {}), sources, "no list of inputs")
    } finally {
      fs.writeFileSync(inputsFile, original)
    }
    assert.strictEqual(entry(server, {}), built)
  })

  it("serves as the sources do on SQLite, and stops with exit code 0", async () => {
    const outcomes: Array<Awaited<ReturnType<typeof session>>> = []
    for (const script of [path.join(dist, "server.mjs"), new URL("../src/main.ts", import.meta.url).pathname]) {
      const s = await run(script)
      try {
        outcomes.push(await session(s.url, s.secret))
      } finally {
        assert.strictEqual(await s.stop(), 0)
      }
    }
    const [fromBundle, fromSources] = outcomes
    assert.deepStrictEqual(fromBundle!.statuses, [201, 201, 204, 201, 200, 200, 400])
    assert.deepStrictEqual(fromBundle!.patched, { source: "policySets", sourceId: "p1", etag: true })
    assert.deepStrictEqual(fromBundle, fromSources)
  }, 60_000)
})
