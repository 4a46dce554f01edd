import { Scheduler, Task } from "toolfan/promise"

class HttpError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`)
  }
}

let calls = 0
async function callApi(): Promise<string> {
  if (++calls < 3) throw new HttpError(calls === 1 ? 503 : 500)
  return "ok"
}

const scheduler = new Scheduler()
const [result] = await scheduler.run([
  new Task("api", callApi, {
    retries: 4,
    // `attempt` is the attempt that failed (1 for the first), `error` what it threw
    // (a TaskTimedOut for a timed-out attempt). Return the wait in milliseconds.
    backoff: (attempt, error) => (error instanceof HttpError && error.status === 503 ? 1_000 : 50 * 2 ** (attempt - 1)),
    // an overload's Retry-After (a 429) is a minimum: the retry waits the longer of the two
    maxRetryAfter: 30_000
  })
])
console.log(result.value, "after", result.attempts, "attempts") // ok after 3 attempts
await scheduler.close()
