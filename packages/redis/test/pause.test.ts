import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import { GroupLimit, Overload, Scheduler, Task } from "toolfan"
import { RedisLimit } from "../src/index.js"
import { Recorder } from "./recorder.js"
import { available, freePort, redisForTests } from "./server.js"

// Real time against a real redis-server: integration tests (it.live). Only lower bounds and order are asserted on
// times, never how short something was.

describe.skipIf(!available)("RedisLimit.concurrency pauses", () => {
  const redis = redisForTests()
  let n = 0
  const freshKey = () => `p${++n}`
  const limit = (key: string, max = 4) => RedisLimit.concurrency({ key, max, redis: redis.server.url })
  const pauseKey = (key: string) => `toolfan:concurrency:{${key}}:paused`
  const noRevoke = () => {}
  /** Waits (polling the test's own client) until the pause is recorded in Redis. */
  const recorded = (key: string) =>
    Effect.promise(async () => {
      for (let i = 0; i < 200 && (await redis.admin.exists(pauseKey(key))) === 0; i++) await new Promise((r) => setTimeout(r, 5))
    })
  const scriptCalls = async (): Promise<number> => {
    const stats = await redis.admin.info("commandstats")
    return [...stats.matchAll(/^cmdstat_eval(?:sha)?:calls=(\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0)
  }

  it.live("overloaded() - a wait told to a task of one scheduler holds back the tasks another scheduler queues after it", () =>
    Effect.gen(function*() {
      const key = freshKey()
      const rec = new Recorder()
      const a = yield* Scheduler.make({ groups: { search: limit(key) } })
      const b = yield* Scheduler.make({ groups: { search: limit(key) } })
      yield* b.run([rec.task("warm", 0)]) // b connected, its scripts loaded: it would start the next task at once
      // its idle lease's linger (5 ms) is over: its next task asks Redis (a lease still held would be handed over
      // until the pause's message arrives, tested below)
      yield* Effect.sleep(20)
      const refused = Task.make("refused", Effect.fail(new Overload.Overloaded({ retryAfterMs: 300 })), { group: "search" })
      const t0 = performance.now()
      const [r] = yield* a.run([refused])
      expect(r!.ok).toBe(false)
      yield* recorded(key)
      const results = yield* b.run([rec.task("b", 0)])
      expect(results[0]!.ok).toBe(true)
      expect(rec.span("b").start - t0).toBeGreaterThanOrEqual(280)
    }).pipe(Effect.scoped))

  it.live("overloaded() - a shorter wait does not shorten a longer pause", () =>
    Effect.gen(function*() {
      const key = freshKey()
      const one = yield* limit(key).start
      const two = yield* limit(key).start
      const t0 = performance.now()
      one.overloaded!(600, 0)
      yield* recorded(key)
      two.overloaded!(50, 0)
      yield* Effect.sleep(100)
      expect(yield* Effect.promise(() => redis.admin.pttl(pauseKey(key)))).toBeGreaterThan(300)
      // `two` heard of the longer pause (the message, or its answer): its own request waits it out too
      yield* two.acquire(noRevoke, 1)
      expect(performance.now() - t0).toBeGreaterThanOrEqual(580)
    }).pipe(Effect.scoped))

  it.live("acquire() - a pause in Redis holds back a scheduler that did not hear of it, for the time Redis says", () =>
    Effect.gen(function*() {
      const key = freshKey()
      const one = yield* limit(key).start
      ;(yield* one.acquire(noRevoke, 1)).release() // connected, scripts loaded
      // as if set by a process whose message was missed: only the acquire script's answer tells of it
      const t0 = performance.now()
      yield* Effect.promise(() => redis.admin.set(pauseKey(key), "0", "PX", 300))
      yield* Effect.sleep(20) // the idle lease's linger is over: the next request asks Redis
      yield* one.acquire(noRevoke, 1)
      expect(performance.now() - t0).toBeGreaterThanOrEqual(280)
    }).pipe(Effect.scoped))

  it.live("acquire() - once the pause has expired, a request is granted at once, with one script call", () =>
    Effect.gen(function*() {
      const key = freshKey()
      const one = yield* limit(key).start
      one.overloaded!(100, 0)
      yield* recorded(key)
      yield* Effect.sleep(150)
      expect(yield* Effect.promise(() => redis.admin.exists(pauseKey(key)))).toBe(0)
      yield* Effect.promise(() => redis.admin.config("RESETSTAT"))
      const permit = yield* one.acquire(noRevoke, 1).pipe(Effect.timeout("2 seconds"))
      permit.release()
      expect(yield* Effect.promise(scriptCalls)).toBe(1)
    }).pipe(Effect.scoped))

  it.live("acquire() - an idle lease is not handed to the scheduler's next task while its own task's pause lasts", () =>
    Effect.gen(function*() {
      const key = freshKey()
      const one = yield* limit(key, 1).start
      ;(yield* one.acquire(noRevoke, 1)).release() // idle: the next request would take it over without a call
      const t0 = performance.now()
      one.overloaded!(300, 0)
      yield* one.acquire(noRevoke, 1)
      expect(performance.now() - t0).toBeGreaterThanOrEqual(280)
    }).pipe(Effect.scoped))

  it.live("acquire() - a scheduler that heard of another's pause on the channel stops its handoffs", () =>
    Effect.gen(function*() {
      const key = freshKey()
      const one = yield* limit(key, 1).start
      const other = yield* limit(key, 1).start
      const held = yield* one.acquire(noRevoke, 1)
      const t0 = performance.now()
      other.overloaded!(300, 0)
      yield* recorded(key)
      yield* Effect.sleep(100) // the message reaches `one` (a loaded machine may take tens of ms); the pause lasts 300
      held.release() // without the pause: idle, and the next request here would take it over at once
      yield* one.acquire(noRevoke, 1)
      expect(performance.now() - t0).toBeGreaterThanOrEqual(280)
    }).pipe(Effect.scoped))

  it.live("overloaded() - never throws when Redis cannot be reached; the failure is logged", () =>
    Effect.gen(function*() {
      const logs: Array<string> = []
      const port = yield* Effect.promise(freePort) // nothing listens there
      const limiter = yield* RedisLimit.concurrency({ key: freshKey(), max: 1, redis: `redis://127.0.0.1:${port}`, timeout: 100 }).start.pipe(
        Effect.provide(Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => logs.push(String(message)))))
      )
      expect(() => limiter.overloaded!(100, 0)).not.toThrow()
      yield* Effect.sleep(300)
      expect(logs).toEqual([expect.stringContaining("could not share a pause of 100 ms")])
      const refused = yield* Effect.either(limiter.acquire(noRevoke, 1))
      expect(refused._tag === "Left" && GroupLimit.isGroupLimitUnavailable(refused.left)).toBe(true)
    }).pipe(Effect.scoped))
})
