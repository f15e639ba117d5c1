import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Temporary files under one directory of the run's own, removed when it ends.
    globalSetup: ["../../tools/src/TestTmpdir.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})
