import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import { ConsoleMetricExporter, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics"
import { BatchSpanProcessor, ConsoleSpanExporter } from "@opentelemetry/sdk-trace-base"
import { Effect, Layer } from "effect"
import { Scheduler, Task } from "toolfan"

// The OpenTelemetry SDK as a layer: spans in batches to an exporter, Effect's metrics (toolfan's among them) read
// every 10 s. The console exporters print what would be sent; a service passes OTLP exporters instead.
const OtelLive = NodeSdk.layer(() => ({
  resource: { serviceName: "trip-agent" },
  spanProcessor: new BatchSpanProcessor(new ConsoleSpanExporter()),
  metricReader: new PeriodicExportingMetricReader({
    exporter: new ConsoleMetricExporter(),
    exportIntervalMillis: 10_000
  })
}))

// Fake tools (offline).
const search = Effect.succeed("3 hits").pipe(Effect.delay("80 millis"))
const weather = Effect.succeed("sunny").pipe(Effect.delay("50 millis"))

// The step's own span: every attempt's span is its child, in the same trace.
const step = Scheduler.run([
  Task.make("search", search, { group: "web", timeout: "5 seconds", retries: 2 }),
  Task.make("weather", weather, { timeout: "2 seconds" })
]).pipe(Effect.withSpan("agent step", { attributes: { "agent.question": "Lisbon on Thursday?" } }))

// Closing the layer at the end flushes the spans and metrics still buffered.
Effect.runPromise(step.pipe(Effect.provide(Layer.merge(Scheduler.layer({ groups: { web: 2 } }), OtelLive))))
