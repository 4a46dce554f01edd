/**
 * One attempt of a task: the effect that runs it (a promise task is called
 * directly), the span around it, and what its failure means. The pool runs
 * attempts; `Task.fromPromise` and the Promise API make their effects here.
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as Context from "effect/Context"
import type * as Fiber from "effect/Fiber"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"
import type * as Tracer from "effect/Tracer"
import * as Runtime from "effect/Runtime"
import * as Metrics from "../Metrics.js"
import * as Overload from "../Overload.js"
import * as Spans from "../Spans.js"
import { TaskDefect, type TaskError, TaskFailed, TaskInterrupted, TaskTimedOut } from "../TaskError.js"
import { promiseEffect, settleWith } from "./promise.js"
import type { Trace } from "./observe.js"
import { type Job, State } from "./run.js"

/** The effect of `job`'s next attempt, in a span when its run is traced. @internal */
export const attempt = (job: Job): Effect.Effect<unknown, unknown> => {
  const task = job.task
  const evaluate = task.evaluate
  const effect = evaluate === undefined
    ? task.effect as Effect.Effect<unknown, unknown>
    : promiseEffect(evaluate, job)
  if (!job.run.traced) return effect
  const attributes: Record<string, unknown> = {
    [Spans.attributes.taskName]: task.name,
    [Spans.attributes.group]: task.group ?? "none",
    [Spans.attributes.attempt]: job.attempts,
    [Spans.attributes.queueWaitMs]: job.lastWaitMs,
    [Spans.attributes.runId]: job.run.id,
    [Spans.attributes.taskIndex]: job.index
  }
  if (job.hedge !== undefined && job.hedge.primary !== job) attributes[Spans.attributes.hedge] = true
  return Effect.withSpan(
    Effect.onExit(effect, (exit) => Effect.annotateCurrentSpan(Spans.attributes.outcome, spanOutcome(job, exit))),
    task.name,
    {
      kind: "internal",
      // a stack trace per span would cost ~10–30 µs and point into toolfan, not the task
      captureStackTrace: false,
      attributes
    }
  )
}

/** The pool, as direct attempts see it. @internal */
export interface DirectHost {
  /** Records a success; returns the clock reading it used. */
  succeed(job: Job, value: unknown): number
  /** Records a failure; returns the effect that waits out a backoff (`Effect.void` if none). */
  fail(worker: undefined, job: Job, cause: Cause.Cause<unknown>): Effect.Effect<void>
  pump(reuse: undefined, now?: number): unknown
  readonly runtime: Runtime.Runtime<never>
}

/**
 * Promise attempts run without a fiber. A promise task (not traced) is
 * queued by the pool's `pump`; its function is called in a microtask (never
 * inside the pool's bookkeeping), in its run's async context, and its
 * promise settles it. Going through a worker fiber — an `Effect.async`, a
 * suspension and a scheduler hop per attempt — measured ~1 µs more per task
 * than the promise itself. @internal
 */
export class Direct {
  private queue: Array<Job> = []
  private scheduled = false
  constructor(private readonly host: DirectHost) {}

  /** Calls `job`'s function soon. */
  start(job: Job): void {
    this.queue.push(job)
    if (this.scheduled) return
    this.scheduled = true
    queueMicrotask(this.flush)
  }

  /** The pool cut the attempt (its signal is aborted): it settles as interrupted, in a microtask. */
  cut(job: Job): void {
    const attempt = job.attempts
    queueMicrotask(() => this.done(job, attempt, Outcome.Cut, undefined))
  }

  private readonly flush = (): void => {
    this.scheduled = false
    const jobs = this.queue
    this.queue = []
    for (const job of jobs) {
      if (job.state === State.Running && !job.cut) callDirect(job, this.done)
    }
  }

  /** A direct attempt ended (a stale report, of an earlier attempt or after a cut, is ignored). */
  private readonly done = (job: Job, attempt: number, outcome: Outcome, value: unknown): void => {
    if (job.state !== State.Running || job.attempts !== attempt || (outcome !== Outcome.Cut && job.cut)) return
    const host = this.host
    if (job.span !== undefined) endSpan(job, outcome, value)
    if (outcome === Outcome.Succeeded) {
      host.pump(undefined, host.succeed(job, value))
      return
    }
    const backoff = host.fail(undefined, job, outcome === Outcome.Cut ? Cause.interrupt(FiberId.none) : Cause.fail(value))
    if (backoff !== Effect.void) Runtime.runFork(host.runtime, backoff, { immediate: false })
    host.pump(undefined)
  }
}

