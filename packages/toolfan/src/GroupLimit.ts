/**
 * Richer limits for a scheduler's groups. A group's value in
 * `Scheduler.make({ groups })` is either a number (a concurrency cap kept in
 * this process) or a `GroupLimit`: a local rate limit made with
 * {@link rate}, or a limit shared by many processes such as
 * `@toolfan/redis`'s `RedisLimit.concurrency` and `RedisLimit.rate`. The task
 * code is the same either way: tasks name their `group`, the scheduler keeps
 * the limit.
 *
 * How a scheduler uses a `GroupLimit`: a task of the group first takes one of
 * the group's `local` places in this process (in priority order, holding no
 * global slot), then asks the limit for a permit, and only then waits for a
 * global slot. The permit is released when the attempt ends, so a task waiting
 * out a retry backoff holds none. If a granted permit is lost (a shared
 * lease that could not be renewed in time), the running attempt is
 * interrupted so that the limit is never exceeded.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Predicate from "effect/Predicate"
import * as RateLimiter from "effect/RateLimiter"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import { describe } from "./internal/describe.js"
import * as validate from "./internal/validate.js"

/**
 * @since 0.1.0
 * @category symbols
 */
export const TypeId: unique symbol = Symbol.for("toolfan/GroupLimit")

/**
 * @since 0.1.0
 * @category symbols
 */
export type TypeId = typeof TypeId

/**
 * What a group's tasks do when the limit cannot answer (its store is
 * unreachable): `"fail"` settles the task at once as `TaskFailed` whose
 * `error` is a {@link GroupLimitUnavailable}; `"wait"` keeps asking until the
 * store answers again (the task holds no slot meanwhile; a run's `deadline`
 * or interruption still ends the wait).
 *
 * @since 0.1.0
 * @category models
 */
export type OnUnavailable = "fail" | "wait"

/**
 * A limit on a group's tasks, started by each scheduler that uses it.
 *
 * @since 0.1.0
 * @category models
 */
export interface GroupLimit {
  readonly [TypeId]: TypeId
  /** Names the limit in errors, e.g. `redis concurrency "search" (max 8)`. */
  readonly description: string
  /**
   * Most tasks of the group, in one scheduler, that hold or are asking for a
   * permit at once. Bounds the requests made to a shared store and keeps the
   * group's priority order local.
   */
  readonly local: number
  /**
   * `"concurrency"`: a permit is held for the whole attempt (a slot of a
   * shared cap). `"rate"`: a permit is only a turn to start, so the task gives
   * its place in the group back as soon as it has one — `local` then bounds
   * the tasks waiting for a turn, not those running.
   */
  readonly kind: "concurrency" | "rate"
  /** See {@link OnUnavailable}. */
  readonly onUnavailable: OnUnavailable
  /** Starts the limit for one scheduler, in the scheduler's scope. */
  readonly start: Effect.Effect<Limiter, never, Scope.Scope>
}

/**
 * A started limit.
 *
 * @since 0.1.0
 * @category models
 */
export interface Limiter {
  /**
   * Asks for a permit; succeeds when one is granted. Fails with
   * {@link GroupLimitUnavailable} when the limit cannot answer and its mode
   * is `"fail"` (in `"wait"` mode it keeps trying). Interrupting it gives up
   * the request. `revoke` is called, at most once, if the permit is lost
   * before it is released. A defect (or a throw instead of returning an
   * Effect) fails only that task, as `TaskFailed` with a
   * `GroupLimitUnavailable` whose `cause` is the defect. `cost` is the task's
   * `cost` (default 1): a limit that counts cost (e.g. tokens) takes that
   * much; others may ignore it.
   */
  readonly acquire: (
    revoke: (error: GroupLimitUnavailable) => void,
    cost: number
  ) => Effect.Effect<Permit, GroupLimitUnavailable>
  /**
   * Told when an attempt of the group failed as overloaded (see `Overload`),
   * with the wait it was given in ms (`0`: none). The scheduler already
   * pauses the group in its own process; a limit shared by several processes
   * (e.g. in Redis) can share the pause — grant nothing to anyone until then —
   * or lower a shared cap. `attemptMs` is how long ago (ms) the refused
   * attempt started: a limit that lowered its cap since then can tell that
   * the attempt was sent under the old cap. Optional; must not throw.
   * @since 0.3.0
   */
  readonly overloaded?: ((waitMs: number, attemptMs: number) => void) | undefined
  /**
   * Told when a task's real cost (its `actualCost` of its value) differed
   * from the `cost` its start took, by `delta` (real − estimate). A limit
   * that counts cost may take the difference. Optional; must not throw.
   * @since 0.3.0
   */
  readonly correct?: ((delta: number) => void) | undefined
}

