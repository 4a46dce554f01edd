import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    projects: ["packages/*/vitest.config.ts"],
    // Most of the suite's time is real-time waiting (Redis restarts, worker processes, timeouts): with vitest's
    // default on 2 cores (one worker) it took ~185 s, with 3 workers ~70 s (same tests, all passing)
    maxWorkers: 3,
    minWorkers: 1
  }
})
