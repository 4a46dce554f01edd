import { Effect } from "effect"
import { Overload, Scheduler, Task } from "toolfan"

// A fake model API (offline) that refuses its first call with 429 and `Retry-After: 2`.
let calls = 0
const complete = (prompt: string) =>
  Effect.suspend(() =>
    ++calls === 1
      ? Effect.fail(new Overload.Overloaded({ reason: "429 Too Many Requests", retryAfterMs: 2_000 }))
      : Effect.succeed(`answer to ${prompt}`)
  )

const program = Effect.gen(function*() {
  const results = yield* Scheduler.run(
    ["a", "b", "c"].map((p) => Task.make(`chat ${p}`, complete(p), { group: "llm", retries: 3 }))
  )
  // the refused call is retried 2 s later, not before; its siblings in "llm" start nothing meanwhile
  for (const r of results) console.log(r.name, r.ok ? r.value : r.error.message, `${r.attempts} attempt(s)`)
})

Effect.runPromise(program.pipe(Effect.provide(Scheduler.layer({ groups: { llm: 2 } }))))