/**
 * A granted permit.
 *
 * @since 0.1.0
 * @category models
 */
export interface Permit {
  /**
   * Gives the permit back. Called once; must not block. If it throws, the
   * error is logged (`Effect.logError`) and the permit counts as given back.
   */
  readonly release: () => void
}

/**
 * The group's limit could not be consulted (its store is unreachable or did
 * not answer in time), or a permit it had granted was lost. Carried as the
 * `error` of a `TaskFailed`.
 *
 * @since 0.1.0
 * @category errors
 */
export class GroupLimitUnavailable extends Data.TaggedError("GroupLimitUnavailable")<{
  /** The limit's `description`. */
  readonly limit: string
  /** What went wrong, e.g. `"redis did not answer within 1000 ms"`. */
  readonly reason: string
  readonly cause?: unknown
}> {
  override get message(): string {
    const cause = this.cause === undefined ? "" : ` (${describe(this.cause)})`
    return `group limit ${this.limit} is unavailable: ${this.reason}${cause}`
  }
}

/**
 * Whether `u` is a {@link GroupLimitUnavailable} (checked by tag).
 *
 * @since 0.1.0
 * @category guards
 */
export const isGroupLimitUnavailable = (u: unknown): u is GroupLimitUnavailable =>
  Predicate.isTagged(u, "GroupLimitUnavailable") && Predicate.hasProperty(u, "limit")

/**
 * Whether `u` is a {@link GroupLimit}.
 *
 * @since 0.1.0
 * @category guards
 */
export const isGroupLimit = (u: unknown): u is GroupLimit => Predicate.hasProperty(u, TypeId)

const modes: ReadonlySet<unknown> = new Set(["fail", "wait"])

/**
 * Makes a `GroupLimit` from its parts, for limits kept elsewhere (see
 * `@toolfan/redis`). Throws `InvalidOption` if a part is invalid.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: {
  readonly description: string
  readonly local: number
  /** Default: `"concurrency"`. See {@link GroupLimit}. */
  readonly kind?: "concurrency" | "rate" | undefined
  readonly onUnavailable?: OnUnavailable | undefined
  readonly start: Effect.Effect<Limiter, never, Scope.Scope>
}): GroupLimit => {
  const where = "GroupLimit.make"
  const o = validate.record(where, "options", options)
  const onUnavailable = o.onUnavailable ?? "fail"
  if (!modes.has(onUnavailable)) validate.invalid(where, "onUnavailable", `"fail" or "wait"`, onUnavailable, "type")
  if (!Effect.isEffect(o.start)) validate.invalid(where, "start", "an Effect", o.start, "type")
  const kind = o.kind ?? "concurrency"
  if (kind !== "concurrency" && kind !== "rate") validate.invalid(where, "kind", `"concurrency" or "rate"`, kind, "type")
  return {
    [TypeId]: TypeId,
    description: validate.nonEmptyString(where, "description", o.description),
    local: validate.integer(where, "local", o.local, 1, true),
    kind: kind as "concurrency" | "rate",
    onUnavailable: onUnavailable as OnUnavailable,
    start: options.start
  }
}

const noop = (): void => {}
const releaseNothing: Permit = { release: noop }

