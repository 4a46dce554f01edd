/**
 * Group pauses. When an attempt of a group fails as overloaded with a wait
 * (a `429` with `Retry-After`, see `Overload`), the group starts no new
 * attempt until that time: its siblings would get the same answer. It
 * resumes by itself.
 *
 * A paused group's jobs stay where admission put them until they reach the
 * front of the ready queue; there the pool hands them here (`hold`) instead
 * of starting them, and they keep what admission gave them (a place in the
 * group's cap, a permit). They wait in a queue of their own, in priority
 * order, and go back to the ready queue when the pause ends. A job cut while
 * held (deadline, interruption) leaves that queue at once like any queued
 * job (`remove`). An overloaded attempt is reported here (`overloaded`):
 * its group's admission hears of it (an adaptive cap goes down) and a wait
 * pauses the group. Owns: the paused groups and their held jobs; must not
 * touch slots or counters (the pool's).
 */
import { BucketQueue } from "./queue.js"
import type { Job } from "./run.js"
import type { Timer, TimerEntry } from "./timer.js"

const always = (): boolean => true

/** One paused group. */
class Pause {
  readonly held = new BucketQueue<Job>()
  entry: TimerEntry | undefined = undefined
  constructor(readonly group: string, public until: number) {}
}

/** @internal */
export class Pauses {
  private readonly groups = new Map<string, Pause>()
  constructor(
    private readonly timer: Timer,
    /** Where held jobs go back to when their pause ends. */
    private readonly ready: BucketQueue<Job>,
    /** Fills free slots (the pool's `pump`). */
    private readonly pump: () => void
  ) {}

  /** Whether any group is paused (the pool's fast path checks it first). */
  get any(): boolean {
    return this.groups.size > 0
  }

  /** An attempt failed as overloaded: its group's admission hears of it, and a wait pauses the group. */
  overloaded(job: Job, waitMs: number): void {
    job.admission.observe(job, waitMs)
    const group = job.task.group
    // its siblings would get the same answer
    if (waitMs > 0 && group !== undefined) this.pause(group, this.timer.now() + waitMs)
  }

  /** Pauses `group` until `until` (the pool's clock, ms); a pause already longer is kept. */
  pause(group: string, until: number): void {
    const existing = this.groups.get(group)
    if (existing !== undefined && existing.until >= until) return
    const pause = existing ?? new Pause(group, until)
    if (existing === undefined) this.groups.set(group, pause)
    else if (pause.entry !== undefined) this.timer.cancel(pause.entry)
    pause.until = until
    pause.entry = this.timer.at(until, this.end, pause)
  }

  /** Holds `job` if its group is paused; returns whether it did. */
  hold(job: Job): boolean {
    const group = job.task.group
    const pause = group === undefined ? undefined : this.groups.get(group)
    if (pause === undefined) return false
    pause.held.push(job)
    return true
  }

  /** When `group` resumes (the pool's clock, ms), if it is paused. */
  until(group: string): number | undefined {
    return this.groups.get(group)?.until
  }

  private readonly end = (pause: Pause): void => {
    pause.entry = undefined
    if (this.groups.get(pause.group) !== pause) return
    this.groups.delete(pause.group)
    for (let job = pause.held.shift(always); job !== undefined; job = pause.held.shift(always)) this.ready.push(job)
    this.pump()
  }
}
