/**
 * The pool: slots, the ready queue, worker fibers and attempts. It owns every
 * job's state and the slot counters; admission (groups, limits) is a strategy
 * (`admission.ts`), time is the timer (`timer.ts`), and what a run is for
 * (results in order, a stream, a plan's dependencies) is its owner's.
 *
 * # Why it is built this way
 *
 * The obvious implementation — `Effect.forEach(tasks, t => withSemaphore(
 * retry(timeout(t))), { concurrency })` — costs 16–25× p-limit per task: a
 * fiber per task, two more racing fibers per timeout, the retry machinery
 * entered even when nothing fails. So the hot path is plain, synchronous
 * bookkeeping, and Effect does what only Effect can do (run the task's
 * effect, interrupt it, sleep on the Clock):
 *
 * - **Slots** are a counter (`active`, at most `max`). Admitted jobs wait in
 *   one priority bucket queue (`ready`); a job its group cannot admit yet
 *   waits in its admission strategy and holds no slot.
 * - **Workers** are long-lived fibers forked per run in the caller's context.
 *   A worker that finishes a job takes the next one of its own run at once,
 *   without a new fiber; a slot for another run's job gets a worker of that
 *   run. Trade-off: a `FiberRef.set` in one task can be seen by the next task
 *   on the same worker.
 * - **Timeouts, backoffs and deadlines** live in one timer fiber. A timed-out
 *   attempt's worker is interrupted; it records the outcome after the
 *   attempt's finalizers ran, and ends (an interrupted fiber is not reused).
 * - **Retries** step the task's `Schedule` only when an attempt fails; the job
 *   then waits in the timer, holding no slot.
 * - **Nested runs** borrow the slot (and the group place) of the attempt that
 *   starts them; the last to end queues the job to take it back, ahead of
 *   everyone (priority `Infinity`), and returns once it has.
 * - Workers run with interruption off except around the attempt itself, so
 *   the bookkeeping after an attempt always runs. All state is changed
 *   synchronously on one thread; fibers are never started synchronously from
 *   inside the bookkeeping (`immediate: false`), so none of it is re-entered.
 *
 * # Job states (changed only by the methods named)
 *
 * | from              | event                                     | to                | by                 |
 * |-------------------|-------------------------------------------|-------------------|--------------------|
 * | New               | queued (run start, owner's `release`)     | Waiting           | `enqueue`          |
 * | Waiting           | its group admits it                       | Ready             | `admitted`         |
 * | Waiting, Ready    | cut (deadline, interruption, shutdown)    | Done              | `cancel`           |
 * | Waiting           | its permit could not be had               | Done              | `refused`          |
 * | Ready             | its permit was lost                       | Waiting or Done   | `revoked`          |
 * | Ready             | a slot is free                            | Running           | `pump` → `begin`   |
 * | Running           | succeeded, or failed for good             | Done              | `succeed`, `fail`  |
 * | Running           | failed, retry scheduled                   | Backoff           | `fail` → `backoff` |
 * | Running           | its permit was lost, `"wait"`             | Waiting           | `fail`             |
 * | Backoff           | backoff over                              | Waiting           | `requeue`          |
 * | Backoff, New      | cut; New also: skipped by its owner       | Done              | `cancel`, `settle` |
 *
 * A Running job lending its slot (`lends > 0`) holds none; taking it back
 * (`reclaim` set) it waits in its admission and `ready` like a Waiting job,
 * staying Running.
 *
 * A hedge (hedge.ts) is a second job of a hedged task, through the same
 * states, but not in its run's `jobs`; a primary that settles before its
 * hedge has ended stays Done in `jobs`, its result held, until it has. A
 * coalesced task waiting for an identical one (coalesce.ts) stays New until
 * that one settles, or is queued in its place.
 */
