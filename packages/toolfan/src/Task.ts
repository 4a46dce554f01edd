/**
 * A task is one tool call to run: a name, an `Effect`, and the policies that
 * keep it safe (timeout, retries and their backoff, priority, group). A task is
 * a description — nothing runs until a `Scheduler` runs it, and the same task
 * can be run any number of times.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { pipeArguments, type Pipeable } from "effect/Pipeable"
import * as Predicate from "effect/Predicate"
import * as Schedule from "effect/Schedule"
import { promiseEffect } from "./internal/promise.js"
import * as Overload from "./Overload.js"
import { currentKey, keyOfSignal } from "./internal/keys.js"
import { coalescePolicy, type CoalescePolicy, hedgePolicy, type HedgePolicy } from "./internal/policies.js"
import * as validate from "./internal/validate.js"

/**
 * @since 0.1.0
 * @category symbols
 */
export const TypeId: unique symbol = Symbol.for("toolfan/Task")

/**
 * @since 0.1.0
 * @category symbols
 */
export type TypeId = typeof TypeId

/**
 * A named unit of work with its policies. `A` is the value it produces, `E` its
 * typed failure, `R` the services its effect needs (provided where the task is
 * run).
 *
 * @since 0.1.0
 * @category models
 */
export interface Task<out A, out E = never, out R = never> extends Pipeable {
  readonly [TypeId]: {
    readonly _A: (_: never) => A
    readonly _E: (_: never) => E
    readonly _R: (_: never) => R
  }
  /** The task's name, used in results, errors and spans. */
  readonly name: string
  /** The work of one attempt. */
  readonly effect: Effect.Effect<A, E, R>
  /** Per-attempt timeout, or `undefined` for none. */
  readonly timeout: Duration.Duration | undefined
  /** Extra attempts after the first one fails (0 = no retry). */
  readonly retries: number
  /** Higher starts first among waiting tasks. */
  readonly priority: number
  /** The group whose own cap or limit applies, if any. */
  readonly group: string | undefined
  /** What one start costs a limit that counts cost (e.g. estimated tokens). */
  readonly cost: number
  /** Its real cost, read from its value (e.g. the tokens the response says it used). @internal */
  readonly actualCost: ((value: any) => number) | undefined
  /** @internal */
  readonly timeoutMs: number
  /** @internal */
  readonly schedule: Schedule.Schedule<unknown, any, never>
  /** @internal */
  readonly retryWhile: ((error: any) => boolean) | undefined
  /** What it does with overloads (see `Overload`). @internal */
  readonly overload: Overload.Policy
  /**
   * For promise tasks: the function itself, which the scheduler calls
   * directly with an AbortController it owns (see `internal/pool.ts`).
   * @internal
   */
  readonly evaluate: ((signal: AbortSignal) => unknown) | undefined
  /** Its hedging (see `Options.hedge`), `undefined` when it is not hedged. @internal */
  readonly hedge: HedgePolicy | undefined
  /** Its coalescing (see `Options.coalesce`), `undefined` when it is not coalesced. @internal */
  readonly coalesce: CoalescePolicy | undefined
}

/**
 * A task of any type.
 *
 * @since 0.1.0
 * @category models
 */
export type Any = Task<any, any, any>

/**
 * The value type of a task.
 *
 * @since 0.1.0
 * @category type-level
 */
export type Success<T> = T extends Task<infer A, infer _E, infer _R> ? A : never

/**
 * The failure type of a task.
 *
 * @since 0.1.0
 * @category type-level
 */
export type Error<T> = T extends Task<infer _A, infer E, infer _R> ? E : never

/**
 * The services a task needs.
 *
 * @since 0.1.0
 * @category type-level
 */
export type Context<T> = T extends Task<infer _A, infer _E, infer R> ? R : never

