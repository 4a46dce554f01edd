/**
 * The tasks of one scheduler that wait for a slot between two tries, and
 * what wakes them. This module owns the sleepers and the wakes kept for them;
 * lease.ts decides when to wake them (a release message from Redis, a lease
 * made idle here, a reconnect) and what a woken task does (tries again, or
 * takes over an idle lease). Not to be confused with the waiting *schedulers*
 * registered in Redis (the `waiting` set of leaseScripts.ts).
 */
import * as Effect from "effect/Effect"

/** @internal */
export class Waiters {
  private readonly sleeping: Array<() => void> = []
  /** Release messages that came while nobody slept (at most `max`): a waiter between two tries takes one. */
  private wakes = 0

  constructor(
    private readonly max: number,
    private readonly leaseMs: number
  ) {}

  /** A lease was released in Redis (a message): one sleeper tries again, or the next one to sleep does at once. */
  released(): void {
    const waiter = this.sleeping.shift()
    if (waiter !== undefined) waiter()
    else this.wakes = Math.min(this.wakes + 1, this.max)
  }

  /** A lease was made idle here: one sleeper, if any, wakes to take it over (no wake is kept). */
  wakeOne(): void {
    this.sleeping.shift()?.()
  }

  /** After a reconnect releases may have been missed: every sleeper tries again at once. */
  wakeAll(): void {
    for (const waiter of this.sleeping.splice(0)) waiter()
  }

  /** Sleeps until a slot is released here or elsewhere, or until `ms` passed. */
  sleep(ms: number): Effect.Effect<void> {
    return Effect.race(
      // a missed message (reconnecting) costs at most a quarter lease
      Effect.sleep(Math.max(1, Math.min(ms, this.leaseMs / 4))),
      Effect.async<void>((resume) => {
        if (this.wakes > 0) {
          this.wakes--
          return resume(Effect.void)
        }
        const waiter = () => resume(Effect.void)
        this.sleeping.push(waiter)
        return Effect.sync(() => {
          const i = this.sleeping.indexOf(waiter)
          if (i >= 0) this.sleeping.splice(i, 1)
        })
      })
    )
  }
}
