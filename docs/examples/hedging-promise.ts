import { idempotencyKey, Scheduler, Task } from "toolfan/promise"

const scheduler = new Scheduler({ maxConcurrency: 16 })

// A tool taking the signal: a hedge's loser is aborted the moment the winner succeeds.
const search = async (query: string, signal: AbortSignal) => {
  const res = await fetch(`https://search.example.com/?q=${encodeURIComponent(query)}`, { signal })
  return (await res.json()) as Array<string>
}

// A write made safe to retry: the provider dedupes by the task's key.
const charge = async (amount: number, signal: AbortSignal) => {
  const key = idempotencyKey(signal)
  const res = await fetch("https://payments.example.com/charges", {
    method: "POST",
    body: JSON.stringify({ amount }),
    headers: key === undefined ? {} : { "Idempotency-Key": key },
    signal
  })
  return res.status
}

const results = await scheduler.run([
  new Task("search", search, { args: ["agents"], idempotent: true, group: "search", hedge: { after: "p95" } }),
  // the same search again in this step: coalesced with the first (key: name + canonical JSON of args)
  new Task("search", search, { args: ["agents"], idempotent: true, coalesce: true }),
  new Task("charge", charge, { args: [42], timeout: 5000, retries: 2 })
])
console.log(results.map((r) => [r.name, r.ok, r.hedge, r.coalesced]))
await scheduler.close()
