import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import * as TestClock from "effect/TestClock"
import { Overload, Scheduler, Task } from "../src/index.js"
import * as P from "../src/promise.js"
import { Probe, runFor, thrown } from "./utils.js"

const withScheduler = (options?: Scheduler.Options) => Effect.provide(Scheduler.layer(options))

/** A task body that fails as overloaded (asking for `retryAfterMs`) on its first `times` attempts, then succeeds. */
const overloadedThen = (probe: Probe, name: string, retryAfterMs: number | undefined, times = 1) => {
  let calls = 0
  return probe.track(
    name,
    Effect.suspend(() => ++calls <= times ? Effect.fail(new Overload.Overloaded({ retryAfterMs })) : Effect.succeed(name))
  )
}

/** An HTTP client's error, as the OpenAI and Anthropic SDKs throw it. */
class APIError extends Error {
  constructor(readonly status: number, readonly headers: Record<string, string>) {
    super(`${status} status code`)
  }
}

describe("Overload", () => {
  describe("retryAfterMs", () => {
    const now = Date.parse("2026-12-06T10:00:00Z")
    it("reads retry-after-ms, then retry-after in seconds or as an HTTP date", () => {
      expect(Overload.retryAfterMs({ "retry-after-ms": "1500", "retry-after": "9" }, now)).toBe(1500)
      expect(Overload.retryAfterMs({ "Retry-After": "2" }, now)).toBe(2000)
      expect(Overload.retryAfterMs({ "retry-after": "Sun, 06 Dec 2026 10:00:30 GMT" }, now)).toBe(30_000)
      // a date already past: no wait
      expect(Overload.retryAfterMs({ "retry-after": "Sun, 06 Dec 2026 09:00:00 GMT" }, now)).toBe(0)
      expect(Overload.retryAfterMs(new Headers({ "retry-after": "3" }), now)).toBe(3000)
    })

    it("reads the reset of an exhausted OpenAI or Anthropic limit, the longest if several are", () => {
      const openai = {
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "1.5s",
        "x-ratelimit-remaining-tokens": "0",
        "x-ratelimit-reset-tokens": "6m0s"
      }
      expect(Overload.retryAfterMs(openai, now)).toBe(360_000)
      // a limit with some left does not count
      expect(Overload.retryAfterMs({ ...openai, "x-ratelimit-remaining-tokens": "10" }, now)).toBe(1500)
      expect(Overload.retryAfterMs({
        "anthropic-ratelimit-input-tokens-remaining": "0",
        "anthropic-ratelimit-input-tokens-reset": "2026-12-06T10:00:12Z"
      }, now)).toBe(12_000)
    })

    it("says nothing for headers without a wait, unreadable values or no headers", () => {
      expect(Overload.retryAfterMs({ "content-type": "application/json" }, now)).toBeUndefined()
      expect(Overload.retryAfterMs({ "retry-after": "soon" }, now)).toBeUndefined()
      expect(Overload.retryAfterMs({ "x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "later" }, now))
        .toBeUndefined()
      expect(Overload.retryAfterMs(undefined)).toBeUndefined()
    })
  })

  describe("detect", () => {
    it("recognises Overloaded, and SDK errors with status 429 (or 503 with a wait) and their headers", () => {
      expect(Overload.detect(new Overload.Overloaded({ retryAfterMs: 10 }))?.retryAfterMs).toBe(10)
      expect(Overload.detect(new APIError(429, { "retry-after": "1" }))).toEqual({ retryAfterMs: 1000 })
      expect(Overload.detect(new APIError(429, {}))).toEqual({ retryAfterMs: undefined })
      // the Vercel AI SDK's APICallError
      expect(Overload.detect({ statusCode: 429, responseHeaders: { "retry-after-ms": "250" } })).toEqual({ retryAfterMs: 250 })
      expect(Overload.detect(new APIError(503, { "retry-after": "1" }))).toEqual({ retryAfterMs: 1000 })
      expect(Overload.detect(new APIError(503, {}))).toBeUndefined()
      expect(Overload.detect(new APIError(500, { "retry-after": "1" }))).toBeUndefined()
      expect(Overload.detect("429")).toBeUndefined()
    })
  })

  describe("Retry-After", () => {
    it.effect("run() - a retry never starts before the wait the provider gave, however short its schedule", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        const results = yield* runFor(
          5_000,
          Scheduler.run([
            Task.make("chat", overloadedThen(probe, "chat", 5_000), { retries: 3, schedule: Schedule.spaced(10) })
          ])
        )
        expect(results[0]!.ok).toBe(true)
        expect(probe.starts.map((s) => s.at)).toEqual([0, 5_000])
      }).pipe(withScheduler()))

    it.effect("run() - a wait longer than maxRetryAfter is not waited for: the task fails at once and says why", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        const days = 3 * 24 * 3_600_000
        const results = yield* Scheduler.run([
          Task.make("chat", overloadedThen(probe, "chat", days), { retries: 3, maxRetryAfter: "1 minute" })
        ])
        const result = results[0]!
        expect(probe.starts).toHaveLength(1)
        expect(result.ok).toBe(false)
        if (result.ok || result.error._tag !== "TaskFailed") throw new Error("expected a TaskFailed")
        expect(result.error.retryAfterMs).toBe(days)
        expect(result.error.message).toContain("longer than the task's maxRetryAfter: not retried")
        expect(result.error.message).toContain("3d")
      }).pipe(withScheduler()))

    it.effect("run() - the run's deadline still wins over a Retry-After", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        const fiber = yield* Effect.fork(
          Scheduler.run([Task.make("chat", overloadedThen(probe, "chat", 60_000), { retries: 1 })], { deadline: 1_000 })
        )
        yield* TestClock.adjust(1_000)
        const results = yield* Fiber.join(fiber)
        expect(results[0]!.error?._tag).toBe("TaskInterrupted")
        expect(probe.starts).toHaveLength(1)
      }).pipe(withScheduler()))

    it.effect("run() - an overload without a wait is retried on the task's schedule", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        const results = yield* runFor(
          10,
          Scheduler.run([Task.make("chat", overloadedThen(probe, "chat", undefined), { retries: 1, schedule: Schedule.spaced(10) })])
        )
        expect(results[0]!.ok).toBe(true)
        expect(probe.starts.map((s) => s.at)).toEqual([0, 10])
      }).pipe(withScheduler()))

    it.effect("run() - a task's own classifier decides; one that throws makes a TaskDefect, not a hang", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        let calls = 0
        const body = probe.track("own", Effect.suspend(() => ++calls === 1 ? Effect.fail({ code: "SLOW_DOWN" }) : Effect.succeed(1)))
        const [own, throwing] = yield* runFor(
          2_000,
          Scheduler.run([
            Task.make("own", body, {
              retries: 1,
              schedule: Schedule.spaced(1),
              overloaded: (e) => e.code === "SLOW_DOWN" ? { retryAfterMs: 2_000 } : undefined
            }),
            Task.make("throwing", Effect.fail("x"), {
              retries: 1,
              overloaded: () => {
                throw new Error("classifier bug")
              }
            })
          ])
        )
        expect(own!.ok).toBe(true)
        expect(probe.starts.map((s) => s.at)).toEqual([0, 2_000])
        expect(throwing!.error?._tag).toBe("TaskDefect")
      }).pipe(withScheduler()))

    it("Task.make() - refuses a bad maxRetryAfter or overloaded, naming the option", () => {
      expect(thrown(() => Task.make("t", Effect.void, { maxRetryAfter: -1 })).option).toBe("maxRetryAfter")
      expect(thrown(() => Task.make("t", Effect.void, { overloaded: 3 as never })).option).toBe("overloaded")
      expect(() => new P.Task("t", async () => 1, { maxRetryAfter: Number.NaN })).toThrow(/maxRetryAfter/)
    })
  })

  describe("group pause", () => {
    it.effect("run() - when a task of a group is told to wait, its group starts nothing until then; other groups go on", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        const results = yield* runFor(
          3_010,
          Scheduler.run([
            Task.make("first", overloadedThen(probe, "first", 3_000), { group: "llm", retries: 1 }),
            Task.make("sibling", probe.sleep("sibling", 10, 1), { group: "llm" }),
            Task.make("other", probe.sleep("other", 10, 1), { group: "search" }),
            Task.make("none", probe.sleep("none", 10, 1))
          ])
        )
        expect(results.every((r) => r.ok)).toBe(true)
        // the sibling was queued behind the group's cap of 1; the pause keeps it until 3 s
        expect(probe.startOf("sibling")).toBe(3_000)
        expect(probe.startOf("other")).toBe(0)
        expect(probe.startOf("none")).toBe(0)
      }).pipe(withScheduler({ groups: { llm: 1 } })))

    it.effect("run() - a group without a cap pauses too, and a longer wait extends the pause", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        const fiber = yield* Effect.fork(Scheduler.run([
          Task.make("a", overloadedThen(probe, "a", 1_000), { group: "llm" }),
          Task.make("b", overloadedThen(probe, "b", 4_000), { group: "llm" }),
          Task.make("late", Effect.andThen(Effect.sleep(500), Scheduler.run([Task.make("c", probe.sleep("c", 1, 1), { group: "llm" })])))
        ]))
        yield* TestClock.adjust(3_999)
        expect(probe.startOf("c")).toBeUndefined()
        yield* TestClock.adjust(2)
        yield* Fiber.join(fiber)
        expect(probe.startOf("c")).toBe(4_000)
      }).pipe(withScheduler()))

    it.effect("run() - a pause ends on trial: one held task goes first, the rest when it is not refused", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        const later = Scheduler.run(["s1", "s2", "s3"].map((n) => Task.make(n, probe.sleep(n, 100, 1), { group: "llm" })))
        const results = yield* runFor(
          3_000,
          Scheduler.run([
            Task.make("first", overloadedThen(probe, "first", 1_000), { group: "llm", retries: 1, schedule: Schedule.spaced(2_000) }),
            Task.make("late", Effect.andThen(Effect.sleep(500), later))
          ])
        )
        expect(results.every((r) => r.ok)).toBe(true)
        // held from 500 ms; at 1 s the first of them goes alone, and the others once it succeeded
        expect(probe.startOf("s1")).toBe(1_000)
        expect(probe.startOf("s2")).toBe(1_100)
        expect(probe.startOf("s3")).toBe(1_100)
      }).pipe(withScheduler({ groups: { llm: 4 } })))

    it.effect("run() - a task on trial that is refused again pauses its group again; the others stay held", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        const later = Scheduler.run([
          Task.make("s1", overloadedThen(probe, "s1", 1_000), { group: "llm", retries: 1 }),
          ...["s2", "s3"].map((n) => Task.make(n, probe.sleep(n, 100, 1), { group: "llm" }))
        ])
        const results = yield* runFor(
          4_000,
          Scheduler.run([
            Task.make("first", overloadedThen(probe, "first", 1_000), { group: "llm", retries: 1, schedule: Schedule.spaced(3_000) }),
            Task.make("late", Effect.andThen(Effect.sleep(500), later))
          ])
        )
        expect(results.every((r) => r.ok)).toBe(true)
        // s1 on trial at 1 s, refused for 1 s more; then s2 on trial at 2 s, and s3 (and s1 again) once it succeeded
        expect(probe.startOf("s1")).toBe(1_000)
        expect(probe.startOf("s2")).toBe(2_000)
        expect(probe.startOf("s3")).toBe(2_100)
      }).pipe(withScheduler({ groups: { llm: 4 } })))

    it("Promise API - an SDK's 429 is retried after its Retry-After; one asking too long fails at once, saying so", async () => {
      const scheduler = new P.Scheduler({ maxConcurrency: 4, groups: { llm: 2 } })
      let calls = 0
      const once = async () => {
        if (++calls === 1) throw new APIError(429, { "retry-after-ms": "1" })
        return "ok"
      }
      const [retried, refused] = await scheduler.run([
        new P.Task("once", once, { group: "llm", retries: 1 }),
        new P.Task("hour", async () => Promise.reject(new APIError(429, { "retry-after": "3600" })), { retries: 5, maxRetryAfter: 1000 })
      ])
      await scheduler.close()
      expect(retried).toMatchObject({ ok: true, value: "ok", attempts: 2 })
      expect(refused).toMatchObject({ ok: false, attempts: 1, error: { _tag: "TaskFailed", retryAfterMs: 3_600_000 } })
    })
  })
})
