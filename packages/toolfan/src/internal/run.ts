/**
 * A run: the handle through which tasks reach the pool. Its owner adds tasks
 * (`add`, or held ones it starts later with `release` or skips with `skip`),
 * gets each result as it settles (`onResult`) and closes it; the run is over
 * once it is closed, every task has settled and — for a nested run — its
 * parent has its slot back (`over`). `Scheduler.run`, `stream`, `runPlan`,
 * the Batcher and the Promise API are owners of runs.
 *
 * This module also holds the job (one task of a run, with its state in the
 * pool) and the worker (a fiber running jobs of one run), which the pool
 * changes; a run only creates jobs and records their results.
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as FiberRef from "effect/FiberRef"
import { globalValue } from "effect/GlobalValue"
import * as Runtime from "effect/Runtime"
import * as RuntimeFlags from "effect/RuntimeFlags"
import type * as Tracer from "effect/Tracer"
import type * as GroupLimit from "../GroupLimit.js"
import type * as P from "../Progress.js"
import type { GroupLimitUnavailable } from "../GroupLimit.js"
import type * as Task from "../Task.js"
import { type TaskError, TaskInterrupted } from "../TaskError.js"
import type * as TaskResult from "../TaskResult.js"
import type { Admission, Hold } from "./admission.js"
import type { Flight } from "./coalesce.js"
import type { Hedge } from "./hedge.js"
import { InContext } from "./context.js"
import { type GroupTags, tagsOf, type Trace, traceOf } from "./observe.js"
import { Progress } from "./progress.js"
import type { List } from "./queue.js"
import type { TimerEntry } from "./timer.js"

/** Why a run's unfinished tasks were cut (`"cleared"`, `"queueFull"`: one task, see the pool). @internal */
export type Reason = TaskInterrupted["reason"]

/** A job's state; the transitions are listed in pool.ts. @internal */
export const enum State {
  New,
  Waiting,
  Ready,
  Running,
  Backoff,
  Done
}

/** One task of a run, as the pool sees it. @internal */
export class Job {
  state = State.New
  /** The queue holding it, and its position there (queue.ts). */
  list: List<Job> | undefined = undefined
  slot = 0
  /** Admission state (admission.ts). */
  place = false
  hold: Hold | undefined = undefined
  acquiring: Fiber.RuntimeFiber<GroupLimit.Permit, GroupLimitUnavailable> | undefined = undefined
  holdsSlot = false
  /**
   * The times below start as doubles (`-0`, `-Infinity`), as they will hold: a field that starts as a small integer
   * and later gets a fraction changes its hidden class, and every job made before then is migrated when next
   * touched — measured: a million tasks in 3.5 s instead of 2.0 s.
   */
  queuedAt = -0
  /** Set when the permit of the running attempt was lost: the attempt is being interrupted. */
  revoked: GroupLimitUnavailable | undefined = undefined
  attempts = 0
  firstStart = Number.NEGATIVE_INFINITY
  /** Reported as `Math.max(0, waitMs)`: never `-0`. */
  waitMs = -0
  /** The current attempt's wait for a slot. */
  lastWaitMs = -0
  timedOut = false
  /** The running attempt is being cut (timed out, cancelled, its permit lost). */
  cut = false
  /** The span of a traced promise attempt run without a fiber (see `Direct`). */
  span: Tracer.Span | undefined = undefined
  entry: TimerEntry | undefined = undefined
  worker: Worker | undefined = undefined
  scheduleState: unknown = undefined
  controller: AbortController | undefined = undefined
  /** Nested runs borrowing this job's slot. */
  lends = 0
  /** While it takes its lent slot back: called once it has it, or gave up. */
  reclaim: (() => void) | undefined = undefined
  /** Whether it held a place in its group when it lent its slot (a rate limit's turn holds none). */
  lentPlace = false
  /** Its hedge (both jobs of a hedged task, once one has begun; see hedge.ts). */
  hedge: Hedge | undefined = undefined
  /** The flight it leads or follows (a coalesced task; see coalesce.ts). */
  flight: Flight | undefined = undefined
  /** Its task's priority; `Infinity` while it takes its lent slot back. */
  priority: number
  readonly tags: GroupTags
  /** What its start costs a limit that counts cost. */
  get cost(): number {
    return this.task.cost
  }
  /** Takes the AbortController of its attempt (see `promiseEffect`): the pool aborts it, and knows it by its signal. */
  own(controller: AbortController): void {
    this.controller = controller
    this.run.host.signals.set(controller.signal, this)
  }
  constructor(
    readonly run: Run,
    readonly index: number,
    /** The task; a held job's owner may replace it before it starts (a plan task made from its dependencies). */
    public task: Task.Any,
    readonly admission: Admission
  ) {
    this.priority = task.priority
    this.tags = tagsOf(task.group)
  }
}

