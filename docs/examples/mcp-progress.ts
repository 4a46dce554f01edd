import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import { mcpTask } from "@toolfan/mcp"
import { Scheduler } from "toolfan/promise"

const client = new Client({ name: "my-agent", version: "1.0.0" })
await client.connect(new StdioClientTransport({ command: "node", args: ["web-server.js"] }))
const scheduler = new Scheduler()

const [crawl] = await scheduler.run([
  mcpTask(client, "crawl", { url: "https://example.com", depth: 3 }, {
    // each notifications/progress of the call, with the task's name
    onProgress: ({ task, progress, total, message }) => console.log(task, `${progress}/${total ?? "?"}`, message ?? ""),
    // the SDK's limit on silence: 10 s without progress cancels the call (retried like any failure)
    request: { timeout: 10_000, resetTimeoutOnProgress: true },
    // toolfan's limit on the whole attempt, progress or not
    timeout: 120_000,
    retries: 1
  })
])
console.log(crawl.ok ? crawl.value.content : crawl.error.message)

await scheduler.close()
await client.close()
