/**
 * Runs the tool calls of the Vercel AI SDK (`ai` 7) through a toolfan
 * `Scheduler`.
 *
 * `generateText` and `streamText` run every tool call of a step at once, with
 * no cap shared across requests, no retry and no per-tool priority. Wrap the
 * `tools` record with {@link withToolfan} and every call runs as a toolfan
 * task on the scheduler you give: its cap (and its groups' caps) holds across
 * every step and every request that share it, waiting calls start by priority,
 * each attempt has its timeout (its `abortSignal` is aborted) and failures are
 * retried with backoff. A call that still fails throws toolfan's `TaskError`,
 * which the SDK sends to the model as that call's error result, and the step
 * goes on with the other calls' results.
 *
 * @since 0.1.0
 */
import type { ToolSet } from "ai"
import { InvalidOption } from "toolfan"
import { Task, type Scheduler } from "toolfan/promise"
import { validate } from "toolfan/shared"
import { type Execute, isAsyncGeneratorFunction, type Policy, runCall, streamCall } from "./internal/execute.js"

/**
 * The policy of a tool's calls: the options of a toolfan Promise API `Task`
 * (times in milliseconds).
 *
 * | Option          | Default          | Meaning |
 * | --------------- | ---------------- | ------- |
 * | `timeout`       | none             | Time limit of each attempt, in ms; the tool's `abortSignal` is aborted with a `TimeoutError`. |
 * | `retries`       | `0`              | Extra attempts after a throw or a timeout (with jittered exponential backoff from 100 ms). |
 * | `retryWhile`    | every failure    | Which thrown errors are retried (timeouts always are, while attempts remain). |
 * | `priority`      | `0`              | Higher starts first among waiting calls. |
 * | `group`         | the tool's name  | Key of a cap in the scheduler's `groups` (`new Scheduler({ groups: { search: 2 } })`). |
 * | `overloaded`, `maxRetryAfter`, `cost`, `actualCost` | | As on a toolfan `Task` (429 handling, cost-counting limits). |
 *
 * @since 0.1.0
 * @category models
 */
export type ToolPolicy = Policy

/**
 * Options of {@link withToolfan}.
 *
 * @since 0.1.0
 * @category models
 */
export interface WithToolfanOptions<TOOLS extends ToolSet> {
  /**
   * The toolfan Promise API scheduler the calls run on. Share one across
   * requests: its `maxConcurrency` and `groups` caps hold across all of them.
   */
  readonly scheduler: Scheduler
  /** The policy of every tool's calls. Default: none (no timeout, no retry, priority 0). */
  readonly defaults?: ToolPolicy | undefined
  /**
   * Policies by tool name, merged over `defaults` option by option. A key
   * must name a tool of the record. Default: `{}`.
   */
  readonly policies?: { readonly [K in keyof TOOLS]?: ToolPolicy | undefined } | undefined
}

const where = "withToolfan"
const optionKeys: ReadonlySet<string> = new Set(["scheduler", "defaults", "policies"])

/** Checks a policy as a `Task` would, naming it as the user wrote it (`policies.search.timeout`). */
const checkPolicy = (name: string, option: string, policy: Policy): void => {
  try {
    new Task(name, () => undefined, policy)
  } catch (error) {
    const e: unknown = error instanceof Error ? error.cause : undefined
    if (!InvalidOption.isInvalidOption(e)) throw error
    const sub = e.option === "options" ? "" : `.${e.option.replace(/^options\./, "")}`
    validate.invalid(where, `${option}${sub}`, e.expected, e.value, e.kind)
  }
}

