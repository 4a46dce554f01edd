/**
 * The machinery behind `ToolRunner`: one toolfan `Task` per tool call, every
 * outcome turned into a `tool-result` part.
 *
 * Why it works this way
 * ---------------------
 * @effect/ai's `Toolkit.WithHandler.handle(name, params)` already does the
 * careful part of a tool call: it decodes the encoded parameters with the
 * tool's Schema, runs the handler with the context its Layer captured,
 * validates the result and encodes it for the model. So the attempt of each
 * task *is* one `handle` call, and toolfan adds what @effect/ai lacks: the
 * calls run side by side under the Scheduler's caps, each attempt has its own
 * timeout and retries, and no failure escapes.
 *
 * Two checks happen before any task is made, because retrying them cannot
 * help: the tool name must be in the toolkit and the parameters must decode.
 * Both become a failure result at once, with a message that tells the model
 * how to fix its call.
 *
 * A handler failure takes two routes in `handle`: with `failureMode: "error"`
 * it fails the effect, with `"return"` it succeeds with `isFailure: true`.
 * The attempt turns both into the same `ToolFailure`, so retries apply to
 * both and `retryWhile` sees the tool's own failure value. When the retries
 * are spent, that failure goes to the model as the call's result, encoded with
 * the tool's failure Schema: the model sees exactly what the tool reported.
 * Everything else (a timeout, a defect, an interruption, a result that breaks
 * the tool's success Schema) becomes a `ToolCallError` with a readable message.
 */
import type * as Tool from "@effect/ai/Tool"
import type * as Toolkit from "@effect/ai/Toolkit"
import * as AiError from "@effect/ai/AiError"
import * as Response from "@effect/ai/Response"
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import { InvalidOption, Overload, Scheduler, Task, type TaskError, type TaskResult } from "toolfan"
import { describe, validate } from "toolfan/shared"

/** A tool call as the runner needs it: an encoded `params` for `handle`. */
export interface Call {
  readonly id: string | undefined
  readonly name: string
  readonly providerName: string | undefined
  /** Encoded parameters, or the decoded ones when `decoded` is true. */
  readonly params: unknown
  readonly decoded: boolean
}

/** The reasons of a `ToolCallError`. */
export const reasons = ["UnknownTool", "InvalidParameters", "InvalidPlan", "Failed", "TimedOut", "Defect", "Interrupted"] as const

/** A tool call's error as the model sees it. See `ToolRunner.ToolCallError`. */
export class ToolCallError extends Schema.TaggedError<ToolCallError>("@toolfan/ai/ToolCallError")("ToolCallError", {
  tool: Schema.String,
  reason: Schema.Literal(...reasons),
  message: Schema.String
}) {}

const encodeCallError = Schema.encodeSync(ToolCallError)

/** The handler's own failure (`failureMode` "error" or "return"). */
class ToolFailure {
  readonly _tag = "ToolFailure"
  constructor(readonly failure: unknown, readonly encoded: { readonly value: unknown } | undefined) {}
}

/** A result that broke the tool's Schema, or another `AiError` of `handle`. */
class Broken {
  readonly _tag = "Broken"
  constructor(readonly error: AiError.AiError) {}
}

/** How one attempt of a call fails. */
export type AttemptError = ToolFailure | Broken

/** The checked policy of one tool, ready for `Task.make`. */
export type CheckedPolicies = ReadonlyMap<string, Task.Options<any>>

/**
 * Checks every policy at once: each key must name a tool of the toolkit and
 * each value must be valid `Task` options. Throws an `InvalidOption` naming
 * the option and the value.
 */
export const checkPolicies = (
  where: string,
  tools: Record<string, Tool.Any>,
  policies: unknown
): CheckedPolicies => {
  const checked = new Map<string, Task.Options<any>>()
  if (policies === undefined) return checked
  if (typeof policies !== "object" || policies === null || Array.isArray(policies)) {
    validate.invalid(where, "policies", "an object of policies keyed by tool name", policies, "type")
  }
  for (const [name, policy] of Object.entries(policies as object)) {
    if (policy === undefined) continue
    if (!Object.hasOwn(tools, name)) {
      const known = Object.keys(tools).join(", ") || "none"
      validate.invalid(where, `policies.${name}`, `the name of a tool of the toolkit (${known})`, name, "range")
    }
    try {
      // Task.make checks the options; the task itself is thrown away.
      Task.make(name, Effect.void, policy as Task.Options<unknown>)
    } catch (e) {
      if (!InvalidOption.isInvalidOption(e)) throw e
      const option = e.option === "options" ? `policies.${name}` : `policies.${name}.${e.option.replace(/^options\./, "")}`
      validate.invalid(where, option, e.expected, e.value, e.kind)
    }
    checked.set(name, policy as Task.Options<any>)
  }
  return checked
}

