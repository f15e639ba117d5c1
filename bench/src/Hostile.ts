/**
 * Hostile input at volume (ISSUE 6): thousands of generated bad requests
 * against a seeded server on SQLite: bodies drawn from the core's schemas
 * (`Arbitrary.schema`) and then broken (unknown properties, values out of
 * their types, a stale `If-Match`), random JSON, malformed and invalid UTF-8
 * bytes, huge and deep bodies, prototype keys, bad, expired, unsigned and
 * foreign tokens, other tenants' tokens on this tenant's ids, bad ids, bad
 * media types and query options. Every answer must be a 4xx (never 5xx, never
 * a success), the process must stay up, and the store file must be
 * byte-for-byte the same afterwards (SHA-256 of every table in key order).
 * The server runs with its Prometheus endpoint on (`METRICS_PORT`): after the
 * run every request series it shows must be labelled by a route of the table
 * or one of the fixed names, so no client input became a label.
 *
 * @since 0.1.0
 */
import { Assignment, AssignmentTarget } from "@enrollment/core"
import { Effect, Schema } from "effect"
import * as Arbitrary from "effect/Arbitrary"
import { Metrics, Routes, Token } from "@enrollment/http-adapter"
import * as Api from "./Api.ts"
import * as Bulk from "./Bulk.ts"
import { prng } from "./Crash.ts"
import * as Http from "./Http.ts"
import { alive, freePort, secret, type Server, startServer } from "./Proc.ts"
import { record, table, verdict } from "./Report.ts"

/** A generated request and what may come back. */
interface Case {
  readonly kind: string
  readonly method: string
  readonly path: string
  readonly headers: Record<string, string>
  readonly body?: string | Uint8Array
  /** True when a closed connection is an acceptable answer (bodies over the limit). */
  readonly mayReset?: boolean
}

export interface HostileResult {
  readonly requests: number
  readonly byKind: Record<string, Record<string, number>>
  readonly failures: ReadonlyArray<string>
  readonly before: string
  readonly after: string
  readonly rows: number
  readonly alive: boolean
  readonly ready: boolean
  /** The metrics endpoint after the run (when this run started the server, with metrics on). */
  readonly metrics?: MetricsSeen | undefined
}

/** What the metrics endpoint showed of the requests: its series, those not labelled by the route table, and the answers counted. */
export interface MetricsSeen {
  readonly series: number
  /** `method route` of each series whose route is neither a route of the table nor a fixed name (must be none). */
  readonly foreign: ReadonlyArray<string>
  readonly answers: number
}

/** The route labels the server may write: each route's template, and the fixed names. */
const knownRoutes: ReadonlySet<string> = new Set([...Routes.routes.map((r) => `/beta${r.path}`), ...Metrics.fixedRoutes.map((f) => f.route)])

/** Reads the `http_server_requests_total` series of a scrape. */
export const requestSeries = (text: string): MetricsSeen => {
  const pairs = new Set<string>()
  const foreign = new Set<string>()
  let answers = 0
  for (const line of text.split("\n")) {
    const m = /^http_server_requests_total\{method="((?:[^"\\]|\\.)*)",route="((?:[^"\\]|\\.)*)",status="(\d+)"\} (\S+)$/.exec(line)
    if (m === null) continue
    const pair = `${m[1]} ${m[2]}`
    pairs.add(pair)
    if (!knownRoutes.has(m[2]!) || !(Metrics.methods.includes(m[1]!) || m[1] === Metrics.otherMethod)) foreign.add(pair)
    answers += Number(m[4])
  }
  return { series: pairs.size, foreign: [...foreign], answers }
}

const Payload = Schema.Struct({
  target: Schema.optionalKey(Schema.NullOr(AssignmentTarget.AssignmentTarget)),
  source: Schema.optionalKey(Assignment.AssignmentSource),
  sourceId: Schema.optionalKey(Schema.NullOr(Schema.String))
})

const sample = <A>(s: Schema.Codec<A, any, never, never>, count: number, seed: number) =>
  Effect.runPromise(Arbitrary.sampleEffect(Arbitrary.schema(s as any), { count, seed })) as Promise<ReadonlyArray<A>>

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url")

