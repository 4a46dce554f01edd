/**
 * Idempotency keys: one per task of a run, the same for every attempt and
 * for its hedge, for the task to hand to a provider that dedupes writes by
 * key (Stripe's `Idempotency-Key`). A key is `"<run>:<index>:<name>"` where
 * `<run>` is a random UUID made for the run when a key is first asked for
 * (run ids restart with the process; a provider keeps keys for hours). Keys
 * are found from the attempt, so a task that never asks costs nothing: an
 * Effect task reads its fiber's worker, a promise task's signal is looked up
 * in the live pools' running attempts.
 */
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import { currentWorker, type Job } from "./run.js"

/** The pools not shut down, whose running attempts a signal is looked up in. @internal */
export const pools = new Set<{ readonly signals: Map<AbortSignal, Job> }>()

const uuid = (): string =>
  typeof globalThis.crypto?.randomUUID === "function"
    ? globalThis.crypto.randomUUID()
    : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`

/** The idempotency key of a job's task. @internal */
export const keyOf = (job: Job): string => `${job.run.idempotencyBase ??= uuid()}:${job.index}:${job.task.name}`

/** The key of the task whose running attempt has `signal`, if any. @internal */
export const keyOfSignal = (signal: AbortSignal): string | undefined => {
  for (const pool of pools) {
    const job = pool.signals.get(signal)
    if (job !== undefined) return keyOf(job)
  }
  return undefined
}

/** The key of the task the current fiber runs an attempt of (or was forked from), if any. @internal */
export const currentKey: Effect.Effect<string | undefined> = Effect.map(FiberRef.get(currentWorker), (owner) => {
  const job = owner?.job
  return job === undefined ? undefined : keyOf(job)
})
