import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { Plan, type Progress, Scheduler, Task } from "../src/index.js"
import { runFor } from "./utils.js"

const withScheduler = (options?: Scheduler.Options) => Effect.provide(Scheduler.layer(options))

describe("Progress", () => {
  it.effect("run() - onProgress reports starts, retries (with their delay) and settlements, with counts", () =>
    Effect.gen(function*() {
      const events: Array<Progress.Event> = []
      let calls = 0
      const flaky = Effect.suspend(() => ++calls === 1 ? Effect.fail("flaky") : Effect.succeed("ok"))
      const results = yield* runFor(
        1_000,
        Scheduler.run([
          Task.make("flaky", flaky, { retries: 1, schedule: Schedule.spaced("100 millis") }),
          Task.make("slow", Effect.as(Effect.sleep(500), 1))
        ], { onProgress: (e) => events.push(e) })
      )
      expect(results.map((r) => r.ok)).toEqual([true, true])
      expect(events.map((e) => `${e.type} ${e.task} ${e.attempt}`)).toEqual([
        "started flaky 1",
        "started slow 1",
        "retrying flaky 1",
        "started flaky 2",
        "settled flaky 2",
        "settled slow 1"
      ])
      expect(events.map(({ counts: c }) => [c.queued, c.running, c.done])).toEqual([
        [1, 1, 0],
        [0, 2, 0],
        [1, 1, 0],
        [0, 2, 0],
        [0, 1, 1],
        [0, 0, 2]
      ])
      const retrying = events[2]!
      expect(retrying.type === "retrying" && retrying.delayMs).toBe(100)
    }).pipe(withScheduler()))

  it.effect("run() - a run without onProgress gets no Progress (nothing kept, nothing called)", () =>
    Effect.gen(function*() {
      const [r] = yield* Scheduler.run([Task.make("a", Effect.succeed(1))])
      expect(r.value).toBe(1)
      expect(() => Scheduler.run([], { onProgress: "no" as never })).toThrow(/onProgress must be a function/)
    }).pipe(withScheduler()))

  it.effect("stream() and runPlan() - report progress; skipped tasks settle with failed counted", () =>
    Effect.gen(function*() {
      const types: Array<string> = []
      const onProgress = (e: Progress.Event) => types.push(`${e.type} ${e.task} ${e.counts.failed}`)
      const plan = Plan.empty.pipe(
        Plan.add("a", Effect.fail("down")),
        Plan.add("b", ["a"], () => Effect.succeed(1))
      )
      const results = yield* Scheduler.runPlan(plan, { onProgress })
      expect(results.b.error?._tag).toBe("TaskSkipped")
      expect(types).toEqual(["started a 0", "settled a 1", "settled b 2"])
      types.length = 0
      yield* Stream.runDrain(Scheduler.stream([Task.make("s", Effect.succeed(1))], { onProgress }))
      expect(types).toEqual(["started s 0", "settled s 0"])
    }).pipe(withScheduler()))

  it.effect("a Schedule that dies ends the task as a TaskDefect (as a throwing retryWhile does)", () =>
    Effect.gen(function*() {
      const dies = Schedule.recurWhile((_: unknown) => {
        throw new Error("bad schedule")
      })
      const [r] = yield* Scheduler.run([Task.make("t", Effect.fail("x"), { retries: 2, schedule: dies })])
      expect(r.error).toMatchObject({ _tag: "TaskDefect", attempts: 1 })
      expect((r.error?.cause as Error).message).toBe("bad schedule")
    }).pipe(withScheduler()))
})

describe("Scheduler idle, clear and maxQueued", () => {
  it.effect("idle - completes once every run has settled", () =>
    Effect.gen(function*() {
      yield* Scheduler.idle
      const run = yield* Effect.fork(Scheduler.run([Task.make("a", Effect.sleep(100))]))
      const idle = yield* Effect.fork(Scheduler.idle)
      yield* TestClock.adjust(50)
      expect(idle.unsafePoll()).toBeNull()
      yield* TestClock.adjust(50)
      yield* Fiber.join(idle)
      expect((yield* Fiber.join(run))[0].ok).toBe(true)
    }).pipe(withScheduler()))

  it.effect("clear - settles waiting tasks as TaskInterrupted (cleared), running ones go on", () =>
    Effect.gen(function*() {
      const run = yield* Effect.fork(Scheduler.run([
        Task.make("running", Effect.as(Effect.sleep(100), "done")),
        Task.make("queued", Effect.succeed(1)),
        Task.make("retrying", Effect.fail("x"), { retries: 1, schedule: Schedule.spaced("1 hour") })
      ]))
      yield* TestClock.adjust(1)
      expect(yield* Scheduler.stats).toMatchObject({ active: 1, pending: 2 })
      expect(yield* Scheduler.clear).toBe(2)
      yield* TestClock.adjust(100)
      const [running, queued, retrying] = yield* Fiber.join(run)
      expect(running.value).toBe("done")
      expect(queued.error).toMatchObject({ _tag: "TaskInterrupted", reason: "cleared", attempts: 0 })
      expect(retrying.error).toMatchObject({ _tag: "TaskInterrupted", reason: "cleared", attempts: 0 })
    }).pipe(withScheduler({ maxConcurrency: 1 })))

  it.effect("clear - also takes a task out of its backoff", () =>
    Effect.gen(function*() {
      const run = yield* Effect.fork(
        Scheduler.run([Task.make("retrying", Effect.fail("x"), { retries: 1, schedule: Schedule.spaced("1 hour") })])
      )
      yield* TestClock.adjust(1)
      expect(yield* Scheduler.stats).toMatchObject({ delayed: 1 })
      expect(yield* Scheduler.clear).toBe(1)
      const [r] = yield* Fiber.join(run)
      expect(r.error).toMatchObject({ _tag: "TaskInterrupted", reason: "cleared", attempts: 1 })
      expect(yield* Scheduler.stats).toMatchObject({ active: 0, pending: 0, delayed: 0 })
    }).pipe(withScheduler()))

  it.effect("maxQueued - a task beyond the bound is refused at once (queueFull); a retry coming back is not", () =>
    Effect.gen(function*() {
      let calls = 0
      const flaky = Effect.suspend(() => ++calls === 1 ? Effect.fail("x") : Effect.succeed("ok"))
      const results = yield* runFor(
        1_000,
        Scheduler.run([
          Task.make("flaky", flaky, { retries: 1, schedule: Schedule.spaced("10 millis") }),
          Task.make("queued", Effect.sleep(100)),
          Task.make("refused", Effect.void)
        ])
      )
      expect(results.map((r) => r.ok)).toEqual([true, true, false])
      expect(results[2].error).toMatchObject({ _tag: "TaskInterrupted", reason: "queueFull", attempts: 0 })
    }).pipe(withScheduler({ maxConcurrency: 1, maxQueued: 1 })))

  it.effect("maxQueued - 0 refuses whatever cannot start at once; bad values fail the layer", () =>
    Effect.gen(function*() {
      const results = yield* Scheduler.run([Task.make("a", Effect.void), Task.make("b", Effect.void), Task.make("c", Effect.void)])
      expect(results.map((r) => r.ok)).toEqual([true, true, false])
      const bad = yield* Effect.flip(Scheduler.make({ maxQueued: 1.5 }).pipe(Effect.scoped))
      expect(bad.message).toBe("Scheduler.make: maxQueued must be an integer ≥ 0 or Infinity, got 1.5 (number)")
    }).pipe(withScheduler({ maxConcurrency: 2, maxQueued: 0 })))
})
