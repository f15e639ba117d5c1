import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Layer, References, Tracer } from "effect"
import { Assignments, Configurations, Errors, MemoryStore, Paths, Store, Traced } from "../src/index.ts"

/**
 * Runs a configuration create and an assignment list, and returns the span names a
 * tracer saw and the stack frame names the store saw (Effect.fn pushes one per call).
 */
const observe = (tracing: boolean) =>
  Effect.gen(function*() {
    const spans: Array<string> = []
    const frames: Array<string | undefined> = []
    const tracer = Tracer.make({
      span(options) {
        spans.push(options.name)
        return new Tracer.NativeSpan(options)
      }
    })
    const observedStore = Layer.effect(
      Store,
      Effect.map(MemoryStore.make, (store) =>
        Store.of({
          ...store,
          configurations: {
            ...store.configurations,
            get: (t, id) =>
              Effect.flatMap(References.CurrentStackFrame, (frame) => {
                frames.push(frame?.name)
                return store.configurations.get(t, id)
              })
          }
        }))
    )
    const services = Layer.mergeAll(Assignments.layer, Configurations.layer).pipe(
      Layer.provideMerge(observedStore),
      Layer.provide(Layer.succeed(References.TracerEnabled, tracing))
    )
    yield* Effect.gen(function*() {
      yield* (yield* Configurations).create("t", { "@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration", id: "c" })
      yield* (yield* Assignments).list("t", Paths.tenant, "c", { limit: 10 })
    }).pipe(Effect.provide(services), Effect.withTracer(tracer), Effect.provideService(References.TracerEnabled, tracing))
    return { spans, frames }
  })

describe("service tracing", () => {
  it.effect("names a span per service method when tracing is on", () =>
    Effect.gen(function*() {
      const { frames, spans } = yield* observe(true)
      assert.includeMembers(spans, ["Configurations.create", "Assignments.list"])
      assert.deepStrictEqual(frames, ["Assignments.list"])
    }))

  it.effect("neither opens spans nor records stack frames when tracing is off", () =>
    Effect.gen(function*() {
      const { frames, spans } = yield* observe(false)
      assert.deepStrictEqual(spans, [])
      assert.deepStrictEqual(frames, [undefined])
    }))
})

describe("a traced method's span", () => {
  /** Runs `method` made by `Traced.fn` with tracing on; answers its span. */
  const spanOf = (body: () => Effect.Effect<unknown, unknown>) =>
    Effect.gen(function*() {
      const spans: Array<Tracer.Span> = []
      const tracer = Tracer.make({
        span(options) {
          const span = new Tracer.NativeSpan(options)
          spans.push(span)
          return span
        }
      })
      yield* Effect.gen(function*() {
        const fn = yield* Traced.fn
        const method = fn("Service.method")(function*() {
          return yield* body()
        })
        yield* Effect.exit(method())
      }).pipe(Effect.withTracer(tracer), Effect.provideService(References.TracerEnabled, true))
      assert.deepStrictEqual(spans.map((x) => x.name), ["Service.method"])
      const span = spans[0]!
      assert.strictEqual(span.status._tag, "Ended")
      return { span, exit: span.status._tag === "Ended" ? span.status.exit : Exit.void }
    })

  it.effect("ends a refusal of the caller's request as an outcome, naming it; a store unavailable, a defect and an interruption as errors", () =>
    Effect.gen(function*() {
      const refused = yield* spanOf(() => Effect.fail(new Errors.EntityNotFound({ entity: "user", id: "u" })))
      assert.isTrue(Exit.isSuccess(refused.exit))
      assert.strictEqual(refused.span.attributes.get("enrollment.refusal"), "EntityNotFound")
      const invalid = yield* spanOf(() => Effect.fail(new Errors.PreconditionFailed({ entity: "user", id: "u" })))
      assert.isTrue(Exit.isSuccess(invalid.exit))
      assert.strictEqual(invalid.span.attributes.get("enrollment.refusal"), "PreconditionFailed")
      const unavailable = yield* spanOf(() => Effect.fail(new Errors.StoreUnavailable({ cause: "down" })))
      assert.isTrue(Exit.isFailure(unavailable.exit))
      assert.isFalse(unavailable.span.attributes.has("enrollment.refusal"))
      const defect = yield* spanOf(() => Effect.die(new Error("bug")))
      assert.isTrue(Exit.isFailure(defect.exit))
      // An interruption alone would be OpenTelemetry's "unset" status (Effect's exporter maps it so):
      // the span ends as an error instead, and still says it was interrupted (since 0.15.0).
      const interrupted = yield* spanOf(() => Effect.interrupt)
      assert.isTrue(Exit.isFailure(interrupted.exit))
      assert.isFalse(Exit.isFailure(interrupted.exit) && Cause.hasInterruptsOnly(interrupted.exit.cause))
      assert.strictEqual(interrupted.span.attributes.get("effect.fiber.interrupted"), true)
      const ok = yield* spanOf(() => Effect.succeed(1))
      assert.isTrue(Exit.isSuccess(ok.exit))
    }))
})
