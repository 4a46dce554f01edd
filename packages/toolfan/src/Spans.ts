/**
 * The names toolfan writes on its spans, written once: the scheduler writes
 * them, and readers (`@toolfan/timeline`, your own tooling) read them from
 * here.
 *
 * Every attempt of a task runs in a span named after the task (when a tracer
 * is installed), with the attributes below; a batch call runs in a span named
 * {@link batchSpan}.
 *
 * @since 0.2.0
 */

/**
 * Attribute names of an attempt's span.
 *
 * @since 0.2.0
 * @category constants
 */
export const attributes = {
  /** The task's name. */
  taskName: "toolfan.task.name",
  /** The task's group, `"none"` without one. */
  group: "toolfan.task.group",
  /** The attempt's number, from 1. */
  attempt: "toolfan.task.attempt",
  /** Milliseconds the attempt waited for a slot. */
  queueWaitMs: "toolfan.task.queue_wait_ms",
  /** How the attempt ended: one of {@link outcomes}. */
  outcome: "toolfan.task.outcome",
  /** The run's id: tasks of different runs may share a name. */
  runId: "toolfan.run.id",
  /** The task's index in its run. */
  taskIndex: "toolfan.task.index",
  /** `true` on the span of a hedge: the second attempt of a hedged task (see `Task.Options.hedge`). */
  hedge: "toolfan.task.hedge",
  /**
   * On the span of a coalesced task (one that did not run): `"<run id>:<task
   * index>"` of the task whose result it got.
   */
  coalescedWith: "toolfan.task.coalesced_with",
  /** A batch span's batcher name. */
  batcher: "toolfan.batcher",
  /** A batch span's number of items. */
  batchSize: "toolfan.batch.size"
} as const

/**
 * The span of a batch call.
 *
 * @since 0.2.0
 * @category constants
 */
export const batchSpan = "toolfan.batch"

/**
 * How an attempt ended: `"timedOut"` when it ran out of its `timeout`,
 * `"unavailable"` when its group's shared limit lost its permit,
 * `"hedgeLost"` when it was cut because its hedge (or the attempt it hedged)
 * succeeded first, `"coalesced"` for a task that did not run but got the
 * result of an identical one (see `attributes.coalescedWith`).
 *
 * @since 0.2.0
 * @category constants
 */
export const outcomes = ["ok", "failed", "timedOut", "interrupted", "unavailable", "defect", "hedgeLost", "coalesced"] as const

/**
 * One of {@link outcomes}.
 *
 * @since 0.2.0
 * @category models
 */
export type Outcome = typeof outcomes[number]

/**
 * Whether `u` is an {@link Outcome}.
 *
 * @since 0.2.0
 * @category guards
 */
export const isOutcome = (u: unknown): u is Outcome => (outcomes as ReadonlyArray<unknown>).includes(u)
