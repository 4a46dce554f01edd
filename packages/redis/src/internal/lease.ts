/**
 * A concurrency cap shared through Redis, as leases.
 *
 * # Why it works this way
 *
 * A slot is a member of a sorted set whose score is the time (Redis's own
 * clock, `TIME`, so the processes' clocks do not matter) at which the lease
 * expires. Taking a slot is one Lua script — drop expired leases, count,
 * add if there is room — so it is atomic without locks or transactions.
 *
 * - **Crashes**: a process that dies stops renewing; its leases expire and the
 *   next script call drops them. Nothing has to notice the crash.
 * - **Renewal**: each process renews all the leases it holds with one script
 *   call every eighth of the lease time. A lease that has not been renewed
 *   for half the lease time (renewals failed or hang: Redis unreachable or
 *   silent) is given up by its holder — checked every eighth of a lease, apart
 *   from the renewal calls, so a hanging call does not delay it: the scheduler
 *   interrupts the attempt at least three eighths of a lease before Redis
 *   could hand the slot to someone else. So the cap holds even when Redis is
 *   unreachable, and after it comes back.
 * - **Riding out an outage**: the give-up check counts from the last renewal
 *   that succeeded, so what decides whether a holder survives a restart is
 *   how soon a renewal succeeds once Redis is back. A failed renewal is tried
 *   again after min(50 ms, lease/20), not a renewal period later (that used
 *   to put the next success past the half-lease mark: a single failed
 *   renewal could cost the slot); the connection (ready) wakes the renewal at
 *   once; the clients reconnect at least every min(1 s, lease/16); and a
 *   renewal's time is read when it is sent, not before waiting for the
 *   connection. Worst case, the last success came a renewal period (lease/8)
 *   before the outage and the next comes lease/16 after Redis is back: an
 *   outage shorter than a quarter lease leaves a sixteenth to spare.
 * - **Waiters**: a release publishes on a channel; each process listens with
 *   one subscriber connection and wakes one of its waiters per message, which
 *   tries again. A lease that expires publishes nothing, so a waiter also
 *   sleeps at most until the earliest lease expires (the script returns how
 *   long that is), or a quarter lease, and then tries again.
 * - **Requests are bounded**: the scheduler asks for at most `max` permits at
 *   once per process (`GroupLimit.local`); the rest wait in the scheduler in
 *   priority order. Schedulers that wait are served first, then race for a
 *   freed slot among themselves (there is no cross-process FIFO).
 * - **Handoffs**: a released lease is kept for a few milliseconds and taken
 *   over by the scheduler's next task without a call while nobody else waits
 *   (one call per task burst instead of two per task): see handoff.ts.
 * - **Idempotent**: a lease id is asked for until it is granted or given up;
 *   a script that ran but whose answer was lost (timeout) is harmless, since
 *   asking again with the same id finds it, and giving up releases it.
 * - **Redis losing its data** (restarted without persistence): a marker key
 *   exists as long as Redis keeps the limit's data. A process that has seen
 *   it and finds it gone — a holder renewing, or a waiter asking — knows the
 *   leases were lost, and sets a recovery flag for one lease time, during
 *   which no new lease is granted while the holders put theirs back (a renewal
 *   re-adds a missing lease while there is room). After one lease time every
 *   holder from before has renewed or given its lease up. Whether the marker
 *   was seen is kept per process (any of its schedulers), so only a process
 *   that never had an answer for that key before the loss cannot tell.
 * - **Mixed lease times**: the set's expiry is only ever extended.
 * - **Redis Cluster**: all keys of a limit share a hash tag (`{key}`).
 *
 * # Modules
 *
 * - lease.ts (here): the leases of one scheduler — `Leases` is the one owner
 *   of the `held` map (below), asks, grants, releases, renews and gives up;
 * - leaseScripts.ts: the Lua scripts that run in Redis, and their commands;
 * - handoff.ts: the leases idle between two tasks, and when they go back;
 * - pause.ts: the pause a provider's "wait" puts on every process;
 * - adaptive.ts: the cap shared by every process when it is adaptive;
 * - waiters.ts: this scheduler's tasks sleeping between two tries;
 * - connection.ts: the clients (timeouts, reconnection, errors).
 *
 * # A lease's life (`Leases` is its one owner; `held` has it from granted on)
 *
 *   from            event                                          to
 *   asked           the script grants it (-1; -2: others wait)     held by a task
 *   asked           the script says wait (≥ 0 ms, or paused)       asked again (same id)
 *   asked           the request fails or is interrupted            released
 *   held by a task  the task lets go of it, nobody else waits      idle (handoff.ts)
 *   held by a task  the task lets go of it, others wait / closing  released
 *   idle            the next task here takes it (≥ half a lease)   held by a task
 *   idle            taken too old, linger over, others wait        released
 *   held or idle    not renewed for half a lease, or lost          given up (revoked)
 *   any             the scheduler's scope closes                   released (one call)
 *
 * A given-up lease held by a task is released in Redis when the task lets go
 * of it; an idle one may be left to expire there.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Runtime from "effect/Runtime"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import type { Redis } from "ioredis"
import { GroupLimit } from "toolfan"
import { type AdaptiveSettings, SharedCap } from "./adaptive.js"
import { type Client, client, reconnecting, refused } from "./connection.js"
import { Handoff } from "./handoff.js"
import { define, type LeaseRedis } from "./leaseScripts.js"
import type { Connection } from "./options.js"
import { Pause, pauseMillis } from "./pause.js"
import { Waiters } from "./waiters.js"

/**
 * Milliseconds on Effect's monotonic clock reading (`currentTimeNanos`): a
 * lease's local bookkeeping counts intervals, which a step of the system
 * clock (NTP, resume from sleep) must not stretch or cut. Redis keeps its own
 * time (`TIME`) for the leases themselves.
 */
