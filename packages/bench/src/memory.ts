/**
 * Memory bounded by what is live (docs/reliability.md) and the cost of
 * many distinct priorities. Not part of `main.ts`: run it by hand.
 *
 *   npx tsc -b && node packages/bench/dist/memory.js [--smoke]
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
import { execFileSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import * as Effect from "effect/Effect"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { Scheduler, Task } from "toolfan"
import { measure, median, ratio, smoke } from "./harness.js"

const size = (n: number) => (smoke ? n / 10 : n)

// The scenarios are the ones `packages/toolfan/test/memory.test.ts` bounds, written once in its fixture: each runs
// in a child process of its own (node --expose-gc, against toolfan's dist/) and reports the heap as a JSON line.
const fixture = fileURLToPath(new URL("../../toolfan/test/fixtures/memory.mjs", import.meta.url))
const scenarios: ReadonlyArray<readonly [id: string, what: string, n: number]> = [
  ["timeout-lane", "one attempt stuck with a 30 s timeout, fast tasks with that timeout", size(30_000)],
  ["deadline-lane", "one run stuck with a 30 s deadline, one-task runs with that deadline", size(20_000)],
  ["ready-deadline", "the one slot stuck, queued tasks cut by a deadline (ready queue)", size(30_000)],
  ["ready-abort", "the one slot stuck, queued tasks of interrupted runs (ready queue)", size(30_000)],
  ["group-deadline", "a group's one place stuck, tasks cut by a deadline (group queue)", size(100_000)]
]

console.log("heap after a forced GC, before → after (one task stuck throughout)")
for (const [id, what, n] of scenarios) {
  const out = execFileSync(process.execPath, ["--expose-gc", fixture, id, String(n)], { encoding: "utf8" })
  const r = JSON.parse(out.trim().split("\n").pop()!) as { beforeMB: number; afterMB: number; growthMB: number }
  console.log(
    `${what.padEnd(72)} ${String(n).padStart(7)} tasks: heap ${r.beforeMB.toFixed(1).padStart(5)} → ` +
      `${r.afterMB.toFixed(1).padStart(6)} MB (+${r.growthMB.toFixed(1)})`
  )
}

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
