import { afterEach, describe, expect, it } from "@effect/vitest"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js"
import { fileURLToPath } from "node:url"
import { vi } from "vitest"
import { isMcpToolError, type McpProgress, mcpTask, mcpTools } from "../src/index.js"
import { Scheduler } from "toolfan/promise"

// Every test talks to a real MCP server process (test/server.mjs) over stdio.
// Durations are tiny; the assertions are on behaviour (values, errors,
// attempts, what the server recorded), never on wall-clock time.

const serverPath = fileURLToPath(new URL("./server.mjs", import.meta.url))
const open: Array<{ close(): Promise<void> }> = []

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()))
})

/** A client connected to a new server process named `name`. */
const connect = async (name = "test-server"): Promise<Client> => {
  const client = new Client({ name: "toolfan-test", version: "0.1.0" })
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [serverPath, name] }))
  open.push(client)
  return client
}

/** A scheduler closed after the test. */
const scheduler = (options?: ConstructorParameters<typeof Scheduler>[0]) => {
  const s = new Scheduler(options)
  open.push(s)
  return s
}

interface Stats {
  readonly maxInFlight: number
  readonly started: ReadonlyArray<{ readonly tool: string; readonly requestId: number }>
  readonly cancelled: ReadonlyArray<{ readonly requestId: number; readonly reason: string }>
}

/** What the server recorded. */
const stats = async (client: Client): Promise<Stats> => JSON.parse(textOf(await client.callTool({ name: "stats" }) as CallToolResult))

const textOf = (result: CallToolResult | undefined): string =>
  (result?.content ?? []).map((c) => (c.type === "text" ? c.text : "")).join("")

/** Waits until the server has received the cancellation of every call of `tool` it started; returns them. */
const cancellationsOf = (client: Client, tool: string) =>
  vi.waitFor(async () => {
    const s = await stats(client)
    const ids = s.started.filter((c) => c.tool === tool).map((c) => c.requestId)
    expect(ids.length).toBeGreaterThan(0)
    const cancelled = s.cancelled.filter((c) => ids.includes(c.requestId))
    expect(cancelled.map((c) => c.requestId)).toEqual(ids)
    return cancelled
  }, { timeout: 5000, interval: 20 })

