import { Scheduler, Task } from "toolfan/promise"
import { RedisLimit } from "@toolfan/redis"

// The Promise API takes the same limits.
const scheduler = new Scheduler({
  maxConcurrency: 16,
  groups: { search: RedisLimit.concurrency({ key: "search", max: 8, onUnavailable: "wait" }) }
})

const search = async (query: string, signal: AbortSignal) => {
  const response = await fetch(`https://search.example/?q=${encodeURIComponent(query)}`, { signal })
  return response.json()
}

const results = await scheduler.run(
  ["agents", "leases"].map((q) => new Task(`search:${q}`, search, { args: [q], group: "search", timeout: 5000 })),
  { deadline: 30_000 } // "wait" mode: the deadline bounds the wait if Redis stays down
)
console.log(results.map((r) => r.ok))
await scheduler.close()
