/**
 * A timeline of a finished run: for each task, when each attempt waited for a
 * slot, ran, and how it ended, with the backoff gaps between attempts. Built
 * from the spans the scheduler makes (one per attempt), so it shows exactly
 * what a tracing backend would; drawn as text for a terminal
 * ({@link toText}) or as a self-contained SVG / HTML page ({@link toSvg},
 * {@link toHtml}).
 *
 * @example
 * ```ts
 * const [results, timeline] = yield* Timeline.capture(Scheduler.run(tasks))
 * console.log(Timeline.toText(timeline))
 * ```
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Tracer from "effect/Tracer"
import { Spans } from "toolfan"
import * as svg from "./internal/svg.js"
import * as text from "./internal/text.js"

/**
 * How an attempt ended: `"timedOut"` when it ran out of its `timeout`,
 * `"unavailable"` when its group's shared limit lost its permit. The core's
 * `Spans.Outcome`: the scheduler writes it on each attempt's span.
 *
 * @since 0.1.0
 * @category models
 */
export type Outcome = Spans.Outcome

/**
 * One attempt, in milliseconds from the timeline's origin.
 *
 * @since 0.1.0
 * @category models
 */
export interface Attempt {
  /** 1 for the first attempt. */
  readonly attempt: number
  /** When it started waiting for a slot (the task was queued, or its backoff ended). */
  readonly queuedAt: number
  readonly start: number
  readonly end: number
  readonly outcome: Outcome
}

/**
 * One task and its attempts, in order.
 *
 * @since 0.1.0
 * @category models
 */
export interface Row {
  readonly name: string
  /** Its group, if any. */
  readonly group?: string | undefined
  readonly attempts: ReadonlyArray<Attempt>
}

/**
 * A finished run's tasks (by first start), in milliseconds from `origin`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Timeline {
  /** Epoch milliseconds (of Effect's `Clock`) of time 0. */
  readonly origin: number
  readonly rows: ReadonlyArray<Row>
}

const nanosToMillis = (n: bigint): number => Number(n / 1000n) / 1000

/**
 * Builds a timeline from spans: the attempt spans of toolfan's scheduler
 * (those with a `Spans.attributes.taskName` attribute) that have ended; other
 * spans are ignored. Tasks that never started have no span and no row.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromSpans = (spans: Iterable<Tracer.Span>): Timeline => {
  interface Raw {
    /** The task: its run and place in it (names may repeat), or its name for spans without them. */
    readonly key: string
    readonly name: string
    readonly group: string | undefined
    readonly attempt: number
    readonly start: number
    readonly end: number
    readonly wait: number
    readonly outcome: Outcome
  }
  const raws: Array<Raw> = []
  const { attributes } = Spans
  for (const span of spans) {
    const name = span.attributes.get(attributes.taskName)
    if (typeof name !== "string" || span.status._tag !== "Ended") continue
    const group = span.attributes.get(attributes.group)
    const outcome = span.attributes.get(attributes.outcome)
    const run = span.attributes.get(attributes.runId)
    const index = span.attributes.get(attributes.taskIndex)
    raws.push({
      key: run === undefined || index === undefined ? `name:${name}` : `${String(run)}:${String(index)}`,
      name,
      group: typeof group === "string" && group !== "none" ? group : undefined,
      attempt: Number(span.attributes.get(attributes.attempt) ?? 1),
      start: nanosToMillis(span.status.startTime),
      end: nanosToMillis(span.status.endTime),
      wait: Number(span.attributes.get(attributes.queueWaitMs) ?? 0),
      outcome: Spans.isOutcome(outcome) ? outcome : "ok"
    })
  }
  let origin = Number.POSITIVE_INFINITY
  for (const r of raws) origin = Math.min(origin, r.start - r.wait)
  const rows = new Map<string, { name: string; group: string | undefined; first: number; attempts: Array<Attempt> }>()
  for (const r of raws) {
    let row = rows.get(r.key)
    if (row === undefined) {
      row = { name: r.name, group: r.group, first: r.start, attempts: [] }
      rows.set(r.key, row)
    }
    row.first = Math.min(row.first, r.start)
    row.attempts.push({
      attempt: r.attempt,
      queuedAt: r.start - r.wait - origin,
      start: r.start - origin,
      end: r.end - origin,
      outcome: r.outcome
    })
  }
  const sorted = [...rows.values()].sort((a, b) => a.first - b.first)
  return {
    origin: raws.length === 0 ? 0 : origin,
    rows: sorted.map((r) => ({
      name: r.name,
      ...(r.group === undefined ? {} : { group: r.group }),
      attempts: r.attempts.sort((a, b) => a.attempt - b.attempt)
    }))
  }
}

/**
 * Runs `effect` and records the timeline of every task it runs on a
 * scheduler. The spans still reach the tracer already installed (if any):
 * `capture` only listens.
 *
 * @since 0.1.0
 * @category constructors
 */
export const capture = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<[A, Timeline], E, R> =>
  Effect.flatMap(Effect.tracer, (inner) => {
    const spans: Array<Tracer.Span> = []
    const recording = Tracer.make({
      span: (name, parent, context, links, startTime, kind, options) => {
        const span = inner.span(name, parent, context, links, startTime, kind, options)
        spans.push(span)
        return span
      },
      context: inner.context
    })
    return Effect.map(Effect.withTracer(effect, recording), (a): [A, Timeline] => [a, fromSpans(spans)])
  })

/**
 * Options of {@link toText}.
 *
 * @since 0.1.0
 * @category models
 */
export interface TextOptions {
  /** Most columns a line may take; at least 40. Default: `100`. */
  readonly width?: number | undefined
  /** Colour with ANSI codes. Default: `false`. */
  readonly color?: boolean | undefined
}

/**
 * Draws the timeline as text: one row per task on a shared time axis, then
 * the axis and a legend. `█` an attempt (ended by its outcome mark), `░` a
 * wait for a slot, `·` a backoff before a retry.
 *
 * @since 0.1.0
 * @category rendering
 */
export const toText = (timeline: Timeline, options?: TextOptions | undefined): string => text.render(timeline, options)

/**
 * Options of {@link toSvg} and {@link toHtml}.
 *
 * @since 0.1.0
 * @category models
 */
export interface SvgOptions {
  /** Width of the chart in pixels. Default: `960`. */
  readonly width?: number | undefined
  /** A title above the chart. Default: none. */
  readonly title?: string | undefined
}

/**
 * Draws the timeline as a self-contained SVG document (no scripts, no
 * external resources): one lane per task with its waits, attempts, backoff
 * gaps and outcomes, a time axis and a legend; every attempt has a tooltip.
 *
 * @since 0.1.0
 * @category rendering
 */
export const toSvg = (timeline: Timeline, options?: SvgOptions | undefined): string => svg.renderSvg(timeline, options)

/**
 * A self-contained HTML page with the SVG chart and a table of every attempt;
 * write it to a file and open it in a browser.
 *
 * @since 0.1.0
 * @category rendering
 */
export const toHtml = (timeline: Timeline, options?: SvgOptions | undefined): string => svg.renderHtml(timeline, options)
