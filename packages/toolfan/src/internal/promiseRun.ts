/**
 * The Promise API's run inputs, checked and turned into the core's: a run's
 * options, and the calls and tools of `scheduler.runCalls`.
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Scheduler from "../Scheduler.js"
import * as Task from "../Task.js"
import { decoder, type Tool } from "./calls.js"
import { describe } from "./describe.js"
import { backoffSchedule } from "./promise.js"
import type { RunOptions } from "./run.js"
import * as validate from "./validate.js"

const runOptionKeys: ReadonlySet<string> = new Set(["deadline", "signal", "parent", "budget", "onProgress"])

/** A Promise API run's options (`deadline` in ms, `signal`, ...), checked, as the core takes them. @internal */
export const runOptions = (where: string, options: unknown): RunOptions => {
  const o = options === undefined ? {} : validate.record(where, "options", options) as Scheduler.RunOptions & { readonly signal?: unknown }
  validate.knownKeys(where, o as Record<string, unknown>, runOptionKeys)
  const checked = Scheduler.checkRunOptions(where, { deadline: o.deadline, budget: o.budget, onProgress: o.onProgress })
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) validate.invalid(where, "signal", "an AbortSignal", o.signal, "type")
  const parent = (o as { readonly parent?: unknown }).parent
  if (parent === undefined) return { ...checked, signal: o.signal as AbortSignal | undefined }
  if (!(parent instanceof AbortSignal)) return validate.invalid(where, "parent", "an AbortSignal (a task's)", parent, "type")
  // cut when its parent attempt is, as a run given the attempt's signal is
  const signal = o.signal === undefined || o.signal === parent ? parent : AbortSignal.any([o.signal as AbortSignal, parent])
  return { ...checked, signal, parent }
}

/**
 * An AsyncIterable as a stream. Unlike `Stream.fromAsyncIterable`, stopping
 * early (a deadline, an aborted signal) does not wait for the iterator's
 * `return()`: an async generator waiting inside its body (a model that has not
 * written its next call) settles `return()` only once that wait ends, which
 * may be never. `return()` is still called, and its rejection ignored.
 */
const fromAsync = (iterable: AsyncIterable<unknown>): Stream.Stream<unknown, unknown> =>
  Stream.unwrapScoped(Effect.map(
    Effect.acquireRelease(Effect.sync(() => iterable[Symbol.asyncIterator]()), (iterator) =>
      Effect.sync(() => {
        if (iterator.return !== undefined) Promise.resolve().then(() => iterator.return!()).catch(() => {})
      })),
    (iterator) =>
      Stream.repeatEffectOption(Effect.flatMap(
        Effect.tryPromise({ try: () => iterator.next(), catch: (e) => Option.some(e) }),
        (r) => r.done === true ? Effect.fail(Option.none()) : Effect.succeed(r.value)
      ))
  ))

/** The calls of `runCalls` as a stream: an Iterable, or an AsyncIterable (whose failure fails the run). @internal */
export const callStream = (where: string, calls: unknown): Stream.Stream<unknown, unknown> =>
  Predicate.hasProperty(calls, Symbol.asyncIterator)
    ? fromAsync(calls as AsyncIterable<unknown>)
    : Predicate.isIterable(calls)
    ? Stream.fromIterable(calls)
    : validate.invalid(where, "calls", "an Iterable or an AsyncIterable of calls", calls, "type")

/** How a Promise API tool's `parameters` decode: a Schema, a function that returns the arguments or throws, or none. */
const decodeWith = (where: string, name: string, parameters: unknown): Tool["decode"] => {
  if (parameters === undefined) return (args) => ({ args })
  if (Schema.isSchema(parameters)) return decoder(parameters as Schema.Schema.AnyNoContext)
  const parse = validate.func<(args: unknown) => unknown>(where, `tools.${name}.parameters`, parameters)
  return (args) => {
    try {
      return { args: parse(args) }
    } catch (error) {
      return error instanceof Error ? error.message : describe(error)
    }
  }
}

/**
 * The tools of `runCalls` as the engine takes them: each `{ parameters?,
 * run(args, signal), output?, ...task options }`, its options checked by
 * `template` (the Promise API's task checks). @internal
 */
export const callTools = (
  where: string,
  tools: unknown,
  template: (name: string, options: Record<string, unknown>) => Task.Any
): Map<string, Tool> => {
  const checked = new Map<string, Tool>()
  for (const [name, entry] of Object.entries(validate.record(where, "tools", tools))) {
    const { output, parameters, run, ...options } = validate.record(where, `tools.${name}`, entry)
    const call = validate.func<(args: unknown, signal: AbortSignal) => unknown>(where, `tools.${name}.run`, run)
    if (output !== undefined) validate.func(where, `tools.${name}.output`, output)
    checked.set(name, {
      template: template(name, options),
      decode: decodeWith(where, name, parameters),
      // a function that declares no signal parameter gets none (one AbortController fewer)
      task: (named, args) => Task.withEvaluate(named, call.length < 2 ? () => call(args, undefined as never) : (signal) => call(args, signal)),
      output: output as Tool["output"]
    })
  }
  return checked
}

/** The task refused calls are named after. @internal */
export const callBase: Task.Any = Task.makeAt("scheduler.runCalls", "call", Effect.void, undefined)

/**
 * A task's options as the core takes them: a `schedule` is refused (the
 * Promise API takes `backoff`, a function), and a `backoff` becomes one.
 * The options themselves when there is none (no copy on the hot path). @internal
 */
export const coreOptions = <O extends { readonly backoff?: ((attempt: number, error: unknown) => number) | undefined }>(
  where: string,
  name: unknown,
  o: O
): O => {
  if ("schedule" in o) {
    const expected = "left out (the Promise API takes `backoff`, a function of the attempt and the error)"
    validate.invalid(where, "options.schedule", expected, (o as { schedule?: unknown }).schedule, "type")
  }
  if (o.backoff === undefined) return o
  return { ...o, schedule: backoffSchedule(name, validate.func(where, "backoff", o.backoff)) }
}
