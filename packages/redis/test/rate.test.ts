import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { Redis } from "ioredis"
import * as Logger from "effect/Logger"
import { GroupLimit, Overload, Scheduler, Task } from "toolfan"
import { thrown } from "../../toolfan/test/utils.js"
import { RedisLimit } from "../src/index.js"
import { available, freePort, RedisServer } from "./server.js"

// RedisLimit.rate against a real redis-server, in real time (it.live).

/** `count` tasks of group "llm" that record when (performance.now) each started. */
const timed = (count: number) => {
  const starts: Array<number> = []
  const tasks = Array.from({ length: count }, (_, i) =>
    Task.make(`t${i}`, Effect.sync(() => {
      starts.push(performance.now())
    }), { group: "llm" }))
  return { starts, tasks }
}

/** How far (ms) a start measured in the test may be from where Redis placed it (timers fire late on a loaded machine: 10 ms was exceeded with the suite on 3 workers). */
const jitter = 50

/** The most starts that fall within any span of `ms` (a sliding window). */
const busiest = (starts: ReadonlyArray<number>, ms: number): number => {
  const sorted = [...starts].sort((a, b) => a - b)
  let most = 0
  for (let i = 0; i < sorted.length; i++) {
    let j = i
    while (j < sorted.length && sorted[j]! - sorted[i]! < ms) j++
    most = Math.max(most, j - i)
  }
  return most
}

describe("RedisLimit.rate options", () => {
  it("fixed-window refuses more than one attempt per millisecond, naming window and its value", () => {
    const error = thrown(() => RedisLimit.rate({ key: "s", limit: 10, window: 5 }))
    expect(error.option).toBe("window")
    expect(error.kind).toBe("range")
    expect(error.value).toBe(5)
    expect(error.message).toContain("whole milliseconds")
    // token-bucket takes a fractional refill
    expect(GroupLimit.isGroupLimit(RedisLimit.rate({ key: "s", limit: 10, window: 5, algorithm: "token-bucket" }))).toBe(
      true
    )
  })

  it("fixed-window rounds the window up to whole milliseconds per attempt, and says so", () => {
    expect(RedisLimit.rate({ key: "s", limit: 3, window: 1000 }).description).toBe(
      "redis rate \"s\" (3 per 1002 ms: 1000 ms rounded up to whole milliseconds per attempt)"
    )
    expect(RedisLimit.rate({ key: "s", limit: 4, window: "1 second" }).description).toBe("redis rate \"s\" (4 per 1000 ms)")
  })
})

