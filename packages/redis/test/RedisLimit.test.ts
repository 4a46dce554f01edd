import * as net from "node:net"
import { describe, expect, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import { GroupLimit, Scheduler, Task } from "toolfan"
import { thrown } from "../../toolfan/test/utils.js"
import { RedisLimit } from "../src/index.js"
import { Recorder } from "./recorder.js"
import { available, freePort, redisForTests, RedisServer } from "./server.js"

// Real time against a real redis-server: these are integration tests (it.live).

/** A TCP proxy to Redis that can go silent: it keeps the connections open and passes nothing on (a partition). */
class Blackhole {
  silent = false
  private readonly sockets: Array<net.Socket> = []
  private constructor(private readonly server: net.Server, readonly port: number) {}
  static async start(target: number): Promise<Blackhole> {
    let proxy: Blackhole | undefined
    const server = net.createServer((client) => {
      const upstream = net.connect(target, "127.0.0.1")
      proxy!.sockets.push(client, upstream)
      client.on("data", (d) => proxy!.silent || upstream.write(d))
      upstream.on("data", (d) => proxy!.silent || client.write(d))
      for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
        a.on("error", () => {})
        a.on("close", () => b.destroy())
      }
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    proxy = new Blackhole(server, (server.address() as net.AddressInfo).port)
    return proxy
  }
  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}

describe.skipIf(!available)("RedisLimit", () => {
  const redis = redisForTests()
  let n = 0
  const freshKey = () => `k${++n}`

  describe("concurrency", () => {
    it.live("a burst of tasks while the connection is still opening prints no MaxListenersExceededWarning", () =>
      Effect.gen(function*() {
        const warnings: Array<Error> = []
        const onWarning = (w: Error) => warnings.push(w)
        process.on("warning", onWarning)
        yield* Effect.addFinalizer(() => Effect.sync(() => process.off("warning", onWarning)))
        const key = freshKey()
        const s = yield* Scheduler.make({
          maxConcurrency: 64,
          groups: { search: RedisLimit.concurrency({ key, max: 64, redis: redis.server.url }) }
        })
        // 40 tasks ask for a lease at once, before the new connection is ready
        const results = yield* s.run(Array.from({ length: 40 }, (_, i) => Task.make(`t${i}`, Effect.void, { group: "search" })))
        expect(results.every((r) => r.ok)).toBe(true)
        yield* Effect.sleep(10)
        expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning").map((w) => w.message)).toEqual([])
      }).pipe(Effect.scoped))

    it.live("two schedulers sharing a key never run more than max together, and leave no lease behind once idle", () =>
      Effect.gen(function*() {
        const key = freshKey()
        const rec = new Recorder()
        const limit = () => RedisLimit.concurrency({ key, max: 3, redis: redis.server.url })
        const a = yield* Scheduler.make({ maxConcurrency: 10, groups: { search: limit() } })
        const b = yield* Scheduler.make({ maxConcurrency: 10, groups: { search: limit() } })
        const tasks = (p: string) => Array.from({ length: 15 }, (_, i) => rec.task(`${p}${i}`, 20))
        const [ra, rb] = yield* Effect.all([a.run(tasks("a")), b.run(tasks("b"))], { concurrency: 2 })
        expect([...ra, ...rb].every((r) => r.ok)).toBe(true)
        expect(rec.peak).toBe(3)
        // a released lease waits a few milliseconds for the scheduler's next task (handoff.ts), then goes
        yield* Effect.sleep(100)
        expect(yield* Effect.promise(() => redis.admin.zcard(`toolfan:concurrency:{${key}}`))).toBe(0)
      }).pipe(Effect.scoped))

    it.live("a step of the system clock (1 h forward) does not make a holder give its lease up", () =>
      Effect.gen(function*() {
        const key = freshKey()
        // the live clock, with a system time that jumps an hour ahead (NTP, resume from sleep); monotonic time does not
        const live = yield* Effect.clock
        let stepMs = 0
        const stepped: Clock.Clock = {
          [Clock.ClockTypeId]: Clock.ClockTypeId,
          unsafeCurrentTimeMillis: () => live.unsafeCurrentTimeMillis() + stepMs,
          currentTimeMillis: Effect.sync(() => live.unsafeCurrentTimeMillis() + stepMs),
          unsafeCurrentTimeNanos: () => live.unsafeCurrentTimeNanos(),
          currentTimeNanos: live.currentTimeNanos,
          sleep: (duration) => live.sleep(duration)
        }
        const s = yield* Effect.withClock(
          Scheduler.make({ groups: { search: RedisLimit.concurrency({ key, max: 1, redis: redis.server.url, leaseTime: "1 second" }) } }),
          stepped
        )
        const rec = new Recorder()
        const run = yield* Effect.fork(s.run([rec.task("holder", 600)]))
        yield* Effect.sleep(100)
        stepMs = 3_600_000
        const [result] = yield* Fiber.join(run)
        expect(result.error).toBeUndefined() // was GroupLimitUnavailable: the lease looked an hour old
      }).pipe(Effect.scoped))

    it.live("a released slot goes to a waiter of another scheduler at once, not after the lease time", () =>
      Effect.gen(function*() {
        const key = freshKey()
        const rec = new Recorder()
        const limit = () => RedisLimit.concurrency({ key, max: 1, redis: redis.server.url, leaseTime: "10 seconds" })
        const a = yield* Scheduler.make({ groups: { search: limit() } })
        const b = yield* Scheduler.make({ groups: { search: limit() } })
        yield* Effect.all([
          a.run([rec.task("first", 300)]),
          Effect.zipRight(Effect.sleep(100), b.run([rec.task("second", 10)]))
        ], { concurrency: 2 })
        const gap = rec.span("second").start - rec.span("first").end
        expect(gap).toBeGreaterThanOrEqual(0)
        expect(gap).toBeLessThan(1000) // woken by the release (pub/sub), not by the 10 s lease expiring
      }).pipe(Effect.scoped))

    it.live("the slot of a holder that stopped renewing (a crashed process) comes back when its lease expires", () =>
      Effect.gen(function*() {
        const key = freshKey()
        const zset = `toolfan:concurrency:{${key}}`
        // a lease of a "crashed" process, expiring in 800 ms by Redis's clock
        const [seconds, micros] = yield* Effect.promise(() => redis.admin.time())
        const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)
        yield* Effect.promise(() => redis.admin.zadd(zset, now + 800, "crashed:1"))
        const rec = new Recorder()
        const s = yield* Scheduler.make({
          groups: { search: RedisLimit.concurrency({ key, max: 1, redis: redis.server.url, leaseTime: "10 seconds" }) }
        })
        const started = performance.now()
        const [r] = yield* s.run([rec.task("t", 10)])
        expect(r.ok).toBe(true)
        const waited = rec.span("t").start - started
        expect(waited).toBeGreaterThan(600)
        expect(waited).toBeLessThan(3000)
      }).pipe(Effect.scoped))

    it.live("when its pub/sub connection comes back, every waiter asks again at once (releases may have been missed)", () =>
      Effect.gen(function*() {
        const key = freshKey()
        const zset = `toolfan:concurrency:{${key}}`
        const rec = new Recorder()
        // a long lease: without that wake, the waiter would next ask after a quarter lease (15 s)
        const s = yield* Scheduler.make({
          groups: { search: RedisLimit.concurrency({ key, max: 1, redis: redis.server.url, leaseTime: "60 seconds" }) }
        })
        // the only slot is held by another process for the next minute
        const [seconds] = yield* Effect.promise(() => redis.admin.time())
        yield* Effect.promise(() => redis.admin.zadd(zset, Number(seconds) * 1000 + 60_000, "other:1"))
        const fiber = yield* Effect.fork(s.run([rec.task("waiter", 10)]))
        yield* Effect.sleep(300) // the waiter has asked, and waits
        // the slot is freed with no message (as if released while the connection was down), and the connection drops
        yield* Effect.promise(() => redis.admin.zrem(zset, "other:1"))
        const dropped = performance.now()
        yield* Effect.promise(() => redis.admin.client("KILL", "TYPE", "pubsub"))
        const [r] = yield* Fiber.join(fiber)
        expect(r.ok).toBe(true)
        expect(rec.span("waiter").start - dropped).toBeLessThan(3000)
      }).pipe(Effect.scoped), 20_000)
  })

  describe("unavailable", () => {
    it.live("\"fail\": a task whose Redis cannot be reached fails with GroupLimitUnavailable within the timeout; others run", () =>
      Effect.gen(function*() {
        const port = yield* Effect.promise(() => freePort()) // nothing listens there
        const rec = new Recorder()
        const s = yield* Scheduler.make({
          groups: { search: RedisLimit.concurrency({ key: "x", max: 2, redis: `redis://127.0.0.1:${port}`, timeout: 300 }) }
        })
        const started = performance.now()
        const results = yield* s.run([rec.task("a", 10), rec.task("b", 10), rec.task("free", 10, "other")])
        expect(performance.now() - started).toBeLessThan(2000)
        expect(results.map((r) => r.ok)).toEqual([false, false, true])
        const error = results[0].error!
        expect(error._tag).toBe("TaskFailed")
        if (error._tag === "TaskFailed") {
          expect(GroupLimit.isGroupLimitUnavailable(error.error)).toBe(true)
          expect(error.message).toContain(`group limit redis concurrency "x" (max 2) is unavailable: redis did not answer`)
        }
        expect(rec.spans.map((s) => s.name)).toEqual(["free"])
      }).pipe(Effect.scoped))

    it.live("\"fail\": once Redis has been unreachable for a whole timeout, later tasks fail at once instead of each waiting it out", () =>
      Effect.gen(function*() {
        const port = yield* Effect.promise(() => freePort())
        const s = yield* Scheduler.make({
          groups: { search: RedisLimit.concurrency({ key: "x", max: 2, redis: `redis://127.0.0.1:${port}`, timeout: 300 }) }
        })
        const started = performance.now()
        // 40 tasks, 2 asking at a time: waiting 300 ms each would take 20 × 300 ms = 6 s
        const results = yield* s.run(Array.from({ length: 40 }, (_, i) => Task.make(`t${i}`, Effect.void, { group: "search" })))
        expect(results.every((r) => r.error?._tag === "TaskFailed")).toBe(true)
        expect(performance.now() - started).toBeLessThan(2000)
      }).pipe(Effect.scoped))

    it.live("\"wait\": tasks wait while Redis is down and run once it is up", () =>
      Effect.gen(function*() {
        const late = yield* Effect.promise(() => RedisServer.start())
        yield* Effect.promise(() => late.down())
        const rec = new Recorder()
        const s = yield* Scheduler.make({
          groups: {
            search: RedisLimit.concurrency({ key: "w", max: 2, redis: late.url, timeout: 200, onUnavailable: "wait" })
          }
        })
        const fiber = yield* Effect.fork(s.run([rec.task("a", 10), rec.task("b", 10), rec.task("c", 10)]))
        yield* Effect.sleep(700)
        expect(rec.spans.length).toBe(0)
        yield* Effect.promise(() => late.up())
        const results = yield* fiber.await.pipe(Effect.flatten)
        expect(results.every((r) => r.ok)).toBe(true)
        yield* Effect.promise(() => late.stop())
      }).pipe(Effect.scoped))

    it.live("a lease that cannot be renewed is given up: the attempt is interrupted before the slot could go to another", () =>
      Effect.gen(function*() {
        const own = yield* Effect.promise(() => RedisServer.start())
        const s = yield* Scheduler.make({
          groups: {
            search: RedisLimit.concurrency({ key: "r", max: 1, redis: own.url, leaseTime: 800, timeout: 100 })
          }
        })
        let interruptedAfter = -1
        const started = performance.now()
        const task = Task.make(
          "long",
          Effect.sleep(10_000).pipe(Effect.onInterrupt(() => Effect.sync(() => interruptedAfter = performance.now() - started))),
          { group: "search" }
        )
        const fiber = yield* Effect.fork(s.run([task]))
        yield* Effect.sleep(100)
        yield* Effect.promise(() => own.down("SIGKILL"))
        const [r] = yield* fiber.await.pipe(Effect.flatten)
        expect(r.error?._tag).toBe("TaskFailed")
        if (r.error?._tag === "TaskFailed") {
          expect(GroupLimit.isGroupLimitUnavailable(r.error.error)).toBe(true)
          expect(String(r.error.error.message)).toContain("could not be renewed")
        }
        // given up within the lease time (800 ms), so no other holder could have overlapped
        expect(interruptedAfter).toBeGreaterThan(0)
        expect(interruptedAfter).toBeLessThan(800)
        yield* Effect.promise(() => own.stop())
      }).pipe(Effect.scoped))
  })

  describe("restarts", () => {
    /**
     * `holders` schedulers (each with its own connections and renewal timing), started `spreadMs / holders` apart so
     * that their renewals fall at every point of a renewal period, each hold one slot for `taskMs`; then Redis is
     * stopped and started again on the same port `downMs` later, with its data (SIGTERM: saved, loaded again) or
     * without (SIGKILL). Returns how each holder ended and how long Redis was unreachable.
     */
    const restartWhileHeld = (o: {
      readonly holders: number
      readonly spreadMs: number
      readonly taskMs: number
      readonly downMs: number
      readonly signal: "SIGTERM" | "SIGKILL"
      readonly leaseTime?: number
      readonly timeout?: number
    }) =>
      Effect.gen(function*() {
        const own = yield* Effect.acquireRelease(Effect.promise(() => RedisServer.start()), (s) => Effect.promise(() => s.stop()))
        const key = freshKey()
        const rec = new Recorder()
        const limit = RedisLimit.concurrency({
          key,
          max: o.holders,
          redis: own.url,
          ...(o.leaseTime === undefined ? {} : { leaseTime: o.leaseTime }),
          ...(o.timeout === undefined ? {} : { timeout: o.timeout })
        })
        const fibers: Array<Fiber.RuntimeFiber<ReadonlyArray<{ ok: boolean; error?: unknown }>>> = []
        for (let i = 0; i < o.holders; i++) {
          const s = yield* Scheduler.make({ groups: { search: limit } })
          fibers.push(yield* Effect.fork(s.run([rec.task(`h${i}`, o.taskMs)])))
          yield* Effect.sleep(o.spreadMs / o.holders)
        }
        while (rec.active < o.holders) yield* Effect.sleep(10)
        const down = performance.now()
        yield* Effect.promise(() => own.down(o.signal))
        yield* Effect.sleep(o.downMs)
        yield* Effect.promise(() => own.up())
        const outageMs = performance.now() - down
        const results = (yield* Fiber.joinAll(fibers)).map((r) => r[0]!)
        const aborted = results.filter((r) => !r.ok).length
        console.log(`${o.holders} holders, redis down ${Math.round(outageMs)} ms (${o.signal}): ${aborted} aborted`)
        return { results, aborted, outageMs, rec }
      })

    it.live("a holder rides out a restart shorter than a quarter lease (lease 2 s, timeout 300 ms, 240 ms, data kept)", () =>
      Effect.gen(function*() {
        const { aborted, outageMs, rec } = yield* restartWhileHeld({
          holders: 10, spreadMs: 500, taskMs: 3000, downMs: 240, signal: "SIGTERM", leaseTime: 2000, timeout: 300
        })
        expect(outageMs).toBeLessThan(500) // the promise covers this restart
        expect(aborted).toBe(0)
        expect(rec.spans.length).toBe(10)
        expect(rec.spans.every((s) => s.end - s.start >= 2990)).toBe(true)
      }).pipe(Effect.scoped), 20_000)

    it.live("a holder rides out a restart shorter than a quarter lease that lost Redis's data (lease 2 s, 240 ms)", () =>
      Effect.gen(function*() {
        const { aborted, outageMs } = yield* restartWhileHeld({
          holders: 10, spreadMs: 500, taskMs: 3000, downMs: 240, signal: "SIGKILL", leaseTime: 2000, timeout: 300
        })
        expect(outageMs).toBeLessThan(500)
        expect(aborted).toBe(0)
      }).pipe(Effect.scoped), 20_000)

    it.live("with the default options (lease 10 s, timeout 1 s), a holder rides out a 1.35 s restart", () =>
      Effect.gen(function*() {
        const { aborted, outageMs } = yield* restartWhileHeld({
          holders: 10, spreadMs: 2500, taskMs: 8500, downMs: 1350, signal: "SIGTERM"
        })
        expect(outageMs).toBeLessThan(2500)
        expect(aborted).toBe(0)
      }).pipe(Effect.scoped), 30_000)
  })

  describe("concurrency, edge cases", () => {
    it.live("a Redis that stops answering with the connection open (a partition): the holder gives up before the lease expires", () =>
      Effect.gen(function*() {
        const key = freshKey()
        const proxy = yield* Effect.acquireRelease(Effect.promise(() => Blackhole.start(redis.server.port)), (p) => Effect.promise(() => p.close()))
        const rec = new Recorder()
        let interruptedAt = -1
        // A talks to Redis through the proxy; the default timeout (1 s) is longer than a quarter lease, so a renewal
        // call hangs longer than the time between two renewals
        const limit = (port: number) => RedisLimit.concurrency({ key, max: 1, leaseTime: 1000, redis: `redis://127.0.0.1:${port}` })
        const a = yield* Scheduler.make({ groups: { search: limit(proxy.port) } })
        const b = yield* Scheduler.make({ groups: { search: limit(redis.server.port) } })
        const long = Task.make(
          "A",
          Effect.sleep(10_000).pipe(Effect.onInterrupt(() => Effect.sync(() => interruptedAt = performance.now()))),
          { group: "search" }
        )
        const fa = yield* Effect.fork(a.run([long]))
        yield* Effect.sleep(400)
        proxy.silent = true
        const [rb] = yield* b.run([rec.task("B", 10)])
        const [ra] = yield* Fiber.join(fa)
        expect(rb.ok).toBe(true)
        expect(ra.error?._tag).toBe("TaskFailed")
        expect(interruptedAt).toBeGreaterThan(0)
        // A stopped before B started: never two at once
        expect(rec.span("B").start).toBeGreaterThan(interruptedAt)
      }).pipe(Effect.scoped), 20_000)

    it.live("Redis losing its data: a scheduler started afterwards in the same process waits for the recovery too", () =>
      Effect.gen(function*() {
        const key = freshKey()
        const rec = new Recorder()
        const limit = () => RedisLimit.concurrency({ key, max: 2, leaseTime: 2000, redis: redis.server.url, onUnavailable: "wait" })
        const a = yield* Scheduler.make({ groups: { search: limit() } })
        const fa = yield* Effect.fork(a.run([rec.task("A1", 2500), rec.task("A2", 2500)]))
        yield* Effect.sleep(300)
        yield* Effect.promise(() => redis.admin.del(`toolfan:concurrency:{${key}}`, `toolfan:concurrency:{${key}}:marker`))
        // e.g. one scheduler per request: it never had an answer from Redis itself
        const c = yield* Scheduler.make({ groups: { search: limit() } })
        const rc = yield* c.run([rec.task("C1", 100), rec.task("C2", 100)])
        const ra = yield* Fiber.join(fa)
        expect([...ra, ...rc].map((r) => r.ok)).toEqual([true, true, true, true])
        expect(rec.peak).toBe(2)
      }).pipe(Effect.scoped), 20_000)

    it.live("processes with different lease times: a short one never cuts the leases of a long one short", () =>
      Effect.gen(function*() {
        const key = freshKey()
        const zset = `toolfan:concurrency:{${key}}`
        const rec = new Recorder()
        const long = yield* Scheduler.make({
          groups: { search: RedisLimit.concurrency({ key, max: 2, leaseTime: "60 seconds", redis: redis.server.url }) }
        })
        const short = yield* Scheduler.make({
          groups: { search: RedisLimit.concurrency({ key, max: 2, leaseTime: "500 millis", redis: redis.server.url }) }
        })
        const fa = yield* Effect.fork(long.run([rec.task("long", 2000)]))
        yield* Effect.sleep(100)
        yield* short.run([rec.task("short", 10)])
        yield* Effect.sleep(800) // longer than the short lease time, with no calls meanwhile
        expect(yield* Effect.promise(() => redis.admin.zcard(zset))).toBe(1) // the long lease is still there
        const rs = yield* short.run([rec.task("s1", 300), rec.task("s2", 300)])
        const [ra] = yield* Fiber.join(fa)
        expect([ra, ...rs].every((r) => r.ok)).toBe(true)
        expect(rec.peak).toBe(2)
      }).pipe(Effect.scoped), 20_000)

    it.live("a lease time in fractions of a millisecond works (rounded up for Redis)", () =>
      Effect.gen(function*() {
        const rec = new Recorder()
        const s = yield* Scheduler.make({
          groups: { search: RedisLimit.concurrency({ key: freshKey(), max: 1, leaseTime: 1500.5, redis: redis.server.url }) }
        })
        const results = yield* s.run([rec.task("a", 10), rec.task("b", 10)])
        expect(results.map((r) => r.ok)).toEqual([true, true])
      }).pipe(Effect.scoped))

    it.live("\"wait\": a command Redis refuses (the key holds another type) fails the task at once instead of retrying forever", () =>
      Effect.gen(function*() {
        const key = freshKey()
        yield* Effect.promise(() => redis.admin.set(`toolfan:concurrency:{${key}}`, "not a sorted set"))
        const s = yield* Scheduler.make({
          groups: { search: RedisLimit.concurrency({ key, max: 1, redis: redis.server.url, onUnavailable: "wait" }) }
        })
        const [r] = yield* s.run([Task.make("t", Effect.void, { group: "search" })], { deadline: "5 seconds" })
        expect(r.error?._tag).toBe("TaskFailed")
        if (r.error?._tag === "TaskFailed") {
          expect(String(r.error.error.message)).toContain("redis refused the command")
          expect(String(r.error.error.message)).toContain("WRONGTYPE")
        }
      }).pipe(Effect.scoped))
  })

  describe("rate", () => {
    it.live("two schedulers sharing a rate limit start at most `limit` attempts per window together", () =>
      Effect.gen(function*() {
        const key = freshKey()
        const rec = new Recorder()
        const limit = () => RedisLimit.rate({ key, limit: 4, window: "500 millis", redis: redis.server.url })
        const a = yield* Scheduler.make({ groups: { llm: limit() } })
        const b = yield* Scheduler.make({ groups: { llm: limit() } })
        const tasks = (p: string) => Array.from({ length: 6 }, (_, i) => rec.task(`${p}${i}`, 1, "llm"))
        const started = performance.now()
        const [ra, rb] = yield* Effect.all([a.run(tasks("a")), b.run(tasks("b"))], { concurrency: 2 })
        expect([...ra, ...rb].every((r) => r.ok)).toBe(true)
        const starts = rec.spans.map((s) => s.start - started).sort((x, y) => x - y)
        // 12 attempts at 4 per 500 ms: three windows
        expect(starts.filter((t) => t < 450).length).toBeLessThanOrEqual(4)
        expect(starts.filter((t) => t < 950).length).toBeLessThanOrEqual(8)
        expect(starts[11]!).toBeGreaterThan(900)
      }).pipe(Effect.scoped))

    it.live("\"fail\": a rate limit whose Redis cannot be reached fails the task with GroupLimitUnavailable", () =>
      Effect.gen(function*() {
        const port = yield* Effect.promise(() => freePort())
        const s = yield* Scheduler.make({
          groups: { llm: RedisLimit.rate({ key: "x", limit: 1, window: 1000, redis: `redis://127.0.0.1:${port}`, timeout: 200 }) }
        })
        const [r] = yield* s.run([Task.make("t", Effect.succeed(1), { group: "llm" })])
        expect(r.error?._tag).toBe("TaskFailed")
        if (r.error?._tag === "TaskFailed") expect(GroupLimit.isGroupLimitUnavailable(r.error.error)).toBe(true)
      }).pipe(Effect.scoped))
  })
})

describe("RedisLimit options", () => {
  it("concurrency() and rate() refuse bad options, naming them", () => {
    expect(thrown(() => RedisLimit.concurrency({ key: "s", max: 0 })).message).toBe(
      "RedisLimit.concurrency: max must be an integer ≥ 1, got 0 (number)"
    )
    expect(thrown(() => RedisLimit.concurrency({ key: "", max: 1 })).option).toBe("key")
    expect(thrown(() => RedisLimit.concurrency({ key: "s", max: 1, leaseTime: -5 })).option).toBe("leaseTime")
    expect(thrown(() => RedisLimit.concurrency({ key: "s", max: 1, leaseTime: "-5 seconds" })).option).toBe("leaseTime")
    expect(thrown(() => RedisLimit.concurrency({ key: "s", max: 1, onUnavailable: "hang" as never })).option).toBe(
      "onUnavailable"
    )
    expect(thrown(() => RedisLimit.concurrency({ key: "s", max: 1, redis: "localhost:6379" })).option).toBe("redis")
    expect(thrown(() => RedisLimit.concurrency({ key: "s", max: 1, maxx: 2 } as never)).option).toBe("options.maxx")
    expect(thrown(() => RedisLimit.rate({ key: "s", limit: 1.5, window: 1000 })).option).toBe("limit")
    expect(thrown(() => RedisLimit.rate({ key: "s", limit: 1 } as never)).option).toBe("window")
  })

  it("concurrency() and rate() take every duration the core takes: bigint nanoseconds, [seconds, nanos], Duration, strings", () => {
    const window = (window: Duration.DurationInput) => RedisLimit.rate({ key: "s", limit: 4, window }).description
    expect(window(1_000_000_000n)).toBe("redis rate \"s\" (4 per 1000 ms)")
    expect(window([1, 500_000_000])).toBe("redis rate \"s\" (4 per 1500 ms)")
    expect(window(Duration.seconds(2))).toBe("redis rate \"s\" (4 per 2000 ms)")
    expect(window("1.5 seconds")).toBe("redis rate \"s\" (4 per 1500 ms)")
    for (const d of [2_000_000_000n, [2, 0], Duration.millis(2500), "2 seconds"] as const) {
      expect(RedisLimit.concurrency({ key: "s", max: 1, leaseTime: d, timeout: d }).local).toBe(1)
    }
    // the lease's own floor holds whatever the form
    expect(thrown(() => RedisLimit.concurrency({ key: "s", max: 1, leaseTime: 50_000_000n })).message).toBe(
      "RedisLimit.concurrency: leaseTime must be at least 100 milliseconds, got 50000000n (bigint)"
    )
  })

  it("concurrency() and rate() refuse a bad duration as the core does: same expectation, kind and message", () => {
    const bad: ReadonlyArray<unknown> = [-5, 0, Number.NaN, -1n, "-5 seconds", "5 parsecs", [1, -1], [1], {}, null, true]
    for (const value of bad) {
      const core = thrown(() => Task.make("t", Effect.void, { timeout: value as never }))
      for (const [where, error] of [
        ["RedisLimit.concurrency", thrown(() => RedisLimit.concurrency({ key: "s", max: 1, leaseTime: value as never }))],
        ["RedisLimit.rate", thrown(() => RedisLimit.rate({ key: "s", limit: 1, window: value as never }))]
      ] as const) {
        expect([error.expected, error.kind, error.value]).toEqual([core.expected, core.kind, core.value])
        expect(error.message).toBe(core.message.replace(/^Task\.make: timeout/, `${where}: ${error.option}`))
      }
    }
    expect(thrown(() => RedisLimit.concurrency({ key: "s", max: 1, leaseTime: [1, -1] })).message).toBe(
      "RedisLimit.concurrency: leaseTime must be a positive duration (milliseconds as a number, or e.g. \"5 seconds\"), " +
        "got an array of length 2"
    )
  })

  it("a duration that never ends is refused: a lease, a timeout and a window must run out", () => {
    const expected = "a finite positive duration (milliseconds as a number, or e.g. \"5 seconds\")"
    expect(thrown(() => RedisLimit.concurrency({ key: "s", max: 1, leaseTime: Duration.infinity })).expected).toBe(expected)
    expect(thrown(() => RedisLimit.concurrency({ key: "s", max: 1, timeout: Number.POSITIVE_INFINITY })).message).toBe(
      `RedisLimit.concurrency: timeout must be ${expected}, got Infinity (number)`
    )
    expect(thrown(() => RedisLimit.rate({ key: "s", limit: 1, window: Duration.infinity })).kind).toBe("range")
  })

  it("concurrency() - a misspelt option is refused, naming the option it most likely meant", () => {
    expect(thrown(() => RedisLimit.concurrency({ key: "s", max: 1, leasetime: 1000 } as never)).message).toBe(
      "RedisLimit.concurrency: options.leasetime must be one of key, max, leaseTime, redis, prefix, timeout, onUnavailable, adaptive " +
        "(unknown option — did you mean leaseTime?), got \"leasetime\" (string)"
    )
  })

  it("a limit is a plain value: nothing connects until a scheduler starts it", () => {
    const limit = RedisLimit.concurrency({ key: "s", max: 2, redis: "redis://127.0.0.1:1" })
    expect(GroupLimit.isGroupLimit(limit)).toBe(true)
    expect(limit.local).toBe(2)
    expect(Exit.isSuccess(Effect.runSyncExit(Effect.succeed(limit)))).toBe(true)
  })
})
