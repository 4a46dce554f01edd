/**
 * The tools of an MCP server, listed once, with a task factory for each.
 *
 * @since 0.1.0
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js"
import type { Tool } from "@modelcontextprotocol/sdk/types.js"
import { invalid, isRecord, nonEmptyString, optionalRecord } from "./internal/check.js"
import { type McpTask, mcpTask, type McpTaskOptions } from "./McpTask.js"

/**
 * What {@link mcpTools} needs of an MCP client: the SDK's `Client` (connected).
 *
 * @since 0.1.0
 * @category models
 */
export type McpToolsClient = Pick<Client, "callTool" | "getServerVersion" | "listTools">

/**
 * Options of {@link mcpTools}: task options for every tool, and per tool.
 *
 * @since 0.1.0
 * @category models
 */
export interface McpToolsOptions extends McpTaskOptions {
  /**
   * Task options per tool name, over the shared ones (a key naming no tool of
   * the server is refused). Default: `{}`.
   */
  readonly tools?: Readonly<Record<string, McpTaskOptions>> | undefined
}

/**
 * A server's tools and a task factory for them.
 *
 * @since 0.1.0
 * @category models
 */
export interface McpTools {
  /** The server's tools as it listed them (name, description, input schema): what a model is shown. */
  readonly tools: ReadonlyArray<Tool>
  /**
   * A task calling `tool` with `args`, with the options given to
   * {@link mcpTools} (shared, then the tool's), then `options`. Throws a
   * `TypeError` for a tool the server did not list.
   */
  task(tool: string, args?: Readonly<Record<string, unknown>>, options?: McpTaskOptions | undefined): McpTask
}

/** Every page of the server's tool list. */
const listAll = async (client: McpToolsClient): Promise<ReadonlyArray<Tool>> => {
  const tools: Array<Tool> = []
  let cursor: string | undefined
  do {
    const page = await client.listTools(cursor === undefined ? undefined : { cursor })
    tools.push(...page.tools)
    cursor = page.nextCursor
  } while (cursor !== undefined)
  return tools
}

/**
 * Lists the tools of the client's server (every page) and returns them with a
 * task factory: `task(name, args, options?)` makes an {@link mcpTask} with the
 * options given here, shared and per tool. Listing also lets the SDK check
 * each tool's structured output against its output schema.
 *
 * Rejects with a `TypeError`/`RangeError` for bad options (every tool's are
 * checked at once) or a key of `options.tools` that names no tool of the
 * server, and with the SDK's error when listing fails.
 *
 * @example
 * ```ts
 * import { mcpTools } from "@toolfan/mcp"
 *
 * const docs = await mcpTools(client, { timeout: 5000, tools: { search: { retries: 2 } } })
 * const tasks = [docs.task("search", { query: "caps" }), docs.task("fetch", { url: "https://example.com" })]
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const mcpTools = async (client: McpToolsClient, options?: McpToolsOptions | undefined): Promise<McpTools> => {
  const where = "mcpTools"
  if (!isRecord(client) || typeof client.listTools !== "function") {
    invalid(where, "client", "an MCP Client (with callTool, getServerVersion and listTools)", client)
  }
  const { tools: perTool, ...shared } = (optionalRecord(where, "options", options) ?? {}) as McpToolsOptions
  const per = optionalRecord(where, "options.tools", perTool) ?? {}
  const listed = await listAll(client)
  const names = new Set(listed.map((t) => t.name))
  const known = () => [...names].map((n) => JSON.stringify(n)).join(", ")
  for (const name of Object.keys(per)) {
    if (!names.has(name)) invalid(where, `options.tools key`, `a tool of the server (${known()})`, name)
    optionalRecord(where, `options.tools.${name}`, per[name])
  }
  const optionsOf = (tool: string): McpTaskOptions => ({ ...shared, ...(per[tool] as McpTaskOptions | undefined) })
  // every tool's options are checked now, by making a task of it (nothing runs), not at the first call
  for (const name of names) mcpTask(client, name, {}, optionsOf(name))
  return {
    tools: listed,
    task: (tool, args, options) => {
      nonEmptyString("mcpTools.task", "tool", tool)
      if (!names.has(tool)) invalid("mcpTools.task", "tool", `a tool of the server (${known()})`, tool)
      return mcpTask(client, tool, args, { ...optionsOf(tool), ...optionalRecord("mcpTools.task", "options", options) })
    }
  }
}
