/**
 * A rate limit shared through Redis: `@effect/experimental`'s `RateLimiter`
 * with its Redis store (ioredis), in "delay" mode — each attempt reserves its
 * turn in the window with one script call and sleeps until then, holding no
 * slot. Only how Redis being unreachable, or refusing a command, is handled
 * is ours.
 */
import * as RateLimiter from "@effect/experimental/RateLimiter"
import * as RedisStore from "@effect/experimental/RateLimiter/Redis"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type { RedisOptions } from "ioredis"
import { GroupLimit } from "toolfan"
import { reconnecting, refused } from "./connection.js"
import type { Connection } from "./options.js"

/** @internal */
export interface RateOptions {
  readonly description: string
  readonly connection: Connection
  readonly prefix: string
  readonly key: string
  readonly limit: number
  /** For "fixed-window", a whole number of milliseconds per attempt (the store's script sets PX expiries of it). */
  readonly windowMs: number
  readonly algorithm: "fixed-window" | "token-bucket"
  readonly timeoutMs: number
  readonly onUnavailable: GroupLimit.OnUnavailable
}

const nothing: GroupLimit.Permit = { release: () => {} }

const redisOptions = (connection: Connection, timeoutMs: number, prefix: string): RedisOptions & { prefix: string } => {
  const base: RedisOptions = typeof connection === "string" ? parseUrl(connection) : connection
  return {
    ...base,
    // the store's client queues commands until connected; each command still times out
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    retryStrategy: (times) => Math.min(25 * 2 ** Math.min(times, 6), 1000),
    prefix
  }
}

const parseUrl = (url: string): RedisOptions => {
  const u = new URL(url)
  return {
    host: u.hostname,
    port: u.port === "" ? 6379 : Number(u.port),
    ...(u.username !== "" ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password !== "" ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.pathname.length > 1 ? { db: Number(u.pathname.slice(1)) } : {}),
    ...(u.protocol === "rediss:" ? { tls: {} } : {})
  }
}

/** @internal */
export const start = (o: RateOptions): Effect.Effect<GroupLimit.Limiter, never, Scope.Scope> =>
  Effect.gen(function*() {
    // the store's options type and ioredis' disagree under exactOptionalPropertyTypes
    const store = yield* RedisStore.make(redisOptions(o.connection, o.timeoutMs, o.prefix) as Parameters<typeof RedisStore.make>[0])
    const limiter = yield* Effect.provideService(RateLimiter.make, RateLimiter.RateLimiterStore, store)
    const consume = limiter.consume({
      key: o.key,
      limit: o.limit,
      window: o.windowMs,
      algorithm: o.algorithm,
      onExceeded: "delay"
    }).pipe(
      Effect.timeoutFail({
        duration: o.timeoutMs,
        onTimeout: () => new GroupLimit.GroupLimitUnavailable({ limit: o.description, reason: `redis did not answer within ${o.timeoutMs} ms` })
      }),
      Effect.catchTags({
        // the store's RateLimitStoreError carries ioredis' error as its cause
        RateLimiterError: (error) => {
          const cause = "cause" in error ? error.cause : undefined
          return Effect.fail(
            refused(cause)
              ? new GroupLimit.GroupLimitUnavailable({ limit: o.description, reason: "redis refused the command", cause })
              : new GroupLimit.GroupLimitUnavailable({ limit: o.description, reason: "redis did not answer", cause: error })
          )
        }
      }),
      Effect.flatMap(({ delay }) => Duration.isZero(delay) ? Effect.succeed(nothing) : Effect.as(Effect.sleep(delay), nothing))
    )
    // "wait" waits for Redis to be reachable, not for it to stop refusing a command: a refusal fails the attempt
    const acquire = o.onUnavailable === "wait"
      ? Effect.retry(consume, { schedule: reconnecting, while: (e) => !refused(e.cause) })
      : consume
    return { acquire: () => acquire }
  })
