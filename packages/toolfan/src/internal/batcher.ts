/**
 * The batcher's machinery.
 *
 * # Why it is built this way
 *
 * Items wait in one buffer (the "window"). A window is sent as a batch when it
 * holds `maxSize` live items, or `maxWait` after its first item, whichever
 * comes first; a block of items that arrives together (`submitAll`, or the
 * requests of one batched `Effect.forEach` step reaching the resolver) is
 * joined with what is waiting and sent at once, in chunks of `maxSize`.
 *
 * Every waiting caller is a plain callback on its entry, not a fiber of the
 * batcher's: with 50,000 callers the waiting fiber of each caller is the
 * floor of the cost (see DESIGN.md, "What we measured"), so the batcher adds
 * an array push per item and a little work per batch. The Effect API wraps a
 * callback in `Effect.async`, the Promise API in a `Promise`, and a block in
 * one `Effect.async` for all of its items.
 *
 * Each batch call runs as a task on a private `Scheduler` — its
 * `maxConcurrency` is the cap on batches in flight, and the task's timeout,
 * retries and backoff are the batch call's policies — so nothing of the
 * core's policies is written twice. Its result is then spread to the items:
 * one output per item, a per-item failure, the batch's failure for every item,
 * or `BatchOutputMismatch` when `run` broke its contract.
 *
 * A caller that is interrupted stops waiting; an item whose callers all left
 * before its batch was sent is dropped from the batch. Closing the batcher
 * sends what is pending, waits for the batches in flight, and refuses later
 * submits with `BatcherClosed`: nobody is left waiting.
 */
import type * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as Runtime from "effect/Runtime"
import type * as SchedulerModule from "../Scheduler.js"
import * as Task from "../Task.js"
import { TaskDefect, type TaskError, TaskInterrupted, TaskTimedOut } from "../TaskError.js"
import { BatcherClosed, BatchOutputMismatch, isItemFailure } from "./batchErrors.js"

/** What a waiting caller receives for one item. */
export type Outcome<O, Err> = Either.Either<O, Err>

/** The errors a batch can give its items, besides the batch's own `E` and per-item failures. */
export type BatchError = TaskTimedOut | TaskDefect | TaskInterrupted | BatchOutputMismatch | BatcherClosed

type Callback = (outcome: Outcome<any, any>) => void

const enum State {
  Waiting,
  Sent,
  Dropped
}

/** One distinct item in the window, with every caller waiting for it. */
class Entry {
  state = State.Waiting
  /** Callers still waiting (the first in `done`, the others — with a `key` — in `more`). */
  live = 1
  more: Array<Callback> | undefined = undefined
  constructor(readonly item: unknown, readonly key: unknown, public done: Callback | undefined) {}
}

/** A caller's hold on an entry, to let go of it on interruption. */
export interface Ticket {
  readonly entry: Entry
  readonly callback: Callback
}

export interface Options {
  readonly run: (items: ReadonlyArray<any>) => Effect.Effect<ReadonlyArray<unknown>, unknown, any>
  readonly maxSize: number
  readonly maxWaitMs: number
  readonly key: ((item: any) => unknown) | undefined
  readonly taskOptions: Task.Options<unknown>
  readonly name: string
}

export class BatcherImpl {
  private window: Array<Entry> = []
  private live = 0
  private readonly byKey = new Map<unknown, Entry>()
  private windowFiber: Fiber.RuntimeFiber<void> | undefined = undefined
  private windowId = 0
  private inFlight = 0
  private closed = false
  private onIdle: (() => void) | undefined = undefined
  /** Batch calls made so far, and their sizes (for tests and benchmarks). */
  readonly sizes: Array<number> = []

  constructor(
    private readonly options: Options,
    private readonly scheduler: SchedulerModule.Service,
    private readonly runtime: Runtime.Runtime<any>,
    private readonly clock: Clock.Clock
  ) {}

  // ---------------------------------------------------------------------------
  // adding items
  // ---------------------------------------------------------------------------

  /** Adds one item; `callback` gets its outcome. Sends the window if it is full. */
  add(item: unknown, callback: Callback): Ticket | undefined {
    if (this.closed) {
      callback(Either.left(new BatcherClosed({ batcher: this.options.name })))
      return undefined
    }
    const ticket = this.join(item, callback)
    if (this.live >= this.options.maxSize) this.send(this.options.maxSize)
    else if (this.windowFiber === undefined && this.live > 0) this.openWindow()
    return ticket
  }

  /**
   * Adds a block of items that arrived together and sends the whole window at
   * once, in chunks of `maxSize`.
   */
  addBlock(items: ReadonlyArray<unknown>, callbacks: ReadonlyArray<Callback>): Array<Ticket> | undefined {
    if (this.closed) {
      const closed = Either.left(new BatcherClosed({ batcher: this.options.name }))
      for (const callback of callbacks) callback(closed)
      return undefined
    }
    const tickets = new Array<Ticket>(items.length)
    for (let i = 0; i < items.length; i++) tickets[i] = this.join(items[i], callbacks[i]!)
    this.sendAll()
    return tickets
  }

  private join(item: unknown, callback: Callback): Ticket {
    const keyOf = this.options.key
    if (keyOf !== undefined) {
      const key = keyOf(item)
      const same = this.byKey.get(key)
      if (same !== undefined) {
        same.live++
        ;(same.more ??= []).push(callback)
        return { entry: same, callback }
      }
      const entry = new Entry(item, key, callback)
      this.byKey.set(key, entry)
      this.window.push(entry)
      this.live++
      return { entry, callback }
    }
    const entry = new Entry(item, undefined, callback)
    this.window.push(entry)
    this.live++
    return { entry, callback }
  }