/**
 * The policies of a task. Every option is checked when the task is made.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options<E, A = any> {
  /**
   * Time limit of each attempt (a `DurationInput`: milliseconds as a number,
   * `"5 seconds"`, a `Duration`). On expiry the attempt is interrupted, its
   * AbortSignal aborted, and it counts as a failure for retries. Must be
   * positive; `Infinity` means no limit. Default: no limit.
   */
  readonly timeout?: Duration.DurationInput | undefined
  /**
   * Extra attempts after a failure or a timeout (never after a defect or an
   * interruption). An integer ≥ 0. Default: `0`.
   */
  readonly retries?: number | undefined
  /**
   * The delay before each retry. It receives the failure (`E`, or the
   * `TaskTimedOut` of a timed-out attempt) and may also stop retrying early.
   * The number of attempts is bounded by `retries` in any case.
   * Default: {@link defaultSchedule} — exponential from 100 ms, factor 2,
   * jittered, capped at 10 seconds.
   */
  readonly schedule?: Schedule.Schedule<unknown, any, never> | undefined
  /**
   * Decides which failures `E` are retried. Timeouts are retried while
   * attempts remain. Default: every failure.
   */
  readonly retryWhile?: ((error: E) => boolean) | undefined
  /**
   * Among waiting tasks, a higher priority starts first; equal priorities start
   * first-come-first-served. A finite number. Default: `0`.
   */
  readonly priority?: number | undefined
  /**
   * A key with its own concurrency cap (configured on the scheduler's `groups`),
   * e.g. the tool's name. Default: none.
   */
  readonly group?: string | undefined
  /**
   * Whether a failure `E` says the provider is overloaded, and how long it
   * asked to wait (`{ retryAfterMs }`); `undefined` if not. Such a wait
   * delays the retry and pauses the task's group (see `Overload`). Default:
   * `Overload.detect` — an `Overloaded`, or an error with status 429 and a
   * `Retry-After` in its headers.
   */
  readonly overloaded?: ((error: E) => Overload.Signal | undefined) | undefined
  /**
   * The longest wait an overloaded failure may ask for: a longer one is not
   * waited for, and the task fails at once (its `TaskFailed` says so). A
   * positive duration. Default: 2 minutes.
   */
  readonly maxRetryAfter?: Duration.DurationInput | undefined
  /**
   * What one start costs its group's limit when the limit counts cost (e.g.
   * estimated tokens, with `GroupLimit.rate({ …, counts: "cost" })`); other
   * limits ignore it. A finite number ≥ 0. Default: `1`.
   */
  readonly cost?: number | undefined
  /**
   * The real cost of a success, read from its value (e.g. the token usage a
   * model's response reports): where it differs from `cost`, the run's
   * `budget` counts the real one and a limit that counts cost takes the
   * difference. Called once per success; a throw or a value that is not a
   * finite number ≥ 0 keeps the estimate. Default: none.
   */
  readonly actualCost?: ((value: A) => number) | undefined
  /**
   * Whether running it twice does no harm (a read, or a write the provider
   * dedupes by its idempotency key, see {@link idempotencyKey}). Only an
   * idempotent task may be hedged. Default: `false`.
   */
  readonly idempotent?: boolean | undefined
  /**
   * Hedging (needs `idempotent: true`): when an attempt has run for `after`
   * — a duration, or a quantile of its group's successful-attempt latency
   * such as `"p95"` (over the last 1,000 successes, once `minSamples`, default
   * 20, are in) — a second attempt starts, with its own slot and signal; the
   * first to succeed wins and the other is interrupted at once. `budget`
   * (default `0.05`) bounds the extra attempts to that fraction of the
   * attempts of its group (its name without one) in this scheduler. One
   * hedge per task; it does not use up `retries`. See docs/hedging.md.
   * Default: none.
   */
  readonly hedge?: {
    readonly after: Duration.DurationInput | `p${number}`
    readonly budget?: number | undefined
    readonly minSamples?: number | undefined
  } | undefined
  /**
   * Coalescing: tasks with the same key in flight at once in this scheduler
   * (across its runs) run once and share the result — a failure too, but
   * only with the tasks already waiting. `true` keys it by its name; a
   * function is called once, when the task is made. Default: none.
   */
  readonly coalesce?: string | true | (() => string) | undefined
  /**
   * With `coalesce`: a success is also served to tasks of the same key that
   * come within `ttl` after it (failures never are). For read-only tools.
   * Default: none.
   */
  readonly cache?: { readonly ttl: Duration.DurationInput } | undefined
}

/**
 * The default retry backoff: exponential from 100 ms with factor 2, jittered
 * (each delay scaled by a random factor between 0.8 and 1.2), each delay
 * capped at 10 seconds.
 *
 * @since 0.1.0
 * @category constructors
 */
export const defaultSchedule: Schedule.Schedule<Duration.Duration, unknown> = Schedule.exponential("100 millis", 2).pipe(
  Schedule.jittered,
  Schedule.modifyDelay((_, delay) => Duration.min(delay, Duration.seconds(10)))
)

