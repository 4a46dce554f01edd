import { Runner, run, tool } from "@openai/agents"
import { afterEach, describe, expect, it } from "@effect/vitest"
import { Scheduler } from "toolfan/promise"
import { z } from "zod"
import { withToolfan } from "../src/index.js"
import { agentFor, sleep, Tracker } from "./helpers.js"

const schedulers: Array<Scheduler> = []
const newScheduler = (options: ConstructorParameters<typeof Scheduler>[0]) => {
  const scheduler = new Scheduler(options)
  schedulers.push(scheduler)
  return scheduler
}
afterEach(async () => {
  await Promise.all(schedulers.splice(0).map((s) => s.close()))
})

/**
 * A tool that counts calls in flight and answers after `hold` (default 20 ms;
 * it stops when its signal is aborted).
 */
const timed = (tracker: Tracker, name: string, hold: (signal?: AbortSignal) => Promise<void> = (signal) => sleep(20, signal)) =>
  tool({
    name,
    description: `the ${name} tool`,
    parameters: z.object({ q: z.string() }),
    execute: async ({ q }, _context, details) => {
      tracker.start(q)
      try {
        await hold(details?.signal)
        return `${name}:${q}`
      } finally {
        tracker.end(q)
      }
    }
  })

const fourCalls = [["search", { q: "a" }], ["search", { q: "b" }], ["search", { q: "c" }], ["search", { q: "d" }]] as const

describe("the SDK without toolfan", () => {
  it("run() - starts every function call of a turn at once", async () => {
    const tracker = new Tracker()
    const { agent } = agentFor([timed(tracker, "search")], fourCalls)
    await run(agent, "go")
    expect(tracker.maxActive).toBe(4)
  })

  it("Runner({ toolExecution: { maxFunctionToolConcurrency: 1 } }) - runs them one by one", async () => {
    const tracker = new Tracker()
    const { agent } = agentFor([timed(tracker, "search")], fourCalls)
    await new Runner({ toolExecution: { maxFunctionToolConcurrency: 1 } }).run(agent, "go")
    expect(tracker.maxActive).toBe(1)
  })
})

describe("withToolfan", () => {
  describe("concurrency", () => {
    it("run() - four calls of a turn run together under a cap of 4", async () => {
      const tracker = new Tracker()
      // each call waits until 4 are in flight (or 1 s): they meet only if they all run at once
      const tools = withToolfan([timed(tracker, "search", () => tracker.until(4, 1000))], {
        scheduler: newScheduler({ maxConcurrency: 4 })
      })
      const { agent } = agentFor(tools, fourCalls)
      const result = await run(agent, "go")
      expect(tracker.maxActive).toBe(4)
      expect(tracker.starts).toEqual(["a", "b", "c", "d"])
      expect(result.finalOutput).toBe("c1=search:a; c2=search:b; c3=search:c; c4=search:d")
    })

    it("run() - a cap of 2 runs at most 2 at once, the others as slots free up, in order", async () => {
      const tracker = new Tracker()
      // each call waits until 2 are in flight (or 50 ms): a third would start only if the cap let it
      const tools = withToolfan([timed(tracker, "search", () => tracker.until(2, 50))], {
        scheduler: newScheduler({ maxConcurrency: 2 })
      })
      const { agent } = agentFor(tools, fourCalls)
      const result = await run(agent, "go")
      expect(tracker.maxActive).toBe(2)
      expect(tracker.starts).toEqual(["a", "b", "c", "d"])
      // c and d wait for a slot: each starts after a call has ended
      const events = tracker.events
      expect(events.indexOf("start c")).toBeGreaterThan(events.findIndex((e) => e.startsWith("end ")))
      expect(events.slice(0, 2)).toEqual(["start a", "start b"])
      expect(result.finalOutput).toBe("c1=search:a; c2=search:b; c3=search:c; c4=search:d")
    })

    it("run() - one scheduler's cap holds across two concurrent runs", async () => {
      const tracker = new Tracker()
      const scheduler = newScheduler({ maxConcurrency: 2 })
      const search = timed(tracker, "search", () => tracker.until(2, 50))
      const first = agentFor(withToolfan([search], { scheduler }), fourCalls, "x")
      const second = agentFor(withToolfan([search], { scheduler }), fourCalls, "y")
      const [a, b] = await Promise.all([run(first.agent, "go"), run(second.agent, "go")])
      expect(tracker.maxActive).toBe(2)
      expect(tracker.starts).toHaveLength(8)
      expect(a.finalOutput).toBe("x1=search:a; x2=search:b; x3=search:c; x4=search:d")
      expect(b.finalOutput).toBe("y1=search:a; y2=search:b; y3=search:c; y4=search:d")
    })

    it("run() - a group's cap holds for its tools while the others run", async () => {
      const tracker = new Tracker()
      const scheduler = newScheduler({ maxConcurrency: 8, groups: { web: 1 } })
      // a search waits until the weather call runs beside it (or 50 ms)
      const tools = withToolfan([timed(tracker, "search", () => tracker.until(2, 50)), timed(tracker, "weather", () => sleep(0))], {
        scheduler,
        policies: { search: { group: "web" } }
      })
      const { agent } = agentFor(tools, [...fourCalls.slice(0, 3), ["weather", { q: "w" }]])
      await run(agent, "go")
      const events = tracker.events
      // the three searches run one at a time; the weather call does not wait for them
      expect(events.indexOf("start b")).toBeGreaterThan(events.indexOf("end a"))
      expect(events.indexOf("start c")).toBeGreaterThan(events.indexOf("end b"))
      expect(events.indexOf("start w")).toBeLessThan(events.indexOf("end a"))
      expect(tracker.maxActive).toBe(2)
    })

    it("run() - a queued call of higher priority starts before earlier ones", async () => {
      const tracker = new Tracker()
      const scheduler = newScheduler({ maxConcurrency: 1 })
      // the first call holds the slot until the three others wait for it
      let queued = false
      const untilQueued = async () => {
        for (let i = 0; i < 500 && !queued && scheduler.stats().pending < 3; i++) await sleep(1)
        queued = true
      }
      const tools = withToolfan([timed(tracker, "low", untilQueued), timed(tracker, "high", untilQueued)], {
        scheduler,
        policies: { high: { priority: 1 } }
      })
      const { agent } = agentFor(tools, [["low", { q: "l1" }], ["low", { q: "l2" }], ["low", { q: "l3" }], ["high", { q: "h" }]])
      await run(agent, "go")
      // l1 took the slot first; of the queued calls, h starts first, then l2 and l3 in call order
      expect(tracker.starts).toEqual(["l1", "h", "l2", "l3"])
    })
  })
})