/** The checked options: every tool's merged policy. */
const check = (tools: unknown, options: unknown): { scheduler: Scheduler; policyOf: (name: string) => Policy } => {
  const record = validate.record(where, "tools", tools)
  const raw = validate.record(where, "options", options)
  validate.knownKeys(where, raw, optionKeys)
  const o = raw as unknown as WithToolfanOptions<ToolSet>
  const scheduler = o.scheduler as { run?: unknown } | undefined
  if (typeof scheduler !== "object" || scheduler === null || typeof scheduler.run !== "function") {
    validate.invalid(where, "options.scheduler", "a Scheduler from toolfan/promise", scheduler, "type")
  }
  const defaults = o.defaults === undefined ? {} : validate.record(where, "options.defaults", o.defaults) as Policy
  checkPolicy("tool", "options.defaults", defaults)
  const policies = o.policies === undefined ? {} : validate.record(where, "options.policies", o.policies)
  for (const [name, policy] of Object.entries(policies)) {
    if (policy === undefined) continue
    if (!Object.hasOwn(record, name)) {
      const known = Object.keys(record).join(", ") || "none"
      validate.invalid(where, `options.policies.${name}`, `the name of a tool of the record (${known})`, name, "range")
    }
    validate.record(where, `options.policies.${name}`, policy)
  }
  const policyOf = (name: string): Policy => {
    const policy: Policy = { group: name, ...defaults, ...policies[name] as Policy | undefined }
    checkPolicy(name, `options.policies.${name}`, policy)
    return policy
  }
  return { scheduler: o.scheduler, policyOf }
}

/** A copy of `tool` (own properties, hidden ones too, and its prototype) with another `execute`. */
const withExecute = <T extends object>(tool: T, execute: Execute): T => {
  const copy = Object.create(Object.getPrototypeOf(tool), Object.getOwnPropertyDescriptors(tool)) as T
  Object.defineProperty(copy, "execute", { value: execute, writable: true, enumerable: true, configurable: true })
  return copy
}


/**
 * Wraps a `tools` record (as passed to `generateText` / `streamText`) so that
 * each tool's `execute(input, options)` runs as a toolfan task on
 * `options.scheduler`, under the tool's policy. Returns a record of the same
 * type; the tools are copies (the originals are not changed). A tool without
 * `execute` (a client-side or provider-executed tool) is passed through as
 * it is.
 *
 * - The tool's `abortSignal` is aborted when the SDK's `abortSignal` aborts
 *   or when toolfan cuts the attempt: a timeout (reason: a `TimeoutError`
 *   `DOMException`) or a cancel. Aborting the SDK's signal also cancels a call
 *   still waiting for a slot.
 * - A call that fails on its last attempt throws toolfan's `TaskError`
 *   (`TaskFailed` with the tool's error as `cause`, `TaskTimedOut`,
 *   `TaskInterrupted`); the SDK sends its message — e.g. `TaskTimedOut: task
 *   "search" timed out after 2s; ...` — to the model as the call's error
 *   result.
 * - An `async function*` tool runs inside its task until its last value; its
 *   values reach the SDK as they come.
 *
 * Bad options throw at once: a `TypeError` or `RangeError` naming the option
 * and the value (`withToolfan: options.policies.search.timeout must be a
 * positive number of milliseconds, got -5 (number)`).
 *
 * @example
 * ```ts
 * import { generateText } from "ai"
 * import { withToolfan } from "@toolfan/vercel-ai"
 * import { Scheduler } from "toolfan/promise"
 *
 * const scheduler = new Scheduler({ maxConcurrency: 8, groups: { search: 2 } })
 * const result = await generateText({
 *   model,
 *   tools: withToolfan(tools, {
 *     scheduler,
 *     defaults: { timeout: 10_000 },
 *     policies: { search: { timeout: 5_000, retries: 2 } }
 *   }),
 *   prompt
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const withToolfan = <TOOLS extends ToolSet>(tools: TOOLS, options: WithToolfanOptions<NoInfer<TOOLS>>): TOOLS =>
  validate.jsErrors(() => {
    const { policyOf, scheduler } = check(tools, options)
    const wrapped: Record<string, unknown> = {}
    for (const [name, tool] of Object.entries(tools)) {
      const execute = (tool as { execute?: unknown }).execute
      if (typeof execute !== "function") {
        wrapped[name] = tool
        continue
      }
      const policy = policyOf(name)
      const call = execute as Execute
      wrapped[name] = withExecute(tool, isAsyncGeneratorFunction(call)
        ? function(this: unknown, input, opts) {
          return streamCall(scheduler, name, policy, call, this, input, opts)
        }
        : function(this: unknown, input, opts) {
          return runCall(scheduler, name, policy, call, this, input, opts)
        })
    }
    return wrapped as TOOLS
  })
