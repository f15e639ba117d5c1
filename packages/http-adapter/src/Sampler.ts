/**
 * Which requests' traces are recorded, with tracing on: OpenTelemetry's samplers, as its SDKs
 * read them from `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG` (since 0.14.0).
 *
 * A request that is not sampled builds no span at all (its route runs with the tracer off), so a
 * low ratio also takes the cost of a span per request off the request path, not only the export's.
 * The decision is made once, for the request's server span; the service and store spans under it
 * follow it.
 *
 * @since 0.14.0
 */
import { Option, type Tracer } from "effect"
import * as Headers from "effect/http/Headers"
import * as HttpTraceContext from "effect/http/HttpTraceContext"
import type { IncomingHttpHeaders } from "node:http"

/**
 * A sampler: the share of traces recorded, and whether a caller's decision (the sampled flag of
 * its `traceparent`, or B3's) is followed when the request continues a trace.
 *
 * @since 0.14.0
 */
export interface Sampler {
  /** A request continuing a caller's trace is sampled as the caller's span was (OpenTelemetry's `parentbased_…`). */
  readonly parentBased: boolean
  /** The share of traces recorded where the caller does not decide, from 0 (none) to 1 (every one). */
  readonly ratio: number
}

/**
 * OpenTelemetry's default, and the server's before samplers were read: a trace the caller
 * continues is sampled as the caller decided, every other is.
 *
 * @since 0.14.0
 */
export const parentBasedAlwaysOn: Sampler = { parentBased: true, ratio: 1 }

/**
 * The values of `OTEL_TRACES_SAMPLER` this server reads (OpenTelemetry's own names; the remote
 * samplers, `jaeger_remote` and `xray`, need a sampling service and are not offered).
 *
 * @since 0.14.0
 */
export const names = [
  "always_on",
  "always_off",
  "traceidratio",
  "parentbased_always_on",
  "parentbased_always_off",
  "parentbased_traceidratio"
] as const

/** The names that read `OTEL_TRACES_SAMPLER_ARG`. */
const takesRatio: ReadonlySet<string> = new Set(["traceidratio", "parentbased_traceidratio"])

/**
 * What `parse` gives: the sampler, and a warning when the argument is set for a sampler that does
 * not read it (OpenTelemetry's SDKs ignore it; a ratio meant for `parentbased_traceidratio` left
 * beside `parentbased_always_on` records every trace, which should not go unseen).
 *
 * @since 0.14.0
 */
export type Parsed =
  | { readonly _tag: "Sampler"; readonly sampler: Sampler; readonly warning: string | undefined }
  | { readonly _tag: "Problem"; readonly problem: string }

/**
 * The sampler that `OTEL_TRACES_SAMPLER` (`name`) and `OTEL_TRACES_SAMPLER_ARG` (`arg`) name.
 * Unset (or empty), the sampler is {@link parentBasedAlwaysOn}, as in OpenTelemetry's SDKs; a ratio
 * sampler without an argument records every trace (its default, 1.0). Where an SDK would fall back
 * to its default on an unknown name or a ratio out of range, this is a problem: a server started
 * with a typo would record every trace, or none, at a volume its operator did not choose.
 *
 * @since 0.14.0
 */
export const parse = (name: string | undefined, arg: string | undefined): Parsed => {
  const given = name === undefined || name === "" ? "parentbased_always_on" : name.toLowerCase()
  if (!(names as ReadonlyArray<string>).includes(given)) {
    return {
      _tag: "Problem",
      problem: `OTEL_TRACES_SAMPLER: expected one of ${names.join(", ")}, got ${JSON.stringify(name?.slice(0, 40))}`
    }
  }
  const hasArg = arg !== undefined && arg !== ""
  const parentBased = given.startsWith("parentbased_")
  if (!takesRatio.has(given)) {
    return {
      _tag: "Sampler",
      sampler: { parentBased, ratio: given.endsWith("always_off") ? 0 : 1 },
      warning: hasArg
        ? `OTEL_TRACES_SAMPLER_ARG is set but not read by the sampler ${given} (only traceidratio and parentbased_traceidratio take a ratio)`
        : undefined
    }
  }
  if (!hasArg) return { _tag: "Sampler", sampler: { parentBased, ratio: 1 }, warning: undefined }
  const ratio = /^(?:\d+(?:\.\d*)?|\.\d+)$/.test(arg) ? Number(arg) : Number.NaN
  if (!(ratio >= 0 && ratio <= 1)) {
    return {
      _tag: "Problem",
      problem: `OTEL_TRACES_SAMPLER_ARG: expected a ratio from 0 to 1 (0.25 records a quarter of the traces) for ${given}, got ${JSON.stringify(arg.slice(0, 40))}`
    }
  }
  return { _tag: "Sampler", sampler: { parentBased, ratio }, warning: undefined }
}