const monotonicMillis = Effect.map(Clock.currentTimeNanos, (nanos) => Math.floor(Number(nanos) / 1e6))

/** @internal */
export interface LeaseOptions {
  readonly description: string
  readonly connection: Connection
  readonly key: string
  readonly marker: string
  readonly recovering: string
  readonly waiting: string
  readonly channel: string
  /** The pause every process waits out (see pause.ts). */
  readonly paused: string
  /** The adaptive cap (see adaptive.ts), and its settings; undefined: the cap is `max`. */
  readonly cap: string
  readonly adaptive: AdaptiveSettings | undefined
  readonly max: number
  readonly leaseMs: number
  readonly timeoutMs: number
  readonly onUnavailable: GroupLimit.OnUnavailable
}

type Revoke = (error: GroupLimit.GroupLimitUnavailable) => void

interface Held {
  /** Local time until which the lease is surely still ours in Redis. */
  validUntil: number
  readonly revoke: Revoke
}

const noop = (): void => {}

/**
 * The markers this process has seen in Redis (after any answered call, the
 * marker exists). Kept per process, not per scheduler: a scheduler started
 * after Redis lost its data must still tell that it did, or it would take
 * slots at once beside the holders of the other schedulers of this process.
 * Keyed by the marker's name alone: the same key on two Redis servers at
 * worst costs the second one a needless recovery pause, never the cap.
 */
const seenMarkers = new Set<string>()

const processId = `${process.pid}-${Math.random().toString(36).slice(2, 10)}`

/**
 * How long a released lease waits for the next task of its scheduler before it is released in Redis (see
 * handoff.ts). The scheduler starts the next task's request a few scheduler ticks after the release — microtasks,
 * or a timer tick when Effect's scheduler yields — so a few milliseconds cover it with room to spare.
 */
const LINGER_MS = 5

/**
 * Runs `renew` (false: it failed) every eighth of a lease, again min(50 ms, lease/20) after a failure instead of a
 * renewal period later, and at once when the connection becomes ready (again): see "Riding out an outage" above.
 * One fiber, so one renewal call at a time; a "ready" during a call makes the next one start at once.
 */
const renewing = (redis: Redis, renew: Effect.Effect<boolean>, leaseMs: number): Effect.Effect<never> =>
  Effect.suspend(() => {
    let wake: (() => void) | undefined
    let woken = false
    redis.on("ready", () => {
      woken = true
      wake?.()
    })
    const pause = (ms: number): Effect.Effect<void> =>
      Effect.race(
        Effect.sleep(ms),
        Effect.async<void>((resume) => {
          if (woken) return resume(Effect.void)
          wake = () => resume(Effect.void)
          return Effect.sync(() => {
            wake = undefined
          })
        })
      )
    return Effect.forever(
      Effect.flatMap(Effect.zipRight(Effect.sync(() => woken = false), renew), (ok) =>
        pause(ok ? leaseMs / 8 : Math.min(50, leaseMs / 20)))
    )
  })

/**
 * The leases of one scheduler: the one owner of `held` (see "A lease's life" above). The hot path — a task
 * releasing, the next one taking that lease over — makes no call and allocates a permit and a `Held` only.
 */
