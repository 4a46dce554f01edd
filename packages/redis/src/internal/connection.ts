/**
 * ioredis clients set up so that nothing waits forever: no offline queue (a
 * command sent while disconnected fails at once instead of being sent much
 * later), no resending after a reconnect, a timeout on every command, and
 * reconnection in the background. `ready` waits for the connection, up to
 * the same timeout counted from when it was lost, so the first commands after
 * start (or a blip) do not fail for nothing, and callers after a whole
 * timeout of outage fail at once.
 */
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import { Redis, type RedisOptions } from "ioredis"
import type { Connection } from "./options.js"

/** @internal */
export interface Client {
  readonly redis: Redis
  /** Resolves when the connection is ready, or rejects after `timeoutMs`. */
  readonly ready: () => Promise<void>
  /** The last connection error seen, for messages. */
  lastError: unknown
  /** When the connection was last lost (or the client made); `Infinity` while ready. */
  notReadySince: number
}

const noop = (): void => {}

/** In `"wait"` mode, how often to ask again while Redis is unreachable. @internal */
export const reconnecting = Schedule.union(Schedule.exponential("50 millis"), Schedule.spaced("1 second"))

/**
 * Error replies that mean Redis is busy, not ready yet or failing over
 * (loading its data, a demoted primary, out of memory for now, replicas
 * missing): asking again may work.
 */
const transient = /^(LOADING|BUSY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|READONLY|OOM|MISCONF|NOREPLICAS)\b/

/**
 * Whether `cause` is Redis answering the command with an error (ioredis'
 * `ReplyError`: a script error, a key of the wrong type): Redis is reachable,
 * and asking again would get the same answer, so `"wait"` does not retry it.
 * (By name, so that it does not depend on which copy of ioredis is loaded.)
 * @internal
 */
export const refused = (cause: unknown): boolean =>
  cause instanceof Error && cause.name === "ReplyError" && !transient.test(cause.message)

/** The ioredis options that keep every wait bounded: see the module's comment. */
const clientOptions = (timeoutMs: number, reconnectMs: number): RedisOptions => ({
  enableOfflineQueue: false,
  autoResendUnfulfilledCommands: false,
  maxRetriesPerRequest: 0,
  commandTimeout: timeoutMs,
  connectTimeout: Math.max(timeoutMs, 1000),
  retryStrategy: (times) => Math.min(25 * 2 ** Math.min(times, 6), reconnectMs)
})

/**
 * The moment the connection is next ready: `next` is the promise to wait on,
 * `fire` resolves it. Every caller waiting for the connection waits on one
 * promise: a "ready" listener each would make Node print a false
 * MaxListenersExceededWarning as soon as 11 calls wait at once (a burst of
 * tasks at startup).
 */
interface ReadySignal {
  readonly next: () => Promise<void>
  readonly fire: () => void
}

const readySignal = (): ReadySignal => {
  let waiting: { readonly promise: Promise<void>; readonly resolve: () => void } | undefined
  return {
    next: () => {
      if (waiting === undefined) {
        let resolve!: () => void
        const promise = new Promise<void>((r) => resolve = r)
        waiting = { promise, resolve }
      }
      return waiting.promise
    },
    fire: () => {
      const w = waiting
      waiting = undefined
      w?.resolve()
    }
  }
}

/** `Client.ready`: waits for `signal`, up to `timeoutMs` counted from when the connection was lost. */
const waitReady = (c: Client, timeoutMs: number, signal: ReadySignal): Promise<void> => {
  const redis = c.redis
  if (redis.status === "ready") return Promise.resolve()
  // down for a whole timeout already: fail at once instead of each caller waiting again
  const left = timeoutMs - (performance.now() - c.notReadySince)
  if (left <= 0) return Promise.reject(c.lastError ?? new Error(`not connected (${redis.status})`))
  return new Promise<void>((resolve, reject) => {
    // a timeout over 2³¹−1 ms would overflow Node's timer (it would fire at once): it waits that long at most
    const timer = setTimeout(
      () => reject(c.lastError ?? new Error(`not connected (${redis.status})`)),
      Math.min(left, 2 ** 31 - 1)
    )
    signal.next().then(() => {
      clearTimeout(timer)
      resolve()
    })
  })
}

/** Keeps `c.lastError` and `c.notReadySince` up to date from the connection's events, and fires `signal` when ready. */
const track = (c: Client, signal: ReadySignal): void => {
  // without a listener ioredis prints every connection error; they surface in failures instead
  c.redis.on("error", (error) => {
    c.lastError = error
  })
  c.redis.on("close", () => {
    if (c.notReadySince === Number.POSITIVE_INFINITY) c.notReadySince = performance.now()
  })
  c.redis.on("ready", () => {
    c.notReadySince = Number.POSITIVE_INFINITY
    signal.fire()
  })
}

/** Makes the ioredis client (which starts connecting) and its {@link Client}. */
const open = (connection: Connection, timeoutMs: number, reconnectMs: number): Client => {
  const options = clientOptions(timeoutMs, reconnectMs)
  const redis = typeof connection === "string" ? new Redis(connection, options) : new Redis({ ...connection, ...options })
  const signal = readySignal()
  const c: Client = {
    redis,
    lastError: undefined,
    // monotonic: a step of the system clock must not end or stretch the wait
    notReadySince: performance.now(),
    ready: () => waitReady(c, timeoutMs, signal)
  }
  track(c, signal)
  return c
}

/** Closes with QUIT, or drops the connection if Redis does not answer within `timeoutMs`. */
const close = (c: Client, timeoutMs: number): Effect.Effect<void> =>
  Effect.promise(() => c.redis.quit().then(noop, noop)).pipe(
    Effect.timeoutTo({ duration: timeoutMs, onTimeout: noop, onSuccess: noop }),
    Effect.ensuring(Effect.sync(() => c.redis.disconnect()))
  )

/**
 * A client that lives as long as the scope (closed with QUIT, or dropped if Redis does not answer). While the
 * connection is down it tries again after 50 ms, doubling up to `reconnectMs` (a shared cap passes a sixteenth of
 * its lease, so that a holder renews soon after Redis is back). @internal
 */
export const client = (connection: Connection, timeoutMs: number, reconnectMs = 1000): Effect.Effect<Client, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => open(connection, timeoutMs, reconnectMs)),
    (c) => close(c, timeoutMs)
  )
