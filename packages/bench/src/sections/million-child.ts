/**
 * One run of a million-task case in a process of its own:
 * `node million-child.js <toolfan|p-limit> <n>`. Makes `n` no-op promise
 * tasks and runs them at concurrency 64 — the tasks are made inside the timed
 * region, as users make them — and prints one JSON line: the time in ms and
 * the process's peak RSS in MB (`process.resourceUsage().maxRSS`).
 */
import pLimit from "p-limit"
import { Scheduler, Task } from "toolfan/promise"

const which = process.argv[2]
const n = Number(process.argv[3])
const noop = () => Promise.resolve()

const start = performance.now()
if (which === "toolfan") {
  const scheduler = new Scheduler({ maxConcurrency: 64 })
  const tasks = new Array<Task<typeof noop>>(n)
  for (let i = 0; i < n; i++) tasks[i] = new Task(`t${i}`, noop)
  const results = await scheduler.run(tasks)
  if (results.length !== n || !results.every((r) => r.ok)) throw new Error("million: a task did not succeed")
  await scheduler.close()
} else {
  const limit = pLimit(64)
  const calls = new Array<Promise<void>>(n)
  for (let i = 0; i < n; i++) calls[i] = limit(noop)
  await Promise.all(calls)
}
const ms = performance.now() - start
console.log(JSON.stringify({ ms, rssMB: process.resourceUsage().maxRSS / 1024 }))
