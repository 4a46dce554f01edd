/**
 * The machinery behind `ToolRunner.runPlan`: a toolkit as the tools of a
 * toolfan `ToolPlan`, and each call's result as a `tool-result` part.
 *
 * Each tool of the toolkit becomes a `ToolPlan.tool` whose parameters are
 * the tool's parameters Schema: the engine substitutes the references and
 * decodes the arguments with it (refusing the call when they do not decode),
 * and the attempt encodes them back for `handle`, which runs the handler as
 * `resolve` does. What a reference reads of a call is its *encoded* result —
 * the JSON the model sees, so the paths it writes are paths in that JSON.
 */
import type * as Response from "@effect/ai/Response"
import type * as Tool from "@effect/ai/Tool"
import type * as Toolkit from "@effect/ai/Toolkit"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { type Scheduler, type TaskResult, ToolPlan } from "toolfan"
import { type AttemptError, attempt, type Call, callError, type CheckedPolicies, errorPart, taskOptions, type ToolCallError, toPart } from "./runner.js"

/** The toolkit's tools as a plan's tools, under their policies. */
const planTools = (toolkit: Toolkit.WithHandler<Record<string, Tool.Any>>, policies: CheckedPolicies): ToolPlan.Tools =>
  Object.fromEntries(Object.entries(toolkit.tools).map(([name, tool]) => {
    const schema = tool.parametersSchema as Schema.Schema<unknown, unknown>
    const run = (params: unknown) =>
      Effect.flatMap(Effect.orDie(Schema.encodeUnknown(schema)(params)), (encoded) => attempt(toolkit, name, encoded))
    const options = { ...taskOptions(policies.get(name)), output: (r: Tool.HandlerResult<any>) => r.encodedResult }
    return [name, ToolPlan.tool(schema, run, options as ToolPlan.ToolOptions<AttemptError, Tool.HandlerResult<any>>)]
  }))

/** How a refusal is told to the model. */
const reasonOf = (reason: ToolPlan.CallRefused["reason"]): ToolCallError["reason"] =>
  reason === "UnknownTool" ? "UnknownTool" : reason === "InvalidArguments" ? "InvalidParameters" : "InvalidPlan"

/** The part of one call of the plan, `raw` as it arrived. */
const partOf = (
  toolkit: Toolkit.WithHandler<Record<string, Tool.Any>>,
  raw: unknown,
  result: TaskResult.TaskResult<unknown, unknown>
): Effect.Effect<Response.ToolResultPart<string, unknown, unknown>> => {
  const tool = (raw as { readonly tool?: unknown } | null)?.tool
  const call: Call = { id: result.name, name: typeof tool === "string" ? tool : "", providerName: undefined, params: undefined, decoded: false }
  const error = result.error
  if (error?._tag === "TaskFailed" && ToolPlan.isCallRefused(error.error)) {
    return Effect.succeed(errorPart(call, callError(call.name, reasonOf(error.error.reason), error.error.message)))
  }
  const handler = toolkit.tools[call.name] as Tool.Any
  return toPart(call, handler, result as TaskResult.TaskResult<Tool.HandlerResult<any>, AttemptError>)
}

/**
 * Runs a plan of calls with the toolkit's tools: one `tool-result` part per
 * call, in arrival order, its `id` the call's id. Fails only if the stream
 * does.
 */
export const runPlan = <E, R>(
  toolkit: Toolkit.WithHandler<Record<string, Tool.Any>>,
  policies: CheckedPolicies,
  calls: Stream.Stream<ToolPlan.Call, E, R>,
  options: Scheduler.RunOptions | undefined
): Effect.Effect<Array<Response.ToolResultPart<string, unknown, unknown>>, E, any> =>
  Effect.suspend(() => {
    // the calls as they arrived, for their tool names (the results are in arrival order)
    const arrived: Array<unknown> = []
    const tapped = Stream.map(calls, (call) => {
      arrived.push(call)
      return call
    })
    return Effect.flatMap(
      ToolPlan.run(tapped, planTools(toolkit, policies), options),
      (results) => Effect.forEach(results, (result, i) => partOf(toolkit, arrived[i], result))
    )
  })
