/**
 * The adaptive cap shared through Redis (`RedisLimit.concurrency`'s
 * `adaptive` option): one cap, kept beside the leases, that every process
 * using the key enforces, lowered when the provider says it is overloaded and
 * raised again as attempts complete — AIMD, as in TCP.
 *
 * # Why it works this way
 *
 * - **One value, in Redis**: the cap is a hash (`c`: the cap, fractional
 *   between whole steps; `g`: its last decrease, by Redis's time; `top`: the cap it
 *   last went down from, until passed again) under
 *   the limit's hash tag. The acquire script enforces its floor (never more
 *   than `max`) instead of `max`, so a change made by one process holds for
 *   every process at its next request, without a message.
 * - **Decrease** (DECREASE): an overloaded attempt (`Limiter.overloaded`)
 *   halves the cap, down to `min`, once per decrease: the hash names the
 *   last one (`g`, Redis's time of it), every process keeps the name it
 *   last heard and when, and an attempt counts only if it started after its
 *   process heard of the last decrease (else it was sent under the old cap)
 *   and if no process lowered the cap since (the script compares the
 *   names; a forgotten cap has none, and takes any). So the
 *   cap goes down again as soon as an attempt sent under the lower cap is
 *   refused — one latency later, not one renewal later. The script publishes
 *   `c<cap>:<name>` and keeps the cap it lowered from (`top`).
 * - **Increase** (GROW): each lease a task lets go of counts as a completed
 *   attempt and adds `1 / cap`: about one per round of `cap` attempts, up to
 *   `max`; 64 times slower within 1 of `top`, the cap last refused, as in
 *   `GroupLimit.adaptive` (a provider at its limit sees a probe every 64
 *   rounds, not every round). A lease handed to the next task without a call (handoff.ts) counts
 *   too, so the count is kept here and sent in batches: at most one call in
 *   flight per scheduler, the next carrying what completed meanwhile. When
 *   the floor goes up the script publishes a release (`1`), so a waiter tries
 *   again at once. The overloaded attempt's own release counts too (the
 *   scheduler releases before it reports the overload: `1 / cap` more
 *   before the halving). At `max`, a scheduler sends nothing for a round, or
 *   until it lowers the cap or hears of a decrease (an answer of `max` to a
 *   call sent before that is stale, and ignored).
 * - **Handoffs**: lowering the cap stops nothing running, and a handoff never
 *   adds a lease; but one would keep a lease over the new cap in use. So a
 *   process that lowers the cap or hears `c<cap>:<name>` stops its handoffs as if
 *   others waited (idle leases released at once, released leases go back),
 *   and the acquire and renew answers say "no handoffs" while Redis holds
 *   more leases than the cap. Worst case: a process that missed the message
 *   (its subscriber reconnecting) hands its leases over until its next
 *   renewal, an eighth of a lease; until then the leases in Redis may exceed
 *   the new cap by what it holds (never by more: Redis grants nothing over
 *   it). After a stale answer clears the flag, the next renewal sets it back.
 * - **Forgotten with the leases**: the hash expires a lease time after its
 *   last change or renewal, so the next run starts at `initial` again.
 * - **Best effort**: a failed decrease is logged; a failed increase is
 *   dropped. The cap always holds: the scripts read it atomically.
 *
 * Owns: the count of completed attempts not yet sent, and the scripts that
 * change the cap. lease.ts tells it of releases and overloads.
 */
import * as Effect from "effect/Effect"
import * as MetricLabel from "effect/MetricLabel"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import type { Redis } from "ioredis"
import { GroupLimit, Metrics } from "toolfan"
import { client } from "./connection.js"
import type { Connection } from "./options.js"

/** @internal */
export interface AdaptiveSettings {
  /** The cap when Redis has none (first start, or forgotten). */
  readonly initial: number
  /** The cap never goes lower. */
  readonly min: number
}

/** Rounds of `cap` completed attempts per step of 1 near the cap last halved (as `GroupLimit.adaptive`'s). */
const PLATEAU_ROUNDS = 64

/**
 * Lua, for the acquire and renew scripts: the cap they enforce — `max`, or
 * with an adaptive cap (`initial` is not empty) the shared cap's floor, at
 * most `max` (processes may be configured differently).
 */
export const CAP_OF = `
local function capOf(key, max, initial)
  if initial == '' then
    return max
  end
  return math.min(max, math.floor(tonumber(redis.call('HGET', key, 'c') or initial)))
end
`

/** Lua: the hash's expiry is only ever extended (to `ttl`), like the leases'; a missing hash stays missing. */
export const EXTEND = `
local function extend(key, ttl)
  local left = redis.call('PTTL', key)
  if left ~= -2 and left < ttl then
    redis.call('PEXPIRE', key, ttl)
  end
end
`

