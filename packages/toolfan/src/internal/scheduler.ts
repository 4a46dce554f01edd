/**
 * The scheduler's machinery.
 *
 * # Why it is built this way
 *
 * The obvious implementation — `Effect.forEach(tasks, t => withSemaphore(
 * retry(timeout(t))), { concurrency })` — costs 16–25× p-limit per task: a
 * fiber per task, two more racing fibers per timeout, the retry machinery
 * entered even when nothing fails. toolfan's contract asks for roughly
 * p-limit's cost, so the hot path is plain, synchronous bookkeeping and Effect
 * does what only Effect can do (run the task's effect, interrupt it, sleep on
 * the Clock):
 *
 * - **Slots** are a counter per scheduler (`active`, at most `max`) and one per
 *   group. Waiting jobs sit in a priority bucket queue (`ready`). A job whose
 *   group is full waits in its group's queue and enters `ready` only when the
 *   group has room, so it holds no global slot and blocks nobody else (no
 *   head-of-line blocking).
 * - **Workers** are long-lived fibers, forked per run in the caller's context
 *   (so tasks see the caller's services, spans and FiberRefs). A worker that
 *   finishes a job takes the next one of its own run at once, without a new
 *   fiber. When the next job in priority order belongs to another run, the
 *   worker hands the slot over (a worker is forked for that run) and ends.
 *   Trade-off: a `FiberRef.set` made by one task can be seen by the next task
 *   on the same worker.
 * - **Timeouts, backoffs and deadlines** all live in one timer fiber per
 *   scheduler (see `timer.ts`). When an attempt times out, the timer interrupts
 *   its worker; the worker records the outcome after the attempt's finalizers
 *   ran, and ends (an interrupted fiber cannot be reused). A new worker is
 *   forked if its run has more to do.
 * - **Retries** are decided only when an attempt fails, by stepping the task's
 *   `Schedule` once; the job then waits in the timer (holding no slot) and is
 *   queued again. Nothing retry-related runs on success.
 * - Workers run with interruption disabled except around the attempt itself,
 *   so an interruption can only land inside the attempt and the bookkeeping
 *   after it always runs.
 *
 * All state is mutated synchronously from fibers of one JavaScript thread, so
 * no locks are needed. Fibers are never started synchronously from inside the
 * bookkeeping (`immediate: false`), so none of it is re-entered.
 */
import * as Cause from "effect/Cause"
import type * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as FiberRef from "effect/FiberRef"
import * as FiberRefs from "effect/FiberRefs"
import { globalValue } from "effect/GlobalValue"
import * as Option from "effect/Option"
import * as Runtime from "effect/Runtime"
import * as RuntimeFlags from "effect/RuntimeFlags"
import type * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as ScheduleIntervals from "effect/ScheduleIntervals"
import type * as GroupLimit from "../GroupLimit.js"
import { GroupLimitUnavailable } from "../GroupLimit.js"
import * as Metrics from "../Metrics.js"
import * as Spans from "../Spans.js"
import * as Task from "../Task.js"
import { TaskDefect, type TaskError, TaskFailed, TaskInterrupted, TaskSkipped, TaskTimedOut } from "../TaskError.js"
import * as TaskResult from "../TaskResult.js"
import { resumeWith } from "./promise.js"
import { BucketQueue, type Linked, type List, remove } from "./queue.js"
import { type GroupTags, outcomeTags, tagsOf } from "./observe.js"
import { InContext } from "./context.js"
import { onAbort } from "./signals.js"
import { Timer, type TimerEntry } from "./timer.js"

type Reason = "deadline" | "interrupted" | "shutdown"

const enum State {
  New,
  GroupQueued,
  /** Holds a place in its group, asking the group's limit for a permit. */
  Acquiring,
  Queued,
  Running,
  Backoff,
  Done
}

/**
 * A cap on the jobs of one group (running, holding a place in `ready`, or
 * asking its limit for a permit). A group with a `GroupLimit` caps here at the
 * limit's `local` and also asks the limit for a permit per attempt.
 */
interface Group {
  readonly name: string
  readonly cap: number
  used: number
  readonly queue: BucketQueue<Ticket>
  readonly limit: StartedLimit | undefined
}

/** A group's limit, started for this scheduler. @internal */
export interface StartedLimit {
  readonly limit: GroupLimit.GroupLimit
  readonly limiter: GroupLimit.Limiter
}

/**
 * A permit granted by a group's limit, and the ticket holding it now (a
 * reclaim ticket hands its permit to its job). `revoke` callbacks find the
 * holder through it.
 */
interface Hold {
  ticket: Ticket
  permit: GroupLimit.Permit | undefined
  released: boolean
}

/** What waits in the queues: a job's attempt, or a parent reclaiming its lent slot. */
interface Ticket extends Linked<Ticket> {
  readonly priority: number
  readonly group: Group | undefined
  state: State
  holdsGroup: boolean
  holdsSlot: boolean
  queuedAt: number
  /** The permit of the group's limit, once granted. */
  hold: Hold | undefined
  /** The request for a permit, while `Acquiring`. */
  acquiring: Fiber.RuntimeFiber<GroupLimit.Permit, GroupLimitUnavailable> | undefined
}

