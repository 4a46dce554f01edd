/**
 * Plans a model writes: a list of tool calls `{ id, tool, args }` whose
 * arguments may reference other calls' outputs (`"$search.items.0.url"`).
 * The dependencies are read from the references; each call starts the moment
 * it has arrived and the calls it references have succeeded — while the
 * model is still streaming the rest of the plan (LLMCompiler's task-fetching
 * unit, Kim et al., ICML 2024).
 *
 * ```ts
 * const tools = {
 *   search: ToolPlan.tool(Schema.Struct({ q: Schema.String }), ({ q }) => search(q), { timeout: "5 seconds" }),
 *   fetch: ToolPlan.tool(Schema.Struct({ url: Schema.String }), ({ url }) => fetchPage(url))
 * }
 * const results = yield* ToolPlan.run(callsFromTheModel, tools, { deadline: "30 seconds" })
 * ```
 *
 * References, in any argument value (arrays and objects are searched):
 * - `"$search"`, `"$search.items.0.url"`: the whole string; `$`, the call's
 *   id, then a path of keys and array indexes. Write `"$$5"` for the text `"$5"`.
 * - `{ "$ref": "search", "path": ["items", 0, "url"] }` (`path` optional).
 *
 * @since 0.5.0
 */
import * as Effect from "effect/Effect"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as internal from "./internal/calls.js"
import * as validate from "./internal/validate.js"
import * as Scheduler from "./Scheduler.js"
import * as Task from "./Task.js"
import type * as TaskResult from "./TaskResult.js"

/**
 * One call of a plan, as a model writes it. `args` may reference other calls'
 * outputs (see the module's documentation). Anything else arriving in a plan
 * is refused as a `MalformedCall`.
 *
 * @since 0.5.0
 * @category models
 */
export interface Call {
  /** Unique within the plan; other calls reference its output by it. */
  readonly id: string
  /** The name of a tool of the plan's tools. */
  readonly tool: string
  /** The tool's arguments, before decoding with its parameters Schema. */
  readonly args?: unknown
}

/**
 * A tool's options: a task's (timeout, retries, schedule, retryWhile,
 * priority, group, ...), and what references read of its output.
 *
 * @since 0.5.0
 * @category models
 */
export interface ToolOptions<E, A> extends Task.Options<E, A> {
  /** What a reference to a call of this tool reads: a function of its value. Default: the value itself. */
  readonly output?: ((value: A) => unknown) | undefined
}

/**
 * @since 0.5.0
 * @category symbols
 */
export const TypeId: unique symbol = Symbol.for("toolfan/ToolPlan/Tool")

/**
 * A tool a plan may call: its parameters Schema, its effect from the decoded
 * arguments, its options. Made with {@link tool}.
 *
 * @since 0.5.0
 * @category models
 */
export interface Tool<out A, out E = never, out R = never> {
  readonly [TypeId]: { readonly _A: (_: never) => A; readonly _E: (_: never) => E; readonly _R: (_: never) => R }
  /** The Schema its arguments are decoded with. */
  readonly parameters: Schema.Schema.AnyNoContext
}

/**
 * The tools of a plan, by the name calls use.
 *
 * @since 0.5.0
 * @category models
 */
export type Tools = Readonly<Record<string, Tool<any, any, any>>>

/**
 * Why a call of a plan was not run; it is that call's result (a `TaskFailed`
 * carrying it, with no attempt made), and the calls referencing it are
 * skipped (`TaskSkipped`). `call` is the call's id (`#<position>` when it has
 * none); `message` says which call, which reference or field, and what was
 * expected, for a model to fix its plan.
 *
 * | Reason               | When |
 * | -------------------- | ---- |
 * | `MalformedCall`      | Not `{ id: string, tool: string, args? }`. |
 * | `DuplicateId`        | An earlier call has the same id. |
 * | `UnknownTool`        | No tool of that name (the message lists them). |
 * | `MalformedReference` | A string starting with `$`, or a `$ref` object, that is not a reference. |
 * | `UnknownReference`   | No call of that id had arrived when the plan ended. |
 * | `Cycle`              | A reference to the call's own output, directly or through others. |
 * | `MissingPath`        | The referenced output has nothing at the path. |
 * | `InvalidArguments`   | The arguments, references substituted, do not decode with the tool's parameters. |
 *
 * @since 0.5.0
 * @category errors
 */
export const CallRefused: typeof internal.CallRefused = internal.CallRefused

/**
 * @since 0.5.0
 * @category errors
 */
export type CallRefused = internal.CallRefused

/**
 * Whether `u` is a {@link CallRefused} (by tag: also an encoded one).
 *
 * @since 0.5.0
 * @category guards
 */
export const isCallRefused = (u: unknown): u is CallRefused =>
  Predicate.isTagged(u, "CallRefused") && typeof (u as { reason?: unknown }).reason === "string"

const engines = new WeakMap<object, internal.Tool>()

const variance = { _A: (_: never) => _, _E: (_: never) => _, _R: (_: never) => _ }

