/**
 * Service methods named for tracing at no cost when nobody traces.
 *
 * `Effect.fn("Service.method")` names every call's span, but captures a stack
 * frame and opens a span on every call (several microseconds each, even with
 * the tracer disabled). Services read `References.TracerEnabled` once, when
 * their layer is built, and take their methods from {@link fn}: named spans
 * when tracing is on, plain `Effect.fnUntraced` when it is off.
 *
 * @since 0.1.0
 */
import { Effect, References } from "effect"

/** `Effect.fn(name)` or `Effect.fnUntraced`, by whether tracing is on. */
export type Fn = (name: string) => typeof Effect.fnUntraced

/** The method maker for the current tracing setting, read once when a layer is built. */
export const fn: Effect.Effect<Fn> = Effect.map(
  References.TracerEnabled,
  (enabled): Fn => enabled ? (name) => Effect.fn(name) as unknown as typeof Effect.fnUntraced : () => Effect.fnUntraced
)
