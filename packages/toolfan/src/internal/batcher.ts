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
 * floor of the cost (≈ 7–8 µs per item with a fiber each, measured), so the batcher adds
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
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as FiberRefs from "effect/FiberRefs"
import * as Option from "effect/Option"
import * as Runtime from "effect/Runtime"
import * as Metrics from "../Metrics.js"
import * as Spans from "../Spans.js"
import * as Task from "../Task.js"
import { TaskDefect, type TaskError, TaskInterrupted, TaskTimedOut } from "../TaskError.js"
import type * as TaskResult from "../TaskResult.js"
import { InContext } from "./context.js"
import type { Timer, TimerEntry } from "./timer.js"
import { BatcherClosed, type BatchOutputMismatch, checkOutputs, isItemFailure, type ItemFailure } from "./batchErrors.js"
import { batcherTags, traces } from "./observe.js"
import { settleWith } from "./promise.js"
import { currentWorker, type RunOptions } from "./run.js"

/** What a caller of `submitAll` receives for each item. */
export type Outcome<O, Err> = Either.Either<O, Err>

/** The errors a batch can give its items, besides the batch's own `E` and per-item failures. */
export type BatchError = TaskTimedOut | TaskDefect | TaskInterrupted | BatchOutputMismatch | BatcherClosed

/**
 * A waiting caller is a pair of plain functions — a promise's own `resolve`
 * and `reject` for the Promise API — called with the item's output or error:
 * no `Either` or closure per item on the way (measured: ~0.2 µs per item of
 * `MicroBatcher.submit`, a quarter of its time, most of it garbage).
 */
export type Settle = (value: any) => void

const enum State {
  Waiting,
  Sent,
  Dropped
}

/** One distinct item in the window, with every caller waiting for it. */
export class Entry {
  state = State.Waiting
  /**
   * The callers after the first (with a `key`), as `resolve`/`reject` pairs.
   * The callers still waiting are these and the first, unless it left
   * (`resolve` cleared): no count is kept, one field less per item.
   */
  more: Array<Settle> | undefined = undefined
  /**
   * The fiber waiting for this item, when it waits without a canceler (see
   * `Batcher.submit`): if it has ended by the time the batch is formed, it
   * was interrupted and the item is dropped.
   */
  fiber: { unsafePoll(): unknown } | undefined = undefined
  constructor(
    readonly item: unknown,
    readonly key: unknown,
    public resolve: Settle | undefined,
    public reject: Settle | undefined
  ) {}

  /** Whether a caller still waits for this item. */
  waited(): boolean {
    return this.resolve !== undefined || (this.more !== undefined && this.more.length > 0)
  }
}

/**
 * The items of one `submitAll` (or one resolver block), waited for by one
 * caller: its outcomes fill one array, and `done` is called once.
 */
export class Block {
  readonly outcomes: Array<Outcome<any, any>>
  remaining: number
  /** Items of the block that joined the window (their entries and callers, to leave on interruption). */
  joined: Array<readonly [Entry, Settle]> = []
  constructor(size: number, readonly done: (outcomes: Array<Outcome<any, any>>) => void) {
    this.outcomes = new Array(size)
    this.remaining = size
  }
  settle(index: number, ok: boolean, value: unknown): void {
    this.outcomes[index] = ok ? Either.right(value) : Either.left(value)
    if (--this.remaining === 0) this.done(this.outcomes)
  }
}

/** `join`'s key argument when the key is still to be computed (a key may be `undefined`). */
const notComputed: unique symbol = Symbol("notComputed")

/**
 * One batch call: either entries of the window, or a chunk of a block sent
 * as it is (no entry per item: a bulk submit of 50,000 items then allocates
 * little more than its outcomes).
 */
interface Batch {
  readonly items: Array<unknown>
  readonly entries: Array<Entry> | undefined
  readonly block: Block | undefined
  readonly offset: number
}

export interface Options {
  readonly run: (items: ReadonlyArray<any>) => Effect.Effect<ReadonlyArray<unknown>, unknown, any>
  /** The same batch call as a promise function (the Promise API's MicroBatcher), run without a fiber when untraced. */
  readonly runPromise?: ((items: ReadonlyArray<any>, signal: AbortSignal) => unknown) | undefined
  /**
   * Whether an `Error` instance in place of an output fails that item alone
   * (the Promise API's contract, as dataloader's), besides a `failItem`.
   * Checked as outputs are spread: no pass over them and no promise step per batch.
   */
  readonly errorFailsItem: boolean
  readonly maxSize: number
  readonly maxWaitMs: number
  readonly maxBatchesInFlight: number
  readonly key: ((item: any) => unknown) | undefined
  /** The batch call's task, checked once; each batch gets a copy with its own effect. */
  readonly template: Task.Any
  readonly name: string
}

