import * as Otlp from "@effect/opentelemetry/Otlp"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { Effect, Layer } from "effect"
import { Scheduler, Task } from "toolfan"

// Without the OpenTelemetry SDK: @effect/opentelemetry's own OTLP exporter sends spans and metrics (JSON over HTTP)
// to a collector, e.g. a local OpenTelemetry Collector or Jaeger listening on port 4318.
const OtlpLive = Otlp.layerJson({
  baseUrl: "http://localhost:4318",
  resource: { serviceName: "trip-agent" }
}).pipe(Layer.provide(FetchHttpClient.layer))

const step = Scheduler.run([
  Task.make("search", Effect.succeed("3 hits").pipe(Effect.delay("80 millis")), { retries: 2 })
]).pipe(Effect.withSpan("agent step"))

Effect.runPromise(step.pipe(Effect.provide(Layer.merge(Scheduler.layer(), OtlpLive))))
