/**
 * toolfan's spans and metrics in OpenTelemetry
 * (`npx tsc -b && node packages/examples/dist/otel.js`).
 *
 * One agent step runs four tool calls and three batched embeddings through
 * `Scheduler.run`, inside `Effect.withSpan("agent step")`:
 * - `search` fails twice with a 503 and is retried twice (three attempts),
 * - `hotels` hangs and times out after 50 ms (not retried),
 * - `fetchPage` shares the `web` group (one call at a time) with `search`,
 *   so it queues,
 * - `embed:*` go through a `Batcher`, which sends them as one batch.
 *
 * `@effect/opentelemetry`'s `NodeSdk.layer` installs an OpenTelemetry tracer
 * (and exports Effect's metrics): with it, toolfan makes one span per attempt
 * under the caller's span, and one span per batch call. The exporters here
 * keep what they get in memory so the example can print it; a service would
 * hand the same layer an OTLP exporter and a `BatchSpanProcessor` instead.
 * Only the printed durations move by a few ms between runs.
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import type { Attributes, HrTime } from "@opentelemetry/api"
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  type MetricReader,
  PeriodicExportingMetricReader
} from "@opentelemetry/sdk-metrics"
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanExporter
} from "@opentelemetry/sdk-trace-base"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import { fileURLToPath } from "node:url"
import { Batcher, Scheduler, Spans, Task } from "toolfan"
import { ToolUnavailable } from "./tools.js"

// ---------------------------------------------------------------------------
// wiring
// ---------------------------------------------------------------------------

/**
 * Options of {@link layer}.
 */
export interface LayerOptions {
  /** Where Effect's metrics (toolfan's among them) go. Default: no metrics exported. */
  readonly metrics?: MetricReader | undefined
}

/**
 * The OpenTelemetry SDK as a layer: a tracer provider whose spans go to
 * `spans` as each one ends (`SimpleSpanProcessor`), and Effect's metrics
 * collected by `options.metrics`. Installing it is all toolfan needs: its
 * spans are made only when a tracer other than Effect's default is installed.
 */
export const layer = (spans: SpanExporter, options?: LayerOptions | undefined): Layer.Layer<never> =>
  Layer.discard(NodeSdk.layer(() => ({
    resource: { serviceName: "toolfan-example" },
    spanProcessor: new SimpleSpanProcessor(spans),
    metricReader: options?.metrics
  })))

/** At most 8 calls at once, and one at a time to the web backend. */
export const schedulerOptions = { maxConcurrency: 8, groups: { web: 1 } } as const

// ---------------------------------------------------------------------------
// the agent step
// ---------------------------------------------------------------------------

/** A search backend that answers 503 twice, then works (20 ms a call). */
const flakySearch = () => {
  let calls = 0
  return Effect.suspend(() =>
    ++calls <= 2
      ? Effect.fail(new ToolUnavailable({ tool: "search", status: 503 }))
      : Effect.succeed("3 hits")
  ).pipe(Effect.delay("20 millis"))
}

/** An embedding model that takes a batch of texts at once (10 ms a call). */
const embedAll = (texts: ReadonlyArray<string>) =>
  Effect.succeed(texts.map((text) => text.length)).pipe(Effect.delay("10 millis"))

/**
 * One agent step: seven tool calls run at once by the `Scheduler`, inside
 * the span `"agent step"`. Never fails: every call gets its own result.
 */
export const program = Effect.gen(function*() {
  const embeddings = yield* Batcher.make({ name: "embeddings", maxWait: "5 millis", run: embedAll })
  const embed = (text: string) => Task.make(`embed:${text}`, embeddings.submit(text))
  return yield* Scheduler.run([
    Task.make("search", flakySearch(), { group: "web", retries: 2, schedule: Schedule.spaced("10 millis") }),
    Task.make("fetchPage", Effect.succeed("Thu 19:00").pipe(Effect.delay("15 millis")), { group: "web" }),
    Task.make("hotels", Effect.never, { timeout: "50 millis" }),
    Task.make("weather", Effect.succeed("sunny").pipe(Effect.delay("25 millis"))),
    embed("flights"),
    embed("hotels"),
    embed("weather")
  ])
}).pipe(Effect.scoped, Effect.withSpan("agent step"))

