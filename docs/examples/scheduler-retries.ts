import { Data, Effect, Schedule } from "effect"
import { Scheduler, Task } from "toolfan"

class HttpError extends Data.TaggedError("HttpError")<{ readonly status: number }> {}

// A fake flaky tool: answers 503 twice, then succeeds.
let calls = 0
const flaky = Effect.suspend(() =>
  ++calls <= 2 ? Effect.fail(new HttpError({ status: 503 })) : Effect.succeed("ok")
)

const program = Effect.gen(function*() {
  const [a, b, c] = yield* Scheduler.run([
    // Default backoff: ~100 ms, then ~200 ms. Succeeds on attempt 3.
    Task.make("flaky", flaky, { retries: 3 }),
    // Only server errors are retried; a 404 settles at once.
    Task.make("missing", Effect.fail(new HttpError({ status: 404 })), {
      retries: 3,
      retryWhile: (e) => e.status >= 500
    }),
    // A custom backoff: a fixed 1 s between attempts, at most 2 retries.
    Task.make("steady", Effect.fail(new HttpError({ status: 502 })), {
      retries: 2,
      schedule: Schedule.spaced("1 second")
    })
  ])
  console.log(a.name, a.value, "after", a.attempts, "attempts")
  console.log(b.name, b.error?.message, "attempts:", b.attempts)
  console.log(c.name, c.error?.message, "in", c.durationMs, "ms")
})

Effect.runPromise(program.pipe(Effect.provide(Scheduler.layer())))
