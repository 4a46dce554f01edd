/**
 * The machinery behind `ToolPlan.run`: a plan of tool calls that arrives one
 * call at a time (from a model's streamed output), run as one open run.
 *
 * Why it works this way
 * ---------------------
 * LLMCompiler's task-fetching unit starts each call as soon as the calls it
 * references are done, while the planner is still writing the rest. So the
 * plan is never complete while it runs: the run stays open (`Run.add` for
 * each call as it arrives, `Run.close` when the stream ends), and a call
 * whose references have not all succeeded is added *held* and released —
 * made from the substituted, decoded arguments — by the result of the last
 * one (as `Plan.gate` does for a whole plan). A reference may name a call
 * that has not arrived yet: it waits for it.
 *
 * Every call gets exactly one result, in arrival order. What cannot run is
 * refused as that call's result (`TaskFailed` carrying a `CallRefused`, no
 * attempt made) and its dependents are skipped (`TaskSkipped`), never the
 * plan: a malformed call, a repeated id, an unknown tool, a malformed or
 * self reference, a cycle (found the moment its last call arrives: a new
 * cycle must pass through the new call), a reference to an id that had not
 * arrived when the stream ended, a path that is not in the output, and
 * arguments the tool's Schema refuses.
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FiberRef from "effect/FiberRef"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type * as Task from "../Task.js"
import { TaskFailed, TaskSkipped } from "../TaskError.js"
import type * as TaskResult from "../TaskResult.js"
import { describe } from "./describe.js"
import { traceOf } from "./observe.js"
import * as references from "./references.js"
import { currentWorker, type Job, parentOf, Run, type RunHost, type RunOptions, workerRuntime } from "./run.js"
import { onAbort } from "./signals.js"

/** Why a call was refused. @internal */
export const reasons = [
  "MalformedCall",
  "DuplicateId",
  "UnknownTool",
  "MalformedReference",
  "UnknownReference",
  "Cycle",
  "MissingPath",
  "InvalidArguments"
] as const

/** A call of a tool plan that was not run: public as `ToolPlan.CallRefused` (not tagged internal: `stripInternal` would drop the declaration that type refers to). */
export class CallRefused extends Schema.TaggedError<CallRefused>("toolfan/CallRefused")("CallRefused", {
  call: Schema.String,
  reason: Schema.Literal(...reasons),
  message: Schema.String
}) {}

/** A tool as the engine runs it. @internal */
export interface Tool {
  /** Its options, checked, as a task (named after the call when it runs). */
  readonly template: Task.Any
  /** The decoded arguments, or the issues as one line. */
  readonly decode: (args: unknown) => { readonly args: unknown } | string
  /** The call's task, from the named template and the decoded arguments. */
  readonly task: (template: Task.Any, args: unknown) => Task.Any
  /** What references read of a success (default: the value). */
  readonly output?: ((value: unknown) => unknown) | undefined
}

/**
 * The decoder of a parameters Schema, as the engine takes it: the issues as
 * one line (`url: Expected string, actual 3`). Synchronous: a Schema with an
 * asynchronous transformation refuses every call. @internal
 */
export const decoder = (parameters: Schema.Schema.AnyNoContext): Tool["decode"] => {
  const decode = Schema.decodeUnknownEither(parameters, { errors: "all" })
  return (args) => {
    const decoded = decode(args)
    if (Either.isRight(decoded)) return { args: decoded.right }
    return ParseResult.ArrayFormatter.formatErrorSync(decoded.left)
      .map((issue) => issue.path.length === 0 ? issue.message : `${issue.path.join(".")}: ${issue.message}`)
      .join("; ")
  }
}

interface Node {
  readonly id: string
  readonly index: number
  readonly tool: Tool
  readonly template: Task.Any
  readonly args: unknown
  /** Ids it still waits for. */
  readonly waiting: Set<string>
  state: "waiting" | "started" | "done"
}

/** A copy of a task with another name (the call's id). */
const named = (template: Task.Any, name: string): Task.Any => {
  const task = Object.create(Object.getPrototypeOf(template))
  Object.assign(task, template)
  task.name = name
  return task
}

/** The gating of one run of calls: arrivals, results, the stream's end. @internal */
export class Calls {
  private readonly nodes = new Map<string, Node>()
  private readonly byIndex: Array<Node | undefined> = []
  /** Outputs of the calls that succeeded, by id. */
  private readonly values = new Map<string, unknown>()
  /** Ids of calls that settled without a value. */
  private readonly failed = new Set<string>()
  /** Nodes waiting for an id (which may not have arrived yet). */
  private readonly waiters = new Map<string, Array<Node>>()
  private arrived = 0
  constructor(
    readonly run: Run,
    readonly tools: ReadonlyMap<string, Tool>,
    /** A task to name refused calls after (its options unused). */
    readonly base: Task.Any
  ) {}