/**
 * Calls a promise task's function for `job`'s current attempt, in its run's
 * async context, and reports the outcome (a value, or a rejection or throw as
 * a failure) to `done`.
 */
const callDirect = (job: Job, done: (job: Job, attempt: number, outcome: Outcome, value: unknown) => void): void => {
  const evaluate = job.task.evaluate!
  const attempt = job.attempts
  const succeed = (value: unknown) => done(job, attempt, Outcome.Succeeded, value)
  const fail = (error: unknown) => done(job, attempt, Outcome.Failed, error)
  const call = () => {
    if (evaluate.length === 0) return settleWith(evaluate as () => unknown, succeed, fail)
    const controller = new AbortController()
    job.own(controller)
    settleWith(() => evaluate(controller.signal), succeed, fail)
  }
  const trace = job.run.trace
  if (trace === undefined) return job.run.effectScheduler.enter(call)
  const span = startSpan(job, trace)
  // as a fiber in the span would: the tracer's own context (OpenTelemetry's active span) around the call. There is
  // no fiber: the tracer gets a stand-in holding the span, the one field a tracer's `context` reads
  // (`fiber.currentSpan`, as @effect/opentelemetry 0.64 and Effect's native tracer do)
  const fiber = { currentSpan: span } as unknown as Fiber.RuntimeFiber<unknown, unknown>
  job.run.effectScheduler.enter(() => trace.tracer.context(call, fiber))
}

/**
 * The span of a traced promise attempt, made with the caller's tracer as
 * `Effect.withSpan` would in the caller's fiber (parent, annotations, links,
 * the `Spans` attributes): a promise attempt needs no fiber to be traced.
 * `Effect.withSpan` on a worker fiber measured ~36 µs per attempt with an
 * OpenTelemetry tracer.
 */
const noServices = Context.empty()
// a stack trace per span would cost ~10–30 µs and point into toolfan, not the task
const spanOptions: Tracer.SpanOptions = { captureStackTrace: false }

const startSpan = (job: Job, trace: Trace, agoMs = 0): Tracer.Span => {
  const task = job.task
  const span = trace.tracer.span(
    task.name,
    trace.parent,
    noServices,
    trace.links,
    trace.timing ? trace.clock.unsafeCurrentTimeNanos() - BigInt(agoMs * 1_000_000) : BigInt(0),
    "internal",
    spanOptions
  )
  if (Option.isSome(trace.annotations)) HashMap.forEach(trace.annotations.value, (value, key) => span.attribute(key, value))
  span.attribute(Spans.attributes.taskName, task.name)
  span.attribute(Spans.attributes.group, task.group ?? "none")
  span.attribute(Spans.attributes.attempt, job.attempts)
  span.attribute(Spans.attributes.queueWaitMs, job.lastWaitMs)
  span.attribute(Spans.attributes.runId, job.run.id)
  span.attribute(Spans.attributes.taskIndex, job.index)
  if (job.hedge !== undefined && job.hedge.primary !== job) span.attribute(Spans.attributes.hedge, true)
  job.span = span
  return span
}

/**
 * The span of a coalesced task (one that did not run), from when it began to
 * wait (`waitedMs` ago) to now, naming the task whose result it got
 * (`"<run id>:<index>"`). @internal
 */
export const coalescedSpan = (job: Job, from: string, waitedMs: number): void => {
  const trace = job.run.trace!
  const span = startSpan(job, trace, waitedMs)
  job.span = undefined
  span.attribute(Spans.attributes.coalescedWith, from)
  span.attribute(Spans.attributes.outcome, "coalesced" satisfies Spans.Outcome)
  span.end(trace.timing ? trace.clock.unsafeCurrentTimeNanos() : BigInt(0), Exit.void)
}

