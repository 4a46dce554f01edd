import { Agent, run, tool } from "@openai/agents"
import { withToolfan } from "@toolfan/openai-agents"
import { Scheduler } from "toolfan/promise"
import { z } from "zod"

const search = tool({
  name: "search",
  description: "Search the web",
  parameters: z.object({ query: z.string() }),
  errorFunction: null, // let failures reach toolfan: retried, then told to the model
  execute: async ({ query }, _context, details) =>
    (await fetch(`https://search.example/?q=${encodeURIComponent(query)}`, { signal: details?.signal ?? null })).text()
})

// one scheduler for the process: its caps hold across every run of every agent
const scheduler = new Scheduler({ maxConcurrency: 8, groups: { web: 2 } })

const agent = new Agent({
  name: "researcher",
  modelSettings: { parallelToolCalls: true },
  tools: withToolfan([search], {
    scheduler,
    policies: { search: { timeout: 5000, retries: 2, group: "web" } }
  })
})

console.log((await run(agent, "What changed in Node 24?")).finalOutput)