// KEYS: the cap, the channel. ARGV: min, initial, max, the decrease the caller last heard of ('' if none), lease
// time. Halves the cap, down to min, unless it went down since the caller last heard: the hash's `g` (the last
// decrease, named by Redis's time in µs, so that a cap forgotten and lowered again never repeats a name) is another
// one. A hash without `g` (never lowered, or forgotten) takes any caller's. Returns whether it went down, the cap (a
// string: Lua numbers would be cut) and the last decrease's name.
const DECREASE = `${EXTEND}
local c = math.min(tonumber(ARGV[3]), tonumber(redis.call('HGET', KEYS[1], 'c') or ARGV[2]))
local g = redis.call('HGET', KEYS[1], 'g') or ''
local lowered = math.max(tonumber(ARGV[1]), c * 0.5)
if (g ~= '' and g ~= ARGV[4]) or lowered >= c then
  return {0, tostring(c), g}
end
local t = redis.call('TIME')
local name = t[1] .. string.format('%06d', tonumber(t[2]))
redis.call('HSET', KEYS[1], 'c', tostring(lowered), 'g', name, 'top', tostring(c))
extend(KEYS[1], tonumber(ARGV[5]))
redis.call('PUBLISH', KEYS[2], 'c' .. tostring(lowered) .. ':' .. name)
return {1, tostring(lowered), name}
`

// KEYS: the cap, the channel. ARGV: completed attempts, initial, max, lease time. Adds 1/cap per attempt, up to max;
// 64 times slower within 1 of the cap last halved (`top`), and normally again past it. Publishes a release when the
// floor went up (a waiter may take the new slot). Returns the cap (a string).
const GROW = `${EXTEND}
local max = tonumber(ARGV[3])
local c = math.min(max, tonumber(redis.call('HGET', KEYS[1], 'c') or ARGV[2]))
local top = tonumber(redis.call('HGET', KEYS[1], 'top'))
local before = math.floor(c)
for i = 1, tonumber(ARGV[1]) do
  if top and c + 1 >= top then
    c = math.min(max, c + 1 / (c * ${PLATEAU_ROUNDS}))
    if c >= top + 1 then top = nil end
  else
    c = math.min(max, c + 1 / c)
  end
end
redis.call('HSET', KEYS[1], 'c', tostring(c))
if not top then
  redis.call('HDEL', KEYS[1], 'top')
end
extend(KEYS[1], tonumber(ARGV[4]))
if math.floor(c) > before then
  redis.call('PUBLISH', KEYS[2], '1')
end
return tostring(c)
`

/** @internal */
export interface CapCommands {
  toolfanDecrease(cap: string, channel: string, min: number, initial: number, max: number, lastDecrease: string, ttl: number): Promise<[number, string, string]>
  toolfanGrow(cap: string, channel: string, n: number, initial: number, max: number, ttl: number): Promise<string>
}

/** At most this many completed attempts per call (the script loops over them). */
const MOST_PER_CALL = 1000

/** What the shared cap of one scheduler needs. @internal */
export interface SharedCapOptions {
  readonly description: string
  /** The hash, and the limit's channel. */
  readonly cap: string
  readonly channel: string
  readonly max: number
  readonly leaseMs: number
  readonly adaptive: AdaptiveSettings
}

/** The adaptive cap as one scheduler changes it (see the header). @internal */
export class SharedCap {
  private readonly redis: Redis & CapCommands
  /** Completed attempts not yet sent. */
  private completed = 0
  /** Decreases made or heard of here: an answer to a call sent before the last one is stale. */
  private lowerings = 0
  private sending = false
  /** Until when (`performance.now()`) the cap is known to be at `max`: completed attempts are not sent meanwhile. */
  private fullUntil = 0
  /** The last decrease heard of here (Redis's name of it, `""`: none), and when (`performance.now()`): see `overloaded`. */
  private lastDecrease = ""
  private heardAt = Number.NEGATIVE_INFINITY
  private readonly labels: ReadonlyArray<MetricLabel.MetricLabel>

  constructor(
    private readonly o: SharedCapOptions,
    redis: Redis,
    /** Waits for the connection (see connection.ts). */
    private readonly ready: () => Promise<void>,
    private readonly runtime: Runtime.Runtime<never>,
    /** This process lowered the cap: no handoffs (see the header). */
    private readonly lowered: () => void
  ) {
    redis.defineCommand("toolfanDecrease", { numberOfKeys: 2, lua: DECREASE })
    redis.defineCommand("toolfanGrow", { numberOfKeys: 2, lua: GROW })
    this.redis = redis as Redis & CapCommands
    this.labels = [MetricLabel.make("limit", o.description)]
  }

