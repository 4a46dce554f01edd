/**
 * Admission: whether a job of a group may take a slot now, and what it gives
 * back when it leaves. One small interface, three strategies:
 *
 * - `unlimited` — no group: admitted at once, nothing to give back;
 * - `Cap` — a numeric group cap: a place per job (running, in `ready`, or
 *   asking a limit), the others wait in the group's own priority queue and
 *   hold no slot (no head-of-line blocking);
 * - `Limited` — a `GroupLimit` (a rate limit, a limit kept in Redis…): a
 *   `Cap` of the limit's `local` places, then a permit asked for
 *   asynchronously. A concurrency permit is held until the job leaves; a
 *   rate limit's permit is only a turn to start, so its place is given back
 *   as soon as it is granted (the limit says which, see `GroupLimit.kind`).
 *
 * The pool owns slots and the ready queue; a strategy owns its places, its
 * queue and its permits, and calls the pool back through `Host`. The state a
 * strategy keeps per job lives on the job (`Waiter`), so asking allocates
 * nothing on the hot path.
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as Option from "effect/Option"
import * as Runtime from "effect/Runtime"
import type * as GroupLimit from "../GroupLimit.js"
import { GroupLimitUnavailable } from "../GroupLimit.js"
import { BucketQueue, type Queued, remove } from "./queue.js"

/** A permit granted to a job; `released` once given back (a later revocation is then ignored). @internal */
export interface Hold {
  permit: GroupLimit.Permit | undefined
  released: boolean
}

/** What a strategy keeps on each job. @internal */
export interface Waiter extends Queued<Waiter> {
  /** Holds a place in its group. */
  place: boolean
  /** The permit of the group's limit, once granted. */
  hold: Hold | undefined
  /** The request for a permit in flight. */
  acquiring: Fiber.RuntimeFiber<GroupLimit.Permit, GroupLimitUnavailable> | undefined
  /** What its start costs a limit that counts cost (its task's `cost`). */
  readonly cost: number
}

/** The pool, as the strategies see it. @internal */
export interface Host {
  /** `t` holds what its group requires: it may take a slot. */
  admitted(t: Waiter): void
  /** `t` could not get a permit. */
  refused(t: Waiter, error: GroupLimitUnavailable): void
  /** The permit `t` holds was lost (a lease that could not be renewed). */
  revoked(t: Waiter, error: GroupLimitUnavailable): void
  /** Something was admitted outside the pool's own calls: fill free slots. */
  wake(): void
  /** A reading of the pool's monotonic clock, in ms. */
  now(): number
  readonly runtime: Runtime.Runtime<never>
}

/** @internal */
export interface Admission {
  /** Asks for `t` to start: `host.admitted(t)` now or later, or `host.refused`. */
  enter(t: Waiter): void
  /** Gives back what `t` holds or is waiting for (its attempt ended, it lent its slot, or it gave up). */
  leave(t: Waiter): void
  /** Whether a job whose permit was lost before it started asks again (`"wait"`) instead of failing. */
  readonly asksAgain: boolean
  /**
   * How `t`'s attempt ended: a success (`undefined`), or an overloaded
   * failure and the wait it asked for in ms (`0`: none; see `Overload`).
   * Nothing else is reported.
   */
  observe(t: Observed, overload: number | undefined): void
  /** A start's real cost differed from its estimate by `delta` (real − estimate). */
  correct(delta: number): void
}

/** What a strategy may read of a job it observes: when its attempt started (`queuedAt + lastWaitMs`). @internal */
export interface Observed extends Waiter {
  readonly queuedAt: number
  readonly lastWaitMs: number
}

/** No group. @internal */
export const unlimited = (host: Host): Admission => ({
  enter: (t) => host.admitted(t),
  leave: () => {},
  asksAgain: false,
  observe: () => {},
  correct: () => {}
})

const always = (): boolean => true

/** A numeric cap on a group's jobs. @internal */
export class Cap implements Admission {
  private used = 0
  private readonly queue = new BucketQueue<Waiter>()
  readonly asksAgain: boolean = false
  constructor(protected cap: number, protected readonly host: Host) {}

  enter(t: Waiter): void {
    if (t.place) return this.placed(t)
    if (this.used < this.cap) {
      this.used++
      t.place = true
      this.placed(t)
    } else {
      this.queue.push(t)
    }
  }

  /** `t` has a place. */
  protected placed(t: Waiter): void {
    this.host.admitted(t)
  }

  leave(t: Waiter): void {
    // still in this group's queue (the pool takes it out of `ready` itself)
    if (t.list !== undefined && !t.place) remove(t)
    this.free(t)
  }

  observe(_t: Observed, _overload: number | undefined): void {}

