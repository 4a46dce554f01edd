/**
 * The Promise API, for code that does not use Effect. Times are milliseconds.
 *
 * ```ts
 * import { Scheduler, Task } from "toolfan/promise"
 *
 * const scheduler = new Scheduler({ maxConcurrency: 8 })
 * const results = await scheduler.run([
 *   new Task("web", search, { args: ["agent observability"], timeout: 5000, retries: 2 })
 * ])
 * ```
 *
 * It runs on the same Effect core as the rest of toolfan, so every guarantee
 * holds: one result per task in input order, `run` never rejects, nothing
 * becomes an unhandled rejection. Bad options throw a `TypeError` or a
 * `RangeError` naming the option and the value.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { callBase, callStream, callTools, coreOptions, runOptions } from "./internal/promiseRun.js"
import { disposeByClosing, promiseEffect } from "./internal/promise.js"
import * as validate from "./internal/validate.js"
import { jsError, jsErrors } from "./internal/validate.js"
import * as CoreBatcher from "./Batcher.js"
import type { BatcherImpl } from "./internal/batcher.js"
import * as CoreScheduler from "./Scheduler.js"
import * as Overload from "./Overload.js"
import * as CorePlan from "./Plan.js"
import type * as Progress from "./Progress.js"
import * as CoreTask from "./Task.js"
import type { TaskError } from "./TaskError.js"
import type { TaskResult } from "./TaskResult.js"
import { type SharingOptions, withCoalesceKey } from "./internal/sharing.js"

export type {
  /**
   * The outcome of one task: `ok`, `name`, `value`, `error`, `attempts`,
   * `durationMs`, `waitMs`.
   *
   * @since 0.1.0
   * @category models
   */
  TaskResult
}

export type {
  /**
   * Why a task has no value: `TaskFailed` (its `cause` holds the thrown
   * value), `TaskTimedOut`, `TaskDefect`, `TaskInterrupted`, `TaskSkipped`.
   *
   * @since 0.1.0
   * @category models
   */
  TaskError
}

export type {
  /**
   * Progress events of a run (`onProgress`): `Progress.Event`,
   * `Progress.Counts`, `Progress.Listener`.
   *
   * @since 0.4.0
   */
  Progress
}

export {
  /**
   * Overload signals: `Overloaded` (throw it for a 429), `retryAfterMs(headers)`,
   * `detect` (the default classifier). A wait they give delays the retry and
   * pauses the task's group.
   *
   * @since 0.3.0
   */
  Overload
}

export type { SharingOptions } from "./internal/sharing.js"

/**
 * The idempotency key of the task whose running attempt was given `signal`:
 * the same for its retries and its hedge, different for every task of every
 * run. Pass it to a provider that dedupes by key (an `Idempotency-Key`
 * header); `undefined` when no attempt runs with that signal.
 *
 * @since 0.5.0
 * @category idempotency
 */
export const idempotencyKey = (signal: AbortSignal): string | undefined => CoreTask.idempotencyKeyOf(signal)

/** The options of a Promise API `Task`: the core's, with `args` and `backoff` (a `schedule` is refused before). */
const taskOptionKeys: ReadonlySet<string> = new Set(["args", "backoff", ...CoreTask.optionKeys])

/**
 * Options of a {@link Task}.
 *
 * @since 0.1.0
 * @category models
 */
