/**
 * Hedging (Dean & Barroso, "The Tail at Scale"; gRPC's hedging policy): an
 * idempotent task whose attempt runs past its hedge delay gets a second
 * attempt, and the first of the two to succeed gives the task its value.
 *
 * # How it fits the pool
 *
 * The hedge is a second job of the same run and index (the *shadow*), made
 * when the delay passes and queued like any job: it waits for its own slot
 * and its group's admission, so it counts against caps, rate limits and the
 * run's budget, and it has its own worker fiber or AbortController. It is not
 * in its run's `jobs`: the run knows only the primary, and the pool asks this
 * module (`settled`) before recording either of them. Nothing here is touched
 * by a task without `hedge`: the pool checks `task.hedge` when an attempt
 * begins and `job.hedge` when one ends or settles.
 *
 * # Rules
 *
 * - One hedge per task, for the primary's attempt that ran past the delay. The
 *   hedge never retries; the primary keeps its retries (a hedge uses none).
 * - The first success wins: the other attempt, running or waiting (for a slot
 *   or a backoff), is cut at once — signal aborted, fiber interrupted — and its
 *   span ends as `"hedgeLost"`.
 * - The task's result is recorded once both have ended (so a run never returns
 *   with a loser still holding a slot): the winner's value, or, if neither
 *   succeeded, the primary's error. Its `attempts` counts both jobs' attempts,
 *   its `waitMs` both waits, and `hedge` says whether the hedge won.
 * - Budget, per key (the task's group, else its name) and scheduler: each
 *   first attempt (or retry) started earns `budget` of a hedge and a hedge
 *   spends one, so hedges ≤ `budget` × attempts; at most `budget` × {@link BANK}
 *   is banked.
 * - A quantile delay is read from the key's last {@link WINDOW} successful
 *   attempts (primaries and hedges; a loser's latency is unknown, so not
 *   counted), and only once `minSamples` are in: until then, no hedge.
 */
import * as Metrics from "../Metrics.js"
import * as TaskResult from "../TaskResult.js"
import type { HedgePolicy } from "./policies.js"
import { Job, type Reason, State } from "./run.js"
import type { Timer, TimerEntry } from "./timer.js"

/** Successful-attempt latencies kept per key for a quantile delay. @internal */
export const WINDOW = 1000

/**
 * Keys whose stats are kept per pool: past this many, the oldest is dropped.
 * (A task without a group is keyed by its name, and names may be made per
 * call, e.g. `search#call_1`: such tasks never gather samples or budget —
 * give them a group — and must not grow the map without bound.)
 */
const MAX_KEYS = 1024

/** The attempts whose budget may be banked (see `Stats.tokens`). @internal */
export const BANK = 10_000

/** Latencies and hedge budget of one key (group or task name) in one scheduler. */
class Stats {
  /**
   * The hedges it may still start: each first attempt earns `budget`, each
   * hedge spends 1, so hedges ≤ budget × attempts; at most what
   * {@link BANK} attempts earn is kept, so that a long quiet spell does not
   * bank thousands of hedges for the first slowdown (when every call is slow
   * and a burst of hedges would double the load).
   */
  tokens = 0
  /** The last `WINDOW` latencies (grown as they come: most keys see few), and where the next goes once full. */
  private readonly window: Array<number> = []
  private next = 0
  /** The quantile last computed, and the samples added since. */
  private cached: number | undefined = undefined
  private cachedQ = -1
  private fresh = 0

  sample(ms: number): void {
    if (this.window.length < WINDOW) this.window.push(ms)
    else this.window[this.next] = ms
    this.next = (this.next + 1) % WINDOW
    this.fresh++
  }

  /** The hedge delay in ms, `undefined` while too few samples are in. */
  delay(policy: HedgePolicy): number | undefined {
    if (policy.afterMs !== undefined) return policy.afterMs
    const count = this.window.length
    if (count < policy.minSamples) return undefined
    // sorting the window per attempt would cost ~50 µs: recomputed after 16 new samples
    if (this.cached === undefined || this.cachedQ !== policy.quantile || this.fresh >= 16) {
      const sorted = Float64Array.from(this.window).sort()
      this.cached = sorted[Math.min(count - 1, Math.ceil(policy.quantile * count) - 1)]!
      this.cachedQ = policy.quantile
      this.fresh = 0
    }
    return Math.max(1, this.cached)
  }
}

/** One hedged task's two attempts (`job.hedge` of both). @internal */
export class Hedge {
  shadow: Job | undefined = undefined
  /** The timer entry of the primary's running attempt, until the delay passes. */
  entry: TimerEntry | undefined = undefined
  /** The primary attempt it waits on (its number). */
  attempt = 0
  primaryStart = -0
  shadowStart = -0
  /** The primary's attempts when the hedge was made (the hedge's attempt numbers follow them). */
  base = 0
  primaryResult: TaskResult.TaskResult<unknown, unknown> | undefined = undefined
  shadowDone = false
  /** The first to succeed, with its result. */
  won: Job | undefined = undefined
  wonResult: TaskResult.TaskResult<unknown, unknown> | undefined = undefined
  /** The one cut because the other won (its span ends as `"hedgeLost"`). */
  loser: Job | undefined = undefined
  constructor(readonly primary: Job, readonly stats: Stats) {}
}