  /**
   * A caller stopped waiting (it was interrupted). If nobody else waits for
   * its item and the item has not been sent, the item leaves the window.
   */
  leave(ticket: Ticket): void {
    const entry = ticket.entry
    if (entry.done === ticket.callback) entry.done = undefined
    else if (entry.more !== undefined) {
      const i = entry.more.indexOf(ticket.callback)
      if (i < 0) return
      entry.more.splice(i, 1)
    } else return
    if (--entry.live === 0 && entry.state === State.Waiting) {
      entry.state = State.Dropped
      this.live--
      if (entry.key !== undefined) this.byKey.delete(entry.key)
      if (this.live === 0) this.closeWindow()
    }
  }

  // ---------------------------------------------------------------------------
  // windows and batches
  // ---------------------------------------------------------------------------

  private openWindow(): void {
    const id = ++this.windowId
    this.windowFiber = Runtime.runFork(
      this.runtime,
      Effect.zipRight(
        this.clock.sleep(Duration.millis(this.options.maxWaitMs)),
        Effect.sync(() => {
          if (this.windowId !== id) return
          this.windowFiber = undefined
          this.sendAll()
        })
      ),
      { immediate: false }
    )
  }

  private closeWindow(): void {
    this.windowId++
    if (this.windowFiber !== undefined) {
      this.windowFiber.unsafeInterruptAsFork(FiberId.none)
      this.windowFiber = undefined
    }
  }

  /** Sends everything waiting, in chunks of `maxSize`. */
  private sendAll(): void {
    while (this.live > 0) this.send(this.options.maxSize)
  }

  /** Sends up to `size` live items of the window as one batch. */
  private send(size: number): void {
    const batch: Array<Entry> = []
    let i = 0
    const window = this.window
    while (i < window.length && batch.length < size) {
      const entry = window[i++]!
      if (entry.state !== State.Waiting) continue
      entry.state = State.Sent
      if (entry.key !== undefined) this.byKey.delete(entry.key)
      batch.push(entry)
    }
    this.window = i === window.length ? [] : window.slice(i)
    this.live -= batch.length
    // the window restarts: its clock starts with its next first item
    this.closeWindow()
    if (this.live > 0) this.openWindow()
    if (batch.length > 0) this.call(batch)
  }

  /** Runs one batch call on the private scheduler and spreads its result. */
  private call(batch: Array<Entry>): void {
    this.inFlight++
    this.sizes.push(batch.length)
    const items = batch.map((e) => e.item)
    const run = this.options.run
    const task = Task.unsafeMake(
      "Batcher",
      this.options.name,
      Effect.suspend(() => run(items)),
      this.options.taskOptions
    )
    Runtime.runFork(
      this.runtime,
      Effect.map(this.scheduler.run([task]), ([result]) => {
        this.deliver(batch, result.ok ? checkOutputs(this.options.name, result.value, batch.length) : result.error)
        if (--this.inFlight === 0 && this.onIdle !== undefined) {
          const idle = this.onIdle
          this.onIdle = undefined
          idle()
        }
      }),
      { immediate: false }
    )
  }

  private deliver(batch: ReadonlyArray<Entry>, outcome: ReadonlyArray<unknown> | TaskError<unknown> | BatchOutputMismatch): void {
    if (!Array.isArray(outcome)) {
      const error = batchError(outcome as TaskError<unknown> | BatchOutputMismatch)
      for (const entry of batch) settle(entry, error)
      return
    }
    for (let i = 0; i < batch.length; i++) {
      const output = outcome[i]
      settle(batch[i]!, isItemFailure(output) ? Either.left(output.error) : Either.right(output))
    }
  }

  // ---------------------------------------------------------------------------
  // closing
  // ---------------------------------------------------------------------------

  /** Sends what is pending, waits for the batches in flight, refuses what comes later. */
  close(): Effect.Effect<void> {
    return Effect.suspend(() => {
      this.closed = true
      this.sendAll()
      this.closeWindow()
      if (this.inFlight === 0) return Effect.void
      return Effect.async<void>((resume) => {
        this.onIdle = () => resume(Effect.void)
      })
    })
  }
}

const settle = (entry: Entry, outcome: Outcome<unknown, unknown>): void => {
  const done = entry.done
  entry.done = undefined
  if (done !== undefined) done(outcome)
  const more = entry.more
  entry.more = undefined
  if (more !== undefined) for (const callback of more) callback(outcome)
}

/** The failure every item of a failed batch gets: the batch's own error `E`, or one of ours. */
const batchError = (error: TaskError<unknown> | BatchOutputMismatch): Outcome<never, unknown> => {
  switch (error._tag) {
    case "TaskFailed":
      return Either.left(error.error)
    case "TaskSkipped":
      return Either.left(new TaskInterrupted({ task: error.task, reason: "interrupted", attempts: 0 }))
    default:
      return Either.left(error)
  }
}

/** `run`'s contract, checked at run time: an array with one output per item. */
const checkOutputs = (
  name: string,
  outputs: unknown,
  expected: number
): ReadonlyArray<unknown> | BatchOutputMismatch => {
  if (!Array.isArray(outputs)) return new BatchOutputMismatch({ batcher: name, expected, received: outputs })
  if (outputs.length !== expected) return new BatchOutputMismatch({ batcher: name, expected, received: outputs })
  return outputs
}

export { TaskDefect, TaskTimedOut }
