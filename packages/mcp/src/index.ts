/**
 * @toolfan/mcp — call the tools of MCP servers as toolfan tasks: a cap per
 * server, timeouts that cancel the call on the server, retries of tool
 * errors, progress.
 *
 * @since 0.1.0
 */

export {
  /**
   * A call of an MCP tool as a toolfan Promise API `Task`.
   *
   * @since 0.1.0
   */
  mcpTask
} from "./McpTask.js"

export type {
  /** @since 0.1.0 */
  McpClient,
  /** @since 0.1.0 */
  McpProgress,
  /** @since 0.1.0 */
  McpRequestOptions,
  /** @since 0.1.0 */
  McpTask,
  /** @since 0.1.0 */
  McpTaskOptions
} from "./McpTask.js"

export {
  /**
   * A server's tools, listed once, with a task factory.
   *
   * @since 0.1.0
   */
  mcpTools
} from "./McpTools.js"

export type {
  /** @since 0.1.0 */
  McpTools,
  /** @since 0.1.0 */
  McpToolsClient,
  /** @since 0.1.0 */
  McpToolsOptions
} from "./McpTools.js"

export {
  /**
   * Whether a value is an `McpToolError` (by its tag).
   *
   * @since 0.1.0
   */
  isMcpToolError,
  /**
   * A tool answered with `isError: true`.
   *
   * @since 0.1.0
   */
  McpToolError
} from "./McpToolError.js"
