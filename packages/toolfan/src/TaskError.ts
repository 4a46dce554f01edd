/**
 * The ways a task can end without a value. Every {@link TaskResult} that is not
 * `ok` carries exactly one of these, tagged so that `switch (error._tag)` and
 * `Match.tag` work, and each with a `message` a person can act on.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Predicate from "effect/Predicate"
import type { GroupLimitUnavailable } from "./GroupLimit.js"
import { describe, fieldsJSON } from "./internal/describe.js"

/**
 * A task error as JSON: its tag, its fields and its message (a getter, which
 * `JSON.stringify` would drop). Total: whatever the error carries (a circular
 * object, a BigInt, a getter that throws), this never throws; see
 * `TaskResult`'s JSON form.
 */
const toJSON = (error: { readonly _tag: string; readonly message: string }): Record<string, unknown> => ({
  _tag: error._tag,
  ...fieldsJSON(error),
  // the messages never throw: `describe` reads the carried value safely
  message: error.message
})

/**
 * The task's effect failed with `error` (its typed error `E`) on its last
 * attempt. In a group with a shared limit in `"fail"` mode, `error` can also
 * be a `GroupLimitUnavailable`: the limit's store could not be reached (the
 * task did not run), or a permit was lost and the attempt was interrupted. For `Task.fromPromise` tasks, `error` is the rejection reason or the
 * thrown value; `cause` holds the same original value in both cases.
 *
 * `retryAfterMs` is set when `error` was an overload asking for a wait longer
 * than the task's `maxRetryAfter`: the task was not retried (see `Overload`).
 *
 * @since 0.1.0
 * @category errors
 */
export class TaskFailed<E = unknown> extends Data.TaggedError("TaskFailed")<{
  readonly task: string
  readonly error: E
  readonly attempts: number
  readonly retryAfterMs?: number | undefined
}> {
  /** The original failure, as thrown or failed. @since 0.1.0 */
  override get cause(): E {
    return this.error
  }
  /** Its tag, fields and message, made safe for `JSON.stringify` (never throws). @since 0.1.0 */
  override toJSON(): Record<string, unknown> {
    return toJSON(this)
  }
  override get message(): string {
    const tries = this.attempts > 1 ? ` after ${this.attempts} attempts` : ""
    const wait = this.retryAfterMs === undefined
      ? ""
      : `; the provider asked to wait ${Duration.format(Duration.millis(this.retryAfterMs))} before a retry, ` +
        `longer than the task's maxRetryAfter: not retried`
    return `task "${this.task}" failed${tries}: ${describe(this.error)}${wait}`
  }
}

/**
 * The task's last attempt ran longer than its `timeout`. The attempt was
 * interrupted (its finalizers ran, its AbortSignal was aborted).
 *
 * @since 0.1.0
 * @category errors
 */
export class TaskTimedOut extends Data.TaggedError("TaskTimedOut")<{
  readonly task: string
  readonly timeout: Duration.Duration
  readonly attempts: number
}> {
  /** Its tag, fields and message, made safe for `JSON.stringify` (never throws). @since 0.1.0 */
  override toJSON(): Record<string, unknown> {
    return toJSON(this)
  }
  override get message(): string {
    const tries = this.attempts > 1 ? ` (attempt ${this.attempts})` : ""
    return `task "${this.task}" timed out after ${Duration.format(this.timeout)}${tries}; ` +
      `raise its timeout or make the tool answer sooner`
  }
}

/**
 * The task died: it threw inside `Effect.sync`, called `Effect.die`, or
 * otherwise ended with a defect. Defects are never retried.
 *
 * @since 0.1.0
 * @category errors
 */
export class TaskDefect extends Data.TaggedError("TaskDefect")<{
  readonly task: string
  readonly defect: unknown
  readonly attempts: number
}> {
  override get cause(): unknown {
    return this.defect
  }
  /** Its tag, fields and message, made safe for `JSON.stringify` (never throws). @since 0.1.0 */
  override toJSON(): Record<string, unknown> {
    return toJSON(this)
  }
  override get message(): string {
    return `task "${this.task}" died with a defect: ${describe(this.defect)}`
  }
}

/**
 * The task was cut off before it could finish: the run's `deadline` passed,
 * the run was interrupted, the scheduler was shut down, or the task's effect
 * interrupted itself. Never retried. With reason `"budget"` (since 0.3.0) it
 * never started (or was not retried): its run's `budget` was spent. With
 * reason `"cleared"` (since 0.4.0) it was waiting (for a slot, a retry or its
 * dependencies) when its scheduler's `clear()` was called; with `"queueFull"`
 * (since 0.4.0) it was refused at once, its scheduler holding `maxQueued`
 * tasks waiting already.
 *
 * @since 0.1.0
 * @category errors
 */
export class TaskInterrupted extends Data.TaggedError("TaskInterrupted")<{
  readonly task: string
  readonly reason: "deadline" | "interrupted" | "shutdown" | "budget" | "cleared" | "queueFull"
  readonly attempts: number
}> {
  /** Its tag, fields and message, made safe for `JSON.stringify` (never throws). @since 0.1.0 */
  override toJSON(): Record<string, unknown> {
    return toJSON(this)
  }
  override get message(): string {
    switch (this.reason) {
      case "deadline":
        return `task "${this.task}" was interrupted: the run's deadline passed`
      case "shutdown":
        return `task "${this.task}" was interrupted: its scheduler was shut down`
      case "interrupted":
        return `task "${this.task}" was interrupted`
      case "budget":
        return `task "${this.task}" was not started: its run's budget was spent`
      case "cleared":
        return `task "${this.task}" was not started: its scheduler's queue was cleared`
      case "queueFull":
        return `task "${this.task}" was refused: its scheduler's queue was full (see maxQueued)`
    }
  }
}

/**
 * The task never ran because a task it depends on did not succeed.
 *
 * @since 0.1.0
 * @category errors
 */
export class TaskSkipped extends Data.TaggedError("TaskSkipped")<{
  readonly task: string
  readonly dependency: string
}> {
  /** Its tag, fields and message, made safe for `JSON.stringify` (never throws). @since 0.1.0 */
  override toJSON(): Record<string, unknown> {
    return toJSON(this)
  }
  override get message(): string {
    return `task "${this.task}" was skipped: its dependency "${this.dependency}" did not succeed`
  }
}

/**
 * Every way a task can end without a value.
 *
 * @since 0.1.0
 * @category models
 */
export type TaskError<E = unknown> =
  | TaskFailed<E | GroupLimitUnavailable>
  | TaskTimedOut | TaskDefect | TaskInterrupted | TaskSkipped

const tags: ReadonlySet<unknown> = new Set(["TaskFailed", "TaskTimedOut", "TaskDefect", "TaskInterrupted", "TaskSkipped"])

/**
 * Whether `u` is one of the {@link TaskError}s. Checks the tag, so it works
 * across copies of the package.
 *
 * @since 0.1.0
 * @category guards
 */
export const isTaskError = (u: unknown): u is TaskError<unknown> =>
  Predicate.hasProperty(u, "_tag") && tags.has(u._tag) && Predicate.hasProperty(u, "task")
