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
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import type { Redis } from "ioredis"
import { GroupLimit } from "toolfan"
import { type Client, client, reconnecting, refused } from "./connection.js"
import { Handoff } from "./handoff.js"
import type { Connection } from "./options.js"

/**
 * Milliseconds on Effect's monotonic clock reading (`currentTimeNanos`): a
 * lease's local bookkeeping counts intervals, which a step of the system
 * clock (NTP, resume from sleep) must not stretch or cut. Redis keeps its own
 * time (`TIME`) for the leases themselves.
 */
const monotonicMillis = Effect.map(Clock.currentTimeNanos, (nanos) => Math.floor(Number(nanos) / 1e6))

// KEYS: the leases, the marker (exists while Redis keeps its data), the
// recovery flag (set for a lease time after Redis lost its data), the waiting
// schedulers, the channel. ARGV: id, max, lease time, seen, the scheduler.
// The set's expiry is only ever extended: processes sharing a key may use
// different lease times, and a shorter one must not cut the others' leases
// short. Returns how long to wait (≥ 0), or -1 (granted) / -2 (granted, and
// other schedulers wait: no handoffs, see handoff.ts). Waiters first: a
// scheduler that is not waiting yet gets a slot only if one is left for each
// scheduler that waits; else it waits too (50 ms at most if slots are free:
// a waiter that gave up leaves its entry until it expires, half a lease).
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[3])
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('SET', KEYS[2], '1')
  if ARGV[4] == '1' then
    redis.call('SET', KEYS[3], '1', 'PX', ttl)
  end
end
local recovering = redis.call('PTTL', KEYS[3])
if recovering > 0 then
  return recovering
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
local waiting = redis.call('ZSCORE', KEYS[4], ARGV[5])
local others = redis.call('ZCARD', KEYS[4])
if waiting then
  others = others - 1
end
local room = tonumber(ARGV[2]) - redis.call('ZCARD', KEYS[1])
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or room > (waiting and 0 or others) then
  redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
  if redis.call('PTTL', KEYS[1]) < ttl then
    redis.call('PEXPIRE', KEYS[1], ttl)
  end
  redis.call('ZREM', KEYS[4], ARGV[5])
  if others > 0 then
    return -2
  end
  return -1
end
if redis.call('ZADD', KEYS[4], now + math.floor(ttl / 2), ARGV[5]) == 1 then
  redis.call('PUBLISH', KEYS[5], 'w' .. ARGV[5])
end
if redis.call('PTTL', KEYS[4]) < ttl then
  redis.call('PEXPIRE', KEYS[4], ttl)
end
if room > 0 then
  return math.min(50, math.floor(ttl / 4))
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tonumber(first[2]) - now
`

// KEYS: the leases, the marker, the recovery flag, the waiting schedulers. ARGV: lease time, max, the scheduler, the
// ids. Returns how many other schedulers wait, then the ids that could not be renewed.
const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
local max = tonumber(ARGV[2])
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('SET', KEYS[2], '1')
  redis.call('SET', KEYS[3], '1', 'PX', ttl)
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local lost = {}
for i = 4, #ARGV do
  local id = ARGV[i]
  if redis.call('ZSCORE', KEYS[1], id) or redis.call('ZCARD', KEYS[1]) < max then
    redis.call('ZADD', KEYS[1], now + ttl, id)
  else
    table.insert(lost, id)
  end
end
if redis.call('PTTL', KEYS[1]) < ttl then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
local others = redis.call('ZCARD', KEYS[4])
if redis.call('ZSCORE', KEYS[4], ARGV[3]) then
  others = others - 1
end
table.insert(lost, 1, others)
return lost
`

// ARGV: the ids; one message per lease that was still there.
const RELEASE = `
for i = 1, #ARGV do
  if redis.call('ZREM', KEYS[1], ARGV[i]) == 1 then
    redis.call('PUBLISH', KEYS[2], '1')
  end
end
return 0
`

interface LeaseCommands {
  toolfanAcquire(
    key: string,
    marker: string,
    recovering: string,
    waiting: string,
    channel: string,
    id: string,
    max: number,
    ttl: number,
    seen: 0 | 1,
    self: string
  ): Promise<number>
  toolfanRenew(
    key: string,
    marker: string,
    recovering: string,
    waiting: string,
    ttl: number,
    max: number,
    self: string,
    ...ids: Array<string>
  ): Promise<[number, ...Array<string>]>
  toolfanRelease(key: string, channel: string, ...ids: Array<string>): Promise<number>
}

const define = (redis: Redis): Redis & LeaseCommands => {
  redis.defineCommand("toolfanAcquire", { numberOfKeys: 5, lua: ACQUIRE })
  redis.defineCommand("toolfanRenew", { numberOfKeys: 4, lua: RENEW })
  redis.defineCommand("toolfanRelease", { numberOfKeys: 2, lua: RELEASE })
  return redis as Redis & LeaseCommands
}

