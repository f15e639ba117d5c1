/**
 * Test support: an in-process server on an ephemeral port over a fresh store,
 * with an HS256 secret, and a small fetch wrapper that mints tokens.
 */
import { Assignment, Assignments, Configurations, DirectoryService, MemoryStore, Store as StoreTag, type Store } from "@enrollment/core"
import { Client as GraphClient } from "@microsoft/microsoft-graph-client"
import { Context, Effect, Layer, ManagedRuntime, References, Result, Tracer } from "effect"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Auth, Client, Listen, type Metrics, Server, Token } from "../src/index.ts"
import { servedBodies } from "./RequestBodies.ts"

export const secret = "test-secret-of-at-least-32-bytes-long!!"

/**
 * Tracing on, with a tracer that records every span it makes: `spans` holds them (empty
 * it between checks), `layer` goes to `start`'s `extra` (`enabled: false` to check that
 * none is made).
 */
export const recordingTracer = () => {
  const spans: Array<Tracer.Span> = []
  const native = Context.get(Context.empty(), Tracer.Tracer)
  const tracer = Tracer.make({
    span: (options) => {
      const span = native.span(options)
      spans.push(span)
      return span
    }
  })
  const layer = (enabled = true) => Layer.mergeAll(Layer.succeed(Tracer.Tracer, tracer), Layer.succeed(References.TracerEnabled, enabled))
  return { spans, layer }
}

/**
 * A write another request makes in the middle of a request's reads: `arm` it, and a store hook
 * runs `fire` where it is to land (after a list's read, say). Armed once, it runs outside the
 * request's fiber and its snapshot, as another request's write would, and the read goes on after
 * 100 ms, time for it to land unless a snapshot holds it. `armed` says whether it has not fired
 * yet; `settle` waits for the writes that fired.
 */
export const interleavedWrite = () => {
  let next: ((store: Store["Service"]) => Effect.Effect<unknown, unknown>) | undefined
  const landed: Array<Promise<unknown>> = []
  return {
    arm: (write: (store: Store["Service"]) => Effect.Effect<unknown, unknown>) => {
      next = write
    },
    armed: () => next !== undefined,
    fire: (store: Store["Service"]) =>
      Effect.suspend(() => {
        const w = next
        next = undefined
        if (w === undefined) return Effect.void
        landed.push(Effect.runPromise(w(store)))
        return Effect.sleep(100)
      }),
    settle: () => Promise.all(landed.splice(0))
  }
}

/** A self-signed certificate for localhost and 127.0.0.1 (the Graph JavaScript client sends tokens only over https). */
export const selfSigned = (): { readonly key: string; readonly cert: string } => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tls-"))
  const key = path.join(dir, "key.pem")
  const cert = path.join(dir, "cert.pem")
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"
  ], { stdio: "ignore" })
  return { key: fs.readFileSync(key, "utf8"), cert: fs.readFileSync(cert, "utf8") }
}

export interface TestServer {
  /** Node's server, listening. */
  readonly server: import("node:http").Server
  readonly url: string
  readonly base: string
  readonly close: () => Promise<void>
  readonly token: (options?: { tenant?: string | undefined; scopes?: ReadonlyArray<string> | undefined; roles?: ReadonlyArray<string> | undefined; subject?: string | undefined }) => Promise<string>
  readonly request: (method: string, path: string, options?: {
    body?: unknown
    raw?: string | Uint8Array
    headers?: Record<string, string>
    tenant?: string
    scopes?: ReadonlyArray<string>
    token?: string | null
  }) => Promise<Client.Answer>
  readonly logs: Array<Server.RequestLog>
}

