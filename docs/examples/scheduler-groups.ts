import { Effect } from "effect"
import { Scheduler, Task } from "toolfan"

// A fake tool call that takes `ms` milliseconds.
const call = (name: string, ms: number) => Effect.succeed(name).pipe(Effect.delay(ms))

const program = Effect.gen(function*() {
  const fiber = yield* Effect.fork(Scheduler.run([
    // The search backend takes 2 calls at a time: the third waits for its group,
    // holding no global slot, so "summarize" and "calendar" start at once.
    Task.make("search:1", call("search:1", 300), { group: "search" }),
    Task.make("search:2", call("search:2", 300), { group: "search" }),
    Task.make("search:3", call("search:3", 300), { group: "search" }),
    Task.make("summarize", call("summarize", 100), { priority: 10 }),
    Task.make("calendar", call("calendar", 100))
  ]))
  yield* Effect.sleep("50 millis")
  console.log(yield* Scheduler.stats) // { active: 4, pending: 1, delayed: 0 }

  const results = yield* fiber
  for (const r of results) console.log(r.name, "waited", r.waitMs, "ms")
})

Effect.runPromise(program.pipe(Effect.provide(Scheduler.layer({ maxConcurrency: 4, groups: { search: 2 } }))))