/**
 * A rate limit kept in this process on Effect's `RateLimiter`: attempts of
 * the group start at `limit` per `window` — with the default token bucket, in
 * bursts of up to `limit`, then one every `window / limit`; with
 * `"fixed-window"`, up to `limit` per window (so up to twice that across a
 * window's edge). Tasks waiting for their turn hold no slot; running tasks do
 * not count (the scheduler's `maxConcurrency` caps how many run at once).
 *
 * With `counts: "cost"`, the limit counts the tasks' `cost` (e.g. estimated
 * tokens) instead of starts: `limit: 100_000, window: "1 minute"` is a
 * budget of 100,000 tokens a minute. A task costing more than `limit` could
 * never start: it fails at once (`TaskFailed` with a
 * `GroupLimitUnavailable`). A task whose `actualCost` (read from its value,
 * e.g. the response's token usage) exceeds its estimate takes the
 * difference too, before the next start.
 *
 * @example
 * ```ts
 * Scheduler.layer({ groups: { llm: GroupLimit.rate({ limit: 10, window: "1 second" }) } })
 * // tokens: each task says what it costs, `Task.make(name, effect, { group: "llm", cost: 1_200 })`
 * Scheduler.layer({ groups: { llm: GroupLimit.rate({ limit: 100_000, window: "1 minute", counts: "cost" }) } })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const rate = (options: {
  /** Attempts per window: an integer ≥ 1. */
  readonly limit: number
  /** The window: a positive, finite duration (`Infinity` is refused). */
  readonly window: import("effect/Duration").DurationInput
  /** Default: `"token-bucket"`. */
  readonly algorithm?: "token-bucket" | "fixed-window" | undefined
  /** What the limit counts: each start (`"starts"`), or each task's `cost` (`"cost"`). Default: `"starts"`. */
  readonly counts?: "starts" | "cost" | undefined
}): GroupLimit => {
  const where = "GroupLimit.rate"
  const o = validate.record(where, "options", options)
  const limit = validate.integer(where, "limit", o.limit, 1, false)
  const window = validate.durationMillis(where, "window", o.window)
  // an infinite window would grant `limit` turns and then keep every later task waiting forever
  if (!Number.isFinite(window)) {
    validate.invalid(
      where,
      "window",
      "a finite positive duration (milliseconds as a number, or e.g. \"5 seconds\")",
      o.window,
      "range"
    )
  }
  const algorithm = o.algorithm ?? "token-bucket"
  if (algorithm !== "token-bucket" && algorithm !== "fixed-window") {
    validate.invalid(where, "algorithm", `"token-bucket" or "fixed-window"`, algorithm, "type")
  }
  const counts = o.counts ?? "starts"
  if (counts !== "starts" && counts !== "cost") validate.invalid(where, "counts", `"starts" or "cost"`, counts, "type")
  const description = `rate ${limit}${counts === "cost" ? " cost" : ""} per ${window} ms`
  return make({
    description,
    // waiting for a token is queueing: a window's worth of askers at most (a turn holds no place once taken)
    local: limit,
    kind: "rate",
    start: Effect.zipWith(
      Effect.zip(
        RateLimiter.make({ limit, interval: window, algorithm: algorithm as "token-bucket" | "fixed-window" }),
        Effect.runtime<never>()
      ),
      Effect.makeSemaphore(1),
      ([limiter, runtime], gate): Limiter => {
        // one asker at a time waits on the RateLimiter: with many waiters its refills slow down (measured: 166
        // starts in 2 s instead of ~2,000 at 1,000 per second with 1,000 waiters); the others wait here, in order
        const take = gate.withPermits(1)(limiter(Effect.succeed(releaseNothing)))
        return counts === "starts" ? { acquire: () => take } : costLimiter(take, limit, description, runtime)
      }
    )
  })
}

