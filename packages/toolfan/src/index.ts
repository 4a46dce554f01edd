/**
 * toolfan — run the tool calls of AI agents in parallel, safely.
 *
 * @since 0.1.0
 */

/**
 * Micro-batching of small calls.
 *
 * @since 0.1.0
 */
export * as Batcher from "./Batcher.js"

/**
 * Richer group limits: rate limits, and limits kept outside the process.
 *
 * @since 0.1.0
 */
export * as GroupLimit from "./GroupLimit.js"

/**
 * Bad input, refused with the option and the value named.
 *
 * @since 0.1.0
 */
export * as InvalidOption from "./InvalidOption.js"

/**
 * The metrics schedulers and batchers keep (Effect `Metric`s).
 *
 * @since 0.1.0
 */
export * as Metrics from "./Metrics.js"

/**
 * Overload signals: a failure that says "retry after X", and reading it from
 * HTTP headers.
 *
 * @since 0.3.0
 */
export * as Overload from "./Overload.js"

/**
 * Plans: tasks with typed dependencies, run eagerly.
 *
 * @since 0.1.0
 */
export * as Plan from "./Plan.js"

/**
 * Progress events of a run (`onProgress`), for progress bars.
 *
 * @since 0.4.0
 */
export * as Progress from "./Progress.js"

/**
 * The `Scheduler` service: caps, priorities, groups, timeouts, retries.
 *
 * @since 0.1.0
 */
export * as Scheduler from "./Scheduler.js"

/**
 * The names toolfan writes on its spans (attributes, outcomes).
 *
 * @since 0.2.0
 */
export * as Spans from "./Spans.js"

/**
 * Tasks: one tool call and its policies.
 *
 * @since 0.1.0
 */
export * as Task from "./Task.js"

/**
 * The tagged errors of tasks.
 *
 * @since 0.1.0
 */
export * as TaskError from "./TaskError.js"

/**
 * The outcome of one task.
 *
 * @since 0.1.0
 */
export * as TaskResult from "./TaskResult.js"

/**
 * Plans a model writes: tool calls whose arguments reference other calls'
 * outputs, run as they stream in.
 *
 * @since 0.5.0
 */
export * as ToolPlan from "./ToolPlan.js"