/** @internal */
export class Job implements Ticket {
  state = State.New
  /** Links of the queue holding it (queue.ts). */
  prev: Ticket | undefined = undefined
  next: Ticket | undefined = undefined
  list: List<Ticket> | undefined = undefined
  holdsGroup = false
  holdsSlot = false
  queuedAt = 0
  hold: Hold | undefined = undefined
  acquiring: Fiber.RuntimeFiber<GroupLimit.Permit, GroupLimitUnavailable> | undefined = undefined
  /** Set when the permit of the running attempt was lost: the attempt is being interrupted. */
  revoked: GroupLimitUnavailable | undefined = undefined
  attempts = 0
  firstStart = -1
  waitMs = 0
  /** The current attempt's wait for a slot. */
  lastWaitMs = 0
  timedOut = false
  entry: TimerEntry | undefined = undefined
  worker: Worker | undefined = undefined
  scheduleState: unknown = undefined
  controller: AbortController | undefined = undefined
  /** Nested runs currently borrowing this job's slot. */
  lends = 0
  /** The ticket by which this job takes its lent slot back, while queued. */
  reclaim: Reclaim | undefined = undefined
  /**
   * Whether it held a place in its group when it lent its slot, and so must
   * take one back. A task of a rate-limited group holds none while it runs
   * (its permit was a turn to start): taking its slot back is no new start.
   */
  lentGroup = false
  readonly priority: number
  /** Metric tags of its group. */
  readonly tags: GroupTags
  constructor(
    readonly run: Run,
    readonly index: number,
    /** The task; for a plan task with dependencies, replaced by one with its effect when they are ready. */
    public task: Task.Any,
    readonly group: Group | undefined
  ) {
    this.priority = task.priority
    this.tags = tagsOf(task.group)
  }
}

class Reclaim implements Ticket {
  state = State.New
  prev: Ticket | undefined = undefined
  next: Ticket | undefined = undefined
  list: List<Ticket> | undefined = undefined
  holdsGroup = false
  holdsSlot = false
  queuedAt = 0
  hold: Hold | undefined = undefined
  acquiring: Fiber.RuntimeFiber<GroupLimit.Permit, GroupLimitUnavailable> | undefined = undefined
  readonly priority = Number.POSITIVE_INFINITY
  constructor(readonly job: Job, readonly done: () => void, readonly group: Group | undefined) {}
}

/** @internal */
export class Worker {
  readonly _tag = "Worker"
  job: Job | undefined = undefined
  doomed = false
  fiber: Fiber.RuntimeFiber<void> | undefined = undefined
  constructor(readonly run: Run) {}
}

/**
 * What a plan run needs on top of a run: each task's dependencies and
 * dependents, and how many of its dependencies have not succeeded yet.
 * @internal
 */
export interface PlanState {
  readonly nodes: ReadonlyArray<PlanNode>
  readonly waiting: Array<number>
  readonly dependents: ReadonlyArray<Array<number>>
  readonly dependencyIndexes: ReadonlyArray<ReadonlyArray<number>>
}

/** @internal */
export interface PlanNode {
  readonly name: string
  readonly dependencies: ReadonlyArray<string>
  readonly task: Task.Any
  readonly make: ((values: Readonly<Record<string, unknown>>) => Effect.Effect<unknown, unknown, unknown>) | undefined
}

/** @internal */
/**
 * Sets an own property, even for a name like `"__proto__"` (a plain
 * assignment would set the prototype instead). @internal
 */
export const setOwn = (record: Record<string, unknown>, name: string, value: unknown): void => {
  if (name === "__proto__") Object.defineProperty(record, name, { value, enumerable: true, writable: true, configurable: true })
  else record[name] = value
}

/** @internal */
export const planState = (nodes: ReadonlyArray<PlanNode>): PlanState => {
  const index = new Map(nodes.map((n, i) => [n.name, i] as const))
  const dependents = nodes.map((): Array<number> => [])
  const dependencyIndexes = nodes.map((n, i) =>
    n.dependencies.map((d) => {
      const j = index.get(d)!
      dependents[j]!.push(i)
      return j
    })
  )
  return { nodes, waiting: nodes.map((n) => n.dependencies.length), dependents, dependencyIndexes }
}

/** @internal */
export interface RunOptions {
  readonly deadlineMs: number
  readonly onResult?: ((result: TaskResult.TaskResult<unknown, unknown>, index: number) => void) | undefined
  /** Aborting it cancels the run (Promise API). */
  readonly signal?: AbortSignal | undefined
  /** Makes the run a plan: tasks start when their dependencies have succeeded. */
  readonly plan?: PlanState | undefined
}

/**
 * The job whose attempt owns an AbortSignal, so that a Promise API run given
 * a task's signal is known to be nested in that task.
 * @internal
 */
export const signalJobs = new WeakMap<AbortSignal, Job>()

/** @internal */
let runs = 0

/** @internal */
export class Run {
  /** Tells runs apart in spans (`toolfan.run.id`): tasks of different runs may share a name. */
  readonly id = ++runs
  readonly jobs: Array<Job> = []
  readonly results: Array<TaskResult.TaskResult<unknown, unknown>>
  remaining: number
  cancelled: Reason | undefined = undefined
  deadline: TimerEntry | undefined = undefined
  onDone: (() => void) | undefined = undefined
  /**
   * Whether the run is over for its caller: every task settled and, for a
   * nested run, its parent holds its slot again (until then the caller must
   * not go on, even when interrupted: its task would run without a slot).
   */
  over = false
  /** Stops listening to the run's signal. */
  onAbort: (() => void) | undefined = undefined
  /**
   * Runs the run's worker fibers in the async context (`AsyncLocalStorage`)
   * of the call that started the run (see `InContext`).
   */
  readonly effectScheduler: InContext
  constructor(
    readonly scheduler: SchedulerImpl,
    readonly runtime: Runtime.Runtime<any>,
    readonly options: RunOptions,
    size: number,
    /** The task this run was started from, whose slot it borrows. */
    readonly parent: Job | undefined,
    /** Whether its attempts run in spans (a tracer that exports is installed; see observe.ts). */
    readonly traced: boolean
  ) {
    this.results = new Array(size)
    this.remaining = size
    this.effectScheduler = new InContext(runtime)
  }
}


