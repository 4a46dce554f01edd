import { describe, expect, it } from "@effect/vitest"
import { withToolfan } from "@toolfan/vercel-ai"
import { generateText, isStepCount, tool } from "ai"
import { MockLanguageModelV4 } from "ai/test"
import { Scheduler } from "toolfan/promise"
import { z } from "zod"

const usage = {
  inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 },
  outputTokens: { total: 1, text: 1, reasoning: 0 }
}

// A fake model: step 1 calls `search` four times, step 2 answers.
const fakeModel = () => {
  let steps = 0
  return new MockLanguageModelV4({
    doGenerate: async () =>
      ++steps === 1
        ? {
          content: ["a", "b", "c", "d"].map((q, i) => ({
            type: "tool-call" as const,
            toolCallId: `c${i}`,
            toolName: "search",
            input: JSON.stringify({ query: q })
          })),
          finishReason: { unified: "tool-calls", raw: undefined },
          usage,
          warnings: []
        }
        : { content: [{ type: "text", text: "done" }], finishReason: { unified: "stop", raw: undefined }, usage, warnings: [] }
  })
}

describe("search tool", () => {
  it("runs at most 2 calls at once", async () => {
    let inFlight = 0
    let most = 0
    const search = tool({
      inputSchema: z.object({ query: z.string() }),
      execute: async ({ query }) => {
        most = Math.max(most, ++inFlight)
        await new Promise((resolve) => setTimeout(resolve, 10))
        inFlight--
        return `${query}: 3 hits`
      }
    })
    const scheduler = new Scheduler({ maxConcurrency: 2 })
    const result = await generateText({
      model: fakeModel(),
      tools: withToolfan({ search }, { scheduler }),
      prompt: "go",
      stopWhen: isStepCount(2)
    })
    expect(most).toBe(2) // assert what ran at once, not how long it took
    expect(result.steps[0]!.toolResults).toHaveLength(4)
    await scheduler.close()
  })
})
