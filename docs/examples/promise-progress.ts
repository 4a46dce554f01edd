import { Scheduler, Task } from "toolfan/promise"
import type { Progress } from "toolfan/promise"

const tool = (name: string, ms: number) => new Task(name, () => new Promise((resolve) => setTimeout(resolve, ms, name)))

// A progress bar: one line, redrawn on every event.
const bar = (event: Progress.Event) => {
  const { done, failed, queued, running, total } = event.counts
  const filled = Math.round((done / total) * 20)
  const line = `[${"#".repeat(filled)}${"-".repeat(20 - filled)}] ${done}/${total} ` +
    `(${running} running, ${queued} queued, ${failed} failed) ${event.task}: ${event.type}`
  process.stdout.write(`\r${line.padEnd(90)}`)
  if (done === total) process.stdout.write("\n")
}

const scheduler = new Scheduler({ maxConcurrency: 3 })
const tasks = Array.from({ length: 10 }, (_, i) => tool(`tool-${i}`, 20 + i * 10))
const results = await scheduler.run(tasks, { onProgress: bar })
console.log(results.filter((r) => r.ok).length, "ok")
await scheduler.close()
