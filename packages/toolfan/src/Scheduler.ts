/**
 * The `Scheduler` service runs tasks in parallel under a concurrency cap, with
 * per-attempt timeouts, retries, priorities and per-group caps, and returns one
 * {@link TaskResult} per task. `run` never fails.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import * as Exit from "effect/Exit"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Queue from "effect/Queue"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as GroupLimit from "./GroupLimit.js"
import type { InvalidOption } from "./InvalidOption.js"
import { pools } from "./internal/keys.js"
import * as internal from "./internal/pool.js"
import { Adaptive } from "./internal/adaptive.js"
import { type Admission, Cap, type Host, Limited } from "./internal/admission.js"
import * as calls from "./internal/calls.js"
import * as runs from "./internal/run.js"
import * as validate from "./internal/validate.js"
import * as Plan from "./Plan.js"
import type * as Progress from "./Progress.js"
import * as Task from "./Task.js"
import type * as TaskResult from "./TaskResult.js"

/**
 * Options of a scheduler.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * Most task attempts in flight at once, across every run that shares this
   * scheduler. An integer ≥ 1, or `Infinity`. Default: `10`.
   */
  readonly maxConcurrency?: number | undefined
  /**
   * Per-group limits. A number is a concurrency cap kept in this scheduler:
   * `{ search: 2 }` lets at most 2 tasks of group `"search"` run at once
   * (they also count against `maxConcurrency`); an integer ≥ 1, or
   * `Infinity`. A {@link GroupLimit.GroupLimit} is a richer limit: a rate
   * limit (`GroupLimit.rate`) or a limit shared by many processes
   * (`@toolfan/redis`), started with the scheduler and stopped with it. A
   * task waiting for its group holds no global slot. Tasks whose group is not
   * listed have no limit of their own. Default: `{}`.
   */
  readonly groups?: Readonly<Record<string, number | GroupLimit.GroupLimit>> | undefined
  /**
   * Most tasks waiting for a slot (or their group's cap) at once, across every
   * run, beyond those the free slots take at once: a task that would wait
   * beyond it is refused at once, reported as `TaskInterrupted` with reason
   * `"queueFull"` (load shedding). A task coming back from a backoff is
   * never refused. An integer ≥ 0, or `Infinity`. Default: `Infinity`.
   * @since 0.4.0
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
   * Time limit for the whole run, from its start. At the deadline `run`
   * returns every result: unfinished tasks (running, queued or backing off)
   * are interrupted — their signals aborted and finalizers run before `run`
   * returns — and reported as `TaskInterrupted` with reason `"deadline"`.
   * A positive duration; default: none.
   */
  readonly deadline?: import("effect/Duration").DurationInput | undefined
  /**
   * The most cost the run's attempts may take, counted in the tasks' `cost`
   * (e.g. estimated tokens; each attempt, retries too). Once spent, nothing
   * of the run starts: what has not started is reported as `TaskInterrupted`
   * with reason `"budget"`, and attempts already running go on (the run
   * overshoots by at most what is in flight). A finite number ≥ 0; default:
   * no limit.
   */
  readonly budget?: number | undefined
  /**
   * Told of each attempt's start, each retry and each task's settlement, with
   * the run's counts (queued, running, done, failed) — enough for a progress
   * bar. Called in a microtask, in order; a throw is reported once with
   * `console.error` and never affects the run (see `Progress.Listener`).
   * Default: none (and no cost).
   * @since 0.4.0
   */
  readonly onProgress?: Progress.Listener | undefined
}

/**
 * A snapshot of a scheduler's load.
 *
 * @since 0.1.0
 * @category models
 */
export interface Stats {
  /** Attempts in flight (holding a slot). */
  readonly active: number
  /** Tasks waiting for a slot, including those waiting for their group's cap. */
  readonly pending: number
  /** Tasks waiting out a retry backoff (they hold no slot). */
  readonly delayed: number
  /** The cap now of each adaptive group (`GroupLimit.adaptive`); present when the scheduler has one. @since 0.3.0 */
  readonly caps?: Readonly<Record<string, number>>
}

/**
 * The results of a list of tasks, position by position: a tuple of tasks gives
 * a tuple of typed results.
 *
 * @since 0.1.0
 * @category type-level
 */
export type Results<T extends ReadonlyArray<Task.Any>> = {
  -readonly [K in keyof T]: TaskResult.TaskResult<Task.Success<T[K]>, Task.Error<T[K]>>
}

