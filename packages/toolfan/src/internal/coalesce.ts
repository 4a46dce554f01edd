/**
 * Coalescing (dataloader's per-key dedupe, across the runs of one
 * scheduler): a task with a `coalesce` key that finds a task of that key in
 * flight does not run; it waits for that one (the *leader*) and gets its
 * result. A task that comes after the leader settled starts a new flight:
 * the entry is deleted when the leader settles, so an error is shared only
 * with the tasks already waiting, never served to a later one. With `cache:
 * { ttl }`, a success is kept for `ttl` and served to later tasks of its key
 * (failures never are).
 *
 * A follower stays `New` in its own run, holding no slot: its run's
 * deadline, interruption or `clear()` settles it as any waiting job, and the
 * leader then skips it. A leader cut by its own run (deadline, interruption)
 * hands its flight to the first follower whose run is still going, which is
 * queued in its place: one caller's deadline never fails another's task.
 *
 * Nothing here is touched by a task without `coalesce`: the run checks
 * `task.coalesce` when it queues a job, the pool `job.flight` when one settles.
 */
import * as Metrics from "../Metrics.js"
import * as TaskResult from "../TaskResult.js"
import { coalescedSpan } from "./attempt.js"
import { type Job, State } from "./run.js"

/** The tasks of one key in flight: the one running and those waiting for its result. @internal */
export class Flight {
  followers: Array<Job> = []
  constructor(readonly key: string, public leader: Job) {}
}

/** A success kept for later tasks of its key. */
interface Cached {
  readonly result: TaskResult.TaskResult<unknown, unknown>
  readonly until: number
  /** `"<run id>:<task index>"` of the task that produced it. */
  readonly from: string
}

/** What coalescing needs from the pool. @internal */
export interface FlightHost {
  enqueue(job: Job, now?: number): void
  pump(reuse: undefined): unknown
  now(): number
  /** Gives a job its result (metrics, its run). */
  deliver(job: Job, result: TaskResult.TaskResult<unknown, unknown>): void
}

/** Whether `job`'s run is nested (at any depth) in an attempt of `leader`'s task. */
const nestedIn = (job: Job, leader: Job): boolean => {
  for (let parent = job.run.parent; parent !== undefined; parent = parent.run.parent) {
    if (parent === leader || (parent.hedge !== undefined && parent.hedge === leader.hedge)) return true
  }
  return false
}

/** Cached entries beyond which expired ones are swept when one is added. */
const SWEEP_AT = 1024

/** The flights and the cache of one pool. @internal */
export class Flights {
  private readonly flights = new Map<string, Flight>()
  private readonly cache = new Map<string, Cached>()
  constructor(private readonly host: FlightHost) {}

  /** A coalesced task is queued: it leads a new flight, follows one, or takes a cached result. */
  join(job: Job, now: number = this.host.now()): void {
    const key = job.task.coalesce!.key
    const cached = this.cache.get(key)
    if (cached !== undefined) {
      if (cached.until > now) return this.serve(job, cached.result, cached.from, now, now)
      this.cache.delete(key)
    }
    const flight = this.flights.get(key)
    job.queuedAt = now
    if (flight === undefined) {
      this.flights.set(key, job.flight = new Flight(key, job))
      return this.host.enqueue(job, now)
    }
    // a task of a run nested in the leader's attempt would wait for its own parent: it runs on its own
    if (nestedIn(job, flight.leader)) return this.host.enqueue(job, now)
    job.flight = flight
    flight.followers.push(job)
  }

  /** A job of a flight settled: a leader's result goes to its followers (or its flight to one of them). */
  settled(job: Job, result: TaskResult.TaskResult<unknown, unknown>): void {
    const flight = job.flight!
    if (flight.leader !== job) return // a follower cut on its own
    const followers = flight.followers.filter((f) => f.state !== State.Done)
    const next = !result.ok && result.error._tag === "TaskInterrupted" && job.run.cancelled !== undefined
      ? followers.find((f) => f.run.cancelled === undefined)
      : undefined
    if (next !== undefined) {
      // the leader was cut by its own run: the flight goes on with a follower
      flight.leader = next
      flight.followers = followers.filter((f) => f !== next)
      this.host.enqueue(next)
      this.host.pump(undefined)
      return
    }
    if (this.flights.get(flight.key) === flight) this.flights.delete(flight.key)
    flight.followers = []
    const now = this.host.now()
    const from = `${job.run.id}:${job.index}`
    const ttl = job.task.coalesce!.ttlMs
    if (result.ok && ttl > 0) {
      if (this.cache.size >= SWEEP_AT) this.sweep(now)
      this.cache.set(flight.key, { result, until: now + ttl, from })
    }
    for (const follower of followers) this.serve(follower, result, from, follower.queuedAt, now)
  }

  /** Gives a task that did not run the result of the one that did. */
  private serve(job: Job, result: TaskResult.TaskResult<unknown, unknown>, from: string, since: number, now: number): void {
    job.state = State.Done
    Metrics.coalesced.unsafeUpdate(1, job.tags.group)
    if (job.run.trace !== undefined) coalescedSpan(job, from, now - since)
    this.host.deliver(
      job,
      TaskResult.annotate(result, { name: job.task.name, attempts: 0, durationMs: now - since, waitMs: 0, hedge: undefined, coalesced: true })
    )
  }

  private sweep(now: number): void {
    for (const [key, cached] of this.cache) if (cached.until <= now) this.cache.delete(key)
  }
}
