import { Effect } from "effect"
import { Scheduler, Task } from "toolfan"

// A fake slow tool built on a Promise that honours its AbortSignal.
const slowTool = (ms: number, signal: AbortSignal) =>
  new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => resolve("done"), ms)
    signal.addEventListener("abort", () => {
      clearTimeout(timer)
      reject(signal.reason)
    })
  })

const program = Effect.gen(function*() {
  const results = yield* Scheduler.run([
    // Effect code: Effect.tryPromise hands you a signal that is aborted on interruption.
    Task.make(
      "effect-tool",
      Effect.tryPromise({ try: (signal) => slowTool(5_000, signal), catch: (cause) => cause }),
      { timeout: "200 millis" }
    ),
    // Promise code: Task.fromPromise passes the signal to your function.
    Task.fromPromise("promise-tool", (signal) => slowTool(5_000, signal), { timeout: 200, retries: 1 }),
    // Finalizers of a timed-out attempt run before the result is reported.
    Task.make(
      "with-cleanup",
      Effect.never.pipe(Effect.ensuring(Effect.log("cleanup ran"))),
      { timeout: "200 millis" }
    )
  ])
  for (const r of results) console.log(r.name, r.error?._tag, "attempts:", r.attempts)
})

Effect.runPromise(program.pipe(Effect.provide(Scheduler.layer())))
