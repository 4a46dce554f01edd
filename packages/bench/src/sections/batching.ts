/**
 * Batching: a burst of 50,000 items, maxSize 16. `Batcher.submit` from 50,000
 * concurrent callers against the same callers each making the same
 * (asynchronous) call unbatched — the waiting fiber per caller is the floor;
 * `Batcher.submitAll` (one waiting fiber for all items) and
 * `MicroBatcher.submit` against dataloader's `load`; Effect's own
 * `RequestResolver` + `batchN` in a batched `Effect.forEach`; and the exact
 * number of batch calls of each.
 */
import DataLoader from "dataloader"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Request from "effect/Request"
import * as RequestResolver from "effect/RequestResolver"
import * as Scope from "effect/Scope"
import { Batcher } from "toolfan"
import { MicroBatcher } from "toolfan/promise"
import { measure, note, ratio, type Row, smoke, timeMs } from "../harness.js"

interface Double extends Request.Request<number> {
  readonly _tag: "Double"
  readonly x: number
}
const Double = Request.tagged<Double>("Double")

export const run = async (): Promise<Array<Row>> => {
  const N = smoke ? 500 : 50_000
  const SIZE = 16
  const expected = Math.ceil(N / SIZE)
  const items = Array.from({ length: N }, (_, i) => i)
  const label = (x: number) => x * 2
  let calls = 0
  // the model call is asynchronous, batched or not, as a real one is
  const runPromise = (xs: ReadonlyArray<number>) => {
    calls++
    return Promise.resolve(xs.map(label))
  }
  const call = (xs: ReadonlyArray<number>) => Effect.promise(() => runPromise(xs))
  const effectResolver = RequestResolver.makeBatched((requests: Array<Double>) =>
    Effect.forEach(requests, (r) => Request.succeed(r, label(r.x)), { discard: true }).pipe(
      Effect.zipLeft(Effect.sync(() => calls++))
    )
  ).pipe(RequestResolver.batchN(SIZE))
  const scope = Effect.runSync(Scope.make())
  const batcher = Effect.runSync(Scope.extend(Batcher.make({ run: call, maxSize: SIZE, maxWait: "20 millis" }), scope))

  const counts: Record<string, Array<number>> = {}
  const perItem = (name: string, f: () => Promise<unknown>) => async () => {
    calls = 0
    const us = ((await timeMs(f)) * 1000) / N
    ;(counts[name] ??= []).push(calls)
    return us
  }
  const s = await measure({
    unbatched: perItem("unbatched", () =>
      Effect.runPromise(Effect.forEach(items, (x) => Effect.map(call([x]), (o) => o[0]), { concurrency: "unbounded" }))),
    submit: perItem("submit", () => Effect.runPromise(Effect.forEach(items, batcher.submit, { concurrency: "unbounded" }))),
    dataloader: perItem("dataloader", () => {
      const loader = new DataLoader(runPromise, { maxBatchSize: SIZE, cache: false })
      return Promise.all(items.map((x) => loader.load(x)))
    }),
    submitAll: perItem("submitAll", async () => {
      const outcomes = await Effect.runPromise(batcher.submitAll(items))
      // a figure of failed items would mean nothing (submitAll returns each item's Either)
      if (!outcomes.every(Either.isRight)) throw new Error("batching bench: an item failed")
      return outcomes
    }),
    micro: perItem("micro", async () => {
      const micro = new MicroBatcher(runPromise, { maxSize: SIZE, maxWait: 20 })
      await Promise.all(items.map((x) => micro.submit(x)))
      await micro.close()
    }),
    resolver: perItem("resolver", () =>
      Effect.runPromise(Effect.forEach(items, (x) => Effect.request(Double({ x }), effectResolver), { batching: true })))
  }, { warmup: 1 })
  await Effect.runPromise(Scope.close(scope, Exit.void))

  const section = "batching"
  note(`batching: a burst of ${N.toLocaleString("en-US")} items, maxSize ${SIZE}, maxWait 20 ms`)
  const vs = (name: keyof typeof s, label: string, peer: keyof typeof s, peerLabel: string, target?: number): Row => {
    const r = ratio(s[name], s[peer])
    return {
      section,
      case: label,
      samples: s[name],
      unit: "µs/item",
      ratio: r,
      against: peerLabel,
      target: target === undefined ? undefined : `≤ ${target.toFixed(1)}×`,
      met: target === undefined ? undefined : r <= target
    }
  }
  // every repetition (the warm-up too) must make exactly ceil(n / maxSize) calls
  const exact = (name: string, label: string): Row => {
    const xs = counts[name]!
    return {
      section,
      case: `batch calls, ${label}`,
      samples: xs.slice(-s.submit.length),
      unit: "calls",
      ratio: Math.max(...xs) / expected,
      against: `ceil(n / ${SIZE})`,
      target: `exactly ${expected.toLocaleString("en-US")}`,
      met: xs.every((c) => c === expected)
    }
  }
  return [
    { section, case: "unbatched callers (one async call each)", samples: s.unbatched, unit: "µs/item", against: "peer" },
    vs("submit", "Batcher.submit, one caller per item", "unbatched", "unbatched callers", 1.3),
    { section, case: "dataloader load", samples: s.dataloader, unit: "µs/item", against: "peer" },
    vs("submitAll", "Batcher.submitAll(items)", "dataloader", "dataloader", 1.0),
    vs("micro", "MicroBatcher.submit", "dataloader", "dataloader", 1.5),
    vs("resolver", "Effect RequestResolver + batchN", "dataloader", "dataloader"),
    exact("submit", "Batcher.submit"),
    exact("submitAll", "Batcher.submitAll"),
    exact("micro", "MicroBatcher.submit"),
    exact("dataloader", "dataloader"),
    exact("resolver", "Effect RequestResolver")
  ]
}
