/**
 * What a failing conformance case says: the suite names the store call, what it was to do and
 * what it did instead, so that an adapter's author reads the fix from the failure.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Layer } from "effect"
import { Errors, MemoryStore, Store } from "../src/index.ts"
import { StoreConformance } from "../src/testing/index.ts"

/** The message a case fails with, or "passed". */
const outcome = (self: Effect.Effect<unknown, unknown>) =>
  Effect.map(Effect.exit(self), (exit) => Exit.isSuccess(exit) ? "passed" : (Cause.squash(exit.cause) as Error).message)

/** The memory store with some of its methods replaced. */
const patched = (f: (store: Store["Service"]) => Store["Service"]) =>
  Layer.effect(Store, Effect.map(MemoryStore.make, f))

/**
 * Runs the suite's case `name` on `layer` as a test runner would, with `context` as the test's
 * context; answers its error's message, or "passed".
 */
const runCase = (name: string, layer: Layer.Layer<Store>, context?: StoreConformance.RunnerContext): Promise<string> => {
  let body: ((context?: StoreConformance.RunnerContext) => Promise<void>) | undefined
  StoreConformance.suite("s", layer, {
    describe: (_, f) => f(),
    it: (n, f) => {
      if (n === name) body = f
    }
  })
  return body!(context).then(() => "passed", (e: Error) => e.message)
}

