/**
 * Spans and metrics of the scheduler, kept off the hot path.
 *
 * - **Metric tags** are arrays built once per group (and outcome) and reused:
 *   Effect caches a metric's hook per tags array (by identity), so an update
 *   with a cached array is a map lookup and an add, ~0.05 µs.
 * - **Spans** cost ~20 µs per attempt (`npm run bench -- --only=overhead`,
 *   "traced"; `Effect.withSpan` alone measures 11–17 µs here: ids, a context
 *   with the parent, clock reads). With Effect's default tracer they go nowhere,
 *   so a run makes them only when a tracer is installed (e.g.
 *   `@effect/opentelemetry`'s layers, `Layer.setTracer`) and tracing is
 *   enabled; then every attempt runs in a span under the caller's span.
 */
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as FiberRefs from "effect/FiberRefs"
import type * as HashMap from "effect/HashMap"
import * as MetricLabel from "effect/MetricLabel"
import * as Option from "effect/Option"
import type * as Runtime from "effect/Runtime"
import * as Tracer from "effect/Tracer"

/** Effect's default tracer, which exports nothing. */
const nativeTracer: Tracer.Tracer = Effect.runSync(Effect.tracer)

/**
 * What a run needs to make its attempts' spans itself, as `Effect.withSpan`
 * would in the caller's fiber: the tracer, the parent span, the clock, the
 * span annotations and links in effect. @internal
 */
export interface Trace {
  readonly tracer: Tracer.Tracer
  readonly parent: Option.Option<Tracer.AnySpan>
  readonly clock: Clock.Clock
  readonly timing: boolean
  readonly annotations: Option.Option<HashMap.HashMap<string, unknown>>
  readonly links: ReadonlyArray<Tracer.SpanLink>
}

/**
 * The {@link Trace} of `runtime`, or `undefined` when its spans would go
 * nowhere: Effect's default tracer (see `traces`), tracing disabled, or a
 * parent span that is not sampled (its children would not be recorded either;
 * a span per attempt costs more than the task itself). @internal
 */
export const traceOf = (runtime: Runtime.Runtime<unknown>): Trace | undefined => {
  if (!traces(runtime) || !FiberRefs.getOrDefault(runtime.fiberRefs, FiberRef.currentTracerEnabled)) return undefined
  const parent = Context.getOption(runtime.context, Tracer.ParentSpan)
  if (parent._tag === "Some" && !parent.value.sampled) return undefined
  const services = FiberRefs.getOrDefault(runtime.fiberRefs, DefaultServices.currentServices)
  const links = FiberRefs.getOrDefault(runtime.fiberRefs, FiberRef.currentTracerSpanLinks)
  return {
    tracer: Context.get(services, Tracer.Tracer),
    parent,
    clock: Context.get(services, Clock.Clock),
    timing: FiberRefs.getOrDefault(runtime.fiberRefs, FiberRef.currentTracerTimingEnabled),
    annotations: Option.some(FiberRefs.getOrDefault(runtime.fiberRefs, FiberRef.currentTracerSpanAnnotations)),
    links: Chunk.toReadonlyArray(links)
  }
}

/** Whether spans made in `runtime` go anywhere: its tracer is not Effect's default one. @internal */
export const traces = (runtime: Runtime.Runtime<unknown>): boolean =>
  Context.get(FiberRefs.getOrDefault(runtime.fiberRefs, DefaultServices.currentServices), Tracer.Tracer) !== nativeTracer

/** @internal */
export interface GroupTags {
  readonly group: ReadonlyArray<MetricLabel.MetricLabel>
  readonly outcome: Map<string, ReadonlyArray<MetricLabel.MetricLabel>>
}

const groups = new Map<string, GroupTags>()

/** The cached tags of a group (`"none"` for tasks without one). @internal */
export const tagsOf = (group: string | undefined): GroupTags => {
  const name = group ?? "none"
  let tags = groups.get(name)
  if (tags === undefined) {
    tags = { group: [MetricLabel.make("group", name)], outcome: new Map() }
    groups.set(name, tags)
  }
  return tags
}

/** The cached tags of a group and an outcome. @internal */
export const outcomeTags = (tags: GroupTags, outcome: string): ReadonlyArray<MetricLabel.MetricLabel> => {
  let t = tags.outcome.get(outcome)
  if (t === undefined) {
    t = [...tags.group, MetricLabel.make("outcome", outcome)]
    tags.outcome.set(outcome, t)
  }
  return t
}

const batchers = new Map<string, ReadonlyArray<MetricLabel.MetricLabel>>()

/** The cached tags of a batcher. @internal */
export const batcherTags = (name: string): ReadonlyArray<MetricLabel.MetricLabel> => {
  let t = batchers.get(name)
  if (t === undefined) {
    t = [MetricLabel.make("batcher", name)]
    batchers.set(name, t)
  }
  return t
}
