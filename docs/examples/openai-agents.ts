import { Agent, run, tool } from "@openai/agents"
import { withToolfan } from "@toolfan/openai-agents"
import { Scheduler } from "toolfan/promise"
import { z } from "zod"

// The tools, made with the SDK's tool(). `errorFunction: null` lets a thrown error reach toolfan
// (to be retried, then reported); each tool passes `details.signal` on, so a timeout stops its work.
export const search = tool({
  name: "search",
  description: "Search the web",
  parameters: z.object({ query: z.string() }),
  errorFunction: null,
  execute: async ({ query }, _context, details) => {
    const response = await fetch(`https://search.example/?q=${encodeURIComponent(query)}`, { signal: details?.signal ?? null })
    if (!response.ok) throw new Error(`search answered ${response.status}`)
    return JSON.stringify(await response.json())
  }
})

export const fetchPage = tool({
  name: "fetch_page",
  description: "Fetch a web page",
  parameters: z.object({ url: z.string() }),
  errorFunction: null,
  execute: async ({ url }, _context, details) => (await fetch(url, { signal: details?.signal ?? null })).text()
})

export const weather = tool({
  name: "weather",
  description: "The weather in a city",
  parameters: z.object({ city: z.string() }),
  execute: async ({ city }) => `sunny in ${city}`
})

// One scheduler for the whole process: 8 calls at once, 2 of them on the web.
export const scheduler = new Scheduler({ maxConcurrency: 8, groups: { web: 2 } })

// Per-tool policies over the defaults, checked at once (a bad value throws a RangeError naming it).
export const agent = new Agent({
  name: "researcher",
  instructions: "Answer with sources.",
  // let the model ask for several tools in one turn (the SDK then starts them all at once)
  modelSettings: { parallelToolCalls: true },
  tools: withToolfan([search, fetchPage, weather], {
    scheduler,
    defaults: { timeout: 10_000 },
    policies: {
      search: { timeout: 5000, retries: 2, group: "web" },
      fetch_page: { timeout: 3000, group: "web", deadline: 8000 },
      weather: { timeout: 1000, priority: 1 }
    }
  })
})

export const answer = async (question: string) => (await run(agent, question)).finalOutput
