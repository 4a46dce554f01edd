/**
 * One timer fiber per scheduler for every time-based rule: attempt timeouts,
 * retry backoffs and run deadlines.
 *
 * Why not `Effect.timeout` / `Effect.sleep` per task? `Effect.timeout` races
 * two fibers and measured ~17–24 µs per task here, more than the whole budget
 * of a task. Instead, entries are kept in memory and a single fiber sleeps on
 * Effect's `Clock` (so `TestClock` drives it in tests) until the earliest one,
 * fires what is due, and sleeps again. Adding an entry costs a few pointer writes.
 *
 * Attempt timeouts and run deadlines are kept in "lanes", one FIFO per
 * distinct delay: as time only moves forward, entries of one lane are already
 * sorted, so a lane is a queue, not a heap. A lane is a linked list threaded
 * through its entries (see queue.ts), so an entry that is cancelled — its
 * attempt or run finished — leaves it at once, wherever it stands: one slow
 * attempt at the head must not keep every later finished attempt of that
 * timeout (and through it its result) in memory (semantics 12). Backoffs,
 * whose delays vary, go to a binary heap whose entries know their index, so
 * a cancelled one leaves it at once too.
 *
 * Time is Effect's `Clock`, read monotonically (`unsafeCurrentTimeNanos`,
 * process.hrtime in Node; the `TestClock` moves it in tests): a step of the
 * system clock (NTP, resume from sleep) must change no timeout, deadline or
 * duration (semantics 9). Its values only mean something as differences.
 *
 * When nothing is pending the fiber is interrupted, so an idle scheduler holds
 * no timer and never keeps the process alive.
 */
import type * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as Runtime from "effect/Runtime"
import { IndexedHeap, type Linked, List } from "./queue.js"

/** Empty lanes kept for reuse. */
const SPARE_LANES = 16

/**
 * Milliseconds on `clock`'s monotonic reading (whole ms, like `Date.now()`):
 * for intervals only, never for a time shown to people.
 * @internal
 */
export const monotonicMillis = (clock: Clock.Clock): number =>
  // Effect's own clock reads `process.hrtime.bigint()`: a BigInt per reading measured ~0.05 µs per task more
  // (three readings per task) than `performance.now()`, which is monotonic as well
  Math.floor(clock === liveClock ? performance.timeOrigin + performance.now() : Number(clock.unsafeCurrentTimeNanos()) / 1e6)

/** Effect's default clock (a `TestClock` or a custom one is read through its own methods). */
const liveClock: Clock.Clock = Effect.runSync(Effect.clock)

/** The longest sleep Node's timers (and so Effect's clock) can do. @internal */
export const MAX_SLEEP_MS = 2 ** 31 - 1

/** @internal */
export class TimerEntry implements Linked<TimerEntry> {
  /** Pending: neither fired nor cancelled. */
  live = true
  /** Its lane, while in one, and its position there. */
  list: List<TimerEntry> | undefined = undefined
  slot = 0
  /** Its index in the heap, while in it (-1 otherwise). */
  heapIndex = -1
  constructor(
    readonly at: number,
    readonly fire: (target: any) => void,
    readonly target: unknown
  ) {}
}

/** A lane: the entries of one delay, in the order they are due. */
class Lane extends List<TimerEntry> {
  constructor(readonly delay: number) {
    super()
  }
}

const earlier = (a: TimerEntry, b: TimerEntry): boolean => a.at < b.at

/** @internal */
export class Timer {
  private readonly lanes = new Map<number, Lane>()
  /** The lane added to last (the common case: the same one again). */
  private lastLane: Lane | undefined = undefined
  private readonly heap = new IndexedHeap<TimerEntry>(earlier)
  private live = 0
  private wakeAt = Number.POSITIVE_INFINITY
  private fiber: Fiber.RuntimeFiber<void> | undefined = undefined

  constructor(
    private readonly clock: Clock.Clock,
    private readonly runtime: Runtime.Runtime<never>
  ) {}

  /** Monotonic milliseconds: for intervals only (see `monotonicMillis`). */
  now(): number {
    return monotonicMillis(this.clock)
  }

