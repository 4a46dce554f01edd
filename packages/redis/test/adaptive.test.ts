import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { Overload, Scheduler, Task } from "toolfan"
import { thrown } from "../../toolfan/test/utils.js"
import { RedisLimit } from "../src/index.js"
import { Recorder } from "./recorder.js"
import { available, redisForTests } from "./server.js"

// Real time against a real redis-server: integration tests (it.live). Only bounds and counts are asserted, never how
// short something was.

describe("RedisLimit.concurrency adaptive - options", () => {
  it("concurrency() - refuses an invalid adaptive option, naming it", () => {
    const bad = (adaptive: unknown) => thrown(() => RedisLimit.concurrency({ key: "s", max: 8, adaptive: adaptive as never }))
    expect(bad(3).option).toBe("adaptive")
    expect(bad({ min: 0 }).message).toBe("RedisLimit.concurrency: adaptive.min must be an integer ≥ 1, got 0 (number)")
    expect(bad({ min: 9 }).message).toBe("RedisLimit.concurrency: adaptive.min must be an integer from 1 to max (8), got 9 (number)")
    expect(bad({ min: 2, initial: 1 }).message).toBe(
      "RedisLimit.concurrency: adaptive.initial must be an integer ≥ 2, got 1 (number)"
    )
    expect(bad({ initial: 9 }).message).toBe(
      "RedisLimit.concurrency: adaptive.initial must be an integer from adaptive.min (1) to max (8), got 9 (number)"
    )
    expect(bad({ initial: 2.5 }).option).toBe("adaptive.initial")
    expect(bad({ mim: 1 }).option).toBe("adaptive.mim")
    expect(thrown(() => RedisLimit.currentCap({ key: "s", max: 8, adaptive: { min: 0 } })).option).toBe("adaptive.min")
  })

  it("concurrency() - the description says the cap adapts", () => {
    expect(RedisLimit.concurrency({ key: "s", max: 8, adaptive: { initial: 4 } }).description).toBe(
      "redis concurrency \"s\" (max 8, adaptive from 4, min 1)"
    )
    expect(RedisLimit.concurrency({ key: "s", max: 8, adaptive: {} }).description).toBe(
      "redis concurrency \"s\" (max 8, adaptive from 8, min 1)"
    )
  })
})

