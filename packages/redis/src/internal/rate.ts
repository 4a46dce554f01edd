/**
 * A rate limit shared through Redis: `@effect/experimental`'s `RateLimiter`
 * with its Redis store (ioredis), in "delay" mode — each attempt reserves its
 * turn in the window with one script call and sleeps until then, holding no
 * slot. How Redis being unreachable, or refusing a command, is handled is
 * ours, and so is the provider's pause:
 *
 * - **The pause, shared**: an attempt told to wait by the provider
 *   (`Limiter.overloaded`) records the pause in Redis beside the limit (a key
 *   that expires when it ends, by Redis's clock; a shorter wait never
 *   shortens a longer one). Every attempt of every process reads what is
 *   left of it (`PTTL`, at most once per 20 ms per process: a pause set
 *   elsewhere is heard of up to 20 ms late) and sleeps it out before taking
 *   its turn in the window. A turn taken before the pause began is not taken
 *   back: that attempt may still start during the pause (the scheduler that
 *   was told holds its own attempts back itself).
 * - **Best effort**: a pause that cannot be recorded is logged; one that
 *   cannot be read counts as none (taking the turn then reports Redis).
 */
import * as RateLimiter from "@effect/experimental/RateLimiter"
import * as RedisStore from "@effect/experimental/RateLimiter/Redis"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import type { RedisOptions } from "ioredis"
import { GroupLimit } from "toolfan"
import { client, reconnecting, refused } from "./connection.js"
import type { Connection } from "./options.js"
import { pauseMillis } from "./pause.js"

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

// KEYS: the pause. ARGV: the wait (whole ms ≥ 1). Pauses until the later of the pause there is and now + the wait.
const PAUSE = `
if redis.call('PTTL', KEYS[1]) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
return 1
`

/** How long (ms) a process's knowledge of the shared pause counts as fresh. */
const FRESH_MS = 20

interface PauseCommands {
  toolfanRatePause(key: string, ms: number): Promise<number>
}

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
    const take = o.onUnavailable === "wait"
      ? Effect.retry(consume, { schedule: reconnecting, while: (e) => !refused(e.cause) })
      : consume
    const pause = yield* sharedPause(o)
    const acquire = Effect.zipRight(pause.wait, take)
    return { acquire: () => acquire, overloaded: pause.overloaded }
  })

/** The provider's pause, shared through Redis by every process using the limit (see the header). */
const sharedPause = (o: RateOptions) =>
  Effect.gen(function*() {
    const c = yield* client(o.connection, o.timeoutMs)
    c.redis.defineCommand("toolfanRatePause", { numberOfKeys: 1, lua: PAUSE })
    const redis = c.redis as typeof c.redis & PauseCommands
    const key = `${o.prefix}${o.key}:paused`
    const runtime = yield* Effect.runtime<never>()
    // until when (performance.now()) this process knows the pause lasts, and when it last asked Redis
    let until = 0
    let asked = Number.NEGATIVE_INFINITY
    // what is left of the pause (ms), or 0: none, or Redis could not tell (taking the turn reports it)
    const left = Effect.promise(() => c.ready().then(() => redis.pttl(key)).catch(() => 0))
    const learn = Effect.map(left, (ms) => {
      if (ms > 0) until = Math.max(until, performance.now() + ms)
    })
    // Redis is asked at most once per FRESH_MS (measured: a PTTL per attempt took the rate limit from 130 to 180 µs
    // per task; sent beside the turn, with a fiber each, 350): a pause set elsewhere is heard of that much later
    const wait = Effect.suspend(() => {
      const now = performance.now()
      const ask = now - asked >= FRESH_MS
      if (ask) asked = now
      return Effect.flatMap(ask ? learn : Effect.void, () => {
        const ms = until - performance.now()
        return ms > 0 ? Effect.sleep(ms) : Effect.void
      })
    })
    const overloaded = (waitMs: number): void => {
      const ms = pauseMillis(waitMs)
      if (ms === undefined) return
      until = Math.max(until, performance.now() + ms)
      const record = Effect.tryPromise(() => c.ready().then(() => redis.toolfanRatePause(key, ms)))
      Runtime.runFork(
        runtime,
        Effect.catchAllCause(record, (cause) => Effect.logWarning(`toolfan: ${o.description} could not share a pause of ${ms} ms`, cause))
      )
    }
    return { wait, overloaded }
  })