import * as Cause from "effect/Cause"
import type * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as FiberRefs from "effect/FiberRefs"
import * as Runtime from "effect/Runtime"
import type * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as ScheduleIntervals from "effect/ScheduleIntervals"
import type { GroupLimitUnavailable } from "../GroupLimit.js"
import * as Metrics from "../Metrics.js"
import { TaskDefect, type TaskError, TaskFailed } from "../TaskError.js"
import * as TaskResult from "../TaskResult.js"
import { type Admission, type Host, unlimited } from "./admission.js"
import { attempt, classify, correctCost, Direct, timeoutReason } from "./attempt.js"
import { Flights } from "./coalesce.js"
import { Hedges } from "./hedge.js"
import { outcomeTags } from "./observe.js"
import { dropReclaim, endLend, endReclaim, lend, type LendHost, reclaimed } from "./lend.js"
import { BucketQueue, remove } from "./queue.js"
import { currentWorker, interrupted, Job, type Reason, type Run, type RunHost, State, Worker } from "./run.js"
import { Pauses } from "./pause.js"
import { onAbort } from "./signals.js"
import { Timer } from "./timer.js"

const always = (): boolean => true

/** @internal */
export class Pool implements Host, RunHost, LendHost {
  active = 0
  pending = 0
  delayed = 0
  closed = false
  readonly ready = new BucketQueue<Job>()
  readonly admissions = new Map<string, Admission>()
  readonly unlimited: Admission = unlimited(this)
  readonly runs = new Set<Run>()
  readonly signals = new Map<AbortSignal, Job>()
  /** Promise attempts run without a fiber. */
  private readonly direct = new Direct(this)
  readonly timer: Timer
  /** Groups told to wait by an overloaded attempt. */
  readonly pauses: Pauses
  /** Hedged tasks' second attempts (hedge.ts) and coalesced tasks' flights (coalesce.ts). */
  readonly hedges = new Hedges(this)
  readonly flights = new Flights(this)
  /** Done when the last open run is over (waited for by `whenIdle` and `shutdown`). */
  private idle: Deferred.Deferred<void> | undefined = undefined
  /** `max` + `maxQueued`: a new job finding this many jobs running or waiting is refused (`Infinity`: no bound). */
  private readonly bound: number

  constructor(
    readonly max: number,
    /** Each group's admission strategy, made for this pool. */
    groups: Readonly<Record<string, (host: Host) => Admission>>,
    clock: Clock.Clock,
    readonly runtime: Runtime.Runtime<never>,
    /** Most jobs waiting for a slot (or their group) at once; more are refused (`TaskInterrupted`, `"queueFull"`). */
    maxQueued = Number.POSITIVE_INFINITY
  ) {
    this.bound = max + maxQueued
    for (const [name, make] of Object.entries(groups)) this.admissions.set(name, make(this))
    this.timer = new Timer(clock, runtime)
    this.pauses = new Pauses(this.timer, this.ready, () => this.pump(undefined))
  }

  // ---------------------------------------------------------------------------
  // runs
  // ---------------------------------------------------------------------------

  /**
   * Opens a run: it borrows its parent's slot, listens to its signal and gets
   * its deadline. A run opened on a closed pool, or with an aborted signal,
   * is cancelled at once (its tasks settle as `TaskInterrupted` when added).
   */
  open(run: Run): void {
    this.runs.add(run)
    if (run.parent !== undefined) lend(this, run.parent)
    const signal = run.options.signal
    // a nested run of the Promise API is cancelled through its parent's signal: when closing, that is the shutdown
    const cut = () => this.cancel(run, this.closed ? "shutdown" : "interrupted")
    if (this.closed || signal?.aborted === true) return cut()
    if (signal !== undefined) run.stopListening = onAbort(signal, cut)
    const deadline = run.options.deadlineMs
    if (deadline !== Number.POSITIVE_INFINITY) run.deadline = this.timer.lane(this.timer.now(), deadline, this.deadlinePassed, run)
  }

  readonly now = (): number => this.timer.now()

  /** The admission strategy of a group (tasks without one, or of a group not configured, are not limited). */
  admission(group: string | undefined): Admission {
    return (group === undefined ? undefined : this.admissions.get(group)) ?? this.unlimited
  }