/** Builds `n` bad requests for the seeded tenant, reproducibly from `seed`. */
export const generate = async (server: Server, seeded: Api.Seeded, n: number, seed = 1): Promise<Array<Case>> => {
  const random = prng(seed)
  const pick = <A>(xs: ReadonlyArray<A>): A => xs[Math.floor(random() * xs.length)]!
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1))
  // Printable ASCII without '@': a key with '@' is an instance annotation, which the service accepts and ignores.
  const text = (len: number) => Array.from({ length: len }, () => String.fromCharCode(int(32, 126))).join("").replaceAll("@", "a")
  const json = (depth: number): unknown => {
    switch (depth <= 0 ? int(0, 3) : int(0, 5)) {
      case 0: return null
      case 1: return random() < 0.5
      case 2: return pick([0, -1, 1e308, 3.5, 2 ** 53, -0])
      case 3: return text(int(0, 20))
      case 4: return Array.from({ length: int(0, 4) }, () => json(depth - 1))
      default: return Object.fromEntries(Array.from({ length: int(0, 4) }, () => [pick(["target", "source", "sourceId", "id", "@odata.type", "groupId", text(5)]), json(depth - 1)]))
    }
  }

  const assignments = await sample(Assignment.Assignment as any, 300, seed) as ReadonlyArray<Record<string, unknown>>
  const payloads = await sample(Payload as any, 300, seed + 1) as ReadonlyArray<Record<string, unknown>>
  const other = await Api.token({ tenant: "ffffffff-0000-4000-8000-otherTenant01" })
  const reader = await Token.mint({ secret, tenant: Api.tenant, scopes: ["DeviceManagementServiceConfig.Read.All"] })
  const wrongSecret = await Token.mint({ secret: "another-secret-another-secret-another-secret!", tenant: Api.tenant })
  const expired = await Token.mint({ secret, tenant: Api.tenant, expiresIn: -3600 })
  const unsigned = `${b64({ alg: "none", typ: "JWT" })}.${b64({ tid: Api.tenant, scp: "DeviceManagementServiceConfig.ReadWrite.All", exp: 4102444800 })}.`
  const noTenant = `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ scp: "x" })}.${"A".repeat(43)}`
  const badTokens = [
    () => `Bearer ${text(int(1, 200))}`,
    () => `Bearer ${wrongSecret}`,
    () => `Bearer ${expired}`,
    () => `Bearer ${unsigned}`,
    () => `Bearer ${noTenant}`,
    () => `Basic ${Buffer.from("admin:admin").toString("base64")}`,
    () => seeded.token,
    () => `Bearer ${seeded.token.slice(0, -3)}abc`,
    () => `Bearer ${"x".repeat(20_000)}`
  ]
  const one = seeded.pathOf(seeded.assignmentIds[0]!)
  const list = seeded.assignmentsPath
  const tenantOne = `/beta/deviceManagement/deviceEnrollmentConfigurations/${seeded.configurationId}/assignments/${seeded.assignmentIds[0]}`
  const auth = Http.jsonHeaders(seeded.token)
  const validBody = () => JSON.stringify(pick(payloads))

  const makers: ReadonlyArray<[string, () => Case]> = [
    ["schema payload, stale If-Match", () => ({ kind: "", method: "PATCH", path: pick([one, tenantOne]), headers: { ...auth, "if-match": `W/"${text(8).replace(/"/g, "")}"` }, body: validBody() })],
    ["schema payload + unknown property", () => ({ kind: "", method: "PATCH", path: one, headers: auth, body: JSON.stringify({ ...pick(payloads), [pick(["bogus", "Source", "groupId", "target ", text(6)])]: json(1) }) })],
    ["schema entity, value out of type", () => {
      const a = { ...pick(assignments) }
      const key = pick(["source", "id", "target", "sourceId"])
      a[key] = key === "source" ? pick([null, "String", "DIRECT", 1, {}]) : key === "id" ? `${text(4)}-not-the-key` : key === "target" ? pick([1, "x", [], { "@odata.type": "#microsoft.graph.somethingElse" }, { "@odata.type": "#microsoft.graph.groupAssignmentTarget", collectionId: "c" }]) : pick([1, true, {}, [], "x".repeat(5000)])
      return { kind: "", method: "PATCH", path: one, headers: auth, body: JSON.stringify(a) }
    }],
    ["random JSON (not an object or with a bad key)", () => {
      const v = json(4)
      const body = v !== null && typeof v === "object" && !Array.isArray(v) ? { ...v, [`x${text(3)}`]: 1 } : v
      return { kind: "", method: pick(["PATCH", "POST"]), path: pick([one, list]), headers: auth, body: JSON.stringify(body) ?? "null" }
    }],
    ["malformed bytes", () => {
      const bytes = new Uint8Array(int(1, 300))
      for (let i = 0; i < bytes.length; i++) bytes[i] = int(0, 255)
      bytes[0] = pick([0xff, 0x7b, 0x5b, 0x22, 0x00, 0xc3])
      if (bytes[0] === 0x7b && bytes.length > 1) bytes[1] = pick([0xff, 0x22, 0x7b])
      return { kind: "", method: pick(["PATCH", "POST"]), path: pick([one, list]), headers: auth, body: bytes }
    }],
    ["truncated JSON", () => {
      const s = validBody()
      return { kind: "", method: "PATCH", path: one, headers: auth, body: s.slice(0, int(1, Math.max(1, s.length - 1))) }
    }],
    ["invalid UTF-8 in a string", () => ({
      kind: "",
      method: "PATCH",
      path: one,
      headers: auth,
      body: Buffer.concat([Buffer.from('{"sourceId":"'), Buffer.from([pick([0xff, 0xc0, 0xed, 0xf8]), 0xa0, 0x80]), Buffer.from('"}')])
    })],
    ["deep nesting", () => {
      const d = int(65, 50_000)
      const open = pick(["[", '{"target":', '{"a":'])
      const close = open === "[" ? "]" : "}"
      return { kind: "", method: "PATCH", path: one, headers: auth, body: `{"sourceId":${open.repeat(d)}1${close.repeat(d)}}` }
    }],
    ["prototype keys", () => ({
      kind: "",
      method: "PATCH",
      path: one,
      headers: auth,
      body: pick(['{"__proto__":{"source":"policySets"}}', '{"constructor":{"prototype":{"x":1}}}', '{"target":{"__proto__":{"groupId":"p"}}}', '{"prototype":1}'])
    })],
    ["bad token", () => ({ kind: "", method: pick(["PATCH", "GET", "DELETE", "POST"]), path: pick([one, list, tenantOne]), headers: { "content-type": "application/json", authorization: pick(badTokens)() }, body: validBody() })],
    ["no token", () => ({ kind: "", method: pick(["PATCH", "DELETE"]), path: one, headers: { "content-type": "application/json" }, body: validBody() })],
    ["other tenant's ids", () => ({ kind: "", method: pick(["PATCH", "GET", "DELETE"]), path: pick([one, tenantOne, list]), headers: Http.jsonHeaders(other), body: validBody() })],
    ["read-only token writes", () => ({ kind: "", method: pick(["PATCH", "DELETE", "POST"]), path: pick([one, list]), headers: Http.jsonHeaders(reader), body: validBody() })],
    ["bad ids", () => ({
      kind: "",
      method: pick(["PATCH", "GET", "DELETE"]),
      path: pick([`${list}/${"a".repeat(int(129, 400))}`, `${list}/%00x`, `${list}/a%2Fb`, `${list}/no-such-${text(6).replace(/[^A-Za-z0-9]/g, "")}`, `${list}('x`, list.replace(seeded.configurationId, "nope")]),
      headers: auth,
      body: validBody()
    })],
    ["wrong media type", () => ({ kind: "", method: "PATCH", path: one, headers: { ...auth, "content-type": pick(["text/plain", "application/xml", "multipart/form-data", "application/jsonx"]) }, body: validBody() })],
    ["wrong method or route", () => ({ kind: "", method: pick(["PUT", "POST", "OPTIONS", "TRACE"]), path: pick([one, `/beta/${text(10).replace(/[^a-z]/gi, "x")}`, "/beta/deviceManagement"]), headers: auth, body: validBody() })],
    ["bad query options", () => ({ kind: "", method: "GET", path: `${list}?${pick(["$top=abc", "$top=100000", "$filter=bogus%20eq", "$select=nope", "$skiptoken=%%%", "$orderby=id%20desc", "$count=maybe", "$expand=*"])}`, headers: auth })],
    ["malformed batch with valid writes in it", () => {
      // Every batch holds valid PATCHes of the seeded assignment and one defect of the batch
      // itself: it is refused whole (400), and none of its writes may happen.
      const write = (id: string) => ({ id, method: "PATCH", url: one.slice("/beta".length), headers: { "content-type": "application/json" }, body: JSON.parse(validBody()) })
      const requests: Array<Record<string, unknown>> = [write("1"), write("2")]
      switch (int(0, 7)) {
        case 0: requests.push(write("1")); break
        case 1: requests.push({ ...write("3"), dependsOn: [pick(["3", "nope", ""])] }); break
        case 2: requests[0] = { ...requests[0], dependsOn: ["2"] }; requests[1] = { ...requests[1], dependsOn: ["1"] }; break
        case 3: requests.push({ ...write("3"), url: `https://graph.microsoft.com${one}` }); break
        case 4: requests.push({ id: "3", method: "POST", url: "/$batch", body: { requests: [write("x")] } }); break
        case 5: for (let i = 3; i <= 21; i++) requests.push(write(String(i))); break
        case 6: requests.push({ ...write("3"), method: pick(["TRACE", "HEAD", "OPTIONS", "", "PATCHX"]) }); break
        default: requests.push({ ...write("3"), [pick(["atomicityGroup", "Id", "bogus"])]: "x" })
      }
      return { kind: "", method: "POST", path: "/beta/$batch", headers: auth, body: JSON.stringify({ requests }) }
    }],
    ["invalid create", () => ({
      kind: "",
      method: "POST",
      path: list,
      headers: auth,
      body: pick([
        JSON.stringify({ id: seeded.assignmentIds[0], target: null }),
        JSON.stringify({ target: { "@odata.type": "#microsoft.graph.deviceAndAppManagementAssignmentTarget" } }),
        JSON.stringify({ source: "String" }),
        JSON.stringify({ id: "a/b" })
      ])
    })]
  ]
  const cases: Array<Case> = []
  for (let i = 0; i < n; i++) {
    if (i % 500 === 499) {
      // A body over the 1 MiB limit: refused with 413 without being buffered.
      cases.push({ kind: "huge body", method: "PATCH", path: one, headers: auth, body: `{"sourceId":"${"x".repeat(int(1_100_000, 3_000_000))}"}`, mayReset: true })
      continue
    }
    const [kind, make] = makers[i % makers.length]!
    cases.push({ ...make(), kind })
  }
  void server
  return cases
}

