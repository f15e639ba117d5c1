import type { Store } from "@enrollment/core"
import { PostgresStore } from "@enrollment/store-adapter"
import type { Layer } from "effect"
import { describe, it } from "vitest"
import { httpSuite } from "./HttpSuite.ts"

const url = process.env.DATABASE_URL
if (url === undefined || url === "") {
  console.log("HTTP on PostgreSQL skipped: DATABASE_URL is not set")
  describe.skip("HTTP on PostgreSQL", () => it("needs DATABASE_URL", () => {}))
} else {
  const schema = `http_test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 7)}`
  httpSuite("PostgreSQL", () => PostgresStore.layer({ url, schema, maxConnections: 4 }) as Layer.Layer<Store>)
}
