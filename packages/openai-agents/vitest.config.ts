import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "openai-agents",
    // the guide's test example runs too (it imports the built package: `npx tsc -b` first)
    include: ["test/**/*.test.ts", "../../docs/examples/openai-agents-testing.ts"]
  }
})