class Leases {
  /** Every lease this scheduler has in Redis, by id: held by a task, or idle in `handoff` (its revoke a no-op). */
  private readonly held = new Map<string, Held>()
  /** The pause as this scheduler knows it (see pause.ts). */
  private readonly pause = new Pause()
  private readonly handoff = new Handoff((ids) => this.releaseNow(ids), LINGER_MS, this.pause)
  private readonly waiters: Waiters
  private readonly redis: LeaseRedis
  /** The adaptive cap, told of releases and overloads; undefined when the cap is `max`. */
  private readonly shared: SharedCap | undefined
  /** The adaptive cap's initial value as the scripts take it ('': none). */
  private readonly initial: number | ""
  /** This scheduler's name in Redis (in the waiting set, and in its "wanted" messages), and its ids' start. */
  private readonly prefix = `${processId}:${Math.random().toString(36).slice(2, 8)}:`
  private counter = 0

  constructor(
    private readonly o: LeaseOptions,
    private readonly main: Client,
    subscriber: Client,
    private readonly runtime: Runtime.Runtime<never>
  ) {
    this.redis = define(main.redis)
    this.waiters = new Waiters(o.max, o.leaseMs)
    const adaptive = o.adaptive
    this.initial = adaptive?.initial ?? ""
    this.shared = adaptive === undefined
      ? undefined
      : new SharedCap({ ...o, adaptive }, main.redis, main.ready, runtime, () => this.handoff.heard(true))
    this.listen(subscriber)
  }

  /** A lease handed over by an earlier task of this scheduler if there is one (no call), else a new one. */
  readonly acquire = (revoke: Revoke): Effect.Effect<GroupLimit.Permit, GroupLimit.GroupLimitUnavailable> =>
    Effect.flatMap(monotonicMillis, (now) => {
      const permit = this.handedOver(revoke, now)
      return permit === undefined ? this.ask(revoke) : Effect.succeed(permit)
    })

  /** Renews every lease held here; false if the call failed. */
  readonly renew: Effect.Effect<boolean> = Effect.suspend(() => {
    if (this.held.size === 0) return Effect.succeed(true)
    const ids = [...this.held.keys()]
    const o = this.o
    const answer = Effect.either(this.call("when renewing leases", () =>
      this.redis.toolfanRenew(o.key, o.marker, o.recovering, o.waiting, o.paused, o.cap, o.leaseMs, o.max, this.initial, this.prefix, ...ids)
    ))
    return Effect.map(answer, (a) => {
      if (a._tag === "Left") return false
      this.renewed(ids, ...a.right)
      return true
    })
  })

  // a lease not renewed for half the lease time is given up. Checked on its own schedule, every eighth of a lease,
  // not after each renewal: a renewal call can hang for up to twice the timeout (Redis silent, connection open),
  // and the check must not wait for it, or the lease could expire in Redis while its holder still runs
  readonly check: Effect.Effect<void> = Effect.map(monotonicMillis, (now) => this.giveUpUnrenewed(now))

  /**
   * An attempt here failed as overloaded, told to wait `waitMs` (0: no wait): a shared adaptive cap goes down; a
   * wait pauses here at once (no handoffs), and in Redis for every process (not awaited). Never throws: a failed call
   * is logged, and the pause stays this process's own.
   */
  readonly overloaded = (waitMs: number, attemptMs?: number): void => {
    // any overload lowers a shared adaptive cap; only a wait pauses
    this.shared?.overloaded(attemptMs ?? 0)
    const ms = pauseMillis(waitMs)
    if (ms === undefined) return
    this.paused(ms)
    const o = this.o
    const call = Effect.matchCauseEffect(this.call("when pausing", () => this.redis.toolfanPause(o.paused, o.channel, ms)), {
      onSuccess: ([, left]) => Effect.sync(() => this.paused(left)),
      onFailure: (cause) => Effect.logWarning(`toolfan: ${o.description} could not share a pause of ${ms} ms`, cause)
    })
    Runtime.runFork(this.runtime, call)
  }

  /** No more handoffs; every lease held here, idle ones included, released in one call. */
  close(): Promise<void> {
    this.handoff.close()
    const ids = [...this.held.keys()]
    return ids.length === 0 ? Promise.resolve() : this.redis.toolfanRelease(this.o.key, this.o.channel, ...ids).then(noop, noop)
  }