/** The tool calls of a response that the application must run. */
export const callsOf = (parts: ReadonlyArray<unknown>): Array<Call> => {
  const calls: Array<Call> = []
  for (const part of parts) {
    if (typeof part !== "object" || part === null) continue
    const p = part as Partial<Response.ToolCallPartEncoded>
    if (p.type !== "tool-call" || p.providerExecuted === true) continue
    calls.push({
      id: p.id,
      name: String(p.name),
      providerName: p.providerName,
      params: p.params,
      decoded: Response.isPart(part)
    })
  }
  return calls
}

const formatIssues = (error: ParseResult.ParseError): string =>
  ParseResult.ArrayFormatter.formatErrorSync(error)
    .map((issue) => issue.path.length === 0 ? issue.message : `${issue.path.join(".")}: ${issue.message}`)
    .join("; ")

export const callError = (tool: string, reason: ToolCallError["reason"], message: string) =>
  new ToolCallError({ tool, reason, message })

/** A failure `tool-result` part. */
const failurePart = (call: Call, result: unknown, encodedResult: unknown) =>
  Response.makePart("tool-result", {
    id: call.id ?? "",
    name: call.name,
    isFailure: true,
    result,
    encodedResult,
    providerExecuted: false,
    ...(call.providerName !== undefined ? { providerName: call.providerName } : {})
  })

export const errorPart = (call: Call, error: ToolCallError) => failurePart(call, error, encodeCallError(error))

const attemptsNote = (attempts: number) => attempts > 1 ? ` (${attempts} attempts)` : ""

/** How a call's task can end without a value. */
type CallFailure = TaskError.TaskError<AttemptError>

/** The `tool-result` part of a call that succeeded. */
const successPart = (call: Call, value: Tool.HandlerResult<any>) =>
  Response.makePart("tool-result", {
    id: call.id ?? "",
    name: call.name,
    isFailure: false,
    result: value.result,
    encodedResult: value.encodedResult,
    providerExecuted: false,
    ...(call.providerName !== undefined ? { providerName: call.providerName } : {})
  })

/**
 * The part of a call whose attempts failed: a broken result or a lost permit
 * as a `ToolCallError`, the tool's own failure encoded with its failure
 * Schema (or, when that Schema cannot encode it, described in a `ToolCallError`).
 */
const failedPart = (
  call: Call,
  tool: Tool.Any,
  error: Extract<CallFailure, { readonly _tag: "TaskFailed" }>
): Effect.Effect<Response.ToolResultPart<string, unknown, unknown>> => {
  const name = call.name
  const e = error.error
  if (e._tag === "Broken") {
    return Effect.succeed(errorPart(call, callError(name, "Failed", `tool "${name}" failed: ${e.error.message}`)))
  }
  if (e._tag === "GroupLimitUnavailable") {
    // a permit can also be lost while the tool runs, or before a retry: then it ran, and may have had effects
    const what = error.attempts === 0 ? "did not run" : "could not complete (it has run, and may have had effects)"
    return Effect.succeed(errorPart(call, callError(name, "Failed", `tool "${name}" ${what}: ${e.message}`)))
  }
  if (e.encoded !== undefined) return Effect.succeed(failurePart(call, e.failure, e.encoded.value))
  return Schema.encodeUnknown(tool.failureSchema as Schema.Schema<unknown, unknown>)(e.failure).pipe(
    Effect.map((encoded) => failurePart(call, e.failure, encoded)),
    // a failure the Schema cannot encode, even one whose transform throws
    Effect.catchAllCause(() =>
      Effect.succeed(errorPart(
        call,
        callError(name, "Failed", `tool "${name}" failed${attemptsNote(error.attempts)}: ${describe(e.failure)}`)
      ))
    )
  )
}