export class BatcherImpl {
  private window: Array<Entry> = []
  /** Entries before `head` have left the window (sent or dropped). */
  private head = 0
  private live = 0
  private readonly byKey = new Map<unknown, Entry>()
  /** When the current window must be sent (`undefined`: no window is open). */
  private windowAt: number | undefined = undefined
  /** The open window's entry in the timer (the private pool's: one timer fiber for windows, timeouts, backoffs). */
  private entry: TimerEntry | undefined = undefined
  /** Full batches formed since the last call, sent together (see `ready`). */
  private readyBatches: Array<Batch> = []
  private readyScheduled = false
  private inFlight = 0
  private closed = false
  private onIdle: (() => void) | undefined = undefined

  constructor(
    private readonly options: Options,
    private readonly scheduler: (
      tasks: ReadonlyArray<Task.Any>,
      options: RunOptions
    ) => Effect.Effect<unknown>,
    private readonly runtime: Runtime.Runtime<any>,
    private readonly timer: Timer
  ) {
    this.traced = traces(runtime)
    this.context = new InContext(runtime)
    const template = options.template
    this.direct = !this.traced && options.maxBatchesInFlight === Number.POSITIVE_INFINITY &&
      template.timeoutMs === Number.POSITIVE_INFINITY && template.retries === 0
    // a batch call belongs to no caller's task: a run it starts is nested in none (see run.ts's `currentWorker`)
    this.forkRuntime = Runtime.make({
      context: runtime.context,
      runtimeFlags: runtime.runtimeFlags,
      fiberRefs: FiberRefs.updateAs(runtime.fiberRefs, { fiberId: FiberId.none, fiberRef: currentWorker, value: undefined })
    })
  }

  /** Whether batch calls skip the private scheduler (see `callDirect`). */
  private readonly direct: boolean
  /** The runtime of direct batch calls' fibers. */
  private readonly forkRuntime: Runtime.Runtime<any>

  /**
   * Batch calls run in the async context (`AsyncLocalStorage`) where the
   * batcher was made, never in one caller's: a batch serves many callers, and
   * one caller's request id or trace would mislabel the others' items.
   */
  private readonly context: InContext

  /** Whether batch calls run in spans (a tracer that exports is installed where the batcher was made). */
  private readonly traced: boolean

  get keyed(): boolean {
    return this.options.key !== undefined
  }

  private closedError(): BatcherClosed {
    return new BatcherClosed({ batcher: this.options.name })
  }

  // ---------------------------------------------------------------------------
  // adding items
  // ---------------------------------------------------------------------------

  /**
   * Adds one item; `resolve` gets its output, or `reject` its error. Sends
   * the window if it is full. Returns the item's entry (to `leave` it on
   * interruption).
   */
  add(item: unknown, resolve: Settle, reject: Settle, fiber?: { unsafePoll(): unknown }): Entry | undefined {
    if (this.closed) {
      reject(this.closedError())
      return undefined
    }
    const entry = this.join(item, resolve, reject, notComputed)
    if (fiber !== undefined) entry.fiber = fiber
    if (this.live >= this.options.maxSize) {
      // a full batch never waits for the window; the next item opens a new one (its timer is stopped
      // after the burst, in `ready`, if no item came to open one)
      this.windowAt = undefined
      const batch = this.take(this.options.maxSize)
      if (batch.items.length > 0) this.ready(batch)
      if (this.live > 0) this.openWindow()
    } else if (this.windowAt === undefined) {
      this.openWindow()
    }
    return entry
  }

