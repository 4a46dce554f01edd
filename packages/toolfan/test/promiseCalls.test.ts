import { describe, expect, it } from "@effect/vitest"
import * as Schema from "effect/Schema"
import { type Call, isCallRefused, Scheduler } from "../src/promise.js"

// Real time, a few milliseconds: the order of events is asserted, never durations.
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

describe("toolfan/promise runCalls", () => {
  it("Scheduler.runCalls() - starts each call as it arrives from an AsyncIterable, with references substituted", async () => {
    const scheduler = new Scheduler()
    const events: Array<string> = []
    async function* plan(): AsyncGenerator<Call> {
      events.push("arrive s")
      yield { id: "s", tool: "search", args: { q: "ai" } }
      await sleep(30)
      events.push("arrive f")
      yield { id: "f", tool: "fetch", args: { url: "$s.0" } }
      await sleep(5)
    }
    const results = await scheduler.runCalls(plan(), {
      search: {
        parameters: Schema.Struct({ q: Schema.String }),
        run: async ({ q }: { q: string }) => {
          events.push("start s")
          await sleep(1)
          return [`https://example.com/${q}`]
        }
      },
      fetch: {
        parameters: (args: unknown) => {
          const url = (args as { url?: unknown }).url
          if (typeof url !== "string") throw new Error("url: expected a string")
          return { url }
        },
        run: async ({ url }: { url: string }, signal: AbortSignal) => {
          events.push(`start f ${signal instanceof AbortSignal}`)
          return `<html>${url}</html>`
        }
      }
    })
    expect(events).toEqual(["arrive s", "start s", "arrive f", "start f true"])
    expect(results.map((r) => [r.name, r.value])).toEqual([
      ["s", ["https://example.com/ai"]],
      ["f", "<html>https://example.com/ai</html>"]
    ])
    await scheduler.close()
  })

  it("Scheduler.runCalls() - a refused call is that call's result, its dependents skipped, the others run", async () => {
    const scheduler = new Scheduler()
    const results = await scheduler.runCalls([
      { id: "a", tool: "echo", args: { n: 1 } },
      { id: "b", tool: "nope", args: {} },
      { id: "c", tool: "echo", args: { from: "$b" } },
      { id: "d", tool: "checked", args: { n: "x" } }
    ], {
      echo: { run: (args: unknown) => args },
      checked: {
        parameters: () => {
          throw new Error("n: expected a number")
        },
        run: () => 1
      }
    })
    expect(results[0]!.value).toEqual({ n: 1 })
    const b = results[1]!.error as { readonly error?: unknown }
    expect(isCallRefused(b.error)).toBe(true)
    expect(results[2]!.error?._tag).toBe("TaskSkipped")
    const d = (results[3]!.error as { readonly error?: { readonly message: string } }).error
    expect(d?.message).toBe(
      `call "d": invalid arguments: n: expected a number. Call it again with arguments that match the tool's parameters`
    )
    await scheduler.close()
  })

  it("Scheduler.runCalls() - rejects when the iterable throws, and bad tools throw a TypeError at once", async () => {
    const scheduler = new Scheduler()
    async function* broken(): AsyncGenerator<Call> {
      yield { id: "a", tool: "echo", args: 1 }
      throw new Error("stream broke")
    }
    await expect(scheduler.runCalls(broken(), { echo: { run: (x: unknown) => x } })).rejects.toThrow("stream broke")
    expect(() => scheduler.runCalls([], { echo: {} as never })).toThrow(TypeError)
    expect(() => scheduler.runCalls([], { echo: { run: () => 1, args: [] } as never })).toThrow(/args/)
    await scheduler.close()
  })

  it("Scheduler.runCalls() - aborting the signal stops reading the plan and resolves with the calls aborted", async () => {
    const scheduler = new Scheduler()
    const controller = new AbortController()
    let aborted = false
    async function* endless(): AsyncGenerator<Call> {
      yield { id: "a", tool: "wait", args: {} }
      await new Promise(() => {}) // the model never finishes its plan
    }
    const pending = scheduler.runCalls(endless(), {
      wait: {
        run: (_: unknown, signal: AbortSignal) =>
          new Promise((_, reject) =>
            signal.addEventListener("abort", () => {
              aborted = true
              reject(new Error("aborted"))
            }))
      }
    }, { signal: controller.signal })
    await sleep(5)
    controller.abort()
    const results = await pending
    expect(results.map((r) => r.error?._tag)).toEqual(["TaskInterrupted"])
    expect(aborted).toBe(true)
    await scheduler.close()
  })
})