const TaskProto = {
  [TypeId]: { _A: (_: never) => _, _E: (_: never) => _, _R: (_: never) => _ },
  // a task's own only when it uses them (see `makeAt`)
  hedge: undefined,
  coalesce: undefined,
  pipe() {
    return pipeArguments(this, arguments)
  },
  toJSON(this: Task<unknown, unknown, unknown>) {
    return {
      _id: "Task",
      name: this.name,
      timeout: this.timeout === undefined ? undefined : Duration.format(this.timeout),
      retries: this.retries,
      priority: this.priority,
      group: this.group
    }
  },
  toString(this: Task<unknown, unknown, unknown>) {
    return `Task(${this.name})`
  },
  // made when read: most tasks never need it (a Duration per task measured ~0.1 µs)
  get timeout(): Duration.Duration | undefined {
    const ms = (this as unknown as { readonly timeoutMs: number }).timeoutMs
    return ms === Number.POSITIVE_INFINITY ? undefined : Duration.millis(ms)
  }
}

/**
 * A promise task's prototype: its `effect` is made when read (the pool calls
 * the function directly, so most promise tasks never need one).
 */
/** @internal */
export const PromiseTaskProto = Object.create(TaskProto, {
  effect: {
    get() {
      const task = this as { _effect?: Effect.Effect<unknown, unknown>; evaluate: (signal: AbortSignal) => unknown }
      return task._effect ??= promiseEffect(task.evaluate)
    },
    set(effect: Effect.Effect<unknown, unknown>) {
      ;(this as { _effect?: Effect.Effect<unknown, unknown> })._effect = effect
    },
    enumerable: true
  }
})

/** The option keys of `Task.make` and `Task.fromPromise`. @internal */
export const optionKeys: ReadonlySet<string> = new Set([
  "timeout",
  "retries",
  "schedule",
  "retryWhile",
  "priority",
  "group",
  "overloaded",
  "maxRetryAfter",
  "cost",
  "actualCost",
  "idempotent",
  "hedge",
  "coalesce",
  "cache"
])

const noOptions: Options<never> = {}

/**
 * Makes a task, checking its name and options and naming `where` in the
 * errors (`Task.make`, the Promise API's `Task`, a batcher's template). Throws
 * `InvalidOption`. @internal
 */
export const makeAt = <A, E, R>(
  where: string,
  name: unknown,
  /** Its effect; `undefined` for a promise task (`evaluate`), whose effect is made when read. */
  effect: Effect.Effect<A, E, R> | undefined,
  options: Options<E> | undefined,
  evaluate?: ((signal: AbortSignal) => PromiseLike<A> | A) | undefined,
  /** The option keys its caller takes (the Promise API's `Task` also takes `args`). */
  keys: ReadonlySet<string> = optionKeys,
  /** The object to make the task of (the Promise API's `Task`, whose prototype is a promise task's); default: a new one. */
  into?: object
): Task<A, E, R> => {
  validate.nonEmptyString(where, "name", name)
  const o = options === undefined ? noOptions : validate.record(where, "options", options) as Options<E>
  validate.knownKeys(where, o as Record<string, unknown>, keys)
  const timeoutMs = o.timeout === undefined ? Number.POSITIVE_INFINITY : validate.durationMillis(where, "timeout", o.timeout)
  const retries = o.retries === undefined ? 0 : validate.integer(where, "retries", o.retries, 0, false)
  const priority = o.priority === undefined ? 0 : validate.finiteNumber(where, "priority", o.priority)
  const group = o.group === undefined ? undefined : validate.nonEmptyString(where, "group", o.group)
  const cost = o.cost === undefined ? 1 : validate.nonNegative(where, "cost", o.cost)
  const retryWhile = o.retryWhile === undefined ? undefined : validate.func<(e: E) => boolean>(where, "retryWhile", o.retryWhile)
  if (o.schedule !== undefined && !Schedule.isSchedule(o.schedule)) {
    validate.invalid(where, "schedule", "a Schedule", o.schedule, "type")
  }
  const overload = o.overloaded === undefined && o.maxRetryAfter === undefined ? Overload.defaultPolicy : {
    classify: o.overloaded === undefined ? Overload.detect : validate.func(where, "overloaded", o.overloaded),
    maxWaitMs: o.maxRetryAfter === undefined
      ? Overload.defaultMaxWaitMs
      : validate.durationMillis(where, "maxRetryAfter", o.maxRetryAfter)
  }
  const task = into ?? Object.create(evaluate === undefined ? TaskProto : PromiseTaskProto)
  task.name = name
  if (evaluate === undefined) task.effect = effect
  task.timeoutMs = timeoutMs
  task.retries = retries
  task.priority = priority
  task.group = group
  task.cost = cost
  task.actualCost = o.actualCost === undefined ? undefined : validate.func(where, "actualCost", o.actualCost)
  task.retryWhile = retryWhile
  task.overload = overload
  task.schedule = o.schedule ?? defaultSchedule
  task.evaluate = evaluate
  // own properties only when set (the prototype's `undefined` otherwise): two more fields on every task would grow
  // its out-of-object property store, an allocation per task
  if (o.hedge !== undefined || o.idempotent !== undefined) task.hedge = hedgePolicy(where, o.idempotent, o.hedge, name as string, group)
  if (o.coalesce !== undefined || o.cache !== undefined) {
    task.coalesce = coalescePolicy(where, o.coalesce, o.cache, () => name as string)
  }
  return task
}

