/**
 * Soak: one million tiny tasks through one scheduler, in runs of 10,000, with
 * the heap sampled after a forced garbage collection every 100,000 tasks. A
 * leak shows as a heap that keeps growing. Not a CI test: run it by hand.
 *
 *   npx tsc -b && node --expose-gc packages/bench/dist/soak.js [total]
 */
import * as Effect from "effect/Effect"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Schedule from "effect/Schedule"
import { Scheduler, Task } from "toolfan"

const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) {
  console.error("run with node --expose-gc")
  process.exit(1)
}
const total = Number(process.argv[2] ?? 1_000_000)
const perRun = 10_000
const runtime = ManagedRuntime.make(Scheduler.layer({ maxConcurrency: 64, groups: { g: 8 } }))
// a mix: plain, failing with a retry, timed-out, grouped, promise tasks
const task = (i: number) => {
  switch (i % 5) {
    case 0:
      return Task.make(`t${i}`, Effect.succeed(i))
    case 1: {
      let calls = 0
      return Task.make(`t${i}`, Effect.suspend(() => (++calls === 2 ? Effect.succeed(i) : Effect.fail("again"))), {
        retries: 1,
        schedule: Schedule.spaced(0)
      })
    }
    case 2:
      return Task.make(`t${i}`, Effect.succeed(i), { timeout: 1000, priority: 1 })
    case 3:
      return Task.make(`t${i}`, Effect.succeed(i), { group: "g" })
    default:
      return Task.fromPromise(`t${i}`, (signal) => Promise.resolve(signal.aborted ? -1 : i))
  }
}
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1)
const samples: Array<number> = []
const started = performance.now()
for (let done = 0; done < total; done += perRun) {
  const results = await runtime.runPromise(Scheduler.run(Array.from({ length: perRun }, (_, i) => task(done + i))))
  if (results.some((r) => !r.ok)) throw new Error("a task failed")
  if ((done + perRun) % 100_000 === 0) {
    gc()
    const heap = process.memoryUsage().heapUsed
    samples.push(heap)
    console.log(`${String(done + perRun).padStart(9)} tasks  heap after GC ${mb(heap).padStart(6)} MB  rss ${mb(process.memoryUsage().rss)} MB`)
  }
}
await runtime.dispose()
const seconds = (performance.now() - started) / 1000
const first = samples[0]!
const last = samples[samples.length - 1]!
console.log(
  `${total} tasks in ${seconds.toFixed(1)} s; heap after GC ${mb(first)} MB after the first 100,000, ` +
    `${mb(last)} MB at the end (${last > first ? "+" : ""}${mb(last - first)} MB)`
)