/** What the model is told when a call ended without the tool's own result or failure (a timeout, a crash …). */
const endedError = (
  name: string,
  error: Exclude<CallFailure, { readonly _tag: "TaskFailed" }>
): ToolCallError => {
  switch (error._tag) {
    case "TaskTimedOut":
      return callError(
        name,
        "TimedOut",
        `tool "${name}" timed out after ${Duration.format(error.timeout)}${attemptsNote(error.attempts)}; ` +
          `try again later or go on without this result`
      )
    case "TaskDefect":
      return callError(name, "Defect", `tool "${name}" crashed: ${describe(error.defect)}; do not call it again with the same parameters`)
    case "TaskInterrupted":
      return callError(
        name,
        "Interrupted",
        error.reason === "deadline"
          ? `tool "${name}" was stopped: the step's deadline passed before it finished`
          : `tool "${name}" was stopped before it finished`
      )
    case "TaskSkipped":
      return callError(name, "Failed", `tool "${name}" did not run: ${error.message}`)
  }
}

/** Turns a task's result into the call's `tool-result` part. */
export const toPart = (
  call: Call,
  tool: Tool.Any,
  result: TaskResult.TaskResult<Tool.HandlerResult<any>, AttemptError>
): Effect.Effect<Response.ToolResultPart<string, unknown, unknown>> => {
  if (result.ok) return Effect.succeed(successPart(call, result.value))
  const error = result.error
  return error._tag === "TaskFailed"
    ? failedPart(call, tool, error)
    : Effect.succeed(errorPart(call, endedError(call.name, error)))
}

/** Encodes decoded parameters back (for parts of an already decoded response). */
const encodedParams = (tool: Tool.Any, call: Call): Effect.Effect<unknown, ParseResult.ParseError> =>
  call.decoded
    ? Schema.encodeUnknown(tool.parametersSchema as Schema.Schema<unknown, unknown>)(call.params)
    : Effect.succeed(call.params)

/** The attempt of one call: one `handle`, with every handler failure as a `ToolFailure`. */
export const attempt = (
  toolkit: Toolkit.WithHandler<Record<string, Tool.Any>>,
  name: string,
  params: unknown
): Effect.Effect<Tool.HandlerResult<any>, AttemptError, any> =>
  (toolkit.handle(name, params as never) as Effect.Effect<Tool.HandlerResult<any>, unknown, any>).pipe(
    Effect.catchAll((e) =>
      // `handle`'s own errors (a result that breaks the tool's Schema) are Broken; an AiError the tool itself
      // failed with (e.g. a sub-agent's) is the tool's failure, retried and passed on like any other
      Effect.fail<AttemptError>(
        AiError.isAiError(e) && e.module === "Toolkit" && e.method === `${name}.handle`
          ? new Broken(e)
          : new ToolFailure(e, undefined)
      )
    ),
    Effect.flatMap((r) =>
      r.isFailure ? Effect.fail(new ToolFailure(r.result, { value: r.encodedResult })) : Effect.succeed(r)
    )
  )

/** A task name for a call: `search#call_1`, or the tool's name without an id. */
const taskName = (call: Call) => call.id === undefined || call.id === "" ? call.name : `${call.name}#${call.id}`

/** The toolkit's tool of that name, if any (own keys only: `toString` is not a tool). */
const toolOf = (toolkit: Toolkit.WithHandler<Record<string, Tool.Any>>, name: string): Tool.Any | undefined =>
  Object.hasOwn(toolkit.tools, name) ? toolkit.tools[name] : undefined

/** The error of a call to a tool the toolkit does not have. */
const unknownTool = (toolkit: Toolkit.WithHandler<Record<string, Tool.Any>>, call: Call): ToolCallError => {
  const available = Object.keys(toolkit.tools).join(", ")
  return callError(
    call.name,
    "UnknownTool",
    `unknown tool "${call.name}"; the available tools are: ${available}. Call one of them by its exact name`
  )
}

/**
 * Checks a call's parameters against its tool's Schema, before running
 * anything (retrying cannot fix them): the encoded parameters, or why they
 * are invalid. A transform that throws is a defect: caught too, so one bad
 * call cannot end the others.
 */
const checkParams = (tool: Tool.Any, call: Call): Effect.Effect<Exit.Exit<unknown, ParseResult.ParseError>> =>
  encodedParams(tool, call).pipe(
    Effect.tap((params) =>
      Schema.decodeUnknown(tool.parametersSchema as Schema.Schema<unknown, unknown>, { errors: "all" })(params)
    ),
    Effect.exit
  )

