import { Effect } from "effect"
import { GroupLimit, Overload, Scheduler, Task } from "toolfan"

// A fake provider (offline) that accepts 3 calls at once and refuses the rest with 429.
let inFlight = 0
const complete = (prompt: string) =>
  Effect.acquireUseRelease(
    Effect.sync(() => ++inFlight),
    (n) => n > 3 ? Effect.fail(new Overload.Overloaded({ reason: "429" })) : Effect.as(Effect.sleep("100 millis"), prompt),
    () => Effect.sync(() => inFlight--)
  )

const program = Effect.gen(function*() {
  const tasks = Array.from({ length: 40 }, (_, i) => Task.make(`chat ${i}`, complete(`p${i}`), { group: "llm", retries: 5 }))
  const results = yield* Scheduler.run(tasks)
  const stats = yield* Scheduler.stats
  // the cap went down from 8 on the first 429s, then probes upwards again as calls succeed
  console.log(results.filter((r) => r.ok).length, "of 40 ok; cap now", stats.caps?.llm)
})

Effect.runPromise(
  program.pipe(Effect.provide(Scheduler.layer({ groups: { llm: GroupLimit.adaptive({ initial: 8, min: 1, max: 16 }) } })))
)