export interface TaskOptions<Args extends ReadonlyArray<unknown>> extends SharingOptions<Args> {
  /** Arguments for `fn`; it is called as `fn(...args, signal)`. Required when `fn` takes arguments. */
  readonly args?: Args | undefined
  /** Time limit of each attempt in milliseconds (positive; `Infinity` = none). Default: none. */
  readonly timeout?: number | undefined
  /** Extra attempts after a failure or a timeout. An integer ≥ 0. Default: `0`. */
  readonly retries?: number | undefined
  /** Decides which failures are retried (timeouts always are). Default: every failure. */
  readonly retryWhile?: ((error: unknown) => boolean) | undefined
  /**
   * The wait before each retry, in ms, from the number of the attempt that
   * failed (1 for the first) and its error (the thrown value, or a
   * `TaskTimedOut`). A finite number ≥ 0; a throw or another value ends the
   * task as a `TaskDefect`. An overload's Retry-After still applies: the
   * retry waits the longer of the two. Default: exponential from 100 ms,
   * factor 2, jittered, capped at 10 s. @since 0.4.0
   */
  readonly backoff?: ((attempt: number, error: unknown) => number) | undefined
  /** Higher starts first among waiting tasks. Default: `0`. */
  readonly priority?: number | undefined
  /** A key with its own cap (see the scheduler's `groups`). Default: none. */
  readonly group?: string | undefined
  /**
   * Whether a failure says the provider is overloaded and how long to wait
   * (`{ retryAfterMs }`), or `undefined`. Default: `Overload.detect` (an
   * `Overloaded`, or an error with status 429 and `Retry-After` headers).
   */
  readonly overloaded?: ((error: unknown) => Overload.Signal | undefined) | undefined
  /** The longest wait an overload may ask for, in ms; longer fails the task at once. Default: 120000. */
  readonly maxRetryAfter?: number | undefined
  /** What a start costs a group limit that counts cost (e.g. estimated tokens). Default: `1`. */
  readonly cost?: number | undefined
  /** The real cost of a success, read from its value (e.g. its token usage); corrects `cost`. Default: none. */
  readonly actualCost?: ((value: any) => number) | undefined
}

/**
 * The arguments a task function takes before its optional trailing
 * `AbortSignal`: `(q: string, n: number, signal?: AbortSignal) => …` gives
 * `[q: string, n: number]`.
 *
 * @since 0.1.0
 * @category type-level
 */
export type ArgsOf<F> = F extends (...args: infer P) => any
  ? Required<P> extends [...infer Init, AbortSignal] ? Init : P
  : never

/**
 * The value a task function produces (its promise's value).
 *
 * @since 0.1.0
 * @category type-level
 */
export type ValueOf<F> = F extends (...args: any) => infer R ? Awaited<R> : never

/** Options are optional for a function without arguments, and `args` is required otherwise. */
type TaskOptionsFor<F> = ArgsOf<F> extends readonly [] ? [options?: TaskOptions<[]> | undefined]
  : [options: TaskOptions<ArgsOf<F>> & { readonly args: ArgsOf<F> }]

/**
 * A task: a name, a function returning a Promise (or a value), its arguments
 * and policies. `fn` is called as `fn(...args, signal)` on each attempt; the
 * `AbortSignal` is aborted when the attempt times out or the run ends early.
 * A function that declares no parameter beyond `args` gets no signal (one
 * `AbortController` fewer per call).
 *
 * @example
 * ```ts
 * import { Task } from "toolfan/promise"
 *
 * const search = async (query: string, signal?: AbortSignal) =>
 *   (await fetch(`https://example.com/?q=${query}`, { signal })).json()
 * const task = new Task("web", search, { args: ["agents"], timeout: 5000, retries: 2 })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export class Task<F extends (...args: any) => unknown = (...args: any) => unknown> {
  /** The core task it is (itself: one object per task, not two). @internal */
  get core(): CoreTask.Task<ValueOf<F>, unknown> {
    return this as unknown as CoreTask.Task<ValueOf<F>, unknown>
  }

  constructor(readonly name: string, readonly fn: F, ...[options]: TaskOptionsFor<F>) {
    // made per call on the hot path: no closure for the checks, no copy of the options
    try {
      validate.func("Task", "fn", fn)
      const o = options === undefined ? undefined : coreOptions("Task", name, validate.record("Task", "options", options) as TaskOptions<ReadonlyArray<unknown>>)
      const args = o?.args ?? []
      if (!Array.isArray(args)) validate.invalid("Task", "args", "an array", args, "type")
      const call = fn as unknown as (...args: ReadonlyArray<unknown>) => PromiseLike<ValueOf<F>> | ValueOf<F>
      // a function that declares no more parameters than its arguments gets no signal; without arguments, no spread
      const evaluate = call.length > args.length
        ? args.length === 0 ? call as (signal: AbortSignal) => PromiseLike<ValueOf<F>> | ValueOf<F> : (signal: AbortSignal) => call(...args, signal)
        : args.length === 0 ? call as () => PromiseLike<ValueOf<F>> | ValueOf<F> : () => call(...args)
      // a key made from the arguments only for `coalesce: true` or a function (no call on the hot path otherwise)
      const core = o?.coalesce === undefined || typeof o.coalesce === "string" ? o : withCoalesceKey(name, o, args)
      CoreTask.makeAt("Task", name, undefined, core, evaluate, taskOptionKeys, this)
    } catch (error) {
      throw jsError(error)
    }
  }
}