/**
 * A fiber forked during an attempt: it belongs to that attempt (job and
 * attempt number), not to the worker, which moves on to other jobs. A run it
 * starts is nested only while that very attempt runs. @internal
 */
export interface ForkedFrom {
  readonly _tag: "ForkedFrom"
  readonly job: Job
  readonly attempt: number
}

/** What `currentWorker` holds: the worker itself on a worker's fiber, the attempt on fibers forked from it. @internal */
export type Owner = Worker | ForkedFrom

/**
 * The worker (if any) whose attempt the current fiber is running. A child
 * forked during an attempt gets that attempt instead (see `ForkedFrom`), so
 * that a background fiber outliving its task is never taken for a nested run
 * of whatever task the worker runs next. @internal
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

const isReady = (t: Ticket): boolean => t.state === State.Queued
const isGroupQueued = (t: Ticket): boolean => t.state === State.GroupQueued

/** @internal */
export interface Stats {
  readonly active: number
  readonly pending: number
  readonly delayed: number
}

/** @internal */
export class SchedulerImpl {
  active = 0
  pending = 0
  delayed = 0
  closed = false
  readonly ready = new BucketQueue<Ticket>()
  readonly groups = new Map<string, Group>()
  readonly runs = new Set<Run>()
  readonly timer: Timer
  private onIdle: (() => void) | undefined = undefined

  constructor(
    readonly max: number,
    groups: Readonly<Record<string, number | StartedLimit>>,
    readonly clock: Clock.Clock,
    readonly runtime: Runtime.Runtime<never>
  ) {
    for (const [name, cap] of Object.entries(groups)) {
      const limit = typeof cap === "number" ? undefined : cap
      this.groups.set(name, { name, cap: limit?.limit.local ?? cap as number, used: 0, queue: new BucketQueue(), limit })
    }
    this.timer = new Timer(clock, runtime)
  }

  stats(): Stats {
    return { active: this.active, pending: this.pending, delayed: this.delayed }
  }

  // ---------------------------------------------------------------------------
  // runs
  // ---------------------------------------------------------------------------

  /**
   * Starts a run: queues its jobs and fills free slots. `onDone` is called
   * (once) when every job has its result.
   */
  start(run: Run, tasks: ReadonlyArray<Task.Any>): void {
    const now = this.timer.now()
    this.runs.add(run)
    for (let i = 0; i < tasks.length; i++) {
      const task = tasks[i]!
      const group = task.group === undefined ? undefined : this.groups.get(task.group)
      run.jobs.push(new Job(run, i, task, group))
    }
    if (run.parent !== undefined) this.lend(run.parent)
    if (this.closed) {
      this.cancel(run, "shutdown")
      return
    }
    const signal = run.options.signal
    if (signal !== undefined) {
      // a nested run of the Promise API is cancelled through its parent's signal: when the scheduler is closing,
      // that is its shutdown
      if (signal.aborted) {
        this.cancel(run, this.closed ? "shutdown" : "interrupted")
        return
      }
      run.onAbort = onAbort(signal, () => this.cancel(run, this.closed ? "shutdown" : "interrupted"))
    }
    if (run.options.deadlineMs !== Number.POSITIVE_INFINITY) {
      run.deadline = this.timer.lane(now, run.options.deadlineMs, this.deadlinePassed, run)
    }
    const plan = run.options.plan
    for (const job of run.jobs) {
      if (plan === undefined) this.enqueue(job, now)
      else if (plan.waiting[job.index] === 0) this.startPlanTask(run, plan, job, now)
    }
    this.pump(undefined)
  }

  /** A plan task whose dependencies all succeeded: made from their values and queued. */
  private startPlanTask(run: Run, plan: PlanState, job: Job, now: number): void {
    const node = plan.nodes[job.index]!
    const make = node.make
    if (make !== undefined) {
      const values: Record<string, unknown> = {}
      for (const j of plan.dependencyIndexes[job.index]!) setOwn(values, plan.nodes[j]!.name, run.results[j]!.value)
      job.task = Task.withEffect(node.task, Effect.suspend(() => make(values)))
    }
    this.enqueue(job, now)
  }

  /**
   * A plan task settled: its dependents whose dependencies have now all
   * succeeded start at once; if it did not succeed, its dependents are
   * skipped (and theirs, transitively), naming it.
   */
  private propagate(run: Run, plan: PlanState, job: Job, ok: boolean): void {
    if (run.cancelled !== undefined) return // cancel settles the rest as interrupted
    for (const d of plan.dependents[job.index]!) {
      const dependent = run.jobs[d]!
      if (dependent.state !== State.New) continue
      if (!ok) {
        this.settle(dependent, new TaskSkipped({ task: dependent.task.name, dependency: job.task.name }))
      } else if (--plan.waiting[d]! === 0) {
        this.startPlanTask(run, plan, dependent, this.timer.now())
      }
    }
  }

