/**
 * Batching benchmark: a burst of 50,000 items, maxSize 16.
 *
 * - `Batcher.submit` from 50,000 concurrent callers against the same callers
 *   each making the same (asynchronous) call unbatched: the waiting fiber per
 *   caller is the floor;
 * - `Batcher.submitAll` (one waiting fiber for all items) and
 *   `MicroBatcher.submit` against dataloader's `load`;
 * - Effect's own `RequestResolver` + `batchN` in a batched `Effect.forEach`;
 * - and the exact number of batch calls of each.
 *
 * Medians of interleaved repetitions after a warm-up, as µs per item and as
 * ratios against the peers measured in the same run.
 *
 *   node packages/bench/dist/batching.js [--smoke]
 */
import DataLoader from "dataloader"
import * as Effect from "effect/Effect"
import * as Request from "effect/Request"
import * as RequestResolver from "effect/RequestResolver"
import * as Scope from "effect/Scope"
import { Batcher } from "toolfan"
import { MicroBatcher } from "toolfan/promise"

const smoke = process.argv.includes("--smoke")
const N = smoke ? 500 : 50_000
const SIZE = 16
const WARMUP = smoke ? 1 : 2
const REPS = smoke ? 3 : 9

const items = Array.from({ length: N }, (_, i) => i)
const label = (x: number) => x * 2
let calls = 0
// the model call is asynchronous, batched or not, as a real one is
const runPromise = (xs: ReadonlyArray<number>) => {
  calls++
  return Promise.resolve(xs.map(label))
}
const run = (xs: ReadonlyArray<number>) => Effect.promise(() => runPromise(xs))

interface Double extends Request.Request<number> {
  readonly _tag: "Double"
  readonly x: number
}
const Double = Request.tagged<Double>("Double")
const effectResolver = RequestResolver.makeBatched((requests: Array<Double>) =>
  Effect.forEach(requests, (r) => Request.succeed(r, label(r.x)), { discard: true }).pipe(
    Effect.zipLeft(Effect.sync(() => calls++))
  )
).pipe(RequestResolver.batchN(SIZE))

const scope = Effect.runSync(Scope.make())
const batcher = Effect.runSync(Scope.extend(Batcher.make({ run, maxSize: SIZE, maxWait: "20 millis" }), scope))

const cases: Record<string, () => Promise<unknown>> = {
  "unbatched callers": () =>
    Effect.runPromise(Effect.forEach(items, (x) => Effect.map(run([x]), (o) => o[0]), { concurrency: "unbounded" })),
  "Batcher.submit": () => Effect.runPromise(Effect.forEach(items, batcher.submit, { concurrency: "unbounded" })),
  "dataloader load": () => {
    const loader = new DataLoader(runPromise, { maxBatchSize: SIZE, cache: false })
    return Promise.all(items.map((x) => loader.load(x)))
  },
  "Batcher.submitAll": () => Effect.runPromise(batcher.submitAll(items)),
  "MicroBatcher.submit": async () => {
    const micro = new MicroBatcher(runPromise, { maxSize: SIZE, maxWait: 20 })
    await Promise.all(items.map((x) => micro.submit(x)))
    await micro.close()
  },
  "Effect RequestResolver": () =>
    Effect.runPromise(Effect.forEach(items, (x) => Effect.request(Double({ x }), effectResolver), { batching: true }))
}

const samples: Record<string, Array<number>> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]))
const callCounts: Record<string, number> = {}
for (let rep = 0; rep < WARMUP + REPS; rep++) {
  for (const [name, f] of Object.entries(cases)) {
    calls = 0
    const start = performance.now()
    await f()
    const us = ((performance.now() - start) * 1000) / N
    callCounts[name] = calls
    if (rep >= WARMUP) samples[name]!.push(us)
  }
}
await Effect.runPromise(Scope.close(scope, { _tag: "Success", value: undefined } as any))

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!
const m = (name: string) => median(samples[name]!)
console.log(`burst of ${N} items, maxSize ${SIZE}, median of ${REPS} interleaved runs (node ${process.version})`)
console.log("case".padEnd(24) + "µs/item".padStart(9) + "   calls" + "   min–max µs")
for (const [name, xs] of Object.entries(samples)) {
  console.log(
    name.padEnd(24) + m(name).toFixed(2).padStart(9) + String(callCounts[name]).padStart(8) +
      `   ${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`
  )
}
console.log(`expected calls when batched: ceil(${N} / ${SIZE}) = ${Math.ceil(N / SIZE)}`)
console.log(`Batcher.submit / unbatched callers:  ${(m("Batcher.submit") / m("unbatched callers")).toFixed(2)}×  (target ≤ 1.3×)`)
console.log(`Batcher.submitAll / dataloader:      ${(m("Batcher.submitAll") / m("dataloader load")).toFixed(2)}×  (target ≤ 1×)`)
console.log(`MicroBatcher.submit / dataloader:    ${(m("MicroBatcher.submit") / m("dataloader load")).toFixed(2)}×`)
console.log(`Effect RequestResolver / dataloader: ${(m("Effect RequestResolver") / m("dataloader load")).toFixed(2)}×`)