  private refuseNew(name: string, reason: CallRefused["reason"], message: string): void {
    const index = this.run.add(named(this.base, name), true)
    this.run.skip(index, new TaskFailed({ task: name, error: new CallRefused({ call: name, reason, message }), attempts: 0 }))
  }

  private refuse(node: Node, reason: CallRefused["reason"], message: string): void {
    node.state = "done"
    const error = new CallRefused({ call: node.id, reason, message: `call "${node.id}": ${message}` })
    this.run.skip(node.index, new TaskFailed({ task: node.id, error, attempts: 0 }))
  }

  /** A call has arrived: checked, added, and started if it waits for nothing. */
  arrive(call: unknown): void {
    const k = this.arrived++
    if (this.run.progress !== undefined) this.run.progress.total++
    const c = typeof call === "object" && call !== null ? call as Record<string, unknown> : undefined
    const id = typeof c?.["id"] === "string" && c["id"] !== "" ? c["id"] : undefined
    const malformed = () => `not a call: expected { "id": "<unique id>", "tool": "<tool name>", "args": { ... } }, got ${describe(call)}`
    if (id === undefined) return this.refuseNew(`#${k}`, "MalformedCall", `call #${k} (position ${k} in the plan) is ${malformed()}`)
    if (this.nodes.has(id)) {
      return this.refuseNew(id, "DuplicateId", `call "${id}": the id "${id}" is already used by an earlier call of the plan; give each call its own id`)
    }
    const name = c!["tool"]
    const tool = typeof name === "string" ? this.tools.get(name) : undefined
    const template = named(tool?.template ?? this.base, id)
    // a node even when refused below: calls referencing its id are then skipped, not told it never came
    const node: Node = { id, index: this.run.add(template, true), tool: tool!, template, args: c!["args"], waiting: new Set(), state: "waiting" }
    this.nodes.set(id, node)
    this.byIndex[node.index] = node
    if (typeof name !== "string") return this.refuse(node, "MalformedCall", malformed())
    if (tool === undefined) {
      const available = [...this.tools.keys()].join(", ")
      return this.refuse(node, "UnknownTool", `unknown tool "${name}"; the available tools are: ${available}. Call one of them by its exact name`)
    }
    this.wire(node)
  }

  /** Registers what a new node waits for; starts it, refuses it or finds the cycle it closes. */
  private wire(node: Node): void {
    const refs = references.find(node.args)
    if (typeof refs === "string") return this.refuse(node, "MalformedReference", refs)
    for (const ref of refs) {
      if (ref.id === node.id) {
        return this.refuse(node, "Cycle", `${ref.at} references "${ref.text}", the call's own output; reference other calls only`)
      }
      if (this.failed.has(ref.id)) {
        node.state = "done"
        return this.run.skip(node.index, new TaskSkipped({ task: node.id, dependency: ref.id }))
      }
      if (this.values.has(ref.id) || node.waiting.has(ref.id)) continue
      node.waiting.add(ref.id)
      const list = this.waiters.get(ref.id)
      if (list === undefined) this.waiters.set(ref.id, [node])
      else list.push(node)
    }
    if (node.waiting.size === 0) return this.start(node)
    const cycle = this.cycleThrough(node)
    if (cycle === undefined) return
    const members = cycle.slice(0, -1).map((id) => this.nodes.get(id)!)
    // all marked first: a member's refusal must not skip the others, which are refused for the cycle too
    for (const m of members) m.state = "done"
    const text = cycle.join(" → ")
    for (const m of members) this.refuse(m, "Cycle", `its arguments depend on its own output through a cycle (${text}); a call may only reference calls that do not depend on it`)
  }

  /** A cycle of waiting calls through `node` (ids, `node` first and last), if its arrival closed one. */
  private cycleThrough(node: Node): Array<string> | undefined {
    const path: Array<string> = [node.id]
    const next: Array<Array<string>> = [[...node.waiting]]
    const seen = new Set<string>([node.id])
    while (path.length > 0) {
      const id = next[next.length - 1]!.pop()
      if (id === undefined) {
        path.pop()
        next.pop()
        continue
      }
      if (id === node.id) return [...path, id]
      const n = this.nodes.get(id)
      if (n === undefined || n.state !== "waiting" || seen.has(id)) continue
      seen.add(id)
      path.push(id)
      next.push([...n.waiting])
    }
    return undefined
  }

  /** Substitutes the references, decodes the arguments and releases the call's task — or refuses it. */
  private start(node: Node): void {
    const substituted = references.substitute(node.args, this.values)
    if (typeof substituted === "string") return this.refuse(node, "MissingPath", `${substituted}. Reference a path that exists in that output`)
    let decoded: { readonly args: unknown } | string
    try {
      decoded = node.tool.decode(substituted.value)
    } catch (error) {
      decoded = describe(error)
    }
    if (typeof decoded === "string") {
      return this.refuse(node, "InvalidArguments", `invalid arguments: ${decoded}. Call it again with arguments that match the tool's parameters`)
    }
    node.state = "started"
    this.run.release(node.index, node.tool.task(node.template, decoded.args))
  }