describe.skipIf(!available)("RedisLimit.concurrency adaptive", () => {
  const redis = redisForTests()
  let n = 0
  const freshKey = () => `a${++n}`
  const options = (key: string) => ({ key, max: 8, adaptive: { initial: 8, min: 1 }, redis: redis.server.url })
  const cap = (key: string) => RedisLimit.currentCap(options(key))
  /** Polls the cap in Redis until `until` holds (or about 2 s passed); returns the last reading. */
  const capWhen = (key: string, until: (c: number) => boolean) =>
    Effect.gen(function*() {
      let c = yield* cap(key)
      for (let i = 0; i < 200 && !until(c); i++) {
        yield* Effect.sleep(10)
        c = yield* cap(key)
      }
      return c
    })
  const overloaded = Task.make("refused", Effect.fail(new Overload.Overloaded({ retryAfterMs: 50 })), { group: "search" })

  it.live("overloaded() - halves the cap in Redis; another scheduler on the key runs no more attempts than that", () =>
    Effect.gen(function*() {
      const key = freshKey()
      const rec = new Recorder()
      const a = yield* Scheduler.make({ groups: { search: RedisLimit.concurrency(options(key)) } })
      const b = yield* Scheduler.make({ groups: { search: RedisLimit.concurrency(options(key)) } })
      expect(yield* cap(key)).toBe(8)
      const [r] = yield* a.run([overloaded])
      expect(r!.ok).toBe(false)
      expect(yield* capWhen(key, (c) => c < 8)).toBe(4)
      // 8 attempts across both: 4 releases take the cap to 4.92 only, so at most 4 run at once
      const tasks = (p: string) => Array.from({ length: 4 }, (_, i) => rec.task(`${p}${i}`, 150))
      yield* Effect.all([a.run(tasks("a")), b.run(tasks("b"))], { concurrency: 2 })
      expect(rec.peak).toBeLessThanOrEqual(4)
      expect(rec.peak).toBeGreaterThanOrEqual(2)
      expect(rec.spans).toHaveLength(8)
    }).pipe(Effect.scoped))

  it.live("overloaded() - an overload without a wait lowers the shared cap too (and pauses nothing)", () =>
    Effect.gen(function*() {
      const key = freshKey()
      const s = yield* Scheduler.make({ groups: { search: RedisLimit.concurrency(options(key)) } })
      const [r] = yield* s.run([Task.make("refused", Effect.fail(new Overload.Overloaded({})), { group: "search" })])
      expect(r!.ok).toBe(false)
      expect(yield* capWhen(key, (c) => c < 8)).toBe(4)
      // no pause: a task right after starts at once
      const started = Date.now()
      const [ok] = yield* s.run([Task.make("next", Effect.succeed(1), { group: "search" })])
      expect(ok!.ok).toBe(true)
      expect(Date.now() - started).toBeLessThan(1_000)
    }).pipe(Effect.scoped))

  it.live("overloaded() - once per decrease: an attempt sent under the old cap does not halve it again, one sent after does", () =>
    Effect.gen(function*() {
      const key = freshKey()
      const limiter = yield* RedisLimit.concurrency(options(key)).start
      limiter.overloaded!(20, 0)
      expect(yield* capWhen(key, (c) => c < 8)).toBe(4)
      yield* Effect.sleep(5)
      // started 1 s ago: before this process heard of the decrease
      limiter.overloaded!(20, 1_000)
      yield* Effect.sleep(100)
      expect(yield* cap(key)).toBe(4)
      // started just now: under the cap of 4, refused — at once, not a renewal later
      limiter.overloaded!(20, 0)
      expect(yield* capWhen(key, (c) => c < 4)).toBe(2)
    }).pipe(Effect.scoped))

  it.live("overloaded() - a decrease by another process since this one last heard is not doubled", () =>
    Effect.gen(function*() {
      const key = freshKey()
      const one = yield* RedisLimit.concurrency(options(key)).start
      const other = yield* RedisLimit.concurrency(options(key)).start
      one.overloaded!(20, 0)
      other.overloaded!(20, 0) // sent at once: it has not heard of the first decrease yet
      yield* Effect.sleep(100)
      expect(yield* cap(key)).toBe(4)
      const g = yield* Effect.promise(() => redis.admin.hget(`toolfan:concurrency:{${key}}:cap`, "g"))
      expect(g).toMatch(/^\d+$/) // the decrease's name: Redis's time of it, in µs
    }).pipe(Effect.scoped))

  it.live("overloaded() - a cap forgotten (its hash expired) goes down again, and on from there", () =>
    Effect.gen(function*() {
      const key = freshKey()
      const one = yield* RedisLimit.concurrency(options(key)).start
      one.overloaded!(1, 0)
      expect(yield* capWhen(key, (c) => c < 8)).toBe(4)
      // forgotten, as after a lease time unused: `one` last heard of a decrease that no longer exists, which must
      // not make its next overloads stale for ever
      yield* Effect.promise(() => redis.admin.del(`toolfan:concurrency:{${key}}:cap`))
      yield* Effect.sleep(5)
      one.overloaded!(1, 0)
      expect(yield* capWhen(key, (c) => c < 8)).toBe(4)
      yield* Effect.sleep(20)
      one.overloaded!(1, 0)
      expect(yield* capWhen(key, (c) => c < 4)).toBe(2)
    }).pipe(Effect.scoped))

  it.live("overloaded() - never below min", () =>
    Effect.gen(function*() {
      const key = freshKey()
      const o = { key, max: 8, adaptive: { min: 3 }, redis: redis.server.url }
      const limiter = yield* RedisLimit.concurrency(o).start
      limiter.overloaded!(5, 0)
      yield* Effect.sleep(60)
      expect(yield* RedisLimit.currentCap(o)).toBe(4)
      limiter.overloaded!(5, 0)
      yield* Effect.sleep(60)
      expect(yield* RedisLimit.currentCap(o)).toBe(3)
      limiter.overloaded!(5, 0)
      yield* Effect.sleep(60)
      expect(yield* RedisLimit.currentCap(o)).toBe(3)
    }).pipe(Effect.scoped))

  it.live("release - completed attempts raise the cap again, by 1/cap each, up to max", () =>
    Effect.gen(function*() {
      const key = freshKey()
      const rec = new Recorder()
      const a = yield* Scheduler.make({ groups: { search: RedisLimit.concurrency(options(key)) } })
      const b = yield* Scheduler.make({ groups: { search: RedisLimit.concurrency(options(key)) } })
      // a cap of 4 that was never refused (no `top`)
      yield* Effect.promise(() => redis.admin.hset(`toolfan:concurrency:{${key}}:cap`, "c", "4"))
      // 4 → 8 takes 4 + 5 + 6 + 7 = 22 completed attempts
      const tasks = (p: string) => Array.from({ length: 15 }, (_, i) => rec.task(`${p}${i}`, 5))
      yield* Effect.all([a.run(tasks("a")), b.run(tasks("b"))], { concurrency: 2 })
      expect(yield* capWhen(key, (c) => c === 8)).toBe(8)
      const raw = yield* Effect.promise(() => redis.admin.hget(`toolfan:concurrency:{${key}}:cap`, "c"))
      expect(Number(raw)).toBe(8)
    }).pipe(Effect.scoped))

  it.live("release - growth slows 64 times within 1 of the cap last halved", () =>
    Effect.gen(function*() {
      const key = freshKey()
      const a = yield* Scheduler.make({ groups: { search: RedisLimit.concurrency(options(key)) } })
      yield* a.run([overloaded]) // 8 → 4, refused at 8
      expect(yield* capWhen(key, (c) => c < 8)).toBe(4)
      yield* Effect.sleep(60) // the pause is over
      const hash = `toolfan:concurrency:{${key}}:cap`
      expect(yield* Effect.promise(() => redis.admin.hget(hash, "top"))).toBe("8")
      // 4 → 7 takes about 4 + 5 + 6 = 15; then 1/(7 × 64) each: 15 more add about 0.03 (without the slowdown: 8)
      const tasks = Array.from({ length: 30 }, (_, i) => Task.make(`t${i}`, Effect.sleep(1), { group: "search" }))
      yield* a.run(tasks)
      yield* Effect.sleep(50) // the last completed attempts are sent
      const c = Number(yield* Effect.promise(() => redis.admin.hget(hash, "c")))
      expect(c).toBeGreaterThanOrEqual(7)
      expect(c).toBeLessThan(7.5)
    }).pipe(Effect.scoped))

  it.live("release - a cap whose whole part grows publishes a release, so that a waiter elsewhere tries at once", () =>
    Effect.gen(function*() {
      const key = freshKey()
      const o = { key, max: 8, adaptive: { initial: 1, min: 1 }, redis: redis.server.url }
      const messages: Array<string> = []
      const listener = redis.admin.duplicate()
      yield* Effect.addFinalizer(() => Effect.sync(() => listener.disconnect()))
      listener.on("message", (_channel: string, message: string) => messages.push(message))
      yield* Effect.promise(() => listener.subscribe(`toolfan:concurrency:{${key}}:released`))
      const one = yield* RedisLimit.concurrency(o).start
      ;(yield* one.acquire(() => {}, 1)).release() // 1 → 2; the lease itself goes back after its linger (5 ms)
      yield* Effect.sleep(100)
      expect(messages).toEqual(["1", "1"])
      expect(yield* cap(key)).toBe(2)
      ;(yield* one.acquire(() => {}, 1)).release() // 2 → 2.5: only the lease's own release
      yield* Effect.sleep(100)
      expect(messages).toEqual(["1", "1", "1"])
    }).pipe(Effect.scoped))

  it.live("release - a scheduler that heard the cap went down hands no lease over while the leases exceed it", () =>
    Effect.gen(function*() {
      const key = freshKey()
      const one = yield* RedisLimit.concurrency(options(key)).start
      const other = yield* RedisLimit.concurrency(options(key)).start
      const permits = yield* Effect.all(Array.from({ length: 6 }, () => one.acquire(() => {}, 1)))
      other.overloaded!(1, 0)
      expect(yield* capWhen(key, (c) => c < 8)).toBe(4)
      yield* Effect.sleep(100) // the message reaches `one` (a loaded machine may take tens of ms)
      permits[0]!.release() // without the decrease: idle, and taken over by the next request here without a call
      const leases = () => Effect.promise(() => redis.admin.zcard(`toolfan:concurrency:{${key}}`))
      yield* Effect.sleep(3) // less than the linger (5 ms): only a release at once is gone already
      expect(yield* leases()).toBe(5)
      // 5 leases over a cap of 4 (4.2 now): nothing is granted until two more go back
      const next = yield* Effect.fork(one.acquire(() => {}, 1))
      yield* Effect.sleep(200)
      expect(next.unsafePoll()).toBe(null)
      permits[1]!.release()
      permits[2]!.release()
      expect((yield* next.await)._tag).toBe("Success")
    }).pipe(Effect.scoped))

  it.live("currentCap() - without adaptive, the cap is max", () =>
    Effect.gen(function*() {
      expect(yield* RedisLimit.currentCap({ key: freshKey(), max: 5, redis: redis.server.url })).toBe(5)
    }))

  it.live("the cap is forgotten a lease time after the key was last used: the next run starts at initial", () =>
    Effect.gen(function*() {
      const key = freshKey()
      const o = { ...options(key), leaseTime: 200 }
      yield* Effect.scoped(Effect.gen(function*() {
        const limiter = yield* RedisLimit.concurrency(o).start
        limiter.overloaded!(5, 0)
        expect(yield* capWhen(key, (c) => c < 8)).toBe(4)
      }))
      yield* Effect.sleep(300)
      expect(yield* RedisLimit.currentCap(o)).toBe(8)
    }))
})
