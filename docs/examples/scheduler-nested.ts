import { Effect } from "effect"
import { Scheduler, Task } from "toolfan"

const read = (file: string) => Effect.succeed(`contents of ${file}`).pipe(Effect.delay("50 millis"))

// A "research" task fans out to its own sub-tasks on the same scheduler.
const research = (topic: string) =>
  Effect.gen(function*() {
    const pages = yield* Scheduler.run([
      Task.make(`${topic}:a`, read(`${topic}/a.md`), { timeout: "1 second" }),
      Task.make(`${topic}:b`, read(`${topic}/b.md`), { timeout: "1 second" })
    ])
    return pages.filter((p) => p.ok).length
  })

const program = Effect.gen(function*() {
  // maxConcurrency is 1, yet this finishes: each outer task lends its slot to its nested run.
  const results = yield* Scheduler.run([
    Task.make("research:effect", research("effect")),
    Task.make("research:agents", research("agents"))
  ])
  for (const r of results) console.log(r.name, r.value, "pages")
})

Effect.runPromise(program.pipe(Effect.provide(Scheduler.layer({ maxConcurrency: 1 }))))
