import { Effect } from "effect"
import { Scheduler, Task } from "toolfan"

// Summaries of 20 documents, each estimated at ~2,000 tokens; the step may spend 15,000.
const summarise = (doc: number) => Effect.as(Effect.sleep("50 millis"), `summary of document ${doc}`)

const program = Effect.gen(function*() {
  const tasks = Array.from({ length: 20 }, (_, i) => Task.make(`summary ${i}`, summarise(i), { cost: 2_000 }))
  const results = yield* Scheduler.run(tasks, { budget: 15_000 })
  // 8 started (the 8th spent the budget: 16,000, what was in flight); the 12 others were not started
  console.log(results.filter((r) => r.ok).length, "summaries;", results.filter((r) => !r.ok)[0]?.error.message)
})

Effect.runPromise(program.pipe(Effect.provide(Scheduler.layer({ maxConcurrency: 4 }))))