/** A long-lived fiber running jobs of one run, one after another. @internal */
export class Worker {
  readonly _tag = "Worker"
  job: Job | undefined = undefined
  doomed = false
  fiber: Fiber.RuntimeFiber<void> | undefined = undefined
  constructor(readonly run: Run) {}
}

/** What a run needs from the pool. @internal */
export interface RunHost {
  admission(group: string | undefined): Admission
  enqueue(job: Job, now?: number): void
  /** Queues a coalesced task (`task.coalesce`): it runs, or waits for an identical one (coalesce.ts). */
  join(job: Job, now?: number): void
  /** A reading of the pool's monotonic clock, in ms. */
  now(): number
  /** Gives a job its failed result. */
  settle(job: Job, error: TaskError<unknown>): void
  /** Every task settled and the run is closed. */
  finished(run: Run): void
  /** Registers a run: its parent's slot, its signal, its deadline. */
  open(run: Run): void
  /** Fills free slots. */
  pump(reuse: undefined): void
  cancel(run: Run, reason: Reason): void
  /**
   * The running attempts' signals, so that a Promise API run given a task's
   * signal is known to be nested in it. A Map entry while the attempt runs
   * measured cheaper than a WeakMap entry per attempt (an ephemeron each for
   * the GC) or a property on the signal.
   */
  readonly signals: Map<AbortSignal, Job>
}

/** Options of {@link execute}: a run's, and which tasks its owner holds back. @internal */
export interface ExecuteOptions extends RunOptions {
  readonly held?: ((index: number) => boolean) | undefined
}

/**
 * Runs `tasks` on `host` as one run and returns every result, in order. A run
 * started inside a task borrows that task's slot: the attempt is `parent`
 * when given (the Promise API knows it by the task's signal), else the one
 * the calling fiber belongs to. Interrupted, the run is cancelled and the
 * caller goes on once it is over (every task settled and, for a nested run,
 * its parent's slot back: until then the caller's task would run without a
 * slot). @internal
 */
export const execute = (
  host: RunHost,
  tasks: ReadonlyArray<Task.Any>,
  options: ExecuteOptions,
  parent?: Job | undefined
): Effect.Effect<Array<TaskResult.TaskResult<unknown, unknown>>, never, any> => {
  if (tasks.length === 0) return Effect.sync(() => [])
  const body = (parent: Job | undefined) =>
    Effect.flatMap(Effect.runtime<any>(), (runtime) => {
      const run = new Run(host, workerRuntime(runtime), options, parent, traceOf(runtime))
      if (run.progress !== undefined) run.progress.total = tasks.length
      host.open(run)
      const now = host.now()
      for (let i = 0; i < tasks.length; i++) run.add(tasks[i]!, options.held?.(i), now)
      run.close()
      host.pump(undefined)
      const cut = Effect.zipRight(Effect.sync(() => host.cancel(run, "interrupted")), Deferred.await(run.over))
      return Effect.as(Effect.onInterrupt(Deferred.await(run.over), () => cut), run.results)
    })
  return parent !== undefined
    ? body(parent)
    : Effect.flatMap(FiberRef.get(currentWorker), (owner) => body(parentOf(host, owner)))
}

