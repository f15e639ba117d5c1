import { describe, it } from "@effect/vitest"
import * as MemoryStore from "../../core/src/MemoryStore.ts"
import { behaviour } from "./StoreBehaviour.ts"

// The reference: the adapters' behaviour cases must hold for the memory store first.
describe("MemoryStore (reference)", () => {
  it.layer(MemoryStore.layer)((it) => behaviour(it))
})
