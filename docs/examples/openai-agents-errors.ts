import { Agent, tool } from "@openai/agents"
import { withToolfan } from "@toolfan/openai-agents"
import { Scheduler } from "toolfan/promise"
import { z } from "zod"
import { search } from "./openai-agents.js"

const scheduler = new Scheduler({ maxConcurrency: 8 })

// What the model reads when a call ends without a value: by default the TaskError's message,
// e.g. `task "search" timed out after 5s; raise its timeout or make the tool answer sooner`.
// An errorFunction chooses another text (or value) from the TaskError.
export const agent = new Agent({
  name: "researcher",
  tools: withToolfan([search], {
    scheduler,
    policies: { search: { timeout: 5000, retries: 2 } },
    errorFunction: (_context, error) =>
      error._tag === "TaskTimedOut"
        ? "The search is slow right now: answer from what you know, and say so."
        : `The search failed (${error.message}).`
  })
})

// A tool with an output schema keeps its contract: its own errorFunction gives a fallback that
// matches the schema (without one, a failed call fails the run, as the SDK does for such tools).
export const price = tool({
  name: "price",
  description: "The price of a product",
  parameters: z.object({ sku: z.string() }),
  outputSchema: z.object({ price: z.number().nullable(), note: z.string() }),
  errorFunction: (_context, error) => ({ price: null, note: `no price: ${String(error)}` }),
  execute: async ({ sku }, _context, details) => {
    const response = await fetch(`https://prices.example/${sku}`, { signal: details?.signal ?? null })
    return (await response.json()) as { price: number; note: string }
  }
})

export const shop = new Agent({ name: "shop", tools: withToolfan([price], { scheduler, defaults: { timeout: 2000 } }) })
