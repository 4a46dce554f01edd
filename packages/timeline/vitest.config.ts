import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "timeline",
    include: ["test/**/*.test.ts"]
  }
})