/** What hedging needs from the pool. @internal */
export interface HedgeHost {
  readonly timer: Timer
  enqueue(job: Job): void
  pump(reuse: undefined): unknown
  /** Cuts a running attempt. */
  interrupt(job: Job): void
  /** Settles a job that is not running as `TaskInterrupted`. */
  cutWaiting(job: Job, reason: Reason): void
  /** Records a task's result (after coalescing). */
  finish(job: Job, result: TaskResult.TaskResult<unknown, unknown>): void
}

/** The hedges of one pool. @internal */
export class Hedges {
  private readonly stats = new Map<string, Stats>()
  constructor(private readonly host: HedgeHost) {}

  /** An attempt of a hedged task begins: the primary's arms its hedge (once per task). */
  began(job: Job, now: number): void {
    const policy = job.task.hedge!
    let hedge = job.hedge
    if (hedge === undefined) {
      let stats = this.stats.get(policy.key)
      if (stats === undefined) {
        if (this.stats.size >= MAX_KEYS) this.stats.delete(this.stats.keys().next().value!)
        this.stats.set(policy.key, stats = new Stats())
      }
      hedge = job.hedge = new Hedge(job, stats)
    }
    if (job !== hedge.primary) {
      hedge.shadowStart = now
      return
    }
    hedge.primaryStart = now
    hedge.stats.tokens = Math.min(policy.budget * BANK, hedge.stats.tokens + policy.budget)
    if (hedge.shadow !== undefined) return
    const delay = hedge.stats.delay(policy)
    if (delay === undefined) return
    hedge.attempt = job.attempts
    hedge.entry = this.host.timer.at(now + delay, this.due, hedge)
  }

  /** An attempt of a hedged task ended: the primary's hedge is no longer due. */
  ended(job: Job): void {
    const hedge = job.hedge!
    if (job === hedge.primary && hedge.entry !== undefined) {
      this.host.timer.cancel(hedge.entry)
      hedge.entry = undefined
    }
  }

  /** The primary's attempt ran past the delay: its hedge is queued, within the budget. */
  private readonly due = (hedge: Hedge): void => {
    hedge.entry = undefined
    const job = hedge.primary
    if (job.state !== State.Running || job.attempts !== hedge.attempt || job.cut || job.run.cancelled !== undefined) return
    const stats = hedge.stats
    // a float sum of budgets (0.05 × 20 is 0.9999…): within a millionth of a hedge counts as one
    if (stats.tokens < 1 - 1e-6) return
    stats.tokens -= 1
    const shadow = new Job(job.run, job.index, job.task, job.admission)
    shadow.hedge = hedge
    shadow.attempts = hedge.base = job.attempts
    hedge.shadow = shadow
    Metrics.hedges.unsafeUpdate(1, job.tags.group)
    this.host.enqueue(shadow)
    this.host.pump(undefined)
  }

  /**
   * Cuts the hedge of a run's task being cancelled (the run knows only the
   * primary). @internal
   */
  cancel(primary: Job, reason: Reason): void {
    const shadow = primary.hedge!.shadow
    if (shadow === undefined || shadow.state === State.Done) return
    if (shadow.state !== State.Running) this.host.cutWaiting(shadow, reason)
    // a spent budget or `clear()` stops what has not started; what runs goes on
    else if (reason !== "budget" && reason !== "cleared") this.host.interrupt(shadow)
  }

  /**
   * One of a hedged task's jobs settled with `result`. Returns whether it is
   * handled here (the task's result comes once both jobs have ended), or
   * recorded as it is (no hedge was made).
   */
  settled(job: Job, result: TaskResult.TaskResult<unknown, unknown>, now: number): boolean {
    const hedge = job.hedge!
    const primary = hedge.primary
    const shadow = hedge.shadow
    if (result.ok) {
      hedge.stats.sample(now - (job === primary ? hedge.primaryStart : hedge.shadowStart))
      if (hedge.won === undefined) {
        hedge.won = job
        hedge.wonResult = result
      }
    }
    if (shadow === undefined) return false
    if (job === primary) hedge.primaryResult = result
    else hedge.shadowDone = true
    const other = job === primary ? shadow : primary
    if (job === primary ? !hedge.shadowDone : hedge.primaryResult === undefined) {
      if (hedge.won === job) this.cut(hedge, other)
      return true
    }
    this.deliver(hedge, shadow, now)
    return true
  }

  /** The loser is cut: its settlement (now, or once its fiber is interrupted) delivers the task's result. */
  private cut(hedge: Hedge, loser: Job): void {
    hedge.loser = loser
    if (loser.state === State.Running) this.host.interrupt(loser)
    else if (loser.state !== State.Done) this.host.cutWaiting(loser, "interrupted")
    this.host.pump(undefined)
  }

  private deliver(hedge: Hedge, shadow: Job, now: number): void {
    const primary = hedge.primary
    const base = hedge.wonResult ?? hedge.primaryResult!
    const hedgeWon = hedge.won === shadow
    if (hedgeWon) Metrics.hedgesWon.unsafeUpdate(1, primary.tags.group)
    this.host.finish(
      primary,
      TaskResult.annotate(base, {
        name: primary.task.name,
        attempts: primary.attempts + shadow.attempts - hedge.base,
        durationMs: primary.firstStart < 0 ? 0 : now - primary.firstStart,
        waitMs: Math.max(0, primary.waitMs) + Math.max(0, shadow.waitMs),
        hedge: hedgeWon ? "won" : "lost",
        coalesced: base.coalesced === true
      })
    )
  }
}
