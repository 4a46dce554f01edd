import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "toolfan",
    include: ["test/**/*.test.ts"]
  }
})
