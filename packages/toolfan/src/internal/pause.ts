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
 * pauses the group.
 *
 * A pause ends on trial (half-open, as a circuit breaker): the first held job
 * goes alone (the *probe*), and the others wait for its attempt. If it is not
 * refused (`resumed`: a success, another failure, or the job settled in any
 * way), the group resumes in full; if it is refused with a wait, the group is
 * paused again. Releasing every held job at once instead sends a herd: with a
 * cap above what the provider takes, most of it is refused again, pause after
 * pause (measured in the bench's `limits` section, a fixed cap of 8 against a
 * provider taking 4 at a time: 69% of requests answered 429).
 *
 * Owns: the paused groups and their held jobs; must not touch slots or
 * counters (the pool's).
 */
import { BucketQueue } from "./queue.js"
import type { Job } from "./run.js"
import type { Timer, TimerEntry } from "./timer.js"

const always = (): boolean => true

/** One paused group. */
class Pause {
  readonly held = new BucketQueue<Job>()
  entry: TimerEntry | undefined = undefined
  /** The one job let through when the pause ended, until its attempt ends (see the header). */
  probe: Job | undefined = undefined
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
    // refused without a wait: nothing to wait for, the trial is over
    else this.resumed(job)
  }

  /** `job`'s attempt ended not refused, or the job settled: if it was its group's probe, the group resumes in full. */
  resumed(job: Job): void {
    const group = job.task.group
    const pause = group === undefined ? undefined : this.groups.get(group)
    if (pause === undefined || pause.probe !== job) return
    this.groups.delete(pause.group)
    for (let held = pause.held.shift(always); held !== undefined; held = pause.held.shift(always)) this.ready.push(held)
    this.pump()
  }

  /** Pauses `group` until `until` (the pool's clock, ms); a pause already longer is kept. */
  pause(group: string, until: number): void {
    const existing = this.groups.get(group)
    if (existing !== undefined && existing.until >= until) return
    const pause = existing ?? new Pause(group, until)
    if (existing === undefined) this.groups.set(group, pause)
    else if (pause.entry !== undefined) this.timer.cancel(pause.entry)
    // a refused probe (or a longer wait) pauses it again
    pause.probe = undefined
    pause.until = until
    pause.entry = this.timer.at(until, this.end, pause)
  }

  /** Holds `job` if its group is paused; returns whether it did. */
  hold(job: Job): boolean {
    const group = job.task.group
    const pause = group === undefined ? undefined : this.groups.get(group)
    if (pause === undefined || pause.probe === job) return false
    pause.held.push(job)
    return true
  }

  /** When `group` resumes (the pool's clock, ms), if it is paused. */
  until(group: string): number | undefined {
    return this.groups.get(group)?.until
  }

  /** The pause is over: its first held job goes alone, on trial (see the header); none held, the group resumes. */
  private readonly end = (pause: Pause): void => {
    pause.entry = undefined
    if (this.groups.get(pause.group) !== pause) return
    const probe = pause.held.shift(always)
    if (probe === undefined) {
      this.groups.delete(pause.group)
      return
    }
    pause.probe = probe
    this.ready.push(probe)
    this.pump()
  }
}