  /**
   * "1": a lease was released (or the adaptive cap grew); "w" and a scheduler: that scheduler started waiting, "c", a cap,
   * ":" and the decrease's name: the adaptive cap went down (either way, no more handoffs here until an answer says otherwise).
   */
  private listen(subscriber: Client): void {
    subscriber.redis.on("message", (_channel: string, message: string) => {
      if (message === "1") this.waiters.released()
      else if (message.startsWith("p")) this.paused(Number(message.slice(1)))
      else if (message.startsWith("c")) this.lowered(message.split(":")[1])
      else if (message !== `w${this.prefix}`) this.handoff.heard(true)
    })
    // no offline queue: subscribe whenever the connection is (again) ready; after a reconnect, releases may have
    // been missed, so every waiter tries again at once
    subscriber.redis.on("ready", () => {
      subscriber.redis.subscribe(this.o.channel).catch(noop)
      this.waiters.wakeAll()
    })
  }

  /** The adaptive cap went down (the message; this process's own decreases too): no handoffs for now (see adaptive.ts). */
  private lowered(decrease: string | undefined): void {
    this.handoff.heard(true)
    this.shared?.heardLowered(decrease)
  }

  /** Asks Redis for a new lease, until granted, or until a lease of this scheduler is handed over meanwhile. */
  private ask(revoke: Revoke): Effect.Effect<GroupLimit.Permit, GroupLimit.GroupLimitUnavailable> {
    return Effect.suspend(() => {
      const id = this.prefix + (++this.counter).toString(36)
      let asked = false
      let unanswered = false
      const send = Effect.tapError(
        this.call("when asked for a slot", () => {
          asked = true
          return this.sendAcquire(id)
        }),
        () => Effect.sync(() => unanswered = true)
      )
      const attempt: Effect.Effect<GroupLimit.Permit, GroupLimit.GroupLimitUnavailable> = Effect.flatMap(
        send,
        ([sentAt, r]) => {
          seenMarkers.add(this.o.marker)
          if (r >= 0) return Effect.zipRight(this.waiters.sleep(r), again)
          if (r <= -3) {
            this.paused(-2 - r)
            return again
          }
          this.handoff.heard(r === -2)
          return Effect.succeed(this.grant(id, sentAt + this.o.leaseMs, revoke))
        }
      )
      // woken by a release here: take that lease; a call for `id` that went unanswered may have been granted.
      // Paused: sleep it out first (a release does not end it), then ask
      const again: Effect.Effect<GroupLimit.Permit, GroupLimit.GroupLimitUnavailable> = Effect.flatMap(monotonicMillis, (now) => {
        const left = this.pause.left()
        if (left > 0) return Effect.zipRight(Effect.sleep(Math.ceil(left)), again)
        const permit = this.handedOver(revoke, now)
        if (permit === undefined) return attempt
        if (unanswered) this.releaseNow([id])
        return Effect.succeed(permit)
      })
      // an error reply (e.g. the key holds another type) will not go away by asking again
      const patient = this.o.onUnavailable === "wait"
        ? Effect.retry(again, { schedule: reconnecting, while: (e) => !refused(e.cause) })
        : again
      // given up (interrupted or failed): a lease the script may have added is released
      return Effect.onExit(patient, (exit) =>
        exit._tag === "Failure" && asked ? Effect.sync(() => this.releaseNow([id])) : Effect.void)
    })
  }

  private sendAcquire(id: string): Promise<number> {
    const o = this.o
    const seen = seenMarkers.has(o.marker) ? 1 : 0
    return this.redis.toolfanAcquire(
      o.key, o.marker, o.recovering, o.waiting, o.channel, o.paused, o.cap, id, o.max, o.leaseMs, seen, this.prefix, this.initial
    )
  }

  private grant(id: string, validUntil: number, revoke: Revoke): GroupLimit.Permit {
    const mine: Held = { validUntil, revoke }
    this.held.set(id, mine)
    return { release: () => this.release(id, mine) }
  }

  /** A lease of this scheduler that no task uses, taken over (see handoff.ts); one too old to keep is released. */
  private handedOver(revoke: Revoke, now: number): GroupLimit.Permit | undefined {
    for (let id = this.handoff.take(); id !== undefined; id = this.handoff.take()) {
      const h = this.held.get(id)
      if (h === undefined) continue // given up meanwhile
      if (h.validUntil - now >= this.o.leaseMs / 2) return this.grant(id, h.validUntil, revoke)
      this.releaseNow([id])
    }
    return undefined
  }

