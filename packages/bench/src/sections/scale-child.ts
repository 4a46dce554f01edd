/**
 * One scale case in a process of its own (so one case's heap does not pollute
 * another's): `node --expose-gc scale-child.js <n> <warmup n>`.
 *
 * Warms up with a few small runs, collects, takes the baseline, then queues
 * `n` no-op tasks at once on a scheduler of maxConcurrency 64 and samples
 * `process.memoryUsage()` every 1,024 tasks and at the end. Prints one JSON
 * line: µs per task, peak RSS and peak heapUsed over the baseline, in MB.
 */
import * as Effect from "effect/Effect"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { Scheduler, Task } from "toolfan"

const n = Number(process.argv[2])
const warmupN = Number(process.argv[3])
const gc = (globalThis as { gc?: () => void }).gc!
const runtime = ManagedRuntime.make(Scheduler.layer({ maxConcurrency: 64 }))

let count = 0
let peakRss = 0
let peakHeap = 0
const sample = () => {
  const m = process.memoryUsage()
  if (m.rss > peakRss) peakRss = m.rss
  if (m.heapUsed > peakHeap) peakHeap = m.heapUsed
}
const tick = Effect.sync(() => {
  if ((++count & 1023) === 0) sample()
})
const tasks = (k: number) => Array.from({ length: k }, (_, i) => Task.make(`t${i}`, tick))

for (let i = 0; i < 3; i++) await runtime.runPromise(Scheduler.run(tasks(warmupN)))
gc()
gc()
const base = process.memoryUsage()
peakRss = base.rss
peakHeap = base.heapUsed

const queued = tasks(n)
sample()
const start = performance.now()
const results = await runtime.runPromise(Scheduler.run(queued))
const ms = performance.now() - start
sample()
if (results.length !== n || !results.every((r) => r.ok)) throw new Error("scale: a task did not succeed")
await runtime.dispose()
const MB = 1024 * 1024
console.log(JSON.stringify({ usPerTask: (ms * 1000) / n, rssMB: (peakRss - base.rss) / MB, heapMB: (peakHeap - base.heapUsed) / MB }))
