/**
 * @toolfan/openai-agents — run the function tools of the OpenAI Agents SDK
 * through a toolfan Scheduler, with per-tool policies.
 *
 * @since 0.1.0
 */

export {
  /**
   * Wraps function tools so each call runs as a task on a toolfan scheduler.
   *
   * @since 0.1.0
   */
  withToolfan
} from "./withToolfan.js"

export type {
  /** @since 0.1.0 */
  ToolErrorFunction,
  /** @since 0.1.0 */
  ToolfanOptions,
  /** @since 0.1.0 */
  ToolPolicy
} from "./withToolfan.js"