  /** A task gives its lease back: kept for the next task here unless others wait (see handoff.ts). */
  private release(id: string, mine: Held): void {
    const current = this.held.get(id)
    if (current !== mine) {
      // given up meanwhile (revoked): make sure Redis drops it too
      if (current === undefined) this.releaseNow([id])
      return
    }
    this.held.set(id, { validUntil: mine.validUntil, revoke: noop })
    this.shared?.released()
    if (this.handoff.put(id)) this.waiters.wakeOne()
  }

  /** Releases leases in Redis, not awaited. */
  private releaseNow(ids: ReadonlyArray<string>): void {
    for (const id of ids) this.held.delete(id)
    this.main.ready().then(() => this.redis.toolfanRelease(this.o.key, this.o.channel, ...ids)).catch(noop)
  }

  /** Paused for `ms` more (heard from Redis or a task here): no handoffs until then, idle leases released now. */
  private paused(ms: number): void {
    if (ms > 0 && this.pause.extend(ms)) this.handoff.paused()
  }

  /**
   * A renewal's answer: whether others wait, the pause left, the leases others took meanwhile (given up); the rest
   * last a lease more.
   */
  private renewed(
    ids: ReadonlyArray<string>,
    sentAt: number,
    [others, paused, ...lost]: readonly [number, number, ...Array<string>]
  ): void {
    this.handoff.heard(others > 0)
    this.paused(paused)
    const gone = new Set(lost)
    for (const id of ids) {
      const h = this.held.get(id)
      if (h === undefined) continue
      if (gone.has(id)) {
        this.held.delete(id)
        h.revoke(this.unavailable("its lease was taken by others while it could not be renewed"))
      } else {
        h.validUntil = sentAt + this.o.leaseMs
      }
    }
  }

  private giveUpUnrenewed(now: number): void {
    for (const [id, h] of this.held) {
      if (h.validUntil - now < this.o.leaseMs / 2) {
        this.held.delete(id)
        h.revoke(this.unavailable(`its lease could not be renewed for ${Math.round(this.o.leaseMs / 2)} ms`, this.main.lastError))
      }
    }
  }

  /**
   * Waits for the connection, reads the clock, then sends: the reading (returned with the answer) is before Redis
   * runs the script, so a lease counted from it ends no later than in Redis — and no earlier than needed, which a
   * reading taken before waiting for a reconnect would make it.
   */
  private call<A>(what: string, f: () => Promise<A>): Effect.Effect<readonly [number, A], GroupLimit.GroupLimitUnavailable> {
    return Effect.zipRight(
      Effect.tryPromise({ try: () => this.main.ready(), catch: this.failed(what) }),
      Effect.flatMap(monotonicMillis, (sentAt) =>
        Effect.map(Effect.tryPromise({ try: f, catch: this.failed(what) }), (a) => [sentAt, a] as const))
    )
  }

  private failed(what: string): (cause: unknown) => GroupLimit.GroupLimitUnavailable {
    return (cause) =>
      refused(cause)
        ? this.unavailable(`redis refused the command ${what}: ${(cause as Error).message}`, cause)
        : this.unavailable(`redis did not answer ${what} within ${this.o.timeoutMs} ms`, cause)
  }

  private unavailable(reason: string, cause?: unknown): GroupLimit.GroupLimitUnavailable {
    return new GroupLimit.GroupLimitUnavailable({
      limit: this.o.description,
      reason,
      ...(cause === undefined ? {} : { cause })
    })
  }
}

/** Starts the shared cap for one scheduler: two connections, the renewal fiber and the give-up check. @internal */
export const start = (o: LeaseOptions): Effect.Effect<GroupLimit.Limiter, never, Scope.Scope> =>
  Effect.gen(function*() {
    // reconnecting at least every sixteenth of a lease: see "Riding out an outage" above
    const reconnectMs = Math.min(1000, o.leaseMs / 16)
    const main: Client = yield* client(o.connection, o.timeoutMs, reconnectMs)
    const subscriber: Client = yield* client(o.connection, o.timeoutMs, reconnectMs)
    const leases = new Leases(o, main, subscriber, yield* Effect.runtime<never>())
    yield* Effect.forkScoped(renewing(main.redis, leases.renew, o.leaseMs))
    yield* Effect.forkScoped(Effect.repeat(leases.check, Schedule.spaced(o.leaseMs / 8)))
    yield* Effect.addFinalizer(() => Effect.promise(() => leases.close()).pipe(Effect.timeout(o.timeoutMs), Effect.ignore))
    return { acquire: leases.acquire, overloaded: leases.overloaded }
  })
