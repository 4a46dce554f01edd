import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import { isMcpToolError, mcpTask } from "@toolfan/mcp"
import { Scheduler } from "toolfan/promise"

// Two MCP servers of yours, started as child processes and spoken to over stdio.
const docs = new Client({ name: "my-agent", version: "1.0.0" })
await docs.connect(new StdioClientTransport({ command: "node", args: ["docs-server.js"] }))
const web = new Client({ name: "my-agent", version: "1.0.0" })
await web.connect(new StdioClientTransport({ command: "node", args: ["web-server.js"] }))

// A task's group is its server's name (as the server gave it when connecting): cap each server there.
const scheduler = new Scheduler({ maxConcurrency: 8, groups: { "docs-server": 2, "web-server": 4 } })

const [guide, page, slow] = await scheduler.run([
  mcpTask(docs, "search", { query: "rate limits" }, { timeout: 5_000, retries: 2 }),
  mcpTask(web, "fetch", { url: "https://example.com" }, { timeout: 3_000, retryWhile: isMcpToolError }),
  mcpTask(web, "crawl", { url: "https://example.com", depth: 3 }, { timeout: 10_000 })
], { deadline: 15_000 })

if (guide.ok) console.log(guide.value.content) // the tool's result: content, structuredContent, ...
console.log(page.error?.message) // e.g. task "fetch" failed: MCP tool "fetch" of server "web-server" returned an error: 502
console.log(slow.error?._tag) // e.g. TaskTimedOut: the server got notifications/cancelled for the call

await scheduler.close()
await Promise.all([docs.close(), web.close()])
