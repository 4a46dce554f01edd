import { describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Data from "effect/Data"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import { Scheduler, Task, TaskError, TaskResult } from "../src/index.js"
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

    // Reading `then` runs user code; a throw there is the function failing, not a defect.
    const boom = new Error("then getter")
    const inspectable: ReadonlyArray<readonly [string, () => unknown]> = [
      ["a then getter that throws", () =>
        Object.defineProperty({}, "then", {
          get() {
            throw boom
          }
        })],
      ["a Proxy whose traps throw", () =>
        new Proxy({}, {
          has() {
            throw boom
          },
          get() {
            throw boom
          }
        })]
    ]
    for (const [label, result] of inspectable) {
      it.effect(`a returned value with ${label} is a failure (TaskFailed), retried like any failure`, () =>
        Effect.gen(function*() {
          expect(yield* Effect.flip(Task.fromPromise("p", result).effect)).toBe(boom)
          expect(yield* Effect.flip(Task.fromPromise("p", (_signal) => result()).effect)).toBe(boom)
          let calls = 0
          const options = { retries: 1, schedule: Schedule.forever }
          const results = yield* Scheduler.run([
            Task.fromPromise("no signal", () => (calls++, result()), options),
            Task.fromPromise("signal", (_signal) => (calls++, result()), options)
          ])
          expect(calls).toBe(4)
          for (const r of results) {
            expect(r.error?._tag).toBe("TaskFailed")
            expect(r.attempts).toBe(2)
            expect(r.error?._tag === "TaskFailed" && r.error.error).toBe(boom)
          }
        }).pipe(Effect.provide(Scheduler.layer())))
    }

    it("refuses a non-function", () => {
      expect(thrown(() => Task.fromPromise("p", "nope" as any)).message).toBe(
        `Task.fromPromise: evaluate must be a function, got "nope" (string)`
      )
    })
  })

  describe("results and errors as JSON", () => {
    const stats = { attempts: 1, durationMs: 4, waitMs: 0 }
    const roundTrip = (u: unknown) => JSON.parse(JSON.stringify(u))

    it("JSON.stringify(result) - a failed result serialises with the error's tag, fields and message", () => {
      const error = new TaskError.TaskFailed({ task: "web", error: new Error("503 Service Unavailable"), attempts: 1 })
      expect(JSON.stringify(TaskResult.fail("web", error, stats))).toBe(
        `{"_id":"TaskResult","name":"web","ok":false,"error":{"_tag":"TaskFailed","task":"web",` +
          `"error":{"name":"Error","message":"503 Service Unavailable"},"attempts":1,` +
          `"message":"task \\"web\\" failed: 503 Service Unavailable"},"attempts":1,"durationMs":4,"waitMs":0}`
      )
    })

    it("JSON.stringify(result) - never throws: circular references, BigInt, functions, symbols, throwing getters", () => {
      const loop: Record<string, unknown> = { name: "loop" }
      loop.self = loop
      loop.list = [1, loop]
      const shared = { id: 1 }
      const failure = Object.assign(new Error("bad gateway", { cause: new TypeError("socket hang up") }), {
        status: 502n,
        request: loop,
        retry: () => {}
      })
      const failed = TaskResult.fail(
        "web",
        new TaskError.TaskFailed({ task: "web", error: failure, attempts: 2 }),
        stats
      )
      expect(roundTrip(failed).error).toEqual({
        _tag: "TaskFailed",
        task: "web",
        error: {
          name: "Error",
          message: "bad gateway",
          status: "502",
          request: { name: "loop", self: "[Circular]", list: [1, "[Circular]"] },
          cause: { name: "TypeError", message: "socket hang up" }
        },
        attempts: 2,
        message: `task "web" failed after 2 attempts: bad gateway`
      })
      const value = {
        big: 12345678901234567890n,
        fn: () => 1,
        sym: Symbol("s"),
        [Symbol("key")]: 1,
        list: [1n, () => 2, Symbol("t"), undefined],
        a: shared,
        b: shared, // seen twice, not circular
        get broken(): never {
          throw new Error("getter")
        },
        date: new Date(0)
      }
      expect(roundTrip(TaskResult.succeed("v", value, stats)).value).toEqual({
        big: "12345678901234567890",
        list: ["1", null, null, null],
        a: { id: 1 },
        b: { id: 1 },
        broken: "[Unreadable]",
        date: "1970-01-01T00:00:00.000Z"
      })
      const proxy = new Proxy({}, {
        ownKeys() {
          throw new Error("trap")
        }
      })
      expect(roundTrip(TaskResult.succeed("p", proxy, stats)).value).toBe("[Unreadable]")
    })

    it("JSON.stringify(error) - every TaskError serialises, whatever it carries, with its message", () => {
      const loop: Record<string, unknown> = {}
      loop.loop = loop
      const nasty = {
        get message(): string {
          throw new Error("no message")
        }
      }
      const errors: ReadonlyArray<TaskError.TaskError<unknown>> = [
        new TaskError.TaskFailed({ task: "a", error: loop, attempts: 1 }),
        new TaskError.TaskFailed({ task: "b", error: nasty, attempts: 1 }),
        new TaskError.TaskFailed({ task: "c", error: 10n, attempts: 1 }),
        new TaskError.TaskDefect({ task: "d", defect: loop, attempts: 1 }),
        new TaskError.TaskTimedOut({ task: "e", timeout: Duration.seconds(5), attempts: 3 }),
        new TaskError.TaskInterrupted({ task: "f", reason: "deadline", attempts: 0 }),
        new TaskError.TaskSkipped({ task: "g", dependency: "a" })
      ]
      for (const error of errors) {
        const json = roundTrip(error)
        expect(json._tag).toBe(error._tag)
        expect(json.task).toBe(error.task)
        expect(json.message).toBe(error.message)
        expect(roundTrip(TaskResult.fail(error.task, error, stats)).error).toEqual(json)
      }
      expect(roundTrip(errors[0]).error).toEqual({ loop: "[Circular]" })
      expect(roundTrip(errors[2]).error).toBe("10")
      expect(errors[1]!.message).toBe(`task "b" failed: {"message":"[Unreadable]"}`)
      expect(roundTrip(errors[3]).defect).toEqual({ loop: "[Circular]" })
    })
  })

  describe("messages", () => {
    class HttpError extends Data.TaggedError("HttpError")<{ readonly status: number; readonly url: string }> {}
    class Empty extends Data.TaggedError("Empty")<{}> {}
    class SchemaHttpError extends Schema.TaggedError<SchemaHttpError>()("SchemaHttpError", { status: Schema.Number }) {}

    it("TaskFailed - a tagged error without a message shows its tag and its fields, briefly", () => {
      const failed = (error: unknown) => new TaskError.TaskFailed({ task: "web", error, attempts: 1 }).message
      expect(failed(new HttpError({ status: 503, url: "https://example.com" }))).toBe(
        `task "web" failed: HttpError { status: 503, url: "https://example.com" }`
      )
      expect(failed(new Empty())).toBe(`task "web" failed: Empty`)
      expect(failed(new SchemaHttpError({ status: 429 }))).toBe(`task "web" failed: SchemaHttpError { status: 429 }`)
      expect(failed({ _tag: "NotFound", id: "doc-1", tries: 2n })).toBe(`task "web" failed: NotFound { id: "doc-1", tries: 2n }`)
      const long = failed(new HttpError({ status: 500, url: `https://example.com/${"x".repeat(300)}` }))
      expect(long.length).toBeLessThan(200)
      expect(long).toMatch(/^task "web" failed: HttpError \{ status: 500, url: "https:\/\/example\.com\/x+…/)
      // a message is the user's own text: kept whole
      expect(failed(new Error("x".repeat(300)))).toBe(`task "web" failed: ${"x".repeat(300)}`)
      // a tagged error with its own message keeps it
      class Down extends Data.TaggedError("Down")<{ readonly message: string }> {}
      expect(failed(new Down({ message: "the service is down" }))).toBe(`task "web" failed: the service is down`)
      expect(new TaskError.TaskDefect({ task: "web", defect: new HttpError({ status: 1, url: "u" }), attempts: 1 }).message)
        .toBe(`task "web" died with a defect: HttpError { status: 1, url: "u" }`)
    })
  })
})