/** @internal */
export interface LeaseOptions {
  readonly description: string
  readonly connection: Connection
  readonly key: string
  readonly marker: string
  readonly recovering: string
  readonly waiting: string
  readonly channel: string
  readonly max: number
  readonly leaseMs: number
  readonly timeoutMs: number
  readonly onUnavailable: GroupLimit.OnUnavailable
}

interface Held {
  /** Local time until which the lease is surely still ours in Redis. */
  validUntil: number
  readonly revoke: (error: GroupLimit.GroupLimitUnavailable) => void
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

/** Starts the shared cap for one scheduler: two connections and the renewal fiber. @internal */
export const start = (o: LeaseOptions): Effect.Effect<GroupLimit.Limiter, never, Scope.Scope> =>
  Effect.gen(function*() {
    // reconnecting at least every sixteenth of a lease: see "Riding out an outage" above
    const reconnectMs = Math.min(1000, o.leaseMs / 16)
    const main: Client = yield* client(o.connection, o.timeoutMs, reconnectMs)
    const subscriber: Client = yield* client(o.connection, o.timeoutMs, reconnectMs)
    const redis = define(main.redis)
    const prefix = `${processId}:${Math.random().toString(36).slice(2, 8)}:`
    let counter = 0
    const held = new Map<string, Held>()
    const waiters: Array<() => void> = []
    let wakes = 0

    /** Releases leases in Redis, not awaited. */
    const releaseNow = (ids: ReadonlyArray<string>): void => {
      for (const id of ids) held.delete(id)
      main.ready().then(() => redis.toolfanRelease(o.key, o.channel, ...ids)).catch(noop)
    }
    const handoff = new Handoff(releaseNow, LINGER_MS)

    // "1": a lease was released; "w" and a scheduler: that scheduler started waiting (no more handoffs here)
    subscriber.redis.on("message", (_channel: string, message: string) => {
      if (message !== "1") {
        if (message !== `w${prefix}`) handoff.heard(true)
        return
      }
      const waiter = waiters.shift()
      if (waiter !== undefined) waiter()
      else wakes = Math.min(wakes + 1, o.max) // a waiter between two tries takes it
    })
    // no offline queue: subscribe whenever the connection is (again) ready; after a reconnect, releases may have
    // been missed, so every waiter tries again at once
    subscriber.redis.on("ready", () => {
      subscriber.redis.subscribe(o.channel).catch(noop)
      for (const waiter of waiters.splice(0)) waiter()
    })

    const unavailable = (reason: string, cause?: unknown) =>
      new GroupLimit.GroupLimitUnavailable({
        limit: o.description,
        reason,
        ...(cause === undefined ? {} : { cause })
      })

    const failed = (what: string) => (cause: unknown) =>
      refused(cause)
        ? unavailable(`redis refused the command ${what}: ${(cause as Error).message}`, cause)
        : unavailable(`redis did not answer ${what} within ${o.timeoutMs} ms`, cause)

    /**
     * Waits for the connection, reads the clock, then sends: the reading (returned with the answer) is before Redis
     * runs the script, so a lease counted from it ends no later than in Redis — and no earlier than needed, which a
     * reading taken before waiting for a reconnect would make it.
     */
    const call = <A>(what: string, f: () => Promise<A>): Effect.Effect<readonly [number, A], GroupLimit.GroupLimitUnavailable> =>
      Effect.zipRight(
        Effect.tryPromise({ try: () => main.ready(), catch: failed(what) }),
        Effect.flatMap(monotonicMillis, (sentAt) =>
          Effect.map(Effect.tryPromise({ try: f, catch: failed(what) }), (a) => [sentAt, a] as const))
      )

    /** A task gives its lease back: kept for the next task here unless others wait (see handoff.ts). */
    const release = (id: string, mine: Held): void => {
      const current = held.get(id)
      if (current !== mine) {
        // given up meanwhile (revoked): make sure Redis drops it too
        if (current === undefined) releaseNow([id])
        return
      }
      held.set(id, { validUntil: mine.validUntil, revoke: noop })
      if (handoff.put(id)) waiters.shift()?.()
    }

    const grant = (id: string, validUntil: number, revoke: Held["revoke"]): GroupLimit.Permit => {
      const mine: Held = { validUntil, revoke }
      held.set(id, mine)
      return { release: () => release(id, mine) }
    }

    /** A lease of this scheduler that no task uses, taken over (see handoff.ts); one too old to keep is released. */
    const handedOver = (revoke: Held["revoke"], now: number): GroupLimit.Permit | undefined => {
      for (let id = handoff.take(); id !== undefined; id = handoff.take()) {
        const h = held.get(id)
        if (h === undefined) continue // given up meanwhile
        if (h.validUntil - now >= o.leaseMs / 2) return grant(id, h.validUntil, revoke)
        releaseNow([id])
      }
      return undefined
    }

    /** Sleeps until a slot is released here or elsewhere, or until `ms` passed. */
    const wait = (ms: number): Effect.Effect<void> =>
      Effect.race(
        // a missed message (reconnecting) costs at most a quarter lease
        Effect.sleep(Math.max(1, Math.min(ms, o.leaseMs / 4))),
        Effect.async<void>((resume) => {
          if (wakes > 0) {
            wakes--
            return resume(Effect.void)
          }
          const waiter = () => resume(Effect.void)
          waiters.push(waiter)
          return Effect.sync(() => {
            const i = waiters.indexOf(waiter)
            if (i >= 0) waiters.splice(i, 1)
          })
        })
      )

    /** Asks Redis for a new lease, until granted, or until a lease of this scheduler is handed over meanwhile. */
    const ask = (revoke: Held["revoke"]) =>
      Effect.suspend(() => {
        const id = prefix + (++counter).toString(36)
        let asked = false
        let unanswered = false
        const send = Effect.tapError(
          call("when asked for a slot", () => {
            asked = true
            const seen = seenMarkers.has(o.marker) ? 1 : 0
            return redis.toolfanAcquire(o.key, o.marker, o.recovering, o.waiting, o.channel, id, o.max, o.leaseMs, seen, prefix)
          }),
          () => Effect.sync(() => unanswered = true)
        )
        const attempt: Effect.Effect<GroupLimit.Permit, GroupLimit.GroupLimitUnavailable> = Effect.flatMap(
          send,
          ([sentAt, r]) => {
            seenMarkers.add(o.marker)
            if (r >= 0) return Effect.zipRight(wait(r), again)
            handoff.heard(r === -2)
            return Effect.succeed(grant(id, sentAt + o.leaseMs, revoke))
          }
        )
        // woken by a release here: take that lease; a call for `id` that went unanswered may have been granted
        const again = Effect.flatMap(monotonicMillis, (now) => {
          const permit = handedOver(revoke, now)
          if (permit === undefined) return attempt
          if (unanswered) releaseNow([id])
          return Effect.succeed(permit)
        })
        // an error reply (e.g. the key holds another type) will not go away by asking again
        const patient = o.onUnavailable === "wait"
          ? Effect.retry(again, { schedule: reconnecting, while: (e) => !refused(e.cause) })
          : attempt
        // given up (interrupted or failed): a lease the script may have added is released
        return Effect.onExit(patient, (exit) =>
          exit._tag === "Failure" && asked ? Effect.sync(() => releaseNow([id])) : Effect.void)
      })

    /** A lease handed over by an earlier task of this scheduler if there is one (no call), else a new one. */
    const acquire = (revoke: Held["revoke"]) =>
      Effect.flatMap(monotonicMillis, (now) => {
        const permit = handedOver(revoke, now)
        return permit === undefined ? ask(revoke) : Effect.succeed(permit)
      })

    /** Renews every lease held here; false if the call failed. */
    const renew = Effect.gen(function*() {
      if (held.size === 0) return true
      const ids = [...held.keys()]
      const answer = yield* Effect.either(call("when renewing leases", () =>
        redis.toolfanRenew(o.key, o.marker, o.recovering, o.waiting, o.leaseMs, o.max, prefix, ...ids)))
      if (answer._tag === "Left") return false
      const [sentAt, [others, ...lost]] = answer.right
      handoff.heard(others > 0)
      const gone = new Set(lost)
      for (const id of ids) {
        const h = held.get(id)
        if (h === undefined) continue
        if (gone.has(id)) {
          held.delete(id)
          h.revoke(unavailable("its lease was taken by others while it could not be renewed"))
        } else {
          h.validUntil = sentAt + o.leaseMs
        }
      }
      return true
    })
    // a lease not renewed for half the lease time is given up. Checked on its own schedule, every eighth of a lease,
    // not after each renewal: a renewal call can hang for up to twice the timeout (Redis silent, connection open),
    // and the check must not wait for it, or the lease could expire in Redis while its holder still runs
    const check = Effect.map(monotonicMillis, (now) => {
      for (const [id, h] of held) {
        if (h.validUntil - now < o.leaseMs / 2) {
          held.delete(id)
          h.revoke(unavailable(`its lease could not be renewed for ${Math.round(o.leaseMs / 2)} ms`, main.lastError))
        }
      }
    })
    yield* Effect.forkScoped(renewing(main.redis, renew, o.leaseMs))
    yield* Effect.forkScoped(Effect.repeat(check, Schedule.spaced(o.leaseMs / 8)))
    yield* Effect.addFinalizer(() =>
      Effect.promise(() => {
        // every lease held here, idle ones included, in one call
        handoff.close()
        const ids = [...held.keys()]
        return ids.length === 0 ? Promise.resolve() : redis.toolfanRelease(o.key, o.channel, ...ids).then(noop, noop)
      }).pipe(Effect.timeout(o.timeoutMs), Effect.ignore)
    )
    return { acquire }
  })
