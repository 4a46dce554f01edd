import { Data, Effect, Schedule } from "effect"
import { Task } from "toolfan"

class FetchError extends Data.TaggedError("FetchError")<{ readonly status: number }> {}

// A fake tool: fails with 503 on its first call, then answers.
let calls = 0
const fetchPage = (url: string): Effect.Effect<string, FetchError> =>
  Effect.suspend(() =>
    ++calls === 1 ?
      Effect.fail(new FetchError({ status: 503 })) :
      Effect.succeed(`<html>${url}</html>`).pipe(Effect.delay("100 millis"))
  )

// Every option, with its default in the comment.
export const page = Task.make("page", fetchPage("https://example.com"), {
  timeout: "3 seconds", // per attempt; default: none
  retries: 2, // extra attempts; default: 0
  schedule: Schedule.spaced("500 millis"), // delay before each retry; default: Task.defaultSchedule
  retryWhile: (e) => e.status >= 500, // e is FetchError; default: retry every failure
  priority: 1, // higher starts first; default: 0
  group: "web" // capped by Scheduler.layer({ groups: { web: n } }); default: none
})

// A Promise-returning function. The signal is aborted when the attempt times out
// or the run is cut short; pass it on so the work really stops.
const wait = (ms: number, signal: AbortSignal) =>
  new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => resolve(`waited ${ms} ms`), ms)
    signal.addEventListener("abort", () => {
      clearTimeout(timer)
      reject(signal.reason)
    })
  })

export const slow = Task.fromPromise("slow", (signal) => wait(1_000, signal), { timeout: 200, retries: 1 })
