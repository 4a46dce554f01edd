/**
 * One `"abort"` listener per `AbortSignal`, shared by every run that listens
 * to it.
 *
 * Node prints a `MaxListenersExceededWarning` once a signal has more than 10
 * listeners. Many nested runs on one task's signal (the documented
 * `Promise.all` fan-out) or many runs sharing a caller's signal are normal
 * use, not a leak, so runs subscribe here instead: the signal sees a single
 * listener, which is removed when the last subscriber leaves. (Raising the
 * limit with `events.setMaxListeners` would change a signal the caller owns.)
 */

type Subscribers = Set<() => void> & { listener?: () => void }

const subscribers = new WeakMap<AbortSignal, Subscribers>()

/**
 * Calls `f` once when `signal` aborts. Returns the unsubscribe function.
 * @internal
 */
export const onAbort = (signal: AbortSignal, f: () => void): () => void => {
  let subs = subscribers.get(signal)
  if (subs === undefined) {
    const created: Subscribers = new Set()
    created.listener = () => {
      subscribers.delete(signal)
      for (const g of created) g()
      created.clear()
    }
    signal.addEventListener("abort", created.listener, { once: true })
    subscribers.set(signal, created)
    subs = created
  }
  const current = subs
  // a wrapper per subscription: the same function may subscribe twice
  const entry = () => f()
  current.add(entry)
  return () => {
    if (!current.delete(entry) || current.size > 0) return
    if (subscribers.get(signal) === current) subscribers.delete(signal)
    signal.removeEventListener("abort", current.listener!)
  }
}
