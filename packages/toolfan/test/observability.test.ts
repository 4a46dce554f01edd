import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Metric from "effect/Metric"
import * as MetricState from "effect/MetricState"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as TestClock from "effect/TestClock"
import * as Tracer from "effect/Tracer"
import { Batcher, Metrics, Scheduler, Task } from "../src/index.js"
import { recordingTracer } from "./utils.js"

const attr = (span: Tracer.Span, key: string) => span.attributes.get(key)

const flaky = (failures: number, ms: number) => {
  let calls = 0
  return Effect.suspend(() => ++calls <= failures ? Effect.fail("transient") : Effect.succeed(calls)).pipe(Effect.delay(ms))
}

const withScheduler = (options?: Scheduler.Options) => Effect.provide(Scheduler.layer(options))

describe("observability", () => {
  describe("spans", () => {
    it.effect("one span per attempt, nested under the caller's span, with name, group, attempt, wait and outcome", () =>
      Effect.gen(function*() {
        const { spans, tracer } = recordingTracer()
        const program = Scheduler.run([
          Task.make("search", flaky(2, 10), { group: "web", retries: 2, schedule: Schedule.spaced("100 millis") }),
          Task.make("slow", Effect.sleep(500), { timeout: "50 millis" }),
          Task.make("fine", Effect.succeed(1))
        ]).pipe(Effect.withSpan("agent step"))
        const fiber = yield* Effect.fork(Effect.withTracer(program, tracer))
        yield* TestClock.adjust(1000)
        const results = yield* Fiber.join(fiber)
        expect(results.map((r) => r.ok)).toEqual([true, false, true])

        const step = spans.find((s) => s.name === "agent step")!
        const attempts = spans.filter((s) => attr(s, "toolfan.task.name") !== undefined)
        expect(attempts.map((s) => [s.name, attr(s, "toolfan.task.attempt"), attr(s, "toolfan.task.outcome")])).toEqual([
          ["search", 1, "failed"],
          ["slow", 1, "timedOut"],
          ["fine", 1, "ok"],
          ["search", 2, "failed"],
          ["search", 3, "ok"]
        ])
        for (const s of attempts) {
          expect(Option.getOrUndefined(s.parent)).toBe(step)
          expect(s.traceId).toBe(step.traceId)
          expect(s.status._tag).toBe("Ended")
        }
        expect(attempts.filter((s) => s.name === "search").map((s) => attr(s, "toolfan.task.group"))).toEqual(["web", "web", "web"])
        expect(attr(attempts[2]!, "toolfan.task.group")).toBe("none")
        expect(attempts.every((s) => attr(s, "toolfan.task.queue_wait_ms") === 0)).toBe(true)
      }).pipe(withScheduler()))

    it.effect("promise tasks (run without a fiber) get the same spans: nested under the caller's, with their outcome and times", () =>
      Effect.gen(function*() {
        const { spans, tracer } = recordingTracer()
        const settle = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))
        let calls = 0
        const program = Scheduler.run([
          Task.fromPromise("flaky", () => ++calls === 1 ? Promise.reject(new Error("transient")) : Promise.resolve(calls), {
            retries: 1,
            schedule: Schedule.spaced("100 millis"),
            group: "web"
          }),
          Task.fromPromise("hung", (signal) => new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason))), {
            timeout: "50 millis"
          }),
          Task.fromPromise("fine", () => "done")
        ]).pipe(Effect.withSpan("agent step"), Effect.annotateSpans("tenant", "acme"))
        const fiber = yield* Effect.fork(Effect.withTracer(program, tracer))
        yield* settle
        yield* TestClock.adjust(50)
        yield* settle
        yield* TestClock.adjust(100)
        yield* settle
        const results = yield* Fiber.join(fiber)
        expect(results.map((r) => r.ok)).toEqual([true, false, true])

        const step = spans.find((s) => s.name === "agent step")!
        const attempts = spans.filter((s) => attr(s, "toolfan.task.name") !== undefined)
        expect(attempts.map((s) => [s.name, attr(s, "toolfan.task.attempt"), attr(s, "toolfan.task.outcome")])).toEqual([
          ["flaky", 1, "failed"],
          ["hung", 1, "timedOut"],
          ["fine", 1, "ok"],
          ["flaky", 2, "ok"]
        ])
        for (const s of attempts) {
          expect(Option.getOrUndefined(s.parent)).toBe(step)
          expect(s.status._tag).toBe("Ended")
          expect(attr(s, "tenant")).toBe("acme")
        }
        const hung = attempts.find((s) => s.name === "hung")!
        if (hung.status._tag === "Ended") expect(hung.status.endTime - hung.status.startTime).toBe(BigInt(50_000_000))
        expect(attr(attempts[0]!, "toolfan.task.group")).toBe("web")
      }).pipe(withScheduler()))

    it.effect("under a span that is not sampled, attempts make no spans (they would not be recorded)", () =>
      Effect.gen(function*() {
        const { spans, tracer } = recordingTracer()
        const unsampled = Tracer.externalSpan({ spanId: "s1", traceId: "t1", sampled: false })
        const program = Scheduler.run([
          Task.fromPromise("promise", () => Promise.resolve(1)),
          Task.make("effect", Effect.succeed(2))
        ]).pipe(Effect.withParentSpan(unsampled))
        const results = yield* Effect.withTracer(program, tracer)
        expect(results.map((r) => r.value)).toEqual([1, 2])
        expect(spans.filter((s) => attr(s, "toolfan.task.name") !== undefined)).toEqual([])
      }).pipe(withScheduler()))

    it.effect("an attempt's queue wait is on its span; user spans inside a task are children of its attempt span", () =>
      Effect.gen(function*() {
        const { spans, tracer } = recordingTracer()
        const inner = Effect.sleep(100).pipe(Effect.withSpan("http.get"))
        const fiber = yield* Effect.fork(Effect.withTracer(
          Scheduler.run([Task.make("a", inner), Task.make("b", inner)]),
          tracer
        ))
        yield* TestClock.adjust(200)
        yield* Fiber.join(fiber)
        const b = spans.find((s) => s.name === "b")!
        expect(attr(b, "toolfan.task.queue_wait_ms")).toBe(100)
        const gets = spans.filter((s) => s.name === "http.get")
        expect(gets.map((s) => {
          const parent = Option.getOrUndefined(s.parent)
          return parent?._tag === "Span" ? parent.name : undefined
        })).toEqual(["a", "b"])
      }).pipe(withScheduler({ maxConcurrency: 1 })))

    it.effect("a batch call runs in a span with its size", () =>
      Effect.gen(function*() {
        const { spans, tracer } = recordingTracer()
        yield* Effect.withTracer(
          Effect.gen(function*() {
            const batcher = yield* Batcher.make({ name: "embed", run: (items: ReadonlyArray<number>) => Effect.succeed(items) })
            const fiber = yield* Effect.fork(batcher.submitAll([1, 2, 3, 4, 5]))
            yield* TestClock.adjust(100)
            yield* Fiber.join(fiber)
          }).pipe(Effect.scoped),
          tracer
        )
        const batch = spans.find((s) => s.name === "toolfan.batch")!
        expect(attr(batch, "toolfan.batch.size")).toBe(5)
        expect(attr(batch, "toolfan.batcher")).toBe("embed")
      }).pipe(withScheduler()))

    it.effect("with Effect's default tracer (which exports nothing) no spans are made", () =>
      Effect.gen(function*() {
        let seen: Option.Option<Tracer.AnySpan> = Option.none()
        yield* Scheduler.run([Task.make("a", Effect.map(Effect.currentSpan.pipe(Effect.option), (s) => (seen = s)))])
        expect(Option.isNone(seen)).toBe(true)
      }).pipe(withScheduler()))
  })

  describe("metrics", () => {
    const histogram = (m: Metric.Metric.Histogram<number>, tags: Record<string, string>) =>
      Effect.map(
        Metric.value(Object.entries(tags).reduce((acc, [k, v]) => Metric.tagged(acc, k, v), m)),
        (state: MetricState.MetricState.Histogram) => state
      )
    const count = (m: Metric.Metric.Counter<number>, tags: Record<string, string>) =>
      Effect.map(Metric.value(Object.entries(tags).reduce((acc, [k, v]) => Metric.tagged(acc, k, v), m)), (s) => s.count)

    it.effect("durations, queue waits, retries, timeouts, failures by kind and tasks in flight, tagged by group", () =>
      Effect.gen(function*() {
        const group = "metrics-test"
        const fiber = yield* Effect.fork(Scheduler.run([
          Task.make("flaky", flaky(1, 10), { group, retries: 1, schedule: Schedule.spaced("100 millis") }),
          Task.make("slow", Effect.sleep(500), { group, timeout: "50 millis" }),
          Task.make("queued", Effect.sleep(10), { group })
        ]))
        yield* TestClock.adjust(5)
        expect(yield* count(Metrics.inFlight, { group })).toBe(2)
        yield* TestClock.adjust(1000)
        yield* Fiber.join(fiber)
        expect(yield* count(Metrics.inFlight, { group })).toBe(0)
        expect(yield* count(Metrics.retries, { group })).toBe(1)
        expect(yield* count(Metrics.timeouts, { group })).toBe(1)
        expect(yield* count(Metrics.failures, { group, outcome: "TaskTimedOut" })).toBe(1)
        expect(yield* count(Metrics.failures, { group, outcome: "TaskFailed" })).toBe(0)
        const durations = yield* histogram(Metrics.taskDuration, { group, outcome: "ok" })
        expect(durations.count).toBe(2)
        // "flaky": 10 ms, backoff 100 ms, 10 ms → 120; "queued": waited 10 ms, ran 10 ms → 10
        expect(durations.sum).toBe(130)
        const waits = yield* histogram(Metrics.queueWait, { group })
        expect(waits.count).toBe(4) // one sample per attempt
        expect(waits.sum).toBe(10) // "queued" waited 10 ms for a slot; the others started at once
      }).pipe(withScheduler({ maxConcurrency: 2 })))

    it.effect("retries counts only retries that happen: a schedule that stops early schedules none", () =>
      Effect.gen(function*() {
        const group = "retries-stop-test"
        const fiber = yield* Effect.fork(Scheduler.run([
          // retries: 3, but the schedule allows one: 2 attempts, 1 retry
          Task.make("a", Effect.fail("no"), { group, retries: 3, schedule: Schedule.recurs(1) })
        ]))
        yield* TestClock.adjust(100)
        const [r] = yield* Fiber.join(fiber)
        expect(r.attempts).toBe(2)
        expect(yield* count(Metrics.retries, { group })).toBe(1)
      }).pipe(withScheduler()))

    it.effect("tasks in flight: a task whose slot is lent to its nested run is not counted meanwhile", () =>
      Effect.gen(function*() {
        const group = "inflight-nested-test"
        const seen: Array<number> = []
        const child = Task.make("child", Effect.zipRight(
          Effect.flatMap(count(Metrics.inFlight, { group }), (n) => Effect.sync(() => void seen.push(n))),
          Effect.sleep(10)
        ), { group })
        const parent = Task.make("parent", Effect.zipRight(Scheduler.run([child]), Effect.flatMap(
          count(Metrics.inFlight, { group }),
          (n) => Effect.sync(() => void seen.push(n))
        )), { group })
        const fiber = yield* Effect.fork(Scheduler.run([parent]))
        yield* TestClock.adjust(100)
        yield* Fiber.join(fiber)
        // the child runs in the parent's slot (1 at most); the parent has it back afterwards
        expect(seen).toEqual([1, 1])
        expect(yield* count(Metrics.inFlight, { group })).toBe(0)
      }).pipe(withScheduler({ maxConcurrency: 1 })))

    it.effect("batch sizes, tagged by batcher", () =>
      Effect.gen(function*() {
        const batcher = yield* Batcher.make({
          name: "sizes-test",
          maxSize: 4,
          run: (items: ReadonlyArray<number>) => Effect.succeed(items)
        })
        const fiber = yield* Effect.fork(batcher.submitAll([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]))
        yield* TestClock.adjust(100)
        yield* Fiber.join(fiber)
        const sizes = yield* Metric.value(Metric.tagged(Metrics.batchSize, "batcher", "sizes-test"))
        expect([sizes.count, sizes.sum, sizes.min, sizes.max]).toEqual([3, 10, 2, 4])
      }).pipe(Effect.scoped, withScheduler()))
  })
})
