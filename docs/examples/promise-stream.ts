import { Scheduler, Task } from "toolfan/promise"

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener("abort", () => (clearTimeout(timer), reject(signal.reason)))
  })

// Three mirrors of the same page: take the first answer, stop the others.
const mirror = (name: string, ms: number) =>
  new Task(name, async (signal: AbortSignal) => {
    await sleep(ms, signal)
    return `page from ${name}`
  })

await using scheduler = new Scheduler({ maxConcurrency: 8 })

for await (const result of scheduler.stream([mirror("eu", 120), mirror("us", 40), mirror("asia", 300)])) {
  if (!result.ok) continue // a failed mirror: wait for the next one
  console.log(result.value) // page from us
  break // the other two are aborted, and have settled when the loop is left
}
