import { assert, describe, expect, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import * as TestClock from "effect/TestClock"
import * as Metric from "effect/Metric"
import { Metrics, Scheduler, Spans, Task } from "../src/index.js"
import * as P from "../src/promise.js"
import { recordingTracer, runFor, thrown } from "./utils.js"

const withScheduler = (options?: Scheduler.Options) => Effect.provide(Scheduler.layer(options))

/**
 * A task body whose n-th call (from 1) sleeps `durations[n - 1]` ms, then
 * succeeds with `"call n"` (or fails when the duration is negative, after
 * its absolute value); each call's start and interruption time is recorded.
 */
const calls = (durations: ReadonlyArray<number>) => {
  const log = { started: [] as Array<number>, interruptedAt: [] as Array<number>, count: 0 }
  const effect = Effect.suspend(() => {
    const n = ++log.count
    const ms = durations[n - 1] ?? durations[durations.length - 1]!
    return Effect.flatMap(Clock.currentTimeMillis, (now) => {
      log.started.push(now)
      const body = Effect.zipRight(Effect.sleep(Math.abs(ms)), ms < 0 ? Effect.fail(`call ${n} failed`) : Effect.succeed(`call ${n}`))
      return Effect.onInterrupt(body, () => Effect.flatMap(Clock.currentTimeMillis, (t) => Effect.sync(() => log.interruptedAt.push(t))))
    })
  })
  return { log, effect }
}

const hedged = { idempotent: true, hedge: { after: 100, budget: 1 } } as const

describe("hedging", () => {
  it.effect("hedge - a second attempt starts after the delay; the first success wins and the loser is interrupted at once", () =>
    Effect.gen(function*() {
      const { effect, log } = calls([1000, 50])
      const [result] = yield* runFor(150, Scheduler.run([Task.make("search", effect, hedged)]))
      assert(result!.ok)
      expect(result!.value).toBe("call 2")
      expect(result!.hedge).toBe("won")
      expect(result!.attempts).toBe(2)
      expect(result!.durationMs).toBe(150)
      expect(log.started).toEqual([0, 100])
      expect(log.interruptedAt).toEqual([150])
      expect(JSON.parse(JSON.stringify(result))).toMatchObject({ ok: true, attempts: 2, hedge: "won" })
    }).pipe(withScheduler()))

  it.effect("hedge - when the first attempt wins, the hedge is interrupted and the result says so", () =>
    Effect.gen(function*() {
      const { effect, log } = calls([150, 1000])
      const [result] = yield* runFor(150, Scheduler.run([Task.make("search", effect, hedged)]))
      expect(result!.value).toBe("call 1")
      expect(result!.hedge).toBe("lost")
      expect(log.interruptedAt).toEqual([150])
    }).pipe(withScheduler()))

  it.effect("hedge - a task that finishes before the delay is not hedged", () =>
    Effect.gen(function*() {
      const { effect, log } = calls([90])
      const [result] = yield* runFor(100, Scheduler.run([Task.make("search", effect, hedged)]))
      expect(result!.hedge).toBeUndefined()
      expect(log.count).toBe(1)
    }).pipe(withScheduler()))

  it("hedge - never hedges a task not marked idempotent: refused when the task is made", () => {
    const error = thrown(() => Task.make("pay", Effect.void, { hedge: { after: 100 } }))
    expect(error.message).toContain("hedge")
    expect(error.message).toContain("idempotent")
    expect(thrown(() => Task.make("pay", Effect.void, { idempotent: false, hedge: { after: 100 } })).option).toBe("hedge")
    expect(() => new P.Task("pay", async () => 1, { hedge: { after: 100 } })).toThrow(TypeError)
  })

  it.effect("hedge - a slow task not marked idempotent runs once", () =>
    Effect.gen(function*() {
      const { effect, log } = calls([1000])
      yield* runFor(1000, Scheduler.run([Task.make("pay", effect, { idempotent: false })]))
      expect(log.count).toBe(1)
    }).pipe(withScheduler()))

  it("hedge - bad options name the option and the value", () => {
    expect(thrown(() => Task.make("t", Effect.void, { idempotent: true, hedge: { after: -1 } })).option).toBe("hedge.after")
    expect(thrown(() => Task.make("t", Effect.void, { idempotent: true, hedge: { after: "p" as never } })).option).toBe("hedge.after")
    expect(thrown(() => Task.make("t", Effect.void, { idempotent: true, hedge: { after: 5, budget: 2 } })).option).toBe("hedge.budget")
    expect(thrown(() => Task.make("t", Effect.void, { idempotent: true, hedge: { after: 5, minSamples: 0 } })).option).toBe("hedge.minSamples")
  })

  it.effect("hedge - a hedge takes its own slot: it waits while the cap is full", () =>
    Effect.gen(function*() {
      const { effect, log } = calls([1000, 50])
      const other = Effect.sleep(500)
      const fiber = yield* Effect.fork(Scheduler.run([Task.make("search", effect, hedged), Task.make("other", other)]))
      yield* TestClock.adjust(499)
      expect(log.started).toEqual([0])
      yield* TestClock.adjust(1)
      expect(log.started).toEqual([0, 500])
      yield* TestClock.adjust(50)
      const [result] = yield* Fiber.join(fiber)
      expect(result!.hedge).toBe("won")
      expect(result!.waitMs).toBe(400)
    }).pipe(withScheduler({ maxConcurrency: 2 })))

  it.effect("hedge - a hedge counts against its group's cap: it waits for the group's place", () =>
    Effect.gen(function*() {
      const { effect, log } = calls([300, 50])
      const [result] = yield* runFor(300, Scheduler.run([Task.make("search", effect, { ...hedged, group: "search" })]))
      expect([result!.value, result!.hedge, log.count]).toEqual(["call 1", "lost", 1])
    }).pipe(withScheduler({ maxConcurrency: 10, groups: { search: 1 } })))

  it.effect("hedge - metrics count hedges started and won, and coalesced calls", () =>
    Effect.gen(function*() {
      const group = "metrics-hedge"
      const count = (m: Metric.Metric.Counter<number>) => Effect.map(Metric.value(Metric.tagged(m, "group", group)), (s) => s.count)
      const { effect } = calls([1000, 50, 1000, 50])
      yield* runFor(150, Scheduler.run([Task.make("a", effect, { ...hedged, group })]))
      expect([yield* count(Metrics.hedges), yield* count(Metrics.hedgesWon)]).toEqual([1, 1])
      yield* runFor(1000, Scheduler.run([Task.make("c", Effect.sleep(10), { group, coalesce: "k" }), Task.make("c", Effect.sleep(10), { group, coalesce: "k" })]))
      expect(yield* count(Metrics.coalesced)).toBe(1)
    }).pipe(withScheduler()))

  it.effect("hedge - budget: extra attempts stay within budget × attempts of the group", () =>
    Effect.gen(function*() {
      const { effect, log } = calls([1000])
      const tasks = Array.from({ length: 40 }, (_, i) =>
        Task.make(`t${i}`, effect, { idempotent: true, group: "search", hedge: { after: 100, budget: 0.05 } }))
      const results = yield* runFor(1000, Scheduler.run(tasks))
      expect(log.count).toBe(42)
      expect(results.filter((r) => r.hedge !== undefined)).toHaveLength(2)
    }).pipe(withScheduler({ maxConcurrency: 100 })))

  it.effect("hedge - a quantile delay waits for minSamples, then hedges at the group's observed quantile", () =>
    Effect.gen(function*() {
      // with the first task's 1,000 ms, 21 successes: 1..20 ms and 1,000 ms, whose p90 is 19 ms
      const fast = Array.from({ length: 20 }, (_, i) =>
        Task.make(`fast${i}`, Effect.sleep(i + 1), { idempotent: true, group: "g", hedge: { after: "p90", budget: 1 } }))
      const early = calls([1000, 10])
      const [first] = yield* runFor(
        1000,
        Scheduler.run([Task.make("early", early.effect, { idempotent: true, group: "g", hedge: { after: "p90", budget: 1 } })])
      )
      expect(first!.hedge).toBeUndefined()
      yield* runFor(20, Scheduler.run(fast))
      const late = calls([1000, 10])
      const [result] = yield* runFor(
        29,
        Scheduler.run([Task.make("late", late.effect, { idempotent: true, group: "g", hedge: { after: "p90", budget: 1 } })])
      )
      expect(late.log.started.map((t) => t - late.log.started[0]!)).toEqual([0, 19])
      expect(result!.hedge).toBe("won")
    }).pipe(withScheduler({ maxConcurrency: 100 })))

  it.effect("hedge - a failed hedge leaves the task to its first attempt", () =>
    Effect.gen(function*() {
      const { effect } = calls([300, -50])
      const [result] = yield* runFor(300, Scheduler.run([Task.make("search", effect, hedged)]))
      expect(result!.value).toBe("call 1")
      expect(result!.hedge).toBe("lost")
      expect(result!.attempts).toBe(2)
    }).pipe(withScheduler()))

  it.effect("hedge - a first attempt that fails while its hedge runs: the hedge's success is the task's, its backoff cut", () =>
    Effect.gen(function*() {
      const { effect, log } = calls([-150, 100])
      const [result] = yield* runFor(
        200,
        Scheduler.run([Task.make("search", effect, { ...hedged, retries: 1, schedule: Schedule.spaced("100 millis") })])
      )
      expect(result!.value).toBe("call 2")
      expect(result!.hedge).toBe("won")
      // the first attempt and the hedge: the retry due at 250 never ran
      expect([result!.attempts, log.count]).toEqual([2, 2])
      expect(result!.durationMs).toBe(200)
    }).pipe(withScheduler()))

  it.effect("hedge - a first attempt that fails for good while its hedge runs waits for the hedge", () =>
    Effect.gen(function*() {
      const { effect } = calls([-150, 100])
      const [result] = yield* runFor(200, Scheduler.run([Task.make("search", effect, hedged)]))
      expect([result!.ok, result!.value, result!.hedge]).toEqual([true, "call 2", "won"])
    }).pipe(withScheduler()))

  it.effect("hedge - when both fail, the task fails with the first attempt's error", () =>
    Effect.gen(function*() {
      const { effect } = calls([-300, -50])
      const [result] = yield* runFor(300, Scheduler.run([Task.make("search", effect, hedged)]))
      assert(!result!.ok && result!.error._tag === "TaskFailed")
      expect([result!.error.error, result!.hedge, result!.attempts]).toEqual(["call 1 failed", "lost", 2])
    }).pipe(withScheduler()))

  it.effect("hedge - clear() cuts a hedge still waiting for a slot; the first attempt goes on", () =>
    Effect.gen(function*() {
      const { effect, log } = calls([1000, 50])
      const fiber = yield* Effect.fork(Scheduler.run([Task.make("search", effect, hedged)]))
      yield* TestClock.adjust(200)
      expect(yield* Scheduler.clear).toBe(0)
      yield* TestClock.adjust(800)
      const [result] = yield* Fiber.join(fiber)
      expect([result!.value, result!.hedge, log.count]).toEqual(["call 1", "lost", 1])
    }).pipe(withScheduler({ maxConcurrency: 1 })))

  it.effect("hedge - a deadline cuts both attempts", () =>
    Effect.gen(function*() {
      const { effect, log } = calls([1000, 1000])
      const [result] = yield* runFor(300, Scheduler.run([Task.make("search", effect, hedged)], { deadline: 300 }))
      assert(!result!.ok)
      expect(result!.error._tag).toBe("TaskInterrupted")
      expect(log.interruptedAt).toEqual([300, 300])
    }).pipe(withScheduler()))

  it.effect("hedge - a promise task's losing attempt has its signal aborted as the hedge wins", () =>
    Effect.gen(function*() {
      const signals: Array<AbortSignal> = []
      const task = Task.fromPromise("fetch", (signal) => {
        signals.push(signal)
        return signals.length === 1 ? new Promise<string>(() => {}) : Promise.resolve("hedge")
      }, hedged)
      const [result] = yield* runFor(100, Scheduler.run([task]))
      expect(result!.value).toBe("hedge")
      expect(result!.hedge).toBe("won")
      expect(signals.map((s) => s.aborted)).toEqual([true, false])
    }).pipe(withScheduler()))

  it.effect("hedge - spans: the hedge's span is marked, the loser ends as hedgeLost", () =>
    Effect.gen(function*() {
      const { spans, tracer } = recordingTracer()
      const { effect } = calls([1000, 50])
      yield* runFor(150, Effect.withTracer(Scheduler.run([Task.make("search", effect, hedged)]), tracer))
      const attempts = spans.filter((s) => s.attributes.get(Spans.attributes.taskName) === "search")
      expect(attempts.map((s) => [s.attributes.get(Spans.attributes.attempt), s.attributes.get(Spans.attributes.outcome)]))
        .toEqual([[1, "hedgeLost"], [2, "ok"]])
      expect(attempts.map((s) => s.attributes.get(Spans.attributes.hedge))).toEqual([undefined, true])
    }).pipe(withScheduler()))
})

describe("coalescing", () => {
  it.effect("coalesce - 10 identical concurrent calls make 1 execution and share its value", () =>
    Effect.gen(function*() {
      const { effect, log } = calls([100])
      const tasks = Array.from({ length: 10 }, () => Task.make("search", effect, { coalesce: "search:agents" }))
      const results = yield* runFor(100, Scheduler.run(tasks))
      expect(log.count).toBe(1)
      expect(results.map((r) => r.value)).toEqual(Array(10).fill("call 1"))
      expect(results.filter((r) => r.coalesced)).toHaveLength(9)
      expect(results[3]!.attempts).toBe(0)
      expect(JSON.parse(JSON.stringify(results[3]))).toMatchObject({ coalesced: true })
      expect(JSON.parse(JSON.stringify(results[0]))).not.toHaveProperty("coalesced")
    }).pipe(withScheduler()))

  it.effect("coalesce - across runs of one scheduler", () =>
    Effect.gen(function*() {
      const { effect, log } = calls([100])
      const a = yield* Effect.fork(Scheduler.run([Task.make("a", effect, { coalesce: "k" })]))
      yield* TestClock.adjust(40)
      const b = yield* Effect.fork(Scheduler.run([Task.make("b", effect, { coalesce: "k" })]))
      yield* TestClock.adjust(60)
      const [[ra], [rb]] = [yield* Fiber.join(a), yield* Fiber.join(b)]
      expect(log.count).toBe(1)
      expect([ra!.value, rb!.value]).toEqual(["call 1", "call 1"])
      expect([rb!.name, rb!.coalesced, rb!.durationMs]).toEqual(["b", true, 60])
    }).pipe(withScheduler()))

  it.effect("coalesce - an error is shared with the calls waiting for it, never served to a later caller", () =>
    Effect.gen(function*() {
      const { effect, log } = calls([-100, 100])
      const first = yield* runFor(100, Scheduler.run([Task.make("s", effect, { coalesce: "k" }), Task.make("s", effect, { coalesce: "k" })]))
      expect(first.map((r) => r.ok)).toEqual([false, false])
      expect(first[1]!.coalesced).toBe(true)
      const [later] = yield* runFor(100, Scheduler.run([Task.make("s", effect, { coalesce: "k", cache: { ttl: "1 hour" } })]))
      expect(later!.value).toBe("call 2")
      expect(later!.coalesced).toBe(false)
      expect(log.count).toBe(2)
    }).pipe(withScheduler()))

  it.effect("coalesce - cache: a success is served for its ttl, then the task runs again", () =>
    Effect.gen(function*() {
      const { effect, log } = calls([10])
      const task = Task.make("s", effect, { coalesce: "k", cache: { ttl: 1000 } })
      yield* runFor(10, Scheduler.run([task]))
      yield* TestClock.adjust(500)
      const [cached] = yield* Scheduler.run([task])
      expect([cached!.value, cached!.coalesced, log.count]).toEqual(["call 1", true, 1])
      yield* TestClock.adjust(500)
      const [fresh] = yield* runFor(10, Scheduler.run([task]))
      expect([fresh!.value, fresh!.coalesced, log.count]).toEqual(["call 2", false, 2])
    }).pipe(withScheduler()))

  it.effect("coalesce - no cache by default: a later call runs again", () =>
    Effect.gen(function*() {
      const { effect, log } = calls([10])
      const task = Task.make("s", effect, { coalesce: true })
      yield* runFor(10, Scheduler.run([task]))
      yield* runFor(10, Scheduler.run([task]))
      expect(log.count).toBe(2)
    }).pipe(withScheduler()))

  it.effect("coalesce - a leader cut by its own run's deadline hands the call to a waiting run", () =>
    Effect.gen(function*() {
      const { effect, log } = calls([100])
      const a = yield* Effect.fork(Scheduler.run([Task.make("a", effect, { coalesce: "k" })], { deadline: 50 }))
      const b = yield* Effect.fork(Scheduler.run([Task.make("b", effect, { coalesce: "k" })]))
      yield* TestClock.adjust(50)
      const [ra] = yield* Fiber.join(a)
      expect(ra!.error?._tag).toBe("TaskInterrupted")
      yield* TestClock.adjust(100)
      const [rb] = yield* Fiber.join(b)
      expect([rb!.value, rb!.coalesced, log.count]).toEqual(["call 2", false, 2])
    }).pipe(withScheduler()))

  it.effect("coalesce - a follower's deadline cuts only the follower", () =>
    Effect.gen(function*() {
      const { effect, log } = calls([100])
      const a = yield* Effect.fork(Scheduler.run([Task.make("a", effect, { coalesce: "k" })]))
      const b = yield* Effect.fork(Scheduler.run([Task.make("b", effect, { coalesce: "k" })], { deadline: 50 }))
      yield* TestClock.adjust(100)
      const [[ra], [rb]] = [yield* Fiber.join(a), yield* Fiber.join(b)]
      expect([ra!.value, rb!.error?._tag, log.count]).toEqual(["call 1", "TaskInterrupted", 1])
    }).pipe(withScheduler()))

  it.effect("coalesce - a task of a run nested in the executing task runs on its own (no deadlock on itself)", () =>
    Effect.gen(function*() {
      let inner = 0
      const outer = Effect.flatMap(
        Scheduler.run([Task.make("k", Effect.sync(() => ++inner), { coalesce: "k" })]),
        ([r]) => Effect.succeed(`outer saw ${r!.value}`)
      )
      const [result] = yield* runFor(10, Scheduler.run([Task.make("k", outer, { coalesce: "k" })], { deadline: 10 }))
      expect([result!.value, inner]).toEqual(["outer saw 1", 1])
    }).pipe(withScheduler()))

  it("coalesce - Promise API: `true` keys by name and canonical arguments", async () => {
    const scheduler = new P.Scheduler({ maxConcurrency: 10 })
    let count = 0
    const search = async (q: { a: number; b: number }) => {
      count++
      await new Promise((r) => setTimeout(r, 5))
      return q.a + q.b
    }
    const results = await scheduler.run([
      new P.Task("search", search, { args: [{ a: 1, b: 2 }], coalesce: true }),
      new P.Task("search", search, { args: [{ b: 2, a: 1 }], coalesce: true }),
      new P.Task("search", search, { args: [{ a: 2, b: 2 }], coalesce: true }),
      new P.Task("other", search, { args: [{ a: 1, b: 2 }], coalesce: (q) => `search${q.a}` })
    ])
    expect(results.map((r) => r.value)).toEqual([3, 3, 4, 3])
    expect(results.map((r) => r.coalesced)).toEqual([false, true, false, false])
    expect(count).toBe(3)
    await scheduler.close()
  })
})

describe("idempotency keys", () => {
  it.effect("Task.idempotencyKey - the same across retries and the hedge, different per task", () =>
    Effect.gen(function*() {
      const keys: Array<[string, string | undefined]> = []
      let n = 0
      const body = (name: string) =>
        Effect.flatMap(Task.idempotencyKey, (key) => {
          keys.push([name, key])
          n++
          return name === "retried" && n === 1 ? Effect.fail("once") : Effect.sleep(name === "hedged" && keys.length < 4 ? 1000 : 10)
        })
      yield* runFor(1200, Scheduler.run([
        Task.make("retried", body("retried"), { retries: 1, schedule: undefined }),
        Task.make("hedged", body("hedged"), hedged)
      ]))
      const retried = keys.filter(([name]) => name === "retried").map(([, k]) => k)
      const hedgedKeys = keys.filter(([name]) => name === "hedged").map(([, k]) => k)
      expect(retried).toHaveLength(2)
      expect(hedgedKeys).toHaveLength(2)
      expect(new Set(retried).size).toBe(1)
      expect(new Set(hedgedKeys).size).toBe(1)
      expect(retried[0]).not.toBe(hedgedKeys[0])
      expect(retried[0]).toMatch(/:0:retried$/)
      expect(yield* Task.idempotencyKey).toBeUndefined()
    }).pipe(withScheduler()))

  it("idempotencyKey(signal) - Promise API: the same across retries, new for each run", async () => {
    const scheduler = new P.Scheduler({ maxConcurrency: 4 })
    const keys: Array<string | undefined> = []
    const call = async (signal: AbortSignal) => {
      keys.push(P.idempotencyKey(signal))
      if (keys.length === 1) throw new Error("once")
      return "ok"
    }
    await scheduler.run([new P.Task("charge", call, { retries: 1, backoff: () => 0 })])
    await scheduler.run([new P.Task("charge", call)])
    expect(keys).toHaveLength(3)
    expect(keys[0]).toBe(keys[1])
    expect(keys[2]).not.toBe(keys[0])
    expect(P.idempotencyKey(new AbortController().signal)).toBeUndefined()
    await scheduler.close()
  })
})
