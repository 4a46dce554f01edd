/**
 * The failure of a tool call whose result says `isError: true`.
 *
 * @since 0.1.0
 */
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js"

/** The longest tool error text a message quotes (the whole result stays in `result`). */
const MAX_TEXT = 1000

/**
 * The text a tool gave with its error: its text content, one line per item.
 *
 * @since 0.1.0
 * @category getters
 */
export const errorText = (result: CallToolResult): string => {
  const texts: Array<string> = []
  for (const item of Array.isArray(result.content) ? result.content : []) {
    if (item.type === "text") texts.push(item.text)
  }
  const text = texts.join("\n")
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}... (${text.length} characters)` : text
}

/**
 * A tool answered with `isError: true`: the tool ran and reported a failure
 * (a backend down, bad arguments it checked itself). The task fails with it
 * (`TaskFailed`, this error as its `cause`), and is retried per the task's
 * `retries` and `retryWhile`. Its `message` quotes the tool's error text;
 * `result` is the whole result.
 *
 * The SDK's own `McpServer` also answers an unknown tool, arguments its
 * input schema refuses, and a throw in the tool's handler as `isError`
 * results. Failures of the protocol (the SDK's own request timeout, a closed
 * connection, a JSON-RPC error from the server) are the SDK's `McpError`s and
 * fail the task as they are.
 *
 * @example
 * ```ts
 * import { isMcpToolError } from "@toolfan/mcp"
 *
 * // retry only what the tool itself reported, not protocol errors
 * const retryWhile = isMcpToolError
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class McpToolError extends Error {
  /** Its tag, for {@link isMcpToolError} (checked across copies of this package). */
  readonly _tag = "McpToolError" as const
  override readonly name = "McpToolError"

  constructor(
    /** The server's name (the task's group by default). */
    readonly server: string,
    /** The tool's name. */
    readonly tool: string,
    /** The tool's whole result (`isError: true`). */
    readonly result: CallToolResult
  ) {
    const text = errorText(result)
    super(`MCP tool "${tool}" of server "${server}" returned an error: ${text === "" ? "(no text content)" : text}`)
  }
}

/**
 * Whether `u` is a {@link McpToolError} (checked by its tag, so it holds
 * across copies of this package).
 *
 * @since 0.1.0
 * @category guards
 */
export const isMcpToolError = (u: unknown): u is McpToolError =>
  typeof u === "object" && u !== null && (u as { _tag?: unknown })._tag === "McpToolError"
