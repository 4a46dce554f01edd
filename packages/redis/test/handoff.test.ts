import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { Scheduler, Task } from "toolfan"
import { RedisLimit } from "../src/index.js"
import { Recorder } from "./recorder.js"
import { available, redisForTests } from "./server.js"

// Real time against a real redis-server: integration tests (it.live). What is asserted is counted (script calls,
// tasks running at once, the order of starts), never how long something took.

describe.skipIf(!available)("RedisLimit.concurrency handoffs", () => {
  const redis = redisForTests()
  let n = 0
  const freshKey = () => `h${++n}`
  const limit = (key: string, max: number) => RedisLimit.concurrency({ key, max, redis: redis.server.url })
  /** Script calls (EVALSHA, and EVAL for a script Redis did not know yet) since the last CONFIG RESETSTAT. */
  const scriptCalls = async (): Promise<number> => {
    const stats = await redis.admin.info("commandstats")
    return [...stats.matchAll(/^cmdstat_eval(?:sha)?:calls=(\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0)
  }

  it.live("a task takes over the lease the scheduler's previous task released: 400 tasks in a row make a handful of calls", () =>
    Effect.gen(function*() {
      const s = yield* Scheduler.make({ maxConcurrency: 16, groups: { search: limit(freshKey(), 4) } })
      yield* s.run([Task.make("warm", Effect.void, { group: "search" })]) // scripts loaded, connected
      yield* Effect.promise(() => redis.admin.config("RESETSTAT"))
      const results = yield* s.run(Array.from({ length: 400 }, (_, i) => Task.make(`t${i}`, Effect.void, { group: "search" })))
      expect(results.every((r) => r.ok)).toBe(true)
      // was 800: one call to take each lease, one to release it. Now: at most 4 new leases, their releases, and
      // a few more if a lease waited out its linger (a slow machine)
      expect(yield* Effect.promise(scriptCalls)).toBeLessThan(40)
    }).pipe(Effect.scoped))

  it.live("a scheduler that always has a next task does not keep its slot while another scheduler waits for it", () =>
    Effect.gen(function*() {
      const key = freshKey()
      const rec = new Recorder()
      const a = yield* Scheduler.make({ groups: { search: limit(key, 1) } })
      const b = yield* Scheduler.make({ groups: { search: limit(key, 1) } })
      const stream = Array.from({ length: 200 }, (_, i) => rec.task(`a${i}`, 2))
      yield* Effect.all([
        a.run(stream),
        Effect.zipRight(Effect.sleep(50), b.run([rec.task("b", 1)]))
      ], { concurrency: 2 })
      // with handoffs that ignored the waiter, every task of `a` would have run before `b`
      const after = rec.spans.filter((s) => s.name.startsWith("a") && s.start > rec.span("b").start).length
      expect(after).toBeGreaterThan(0)
      expect(rec.peak).toBe(1)
    }).pipe(Effect.scoped))

  it.live("handoffs in three schedulers that compete for the slots never run more than max at once", () =>
    Effect.gen(function*() {
      const key = freshKey()
      const rec = new Recorder()
      const schedulers = yield* Effect.all(
        Array.from({ length: 3 }, () => Scheduler.make({ maxConcurrency: 8, groups: { search: limit(key, 3) } }))
      )
      // tasks of 0–3 ms: many handoffs, releases and waits interleave
      const results = yield* Effect.all(
        schedulers.map((s, k) => s.run(Array.from({ length: 60 }, (_, i) => rec.task(`${k}:${i}`, i % 4)))),
        { concurrency: "unbounded" }
      )
      expect(results.flat().every((r) => r.ok)).toBe(true)
      expect(rec.peak).toBe(3)
    }).pipe(Effect.scoped))

  it.live("when the scheduler closes, its idle leases are released at once, not after their linger or the lease time", () =>
    Effect.gen(function*() {
      const key = freshKey()
      yield* Effect.scoped(Effect.gen(function*() {
        const s = yield* Scheduler.make({ groups: { search: limit(key, 4) } })
        yield* s.run(Array.from({ length: 4 }, (_, i) => Task.make(`t${i}`, Effect.sleep(5), { group: "search" })))
      }))
      expect(yield* Effect.promise(() => redis.admin.zcard(`toolfan:concurrency:{${key}}`))).toBe(0)
    }))
})
