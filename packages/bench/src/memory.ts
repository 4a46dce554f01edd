/**
 * Memory bounded by what is live (docs/reliability.md) and the cost of
 * many distinct priorities. Not part of `main.ts`: run it by hand.
 *
 *   npx tsc -b && node --expose-gc packages/bench/dist/memory.js [--smoke]
 *
 * Heap: each scenario keeps one task stuck (it never ends) while many others
 * finish or give up, and prints the heap after a forced collection before and
 * after them. What they leave behind must not stay reachable through the stuck
 * one (a timer lane of the same timeout or deadline, the ready queue, a
 * group's queue).
 *
 * Priorities: one run of `n` tasks, each with its own priority (scores in a
 * shuffled order), against the same run with one priority; the ratio of their
 * times (median of interleaved repetitions) shows whether adding and taking a
 * priority level costs O(log levels) or O(levels).
 */
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { Scheduler, Task } from "toolfan"
import { measure, median, ratio, smoke } from "./harness.js"

const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) {
  console.error("run with node --expose-gc")
  process.exit(1)
}
const heap = (): number => {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}
const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1)

const fast = (i: number, options?: Task.Options<unknown>) =>
  Task.make(`t${i}`, Effect.succeed({ i, payload: `result ${i}` }), options)
const stuck = (options?: Task.Options<unknown>) => Task.make("stuck", Effect.never, options)

interface Scenario {
  readonly what: string
  readonly n: number
  readonly layer: Scheduler.Options
  readonly stuck: () => Effect.Effect<unknown, never, Scheduler.Scheduler>
  readonly batch: (from: number, count: number) => Effect.Effect<unknown, never, Scheduler.Scheduler>
}

const size = (n: number) => (smoke ? n / 10 : n)
const scenarios: ReadonlyArray<Scenario> = [
  {
    what: "one attempt stuck with a 30 s timeout, fast tasks with that timeout",
    n: size(30_000),
    layer: { maxConcurrency: 64 },
    stuck: () => Scheduler.run([stuck({ timeout: "30 seconds" })]),
    batch: (from, count) =>
      Scheduler.run(Array.from({ length: count }, (_, i) => fast(from + i, { timeout: "30 seconds" })))
  },
  {
    what: "one run stuck with a 30 s deadline, one-task runs with that deadline",
    n: size(20_000),
    layer: { maxConcurrency: 64 },
    stuck: () => Scheduler.run([stuck()], { deadline: "30 seconds" }),
    batch: (from, count) =>
      Effect.forEach(
        Array.from({ length: count }, (_, i) => from + i),
        (i) => Scheduler.run([fast(i)], { deadline: "30 seconds" }),
        { discard: true }
      )
  },
  {
    what: "the one slot stuck, queued tasks cut by a deadline (ready queue)",
    n: size(30_000),
    layer: { maxConcurrency: 1 },
    stuck: () => Scheduler.run([stuck()]),
    batch: (from, count) => Scheduler.run(Array.from({ length: count }, (_, i) => fast(from + i)), { deadline: "1 millis" })
  },
  {
    what: "the one slot stuck, queued tasks of interrupted runs (ready queue)",
    n: size(30_000),
    layer: { maxConcurrency: 1 },
    stuck: () => Scheduler.run([stuck()]),
    batch: (from, count) =>
      Effect.gen(function*() {
        const fiber = yield* Effect.fork(Scheduler.run(Array.from({ length: count }, (_, i) => fast(from + i))))
        yield* Effect.yieldNow()
        yield* Fiber.interrupt(fiber)
      })
  },
  {
    what: "a group's one place stuck, tasks cut by a deadline (group queue)",
    n: size(100_000),
    layer: { maxConcurrency: 64, groups: { g: 1 } },
    stuck: () => Scheduler.run([stuck({ group: "g" })]),
    batch: (from, count) =>
      Scheduler.run(Array.from({ length: count }, (_, i) => fast(from + i, { group: "g" })), { deadline: "1 millis" })
  }
]

const perRun = 1_000
const heapOf = async (s: Scenario): Promise<void> => {
  const runtime = ManagedRuntime.make(Scheduler.layer(s.layer))
  const fiber = runtime.runFork(s.stuck())
  const runAll = async (from: number, count: number) => {
    for (let done = 0; done < count; done += perRun) {
      await runtime.runPromise(s.batch(from + done, Math.min(perRun, count - done)))
    }
  }
  await runAll(0, 2 * perRun) // warm-up
  const before = heap()
  await runAll(2 * perRun, s.n)
  const after = heap()
  await runtime.runPromise(Fiber.interrupt(fiber))
  await runtime.dispose()
  console.log(
    `${s.what.padEnd(72)} ${String(s.n).padStart(7)} tasks: heap ${mb(before).padStart(5)} → ${mb(after).padStart(6)} MB ` +
      `(+${mb(after - before)})`
  )
}

console.log("heap after a forced GC, before → after (one task stuck throughout)")
for (const s of scenarios) await heapOf(s)

// priorities: every task its own level (scores, shuffled) vs one level
const n = size(40_000)
const shuffled = Array.from({ length: n }, (_, i) => i)
let seed = 1
for (let i = n - 1; i > 0; i--) {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
  const j = seed % (i + 1)
  ;[shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!]
}
// a scheduler per case and repetition: levels left behind by one case must not slow the next
const timed = (priority: (i: number) => number) => async (): Promise<number> => {
  const runtime = ManagedRuntime.make(Scheduler.layer({ maxConcurrency: 8 }))
  await runtime.runPromise(Scheduler.stats)
  const tasks = Array.from({ length: n }, (_, i) => Task.make(`t${i}`, Effect.void, { priority: priority(i) }))
  const start = performance.now()
  await runtime.runPromise(Scheduler.run(tasks))
  const ms = performance.now() - start
  await runtime.dispose()
  return ms
}
const samples = await measure(
  { distinct: timed((i) => shuffled[i]! / n), one: timed(() => 0) },
  { warmup: 1, reps: smoke ? 3 : 5 }
)
const range = (xs: ReadonlyArray<number>) => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`
console.log(
  `\n${n} tasks at concurrency 8: ${n} distinct priorities ${median(samples.distinct).toFixed(0)} ms ` +
    `(${range(samples.distinct)}), one priority ${median(samples.one).toFixed(0)} ms (${range(samples.one)}): ` +
    `ratio ${ratio(samples.distinct, samples.one).toFixed(2)}× (median of ${samples.one.length} interleaved repetitions)`
)
