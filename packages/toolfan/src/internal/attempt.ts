/**
 * One attempt of a task: the effect that runs it (a promise task is called
 * directly), the span around it, and what its failure means. The pool runs
 * attempts; `Task.fromPromise` and the Promise API make their effects here.
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Metrics from "../Metrics.js"
import * as Spans from "../Spans.js"
import { TaskDefect, type TaskError, TaskFailed, TaskInterrupted, TaskTimedOut } from "../TaskError.js"
import { promiseEffect, settleWith } from "./promise.js"
import type { Job } from "./run.js"

/** The effect of `job`'s next attempt, in a span when its run is traced. @internal */
export const attempt = (job: Job): Effect.Effect<unknown, unknown> => {
  const task = job.task
  const evaluate = task.evaluate
  const effect = evaluate === undefined
    ? task.effect as Effect.Effect<unknown, unknown>
    : promiseEffect(evaluate, job)
  if (!job.run.traced) return effect
  return Effect.withSpan(
    Effect.onExit(effect, (exit) => Effect.annotateCurrentSpan(Spans.attributes.outcome, outcome(job, exit))),
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

/**
 * Calls a promise task's function for `job`'s current attempt, in its run's
 * async context, and reports the outcome (a value, or a rejection or throw as
 * a failure) to `done`. No fiber: see `Pool.startDirect`. @internal
 */
export const callDirect = (job: Job, done: (job: Job, attempt: number, outcome: Outcome, value: unknown) => void): void => {
  const evaluate = job.task.evaluate!
  const attempt = job.attempts
  const succeed = (value: unknown) => done(job, attempt, Outcome.Succeeded, value)
  const fail = (error: unknown) => done(job, attempt, Outcome.Failed, error)
  job.run.effectScheduler.enter(() => {
    if (evaluate.length === 0) return settleWith(evaluate as () => unknown, succeed, fail)
    const controller = new AbortController()
    job.own(controller)
    settleWith(() => evaluate(controller.signal), succeed, fail)
  })
}

/** How a direct attempt ended. @internal */
export const enum Outcome {
  Succeeded,
  Failed,
  /** Cut by the pool (timed out, cancelled, its permit lost). */
  Cut
}

/** What a failed attempt is, and whether it may be retried (a failure `E` or a timeout). @internal */
export const classify = (job: Job, cause: Cause.Cause<unknown>): readonly [TaskError<unknown>, boolean] => {
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
  const error = new TaskFailed({ task: name, error: failure.value, attempts })
  if (task.retryWhile === undefined || attempts > task.retries) return [error, true]
  try {
    return [error, Boolean(task.retryWhile(failure.value))]
  } catch (defect) {
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
const outcome = (job: Job, exit: Exit.Exit<unknown, unknown>): Spans.Outcome => {
  if (Exit.isSuccess(exit)) return "ok"
  if (job.timedOut) return "timedOut"
  if (job.revoked !== undefined) return "unavailable"
  if (Cause.isInterruptedOnly(exit.cause)) return "interrupted"
  return Cause.isFailure(exit.cause) ? "failed" : "defect"
}