export const start = async (options: {
  store?: Layer.Layer<Store>
  rateLimit?: { ratePerSecond: number; burst: number }
  bodyLimit?: number
  tls?: { cert: string; key: string }
  /** How tokens are verified (default: HS256 with `secret`), or the verifier itself. */
  auth?: Auth.AuthOptions | Auth.Verifier
  answerCacheBytes?: number
  /** More of the context the handler runs with (e.g. a tracer). */
  extra?: Layer.Layer<never>
  /** Where the handler counts its answers. */
  metrics?: Metrics.Recorder
  /** The request log's sink (default: `logs`). */
  log?: (entry: Server.RequestLog) => void
  /** The origins whose pages may call the API (default: none, no CORS). */
  cors?: Server.HandlerOptions["cors"]
  /** Which requests' traces are recorded, with tracing on (default: the handler's). */
  sampler?: Server.HandlerOptions["sampler"]
  /** The longest a request's route may take (default: none). */
  requestDeadlineMillis?: number
} = {}): Promise<TestServer> => {
  const services = Layer.mergeAll(Assignments.layer, Configurations.layer, DirectoryService.layer).pipe(
    Layer.provideMerge(options.store ?? MemoryStore.layer)
  )
  const runtime = ManagedRuntime.make(options.extra === undefined ? services : Layer.merge(services, options.extra))
  const context = await runtime.context()
  const logs: Array<Server.RequestLog> = []
  const handler = Server.makeHandler({
    context,
    auth: options.auth ?? { hs256Secret: secret },
    rateLimit: options.rateLimit,
    bodyLimit: options.bodyLimit,
    answerCacheBytes: options.answerCacheBytes,
    metrics: options.metrics,
    cors: options.cors,
    sampler: options.sampler,
    requestDeadlineMillis: options.requestDeadlineMillis,
    log: options.log ?? ((l) => logs.push(l))
  })
  const running = await Listen.listen(handler, { port: 0, tls: options.tls })
  const tokens = new Map<string, string>()
  const token: TestServer["token"] = async (o = {}) => {
    const key = JSON.stringify(o)
    let t = tokens.get(key)
    if (t === undefined) {
      t = await Token.mint({ secret, tenant: o.tenant ?? "tenant-a", scopes: o.scopes, roles: o.roles, subject: o.subject ?? "tester" })
      tokens.set(key, t)
    }
    return t
  }
  const request: TestServer["request"] = async (method, path, o = {}) => {
    const full = path.startsWith("/") ? path : `/beta/${path}`
    const answer = await Client.request(method, `${running.url}${full}`, {
      token: o.token === null ? undefined : o.token ?? (o.headers?.authorization === undefined ? await token({ tenant: o.tenant, scopes: o.scopes }) : undefined),
      body: o.body,
      raw: o.raw,
      headers: o.headers
    })
    describedAsAccepted(method, full, o, answer)
    return answer
  }
  return {
    server: running.server,
    url: running.url,
    base: `${running.url}/beta`,
    close: async () => {
      await running.close(2000, 50)
      await runtime.dispose()
    },
    token,
    request,
    logs
  }
}

/**
 * Every write body the server accepts in these tests is one the OpenAPI document describes
 * as accepted: a body answered 2xx (a `$batch`'s, and each of its requests answered 2xx)
 * that does not validate against its operation's request schema (`RequestBodies`) fails
 * the test that sent it.
 */
const describedAsAccepted = (
  method: string,
  path: string,
  o: { body?: unknown; raw?: string | Uint8Array },
  answer: Client.Answer
) => {
  if (answer.status < 200 || answer.status > 299 || !path.startsWith("/beta/")) return
  let body = o.body
  if (body === undefined && o.raw !== undefined) {
    try {
      body = JSON.parse((typeof o.raw === "string" ? o.raw : new TextDecoder().decode(o.raw)).replace(/^\uFEFF/, ""))
    } catch {
      return
    }
  }
  if (body === undefined) return
  const check = (method: string, path: string, body: unknown, status: number) => {
    const checked = servedBodies()(method, path, body)
    if (checked !== undefined && checked.errors.length > 0) {
      throw new Error(`${method} /beta${path} was answered ${status}, but its body does not validate against ${checked.operation}'s ` +
        `request schema in /beta/openapi.json: ${checked.errors.join("; ")}; body: ${JSON.stringify(body).slice(0, 300)}`)
    }
  }
  check(method, path.slice("/beta".length), body, answer.status)
  if (path.split("?")[0] === "/beta/$batch" && Array.isArray((body as any)?.requests) && Array.isArray(answer.json?.responses)) {
    for (const r of (body as any).requests) {
      const status = answer.json.responses.find((a: any) => String(a.id).toLowerCase() === String(r.id).toLowerCase())?.status
      if (typeof r.url !== "string" || typeof r.method !== "string" || typeof r.body !== "object" || r.body === null) continue
      if (typeof status !== "number" || status < 200 || status > 299) continue
      const url = r.url.replace(/^\/?(?:beta\/)?/, "/")
      check(r.method.toUpperCase(), url, r.body, status)
    }
  }
}