/**
 * Whether a trace is recorded by a sampler of `ratio`, read from its id: OpenTelemetry's rule for
 * `TraceIdRatioBased`, the 56 least significant bits of the id (its last 14 hex digits) read as a
 * number `R`, sampled when `R` is at least the rejection threshold `(1 - ratio) × 2^56`. Every
 * participant of a trace that samples by its id with the same ratio decides alike. An id that is
 * not hexadecimal is not sampled.
 *
 * @since 0.14.0
 */
export const byTraceId = (traceId: string, ratio: number): boolean => {
  if (ratio >= 1) return true
  if (ratio <= 0 || traceId.length < 14) return false
  const low = traceId.slice(-14)
  if (!/^[0-9a-fA-F]{14}$/.test(low)) return false
  return BigInt(`0x${low}`) >= threshold(ratio)
}

const thresholds = new Map<number, bigint>()
/** `(1 - ratio) × 2^56`, rounded, made once per ratio. */
const threshold = (ratio: number): bigint => {
  let t = thresholds.get(ratio)
  if (t === undefined) {
    t = BigInt(Math.round((1 - ratio) * 2 ** 56))
    thresholds.set(ratio, t)
  }
  return t
}

/**
 * Whether a request's trace is recorded: as its caller's span was, for a parent-based sampler and
 * a request that continues a trace (`parent`); otherwise by the trace's id for a request that
 * continues a trace, and at random with probability `ratio` for one that starts a trace (its id is
 * made after this decision, at random too, so the two are alike in distribution).
 *
 * @since 0.14.0
 */
export const sampled = (sampler: Sampler, parent: Tracer.ExternalSpan | undefined, decided = true): boolean => {
  if (parent !== undefined) return sampler.parentBased && decided ? parent.sampled : byTraceId(parent.traceId, sampler.ratio)
  return sampler.ratio >= 1 || (sampler.ratio > 0 && Math.random() < sampler.ratio)
}

/**
 * The caller's span a request continues, from its headers (W3C `traceparent`, then B3's `b3`, then
 * `x-b3-*`), and whether the caller decided its sampling (since 0.14.0):
 * - A `traceparent` of a version after `00` is read as W3C Trace Context says a receiver reads one:
 *   its first 55 characters as version `00`, when the rest is `-…` (before, it was refused, and the
 *   request started a trace of its own). Version `ff` is invalid; a version `00` header must be 55
 *   characters exactly.
 * - B3 without a sampling state (`b3: {trace}-{span}`, or `x-b3-*` without `x-b3-sampled` and
 *   `x-b3-flags`) defers the decision to the receiver (B3's rule): `decided` is false, and
 *   {@link sampled} decides by the trace's id, as for a trace that is not parent-based (Effect's
 *   reading takes it as sampled).
 *
 * @since 0.14.0
 */
export const callerOf = (headers: IncomingHttpHeaders): { readonly span: Tracer.ExternalSpan; readonly decided: boolean } | undefined => {
  const record = headers as Record<string, string>
  const traceparent = headers.traceparent
  const read = typeof traceparent === "string" && laterVersion.test(traceparent)
    ? { ...record, traceparent: `00${traceparent.slice(2, 55)}` }
    : record
  // Effect's `fromHeaders` order, each header form read once.
  const h = Headers.fromRecordUnsafe(read)
  const w3c = HttpTraceContext.w3c(h)
  if (Option.isSome(w3c)) return { span: w3c.value, decided: true }
  const b3 = Option.orElse(HttpTraceContext.b3(h), () => HttpTraceContext.xb3(h))
  return Option.isNone(b3) ? undefined : { span: b3.value, decided: b3Decided(headers) }
}

/** A `traceparent` of a later version than `00` (not `ff`) that a receiver reads as `00`: 55 characters, then nothing or `-…`. */
const laterVersion = /^(?!00|ff)[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}(?:-.*)?$/

/** Whether the B3 headers Effect reads carry a sampling state (the `b3` header's third field; `x-b3-sampled` or `x-b3-flags`). */
const b3Decided = (headers: IncomingHttpHeaders): boolean => {
  const single = headers.b3
  if (typeof single === "string") {
    const parts = single.split("-")
    // The header Effect reads when it holds both ids; otherwise the multi-header form is read.
    if (parts.length >= 2 && /^(?:[0-9a-f]{16}|[0-9a-f]{32})$/.test(parts[0]!) && /^[0-9a-f]{16}$/.test(parts[1]!)) {
      return parts.length > 2 && parts[2] !== ""
    }
  }
  return headers["x-b3-sampled"] !== undefined || headers["x-b3-flags"] !== undefined
}

/**
 * Whether `sampler` records no trace at all, whatever the caller decided (`always_off`): a server
 * may then turn its tracer off altogether, spans outside a request too.
 *
 * @since 0.14.0
 */
export const recordsNone = (sampler: Sampler): boolean => !sampler.parentBased && sampler.ratio <= 0
