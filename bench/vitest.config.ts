import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Temporary files under one directory of the run's own, removed when it ends.
    globalSetup: ["../tools/src/TestTmpdir.ts"],
    // The fault tests start server processes and kill them: one file at a time keeps a 2-core machine predictable.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000
  }
})