  /**
   * Cancels what is left of a run: queued and backing-off jobs settle at once
   * as `TaskInterrupted`; running attempts are interrupted and settle when
   * their finalizers have run.
   */
  cancel(run: Run, reason: Reason): void {
    if (run.cancelled !== undefined || run.remaining === 0) return
    run.cancelled = reason
    if (run.deadline !== undefined) this.timer.cancel(run.deadline)
    for (const job of run.jobs) {
      switch (job.state) {
        case State.New:
          this.settleInterrupted(job, reason)
          break
        case State.GroupQueued:
        case State.Acquiring:
        case State.Queued:
          // the wait it was cut in counts too
          job.waitMs += this.timer.now() - job.queuedAt
          this.drop(job)
          this.settleInterrupted(job, reason)
          break
        case State.Backoff:
          this.delayed--
          if (job.entry !== undefined) this.timer.cancel(job.entry)
          this.settleInterrupted(job, reason)
          break
        case State.Running:
          this.interrupt(job.worker, job)
          break
        case State.Done:
          break
      }
    }
    this.pump(undefined)
  }

  /** Called when the scheduler's scope closes: every run is cancelled. */
  shutdown(): Effect.Effect<void> {
    return Effect.suspend(() => {
      this.closed = true
      for (const run of this.runs) this.cancel(run, "shutdown")
      if (this.runs.size === 0) {
        this.timer.shutdown()
        return Effect.void
      }
      return Effect.async<void>((resume) => {
        this.onIdle = () => {
          this.timer.shutdown()
          resume(Effect.void)
        }
      })
    })
  }

  private finishRun(run: Run): void {
    if (run.deadline !== undefined) this.timer.cancel(run.deadline)
    if (run.onAbort !== undefined) run.onAbort()
    this.runs.delete(run)
    // read when called, not now: an interrupted caller may replace onDone while the slot is being taken back
    const done = () => {
      run.over = true
      const onDone = run.onDone
      run.onDone = undefined
      if (onDone !== undefined) onDone()
    }
    // a nested run ends when its parent holds its slot again
    const ticket = run.parent === undefined ? undefined : this.endLend(run.parent, done)
    if (ticket === undefined) done()
    if (this.runs.size === 0 && this.onIdle !== undefined) {
      const idle = this.onIdle
      this.onIdle = undefined
      idle()
    }
  }

  // ---------------------------------------------------------------------------
  // queues and slots
  // ---------------------------------------------------------------------------

  /** Puts a ticket in line: in `ready` if its group has room, else in its group's queue. */
  private enqueue(t: Ticket, now: number): void {
    t.queuedAt = now
    this.pending++
    const group = t.group
    if (group === undefined || t.holdsGroup) {
      t.state = State.Queued
      this.ready.push(t)
    } else if (group.used < group.cap) {
      group.used++
      t.holdsGroup = true
      this.admit(t, group)
    } else {
      t.state = State.GroupQueued
      group.queue.push(t)
    }
  }

  /** A ticket given a place in its group goes to `ready`, or first asks the group's limit. */
  private admit(t: Ticket, group: Group): void {
    if (group.limit === undefined || t.hold !== undefined) {
      t.state = State.Queued
      this.ready.push(t)
    } else {
      this.acquire(t, group.limit)
    }
  }

  private releaseGroup(t: Ticket): void {
    if (!t.holdsGroup) return
    t.holdsGroup = false
    const hold = t.hold
    if (hold !== undefined) {
      t.hold = undefined
      hold.released = true
      if (hold.permit !== undefined) this.releasePermit(hold.permit)
    }
    const group = t.group!
    group.used--
    while (group.used < group.cap) {
      const next = group.queue.shift(isGroupQueued)
      if (next === undefined) break
      group.used++
      next.holdsGroup = true
      this.admit(next, group)
    }
  }

  /** Takes a waiting ticket (group-queued, acquiring or queued) out of line, giving back its place. */
  private drop(t: Ticket): void {
    this.pending--
    // out of `ready` or its group's queue at once: a ticket that gave up must not stay behind a stuck one
    remove(t)
    const fiber = t.acquiring
    if (fiber !== undefined) {
      // the observer (`acquired`) releases the permit if it was granted meanwhile
      t.acquiring = undefined
      fiber.unsafeInterruptAsFork(FiberId.none)
    }
    this.releaseGroup(t)
  }

  // ---------------------------------------------------------------------------
  // group limits (GroupLimit): permits asked for asynchronously
  // ---------------------------------------------------------------------------

  /**
   * Asks the group's limit for a permit. The ticket keeps its place in the
   * group (bounding the requests in flight to the limit's `local`) but holds
   * no slot; when the permit comes it enters `ready`.
   */
  private acquire(t: Ticket, started: StartedLimit): void {
    t.state = State.Acquiring
    const hold: Hold = { ticket: t, permit: undefined, released: false }
    // suspended: a custom limiter that throws instead of failing ends this request (see `acquired`), nothing else
    const fiber = Runtime.runFork(
      this.runtime,
      Effect.suspend(() => started.limiter.acquire((error) => this.revoke(hold, started, error))),
      { immediate: false }
    )
    t.acquiring = fiber
    fiber.addObserver((exit) => this.acquired(t, hold, started, fiber, exit))
  }