/**
 * The scheduler's operations.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /**
   * Runs the tasks and returns one result per task, in input order. Never
   * fails: failures, timeouts, defects and interruptions are in the results.
   * Interrupting the returned effect interrupts the run's tasks (finalizers
   * run, signals are aborted) and frees their slots.
   *
   * Nested runs: a run started from inside a task of the same scheduler
   * borrows that task's slot (and group place) while it runs, so nested runs
   * never deadlock on the cap; the task takes the slot back, ahead of waiting
   * tasks, when the nested run ends. A task waiting on a nested run does not
   * count towards `maxConcurrency`.
   */
  readonly run: <const T extends ReadonlyArray<Task.Any>>(
    tasks: T,
    options?: RunOptions | undefined
  ) => Effect.Effect<Results<T>, never, Task.Context<T[number]>>
  /**
   * Runs the tasks and emits each result as it settles (completion order).
   * Ending the stream early interrupts the tasks still running.
   */
  readonly stream: <T extends Task.Any>(
    tasks: ReadonlyArray<T>,
    options?: RunOptions | undefined
  ) => Stream.Stream<TaskResult.TaskResult<Task.Success<T>, Task.Error<T>>, never, Task.Context<T>>
  /**
   * Runs a plan: a task starts the moment all of its dependencies have
   * succeeded (not in waves) and receives their values; a task whose
   * dependency did not succeed is not run and reports `TaskSkipped` naming
   * it. Returns every task's result keyed by name. Priorities, groups,
   * timeouts, retries and `deadline` work as in `run`; never fails.
   */
  readonly runPlan: <T extends Record<string, Task.Any>>(
    plan: Plan.Plan<T>,
    options?: RunOptions | undefined
  ) => Effect.Effect<Plan.Results<T>, never, Task.Context<T[keyof T]>>
  /** The current load. */
  readonly stats: Effect.Effect<Stats>
  /**
   * Completes once nothing is queued, backing off or running on this
   * scheduler (at once if nothing is), as p-queue's `onIdle`. @since 0.4.0
   */
  readonly idle: Effect.Effect<void>
  /**
   * Cancels the work that is waiting — for a slot or its group, for a retry,
   * or (in a plan) for its dependencies — across every run: those tasks
   * settle at once as `TaskInterrupted` with reason `"cleared"` (a plan's
   * tasks depending on them as `TaskSkipped`). Running attempts go on, and
   * the scheduler stays usable. Returns how many tasks it cleared. @since 0.4.0
   */
  readonly clear: Effect.Effect<number>
}

/**
 * The scheduler service.
 *
 * @since 0.1.0
 * @category tags
 */
export class Scheduler extends Context.Tag("toolfan/Scheduler")<Scheduler, Service>() {}

const optionKeys: ReadonlySet<string> = new Set(["maxConcurrency", "groups", "maxQueued"])

const checkOptions = (
  where: string,
  options: Options | undefined
): { max: number; maxQueued: number; groups: Record<string, number | GroupLimit.GroupLimit> } => {
  const o = options === undefined ? {} : validate.record(where, "options", options) as Options
  validate.knownKeys(where, o as Record<string, unknown>, optionKeys)
  const max = o.maxConcurrency === undefined ? 10 : validate.integer(where, "maxConcurrency", o.maxConcurrency, 1, true)
  const maxQueued = o.maxQueued === undefined ? Number.POSITIVE_INFINITY : validate.integer(where, "maxQueued", o.maxQueued, 0, true)
  const groups: Record<string, number | GroupLimit.GroupLimit> = {}
  if (o.groups !== undefined) {
    for (const [name, cap] of Object.entries(validate.record(where, "groups", o.groups))) {
      groups[name] = GroupLimit.isGroupLimit(cap)
        ? cap
        : typeof cap === "number"
        ? validate.integer(where, `groups.${name}`, cap, 1, true)
        : validate.invalid(where, `groups.${name}`, "an integer ≥ 1, Infinity or a GroupLimit", cap, "type")
    }
  }
  return { max, maxQueued, groups }
}

const checkTasks = (where: string, tasks: unknown): ReadonlyArray<Task.Any> => {
  if (!Array.isArray(tasks)) return validate.invalid(where, "tasks", "an array of tasks", tasks, "type")
  for (let i = 0; i < tasks.length; i++) {
    if (!Task.isTask(tasks[i])) validate.invalid(where, `tasks[${i}]`, "a Task (made with Task.make)", tasks[i], "type")
  }
  return tasks
}

