/**
 * A run's progress, kept only for a run that has a listener (`onProgress`):
 * a run without one has no `Progress` and the pool's only cost is one
 * `undefined` check where an attempt starts and where a task settles.
 *
 * Events are queued and delivered in one microtask, never from inside the
 * pool's bookkeeping: a listener may then start a run, clear the scheduler
 * or read its stats without re-entering the pool half-way through a change.
 * The microtask is queued by the change itself, so it runs before the run's
 * caller resumes (that goes through the settled run's fiber, later).
 */
import type * as P from "../Progress.js"
import type { TaskError } from "../TaskError.js"
import type { TaskResult } from "../TaskResult.js"

/** What progress needs of a job. @internal */
export interface ProgressJob {
  readonly index: number
  readonly attempts: number
  readonly task: { readonly name: string }
}

/** @internal */
export class Progress {
  /** The run's size; set by its owner once every task is added. */
  total = 0
  private running = 0
  private done = 0
  private failed = 0
  /** Jobs whose attempt is running (by index): a settled job may or may not have been running. */
  private readonly live = new Set<number>()
  private pending: Array<P.Event> = []
  private threw = false
  constructor(private readonly listener: P.Listener) {}

  started(job: ProgressJob): void {
    this.live.add(job.index)
    this.running++
    this.emit({ type: "started", task: job.task.name, index: job.index, attempt: job.attempts, counts: this.counts() })
  }

  /** The attempt ended, its task goes on (to a backoff): no event, it is counted as queued again. */
  ended(job: ProgressJob): void {
    if (this.live.delete(job.index)) this.running--
  }

  retrying(job: ProgressJob, error: TaskError<unknown>, delayMs: number): void {
    this.ended(job)
    const { index, attempts: attempt } = job
    this.emit({ type: "retrying", task: job.task.name, index, attempt, error, delayMs, counts: this.counts() })
  }

  settled(job: ProgressJob, result: TaskResult<unknown, unknown>): void {
    if (this.live.delete(job.index)) this.running--
    this.done++
    if (!result.ok) this.failed++
    this.emit({ type: "settled", task: job.task.name, index: job.index, attempt: job.attempts, result, counts: this.counts() })
  }

  private counts(): P.Counts {
    const { done, failed, running } = this
    // a task settled while its run is still being added (a cancelled run) counts in a total not yet set
    const total = Math.max(this.total, done + running)
    return { total, queued: total - running - done, running, done, failed }
  }

  private emit(event: P.Event): void {
    if (this.pending.push(event) === 1) queueMicrotask(this.flush)
  }

  private readonly flush = (): void => {
    const events = this.pending
    this.pending = []
    for (const event of events) {
      try {
        this.listener(event)
      } catch (error) {
        if (this.threw) continue
        this.threw = true
        console.error("toolfan: an onProgress listener threw (later throws of this run are ignored):", error)
      }
    }
  }
}
