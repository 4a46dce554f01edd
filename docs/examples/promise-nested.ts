import { Scheduler, Task } from "toolfan/promise"

const read = async (file: string) => `contents of ${file}`

// Outer tasks and their sub-tasks use two schedulers, each with its own cap,
// so a sub-task never waits for a slot held by its own parent.
const outer = new Scheduler({ maxConcurrency: 4 })
const inner = new Scheduler({ maxConcurrency: 8 })

async function research(topic: string): Promise<number> {
  const pages = await inner.run([
    new Task(`${topic}:a`, read, { args: [`${topic}/a.md`] }),
    new Task(`${topic}:b`, read, { args: [`${topic}/b.md`] })
  ])
  return pages.filter((p) => p.ok).length
}

const results = await outer.run([
  new Task("research:effect", research, { args: ["effect"], timeout: 10_000 }),
  new Task("research:agents", research, { args: ["agents"], timeout: 10_000 })
])
for (const r of results) console.log(r.name, r.value, "pages")

await Promise.all([outer.close(), inner.close()])