// a Promise API task is a core promise task (its fields are set by `makeAt`): its prototype's is a promise task's
Object.setPrototypeOf(Task.prototype, CoreTask.PromiseTaskProto)

/**
 * Options of a {@link Scheduler}.
 *
 * @since 0.1.0
 * @category models
 */
export interface SchedulerOptions {
  /** Most attempts in flight at once. An integer ≥ 1 or `Infinity`. Default: `10`. */
  readonly maxConcurrency?: number | undefined
  /**
   * Per-group limits: a cap such as `{ search: 2 }`, or a `GroupLimit` (a rate
   * limit, or a limit shared through Redis with `@toolfan/redis`). Default: `{}`.
   */
  readonly groups?: CoreScheduler.Options["groups"]
  /**
   * Most tasks waiting for a slot (or their group) at once, beyond those the
   * free slots take: a task beyond it is refused at once as `TaskInterrupted`
   * with reason `"queueFull"` (load shedding). An integer ≥ 0 or `Infinity`.
   * Default: `Infinity`. @since 0.4.0
   */
  readonly maxQueued?: number | undefined
}

/**
 * Options of one run.
 *
 * @since 0.1.0
 * @category models
 */
export interface RunOptions {
  /**
   * Milliseconds until the run returns regardless; unfinished tasks are
   * aborted and reported as `TaskInterrupted`. Default: none.
   */
  readonly deadline?: number | undefined
  /**
   * Aborting this signal ends the run early: unfinished tasks are aborted and
   * reported as `TaskInterrupted`, and `run` resolves with every result.
   *
   * Pass the signal your task function received when it starts a run on the
   * same scheduler: the nested run then borrows the task's slot while it
   * runs, so nested runs never deadlock on the cap (and aborting the task
   * aborts its nested run). Default: none.
   */
  readonly signal?: AbortSignal | undefined
  /**
   * The signal of the task this run is nested in, when the run's `signal` is
   * another one: code that gets the task's signal by another way than its
   * own argument (e.g. from an `AsyncLocalStorage`, as an adapter that runs
   * an agent inside a tool does) and a cancellation signal of its own. The
   * run borrows that task's slot and is cut with it, and `signal` still
   * cancels it. Default: `signal`.
   */
  readonly parent?: AbortSignal | undefined
  /**
   * The most cost the run's attempts may take, in the tasks' `cost` (e.g.
   * estimated tokens; retries count again). Once spent, what has not started
   * is reported as `TaskInterrupted` with reason `"budget"`; running tasks go
   * on. A finite number ≥ 0. Default: no limit.
   */
  readonly budget?: number | undefined
  /**
   * Told of each attempt's start, each retry and each task's settlement, with
   * the run's counts (`total`, `queued`, `running`, `done`, `failed`).
   * Called in a microtask, in order, all before the run resolves; a throw is
   * reported once per run with `console.error` and never affects the run.
   * Default: none (and no cost). @since 0.4.0
   */
  readonly onProgress?: Progress.Listener | undefined
}

type Results<T extends ReadonlyArray<Task<any>>> = {
  -readonly [K in keyof T]: T[K] extends Task<infer F> ? TaskResult<ValueOf<F>, unknown> : never
}