const checkPlan = (where: string, plan: unknown): ReadonlyArray<Plan.Node> => {
  if (!Plan.isPlan(plan)) return validate.invalid(where, "plan", "a Plan (made with Plan.empty.pipe(Plan.add(...)) or Plan.make)", plan, "type")
  return plan.nodes
}

/** A run's options, checked: its deadline in ms (`Infinity` for none). @internal */
export const checkRunOptions = (where: string, options: RunOptions | undefined): Checked => {
  if (options === undefined) return noRunOptions
  const o = validate.record(where, "options", options) as RunOptions
  const deadlineMs = o.deadline === undefined ? Number.POSITIVE_INFINITY : validate.durationMillis(where, "deadline", o.deadline)
  const budget = o.budget === undefined ? Number.POSITIVE_INFINITY : validate.nonNegative(where, "budget", o.budget)
  const onProgress = o.onProgress === undefined ? undefined : validate.func<Progress.Listener>(where, "onProgress", o.onProgress)
  return onProgress === undefined ? { deadlineMs, budget } : { deadlineMs, budget, onProgress }
}

/** A run's checked options. @internal */
export interface Checked {
  readonly deadlineMs: number
  readonly budget: number
  readonly onProgress?: Progress.Listener | undefined
}

const noRunOptions: Checked = { deadlineMs: Number.POSITIVE_INFINITY, budget: Number.POSITIVE_INFINITY }

/**
 * Makes a scheduler that lives as long as the scope. Closing the scope
 * interrupts what is still running or queued (reported as `TaskInterrupted`
 * with reason `"shutdown"`) and waits for it to settle; later runs report
 * every task interrupted.
 *
 * Fails with `InvalidOption` if an option is invalid.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: Options | undefined): Effect.Effect<Service, InvalidOption, Scope.Scope> =>
  makeAt("Scheduler.make", options)

/**
 * {@link make}, naming `where` in its errors. With `waitForLimits: false`
 * (the Promise API's `new Scheduler`, which must return at once) the group
 * limits start in the background: tasks of such a group wait for the start in
 * their admission, where a run's deadline, signal and interruption still
 * apply; a start that fails shuts the scheduler down. @internal
 */
export const makeAt = (
  where: string,
  options?: Options | undefined,
  waitForLimits = true
): Effect.Effect<Service, InvalidOption, Scope.Scope> =>
  Effect.gen(function*() {
    const { groups, max, maxQueued } = yield* Effect.try({
      try: () => checkOptions(where, options),
      catch: (e) => e as InvalidOption
    })
    const clock = yield* Effect.clock
    const runtime = yield* Effect.runtime<never>()
    // limits live in a scope closed after the shutdown finalizer (added later, so run first): they stop last
    const limits = yield* Scope.fork(yield* Effect.scope, ExecutionStrategy.sequential)
    const starting: Array<readonly [GroupLimit.GroupLimit, Deferred.Deferred<GroupLimit.Limiter>]> = []
    // each group's admission strategy (admission.ts), made by the pool for itself
    const started: Record<string, (host: Host) => Admission> = {}
    const adaptives: Record<string, Adaptive> = {}
    for (const [name, group] of Object.entries(groups)) {
      const adaptive = typeof group === "number" ? undefined : GroupLimit.adaptiveSettings(group)
      if (typeof group === "number") {
        started[name] = (host) => new Cap(group, host)
      } else if (adaptive !== undefined) {
        started[name] = (host) => adaptives[name] = new Adaptive(adaptive, host, name)
      } else if (waitForLimits) {
        const limiter = Effect.succeed(yield* Scope.extend(group.start, limits))
        started[name] = (host) => new Limited(host, group, limiter)
      } else {
        const deferred = yield* Deferred.make<GroupLimit.Limiter>()
        starting.push([group, deferred])
        started[name] = (host) => new Limited(host, group, Deferred.await(deferred))
      }
    }
    const impl = new internal.Pool(max, started, clock, runtime, maxQueued)
    // its running attempts' signals are where `idempotencyKey(signal)` looks (keys.ts)
    pools.add(impl)
    yield* Effect.addFinalizer(() => Effect.ensuring(impl.shutdown(), Effect.sync(() => pools.delete(impl))))
    for (const [group, deferred] of starting) {
      yield* Effect.forkIn(
        Effect.onExit(Scope.extend(group.start, limits), (exit) =>
          Exit.isSuccess(exit) ? Deferred.succeed(deferred, exit.value) : impl.shutdown()),
        limits
      )
    }
    return makeService(impl, adaptives)
  })

