/**
 * One tool call as a toolfan task.
 *
 * The SDK calls `execute(input, options)` once per tool call, all calls of a
 * step at once. The wrapped `execute` makes one `Task` per call and runs it
 * alone on the shared scheduler: the scheduler's cap, group caps and
 * priorities order calls across every step and every request that share it,
 * and each attempt gets a signal that is aborted on its timeout. The SDK's
 * own `abortSignal` is the run's signal, so aborting it cancels the call
 * whether it is queued, running or waiting out a backoff (the attempt's
 * signal is aborted at once, within the SDK signal's abort).
 *
 * The tool receives the attempt's own signal, not a merge of it with the
 * SDK's: toolfan knows a run started with a task's signal as nested in that
 * task. So when a tool runs an agent of its own (`generateText` with the
 * tool's `abortSignal`) whose tools are wrapped on the same scheduler, the
 * inner calls borrow the outer call's slot instead of waiting for others —
 * with a merged signal they would wait, and deadlock once every slot is held
 * by an outer call. The cost: when the SDK aborts, the tool's signal has
 * toolfan's reason (an `AbortError`), not the SDK's.
 *
 * A streaming tool (`async function*`) is iterated inside the task, so the
 * slot is held while it yields; its values are handed on to the SDK as they
 * come (they are its preliminary results, the last one its output).
 */
import { Task, type Scheduler, type TaskOptions } from "toolfan/promise"

/** The options of a toolfan task that a tool call takes (all but `args`). */
export type Policy = Omit<TaskOptions<[]>, "args">

/** A tool's `execute`, as the SDK calls it. */
export type Execute = (input: unknown, options: { readonly abortSignal?: AbortSignal | undefined }) => unknown

const ignore = (): void => {}

/** Whether `u` can be iterated with `for await` (as the SDK checks a tool's output). */
const isAsyncIterable = (u: unknown): u is AsyncIterable<unknown> =>
  u != null && typeof (u as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === "function"

/** Whether `f` is an `async function*` (its calls return async iterables). */
export const isAsyncGeneratorFunction = (f: Function): boolean =>
  (f as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === "AsyncGeneratorFunction"

/** Iterates a streaming tool's output inside the attempt; resolves with its last value. */
const drain = async (output: AsyncIterable<unknown>, signal: AbortSignal, onValue: (value: unknown) => void) => {
  let last: unknown = undefined
  for await (const value of output) {
    // a cut attempt is already settled by the scheduler: stop the tool (break calls its `return`)
    if (signal.aborted) break
    last = value
    onValue(value)
  }
  return last
}

/**
 * Runs one call of `execute` as a task named after the tool; resolves with its
 * value or rejects with its `TaskError` (whose message names the tool and
 * says what happened; `cause` holds the tool's own error) — or, when the SDK
 * aborted the call, with the SDK signal's reason.
 */
export const runCall = async (
  scheduler: Scheduler,
  name: string,
  policy: Policy,
  execute: Execute,
  self: unknown,
  input: unknown,
  options: Parameters<Execute>[1],
  onValue: (value: unknown) => void = ignore
): Promise<unknown> => {
  const sdk = options?.abortSignal
  const task = new Task(name, (signal: AbortSignal) => {
    const output = execute.call(self, input, { ...options, abortSignal: signal })
    return isAsyncIterable(output) ? drain(output, signal, onValue) : output
  }, policy)
  const [result] = await scheduler.run([task], sdk === undefined ? undefined : { signal: sdk })
  if (result.ok) return result.value
  // cut by the SDK (its abortSignal, or its own `timeout.toolMs`): throw its reason, as the tool would have
  throw sdk?.aborted === true && result.error._tag === "TaskInterrupted" ? sdk.reason : result.error
}

/**
 * A streaming tool's call: the task runs as in {@link runCall} and its values
 * are yielded as they come. A retry starts the tool's stream again, so its
 * values follow those of the failed attempt.
 */
export async function* streamCall(
  scheduler: Scheduler,
  name: string,
  policy: Policy,
  execute: Execute,
  self: unknown,
  input: unknown,
  options: Parameters<Execute>[1]
): AsyncGenerator<unknown, void, undefined> {
  const values: Array<unknown> = []
  let wake: (() => void) | undefined = undefined
  let settled = false
  const done = runCall(scheduler, name, policy, execute, self, input, options, (value) => {
    values.push(value)
    wake?.()
  })
  // the outcome is read below; this handler only wakes the loop (and keeps a rejection handled)
  done.then(() => (settled = true, wake?.()), () => (settled = true, wake?.()))
  for (;;) {
    while (values.length > 0) yield values.shift()
    if (settled) break
    await new Promise<void>((resolve) => (wake = resolve))
    wake = undefined
  }
  await done
}