// ---------------------------------------------------------------------------
// printing what was exported
// ---------------------------------------------------------------------------

const millis = (t: HrTime): number => t[0] * 1000 + t[1] / 1e6

/**
 * Left out of the printout: the task's name is the span's, the run id and task index only tell tasks apart, and
 * Effect's `code.stacktrace` is long.
 */
const unprinted: ReadonlySet<string> = new Set([
  Spans.attributes.taskName,
  Spans.attributes.runId,
  Spans.attributes.taskIndex,
  "code.stacktrace"
])

const formatAttributes = (attributes: Attributes): string =>
  Object.entries(attributes)
    .filter(([key]) => !unprinted.has(key))
    .map(([key, value]) => `${key}=${String(value)}`)
    .join(" ")

/**
 * The spans as an indented tree, children under their parent by start time:
 * `name  duration  attributes`.
 */
export const spanTree = (spans: ReadonlyArray<ReadableSpan>): string => {
  const ids = new Set(spans.map((s) => s.spanContext().spanId))
  const children = new Map<string | undefined, Array<ReadableSpan>>()
  for (const span of spans) {
    const parent = span.parentSpanContext?.spanId
    const key = parent !== undefined && ids.has(parent) ? parent : undefined
    children.set(key, [...(children.get(key) ?? []), span])
  }
  const lines: Array<string> = []
  const walk = (parent: string | undefined, depth: number) => {
    const sorted = [...(children.get(parent) ?? [])].sort((a, b) => millis(a.startTime) - millis(b.startTime))
    for (const span of sorted) {
      const duration = `${millis(span.duration).toFixed(1)} ms`
      lines.push(`${"  ".repeat(depth)}${span.name}  ${duration}  ${formatAttributes(span.attributes)}`.trimEnd())
      walk(span.spanContext().spanId, depth + 1)
    }
  }
  walk(undefined, 0)
  return lines.join("\n")
}

/** toolfan's metrics among those exported: one line per metric and attribute set. */
export const metricLines = (exporter: InMemoryMetricExporter): ReadonlyArray<string> => {
  const latest = exporter.getMetrics().at(-1)
  const lines: Array<string> = []
  for (const scope of latest?.scopeMetrics ?? []) {
    for (const metric of scope.metrics) {
      if (!metric.descriptor.name.startsWith("toolfan.")) continue
      for (const point of metric.dataPoints) {
        const tags = Object.entries(point.attributes).map(([k, v]) => `${k}=${String(v)}`).join(",")
        const value = metric.dataPointType === DataPointType.HISTOGRAM
          ? (({ count, sum }) => `count=${count} sum=${Math.round(sum ?? 0)}`)(
            point.value as { count: number; sum?: number }
          )
          : String(point.value)
        lines.push(`${metric.descriptor.name}{${tags}} ${value}`)
      }
    }
  }
  return lines.sort()
}

const main = Effect.gen(function*() {
  const spans = new InMemorySpanExporter()
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
  const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 60_000 })
  yield* Effect.gen(function*() {
    const results = yield* program
    // read before the layer closes: shutting the SDK down empties the in-memory exporters
    yield* Effect.promise(() => reader.forceFlush())
    yield* Console.log("Exported spans:\n")
    yield* Console.log(spanTree(spans.getFinishedSpans()))
    yield* Console.log("\nExported metrics (toolfan.*):\n")
    yield* Console.log(metricLines(metricExporter).join("\n"))
    yield* Console.log(`\nResults: ${results.map((r) => `${r.name} ${r.ok ? "ok" : r.error._tag}`).join(", ")}`)
  }).pipe(Effect.provide(Layer.merge(layer(spans, { metrics: reader }), Scheduler.layer(schedulerOptions))))
})

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  Effect.runPromise(main).catch((error: unknown) => {
    console.error(error)
    process.exitCode = 1
  })
}