  /**
   * Cancels what is left of a run: waiting, held and backing-off jobs settle
   * at once as `TaskInterrupted`; running attempts are interrupted and settle
   * when their finalizers have run.
   */
  cancel(run: Run, reason: Reason): void {
    if (run.cancelled !== undefined || run.done) return
    run.cancelled = reason
    if (run.deadline !== undefined) this.timer.cancel(run.deadline)
    for (const job of run.jobs) {
      if (job === undefined) continue
      // its hedge is not in its run's jobs (a primary that settled first waits for it, Done)
      if (job.hedge !== undefined) this.hedges.cancel(job, reason)
      if (job.state === State.Done) continue
      if (job.state !== State.Running) this.cutWaiting(job, reason)
      // a spent budget stops what has not started; what runs goes on
      else if (reason !== "budget") this.interrupt(job)
    }
    this.pump(undefined)
  }

  /**
   * `clear()`: every job not running — waiting for a slot or its group, for a
   * retry, or (held) for its dependencies — settles as `TaskInterrupted`
   * (`"cleared"`); running attempts go on and runs stay open. Returns how many.
   */
  clear(): number {
    let cleared = 0
    for (const run of this.runs) {
      for (const job of run.jobs) {
        if (job !== undefined && job.hedge !== undefined) this.hedges.cancel(job, "cleared")
        if (job === undefined || job.state === State.Done || job.state === State.Running) continue
        this.cutWaiting(job, "cleared")
        cleared++
      }
    }
    this.pump(undefined)
    return cleared
  }

  /** Settles a job that is not running as `TaskInterrupted`, out of line or out of the timer. */
  cutWaiting(job: Job, reason: Reason): void {
    if (job.state === State.Waiting || job.state === State.Ready) {
      // the wait it was cut in counts too
      job.waitMs += this.timer.now() - job.queuedAt
      this.drop(job)
    } else if (job.state === State.Backoff) {
      this.delayed--
      if (job.entry !== undefined) this.timer.cancel(job.entry)
    }
    this.settle(job, interrupted(job, reason))
  }

  /** Done once no run is open: nothing queued, backing off or running (at once if so now). */
  whenIdle(): Effect.Effect<void> {
    return Effect.suspend(() => this.runs.size === 0 ? Effect.void : Deferred.await(this.idle ??= Deferred.unsafeMake(FiberId.none)))
  }

  /** Called when the scheduler's scope closes: every run is cancelled. */
  shutdown(): Effect.Effect<void> {
    return Effect.suspend(() => {
      this.closed = true
      for (const run of this.runs) this.cancel(run, "shutdown")
      return Effect.ensuring(this.whenIdle(), Effect.sync(() => this.timer.shutdown()))
    })
  }

  /** RunHost: every task of the run settled and it is closed. */
  finished(run: Run): void {
    if (run.deadline !== undefined) this.timer.cancel(run.deadline)
    if (run.stopListening !== undefined) run.stopListening()
    this.runs.delete(run)
    const over = () => Deferred.unsafeDone(run.over, Exit.void)
    // a nested run is over when its parent holds its slot again
    if (run.parent === undefined || !endLend(this, run.parent, over)) over()
    if (this.runs.size === 0 && this.idle !== undefined) {
      const idle = this.idle
      this.idle = undefined
      Deferred.unsafeDone(idle, Exit.void)
    }
  }

  // ---------------------------------------------------------------------------
  // admission and slots
  // ---------------------------------------------------------------------------

  /** Puts a job in line: its admission decides when it may take a slot. */
  enqueue(job: Job, now: number = this.timer.now()): void {
    // a new job finding `maxQueued` jobs waiting beyond the free slots is refused (a retry is not: it was admitted)
    if (this.pending + this.active >= this.bound && job.state === State.New) return this.settle(job, interrupted(job, "queueFull"))
    job.queuedAt = now
    job.state = State.Waiting
    this.pending++
    job.admission.enter(job)
  }

  /** RunHost: a coalesced task runs, or waits for an identical one. */
  readonly join = (job: Job, now?: number): void => this.flights.join(job, now)

  /** Host: its group admits it. */
  admitted(job: Job): void {
    if (job.state === State.Waiting) job.state = State.Ready
    this.ready.push(job)
  }