const makeService = (pool: internal.Pool, adaptives: Readonly<Record<string, Adaptive>>): Service => {
  const adaptive = Object.entries(adaptives)
  const service = Scheduler.of({
    run: ((tasks: ReadonlyArray<Task.Any>, options?: RunOptions) => {
      checkTasks("Scheduler.run", tasks)
      return runs.execute(pool, tasks, checkRunOptions("Scheduler.run", options))
    }) as Service["run"],
    stream: ((tasks: ReadonlyArray<Task.Any>, options?: RunOptions) => {
      checkTasks("Scheduler.stream", tasks)
      return streamOn(pool, tasks, checkRunOptions("Scheduler.stream", options))
    }) as Service["stream"],
    runPlan: ((plan: Plan.Plan<any>, options?: RunOptions) =>
      runPlanOn(pool, checkPlan("Scheduler.runPlan", plan), checkRunOptions("Scheduler.runPlan", options))) as Service["runPlan"],
    stats: Effect.sync(() => {
      const counts = { active: pool.active, pending: pool.pending, delayed: pool.delayed }
      return adaptive.length === 0 ? counts : { ...counts, caps: Object.fromEntries(adaptive.map(([name, a]) => [name, a.current])) }
    }),
    idle: pool.whenIdle(),
    clear: Effect.sync(() => pool.clear())
  })
  // only the signal of the attempt running now, on this scheduler, makes a nested run
  const parentOf = (signal: AbortSignal | undefined) => {
    const job = signal === undefined ? undefined : pool.signals.get(signal)
    return job !== undefined && job.run.host === pool && job.controller?.signal === signal ? job : undefined
  }
  internals.set(service, {
    run: (tasks, options) => runs.execute(pool, tasks, options, parentOf(options.parent ?? options.signal)) as Effect.Effect<Array<TaskResult.TaskResult<unknown, unknown>>>,
    stream: (tasks, options) => streamOn(pool, tasks, options, parentOf(options.parent ?? options.signal)) as Stream.Stream<TaskResult.TaskResult<unknown, unknown>>,
    runPlan: (nodes, options) =>
      runPlanOn(pool, nodes, options, parentOf(options.parent ?? options.signal)) as Effect.Effect<Record<string, TaskResult.TaskResult<unknown, unknown>>>,
    runCalls: (stream, tools, base, options) => calls.execute(pool, stream, tools, base, options, parentOf(options.parent ?? options.signal))
  })
  return service
}

/** The results in completion order: a run whose results go to a queue as they settle. */
const streamOn = (pool: internal.Pool, tasks: ReadonlyArray<Task.Any>, options: runs.RunOptions, parent?: runs.Job) =>
  tasks.length === 0 ? Stream.empty : Stream.unwrapScoped(Effect.gen(function*() {
    const queue = yield* Queue.unbounded<TaskResult.TaskResult<unknown, unknown>>()
    const run = runs.execute(pool, tasks, { ...options, keepResults: false, onResult: (r) => queue.unsafeOffer(r) }, parent)
    // each result is handed out as it settles: the run keeps none (a long stream holds only what is unread)
    yield* Effect.forkScoped(run)
    return Stream.take(Stream.fromQueue(queue), tasks.length)
  }))

/** A plan's run: its tasks gated on their dependencies (per execution: the same effect may run again, or twice at once). */
const runPlanOn = (pool: internal.Pool, nodes: ReadonlyArray<Plan.Node>, options: runs.RunOptions, parent?: runs.Job) =>
  Effect.map(
    Effect.suspend(() => {
      const { held, onResult, tasks } = Plan.gate(nodes)
      return runs.execute(pool, tasks, { ...options, held, onResult }, parent)
    }),
    (results) => {
      const record: Record<string, TaskResult.TaskResult<unknown, unknown>> = {}
      for (let i = 0; i < nodes.length; i++) Plan.setOwn(record, nodes[i]!.name, results[i]!)
      return record
    }
  )

/**
 * Runs for the library's own modules: the Promise API, with an AbortSignal
 * that cancels the run and, when it is the signal of a task of the same
 * scheduler, marks the run as nested in that task (plain JavaScript has no
 * FiberRef to tell). @internal
 */
