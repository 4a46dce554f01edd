import { afterEach, describe, expect, expectTypeOf, it } from "@effect/vitest"
import { generateText, isStepCount, streamText, tool, type ToolSet } from "ai"
import { Scheduler } from "toolfan/promise"
import { z } from "zod"
import { withToolfan } from "../src/index.js"
import { hanging, modelCalling, Recorder, resultsSeen, sleep, sleeper, streamingModelCalling } from "./fixtures.js"

// Real time: the SDK runs on promises and timers. Each tool sleeps a few ms;
// the tests assert what ran at once, in which order, and what the model saw —
// never how long it took.

const schedulers: Array<Scheduler> = []
const schedulerOf = (options: ConstructorParameters<typeof Scheduler>[0]) => {
  const scheduler = new Scheduler(options)
  schedulers.push(scheduler)
  return scheduler
}
afterEach(async () => {
  await Promise.all(schedulers.splice(0).map((s) => s.close()))
})

const fourCalls = [["search", { id: "a" }], ["search", { id: "b" }], ["search", { id: "c" }], ["search", { id: "d" }]] as const

/** One agent step: the model calls `calls`, the tools run, the model answers. */
const step = (
  model: ReturnType<typeof modelCalling>["model"],
  tools: ToolSet,
  abortSignal?: AbortSignal | undefined
) => generateText({ model, tools, prompt: "go", stopWhen: isStepCount(2), ...(abortSignal ? { abortSignal } : {}) })


/** A streaming tool that yields 50% then (10 ms later) 100%, recording its starts and how many run at once. */
const progressTool = (recorder: Recorder) =>
  tool({
    inputSchema: z.object({ id: z.string() }),
    async *execute({ id }) {
      recorder.started.push(id)
      recorder.maxInFlight = Math.max(recorder.maxInFlight, ++recorder.inFlight)
      yield `${id}: 50%`
      await sleep(10)
      yield `${id}: 100%`
      recorder.inFlight--
    }
  })

