/**
 * Tracing on, with a real OpenTelemetry tracer: `@effect/opentelemetry`'s
 * `NodeSdk.layer` with a `BatchSpanProcessor` over an exporter that drops
 * everything. 20,000 fresh promise tasks at concurrency 64 inside one
 * `Effect.withSpan`, against the same run untraced (tasks made inside the
 * timed region in both). Every attempt runs in a span of its own.
 *
 * The floor: what the same spans cost written by hand — p-limit and, per
 * task, the OpenTelemetry tracer's `startActiveSpan` with the attributes
 * toolfan sets, a status and `end`, on a provider made as `NodeSdk.layer` makes it.
 * The 3× target is measured against untraced toolfan; the hand-written row
 * says how much of the cost is the SDK's own.
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import * as OtelApi from "@opentelemetry/api"
import { BasicTracerProvider, BatchSpanProcessor, type ReadableSpan, type SpanExporter } from "@opentelemetry/sdk-trace-base"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import pLimit from "p-limit"
import { Scheduler, Spans, Task } from "toolfan"
import { allOk, measure, note, ratio, type Row, smoke, timeMs } from "../harness.js"

/** An exporter that keeps nothing: what is measured is making the spans, not sending them. */
const dropAll: SpanExporter = {
  export: (_spans: Array<ReadableSpan>, done) => done({ code: 0 }),
  shutdown: () => Promise.resolve()
}

/** The attributes toolfan puts on an attempt's span (see `Spans`), for the hand-written peer. */
const handAttributes = (i: number): OtelApi.Attributes => ({
  [Spans.attributes.taskName]: `t${i}`,
  [Spans.attributes.group]: "none",
  [Spans.attributes.attempt]: 1,
  [Spans.attributes.queueWaitMs]: 0,
  [Spans.attributes.runId]: 1,
  [Spans.attributes.taskIndex]: i,
  [Spans.attributes.outcome]: "ok"
})

export const run = async (): Promise<Array<Row>> => {
  const N = smoke ? 200 : 20_000
  const otel = NodeSdk.layer(() => ({
    resource: { serviceName: "toolfan-bench" },
    spanProcessor: new BatchSpanProcessor(dropAll)
  }))
  const traced = ManagedRuntime.make(Layer.merge(Scheduler.layer({ maxConcurrency: 64 }), otel))
  const untraced = ManagedRuntime.make(Scheduler.layer({ maxConcurrency: 64 }))
  const noop = () => Promise.resolve()
  const tasks = () => Array.from({ length: N }, (_, i) => Task.fromPromise(`t${i}`, noop))
  const perTask = (f: () => Promise<ReadonlyArray<{ readonly ok: boolean }>>) => async () =>
    ((await timeMs(async () => allOk(await f(), "traced bench"))) * 1000) / N
  // the provider NodeSdk.layer makes (a NodeTracerProvider is a BasicTracerProvider that can register itself)
  const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(dropAll)] })
  const otelTracer = provider.getTracer("toolfan-bench")
  const units = Array.from({ length: N }, (_, i) => i)
  const byHand = async () => {
    const limit = pLimit(64)
    const step = otelTracer.startSpan("step")
    const parent = OtelApi.trace.setSpan(OtelApi.context.active(), step)
    const results = await Promise.all(units.map((i) =>
      limit(() =>
        otelTracer.startActiveSpan(`t${i}`, { attributes: handAttributes(i) }, parent, (span) =>
          noop().then(() => {
            span.setStatus({ code: OtelApi.SpanStatusCode.OK })
            span.end()
            return { ok: true }
          }))
      )
    ))
    step.end()
    return results
  }
  const s = await measure({
    untraced: perTask(() => untraced.runPromise(Effect.withSpan(Scheduler.run(tasks()), "step"))),
    traced: perTask(() => traced.runPromise(Effect.withSpan(Scheduler.run(tasks()), "step"))),
    byHand: perTask(byHand)
  }, { warmup: 2 })
  await traced.dispose()
  await provider.shutdown()
  await untraced.dispose()
  const section = "traced"
  note(`traced: ${N.toLocaleString("en-US")} fresh promise tasks at concurrency 64 inside one Effect.withSpan; OpenTelemetry NodeSdk.layer, BatchSpanProcessor, an exporter that drops everything`)
  const r = ratio(s.traced, s.untraced)
  return [
    { section, case: "untraced", samples: s.untraced, unit: "µs/task", against: "peer" },
    {
      section,
      case: "OpenTelemetry tracer (a span per attempt)",
      samples: s.traced,
      unit: "µs/task",
      ratio: r,
      against: "untraced",
      target: "≤ 3×",
      met: r <= 3
    },
    {
      section,
      case: "p-limit + an OpenTelemetry span per task, by hand",
      samples: s.byHand,
      unit: "µs/task",
      ratio: ratio(s.byHand, s.untraced),
      against: "untraced"
    },
    { section, case: "toolfan traced against the hand-written spans", samples: s.traced, unit: "µs/task", ratio: ratio(s.traced, s.byHand), against: "by hand", target: "≤ 1×", met: ratio(s.traced, s.byHand) <= 1 }
  ]
}
