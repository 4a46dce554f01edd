/**
 * A call of an MCP server's tool as a toolfan Promise API `Task`.
 *
 * @since 0.1.0
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js"
import type { RequestOptions } from "@modelcontextprotocol/sdk/shared/protocol.js"
import type { CallToolResult, Progress } from "@modelcontextprotocol/sdk/types.js"
import { Task, type TaskOptions } from "toolfan/promise"
import { invalid, isRecord, nonEmptyString, optionalRecord } from "./internal/check.js"
import { McpToolError } from "./McpToolError.js"

/**
 * What {@link mcpTask} needs of an MCP client: the SDK's `Client` (connected).
 *
 * @since 0.1.0
 * @category models
 */
export type McpClient = Pick<Client, "callTool" | "getServerVersion">

/**
 * A progress notification of a running call, as `onProgress` receives it.
 *
 * @since 0.1.0
 * @category models
 */
export interface McpProgress {
  /** The task's name. */
  readonly task: string
  /** Progress so far; increases with each notification. */
  readonly progress: number
  /** The total, when the server knows it. */
  readonly total?: number | undefined
  /** What the server says it is doing. */
  readonly message?: string | undefined
}

/**
 * Options passed to the SDK's request, per attempt.
 *
 * @since 0.1.0
 * @category models
 */
export interface McpRequestOptions {
  /**
   * The SDK's own time limit of a request, in ms: on expiry it cancels the call
   * and the attempt fails with an `McpError` (`RequestTimeout`), retried as any
   * failure. Default: none (toolfan's `timeout` governs) when the task has a
   * `timeout`, else the SDK's default (60000).
   */
  readonly timeout?: number | undefined
  /**
   * Whether each progress notification restarts the SDK's `timeout`, making it
   * a limit on silence rather than on the whole call. toolfan's `timeout`
   * stays a limit on the whole attempt. Default: `false`.
   */
  readonly resetTimeoutOnProgress?: boolean | undefined
  /** With `resetTimeoutOnProgress`: the longest a call may run however often it reports progress, in ms. Default: none. */
  readonly maxTotalTimeout?: number | undefined
}

/**
 * Options of {@link mcpTask}: a toolfan `Task`'s (`timeout`, `retries`,
 * `retryWhile`, `priority`, `group`, ...; times in ms) and these.
 *
 * @since 0.1.0
 * @category models
 */
export interface McpTaskOptions extends Omit<TaskOptions<[]>, "args"> {
  /** The task's name (its results' `name`). Default: the tool's name. */
  readonly name?: string | undefined
  /**
   * The server's name: the task's `group` (so `groups: { [server]: n }` caps
   * the calls to that server) and part of error messages. Default: the name
   * the server gave when the client connected (`client.getServerVersion()`).
   */
  readonly server?: string | undefined
  /** Called with each progress notification of the call. A throw cancels the call and fails the attempt with it. Default: none. */
  readonly onProgress?: ((progress: McpProgress) => void) | undefined
  /** Options of the SDK's request. Default: `{}`. */
  readonly request?: McpRequestOptions | undefined
}

/**
 * A task calling an MCP tool: its value is the tool's result.
 *
 * @since 0.1.0
 * @category models
 */
export type McpTask = Task<(signal: AbortSignal) => Promise<CallToolResult>>

/** The options of ours, not passed to the Task. */
type Own = "name" | "server" | "onProgress" | "request"

/** The SDK's request timeout when toolfan's governs: the longest `setTimeout` takes (~24.8 days). */
const NO_SDK_TIMEOUT = 2 ** 31 - 1

const requestKeys: ReadonlySet<string> = new Set(["timeout", "resetTimeoutOnProgress", "maxTotalTimeout"])

/** The request options checked; `hasTaskTimeout` turns the SDK's default timeout off. */
const checkRequest = (where: string, u: unknown, hasTaskTimeout: boolean): RequestOptions => {
  const o = optionalRecord(where, "options.request", u) ?? {}
  for (const key of Object.keys(o)) {
    if (!requestKeys.has(key)) invalid(where, `options.request.${key}`, "left out (known: timeout, resetTimeoutOnProgress, maxTotalTimeout)", o[key])
  }
  for (const key of ["timeout", "maxTotalTimeout"] as const) {
    const ms = o[key]
    if (ms !== undefined && !(typeof ms === "number" && ms > 0 && ms <= NO_SDK_TIMEOUT)) {
      invalid(where, `options.request.${key}`, `a number of ms > 0 and ≤ ${NO_SDK_TIMEOUT}`, ms, typeof ms === "number" ? "range" : "type")
    }
  }
  const reset = o.resetTimeoutOnProgress
  if (reset !== undefined && typeof reset !== "boolean") invalid(where, "options.request.resetTimeoutOnProgress", "a boolean", reset)
  const request = o as McpRequestOptions
  return {
    ...(request.timeout !== undefined ? { timeout: request.timeout } : hasTaskTimeout ? { timeout: NO_SDK_TIMEOUT } : {}),
    ...(reset === true ? { resetTimeoutOnProgress: true } : {}),
    ...(request.maxTotalTimeout !== undefined ? { maxTotalTimeout: request.maxTotalTimeout } : {})
  }
}