/**
 * Makes a tool: `run` receives the call's arguments decoded with
 * `parameters`, after the references are substituted. The options are a
 * task's, checked at once (throws `InvalidOption` naming the option).
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { ToolPlan } from "toolfan"
 *
 * const search = ToolPlan.tool(
 *   Schema.Struct({ q: Schema.String, limit: Schema.optional(Schema.Number) }),
 *   ({ q }) => Effect.succeed({ items: [{ url: `https://example.com/${q}` }] }),
 *   { timeout: "5 seconds", retries: 2, group: "web" }
 * )
 * ```
 *
 * @since 0.5.0
 * @category constructors
 */
export const tool = <P extends Schema.Schema.AnyNoContext, A, E = never, R = never>(
  parameters: P,
  run: (args: Schema.Schema.Type<P>) => Effect.Effect<A, E, R>,
  options?: ToolOptions<E, A> | undefined
): Tool<A, E, R> => {
  const where = "ToolPlan.tool"
  if (!Schema.isSchema(parameters)) validate.invalid(where, "parameters", "a Schema (from effect/Schema)", parameters, "type")
  validate.func(where, "run", run)
  const { output, ...taskOptions } = options === undefined ? {} as ToolOptions<E, A> : validate.record(where, "options", options) as ToolOptions<E, A>
  if (output !== undefined) validate.func(where, "output", output)
  const template = Task.makeAt(where, "tool", Effect.void, taskOptions)
  const made = { [TypeId]: variance, parameters } as unknown as Tool<A, E, R>
  engines.set(made, {
    template,
    decode: internal.decoder(parameters),
    task: (named, args) => Task.withEffect(named, Effect.suspend(() => run(args as Schema.Schema.Type<P>))),
    output: output as internal.Tool["output"]
  })
  return made
}

/** The tools as the engine takes them; throws `InvalidOption` for one not made with `tool`. */
const registry = (where: string, tools: unknown): Map<string, internal.Tool> => {
  const record = validate.record(where, "tools", tools)
  const checked = new Map<string, internal.Tool>()
  for (const [name, t] of Object.entries(record)) {
    const engine = typeof t === "object" && t !== null ? engines.get(t) : undefined
    checked.set(name, engine ?? validate.invalid(where, `tools.${name}`, "a tool made with ToolPlan.tool", t, "type"))
  }
  return checked
}

/** The task refused calls are named after. */
const base = Task.makeAt("ToolPlan.run", "call", Effect.void, undefined)

/**
 * The result of one call of a plan over `T`.
 *
 * @since 0.5.0
 * @category type-level
 */
export type Result<T extends Tools> = TaskResult.TaskResult<
  T[keyof T] extends Tool<infer A, infer _E, infer _R> ? A : never,
  (T[keyof T] extends Tool<infer _A, infer E, infer _R> ? E : never) | CallRefused
>

/**
 * Runs a plan of calls — a list, or a `Stream` of calls as a model writes
 * them — with the `Scheduler` from the context. Each call starts once it has
 * arrived and the calls it references have succeeded, with the referenced
 * outputs substituted and its arguments decoded with its tool's parameters;
 * a call referencing one that did not succeed is skipped (`TaskSkipped`); a
 * call that cannot run is refused ({@link CallRefused}). Returns every
 * call's result, in arrival order (`name` is the call's id), once the plan
 * has ended and every call has settled. Caps, groups, priorities, timeouts,
 * retries, `deadline`, `budget` and `onProgress` as in `Scheduler.run`; at
 * the deadline the stream is no longer read. Fails only if the stream fails
 * (its calls are then interrupted). Bad `tools` or options throw an
 * `InvalidOption` at once.
 *
 * @since 0.5.0
 * @category running
 */
export const run = <T extends Tools, E = never, R = never>(
  calls: Iterable<Call> | Stream.Stream<Call, E, R>,
  tools: T,
  options?: Scheduler.RunOptions | undefined
): Effect.Effect<
  Array<Result<T>>,
  E,
  Scheduler.Scheduler | R | (T[keyof T] extends Tool<infer _A, infer _E, infer R2> ? R2 : never)
> => {
  const where = "ToolPlan.run"
  const stream = Predicate.hasProperty(calls, Stream.StreamTypeId)
    ? calls as Stream.Stream<Call, E, R>
    : Predicate.isIterable(calls)
    ? Stream.fromIterable(calls)
    : validate.invalid(where, "calls", "an Iterable or a Stream of calls", calls, "type")
  const checked = registry(where, tools)
  const o = Scheduler.checkRunOptions(where, options)
  return Effect.flatMap(Scheduler.Scheduler, (service) => {
    const internals = Scheduler.internals.get(service)
    if (internals === undefined) return Effect.dieMessage(`${where}: the Scheduler in the context was not made by Scheduler.make`)
    return internals.runCalls(stream, checked, base, o)
  }) as Effect.Effect<Array<Result<T>>, E, any>
}