describe.skipIf(!available)("RedisLimit.rate", () => {
  let server: RedisServer
  beforeAll(async () => {
    server = await RedisServer.start()
  })
  afterAll(() => server?.stop())
  let n = 0
  const freshKey = () => `rate${++n}`

  /**
   * Runs `count` tasks under a fresh fixed-window rate limit, and checks that
   * all succeed, that no span of `window` sees more than `limit` starts, and
   * that the last start is in its window. The starts are measured here, after
   * the replies' latency and Node's timers (which may fire a ms or two early),
   * not where Redis counts them: spans are checked less `jitter`.
   */
  const expectWindows = (limit: number, window: number, count: number) =>
    Effect.gen(function*() {
      const s = yield* Scheduler.make({ groups: { llm: RedisLimit.rate({ key: freshKey(), limit, window, redis: server.url }) } })
      const { starts, tasks } = timed(count)
      const results = yield* s.run(tasks)
      expect(results.map((r) => r.error?.message)).toEqual(results.map(() => undefined))
      expect(starts.length).toBe(count)
      expect(busiest(starts, window - jitter)).toBe(limit)
      const sorted = [...starts].sort((a, b) => a - b)
      expect(sorted[count - 1]! - sorted[0]!).toBeGreaterThanOrEqual(Math.floor((count - 1) / limit) * window - jitter)
    }).pipe(Effect.scoped)

  it.live("fixed-window, 3 per 1000 ms: every task runs, and no 1000 ms span sees more than 3 starts", () =>
    expectWindows(3, 1000, 7))

  it.live("fixed-window with a fractional window works", () => expectWindows(2, 200.5, 4))

  it.live("a provider's wait told to one scheduler holds back the attempts of another using the key, for the time Redis says", () =>
    Effect.gen(function*() {
      const key = freshKey()
      const limit = () => RedisLimit.rate({ key, limit: 100, window: 1000, redis: server.url })
      const a = yield* Scheduler.make({ groups: { llm: limit() } })
      const b = yield* Scheduler.make({ groups: { llm: limit() } })
      const warm = timed(1)
      yield* b.run(warm.tasks) // b connected: it would start the next task at once
      const t0 = performance.now()
      const refused = Task.make("refused", Effect.fail(new Overload.Overloaded({ retryAfterMs: 300 })), { group: "llm" })
      const [r] = yield* a.run([refused])
      expect(r!.ok).toBe(false)
      const pauseKey = `toolfan:rate:${key}:paused`
      const admin = yield* Effect.acquireRelease(Effect.sync(() => new Redis(server.port, "127.0.0.1")), (c) => Effect.sync(() => c.disconnect()))
      for (let i = 0; i < 40 && (yield* Effect.promise(() => admin.exists(pauseKey))) === 0; i++) yield* Effect.sleep(5)
      expect(yield* Effect.promise(() => admin.exists(pauseKey))).toBe(1)
      yield* Effect.sleep(25) // b asks Redis at most every 20 ms
      // a shorter wait does not shorten it
      const short = Task.make("short", Effect.fail(new Overload.Overloaded({ retryAfterMs: 20 })), { group: "llm" })
      yield* b.run([short]).pipe(Effect.timeout("1 second"), Effect.ignore)
      const { starts, tasks } = timed(1)
      const [ok] = yield* b.run(tasks)
      expect(ok!.ok).toBe(true)
      expect(starts[0]! - t0).toBeGreaterThanOrEqual(280)
    }).pipe(Effect.scoped))

  it.live("a pause that cannot be recorded (Redis unreachable) is logged; overloaded() never throws", () =>
    Effect.gen(function*() {
      const logs: Array<string> = []
      const port = yield* Effect.promise(freePort) // nothing listens there
      const limiter = yield* RedisLimit.rate({ key: freshKey(), limit: 3, window: 1000, redis: `redis://127.0.0.1:${port}`, timeout: 100 })
        .start.pipe(Effect.provide(Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => logs.push(String(message))))))
      expect(() => limiter.overloaded!(100, 0)).not.toThrow()
      yield* Effect.sleep(400)
      expect(logs).toEqual([expect.stringContaining("could not share a pause of 100 ms")])
    }).pipe(Effect.scoped))

  it.live("a command Redis refuses fails the task at once, in both modes: it is not \"unreachable\"", () =>
    Effect.gen(function*() {
      const key = freshKey()
      // the store's key holds a hash: its script's GET fails with WRONGTYPE
      const admin = yield* Effect.acquireRelease(
        Effect.sync(() => new Redis(server.port, "127.0.0.1")),
        (admin) => Effect.sync(() => admin.disconnect())
      )
      yield* Effect.promise(() => admin.hset(`toolfan:rate:${key}`, "x", "1"))
      for (const onUnavailable of ["fail", "wait"] as const) {
        const s = yield* Scheduler.make({
          groups: { llm: RedisLimit.rate({ key, limit: 3, window: 1000, redis: server.url, onUnavailable }) }
        })
        const started = performance.now()
        const [r] = yield* s.run([Task.make("t", Effect.void, { group: "llm" })]).pipe(
          Effect.timeoutFail({ duration: 3000, onTimeout: () => new Error(`"${onUnavailable}": still retrying after 3 s`) })
        )
        expect(performance.now() - started).toBeLessThan(1000)
        expect(r.error?._tag).toBe("TaskFailed")
        if (r.error?._tag === "TaskFailed") {
          const error = r.error.error
          expect(GroupLimit.isGroupLimitUnavailable(error)).toBe(true)
          if (GroupLimit.isGroupLimitUnavailable(error)) {
            expect(error.reason).toContain("redis refused the command")
            expect(String(error.cause)).toContain("WRONGTYPE")
          }
        }
      }
    }).pipe(Effect.scoped), 10_000)
})