/** The server's name: given, or the one the server gave when the client connected. */
const serverName = (where: string, client: McpClient, server: unknown): string => {
  if (server !== undefined) return nonEmptyString(where, "options.server", server)
  const name = client.getServerVersion()?.name
  return typeof name === "string" && name.length > 0
    ? name
    : invalid(where, "options.server", "given when the client has not connected (getServerVersion() gave no name)", server)
}

/** `progress` as `onProgress` receives it. */
const progressOf = (task: string, p: Progress): McpProgress => ({
  task,
  progress: p.progress,
  ...(p.total !== undefined ? { total: p.total } : {}),
  ...(p.message !== undefined ? { message: p.message } : {})
})

/** What one attempt needs. */
interface Call {
  readonly client: McpClient
  readonly server: string
  readonly tool: string
  readonly args: Readonly<Record<string, unknown>>
  readonly task: string
  readonly onProgress: ((progress: McpProgress) => void) | undefined
  readonly request: RequestOptions
}

/**
 * Calls the tool with progress reported. A throw from `onProgress` is the
 * user's code failing: it cancels the call (through a controller of our own,
 * which follows the attempt's signal) and the attempt fails with it.
 */
const callWithProgress = (call: Call, signal: AbortSignal): Promise<CallToolResult> => {
  const controller = new AbortController()
  const follow = () => controller.abort(signal.reason)
  if (signal.aborted) follow()
  else signal.addEventListener("abort", follow, { once: true })
  let thrown: { readonly error: unknown } | undefined
  const onprogress = (p: Progress) => {
    if (thrown !== undefined || call.onProgress === undefined) return
    try {
      call.onProgress(progressOf(call.task, p))
    } catch (error) {
      thrown = { error }
      controller.abort(error)
    }
  }
  const options: RequestOptions = { ...call.request, signal: controller.signal, onprogress }
  return (call.client.callTool({ name: call.tool, arguments: call.args }, undefined, options) as Promise<CallToolResult>).then(
    (result) => (signal.removeEventListener("abort", follow), result),
    (error: unknown) => {
      signal.removeEventListener("abort", follow)
      throw thrown === undefined ? error : thrown.error
    }
  )
}

/** One attempt: the call, with the attempt's signal; a result with `isError` is a failure. */
const attempt = (call: Call) => async (signal: AbortSignal): Promise<CallToolResult> => {
  // progress is asked for when reported or when it restarts the SDK's timeout (the server sends none without a token)
  const result = call.onProgress !== undefined || call.request.resetTimeoutOnProgress === true
    ? await callWithProgress(call, signal)
    : await (call.client.callTool({ name: call.tool, arguments: call.args }, undefined, { ...call.request, signal }) as Promise<CallToolResult>)
  if (result.isError === true) throw new McpToolError(call.server, call.tool, result)
  return result
}

/**
 * A task calling the tool `tool` of an MCP server with `args`, for a toolfan
 * Promise API `Scheduler`. Each attempt calls `client.callTool` with the
 * attempt's `AbortSignal`: when an attempt is cut (its `timeout`, the run's
 * `deadline` or `signal`, `scheduler.close()`), the SDK sends the server a
 * `notifications/cancelled` for the call.
 *
 * - The task's `group` is the server's name (see `options.server`), so
 *   `new Scheduler({ groups: { [server]: 4 } })` caps the calls to a server.
 * - A result with `isError: true` fails the attempt with an
 *   {@link McpToolError} quoting the tool's error text, retried per
 *   `retries`/`retryWhile` like any failure.
 * - `onProgress` receives the call's progress notifications.
 *
 * Bad input throws a `TypeError`/`RangeError` naming the parameter and the
 * value.
 *
 * @example
 * ```ts
 * import { mcpTask } from "@toolfan/mcp"
 * import { Scheduler } from "toolfan/promise"
 *
 * const scheduler = new Scheduler({ groups: { "docs-server": 2 } })
 * const [r] = await scheduler.run([mcpTask(client, "search", { query: "caps" }, { timeout: 5000, retries: 1 })])
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const mcpTask = (
  client: McpClient,
  tool: string,
  args: Readonly<Record<string, unknown>> = {},
  options?: McpTaskOptions | undefined
): McpTask => {
  const where = "mcpTask"
  if (!isRecord(client) || typeof client.callTool !== "function" || typeof client.getServerVersion !== "function") {
    invalid(where, "client", "an MCP Client (with callTool and getServerVersion)", client)
  }
  nonEmptyString(where, "tool", tool)
  if (!isRecord(args)) invalid(where, "args", "an object of the tool's arguments", args)
  const o = (optionalRecord(where, "options", options) ?? {}) as McpTaskOptions
  const { name, onProgress, request, server: serverOption, ...taskOptions }: Pick<McpTaskOptions, Own> & Omit<McpTaskOptions, Own> = o
  const server = serverName(where, client, serverOption)
  if (onProgress !== undefined && typeof onProgress !== "function") invalid(where, "options.onProgress", "a function", onProgress)
  const task = name === undefined ? tool : nonEmptyString(where, "options.name", name)
  const call: Call = { client, server, tool, args, task, onProgress, request: checkRequest(where, request, taskOptions.timeout !== undefined) }
  return new Task(task, attempt(call), { ...taskOptions, group: taskOptions.group ?? server })
}
