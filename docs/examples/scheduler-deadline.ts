import { Effect } from "effect"
import { Scheduler, Task } from "toolfan"

const tool = (ms: number) => Effect.succeed(`${ms} ms`).pipe(Effect.delay(ms))

const program = Effect.gen(function*() {
  // Take what is ready after 1 second; the rest is interrupted and reported.
  const results = yield* Scheduler.run([
    Task.make("fast", tool(100)),
    Task.make("medium", tool(600)),
    Task.make("slow", tool(5_000))
  ], { deadline: "1 second" })
  for (const r of results) {
    console.log(r.name, r.ok ? r.value : r.error.message)
  }
})

Effect.runPromise(program.pipe(Effect.provide(Scheduler.layer())))
