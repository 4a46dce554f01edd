import { Effect } from "effect"
import { Scheduler, Task } from "toolfan"

// A search tool with a slow tail: most calls take ~50 ms, a few take seconds.
const search = (query: string) =>
  Effect.gen(function*() {
    // the same key for every attempt of this task and for its hedge:
    // a provider that dedupes by key does the work once
    const key = yield* Task.idempotencyKey
    yield* Effect.sleep(Math.random() < 0.02 ? "2 seconds" : "50 millis")
    return { query, key, hits: [`result for ${query}`] }
  })

const program = Effect.gen(function*() {
  const results = yield* Scheduler.run([
    // hedged once it has run past the p95 of the group's recent successes;
    // at most 5% extra calls (the default budget)
    Task.make("search", search("agent observability"), {
      idempotent: true,
      group: "search",
      hedge: { after: "p95" }
    }),
    // a fixed delay, and a bigger budget
    Task.make("search-fixed", search("tail at scale"), {
      idempotent: true,
      group: "search",
      hedge: { after: "120 millis", budget: 0.1 }
    })
  ])
  for (const r of results) console.log(r.name, r.ok, r.durationMs, "ms", "hedge:", r.hedge ?? "none")
})

Effect.runPromise(program.pipe(Effect.provide(Scheduler.layer({ maxConcurrency: 8 }))))
