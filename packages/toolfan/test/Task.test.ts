import { describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import { Task } from "../src/index.js"
import { thrown } from "./utils.js"

describe("Task", () => {
  describe("make", () => {
    it("keeps the name, effect and policies", () => {
      const effect = Effect.succeed(1)
      const task = Task.make("web", effect, { timeout: "5 seconds", retries: 2, priority: 3, group: "search" })
      expect(task.name).toBe("web")
      expect(task.effect).toBe(effect)
      expect(Duration.toMillis(task.timeout!)).toBe(5000)
      expect([task.retries, task.priority, task.group]).toEqual([2, 3, "search"])
      expect(Task.isTask(task)).toBe(true)
      expect(Task.isTask({ name: "web" })).toBe(false)
    })

    it("has defaults: no timeout, no retries, priority 0, no group", () => {
      const task = Task.make("t", Effect.void)
      expect([task.timeout, task.retries, task.priority, task.group]).toEqual([undefined, 0, 0, undefined])
    })

    it("accepts every DurationInput form for timeout, and Infinity as no timeout", () => {
      const inputs: ReadonlyArray<Duration.DurationInput> = [
        250,
        "250 millis",
        Duration.millis(250),
        [0, 250_000_000],
        BigInt(250_000_000)
      ]
      for (const timeout of inputs) {
        expect(Duration.toMillis(Task.make("t", Effect.void, { timeout }).timeout!)).toBe(250)
      }
      expect(Task.make("t", Effect.void, { timeout: Number.POSITIVE_INFINITY }).timeout).toBeUndefined()
    })

    // The catalogue of refused options: each names where, the option and the value received.
    const refused: ReadonlyArray<readonly [string, unknown, string]> = [
      ["timeout", -5, "Task.make: timeout must be a positive duration (milliseconds as a number, or e.g. \"5 seconds\"), got -5 (number)"],
      ["timeout", Number.NaN, "got NaN (number)"],
      ["timeout", 0, "got 0 (number)"],
      ["timeout", "-5 seconds", `got "-5 seconds" (string)`],
      ["timeout", "soon", `got "soon" (string)`],
      ["timeout", Duration.zero, "timeout must be a positive duration"],
      ["timeout", {}, "got {} (object)"],
      ["retries", -1, "Task.make: retries must be an integer ≥ 0, got -1 (number)"],
      ["retries", 1.5, "Task.make: retries must be an integer ≥ 0, got 1.5 (number)"],
      ["retries", Number.POSITIVE_INFINITY, "got Infinity (number)"],
      ["retries", "2", `Task.make: retries must be an integer ≥ 0, got "2" (string)`],
      ["priority", Number.NaN, "Task.make: priority must be a finite number, got NaN (number)"],
      ["priority", Number.POSITIVE_INFINITY, "Task.make: priority must be a finite number, got Infinity (number)"],
      ["group", "", `Task.make: group must be a non-empty string, got "" (string)`],
      ["group", 7, "Task.make: group must be a non-empty string, got 7 (number)"],
      ["retryWhile", true, "Task.make: retryWhile must be a function, got true (boolean)"],
      ["schedule", 100, "Task.make: schedule must be a Schedule, got 100 (number)"]
    ]
    for (const [option, value, message] of refused) {
      it(`refuses ${option}: ${typeof value === "object" ? JSON.stringify(value) : String(value)}`, () => {
        const error = thrown(() => Task.make("t", Effect.void, { [option]: value }))
        expect(error._tag).toBe("InvalidOption")
        expect(error.option).toBe(option)
        expect(error.value).toBe(value)
        expect(error.message).toContain(message)
      })
    }

    it("refuses an unknown option (a typo would otherwise be ignored)", () => {
      const error = thrown(() => Task.make("t", Effect.void, { timout: 5 } as any))
      expect(error.message).toContain("options.timout")
    })

    it("refuses a name that is not a non-empty string and an effect that is not an Effect", () => {
      expect(thrown(() => Task.make("", Effect.void)).message).toBe(
        `Task.make: name must be a non-empty string, got "" (string)`
      )
      expect(thrown(() => Task.make(undefined as any, Effect.void)).option).toBe("name")
      expect(thrown(() => Task.make("t", (() => 1) as any)).message).toBe(
        "Task.make: effect must be an Effect, got a function (anonymous)"
      )
    })

    it("accepts a custom schedule", () => {
      const schedule = Schedule.spaced(10)
      expect(Task.make("t", Effect.fail("x"), { retries: 1, schedule }).schedule).toBe(schedule)
    })
  })

  describe("fromPromise", () => {
    it.effect("resolves with the promise's value, or a plain value", () =>
      Effect.gen(function*() {
        expect(yield* Task.fromPromise("p", () => Promise.resolve(3)).effect).toBe(3)
        expect(yield* Task.fromPromise("v", () => 4).effect).toBe(4)
      }))

    it.effect("fails with the rejection or the synchronous throw as the error", () =>
      Effect.gen(function*() {
        expect(yield* Effect.flip(Task.fromPromise("p", () => Promise.reject("no")).effect)).toBe("no")
        const boom = new Error("boom")
        expect(
          yield* Effect.flip(Task.fromPromise("p", () => {
            throw boom
          }).effect)
        ).toBe(boom)
      }))

    it.effect("passes a fresh AbortSignal to each attempt and aborts it on interruption", () =>
      Effect.gen(function*() {
        const signals: Array<AbortSignal> = []
        const task = Task.fromPromise("p", (signal) => {
          signals.push(signal)
          return new Promise<never>(() => {})
        })
        const fiber = yield* Effect.fork(task.effect)
        yield* Effect.yieldNow()
        yield* Fiber.interrupt(fiber)
        const second = yield* Effect.fork(task.effect)
        yield* Effect.yieldNow()
        yield* Fiber.interrupt(second)
        expect(signals.length).toBe(2)
        expect(signals[0]).not.toBe(signals[1])
        expect(signals.every((s) => s.aborted)).toBe(true)
      }))

    it("refuses a non-function", () => {
      expect(thrown(() => Task.fromPromise("p", "nope" as any)).message).toBe(
        `Task.fromPromise: evaluate must be a function, got "nope" (string)`
      )
    })
  })
})