  private acquired(
    t: Ticket,
    hold: Hold,
    started: StartedLimit,
    fiber: Fiber.RuntimeFiber<GroupLimit.Permit, GroupLimitUnavailable>,
    exit: Exit.Exit<GroupLimit.Permit, GroupLimitUnavailable>
  ): void {
    if (t.acquiring !== fiber) {
      // given up meanwhile (cancelled): hand back what was granted
      hold.released = true
      if (Exit.isSuccess(exit)) this.releasePermit(exit.value)
      return
    }
    t.acquiring = undefined
    if (Exit.isSuccess(exit)) {
      hold.permit = exit.value
      t.hold = hold
      t.state = State.Queued
      this.ready.push(t)
      // a rate limit's permit is a turn to start: the place goes to the next task waiting for a turn
      if (started.limit.kind === "rate") this.releaseGroup(t)
      this.pump(undefined)
      return
    }
    const failure = Cause.failureOption(exit.cause)
    const error = Option.isSome(failure) ? failure.value : new GroupLimitUnavailable({
      limit: started.limit.description,
      reason: "asking for a permit ended unexpectedly",
      cause: Cause.squash(exit.cause)
    })
    this.pending--
    this.releaseGroup(t)
    this.lost(t, error)
    this.pump(undefined)
  }

  /**
   * A ticket out of line whose permit could not be had: a job settles as
   * `TaskFailed`; a parent taking its lent slot back gets its attempt
   * interrupted (it cannot run on without a permit).
   */
  private lost(t: Ticket, error: GroupLimitUnavailable): void {
    if (t instanceof Reclaim) {
      t.state = State.Done
      const job = t.job
      job.reclaim = undefined
      t.done()
      if (job.state === State.Running) {
        job.revoked = error
        this.interrupt(job.worker, job)
      }
      return
    }
    const job = t as Job
    this.settle(job, new TaskFailed({ task: job.task.name, error, attempts: job.attempts }))
  }

  /**
   * A granted permit was lost (a lease that could not be renewed). A running
   * attempt is interrupted so the limit is never exceeded; a job still
   * waiting for a slot gives its place back and, in `"wait"` mode, asks
   * again (in `"fail"` mode it settles as `TaskFailed`).
   */
  private revoke(hold: Hold, started: StartedLimit, error: GroupLimitUnavailable): void {
    if (hold.released) return
    const t = hold.ticket
    if (t.state === State.Running) {
      const job = t as Job
      job.revoked = error
      this.interrupt(job.worker, job)
    } else if (t.state === State.Queued) {
      this.drop(t)
      if (started.limit.onUnavailable === "wait" && !(t instanceof Reclaim)) {
        // it queues again: the wait so far still counts (enqueue starts a new one)
        const now = this.timer.now()
        ;(t as Job).waitMs += now - t.queuedAt
        this.enqueue(t, now)
      } else {
        this.lost(t, error)
      }
      this.pump(undefined)
    }
  }

  /**
   * Hands a permit back. A custom limit's `release` that throws must not keep
   * the group's place or break the scheduler's bookkeeping: the error is
   * logged (Effect's logger, in the scheduler's context) and the permit counts
   * as given back.
   */
  private releasePermit(permit: GroupLimit.Permit): void {
    try {
      permit.release()
    } catch (error) {
      Runtime.runFork(this.runtime, Effect.logError("toolfan: a GroupLimit permit's release() threw", Cause.die(error)))
    }
  }

  private releaseSlot(t: Ticket): void {
    if (t.holdsSlot) {
      t.holdsSlot = false
      this.active--
    }
    this.releaseGroup(t)
  }

  /**
   * Fills free slots in priority order. A job of `reuse`'s run is handed to
   * `reuse` (returned) instead of forking a new worker for it.
   */
  pump(reuse: Worker | undefined): Job | undefined {
    let reused: Job | undefined = undefined
    while (this.active < this.max) {
      const t = this.ready.shift(isReady)
      if (t === undefined) break
      this.pending--
      this.active++
      t.holdsSlot = true
      if (t instanceof Reclaim) {
        t.state = State.Done
        const job = t.job
        job.reclaim = undefined
        job.holdsSlot = true
        Metrics.inFlight.unsafeUpdate(1, job.tags.group)
        job.holdsGroup = t.holdsGroup
        t.holdsGroup = false
        const hold = t.hold
        if (hold !== undefined) {
          hold.ticket = job
          job.hold = hold
          t.hold = undefined
        }
        t.done()
        continue
      }
      const job = t as Job
      this.begin(job)
      if (reuse !== undefined && reused === undefined && job.run === reuse.run) {
        reused = job
        reuse.job = job
        job.worker = reuse
      } else {
        this.spawn(job)
      }
    }
    return reused
  }

  /** Bookkeeping at the start of an attempt: counts, wait time, timeout. */
  private begin(job: Job): void {
    const now = this.timer.now()
    job.state = State.Running
    job.attempts++
    job.timedOut = false
    job.revoked = undefined
    job.lends = 0
    if (job.firstStart < 0) job.firstStart = now
    const wait = now - job.queuedAt
    job.lastWaitMs = wait
    job.waitMs += wait
    Metrics.queueWait.unsafeUpdate(wait, job.tags.group)
    Metrics.inFlight.unsafeUpdate(1, job.tags.group)
    const timeout = job.task.timeoutMs
    if (timeout !== Number.POSITIVE_INFINITY) {
      job.entry = this.timer.lane(now, timeout, this.timedOut, job)
    }
  }

