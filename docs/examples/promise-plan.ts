import { Scheduler, Task } from "toolfan/promise"

async function search(query: string): Promise<Array<string>> {
  return [`https://example.com/${query}/1`, `https://example.com/${query}/2`]
}
async function fetchPage(url: string, signal?: AbortSignal): Promise<string> {
  signal?.throwIfAborted()
  return `contents of ${url}`
}

const scheduler = new Scheduler({ maxConcurrency: 4 })

const results = await scheduler.runPlan({
  // a Task without dependencies, named as its key
  search: new Task("search", search, { args: ["agents"], timeout: 5_000 }),
  weather: { run: () => "sunny" },
  // a step: it starts as soon as `search` has succeeded, with its value
  fetch: {
    dependencies: ["search"],
    run: (values, signal) => fetchPage((values.search as Array<string>)[0]!, signal),
    timeout: 3_000,
    retries: 1
  },
  summary: {
    dependencies: ["fetch", "weather"],
    run: ({ fetch, weather }) => `${fetch} (weather: ${weather})`
  }
})

console.log(results.summary.value) // contents of https://example.com/agents/1 (weather: sunny)
// had `search` failed: results.fetch.error is TaskSkipped (dependency "search"), and so is summary's
await scheduler.close()