/**
 * Microsoft's Graph JavaScript client (`@microsoft/microsoft-graph-client`) pointed at a server
 * started with `tls` (its host named `localhost`, as the client's custom hosts need), sending
 * `token`: the same client a Graph user's code makes.
 */
export const graphClient = (s: TestServer, token: string): GraphClient =>
  GraphClient.init({
    authProvider: (done) => done(null, token),
    baseUrl: `https://localhost:${new URL(s.url).port}/`,
    defaultVersion: "beta",
    customHosts: new Set(["localhost"])
  })

/**
 * Every page of a list from `path` on, read with `get` and following each `@odata.nextLink`: each
 * page's ids (an entity's `id`, a reference's `@odata.id`) and the next links, in order.
 */
export const pages = async (s: TestServer, get: (path: string) => Promise<Client.Answer>, path: string) => {
  const ids: Array<Array<string>> = []
  const links: Array<string> = []
  let at: string | undefined = path
  while (at !== undefined) {
    const r = await get(at)
    if (r.status !== 200) throw new Error(`GET ${at}: ${r.status} ${r.text}`)
    ids.push(r.json.value.map((m: any) => m.id ?? m["@odata.id"]))
    const next: string | undefined = r.json["@odata.nextLink"]
    if (next !== undefined) links.push(next)
    at = next?.slice(s.base.length + 1)
    if (ids.length >= 20) throw new Error(`GET ${path}: paging does not end`)
  }
  return { ids, links }
}

/** Sends a write and asserts it succeeded (200, 201 or 204); the answer. */
export const succeeds = async (s: TestServer, method: string, path: string, body: unknown) => {
  const r = await s.request(method, path, { body })
  if (![200, 201, 204].includes(r.status)) throw new Error(`${method} ${path}: ${r.status} ${r.text}`)
  return r
}

/**
 * A memory store whose instance the test holds, to build what no request may (since core 0.15.0,
 * a set larger than one `assign` takes: `Configuration.maxAssignItems`): `layer` for `start`, and
 * `replace`, which sets a configuration's assignments from create bodies straight in the store.
 */
export const heldMemoryStore = () => {
  let held: Store["Service"] | undefined
  return {
    layer: Layer.effect(StoreTag, Effect.tap(MemoryStore.make, (store) => Effect.sync(() => held = store))),
    replace: (tenant: string, configurationId: string, bodies: ReadonlyArray<unknown>): Promise<void> =>
      Effect.runPromise(held!.assignments.replace(
        tenant,
        configurationId,
        bodies.map((body) => {
          const create = Result.getOrThrow(Assignment.decodeCreate(body))
          return Assignment.make(create.id!, create)
        })
      ))
  }
}

/**
 * A server on the memory store holding the limit configuration `c1` and, given `assignment` (a
 * create's body), one assignment of it.
 */
export const startWithConfiguration = async (assignment?: Record<string, unknown>): Promise<TestServer> => {
  const s = await start({ store: MemoryStore.layer })
  await succeeds(s, "POST", "deviceManagement/deviceEnrollmentConfigurations", {
    "@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration",
    id: "c1",
    limit: 1
  })
  if (assignment !== undefined) await succeeds(s, "POST", "deviceManagement/deviceEnrollmentConfigurations/c1/assignments", assignment)
  return s
}

/** Asserts the SPEC 6 error shape and returns the error. */

export const errorOf = (r: { json: any; headers: Headers }) => {
  const e = r.json?.error
  if (typeof e?.code !== "string" || typeof e?.message !== "string" || typeof e?.innerError?.["request-id"] !== "string" ||
    typeof e?.innerError?.date !== "string" || typeof e?.innerError?.["client-request-id"] !== "string") {
    throw new Error(`not an error body: ${JSON.stringify(r.json)}`)
  }
  if (r.headers.get("request-id") !== e.innerError["request-id"]) throw new Error("request-id header and body differ")
  return e as { code: string; message: string }
}

/**
 * A verifier that answers tokens written `slow.<token>` after `millis`, as `<token>`; others at
 * once: the requests pipelined behind such a one wait for it.
 */
export const slowVerifier = (millis: number): Auth.Verifier => {
  const real = Auth.make({ hs256Secret: secret })
  return {
    verify: (a) =>
      a?.startsWith("Bearer slow.")
        ? new Promise((r) => setTimeout(() => r(real.verify(`Bearer ${a.slice("Bearer slow.".length)}`) as Auth.AuthResult), millis))
        : real.verify(a)
  }
}
