/**
 * Micro-batching: many small calls ("classify this text", "is this
 * relevant?") become a few batched calls. A batch is sent when it holds
 * `maxSize` items or `maxWait` after its first item, whichever comes first.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type * as Either from "effect/Either"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import * as Exit from "effect/Exit"
import * as Request from "effect/Request"
import * as RequestResolver from "effect/RequestResolver"
import type * as Schedule from "effect/Schedule"
import type * as Runtime from "effect/Runtime"
import * as Scope from "effect/Scope"
import type { InvalidOption } from "./InvalidOption.js"
import * as internal from "./internal/batcher.js"
import * as errors from "./internal/batchErrors.js"
import * as validate from "./internal/validate.js"
import { Pool } from "./internal/pool.js"
import { execute } from "./internal/run.js"
import * as Task from "./Task.js"
import type { TaskDefect, TaskInterrupted, TaskTimedOut } from "./TaskError.js"

/**
 * `run` returned something other than one output per item. Every item of that
 * batch fails with it; `expected` is the batch's size and `received` what
 * `run` returned (`receivedCount` its length, if it was an array).
 *
 * @since 0.1.0
 * @category errors
 */
export class BatchOutputMismatch extends errors.BatchOutputMismatch {}

/**
 * The batcher's scope was closed: what was pending was sent, later items are
 * refused with this error.
 *
 * @since 0.1.0
 * @category errors
 */
export class BatcherClosed extends errors.BatcherClosed {}

/**
 * What an item can fail with besides the batch's own error `E` and its own
 * per-item error: the batch call timed out (`TaskTimedOut`, after its
 * retries), died (`TaskDefect`, with the defect), was interrupted
 * (`TaskInterrupted`), broke its contract (`BatchOutputMismatch`), or the
 * batcher was closed (`BatcherClosed`).
 *
 * @since 0.1.0
 * @category errors
 */
export type BatchError = TaskTimedOut | TaskDefect | TaskInterrupted | errors.BatchOutputMismatch | errors.BatcherClosed

/**
 * A per-item failure: `run` returns it in place of that item's output to fail
 * that item alone. Make one with {@link failItem}.
 *
 * @since 0.1.0
 * @category models
 */
export type ItemFailure<E> = errors.ItemFailure<E>

/**
 * Fails one item of a batch without failing the others: return
 * `Batcher.failItem(error)` in `run`'s output array at that item's position.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Batcher } from "toolfan"
 *
 * const run = (texts: ReadonlyArray<string>) =>
 *   Effect.succeed(texts.map((t) => (t.length === 0 ? Batcher.failItem("empty text" as const) : t.length)))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const failItem: <E>(error: E) => ItemFailure<E> = errors.itemFailure

/**
 * The output type of `run`'s array, without the per-item failures.
 *
 * @since 0.1.0
 * @category type-level
 */
export type Output<X> = Exclude<X, ItemFailure<any>>

/**
 * The per-item error type in `run`'s array.
 *
 * @since 0.1.0
 * @category type-level
 */
export type ItemError<X> = X extends ItemFailure<infer E> ? E : never

/**
 * One item as an Effect `Request`, for the batcher's {@link Batcher.resolver}.
 *
 * @since 0.1.0
 * @category models
 */
export interface BatchRequest<I, O, E> extends Request.Request<O, E> {
  readonly _tag: "BatchRequest"
  readonly item: I
}

/**
 * Options of a batcher. `timeout`, `retries`, `schedule` and `retryWhile` are
 * the policies of each batch call, as for a task.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options<I, X, E, R> extends Omit<Task.Options<E>, "priority" | "group"> {
  /**
   * Runs one batch: receives its items and returns one output per item, in the
   * same order (an item may get `Batcher.failItem(error)` instead). If it fails
   * or dies, every item of the batch fails with that error.
   */
  readonly run: (items: ReadonlyArray<I>) => Effect.Effect<ReadonlyArray<X>, E, R>
  /** Most items in one batch. An integer ≥ 1. Default: `16`. */
  readonly maxSize?: number | undefined
  /** Longest a batch waits for more items after its first one. A finite positive duration. Default: `"20 millis"`. */
  readonly maxWait?: import("effect/Duration").DurationInput | undefined
  /**
   * Dedupes identical items within a window: items with equal keys (`===` /
   * SameValueZero; `undefined` included) are sent once and every caller gets
   * the same outcome. A key that throws is a defect of that call. Default: none.
   */
  readonly key?: ((item: I) => unknown) | undefined
  /** Most batch calls in flight at once. An integer ≥ 1, or `Infinity`. Default: `Infinity`. */
  readonly maxBatchesInFlight?: number | undefined
  /** A name for errors and spans. Default: `"batcher"`. */
  readonly name?: string | undefined
}

/**
 * A batcher: submit items one by one or in bulk; they are sent in batches.
 *
 * @since 0.1.0
 * @category models
 */
