/**
 * A timeline of a finished run: for each task, when each attempt waited for a
 * slot, ran, and how it ended, with the backoff gaps between attempts. Built
 * from the spans the scheduler makes (one per attempt), so it shows exactly
 * what a tracing backend would; drawn as text for a terminal
 * ({@link toText}) or as a self-contained SVG / HTML page ({@link toSvg},
 * {@link toHtml}).
 *
 * This module holds the public bindings; the shapes (`Timeline`, `Row`,
 * `Attempt`, the options) are declared in `internal/model.ts`, which the
 * renderers import instead of this module, and re-exported here.
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
import * as html from "./internal/html.js"
import type { SvgOptions, TextOptions, Timeline } from "./internal/model.js"
import * as spanReader from "./internal/spans.js"
import * as svg from "./internal/svg.js"
import * as text from "./internal/text.js"

export type {
  /**
   * How an attempt ended: the core's `Spans.Outcome` (`"ok"`, `"failed"`,
   * `"timedOut"`, `"interrupted"`, `"unavailable"`, `"defect"`).
   *
   * @since 0.1.0
   * @category models
   */
  Outcome,
  /**
   * One attempt (`attempt`, `queuedAt`, `start`, `end`, `outcome`), in
   * milliseconds from the timeline's origin.
   *
   * @since 0.1.0
   * @category models
   */
  Attempt,
  /**
   * One task (`name`, `group`) and its attempts, in order.
   *
   * @since 0.1.0
   * @category models
   */
  Row,
  /**
   * A finished run's tasks (`rows`, by first start), in milliseconds from
   * `origin`.
   *
   * @since 0.1.0
   * @category models
   */
  Timeline,
  /**
   * Options of {@link toText}: `width` (default `100`, at least 40) and
   * `color` (ANSI codes, default `false`).
   *
   * @since 0.1.0
   * @category models
   */
  TextOptions,
  /**
   * Options of {@link toSvg} and {@link toHtml}: `width` in pixels (default
   * `960`) and a `title` (default none).
   *
   * @since 0.1.0
   * @category models
   */
  SvgOptions
} from "./internal/model.js"

/**
 * Builds a timeline from spans: the attempt spans of toolfan's scheduler
 * (those with a `Spans.attributes.taskName` attribute) that have ended; other
 * spans are ignored. Tasks that never started have no span and no row.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromSpans = (spans: Iterable<Tracer.Span>): Timeline => spanReader.fromSpans(spans)

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
 * Draws the timeline as text: one row per task on a shared time axis, then
 * the axis and a legend. `█` an attempt (ended by its outcome mark), `░` a
 * wait for a slot, `·` a backoff before a retry.
 *
 * @since 0.1.0
 * @category rendering
 */
export const toText = (timeline: Timeline, options?: TextOptions | undefined): string => text.render(timeline, options)

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
export const toHtml = (timeline: Timeline, options?: SvgOptions | undefined): string => html.renderHtml(timeline, options)
