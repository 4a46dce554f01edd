import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { AsyncLocalStorage } from "node:async_hooks"
import * as Effect from "effect/Effect"
import { GroupLimit } from "../src/index.js"
import { MicroBatcher, Scheduler, Task } from "../src/promise.js"
import { noUnhandledRejections, sleep } from "./promiseUtils.js"

// Real time here: the Promise API is for code without Effect, so these are
// small integration tests with a few milliseconds of sleep; behaviour in
// virtual time is covered by Scheduler.test.ts on the same core.
const unhandled = noUnhandledRejections()

describe("toolfan/promise", () => {
  it("Scheduler.run() - one result per task, in input order, and never rejects", async () => {
    const scheduler = new Scheduler({ maxConcurrency: 4 })
    const search = async (query: string, n: number) => {
      await sleep(n)
      return `${query}:${n}`
    }
    const results = await scheduler.run([
      new Task("slow", search, { args: ["a", 30] }),
      new Task("fast", search, { args: ["b", 1] }),
      new Task("fails", () => Promise.reject(new Error("down"))),
      new Task("throws", () => {
        throw "not an Error"
      })
    ])
    expect(results.map((r) => r.name)).toEqual(["slow", "fast", "fails", "throws"])
    expect(results[0].value).toBe("a:30")
    expect(results[1].value).toBe("b:1")
    expect(results[2].ok).toBe(false)
    expect(results[2].error?._tag).toBe("TaskFailed")
    expect((results[2].error?.cause as Error).message).toBe("down")
    expect(results[3].error?.cause).toBe("not an Error")
    expect(results[0].durationMs).toBeGreaterThanOrEqual(25)
    await scheduler.close()
    await sleep(5)
    expect(unhandled).toEqual([])
  })

  it("Task - calls fn(...args, signal) and aborts the signal on timeout", async () => {
    const scheduler = new Scheduler()
    let received: Array<unknown> = []
    const results = await scheduler.run([
      new Task("hang", (a: number, b: string, signal: AbortSignal) => {
        received = [a, b, signal]
        return sleep(10_000, signal)
      }, { args: [1, "x"], timeout: 20 })
    ])
    expect(received.slice(0, 2)).toEqual([1, "x"])
    expect((received[2] as AbortSignal).aborted).toBe(true)
    expect(results[0].error?._tag).toBe("TaskTimedOut")
    await scheduler.close()
  })

  it("Task - retries a flaky function", async () => {
    const scheduler = new Scheduler()
    let calls = 0
    const [result] = await scheduler.run([
      new Task("flaky", async () => {
        if (++calls < 3) throw new Error("flaky")
        return "ok"
      }, { retries: 3 })
    ])
    expect([result.value, result.attempts]).toEqual(["ok", 3])
    await scheduler.close()
  })

  it("Scheduler.run() - a deadline in milliseconds returns every result", async () => {
    const scheduler = new Scheduler()
    const [quick, slow] = await scheduler.run([
      new Task("quick", () => "q"),
      new Task("slow", (signal: AbortSignal) => sleep(10_000, signal))
    ], { deadline: 30 })
    expect(quick.value).toBe("q")
    expect(slow.error?._tag).toBe("TaskInterrupted")
    await scheduler.close()
  })

  it("Scheduler - the cap holds across runs and stats() reports the load", async () => {
    const scheduler = new Scheduler({ maxConcurrency: 2 })
    let active = 0
    let peak = 0
    const work = async () => {
      peak = Math.max(peak, ++active)
      await sleep(5)
      active--
    }
    const tasks = () => Array.from({ length: 5 }, (_, i) => new Task(`t${i}`, work))
    const running = Promise.all([scheduler.run(tasks()), scheduler.run(tasks())])
    await sleep(1)
    expect(scheduler.stats().active).toBe(2)
    await running
    expect(peak).toBe(2)
    expect(scheduler.stats()).toEqual({ active: 0, pending: 0, delayed: 0 })
    await scheduler.close()
  })

  it("close() - interrupts work in flight; later runs report TaskInterrupted", async () => {
    const scheduler = new Scheduler()
    let signal: AbortSignal | undefined
    const running = scheduler.run([new Task("hang", (s: AbortSignal) => {
      signal = s
      return new Promise(() => {})
    })])
    await sleep(1)
    await scheduler.close()
    const [result] = await running
    expect(result.error?._tag).toBe("TaskInterrupted")
    expect(signal?.aborted).toBe(true)
    const [late] = await scheduler.run([new Task("late", () => 1)])
    expect(late.error?._tag).toBe("TaskInterrupted")
  })

  it("Scheduler.run() - a run given its task's signal borrows the task's slot (no deadlock)", async () => {
    const scheduler = new Scheduler({ maxConcurrency: 1 })
    const [outer] = await scheduler.run([
      new Task("outer", async (signal: AbortSignal) => {
        const inner = await scheduler.run([new Task("a", () => "a"), new Task("b", () => "b")], { signal })
        return inner.map((r) => r.value)
      }, { timeout: 2000 })
    ])
    expect(outer.value).toEqual(["a", "b"])
    expect(scheduler.stats()).toEqual({ active: 0, pending: 0, delayed: 0 })
    await scheduler.close()
  })

  it("Scheduler.run() - aborting the signal ends the run with every result", async () => {
    const scheduler = new Scheduler()
    const controller = new AbortController()
    let inner: AbortSignal | undefined
    const running = scheduler.run([
      new Task("quick", () => 1),
      new Task("hang", (s: AbortSignal) => {
        inner = s
        return new Promise(() => {})
      })
    ], { signal: controller.signal })
    await sleep(5)
    controller.abort()
    const [quick, hang] = await running
    expect(quick.value).toBe(1)
    expect(hang.error?._tag).toBe("TaskInterrupted")
    expect(inner?.aborted).toBe(true)
    const [late] = await scheduler.run([new Task("late", () => 2)], { signal: controller.signal })
    expect(late.error?._tag).toBe("TaskInterrupted")
    await scheduler.close()
  })

  it("Scheduler - a group limit that starts asynchronously (connects first): runs wait for it, close() stops it", async () => {
    const events: Array<string> = []
    const limit = GroupLimit.make({
      description: "slow to start",
      local: 1,
      start: Effect.acquireRelease(
        Effect.as(Effect.promise(() => sleep(20)), {
          acquire: () => Effect.succeed({ release: () => void events.push("released") })
        }).pipe(Effect.tap(() => Effect.sync(() => void events.push("started")))),
        () => Effect.sync(() => void events.push("stopped"))
      )
    })
    const scheduler = new Scheduler({ groups: { g: limit } })
    expect(scheduler.stats()).toEqual({ active: 0, pending: 0, delayed: 0 })
    const results = await scheduler.run([new Task("a", () => events.push("ran a"), { group: "g" }), new Task("b", () => 2)])
    expect(results.map((r) => r.ok)).toEqual([true, true])
    await scheduler.close()
    expect(events).toEqual(["started", "ran a", "released", "stopped"])
  })

  it("close() - every call returns the same promise (a second call waits for the same shutdown)", async () => {
    const scheduler = new Scheduler()
    const first = scheduler.close()
    expect(scheduler.close()).toBe(first)
    await first
  })

  it("TaskResult - JSON keeps the error's message", async () => {
    const scheduler = new Scheduler()
    const [result] = await scheduler.run([new Task("down", () => Promise.reject(new Error("503")))])
    expect(JSON.parse(JSON.stringify(result)).error).toMatchObject({
      _tag: "TaskFailed",
      message: `task "down" failed: 503`
    })
    await scheduler.close()
  })

  describe("runs nested through `parent`", () => {
    // a run started inside a task, given the task's signal as `parent` and a cancellation signal of its own (as an
    // adapter that finds the task's signal in an AsyncLocalStorage does)
    const outerWith = (scheduler: Scheduler, inner: (parent: AbortSignal) => Promise<unknown>) =>
      scheduler.run([new Task("outer", (signal: AbortSignal) => inner(signal))])

    it("run() - borrows the task's slot: two nested tasks on a cap of 1 finish (they would wait for ever otherwise)", async () => {
      const scheduler = new Scheduler({ maxConcurrency: 1 })
      const own = new AbortController()
      const [outer] = await outerWith(scheduler, (parent) =>
        scheduler.run(["a", "b"].map((n) => new Task(n, async () => (await sleep(2), n))), { signal: own.signal, parent }))
      expect(outer.ok).toBe(true)
      expect((outer.value as ReadonlyArray<{ value?: unknown }>).map((r) => r.value)).toEqual(["a", "b"])
      await scheduler.close()
    })

    it("run() - its own signal still cancels it; the task's abort cuts it too", async () => {
      const scheduler = new Scheduler({ maxConcurrency: 1 })
      const own = new AbortController()
      const [cancelled] = await outerWith(scheduler, async (parent) => {
        const run = scheduler.run([new Task("slow", (s: AbortSignal) => sleep(10_000, s))], { signal: own.signal, parent })
        await sleep(5)
        own.abort()
        return (await run)[0].error?._tag
      })
      expect(cancelled.value).toBe("TaskInterrupted")
      let inner: Promise<string | undefined> | undefined
      const [timedOut] = await scheduler.run([
        new Task("outer", (parent: AbortSignal) => {
          const run = scheduler.run([new Task("slow", (s: AbortSignal) => sleep(10_000, s))], { signal: new AbortController().signal, parent })
          inner = run.then(([r]) => r.error?._tag)
          return run
        }, { timeout: 20 })
      ])
      expect(timedOut.error?._tag).toBe("TaskTimedOut")
      expect(await inner).toBe("TaskInterrupted")
      await scheduler.close()
    })

    it("run() - refuses a parent that is not an AbortSignal, naming it", async () => {
      const scheduler = new Scheduler()
      expect(() => scheduler.run([], { parent: "x" as never })).toThrow("scheduler.run: parent must be an AbortSignal (a task's), got \"x\" (string)")
      await scheduler.close()
    })
  })

  describe("bad options", () => {
    it("throw a RangeError or TypeError naming the option and the value", () => {
      expect(() => new Scheduler({ maxConcurrency: 0 })).toThrow(RangeError)
      expect(() => new Scheduler({ maxConcurrency: 1.5 })).toThrow(
        "Scheduler: maxConcurrency must be an integer ≥ 1 or Infinity, got 1.5 (number)"
      )
      expect(() => new Scheduler({ maxConcurrency: "8" as any })).toThrow(TypeError)
      expect(() => new Task("t", () => 1, { timeout: -5 })).toThrow(RangeError)
      // its times are milliseconds: the message does not suggest "5 seconds"
      expect(() => new Task("t", () => 1, { timeout: -5 })).toThrow(
        "Task: timeout must be a positive number of milliseconds, got -5 (number)"
      )
      expect(() => new Task("t", () => 1, { timeout: Number.NaN })).toThrow("got NaN (number)")
      expect(() => new Task("t", () => 1, { retries: -1 })).toThrow("Task: retries must be an integer ≥ 0, got -1")
      expect(() => new (Task as any)("t", "nope")).toThrow(TypeError)
      expect(() => new Task("t", () => 1, { args: "x" as any })).toThrow("Task: args must be an array")
      expect(() => new Task("t", () => 1, { schedule: 5 } as any)).toThrow("Task: options.schedule must be left out")
      const scheduler = new Scheduler()
      expect(() => scheduler.run([{ name: "fake" } as any])).toThrow(TypeError)
      expect(() => scheduler.run([new Task("t", () => 1)], { deadline: -1 })).toThrow(RangeError)
      expect(() => scheduler.run([new Task("t", () => 1)], { signal: {} as any })).toThrow(
        "scheduler.run: signal must be an AbortSignal, got {} (object)"
      )
      // a hole in the array, and a misspelt option
      expect(() => scheduler.run([, new Task("t", () => 1)] as any)).toThrow("scheduler.run: tasks[0] must be a Task")
      expect(() => scheduler.run([new Task("t", () => 1)], { deadLine: 10 } as any)).toThrow(TypeError)
      return scheduler.close()
    })

    it("new Scheduler() - refuses an unknown option, suggesting the one meant", () => {
      expect(() => new Scheduler({ concurrency: 8 } as any)).toThrow(TypeError)
      expect(() => new Scheduler({ concurrency: 8 } as any)).toThrow(
        "Scheduler: options.concurrency must be one of maxConcurrency, groups, maxQueued (unknown option — did you mean maxConcurrency?), got \"concurrency\" (string)"
      )
      expect(() => new Scheduler({ maxConcurency: 3 } as any)).toThrow("did you mean maxConcurrency?")
    })
  })

  describe("context of the caller", () => {
    it("run() - a task runs in the AsyncLocalStorage context of the run() that brought it, not of the task that freed its slot", async () => {
      const als = new AsyncLocalStorage<string>()
      const scheduler = new Scheduler({ maxConcurrency: 1 })
      const seen = (name: string) =>
        new Task(name, async () => {
          const before = als.getStore()
          await sleep(5)
          return [before, als.getStore()]
        })
      const [a, b, c] = await Promise.all([
        als.run("A", () => scheduler.run([seen("a1"), seen("a2")])),
        als.run("B", () => scheduler.run([seen("b1"), seen("b2")])),
        scheduler.run([seen("none")])
      ])
      expect(a.map((r) => r.value)).toEqual([["A", "A"], ["A", "A"]])
      expect(b.map((r) => r.value)).toEqual([["B", "B"], ["B", "B"]])
      expect(c[0].value).toEqual([undefined, undefined])
      await scheduler.close()
    })

    it("run() - a task without parameters (no signal) also gets its caller's context", async () => {
      const als = new AsyncLocalStorage<string>()
      const scheduler = new Scheduler({ maxConcurrency: 1 })
      const [, b] = await Promise.all([
        als.run("A", () => scheduler.run([new Task("slow", () => sleep(10))])),
        als.run("B", () => scheduler.run([new Task("b", () => als.getStore())]))
      ])
      expect(b[0].value).toBe("B")
      await scheduler.close()
    })
  })

  describe("signals and timers", () => {
    const warnings: Array<Error> = []
    const onWarning = (w: Error) => warnings.push(w)
    beforeAll(() => {
      process.on("warning", onWarning)
    })
    afterAll(() => {
      process.off("warning", onWarning)
    })

    it("run() - 20 runs sharing one caller signal print no MaxListenersExceededWarning, and the signal still cancels them all", async () => {
      warnings.length = 0
      const scheduler = new Scheduler({ maxConcurrency: 4 })
      const controller = new AbortController()
      const runs = Array.from({ length: 20 }, (_, i) =>
        scheduler.run([new Task(`t${i}`, (signal: AbortSignal) => sleep(10_000, signal))], { signal: controller.signal })
      )
      await sleep(5)
      controller.abort()
      const results = await Promise.all(runs)
      expect(results.map((r) => r[0].error?._tag)).toEqual(Array(20).fill("TaskInterrupted"))
      await sleep(0)
      expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning")).toEqual([])
      await scheduler.close()
    })

    it("run() - 20 nested runs on one task's signal print no MaxListenersExceededWarning", async () => {
      warnings.length = 0
      const scheduler = new Scheduler({ maxConcurrency: 2 })
      const [parent] = await scheduler.run([
        new Task("fan-out", async (signal: AbortSignal) => {
          const nested = await Promise.all(
            Array.from({ length: 20 }, (_, i) => scheduler.run([new Task(`n${i}`, async () => i)], { signal }))
          )
          return nested.map((r) => r[0].value)
        })
      ])
      expect(parent.value).toEqual(Array.from({ length: 20 }, (_, i) => i))
      await sleep(0)
      expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning")).toEqual([])
      await scheduler.close()
    })

    it("run() - a deadline above 2^31-1 ms while a group limit starts does not end the run at once (no timer overflow)", async () => {
      warnings.length = 0
      const scheduler = new Scheduler({
        groups: { g: GroupLimit.make({ description: "slow start", local: 1, start: Effect.as(Effect.sleep("20 millis"), { acquire: () => Effect.succeed({ release: () => {} }) }) }) }
      })
      const [result] = await scheduler.run([new Task("t", async () => "done", { group: "g" })], { deadline: 2 ** 31 + 1000 })
      expect(result.value).toBe("done")
      expect(warnings.filter((w) => w.name === "TimeoutOverflowWarning")).toEqual([])
      await scheduler.close()
    })

    it("run() - a timed-out attempt's signal is aborted with a TimeoutError, a cancelled one with an AbortError", async () => {
      const scheduler = new Scheduler({ maxConcurrency: 2 })
      const reasons: Array<unknown> = []
      const hang = (signal: AbortSignal) =>
        new Promise((_, reject) => signal.addEventListener("abort", () => {
          reasons.push(signal.reason)
          reject(signal.reason)
        }))
      const controller = new AbortController()
      const run = scheduler.run([new Task("slow", hang, { timeout: 10 }), new Task("cut", hang)], { signal: controller.signal })
      await sleep(30)
      controller.abort()
      const [slow, cut] = await run
      expect(slow.error?._tag).toBe("TaskTimedOut")
      expect(cut.error?._tag).toBe("TaskInterrupted")
      expect((reasons[0] as DOMException).name).toBe("TimeoutError")
      expect((reasons[0] as DOMException).message).toContain(`"slow" timed out after 10 ms`)
      expect((reasons[1] as DOMException).name).toBe("AbortError")
      await scheduler.close()
    })
  })

  describe("while a group limit is still starting", () => {
    const starting = (start: GroupLimit.GroupLimit["start"]) =>
      new Scheduler({ groups: { g: GroupLimit.make({ description: "slow", local: 1, start }) } })
    const tags = (results: ReadonlyArray<{ readonly error?: unknown }>) =>
      results.map((r) => {
        const e = r.error as { _tag?: string; reason?: string } | undefined
        return e === undefined ? "ok" : `${e._tag}:${e.reason}`
      })

    it("a run's deadline and signal still apply, and close() stops the start and settles every run", async () => {
      const scheduler = starting(Effect.never)
      const t = () => new Task("t", () => 1, { group: "g" })
      expect(tags(await scheduler.run([t()], { deadline: 30 }))).toEqual(["TaskInterrupted:deadline"])
      const controller = new AbortController()
      const aborted = scheduler.run([t()], { signal: controller.signal })
      controller.abort()
      expect(tags(await aborted)).toEqual(["TaskInterrupted:interrupted"])
      const waiting = scheduler.run([t(), t()])
      await scheduler.close()
      expect(tags(await waiting)).toEqual(["TaskInterrupted:shutdown", "TaskInterrupted:shutdown"])
    })

    it("a start that fails settles the runs (every task interrupted), it does not reject them", async () => {
      const scheduler = starting(Effect.flatMap(Effect.promise(() => sleep(10)), () => Effect.die(new Error("cannot connect"))))
      expect(tags(await scheduler.run([new Task("t", () => 1, { group: "g" })]))).toEqual(["TaskInterrupted:shutdown"])
      await scheduler.close()
    })
  })

  it("Task - a thenable whose then() throws is the task failing (and retried), not a defect", async () => {
    let calls = 0
    const scheduler = new Scheduler()
    const thenable = () => {
      calls++
      return calls === 1 ? { then: () => { throw new Error("broken thenable") } } : Promise.resolve("ok")
    }
    const [r] = await scheduler.run([new Task("t", thenable as () => Promise<string>, { retries: 1 })])
    expect(r.value).toBe("ok")
    expect(r.attempts).toBe(2)
    await scheduler.close()
  })

  it("close() - a nested run's tasks report the shutdown too", async () => {
    const scheduler = new Scheduler()
    let nested: ReadonlyArray<{ readonly error?: unknown }> = []
    const child = new Task("child", (signal: AbortSignal) => sleep(10_000, signal))
    const parent = new Task("parent", async (signal: AbortSignal) => {
      nested = await scheduler.run([child], { signal })
    })
    const outer = scheduler.run([parent])
    await sleep(20)
    await scheduler.close()
    await outer
    expect((nested[0]!.error as { reason?: string }).reason).toBe("shutdown")
  })
})