export interface Batcher<I, O, E> {
  /**
   * Submits one item and waits for its output. Requests made in one
   * `Effect.forEach(..., { batching: true })` go through {@link resolver} and
   * are sent at once (joined with what is waiting); independent callers
   * (forked fibers, separate `Effect.runPromise` calls) coalesce within the
   * `maxWait` window. Interrupting the caller stops the wait, and an item
   * nobody waits for any more is dropped from its batch if not yet sent.
   */
  readonly submit: (item: I) => Effect.Effect<O, E | BatchError>
  /**
   * Submits many items with one waiting fiber and returns one `Either` per
   * item, in order. The items are sent at once (joined with what is waiting),
   * in chunks of `maxSize`. Never fails.
   */
  readonly submitAll: (items: ReadonlyArray<I>) => Effect.Effect<Array<Either.Either<O, E | BatchError>>>
  /** The `RequestResolver` behind `submit`, for `Effect.request(Batcher.request(item), resolver)`. */
  readonly resolver: RequestResolver.RequestResolver<BatchRequest<I, O, E | BatchError>>
}

/**
 * An item as a {@link BatchRequest}, for use with a batcher's `resolver`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const request = <I, O = unknown, E = unknown>(item: I): BatchRequest<I, O, E> =>
  Request.tagged<BatchRequest<I, O, E>>("BatchRequest")({ item })

/** The service behind each Batcher, for the Promise API. @internal */
export const impls = new WeakMap<Batcher<any, any, any>, internal.BatcherImpl>()

/**
 * Whether the current fiber is inside a batched step (`Effect.forEach` or
 * `Effect.all` with `batching: true`): only there can `Effect.request` gather
 * requests from several fibers into one block. Effect has no public way to
 * ask, so this reads the fiber's internal step stack (effect 3.22). Outside a
 * batched step `Effect.request` would run the resolver with one request right
 * away, which is what the fast path does — without its Proxy, Deferred and
 * request block per item, measured at 28–80 µs per item here against ~1 µs.
 */
const inBatchedStep = (fiber: unknown): boolean => {
  const steps = (fiber as { readonly _steps?: ReadonlyArray<unknown> })._steps
  return steps !== undefined && steps.length > 0
}

/**
 * Makes a batcher that lives as long as the scope. Closing the scope sends
 * what is pending, waits for the batches in flight, and refuses later items
 * with `BatcherClosed`. Fails with `InvalidOption` if an option is invalid.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Batcher } from "toolfan"
 *
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const classify = yield* Batcher.make({
 *     run: (texts: ReadonlyArray<string>) => Effect.succeed(texts.map((t) => t.includes("!") ? "angry" : "calm")),
 *     maxSize: 16,
 *     maxWait: "20 millis"
 *   })
 *   return yield* Effect.forEach(["hi", "no!"], classify.submit, { concurrency: "unbounded" })
 * }))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <I, X, E = never, R = never>(
  options: Options<I, X, E, R>
): Effect.Effect<Batcher<I, Output<X>, E | ItemError<X>>, InvalidOption, Scope.Scope | R> => makeAt("Batcher.make", options)

/** {@link make}, naming `where` in its errors (the Promise API's `new MicroBatcher`). @internal */
export const makeAt = <I, X, E = never, R = never>(
  where: string,
  options: Options<I, X, E, R>,
  /**
   * `run` as a promise function too (the MicroBatcher's), run without a fiber
   * per batch; given, an `Error` output of either fails its item (the Promise API's contract).
   */
  runPromise?: ((items: ReadonlyArray<I>, signal: AbortSignal) => unknown) | undefined
): Effect.Effect<Batcher<I, Output<X>, E | ItemError<X>>, InvalidOption, Scope.Scope | R> =>
  Effect.gen(function*() {
    const checked = yield* Effect.try({
      try: () => checkOptions(where, options),
      catch: (e) => e as InvalidOption
    })
    if (runPromise !== undefined) checked.internal = { ...checked.internal, runPromise, errorFailsItem: true }
    // one scope of our own, closed in order whatever the caller's scope does (it may close its finalizers in
    // parallel): first the batcher (it sends what is pending and waits for the batches), then its pool. The
    // pool's cap is the cap on batches in flight; its timer also serves the batching windows
    const own = yield* Effect.flatMap(Effect.scope, (scope) => Scope.fork(scope, ExecutionStrategy.sequential))
    const runtime = yield* Effect.runtime<R>()
    const pool = new Pool(checked.maxBatchesInFlight, {}, yield* Effect.clock, runtime as Runtime.Runtime<never>)
    yield* Scope.addFinalizer(own, pool.shutdown())
    const impl = new internal.BatcherImpl(checked.internal, (tasks, options) => execute(pool, tasks, options) as Effect.Effect<unknown>, runtime, pool.timer)
    yield* Scope.addFinalizer(own, impl.close())
    return makeBatcher<I, Output<X>, E | ItemError<X>>(impl)
  })

