/**
 * Runs the tool calls of an `@effect/ai` model response through toolfan's
 * `Scheduler`: every call of a response at once, each under its tool's
 * policies (timeout, retries, group cap, priority), and every failure
 * returned to the model as that call's result instead of failing the turn.
 *
 * Out of the box `LanguageModel.generateText` resolves tool calls one after
 * another (its `concurrency` option defaults to sequential), with no timeout
 * or retry per tool, and a tool that fails (`failureMode: "error"`) fails the
 * whole turn. A `ToolRunner` attaches policies to a `Toolkit` and gives two
 * ways to run its calls:
 *
 * - `runner.resolve(response.content)`: runs the tool calls of a response made
 *   with `disableToolCallResolution: true` (or any list of parts, decoded or
 *   encoded) and returns one `tool-result` part per call. An unknown tool name
 *   or parameters that fail the tool's Schema become that call's failure.
 * - `runner.toolkit`: a `Toolkit.WithHandler` to pass to
 *   `LanguageModel.generateText({ toolkit, concurrency: "unbounded" })`, so
 *   generateText's own resolution goes through the Scheduler.
 *
 * @since 0.1.0
 */
import type * as Response from "@effect/ai/Response"
import type * as Tool from "@effect/ai/Tool"
import type * as Toolkit from "@effect/ai/Toolkit"
import * as Effect from "effect/Effect"
import * as Predicate from "effect/Predicate"
import * as Stream from "effect/Stream"
import type { Scheduler, Task, ToolPlan } from "toolfan"
import * as plans from "./internal/plan.js"
import * as internal from "./internal/runner.js"

/**
 * The policies of one tool: the options of a toolfan `Task`. `retryWhile`
 * receives the tool's own failure (the value of its failure Schema); timeouts
 * are retried while attempts remain; a crash (defect), a result that does not
 * match the tool's success Schema and an unknown tool or bad parameters are
 * never retried.
 *
 * | Option       | Default        | Meaning |
 * | ------------ | -------------- | ------- |
 * | `timeout`    | none           | Time limit of each attempt of a call. |
 * | `retries`    | `0`            | Extra attempts after a failure or a timeout. |
 * | `schedule`   | toolfan's      | Backoff between attempts. |
 * | `retryWhile` | every failure  | Which of the tool's failures are retried. |
 * | `priority`   | `0`            | Higher starts first among waiting calls. |
 * | `group`      | none           | Key of a cap set on the scheduler's `groups`. |
 *
 * @since 0.1.0
 * @category models
 */
export type Policy<E = unknown> = Task.Options<E>

/**
 * Policies by tool name. Tools without an entry run with the defaults.
 *
 * @example
 * ```ts
 * const policies = {
 *   search: { timeout: "5 seconds", retries: 2, group: "web" },
 *   fetch_page: { timeout: "3 seconds", group: "web" }
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Policies<Tools extends Record<string, Tool.Any>> = {
  readonly [Name in keyof Tools]?: Policy<Tool.Failure<Tools[Name]>> | undefined
}

/**
 * What the model is told when a call of a tool could not give its own result
 * or failure: the `tool` called, a `reason`, and a `message` that says what
 * happened and what to do, e.g. `tool "search" timed out after 5s; try again
 * later or go on without this result`. Its encoded form (`{ _tag:
 * "ToolCallError", tool, reason, message }`) is the call's `encodedResult`.
 *
 * | Reason              | When |
 * | ------------------- | ---- |
 * | `UnknownTool`       | The model called a tool that is not in the toolkit. |
 * | `InvalidParameters` | The parameters do not decode with the tool's Schema (the message lists each issue). |
 * | `InvalidPlan`       | A call of a plan (`runPlan`) that cannot run: malformed, a repeated id, a reference that is unknown, circular or has no value at its path (the message says which). |
 * | `Failed`            | The result broke the tool's success Schema, or a failure the failure Schema cannot encode. |
 * | `TimedOut`          | The last attempt ran past the tool's `timeout`. |
 * | `Defect`            | The handler died (a throw, `Effect.die`). |
 * | `Interrupted`       | The step's `deadline` passed, or the run was interrupted. |
 *
 * A failure of the tool's own failure Schema is passed to the model as is,
 * not wrapped in a `ToolCallError`.
 *
 * @since 0.1.0
 * @category errors
 */