  /**
   * Adds an entry to call `fire(target)` `delay` ms after `now` (a reading of
   * `now()`), in the lane of that delay. (`fire` and `target` are separate so
   * that the hot path allocates no closure per attempt.)
   */
  lane<T>(now: number, delay: number, fire: (target: T) => void, target: T): TimerEntry {
    let lane = this.lastLane
    if (lane === undefined || lane.delay !== delay) {
      lane = this.lanes.get(delay)
      if (lane === undefined) {
        lane = new Lane(delay)
        this.lanes.set(delay, lane)
      }
      this.lastLane = lane
    }
    const entry = new TimerEntry(now + delay, fire, target)
    lane.push(entry)
    this.added(entry.at)
    return entry
  }

  /** Adds an entry to call `fire(target)` at `at` (a reading of `now()` plus a delay; any order). */
  at<T>(at: number, fire: (target: T) => void, target: T): TimerEntry {
    const entry = new TimerEntry(at, fire, target)
    this.heap.push(entry)
    this.added(at)
    return entry
  }

  /** Cancels an entry that has not fired: it leaves its lane or the heap at once. */
  cancel(entry: TimerEntry): void {
    if (!entry.live) return
    entry.live = false
    const lane = entry.list
    if (lane !== undefined) this.leave(lane as Lane, entry)
    else if (entry.heapIndex >= 0) this.heap.remove(entry)
    if (--this.live === 0) this.stop()
  }

  /** Lanes held, empty ones included (for tests). */
  get laneCount(): number {
    return this.lanes.size
  }

  private leave(lane: Lane, entry: TimerEntry): void {
    lane.remove(entry)
    // many distinct delays (per-request deadlines, timeouts computed from a
    // budget) would add lanes forever while the timer never goes idle: an
    // emptied lane stays for reuse only while there are few
    if (lane.size === 0 && this.lanes.size > SPARE_LANES) {
      this.lanes.delete(lane.delay)
      if (this.lastLane === lane) this.lastLane = undefined
    }
  }

  private added(at: number): void {
    this.live++
    if (at < this.wakeAt) this.schedule(at)
  }

  private stop(): void {
    if (this.fiber !== undefined) {
      this.fiber.unsafeInterruptAsFork(FiberId.none)
      this.fiber = undefined
    }
    this.wakeAt = Number.POSITIVE_INFINITY
  }

  private schedule(at: number): void {
    if (this.fiber !== undefined) this.fiber.unsafeInterruptAsFork(FiberId.none)
    this.wakeAt = at
    // Effect's clock takes a sleep over 2³¹−1 ms (Node's timer limit) for "never": sleep in steps (`fire` re-arms)
    const delay = Math.min(MAX_SLEEP_MS, Math.max(0, at - this.now()))
    this.fiber = Runtime.runFork(
      this.runtime,
      Effect.zipRight(this.clock.sleep(Duration.millis(delay)), Effect.sync(() => this.fire())),
      { immediate: false }
    )
  }

  /** The earliest time an entry is due (every entry held is pending). */
  private earliest(): number {
    let min = Number.POSITIVE_INFINITY
    for (const lane of this.lanes.values()) {
      const head = lane.first()
      if (head !== undefined && head.at < min) min = head.at
    }
    const top = this.heap.peek()
    if (top !== undefined && top.at < min) min = top.at
    return min
  }

  private fire(): void {
    this.fiber = undefined
    this.wakeAt = Number.POSITIVE_INFINITY
    const now = this.now()
    const due: Array<TimerEntry> = []
    for (const lane of this.lanes.values()) {
      for (let head = lane.first(); head !== undefined && head.at <= now; head = lane.first()) {
        this.leave(lane, head)
        due.push(head)
      }
    }
    for (let top = this.heap.peek(); top !== undefined && top.at <= now; top = this.heap.peek()) {
      this.heap.remove(top)
      due.push(top)
    }
    for (const entry of due) {
      // one that fired before it may have cancelled it
      if (!entry.live) continue
      entry.live = false
      this.live--
      entry.fire(entry.target)
    }
    if (this.live === 0) {
      this.stop()
      return
    }
    const next = this.earliest()
    if (next < this.wakeAt) this.schedule(next)
  }

  /** Stops the timer for good (the scheduler's scope is closing). */
  shutdown(): void {
    this.live = 0
    this.stop()
  }
}