  correct(_delta: number): void {}

  /** Gives back `t`'s place, if it holds one, to the next job waiting. */
  protected free(t: Waiter): void {
    if (!t.place) return
    t.place = false
    this.used--
    this.admitWaiting()
  }

  /** Gives the free places to the jobs waiting, in priority order. */
  protected admitWaiting(): void {
    while (this.used < this.cap) {
      const next = this.queue.shift(always)
      if (next === undefined) break
      this.used++
      next.place = true
      this.placed(next)
    }
  }
}

/** A `GroupLimit`, started for this scheduler. @internal */
export class Limited extends Cap {
  override readonly asksAgain: boolean
  /** The limit, once started (see `placed`). */
  private started: GroupLimit.Limiter | undefined = undefined
  constructor(
    host: Host,
    private readonly limit: GroupLimit.GroupLimit,
    /** The started limit (an effect: it may still be starting, see `Scheduler.makeAt`). */
    private readonly limiter: Effect.Effect<GroupLimit.Limiter>
  ) {
    super(limit.local, host)
    this.asksAgain = limit.onUnavailable === "wait"
  }

  protected override placed(t: Waiter): void {
    const hold: Hold = { permit: undefined, released: false }
    // suspended: a custom limiter that throws instead of failing ends this request (see `acquired`), nothing else
    const fiber = Runtime.runFork(
      this.host.runtime,
      Effect.flatMap(this.limiter, (limiter) => {
        this.started = limiter
        return limiter.acquire((error) => hold.released || this.host.revoked(t, error), t.cost)
      }),
      { immediate: false }
    )
    t.acquiring = fiber
    fiber.addObserver((exit) => this.acquired(t, hold, fiber, exit))
  }

  private acquired(
    t: Waiter,
    hold: Hold,
    fiber: Fiber.RuntimeFiber<GroupLimit.Permit, GroupLimitUnavailable>,
    exit: Exit.Exit<GroupLimit.Permit, GroupLimitUnavailable>
  ): void {
    if (t.acquiring !== fiber) {
      // given up meanwhile: hand back what was granted
      hold.released = true
      if (Exit.isSuccess(exit)) this.release(exit.value)
      return
    }
    t.acquiring = undefined
    if (Exit.isSuccess(exit)) {
      hold.permit = exit.value
      this.host.admitted(t)
      // a rate limit's permit is a turn to start: the place goes to the next job waiting for a turn
      t.hold = hold
      if (this.limit.kind === "rate") {
        this.releaseHold(t)
        this.free(t)
      }
    } else {
      const failure = Cause.failureOption(exit.cause)
      this.leave(t)
      this.host.refused(
        t,
        Option.isSome(failure) ? failure.value : new GroupLimitUnavailable({
          limit: this.limit.description,
          reason: "asking for a permit ended unexpectedly",
          cause: Cause.squash(exit.cause)
        })
      )
    }
    this.host.wake()
  }

  /** An overloaded attempt, and its wait, go to the limit (a limit shared by processes shares the pause, or its cap). */
  override observe(t: Observed, overload: number | undefined): void {
    if (overload === undefined) return
    try {
      this.started?.overloaded?.(overload, Math.max(0, this.host.now() - t.queuedAt - t.lastWaitMs))
    } catch (error) {
      Runtime.runFork(this.host.runtime, Effect.logError("toolfan: a GroupLimit's overloaded() threw", Cause.die(error)))
    }
  }

  override correct(delta: number): void {
    try {
      this.started?.correct?.(delta)
    } catch (error) {
      Runtime.runFork(this.host.runtime, Effect.logError("toolfan: a GroupLimit's correct() threw", Cause.die(error)))
    }
  }

  override leave(t: Waiter): void {
    const fiber = t.acquiring
    if (fiber !== undefined) {
      // `acquired` releases the permit if it was granted meanwhile
      t.acquiring = undefined
      fiber.unsafeInterruptAsFork(FiberId.none)
    }
    this.releaseHold(t)
    super.leave(t)
  }

  private releaseHold(t: Waiter): void {
    const hold = t.hold
    if (hold === undefined) return
    t.hold = undefined
    hold.released = true
    if (hold.permit !== undefined) this.release(hold.permit)
  }

  /**
   * A custom limit's `release` that throws must not keep the group's place or
   * break the pool's bookkeeping: the error is logged (Effect's logger, in the
   * scheduler's context) and the permit counts as given back.
   */
  private release(permit: GroupLimit.Permit): void {
    try {
      permit.release()
    } catch (error) {
      Runtime.runFork(this.host.runtime, Effect.logError("toolfan: a GroupLimit permit's release() threw", Cause.die(error)))
    }
  }
}
