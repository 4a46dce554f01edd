import { Scheduler, Task } from "toolfan/promise"

// Fake tools (offline) that stop when their signal is aborted.
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener("abort", () => (clearTimeout(timer), reject(signal.reason)))
  })
const search = async (query: string, signal?: AbortSignal) => (await sleep(200, signal), [`result for ${query}`])
const fetchPage = async (url: string, signal?: AbortSignal) => (await sleep(150, signal), `<html>${url}</html>`)

const scheduler = new Scheduler({ maxConcurrency: 8 })
const results = await scheduler.run([
  new Task("web", search, { args: ["agent observability"], timeout: 5000, retries: 2 }),
  new Task("docs", fetchPage, { args: ["https://example.com"], timeout: 3000 })
])
for (const r of results) {
  if (r.ok) console.log(r.name, "→", r.durationMs, "ms")
  else console.log(r.name, "FAILED:", r.error._tag)
}
await scheduler.close()