/** A tool that never answers (it ignores its signal), keeping the signal it was given. */
const hung = (signals: Array<AbortSignal | undefined>, name = "hung") =>
  tool({
    name,
    description: "never answers",
    parameters: z.object({}),
    execute: (_input, _context, details) => {
      signals.push(details?.signal)
      return new Promise<string>(() => {})
    }
  })

/** A tool that throws `failures` times, then answers; `errorFunction: null` lets its errors reach toolfan. */
const flaky = (state: { calls: number }, failures: number, errorFunction?: null) =>
  tool({
    name: "flaky",
    description: "fails at first",
    parameters: z.object({}),
    ...(errorFunction === null ? { errorFunction } : {}),
    execute: async () => {
      state.calls++
      if (state.calls <= failures) throw new Error(`backend down (${state.calls})`)
      return "flaky answered"
    }
  })

describe("withToolfan - failures", () => {
  it("timeout - aborts a hung tool's signal with a TimeoutError and the model sees the error", async () => {
    const signals: Array<AbortSignal | undefined> = []
    const tracker = new Tracker()
    const tools = withToolfan([hung(signals), timed(tracker, "search")], {
      scheduler: newScheduler({ maxConcurrency: 4 }),
      policies: { hung: { timeout: 30 } }
    })
    const { agent, model } = agentFor(tools, [["hung", {}], ["search", { q: "a" }]])
    const result = await run(agent, "go")
    expect(signals).toHaveLength(1)
    expect(signals[0]!.aborted).toBe(true)
    expect((signals[0]!.reason as Error).name).toBe("TimeoutError")
    expect(result.finalOutput).toBe(
      "c1=task \"hung\" timed out after 30ms; raise its timeout or make the tool answer sooner; c2=search:a"
    )
    expect(model.calls).toHaveLength(2)
  })

  it("timeout - each attempt has its own signal; a retry runs after a timeout", async () => {
    const signals: Array<AbortSignal | undefined> = []
    const tools = withToolfan([hung(signals)], {
      scheduler: newScheduler({ maxConcurrency: 4 }),
      defaults: { timeout: 20, retries: 1 }
    })
    const { agent } = agentFor(tools, [["hung", {}]])
    const result = await run(agent, "go")
    expect(signals).toHaveLength(2)
    expect(signals[0]).not.toBe(signals[1])
    expect(signals.every((s) => s!.aborted)).toBe(true)
    expect(result.finalOutput).toBe("c1=task \"hung\" timed out after 20ms (attempt 2); raise its timeout or make the tool answer sooner")
  })

  it("retries - re-run a failing tool made with errorFunction: null until it answers", async () => {
    const state = { calls: 0 }
    const tools = withToolfan([flaky(state, 2, null)], {
      scheduler: newScheduler({ maxConcurrency: 4 }),
      policies: { flaky: { retries: 2 } }
    })
    const { agent } = agentFor(tools, [["flaky", {}]])
    const result = await run(agent, "go")
    expect(state.calls).toBe(3)
    expect(result.finalOutput).toBe("c1=flaky answered")
  })

  it("retries - the last failure is the model's result, with toolfan's message", async () => {
    const state = { calls: 0 }
    const tools = withToolfan([flaky(state, 10, null)], {
      scheduler: newScheduler({ maxConcurrency: 4 }),
      policies: { flaky: { retries: 1 } }
    })
    const { agent } = agentFor(tools, [["flaky", {}]])
    const result = await run(agent, "go")
    expect(state.calls).toBe(2)
    expect(result.finalOutput).toBe("c1=task \"flaky\" failed after 2 attempts: backend down (2)")
  })

  it("retries - retryWhile decides which failures are retried", async () => {
    const state = { calls: 0 }
    const tools = withToolfan([flaky(state, 10, null)], {
      scheduler: newScheduler({ maxConcurrency: 4 }),
      policies: { flaky: { retries: 3, retryWhile: (error) => !String(error).includes("(2)") } }
    })
    const { agent } = agentFor(tools, [["flaky", {}]])
    await run(agent, "go")
    expect(state.calls).toBe(2)
  })

  it("retries - a tool with the SDK's default errorFunction answers its generic message, unretried", async () => {
    const state = { calls: 0 }
    const tools = withToolfan([flaky(state, 1)], {
      scheduler: newScheduler({ maxConcurrency: 4 }),
      policies: { flaky: { retries: 2 } }
    })
    const { agent } = agentFor(tools, [["flaky", {}]])
    const result = await run(agent, "go")
    expect(state.calls).toBe(1)
    expect(result.finalOutput).toBe("c1=An error occurred while running the tool. Please try again.")
  })

  it("retries - input that breaks the tool's schema is not retried", async () => {
    const tracker = new Tracker()
    const search = tool({ ...timedOptions(tracker), errorFunction: null })
    let invocations = 0
    const counted = { ...search, invoke: (...args: Parameters<typeof search.invoke>) => (invocations++, search.invoke(...args)) }
    const tools = withToolfan([counted], { scheduler: newScheduler({ maxConcurrency: 4 }), defaults: { retries: 3 } })
    const { agent } = agentFor(tools, [["search", { q: 5 }]])
    const result = await run(agent, "go")
    expect(invocations).toBe(1)
    expect(tracker.starts).toEqual([])
    expect(result.finalOutput).toBe("c1=task \"search\" failed: Invalid JSON input for tool")
  })

  it("deadline - stops a call that waits and retries past it", async () => {
    const signals: Array<AbortSignal | undefined> = []
    const tools = withToolfan([hung(signals)], {
      scheduler: newScheduler({ maxConcurrency: 4 }),
      policies: { hung: { deadline: 30 } }
    })
    const { agent } = agentFor(tools, [["hung", {}]])
    const result = await run(agent, "go")
    expect(signals[0]!.aborted).toBe(true)
    expect(result.finalOutput).toBe("c1=task \"hung\" was interrupted: the run's deadline passed")
  })

  it("errorFunction - gives the model's output for a call that ended without a value", async () => {
    const signals: Array<AbortSignal | undefined> = []
    const tools = withToolfan([hung(signals)], {
      scheduler: newScheduler({ maxConcurrency: 4 }),
      defaults: { timeout: 10 },
      errorFunction: (_context, error, details) => `${details?.toolCall?.callId}: ${error._tag}`
    })
    const { agent } = agentFor(tools, [["hung", {}]])
    const result = await run(agent, "go")
    expect(result.finalOutput).toBe("c1=c1: TaskTimedOut")
  })

  it("run({ signal }) - aborting the run aborts the calls in flight and frees their slots", async () => {
    const signals: Array<AbortSignal | undefined> = []
    const scheduler = newScheduler({ maxConcurrency: 4 })
    const tools = withToolfan([hung(signals)], { scheduler })
    const { agent } = agentFor(tools, [["hung", {}]])
    const controller = new AbortController()
    const running = run(agent, "go", { signal: controller.signal })
    while (signals.length === 0) await sleep(1)
    controller.abort(new Error("user stopped"))
    await expect(running).rejects.toThrow()
    expect(signals[0]!.aborted).toBe(true)
    expect(scheduler.stats().active).toBe(0)
  })
})