export const ToolCallError: typeof internal.ToolCallError = internal.ToolCallError

/**
 * @since 0.1.0
 * @category errors
 */
export type ToolCallError = internal.ToolCallError

/**
 * Whether `u` is a {@link ToolCallError} (checked by tag, so it also works on
 * an encoded one).
 *
 * @since 0.1.0
 * @category guards
 */
export const isToolCallError: (u: unknown) => u is ToolCallError = internal.isToolCallError

/**
 * The `tool-result` part of one call: the tool's success, its own failure, or
 * a {@link ToolCallError} (`isFailure: true`). An unknown tool's part carries
 * the name the model used.
 *
 * @since 0.1.0
 * @category models
 */
export type ToolResult<Tools extends Record<string, Tool.Any>> =
  | {
    readonly [Name in keyof Tools]: Response.ToolResultPart<
      Tool.Name<Tools[Name]>,
      Tool.Success<Tools[Name]>,
      Tool.Failure<Tools[Name]> | ToolCallError
    >
  }[keyof Tools]
  | Response.ToolResultPart<string, never, ToolCallError>

/**
 * Options of one `resolve`.
 *
 * @since 0.1.0
 * @category models
 */
export interface ResolveOptions {
  /**
   * Time limit of the whole step: calls still running or waiting then are
   * stopped and reported as `ToolCallError`s with reason `Interrupted`.
   * Default: none.
   */
  readonly deadline?: Scheduler.RunOptions["deadline"] | undefined
}

/**
 * A toolkit with policies attached, ready to run a response's tool calls.
 *
 * @since 0.1.0
 * @category models
 */
export interface ToolRunner<Tools extends Record<string, Tool.Any>> {
  /** The tools of the toolkit. */
  readonly tools: Tools
  /** The policies, as given. */
  readonly policies: Policies<Tools>
  /**
   * Runs every tool call among `parts` at once through the `Scheduler`, one
   * task per call (named `tool#callId`), and returns one `tool-result` part
   * per call, in the calls' order. Parts that are not tool calls, and calls
   * the provider executed, are skipped. Accepts a decoded response's
   * `content` and raw (encoded) parts alike. Never fails; a bad `deadline`
   * throws an `InvalidOption` at once.
   */
  readonly resolve: (
    parts: ReadonlyArray<Response.AnyPart | Response.AllPartsEncoded>,
    options?: ResolveOptions | undefined
  ) => Effect.Effect<
    Array<ToolResult<Tools>>,
    never,
    Scheduler.Scheduler | Tool.HandlersFor<Tools> | Tool.Requirements<Tools[keyof Tools]>
  >
  /**
   * A `Toolkit.WithHandler` whose `handle` runs each call as a task through
   * the `Scheduler`, and never fails: a failure becomes a result with
   * `isFailure: true` (the tool's own failure, or a {@link ToolCallError}).
   * Pass it to `LanguageModel.generateText` **with `concurrency:
   * "unbounded"`** — generateText resolves calls one after another otherwise;
   * the Scheduler's caps still hold. In this mode @effect/ai runs the calls
   * and then decodes the model's output itself, so an unknown tool or bad
   * parameters still fail the turn with `MalformedOutput` — after the valid
   * calls have run (their effects happened, their results are discarded):
   * use `resolve` to turn those into results instead.
   */
  readonly toolkit: Effect.Effect<Toolkit.WithHandler<Tools>, never, Scheduler.Scheduler | Tool.HandlersFor<Tools>>
  /**
   * Runs a plan the model wrote — calls `{ id, tool, args }`, a list or a
   * `Stream` parsed from its streamed output — with toolfan's
   * `ToolPlan.run`: arguments may reference other calls' outputs
   * (`"$search.items.0.url"`, read from the *encoded* results the model
   * sees), each call starts once it has arrived and its references have
   * succeeded, and the arguments are decoded with the tool's parameters
   * Schema. Returns one `tool-result` part per call in arrival order (`id`:
   * the call's id): a call that cannot run is an `InvalidPlan`,
   * `UnknownTool` or `InvalidParameters` {@link ToolCallError}, a call whose
   * reference failed a `Failed` one naming it. Fails only if the stream
   * fails. @since 0.5.0
   */
  readonly runPlan: <E = never, R = never>(
    calls: Iterable<ToolPlan.Call> | Stream.Stream<ToolPlan.Call, E, R>,
    options?: ResolveOptions | undefined
  ) => Effect.Effect<
    Array<ToolResult<Tools>>,
    E,
    Scheduler.Scheduler | Tool.HandlersFor<Tools> | Tool.Requirements<Tools[keyof Tools]> | R
  >
}

