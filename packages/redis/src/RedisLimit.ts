/**
 * Limits kept in Redis, so that they hold across every process and machine
 * that shares them. Each is a `GroupLimit`: give it to a scheduler's `groups`
 * and the same task code runs under a shared limit instead of a local one.
 *
 * @example
 * ```ts
 * import { Scheduler } from "toolfan"
 * import { RedisLimit } from "@toolfan/redis"
 *
 * const layer = Scheduler.layer({
 *   maxConcurrency: 16,
 *   groups: {
 *     search: RedisLimit.concurrency({ key: "search", max: 8, redis: "redis://127.0.0.1:6379" }),
 *     llm: RedisLimit.rate({ key: "llm", limit: 50, window: "1 second" })
 *   }
 * })
 * ```
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { GroupLimit } from "toolfan"
import { validate } from "toolfan/shared"
import * as adaptiveCap from "./internal/adaptive.js"
import * as lease from "./internal/lease.js"
import * as check from "./internal/options.js"
import * as rateLimit from "./internal/rate.js"

/**
 * Where Redis is and how to talk to it; shared by both limits.
 *
 * @since 0.1.0
 * @category models
 */
export interface RedisOptions {
  /**
   * A `redis://` (or `rediss://`) URL, or ioredis options. Each started limit
   * opens its own connections. Default: `"redis://127.0.0.1:6379"`.
   */
  readonly redis?: string | import("ioredis").RedisOptions | undefined
  /** Prefix of the keys used in Redis. Default: `"toolfan:"`. */
  readonly prefix?: string | undefined
  /**
   * How long to wait for the connection, and then for an answer, before
   * Redis counts as unreachable. For a shared cap, keep it well under half
   * the `leaseTime`: a lease not renewed for that long is given up; at most
   * an eighth of it, so that holders ride out an outage shorter than a quarter
   * of it with the connection open too. Default: `"1 second"`.
   */
  readonly timeout?: Duration.DurationInput | undefined
  /**
   * When Redis is unreachable: `"fail"` settles the waiting task at once as
   * `TaskFailed` with a `GroupLimitUnavailable` error (it does not run);
   * `"wait"` keeps trying (the task holds no slot; the run's `deadline` ends
   * the wait). Either way the limit is never exceeded. Default: `"fail"`.
   */
  readonly onUnavailable?: GroupLimit.OnUnavailable | undefined
}

/**
 * Options of {@link concurrency}.
 *
 * @since 0.1.0
 * @category models
 */
export interface ConcurrencyOptions extends RedisOptions {
  /** The name of the shared cap: processes using the same key share it. */
  readonly key: string
  /** Most attempts running at once across all processes: an integer ≥ 1. */
  readonly max: number
  /**
   * How long a slot stays taken if its holder stops renewing it (a crashed
   * process): its slots come back after at most this long. Holders renew
   * every eighth of it (at once after a reconnect, and every 50 ms while
   * renewals fail), and give a slot up (interrupting the attempt) when it has
   * not been renewed for half of it: a Redis outage or restart shorter than a
   * quarter of it does not interrupt running tasks. Default: `"10 seconds"`.
   */
  readonly leaseTime?: Duration.DurationInput | undefined
  /**
   * An adaptive cap, shared by every process using the key: kept in Redis,
   * halved (down to `min`) when an attempt of the group fails as overloaded
   * (with or without a wait; once per decrease: an attempt sent under the
   * old cap does not lower it again) and raised by `1 / cap` per completed
   * attempt, up to `max` (64 times slower near the cap last halved). See "An adaptive cap,
   * shared" in docs/distributed.md. Default: none (the cap is `max`).
   * @since 0.3.0
   */
  readonly adaptive?: AdaptiveOptions | undefined
}

/**
 * The `adaptive` option of {@link concurrency}.
 *
 * @since 0.3.0
 * @category models
 */
export interface AdaptiveOptions {
  /**
   * The cap while Redis has none (the first start, or a lease time after the
   * key was last used): an integer from `min` to `max`. Default: `max`.
   */
  readonly initial?: number | undefined
  /** The cap never goes lower: an integer from 1 to `max`. Default: 1. */
  readonly min?: number | undefined
}

/**
 * Options of {@link rate}.
 *
 * @since 0.1.0
 * @category models
 */
export interface RateOptions extends RedisOptions {
  /** The name of the shared rate limit: processes using the same key share it. */
  readonly key: string
  /** Attempts that may start per window across all processes: an integer ≥ 1. */
  readonly limit: number
  /**
   * The window, e.g. `"1 second"`. With `"fixed-window"`, Redis counts in
   * whole milliseconds per attempt (`window / limit`): the window is rounded
   * up to the next multiple of `limit` milliseconds (3 per 1000 ms runs as
   * 3 per 1002 ms, never faster than asked), and a window shorter than
   * `limit` milliseconds (more than one attempt per millisecond) is refused.
   */
  readonly window: Duration.DurationInput
  /** `@effect/experimental`'s algorithms. Default: `"fixed-window"`. */
  readonly algorithm?: "fixed-window" | "token-bucket" | undefined
}