  /**
   * Adds a block of items that arrived together: they join what is waiting in
   * the window, and everything is sent at once, in chunks of `maxSize`.
   */
  addBlock(items: ReadonlyArray<unknown>, done: (outcomes: Array<Outcome<any, any>>) => void): Block | undefined {
    const n = items.length
    const block = new Block(n, done)
    if (this.closed) {
      const closed = this.closedError()
      for (let i = 0; i < n; i++) block.settle(i, false, closed)
      return undefined
    }
    const maxSize = this.options.maxSize
    // every key first: a key function that throws must leave nothing behind in the window
    const keyOf = this.options.key
    const keys = keyOf === undefined ? undefined : items.map((item) => keyOf(item))
    // with a key, every item goes through the window (dedupe); without one,
    // only enough to fill the window's last batch, the rest goes in chunks
    const joining = keys !== undefined ? n : this.live > 0 ? Math.min(n, maxSize - this.live) : 0
    for (let i = 0; i < joining; i++) {
      const resolve: Settle = (value) => block.settle(i, true, value)
      const reject: Settle = (error) => block.settle(i, false, error)
      block.joined.push([this.join(items[i], resolve, reject, keys === undefined ? notComputed : keys[i]), resolve])
    }
    // the window is sent with the block: nothing is left for its timer
    this.stopTimer()
    const batches = this.readyBatches
    this.readyBatches = []
    while (this.live > 0) {
      const batch = this.take(maxSize)
      if (batch.items.length > 0) batches.push(batch)
    }
    for (let offset = joining; offset < n; offset += maxSize) {
      batches.push({ items: items.slice(offset, offset + maxSize), entries: undefined, block, offset })
    }
    this.callAll(batches)
    return block
  }

  private join(item: unknown, resolve: Settle, reject: Settle, knownKey: unknown): Entry {
    const keyOf = this.options.key
    if (keyOf !== undefined) {
      const key = knownKey !== notComputed ? knownKey : keyOf(item)
      const same = this.byKey.get(key)
      if (same !== undefined) {
        ;(same.more ??= []).push(resolve, reject)
        return same
      }
      const entry = new Entry(item, key, resolve, reject)
      this.byKey.set(key, entry)
      this.window.push(entry)
      this.live++
      return entry
    }
    const entry = new Entry(item, undefined, resolve, reject)
    this.window.push(entry)
    this.live++
    return entry
  }

  /**
   * A caller (known by its `resolve`) stopped waiting: it was interrupted. If
   * nobody else waits for its item and the item has not been sent, the item
   * leaves the window.
   */
  leave(entry: Entry, resolve: Settle): void {
    if (entry.resolve === resolve) entry.resolve = entry.reject = undefined
    else if (entry.more !== undefined) {
      const i = entry.more.indexOf(resolve)
      if (i < 0) return
      entry.more.splice(i, 2)
    } else return
    if (!entry.waited() && entry.state === State.Waiting) {
      entry.state = State.Dropped
      this.live--
      this.forget(entry)
      if (this.live === 0) this.stopTimer()
    }
  }

  /**
   * An entry that left the window (sent or dropped) no longer takes new
   * callers of its key. By the option, not the key's value: `undefined` is a
   * key like any other when `key` returns it.
   */
  private forget(entry: Entry): void {
    if (this.options.key !== undefined && this.byKey.get(entry.key) === entry) this.byKey.delete(entry.key)
  }

  /** The caller of a block was interrupted: its items still in the window leave it. */
  leaveBlock(block: Block): void {
    for (const [entry, resolve] of block.joined) this.leave(entry, resolve)
  }

  // ---------------------------------------------------------------------------
  // windows and batches
  // ---------------------------------------------------------------------------

  /**
   * Opens a window: it is sent `maxWait` from now unless it fills first. Its
   * entry in the timer is kept while windows follow one another: when it
   * fires and the open window is due later (an earlier one was sent full), it
   * is added again for then, so a burst of full batches adds no entry per
   * batch. A window that leaves before its time (sent full, taken by a block,
   * left by all its callers, or closed) removes it — after the burst, for
   * full batches (see `ready`) — so an idle batcher holds no timer and keeps
   * no process alive.
   */
  private openWindow(): void {
    const at = this.timer.now() + this.options.maxWaitMs
    this.windowAt = at
    if (this.entry === undefined) this.entry = this.timer.at(at, wake, this)
  }

  /** The timer fired: sends the window if it is due. */
  due(): void {
    this.entry = undefined
    const at = this.windowAt
    if (at === undefined) return
    if (at > this.timer.now()) this.entry = this.timer.at(at, wake, this)
    else this.sendAll()
  }

  private stopTimer(): void {
    this.windowAt = undefined
    if (this.entry !== undefined) {
      this.timer.cancel(this.entry)
      this.entry = undefined
    }
  }

  /**
   * Queues a full batch to be called with the others formed in the same burst
   * (one run of the private scheduler for all of them, after the current
   * microtask): a run per batch measured ~5 µs per item more at 50,000 items.
   * If no window is open by then, the timer is stopped (stopping it at each
   * full batch would fork a timer again for the next item of the burst).
   */
  private ready(batch: Batch): void {
    this.readyBatches.push(batch)
    if (this.readyScheduled) return
    this.readyScheduled = true
    queueMicrotask(() => {
      this.readyScheduled = false
      // the burst ended on a full batch: no window is open, so its timer has nothing left to send
      if (this.windowAt === undefined) this.stopTimer()
      const batches = this.readyBatches
      this.readyBatches = []
      this.callAll(batches)
    })
  }

