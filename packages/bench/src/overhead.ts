/**
 * Per-task overhead of `Scheduler.run` against p-limit and a bare
 * `Effect.forEach({ concurrency })`, for 20,000 no-op tasks at concurrency 64.
 *
 * Every figure is the median of interleaved repetitions after a warm-up, shown
 * as µs per task and as a ratio to p-limit measured in the same process.
 * (The full benchmark suite comes with issue 5; this is the quick check.)
 *
 *   npm run bench              # 20,000 tasks, 2 warm-ups + 11 repetitions
 *   npm run bench -- --smoke   # a tiny size, to keep the harness working
 */
import * as Effect from "effect/Effect"
import * as ManagedRuntime from "effect/ManagedRuntime"
import pLimit from "p-limit"
import { Scheduler, Task } from "toolfan"

const smoke = process.argv.includes("--smoke")
const N = smoke ? 200 : 20_000
const C = 64
const WARMUP = smoke ? 1 : 2
const REPS = smoke ? 3 : 11

const runtime = ManagedRuntime.make(Scheduler.layer({ maxConcurrency: C }))
const plain = Array.from({ length: N }, (_, i) => Task.make(`t${i}`, Effect.void))
const policies = Array.from({ length: N }, (_, i) => Task.make(`t${i}`, Effect.void, { timeout: "5 seconds", retries: 2 }))
const promises = Array.from({ length: N }, (_, i) => Task.fromPromise(`t${i}`, () => Promise.resolve()))
const signals = Array.from({ length: N }, (_, i) => Task.fromPromise(`t${i}`, (signal) => Promise.resolve(signal.aborted)))
const units = Array.from({ length: N })

const cases: Record<string, () => Promise<unknown>> = {
  "p-limit": () => {
    const limit = pLimit(C)
    return Promise.all(units.map(() => limit(() => Promise.resolve())))
  },
  "p-limit + AbortSignal": () => {
    const limit = pLimit(C)
    return Promise.all(units.map(() => limit(() => Promise.resolve(new AbortController().signal.aborted))))
  },
  "Effect.forEach": () =>
    Effect.runPromise(Effect.forEach(units, () => Effect.promise(() => Promise.resolve()), { concurrency: C, discard: true })),
  "toolfan plain": () => runtime.runPromise(Scheduler.run(plain)),
  "toolfan timeout+retries": () => runtime.runPromise(Scheduler.run(policies)),
  "toolfan promise": () => runtime.runPromise(Scheduler.run(promises)),
  "toolfan promise+signal": () => runtime.runPromise(Scheduler.run(signals))
}

const samples: Record<string, Array<number>> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]))
for (let rep = 0; rep < WARMUP + REPS; rep++) {
  for (const [name, run] of Object.entries(cases)) {
    const start = performance.now()
    await run()
    const us = ((performance.now() - start) * 1000) / N
    if (rep >= WARMUP) samples[name]!.push(us)
  }
}
await runtime.dispose()

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!
const base = median(samples["p-limit"]!)
console.log(`${N} no-op tasks, concurrency ${C}, median of ${REPS} interleaved runs (node ${process.version})`)
console.log("case".padEnd(26) + "µs/task".padStart(9) + "  × p-limit" + "   min–max µs")
for (const [name, xs] of Object.entries(samples)) {
  const m = median(xs)
  console.log(
    name.padEnd(26) + m.toFixed(2).padStart(9) + `${(m / base).toFixed(2)}×`.padStart(11) +
      `   ${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`
  )
}
const plainMedian = median(samples["toolfan plain"]!)
console.log(`timeout+retries / plain: ${(median(samples["toolfan timeout+retries"]!) / plainMedian).toFixed(2)}×`)
