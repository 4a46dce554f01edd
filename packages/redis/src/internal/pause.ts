/**
 * The group pause, shared by every process using the same key.
 *
 * # Why it works this way
 *
 * When a provider answers "too many requests, wait X ms", the scheduler of
 * the process that got the answer pauses its group and tells the limit
 * (`Limiter.overloaded(X)`). The other processes' calls would be refused too,
 * so the limit records the pause in Redis, beside the leases: a key whose
 * value is the end of the pause by Redis's clock (`TIME`) and which expires
 * with it (PAUSE in leaseScripts.ts). A pause only ever grows: a shorter wait
 * leaves a longer pause as it is. Redis's own clock and expiries decide when
 * it ends, so the processes' clocks do not matter.
 *
 * - **Nothing is granted while paused**: the acquire script answers the
 *   pause left instead of a lease, and the task sleeps that long (not woken
 *   by releases: nothing is granted before the end anyway), then asks again.
 *   No polling: one call per waiting task per pause (and per extension).
 * - **Processes hear of it**: setting or extending the pause publishes
 *   `p<ms>` on the limit's channel, and every answer to an acquire or a
 *   renewal carries the pause left. A process that knows of a pause keeps it
 *   here (`Pause`): its tasks sleep it out before asking, and its idle leases
 *   are not handed to its next tasks but released (handoff.ts).
 * - **Worst case**: a process that misses the message (its subscriber was
 *   reconnecting) and asks nothing meanwhile learns of the pause at its next
 *   renewal, an eighth of a lease later; until then its tasks can take over
 *   the leases it already held (never a new one: Redis grants nothing).
 * - **Best effort**: if Redis cannot be reached, the pause stays local (the
 *   scheduler's own) and the failure is logged; `overloaded` never throws.
 * - The end is not published: every process knows how long the pause lasts
 *   and its sleepers wake then; Redis drops the key by itself.
 */

/** A pause as this process knows it: until when (`performance.now()`, monotonic). @internal */
export class Pause {
  private until = 0

  /** The pause lasts at least `ms` more from now; true if that made it longer. */
  extend(ms: number): boolean {
    const until = performance.now() + ms
    if (until <= this.until) return false
    this.until = until
    return true
  }

  /** Milliseconds left (0: not paused). */
  left(): number {
    return Math.max(0, this.until - performance.now())
  }
}

/** A wait as the pause script takes it: whole milliseconds ≥ 1 (PX), or undefined if it pauses nothing. @internal */
export const pauseMillis = (waitMs: number): number | undefined =>
  typeof waitMs === "number" && waitMs > 0 && Number.isFinite(waitMs) ? Math.ceil(waitMs) : undefined
