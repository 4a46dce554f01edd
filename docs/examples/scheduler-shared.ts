import { Effect, ManagedRuntime } from "effect"
import { Scheduler, Task } from "toolfan"

// One scheduler for the whole process: every request's run shares its cap of 16.
const runtime = ManagedRuntime.make(Scheduler.layer({ maxConcurrency: 16, groups: { search: 4 } }))

const search = (q: string) => Effect.succeed(`hits for ${q}`).pipe(Effect.delay("100 millis"))

// E.g. the handler of one agent request.
export const handleRequest = (queries: ReadonlyArray<string>) =>
  runtime.runPromise(Scheduler.run(queries.map((q) => Task.make(`search:${q}`, search(q), { group: "search" }))))

const results = await Promise.all([handleRequest(["a", "b", "c"]), handleRequest(["d", "e"])])
console.log(results.flat().map((r) => r.name))

// On shutdown: interrupts what is still running (TaskInterrupted, reason "shutdown").
await runtime.dispose()
