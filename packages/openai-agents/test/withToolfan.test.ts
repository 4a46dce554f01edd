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

/** A tool that takes `ms`, counts calls in flight, and stops when its signal is aborted. */
const timed = (tracker: Tracker, name: string, ms = 20) =>
  tool({
    name,
    description: `the ${name} tool`,
    parameters: z.object({ q: z.string() }),
    execute: async ({ q }, _context, details) => {
      tracker.start(q)
      try {
        await sleep(ms, details?.signal)
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
      const tools = withToolfan([timed(tracker, "search")], { scheduler: newScheduler({ maxConcurrency: 4 }) })
      const { agent } = agentFor(tools, fourCalls)
      const result = await run(agent, "go")
      expect(tracker.maxActive).toBe(4)
      expect(tracker.starts).toEqual(["a", "b", "c", "d"])
      expect(result.finalOutput).toBe("c1=search:a; c2=search:b; c3=search:c; c4=search:d")
    })

    it("run() - a cap of 2 runs at most 2 at once, the others as slots free up, in order", async () => {
      const tracker = new Tracker()
      const tools = withToolfan([timed(tracker, "search")], { scheduler: newScheduler({ maxConcurrency: 2 }) })
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
      const first = agentFor(withToolfan([timed(tracker, "search")], { scheduler }), fourCalls, "x")
      const second = agentFor(withToolfan([timed(tracker, "search")], { scheduler }), fourCalls, "y")
      const [a, b] = await Promise.all([run(first.agent, "go"), run(second.agent, "go")])
      expect(tracker.maxActive).toBe(2)
      expect(tracker.starts).toHaveLength(8)
      expect(a.finalOutput).toBe("x1=search:a; x2=search:b; x3=search:c; x4=search:d")
      expect(b.finalOutput).toBe("y1=search:a; y2=search:b; y3=search:c; y4=search:d")
    })

    it("run() - a group's cap holds for its tools while the others run", async () => {
      const tracker = new Tracker()
      const scheduler = newScheduler({ maxConcurrency: 8, groups: { web: 1 } })
      const tools = withToolfan([timed(tracker, "search"), timed(tracker, "weather")], {
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
      const tools = withToolfan([timed(tracker, "low"), timed(tracker, "high")], {
        scheduler: newScheduler({ maxConcurrency: 1 }),
        policies: { high: { priority: 1 } }
      })
      const { agent } = agentFor(tools, [["low", { q: "l1" }], ["low", { q: "l2" }], ["low", { q: "l3" }], ["high", { q: "h" }]])
      await run(agent, "go")
      // l1 took the slot first; of the queued calls, h starts first, then l2 and l3 in call order
      expect(tracker.starts).toEqual(["l1", "h", "l2", "l3"])
    })
  })
})
