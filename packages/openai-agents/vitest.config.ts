import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "openai-agents",
    include: ["test/**/*.test.ts"]
  }
})
