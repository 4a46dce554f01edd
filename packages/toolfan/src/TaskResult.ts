/**
 * The outcome of one task in a run. A `TaskResult` never throws: it holds the
 * value or the {@link TaskError}, plus how many attempts were made and how long
 * the task ran and waited. `JSON.stringify(result)` never throws either,
 * whatever the value or the error holds, so a result can go back to a model
 * as it is.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as Predicate from "effect/Predicate"
import { toJSONSafe } from "./internal/describe.js"
import type { TaskError } from "./TaskError.js"

/**
 * @since 0.1.0
 * @category symbols
 */
export const TypeId: unique symbol = Symbol.for("toolfan/TaskResult")

interface Common<A, E> {
  readonly [TypeId]: typeof TypeId
  /** The task's name. */
  readonly name: string
  /** The outcome as an `Either`: `Right(value)` or `Left(TaskError)`. */
  readonly result: Either.Either<A, TaskError<E>>
  /** Attempts made (0 if the task never started). */
  readonly attempts: number
  /** Milliseconds from the first attempt's start to the settlement (0 if it never started). */
  readonly durationMs: number
  /** Milliseconds spent queued for a slot, summed over attempts. */
  readonly waitMs: number
  /**
   * Set when a hedge ran for it (see `Task.Options.hedge`): `"won"` if the
   * hedge gave the result, `"lost"` if the first attempt did (or neither
   * succeeded). `undefined` otherwise. @since 0.5.0
   */
  readonly hedge?: "won" | "lost" | undefined
  /**
   * `true` when it did not run but got the result of an identical task in
   * flight or cached (see `Task.Options.coalesce`); then `attempts` is 0 and
   * `durationMs` the time it waited for that result. @since 0.5.0
   */
  readonly coalesced?: boolean | undefined
}

/**
 * A task that produced its value.
 *
 * @since 0.1.0
 * @category models
 */
export interface Success<A, E = never> extends Common<A, E> {
  readonly ok: true
  readonly value: A
  readonly error: undefined
}

/**
 * A task that ended without a value.
 *
 * @since 0.1.0
 * @category models
 */
export interface Failure<A, E> extends Common<A, E> {
  readonly ok: false
  readonly value: undefined
  readonly error: TaskError<E>
}

/**
 * The outcome of one task: narrow it with `ok`.
 *
 * @example
 * ```ts
 * import type { TaskResult } from "toolfan"
 *
 * const show = (r: TaskResult.TaskResult<string, Error>) =>
 *   r.ok ? `${r.name}: ${r.value}` : `${r.name} failed: ${r.error.message}`
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type TaskResult<A, E = never> = Success<A, E> | Failure<A, E>

class TaskResultImpl<A, E> {
  readonly [TypeId] = TypeId
  constructor(
    readonly name: string,
    readonly ok: boolean,
    readonly value: A | undefined,
    readonly error: TaskError<E> | undefined,
    readonly attempts: number,
    readonly durationMs: number,
    readonly waitMs: number,
    // set for every result (a class shape the same for all): undefined and false unless hedged or coalesced
    readonly hedge: "won" | "lost" | undefined = undefined,
    readonly coalesced: boolean = false
  ) {}
  get result(): Either.Either<A, TaskError<E>> {
    return this.ok ? Either.right(this.value as A) : Either.left(this.error as TaskError<E>)
  }
  /**
   * The JSON form, ready to go back to a model: never throws, whatever the
   * value or the error carries (circular references, BigInts, throwing
   * getters; see docs/tasks-results-errors.md, "As JSON").
   */
  toJSON() {
    return {
      _id: "TaskResult",
      name: this.name,
      ok: this.ok,
      ...(this.ok ? { value: toJSONSafe(this.value) } : { error: errorJSON(this.error!) }),
      attempts: this.attempts,
      durationMs: this.durationMs,
      waitMs: this.waitMs,
      ...(this.hedge === undefined ? {} : { hedge: this.hedge }),
      ...(this.coalesced ? { coalesced: true } : {})
    }
  }
}

/**
 * An error as JSON, with its readable `message` (a getter, which JSON.stringify
 * would drop): a task error's own `toJSON` gives it, one from another copy of
 * the package may not.
 */
const errorJSON = (error: TaskError<unknown>): unknown => {
  const json = toJSONSafe(error)
  if (typeof json !== "object" || json === null || "message" in json) return json
  let message: unknown
  try {
    message = error.message
  } catch {
    message = error._tag
  }
  return { ...json, message }
}

/**
 * A successful result.
 *
 * @since 0.1.0
 * @category constructors
 */
export const succeed = <A>(
  name: string,
  value: A,
  stats: { readonly attempts: number; readonly durationMs: number; readonly waitMs: number }
): Success<A> => new TaskResultImpl<A, never>(name, true, value, undefined, stats.attempts, stats.durationMs, stats.waitMs) as any

/**
 * A failed result.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fail = <E>(
  name: string,
  error: TaskError<E>,
  stats: { readonly attempts: number; readonly durationMs: number; readonly waitMs: number }
): Failure<never, E> => new TaskResultImpl<never, E>(name, false, undefined, error, stats.attempts, stats.durationMs, stats.waitMs) as any

/**
 * A copy of a result with other stats (a hedged task's result from its two
 * attempts, a coalesced task's from the one that ran). @internal
 */
export const annotate = <A, E>(
  result: TaskResult<A, E>,
  stats: {
    readonly name: string
    readonly attempts: number
    readonly durationMs: number
    readonly waitMs: number
    readonly hedge: "won" | "lost" | undefined
    readonly coalesced: boolean
  }
): TaskResult<A, E> =>
  new TaskResultImpl<A, E>(
    stats.name,
    result.ok,
    result.value,
    result.error,
    stats.attempts,
    stats.durationMs,
    stats.waitMs,
    stats.hedge,
    stats.coalesced
  ) as any

/**
 * Whether `u` is a {@link TaskResult}.
 *
 * @since 0.1.0
 * @category guards
 */
export const isTaskResult = (u: unknown): u is TaskResult<unknown, unknown> => Predicate.hasProperty(u, TypeId)
