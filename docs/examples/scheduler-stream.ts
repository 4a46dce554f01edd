import { Effect, Stream } from "effect"
import { Scheduler, Task } from "toolfan"

const mirror = (name: string, ms: number) => Effect.succeed(`${name} answered`).pipe(Effect.delay(ms))

const program = Effect.gen(function*() {
  // Ask three mirrors, keep the first answer, interrupt the others.
  const first = yield* Scheduler.stream([
    Task.make("eu", mirror("eu", 300)),
    Task.make("us", mirror("us", 120)),
    Task.make("ap", mirror("ap", 900))
  ]).pipe(
    Stream.filter((r) => r.ok),
    Stream.runHead
  )
  console.log(first) // Some(result of "us"); "eu" and "ap" were interrupted
  console.log(yield* Scheduler.stats) // { active: 0, pending: 0, delayed: 0 }
})

Effect.runPromise(program.pipe(Effect.provide(Scheduler.layer())))
