import { Overload, Scheduler, Task } from "toolfan/promise"

// With a client that throws its HTTP errors with `status` and `headers` (the OpenAI and Anthropic SDKs do), a 429
// is recognised as it is; with plain fetch, say so yourself.
const complete = async (prompt: string, signal: AbortSignal) => {
  const response = await fetch("https://api.example.com/v1/complete", { method: "POST", body: prompt, signal })
  if (response.status === 429) {
    throw new Overload.Overloaded({ reason: "429", retryAfterMs: Overload.retryAfterMs(response.headers) })
  }
  return response.text()
}

const scheduler = new Scheduler({ maxConcurrency: 8, groups: { llm: 4 } })
const results = await scheduler.run(
  ["a", "b", "c"].map((p) => new Task(`chat ${p}`, complete, { args: [p], group: "llm", retries: 3, maxRetryAfter: 30_000 }))
)
console.log(results.map((r) => (r.ok ? r.value : r.error.message)))
await scheduler.close()
