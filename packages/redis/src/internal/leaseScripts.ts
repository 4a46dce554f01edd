/**
 * What runs in Redis for a shared concurrency cap: the four Lua scripts
 * (acquire, renew, release, pause; the adaptive cap's are adaptive.ts's) and the typed ioredis commands that send them.
 * This module owns the keys' layout (which KEYS and ARGV each script takes)
 * and the encoding of the answers; when to call them, and what the answers
 * do to the leases this process holds, is lease.ts's. Why the scripts work
 * the way they do: the header of lease.ts (and handoff.ts for the waiting
 * schedulers).
 */
import type { Redis } from "ioredis"
import { CAP_OF, EXTEND } from "./adaptive.js"

// KEYS: the leases, the marker (exists while Redis keeps its data), the
// recovery flag (set for a lease time after Redis lost its data), the waiting
// schedulers, the channel, the pause (see pause.ts), the adaptive cap (see
// adaptive.ts). ARGV: id, max, lease time, seen, the scheduler, the adaptive
// cap's initial value ('': none, `max` is the cap). While paused, returns
// -2 - the pause left (≤ -3).
// The set's expiry is only ever extended: processes sharing a key may use
// different lease times, and a shorter one must not cut the others' leases
// short. Returns how long to wait (≥ 0), or -1 (granted) / -2 (granted, and
// other schedulers wait, or the leases exceed the cap: no handoffs, see
// handoff.ts and adaptive.ts). Waiters first: a
// scheduler that is not waiting yet gets a slot only if one is left for each
// scheduler that waits; else it waits too (50 ms at most if slots are free:
// a waiter that gave up leaves its entry until it expires, half a lease).
const ACQUIRE = `${CAP_OF}
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
local paused = redis.call('PTTL', KEYS[6])
if paused > 0 then
  return -2 - paused
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
local waiting = redis.call('ZSCORE', KEYS[4], ARGV[5])
local others = redis.call('ZCARD', KEYS[4])
if waiting then
  others = others - 1
end
local room = capOf(KEYS[7], tonumber(ARGV[2]), ARGV[6]) - redis.call('ZCARD', KEYS[1])
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or room > (waiting and 0 or others) then
  redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
  if redis.call('PTTL', KEYS[1]) < ttl then
    redis.call('PEXPIRE', KEYS[1], ttl)
  end
  redis.call('ZREM', KEYS[4], ARGV[5])
  if others > 0 or room < 0 then
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

// KEYS: the leases, the marker, the recovery flag, the waiting schedulers, the pause, the adaptive cap. ARGV: lease
// time, max, the adaptive cap's initial value ('': none), the scheduler, the ids. Returns how many other schedulers
// wait (one more while the leases exceed the cap: no handoffs either way), the pause left (ms, ≤ 0: none), then the
// ids that could not be renewed. Keeps the adaptive cap as long as the leases.
const RENEW = `${CAP_OF}${EXTEND}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
local max = capOf(KEYS[6], tonumber(ARGV[2]), ARGV[3])
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('SET', KEYS[2], '1')
  redis.call('SET', KEYS[3], '1', 'PX', ttl)
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local lost = {}
for i = 5, #ARGV do
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
if redis.call('ZSCORE', KEYS[4], ARGV[4]) then
  others = others - 1
end
if redis.call('ZCARD', KEYS[1]) > max then
  others = others + 1
end
if ARGV[3] ~= '' then
  extend(KEYS[6], ttl)
end
table.insert(lost, 1, redis.call('PTTL', KEYS[5]))
table.insert(lost, 1, others)
return lost
`

// KEYS: the pause, the channel. ARGV: the wait (whole ms ≥ 1). Pauses every process until the later of the pause
// there is and now + the wait (the key's value: that end, by Redis's clock; it expires then); publishes the new
// length when it grew. Returns the pause left.
const PAUSE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local wait = tonumber(ARGV[1])
local left = redis.call('PTTL', KEYS[1])
if left >= wait then
  return left
end
redis.call('SET', KEYS[1], now + wait, 'PX', wait)
redis.call('PUBLISH', KEYS[2], 'p' .. wait)
return wait
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

/** @internal */
export interface LeaseCommands {
  toolfanAcquire(
    key: string,
    marker: string,
    recovering: string,
    waiting: string,
    channel: string,
    paused: string,
    cap: string,
    id: string,
    max: number,
    ttl: number,
    seen: 0 | 1,
    self: string,
    initial: number | ""
  ): Promise<number>
  toolfanRenew(
    key: string,
    marker: string,
    recovering: string,
    waiting: string,
    paused: string,
    cap: string,
    ttl: number,
    max: number,
    initial: number | "",
    self: string,
    ...ids: Array<string>
  ): Promise<[number, number, ...Array<string>]>
  toolfanRelease(key: string, channel: string, ...ids: Array<string>): Promise<number>
  toolfanPause(paused: string, channel: string, waitMs: number): Promise<number>
}

/** A connection with the lease scripts defined on it. @internal */
export type LeaseRedis = Redis & LeaseCommands

/** Defines the lease scripts on `redis` as commands (ioredis sends each by its SHA, the whole script when Redis lacks it). @internal */
export const define = (redis: Redis): LeaseRedis => {
  redis.defineCommand("toolfanAcquire", { numberOfKeys: 7, lua: ACQUIRE })
  redis.defineCommand("toolfanRenew", { numberOfKeys: 6, lua: RENEW })
  redis.defineCommand("toolfanRelease", { numberOfKeys: 2, lua: RELEASE })
  redis.defineCommand("toolfanPause", { numberOfKeys: 2, lua: PAUSE })
  return redis as LeaseRedis
}
