/**
 * The OTLP exporter the server runs when `OTEL_EXPORTER_OTLP_ENDPOINT` is set: Effect's, for
 * spans (and Effect's metrics and log records, as `Otlp.layerJson` sends them), over OTLP/HTTP
 * with JSON, with its failures said. Effect's exporter retries a failed export 3 times (1 s
 * apart), then drops the batch, sends nothing for 60 s, and reports it only as a debug log
 * (`Disabling exporter for 60 seconds`), below any level a process logs at: a collector that
 * could not be reached (or answered 500) lost every span, and nobody knew.
 *
 * Here each signal's exporter (traces, metrics, logs) runs with that report in view: the first
 * failed export of an outage is one warning naming the URL (never its credentials) and the error,
 * the later ones of the same outage say nothing, and the first export that succeeds after it is
 * one line. An outage is a signal's own: a collector that takes traces but not metrics (404) is one
 * warning, about metrics, and traces still report their own.
 *
 * @since 0.1.0
 */
import { Cause, Effect, Layer, Logger, References, Tracer } from "effect"
import { FetchHttpClient, HttpClient, HttpClientError, HttpClientRequest } from "effect/http"
import { OtlpExporter, OtlpLogger, OtlpMetrics, OtlpSerialization, OtlpTracer } from "effect/observability"
import * as Reason from "./Reason.ts"
import type * as ServerLog from "./ServerLog.ts"

/** What the exporter is given. */
export interface Options {
  /** The collector's base URL (`OTEL_EXPORTER_OTLP_ENDPOINT`); the signals go to `/v1/traces`, `/v1/metrics`, `/v1/logs` below it. */
  readonly endpoint: URL
  /** Where the failures and recoveries are said. */
  readonly say: ServerLog.Say
}

/**
 * How long a stop's last export of each signal may take (Effect's default is 3 s, the whole of the
 * server's `closeMillis`: with the collector down, a stop then raced its own bound, and lost it on a
 * slow host, exiting 1). The three signals' last exports run one after another: with the
 * collector down a stop spends at most 2.25 s on them, within `closeMillis` with room for the
 * store's close. A collector that answers takes each in one request, in milliseconds.
 */
export const flushMillis = 750

/**
 * How long one export waits for the collector's answer (OTLP's own default,
 * `OTEL_EXPORTER_OTLP_TIMEOUT`, 10 s; since server 0.4.8). Effect's exporter gives its client none:
 * a collector that took the connection and never answered (a load balancer with no backend) held
 * each export, and its batch, until the transport's own 300 s, and a new export started every
 * 1 000 spans meanwhile: a review saw the server's memory grow by 90 MB every 5 s under load, 142
 * sockets open to the collector, and no line said why.
 */
export const exportTimeoutMillis = 10_000

/**
 * Exports of one signal waiting for the collector at once, at most (since server 0.4.8). One more
 * fails at once, as a transport error (retried by Effect's exporter, then the signal's outage is
 * said and its exporter rests 60 s): a collector that keeps exports waiting costs at most this many
 * batches of memory per signal, whatever the request rate. A collector that answers takes each in
 * milliseconds, one or two at a time.
 */
export const maxExportsInFlight = 4

/** The signals, each with its path below the endpoint and what an outage loses of it. */
const signals = {
  traces: { path: "/v1/traces", lost: "spans" },
  metrics: { path: "/v1/metrics", lost: "metrics" },
  logs: { path: "/v1/logs", lost: "log records" }
} as const

/** `url` as a line shows it: scheme, host, port and path; never a user name, password, query or fragment. */
export const shown = (url: string): string => {
  try {
    const u = new URL(url)
    return `${u.origin}${u.pathname}`
  } catch {
    return Reason.redact(url)
  }
}

/** Why an export failed, in a few words: the collector's status, or the connection's error (`connect ECONNREFUSED …`). */
export const why = (cause: Cause.Cause<unknown>): string => {
  const error = Cause.squash(cause)
  if (HttpClientError.isHttpClientError(error)) {
    if (error.reason._tag === "StatusCodeError") return `the collector answered HTTP ${error.reason.response.status}`
    // The transport's own error (fetch's, and its cause's), not the client's message, which names the URL again.
    if ("cause" in error.reason && error.reason.cause !== undefined) return Reason.of(error.reason.cause)
  }
  return Reason.of(error)
}

