import { withToolfan } from "@toolfan/vercel-ai"
import { generateText, isStepCount, tool } from "ai"
import { Scheduler } from "toolfan/promise"
import { z } from "zod"

const search = tool({
  description: "Search the web",
  inputSchema: z.object({ query: z.string() }),
  execute: async ({ query }, { abortSignal }) =>
    (await fetch(`https://search.example/?q=${encodeURIComponent(query)}`, { signal: abortSignal ?? null })).json()
})

// One scheduler per process: 8 tool calls at once across all requests, 2 of them searches.
const scheduler = new Scheduler({ maxConcurrency: 8, groups: { search: 2 } })

export const answer = (prompt: string, abortSignal: AbortSignal) =>
  generateText({
    model: "openai/gpt-5-mini",
    tools: withToolfan({ search }, { scheduler, policies: { search: { timeout: 5_000, retries: 2 } } }),
    stopWhen: isStepCount(5),
    prompt,
    abortSignal
  })
