import { describe, expect, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import { Batcher, Scheduler, Task } from "../src/index.js"
import { BucketQueue, List, remove } from "../src/internal/queue.js"
import { Timer, type TimerEntry } from "../src/internal/timer.js"

// The scheduler's own data structures, where their bounds are not visible
// through the public API.

class Item {
  list: any = undefined
  slot = 0
  constructor(readonly priority: number, readonly id: number) {}
}

const drain = (q: BucketQueue<Item>): Array<number> => {
  const out: Array<number> = []
  for (let item = q.shift(() => true); item !== undefined; item = q.shift(() => true)) out.push(item.id)
  return out
}

/**
 * A priority that counts how often it is compared (`<`, `>` call `valueOf`),
 * so that the cost of the level structure is counted, not timed.
 */
const counted = () => {
  const counter = { compares: 0 }
  const priority = (value: number): number =>
    ({
      valueOf() {
        counter.compares++
        return value
      }
    }) as unknown as number
  return { counter, priority }
}

describe("internals", () => {
  describe("BucketQueue", () => {
    it("priorities taken from scores (every one different) do not pile up empty levels", () => {
      const q = new BucketQueue<Item>()
      for (let i = 0; i < 10_000; i++) {
        q.push(new Item(Math.random(), i))
        expect(q.shift(() => true)?.id).toBe(i)
      }
      expect(q.levelCount).toBeLessThanOrEqual(16)
    })

    it("keeps highest priority first, first-come-first-served within a level, across prunes", () => {
      const q = new BucketQueue<Item>()
      const items = Array.from({ length: 200 }, (_, id) => new Item(id % 40, id))
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

    it("List - entries removed from the middle behind a stuck head are not kept: the array stays within twice what is live", () => {
      const list = new List<Item>()
      const stuck = new Item(0, -1)
      list.push(stuck)
      const items = Array.from({ length: 10_000 }, (_, i) => new Item(0, i))
      for (const item of items) list.push(item)
      for (const item of items.slice(0, 9_990)) list.remove(item)
      expect(list.size).toBe(11)
      expect((list as unknown as { items: Array<unknown> }).items.length).toBeLessThanOrEqual(2 * 11 + 64 + 1)
      const order: Array<number> = []
      for (let item = list.first(); item !== undefined; item = list.first()) {
        order.push(item.id)
        list.remove(item)
      }
      expect(order).toEqual([-1, ...items.slice(9_990).map((i) => i.id)])
    })

    it("remove() - takes an entry out at once wherever it stands, the others keep their order", () => {
      const q = new BucketQueue<Item>()
      const items = Array.from({ length: 12 }, (_, id) => new Item(id % 3, id))
      for (const item of items) q.push(item)
      // a head, a tail, a middle one, and every entry of level 1 (the level leaves)
      for (const id of [2, 11, 4, 1, 7, 10]) remove(items[id]!)
      remove(items[4]!) // twice: nothing
      expect(q.size).toBe(6)
      expect(items[4]!.list).toBeUndefined()
      expect(drain(q)).toEqual([5, 8, 0, 3, 6, 9])
      expect(q.size).toBe(0)
    })

    it("push() - an entry pushed while queued is moved, never held twice", () => {
      const q = new BucketQueue<Item>()
      const a = new Item(0, 1)
      const b = new Item(0, 2)
      q.push(a)
      q.push(b)
      q.push(a)
      expect(drain(q)).toEqual([2, 1])
    })

    it("many distinct priorities: adding and taking a level compares O(log levels) priorities", () => {
      // 4,096 levels, pushed lowest last (each new one goes below all others)
      // and in a shuffled order: a sorted list searched linearly compares
      // ~n²/2 = 8 million times, a heap of levels ~n·log2(n) = 49,000
      const n = 4_096
      const bound = 4 * n * Math.log2(n)
      for (const order of ["descending", "shuffled"] as const) {
        const { counter, priority } = counted()
        const values = Array.from({ length: n }, (_, i) => n - i)
        if (order === "shuffled") {
          let seed = 7
          for (let i = n - 1; i > 0; i--) {
            seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
            const j = seed % (i + 1)
            ;[values[i], values[j]] = [values[j]!, values[i]!]
          }
        }
        const q = new BucketQueue<Item>()
        for (let i = 0; i < n; i++) q.push(new Item(priority(values[i]!), values[i]!))
        const out = drain(q)
        expect(out).toEqual(Array.from({ length: n }, (_, i) => n - i))
        expect(counter.compares, order).toBeLessThan(bound)
      }
    })

    it("pushing to a level already held finds it without searching the others", () => {
      const { counter, priority } = counted()
      const q = new BucketQueue<Item>()
      const levels = Array.from({ length: 1_000 }, (_, i) => priority(i))
      for (const p of levels) q.push(new Item(p, 0))
      counter.compares = 0
      // the lowest of 1,000 busy levels, pushed to 1,000 times
      const low = levels[0]!
      for (let i = 0; i < 1_000; i++) q.push(new Item(low, i + 1))
      expect(counter.compares).toBeLessThan(1_000)
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

  describe("Timer entries", () => {
    const withTimer = <A>(f: (timer: Timer, fired: Array<string>) => Effect.Effect<A>) =>
      Effect.gen(function*() {
        const timer = new Timer(yield* Effect.clock, yield* Effect.runtime<never>())
        const fired: Array<string> = []
        const result = yield* f(timer, fired)
        timer.shutdown()
        return result
      })
    const record = (fired: Array<string>) => (name: string) => fired.push(name)

    it.effect("cancel() - an entry leaves its lane at once, even behind a pending head", () =>
      withTimer((timer, fired) =>
        Effect.gen(function*() {
          const now = timer.now()
          const head = timer.lane(now, 30_000, record(fired), "head")
          const done = Array.from({ length: 3 }, (_, i) => timer.lane(now, 30_000, record(fired), `done${i}`))
          const last = timer.lane(now, 30_000, record(fired), "last")
          for (const entry of done) timer.cancel(entry)
          expect(done.map((e: TimerEntry) => e.list)).toEqual([undefined, undefined, undefined])
          expect(head.list).toBe(last.list)
          expect(head.list!.size).toBe(2)
          yield* TestClock.adjust("30 seconds")
          expect(fired).toEqual(["head", "last"])
        })
      ))

    it.effect("cancel() - a backoff leaves the heap at once; the others fire in time order", () =>
      withTimer((timer, fired) =>
        Effect.gen(function*() {
          const now = timer.now()
          const entries = [500, 100, 400, 200, 300].map((ms) => timer.at(now + ms, record(fired), `${ms}`))
          timer.cancel(entries[3]!) // 200, in the middle of the heap
          timer.cancel(entries[1]!) // 100, its top
          expect(entries.map((e) => e.heapIndex >= 0)).toEqual([true, false, true, false, true])
          yield* TestClock.adjust("350 millis")
          expect(fired).toEqual(["300"])
          yield* TestClock.adjust("1 second")
          expect(fired).toEqual(["300", "400", "500"])
        })
      ))
  })

  describe("monotonic time", () => {
    /**
     * The TestClock with a system clock that can be stepped (NTP, resume from
     * sleep): `unsafeCurrentTimeMillis` jumps by `step.ms`, the monotonic
     * nanoseconds and sleeps follow the TestClock only.
     */
    const steppedClock = (inner: Clock.Clock) => {
      const step = { ms: 0 }
      const clock: Clock.Clock = {
        [Clock.ClockTypeId]: Clock.ClockTypeId,
        unsafeCurrentTimeMillis: () => inner.unsafeCurrentTimeMillis() + step.ms,
        currentTimeMillis: Effect.sync(() => inner.unsafeCurrentTimeMillis() + step.ms),
        unsafeCurrentTimeNanos: () => inner.unsafeCurrentTimeNanos(),
        currentTimeNanos: inner.currentTimeNanos,
        sleep: (duration: Duration.Duration) => inner.sleep(duration)
      }
      return { clock, step }
    }

    /** Runs `f` with a scheduler whose clock is a stepped TestClock. */
    const withSteppedScheduler = <A>(
      f: (scheduler: Scheduler.Service, step: { ms: number }) => Effect.Effect<A>
    ): Effect.Effect<A> =>
      Effect.scoped(Effect.gen(function*() {
        const { clock, step } = steppedClock(yield* Effect.clock)
        const scheduler = yield* Effect.orDie(Effect.withClock(Scheduler.make({ maxConcurrency: 4 }), clock))
        return yield* f(scheduler, step)
      }))

    it.effect("run() - a 300 ms timeout fires after 300 ms although the system clock steps back 8 s", () =>
      withSteppedScheduler((scheduler, step) =>
        Effect.gen(function*() {
          const fiber = yield* Effect.fork(scheduler.run([Task.make("hung", Effect.never, { timeout: "300 millis" })]))
          yield* TestClock.adjust("100 millis")
          step.ms -= 8_000
          yield* TestClock.adjust("200 millis")
          // settled by now (it waited for the system clock's 8 s before)
          expect(Option.isSome(yield* Fiber.poll(fiber))).toBe(true)
          const [result] = yield* Fiber.join(fiber)
          expect(result!.error?._tag).toBe("TaskTimedOut")
          expect(result!.durationMs).toBe(300)
        })
      ))

    it.effect("run() - durationMs and waitMs count monotonic time, never negative, across steps of the system clock", () =>
      withSteppedScheduler((scheduler, step) =>
        Effect.gen(function*() {
          const fiber = yield* Effect.fork(
            scheduler.run(Array.from({ length: 5 }, (_, i) => Task.make(`t${i}`, Effect.sleep("100 millis"))))
          )
          yield* TestClock.adjust("50 millis")
          step.ms -= 8_000
          yield* TestClock.adjust("100 millis")
          step.ms += 3_600_000
          yield* TestClock.adjust("100 millis")
          const results = yield* Fiber.join(fiber)
          // four start at once; the fifth waits for a slot
          expect(results.map((r) => [r.durationMs, r.waitMs])).toEqual([[100, 0], [100, 0], [100, 0], [100, 0], [100, 100]])
        })
      ))

    it.effect("Batcher - a batch window closes maxWait after its first item although the system clock steps back 8 s", () =>
      Effect.scoped(Effect.gen(function*() {
        const { clock, step } = steppedClock(yield* Effect.clock)
        const sizes: Array<number> = []
        const batcher = yield* Effect.orDie(Effect.withClock(
          Batcher.make({ run: (xs: ReadonlyArray<number>) => Effect.sync(() => (sizes.push(xs.length), xs)), maxWait: "20 millis" }),
          clock
        ))
        const fiber = yield* Effect.fork(Effect.withClock(batcher.submit(1), clock))
        yield* TestClock.adjust("5 millis")
        step.ms -= 8_000
        yield* TestClock.adjust("15 millis")
        // sent at 20 ms (it waited for the system clock's 8 s before)
        expect(sizes).toEqual([1])
        expect(yield* Fiber.join(fiber)).toBe(1)
      })))

    it.effect("run() - a timeout longer than Node's timers allow (30 days > 2^31-1 ms) still fires", () =>
      Effect.scoped(Effect.gen(function*() {
        // the TestClock, sleeping like Effect's real clock: a sleep over 2^31-1 ms (Node's limit) never ends
        const inner = yield* Effect.clock
        const nodeLike: Clock.Clock = {
          ...inner,
          [Clock.ClockTypeId]: Clock.ClockTypeId,
          unsafeCurrentTimeMillis: () => inner.unsafeCurrentTimeMillis(),
          unsafeCurrentTimeNanos: () => inner.unsafeCurrentTimeNanos(),
          currentTimeMillis: inner.currentTimeMillis,
          currentTimeNanos: inner.currentTimeNanos,
          sleep: (duration) => Duration.toMillis(duration) > 2 ** 31 - 1 ? Effect.never : inner.sleep(duration)
        }
        const scheduler = yield* Effect.orDie(Effect.withClock(Scheduler.make(), nodeLike))
        const fiber = yield* Effect.fork(scheduler.run([Task.make("hung", Effect.never, { timeout: "30 days" })]))
        yield* TestClock.adjust("30 days")
        yield* TestClock.adjust("1 millis")
        const [result] = yield* Fiber.join(fiber)
        expect(result!.error?._tag).toBe("TaskTimedOut")
        expect(result!.durationMs).toBe(30 * 24 * 3600 * 1000)
      })))

    it.effect("run() - a step of the system clock 1 h forward times out no task and cuts no run at its deadline", () =>
      withSteppedScheduler((scheduler, step) =>
        Effect.gen(function*() {
          const fiber = yield* Effect.fork(scheduler.run([
            Task.make("slow", Effect.as(Effect.sleep("1 second"), "done"), { timeout: "10 minutes" }),
            // wakes the timer at 100 ms, when the system clock is an hour ahead
            Task.make("hung", Effect.never, { timeout: "100 millis" })
          ], { deadline: "20 minutes" }))
          yield* TestClock.adjust("10 millis")
          step.ms += 3_600_000
          yield* TestClock.adjust("1 second")
          const [slow, hung] = yield* Fiber.join(fiber)
          expect([slow!.value, slow!.durationMs, slow!.attempts]).toEqual(["done", 1000, 1])
          expect(hung!.error?._tag).toBe("TaskTimedOut")
        })
      ))
  })
})
