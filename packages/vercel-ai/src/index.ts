/**
 * @toolfan/vercel-ai — run the tool calls of the Vercel AI SDK (`ai` 7)
 * through a toolfan Scheduler: caps shared across requests, per-tool
 * timeouts that abort, retries, groups and priorities.
 *
 * @since 0.1.0
 */
export {
  /**
   * Wraps a `tools` record so that each tool call runs as a toolfan task.
   *
   * @since 0.1.0
   */
  type ToolPolicy,
  type WithToolfanOptions,
  withToolfan
} from "./withToolfan.js"
