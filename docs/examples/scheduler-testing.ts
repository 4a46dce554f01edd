import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, TestClock } from "effect"
import { Scheduler, Task } from "toolfan"

describe("my agent step", () => {
  it.effect("gives up on a hanging tool after two 1 s attempts", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(Scheduler.run([
        Task.make("hang", Effect.never, { timeout: "1 second", retries: 1 }),
        Task.make("ok", Effect.succeed(42).pipe(Effect.delay("300 millis")))
      ]))
      // Virtual time: 1 s (attempt 1) + ~100 ms backoff + 1 s (attempt 2), no real waiting.
      yield* TestClock.adjust("5 seconds")
      const [hang, ok] = yield* Fiber.join(fiber)
      expect(hang.error?._tag).toBe("TaskTimedOut")
      expect(hang.attempts).toBe(2)
      expect(ok.value).toBe(42)
      expect(ok.durationMs).toBe(300)
    }).pipe(
      // Build the scheduler inside the test, so that it uses the TestClock.
      Effect.provide(Scheduler.layer({ maxConcurrency: 4 }))
    ))
})
