import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, References, Tracer } from "effect"
import { Assignments, Configurations, MemoryStore, Paths, Store } from "../src/index.ts"

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
