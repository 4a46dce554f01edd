/**
 * Leases handed from one task to the next inside one scheduler, without
 * asking Redis.
 *
 * # Why
 *
 * A shared slot used to cost two round trips per task: one script call to
 * take the lease, one to give it back. But under load the next task of the
 * same scheduler asks for a slot a few microseconds after the previous one
 * gave its slot back. So a released lease is not removed from Redis at once:
 * it stays *idle* here for up to `lingerMs`, and the next task of this
 * scheduler takes it over — no call at all. Only a lease nobody here takes
 * within `lingerMs` is released (all idle leases in one call).
 *
 * - **The cap stays exact**: an idle lease is still a member of the sorted
 *   set, renewed like the others, so Redis counts it; locally it has at most
 *   one holder at a time. Nothing new is granted — a slot changes hands
 *   inside the process that holds it.
 * - **Crashes**: an idle lease of a dead process expires like any lease.
 * - **Fairness (the trade-off)**: a scheduler that always has a next task
 *   would keep its slots for ever while other processes wait. So leases are
 *   handed over only while nobody else waits: a scheduler that finds no room
 *   registers itself as waiting (a sorted set beside the leases, entries
 *   expiring after half a lease unless it asks again) and, when it is new
 *   there, publishes a "wanted" message; every answer to an acquire or a
 *   renewal says whether others wait. While others wait (`contended`), a
 *   released lease is released in Redis at once, and Redis serves waiters
 *   first: a scheduler not registered as waiting gets a slot only if one is
 *   left for each scheduler that is (ACQUIRE in leaseScripts.ts), so the releaser's
 *   next task cannot take back the slot freed for a waiter; registered
 *   waiters race for it (no FIFO among them). The flag can be stale: an
 *   answer sent before a "wanted" message may arrive after it and clear it
 *   again; the next renewal (an eighth of a lease later) sets it back. So a
 *   new waiter elsewhere may wait up to about an eighth of a lease longer
 *   than without handoffs, never longer than that while its entry is fresh.
 *   A registered scheduler that stopped waiting keeps its entry until it
 *   expires (half a lease): meanwhile the others make no handoffs, and a
 *   newcomer may wait up to 50 ms once before it counts as a waiter.
 * - **Idle time**: an idle lease blocks nobody while nobody waits, and is
 *   released at once when somebody starts to (the "wanted" message). After a
 *   run, the scheduler's leases are released `lingerMs` after its last task.
 * - Last in, first out: the most recently idle lease is taken first, so the
 *   leases a scheduler no longer needs are the ones that run out their linger.
 * - **Paused** (the provider asked every process to wait, see pause.ts): no
 *   handoffs while the pause this process knows of lasts — the idle leases
 *   are released when it hears of it, and released leases go back at once —
 *   or a task taking one over would start in the middle of the pause.
 * - **An adaptive cap that went down** (adaptive.ts): a handoff adds no lease,
 *   but would keep one over the new cap in use; so a decrease heard of, or an
 *   answer saying the leases exceed the cap, counts as others waiting
 *   (`heard(true)`). Worst case (the message missed): handoffs go on until the
 *   next renewal, an eighth of a lease, with the leases over the new cap by at
 *   most what this scheduler holds.
 */
import type { Pause } from "./pause.js"

interface Idle {
  readonly id: string
  /** When it became idle (`performance.now()`). */
  readonly since: number
}

/** @internal */
export class Handoff {
  private readonly idle: Array<Idle> = []
  private timer: ReturnType<typeof setTimeout> | undefined = undefined
  /** Whether another scheduler waits for this key, as last heard. */
  private contended = false
  private closed = false

  constructor(
    /** Releases leases in Redis (fire and forget). */
    private readonly release: (ids: ReadonlyArray<string>) => void,
    private readonly lingerMs: number,
    private readonly pause: Pause
  ) {}

  /**
   * A lease no task uses any more: kept for the next task here (true), or
   * released in Redis at once (false) while others wait, while paused, or
   * after `close`.
   */
  put(id: string): boolean {
    if (this.contended || this.closed || this.pause.left() > 0) {
      this.release([id])
      return false
    }
    this.idle.push({ id, since: performance.now() })
    this.arm()
    return true
  }

  /** The most recently idle lease, if any; the caller checks that it is still held. */
  take(): string | undefined {
    return this.idle.pop()?.id
  }

  /** What Redis said about others waiting for the key; if they do, every idle lease is released now. */
  heard(othersWait: boolean): void {
    this.contended = othersWait
    if (othersWait) this.expire(0)
  }

  /** A pause began: every idle lease is released now (`put` releases the next ones while it lasts). */
  paused(): void {
    this.expire(0)
  }

  /** No more handoffs: the idle leases are forgotten (the caller releases every lease), later ones released at once. */
  close(): void {
    this.closed = true
    this.idle.length = 0
    clearTimeout(this.timer)
    this.timer = undefined
  }

  /** Releases the leases idle for at least `ms` (one call), and waits for the next one to run out. */
  private expire(ms: number): void {
    const now = performance.now()
    const old = this.idle.filter((i) => now - i.since >= ms)
    if (old.length > 0) {
      const kept = this.idle.filter((i) => now - i.since < ms)
      this.idle.length = 0
      this.idle.push(...kept)
      this.release(old.map((i) => i.id))
    }
    this.arm()
  }

  private arm(): void {
    if (this.timer !== undefined || this.idle.length === 0) return
    const wait = Math.max(0, this.idle[0]!.since + this.lingerMs - performance.now())
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.expire(this.lingerMs)
    }, wait)
  }
}