describe("withToolfan", () => {
  describe("caps", () => {
    it("4 tool calls of one step with a cap of 4 - all 4 run at once", async () => {
      const recorder = new Recorder()
      const { model, prompts } = modelCalling(fourCalls)
      const tools = withToolfan({ search: sleeper(recorder, 30) }, { scheduler: schedulerOf({ maxConcurrency: 4 }) })
      const result = await step(model, tools)
      expect(recorder.maxInFlight).toBe(4)
      expect(recorder.started).toEqual(["a", "b", "c", "d"])
      expect(result.text).toBe("done")
      expect(resultsSeen(prompts)).toEqual({
        c0: { type: "text", value: "a" },
        c1: { type: "text", value: "b" },
        c2: { type: "text", value: "c" },
        c3: { type: "text", value: "d" }
      })
    })

    it("4 tool calls of one step with a cap of 2 - at most 2 at once, in call order", async () => {
      const recorder = new Recorder()
      const { model, prompts } = modelCalling(fourCalls)
      const tools = withToolfan({ search: sleeper(recorder, 30) }, { scheduler: schedulerOf({ maxConcurrency: 2 }) })
      await step(model, tools)
      expect(recorder.maxInFlight).toBe(2)
      expect(recorder.started).toEqual(["a", "b", "c", "d"])
      expect(Object.keys(resultsSeen(prompts))).toHaveLength(4)
    })

    it("a group named after the tool caps that tool alone (group defaults to the tool's name)", async () => {
      const searches = new Recorder()
      const others = new Recorder()
      const { model } = modelCalling([...fourCalls, ["weather", { id: "w1" }], ["weather", { id: "w2" }]])
      const tools = withToolfan(
        { search: sleeper(searches, 20), weather: sleeper(others, 20) },
        { scheduler: schedulerOf({ maxConcurrency: 10, groups: { search: 1 } }) }
      )
      await step(model, tools)
      expect(searches.maxInFlight).toBe(1)
      expect(others.maxInFlight).toBe(2)
    })

    it("one shared scheduler - its cap holds across two concurrent generateText calls", async () => {
      const recorder = new Recorder()
      const scheduler = schedulerOf({ maxConcurrency: 2 })
      const first = modelCalling([["search", { id: "1a" }], ["search", { id: "1b" }], ["search", { id: "1c" }]])
      const second = modelCalling([["search", { id: "2a" }], ["search", { id: "2b" }], ["search", { id: "2c" }]])
      const tools = withToolfan({ search: sleeper(recorder, 20) }, { scheduler })
      const [r1, r2] = await Promise.all([step(first.model, tools), step(second.model, tools)])
      expect(recorder.started).toHaveLength(6)
      expect(recorder.maxInFlight).toBe(2)
      expect([r1.text, r2.text]).toEqual(["done", "done"])
      expect(Object.values(resultsSeen(second.prompts)).map((o) => o.value)).toEqual(["2a", "2b", "2c"])
    })
  })

  describe("priorities", () => {
    it("queued calls start by priority, then in call order", async () => {
      const recorder = new Recorder()
      const { model } = modelCalling([
        ["block", { id: "block" }],
        ["low", { id: "low1" }],
        ["low", { id: "low2" }],
        ["high", { id: "high" }]
      ])
      const tools = withToolfan(
        { block: sleeper(recorder, 20), low: sleeper(recorder, 5), high: sleeper(recorder, 5) },
        {
          scheduler: schedulerOf({ maxConcurrency: 1 }),
          // `block` is first whatever the order of arrival; the others queue behind it
          policies: { block: { priority: 10 }, high: { priority: 1 } }
        }
      )
      await step(model, tools)
      expect(recorder.started).toEqual(["block", "high", "low1", "low2"])
    })
  })

  describe("timeouts", () => {
    it("a hung tool times out - its signal is aborted with a TimeoutError, and the step goes on", async () => {
      const recorder = new Recorder()
      const { model, prompts } = modelCalling([["search", { id: "a" }], ["hang", { id: "h" }], ["search", { id: "b" }]])
      const tools = withToolfan(
        { search: sleeper(recorder, 5), hang: hanging(recorder) },
        { scheduler: schedulerOf({ maxConcurrency: 4 }), policies: { hang: { timeout: 40 } } }
      )
      const result = await step(model, tools)
      const signal = recorder.signals.get("h")!
      expect(signal.aborted).toBe(true)
      expect((signal.reason as DOMException).name).toBe("TimeoutError")
      expect(recorder.signals.get("a")!.aborted).toBe(false)
      // the model got the other results and the timeout as the hung call's error
      const seen = resultsSeen(prompts)
      expect(seen.c0).toEqual({ type: "text", value: "a" })
      expect(seen.c2).toEqual({ type: "text", value: "b" })
      expect(seen.c1).toEqual({
        type: "error-text",
        value: "TaskTimedOut: task \"hang\" timed out after 40ms; raise its timeout or make the tool answer sooner"
      })
      expect(result.text).toBe("done")
      const error = result.steps[0]!.content.find((p) => p.type === "tool-error")
      expect(error).toMatchObject({ toolCallId: "c1", toolName: "hang", error: { _tag: "TaskTimedOut", task: "hang" } })
    })

    it("defaults apply to every tool; a tool's policy overrides them option by option", async () => {
      const recorder = new Recorder()
      const { model, prompts } = modelCalling([["hang", { id: "h" }], ["patient", { id: "p" }]])
      const tools = withToolfan(
        { hang: hanging(recorder), patient: sleeper(recorder, 60) },
        { scheduler: schedulerOf({}), defaults: { timeout: 30, priority: 3 }, policies: { patient: { timeout: 1000 } } }
      )
      await step(model, tools)
      const seen = resultsSeen(prompts)
      expect(seen.c0!.type).toBe("error-text")
      expect(seen.c0!.value).toContain("task \"hang\" timed out after 30ms")
      expect(seen.c1).toEqual({ type: "text", value: "p" })
    })
  })

  describe("retries", () => {
    const flaky = (failures: number, calls: Array<string>, error = () => new Error("backend 503")) =>
      tool({
        inputSchema: z.object({ id: z.string() }),
        execute: async ({ id }) => {
          calls.push(id)
          if (calls.length <= failures) throw error()
          return `${id} ok`
        }
      })

    it("retries re-run a failing tool until it answers", async () => {
      const calls: Array<string> = []
      const { model, prompts } = modelCalling([["flaky", { id: "f" }]])
      const tools = withToolfan({ flaky: flaky(2, calls) }, {
        scheduler: schedulerOf({}),
        policies: { flaky: { retries: 2 } }
      })
      await step(model, tools)
      expect(calls).toEqual(["f", "f", "f"])
      expect(resultsSeen(prompts).c0).toEqual({ type: "text", value: "f ok" })
    })

    it("a tool still failing after its retries - the model sees a TaskFailed naming the tool and the attempts", async () => {
      const calls: Array<string> = []
      const { model, prompts } = modelCalling([["flaky", { id: "f" }], ["ok", { id: "k" }]])
      const tools = withToolfan({ flaky: flaky(99, calls), ok: sleeper(new Recorder(), 1) }, {
        scheduler: schedulerOf({}),
        defaults: { retries: 1 }
      })
      const result = await step(model, tools)
      expect(calls).toEqual(["f", "f"])
      const seen = resultsSeen(prompts)
      expect(seen.c0).toEqual({ type: "error-text", value: "TaskFailed: task \"flaky\" failed after 2 attempts: backend 503" })
      expect(seen.c1).toEqual({ type: "text", value: "k" })
      const error = result.steps[0]!.content.find((p) => p.type === "tool-error")!
      expect((error as { error: { cause: Error } }).error.cause.message).toBe("backend 503")
    })

    it("retryWhile - a failure it refuses is not retried", async () => {
      const calls: Array<string> = []
      const { model, prompts } = modelCalling([["flaky", { id: "f" }]])
      const tools = withToolfan({ flaky: flaky(99, calls, () => new Error("bad request")) }, {
        scheduler: schedulerOf({}),
        policies: { flaky: { retries: 3, retryWhile: (e) => !(e instanceof Error && e.message === "bad request") } }
      })
      await step(model, tools)
      expect(calls).toEqual(["f"])
      expect(resultsSeen(prompts).c0).toEqual({ type: "error-text", value: "TaskFailed: task \"flaky\" failed: bad request" })
    })
  })

  describe("the SDK's abortSignal", () => {
    it("aborting it cancels the running call (its signal aborts) and the queued one (never started), and frees the slot", async () => {
      const recorder = new Recorder()
      const controller = new AbortController()
      const { model } = modelCalling([["hang", { id: "running" }], ["hang", { id: "queued" }]])
      const scheduler = schedulerOf({ maxConcurrency: 1 })
      const hang = hanging(recorder)
      const tools = withToolfan({
        hang: {
          ...hang,
          execute: (input: { id: string }, options: Parameters<NonNullable<typeof hang.execute>>[1]) => {
            // abort the request once the first call runs
            setTimeout(() => controller.abort(new Error("user went away")), 5)
            return hang.execute!(input, options)
          }
        }
      }, { scheduler })
      await step(model, tools, controller.signal).catch(() => undefined)
      await sleep(5)
      expect(recorder.started).toEqual(["running"])
      const signal = recorder.signals.get("running")!
      expect(signal.aborted).toBe(true)
      expect((signal.reason as DOMException).name).toBe("AbortError")
      expect(scheduler.stats()).toMatchObject({ active: 0, pending: 0 })
    })

    it("aborting it during a retry's backoff - the call is not retried", async () => {
      const controller = new AbortController()
      const calls: Array<number> = []
      const { model } = modelCalling([["flaky", {}]])
      const tools = withToolfan({
        flaky: tool({
          inputSchema: z.object({}),
          execute: async (): Promise<string> => {
            calls.push(calls.length)
            setTimeout(() => controller.abort(), 10) // the first backoff is ~100 ms
            throw new Error("503")
          }
        })
      }, { scheduler: schedulerOf({}), policies: { flaky: { retries: 3 } } })
      await step(model, tools, controller.signal).catch(() => undefined)
      await sleep(300)
      expect(calls).toEqual([0])
    })

    it("the SDK's own timeout.toolMs - the call is cut and the model sees the SDK's TimeoutError", async () => {
      const recorder = new Recorder()
      const { model, prompts } = modelCalling([["hang", { id: "h" }], ["search", { id: "s" }]])
      const tools = withToolfan({ hang: hanging(recorder), search: sleeper(recorder, 5) }, { scheduler: schedulerOf({}) })
      await generateText({ model, tools, prompt: "go", stopWhen: isStepCount(2), timeout: { tools: { hangMs: 30 } } })
      expect(recorder.signals.get("h")!.aborted).toBe(true)
      const seen = resultsSeen(prompts)
      expect(seen.c0).toEqual({ type: "error-text", value: "TimeoutError: The operation was aborted due to timeout" })
      expect(seen.c1).toEqual({ type: "text", value: "s" })
    })
  })

  describe("nested agents", () => {
    it("a tool that runs an agent with its abortSignal - the inner calls borrow its slot (no deadlock at cap 1)", async () => {
      const recorder = new Recorder()
      const scheduler = schedulerOf({ maxConcurrency: 1 })
      const inner = withToolfan({ search: sleeper(recorder, 5) }, { scheduler })
      const outer = modelCalling([["research", { topic: "x" }]])
      const tools = withToolfan({
        research: tool({
          inputSchema: z.object({ topic: z.string() }),
          execute: async (_, { abortSignal }) => {
            const { model } = modelCalling([["search", { id: "s1" }], ["search", { id: "s2" }]])
            const result = await step(model, inner, abortSignal)
            return result.steps[0]!.toolResults.map((r) => r.output).join(",")
          }
        })
      }, { scheduler })
      const outcome = await Promise.race([step(outer.model, tools).then(() => "finished"), sleep(2000).then(() => "deadlocked")])
      expect(outcome).toBe("finished")
      expect(recorder.started).toEqual(["s1", "s2"])
      expect(resultsSeen(outer.prompts).c0).toEqual({ type: "text", value: "s1,s2" })
    })
  })

  describe("streaming tools", () => {
    it("an async function* runs in its task to the end; its last value is the output", async () => {
      const recorder = new Recorder()
      const { model, prompts } = modelCalling([["progress", { id: "p1" }], ["progress", { id: "p2" }]])
      const tools = withToolfan({
        progress: progressTool(recorder)
      }, { scheduler: schedulerOf({ maxConcurrency: 1 }) })
      await step(model, tools)
      // the slot is held while the generator runs: the second call starts after the first one's end
      expect(recorder.maxInFlight).toBe(1)
      expect(resultsSeen(prompts)).toEqual({ c0: { type: "text", value: "p1: 100%" }, c1: { type: "text", value: "p2: 100%" } })
    })
  })

  describe("streamText", () => {
    it("tool calls run under the cap; a streaming tool's values arrive as preliminary results, then its output", async () => {
      const recorder = new Recorder()
      const progress = progressTool(recorder)
      const result = streamText({
        model: streamingModelCalling([["progress", { id: "p1" }], ["progress", { id: "p2" }]]),
        tools: withToolfan({ progress }, { scheduler: schedulerOf({ maxConcurrency: 1 }) }),
        prompt: "go",
        stopWhen: isStepCount(2)
      })
      const results: Record<string, Array<[unknown, boolean]>> = { c0: [], c1: [] }
      for await (const part of result.fullStream) {
        if (part.type === "tool-result") results[part.toolCallId]!.push([part.output, part.preliminary === true])
      }
      expect(recorder.maxInFlight).toBe(1)
      expect(recorder.started).toEqual(["p1", "p2"])
      expect(results).toEqual({
        c0: [["p1: 50%", true], ["p1: 100%", true], ["p1: 100%", false]],
        c1: [["p2: 50%", true], ["p2: 100%", true], ["p2: 100%", false]]
      })
      expect(await result.text).toBe("done")
    })
  })

  describe("the tools record", () => {
    it("a tool without execute is passed through unchanged; the others are copies; the types are kept", () => {
      const recorder = new Recorder()
      const search = sleeper(recorder, 1)
      const ask = tool({ description: "asks the user", inputSchema: z.object({ question: z.string() }), outputSchema: z.string() })
      const tools = { search, ask }
      const wrapped = withToolfan(tools, { scheduler: schedulerOf({}) })
      expect(wrapped.ask).toBe(ask)
      expect(wrapped.search).not.toBe(search)
      expect(wrapped.search.execute).not.toBe(search.execute)
      expect(wrapped.search.description).toBe(search.description)
      expect(wrapped.search.inputSchema).toBe(search.inputSchema)
      expectTypeOf(wrapped).toEqualTypeOf<typeof tools>()
    })

    it("bad options throw at once, naming the option and the value", () => {
      const tools = { search: sleeper(new Recorder(), 1) }
      const scheduler = schedulerOf({})
      expect(() => withToolfan(tools, { scheduler, policies: { search: { timeout: -5 } } })).toThrow(
        new RangeError("withToolfan: options.policies.search.timeout must be a positive number of milliseconds, got -5 (number)")
      )
      expect(() => withToolfan(tools, { scheduler, defaults: { retries: 1.5 } })).toThrow(RangeError)
      expect(() => withToolfan(tools, { scheduler, defaults: { retries: 1.5 } })).toThrow(/options\.defaults\.retries/)
      expect(() => withToolfan(tools, { scheduler, policies: { serach: {} } as never })).toThrow(
        /withToolfan: options\.policies\.serach must be the name of a tool of the record \(search\)/
      )
      expect(() => withToolfan(tools, { scheduler: undefined as never })).toThrow(TypeError)
      expect(() => withToolfan(tools, { scheduler, timeout: 5 } as never)).toThrow(/options\.timeout/)
    })
  })
})