  private readonly deadlinePassed = (run: Run): void => this.cancel(run, "deadline")
  private readonly timedOut = (job: Job): void => this.timeout(job)

  private timeout(job: Job): void {
    job.entry = undefined
    if (job.state !== State.Running) return
    job.timedOut = true
    this.interrupt(job.worker, job)
  }

  private spawn(job: Job): void {
    const run = job.run
    const worker = new Worker(run)
    worker.job = job
    job.worker = worker
    const fiber = Runtime.runFork(run.runtime, this.workerLoop(worker), {
      immediate: false,
      scheduler: run.effectScheduler,
      updateRefs: (refs, id) => FiberRefs.updateAs(refs, { fiberId: id, fiberRef: currentWorker, value: worker })
    })
    worker.fiber = fiber
    fiber.addObserver((exit) => this.workerExited(worker, exit))
  }

  // ---------------------------------------------------------------------------
  // workers
  // ---------------------------------------------------------------------------

  /**
   * A worker's life: run the assigned attempt (the only interruptible part),
   * settle it, take the next job of the same run if one is due, or end.
   */
  private workerLoop(worker: Worker): Effect.Effect<void> {
    const step = (job: Job): Effect.Effect<void> =>
      Effect.matchCauseEffect(Effect.interruptible(job.run.traced ? this.tracedAttempt(job) : this.attempt(job)), {
        onSuccess: (value) => {
          this.succeed(job, value)
          return next()
        },
        onFailure: (cause) => Effect.flatMap(this.fail(worker, job, cause), next)
      })
    const next = (): Effect.Effect<void> => {
      worker.job = undefined
      if (worker.doomed || worker.run.cancelled !== undefined) {
        this.pump(undefined)
        return this.retire(worker)
      }
      const job = this.pump(worker)
      return job === undefined ? this.retire(worker) : step(job)
    }
    return Effect.suspend(() => step(worker.job!))
  }

  /**
   * The effect of one attempt. A promise task (`Task.fromPromise`, the Promise
   * API) is called directly with an AbortController owned by the job, and the
   * scheduler aborts it itself wherever it interrupts an attempt (timeout,
   * deadline, run interrupted, shutdown). Giving `Effect.async` a canceler
   * effect instead measured ~7 µs more per task here (20,000 tasks at
   * concurrency 64), and a function without a signal parameter gets no
   * controller at all.
   */
  private attempt(job: Job): Effect.Effect<unknown, unknown> {
    const evaluate = job.task.evaluate
    if (evaluate === undefined) return job.task.effect as Effect.Effect<unknown, unknown>
    // called on the worker, which runs in the caller's async context (see `InContext`)
    return Effect.async<unknown, unknown>((resume) => {
      if (evaluate.length === 0) return resumeWith(evaluate as () => unknown, resume)
      const controller = new AbortController()
      job.controller = controller
      signalJobs.set(controller.signal, job)
      resumeWith(() => evaluate(controller.signal), resume)
    })
  }

  /**
   * The attempt in a span named after the task, under the caller's span (the
   * worker runs in the caller's context), with the task's name, group,
   * attempt number, wait for a slot and — when it ends — its outcome.
   */
  private tracedAttempt(job: Job): Effect.Effect<unknown, unknown> {
    const task = job.task
    return Effect.withSpan(
      Effect.onExit(
        this.attempt(job),
        (exit) => Effect.annotateCurrentSpan(Spans.attributes.outcome, attemptOutcome(job, exit))
      ),
      task.name,
      {
        kind: "internal",
        // a stack trace per span would cost ~10–30 µs and point into toolfan, not the task
        captureStackTrace: false,
        attributes: {
          [Spans.attributes.taskName]: task.name,
          [Spans.attributes.group]: task.group ?? "none",
          [Spans.attributes.attempt]: job.attempts,
          [Spans.attributes.queueWaitMs]: job.lastWaitMs,
          [Spans.attributes.runId]: job.run.id,
          [Spans.attributes.taskIndex]: job.index
        }
      }
    )
  }

  /** Interrupts the attempt running on `worker` (and aborts its signal). */
  private interrupt(worker: Worker | undefined, job: Job): void {
    // an attempt being cut does not need its lent slot back: a nested run waiting for it returns now
    const reclaim = job.reclaim
    if (reclaim !== undefined) {
      job.reclaim = undefined
      this.dropReclaim(reclaim)
    }
    if (job.controller !== undefined) job.controller.abort(job.timedOut ? timeoutReason(job) : undefined)
    if (worker !== undefined && worker.fiber !== undefined && !worker.doomed) {
      worker.doomed = true
      worker.fiber.unsafeInterruptAsFork(FiberId.none)
    }
  }

  private retire(worker: Worker): Effect.Effect<void> {
    worker.job = undefined
    return Effect.void
  }

  /** Safety net: a worker that ended with its job unsettled (a bug) settles it as a defect. */
  private workerExited(worker: Worker, exit: import("effect/Exit").Exit<void>): void {
    const job = worker.job
    if (job === undefined || job.state !== State.Running) return
    worker.job = undefined
    this.finishAttempt(job)
    const defect = exit._tag === "Failure" ? Cause.squash(exit.cause) : new Error("worker ended unexpectedly")
    this.settle(job, new TaskDefect({ task: job.task.name, defect, attempts: job.attempts }))
    this.pump(undefined)
  }