  /** Sends everything waiting, in chunks of `maxSize` (the timer calls it, or `close`, which stops the timer). */
  private sendAll(): void {
    this.windowAt = undefined
    const batches = this.readyBatches
    this.readyBatches = []
    while (this.live > 0) {
      const batch = this.take(this.options.maxSize)
      if (batch.items.length > 0) batches.push(batch)
    }
    this.callAll(batches)
  }

  /**
   * Takes up to `size` live items out of the window, oldest first. A window
   * taken whole (a full batch, the usual case) becomes the batch's entries,
   * compacted in place: no array per batch for them.
   */
  private take(size: number): Batch {
    const window = this.window
    const entries: Array<Entry> = this.head === 0 && window.length <= size ? window : []
    const items: Array<unknown> = []
    let i = this.head
    while (i < window.length && items.length < size) {
      const entry = window[i++]!
      if (entry.state !== State.Waiting) continue
      if (entry.fiber !== undefined && entry.more === undefined && entry.fiber.unsafePoll() !== null) {
        // its only caller was interrupted: nobody waits for this item
        entry.state = State.Dropped
        this.live--
        this.forget(entry)
        continue
      }
      entry.state = State.Sent
      this.forget(entry)
      // at or before `i - 1` when `entries` is the window: a slot already read
      entries[items.length] = entry
      items.push(entry.item)
    }
    if (entries.length !== items.length) entries.length = items.length
    this.live -= items.length
    if (i === window.length) {
      this.window = []
      this.head = 0
    } else if (i > 1024 && i * 2 > window.length) {
      this.window = window.slice(i)
      this.head = 0
    } else {
      this.head = i
    }
    return { items, entries, block: undefined, offset: 0 }
  }

  /** Sends batches: straight away when nothing of the scheduler is needed (see `direct`), else as tasks. */
  private callAll(batches: ReadonlyArray<Batch>): void {
    const n = batches.length
    if (n === 0) return
    this.inFlight += n
    const tags = batcherTags(this.options.name)
    for (let b = 0; b < n; b++) Metrics.batchSize.unsafeUpdate(batches[b]!.items.length, tags)
    // in a microtask, never inside the batcher's bookkeeping (the caller's `add`, the timer), and in its async context
    if (this.direct) queueMicrotask(() => this.context.enter(() => batches.forEach(this.callDirect)))
    else this.callScheduled(batches)
  }

  /**
   * One batch call without the private scheduler, for a batcher whose calls
   * have no policy to apply: no timeout, no retries, no cap, no spans. Then a
   * task, a job and a result per batch, and a worker fiber forked for each
   * (the cap being infinite), only carry the call to its result: measured
   * ~0.4 µs per item of `submitAll` at 50,000 items (a quarter of its time).
   * An effect `run` gets a fiber of its own, a promise function (the
   * MicroBatcher's) none; nothing interrupts them, since closing waits for
   * the calls in flight. A failure is the one the scheduler would give (see
   * `causeError`).
   */
  private readonly callDirect = (batch: Batch): void => {
    const items = batch.items
    const runPromise = this.options.runPromise
    if (runPromise !== undefined) {
      // a function that declares a signal gets one of its own (nothing aborts it, as said)
      const signal = runPromise.length > 1 ? new AbortController().signal : undefined!
      settleWith(() => runPromise(items, signal), (outputs) => this.finish(batch, true, outputs), (error) => this.finish(batch, false, error))
      return
    }
    const fiber = Runtime.runFork(this.forkRuntime, Effect.suspend(() => this.options.run(items)), { immediate: true, scheduler: this.context })
    fiber.addObserver((exit) =>
      Exit.isSuccess(exit) ? this.finish(batch, true, exit.value) : this.finish(batch, false, causeError(this.options.name, exit.cause))
    )
  }

