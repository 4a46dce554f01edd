import { Scheduler, Task } from "toolfan/promise"

// A fake tool: waits `ms`, stops early when its signal is aborted.
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener("abort", () => {
      clearTimeout(timer)
      reject(signal.reason)
    })
  })

// The signal comes last, after the `args`. Declare it and pass it on (to fetch, to your SDK).
async function search(query: string, limit: number, signal?: AbortSignal): Promise<Array<string>> {
  await sleep(100, signal)
  return Array.from({ length: limit }, (_, i) => `${query} #${i + 1}`)
}

let calls = 0
async function flakyWeather(city: string): Promise<string> {
  if (++calls < 3) throw new Error("503 Service Unavailable")
  return `sunny in ${city}`
}

const scheduler = new Scheduler({ maxConcurrency: 8, groups: { search: 2 } })

const [hits, weather, hang, broken] = await scheduler.run([
  new Task("search", search, { args: ["agent frameworks", 3], timeout: 5_000, group: "search" }),
  new Task("weather", flakyWeather, {
    args: ["Lisbon"],
    retries: 3,
    retryWhile: (error) => error instanceof Error && error.message.startsWith("5")
  }),
  new Task("hang", (signal: AbortSignal) => sleep(60_000, signal), { timeout: 200 }),
  new Task("broken", () => JSON.parse("{not json") as unknown)
])

if (hits.ok) console.log(hits.value) // typed: Array<string>
console.log(weather.value, "after", weather.attempts, "attempts") // sunny in Lisbon after 3 attempts
console.log(hang.error?._tag) // TaskTimedOut
console.log(broken.error?.message) // task "broken" failed: <the SyntaxError's message>
console.log(broken.error?.cause) // the SyntaxError that was thrown

// A deadline for the whole run, in milliseconds.
const [late] = await scheduler.run([new Task("late", (signal: AbortSignal) => sleep(5_000, signal))], {
  deadline: 300
})
console.log(late.error?.message) // task "late" was interrupted: the run's deadline passed

// Or end a run yourself with an AbortSignal, e.g. when the user cancels the request.
const controller = new AbortController()
setTimeout(() => controller.abort(), 300)
const [stopped] = await scheduler.run([new Task("stopped", (signal: AbortSignal) => sleep(5_000, signal))], {
  signal: controller.signal
})
console.log(stopped.error?.message) // task "stopped" was interrupted

console.log(scheduler.stats()) // { active: 0, pending: 0, delayed: 0 }
await scheduler.close()