describe("mcpTask", () => {
  it("run() - a tool's result is the task's value, named after the tool", async () => {
    const client = await connect()
    const [echo, named] = await scheduler().run([
      mcpTask(client, "echo", { text: "hi" }),
      mcpTask(client, "echo", { text: "again" }, { name: "second echo" })
    ])
    expect(echo.ok && textOf(echo.value)).toBe("echo: hi")
    expect(echo.name).toBe("echo")
    expect(named.ok && textOf(named.value)).toBe("echo: again")
    expect(named.name).toBe("second echo")
  })

  it("group - a task's group is its server's name, so groups: { [server]: n } caps the calls to it", async () => {
    const client = await connect("capped-server")
    const tasks = Array.from({ length: 6 }, () => mcpTask(client, "slow", { ms: 30 }))
    const results = await scheduler({ maxConcurrency: 10, groups: { "capped-server": 2 } }).run(tasks)
    expect(results.every((r) => r.ok)).toBe(true)
    expect((await stats(client)).maxInFlight).toBe(2)
  })

  it("group - options.server names the group instead", async () => {
    const client = await connect()
    const tasks = Array.from({ length: 4 }, () => mcpTask(client, "slow", { ms: 30 }, { server: "docs" }))
    await scheduler({ maxConcurrency: 10, groups: { docs: 1 } }).run(tasks)
    expect((await stats(client)).maxInFlight).toBe(1)
  })

  it("timeout - cuts a hung call, and the server receives its cancellation", async () => {
    const client = await connect()
    const [hang] = await scheduler().run([mcpTask(client, "hang", {}, { timeout: 50 })])
    expect(hang.error?._tag).toBe("TaskTimedOut")
    const [cancelled] = await cancellationsOf(client, "hang")
    expect(cancelled.reason).toContain(`task "hang" timed out after 50 ms`)
  })

  it("isError - fails the task with the tool's error text, after its retries", async () => {
    const client = await connect()
    const [r] = await scheduler().run([mcpTask(client, "flaky", { key: "a", fails: 5 }, { retries: 1 })])
    expect(r.error?._tag).toBe("TaskFailed")
    expect(r.attempts).toBe(2)
    expect(isMcpToolError(r.error?.cause)).toBe(true)
    expect(r.error?.message).toContain(`MCP tool "flaky" of server "test-server" returned an error: backend down (call 2)`)
  })

  it("isError - the SDK's McpServer answers an unknown tool as an isError result", async () => {
    const client = await connect()
    const [r] = await scheduler().run([mcpTask(client, "serach")])
    expect(isMcpToolError(r.error?.cause)).toBe(true)
    expect(r.error?.message).toContain(`MCP tool "serach" of server "test-server" returned an error: MCP error -32602: Tool serach not found`)
  })

  it("isError - is retried per retries, and a later success is the value", async () => {
    const client = await connect()
    const [r] = await scheduler().run([mcpTask(client, "flaky", { key: "b", fails: 1 }, { retries: 2 })])
    expect(r.attempts).toBe(2)
    expect(r.ok && textOf(r.value)).toBe("ok after 2 calls")
  })

  it("onProgress - receives the call's progress notifications, with the task's name", async () => {
    const client = await connect()
    const seen: Array<McpProgress> = []
    const [r] = await scheduler().run([
      mcpTask(client, "progress", { steps: 3, gapMs: 20 }, { name: "crawl", onProgress: (p) => seen.push(p) })
    ])
    expect(r.ok).toBe(true)
    expect(seen).toEqual([1, 2, 3].map((i) => ({ task: "crawl", progress: i, total: 3, message: `step ${i}` })))
  })

  it("onProgress - a throw cancels the call on the server and fails the attempt with it", async () => {
    const client = await connect()
    const boom = new Error("progress callback broke")
    const [r] = await scheduler().run([
      mcpTask(client, "progress", { steps: 50, gapMs: 10 }, {
        onProgress: () => {
          throw boom
        }
      })
    ])
    expect(r.error?._tag).toBe("TaskFailed")
    expect(r.error?.cause).toBe(boom)
    await cancellationsOf(client, "progress")
  })

  it("request.resetTimeoutOnProgress - progress keeps a call alive past the SDK's timeout", async () => {
    const client = await connect()
    const args = { steps: 6, gapMs: 40 } // ~240 ms in all, a notification every ~40 ms
    const [kept, cut] = await scheduler().run([
      mcpTask(client, "progress", args, { request: { timeout: 150, resetTimeoutOnProgress: true } }),
      mcpTask(client, "progress", args, { request: { timeout: 150 } })
    ])
    expect(kept.ok && textOf(kept.value)).toBe("done in 6 steps")
    expect(cut.error?._tag).toBe("TaskFailed")
    expect(cut.error?.message).toContain("Request timed out")
  })

  it("deadline - the run returns partial results and the server receives the cancellation", async () => {
    const client = await connect()
    const [echo, hang] = await scheduler().run([mcpTask(client, "echo", { text: "fast" }), mcpTask(client, "hang")], {
      deadline: 200
    })
    expect(echo.ok && textOf(echo.value)).toBe("echo: fast")
    expect(hang.error?._tag).toBe("TaskInterrupted")
    await cancellationsOf(client, "hang")
  })

  it("request.timeout - the SDK's own limit (60 s by default) is off when the task has a timeout", async () => {
    // a fake client: records the request options of each call
    const seen: Array<Record<string, unknown>> = []
    const fake = {
      callTool: async (_params: unknown, _schema: unknown, options: Record<string, unknown>) => (seen.push(options), { content: [] }),
      getServerVersion: () => ({ name: "fake", version: "1" })
    } as unknown as Client
    await scheduler().run([
      mcpTask(fake, "a", {}, { timeout: 120_000 }),
      mcpTask(fake, "b"),
      mcpTask(fake, "c", {}, { timeout: 120_000, request: { timeout: 5_000 } })
    ])
    expect(seen.map((o) => o.timeout)).toEqual([2 ** 31 - 1, undefined, 5_000])
    expect(seen.every((o) => o.signal instanceof AbortSignal && o.onprogress === undefined)).toBe(true)
  })

  it("mcpTask() - refuses bad input with an error naming the parameter and the value", async () => {
    const client = await connect()
    expect(() => mcpTask({} as Client, "echo")).toThrow(new TypeError(
      "mcpTask: client must be an MCP Client (with callTool and getServerVersion), got {} (object)"
    ))
    expect(() => mcpTask(client, "")).toThrow(new TypeError(`mcpTask: tool must be a non-empty string, got "" (string)`))
    expect(() => mcpTask(client, "echo", [] as never)).toThrow(
      new TypeError("mcpTask: args must be an object of the tool's arguments, got an array of length 0")
    )
    expect(() => mcpTask(client, "echo", {}, { onProgress: 5 as never })).toThrow(
      new TypeError("mcpTask: options.onProgress must be a function, got 5 (number)")
    )
    expect(() => mcpTask(client, "echo", {}, { request: { timeout: -1 } })).toThrow(RangeError)
    expect(() => mcpTask(client, "echo", {}, { request: { signal: null } as never })).toThrow(/options\.request\.signal must be left out/)
    expect(() => mcpTask(client, "echo", {}, { timeout: -5 })).toThrow(/timeout/)
    const unconnected = new Client({ name: "c", version: "1" })
    expect(() => mcpTask(unconnected, "echo")).toThrow(/mcpTask: options\.server must be given when the client has not connected/)
  })
})

describe("mcpTools", () => {
  it("task() - makes tasks of the listed tools with the shared and per-tool options", async () => {
    const client = await connect()
    const docs = await mcpTools(client, { priority: 1, tools: { flaky: { retries: 1 } } })
    expect(docs.tools.map((t) => t.name)).toEqual(["echo", "slow", "hang", "flaky", "progress", "stats"])
    const [echo, flaky] = await scheduler().run([
      docs.task("echo", { text: "listed" }),
      docs.task("flaky", { key: "c", fails: 1 })
    ])
    expect(echo.ok && textOf(echo.value)).toBe("echo: listed")
    expect(flaky.ok && flaky.attempts).toBe(2)
  })

  it("mcpTools() - refuses a tool the server does not have, and bad options at once", async () => {
    const client = await connect()
    await expect(mcpTools(client, { tools: { serach: { retries: 1 } } })).rejects.toThrow(
      /mcpTools: options.tools key must be a tool of the server \("echo", .*\), got "serach" \(string\)/
    )
    await expect(mcpTools(client, { tools: { slow: { timeout: -5 } } })).rejects.toThrow(/timeout/)
    const docs = await mcpTools(client)
    expect(() => docs.task("serach")).toThrow(TypeError)
  })
})
