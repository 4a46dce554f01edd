import { Effect } from "effect"
import { Scheduler, Task } from "toolfan"

// Fake tools (offline): replace them with your real search and fetch.
const search = (query: string) => Effect.succeed([`result for ${query}`]).pipe(Effect.delay("200 millis"))
const fetchPage = (url: string) => Effect.succeed(`<html>${url}</html>`).pipe(Effect.delay("150 millis"))

const program = Effect.gen(function*() {
  const results = yield* Scheduler.run([
    Task.make("web", search("agent observability"), { timeout: "5 seconds", retries: 2 }),
    Task.make("docs", fetchPage("https://example.com"), { timeout: "3 seconds" })
  ])
  for (const r of results) {
    if (r.ok) console.log(r.name, "→", r.durationMs, "ms")
    else console.log(r.name, "FAILED:", r.error._tag)
  }
})

Effect.runPromise(program.pipe(Effect.provide(Scheduler.layer({ maxConcurrency: 8 }))))
