/**
 * The shapes of a timeline and of the renderers' options: the data that the
 * public module (`Timeline.ts`) and the renderers (`text.ts`, `svg.ts`,
 * `html.ts`) share. They live here, apart from both, so that neither side
 * imports the other; `Timeline.ts` re-exports them.
 */
import type { Spans } from "toolfan"

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

/**
 * Options of `Timeline.toText`.
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
 * Options of `Timeline.toSvg` and `Timeline.toHtml`.
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