/** Ends a direct attempt's span with its outcome. */
const endSpan = (job: Job, outcome: Outcome, value: unknown): void => {
  const span = job.span!
  job.span = undefined
  const trace = job.run.trace!
  const exit: Exit.Exit<unknown, unknown> = outcome === Outcome.Succeeded
    ? Exit.succeed(value)
    : outcome === Outcome.Failed
    ? Exit.fail(value)
    : Exit.interrupt(FiberId.none)
  span.attribute(Spans.attributes.outcome, spanOutcome(job, exit))
  span.end(trace.timing ? trace.clock.unsafeCurrentTimeNanos() : BigInt(0), exit)
}

/** How a direct attempt ended. */
const enum Outcome {
  Succeeded,
  Failed,
  /** Cut by the pool (timed out, cancelled, its permit lost). */
  Cut
}

/**
 * What a failed attempt is, whether it may be retried (a failure `E` or a
 * timeout), and, for an overloaded failure, the wait it asked for (ms, `0`
 * if none; see `Overload`). A wait longer than the task's `maxRetryAfter` is
 * not retried. @internal
 */
export const classify = (
  job: Job,
  cause: Cause.Cause<unknown>
): readonly [error: TaskError<unknown>, retryable: boolean, waitMs?: number | undefined] => {
  const task = job.task
  const { name } = task
  const attempts = job.attempts
  if (job.timedOut) {
    Metrics.timeouts.unsafeUpdate(1, job.tags.group)
    return [new TaskTimedOut({ task: name, timeout: task.timeout!, attempts }), true]
  }
  if (Cause.isInterruptedOnly(cause)) {
    // cut by the run (deadline, interruption, shutdown) or by the task itself
    return [new TaskInterrupted({ task: name, reason: job.run.cancelled ?? "interrupted", attempts }), false]
  }
  const failure = Cause.failureOption(cause)
  if (Option.isNone(failure)) {
    const defect = Cause.dieOption(cause)
    return [new TaskDefect({ task: name, defect: Option.isSome(defect) ? defect.value : Cause.squash(cause), attempts }), false]
  }
  try {
    const waitMs = Overload.waitOf(task.overload, name, failure.value)
    if (waitMs !== undefined && waitMs > task.overload.maxWaitMs) {
      return [new TaskFailed({ task: name, error: failure.value, attempts, retryAfterMs: waitMs }), false]
    }
    const error = new TaskFailed({ task: name, error: failure.value, attempts })
    if (task.retryWhile === undefined || attempts > task.retries) return [error, true, waitMs]
    return [error, Boolean(task.retryWhile(failure.value)), waitMs]
  } catch (defect) {
    // the caller's `overloaded` or `retryWhile` threw
    return [new TaskDefect({ task: name, defect, attempts }), false]
  }
}

/**
 * Why a timed-out attempt's signal is aborted: a `TimeoutError`, as
 * `AbortSignal.timeout` gives, so that a tool can tell a timeout from a
 * cancellation (an `AbortError`). @internal
 */
export const timeoutReason = (job: Job): DOMException =>
  new DOMException(`toolfan: task "${job.task.name}" timed out after ${job.task.timeoutMs} ms (attempt ${job.attempts})`, "TimeoutError")

/** How an attempt ended, for its span. */
const spanOutcome = (job: Job, exit: Exit.Exit<unknown, unknown>): Spans.Outcome => {
  if (Exit.isSuccess(exit)) return "ok"
  if (job.timedOut) return "timedOut"
  if (job.revoked !== undefined) return "unavailable"
  if (job.hedge !== undefined && job.hedge.loser === job) return "hedgeLost"
  if (Cause.isInterruptedOnly(exit.cause)) return "interrupted"
  return Cause.isFailure(exit.cause) ? "failed" : "defect"
}

/**
 * A success's real cost (its task's `actualCost` of its value) where it
 * differs from the estimate its start took: the run's budget counts the
 * difference, and its group's admission hears of it (a limit counting cost
 * takes it). A throw, or an answer that is not a finite number ≥ 0, keeps
 * the estimate. @internal
 */
export const correctCost = (job: Job, value: unknown): void => {
  let actual: unknown
  try {
    actual = job.task.actualCost!(value)
  } catch {
    return
  }
  if (typeof actual !== "number" || !(actual >= 0) || actual === Number.POSITIVE_INFINITY) return
  const delta = actual - job.task.cost
  if (delta === 0) return
  job.run.spent += delta
  job.admission.correct(delta)
}
