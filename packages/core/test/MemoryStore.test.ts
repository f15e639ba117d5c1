import { describe, it } from "@effect/vitest"
import { MemoryStore } from "../src/index.ts"
import { StoreConformance } from "../src/testing/index.ts"

StoreConformance.suite("MemoryStore conforms to the store port", MemoryStore.layer, {
  describe,
  it: (name, body, timeout) => it(name, body, timeout)
})
