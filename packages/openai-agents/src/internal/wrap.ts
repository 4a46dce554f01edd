import type { FunctionTool, RunContext, Tool } from "@openai/agents"
import { AsyncLocalStorage } from "node:async_hooks"
import { isInvalidOption } from "toolfan/InvalidOption"
import { validate } from "toolfan/shared"
import { Scheduler, Task, type TaskError, type TaskOptions } from "toolfan/promise"

/** The details of a tool call (`@openai/agents` does not export their type). @internal */
export type ToolCallDetails = NonNullable<Parameters<FunctionTool<any, any, any>["invoke"]>[2]>

/** A tool policy: a toolfan task's options, and a deadline for the whole call. @internal */
export interface Policy extends Omit<TaskOptions<[]>, "args"> {
  readonly deadline?: number | undefined
}

/** What the model gets for a call that ended without a value. @internal */
export type ErrorFunction = (
  runContext: RunContext<any>,
  error: TaskError,
  details: ToolCallDetails | undefined
) => unknown

/** The options of `withToolfan`, checked. @internal */
export interface Options {
  readonly scheduler: Scheduler
  readonly defaults?: Policy | undefined
  readonly policies?: Readonly<Record<string, Policy | undefined>> | undefined
  readonly errorFunction?: ErrorFunction | undefined
}

const where = "withToolfan"

const optionKeys: ReadonlySet<string> = new Set(["scheduler", "defaults", "policies", "errorFunction"])

/** An invalid option, thrown as the `TypeError`/`RangeError` JavaScript callers expect (the Promise API's convention). */
const invalid = (option: string, expected: string, value: unknown, kind: "type" | "range"): never =>
  validate.invalidJs(where, option, expected, value, kind)

const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

const isFunctionTool = (tool: Tool<any>): tool is FunctionTool<any, any, any> => tool.type === "function"

/** The options of a policy: a Promise API task's (but its `args`), and `deadline`. */
const policyKeys: ReadonlyArray<string> = [
  "timeout",
  "retries",
  "retryWhile",
  "priority",
  "group",
  "deadline",
  "overloaded",
  "maxRetryAfter",
  "cost",
  "actualCost"
]

/**
 * Checks one policy by building the task it makes (toolfan's `Task` checks its
 * options), and reports a bad value under the policy's own name:
 * `withToolfan: policies.search.timeout must be ..., got -5 (number)`.
 */
const checkPolicy = (option: string, policy: unknown): Policy | undefined => {
  if (policy === undefined) return undefined
  if (!isRecord(policy)) return invalid(option, "an object of task options", policy, "type")
  for (const key of Object.keys(policy)) {
    if (!policyKeys.includes(key)) invalid(`${option}.${key}`, `left out (unknown option; known: ${policyKeys.join(", ")})`, policy[key], "type")
  }
  const { deadline, ...task } = policy
  if (deadline !== undefined && (typeof deadline !== "number" || !(deadline > 0))) {
    invalid(`${option}.deadline`, "a positive number of milliseconds (Infinity = none)", deadline, typeof deadline === "number" ? "range" : "type")
  }
  try {
    new Task(option, () => undefined, task)
  } catch (error) {
    const core = error instanceof Error && isInvalidOption(error.cause) ? error.cause : undefined
    if (core === undefined) throw error
    // the task names an option as `timeout` (or `options.x`): here it sits under the policy's name
    invalid(`${option}.${core.option.replace(/^options\./, "")}`, core.expected, core.value, core.kind)
  }
  return policy as Policy
}

/** Checks the arguments of `withToolfan`. @internal */
export const check = (tools: unknown, options: unknown): { tools: ReadonlyArray<Tool<any>>; options: Options } => {
  if (!Array.isArray(tools)) invalid("tools", "an array of tools", tools, "type")
  const list = tools as ReadonlyArray<unknown>
  for (let i = 0; i < list.length; i++) {
    const tool = list[i]
    if (!isRecord(tool) || typeof tool.type !== "string") invalid(`tools[${i}]`, "a tool", tool, "type")
  }
  if (!isRecord(options)) return invalid("options", "an object with a scheduler", options, "type")
  for (const key of Object.keys(options)) {
    if (!optionKeys.has(key)) invalid(`options.${key}`, `left out (known options: ${[...optionKeys].join(", ")})`, options[key], "type")
  }
  if (!(options.scheduler instanceof Scheduler)) {
    invalid("scheduler", "a Scheduler from toolfan/promise", options.scheduler, "type")
  }
  if (options.errorFunction !== undefined && typeof options.errorFunction !== "function") {
    invalid("errorFunction", "a function", options.errorFunction, "type")
  }
  checkPolicy("defaults", options.defaults)
  if (options.policies !== undefined) {
    if (!isRecord(options.policies)) invalid("policies", "an object of policies by tool name", options.policies, "type")
    const names = new Set((list as ReadonlyArray<Tool<any>>).filter(isFunctionTool).map((tool) => tool.name))
    for (const [name, policy] of Object.entries(options.policies as Record<string, unknown>)) {
      if (!names.has(name)) {
        invalid(`policies.${name}`, `the name of a function tool given (${[...names].join(", ") || "none"})`, policy, "range")
      }
      checkPolicy(`policies.${name}`, policy)
    }
  }
  return { tools: list as ReadonlyArray<Tool<any>>, options: options as unknown as Options }
}

