import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import * as TestClock from "effect/TestClock"
import { Scheduler, Task } from "../src/index.js"

// A seeded mix of every kind of task under caps, groups, priorities, retries,
// timeouts and a deadline: one result per task, classified as its kind says.
const lcg = (seed: number) => () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648

describe("Scheduler under a mixed load", () => {
  it.effect("1,000 mixed tasks: one correct result each, caps hold, nothing left behind", () =>
    Effect.gen(function*() {
      const random = lcg(42)
      let active = 0
      let peak = 0
      const groupActive: Record<string, number> = { a: 0, b: 0 }
      const groupPeak: Record<string, number> = { a: 0, b: 0 }
      const signals: Array<AbortSignal> = []
      let finalized = 0
      const kinds: Array<string> = []
      const tasks = Array.from({ length: 1000 }, (_, i) => {
        const kind = ["ok", "fail", "transient", "hang", "die", "throw", "reject", "slow", "finalizer"][
          Math.floor(random() * 9)
        ]!
        kinds.push(kind)
        const group = random() < 0.3 ? (random() < 0.5 ? "a" : "b") : undefined
        const track = <A, E>(effect: Effect.Effect<A, E>) =>
          Effect.suspend(() => {
            peak = Math.max(peak, ++active)
            if (group) groupPeak[group] = Math.max(groupPeak[group]!, ++groupActive[group]!)
            return effect
          }).pipe(Effect.ensuring(Effect.sync(() => {
            active--
            if (group) groupActive[group]!--
          })))
        let calls = 0
        const options = {
          timeout: 500,
          retries: 2,
          schedule: Schedule.spaced(20),
          priority: Math.floor(random() * 3),
          ...(group ? { group } : {})
        }
        switch (kind) {
          case "ok":
            return Task.make(`t${i}`, track(Effect.as(Effect.sleep(Math.floor(random() * 50)), i)), options)
          case "fail":
            return Task.make(`t${i}`, track(Effect.fail("permanent")), { ...options, retryWhile: () => false })
          case "transient":
            return Task.make(`t${i}`, track(Effect.suspend(() => ++calls < 2 ? Effect.fail("again") : Effect.succeed(i))), options)
          case "hang":
            return Task.make(`t${i}`, track(Effect.never), options)
          case "die":
            return Task.make(`t${i}`, track(Effect.die("boom")), options)
          case "throw":
            return Task.fromPromise(`t${i}`, () => {
              throw 7
            }, { ...options, retries: 0 })
          case "reject":
            return Task.fromPromise(`t${i}`, (signal) => {
              signals.push(signal)
              return new Promise((_, reject) => signal.addEventListener("abort", () => reject(new Error("aborted"))))
            }, options)
          case "finalizer":
            // a hung attempt whose finalizer takes 100 ms: the result waits for it
            return Task.make(
              `t${i}`,
              track(Effect.never.pipe(Effect.ensuring(Effect.zipRight(Effect.sleep(100), Effect.sync(() => finalized++))))),
              options
            )
          default:
            return Task.make(`t${i}`, track(Effect.as(Effect.sleep(2000), i)), options)
        }
      })
      const fiber = yield* Effect.fork(Scheduler.run(tasks, { deadline: 60_000 }))
      for (let t = 0; t < 650 && fiber.unsafePoll() === null; t++) yield* TestClock.adjust(100)
      const results = yield* Fiber.join(fiber)
      expect(results.length).toBe(1000)
      expect(peak).toBeLessThanOrEqual(32)
      expect(groupPeak.a).toBeLessThanOrEqual(4)
      expect(groupPeak.b).toBeLessThanOrEqual(2)
      const expected: Record<string, string> = {
        ok: "ok",
        fail: "TaskFailed",
        transient: "ok",
        hang: "TaskTimedOut",
        die: "TaskDefect",
        throw: "TaskFailed",
        reject: "TaskTimedOut",
        finalizer: "TaskTimedOut"
      }
      results.forEach((r, i) => {
        expect(r.name).toBe(`t${i}`)
        const outcome = r.ok ? "ok" : r.error._tag
        const kind = kinds[i]!
        if (kind === "slow") expect(["TaskTimedOut", "TaskInterrupted"]).toContain(outcome)
        else if (outcome !== "TaskInterrupted") expect(outcome).toBe(expected[kind])
        expect(r.attempts).toBeLessThanOrEqual(3)
      })
      // the deadline comes after the whole load could finish: nothing but "slow" is interrupted
      const interrupted = results.filter((r, i) => !r.ok && r.error._tag === "TaskInterrupted" && kinds[i] !== "slow")
      expect(interrupted.length).toBe(0)
      expect(signals.every((s) => s.aborted)).toBe(true)
      // every attempt of a "finalizer" task ran its finalizer before the task settled
      const finalizerAttempts = results.reduce((n, r, i) => n + (kinds[i] === "finalizer" ? r.attempts : 0), 0)
      expect(finalized).toBe(finalizerAttempts)
      expect(yield* Scheduler.stats).toEqual({ active: 0, pending: 0, delayed: 0 })
    }).pipe(Effect.provide(Scheduler.layer({ maxConcurrency: 32, groups: { a: 4, b: 2 } }))), 60_000)
})
