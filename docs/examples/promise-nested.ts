import { Scheduler, Task } from "toolfan/promise"

const read = async (file: string) => `contents of ${file}`

// One scheduler with a single slot, shared by the outer tasks and their sub-tasks.
const scheduler = new Scheduler({ maxConcurrency: 1 })

// A "research" task fans out to its own sub-tasks. It passes the signal it received to the
// nested run, which then borrows this task's slot (so it cannot deadlock on the cap) and is
// aborted if this task times out.
async function research(topic: string, signal: AbortSignal): Promise<number> {
  const pages = await scheduler.run([
    new Task(`${topic}:a`, read, { args: [`${topic}/a.md`] }),
    new Task(`${topic}:b`, read, { args: [`${topic}/b.md`] })
  ], { signal })
  return pages.filter((p) => p.ok).length
}

// maxConcurrency is 1, yet this finishes: each outer task lends its slot to its nested run.
const results = await scheduler.run([
  new Task("research:effect", research, { args: ["effect"], timeout: 10_000 }),
  new Task("research:agents", research, { args: ["agents"], timeout: 10_000 })
])
for (const r of results) console.log(r.name, r.value, "pages")

await scheduler.close()