/**
 * The call details with another signal. The SDK keeps its own data on the
 * details (symbol-keyed, non-enumerable: tracing, usage, nested runs), so the
 * copy keeps every property with its descriptor, as the SDK's own timeout
 * wrapper does — only the signal differs.
 */
const withSignal = (details: ToolCallDetails | undefined, signal: AbortSignal): ToolCallDetails => {
  if (details === undefined) return { signal }
  const descriptors = Object.getOwnPropertyDescriptors(details)
  delete (descriptors as Record<string, unknown>).signal
  return Object.assign(Object.create(Object.getPrototypeOf(details), descriptors), { signal })
}

/**
 * A failure the SDK raised because the model's input broke the tool's schema:
 * the same input fails again, so it is never retried.
 */
const isInvalidInput = (error: unknown): boolean => error instanceof Error && error.name === "InvalidToolInputError"

/** Only the task's own options (a policy's `deadline` is the run's). */
const taskOptions = (policy: Policy): TaskOptions<[]> => {
  const { deadline: _deadline, retryWhile, ...rest } = policy
  return {
    ...rest,
    retryWhile: retryWhile === undefined ? (error) => !isInvalidInput(error) : (error) => !isInvalidInput(error) && retryWhile(error)
  }
}

/**
 * What the model is told when a call ends without a value: the user's
 * `errorFunction`; for a tool with an output schema, the tool's own
 * `errorFunction` (its schema-compatible fallback) or, without one, the error
 * thrown, as the SDK does for such tools; otherwise the TaskError's message.
 */
const failureOutput = (
  tool: FunctionTool<any, any, any>,
  errorFunction: ErrorFunction | undefined,
  runContext: RunContext<any>,
  error: TaskError,
  details: ToolCallDetails | undefined
): unknown => {
  if (errorFunction !== undefined) return errorFunction(runContext, error, details)
  if (tool.outputSchema === undefined) return error.message
  if (typeof tool.errorFunction === "function") return tool.errorFunction(runContext, error, details)
  throw error
}

/** The toolfan signal of the wrapped call whose attempt runs here, in this async context. */
const running = new AsyncLocalStorage<AbortSignal>()

/** One function tool whose invocation runs as a task on the scheduler. @internal */
export const wrapTool = <T extends FunctionTool<any, any, any>>(tool: T, policy: Policy, options: Options): T => {
  const { scheduler, errorFunction } = options
  const task = taskOptions(policy)
  const run = policy.deadline === undefined || policy.deadline === Infinity ? {} : { deadline: policy.deadline }
  const invoke = tool.invoke
  const wrapped: FunctionTool<any, any, any>["invoke"] = async (runContext, input, details) => {
    const attempt = (signal: AbortSignal) => running.run(signal, () => invoke(runContext, input, withSignal(details, signal)))
    const parent = details?.signal
    // inside an attempt of another wrapped call (an agent used as a tool runs its own calls there): nested in it, so
    // that it borrows that call's slot instead of waiting for one that call holds
    const outer = running.getStore()
    const options = parent === undefined ? run : { ...run, signal: parent }
    const [result] = await scheduler.run([new Task(tool.name, attempt, task)], outer === undefined ? options : { ...options, parent: outer })
    if (result.ok) return result.value
    // the SDK cancelled the call (the run was aborted, or a sibling call failed): its reason, as the SDK's own tools do
    if (parent?.aborted === true && result.error._tag === "TaskInterrupted") throw parent.reason
    return failureOutput(tool, errorFunction, runContext, result.error, details)
  }
  const descriptors = Object.getOwnPropertyDescriptors(tool)
  delete (descriptors as Record<string, unknown>).invoke
  return Object.assign(Object.create(Object.getPrototypeOf(tool), descriptors), { invoke: wrapped })
}

/** The policy of one tool: its own over the defaults, option by option. @internal */
export const policyOf = (name: string, options: Options): Policy => {
  const policy: Record<string, unknown> = { ...options.defaults }
  // an option left `undefined` keeps the default
  for (const [key, value] of Object.entries(options.policies?.[name] ?? {})) if (value !== undefined) policy[key] = value
  return policy as Policy
}

/** Wraps every function tool of the list; other tools pass through as they are. @internal */
export const wrapAll = <T extends Tool<any>>(tools: ReadonlyArray<T>, options: Options): Array<T> =>
  tools.map((tool) => isFunctionTool(tool) ? wrapTool(tool, policyOf(tool.name, options), options) as T : tool)