/** The error of a call whose parameters do not decode, listing each issue. */
const invalidParameters = (call: Call, cause: Cause.Cause<ParseResult.ParseError>): ToolCallError => {
  const failure = Cause.failureOption(cause)
  const issues = Option.isSome(failure) ? formatIssues(failure.value) : describe(Cause.squash(cause))
  return callError(
    call.name,
    "InvalidParameters",
    `invalid parameters for tool "${call.name}": ${issues}. Call it again with parameters that match its schema`
  )
}

/** A tool's policy as task options: only the tool's own failures are retried, and the classifier and schedule see them. */
export const taskOptions = (policy: Task.Options<any> | undefined): Task.Options<AttemptError> => {
  const retryWhile = policy?.retryWhile
  const schedule = policy?.schedule
  const overloaded = policy?.overloaded ?? Overload.detect
  return {
    ...policy,
    // Only the tool's own failures are retried (a broken result would break again).
    retryWhile: (e: AttemptError) => e._tag === "ToolFailure" && (retryWhile === undefined || retryWhile(e.failure)),
    // a 429 is the tool's own failure, inside our wrapper: the classifier sees the tool's failure
    overloaded: (e: AttemptError) => e._tag === "ToolFailure" ? overloaded(e.failure) : undefined,
    // the policy's schedule gets the tool's failure, as its type says, not our wrapper
    ...(schedule === undefined ? {} : {
      schedule: Schedule.mapInput(schedule, (e: AttemptError) => e._tag === "ToolFailure" ? e.failure : e)
    })
  }
}

/** The task of a checked call: one `handle` per attempt, under the tool's policy. */
const taskOf = (
  toolkit: Toolkit.WithHandler<Record<string, Tool.Any>>,
  policy: Task.Options<any> | undefined,
  call: Call,
  params: unknown
): Task.Task<Tool.HandlerResult<any>, AttemptError, any> => Task.make(taskName(call), attempt(toolkit, call.name, params), taskOptions(policy))

/**
 * Runs the calls through the scheduler, one task each, and returns one
 * `tool-result` part per call, in order. Never fails.
 */
export const run = (
  scheduler: Scheduler.Service,
  toolkit: Toolkit.WithHandler<Record<string, Tool.Any>>,
  policies: CheckedPolicies,
  calls: ReadonlyArray<Call>,
  options: Scheduler.RunOptions | undefined
): Effect.Effect<Array<Response.ToolResultPart<string, unknown, unknown>>, never, any> =>
  Effect.gen(function*() {
    const parts: Array<Response.ToolResultPart<string, unknown, unknown> | undefined> = []
    const tasks: Array<Task.Task<Tool.HandlerResult<any>, AttemptError, any>> = []
    const pending: Array<{ readonly index: number; readonly call: Call; readonly tool: Tool.Any }> = []
    for (const call of calls) {
      const tool = toolOf(toolkit, call.name)
      if (tool === undefined) {
        parts.push(errorPart(call, unknownTool(toolkit, call)))
        continue
      }
      const checked = yield* checkParams(tool, call)
      if (Exit.isFailure(checked)) {
        parts.push(errorPart(call, invalidParameters(call, checked.cause)))
        continue
      }
      pending.push({ index: parts.length, call, tool })
      parts.push(undefined)
      tasks.push(taskOf(toolkit, policies.get(call.name), call, checked.value))
    }
    if (tasks.length > 0) {
      const results = yield* scheduler.run(tasks, options)
      for (let i = 0; i < pending.length; i++) {
        const { call, index, tool } = pending[i]!
        parts[index] = yield* toPart(call, tool, results[i]!)
      }
    }
    return parts as Array<Response.ToolResultPart<string, unknown, unknown>>
  })

/**
 * Checks `resolve`'s options at once, naming `ToolRunner.resolve` (the
 * scheduler would only find a bad deadline once a call runs, as a defect).
 * A deadline takes what a timeout takes: a positive duration, or `Infinity`.
 */
export const checkResolveOptions = (where: string, options: unknown): void => {
  if (options === undefined) return
  const deadline = validate.record(where, "options", options).deadline
  if (deadline !== undefined) validate.durationMillis(where, "deadline", deadline)
}

/** Whether `u` is a {@link ToolCallError}. */
export const isToolCallError = (u: unknown): u is ToolCallError =>
  typeof u === "object" && u !== null && (u as { _tag?: unknown })._tag === "ToolCallError" &&
  typeof (u as { reason?: unknown }).reason === "string"

/** The `Scheduler` service from the context. */
export const scheduler = Scheduler.Scheduler
