/**
 * Service methods named for tracing at no cost when nobody traces.
 *
 * `Effect.fn("Service.method")` names every call's span, but captures a stack
 * frame and opens a span on every call (several microseconds each, even with
 * the tracer disabled). Services read `References.TracerEnabled` once, when
 * their layer is built, and take their methods from {@link fn}: named spans
 * when tracing is on, plain `Effect.fnUntraced` when it is off.
 *
 * A call that ends in a refusal of the caller's request (a typed failure: not found, invalid
 * input, a precondition, a conflict) ends its span as an outcome, not an error, with the
 * refusal's tag as `enrollment.refusal` (since 0.13.0): it is the client's, as a 4xx is in
 * OpenTelemetry's HTTP conventions, and a trace whose spans were errors for every 404 was shown
 * as failed by trace viewers. A store that is unavailable, a defect and an interruption are
 * errors, as before.
 *
 * @since 0.1.0
 */
import { Cause, Clock, Effect, Exit, References } from "effect"

/** `Effect.fn(name)` or `Effect.fnUntraced`, by whether tracing is on. */
export type Fn = (name: string) => typeof Effect.fnUntraced

/** A typed failure that is the caller's: any but a store that is unavailable (a server fault, a 503). */
const refusalOf = (exit: Exit.Exit<unknown, unknown>): string | undefined => {
  if (Exit.isSuccess(exit)) return undefined
  const failure = exit.cause.reasons.find(Cause.isFailReason)
  if (failure === undefined || exit.cause.reasons.some((r) => !Cause.isFailReason(r))) return undefined
  const tag = (failure.error as { readonly _tag?: unknown } | null)?._tag
  return typeof tag === "string" && tag !== "StoreUnavailable" ? tag : undefined
}

/**
 * How a call interrupted before it ended (a deadline's 503, a readiness check past its bound) ends
 * its span: an error naming the interruption (since 0.15.0). An exit that is an interruption alone
 * would end it with no status (OpenTelemetry's "unset"), and a trace would show the calls a deadline
 * cut short as if they had succeeded under a failed request.
 */
const interruptedExit: Exit.Exit<never, Error> = Exit.die(new Error("interrupted before it ended (a deadline, or the request abandoned)"))

const interruptedOnly = (exit: Exit.Exit<unknown, unknown>): boolean => Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause)

/** `effect` in a span named `name`, ended with its exit, or as an outcome for a refusal. */
const spanned = <A, E, R>(name: string, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(Effect.makeSpan(name), (span) =>
    effect.pipe(
      Effect.withParentSpan(span),
      Effect.onExit((exit) =>
        Effect.flatMap(Clock.currentTimeNanos, (now) =>
          Effect.sync(() => {
            const refusal = refusalOf(exit)
            if (refusal !== undefined) span.attribute("enrollment.refusal", refusal)
            if (refusal !== undefined) return span.end(now, Exit.void)
            if (!interruptedOnly(exit)) return span.end(now, exit)
            // Told as Effect's OTLP exporter tells an interruption, besides the error.
            span.attribute("effect.fiber.interrupted", true)
            span.end(now, interruptedExit)
          })
        )
      )
    ))

/** `Effect.fnUntraced(body, …)` whose calls each run in a span named `name` (see the module). */
const named = (name: string): typeof Effect.fnUntraced =>
  ((body: never, ...pipeables: Array<never>) => {
    const untraced = (Effect.fnUntraced as (...a: Array<unknown>) => (...args: Array<unknown>) => Effect.Effect<unknown, unknown, unknown>)(
      body,
      ...pipeables
    )
    return function(this: unknown, ...args: Array<unknown>) {
      return spanned(name, untraced.apply(this, args))
    }
  }) as unknown as typeof Effect.fnUntraced

/** The method maker for the current tracing setting, read once when a layer is built. */
export const fn: Effect.Effect<Fn> = Effect.map(
  References.TracerEnabled,
  (enabled): Fn => enabled ? named : () => Effect.fnUntraced
)
