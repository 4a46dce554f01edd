import { describe, expect, it } from "@effect/vitest"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js"
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js"
import { mcpTask } from "@toolfan/mcp"
import { Scheduler } from "toolfan/promise"
import { z } from "zod"

// A fake server in the test's process: the SDK's McpServer on an in-memory transport.
const fakeServer = async () => {
  const server = new McpServer({ name: "docs-server", version: "1.0.0" })
  const cancelled: Array<string> = []
  server.registerTool("search", { inputSchema: { query: z.string() } }, async ({ query }) => ({
    content: [{ type: "text", text: `${query}: a guide` }]
  }))
  server.registerTool("hang", { inputSchema: {} }, (_args, extra) =>
    new Promise((resolve) =>
      extra.signal.addEventListener("abort", () => {
        cancelled.push(String(extra.signal.reason))
        resolve({ content: [] })
      })
    ))
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair()
  await server.connect(serverSide)
  const client = new Client({ name: "test", version: "1.0.0" })
  await client.connect(clientSide)
  return { client, cancelled }
}

describe("research step", () => {
  it("returns the search and cancels the hung call on the server", async () => {
    const { cancelled, client } = await fakeServer()
    const scheduler = new Scheduler({ groups: { "docs-server": 2 } })
    const [search, hang] = await scheduler.run([
      mcpTask(client, "search", { query: "caps" }),
      mcpTask(client, "hang", {}, { timeout: 50 })
    ])
    expect(search.ok && search.value.content).toEqual([{ type: "text", text: "caps: a guide" }])
    expect(hang.error?._tag).toBe("TaskTimedOut")
    await expect.poll(() => cancelled.length).toBe(1)
    await scheduler.close()
    await client.close()
  })
})
