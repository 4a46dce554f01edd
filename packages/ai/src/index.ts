/**
 * @toolfan/ai — run the tool calls of an @effect/ai model response in
 * parallel through toolfan's Scheduler, with per-tool policies.
 *
 * @since 0.1.0
 */

/**
 * Per-tool policies for a `Toolkit`, and the runner of a response's tool
 * calls.
 *
 * @since 0.1.0
 */
export * as ToolRunner from "./ToolRunner.js"
