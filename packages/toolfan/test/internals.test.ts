import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { BucketQueue } from "../src/internal/queue.js"
import { Timer } from "../src/internal/timer.js"

// The scheduler's own data structures, where their bounds are not visible
// through the public API.

interface Item {
  readonly priority: number
  readonly id: number
}

describe("internals", () => {
  describe("BucketQueue", () => {
    it("priorities taken from scores (every one different) do not pile up empty levels", () => {
      const q = new BucketQueue<Item>()
      for (let i = 0; i < 10_000; i++) {
        q.push({ priority: Math.random(), id: i })
        expect(q.shift(() => true)?.id).toBe(i)
      }
      expect(q.levelCount).toBeLessThanOrEqual(16)
    })

    it("keeps highest priority first, first-come-first-served within a level, across prunes", () => {
      const q = new BucketQueue<Item>()
      const items = Array.from({ length: 200 }, (_, id) => ({ priority: id % 40, id }))
      // interleave pushes with shifts so that levels empty and prunes happen meanwhile
      const out: Array<Item> = []
      for (const item of items) {
        q.push(item)
        if (item.id % 3 === 0) out.push(q.shift(() => true)!)
      }
      for (let item = q.shift(() => true); item !== undefined; item = q.shift(() => true)) out.push(item)
      expect(out.length).toBe(200)
      // the tail, after the last push, is sorted: by priority (high first), then by id
      const tail = out.slice(67)
      const sorted = [...tail].sort((a, b) => b.priority - a.priority || a.id - b.id)
      expect(tail).toEqual(sorted)
    })
  })

  describe("Timer", () => {
    it.effect("distinct delays (e.g. per-request deadlines) do not pile up empty lanes while the timer is busy", () =>
      Effect.gen(function*() {
        const clock = yield* Effect.clock
        const runtime = yield* Effect.runtime<never>()
        const timer = new Timer(clock, runtime)
        const noop = () => {}
        // one long-lived entry keeps the timer busy (it never goes idle, which would drop every lane)
        const busy = timer.lane(0, 60_000, noop, undefined)
        for (let i = 1; i <= 5_000; i++) timer.cancel(timer.lane(0, 1000 + i, noop, undefined))
        expect(timer.laneCount).toBeLessThanOrEqual(16)
        timer.cancel(busy)
        timer.shutdown()
      }))
  })
})