/**
 * Attaches per-tool policies to a toolkit. The policies are checked at once:
 * a key that names no tool of the toolkit, or an invalid option, throws an
 * `InvalidOption` naming it (e.g. `ToolRunner.make: policies.search.timeout
 * must be a positive duration ...`).
 *
 * @example
 * ```ts
 * import { LanguageModel } from "@effect/ai"
 * import { ToolRunner } from "@toolfan/ai"
 * import { Effect } from "effect"
 *
 * const runner = ToolRunner.make(ResearchTools, {
 *   search: { timeout: "5 seconds", retries: 2, group: "web" }
 * })
 *
 * const step = Effect.gen(function*() {
 *   const response = yield* LanguageModel.generateText({
 *     prompt,
 *     toolkit: ResearchTools,
 *     disableToolCallResolution: true
 *   })
 *   const results = yield* runner.resolve(response.content)
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <Tools extends Record<string, Tool.Any>>(
  toolkit: Toolkit.Toolkit<Tools>,
  policies?: Policies<Tools> | undefined
): ToolRunner<Tools> => {
  const checked = internal.checkPolicies("ToolRunner.make", toolkit.tools, policies)
  const withHandler = toolkit as unknown as Effect.Effect<Toolkit.WithHandler<Record<string, Tool.Any>>>
  return {
    tools: toolkit.tools,
    policies: policies ?? {},
    resolve: (parts, options) => {
      internal.checkResolveOptions("ToolRunner.resolve", options)
      const calls = internal.callsOf(parts)
      return calls.length === 0 ? Effect.succeed([]) : Effect.flatMap(
        Effect.zip(withHandler, internal.scheduler),
        ([handler, scheduler]) => internal.run(scheduler, handler, checked, calls, options)
      ) as Effect.Effect<Array<ToolResult<Tools>>, never, any>
    },
    runPlan: (calls, options) => {
      internal.checkResolveOptions("ToolRunner.runPlan", options)
      const stream = Predicate.hasProperty(calls, Stream.StreamTypeId) ? calls as Stream.Stream<ToolPlan.Call, any, any> : Stream.fromIterable(calls as Iterable<ToolPlan.Call>)
      return Effect.flatMap(withHandler, (handler) => plans.runPlan(handler, checked, stream, options)) as Effect.Effect<Array<ToolResult<Tools>>, any, any>
    },
    toolkit: Effect.map(Effect.zip(withHandler, internal.scheduler), ([handler, scheduler]) => ({
      tools: handler.tools,
      handle: (name: PropertyKey, params: unknown) =>
        internal.run(
          scheduler,
          handler,
          checked,
          [{ id: undefined, name: String(name), providerName: undefined, params, decoded: false }],
          undefined
        ).pipe(Effect.map(([part]) => ({
          isFailure: part!.isFailure,
          result: part!.result,
          encodedResult: part!.encodedResult
        })))
    })) as unknown as Effect.Effect<Toolkit.WithHandler<Tools>, never, Scheduler.Scheduler | Tool.HandlersFor<Tools>>
  }
}