  /** Host: no permit. A job settles as `TaskFailed`; a job taking its slot back has its attempt interrupted. */
  refused(job: Job, error: GroupLimitUnavailable): void {
    this.pending--
    if (job.reclaim === undefined) return this.settle(job, new TaskFailed({ task: job.task.name, error, attempts: job.attempts }))
    endReclaim(job)
    job.revoked = error
    this.interrupt(job)
  }

  /**
   * Host: a granted permit was lost. A running attempt (or one taking its
   * slot back) is interrupted so that the limit is never exceeded; a job
   * still waiting for a slot gives its place back and asks again (`"wait"`)
   * or settles as `TaskFailed` (`"fail"`).
   */
  revoked(job: Job, error: GroupLimitUnavailable): void {
    if (job.state === State.Running) {
      job.revoked = error
      this.interrupt(job)
    } else if (job.state === State.Ready) {
      this.drop(job)
      if (job.admission.asksAgain) {
        // the wait so far still counts (enqueue starts a new one)
        job.waitMs += this.timer.now() - job.queuedAt
        this.enqueue(job)
      } else {
        this.settle(job, new TaskFailed({ task: job.task.name, error, attempts: job.attempts }))
      }
      this.pump(undefined)
    }
  }

  /** Host: admitted from a permit's answer. */
  readonly wake = (): unknown => this.pump(undefined)

  /** Takes a waiting job out of line, giving back what its admission gave it. */
  drop(job: Job): void {
    this.pending--
    // out of `ready` or its group's queue at once: a job that gave up must not stay behind a stuck one
    remove(job)
    job.admission.leave(job)
  }

  /** Gives back the slot and what the admission gave. */
  release(job: Job): void {
    if (job.holdsSlot) {
      job.holdsSlot = false
      this.active--
    }
    job.admission.leave(job)
  }

