import { Effect } from "effect"
import { Scheduler, Task } from "toolfan"

let executions = 0
const fetchDocs = Effect.suspend(() => {
  executions++
  return Effect.as(Effect.sleep("100 millis"), "<html>…</html>")
})

const program = Effect.gen(function*() {
  // the model asked for the same page three times in one step: one call is made
  const page = () => Task.make("fetch_page", fetchDocs, { coalesce: "fetch_page:https://example.com" })
  const results = yield* Scheduler.run([page(), page(), page()])
  console.log(executions, results.map((r) => r.coalesced)) // 1 [false, true, true]

  // read-only tools may also keep a success for later steps
  const cached = Task.make("fetch_page", fetchDocs, { coalesce: "docs", cache: { ttl: "1 minute" } })
  yield* Scheduler.run([cached])
  const [again] = yield* Scheduler.run([cached])
  console.log(again.coalesced, executions) // true 2
})

Effect.runPromise(program.pipe(Effect.provide(Scheduler.layer())))
