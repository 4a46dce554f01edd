/**
 * One timer fiber per scheduler for every time-based rule: attempt timeouts,
 * retry backoffs and run deadlines.
 *
 * Why not `Effect.timeout` / `Effect.sleep` per task? `Effect.timeout` races
 * two fibers and measured ~17–24 µs per task here, more than the whole budget
 * of a task. Instead, entries are kept in memory and a single fiber sleeps on
 * Effect's `Clock` (so `TestClock` drives it in tests) until the earliest one,
 * fires what is due, and sleeps again. Adding an entry costs an array push.
 *
 * Attempt timeouts are kept in "lanes", one FIFO per distinct timeout: as the
 * clock only moves forward, entries of one lane are already sorted, so a lane
 * is a queue, not a heap, and a finished attempt's entry is dropped from the
 * head in O(1). Backoffs and deadlines, whose delays vary, go to a binary heap.
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
import { Fifo, MinHeap } from "./queue.js"

/** Lanes kept before empty ones are dropped. */
const PRUNE_AT = 16

/** @internal */
export class TimerEntry {
  live = true
  constructor(
    readonly at: number,
    readonly fire: (target: any) => void,
    readonly target: unknown,
    readonly lane: Fifo<TimerEntry> | undefined
  ) {}
}

/** @internal */
export class Timer {
  private readonly lanes = new Map<number, Fifo<TimerEntry>>()
  private readonly heap = new MinHeap<TimerEntry>()
  private live = 0
  private pruneAt = PRUNE_AT
  private wakeAt = Number.POSITIVE_INFINITY
  private fiber: Fiber.RuntimeFiber<void> | undefined = undefined

  constructor(
    private readonly clock: Clock.Clock,
    private readonly runtime: Runtime.Runtime<never>
  ) {}

  now(): number {
    return this.clock.unsafeCurrentTimeMillis()
  }

  /**
   * Adds an entry to call `fire(target)` `delay` ms after `now`, in the lane of
   * that delay. (`fire` and `target` are separate so that the hot path
   * allocates no closure per attempt.)
   */
  lane<T>(now: number, delay: number, fire: (target: T) => void, target: T): TimerEntry {
    let lane = this.lanes.get(delay)
    if (lane === undefined) {
      // many distinct delays (per-request deadlines, timeouts computed from a
      // budget) would add lanes forever while the timer never goes idle: empty
      // ones go once there are many (a few stay: they are reused all the time)
      if (this.lanes.size >= this.pruneAt) {
        this.dropEmptyLanes()
        this.pruneAt = Math.max(PRUNE_AT, 2 * this.lanes.size)
      }
      lane = new Fifo()
      this.lanes.set(delay, lane)
    }
    const entry = new TimerEntry(now + delay, fire, target, lane)
    lane.push(entry)
    this.added(entry.at)
    return entry
  }

  /** Adds an entry to call `fire(target)` at `at` (any order). */
  at<T>(at: number, fire: (target: T) => void, target: T): TimerEntry {
    const entry = new TimerEntry(at, fire, target, undefined)
    this.heap.push(entry)
    this.added(at)
    return entry
  }

  cancel(entry: TimerEntry): void {
    if (!entry.live) return
    entry.live = false
    // attempts mostly end in the order they started: drop dead heads at once
    // so that a lane holds only the attempts still running
    const lane = entry.lane
    if (lane !== undefined) {
      while (lane.size > 0 && !lane.peek()!.live) lane.shift()
    }
    if (--this.live === 0) this.stop()
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
    // drop dead entries so that an idle scheduler holds nothing
    this.dropEmptyLanes()
    while (this.heap.size > 0 && !this.heap.peek()!.live) this.heap.pop()
  }

  /** Lanes held (for tests). */
  get laneCount(): number {
    return this.lanes.size
  }

  private dropEmptyLanes(): void {
    for (const [key, lane] of this.lanes) {
      while (lane.size > 0 && !lane.peek()!.live) lane.shift()
      if (lane.size === 0) this.lanes.delete(key)
    }
  }

  private schedule(at: number): void {
    if (this.fiber !== undefined) this.fiber.unsafeInterruptAsFork(FiberId.none)
    this.wakeAt = at
    const delay = Math.max(0, at - this.now())
    this.fiber = Runtime.runFork(
      this.runtime,
      Effect.zipRight(this.clock.sleep(Duration.millis(delay)), Effect.sync(() => this.fire())),
      { immediate: false }
    )
  }

  private earliest(): number {
    let min = Number.POSITIVE_INFINITY
    for (const lane of this.lanes.values()) {
      while (lane.size > 0 && !lane.peek()!.live) lane.shift()
      const head = lane.peek()
      if (head !== undefined && head.at < min) min = head.at
    }
    while (this.heap.size > 0 && !this.heap.peek()!.live) this.heap.pop()
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
      while (lane.size > 0) {
        const head = lane.peek()!
        if (head.live && head.at > now) break
        lane.shift()
        if (head.live) due.push(head)
      }
    }
    while (this.heap.size > 0) {
      const top = this.heap.peek()!
      if (top.live && top.at > now) break
      this.heap.pop()
      if (top.live) due.push(top)
    }
    for (const entry of due) {
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