/** A rate limiter that counts the tasks' cost: `take` with a cost per start, and the corrections after. */
const costLimiter = (
  take: Effect.Effect<Permit>,
  limit: number,
  description: string,
  runtime: Runtime.Runtime<never>
): Limiter => ({
  acquire: (_, cost) =>
    cost > limit
      ? Effect.fail(
        new GroupLimitUnavailable({
          limit: description,
          reason: `a task costing ${cost} can never start: the limit allows ${limit} per window`
        })
      )
      : RateLimiter.withCost(cost)(take),
  // used more than its estimate: the difference is taken too, ahead of the next start (no refund for less)
  correct: (delta) => {
    if (delta > 0) Runtime.runFork(runtime, RateLimiter.withCost(Math.min(delta, limit))(take))
  }
})

const AdaptiveId: unique symbol = Symbol.for("toolfan/GroupLimit/adaptive")

/**
 * The settings of an adaptive cap, as checked.
 *
 * @since 0.3.0
 * @category models
 */
export interface AdaptiveSettings {
  readonly initial: number
  readonly min: number
  readonly max: number
  readonly decrease: number
  readonly increase: number
}

/**
 * A group cap that follows the provider (AIMD, as TCP and Netflix's
 * concurrency-limits): an attempt of the group that fails as overloaded
 * (see `Overload`: a 429, an `Overloaded`) lowers the cap to what the
 * provider was seen to sustain (its rate of successes × their latency) or,
 * before there is a measure, by `decrease` — by at least a tenth, down to
 * `min`, once per round (attempts already in flight when it went down are
 * not counted again); every success adds `increase / cap`, up to `max`, so
 * the cap grows by about `increase` per round of `cap` successes — 64 times
 * slower near the cap that was last refused. Lowering it stops nothing
 * running. The cap now is in `Scheduler.stats`
 * (`caps`) and in the `toolfan.group.cap` gauge.
 *
 * @example
 * ```ts
 * import { GroupLimit, Scheduler } from "toolfan"
 *
 * const layer = Scheduler.layer({ groups: { llm: GroupLimit.adaptive({ initial: 8, min: 1, max: 32 }) } })
 * ```
 *
 * @since 0.3.0
 * @category constructors
 */
export const adaptive = (options: {
  /** The cap to start with: an integer between `min` and `max`. */
  readonly initial: number
  /** The lowest cap: an integer ≥ 1. Default: `1`. */
  readonly min?: number | undefined
  /** The highest cap: an integer ≥ `initial`. */
  readonly max: number
  /** The factor applied on an overload before the provider's rate is measured, in (0, 1). Default: `0.5`. */
  readonly decrease?: number | undefined
  /** What a round of successes adds, a positive number. Default: `1`. */
  readonly increase?: number | undefined
}): GroupLimit => {
  const where = "GroupLimit.adaptive"
  const o = validate.record(where, "options", options)
  const min = o.min === undefined ? 1 : validate.integer(where, "min", o.min, 1, false)
  const max = validate.integer(where, "max", o.max, min, false)
  const initial = validate.integer(where, "initial", o.initial, min, false)
  if (initial > max) validate.invalid(where, "initial", `an integer between min (${min}) and max (${max})`, o.initial, "range")
  const decrease = o.decrease === undefined ? 0.5 : validate.finiteNumber(where, "decrease", o.decrease)
  if (!(decrease > 0 && decrease < 1)) validate.invalid(where, "decrease", "a number between 0 and 1 (excluded)", decrease, "range")
  const increase = o.increase === undefined ? 1 : validate.finiteNumber(where, "increase", o.increase)
  if (!(increase > 0)) validate.invalid(where, "increase", "a positive number", increase, "range")
  const settings: AdaptiveSettings = { initial, min, max, decrease, increase }
  // as a plain GroupLimit (to a reader that does not know it), a cap of `max`; the scheduler runs it as adaptive
  const limit = make({
    description: `adaptive cap ${min}–${max}`,
    local: max,
    start: Effect.succeed({ acquire: () => Effect.succeed(releaseNothing) })
  })
  return Object.assign(limit, { [AdaptiveId]: settings })
}

/** The settings of an adaptive cap, if `limit` is one. @internal */
export const adaptiveSettings = (limit: GroupLimit): AdaptiveSettings | undefined =>
  (limit as { readonly [AdaptiveId]?: AdaptiveSettings })[AdaptiveId]