  /** Common end of an attempt: its timer entry goes and its slot is freed. */
  private finishAttempt(job: Job): void {
    if (job.entry !== undefined) {
      this.timer.cancel(job.entry)
      job.entry = undefined
    }
    job.worker = undefined
    job.controller = undefined
    // a lent slot was counted out when lent (see `lend`)
    if (job.holdsSlot) Metrics.inFlight.unsafeUpdate(-1, job.tags.group)
    const ticket = job.reclaim
    if (ticket !== undefined) {
      // the attempt ended while waiting to take its lent slot back
      job.reclaim = undefined
      this.dropReclaim(ticket)
    }
    this.releaseSlot(job)
  }

  /** Gives up a reclaim still waiting in line; its nested run returns. */
  private dropReclaim(ticket: Reclaim): void {
    if (ticket.state === State.Queued || ticket.state === State.GroupQueued || ticket.state === State.Acquiring) {
      ticket.state = State.Done
      this.drop(ticket)
    }
    ticket.done()
  }

  private succeed(job: Job, value: unknown): void {
    this.finishAttempt(job)
    const now = this.timer.now()
    job.state = State.Done
    const run = job.run
    const result = TaskResult.succeed(job.task.name, value, {
      attempts: job.attempts,
      durationMs: now - job.firstStart,
      waitMs: job.waitMs
    })
    this.record(run, job, result)
  }

  /**
   * Classifies a failed attempt and either settles the job or sends it to wait
   * out its backoff. Timeouts and failures `E` may be retried; defects and
   * interruptions never are.
   */
  private fail(worker: Worker, job: Job, cause: Cause.Cause<unknown>): Effect.Effect<void> {
    this.finishAttempt(job)
    const run = job.run
    const task = job.task
    const name = task.name
    const attempts = job.attempts
    let error: TaskError<unknown>
    let retryable = false
    let input: unknown = undefined
    const revoked = job.revoked
    if (revoked !== undefined && run.cancelled === undefined) {
      // its group's permit was lost mid-attempt (see `revoke`)
      worker.doomed = true
      job.revoked = undefined
      if (job.group?.limit?.limit.onUnavailable === "wait") {
        this.enqueue(job, this.timer.now())
        return Effect.void
      }
      this.settle(job, new TaskFailed({ task: name, error: revoked, attempts }))
      return Effect.void
    } else if (job.timedOut) {
      worker.doomed = true
      Metrics.timeouts.unsafeUpdate(1, job.tags.group)
      error = new TaskTimedOut({ task: name, timeout: task.timeout!, attempts })
      retryable = true
      input = error
    } else if (Cause.isInterruptedOnly(cause)) {
      // cut by the run (deadline, interruption, shutdown) or by the task itself
      worker.doomed = true
      error = new TaskInterrupted({ task: name, reason: run.cancelled ?? "interrupted", attempts })
    } else {
      const failure = Cause.failureOption(cause)
      if (Option.isSome(failure)) {
        input = failure.value
        error = new TaskFailed({ task: name, error: failure.value, attempts })
        retryable = true
        if (task.retryWhile !== undefined && attempts <= task.retries) {
          try {
            retryable = Boolean(task.retryWhile(failure.value))
          } catch (defect) {
            error = new TaskDefect({ task: name, defect, attempts })
            retryable = false
          }
        }
      } else {
        const defect = Cause.dieOption(cause)
        error = new TaskDefect({
          task: name,
          defect: Option.isSome(defect) ? defect.value : Cause.squash(cause),
          attempts
        })
      }
    }
    if (!retryable || attempts > task.retries || run.cancelled !== undefined) {
      this.settle(job, error)
      return Effect.void
    }
    return this.backoff(job, error, input)
  }

  /** Steps the task's schedule once and parks the job in the timer until its next attempt. */
  private backoff(job: Job, error: TaskError<unknown>, input: unknown): Effect.Effect<void> {
    const schedule = job.task.schedule as Schedule.Schedule<unknown, unknown>
    const now = this.timer.now()
    const state = job.attempts === 1 ? schedule.initial : job.scheduleState
    job.state = State.Backoff
    this.delayed++
    return Effect.matchCause(schedule.step(now, input, state), {
      onFailure: () => this.retryOrSettle(job, error, undefined),
      onSuccess: ([next, , decision]) => {
        job.scheduleState = next
        this.retryOrSettle(
          job,
          error,
          ScheduleDecision.isDone(decision) ? undefined : Math.max(0, ScheduleIntervals.start(decision.intervals) - now)
        )
      }
    })
  }

  private retryOrSettle(job: Job, error: TaskError<unknown>, delay: number | undefined): void {
    if (job.state !== State.Backoff) return // cancelled meanwhile
    if (delay === undefined) {
      this.delayed--
      this.settle(job, error)
      return
    }
    // counted once the schedule has decided: one that stops early schedules no retry
    Metrics.retries.unsafeUpdate(1, job.tags.group)
    if (delay === 0) this.requeue(job)
    else job.entry = this.timer.at(this.timer.now() + delay, this.backoffOver, job)
  }

  private readonly backoffOver = (job: Job): void => this.requeue(job)

  private requeue(job: Job): void {
    job.entry = undefined
    if (job.state !== State.Backoff) return
    this.delayed--
    this.enqueue(job, this.timer.now())
    this.pump(undefined)
  }