/** The attempt a run started by `owner`'s fiber is nested in, if it belongs to `host`. @internal */
export const parentOf = (host: RunHost, owner: Owner | undefined): Job | undefined => {
  if (owner === undefined) return undefined
  const job = owner.job
  if (job === undefined || job.run.host !== host || job.state !== State.Running) return undefined
  // a forked fiber's run is nested only in the attempt it was forked from, while that attempt runs. (A Runtime
  // captured inside an attempt carries the Worker itself: pinning it to the attempt would need a FiberRef update per
  // attempt, ~0.3 µs, so a run made with it later counts as nested in whatever that worker runs then.)
  return owner._tag === "Worker" || (job.attempts === owner.attempt && job.worker !== undefined) ? job : undefined
}

/** @internal */
export interface RunOptions {
  readonly deadlineMs: number
  /** Called as each task settles. */
  readonly onResult?: ((result: TaskResult.TaskResult<unknown, unknown>, index: number, run: Run) => void) | undefined
  /** Aborting it cancels the run (Promise API). */
  readonly signal?: AbortSignal | undefined
  /** The signal of the attempt the run is nested in, when that is not `signal` (Promise API; see `parentOf`). */
  readonly parent?: AbortSignal | undefined
  /** The most cost its attempts may take (see `Task.cost`); default: no limit. */
  readonly budget?: number | undefined
  /** Whether the run keeps its results (default); a stream hands each one out and keeps none. */
  readonly keepResults?: boolean | undefined
  /** Told of each attempt's start, each retry and each settlement (see `Progress`). */
  readonly onProgress?: P.Listener | undefined
}

let runs = 0

/** @internal */
export class Run {
  /** Tells runs apart in spans: tasks of different runs may share a name. */
  readonly id = ++runs
  /**
   * Its jobs by index, each until it settles: a settled job is let go at once
   * (its result is kept), so a long run holds only its unsettled jobs — at
   * 1,000,000 tasks that is ~160 bytes a task less for the GC to walk.
   */
  readonly jobs: Array<Job | undefined> = []
  /** Tasks added. */
  private added = 0
  readonly results: Array<TaskResult.TaskResult<unknown, unknown>> = []
  private settled = 0
  private closed = false
  cancelled: Reason | undefined = undefined
  /** The cost its attempts took so far, and the most they may (`options.budget`). */
  spent = 0
  readonly budget: number
  deadline: TimerEntry | undefined = undefined
  /** Stops listening to the run's signal. */
  stopListening: (() => void) | undefined = undefined
  /** Done once the run is over: closed, every task settled and, for a nested run, its parent's slot back. */
  readonly over = Deferred.unsafeMake<void>(FiberId.none)
  /** Runs the run's workers in its caller's async context (see `InContext`). */
  readonly effectScheduler: InContext
  /** Its progress, kept only when it has a listener. */
  readonly progress: Progress | undefined
  constructor(
    readonly host: RunHost,
    /** The caller's runtime, with interruption off outside attempts (see `workerRuntime`). */
    readonly runtime: Runtime.Runtime<any>,
    readonly options: RunOptions,
    /** The attempt this run was started from, whose slot it borrows. */
    readonly parent: Job | undefined,
    /** How its attempts make spans, when a tracer that exports is installed (see observe.ts). */
    readonly trace: Trace | undefined
  ) {
    this.effectScheduler = new InContext(runtime)
    this.budget = options.budget ?? Number.POSITIVE_INFINITY
    this.progress = options.onProgress === undefined ? undefined : new Progress(options.onProgress)
  }

  /** The random part of its tasks' idempotency keys, made when first asked for (see keys.ts). */
  idempotencyBase: string | undefined = undefined

  /** Whether its attempts run in spans. */
  get traced(): boolean {
    return this.trace !== undefined
  }