/** One signal's outage: said once when it begins and once when it ends. */
export const watch = (url: string, lost: string, say: ServerLog.Say) => {
  let since: Date | undefined
  return {
    /** An export failed for good (its retries spent): its batch is dropped. */
    failed: (cause: Cause.Cause<unknown>): void => {
      if (since !== undefined) return
      since = new Date()
      say(
        `OTLP export to ${shown(url)} failed (${why(cause)}): ${lost} are dropped until an export succeeds ` +
          `(the exporter tries again after 60 s; a line says when it succeeds)`,
        "warn"
      )
    },
    /** An export was taken by the collector (a 2xx). */
    succeeded: (): void => {
      if (since === undefined) return
      say(`OTLP export to ${shown(url)} succeeds again (${lost} were dropped since ${since.toISOString()})`)
      since = undefined
    }
  }
}

/**
 * `client` with each export bounded: an answer within {@link exportTimeoutMillis}, and at most
 * {@link maxExportsInFlight} exports waiting at once. Either bound is a transport error, whose cause
 * says which (the outage's warning names it).
 */
export const bounded = (client: HttpClient.HttpClient): HttpClient.HttpClient => {
  let waiting = 0
  const refused = (request: HttpClientRequest.HttpClientRequest, why: string) =>
    Effect.fail(new HttpClientError.HttpClientError({ reason: new HttpClientError.TransportError({ request, cause: new Error(why) }) }))
  return HttpClient.transform(client, (response, request) =>
    Effect.suspend(() => {
      if (waiting >= maxExportsInFlight) return refused(request, `${maxExportsInFlight} exports were still waiting for the collector's answer`)
      waiting++
      return response.pipe(
        Effect.timeoutOrElse({
          duration: exportTimeoutMillis,
          orElse: () => refused(request, `the collector did not answer within ${exportTimeoutMillis / 1000} s`)
        }),
        Effect.ensuring(Effect.sync(() => {
          waiting--
        }))
      )
    }))
}

/**
 * `make` (a signal's exporter) run so that what its export loop does is seen: its client's
 * answers (a 2xx is an export that succeeded) and its logs at every level, to a logger of its own
 * (a log with a failure in it is an export given up on), not to the process's loggers. Its client
 * is {@link bounded}.
 */
const watched = <A, E, R>(make: Effect.Effect<A, E, R>, w: ReturnType<typeof watch>): Effect.Effect<A, E, R | HttpClient.HttpClient> =>
  make.pipe(
    Effect.updateService(HttpClient.HttpClient, (client) =>
      HttpClient.tap(bounded(client), (response) =>
        Effect.sync(() => {
          if (response.status >= 200 && response.status < 300) w.succeeded()
        })
      )),
    Effect.provideService(Logger.CurrentLoggers, new Set([Logger.make(({ cause }) => {
      if (Cause.hasFails(cause) || Cause.hasDies(cause)) w.failed(cause)
    })])),
    Effect.provideService(References.MinimumLogLevel, "Debug")
  )

/**
 * The server's tracer, and its exporters of metrics and logs, as `Otlp.layerJson` makes them
 * (one flusher, Effect's defaults), each watched.
 */
export const layer = (options: Options): Layer.Layer<OtlpExporter.Flusher> => {
  const base = HttpClientRequest.get(options.endpoint.href.replace(/\/$/, ""))
  const url = (path: string) => HttpClientRequest.appendUrl(base, path).url
  const resource = { serviceName: "enrollment-server" }
  const on = (signal: keyof typeof signals) => {
    const u = url(signals[signal].path)
    return { url: u, watch: watch(u, signals[signal].lost, options.say) }
  }
  const traces = on("traces")
  const metrics = on("metrics")
  const logs = on("logs")
  return Layer.mergeAll(
    Layer.effect(Tracer.Tracer)(watched(OtlpTracer.make({ url: traces.url, resource, shutdownTimeout: flushMillis }), traces.watch)),
    Layer.effectDiscard(watched(OtlpMetrics.make({ url: metrics.url, resource, shutdownTimeout: flushMillis }), metrics.watch)),
    // Beside the process's loggers (Effect's console logger), as `Otlp.layer` installs it.
    Logger.layer([watched(OtlpLogger.make({ url: logs.url, resource, shutdownTimeout: flushMillis }), logs.watch)], { mergeWithExisting: true })
  ).pipe(
    Layer.provideMerge(OtlpExporter.layerFlusher),
    Layer.provide(OtlpSerialization.layerJson),
    Layer.provide(FetchHttpClient.layer)
  )
}
