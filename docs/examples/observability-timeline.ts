import { writeFileSync } from "node:fs"
import { Effect, Schedule } from "effect"
import { Timeline } from "@toolfan/timeline"
import { Scheduler, Task } from "toolfan"

// Fake tools (offline): search answers 503 once, hotels hangs, the rest take a while.
let searchCalls = 0
const search = Effect.suspend(() => (++searchCalls === 1 ? Effect.fail("HTTP 503") : Effect.succeed("3 hits")))
  .pipe(Effect.delay("80 millis"))

const tasks = [
  Task.make("search", search, { group: "web", retries: 2, schedule: Schedule.spaced("50 millis") }),
  Task.make("fetchPage", Effect.succeed("Thu 19:00").pipe(Effect.delay("60 millis")), { group: "web" }),
  Task.make("hotels", Effect.never, { timeout: "300 millis" }),
  Task.make("weather", Effect.succeed("sunny").pipe(Effect.delay("120 millis")))
]

const program = Effect.gen(function*() {
  // Runs the tasks as usual and records every attempt from its span.
  const [results, timeline] = yield* Timeline.capture(Scheduler.run(tasks))
  console.log(Timeline.toText(timeline, { width: 80 }))
  // A self-contained page (the chart and a table of every attempt) to open in a browser.
  writeFileSync("timeline.html", Timeline.toHtml(timeline, { title: "One agent step" }))
  return results
})

// One web call at a time: fetchPage waits for search's slot.
Effect.runPromise(program.pipe(Effect.provide(Scheduler.layer({ groups: { web: 1 } }))))
