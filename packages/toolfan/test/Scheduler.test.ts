import { assert, describe, expect, it } from "@effect/vitest"
import { AsyncLocalStorage } from "node:async_hooks"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import * as Runtime from "effect/Runtime"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { GroupLimit, InvalidOption, Scheduler, Task, TaskError } from "../src/index.js"
import { advance, Probe, runFor } from "./utils.js"

class SearchError extends Data.TaggedError("SearchError")<{ readonly transient: boolean }> {}

const withScheduler = (options?: Scheduler.Options) => Effect.provide(Scheduler.layer(options))

describe("Scheduler", () => {
  describe("results", () => {
    it.effect("run() - keeps input order when later tasks finish first", () =>
      Effect.gen(function*() {
        const results = yield* runFor(
          300,
          Scheduler.run([
            Task.make("slow", Effect.as(Effect.sleep(300), "s")),
            Task.make("mid", Effect.as(Effect.sleep(200), "m")),
            Task.make("fast", Effect.as(Effect.sleep(100), "f"))
          ])
        )
        expect(results.map((r) => r.name)).toEqual(["slow", "mid", "fast"])
        expect(results.map((r) => r.value)).toEqual(["s", "m", "f"])
        expect(results.map((r) => r.durationMs)).toEqual([300, 200, 100])
      }).pipe(withScheduler()))

    it.effect("run() - a result holds an Either, ok, value, error and attempts", () =>
      Effect.gen(function*() {
        const [good, bad] = yield* Scheduler.run([
          Task.make("good", Effect.succeed(42)),
          Task.make("bad", Effect.fail(new SearchError({ transient: false })))
        ])
        assert.isTrue(good.ok)
        expect(good.result).toEqual(Either.right(42))
        expect(good.value).toBe(42)
        expect(good.error).toBeUndefined()
        expect(good.attempts).toBe(1)
        assert.isFalse(bad.ok)
        expect(bad.value).toBeUndefined()
        assert(bad.error?._tag === "TaskFailed")
        expect(bad.error.error).toEqual(new SearchError({ transient: false }))
        expect(bad.error.cause).toEqual(new SearchError({ transient: false }))
        expect(Either.isLeft(bad.result)).toBe(true)
        expect(bad.error.message).toBe(`task "bad" failed: SearchError { transient: false }`)
      }).pipe(withScheduler()))

    it.effect("run() - an empty list gives an empty list", () =>
      Effect.gen(function*() {
        expect(yield* Scheduler.run([])).toEqual([])
      }).pipe(withScheduler()))

    it.effect("run() - durationMs runs from the first start, waitMs counts the time queued", () =>
      Effect.gen(function*() {
        const [first, second] = yield* runFor(
          150,
          Scheduler.run([
            Task.make("first", Effect.sleep(100)),
            Task.make("second", Effect.sleep(50))
          ])
        )
        expect([first.durationMs, first.waitMs]).toEqual([100, 0])
        expect([second.durationMs, second.waitMs]).toEqual([50, 100])
      }).pipe(withScheduler({ maxConcurrency: 1 })))

    it.effect("run() - the same task can run many times", () =>
      Effect.gen(function*() {
        let calls = 0
        const task = Task.make("t", Effect.sync(() => ++calls))
        const results = yield* Scheduler.run([task, task, task])
        expect(results.map((r) => r.value)).toEqual([1, 2, 3])
      }).pipe(withScheduler({ maxConcurrency: 1 })))

    it.effect("stream() - emits results in completion order", () =>
      Effect.gen(function*() {
        const fiber = yield* Effect.fork(
          Stream.runCollect(Scheduler.stream([
            Task.make("slow", Effect.as(Effect.sleep(300), 3)),
            Task.make("fast", Effect.as(Effect.sleep(100), 1)),
            Task.make("mid", Effect.as(Effect.sleep(200), 2))
          ]))
        )
        yield* TestClock.adjust(300)
        const results = Chunk.toReadonlyArray(yield* Fiber.join(fiber))
        expect(results.map((r) => r.name)).toEqual(["fast", "mid", "slow"])
      }).pipe(withScheduler()))

    it.effect("stream() - ending the stream early interrupts the tasks still running", () =>
      Effect.gen(function*() {
        let interrupted = 0
        const slow = (name: string) =>
          Task.make(name, Effect.sleep(1000).pipe(Effect.onInterrupt(() => Effect.sync(() => interrupted++))))
        const fiber = yield* Effect.fork(
          Stream.runCollect(Stream.take(Scheduler.stream([Task.make("fast", Effect.sleep(10)), slow("a"), slow("b")]), 1))
        )
        yield* TestClock.adjust(10)
        const results = yield* Fiber.join(fiber)
        expect(Chunk.toReadonlyArray(results).map((r) => r.name)).toEqual(["fast"])
        expect(interrupted).toBe(2)
        expect(yield* Scheduler.stats).toEqual({ active: 0, pending: 0, delayed: 0 })
      }).pipe(withScheduler()))
  })

  describe("concurrency", () => {
    it.effect("run() - never has more than maxConcurrency attempts in flight", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        const tasks = Array.from({ length: 20 }, (_, i) => Task.make(`t${i}`, probe.sleep(`t${i}`, 100, i)))
        const results = yield* runFor(700, Scheduler.run(tasks))
        expect(probe.peak).toBe(3)
        expect(results.every((r) => r.ok)).toBe(true)
        // 20 tasks, 3 at a time, 100 ms each: 7 waves
        expect(Math.max(...probe.ends.map((e) => e.at))).toBe(700)
      }).pipe(withScheduler({ maxConcurrency: 3 })))

    it.effect("run() - the cap holds across concurrent runs of one scheduler", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        const tasks = (prefix: string) =>
          Array.from({ length: 5 }, (_, i) => Task.make(`${prefix}${i}`, probe.sleep(`${prefix}${i}`, 100, i)))
        const fiber = yield* Effect.fork(
          Effect.all([Scheduler.run(tasks("a")), Scheduler.run(tasks("b")), Scheduler.run(tasks("c"))], {
            concurrency: "unbounded"
          })
        )
        yield* TestClock.adjust(800)
        const [a, b, c] = yield* Fiber.join(fiber)
        expect(probe.peak).toBe(2)
        expect([...a, ...b, ...c].every((r) => r.ok)).toBe(true)
      }).pipe(withScheduler({ maxConcurrency: 2 })))

    it.effect("run() - a freed slot is reused at once", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        yield* runFor(
          400,
          Scheduler.run([
            Task.make("short", probe.sleep("short", 50, 0)),
            Task.make("long", probe.sleep("long", 300, 0)),
            Task.make("next", probe.sleep("next", 100, 0))
          ])
        )
        expect(probe.startOf("next")).toBe(50)
      }).pipe(withScheduler({ maxConcurrency: 2 })))

    it.effect("run() - waiting tasks start by priority, then first-come-first-served", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        const t = (name: string, priority: number) => Task.make(name, probe.sleep(name, 10, name), { priority })
        yield* runFor(
          1000,
          Scheduler.run([t("blocker", 9), t("low-1", 0), t("high-1", 5), t("mid", 1), t("high-2", 5), t("low-2", 0)])
        )
        expect(probe.startOrder()).toEqual(["blocker", "high-1", "high-2", "mid", "low-1", "low-2"])
      }).pipe(withScheduler({ maxConcurrency: 1 })))

    it.effect("run() - priority applies across runs sharing the scheduler", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        const fiber = yield* Effect.fork(Scheduler.run([
          Task.make("blocker", probe.sleep("blocker", 100, 0)),
          Task.make("low", probe.sleep("low", 10, 0), { priority: -1 })
        ]))
        yield* TestClock.adjust(50)
        const urgent = yield* Effect.fork(
          Scheduler.run([Task.make("urgent", probe.sleep("urgent", 10, 0), { priority: 10 })])
        )
        yield* TestClock.adjust(200)
        yield* Fiber.join(fiber)
        yield* Fiber.join(urgent)
        expect(probe.startOrder()).toEqual(["blocker", "urgent", "low"])
      }).pipe(withScheduler({ maxConcurrency: 1 })))

    it.effect("run() - a group's cap holds and its waiting tasks hold no global slot", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        const search = (name: string) => Task.make(name, probe.sleep(name, 100, name), { group: "search" })
        const other = (name: string) => Task.make(name, probe.sleep(name, 100, name))
        const results = yield* runFor(
          300,
          Scheduler.run([search("s1"), search("s2"), search("s3"), other("o1"), other("o2")])
        )
        // s2 and s3 wait for the search cap; o1 takes the free global slot at once
        expect(probe.startOf("s1")).toBe(0)
        expect(probe.startOf("o1")).toBe(0)
        expect(probe.startOf("s2")).toBe(100)
        expect(probe.startOf("o2")).toBe(100)
        expect(probe.startOf("s3")).toBe(200)
        expect(probe.peak).toBe(2)
        expect(results.every((r) => r.ok)).toBe(true)
      }).pipe(withScheduler({ maxConcurrency: 2, groups: { search: 1 } })))

    it.effect("run() - a full group never blocks other groups", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        const tasks = [
          ...Array.from({ length: 6 }, (_, i) => Task.make(`a${i}`, probe.sleep(`a${i}`, 100, 0), { group: "a" })),
          Task.make("b0", probe.sleep("b0", 100, 0), { group: "b" })
        ]
        yield* runFor(600, Scheduler.run(tasks))
        expect(probe.startOf("b0")).toBe(0)
      }).pipe(withScheduler({ maxConcurrency: 3, groups: { a: 1, b: 1 } })))

    it.effect("run() - a run started inside a task does not deadlock and its tasks run", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        const inner = (name: string) => Task.make(name, probe.sleep(name, 10, name))
        const outer = (name: string) =>
          Task.make(
            name,
            Effect.map(Scheduler.run([inner(`${name}.1`), inner(`${name}.2`)]), (rs) => rs.map((r) => r.value))
          )
        const results = yield* runFor(1000, Scheduler.run([outer("x"), outer("y")]))
        expect(results.map((r) => r.value)).toEqual([["x.1", "x.2"], ["y.1", "y.2"]])
        expect(probe.peak).toBe(1)
        expect(yield* Scheduler.stats).toEqual({ active: 0, pending: 0, delayed: 0 })
      }).pipe(withScheduler({ maxConcurrency: 1 })))

    it.effect("run() - several nested runs started together from one task share its slot and finish", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        const inner = (name: string) => Task.make(name, probe.sleep(name, 10, name))
        const parent = Task.make(
          "parent",
          Effect.all([Scheduler.run([inner("a")]), Scheduler.run([inner("b"), inner("c")])], { concurrency: 2 }),
          { timeout: 10_000 }
        )
        const [result] = yield* runFor(100, Scheduler.run([parent]))
        expect(result.ok).toBe(true)
        expect(result.value?.flat().map((r) => r.value)).toEqual(["a", "b", "c"])
        expect(probe.peak).toBe(1)
        expect(yield* Scheduler.stats).toEqual({ active: 0, pending: 0, delayed: 0 })
      }).pipe(withScheduler({ maxConcurrency: 1 })))

    it.effect("run() - a parent takes its slot back after its nested run, ahead of waiting tasks", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        const parent = Task.make(
          "parent",
          Effect.zipRight(
            Scheduler.run([Task.make("child", probe.sleep("child", 10, 0), { priority: 10 })]),
            probe.sleep("parent-after", 50, 0)
          )
        )
        yield* runFor(200, Scheduler.run([parent, Task.make("waiting", probe.sleep("waiting", 10, 0))]))
        expect(probe.startOrder()).toEqual(["child", "parent-after", "waiting"])
        expect(probe.peak).toBe(1)
      }).pipe(withScheduler({ maxConcurrency: 1 })))

    for (const ending of ["stream", "interrupted run"] as const) {
      it.effect(`${ending} - a nested ${ending} that ends while its parent's slot is lent out returns only once the slot is back`, () =>
        Effect.gen(function*() {
          const probe = new Probe()
          const cut = Task.make("cut", Effect.sleep(1000))
          // the nested run's only task is cut by its deadline at 105 ms, while "urgent" holds the lent slot until 505 ms
          const nested = ending === "stream"
            ? Stream.runDrain(Scheduler.stream([cut], { deadline: 100 }))
            : Effect.timeout(Scheduler.run([cut], { deadline: 100 }), 100).pipe(Effect.ignore)
          // the parent starts its nested run at 5 ms, when "urgent" is already waiting: urgent takes the lent slot
          const parent = Task.make("parent", Effect.zipRight(Effect.delay(nested, 5), probe.sleep("parent-after", 10, 0)))
          const urgent = Task.make("urgent", probe.sleep("urgent", 500, 0), { priority: 10 })
          yield* runFor(2000, Effect.all([
            Scheduler.run([parent]),
            Effect.delay(Scheduler.run([urgent]), 1) // queued while the parent runs
          ], { concurrency: 2 }))
          expect(probe.peak).toBe(1) // never two attempts at maxConcurrency 1
          expect(probe.starts.find((s) => s.name === "parent-after")!.at).toBe(505)
        }).pipe(withScheduler({ maxConcurrency: 1 })))
    }

    it.effect("timeout - a task whose nested run ended while its slot was lent out still times out on time", () =>
      Effect.gen(function*() {
        // P lends its slot and its place in "g" to its nested run; Q takes the place until 2 s; P's nested run ends
        // at 10 ms and P waits for its place back — its timeout at 100 ms must still cut it then
        const parent = Task.make("P", Scheduler.run([Task.make("C", Effect.sleep(10))]), { group: "g", timeout: 100 })
        const q = Task.make("Q", Effect.sleep(2000), { group: "g" })
        const [p] = yield* runFor(3000, Scheduler.run([parent, q]))
        expect(p.error?._tag).toBe("TaskTimedOut")
        expect(p.durationMs).toBe(100)
      }).pipe(withScheduler({ maxConcurrency: 2, groups: { g: 1 } })))

    it.effect("run() - a nested run in the parent's group does not deadlock on the group cap", () =>
      Effect.gen(function*() {
        const results = yield* runFor(
          1000,
          Scheduler.run([
            Task.make(
              "parent",
              Scheduler.run([Task.make("child", Effect.as(Effect.sleep(10), "done"), { group: "g" })]),
              { group: "g" }
            )
          ])
        )
        expect(results[0].value?.[0].value).toBe("done")
      }).pipe(withScheduler({ maxConcurrency: 2, groups: { g: 1 } })))

    it.effect("run() - a fiber forked by a task (not joined) that runs later is not nested in another task: the cap holds", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        // "spawner" forks a background fiber and ends at once; the fiber calls run() at 50 ms,
        // while "busy" (queued behind the spawner) is running on the same worker
        const spawner = Task.make(
          "spawner",
          Effect.asVoid(Effect.forkDaemon(Effect.delay(Scheduler.run([Task.make("late", probe.sleep("late", 10, 0))]), 50)))
        )
        const busy = Task.make("busy", probe.sleep("busy", 100, 0))
        yield* runFor(500, Scheduler.run([spawner, busy]))
        yield* TestClock.adjust(500)
        expect(probe.peak).toBe(1) // was 2: "late" borrowed the slot of "busy"
        expect(probe.startOf("late")).toBe(100) // it waits for a slot like any run
        expect(yield* Scheduler.stats).toEqual({ active: 0, pending: 0, delayed: 0 })
      }).pipe(withScheduler({ maxConcurrency: 1 })))

    it.effect("run() - a fiber forked by a task that runs while its task still runs is nested in it (no deadlock)", () =>
      Effect.gen(function*() {
        const parent = Task.make(
          "parent",
          Effect.flatMap(
            Effect.fork(Scheduler.run([Task.make("child", Effect.as(Effect.sleep(10), "done"))])),
            Fiber.join
          )
        )
        const [result] = yield* runFor(100, Scheduler.run([parent]))
        expect(result.value?.[0].value).toBe("done")
      }).pipe(withScheduler({ maxConcurrency: 1 })))

    it.effect("run() - a nested run in a rate-limited group takes its slot back without waiting for a turn", () =>
      Effect.gen(function*() {
        // one start per 3 s: the parent used the turn; taking its slot back after the child is no new start
        const parent = Task.make(
          "parent",
          Effect.zipRight(Scheduler.run([Task.make("child", Effect.sleep(10))]), Clock.currentTimeMillis),
          { group: "llm" }
        )
        const [result] = yield* runFor(100, Scheduler.run([parent]))
        expect(result.value).toBe(10) // was 3000: it waited for the next rate token
        expect(result.durationMs).toBe(10)
      }).pipe(withScheduler({
        maxConcurrency: 1,
        groups: { llm: GroupLimit.rate({ limit: 1, window: "3 seconds", algorithm: "fixed-window" }) }
      })))

    it.effect("stats - reports attempts in flight, tasks waiting and tasks in backoff", () =>
      Effect.gen(function*() {
        const fiber = yield* Effect.fork(Scheduler.run([
          Task.make("a", Effect.sleep(100)),
          Task.make("b", Effect.sleep(100)),
          Task.make("c", Effect.fail("x"), { retries: 1, schedule: Schedule.spaced(1000) })
        ]))
        yield* TestClock.adjust(1)
        expect(yield* Scheduler.stats).toEqual({ active: 2, pending: 1, delayed: 0 })
        yield* TestClock.adjust(100)
        expect(yield* Scheduler.stats).toEqual({ active: 0, pending: 0, delayed: 1 })
        yield* TestClock.adjust(1000)
        yield* Fiber.join(fiber)
        expect(yield* Scheduler.stats).toEqual({ active: 0, pending: 0, delayed: 0 })
      }).pipe(withScheduler({ maxConcurrency: 2 })))
  })

  describe("timeouts", () => {
    // lets the microtasks and immediates of promise tasks run between steps of the TestClock
    const settle = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))

    it.effect("a promise task's value that comes after its attempt timed out is ignored; the retry's value is the result", () =>
      Effect.gen(function*() {
        const resolvers: Array<(value: string) => void> = []
        const signals: Array<AbortSignal> = []
        const task = Task.fromPromise(
          "late",
          (signal) => {
            signals.push(signal)
            return new Promise<string>((resolve) => resolvers.push(resolve))
          },
          { timeout: 100, retries: 1, schedule: Schedule.spaced(10) }
        )
        const fiber = yield* Effect.fork(Scheduler.run([task]))
        yield* settle
        yield* TestClock.adjust(100) // the first attempt times out: its signal is aborted
        yield* settle
        expect(signals[0]!.aborted).toBe(true)
        yield* TestClock.adjust(10) // the backoff is over: the second attempt starts
        yield* settle
        expect(signals.length).toBe(2)
        resolvers[0]!("first, too late")
        yield* settle
        resolvers[1]!("second")
        const [result] = yield* Fiber.join(fiber)
        expect([result.value, result.attempts, result.durationMs]).toEqual(["second", 2, 110])
        expect(signals[1]!.aborted).toBe(false)
      }).pipe(withScheduler()))

    it.effect("interrupts the attempt, runs its finalizers and reports TaskTimedOut", () =>
      Effect.gen(function*() {
        let finalized = false
        const fiber = yield* Effect.fork(Scheduler.run([
          Task.make("hang", Effect.never.pipe(Effect.ensuring(Effect.sync(() => (finalized = true)))), {
            timeout: "1 second"
          })
        ]))
        yield* TestClock.adjust(999)
        expect(fiber.unsafePoll()).toBeNull()
        yield* TestClock.adjust(1)
        const [result] = yield* Fiber.join(fiber)
        assert(result.error?._tag === "TaskTimedOut")
        expect(Duration.toMillis(result.error.timeout)).toBe(1000)
        expect(result.error.message).toContain(`task "hang" timed out after 1s`)
        expect(result.durationMs).toBe(1000)
        expect(finalized).toBe(true)
      }).pipe(withScheduler()))

    it.effect("aborts the AbortSignal of a promise task", () =>
      Effect.gen(function*() {
        let seen: AbortSignal | undefined
        const fiber = yield* Effect.fork(Scheduler.run([
          Task.fromPromise("hang", (signal) => {
            seen = signal
            return new Promise<never>(() => {})
          }, { timeout: 500 })
        ]))
        yield* TestClock.adjust(500)
        const [result] = yield* Fiber.join(fiber)
        expect(result.error?._tag).toBe("TaskTimedOut")
        expect(seen?.aborted).toBe(true)
      }).pipe(withScheduler()))

    it.effect("is per attempt and a timed-out attempt is retried", () =>
      Effect.gen(function*() {
        let attempt = 0
        const task = Task.make(
          "slow-then-fast",
          Effect.suspend(() => (++attempt === 1 ? Effect.never : Effect.succeed("ok"))),
          { timeout: 100, retries: 1, schedule: Schedule.spaced(10) }
        )
        const [result] = yield* runFor(110, Scheduler.run([task]))
        expect(result.value).toBe("ok")
        expect(result.attempts).toBe(2)
        expect(result.durationMs).toBe(110)
      }).pipe(withScheduler()))

    it.effect("frees the slot of a timed-out attempt for the next task", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        const results = yield* runFor(
          200,
          Scheduler.run([
            Task.make("hang", probe.track("hang", Effect.never), { timeout: 100 }),
            Task.make("next", probe.sleep("next", 50, "n"))
          ])
        )
        expect(probe.startOf("next")).toBe(100)
        expect(results[1].value).toBe("n")
      }).pipe(withScheduler({ maxConcurrency: 1 })))

    it.effect("a task that finishes in time is not affected by its timeout", () =>
      Effect.gen(function*() {
        const [result] = yield* runFor(
          5000,
          Scheduler.run([Task.make("quick", Effect.as(Effect.sleep(50), 1), { timeout: 100 })])
        )
        expect(result.value).toBe(1)
        expect(result.attempts).toBe(1)
      }).pipe(withScheduler()))
  })

  describe("retries", () => {
    it.effect("retries failures with exponential backoff and counts attempts", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        const task = Task.make("flaky", probe.track("flaky", Effect.fail(new SearchError({ transient: true }))), {
          retries: 3,
          schedule: Schedule.exponential(100, 2)
        })
        const fiber = yield* Effect.fork(Scheduler.run([task]))
        yield* advance(100, 8)
        const [result] = yield* Fiber.join(fiber)
        expect(result.attempts).toBe(4)
        expect(probe.starts.map((s) => s.at)).toEqual([0, 100, 300, 700])
        assert(result.error?._tag === "TaskFailed")
        expect(result.error.attempts).toBe(4)
        expect(result.error.message).toBe(`task "flaky" failed after 4 attempts: SearchError { transient: true }`)
      }).pipe(withScheduler()))

    it.effect("Task.defaultSchedule - delays are 100 ms × 2^n, each scaled by a random 0.8–1.2, capped at 10 s", () =>
      Effect.gen(function*() {
        const schedule = Task.defaultSchedule
        let state = schedule.initial
        const delays: Array<number> = []
        for (let n = 0; n < 12; n++) {
          const [next, , decision] = yield* schedule.step(0, undefined, state)
          state = next
          assert(decision._tag === "Continue")
          delays.push(decision.intervals.intervals.pipe(Chunk.unsafeHead).startMillis)
        }
        delays.forEach((delay, n) => {
          const base = 100 * 2 ** n
          expect(delay).toBeGreaterThanOrEqual(Math.min(base * 0.8, 10_000))
          expect(delay).toBeLessThanOrEqual(Math.min(base * 1.2, 10_000))
        })
        // jittered: not every delay is the exact power of two
        expect(delays.slice(0, 7).some((delay, n) => delay !== 100 * 2 ** n)).toBe(true)
        expect(delays.slice(-3)).toEqual([10_000, 10_000, 10_000])
      }))

    it.effect("the default backoff is exponential from 100 ms, factor 2, jittered and capped at 10 s", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        const task = Task.make("flaky", probe.track("flaky", Effect.fail("x")), { retries: 9 })
        const fiber = yield* Effect.fork(Scheduler.run([task]))
        yield* advance(100, 400)
        const [result] = yield* Fiber.join(fiber)
        expect(result.attempts).toBe(10)
        const at = probe.starts.map((s) => s.at)
        const gaps = at.slice(1).map((t, i) => t - at[i]!)
        gaps.forEach((gap, i) => {
          const base = 100 * 2 ** i
          // jitter scales each delay by 0.8..1.2; the cap is 10 s; the clock moves in 100 ms steps
          expect(gap).toBeGreaterThanOrEqual(Math.min(base * 0.8, 10_000) - 100)
          expect(gap).toBeLessThanOrEqual(Math.min(base * 1.2, 10_000) + 100)
        })
        expect(gaps[gaps.length - 1]).toBeLessThanOrEqual(10_100)
        expect(gaps[gaps.length - 1]).toBeGreaterThanOrEqual(9_900)
      }).pipe(withScheduler()), 30_000)

    it.effect("retryWhile decides which failures are retried", () =>
      Effect.gen(function*() {
        let calls = 0
        const task = Task.make(
          "search",
          Effect.suspend(() => Effect.fail(new SearchError({ transient: ++calls < 3 }))),
          { retries: 5, retryWhile: (e) => e.transient, schedule: Schedule.spaced(10) }
        )
        const [result] = yield* runFor(100, Scheduler.run([task]))
        expect(result.attempts).toBe(3)
        expect(result.error?._tag).toBe("TaskFailed")
      }).pipe(withScheduler()))

    it.effect("never retries defects or interruptions", () =>
      Effect.gen(function*() {
        const [died, interrupted] = yield* Scheduler.run([
          Task.make("died", Effect.die(new Error("bug")), { retries: 3 }),
          Task.make("interrupted", Effect.interrupt, { retries: 3 })
        ])
        expect([died.error?._tag, died.attempts]).toEqual(["TaskDefect", 1])
        expect([interrupted.error?._tag, interrupted.attempts]).toEqual(["TaskInterrupted", 1])
      }).pipe(withScheduler()))

    it.effect("a task waiting out its backoff holds no slot", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        let calls = 0
        const fiber = yield* Effect.fork(Scheduler.run([
          Task.make(
            "flaky",
            probe.track("flaky", Effect.suspend(() => (++calls === 1 ? Effect.fail("x") : Effect.succeed("ok")))),
            { retries: 1, schedule: Schedule.spaced(1000) }
          ),
          Task.make("other", probe.sleep("other", 100, "o"))
        ]))
        yield* TestClock.adjust(100)
        yield* TestClock.adjust(1000)
        const [flaky, other] = yield* Fiber.join(fiber)
        expect(probe.startOf("other")).toBe(0)
        expect(flaky.value).toBe("ok")
        expect(other.value).toBe("o")
      }).pipe(withScheduler({ maxConcurrency: 1 })))

    it.effect("a schedule that stops early ends the retries", () =>
      Effect.gen(function*() {
        const task = Task.make("x", Effect.fail("no"), { retries: 10, schedule: Schedule.recurs(2) })
        const [result] = yield* runFor(10, Scheduler.run([task]))
        expect(result.attempts).toBe(3)
      }).pipe(withScheduler()))
  })

  describe("isolation", () => {
    it.effect("a failure, timeout, defect, sync throw or non-Error throw changes no other result", () =>
      Effect.gen(function*() {
        const results = yield* runFor(
          1000,
          Scheduler.run([
            Task.make("ok-1", Effect.succeed(1)),
            Task.make("fails", Effect.fail(new SearchError({ transient: false }))),
            Task.make("hangs", Effect.never, { timeout: 1000 }),
            Task.make("dies", Effect.sync(() => {
              throw new Error("sync throw inside Effect.sync")
            })),
            Task.fromPromise("throws", () => {
              throw new Error("sync throw")
            }),
            Task.fromPromise("rejects-string", () => Promise.reject("a plain string")),
            Task.fromPromise("throws-number", () => {
              throw 42
            }),
            Task.make("ok-2", Effect.as(Effect.sleep(10), 2))
          ])
        )
        expect(results.map((r) => [r.name, r.ok ? "ok" : r.error._tag])).toEqual([
          ["ok-1", "ok"],
          ["fails", "TaskFailed"],
          ["hangs", "TaskTimedOut"],
          ["dies", "TaskDefect"],
          ["throws", "TaskFailed"],
          ["rejects-string", "TaskFailed"],
          ["throws-number", "TaskFailed"],
          ["ok-2", "ok"]
        ])
        expect(results[0].value).toBe(1)
        expect(results[7].value).toBe(2)
        assert(results[5].error?._tag === "TaskFailed")
        expect(results[5].error.cause).toBe("a plain string")
        assert(results[6].error?._tag === "TaskFailed")
        expect(results[6].error.error).toBe(42)
        assert(results[3].error?._tag === "TaskDefect")
        expect((results[3].error.defect as Error).message).toBe("sync throw inside Effect.sync")
      }).pipe(withScheduler()))

    it.effect("a retryWhile that throws makes that task a defect and nothing else", () =>
      Effect.gen(function*() {
        const [bad, good] = yield* Scheduler.run([
          Task.make("bad", Effect.fail("x"), {
            retries: 2,
            retryWhile: () => {
              throw new Error("predicate bug")
            }
          }),
          Task.make("good", Effect.succeed("g"))
        ])
        expect(bad.error?._tag).toBe("TaskDefect")
        expect(good.value).toBe("g")
      }).pipe(withScheduler()))

    it.live("a promise task runs in the AsyncLocalStorage context of the run that brought it, not of the task that freed its slot", () =>
      Effect.gen(function*() {
        const als = new AsyncLocalStorage<string>()
        const runtime = yield* Effect.runtime<Scheduler.Scheduler>()
        const seen = (name: string, ms: number) =>
          Task.fromPromise(name, async () => {
            const before = als.getStore()
            await new Promise((resolve) => setTimeout(resolve, ms))
            return [before, als.getStore()]
          })
        const runIn = (store: string, tasks: ReadonlyArray<Task.Task<Array<string | undefined>, unknown>>) =>
          als.run(store, () => Runtime.runPromise(runtime)(Scheduler.run(tasks)))
        const [a, b] = yield* Effect.promise(() => Promise.all([runIn("A", [seen("a", 10)]), runIn("B", [seen("b1", 1), seen("b2", 1)])]))
        expect(a.map((r) => r.value)).toEqual([["A", "A"]])
        expect(b.map((r) => r.value)).toEqual([["B", "B"], ["B", "B"]])
      }).pipe(withScheduler({ maxConcurrency: 1 })))

    it.live("a promise tool inside an Effect task (Effect.promise, a forked fiber) sees the context of the run that brought it", () =>
      Effect.gen(function*() {
        const als = new AsyncLocalStorage<string>()
        const runtime = yield* Effect.runtime<Scheduler.Scheduler>()
        const tool = (ms: number) =>
          Effect.promise(async () => {
            await new Promise((resolve) => setTimeout(resolve, ms))
            return als.getStore()
          })
        const seen = (name: string, ms: number) =>
          Task.make(name, Effect.all([tool(ms), Effect.flatMap(Effect.fork(tool(ms)), Fiber.join), tool(0)]))
        const runIn = (store: string, tasks: ReadonlyArray<Task.Task<Array<string | undefined>>>) =>
          als.run(store, () => Runtime.runPromise(runtime)(Scheduler.run(tasks)))
        const [a, b] = yield* Effect.promise(() => Promise.all([runIn("A", [seen("a", 10)]), runIn("B", [seen("b1", 1), seen("b2", 1)])]))
        expect(a.map((r) => r.value)).toEqual([["A", "A", "A"]])
        expect(b.map((r) => r.value)).toEqual([["B", "B", "B"], ["B", "B", "B"]])
      }).pipe(withScheduler({ maxConcurrency: 1 })))

    it.effect("tasks see the services and FiberRefs of the caller", () =>
      Effect.gen(function*() {
        const ref = FiberRef.unsafeMake("default")
        const [result] = yield* Scheduler.run([Task.make("read", FiberRef.get(ref))]).pipe(
          Effect.locally(ref, "from caller")
        )
        expect(result.value).toBe("from caller")
      }).pipe(withScheduler()))
  })

  describe("deadline", () => {
    it.effect("run() - returns every result at the deadline, interrupting what is unfinished", () =>
      Effect.gen(function*() {
        let finalized = false
        let signal: AbortSignal | undefined
        const fiber = yield* Effect.fork(Scheduler.run([
          Task.make("quick", Effect.as(Effect.sleep(100), "q")),
          Task.make("slow", Effect.sleep(5000).pipe(Effect.ensuring(Effect.sync(() => (finalized = true))))),
          Task.fromPromise("fetch", (s) => {
            signal = s
            return new Promise(() => {})
          }),
          Task.make("started-late", Effect.sleep(5000)),
          Task.make("queued", Effect.succeed("never started"))
        ], { deadline: "1 second" }))
        yield* TestClock.adjust(1000)
        const results = yield* Fiber.join(fiber)
        expect(results.map((r) => r.ok ? "ok" : r.error._tag)).toEqual([
          "ok",
          "TaskInterrupted",
          "TaskInterrupted",
          "TaskInterrupted",
          "TaskInterrupted"
        ])
        expect(results[3].durationMs).toBe(900)
        assert(results[1].error?._tag === "TaskInterrupted")
        expect(results[1].error.reason).toBe("deadline")
        expect(finalized).toBe(true)
        expect(signal?.aborted).toBe(true)
        expect([results[4].attempts, results[4].durationMs]).toEqual([0, 0])
        expect(yield* Scheduler.stats).toEqual({ active: 0, pending: 0, delayed: 0 })
      }).pipe(withScheduler({ maxConcurrency: 3 })))

    it.effect("run() - a deadline during a retry's backoff settles the task at once", () =>
      Effect.gen(function*() {
        const fiber = yield* Effect.fork(Scheduler.run([
          Task.make("flaky", Effect.fail("x"), { retries: 5, schedule: Schedule.spaced(10_000) })
        ], { deadline: 500 }))
        yield* TestClock.adjust(500)
        const [result] = yield* Fiber.join(fiber)
        assert(result.error?._tag === "TaskInterrupted")
        expect(result.attempts).toBe(1)
        expect(yield* Scheduler.stats).toEqual({ active: 0, pending: 0, delayed: 0 })
      }).pipe(withScheduler()))

    it.effect("run() - a run that ends before its deadline is not affected", () =>
      Effect.gen(function*() {
        const results = yield* runFor(100, Scheduler.run([Task.make("a", Effect.sleep(100))], { deadline: 200 }))
        expect(results[0].ok).toBe(true)
      }).pipe(withScheduler()))
  })

  describe("interruption", () => {
    it.effect("interrupting a run interrupts its tasks and frees their slots", () =>
      Effect.gen(function*() {
        let finalized = 0
        const hang = (name: string) =>
          Task.make(name, Effect.never.pipe(Effect.ensuring(Effect.sync(() => finalized++))))
        const fiber = yield* Effect.fork(Scheduler.run([hang("a"), hang("b"), hang("c")]))
        yield* TestClock.adjust(10)
        expect((yield* Scheduler.stats).active).toBe(2)
        yield* Fiber.interrupt(fiber)
        expect(finalized).toBe(2)
        expect(yield* Scheduler.stats).toEqual({ active: 0, pending: 0, delayed: 0 })
        // the next run gets the full concurrency
        const probe = new Probe()
        yield* runFor(
          100,
          Scheduler.run([Task.make("x", probe.sleep("x", 100, 0)), Task.make("y", probe.sleep("y", 100, 0))])
        )
        expect(probe.peak).toBe(2)
      }).pipe(withScheduler({ maxConcurrency: 2 })))

    it.effect("closing the scheduler's scope interrupts work in flight and queued", () =>
      Effect.gen(function*() {
        const scope = yield* Scope.make()
        const scheduler = yield* Scope.extend(Scheduler.make({ maxConcurrency: 1 }), scope)
        const fiber = yield* Effect.fork(scheduler.run([Task.make("a", Effect.never), Task.make("b", Effect.never)]))
        yield* TestClock.adjust(10)
        yield* Scope.close(scope, Exit.void)
        const results = yield* Fiber.join(fiber)
        expect(results.map((r) => r.error?._tag === "TaskInterrupted" && r.error.reason)).toEqual([
          "shutdown",
          "shutdown"
        ])
        const later = yield* scheduler.run([Task.make("late", Effect.succeed(1))])
        expect(later[0].error?._tag).toBe("TaskInterrupted")
      }))
  })

  describe("bad input", () => {
    it.effect("Scheduler.make - refuses maxConcurrency 0 or 1.5 with a typed error", () =>
      Effect.gen(function*() {
        for (const maxConcurrency of [0, 1.5, -1, Number.NaN]) {
          const error = yield* Effect.flip(Scheduler.make({ maxConcurrency }).pipe(Effect.scoped))
          expect(error._tag).toBe("InvalidOption")
          expect(error.message).toBe(
            `Scheduler.make: maxConcurrency must be an integer ≥ 1 or Infinity, got ${maxConcurrency} (number)`
          )
        }
        const error = yield* Effect.flip(Scheduler.make({ groups: { search: 0 } }).pipe(Effect.scoped))
        expect(error.message).toBe("Scheduler.make: groups.search must be an integer ≥ 1 or Infinity, got 0 (number)")
      }))

    it.effect("Scheduler.layer - fails with InvalidOption", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(Scheduler.stats.pipe(Effect.provide(Scheduler.layer({ maxConcurrency: 0 }))))
        expect(InvalidOption.isInvalidOption(error)).toBe(true)
        expect(error.option).toBe("maxConcurrency")
        expect(error.value).toBe(0)
      }))

    it.effect("run() - refuses a bad deadline or a non-task at once", () =>
      Effect.gen(function*() {
        expect(() => Scheduler.run([Task.make("a", Effect.void)], { deadline: -1 })).toThrow(
          "Scheduler.run: deadline must be a positive duration"
        )
        expect(() => Scheduler.run([{ name: "fake" } as any])).toThrow(
          `Scheduler.run: tasks[0] must be a Task (made with Task.make), got {"name":"fake"} (object)`
        )
      }))

    it.effect("accepts maxConcurrency Infinity", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        yield* runFor(
          10,
          Scheduler.run(Array.from({ length: 50 }, (_, i) => Task.make(`t${i}`, probe.sleep(`t${i}`, 10, i))))
        )
        expect(probe.peak).toBe(50)
      }).pipe(withScheduler({ maxConcurrency: Number.POSITIVE_INFINITY })))
  })

  describe("errors", () => {
    it("isTaskError - recognises every tag", () => {
      const errors = [
        new TaskError.TaskFailed({ task: "a", error: 1, attempts: 1 }),
        new TaskError.TaskTimedOut({ task: "a", timeout: Duration.seconds(1), attempts: 1 }),
        new TaskError.TaskDefect({ task: "a", defect: 1, attempts: 1 }),
        new TaskError.TaskInterrupted({ task: "a", reason: "deadline", attempts: 0 }),
        new TaskError.TaskSkipped({ task: "a", dependency: "b" })
      ]
      expect(errors.every(TaskError.isTaskError)).toBe(true)
      expect(TaskError.isTaskError(new Error("x"))).toBe(false)
      expect(errors.map((e) => e.message)).toEqual([
        `task "a" failed: 1`,
        `task "a" timed out after 1s; raise its timeout or make the tool answer sooner`,
        `task "a" died with a defect: 1`,
        `task "a" was interrupted: the run's deadline passed`,
        `task "a" was skipped: its dependency "b" did not succeed`
      ])
    })
  })

  describe("time", () => {
    it.effect("every duration is measured on Effect's Clock", () =>
      Effect.gen(function*() {
        const start = yield* Clock.currentTimeMillis
        yield* TestClock.setTime(1_000_000)
        const [result] = yield* runFor(250, Scheduler.run([Task.make("t", Effect.sleep(250))]))
        expect(result.durationMs).toBe(250)
        expect(start).toBe(0)
      }).pipe(withScheduler()))
  })

  describe("budget", () => {
    it.effect("run({ budget }) - once the attempts' cost reaches the budget, nothing more starts; the rest is reported, running tasks go on", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        const tasks = Array.from({ length: 6 }, (_, i) => Task.make(`t${i}`, probe.sleep(`t${i}`, 100, i), { cost: 30 }))
        const results = yield* runFor(200, Scheduler.run(tasks, { budget: 100 }))
        // cap 2: t0, t1 (60), then t2, t3 (120 ≥ 100: t3 is the attempt that spends it, and still runs)
        expect(probe.startOrder()).toEqual(["t0", "t1", "t2", "t3"])
        expect(results.map((r) => r.ok)).toEqual([true, true, true, true, false, false])
        expect(results[4]!.error).toMatchObject({ _tag: "TaskInterrupted", reason: "budget", attempts: 0 })
        expect(results[4]!.error!.message).toBe(`task "t4" was not started: its run's budget was spent`)
      }).pipe(withScheduler({ maxConcurrency: 2 })))

    it.effect("run({ budget }) - retries spend it too, and a retry it cannot pay for is not made", () =>
      Effect.gen(function*() {
        let calls = 0
        const flaky = Effect.suspend(() => ++calls < 10 ? Effect.fail("busy") : Effect.succeed(calls))
        const [result] = yield* runFor(1_000, Scheduler.run([Task.make("flaky", flaky, { retries: 9, cost: 10, schedule: Schedule.spaced(10) })], { budget: 30 }))
        expect(calls).toBe(3)
        expect(result!.error?._tag).toBe("TaskFailed")
      }).pipe(withScheduler()))

    it.effect("run({ budget }) - counts a success's real cost (actualCost) instead of its estimate; a bad answer keeps the estimate", () =>
      Effect.gen(function*() {
        const used = (n: number) => Effect.as(Effect.sleep(10), { tokens: n })
        const tokens = (r: { readonly tokens: number }) => r.tokens
        const results = yield* runFor(100, Scheduler.run([
          Task.make("a", used(60), { cost: 10, actualCost: tokens }),
          Task.make("b", used(Number.NaN), { cost: 10, actualCost: tokens }),
          Task.make("c", used(0), { cost: 10, actualCost: tokens }),
          Task.make("d", used(0), { cost: 10, actualCost: tokens })
        ], { budget: 80 }))
        // a: 60 (not 10), b: 10 (NaN keeps it): 70; c starts (80 ≥ 80 once started), then is corrected to 70; d was refused
        expect(results.map((r) => r.ok)).toEqual([true, true, true, false])
        expect(results[3]!.error).toMatchObject({ _tag: "TaskInterrupted", reason: "budget" })
      }).pipe(withScheduler({ maxConcurrency: 1 })))

    it.effect("run({ budget: 0 }) - nothing starts; a task that never started reports waitMs and durationMs 0 (never -0)", () =>
      Effect.gen(function*() {
        const [r] = yield* Scheduler.run([Task.make("t", Effect.succeed(1))], { budget: 0 })
        expect(r!.error?._tag).toBe("TaskInterrupted")
        expect(Object.is(r!.waitMs, 0)).toBe(true)
        expect(Object.is(r!.durationMs, 0)).toBe(true)
      }).pipe(withScheduler()))

    it.effect("run({ budget }) - other runs on the same scheduler are not touched, and a bad budget is refused", () =>
      Effect.gen(function*() {
        const [spent, other] = yield* Effect.all([
          Scheduler.run([Task.make("a", Effect.succeed(1), { cost: 5 }), Task.make("b", Effect.succeed(2), { cost: 5 })], { budget: 5 }),
          Scheduler.run([Task.make("c", Effect.succeed(3), { cost: 50 })])
        ])
        expect(spent.map((r) => r.ok)).toEqual([true, false])
        expect(other[0]!.ok).toBe(true)
        const refused = yield* Effect.flip(Effect.try({ try: () => Scheduler.run([], { budget: -1 }), catch: (e) => e }))
        expect((refused as { option: string }).option).toBe("budget")
      }).pipe(withScheduler()))
  })
})
