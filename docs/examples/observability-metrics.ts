import { Effect, Metric, Schedule } from "effect"
import { Metrics, Scheduler, Task } from "toolfan"

// A fake tool (offline) that answers 503 twice, then works; 10 ms a call.
let calls = 0
const search = Effect.suspend(() => (++calls <= 2 ? Effect.fail("HTTP 503") : Effect.succeed("3 hits")))
  .pipe(Effect.delay("10 millis"))

const program = Effect.gen(function*() {
  yield* Scheduler.run([
    Task.make("search", search, { group: "web", retries: 2, schedule: Schedule.spaced("20 millis") })
  ])
  // Each metric is an Effect Metric: tag it as the scheduler does, then read its state.
  const retries = yield* Metric.value(Metrics.retries.pipe(Metric.tagged("group", "web")))
  const durations = yield* Metric.value(
    Metrics.taskDuration.pipe(Metric.tagged("group", "web"), Metric.tagged("outcome", "ok"))
  )
  console.log(retries.count) // 2
  console.log(durations.count, durations.sum) // 1, a little over 70 (ms): three 10 ms attempts, two 20 ms backoffs
})

Effect.runPromise(program.pipe(Effect.provide(Scheduler.layer())))