describe("toolfan/promise MicroBatcher", () => {
  it("submit() - the batch function runs in the AsyncLocalStorage context where the batcher was made, not in a caller's", async () => {
    const als = new AsyncLocalStorage<string>()
    const seen: Array<string | undefined> = []
    const batcher = als.run("owner", () =>
      new MicroBatcher(async (xs: ReadonlyArray<number>) => {
        seen.push(als.getStore())
        await sleep(1)
        seen.push(als.getStore())
        return xs
      }, { maxSize: 2, maxWait: 5 }))
    const outputs = await Promise.all([
      als.run("A", () => batcher.submit(1)),
      als.run("B", () => batcher.submit(2)),
      als.run("C", () => batcher.submit(3))
    ])
    expect(outputs).toEqual([1, 2, 3])
    expect(seen).toEqual(["owner", "owner", "owner", "owner"])
    await batcher.close()
  })

  it("submit() - 50 concurrent submits with maxSize 16 make 4 calls [16, 16, 16, 2]", async () => {
    const shapes: Array<number> = []
    const batcher = new MicroBatcher(async (texts: ReadonlyArray<string>) => {
      shapes.push(texts.length)
      return texts.map((t) => t.toUpperCase())
    }, { maxSize: 16, maxWait: 20 })
    const items = Array.from({ length: 50 }, (_, i) => `t${i}`)
    const labels = await Promise.all(items.map((t) => batcher.submit(t)))
    expect(shapes).toEqual([16, 16, 16, 2])
    expect(labels).toEqual(items.map((t) => t.toUpperCase()))
    await batcher.close()
  })

  it("submit() - rejects every item of a failed batch with the thrown error; an Error output rejects one item", async () => {
    let call = 0
    const down = new Error("503")
    const batcher = new MicroBatcher(async (xs: ReadonlyArray<number>) => {
      if (++call === 1) throw down
      return xs.map((x) => (x < 0 ? new RangeError(`negative: ${x}`) : x * 2))
    }, { maxWait: 5 })
    const first = await Promise.allSettled([batcher.submit(1), batcher.submit(2)])
    expect(first).toEqual([{ status: "rejected", reason: down }, { status: "rejected", reason: down }])
    const second = await Promise.allSettled([batcher.submit(3), batcher.submit(-1)])
    expect(second[0]).toEqual({ status: "fulfilled", value: 6 })
    expect(second[1].status === "rejected" && (second[1].reason as Error).message).toBe("negative: -1")
    await batcher.close()
  })

  it("submit() - an Error output rejects its item alone with a policy set too (batches on the private scheduler)", async () => {
    const batchFn = async (xs: ReadonlyArray<number>) => xs.map((x) => (x < 0 ? new RangeError(`negative: ${x}`) : x * 2))
    for (const options of [{ maxWait: 5, timeout: 60_000 }, { maxWait: 5, retries: 1 }, { maxWait: 5, maxBatchesInFlight: 1 }]) {
      const batcher = new MicroBatcher(batchFn, options)
      const outcomes = await Promise.allSettled([batcher.submit(3), batcher.submit(-1)])
      expect(outcomes[0]).toEqual({ status: "fulfilled", value: 6 })
      expect(outcomes[1].status === "rejected" && (outcomes[1].reason as Error).message).toBe("negative: -1")
      await batcher.close()
    }
  })

  it("submit() - a wrong number of outputs rejects every item with BatchOutputMismatch", async () => {
    const batcher = new MicroBatcher(async (xs: ReadonlyArray<number>) => xs.slice(1), { maxWait: 5 })
    const outcomes = await Promise.allSettled([batcher.submit(1), batcher.submit(2)])
    for (const o of outcomes) {
      expect(o.status === "rejected" && (o.reason as { _tag: string })._tag).toBe("BatchOutputMismatch")
    }
    await batcher.close()
  })

  it("close() - flushes what is pending at once and refuses later submits", async () => {
    const shapes: Array<number> = []
    const batcher = new MicroBatcher(async (xs: ReadonlyArray<number>) => {
      shapes.push(xs.length)
      return xs
    }, { maxWait: 60_000 })
    const pending = [batcher.submit(1), batcher.submit(2)]
    await batcher.close()
    expect(await Promise.all(pending)).toEqual([1, 2])
    expect(shapes).toEqual([2])
    await expect(batcher.submit(3)).rejects.toMatchObject({ _tag: "BatcherClosed" })
  })

  it("close() - a second call also waits for the batches in flight", async () => {
    let done = 0
    const batcher = new MicroBatcher(async (items: ReadonlyArray<string>) => {
      await sleep(50)
      done++
      return items
    }, { maxWait: 1 })
    const item = batcher.submit("a")
    await sleep(10) // the batch is in flight
    const first = batcher.close()
    await batcher.close()
    expect(done).toBe(1)
    await first
    expect(await item).toBe("a")
  })

  it("submit() - a batch sent full cancels its window's timer: an idle, unclosed batcher keeps no timer alive", async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length
    const before = timers()
    const batcher = new MicroBatcher(async (xs: ReadonlyArray<number>) => xs, { maxSize: 2, maxWait: 30_000 })
    expect(await Promise.all([batcher.submit(1), batcher.submit(2)])).toEqual([1, 2])
    await new Promise((resolve) => setImmediate(resolve))
    // the window's 30 s timer would keep Node running for 30 s after the work is done (another test's timer may end
    // meanwhile: the count must not have grown, whatever else it did)
    expect(timers()).toBeLessThanOrEqual(before)
    await batcher.close()
  })

  it("submit() - a batchFn whose result throws when inspected (a throwing then getter, a Proxy) rejects every item with that error", async () => {
    const boom = new Error("then getter")
    const results: Array<unknown> = [
      Object.defineProperty({}, "then", {
        get() {
          throw boom
        }
      }),
      new Proxy({}, {
        has() {
          throw boom
        },
        get() {
          throw boom
        }
      })
    ]
    for (const result of results) {
      let calls = 0
      const batcher = new MicroBatcher((_: ReadonlyArray<number>) => {
        calls++
        return result as ReadonlyArray<number>
      }, { maxWait: 1, retries: 1, retryWhile: () => true })
      const outcomes = await Promise.allSettled([batcher.submit(1), batcher.submit(2)])
      expect(outcomes).toEqual([{ status: "rejected", reason: boom }, { status: "rejected", reason: boom }])
      // a failure of the batch call, so retried like one
      expect(calls).toBe(2)
      await batcher.close()
    }
  })

  it("bad options name MicroBatcher, not Batcher.make", () => {
    const fn = async (xs: ReadonlyArray<number>) => xs
    expect(() => new MicroBatcher(fn, { maxSize: 0 })).toThrow(
      "MicroBatcher: maxSize must be an integer ≥ 1, got 0 (number)"
    )
    expect(() => new MicroBatcher(fn, { retries: -1 })).toThrow("MicroBatcher: retries must be an integer ≥ 0, got -1")
    expect(() => new MicroBatcher(fn, { timeout: -5 })).toThrow(
      "MicroBatcher: timeout must be a positive number of milliseconds, got -5 (number)"
    )
  })

  it("bad options throw a RangeError or TypeError naming the option and the value", () => {
    const fn = async (xs: ReadonlyArray<number>) => xs
    expect(() => new MicroBatcher(fn, { maxSize: 0 })).toThrow(RangeError)
    expect(() => new MicroBatcher(fn, { maxSize: 0 })).toThrow("maxSize must be an integer ≥ 1, got 0 (number)")
    expect(() => new MicroBatcher(fn, { maxWait: -1 })).toThrow(RangeError)
    expect(() => new MicroBatcher(fn, { key: 3 as any })).toThrow(TypeError)
    expect(() => new MicroBatcher(fn, { maxsize: 3 } as any)).toThrow("MicroBatcher: options.maxsize must be one of")
    expect(() => new MicroBatcher("fn" as any)).toThrow(`MicroBatcher: batchFn must be a function, got "fn" (string)`)
  })
})