/**
 * A tool of `runCalls`: `run(args, signal)` gets the call's arguments, its
 * references substituted and decoded with `parameters` — an `effect/Schema`,
 * or a function returning the arguments or throwing (e.g. a zod schema's
 * `parse`; the message is the refusal's) — or as they are without it.
 * `output` is what references to its calls read (default: the value). Its
 * other options are a {@link Task}'s (without `args`).
 *
 * @since 0.5.0
 * @category models
 */
export interface CallTool<A = unknown> extends Omit<TaskOptions<[]>, "args"> {
  readonly parameters?: import("effect/Schema").Schema<any, any, never> | ((args: unknown) => any) | undefined
  readonly run: (args: any, signal: AbortSignal) => PromiseLike<A> | A
  readonly output?: ((value: A) => unknown) | undefined
}

export type {
  /**
   * One call of a plan a model writes: `{ id, tool, args }`; `args` may
   * reference other calls' outputs (`"$search.items.0.url"`). See `runCalls`.
   *
   * @since 0.5.0
   * @category models
   */
  Call
} from "./ToolPlan.js"

export {
  /**
   * Whether a value is a `CallRefused`: why a call of `runCalls` was not run
   * (`reason`, and a `message` for the model). @since 0.5.0
   */
  isCallRefused
} from "./ToolPlan.js"

/**
 * A task of a plan given to `runPlan` that uses the values of others: the
 * names of its `dependencies` (keys of the plan), and `run(values, signal)`,
 * called once they have all succeeded, with their values by name. Its other
 * options are a {@link Task}'s (without `args`).
 *
 * @since 0.4.0
 * @category models
 */
export interface PlanStep<A = unknown> extends Omit<TaskOptions<[]>, "args"> {
  readonly dependencies?: ReadonlyArray<string> | undefined
  readonly run: (values: Readonly<Record<string, unknown>>, signal: AbortSignal) => PromiseLike<A> | A
}

/**
 * A plan: tasks by name — a {@link Task} (named as its key) or a
 * {@link PlanStep} with dependencies — in any order.
 *
 * @since 0.4.0
 * @category models
 */
export type Plan = Readonly<Record<string, Task<any> | PlanStep<any>>>

/**
 * The results of a plan, keyed by name.
 *
 * @since 0.4.0
 * @category type-level
 */
export type PlanResults<P extends Plan> = {
  -readonly [K in keyof P]: P[K] extends Task<infer F> ? TaskResult<ValueOf<F>, unknown>
    : P[K] extends { readonly run: (...args: any) => infer R } ? TaskResult<Awaited<R>, unknown>
    : never
}

const stepKeys: ReadonlySet<string> = new Set(["dependencies", "run", ...taskOptionKeys])

/** A Promise API plan as the core's: a `Task` is a node as it is, a step a promise task made from its dependencies' values. */
const corePlan = (where: string, plan: unknown) =>
  CorePlan.fromRecord(where, validate.record(where, "plan", plan), (where, name, entry) => {
    if (entry instanceof Task) {
      if (entry.name !== name) validate.invalid(where, `plan.${name}`, `a Task named "${name}" (its key)`, entry.name, "range")
      return { dependencies: [], node: () => ({ task: entry.core, make: undefined }) }
    }
    const step = validate.record(where, `plan.${name}`, entry) as unknown as PlanStep
    if ("args" in step) validate.invalid(where, `plan.${name}.args`, "left out (`run` receives the dependencies' values)", step.args, "type")
    const call = validate.func<PlanStep["run"]>(where, `plan.${name}.run`, step.run)
    return {
      dependencies: step.dependencies,
      node: () => ({ task: CoreTask.makeAt(where, name, undefined, coreOptions(where, name, step), call as never, stepKeys), make: undefined, call })
    }
  }).nodes

const callToolKeys: ReadonlySet<string> = new Set(["backoff", ...CoreTask.optionKeys])

