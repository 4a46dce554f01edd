/**
 * Nested runs: a run started from inside a task borrows that attempt's slot
 * (and group place), so that it can never deadlock on the cap; the last
 * nested run to end takes the slot back, ahead of every waiting task. The
 * pool's bookkeeping for it, apart from the pool (see pool.ts).
 */
import * as Metrics from "../Metrics.js"
import { type Job, State } from "./run.js"

/** The pool, as lending sees it. @internal */
export interface LendHost {
  pending: number
  now(): number
  /** Gives back the slot and what the admission gave. */
  release(job: Job): void
  /** Takes a waiting job out of line. */
  drop(job: Job): void
  /** Puts an admitted job in `ready`. */
  admitted(job: Job): void
}

/**
 * Lends `job`'s slot (and group place) to a nested run. Nested runs started
 * together share the one lent slot; the last one to end takes it back (see
 * `endLend`). No pump here: the nested run's `start` pumps once its own tasks
 * are queued, so they compete for the lent slot by priority. @internal
 */
export const lend = (host: LendHost, job: Job): void => {
  if (job.lends++ !== 0) return
  if (job.holdsSlot) {
    // in_flight counts attempts holding a slot: this one holds none while its nested runs use it
    Metrics.inFlight.unsafeUpdate(-1, job.tags.group)
    job.lentPlace = job.place
    host.release(job)
    return
  }
  // an earlier nested run is still taking the slot back while the task starts another: the slot stays lent
  // (two reclaims would take two slots), that reclaim is given up and its run returns
  dropReclaim(host, job)
}

/**
 * A nested run of `job` ended. When it was the last one, the job queues to
 * take its slot back ahead of every waiting task, and the nested run returns
 * once the slot is back (`done`). Returns `false` when there is nothing to
 * take back (the attempt is over or being interrupted). @internal
 */
export const endLend = (host: LendHost, job: Job, done: () => void): boolean => {
  if (--job.lends > 0 || job.state !== State.Running || job.holdsSlot) return false
  if (job.cut) return false
  job.reclaim = done
  job.priority = Number.POSITIVE_INFINITY
  job.queuedAt = host.now()
  host.pending++
  // no place to take back if it held none (a rate limit's turn): straight to `ready`, ahead of everyone
  if (job.lentPlace) job.admission.enter(job)
  else host.admitted(job)
  return true
}

/** The job took its slot back. @internal */
export const reclaimed = (job: Job): void => {
  Metrics.inFlight.unsafeUpdate(1, job.tags.group)
  endReclaim(job)
}

/** Gives up taking the slot back (the attempt is ending); its nested run returns. @internal */
export const dropReclaim = (host: LendHost, job: Job): void => {
  if (job.reclaim === undefined) return
  if (!job.holdsSlot) host.drop(job)
  endReclaim(job)
}

/** Ends taking the slot back: the nested run waiting for it returns. @internal */
export const endReclaim = (job: Job): void => {
  const done = job.reclaim!
  job.reclaim = undefined
  job.priority = job.task.priority
  done()
}
