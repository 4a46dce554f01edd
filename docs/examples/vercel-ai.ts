import { withToolfan } from "@toolfan/vercel-ai"
import { generateText, isStepCount, tool } from "ai"
import { Scheduler } from "toolfan/promise"
import { z } from "zod"

// The tools, as you pass them to generateText / streamText.
export const tools = {
  search: tool({
    description: "Search the web",
    inputSchema: z.object({ query: z.string() }),
    execute: async ({ query }, { abortSignal }) => {
      const response = await fetch(`https://search.example/?q=${encodeURIComponent(query)}`, { signal: abortSignal ?? null })
      if (!response.ok) throw new Error(`search answered ${response.status}`)
      return (await response.json()) as Array<string>
    }
  }),
  fetchPage: tool({
    description: "Fetch a web page as text",
    inputSchema: z.object({ url: z.string() }),
    execute: async ({ url }, { abortSignal }) => (await fetch(url, { signal: abortSignal ?? null })).text()
  }),
  weather: tool({
    description: "Today's weather in a city",
    inputSchema: z.object({ city: z.string() }),
    execute: async ({ city }) => `sunny in ${city}`
  })
}

// One scheduler per process: its caps hold across every request.
// At most 8 tool calls at once, 2 of them searches (group = tool name by default).
export const scheduler = new Scheduler({ maxConcurrency: 8, groups: { search: 2 } })

// The same tools, each call a toolfan task with its tool's policy.
export const scheduledTools = withToolfan(tools, {
  scheduler,
  defaults: { timeout: 10_000 },
  policies: {
    search: { timeout: 5_000, retries: 2 },
    fetchPage: { timeout: 3_000, retries: 1, retryWhile: (e) => !(e instanceof TypeError) },
    weather: { priority: 1 }
  }
})

export const answer = async (question: string, abortSignal?: AbortSignal) => {
  const result = await generateText({
    model: "openai/gpt-5-mini",
    tools: scheduledTools,
    stopWhen: isStepCount(5),
    prompt: question,
    ...(abortSignal === undefined ? {} : { abortSignal })
  })
  return result.text
}
