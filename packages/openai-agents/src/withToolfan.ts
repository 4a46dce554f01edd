/**
 * Runs the function tools of the OpenAI Agents SDK (`@openai/agents` 0.20)
 * through a toolfan `Scheduler` (`toolfan/promise`): per-tool timeouts that
 * abort the tool's signal, retries with backoff, groups with their own caps,
 * priorities, a deadline per call, and one cap shared by every run that uses
 * the scheduler. A call that ends without a value (a timeout, a failure after
 * its retries) becomes the tool's result for the model, so the run goes on.
 *
 * The SDK starts every function call of a turn at once (unless the runner's
 * `toolExecution.maxFunctionToolConcurrency` says otherwise); the scheduler
 * decides which of them run, in which order, and for how long.
 *
 * @since 0.1.0
 */
import type { FunctionTool, RunContext, Tool } from "@openai/agents"
import type { Scheduler, TaskError, TaskOptions } from "toolfan/promise"
import * as internal from "./internal/wrap.js"

/**
 * The policy of one tool: the options of a toolfan `Task` (times in
 * milliseconds), and a `deadline` for the whole call.
 *
 * | Option          | Default        | Meaning |
 * | --------------- | -------------- | ------- |
 * | `timeout`       | none           | Time limit of each attempt; the tool's `details.signal` is aborted with a `TimeoutError`. |
 * | `retries`       | `0`            | Extra attempts after a failure or a timeout. |
 * | `retryWhile`    | every failure  | Which thrown values are retried (timeouts are, while attempts remain). |
 * | `priority`      | `0`            | Higher starts first among waiting calls. |
 * | `group`         | none           | Key of a cap set on the scheduler's `groups`. |
 * | `deadline`      | none           | Time limit of the whole call (waiting for a slot, every attempt, backoff). |
 * | `overloaded`, `maxRetryAfter`, `cost`, `actualCost` | | As on a toolfan `Task`. |
 *
 * An input that breaks the tool's parameter schema is never retried.
 *
 * @since 0.1.0
 * @category models
 */
export interface ToolPolicy extends Omit<TaskOptions<[]>, "args"> {
  /**
   * Milliseconds the whole call may take, from the moment the model's call
   * reaches the scheduler: waiting for a slot, every attempt and the backoff
   * between them. Then the call is stopped (its signal aborted) and the model
   * is told it was interrupted. Default: none.
   */
  readonly deadline?: number | undefined
}

/**
 * What the model is given for a call that ended without a value: the
 * TaskError (`TaskTimedOut`, `TaskFailed` with the thrown value as `cause`,
 * `TaskInterrupted`, ...), with the run's context and the call's details.
 * Its return value is the tool's output.
 *
 * @since 0.1.0
 * @category models
 */
export type ToolErrorFunction = (
  runContext: RunContext<any>,
  error: TaskError,
  details: Parameters<FunctionTool<any, any, any>["invoke"]>[2]
) => unknown

/**
 * Options of {@link withToolfan}.
 *
 * @since 0.1.0
 * @category models
 */
export interface ToolfanOptions {
  /**
   * The scheduler the calls run on. Share one across runs (and agents): its
   * `maxConcurrency` and `groups` caps hold across all of them.
   */
  readonly scheduler: Scheduler
  /** The policy of every tool, under its own policy. Default: none (`{}`). */
  readonly defaults?: ToolPolicy | undefined
  /**
   * Policies by tool name, over the defaults option by option (an option
   * left `undefined` keeps the default). A name that is not one of the
   * function tools given throws. Default: `{}`.
   */
  readonly policies?: Readonly<Record<string, ToolPolicy | undefined>> | undefined
  /**
   * The tool's output when a call ends without a value. Default: the
   * TaskError's `message` (e.g. `task "search" timed out after 5s; raise its
   * timeout or make the tool answer sooner`) — except for a tool with an
   * `outputSchema`, whose own `errorFunction` gives a schema-compatible
   * fallback, and which without one fails the run as the SDK does.
   */
  readonly errorFunction?: ToolErrorFunction | undefined
}

/**
 * Returns the tools with every function tool's invocation run as a task on
 * `options.scheduler`, under its policy; other tools (hosted, computer,
 * shell, ...) are returned as they are. A wrapped tool keeps everything else
 * of the original (name, schema, approval, guardrails, `timeoutMs`).
 *
 * - The tool's `details.signal` is the attempt's signal: aborted on the
 *   policy's `timeout` (reason: a `TimeoutError` `DOMException`) and when the
 *   SDK cancels the call (the run's `signal`, a failing sibling call).
 * - A timeout, a failure after the retries, a deadline become the call's
 *   output for the model (see `errorFunction`), and the run goes on.
 * - For toolfan to see a tool's failures (to retry them, to report them),
 *   make the tool with `errorFunction: null`: by default `tool()` turns a
 *   thrown error into the SDK's generic "An error occurred while running the
 *   tool" output before the wrapper sees it.
 *
 * Bad options throw at once: a `TypeError` or `RangeError` naming the option
 * and the value (`withToolfan: policies.search.timeout must be ..., got -5
 * (number)`).
 *
 * @example
 * ```ts
 * import { Agent, run, tool } from "@openai/agents"
 * import { withToolfan } from "@toolfan/openai-agents"
 * import { Scheduler } from "toolfan/promise"
 *
 * const scheduler = new Scheduler({ maxConcurrency: 8, groups: { web: 2 } })
 * const agent = new Agent({
 *   name: "researcher",
 *   tools: withToolfan([search, fetchPage], {
 *     scheduler,
 *     defaults: { timeout: 10_000 },
 *     policies: { search: { timeout: 5000, retries: 2, group: "web" } }
 *   })
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const withToolfan = <T extends Tool<any>>(tools: ReadonlyArray<T>, options: ToolfanOptions): Array<T> => {
  const checked = internal.check(tools, options)
  return internal.wrapAll(checked.tools as ReadonlyArray<T>, checked.options)
}