const optionKeys: ReadonlySet<string> = new Set([
  "run",
  "maxSize",
  "maxWait",
  "key",
  "maxBatchesInFlight",
  "name",
  "timeout",
  "retries",
  "schedule",
  "retryWhile"
])

const checkOptions = (where: string, options: Options<any, any, any, any>) => {
  const o = validate.record(where, "options", options) as unknown as Options<any, any, any, any>
  validate.knownKeys(where, o as unknown as Record<string, unknown>, optionKeys)
  const run = validate.func<internal.Options["run"]>(where, "run", o.run)
  const maxSize = o.maxSize === undefined ? 16 : validate.integer(where, "maxSize", o.maxSize, 1, false)
  const maxWaitMs = o.maxWait === undefined ? 20 : validate.durationMillis(where, "maxWait", o.maxWait)
  // an infinite window would leave a lone item waiting until the batch fills or the batcher closes
  if (maxWaitMs === Number.POSITIVE_INFINITY) validate.invalid(where, "maxWait", "a finite positive duration", o.maxWait, "range")
  const key = o.key === undefined ? undefined : validate.func<(item: unknown) => unknown>(where, "key", o.key)
  const maxBatchesInFlight = o.maxBatchesInFlight === undefined
    ? Number.POSITIVE_INFINITY
    : validate.integer(where, "maxBatchesInFlight", o.maxBatchesInFlight, 1, true)
  const name = o.name === undefined ? "batcher" : validate.nonEmptyString(where, "name", o.name)
  const taskOptions: Task.Options<unknown> = {
    ...(o.timeout === undefined ? {} : { timeout: o.timeout }),
    ...(o.retries === undefined ? {} : { retries: o.retries }),
    ...(o.schedule === undefined ? {} : { schedule: o.schedule as Schedule.Schedule<unknown, any> }),
    ...(o.retryWhile === undefined ? {} : { retryWhile: o.retryWhile })
  }
  // the batch call's policies are a task's: check them once, now
  const template = Task.makeAt(where, name, Effect.void, taskOptions)
  const internalOptions: internal.Options = { run, maxSize, maxWaitMs, maxBatchesInFlight, key, template, name, errorFailsItem: false }
  return { maxBatchesInFlight, internal: internalOptions }
}

const makeBatcher = <I, O, E>(impl: internal.BatcherImpl): Batcher<I, O, E> => {
  const resolver = RequestResolver.makeBatched((requests: Array<BatchRequest<I, O, E | BatchError>>) =>
    Effect.flatMap(
      submitBlock<O, E | BatchError>(impl, requests.map((r) => r.item)),
      (outcomes) => Effect.forEach(requests, (r, i) => Request.completeEffect(r, outcomes[i]!), { discard: true })
    )
  )
  // Without a key an item has one caller, who waits without a canceler: an
  // interrupted caller's fiber has ended by the time its batch is formed, and
  // its item is dropped then. (A canceler makes `Effect.async` wrap the wait
  // in `onInterrupt`, measured at ~20 µs per item in a burst of 50,000.) With
  // a key, items are shared and each caller leaves through a canceler.
  const fast = (item: I, fiber: unknown): Effect.Effect<O, E | BatchError> =>
    impl.keyed
      ? Effect.async<O, E | BatchError>((resume) => {
        const resolve = (value: O) => resume(Exit.succeed(value))
        const entry = impl.add(item, resolve, (error: E | BatchError) => resume(Exit.fail(error)))
        if (entry !== undefined) return Effect.sync(() => impl.leave(entry, resolve))
      })
      : Effect.async<O, E | BatchError>((resume) => {
        impl.add(item, (value: O) => resume(Exit.succeed(value)), (error: E | BatchError) => resume(Exit.fail(error)), fiber as { unsafePoll(): unknown })
      })
  const batcher: Batcher<I, O, E> = {
    submit: (item) =>
      Effect.withFiberRuntime((fiber) =>
        inBatchedStep(fiber) ? Effect.request(request<I, O, E | BatchError>(item), resolver) : fast(item, fiber)
      ),
    submitAll: (items) => submitBlock(impl, items),
    resolver
  }
  impls.set(batcher, impl)
  return batcher
}

/** Adds a block of items with one waiting fiber; one outcome per item. */
const submitBlock = <O, E>(
  impl: internal.BatcherImpl,
  items: ReadonlyArray<unknown>
): Effect.Effect<Array<Either.Either<O, E>>> =>
  Effect.async<Array<Either.Either<O, E>>>((resume) => {
    if (items.length === 0) return resume(Effect.succeed([]))
    const block = impl.addBlock(items, (outcomes) => resume(Effect.succeed(outcomes)))
    if (block !== undefined) return Effect.sync(() => impl.leaveBlock(block))
  })