  /** A call settled (`RunOptions.onResult`): its waiters are released, or skipped. */
  readonly settled = (result: TaskResult.TaskResult<unknown, unknown>, index: number): void => {
    const node = this.byIndex[index]
    if (node === undefined) return
    this.byIndex[index] = undefined
    node.state = "done"
    if (result.ok) this.values.set(node.id, node.tool.output === undefined ? result.value : node.tool.output(result.value))
    else this.failed.add(node.id)
    const waiters = this.waiters.get(node.id)
    this.waiters.delete(node.id)
    // a cancelled run settles the rest itself (as interrupted)
    if (waiters === undefined || this.run.cancelled !== undefined) return
    for (const w of waiters) {
      if (w.state !== "waiting") continue
      if (!result.ok) {
        w.state = "done"
        this.run.skip(w.index, new TaskSkipped({ task: w.id, dependency: node.id }))
      } else if (w.waiting.delete(node.id) && w.waiting.size === 0) this.start(w)
    }
  }

  /** The stream ended: a call still waiting for an id that never came is refused. */
  end(): void {
    const ids = [...this.nodes.keys()].map((id) => JSON.stringify(id)).join(", ")
    for (const node of this.nodes.values()) {
      if (node.state !== "waiting") continue
      const missing = [...node.waiting].find((id) => !this.nodes.has(id))
      if (missing === undefined) continue
      const refs = references.find(node.args) as Array<references.Ref>
      const ref = refs.find((r) => r.id === missing)!
      this.refuse(
        node,
        "UnknownReference",
        `${ref.at} references "${ref.text}", but no call with id "${missing}" is in the plan (its ids: ${ids}). Reference the id of a call of the plan`
      )
    }
  }
}

/**
 * Runs the calls of `calls` as they arrive, as one run on `host`, and returns
 * every call's result in arrival order once the stream has ended and every
 * call has settled. The run's deadline and signal also stop the reading of
 * the stream; a failure of the stream cancels the run (its calls settle as
 * interrupted) and is the effect's failure. @internal
 */
export const execute = <E, R>(
  host: RunHost,
  calls: Stream.Stream<unknown, E, R>,
  tools: ReadonlyMap<string, Tool>,
  base: Task.Any,
  options: RunOptions,
  parent?: Job | undefined
): Effect.Effect<Array<TaskResult.TaskResult<unknown, unknown>>, E, any> => {
  const body = (parent: Job | undefined) =>
    Effect.flatMap(Effect.runtime<any>(), (runtime) => {
      const box: { calls?: Calls } = {}
      const onResult = (r: TaskResult.TaskResult<unknown, unknown>, i: number) => box.calls!.settled(r, i)
      const run = new Run(host, workerRuntime(runtime), { ...options, onResult }, parent, traceOf(runtime))
      const gate = box.calls = new Calls(run, tools, base)
      host.open(run)
      const feed = Stream.runForEach(calls, (call) =>
        Effect.sync(() => {
          gate.arrive(call)
          host.pump(undefined)
        }))
      const over = Effect.as(Deferred.await(run.over), run.results)
      let closed = false
      const close = (end: boolean) =>
        Effect.sync(() => {
          if (closed) return
          closed = true
          if (end && run.cancelled === undefined) gate.end()
          run.close()
          host.pump(undefined)
        })
      const cut = Effect.zipRight(Effect.sync(() => host.cancel(run, "interrupted")), close(false))
      return stopOf(host, run, options, feed).pipe(
        Effect.matchCauseEffect({
          onSuccess: () => Effect.zipRight(close(true), over),
          onFailure: (cause) => Effect.zipRight(cut, Effect.zipRight(Deferred.await(run.over), Effect.failCause(cause)))
        }),
        Effect.onInterrupt(() => Effect.zipRight(cut, Deferred.await(run.over)))
      )
    })
  return parent !== undefined
    ? body(parent)
    : Effect.flatMap(FiberRef.get(currentWorker), (owner) => body(parentOf(host, owner)))
}

/** `feed`, stopped early (succeeding) by the run's deadline or signal, which also cancel the run. */
const stopOf = <E, R>(host: RunHost, run: Run, options: RunOptions, feed: Effect.Effect<void, E, R>): Effect.Effect<void, E, R> => {
  const stops: Array<Effect.Effect<void>> = []
  if (options.deadlineMs !== Number.POSITIVE_INFINITY) {
    stops.push(Effect.zipRight(Effect.sleep(options.deadlineMs), Effect.sync(() => host.cancel(run, "deadline"))))
  }
  const signal = options.signal
  if (signal !== undefined) {
    stops.push(Effect.async<void>((resume) => {
      if (signal.aborted) return resume(Effect.void)
      const off = onAbort(signal, () => resume(Effect.void))
      return Effect.sync(off)
    }))
  }
  return stops.length === 0 ? feed : Effect.raceFirst(feed, Effect.raceAll(stops))
}
