/**
 * Tracing on, with a real OpenTelemetry tracer: `@effect/opentelemetry`'s
 * `NodeSdk.layer` with a `BatchSpanProcessor` over an exporter that drops
 * everything. 20,000 fresh promise tasks at concurrency 64 inside one
 * `Effect.withSpan`, against the same run untraced (tasks made inside the
 * timed region in both). Every attempt runs in a span of its own.
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import { BatchSpanProcessor, type ReadableSpan, type SpanExporter } from "@opentelemetry/sdk-trace-base"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { Scheduler, Task } from "toolfan"
import { allOk, measure, note, ratio, type Row, smoke, timeMs } from "../harness.js"

/** An exporter that keeps nothing: what is measured is making the spans, not sending them. */
const dropAll: SpanExporter = {
  export: (_spans: Array<ReadableSpan>, done) => done({ code: 0 }),
  shutdown: () => Promise.resolve()
}

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
  const s = await measure({
    untraced: perTask(() => untraced.runPromise(Effect.withSpan(Scheduler.run(tasks()), "step"))),
    traced: perTask(() => traced.runPromise(Effect.withSpan(Scheduler.run(tasks()), "step")))
  }, { warmup: 2 })
  await traced.dispose()
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
    }
  ]
}
