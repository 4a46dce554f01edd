import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import { mcpTools } from "@toolfan/mcp"
import { Scheduler } from "toolfan/promise"

const client = new Client({ name: "my-agent", version: "1.0.0" })
await client.connect(new StdioClientTransport({ command: "node", args: ["docs-server.js"] }))

// List the server's tools once; options for every tool, then per tool (a name the server lacks is refused).
const docs = await mcpTools(client, { timeout: 5_000, tools: { search: { retries: 2, priority: 1 } } })

// Show the model what it may call...
const offered = docs.tools.map((t) => ({ name: t.name, description: t.description, parameters: t.inputSchema }))
console.log(offered)

// ...and run the calls it asked for, all at once, each under its tool's options.
const calls = [
  { id: "c1", name: "search", args: { query: "caps" } },
  { id: "c2", name: "search", args: { query: "retries" } },
  { id: "c3", name: "fetch", args: { url: "https://example.com" } }
]
const scheduler = new Scheduler({ maxConcurrency: 8 })
const results = await scheduler.run(calls.map((c) => docs.task(c.name, c.args, { name: c.id })))

// One result per call, in order: a value for the model, or a message it can act on.
const toolResults = results.map((r) => ({ id: r.name, output: r.ok ? r.value.content : r.error.message }))
console.log(toolResults)

await scheduler.close()
await client.close()