  /** A task let go of its lease: one completed attempt. */
  released(): void {
    // at max: nothing to add, no call; known for a round at most, or until a decrease is heard of
    if (performance.now() < this.fullUntil) return
    this.completed++
    this.send()
  }

  /**
   * The cap went down (a process's message, this one's own decrease included, or an answer): completed attempts
   * count again, and attempts started before now were sent under the old cap. `decrease` names it (Redis's time of
   * it; `undefined` if unknown): hearing again of the one last heard of changes nothing.
   */
  heardLowered(decrease: string | undefined): void {
    this.fullUntil = 0
    this.lowerings++
    if (decrease !== undefined && decrease === this.lastDecrease) return
    if (decrease !== undefined) this.lastDecrease = decrease
    this.heardAt = performance.now()
  }

  /**
   * An attempt that started `attemptMs` ago failed as overloaded: halve the cap — unless the attempt was sent before
   * this process heard of the last decrease (under the old cap), or another process lowered it since this one last
   * heard (Redis compares the names of the last decrease). A failed call is logged. Never throws.
   */
  overloaded(attemptMs: number): void {
    if (performance.now() - attemptMs <= this.heardAt) return
    this.fullUntil = 0
    this.lowerings++
    const o = this.o
    const { initial, min } = o.adaptive
    const lastDecrease = this.lastDecrease
    const call = Effect.tryPromise(() =>
      this.ready().then(() => this.redis.toolfanDecrease(o.cap, o.channel, min, initial, o.max, lastDecrease, o.leaseMs))
    )
    const done = Effect.matchCauseEffect(call, {
      onSuccess: ([down, cap, g]) => {
        // a stale answer names the decrease this process missed (or none: the cap was forgotten)
        if (down === 1 || g !== "") this.heardLowered(g)
        else this.lastDecrease = ""
        return down === 1 ? this.heard(Number(cap), undefined) : Effect.void
      },
      onFailure: (cause) => Effect.logWarning(`toolfan: ${o.description} could not lower its shared cap`, cause)
    })
    Runtime.runFork(this.runtime, done)
  }

  /** Sends the completed attempts (one call at a time; what completes meanwhile goes with the next). */
  private send(): void {
    if (this.sending || this.completed === 0) return
    const n = Math.min(this.completed, MOST_PER_CALL)
    this.completed -= n
    this.sending = true
    const o = this.o
    const lowerings = this.lowerings
    this.ready()
      .then(() => this.redis.toolfanGrow(o.cap, o.channel, n, o.adaptive.initial, o.max, o.leaseMs))
      .then((cap) => Runtime.runFork(this.runtime, this.heard(Number(cap), lowerings)), () => {})
      .finally(() => {
        this.sending = false
        this.send()
      })
  }

  /**
   * The cap as Redis answered it: a gauge (`toolfan.group.cap`, tag `limit`); a decrease (`sentAfter` undefined) is
   * also logged. At max, no completed attempt is sent for a round (see `released`) — unless the cap was lowered since
   * the call was sent (after `sentAfter` decreases).
   */
  private heard(cap: number, sentAfter: number | undefined): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (sentAfter !== undefined && sentAfter !== this.lowerings) return Effect.void
      Metrics.adaptiveCap.unsafeUpdate(Math.floor(cap), this.labels)
      if (sentAfter !== undefined) {
        if (cap >= this.o.max) this.fullUntil = performance.now() + this.o.leaseMs / 8
        return Effect.void
      }
      this.lowered()
      return Effect.logDebug(`toolfan: ${this.o.description}: shared cap lowered to ${Math.floor(cap)}`)
    })
  }
}

/** The cap Redis enforces now for a limit (`RedisLimit.currentCap`): one connection, one read. @internal */
export const current = (
  o: SharedCapOptions & { readonly connection: Connection; readonly timeoutMs: number }
): Effect.Effect<number, GroupLimit.GroupLimitUnavailable> =>
  Effect.scoped(
    Effect.flatMap(client(o.connection, o.timeoutMs), (c): Effect.Effect<number, GroupLimit.GroupLimitUnavailable, Scope.Scope> =>
      Effect.tryPromise({
        try: () => c.ready().then(() => c.redis.hget(o.cap, "c")),
        catch: (cause) => new GroupLimit.GroupLimitUnavailable({ limit: o.description, reason: "redis did not answer when reading the cap", cause })
      }).pipe(Effect.map((c) => Math.min(o.max, Math.floor(c === null ? o.adaptive.initial : Number(c))))))
  )