/** Sends the cases (16 at a time) and checks the answers, the process and the store. */
export const run = async (options: { requests: number; seed?: number; server?: Server; concurrency?: number }): Promise<HostileResult> => {
  const metricsPort = options.server === undefined ? await freePort() : undefined
  const server = options.server ?? (await startServer({ store: "sqlite", env: { METRICS_PORT: String(metricsPort) } }))
  try {
    const seeded = await Api.seed(server.url, { assignments: 2 })
    const before = Bulk.digest(server.file)
    const cases = await generate(server, seeded, options.requests, options.seed ?? 1)
    const byKind: Record<string, Record<string, number>> = {}
    const failures: Array<string> = []
    const agent = Http.pool(64)
    let next = 0
    const worker = async () => {
      while (next < cases.length) {
        const c = cases[next++]!
        const r = await Http.send(server.url, c.method, c.path, { headers: c.headers, ...(c.body !== undefined ? { body: c.body } : {}), ...(c.mayReset ? {} : { agent }) })
        const key = r.ok ? String(r.status) : `closed (${r.error})`
        const k = (byKind[c.kind] ??= {})
        k[key] = (k[key] ?? 0) + 1
        if (r.ok ? r.status < 400 || r.status >= 500 : !c.mayReset) {
          const sent = c.body === undefined ? "" : typeof c.body === "string" ? c.body.slice(0, 300) : `<${c.body.length} bytes>`
          if (failures.length < 50) failures.push(`${c.kind}: ${c.method} ${c.path.slice(0, 120)} ${sent} -> ${key} ${r.ok ? r.text.slice(0, 200) : ""}`)
          else failures.length++
        }
      }
    }
    await Promise.all(Array.from({ length: options.concurrency ?? 16 }, worker))
    agent.destroy()
    const isAlive = alive(server.pid)
    const ready = await Http.send(server.url, "GET", "/ready").then((r) => r.ok && r.status === 200)
    const after = Bulk.digest(server.file)
    const scrape = metricsPort === undefined ? undefined : await Http.send(`http://127.0.0.1:${metricsPort}`, "GET", "/metrics")
    if (scrape !== undefined && !(scrape.ok && scrape.status === 200)) failures.push(`metrics: GET /metrics -> ${scrape.ok ? scrape.status : scrape.error}`)
    const metrics = scrape?.ok ? requestSeries(scrape.text) : undefined
    return { requests: cases.length, byKind, failures, before: before.sha256, after: after.sha256, rows: after.rows, alive: isAlive, ready, metrics }
  } finally {
    if (options.server === undefined) await server.kill()
  }
}

