import { Agent, run, tool } from "@openai/agents"
import { describe, expect, it } from "@effect/vitest"
import { Scheduler } from "toolfan/promise"
import { z } from "zod"
import { withToolfan } from "../src/index.js"
import { agentFor, fakeModel, sleep } from "./helpers.js"

describe("withToolfan - agents as tools", () => {
  it("asTool() - an inner agent's single call borrows the outer call's slot (no deadlock on a cap of 1)", async () => {
    const scheduler = new Scheduler({ maxConcurrency: 1 })
    const search = tool({
      name: "search",
      description: "search",
      parameters: z.object({ q: z.string() }),
      execute: async ({ q }) => (await sleep(5), `search:${q}`)
    })
    const inner = new Agent({
      name: "inner",
      model: fakeModel([["search", { q: "x" }]], "i"),
      tools: withToolfan([search], { scheduler })
    })
    const research = inner.asTool({ toolName: "research", toolDescription: "research a question" })
    const { agent } = agentFor(withToolfan([research], { scheduler }), [["research", { input: "x" }]])
    // the inner run gets the outer call's signal (the SDK passes a lone call's signal on as it is)
    const result = await Promise.race([run(agent, "go").then((r) => r.finalOutput), sleep(2000).then(() => "deadlock")])
    await scheduler.close()
    expect(result).toBe("c1=i1=search:x")
  })

  it("asTool() - an inner agent's two parallel calls on a cap of 1 finish: they borrow the outer call's slot in turn", async () => {
    const scheduler = new Scheduler({ maxConcurrency: 1 })
    let inFlight = 0
    let peak = 0
    const search = tool({
      name: "search",
      description: "search",
      parameters: z.object({ q: z.string() }),
      execute: async ({ q }) => {
        peak = Math.max(peak, ++inFlight)
        await sleep(5)
        inFlight--
        return `search:${q}`
      }
    })
    const inner = new Agent({
      name: "inner",
      model: fakeModel([["search", { q: "x" }], ["search", { q: "y" }]], "i"),
      tools: withToolfan([search], { scheduler })
    })
    const research = inner.asTool({ toolName: "research", toolDescription: "research a question" })
    const { agent } = agentFor(withToolfan([research], { scheduler }), [["research", { input: "x" }]])
    // the SDK gives each of the two inner calls a signal of its own: only the async context links them to the outer call
    const result = await Promise.race([run(agent, "go").then((r) => r.finalOutput), sleep(2000).then(() => "deadlock")])
    await scheduler.close()
    expect(result).not.toBe("deadlock")
    expect(peak).toBe(1)
  })
})
