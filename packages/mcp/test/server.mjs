// A real MCP server for the tests, run as `node server.mjs [name]` over stdio.
// It records what the tests assert on the server's side (calls in flight at
// once, cancellations received) and reports it through its `stats` tool.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js"
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js"
import { z } from "zod"

const server = new McpServer({ name: process.argv[2] ?? "test-server", version: "1.0.0" })

let inFlight = 0
let maxInFlight = 0
const started = [] // { tool, requestId }
const cancelled = [] // { requestId, reason }
const failures = new Map() // key -> calls so far

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const text = (t) => ({ content: [{ type: "text", text: t }] })

/** Runs a tool body, counting it in flight and recording a cancellation the server receives. */
const tracked = (tool, body) => async (args, extra) => {
  started.push({ tool, requestId: extra.requestId })
  extra.signal.addEventListener("abort", () => {
    cancelled.push({ requestId: extra.requestId, reason: String(extra.signal.reason) })
  })
  inFlight++
  maxInFlight = Math.max(maxInFlight, inFlight)
  try {
    return await body(args, extra)
  } finally {
    inFlight--
  }
}

server.registerTool("echo", { inputSchema: { text: z.string() } }, tracked("echo", async ({ text: t }) => text(`echo: ${t}`)))

server.registerTool(
  "slow",
  { inputSchema: { ms: z.number() } },
  tracked("slow", async ({ ms }) => (await sleep(ms), text(`slept ${ms}`)))
)

// never answers: only a cancellation (or the process ending) stops it
server.registerTool("hang", { inputSchema: {} }, tracked("hang", (_args, extra) =>
  new Promise((resolve) => extra.signal.addEventListener("abort", () => resolve(text("cancelled"))))))

// fails (isError) on its first `fails` calls for `key`, then succeeds
server.registerTool(
  "flaky",
  { inputSchema: { key: z.string(), fails: z.number() } },
  tracked("flaky", async ({ key, fails }) => {
    const n = (failures.get(key) ?? 0) + 1
    failures.set(key, n)
    return n <= fails ? { ...text(`backend down (call ${n})`), isError: true } : text(`ok after ${n} calls`)
  })
)

// sends `steps` progress notifications, `gapMs` apart, then answers `gapMs` later (a notification sent right
// before the response can be dropped by the SDK's client: modelcontextprotocol/typescript-sdk#2580)
server.registerTool(
  "progress",
  { inputSchema: { steps: z.number(), gapMs: z.number() } },
  tracked("progress", async ({ steps, gapMs }, extra) => {
    const progressToken = extra._meta?.progressToken
    for (let i = 1; i <= steps && !extra.signal.aborted; i++) {
      await sleep(gapMs)
      if (progressToken !== undefined && !extra.signal.aborted) {
        await extra.sendNotification({
          method: "notifications/progress",
          params: { progressToken, progress: i, total: steps, message: `step ${i}` }
        })
      }
    }
    await sleep(gapMs)
    return text(`done in ${steps} steps`)
  })
)

server.registerTool("stats", {}, async () => text(JSON.stringify({ maxInFlight, started, cancelled })))

await server.connect(new StdioServerTransport())
