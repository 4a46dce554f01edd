import { Scheduler } from "toolfan/promise"

const scheduler = new Scheduler({ maxConcurrency: 8 })

// A model's plan as an async iterable of calls (e.g. parsed from its streamed response).
async function* plan() {
  yield { id: "search", tool: "search", args: { query: "lisbon" } }
  yield { id: "page", tool: "fetch_page", args: { url: "$search.0" } }
}

const results = await scheduler.runCalls(plan(), {
  search: {
    run: async ({ query }: { query: string }, signal: AbortSignal) => {
      const response = await fetch(`https://example.com/search?q=${query}`, { signal })
      return (await response.json()) as Array<string>
    },
    timeout: 5000,
    retries: 2
  },
  fetch_page: {
    // a function that returns the arguments or throws (a zod schema's `parse` fits); an effect/Schema works too
    parameters: (args: unknown) => {
      const url = (args as { url?: unknown }).url
      if (typeof url !== "string") throw new TypeError(`url: expected a string, got ${typeof url}`)
      return { url }
    },
    run: async ({ url }: { url: string }, signal: AbortSignal) => (await fetch(url, { signal })).text(),
    timeout: 3000
  }
}, { deadline: 30_000 })

for (const r of results) console.log(r.name, r.ok ? "ok" : r.error?.message)
await scheduler.close()