/**
 * A copy of a checked task with another effect (no checks: for the library's
 * own hot paths, e.g. one task per batch call).
 *
 * @internal
 */
export const withEffect = <A, E, R>(template: Task<any, any, any>, effect: Effect.Effect<A, E, R>): Task<A, E, R> => {
  const task = Object.create(TaskProto)
  Object.assign(task, template)
  task.effect = effect
  // an effect task: the pool runs its effect, not a promise function
  task.evaluate = undefined
  return task
}

/**
 * A copy of a checked task with another promise function (no checks: one task
 * per batch call of a MicroBatcher). @internal
 */
export const withEvaluate = <A>(template: Task<any, any, any>, evaluate: (signal: AbortSignal) => unknown): Task<A, unknown> => {
  const task = Object.create(PromiseTaskProto)
  Object.assign(task, template)
  task.evaluate = evaluate
  task._effect = undefined
  return task
}

/**
 * Makes a task from an effect. Throws an `InvalidOption` at once if the name
 * or an option is invalid (the message names the option and the value).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Task } from "toolfan"
 *
 * const search = (q: string) => Effect.succeed([`result for ${q}`])
 * const task = Task.make("web", search("agent observability"), {
 *   timeout: "5 seconds",
 *   retries: 2
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <A, E = never, R = never>(
  name: string,
  effect: Effect.Effect<A, E, R>,
  options?: Options<E, A> | undefined
): Task<A, E, R> => {
  if (!Effect.isEffect(effect)) validate.invalid("Task.make", "effect", "an Effect", effect, "type")
  return makeAt("Task.make", name, effect, options)
}

/**
 * Makes a task from a function returning a Promise (or a plain value). The
 * function receives an `AbortSignal` that is aborted when the attempt times
 * out or the run is interrupted; pass it on to `fetch` and friends so the work
 * really stops. A rejection or a synchronous throw is the task's failure
 * (`TaskFailed`, with the thrown value as `error` and `cause`) and is retried
 * like any failure. A function that declares no parameter gets no signal (and
 * costs less).
 *
 * @example
 * ```ts
 * import { Task } from "toolfan"
 *
 * const task = Task.fromPromise(
 *   "docs",
 *   (signal) => fetch("https://example.com", { signal }).then((r) => r.text()),
 *   { timeout: 3000, retries: 1 }
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromPromise = <A>(
  name: string,
  evaluate: (signal: AbortSignal) => PromiseLike<A> | A,
  options?: Options<unknown, A> | undefined
): Task<A, unknown> => {
  validate.func("Task.fromPromise", "evaluate", evaluate)
  return makeAt("Task.fromPromise", name, undefined, options, evaluate)
}

/**
 * Whether `u` is a {@link Task}.
 *
 * @since 0.1.0
 * @category guards
 */
export const isTask = (u: unknown): u is Task<unknown, unknown, unknown> => Predicate.hasProperty(u, TypeId)

/**
 * The idempotency key of the task whose attempt the current fiber runs (or
 * was forked from): the same for every attempt of the task and for its
 * hedge, different for every task of every run (`"<uuid>:<index>:<name>"`).
 * Hand it to a provider that dedupes by key (an `Idempotency-Key` header) so
 * that a retry or a hedge of a write that did happen is not done twice.
 * `undefined` outside a task.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Task } from "toolfan"
 *
 * const charge = Effect.gen(function* () {
 *   const key = yield* Task.idempotencyKey
 *   return { charged: true, key } // e.g. sent as the Idempotency-Key header
 * })
 * const task = Task.make("charge", charge, { retries: 2 })
 * ```
 *
 * @since 0.5.0
 * @category idempotency
 */
export const idempotencyKey: Effect.Effect<string | undefined> = currentKey

/**
 * The idempotency key (see {@link idempotencyKey}) of the task whose running
 * attempt was given `signal` (a promise task's), or `undefined` if none is
 * running with it. Only a function that declares its signal parameter gets
 * one.
 *
 * @since 0.5.0
 * @category idempotency
 */
export const idempotencyKeyOf = (signal: AbortSignal): string | undefined => keyOfSignal(signal)
