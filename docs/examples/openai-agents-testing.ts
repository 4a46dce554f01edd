import { Agent, run, setTracingDisabled, tool } from "@openai/agents"
import { assistantMessage, functionCall, modelResponder, ScriptedModel } from "@openai/agents/testing"
import { withToolfan } from "@toolfan/openai-agents"
import { Scheduler } from "toolfan/promise"
import { describe, expect, it } from "vitest"
import { z } from "zod"

setTracingDisabled(true) // offline: no trace export

// Fake tools: the page never answers; the weather answers at once.
const fetchPage = tool({
  name: "fetch_page",
  description: "Fetch a web page",
  parameters: z.object({ url: z.string() }),
  execute: () => new Promise<string>(() => {})
})
const weather = tool({
  name: "weather",
  description: "The weather in a city",
  parameters: z.object({ city: z.string() }),
  execute: async ({ city }) => `sunny in ${city}`
})

describe("research agent", () => {
  it("goes on when a tool times out, and the model reads why", async () => {
    // The SDK's scripted model: first two tool calls, then an answer quoting the tool outputs it was given.
    const model = new ScriptedModel([
      [
        functionCall("fetch_page", { url: "https://example.com" }, { callId: "c1" }),
        functionCall("weather", { city: "Lisbon" }, { callId: "c2" })
      ],
      modelResponder((call) => {
        const input = typeof call.request.input === "string" ? [] : call.request.input
        const outputs = input.flatMap((item) => item.type === "function_call_result" ? [JSON.stringify(item.output)] : [])
        return [assistantMessage(outputs.join("\n"))]
      })
    ])
    const scheduler = new Scheduler({ maxConcurrency: 4 })
    const agent = new Agent({
      name: "researcher",
      model,
      tools: withToolfan([fetchPage, weather], { scheduler, policies: { fetch_page: { timeout: 50 } } })
    })

    const result = await run(agent, "Plan a day in Lisbon")
    await scheduler.close()

    expect(result.finalOutput).toContain("task \\\"fetch_page\\\" timed out after 50ms")
    expect(result.finalOutput).toContain("sunny in Lisbon")
  })
})
