import { MemoryStore } from "@enrollment/core"
import { httpSuite } from "./HttpSuite.ts"

httpSuite("the memory store", () => MemoryStore.layer)
