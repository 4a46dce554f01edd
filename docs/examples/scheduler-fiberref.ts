import { Effect, FiberRef } from "effect"
import { Scheduler, Task } from "toolfan"

const requestId = FiberRef.unsafeMake("none")

const program = Effect.gen(function*() {
  const results = yield* Scheduler.run([
    // Don't: FiberRef.set changes the worker fiber, and the next task on that worker sees it.
    Task.make("leaky", FiberRef.set(requestId, "req-1")),
    Task.make("reader", FiberRef.get(requestId)), // may read "req-1"
    // Do: scope the change to the task's own effect.
    Task.make("scoped", Effect.locally(FiberRef.get(requestId), requestId, "req-2"))
  ])
  console.log(results.map((r) => `${r.name}=${String(r.value)}`).join(" "))
  // The caller never sees changes made inside tasks.
  console.log("caller:", yield* FiberRef.get(requestId))
})

Effect.runPromise(program.pipe(Effect.provide(Scheduler.layer({ maxConcurrency: 1 }))))
