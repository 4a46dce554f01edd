import { Agent, OpenAIResponsesModel, run, tool } from "@openai/agents"
import { describe, expect, it } from "@effect/vitest"
import OpenAI from "openai"
import { Scheduler } from "toolfan/promise"
import { z } from "zod"
import { withToolfan } from "../src/index.js"
import { sleep, Tracker } from "./helpers.js"

const usage = {
  input_tokens: 1,
  output_tokens: 1,
  total_tokens: 2,
  input_tokens_details: { cached_tokens: 0 },
  output_tokens_details: { reasoning_tokens: 0 }
}

/**
 * A fake Responses API behind the real `openai` client (offline): the first
 * request gets three `search` calls, the second a message listing the tool
 * outputs it was sent. The request bodies are kept in `requests`.
 */
const fakeResponsesApi = (requests: Array<Record<string, unknown>>): typeof fetch => {
  let turn = 0
  return async (_url, init) => {
    const body = JSON.parse(String(init?.body)) as { input: Array<{ type: string; output?: unknown }> }
    requests.push(body)
    turn++
    const output = turn === 1
      ? ["a", "b", "c"].map((q, i) => ({
        type: "function_call",
        id: `fc${i}`,
        call_id: `c${i}`,
        name: "search",
        arguments: JSON.stringify({ q }),
        status: "completed"
      }))
      : [{
        type: "message",
        id: "m1",
        role: "assistant",
        status: "completed",
        content: [{
          type: "output_text",
          text: body.input.filter((item) => item.type === "function_call_output").map((item) => item.output).join(","),
          annotations: []
        }]
      }]
    const response = { id: `r${turn}`, object: "response", created_at: 0, model: "gpt-test", status: "completed", output, usage }
    return new Response(JSON.stringify(response), { status: 200, headers: { "content-type": "application/json" } })
  }
}

describe("withToolfan on the SDK's OpenAIResponsesModel", () => {
  it("run() - the real openai client's tool calls run under the scheduler's cap", async () => {
    const tracker = new Tracker()
    const search = tool({
      name: "search",
      description: "search",
      parameters: z.object({ q: z.string() }),
      execute: async ({ q }) => {
        tracker.start(q)
        await sleep(20)
        tracker.end(q)
        return `r:${q}`
      }
    })
    const scheduler = new Scheduler({ maxConcurrency: 2 })
    const requests: Array<Record<string, unknown>> = []
    const client = new OpenAI({ apiKey: "test", fetch: fakeResponsesApi(requests) })
    const agent = new Agent({
      name: "researcher",
      model: new OpenAIResponsesModel(client, "gpt-test"),
      modelSettings: { parallelToolCalls: true },
      tools: withToolfan([search], { scheduler })
    })
    const result = await run(agent, "go")
    await scheduler.close()
    expect(result.finalOutput).toBe("r:a,r:b,r:c")
    expect(tracker.maxActive).toBe(2)
    // modelSettings.parallelToolCalls is sent as the API's parallel_tool_calls (left out when unset)
    expect(requests.map((r) => r.parallel_tool_calls)).toEqual([true, true])
  })
})
