/**
 * The server composed from its configuration: the store (SQLite by default,
 * PostgreSQL or memory), the core services over it, optional OTLP tracing,
 * authentication (configured, or the zero-config secret in the data
 * directory), and the HTTP adapter listening on HTTP or HTTPS.
 *
 * @since 0.1.0
 */
import { dirname } from "node:path"
import { Assignments, Configurations, DirectoryService, MemoryStore, type Store } from "@enrollment/core"
import { type Auth, Listen, Server } from "@enrollment/http-adapter"
// Only the default store is loaded with the server; PostgreSQL (and its driver) and the OTLP
// exporter are imported when the configuration names them, which keeps start-up short.
import * as SqliteStore from "@enrollment/store-adapter/SqliteStore"
import { Context, Effect, Layer, ManagedRuntime, Option, Redacted, References } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import * as RequestLogger from "./RequestLogger.ts"
import * as Secret from "./Secret.ts"
import type { ServerConfig } from "./ServerConfig.ts"

/** The store layer the configuration names. */
export const storeLayer = (config: ServerConfig): Layer.Layer<Store, unknown> => {
  switch (config.store) {
    case "memory":
      return MemoryStore.layer
    case "sqlite":
      return SqliteStore.layer({
        filename: path.resolve(config.dataDir, "enrollment.sqlite"),
        synchronous: config.sqliteSynchronous,
        cacheEntries: config.sqliteCacheEntries
      })
    case "postgres":
      return Layer.unwrap(Effect.promise(() => import("@enrollment/store-adapter/PostgresStore")).pipe(
        Effect.map((PostgresStore) =>
          PostgresStore.layer({
            url: Option.getOrThrow(config.databaseUrl),
            schema: Option.getOrUndefined(config.databaseSchema)
          })
        )
      ))
  }
}

/** The authentication the configuration names; the zero-config secret when none. */
export const authOptions = (config: ServerConfig): { readonly options: Auth.AuthOptions; readonly secretFile?: string; readonly created?: boolean } => {
  const common = { issuer: Option.getOrUndefined(config.issuer), audience: Option.getOrUndefined(config.audience) }
  if (Option.isSome(config.hs256Secret) || Option.isSome(config.jwksUrl)) {
    return {
      options: {
        ...common,
        hs256Secret: Option.isSome(config.hs256Secret) ? Redacted.value(config.hs256Secret.value) : undefined,
        jwksUrl: Option.isSome(config.jwksUrl) ? config.jwksUrl.value.href : undefined
      }
    }
  }
  const s = Secret.ensure(config.dataDir)
  return { options: { ...common, hs256Secret: s.secret }, secretFile: s.file, created: s.created }
}

/** A started server. */
export interface App {
  readonly url: string
  readonly port: number
  /** Graceful stop: no new connections, in-flight requests finish, then the store closes. */
  readonly stop: () => Promise<void>
}

/** Starts the server for a configuration; `say` receives start-up notes. */
export const start = async (config: ServerConfig, say: (line: string) => void = () => {}): Promise<App> => {
  if (config.store === "sqlite") fs.mkdirSync(config.dataDir, { recursive: true })
  // Without an OTLP endpoint nobody reads spans: tracing is off when the services are
  // built, so their methods and the store's open no span at all on the hot path.
  const otlp = config.otlpEndpoint
  const tracing = Option.isSome(otlp)
    ? Layer.unwrap(Effect.promise(() => Promise.all([import("effect/observability"), import("effect/http")])).pipe(
      Effect.map(([{ Otlp }, { FetchHttpClient }]) =>
        Otlp.layerJson({ baseUrl: otlp.value.href.replace(/\/$/, ""), resource: { serviceName: "enrollment-server" } }).pipe(
          Layer.provide(FetchHttpClient.layer)
        )
      )
    ))
    : Layer.succeed(References.TracerEnabled, false)
  const services = Layer.mergeAll(Assignments.layer, Configurations.layer, DirectoryService.layer).pipe(
    Layer.provideMerge(storeLayer(config)),
    Layer.provideMerge(tracing)
  )
  const runtime = ManagedRuntime.make(services as Layer.Layer<Assignments | Configurations | DirectoryService | Store, unknown>)
  let context
  try {
    context = await runtime.context()
  } catch (e) {
    await runtime.dispose()
    throw e
  }
  const auth = authOptions(config)
  if (auth.secretFile !== undefined) {
    say(`${auth.created ? "created" : "using"} the local signing secret ${auth.secretFile} (no AUTH_* setting); mint a token with: pnpm enrollctl token --data-dir ${path.dirname(auth.secretFile)}`)
  }
  const handler = Server.makeHandler({
    context,
    auth: auth.options,
    rateLimit: { ratePerSecond: config.rateLimitPerSecond, burst: config.rateLimitBurst },
    bodyLimit: config.bodyLimitBytes,
    answerCacheBytes: config.responseCacheBytes,
    publicUrl: Option.getOrUndefined(config.publicUrl),
    log: RequestLogger.make({ format: config.logFormat, level: config.logLevel }),
    logFrom: RequestLogger.lowestStatus(config.logLevel)
  })
  const tls = Option.isSome(config.tlsCertFile) && Option.isSome(config.tlsKeyFile)
    ? { cert: fs.readFileSync(config.tlsCertFile.value), key: fs.readFileSync(config.tlsKeyFile.value) }
    : undefined
  let running: Listen.Running
  try {
    running = await Listen.listen(handler, { port: config.port, host: config.host, tls })
  } catch (e) {
    await runtime.dispose()
    throw e
  }
  return {
    url: running.url,
    port: running.port,
    stop: async () => {
      await running.close(10_000)
      await runtime.dispose()
    }
  }
}