/** The core tasks of a Promise API run. */
const coreTasks = (where: string, tasks: unknown): Array<CoreTask.Any> => {
  if (!Array.isArray(tasks)) validate.invalid(where, "tasks", "an array of Task", tasks, "type")
  // an index loop: `map` would skip the holes of a sparse array
  const core: Array<CoreTask.Any> = []
  for (let i = 0; i < (tasks as Array<unknown>).length; i++) {
    const t: unknown = (tasks as Array<unknown>)[i]
    core.push(t instanceof Task ? t.core : validate.invalid(where, `tasks[${i}]`, "a Task", t, "type"))
  }
  return core
}


/**
 * Runs tasks in parallel under a concurrency cap. One scheduler's cap holds
 * across all its runs. Call `close()` when done with it.
 *
 * @since 0.1.0
 * @category constructors
 */
export class Scheduler {
  readonly #scope: Scope.CloseableScope
  readonly #service: CoreScheduler.Service
  readonly #internals: CoreScheduler.Internals
  #closing: Promise<void> | undefined = undefined

  constructor(options?: SchedulerOptions | undefined) {
    const scope = Effect.runSync(Scope.make())
    // group limits start in the background (their tasks wait for them); bad options throw here, at once
    const exit = Effect.runSyncExit(Scope.extend(CoreScheduler.makeAt("Scheduler", options, false), scope))
    if (Exit.isFailure(exit)) {
      Effect.runSync(Scope.close(scope, Exit.void))
      jsErrors(() => {
        throw Cause.squash(exit.cause)
      })
    }
    this.#scope = scope
    this.#service = Effect.runSync(exit)
    this.#internals = CoreScheduler.internals.get(this.#service)!
  }