  /**
   * Fills free slots in priority order. A job of `reuse`'s run is handed to
   * `reuse` (returned) instead of forking a new worker for it.
   */
  pump(reuse: Worker | undefined, now?: number): Job | undefined {
    let reused: Job | undefined = undefined
    while (this.active < this.max) {
      const job = this.ready.shift(always)
      if (job === undefined) break
      // its group is paused: held (still pending) until the pause ends
      if (this.pauses.any && this.pauses.hold(job)) continue
      if (job.run.spent >= job.run.budget) {
        // its run's budget is spent: it never starts (the rest of the run is swept, see `begin`)
        this.drop(job)
        this.settle(job, interrupted(job, "budget"))
        continue
      }
      this.pending--
      this.active++
      job.holdsSlot = true
      if (job.reclaim !== undefined) {
        reclaimed(job)
        continue
      }
      this.begin(job, now ??= this.timer.now())
      if (job.task.evaluate !== undefined) {
        this.direct.start(job)
        continue
      }
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

  // ---------------------------------------------------------------------------
  // attempts
  // ---------------------------------------------------------------------------

  /** Bookkeeping at the start of an attempt: counts, wait time, timeout. */
  private begin(job: Job, now: number): void {
    job.state = State.Running
    job.attempts++
    job.timedOut = false
    job.cut = false
    job.revoked = undefined
    job.lends = 0
    if (job.firstStart < 0) job.firstStart = now
    const run = job.run
    // the attempt that spends the run's budget starts; what has not started is settled right after this pump
    if ((run.spent += job.task.cost) >= run.budget) queueMicrotask(() => this.cancel(run, "budget"))
    const wait = now - job.queuedAt
    job.lastWaitMs = wait
    job.waitMs += wait
    Metrics.queueWait.unsafeUpdate(wait, job.tags.group)
    Metrics.inFlight.unsafeUpdate(1, job.tags.group)
    const timeout = job.task.timeoutMs
    if (timeout !== Number.POSITIVE_INFINITY) job.entry = this.timer.lane(now, timeout, this.timedOut, job)
    if (job.task.hedge !== undefined) this.hedges.began(job, now)
    // a hedge is not its run's to report (the run knows only the task)
    if (run.progress !== undefined && (job.hedge === undefined || job.hedge.primary === job)) run.progress.started(job)
  }

  private readonly deadlinePassed = (run: Run): void => this.cancel(run, "deadline")
  private readonly timedOut = (job: Job): void => {
    job.entry = undefined
    if (job.state !== State.Running) return
    job.timedOut = true
    this.interrupt(job)
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

  /**
   * A worker's life: run the assigned attempt (the only interruptible part),
   * record it, take the next job of the same run if one is due, or end.
   */
  private workerLoop(worker: Worker): Effect.Effect<void> {
    const step = (job: Job): Effect.Effect<void> =>
      Effect.matchCauseEffect(Effect.interruptible(attempt(job)), {
        // one clock reading for the end of this attempt and the start of the next
        onSuccess: (value) => next(this.succeed(job, value)),
        onFailure: (cause) => Effect.flatMap(this.fail(worker, job, cause), () => next(undefined))
      })
    const next = (now: number | undefined): Effect.Effect<void> => {
      worker.job = undefined
      // an interrupted worker cannot be reused, and a cancelled run starts nothing more
      const reuse = worker.doomed || worker.run.cancelled !== undefined ? undefined : worker
      const job = this.pump(reuse, now)
      return job === undefined ? Effect.void : step(job)
    }
    return Effect.suspend(() => step(worker.job!))
  }

  /**
   * Cuts a running attempt: aborts its signal and interrupts its worker (or,
   * for a direct promise attempt, settles it as interrupted in a microtask).
   */
  interrupt(job: Job): void {
    // an attempt being cut does not need its lent slot back: a nested run waiting for it returns now
    dropReclaim(this, job)
    if (job.cut) return
    job.cut = true
    if (job.controller !== undefined) job.controller.abort(job.timedOut ? timeoutReason(job) : undefined)
    const worker = job.worker
    if (worker === undefined) {
      this.direct.cut(job)
    } else if (worker.fiber !== undefined && !worker.doomed) {
      worker.doomed = true
      worker.fiber.unsafeInterruptAsFork(FiberId.none)
    }
  }

  /** Safety net: a worker that ended with its job unsettled (a bug) settles it as a defect. */
  private workerExited(worker: Worker, exit: Exit.Exit<void>): void {
    const job = worker.job
    if (job === undefined || job.state !== State.Running) return
    worker.job = undefined
    this.endAttempt(job)
    const defect = Exit.isFailure(exit) ? Cause.squash(exit.cause) : new Error("worker ended unexpectedly")
    this.settle(job, new TaskDefect({ task: job.task.name, defect, attempts: job.attempts }))
    this.pump(undefined)
  }

  /** Common end of an attempt: its timer entry goes and its slot is freed. */
  private endAttempt(job: Job): void {
    if (job.entry !== undefined) {
      this.timer.cancel(job.entry)
      job.entry = undefined
    }
    if (job.hedge !== undefined) this.hedges.ended(job)
    job.worker = undefined
    const controller = job.controller
    if (controller !== undefined) {
      job.controller = undefined
      this.signals.delete(controller.signal)
    }
    // a lent slot was counted out when lent (see `lend`)
    if (job.holdsSlot) Metrics.inFlight.unsafeUpdate(-1, job.tags.group)
    // it ended while waiting to take its lent slot back
    dropReclaim(this, job)
    this.release(job)
  }

  /** Records a success; returns the clock reading it used. */
  succeed(job: Job, value: unknown): number {
    job.admission.observe(job, undefined)
    // its real cost differs from its estimate: its run's budget and its group's limit count the real one
    if (job.task.actualCost !== undefined) correctCost(job, value)
    this.endAttempt(job)
    job.state = State.Done
    const now = this.timer.now()
    this.record(
      job,
      TaskResult.succeed(job.task.name, value, { attempts: job.attempts, durationMs: now - job.firstStart, waitMs: Math.max(0, job.waitMs) })
    )
    return now
  }

  /**
   * Classifies a failed attempt and either settles the job or sends it to
   * wait out its backoff. Timeouts and failures `E` may be retried; defects
   * and interruptions never are.
   */
  fail(worker: Worker | undefined, job: Job, cause: Cause.Cause<unknown>): Effect.Effect<void> {
    this.endAttempt(job)
    const run = job.run
    const { name, retries } = job.task
    const attempts = job.attempts
    const revoked = job.revoked
    if (revoked !== undefined && run.cancelled === undefined) {
      // its group's permit was lost mid-attempt (see `revoked`)
      if (worker !== undefined) worker.doomed = true
      job.revoked = undefined
      if (job.admission.asksAgain) this.enqueue(job)
      else this.settle(job, new TaskFailed({ task: name, error: revoked, attempts }))
      return Effect.void
    }
    if (worker !== undefined && (job.timedOut || Cause.isInterruptedOnly(cause))) worker.doomed = true
    const [error, retryable, waitMs] = classify(job, cause)
    if (waitMs !== undefined) this.pauses.overloaded(job, waitMs)
    else if (this.pauses.any) this.pauses.resumed(job)
    // a hedge never retries (its task's primary keeps its retries)
    if (!retryable || attempts > retries || run.cancelled !== undefined || (job.hedge !== undefined && job.hedge.primary !== job)) {
      this.settle(job, error)
      return Effect.void
    }
    return this.backoff(job, error, error._tag === "TaskFailed" ? error.error : error, waitMs ?? 0)
  }


  /** Steps the task's schedule once and parks the job in the timer until its next attempt (at least `waitMs`). */
  private backoff(job: Job, error: TaskError<unknown>, input: unknown, waitMs: number): Effect.Effect<void> {
    const schedule = job.task.schedule as Schedule.Schedule<unknown, unknown>
    const now = this.timer.now()
    const state = job.attempts === 1 ? schedule.initial : job.scheduleState
    job.state = State.Backoff
    this.delayed++
    if (job.run.progress !== undefined) job.run.progress.ended(job)
    return Effect.matchCause(schedule.step(now, input, state), {
      // a schedule that dies (a `backoff` function that threw) is a defect of the task, as a throwing `retryWhile` is
      onFailure: (cause) =>
        this.retryOrSettle(job, new TaskDefect({ task: job.task.name, defect: Cause.squash(cause), attempts: job.attempts }), undefined),
      onSuccess: ([next, , decision]) => {
        job.scheduleState = next
        const at = ScheduleDecision.isDone(decision) ? undefined : ScheduleIntervals.start(decision.intervals)
        this.retryOrSettle(job, error, at === undefined ? undefined : Math.max(0, at - now, waitMs))
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
    if (job.run.progress !== undefined) job.run.progress.retrying(job, error, delay)
    if (delay === 0) this.requeue(job)
    else job.entry = this.timer.at(this.timer.now() + delay, this.requeue, job)
  }

  private readonly requeue = (job: Job): void => {
    job.entry = undefined
    if (job.state !== State.Backoff) return
    this.delayed--
    this.enqueue(job)
    this.pump(undefined)
  }

  /** Gives a job its failed result. */
  settle(job: Job, error: TaskError<unknown>): void {
    job.state = State.Done
    this.record(
      job,
      TaskResult.fail(job.task.name, error, {
        attempts: job.attempts,
        durationMs: job.firstStart < 0 ? 0 : this.timer.now() - job.firstStart,
        waitMs: Math.max(0, job.waitMs)
      })
    )
  }

  private record(job: Job, result: TaskResult.TaskResult<unknown, unknown>): void {
    // a hedged task's result waits for both its attempts (hedge.ts)
    if (job.hedge !== undefined && this.hedges.settled(job, result, this.timer.now())) return
    this.finish(job, result)
  }

  /** HedgeHost: records a task's result, and shares a coalesced one with its flight (coalesce.ts). */
  finish(job: Job, result: TaskResult.TaskResult<unknown, unknown>): void {
    if (job.flight !== undefined) this.flights.settled(job, result)
    this.deliver(job, result)
  }

  /** FlightHost: gives a job its result. */
  deliver(job: Job, result: TaskResult.TaskResult<unknown, unknown>): void {
    // its group's probe after a pause (see pause.ts), however it ended
    if (this.pauses.any) this.pauses.resumed(job)
    const tags = outcomeTags(job.tags, result.ok ? "ok" : result.error._tag)
    Metrics.taskDuration.unsafeUpdate(result.durationMs, tags)
    if (!result.ok) Metrics.failures.unsafeUpdate(1, tags)
    job.run.record(job, result)
  }
}
