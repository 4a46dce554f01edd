import { describe, expect, expectTypeOf, it, vi } from "@effect/vitest"
import { MicroBatcher, type Progress, Scheduler, Task } from "../src/promise.js"
import { Overload } from "../src/index.js"
import { noUnhandledRejections, sleep } from "./promiseUtils.js"

// Real time with tiny durations, as in promise.test.ts: what is asserted is
// order, counts and which signal was aborted, never how long something took.
noUnhandledRejections()

describe("toolfan/promise (parity with the Effect API and p-queue)", () => {
  describe("stream()", () => {
    it("stream() - yields every result in completion order", async () => {
      await using scheduler = new Scheduler({ maxConcurrency: 4 })
      const names: Array<string> = []
      for await (const r of scheduler.stream([
        new Task("slow", (signal: AbortSignal) => sleep(40, signal).then(() => "s")),
        new Task("fails", () => Promise.reject(new Error("down"))),
        new Task("fast", () => sleep(5).then(() => "f"))
      ])) {
        names.push(r.name)
        if (r.name === "fails") expect(r.error?._tag).toBe("TaskFailed")
        if (r.name === "slow") expect(r.value).toBe("s")
      }
      expect(names).toEqual(["fails", "fast", "slow"])
    })

    it("stream() - leaving the loop early aborts the tasks still running, and they have settled by then", async () => {
      await using scheduler = new Scheduler({ maxConcurrency: 4 })
      const signals: Array<AbortSignal> = []
      const settled: Array<string> = []
      const hang = (name: string) =>
        new Task(name, async (signal: AbortSignal) => {
          signals.push(signal)
          try {
            await sleep(10_000, signal)
          } finally {
            settled.push(name)
          }
        })
      let first: string | undefined
      for await (const r of scheduler.stream([hang("a"), new Task("quick", () => "q"), hang("b"), hang("c")])) {
        first = r.name
        break
      }
      expect(first).toBe("quick")
      expect(signals).toHaveLength(3)
      expect(signals.every((s) => s.aborted)).toBe(true)
      expect(scheduler.stats()).toMatchObject({ active: 0, pending: 0 })
      // the run is over: the scheduler is idle
      await scheduler.onIdle()
    })

    it("stream() - runs nothing until iterated, and refuses bad arguments at once", () => {
      const scheduler = new Scheduler()
      let calls = 0
      scheduler.stream([new Task("t", () => ++calls)])
      expect(calls).toBe(0)
      expect(() => scheduler.stream(["x" as never])).toThrow(TypeError)
      expect(() => scheduler.stream([], { deadline: -1 })).toThrow(RangeError)
      return scheduler.close()
    })
  })

  describe("runPlan()", () => {
    it("runPlan() - a step receives its dependencies' values and starts as soon as they succeed (not in waves)", async () => {
      await using scheduler = new Scheduler()
      const log: Array<string> = []
      const results = await scheduler.runPlan({
        slow: { run: async () => (await sleep(40), log.push("slow done"), "s") },
        search: new Task("search", async (q: string) => (await sleep(1), [`${q}-1`, `${q}-2`]), { args: ["agents"] }),
        fetch: {
          dependencies: ["search"],
          run: async (values) => {
            log.push("fetch start")
            return `page of ${(values.search as Array<string>)[0]}`
          }
        }
      })
      expect(results.fetch.value).toBe("page of agents-1")
      expect(results.search.value).toEqual(["agents-1", "agents-2"])
      expect(results.slow.value).toBe("s")
      expect(log).toEqual(["fetch start", "slow done"])
    })

    it("runPlan() - a task whose dependency failed is skipped, naming it, and so are its dependents", async () => {
      await using scheduler = new Scheduler()
      let ran = false
      const results = await scheduler.runPlan({
        c: { dependencies: ["b"], run: () => (ran = true) },
        b: { dependencies: ["a"], run: () => (ran = true) },
        a: { run: () => Promise.reject(new Error("down")), retries: 1, backoff: () => 0 }
      })
      expect(results.a.error?._tag).toBe("TaskFailed")
      expect(results.a.attempts).toBe(2)
      expect(results.b.error).toMatchObject({ _tag: "TaskSkipped", dependency: "a" })
      expect(results.c.error).toMatchObject({ _tag: "TaskSkipped", dependency: "b" })
      expect(ran).toBe(false)
    })

    it("runPlan() - a step gets a signal, aborted on its timeout", async () => {
      await using scheduler = new Scheduler()
      let received: AbortSignal | undefined
      const results = await scheduler.runPlan({
        hang: { run: (_values, signal) => ((received = signal), sleep(10_000, signal)), timeout: 10 }
      })
      expect(results.hang.error?._tag).toBe("TaskTimedOut")
      expect(received?.aborted).toBe(true)
    })

    it("runPlan() - refuses unknown dependencies, cycles, a Task under another key and bad steps at once", () => {
      const scheduler = new Scheduler()
      expect(() => scheduler.runPlan({ a: { dependencies: ["nope"], run: () => 1 } })).toThrow(/a\.dependencies.*"nope"/)
      expect(() =>
        scheduler.runPlan({ a: { dependencies: ["b"], run: () => 1 }, b: { dependencies: ["a"], run: () => 1 } })
      ).toThrow(/a → b → a/)
      expect(() => scheduler.runPlan({ x: new Task("y", () => 1) })).toThrow(RangeError)
      expect(() => scheduler.runPlan({ a: { run: "no" } as never })).toThrow(TypeError)
      expect(() => scheduler.runPlan({ a: { run: () => 1, timeout: -1 } })).toThrow(RangeError)
      expect(() => scheduler.runPlan("plan" as never)).toThrow(TypeError)
      return scheduler.close()
    })
  })

  it("types - runPlan() and stream() results are typed from the tasks", async () => {
    await using scheduler = new Scheduler()
    const results = await scheduler.runPlan({
      n: new Task("n", async (x: number) => x * 2, { args: [2] }),
      s: { dependencies: ["n"], run: async ({ n }) => `${n as number}` }
    })
    expectTypeOf(results.n.value).toEqualTypeOf<number | undefined>()
    expectTypeOf(results.s.value).toEqualTypeOf<string | undefined>()
    expect([results.n.value, results.s.value]).toEqual([4, "4"])
    for await (const r of scheduler.stream([new Task("a", () => "x")])) {
      expectTypeOf(r.value).toEqualTypeOf<string | undefined>()
      expect(r.value).toBe("x")
    }
  })

  describe("onProgress", () => {
    it("run() - reports starts, retries and settlements with counts, all before run resolves", async () => {
      await using scheduler = new Scheduler({ maxConcurrency: 1 })
      const events: Array<Progress.Event> = []
      let calls = 0
      const results = await scheduler.run([
        new Task("flaky", async () => {
          if (++calls === 1) throw new Error("flaky")
          return "ok"
        }, { retries: 1, backoff: () => 1 }),
        new Task("broken", () => Promise.reject(new Error("down")))
      ], { onProgress: (e) => events.push(e) })
      expect(results.map((r) => r.ok)).toEqual([true, false])
      const of = (task: string) => events.filter((e) => e.task === task).map((e) => `${e.type} ${e.attempt}`)
      expect(of("flaky")).toEqual(["started 1", "retrying 1", "started 2", "settled 2"])
      expect(of("broken")).toEqual(["started 1", "settled 1"])
      // the counts add up at every event, and never show more running than the cap
      for (const { counts } of events) {
        expect(counts.total).toBe(2)
        expect(counts.queued + counts.running + counts.done).toBe(2)
        expect(counts.running).toBeLessThanOrEqual(1)
      }
      const retrying = events.find((e) => e.type === "retrying")!
      expect(retrying.type === "retrying" && [retrying.delayMs, (retrying.error.cause as Error).message]).toEqual([1, "flaky"])
      expect(events.at(-1)!.counts).toEqual({ total: 2, queued: 0, running: 0, done: 2, failed: 1 })
      const settled = events.find((e) => e.type === "settled" && e.task === "flaky")!
      expect(settled.type === "settled" && settled.result).toBe(results[0])
    })

    it("run() - a listener that throws does not break the run; its first throw is reported with console.error", async () => {
      await using scheduler = new Scheduler()
      const error = vi.spyOn(console, "error").mockImplementation(() => {})
      try {
        let seen = 0
        const results = await scheduler.run([new Task("a", () => 1), new Task("b", () => 2)], {
          onProgress: () => {
            seen++
            throw new Error("bad listener")
          }
        })
        expect(results.map((r) => r.value)).toEqual([1, 2])
        expect(seen).toBe(4)
        expect(error).toHaveBeenCalledTimes(1)
        expect(String(error.mock.calls[0]![0])).toContain("onProgress")
      } finally {
        error.mockRestore()
      }
    })

    it("run() - a listener may start a run on the same scheduler", async () => {
      await using scheduler = new Scheduler({ maxConcurrency: 1 })
      const inner: Array<Promise<unknown>> = []
      const results = await scheduler.run([new Task("a", () => 1)], {
        onProgress: (e) => {
          if (e.type === "started") inner.push(scheduler.run([new Task("inner", () => 2)]))
        }
      })
      expect(results[0].value).toBe(1)
      expect(await Promise.all(inner)).toMatchObject([[{ value: 2 }]])
    })

    it("runPlan() and stream() - report progress too; a bad listener is refused", async () => {
      await using scheduler = new Scheduler()
      const types: Array<string> = []
      await scheduler.runPlan({ a: { run: () => 1 }, b: { dependencies: ["a"], run: () => 2 } }, {
        onProgress: (e) => types.push(`${e.type} ${e.task} ${e.counts.done}/${e.counts.total}`)
      })
      expect(types).toEqual(["started a 0/2", "settled a 1/2", "started b 1/2", "settled b 2/2"])
      const streamed: Array<string> = []
      for await (const _ of scheduler.stream([new Task("s", () => 1)], { onProgress: (e) => streamed.push(e.type) })) {
        // consume
      }
      expect(streamed).toEqual(["started", "settled"])
      expect(() => scheduler.run([], { onProgress: 1 as never })).toThrow(TypeError)
    })
  })

  describe("backoff", () => {
    it("Task - backoff receives the attempt that failed and its error", async () => {
      await using scheduler = new Scheduler()
      const seen: Array<unknown> = []
      let calls = 0
      const [r] = await scheduler.run([
        new Task("flaky", async () => {
          throw new Error(`fail ${++calls}`)
        }, {
          retries: 2,
          backoff: (attempt, error) => {
            seen.push([attempt, (error as Error).message])
            return 1
          }
        })
      ])
      expect(r.attempts).toBe(3)
      expect(seen).toEqual([[1, "fail 1"], [2, "fail 2"]])
    })

    it("Task - a timed-out attempt gives backoff a TaskTimedOut", async () => {
      await using scheduler = new Scheduler()
      const tags: Array<unknown> = []
      await scheduler.run([
        new Task("hang", (signal: AbortSignal) => sleep(10_000, signal), {
          timeout: 5,
          retries: 1,
          backoff: (_, error) => (tags.push((error as { _tag: string })._tag), 0)
        })
      ])
      expect(tags).toEqual(["TaskTimedOut"])
    })

    it("Task - a provider's Retry-After sets a minimum: the retry waits the longer of the two", async () => {
      await using scheduler = new Scheduler()
      const delays: Array<number> = []
      let calls = 0
      const [r] = await scheduler.run([
        new Task("limited", async () => {
          if (++calls === 1) throw new Overload.Overloaded({ retryAfterMs: 20 })
          if (calls === 2) throw new Overload.Overloaded({ retryAfterMs: 1 })
          return "ok"
        }, { retries: 2, backoff: () => 5 })
      ], { onProgress: (e) => e.type === "retrying" && delays.push(e.delayMs) })
      expect(r.value).toBe("ok")
      expect(delays).toEqual([20, 5])
    })

    it("Task - a backoff that throws or returns a bad wait ends the task as a TaskDefect", async () => {
      await using scheduler = new Scheduler()
      const [threw, negative] = await scheduler.run([
        new Task("threw", () => Promise.reject(new Error("x")), {
          retries: 1,
          backoff: () => {
            throw new Error("bad backoff")
          }
        }),
        new Task("negative", () => Promise.reject(new Error("x")), { retries: 1, backoff: () => -1 })
      ])
      expect(threw.error).toMatchObject({ _tag: "TaskDefect", attempts: 1 })
      expect((threw.error?.cause as Error).message).toBe("bad backoff")
      expect(negative.error?._tag).toBe("TaskDefect")
      expect((negative.error?.cause as Error).message).toMatch(/backoff must return a finite number of milliseconds ≥ 0, got -1/)
    })

    it("Task - refuses a backoff that is not a function, and a schedule", () => {
      expect(() => new Task("t", () => 1, { backoff: 5 as never })).toThrow(TypeError)
      expect(() => new Task("t", () => 1, { schedule: 5 } as never)).toThrow(/backoff/)
    })
  })

  describe("onIdle() and clear()", () => {
    it("onIdle() - resolves at once when idle, else once every run has settled", async () => {
      await using scheduler = new Scheduler({ maxConcurrency: 1 })
      await scheduler.onIdle()
      const done: Array<string> = []
      const runs = [
        scheduler.run([new Task("a", () => sleep(5).then(() => done.push("a")))]),
        scheduler.run([new Task("b", () => sleep(5).then(() => done.push("b")))])
      ]
      await scheduler.onIdle()
      expect(done).toEqual(["a", "b"])
      expect(scheduler.stats()).toMatchObject({ active: 0, pending: 0, delayed: 0 })
      await Promise.all(runs)
    })

    it("clear() - settles queued and backing-off tasks as TaskInterrupted (cleared); running ones go on", async () => {
      await using scheduler = new Scheduler({ maxConcurrency: 1 })
      let aborted = false
      let retried = false
      const backingOff = scheduler.run([
        new Task("retry", async () => {
          if (retried) return "again"
          retried = true
          throw new Error("x")
        }, { retries: 1, backoff: () => 60_000 })
      ])
      const run = scheduler.run([
        new Task("running", async (signal: AbortSignal) => {
          signal.addEventListener("abort", () => (aborted = true))
          await sleep(20)
          return "done"
        }),
        new Task("queued1", () => 1),
        new Task("queued2", () => 2)
      ])
      await sleep(5)
      expect(scheduler.stats()).toMatchObject({ active: 1, pending: 2, delayed: 1 })
      expect(scheduler.clear()).toBe(3)
      const [running, q1, q2] = await run
      expect(running.value).toBe("done")
      expect(aborted).toBe(false)
      for (const r of [q1, q2]) expect(r.error).toMatchObject({ _tag: "TaskInterrupted", reason: "cleared", attempts: 0 })
      expect(q1.error?.message).toBe(`task "queued1" was not started: its scheduler's queue was cleared`)
      const [retry] = await backingOff
      expect(retry.error).toMatchObject({ _tag: "TaskInterrupted", reason: "cleared", attempts: 1 })
      // the scheduler stays usable
      expect((await scheduler.run([new Task("after", () => 3)]))[0].value).toBe(3)
    })

    it("clear() - in a plan, a cleared task's dependents are skipped", async () => {
      await using scheduler = new Scheduler({ maxConcurrency: 1 })
      const plan = scheduler.runPlan({
        first: { run: () => sleep(10).then(() => 1) },
        second: { run: () => 2 },
        third: { dependencies: ["second"], run: () => 3 }
      })
      await sleep(2)
      expect(scheduler.clear()).toBe(1)
      const results = await plan
      expect(results.first.value).toBe(1)
      expect(results.second.error).toMatchObject({ _tag: "TaskInterrupted", reason: "cleared" })
      expect(results.third.error).toMatchObject({ _tag: "TaskSkipped", dependency: "second" })
    })
  })

  describe("maxQueued", () => {
    it("Scheduler - refuses at once the tasks beyond maxQueued waiting ones (TaskInterrupted, queueFull)", async () => {
      await using scheduler = new Scheduler({ maxConcurrency: 2, maxQueued: 1 })
      let calls = 0
      const task = (name: string) => new Task(name, () => sleep(5).then(() => ++calls))
      const results = await scheduler.run([task("a"), task("b"), task("c"), task("d"), task("e")])
      expect(results.map((r) => r.ok)).toEqual([true, true, true, false, false])
      expect(results[3].error).toMatchObject({ _tag: "TaskInterrupted", reason: "queueFull", attempts: 0 })
      expect(results[3].error?.message).toContain("maxQueued")
      expect(calls).toBe(3)
      // the bound counts across runs: a second run while the queue is full is refused too
      const first = scheduler.run([task("f"), task("g"), task("h")])
      const [second] = await scheduler.run([task("i")])
      expect(second.error).toMatchObject({ reason: "queueFull" })
      expect((await first).every((r) => r.ok)).toBe(true)
    })

    it("Scheduler - refuses a bad maxQueued", () => {
      expect(() => new Scheduler({ maxQueued: -1 })).toThrow(RangeError)
      expect(() => new Scheduler({ maxQueued: "5" as never })).toThrow(TypeError)
    })
  })

  describe("Symbol.asyncDispose", () => {
    it("await using - closes the scheduler and the batcher at the end of the block", async () => {
      let outer: Scheduler | undefined
      let batcher: MicroBatcher<number, number> | undefined
      {
        await using scheduler = new Scheduler()
        await using b = new MicroBatcher(async (items: ReadonlyArray<number>) => items.map((i) => i * 2))
        outer = scheduler
        batcher = b
        expect(await b.submit(2)).toBe(4)
      }
      const [r] = await outer.run([new Task("late", () => 1)])
      expect(r.error).toMatchObject({ _tag: "TaskInterrupted", reason: "shutdown" })
      await expect(batcher.submit(1)).rejects.toMatchObject({ _tag: "BatcherClosed" })
      expect(typeof (outer as unknown as Record<symbol, unknown>)[Symbol.asyncDispose]).toBe("function")
    })
  })
})