/** The options of the `timed` search tool, to make variants of it. */
const timedOptions = (tracker: Tracker) => ({
  name: "search",
  description: "the search tool",
  parameters: z.object({ q: z.string() }),
  execute: async ({ q }: { q: string }) => {
    tracker.start(q)
    tracker.end(q)
    return `search:${q}`
  }
})

describe("withToolfan - tools with an output schema", () => {
  const structured = (errorFunction?: (context: unknown, error: unknown) => { answer: string }) =>
    tool({
      name: "structured",
      description: "answers an object",
      parameters: z.object({}),
      outputSchema: z.object({ answer: z.string() }),
      ...(errorFunction === undefined ? {} : { errorFunction }),
      execute: () => new Promise<{ answer: string }>(() => {})
    })

  it("errorFunction - the tool's own fallback is the model's result", async () => {
    const tools = withToolfan([structured((_context, error) => ({ answer: `fallback: ${(error as Error).message}` }))], {
      scheduler: newScheduler({ maxConcurrency: 4 }),
      defaults: { timeout: 10 }
    })
    const { agent } = agentFor(tools, [["structured", {}]])
    const result = await run(agent, "go")
    expect(result.finalOutput).toContain("fallback: task \\\"structured\\\" timed out after 10ms")
  })

  it("without an errorFunction - fails the run, as the SDK does for such a tool", async () => {
    const tools = withToolfan([structured()], { scheduler: newScheduler({ maxConcurrency: 4 }), defaults: { timeout: 10 } })
    const { agent } = agentFor(tools, [["structured", {}]])
    await expect(run(agent, "go")).rejects.toThrow(/task "structured" timed out after 10ms/)
  })
})