  /**
   * Runs batch calls as the tasks of one run of the private scheduler (its
   * cap is `maxBatchesInFlight`), and spreads each result as it settles.
   */
  private callScheduled(batches: ReadonlyArray<Batch>): void {
    const run = this.options.run
    const template = this.options.template
    const name = this.options.name
    const tasks = batches.map((batch): Task.Any => {
      const items = batch.items
      const runPromise = this.options.runPromise
      if (runPromise !== undefined && !this.traced) {
        // a promise batch function (MicroBatcher) runs as a promise task: no fiber per batch (see attempt.ts)
        return Task.withEvaluate(
          template,
          runPromise.length > 1 ? (signal: AbortSignal) => runPromise(items, signal) : () => runPromise(items, undefined!)
        )
      }
      const call = Effect.suspend(() => run(items))
      // inside the batch task's attempt span when traced: one more span, with the batch's size
      return Task.withEffect(
        template,
        this.traced
          ? Effect.withSpan(call, Spans.batchSpan, {
            kind: "internal",
            captureStackTrace: false,
            attributes: { [Spans.attributes.batcher]: name, [Spans.attributes.batchSize]: items.length }
          })
          : call
      )
    })
    const onResult = (result: TaskResult.TaskResult<unknown, unknown>, index: number) =>
      result.ok ? this.finish(batches[index]!, true, result.value) : this.finish(batches[index]!, false, batchError(result.error))
    Runtime.runFork(
      this.runtime,
      this.scheduler(tasks, { deadlineMs: Number.POSITIVE_INFINITY, onResult }),
      { immediate: false, scheduler: this.context }
    )
  }

  /** A batch call ended: with `run`'s outputs (`ok`), or the error each item gets. */
  private finish(batch: Batch, ok: boolean, value: unknown): void {
    if (ok) deliver(batch, checkOutputs(this.options.name, value, batch.items.length), this.options.errorFailsItem)
    else deliverError(batch, value)
    if (--this.inFlight === 0 && this.onIdle !== undefined) {
      const idle = this.onIdle
      this.onIdle = undefined
      idle()
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
      this.stopTimer()
      if (this.inFlight === 0) return Effect.void
      return Effect.async<void>((resume) => {
        this.onIdle = () => resume(Effect.void)
      })
    })
  }
}

/**
 * Spreads a batch call's outputs over its items, each item settled as it
 * comes (one pass, no `Either` per item). A `failItem` fails its item, and so
 * does an `Error` when `errorFailsItem` (see `Options`).
 */
const deliver = (batch: Batch, outputs: ReadonlyArray<unknown> | BatchOutputMismatch, errorFailsItem: boolean): void => {
  if (!Array.isArray(outputs)) return deliverError(batch, outputs)
  const { block, entries, offset } = batch
  for (let i = 0; i < outputs.length; i++) {
    const output = outputs[i]
    const wrapped = isItemFailure(output)
    const ok = !wrapped && !(errorFailsItem && output instanceof Error)
    const value = wrapped ? (output as ItemFailure<unknown>).error : output
    if (entries !== undefined) settle(entries[i]!, ok, value)
    else block!.settle(offset + i, ok, value)
  }
}

/** Fails every item of a batch with `error`. */
const deliverError = (batch: Batch, error: unknown): void => {
  const { block, entries, offset } = batch
  for (let i = 0; i < batch.items.length; i++) {
    if (entries !== undefined) settle(entries[i]!, false, error)
    else block!.settle(offset + i, false, error)
  }
}

/** Calls every caller of `entry` (its `resolve`s, or its `reject`s) once. */
const settle = (entry: Entry, ok: boolean, value: unknown): void => {
  const first = ok ? entry.resolve : entry.reject
  entry.resolve = entry.reject = undefined
  if (first !== undefined) first(value)
  const more = entry.more
  entry.more = undefined
  if (more !== undefined) for (let i = ok ? 0 : 1; i < more.length; i += 2) more[i]!(value)
}

/** The failure every item of a failed batch gets: the batch's own error `E`, or one of ours. */
const batchError = (error: TaskError<unknown>): unknown => {
  switch (error._tag) {
    case "TaskFailed":
      return error.error
    case "TaskSkipped":
      return new TaskInterrupted({ task: error.task, reason: "interrupted", attempts: 0 })
    default:
      return error
  }
}

/**
 * The failure every item gets when a direct batch call (one attempt, see
 * `callDirect`) ends with `cause`: what `batchError` gives for the task
 * error the scheduler would make of it (attempt.ts's `classify`).
 */
const causeError = (name: string, cause: Cause.Cause<unknown>): unknown => {
  if (Cause.isInterruptedOnly(cause)) return new TaskInterrupted({ task: name, reason: "interrupted", attempts: 1 })
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) return failure.value
  const defect = Cause.dieOption(cause)
  return new TaskDefect({ task: name, defect: Option.isSome(defect) ? defect.value : Cause.squash(cause), attempts: 1 })
}

const wake = (batcher: BatcherImpl): void => batcher.due()
