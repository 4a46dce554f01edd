import { Effect } from "effect"
import { InvalidOption, Scheduler, Task } from "toolfan"

// Task.make checks its options at once and throws.
try {
  Task.make("web", Effect.succeed(1), { timeout: -5 })
} catch (error) {
  if (InvalidOption.isInvalidOption(error)) {
    console.log(error.message)
    // Task.make: timeout must be a positive duration (milliseconds as a number, or e.g. "5 seconds"), got -5 (number)
    console.log(error.option, error.value, error.kind) // timeout -5 range
  }
}

// Scheduler.layer and Scheduler.make fail with it, as a typed error.
const program = Scheduler.run([Task.make("a", Effect.succeed(1))]).pipe(
  Effect.provide(Scheduler.layer({ maxConcurrency: 1.5 })),
  Effect.catchTag("InvalidOption", (error) => Effect.succeed(error.message))
)

Effect.runPromise(program).then(console.log)
// Scheduler.make: maxConcurrency must be an integer ≥ 1 or Infinity, got 1.5 (number)
