import { describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FastCheck from "effect/FastCheck"
import * as Fiber from "effect/Fiber"
import * as Logger from "effect/Logger"
import * as Metric from "effect/Metric"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import { GroupLimit, InvalidOption, Metrics, Overload, Scheduler, Task } from "../src/index.js"
import { advance, Probe, runFor, thrown } from "./utils.js"

/**
 * A limit kept in a store shared by several schedulers, like a Redis one, but
 * in memory and under the test's control: it can be made unreachable, and it
 * can revoke the permits it granted.
 */
class FakeStore {
  used = 0
  peak = 0
  available = true
  started = 0
  stopped = 0
  requests = 0
  readonly waiters: Array<() => void> = []
  readonly holders = new Set<{ revoke: (e: GroupLimit.GroupLimitUnavailable) => void; released: boolean }>()
  /** Milliseconds (virtual) the store takes to answer a request. */
  delay = 0
  constructor(readonly max: number) {}

  unavailable(): GroupLimit.GroupLimitUnavailable {
    return new GroupLimit.GroupLimitUnavailable({ limit: "fake", reason: "the store is down" })
  }

  limit(onUnavailable: GroupLimit.OnUnavailable = "fail"): GroupLimit.GroupLimit {
    // the contract: in "wait" mode the limiter keeps trying while its store is down
    const patient = (ask: Effect.Effect<GroupLimit.Permit, GroupLimit.GroupLimitUnavailable>) =>
      onUnavailable === "wait" ? Effect.retry(ask, Schedule.spaced("5 millis")) : ask
    const limiter: GroupLimit.Limiter = {
      acquire: (revoke) => patient(
        Effect.zipRight(
          this.delay > 0 ? Effect.sleep(this.delay) : Effect.void,
          Effect.async<GroupLimit.Permit, GroupLimit.GroupLimitUnavailable>((resume) => {
          this.requests++
          if (!this.available) return resume(Effect.fail(this.unavailable()))
          const grant = () => {
            this.used++
            this.peak = Math.max(this.peak, this.used)
            const holder = { revoke, released: false }
            this.holders.add(holder)
            resume(Effect.succeed({
              release: () => {
                if (holder.released) return
                holder.released = true
                this.holders.delete(holder)
                this.used--
                this.waiters.shift()?.()
              }
            }))
          }
          if (this.used < this.max) return grant()
          this.waiters.push(grant)
          return Effect.sync(() => {
            const i = this.waiters.indexOf(grant)
            if (i >= 0) this.waiters.splice(i, 1)
          })
        })
        ))
    }
    return GroupLimit.make({
      description: "fake",
      local: this.max,
      onUnavailable,
      start: Effect.acquireRelease(
        Effect.sync(() => {
          this.started++
          return limiter
        }),
        () => Effect.sync(() => void this.stopped++)
      )
    })
  }

  /** Revokes every permit granted so far (as if leases were lost). */
  revokeAll(): void {
    for (const h of [...this.holders]) {
      h.released = true
      this.holders.delete(h)
      this.used--
      h.revoke(this.unavailable())
    }
  }
}

const sleepTasks = (probe: Probe, prefix: string, n: number, ms: number, group = "search") =>
  Array.from({ length: n }, (_, i) => Task.make(`${prefix}${i}`, probe.sleep(`${prefix}${i}`, ms, i), { group }))

describe("GroupLimit", () => {
  describe("shared limits", () => {
    it.effect("Scheduler - two schedulers sharing one limit never exceed it together", () =>
      Effect.gen(function*() {
        const store = new FakeStore(3)
        const probe = new Probe()
        const a = yield* Scheduler.make({ maxConcurrency: 10, groups: { search: store.limit() } })
        const b = yield* Scheduler.make({ maxConcurrency: 10, groups: { search: store.limit() } })
        const [ra, rb] = yield* runFor(
          1000,
          Effect.all([a.run(sleepTasks(probe, "a", 6, 100)), b.run(sleepTasks(probe, "b", 6, 100))], {
            concurrency: 2
          })
        )
        expect([...ra, ...rb].every((r) => r.ok)).toBe(true)
        expect(probe.peak).toBe(3)
        expect(store.peak).toBe(3)
        expect(store.used).toBe(0)
        // 12 tasks, 3 at a time, 100 ms each
        expect(Math.max(...probe.ends.map((e) => e.at))).toBe(400)
        expect(store.started).toBe(2)
      }).pipe(Effect.scoped))

    it.effect("Scheduler - a task waiting for a permit holds no global slot", () =>
      Effect.gen(function*() {
        const store = new FakeStore(1)
        const probe = new Probe()
        const s = yield* Scheduler.make({ maxConcurrency: 2, groups: { search: store.limit() } })
        const results = yield* runFor(
          300,
          s.run([
            ...sleepTasks(probe, "s", 3, 100),
            Task.make("free", probe.sleep("free", 100, "f"))
          ])
        )
        expect(results.every((r) => r.ok)).toBe(true)
        expect(probe.startOf("free")).toBe(0)
        expect(probe.starts.filter((s) => s.name.startsWith("s")).map((s) => s.at)).toEqual([0, 100, 200])
      }).pipe(Effect.scoped))

    it.effect("Scheduler - asks the store for at most `local` permits at once", () =>
      Effect.gen(function*() {
        const store = new FakeStore(2)
        const probe = new Probe()
        const s = yield* Scheduler.make({ groups: { search: store.limit() } })
        const fiber = yield* Effect.fork(s.run(sleepTasks(probe, "s", 10, 100)))
        yield* TestClock.adjust(1)
        // 2 granted, none waiting in the store: the other 8 wait in this scheduler, by priority
        expect(store.requests).toBe(2)
        expect(store.waiters.length).toBe(0)
        yield* TestClock.adjust(1000)
        yield* Fiber.join(fiber)
        expect(store.requests).toBe(10)
      }).pipe(Effect.scoped))

    it.effect("Scheduler - a task backing off between retries holds no permit", () =>
      Effect.gen(function*() {
        const store = new FakeStore(1)
        const probe = new Probe()
        let calls = 0
        const flaky = Task.make(
          "flaky",
          Effect.suspend(() => ++calls === 1 ? Effect.fail("transient") : Effect.succeed("ok")),
          { group: "search", retries: 1, schedule: Schedule.spaced("1 second") }
        )
        const s = yield* Scheduler.make({ groups: { search: store.limit() } })
        const results = yield* runFor(1000, s.run([flaky, ...sleepTasks(probe, "other", 1, 500)]))
        expect(results.map((r) => r.ok)).toEqual([true, true])
        // "other" ran while "flaky" waited out its backoff
        expect(probe.startOf("other0")).toBe(0)
        expect(store.used).toBe(0)
      }).pipe(Effect.scoped))

    it.effect("run() - a run nested in a task of a limited group lends it the permit and the task takes one back", () =>
      Effect.gen(function*() {
        const store = new FakeStore(1)
        const s = yield* Scheduler.make({ groups: { search: store.limit() } })
        const child = Task.make("child", Effect.as(Effect.sleep(100), "c"), { group: "search" })
        const parent = Task.make(
          "parent",
          Effect.gen(function*() {
            const [r] = yield* s.run([child]) // would deadlock if the parent kept its permit (max 1)
            yield* Effect.sleep(50)
            return r.value
          }),
          { group: "search" }
        )
        const [result] = yield* runFor(1000, s.run([parent]))
        expect(result.value).toBe("c")
        expect(store.peak).toBe(1)
        expect(store.used).toBe(0)
        expect(store.requests).toBe(3) // parent, child, parent again
      }).pipe(Effect.scoped))

    it.effect("run() - a task that cannot take its permit back after a nested run is interrupted (\"fail\")", () =>
      Effect.gen(function*() {
        const store = new FakeStore(1)
        const s = yield* Scheduler.make({ groups: { search: store.limit("fail") } })
        let after = false
        const child = Task.make("child", Effect.zipRight(
          Effect.sleep(100),
          Effect.sync(() => void (store.available = false))
        ), { group: "search" })
        const parent = Task.make(
          "parent",
          Effect.gen(function*() {
            yield* s.run([child])
            after = true
          }),
          { group: "search" }
        )
        const [result] = yield* runFor(1000, s.run([parent]))
        expect(after).toBe(false)
        expect(result.error?._tag).toBe("TaskFailed")
        if (result.error?._tag === "TaskFailed") expect(GroupLimit.isGroupLimitUnavailable(result.error.error)).toBe(true)
        expect(store.used).toBe(0)
        expect(yield* s.stats).toEqual({ active: 0, pending: 0, delayed: 0 })
      }).pipe(Effect.scoped))

    it.effect("Scheduler - starts the limit with the scheduler and stops it with it", () =>
      Effect.gen(function*() {
        const store = new FakeStore(1)
        const scope = yield* Scope.make()
        yield* Scope.extend(Scheduler.make({ groups: { search: store.limit() } }), scope)
        expect([store.started, store.stopped]).toEqual([1, 0])
        yield* Scope.close(scope, Exit.void)
        expect([store.started, store.stopped]).toEqual([1, 1])
      }))
  })

  describe("unavailable", () => {
    it.effect("run() - in \"fail\" mode, a task whose limit cannot be reached fails with GroupLimitUnavailable and never runs", () =>
      Effect.gen(function*() {
        const store = new FakeStore(2)
        store.available = false
        const probe = new Probe()
        const s = yield* Scheduler.make({ groups: { search: store.limit("fail") } })
        const results = yield* runFor(
          100,
          s.run([...sleepTasks(probe, "s", 3, 10), Task.make("free", probe.sleep("free", 10, "f"))])
        )
        expect(results.map((r) => r.ok)).toEqual([false, false, false, true])
        const error = results[0].error!
        expect(error._tag).toBe("TaskFailed")
        if (error._tag === "TaskFailed") {
          expect(GroupLimit.isGroupLimitUnavailable(error.error)).toBe(true)
          expect(error.message).toContain("group limit fake is unavailable: the store is down")
        }
        expect(results[0].attempts).toBe(0)
        expect(probe.startOrder()).toEqual(["free"])
        expect(yield* s.stats).toEqual({ active: 0, pending: 0, delayed: 0 })
      }).pipe(Effect.scoped))

    it.effect("run() - a lost permit interrupts the running attempt (\"fail\" mode: TaskFailed)", () =>
      Effect.gen(function*() {
        const store = new FakeStore(1)
        let finalized = 0
        const s = yield* Scheduler.make({ groups: { search: store.limit("fail") } })
        const task = Task.make("long", Effect.sleep(1000).pipe(Effect.ensuring(Effect.sync(() => finalized++))), {
          group: "search"
        })
        const fiber = yield* Effect.fork(s.run([task]))
        yield* TestClock.adjust(100)
        store.revokeAll()
        const [result] = yield* Fiber.join(fiber)
        expect(finalized).toBe(1)
        expect(result.error?._tag).toBe("TaskFailed")
        if (result.error?._tag === "TaskFailed") expect(GroupLimit.isGroupLimitUnavailable(result.error.error)).toBe(true)
        expect(result.durationMs).toBe(100)
      }).pipe(Effect.scoped))

    it.effect("run() - a lost permit in \"wait\" mode interrupts the attempt, which asks again and runs", () =>
      Effect.gen(function*() {
        const store = new FakeStore(1)
        const probe = new Probe()
        const s = yield* Scheduler.make({ groups: { search: store.limit("wait") } })
        const fiber = yield* Effect.fork(s.run(sleepTasks(probe, "s", 1, 1000)))
        yield* TestClock.adjust(100)
        store.revokeAll()
        yield* advance(1000, 2)
        const [result] = yield* Fiber.join(fiber)
        expect(result.ok).toBe(true)
        expect(result.attempts).toBe(2)
        expect(probe.starts.map((s) => s.at)).toEqual([0, 100])
        expect(store.used).toBe(0)
      }).pipe(Effect.scoped))

    it.effect("run() - the deadline ends a wait for a permit, which is given up", () =>
      Effect.gen(function*() {
        const store = new FakeStore(1)
        const probe = new Probe()
        const s = yield* Scheduler.make({ groups: { search: store.limit() } })
        const results = yield* runFor(500, s.run(sleepTasks(probe, "s", 2, 1000), { deadline: 500 }))
        expect(results.map((r) => r.error?._tag)).toEqual(["TaskInterrupted", "TaskInterrupted"])
        expect(store.waiters.length).toBe(0)
        expect(store.used).toBe(0)
        expect(yield* s.stats).toEqual({ active: 0, pending: 0, delayed: 0 })
      }).pipe(Effect.scoped))
  })

  describe("edge cases", () => {
    for (const maxConcurrency of [1, 10]) {
      it.effect(`run() - a second nested run started while the task is taking its permit back ends cleanly (maxConcurrency ${maxConcurrency})`, () =>
        Effect.gen(function*() {
          const store = new FakeStore(4)
          const s = yield* Scheduler.make({ maxConcurrency, groups: { search: store.limit() } })
          // A's task makes the store slow, so that the parent's request to take its permit back after A (at 10 ms)
          // is still pending when the parent starts B (at 30 ms) and when B ends (at 40 ms, the store fast again)
          const a = Task.make("A", Effect.zipRight(Effect.sleep(10), Effect.sync(() => void (store.delay = 100))), { group: "search" })
          const b = Task.make("B", Effect.sleep(10), { group: "search" })
          const startB = Effect.zipRight(Effect.sync(() => void (store.delay = 0)), s.run([b]))
          const parent = Task.make(
            "parent",
            Effect.all([s.run([a]), Effect.delay(startB, 30)], { concurrency: "unbounded" }),
            { group: "search" }
          )
          const results = yield* runFor(1000, Effect.timeoutOption(s.run([parent]), 900))
          expect(results._tag).toBe("Some") // not hung
          if (results._tag === "Some") expect(results.value[0].ok).toBe(true)
          // every slot, place and permit given back exactly once
          expect(yield* s.stats).toEqual({ active: 0, pending: 0, delayed: 0 })
          expect(store.used).toBe(0)
        }).pipe(Effect.scoped))
    }

    /** A custom limit of one place whose limiter is made by `make` around a working permit store. */
    const custom = (acquire: (n: number) => Effect.Effect<GroupLimit.Permit, GroupLimit.GroupLimitUnavailable>) => {
      let n = 0
      return GroupLimit.make({
        description: "custom",
        local: 1,
        start: Effect.succeed({ acquire: () => Effect.suspend(() => acquire(++n)) })
      })
    }

    it.effect("run() - a custom limit whose acquire throws fails that task only, with GroupLimitUnavailable", () =>
      Effect.gen(function*() {
        let n = 0
        const limit = GroupLimit.make({
          description: "custom",
          local: 1,
          start: Effect.succeed({
            // the second request throws instead of returning an Effect
            acquire: () => {
              if (++n === 2) throw new Error("boom")
              return Effect.succeed({ release: () => {} })
            }
          })
        })
        const s = yield* Scheduler.make({ groups: { search: limit } })
        const tasks = [
          Task.make("a", Effect.as(Effect.sleep(10), "a"), { group: "search" }),
          Task.make("b", Effect.succeed("b"), { group: "search" }),
          Task.make("free", Effect.succeed("free"))
        ]
        const results = yield* runFor(1000, Effect.timeoutOption(s.run(tasks), 900))
        expect(results._tag).toBe("Some")
        if (results._tag === "Some") {
          const [ra, rb, rfree] = results.value
          expect(ra.value).toBe("a")
          expect(rb.error?._tag).toBe("TaskFailed")
          if (rb.error?._tag === "TaskFailed") expect(GroupLimit.isGroupLimitUnavailable(rb.error.error)).toBe(true)
          expect(rfree.value).toBe("free")
        }
        expect(yield* s.stats).toEqual({ active: 0, pending: 0, delayed: 0 })
      }).pipe(Effect.scoped))

    it.effect("run() - a permit whose release throws still gives the group's place back", () =>
      Effect.gen(function*() {
        // (the error is logged in the scheduler's context: silenced here)
        const s = yield* Scheduler.make({
          groups: { search: custom(() => Effect.succeed({ release: () => { throw new Error("release failed") } })) }
        }).pipe(Logger.withMinimumLogLevel(LogLevel.None))
        const tasks = ["a", "b", "c"].map((name) => Task.make(name, Effect.as(Effect.sleep(10), name), { group: "search" }))
        const results = yield* runFor(1000, Effect.timeoutOption(s.run(tasks), 900))
        expect(results._tag).toBe("Some")
        if (results._tag === "Some") expect(results.value.map((r) => r.value)).toEqual(["a", "b", "c"])
      }).pipe(Effect.scoped))

    it.effect("run() - a task whose permit is revoked while it waits for a slot (\"wait\") counts its whole wait", () =>
      Effect.gen(function*() {
        const store = new FakeStore(1)
        const s = yield* Scheduler.make({ maxConcurrency: 1, groups: { search: store.limit("wait") } })
        const fiber = yield* Effect.fork(s.run([
          Task.make("first", Effect.sleep(200)), // holds the only slot for 200 ms
          Task.make("second", Effect.void, { group: "search" }) // has its permit, waits for the slot
        ]))
        yield* TestClock.adjust(100)
        store.revokeAll() // second queues again (and asks again)
        yield* advance(100, 3)
        const [, second] = yield* Fiber.join(fiber)
        expect(second.ok).toBe(true)
        expect(second.waitMs).toBe(200)
      }).pipe(Effect.scoped))
  })

  describe("rate", () => {
    it.effect("rate() - starts at most `limit` attempts per window; the others wait, holding no slot", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        const s = yield* Scheduler.make({
          maxConcurrency: 3,
          groups: { llm: GroupLimit.rate({ limit: 2, window: "1 second", algorithm: "fixed-window" }) }
        })
        const results = yield* runFor(
          3000,
          s.run([...sleepTasks(probe, "l", 5, 10, "llm"), Task.make("free", probe.sleep("free", 10, "f"))])
        )
        expect(results.every((r) => r.ok)).toBe(true)
        expect(probe.startOf("free")).toBe(0)
        expect(probe.starts.filter((s) => s.name.startsWith("l")).map((s) => s.at)).toEqual([0, 0, 1000, 1000, 2000])
      }).pipe(Effect.scoped))

    it.effect("rate({ counts: \"cost\" }) - counts the tasks' cost (e.g. tokens), not their starts", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        const s = yield* Scheduler.make({
          maxConcurrency: 10,
          groups: { llm: GroupLimit.rate({ limit: 100, window: "1 second", algorithm: "fixed-window", counts: "cost" }) }
        })
        const costs = [60, 30, 60, 10, 100]
        const results = yield* runFor(
          4000,
          s.run(costs.map((cost, i) => Task.make(`c${i}`, probe.sleep(`c${i}`, 10, cost), { group: "llm", cost })))
        )
        expect(results.every((r) => r.ok)).toBe(true)
        // 60 + 30 fit the first window; 60 + 10 the second; 100 the third
        expect(probe.starts.map((s) => s.at)).toEqual([0, 0, 1000, 1000, 2000])
      }).pipe(Effect.scoped))

    it.effect("rate({ counts: \"cost\" }) - a task that used more than its estimate (actualCost) takes the difference before the next start", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        const s = yield* Scheduler.make({
          groups: { llm: GroupLimit.rate({ limit: 100, window: "1 second", algorithm: "fixed-window", counts: "cost" }) }
        })
        // estimated at 10, used 90 (as its response says)
        const big = Task.make("big", probe.sleep("big", 10, { usage: 90 }), { group: "llm", cost: 10, actualCost: (r) => r.usage })
        const first = yield* runFor(10, s.run([big]))
        const then = yield* runFor(2000, s.run([
          Task.make("small", probe.sleep("small", 10, 1), { group: "llm", cost: 10 }),
          Task.make("more", probe.sleep("more", 10, 2), { group: "llm", cost: 10 })
        ]))
        expect([...first, ...then].every((r) => r.ok)).toBe(true)
        // 90 + 10 fill the first window; without the correction "more" would start at 20
        expect(probe.starts.map((x) => x.at)).toEqual([0, 10, 1000])
      }).pipe(Effect.scoped))

    it.effect("rate({ counts: \"cost\" }) - a task costing more than the limit fails at once, saying why", () =>
      Effect.gen(function*() {
        const s = yield* Scheduler.make({
          groups: { llm: GroupLimit.rate({ limit: 100, window: "1 minute", counts: "cost" }) }
        })
        const [huge, small] = yield* s.run([
          Task.make("huge", Effect.succeed(1), { group: "llm", cost: 500 }),
          Task.make("small", Effect.succeed(2), { group: "llm", cost: 5 })
        ])
        expect(huge!.error?.message).toContain("a task costing 500 can never start: the limit allows 100 per window")
        expect(small!.ok).toBe(true)
      }).pipe(Effect.scoped))

    it("rate() and Task.make() - refuse a bad counts or cost, naming the option", () => {
      expect(thrown(() => GroupLimit.rate({ limit: 1, window: 10, counts: "tokens" as never })).option).toBe("counts")
      expect(thrown(() => Task.make("t", Effect.void, { cost: -1 })).option).toBe("cost")
      expect(thrown(() => Task.make("t", Effect.void, { cost: Number.NaN })).option).toBe("cost")
    })
  })

  describe("rate, long tasks", () => {
    it.effect("rate() - running tasks do not count: long tasks start at the rate, not `limit` at a time", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        const s = yield* Scheduler.make({
          maxConcurrency: 100,
          groups: { llm: GroupLimit.rate({ limit: 2, window: "100 millis" }) }
        })
        // 1 s tasks: with the group's places held while running, the 3rd and 4th would wait for the first two to end
        yield* runFor(3000, s.run(sleepTasks(probe, "l", 4, 1000, "llm")))
        expect(probe.starts.map((x) => x.at)).toEqual([0, 0, 50, 100])
        expect(probe.peak).toBe(4)
      }).pipe(Effect.scoped))
  })

  describe("options", () => {
    it("Scheduler.make - refuses a group that is neither a number nor a GroupLimit", () => {
      const exit = Effect.runSyncExit(Effect.scoped(Scheduler.make({ groups: { search: "8" as never } })))
      expect(Exit.isFailure(exit)).toBe(true)
      if (Exit.isFailure(exit)) {
        expect(String(exit.cause)).toContain(
          "Scheduler.make: groups.search must be an integer ≥ 1, Infinity or a GroupLimit, got \"8\" (string)"
        )
      }
    })

    it("rate() - refuses a window that is not finite (later tasks would wait forever)", () => {
      const expected = "GroupLimit.rate: window must be a finite positive duration (milliseconds as a number, or e.g. \"5 seconds\"), got"
      for (const window of [Number.POSITIVE_INFINITY, Duration.infinity] as const) {
        const error = thrown(() => GroupLimit.rate({ limit: 1, window }))
        expect(error.option).toBe("window")
        expect(error.kind).toBe("range")
        expect(error.value).toBe(window)
        expect(error.message).toContain(expected)
      }
      expect(thrown(() => GroupLimit.rate({ limit: 1, window: Number.POSITIVE_INFINITY })).message).toBe(
        `${expected} Infinity (number)`
      )
    })

    it("rate() and make() - refuse bad options, naming them", () => {
      expect(thrown(() => GroupLimit.rate({ limit: 0, window: "1 second" })).message).toBe(
        "GroupLimit.rate: limit must be an integer ≥ 1, got 0 (number)"
      )
      expect(thrown(() => GroupLimit.rate({ limit: 1, window: -5 })).option).toBe("window")
      expect(
        thrown(() => GroupLimit.make({ description: "x", local: 0, start: Effect.never })).message
      ).toBe("GroupLimit.make: local must be an integer ≥ 1 or Infinity, got 0 (number)")
      expect(InvalidOption.isInvalidOption(
        thrown(() => GroupLimit.make({ description: "x", local: 1, onUnavailable: "hang" as never, start: Effect.never }))
      )).toBe(true)
    })
  })

  describe("properties", () => {
    const arbitraries = {
      tasks: FastCheck.array(
        FastCheck.record({
          ms: FastCheck.integer({ min: 1, max: 50 }),
          priority: FastCheck.integer({ min: 0, max: 2 }),
          grouped: FastCheck.boolean(),
          fails: FastCheck.boolean()
        }),
        { minLength: 1, maxLength: 25 }
      ),
      max: FastCheck.integer({ min: 1, max: 3 }),
      cap: FastCheck.integer({ min: 1, max: 4 }),
      delay: FastCheck.integer({ min: 0, max: 20 }),
      mode: FastCheck.constantFrom<GroupLimit.OnUnavailable>("fail", "wait"),
      events: FastCheck.array(
        FastCheck.record({
          at: FastCheck.integer({ min: 0, max: 400 }),
          kind: FastCheck.constantFrom("revoke", "down", "up")
        }),
        { maxLength: 6 }
      )
    }

    it.effect.prop(
      "with random grant delays, outages and lost permits: one result per task, no permit leaked, nobody left waiting",
      arbitraries,
      ({ cap, delay, events, max, mode, tasks }) =>
        Effect.gen(function*() {
          const store = new FakeStore(max)
          store.delay = delay
          const s = yield* Scheduler.make({ maxConcurrency: cap, groups: { search: store.limit(mode) } })
          const fiber = yield* Effect.fork(s.run(tasks.map((t, i) =>
            Task.make(
              `t${i}`,
              Effect.zipRight(Effect.sleep(t.ms), t.fails ? Effect.fail("planned") : Effect.succeed(i)),
              {
                priority: t.priority,
                retries: 1,
                schedule: Schedule.spaced("10 millis"),
                ...(t.grouped ? { group: "search" } : {})
              }
            )
          )))
          let now = 0
          for (const e of [...events].sort((a, b) => a.at - b.at)) {
            yield* TestClock.adjust(e.at - now)
            now = e.at
            if (e.kind === "revoke") store.revokeAll()
            else store.available = e.kind === "up"
          }
          store.available = true
          while (fiber.unsafePoll() === null) yield* TestClock.adjust(1000)
          const results = yield* Fiber.join(fiber)
          expect(results.map((r) => r.name)).toEqual(tasks.map((_, i) => `t${i}`))
          results.forEach((r, i) => {
            if (r.ok) return expect(r.value).toBe(i)
            expect(r.error._tag).toBe("TaskFailed")
            if (r.error._tag !== "TaskFailed") return
            if (GroupLimit.isGroupLimitUnavailable(r.error.error)) {
              expect(mode).toBe("fail")
              expect(tasks[i]!.grouped).toBe(true)
            } else {
              expect(r.error.error).toBe("planned")
              expect(tasks[i]!.fails).toBe(true)
            }
          })
          if (mode === "wait") results.forEach((r, i) => expect(r.ok).toBe(!tasks[i]!.fails))
          expect(store.used).toBe(0)
          expect(store.holders.size).toBe(0)
          expect(store.waiters.length).toBe(0)
          expect(store.peak).toBeLessThanOrEqual(max)
          expect(yield* s.stats).toEqual({ active: 0, pending: 0, delayed: 0 })
        }).pipe(Effect.scoped),
      { timeout: 30_000, fastCheck: { numRuns: 60 } }
    )
  })

  describe("adaptive", () => {
    const overloaded = (probe: Probe, name: string, ms = 10) =>
      probe.track(name, Effect.andThen(Effect.sleep(ms), Effect.fail(new Overload.Overloaded({}))))
    const llm = (initial: number, max: number, min = 1) =>
      Scheduler.layer({ maxConcurrency: 64, groups: { llm: GroupLimit.adaptive({ initial, min, max }) } })

    it.effect("halves the cap on an overload, once for the attempts that were in flight together", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        expect((yield* Scheduler.stats).caps).toEqual({ llm: 8 })
        // 8 attempts started together, all refused: one decrease, not eight
        yield* runFor(10, Scheduler.run(Array.from({ length: 8 }, (_, i) => Task.make(`t${i}`, overloaded(probe, `t${i}`), { group: "llm" }))))
        expect((yield* Scheduler.stats).caps).toEqual({ llm: 4 })
        // attempts started after the decrease count again, down to min
        const later = (name: string) =>
          Effect.andThen(TestClock.adjust(1), runFor(10, Scheduler.run([Task.make(name, overloaded(probe, name), { group: "llm" })])))
        yield* later("again")
        expect((yield* Scheduler.stats).caps).toEqual({ llm: 2 })
        yield* later("more")
        yield* later("more")
        expect((yield* Scheduler.stats).caps).toEqual({ llm: 1 })
        const gauge = yield* Metric.value(Metric.tagged(Metrics.adaptiveCap, "group", "llm"))
        expect(gauge.value).toBe(1)
      }).pipe(Effect.provide(llm(8, 16))))

    it.effect("admits no more than the lowered cap, and grows back by about one per round of successes, up to max", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        yield* runFor(10, Scheduler.run([Task.make("refused", overloaded(probe, "refused"), { group: "llm" })]))
        expect((yield* Scheduler.stats).caps).toEqual({ llm: 2 })
        // 12 tasks of 10 ms: 2 at a time at first; the cap grows as they succeed
        const ok = Array.from({ length: 12 }, (_, i) => Task.make(`ok${i}`, probe.sleep(`ok${i}`, 10, i), { group: "llm" }))
        const fiber = yield* Effect.fork(Scheduler.run(ok))
        yield* TestClock.adjust(0)
        expect(probe.active).toBe(2)
        yield* advance(10, 12)
        yield* Fiber.join(fiber)
        const cap = (yield* Scheduler.stats).caps!.llm!
        expect(cap).toBeGreaterThan(2)
        expect(cap).toBeLessThanOrEqual(5)
      }).pipe(Effect.provide(llm(4, 5))))

    it.effect("without refusals it grows by about one per round of successes, and never above max", () =>
      Effect.gen(function*() {
        const probe = new Probe()
        yield* runFor(1_000, Scheduler.run(Array.from({ length: 60 }, (_, i) => Task.make(`m${i}`, probe.sleep(`m${i}`, 10, i), { group: "llm" }))))
        expect((yield* Scheduler.stats).caps).toEqual({ llm: 6 })
        expect(probe.peak).toBe(6)
      }).pipe(Effect.provide(llm(2, 6))))

    it.effect("settles at what the provider sustains (its rate of successes × their latency), with few refusals", () =>
      Effect.gen(function*() {
        // a provider that takes 3 calls at once, each 100 ms, and refuses more (429 without a wait, 5 ms later)
        let inFlight = 0
        let refused = 0
        const call = Effect.acquireUseRelease(
          Effect.sync(() => ++inFlight),
          (n) => n > 3 ? Effect.sleep(5).pipe(Effect.zipRight(Effect.sync(() => refused++)), Effect.zipRight(Effect.fail(new Overload.Overloaded({})))) : Effect.sleep(100),
          () => Effect.sync(() => inFlight--)
        )
        const tasks = Array.from({ length: 150 }, (_, i) => Task.make(`c${i}`, call, { group: "llm", retries: 10, schedule: Schedule.spaced(10) }))
        const fiber = yield* Effect.fork(Scheduler.run(tasks))
        // ideal: 150 calls, 3 at a time, 100 ms each = 5 s (halving on every round measured 6.2 s and 62 refusals)
        yield* TestClock.adjust(5_300)
        const done = yield* Fiber.poll(fiber)
        expect(Option.isSome(done)).toBe(true)
        expect((yield* Scheduler.stats).caps).toEqual({ llm: 3 })
        // the first rounds (12 sent, 9 refused; then the measure settling), then a probe every 64 rounds or so
        expect(refused).toBeLessThanOrEqual(30)
      }).pipe(Effect.provide(llm(12, 32))))

    it.effect("a scheduler without adaptive groups reports no caps", () =>
      Effect.gen(function*() {
        expect((yield* Scheduler.stats).caps).toBeUndefined()
      }).pipe(Effect.provide(Scheduler.layer({ groups: { llm: 2 } }))))

    it.effect("a limit hears its group's overloaded attempts and their waits (0: none), to share the pause or a cap; a throw is logged, not fatal", () =>
      Effect.gen(function*() {
        const heard: Array<number> = []
        const limit = GroupLimit.make({
          description: "listening",
          local: 4,
          start: Effect.succeed({
            acquire: () => Effect.succeed({ release: () => {} }),
            overloaded: (waitMs) => {
              heard.push(waitMs)
              throw new Error("listener bug")
            }
          })
        })
        const s = yield* Scheduler.make({ groups: { llm: limit } })
        const results = yield* s.run([
          Task.make("told", Effect.fail(new Overload.Overloaded({ retryAfterMs: 700 })), { group: "llm" }),
          Task.make("untold", Effect.fail(new Overload.Overloaded({})), { group: "llm" }),
          Task.make("ok", Effect.succeed(1), { group: "llm" })
        ])
        expect(heard).toEqual([700, 0])
        expect(results.map((r) => r.ok)).toEqual([false, false, true])
      }).pipe(Effect.scoped, Logger.withMinimumLogLevel(LogLevel.None)))

    it("refuses settings out of range, naming the option", () => {
      expect(thrown(() => GroupLimit.adaptive({ initial: 0, max: 4 })).option).toBe("initial")
      expect(thrown(() => GroupLimit.adaptive({ initial: 8, max: 4 })).option).toBe("initial")
      expect(thrown(() => GroupLimit.adaptive({ initial: 2, min: 3, max: 4 })).option).toBe("initial")
      expect(thrown(() => GroupLimit.adaptive({ initial: 2, max: 4, decrease: 1 })).option).toBe("decrease")
      expect(thrown(() => GroupLimit.adaptive({ initial: 2, max: 4, increase: 0 })).option).toBe("increase")
      expect(thrown(() => GroupLimit.adaptive({ initial: 2, max: Number.POSITIVE_INFINITY })).option).toBe("max")
    })
  })
})