  /**
   * Runs the tasks; resolves with one result per task, in input order. Never
   * rejects: failures are in the results. Invalid arguments throw at once (a
   * `TypeError` or `RangeError`). Tasks of a group whose limit is still
   * starting wait for it (the run's deadline and signal still apply); if the
   * start fails, or `close()` stops it, they are `TaskInterrupted`
   * (`"shutdown"`).
   */
  run<const T extends ReadonlyArray<Task<any>>>(tasks: T, options?: RunOptions | undefined): Promise<Results<T>> {
    const [core, o] = jsErrors(() => [coreTasks("scheduler.run", tasks), runOptions("scheduler.run", options)] as const)
    return Effect.runPromise(this.#internals.run(core, o)) as Promise<any>
  }

  /**
   * Runs the tasks and yields each result as it settles (completion order):
   * `for await (const r of scheduler.stream(tasks))`. The tasks start when
   * the iteration does. Leaving the loop early (`break`, `return`, a throw)
   * interrupts the tasks still running or waiting — their signals are
   * aborted, and they have settled when the loop is left. Options and
   * invalid arguments as `run`'s.
   */
  stream<T extends Task<any>>(
    tasks: ReadonlyArray<T>,
    options?: RunOptions | undefined
  ): AsyncIterable<T extends Task<infer F> ? TaskResult<ValueOf<F>, unknown> : never> {
    const [core, o] = jsErrors(() => [coreTasks("scheduler.stream", tasks), runOptions("scheduler.stream", options)] as const)
    return Stream.toAsyncIterable(this.#internals.stream(core, o)) as AsyncIterable<any>
  }

  /**
   * Runs a plan: tasks by name, each a {@link Task} or a {@link PlanStep}
   * (`{ dependencies, run(values, signal), ...options }`), as the Effect
   * API's `Plan.make`. A task starts the moment all its dependencies have
   * succeeded (not in waves) and receives their values; a task whose
   * dependency did not succeed does not run and reports `TaskSkipped` naming
   * it. Resolves with every result keyed by name; never rejects. Unknown
   * dependencies and cycles throw at once (a `RangeError` naming them).
   */
  runPlan<const P extends Plan>(plan: P, options?: RunOptions | undefined): Promise<PlanResults<P>> {
    const [nodes, o] = jsErrors(() => [corePlan("scheduler.runPlan", plan), runOptions("scheduler.runPlan", options)] as const)
    return Effect.runPromise(this.#internals.runPlan(nodes, o)) as Promise<any>
  }

  /**
   * Runs a plan of tool calls `{ id, tool, args }` as they arrive, as the
   * Effect API's `ToolPlan.run` (see docs/plans.md); rejects only if the
   * iterable throws. @since 0.5.0
   */
  runCalls<const T extends Readonly<Record<string, CallTool<any>>>>(
    calls: Iterable<import("./ToolPlan.js").Call> | AsyncIterable<import("./ToolPlan.js").Call>,
    tools: T,
    options?: RunOptions | undefined
  ): Promise<Array<TaskResult<T[keyof T] extends CallTool<infer A> ? A : never, unknown>>> {
    const where = "scheduler.runCalls"
    const template = (name: string, o: Record<string, unknown>) =>
      CoreTask.makeAt(where, name, undefined, coreOptions(where, name, o), () => undefined, callToolKeys)
    const [stream, registry, o] = jsErrors(() => [callStream(where, calls), callTools(where, tools, template), runOptions(where, options)] as const)
    return Effect.runPromise(this.#internals.runCalls(stream, registry, callBase, o)) as Promise<any>
  }

  /**
   * Resolves once nothing is queued, backing off or running on this
   * scheduler (at once if nothing is), as p-queue's `onIdle`.
   */
  onIdle(): Promise<void> {
    return Effect.runPromise(this.#service.idle)
  }

  /**
   * Cancels the waiting work — tasks waiting for a slot or their group, for
   * a retry, or for their dependencies in a plan — of every run: each settles
   * at once as `TaskInterrupted` with reason `"cleared"` (so its run
   * resolves; nobody hangs). Running tasks go on. Returns how many it cleared.
   */
  clear(): number {
    return Effect.runSync(this.#service.clear)
  }

  /** Attempts in flight, tasks waiting for a slot, tasks waiting out a backoff. */
  stats(): CoreScheduler.Stats {
    return Effect.runSync(this.#service.stats)
  }

  /**
   * Shuts the scheduler down: tasks still running or queued are aborted and
   * reported as `TaskInterrupted` (reason `"shutdown"`), and the returned
   * promise resolves once they have settled. Runs started after `close()`
   * resolve at once with every task `TaskInterrupted`.
   */
  close(): Promise<void> {
    // every call gets the same promise: a second close() must also wait for the shutdown
    return this.#closing ??= Effect.runPromise(Scope.close(this.#scope, Exit.void))
  }

  /** `close()`, for `await using scheduler = new Scheduler()`. */
  declare [Symbol.asyncDispose]: () => Promise<void>
}

/**
 * Options of a {@link MicroBatcher}. Times are milliseconds.
 *
 * @since 0.1.0
 * @category models
 */
export interface MicroBatcherOptions<I> {
  /** Most items in one batch. An integer ≥ 1. Default: `16`. */
  readonly maxSize?: number | undefined
  /** Longest a batch waits for more items after its first one, in ms (positive, finite). Default: `20`. */
  readonly maxWait?: number | undefined
  /** Dedupes identical items within a window (equal keys are sent once). Default: none. */
  readonly key?: ((item: I) => unknown) | undefined
  /** Most batch calls in flight at once. An integer ≥ 1 or `Infinity`. Default: `Infinity`. */
  readonly maxBatchesInFlight?: number | undefined
  /** Time limit of each batch call in ms; its signal is aborted on expiry. Default: none. */
  readonly timeout?: number | undefined
  /** Extra attempts of a batch call after a failure or a timeout. Default: `0`. */
  readonly retries?: number | undefined
  /** Decides which batch failures are retried (timeouts always are). Default: every failure. */
  readonly retryWhile?: ((error: unknown) => boolean) | undefined
  /** A name for error messages. Default: `"batcher"`. */
  readonly name?: string | undefined
}

const microBatcherKeys: ReadonlySet<string> = new Set([
  "maxSize",
  "maxWait",
  "key",
  "maxBatchesInFlight",
  "timeout",
  "retries",
  "retryWhile",
  "name"
])

/**
 * Micro-batching without Effect: `submit` calls made close together are sent
 * to `batchFn` as one batch — when `maxSize` items are waiting, or `maxWait`
 * ms after the first one. `batchFn(items, signal)` returns one output per
 * item, in order; an `Error` instance in place of an output rejects that item
 * alone (as with dataloader). If `batchFn` throws or rejects, every item of
 * the batch rejects with that error; if it returns the wrong number of
 * outputs, every item rejects with a `BatchOutputMismatch`. Nobody is left
 * waiting.
 *
 * @example
 * ```ts
 * import { MicroBatcher } from "toolfan/promise"
 *
 * const classify = new MicroBatcher(
 *   async (texts: ReadonlyArray<string>) => texts.map((t) => (t.includes("!") ? "angry" : "calm")),
 *   { maxSize: 16, maxWait: 20 }
 * )
 * const labels = await Promise.all(["hi", "no!"].map((t) => classify.submit(t)))
 * await classify.close()
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export class MicroBatcher<I, O> {
  readonly #scope: Scope.CloseableScope
  readonly #impl: BatcherImpl
  #closing: Promise<void> | undefined = undefined

  constructor(
    batchFn: (items: ReadonlyArray<I>, signal: AbortSignal) => PromiseLike<ReadonlyArray<O | Error>> | ReadonlyArray<O | Error>,
    options?: MicroBatcherOptions<I> | undefined
  ) {
    jsErrors(() => validate.func("MicroBatcher", "batchFn", batchFn))
    const o = options === undefined ? {} : jsErrors(() => {
      const record = validate.record("MicroBatcher", "options", options)
      validate.knownKeys("MicroBatcher", record, microBatcherKeys)
      return record
    })
    // an Error in place of an output fails that item alone: the batcher checks outputs as it spreads them, so
    // `batchFn` is its batch call as it is (no pass over the outputs, no promise step per batch)
    const run = (items: ReadonlyArray<I>) => promiseEffect((signal) => batchFn(items, signal))
    const scope = Effect.runSync(Scope.make())
    const exit = Effect.runSyncExit(Scope.extend(CoreBatcher.makeAt("MicroBatcher", { ...o, run }, batchFn), scope))
    if (Exit.isFailure(exit)) {
      Effect.runSync(Scope.close(scope, Exit.void))
      jsErrors(() => {
        throw Cause.squash(exit.cause)
      })
    }
    this.#scope = scope
    this.#impl = CoreBatcher.impls.get(Effect.runSync(exit))!
  }

  /**
   * Submits one item; resolves with its output, or rejects with the batch's
   * error, the item's own `Error`, or one of toolfan's (`BatchOutputMismatch`,
   * `TaskTimedOut`, `BatcherClosed`, ...).
   */
  submit(item: I): Promise<O> {
    // the promise's own resolvers wait in the window: no Either per item. The executor is one function
    // for all submits, reading the item from a field (a promise calls its executor at once): an executor
    // closing over `item` is a closure and a context per item: measured 650 → 550 bytes allocated per
    // submit, and ~0.1 of the ratio to dataloader's `load` (the time is mostly the collector's)
    this.#item = item
    return new Promise<O>(this.#executor)
  }

  /** The item of the `submit` in progress, for {@link #executor}. */
  #item: unknown = undefined
  readonly #executor = (resolve: (value: O) => void, reject: (error: unknown) => void): void => {
    const item = this.#item
    this.#item = undefined
    this.#impl.add(item, resolve, reject)
  }

  /**
   * Sends what is pending, waits for the batches in flight, and refuses later
   * submits (they reject with `BatcherClosed`).
   */
  close(): Promise<void> {
    // every call gets the same promise: a second close() must also wait for the batches in flight
    return this.#closing ??= Effect.runPromise(Scope.close(this.#scope, Exit.void))
  }

  /** `close()`, for `await using batcher = new MicroBatcher(...)`. */
  declare [Symbol.asyncDispose]: () => Promise<void>
}

// set here, not in the classes: `Symbol.asyncDispose` may be missing at run time (then its registered stand-in)
disposeByClosing(Scheduler.prototype, MicroBatcher.prototype)