  private settleInterrupted(job: Job, reason: Reason): void {
    this.settle(job, new TaskInterrupted({ task: job.task.name, reason, attempts: job.attempts }))
  }

  private settle(job: Job, error: TaskError<unknown>): void {
    const now = this.timer.now()
    job.state = State.Done
    const result = TaskResult.fail(job.task.name, error, {
      attempts: job.attempts,
      durationMs: job.firstStart < 0 ? 0 : now - job.firstStart,
      waitMs: job.waitMs
    })
    this.record(job.run, job, result)
  }

  private record(run: Run, job: Job, result: TaskResult.TaskResult<unknown, unknown>): void {
    run.results[job.index] = result
    const outcome = outcomeTags(job.tags, result.ok ? "ok" : result.error._tag)
    Metrics.taskDuration.unsafeUpdate(result.durationMs, outcome)
    if (!result.ok) Metrics.failures.unsafeUpdate(1, outcome)
    const onResult = run.options.onResult
    if (onResult !== undefined) onResult(result, job.index)
    const plan = run.options.plan
    if (plan !== undefined) this.propagate(run, plan, job, result.ok)
    if (--run.remaining === 0) this.finishRun(run)
  }

  // ---------------------------------------------------------------------------
  // nested runs
  // ---------------------------------------------------------------------------

  /**
   * The job whose attempt the current fiber runs, if it belongs to this
   * scheduler: a run started there is nested in it.
   */
  parentOf(owner: Owner | undefined): Job | undefined {
    if (owner === undefined) return undefined
    const job = owner.job
    if (job === undefined || job.run.scheduler !== this || job.state !== State.Running) return undefined
    // a forked fiber's run is nested only in the attempt it was forked from, while that attempt runs. (A Runtime
    // captured inside an attempt carries the Worker itself: pinning it to the attempt would need a FiberRef update per
    // attempt, ~0.3 µs, so a run made with it later counts as nested in whatever that worker runs then.)
    return owner._tag === "Worker" || (job.attempts === owner.attempt && job.worker !== undefined) ? job : undefined
  }

  /**
   * Lends `job`'s slot (and group place) to a nested run, so that a run
   * started from inside a task can never deadlock on the cap. Nested runs
   * started together share the one lent slot; the last one to end takes it
   * back (see `endLend`).
   */
  private lend(job: Job): void {
    // no pump here: the nested run's `start` pumps once its own tasks are
    // queued, so they compete for the lent slot by priority like everyone
    if (job.lends++ !== 0) return
    if (job.holdsSlot) {
      job.lentGroup = job.holdsGroup
      // in_flight counts attempts holding a slot: this one holds none while its nested runs use it
      Metrics.inFlight.unsafeUpdate(-1, job.tags.group)
      this.releaseSlot(job)
      return
    }
    // a nested run that ended is still waiting to take the slot back (its
    // reclaim is queued or asking for a permit) while the task starts
    // another: the slot stays lent, so that reclaim is given up and its run
    // returns; the last nested run to end queues a new one. (Two reclaims of
    // one job would each take a slot, and one would never be given back.)
    const ticket = job.reclaim
    if (ticket !== undefined) {
      job.reclaim = undefined
      this.dropReclaim(ticket)
    }
  }

  /**
   * A nested run of `job` ended. When it was the last one, the job queues to
   * take its slot back ahead of every waiting task (the ticket is queued
   * synchronously, so the slot the nested run just freed goes to it), and the
   * nested run returns once the slot is back (`done`). Nothing to take back if
   * the attempt is over or being interrupted.
   */
  private endLend(job: Job, done: () => void): Reclaim | undefined {
    if (--job.lends > 0 || job.state !== State.Running || job.holdsSlot) return undefined
    const worker = job.worker
    if (worker === undefined || worker.doomed) return undefined
    // no group to go through if it held no place in it (see `lentGroup`): straight to `ready`, ahead of everyone
    const ticket = new Reclaim(job, done, job.lentGroup ? job.group : undefined)
    job.reclaim = ticket
    this.enqueue(ticket, this.timer.now())
    return ticket
  }
}

/**
 * Why a timed-out attempt's signal is aborted: a `TimeoutError`, as
 * `AbortSignal.timeout` gives, so that a tool can tell a timeout from a
 * cancellation (an `AbortError`).
 */
const timeoutReason = (job: Job): DOMException =>
  new DOMException(`toolfan: task "${job.task.name}" timed out after ${job.task.timeoutMs} ms (attempt ${job.attempts})`, "TimeoutError")

/** How an attempt ended, for its span: `ok`, `failed`, `timedOut`, `interrupted`, `unavailable` or `defect`. */
const attemptOutcome = (job: Job, exit: Exit.Exit<unknown, unknown>): Spans.Outcome => {
  if (Exit.isSuccess(exit)) return "ok"
  if (job.timedOut) return "timedOut"
  if (job.revoked !== undefined) return "unavailable"
  if (Cause.isInterruptedOnly(exit.cause)) return "interrupted"
  return Cause.isFailure(exit.cause) ? "failed" : "defect"
}

/** The runtime used for a run's workers: the caller's, with interruption off outside attempts. @internal */
export const workerRuntime = <R>(runtime: Runtime.Runtime<R>): Runtime.Runtime<R> =>
  Runtime.make({
    context: runtime.context,
    fiberRefs: runtime.fiberRefs,
    runtimeFlags: RuntimeFlags.disable(runtime.runtimeFlags, RuntimeFlags.Interruption)
  })
