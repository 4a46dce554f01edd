import { describe, expect, it } from "@effect/vitest"
import type { Attributes } from "@opentelemetry/api"
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  PeriodicExportingMetricReader
} from "@opentelemetry/sdk-metrics"
import { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace-base"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as TestClock from "effect/TestClock"
import { Scheduler } from "toolfan"
import { layer, program, schedulerOptions, spanTree } from "../src/otel.js"

// The example's agent step with @effect/opentelemetry's NodeSdk layer, on
// virtual time: the OTel spans take their start and end times from Effect's
// Clock, so the TestClock drives them too. The assertions are on what the
// OpenTelemetry SDK exported, not on Effect's own span objects.

const attempts = (spans: ReadonlyArray<ReadableSpan>, name: string) =>
  spans
    .filter((s) => s.attributes["toolfan.task.name"] === name)
    .map((s) => [s.attributes["toolfan.task.attempt"], s.attributes["toolfan.task.outcome"]])

/** Runs the program with the OTel layer; reads the exporters before the layer shuts the SDK down. */
const runExported = Effect.gen(function*() {
  const spans = new InMemorySpanExporter()
  const metrics = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
  const reader = new PeriodicExportingMetricReader({ exporter: metrics, exportIntervalMillis: 60_000 })
  return yield* Effect.gen(function*() {
    const fiber = yield* Effect.fork(program)
    yield* TestClock.adjust("1 second")
    const results = yield* Fiber.join(fiber)
    yield* Effect.promise(() => reader.forceFlush())
    return { results, spans: [...spans.getFinishedSpans()], metrics: metrics.getMetrics() }
  }).pipe(Effect.provide(Layer.merge(layer(spans, { metrics: reader }), Scheduler.layer(schedulerOptions))))
})

describe("otel example", () => {
  it.effect("exports one span per attempt, each a child of the caller's span in its trace", () =>
    Effect.gen(function*() {
      const { results, spans } = yield* runExported
      expect(results.map((r) => [r.name, r.ok])).toEqual([
        ["search", true],
        ["fetchPage", true],
        ["hotels", false],
        ["weather", true],
        ["embed:flights", true],
        ["embed:hotels", true],
        ["embed:weather", true]
      ])

      const step = spans.filter((s) => s.name === "agent step")
      expect(step).toHaveLength(1)
      const { spanId, traceId } = step[0]!.spanContext()

      expect(attempts(spans, "search")).toEqual([[1, "failed"], [2, "failed"], [3, "ok"]])
      expect(attempts(spans, "hotels")).toEqual([[1, "timedOut"]])
      expect(attempts(spans, "fetchPage")).toEqual([[1, "ok"]])
      expect(attempts(spans, "weather")).toEqual([[1, "ok"]])
      for (const name of ["embed:flights", "embed:hotels", "embed:weather"]) {
        expect(attempts(spans, name)).toEqual([[1, "ok"]])
      }

      const tasks = ["search", "fetchPage", "hotels", "weather", "embed:flights", "embed:hotels", "embed:weather"]
      const taskSpans = spans.filter((s) => tasks.includes(String(s.attributes["toolfan.task.name"])))
      expect(taskSpans).toHaveLength(9)
      for (const span of taskSpans) {
        expect(span.name).toBe(span.attributes["toolfan.task.name"])
        expect(span.parentSpanContext?.spanId).toBe(spanId)
        expect(span.spanContext().traceId).toBe(traceId)
        expect(span.ended).toBe(true)
      }
    }))

  it.effect("exports group, queue wait and virtual-time durations on the attempt spans", () =>
    Effect.gen(function*() {
      const { spans } = yield* runExported
      const byAttempt = (name: string, attempt: number) =>
        spans.find((s) => s.name === name && s.attributes["toolfan.task.attempt"] === attempt)!
      const millis = (s: ReadableSpan) => s.duration[0] * 1000 + s.duration[1] / 1e6

      expect(byAttempt("search", 1).attributes["toolfan.task.group"]).toBe("web")
      expect(byAttempt("hotels", 1).attributes["toolfan.task.group"]).toBe("none")
      expect(millis(byAttempt("search", 1))).toBe(20)
      expect(millis(byAttempt("hotels", 1))).toBe(50)
      // the web group runs one call at a time: fetchPage waits out search's first attempt
      expect(byAttempt("fetchPage", 1).attributes["toolfan.task.queue_wait_ms"]).toBe(20)
      expect(byAttempt("search", 1).attributes["toolfan.task.queue_wait_ms"]).toBe(0)
    }))

  it.effect("exports the batch call's span with the batcher's name and the batch's size", () =>
    Effect.gen(function*() {
      const { spans } = yield* runExported
      const batches = spans.filter((s) => s.name === "toolfan.batch")
      expect(batches.map((s) => [s.attributes["toolfan.batcher"], s.attributes["toolfan.batch.size"]])).toEqual([
        ["embeddings", 3]
      ])
      // inside the batcher's own attempt span, in the same trace
      const parent = spans.find((s) => s.spanContext().spanId === batches[0]!.parentSpanContext?.spanId)
      expect(parent?.attributes["toolfan.task.name"]).toBe("embeddings")
      expect(batches[0]!.spanContext().traceId).toBe(spans.find((s) => s.name === "agent step")!.spanContext().traceId)
    }))

  it.effect("exports toolfan's metrics with their tags as attributes", () =>
    Effect.gen(function*() {
      const { metrics } = yield* runExported
      const points = (name: string): ReadonlyArray<{ readonly attributes: Attributes; readonly value: unknown }> =>
        metrics.at(-1)!.scopeMetrics
          .flatMap((s) => s.metrics)
          .filter((m) => m.descriptor.name === name)
          .flatMap((m): ReadonlyArray<{ readonly attributes: Attributes; readonly value: unknown }> => m.dataPoints)
      // Effect's metrics are process-wide: this file's runs add up, two retries each
      const retries = points("toolfan.task.retries").find((p) => p.attributes["group"] === "web")
      expect(retries?.value).toBeGreaterThanOrEqual(2)
      expect(Number(retries?.value) % 2).toBe(0)
      const timeouts = points("toolfan.task.timeouts").find((p) => p.attributes["group"] === "none")
      expect(timeouts?.value).toBeGreaterThanOrEqual(1)
      const sizes = points("toolfan.batch.size").find((p) => p.attributes["batcher"] === "embeddings")
      expect(sizes).toBeDefined()
    }))

  it.effect("spanTree() - nests each span under its parent, in start order", () =>
    Effect.gen(function*() {
      const { spans } = yield* runExported
      const lines = spanTree(spans).split("\n")
      expect(lines[0]).toMatch(/^agent step {2}\d+\.\d ms$/)
      expect(lines.filter((l) => /^ {2}search /.test(l))).toHaveLength(3)
      expect(lines.some((l) => /^ {4}toolfan\.batch .*toolfan\.batch\.size=3/.test(l))).toBe(true)
      expect(lines.find((l) => l.startsWith("  hotels "))).toContain("toolfan.task.outcome=timedOut")
    }))
})
