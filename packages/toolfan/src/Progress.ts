/**
 * Progress events of a run, for a progress bar or a live log: pass
 * `onProgress` in a run's options (`Scheduler.run`, `stream`, `runPlan`, and
 * the Promise API's). Each event names the task and carries the run's counts
 * at that moment.
 *
 * @since 0.4.0
 */
import type { TaskError } from "./TaskError.js"
import type { TaskResult } from "./TaskResult.js"

/**
 * A run's counts when an event happened. `queued` is every task of the run
 * not running and not settled: waiting for a slot or its group, waiting out a
 * backoff, or (in a plan) waiting for its dependencies. `total` = `queued` +
 * `running` + `done`; `failed` ≤ `done`.
 *
 * @since 0.4.0
 * @category models
 */
export interface Counts {
  readonly total: number
  readonly queued: number
  readonly running: number
  /** Tasks settled (succeeded or not). */
  readonly done: number
  /** Tasks settled without a value. */
  readonly failed: number
}

/**
 * One event of a run:
 * - `"started"`: an attempt started (`attempt` is its number, from 1);
 * - `"retrying"`: attempt `attempt` failed with `error` and the task will try
 *   again after `delayMs`;
 * - `"settled"`: the task has its `result` (`attempt` = attempts made, 0 if it
 *   never started).
 *
 * @since 0.4.0
 * @category models
 */
export type Event =
  | { readonly type: "started"; readonly task: string; readonly index: number; readonly attempt: number; readonly counts: Counts }
  | {
    readonly type: "retrying"
    readonly task: string
    readonly index: number
    readonly attempt: number
    readonly error: TaskError<unknown>
    readonly delayMs: number
    readonly counts: Counts
  }
  | {
    readonly type: "settled"
    readonly task: string
    readonly index: number
    readonly attempt: number
    readonly result: TaskResult<unknown, unknown>
    readonly counts: Counts
  }

/**
 * A run's progress listener. It is called after the change it reports, in a
 * microtask (never inside the scheduler's bookkeeping, so it may start runs or
 * read stats), in order, and every event of a run is delivered before the run
 * returns. A listener that throws does not affect the run: its first throw
 * in a run is reported with `console.error`, later ones are ignored.
 *
 * @since 0.4.0
 * @category models
 */
export type Listener = (event: Event) => void
