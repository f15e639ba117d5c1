import { describe, it } from "@effect/vitest"
import { MemoryStore } from "@enrollment/core"
import { behaviour } from "./StoreBehaviour.ts"

// The reference: the adapters' behaviour cases must hold for the memory store first.
describe("MemoryStore (reference)", () => {
  it.layer(MemoryStore.layer)((it) => behaviour(it))
})