export const bench = async (options: { requests: number }) => {
  const r = await run({ requests: options.requests, seed: Date.now() % 1_000_000 })
  table(`hostile input: ${r.requests} generated bad requests (SQLite)`, ["kind", "answers"], Object.entries(r.byKind).map(([k, v]) => [k, Object.entries(v).map(([s, n]) => `${s}:${n}`).join(" ")]))
  for (const f of r.failures.slice(0, 20)) console.log(`  failure: ${f}`)
  console.log(`store SHA-256 before ${r.before}\n                after  ${r.after} (${r.rows} rows)`)
  const m = r.metrics
  if (m !== undefined) console.log(`metrics: ${m.answers} answers counted in ${m.series} series, ${m.foreign.length} labelled by anything but the route table${m.foreign.length > 0 ? `: ${m.foreign.slice(0, 10).join("; ")}` : ""}`)
  record("hostile", r)
  const labelsBound = m !== undefined && m.foreign.length === 0
  verdict(
    `hostile input: ${r.requests} bad requests, all 4xx, process up, store byte-identical, metric labels from the route table only`,
    `${r.failures.length} bad answers, alive ${r.alive && r.ready}, store ${r.before === r.after ? "identical" : "CHANGED"}, metrics ${m === undefined ? "not read" : `${m.series} series, ${m.foreign.length} foreign`}`,
    r.failures.length === 0 && r.alive && r.ready && r.before === r.after && labelsBound
  )
}