  /** Whether every task added so far has settled and no more will come. */
  get done(): boolean {
    return this.closed && this.settled === this.added
  }

  /**
   * Adds a task and queues it, unless `held` (see `release`); in a cancelled
   * run it settles at once as `TaskInterrupted`. The owner fills free slots
   * afterwards (`Pool.pump`). Returns its index.
   */
  add(task: Task.Any, held = false, now?: number): number {
    const index = this.added++
    const job = new Job(this, index, task, this.host.admission(task.group))
    this.jobs.push(job)
    if (this.cancelled !== undefined) this.host.settle(job, interrupted(job, this.cancelled))
    else if (!held) task.coalesce === undefined ? this.host.enqueue(job, now) : this.host.join(job, now)
    return index
  }

  /** No more tasks: the run is over once those added have settled. */
  close(): void {
    this.closed = true
    if (this.settled === this.added) this.host.finished(this)
  }

  /** Queues a held task, optionally replaced (a plan task made from its dependencies' values). */
  release(index: number, task?: Task.Any): void {
    const job = this.jobs[index]
    if (job === undefined || job.state !== State.New || this.cancelled !== undefined) return
    if (task !== undefined) job.task = task
    if (job.task.coalesce === undefined) this.host.enqueue(job)
    else this.host.join(job)
  }

  /** Settles a held task without running it (a plan task whose dependency failed). */
  skip(index: number, error: TaskError<unknown>): void {
    const job = this.jobs[index]
    if (job !== undefined && job.state === State.New && this.cancelled === undefined) this.host.settle(job, error)
  }

  /** Keeps a task's result and tells the owner (the pool calls it once per task). */
  record(job: Job, result: TaskResult.TaskResult<unknown, unknown>): void {
    if (this.options.keepResults !== false) this.results[job.index] = result
    this.jobs[job.index] = undefined
    this.settled++
    const onResult = this.options.onResult
    if (this.progress !== undefined) this.progress.settled(job, result)
    if (onResult !== undefined) onResult(result, job.index, this)
    if (this.done) this.host.finished(this)
  }
}

/** @internal */
export const interrupted = (job: Job, reason: Reason): TaskInterrupted =>
  new TaskInterrupted({ task: job.task.name, reason, attempts: job.attempts })



/**
 * A fiber forked during an attempt belongs to that attempt (job and attempt
 * number), not to the worker, which moves on to other jobs. @internal
 */
export interface ForkedFrom {
  readonly _tag: "ForkedFrom"
  readonly job: Job
  readonly attempt: number
}

/** What `currentWorker` holds: the worker on a worker's fiber, the attempt on fibers forked from it. @internal */
export type Owner = Worker | ForkedFrom

/**
 * The worker (if any) whose attempt the current fiber is running. A child
 * forked during an attempt gets that attempt instead, so that a background
 * fiber outliving its task is never taken for a nested run of whatever task
 * the worker runs next. @internal
 */
export const currentWorker: FiberRef.FiberRef<Owner | undefined> = globalValue(
  Symbol.for("toolfan/internal/currentWorker/v2"),
  () =>
    FiberRef.unsafeMake<Owner | undefined>(undefined, {
      fork: (owner) =>
        owner === undefined || owner._tag === "ForkedFrom"
          ? owner
          : owner.job === undefined
          ? undefined
          : { _tag: "ForkedFrom", job: owner.job, attempt: owner.job.attempts },
      join: (parent) => parent
    })
)

/** The runtime for a run's workers: the caller's, with interruption off outside attempts. @internal */
export const workerRuntime = <R>(runtime: Runtime.Runtime<R>): Runtime.Runtime<R> =>
  Runtime.make({
    context: runtime.context,
    fiberRefs: runtime.fiberRefs,
    runtimeFlags: RuntimeFlags.disable(runtime.runtimeFlags, RuntimeFlags.Interruption)
  })