const concurrencyKeys: ReadonlySet<string> = new Set([
  "key",
  "max",
  "leaseTime",
  "redis",
  "prefix",
  "timeout",
  "onUnavailable",
  "adaptive"
])
const rateKeys: ReadonlySet<string> = new Set([
  "key",
  "limit",
  "window",
  "algorithm",
  "redis",
  "prefix",
  "timeout",
  "onUnavailable"
])
const modes = ["fail", "wait"] as const
const adaptiveKeys: ReadonlySet<string> = new Set(["initial", "min"])

/** Checks what both limits take: the object, no unknown option, `key` and the {@link RedisOptions}. */
const common = (where: string, options: unknown, known: ReadonlySet<string>) => {
  const o = validate.record(where, "options", options)
  validate.knownKeys(where, o, known)
  return {
    o,
    key: validate.nonEmptyString(where, "key", o.key),
    connection: check.connection(where, o.redis),
    prefix: o.prefix === undefined ? "toolfan:" : validate.nonEmptyString(where, "prefix", o.prefix),
    timeoutMs: check.duration(where, "timeout", o.timeout, 1_000),
    onUnavailable: check.oneOf(where, "onUnavailable", o.onUnavailable, modes, "fail")
  }
}

/**
 * A concurrency cap shared by every process using the same Redis and `key`:
 * at most `max` attempts of the group run at once across all of them. Slots
 * are leases that their holder renews, so the slots of a crashed process come
 * back by themselves within `leaseTime`; a released slot goes to a waiter at
 * once (Redis pub/sub). Per process, at most `max` tasks ask Redis at once;
 * the others wait in the scheduler, by priority, holding no slot.
 *
 * While no other scheduler waits for the key, a slot released by a task is
 * kept for up to 5 ms and handed to the scheduler's next task without a Redis
 * call (the lease stays in Redis, so the cap is exact); once another waits,
 * released slots go back to Redis at once and waiting schedulers are served
 * first. So a busy scheduler makes about one call per lease, not two per task,
 * and its slots return to Redis 5 ms after its last task (or when it closes).
 *
 * A provider's pause is shared: when an attempt of the group fails as
 * overloaded with a wait (see toolfan's `Overload`), Redis grants no slot to
 * any process using the key until then (by Redis's clock; a shorter wait
 * never shortens a longer pause), and no scheduler hands its idle slots to
 * its next tasks meanwhile. Best effort: if Redis cannot be reached, the
 * failure is logged and only the scheduler's own pause holds.
 *
 * With `adaptive`, the cap itself is shared and moves: kept in Redis, halved
 * (down to `adaptive.min`; an attempt sent under the old cap does not lower it again) by such an
 * overload, raised by `1 / cap` per completed attempt up to `max`; read it
 * with {@link currentCap}. See `adaptive` in {@link ConcurrencyOptions}.
 *
 * Throws `InvalidOption` if an option is invalid; nothing connects until a
 * scheduler starts it.
 *
 * @since 0.1.0
 * @category constructors
 */
export const concurrency = (options: ConcurrencyOptions): GroupLimit.GroupLimit => {
  const settings = concurrencySettings("RedisLimit.concurrency", options)
  const { description, max, onUnavailable } = settings
  return GroupLimit.make({ description, local: max, onUnavailable, start: Effect.suspend(() => lease.start(settings)) })
}

/**
 * The cap that the limit {@link concurrency} makes with the same options
 * enforces now in Redis, across every process: with `adaptive`, the shared
 * cap (its whole part, `initial` while Redis has none); without, `max`. Opens
 * one connection for the read and closes it. Fails with
 * `GroupLimitUnavailable` if Redis does not answer.
 *
 * Throws `InvalidOption` if an option is invalid.
 *
 * @since 0.3.0
 * @category getters
 */
export const currentCap = (options: ConcurrencyOptions): Effect.Effect<number, GroupLimit.GroupLimitUnavailable> => {
  const settings = concurrencySettings("RedisLimit.currentCap", options)
  const adaptive = settings.adaptive
  return adaptive === undefined ? Effect.succeed(settings.max) : adaptiveCap.current({ ...settings, adaptive })
}