describe("withToolfan - options", () => {
  const scheduler = () => newScheduler({ maxConcurrency: 4 })
  const search = timed(new Tracker(), "search")

  it("returns tools of the same shape, other tools as they are", () => {
    const hosted = { type: "hosted_tool", name: "web_search", providerData: {} } as const
    const [wrapped, same] = withToolfan([search, hosted], { scheduler: scheduler() })
    expect(wrapped).not.toBe(search)
    expect(wrapped!.name).toBe("search")
    expect(wrapped!.type).toBe("function")
    expect((wrapped as typeof search).parameters).toBe(search.parameters)
    expect((wrapped as typeof search).invoke).not.toBe(search.invoke)
    expect(same).toBe(hosted)
  })

  it("throws a RangeError naming a bad policy value", () => {
    expect(() => withToolfan([search], { scheduler: scheduler(), policies: { search: { timeout: -5 } } })).toThrow(
      new RangeError("withToolfan: policies.search.timeout must be a positive number of milliseconds, got -5 (number)")
    )
  })

  it("throws a RangeError for a policy of an unknown tool", () => {
    expect(() => withToolfan([search], { scheduler: scheduler(), policies: { serch: { retries: 1 } } })).toThrow(
      /^withToolfan: policies\.serch must be the name of a function tool given \(search\)/
    )
  })

  it("throws for a bad deadline, scheduler or option", () => {
    expect(() => withToolfan([search], { scheduler: scheduler(), defaults: { deadline: 0 } })).toThrow(
      new RangeError("withToolfan: defaults.deadline must be a positive number of milliseconds (Infinity = none), got 0 (number)")
    )
    expect(() => withToolfan([search], { scheduler: {} as Scheduler })).toThrow(
      new TypeError("withToolfan: scheduler must be a Scheduler from toolfan/promise, got {} (object)")
    )
    expect(() => withToolfan([search], { scheduler: scheduler(), polices: {} } as never)).toThrow(TypeError)
    expect(() => withToolfan([search], { scheduler: scheduler(), defaults: { timout: 5 } as never })).toThrow(
      new TypeError(
        "withToolfan: defaults.timout must be left out (unknown option; known: timeout, retries, retryWhile, priority, group, " +
          "deadline, overloaded, maxRetryAfter, cost, actualCost), got 5 (number)"
      )
    )
    expect(() => withToolfan([search], { scheduler: scheduler(), defaults: { retries: 1.5 } })).toThrow(
      /^withToolfan: defaults\.retries must be/
    )
  })
})