describe("StoreConformance's messages", () => {
  it.effect("a call that was to be refused and succeeded names the call, the refusal and the value", () =>
    Effect.gen(function*() {
      const expected = new Errors.PreconditionFailed({ entity: "user", id: "u1" })
      assert.strictEqual(
        yield* outcome(StoreConformance.refuses("users.remove with a stale check", expected, Effect.succeed(true))),
        "expected users.remove with a stale check to fail with PreconditionFailed of user 'u1', it succeeded with true"
      )
      assert.strictEqual(
        yield* outcome(StoreConformance.refuses("groups.addMember", expected, Effect.void)),
        "expected groups.addMember to fail with PreconditionFailed of user 'u1', it succeeded with undefined"
      )
    }))

  it.effect("a refusal of another name, tag or shape says what it was", () =>
    Effect.gen(function*() {
      const expected = new Errors.EntityAlreadyExists({ entity: "user", id: "x2" })
      const refusedAs = (e: unknown) => outcome(StoreConformance.refuses("users.insert", expected, Effect.fail(e)))
      assert.strictEqual(
        yield* refusedAs(new Errors.EntityAlreadyExists({ entity: "thing", id: "x2" })),
        "expected users.insert to fail with EntityAlreadyExists of user 'x2', it failed with EntityAlreadyExists of thing 'x2'"
      )
      assert.strictEqual(
        yield* refusedAs(new Errors.MemberAlreadyPresent({ groupId: "g", memberId: "x2" })),
        "expected users.insert to fail with EntityAlreadyExists of user 'x2', it failed with MemberAlreadyPresent of 'x2' in group 'g'"
      )
      assert.strictEqual(
        yield* refusedAs(new Errors.StoreUnavailable({ cause: "down" })),
        "expected users.insert to fail with EntityAlreadyExists of user 'x2', it failed with StoreUnavailable: the store is unavailable"
      )
      assert.strictEqual(yield* refusedAs({ no: "tag" }), "expected users.insert to fail with EntityAlreadyExists of user 'x2', it failed with {\"no\":\"tag\"}")
      assert.strictEqual(yield* refusedAs(expected), "passed")
    }))

  it.effect("failure answers the failure, and a success cut to 200 characters", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* StoreConformance.failure("x", "its refusal", Effect.fail("refused")), "refused")
      const message = yield* outcome(StoreConformance.failure("x", "its refusal", Effect.succeed("a".repeat(300))))
      assert.strictEqual(message, `expected x to fail with its refusal, it succeeded with "${"a".repeat(199)}…`)
      const cyclic: Record<string, unknown> = {}
      cyclic.self = cyclic
      assert.strictEqual(
        yield* outcome(StoreConformance.failure("x", "its refusal", Effect.succeed(cyclic))),
        "expected x to fail with its refusal, it succeeded with [object Object]"
      )
    }))

  it("a store that names a refusal otherwise fails the case that provokes it, saying so", async () => {
    const thing = patched((s) => ({
      ...s,
      configurations: {
        ...s.configurations,
        insert: (t, c) =>
          Effect.catchTag(s.configurations.insert(t, c), "EntityAlreadyExists", (e) =>
            Effect.fail(new Errors.EntityAlreadyExists({ entity: "thing", id: e.id })))
      }
    }))
    assert.strictEqual(
      await runCase("refuses a second insert with the same id and keeps the first", thing),
      "expected configurations.insert of a taken id to fail with EntityAlreadyExists of deviceEnrollmentConfiguration 'c1', it failed with EntityAlreadyExists of thing 'c1'"
    )
    assert.strictEqual(await runCase("refuses a second insert with the same id and keeps the first", MemoryStore.layer), "passed")
  })

  it("a store whose removal ignores its check fails with the call and what it answered", async () => {
    const ignoresChecks = patched((s) => ({ ...s, users: { ...s.users, remove: (t, id) => s.users.remove(t, id) } }))
    assert.strictEqual(
      await runCase("remove with a check removes only what passes it, on the value stored at the removal (a change since the value was read refuses it)", ignoresChecks),
      "expected users.remove with a stale check to fail with PreconditionFailed of user 'u1', it succeeded with true"
    )
  })

  it("a store whose replacement ignores its configuration's check (a store written for 0.15) fails the case, naming the call", async () => {
    const name = "replace with a check replaces only when the configuration passes it, on the value stored at the replacement (since 0.16.0)"
    const ignoresChecks = patched((s) => ({ ...s, assignments: { ...s.assignments, replace: (t, c, values) => s.assignments.replace(t, c, values) } }))
    assert.strictEqual(
      await runCase(name, ignoresChecks),
      "expected assignments.replace with a stale check to fail with PreconditionFailed of deviceEnrollmentConfiguration 'c', it succeeded with undefined"
    )
    assert.strictEqual(await runCase(name, MemoryStore.layer), "passed")
  })

  it("a store call that fails where the case expected a success fails the case naming the failure", async () => {
    const down = patched((s) => ({
      ...s,
      users: { ...s.users, insert: () => Effect.fail(new Errors.StoreUnavailable({ cause: "connection reset" })) }
    }))
    assert.strictEqual(
      await runCase("refuses a second insert with the same id and keeps the first", down),
      "a store call the case expected to succeed (or the layer) failed with StoreUnavailable: the store is unavailable"
    )
  })

  it("a case about a method the store does not offer is skipped saying which, and runs where it is offered", async () => {
    const transitive = "transitiveGroupsOf, where offered, answers what walking groupsOf answers (nested, cyclic and removed groups), and memberOf pages the same"
    const notes: Array<string | undefined> = []
    const context = { skip: (note?: string) => void notes.push(note) }
    const without = patched((s) => ({ ...s, groups: { ...s.groups, transitiveGroupsOf: undefined } }))
    assert.strictEqual(await runCase(transitive, without, context), "passed")
    assert.deepStrictEqual(notes, ["the store does not offer groups.transitiveGroupsOf"])
    // a runner with no context (or none with skip) has it pass, as before 0.13.0
    assert.strictEqual(await runCase(transitive, without), "passed")
    // offered, the case runs its checks: a walk that answers nothing fails it, and skips nothing
    const wrong = patched((s) => ({
      ...s,
      groups: { ...s.groups, transitiveGroupsOf: () => Effect.succeed([]) }
    }))
    assert.notStrictEqual(await runCase(transitive, wrong, context), "passed")
    assert.strictEqual(notes.length, 1)
  })

  it("gives its runner bodies that declare no parameter (Mocha and Jest wait for a `done` of a body that declares one)", () => {
    const lengths: Array<number> = []
    StoreConformance.suite("s", MemoryStore.layer, { describe: (_, f) => f(), it: (_, body) => void lengths.push(body.length) })
    assert.isAbove(lengths.length, 40)
    assert.deepStrictEqual([...new Set(lengths)], [0])
  })
})