/** Checks the options of {@link concurrency}; the settings of its leases. */
const concurrencySettings = (where: string, options: ConcurrencyOptions): lease.LeaseOptions => {
  const { connection, key, o, onUnavailable, prefix, timeoutMs } = common(where, options, concurrencyKeys)
  const max = validate.integer(where, "max", o.max, 1, false)
  // whole milliseconds: Redis expiries (PEXPIRE) take integers
  const leaseMs = Math.ceil(check.duration(where, "leaseTime", o.leaseTime, 10_000))
  if (leaseMs < 100) validate.invalid(where, "leaseTime", "at least 100 milliseconds", o.leaseTime, "range")
  const adaptive = adaptiveSettings(where, o.adaptive, max)
  const adapting = adaptive === undefined ? "" : `, adaptive from ${adaptive.initial}, min ${adaptive.min}`
  const description = `redis concurrency "${key}" (max ${max}${adapting})`
  const base = `${prefix}concurrency:{${key}}`
  return {
    description,
    connection,
    key: base,
    marker: `${base}:marker`,
    recovering: `${base}:recovering`,
    waiting: `${base}:waiting`,
    channel: `${base}:released`,
    paused: `${base}:paused`,
    cap: `${base}:cap`,
    adaptive,
    max,
    leaseMs,
    timeoutMs,
    onUnavailable
  }
}

/** Checks the `adaptive` option: known keys, `min` from 1 to `max`, `initial` from `min` to `max`. */
const adaptiveSettings = (where: string, value: unknown, max: number): adaptiveCap.AdaptiveSettings | undefined => {
  if (value === undefined) return undefined
  const a = validate.record(where, "adaptive", value)
  for (const k in a) {
    if (!adaptiveKeys.has(k)) validate.invalid(where, `adaptive.${k}`, "one of initial, min (unknown option)", k, "type")
  }
  const min = a.min === undefined ? 1 : validate.integer(where, "adaptive.min", a.min, 1, false)
  if (min > max) validate.invalid(where, "adaptive.min", `an integer from 1 to max (${max})`, a.min, "range")
  const initial = a.initial === undefined ? max : validate.integer(where, "adaptive.initial", a.initial, min, false)
  if (initial > max) validate.invalid(where, "adaptive.initial", `an integer from adaptive.min (${min}) to max (${max})`, a.initial, "range")
  return { initial, min }
}

/**
 * The fixed window's store sets key expiries (`PX`) of `window / limit` ms per
 * attempt, which Redis takes in whole milliseconds only: the window rounded up
 * to a multiple of `limit` ms. Under one millisecond per attempt is refused.
 * (The tolerance absorbs float noise such as `1.1 * 1000`.)
 */
const wholeMillisPerAttempt = (where: string, window: unknown, ms: number, limit: number): number => {
  const perAttempt = ms / limit
  if (perAttempt < 1 - 1e-9) {
    validate.invalid(
      where,
      "window",
      `at least ${limit} milliseconds with "fixed-window" (Redis counts in whole milliseconds: one attempt per millisecond at most)`,
      window,
      "range"
    )
  }
  return Math.ceil(perAttempt - 1e-9) * limit
}

/**
 * A rate limit shared by every process using the same Redis and `key`: at
 * most `limit` attempts of the group start per `window` across all of them.
 * Built on `@effect/experimental`'s `RateLimiter` and its Redis store: each
 * attempt reserves its turn with one call and waits for it holding no slot.
 * Per process, at most `limit` tasks hold a reservation at once.
 *
 * With `"fixed-window"` (the default) the window is rounded up to a whole
 * number of milliseconds per attempt (see `window` in {@link RateOptions}); the
 * limit's `description` gives the window it runs with. A command that Redis
 * answers with an error (it is reachable but refuses it) fails the attempt
 * with `GroupLimitUnavailable` in both `onUnavailable` modes: it is not
 * retried.
 *
 * A provider's pause is shared: when an attempt of the group fails as
 * overloaded with a wait (see toolfan's `Overload`), every process's next
 * attempts sleep until then (by Redis's clock) before taking their turn; a
 * turn taken before the pause began is not taken back. Best effort.
 *
 * Throws `InvalidOption` if an option is invalid, or if the window is shorter
 * than `limit` milliseconds with `"fixed-window"`; nothing connects until a
 * scheduler starts it.
 *
 * @since 0.1.0
 * @category constructors
 */
export const rate = (options: RateOptions): GroupLimit.GroupLimit => {
  const where = "RedisLimit.rate"
  const { connection, key, o, onUnavailable, prefix, timeoutMs } = common(where, options, rateKeys)
  const limit = validate.integer(where, "limit", o.limit, 1, false)
  const asked = check.duration(where, "window", o.window)
  const algorithm = check.oneOf(where, "algorithm", o.algorithm, ["fixed-window", "token-bucket"] as const, "fixed-window")
  const windowMs = algorithm === "fixed-window" ? wholeMillisPerAttempt(where, o.window, asked, limit) : asked
  const rounded = windowMs > asked ? `: ${asked} ms rounded up to whole milliseconds per attempt` : ""
  const description = `redis rate "${key}" (${limit} per ${windowMs} ms${rounded})`
  const settings: rateLimit.RateOptions = {
    description,
    connection,
    prefix: `${prefix}rate:`,
    key,
    limit,
    windowMs,
    algorithm,
    timeoutMs,
    onUnavailable
  }
  return GroupLimit.make({ description, local: limit, kind: "rate", onUnavailable, start: Effect.suspend(() => rateLimit.start(settings)) })
}