export interface Internals {
  readonly run: (tasks: ReadonlyArray<Task.Any>, options: runs.RunOptions) => Effect.Effect<Array<TaskResult.TaskResult<unknown, unknown>>>
  readonly stream: (tasks: ReadonlyArray<Task.Any>, options: runs.RunOptions) => Stream.Stream<TaskResult.TaskResult<unknown, unknown>>
  readonly runPlan: (
    nodes: ReadonlyArray<Plan.Node>,
    options: runs.RunOptions
  ) => Effect.Effect<Record<string, TaskResult.TaskResult<unknown, unknown>>>
  /** A plan of tool calls read from a stream (`ToolPlan.run`). */
  readonly runCalls: <E, R>(
    stream: Stream.Stream<unknown, E, R>,
    tools: ReadonlyMap<string, calls.Tool>,
    base: Task.Any,
    options: runs.RunOptions
  ) => Effect.Effect<Array<TaskResult.TaskResult<unknown, unknown>>, E, R>
}

/** Each service's {@link Internals}. @internal */
export const internals = new WeakMap<Service, Internals>()

/**
 * A layer providing a {@link Scheduler} built with {@link make}.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Scheduler, Task } from "toolfan"
 *
 * const program = Scheduler.run([
 *   Task.make("a", Effect.succeed(1)),
 *   Task.make("b", Effect.succeed("two"))
 * ])
 * Effect.runPromise(program.pipe(Effect.provide(Scheduler.layer({ maxConcurrency: 8 }))))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options | undefined): Layer.Layer<Scheduler, InvalidOption> =>
  Layer.scoped(Scheduler, make(options))

/**
 * Runs tasks with the `Scheduler` from the context. See {@link Service.run}.
 *
 * @since 0.1.0
 * @category accessors
 */
export const run = <const T extends ReadonlyArray<Task.Any>>(
  tasks: T,
  options?: RunOptions | undefined
): Effect.Effect<Results<T>, never, Scheduler | Task.Context<T[number]>> => {
  checkTasks("Scheduler.run", tasks)
  checkRunOptions("Scheduler.run", options)
  return Effect.flatMap(Scheduler, (s) => s.run(tasks, options))
}

/**
 * Streams results in completion order with the `Scheduler` from the context.
 * See {@link Service.stream}.
 *
 * @since 0.1.0
 * @category accessors
 */
export const stream = <T extends Task.Any>(
  tasks: ReadonlyArray<T>,
  options?: RunOptions | undefined
): Stream.Stream<TaskResult.TaskResult<Task.Success<T>, Task.Error<T>>, never, Scheduler | Task.Context<T>> => {
  checkTasks("Scheduler.stream", tasks)
  checkRunOptions("Scheduler.stream", options)
  return Stream.unwrap(Effect.map(Scheduler, (s) => s.stream(tasks, options)))
}

/**
 * Runs a plan with the `Scheduler` from the context. See {@link Service.runPlan}.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Plan, Scheduler } from "toolfan"
 *
 * const plan = Plan.empty.pipe(
 *   Plan.add("search", Effect.succeed(["https://example.com/a"])),
 *   Plan.add("fetch", ["search"], ({ search }) => Effect.succeed(`page ${search[0]}`))
 * )
 * const program = Effect.map(Scheduler.runPlan(plan), (results) => results.fetch.value)
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const runPlan = <T extends Record<string, Task.Any>>(
  plan: Plan.Plan<T>,
  options?: RunOptions | undefined
): Effect.Effect<Plan.Results<T>, never, Scheduler | Task.Context<T[keyof T]>> => {
  checkPlan("Scheduler.runPlan", plan)
  checkRunOptions("Scheduler.runPlan", options)
  return Effect.flatMap(Scheduler, (s) => s.runPlan(plan, options))
}

/**
 * The load of the `Scheduler` from the context.
 *
 * @since 0.1.0
 * @category accessors
 */
export const stats: Effect.Effect<Stats, never, Scheduler> = Effect.flatMap(Scheduler, (s) => s.stats)

/**
 * Completes once the `Scheduler` from the context is idle. See {@link Service.idle}.
 *
 * @since 0.4.0
 * @category accessors
 */
export const idle: Effect.Effect<void, never, Scheduler> = Effect.flatMap(Scheduler, (s) => s.idle)

/**
 * Cancels the waiting work of the `Scheduler` from the context. See {@link Service.clear}.
 *
 * @since 0.4.0
 * @category accessors
 */
export const clear: Effect.Effect<number, never, Scheduler> = Effect.flatMap(Scheduler, (s) => s.clear)
