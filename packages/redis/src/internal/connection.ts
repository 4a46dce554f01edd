/**
 * ioredis clients set up so that nothing waits forever: no offline queue (a
 * command sent while disconnected fails at once instead of being sent much
 * later), no resending after a reconnect, a timeout on every command, and
 * reconnection in the background. `call` waits for the connection to be
 * ready, up to the same timeout, so the first commands after start do not
 * fail for nothing.
 */
import * as Effect from "effect/Effect"
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
}

const noop = (): void => {}

/** A client that lives as long as the scope (closed with QUIT, or dropped if Redis does not answer). @internal */
export const client = (connection: Connection, timeoutMs: number): Effect.Effect<Client, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const options: RedisOptions = {
        enableOfflineQueue: false,
        autoResendUnfulfilledCommands: false,
        maxRetriesPerRequest: 0,
        commandTimeout: timeoutMs,
        connectTimeout: Math.max(timeoutMs, 1000),
        retryStrategy: (times) => Math.min(25 * 2 ** Math.min(times, 6), 1000)
      }
      const redis = typeof connection === "string" ? new Redis(connection, options) : new Redis({ ...connection, ...options })
      const c: Client = {
        redis,
        lastError: undefined,
        ready: () => {
          if (redis.status === "ready") return Promise.resolve()
          return new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => {
              redis.off("ready", onReady)
              reject(c.lastError ?? new Error(`not connected (${redis.status})`))
            }, timeoutMs)
            const onReady = () => {
              clearTimeout(timer)
              resolve()
            }
            redis.once("ready", onReady)
          })
        }
      }
      // without a listener ioredis prints every connection error; they surface in failures instead
      redis.on("error", (error) => {
        c.lastError = error
      })
      return c
    }),
    (c) =>
      Effect.promise(() => c.redis.quit().then(noop, noop)).pipe(
        Effect.timeoutTo({ duration: timeoutMs, onTimeout: noop, onSuccess: noop }),
        Effect.ensuring(Effect.sync(() => c.redis.disconnect()))
      )
  )
