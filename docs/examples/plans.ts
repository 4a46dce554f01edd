import { Effect } from "effect"
import { Plan, Scheduler } from "toolfan"

// Fake tools (offline), with latencies.
const search = (query: string) => Effect.as(Effect.sleep("200 millis"), [`https://example.com/${query}`])
const fetchPage = (url: string) => Effect.as(Effect.sleep("150 millis"), `<html>${url}</html>`)
const weather = (city: string) => Effect.as(Effect.sleep("900 millis"), `${city}: sunny`)

const plan = Plan.empty.pipe(
  Plan.add("search", search("lisbon-ai-meetup"), { timeout: "5 seconds", retries: 2 }),
  Plan.add("weather", weather("Lisbon")),
  // starts the moment "search" succeeds, whatever "weather" is doing
  Plan.add("page", ["search"], ({ search }) => fetchPage(search[0]!), { timeout: "3 seconds" }),
  Plan.add("answer", ["page", "weather"], ({ page, weather }) => Effect.succeed(`${page.length} chars; ${weather}`))
)

const program = Effect.gen(function*() {
  const results = yield* Scheduler.runPlan(plan, { deadline: "10 seconds" })
  for (const [name, r] of Object.entries(results)) {
    console.log(name.padEnd(8), r.ok ? "ok" : r.error._tag, `${r.durationMs} ms`)
  }
  if (results.answer.ok) console.log(results.answer.value)
})

Effect.runPromise(program.pipe(Effect.provide(Scheduler.layer({ maxConcurrency: 4 }))))
