import { Scheduler, Task } from "toolfan/promise"

const work = (name: string) => new Task(name, () => new Promise((resolve) => setTimeout(resolve, 50, name)))

// At most 4 running and 100 waiting: past that, a task is refused at once (load shedding).
const scheduler = new Scheduler({ maxConcurrency: 4, maxQueued: 100 })

const burst = scheduler.run(Array.from({ length: 150 }, (_, i) => work(`job-${i}`)))
const refused = (await burst).filter((r) => r.error?._tag === "TaskInterrupted" && r.error.reason === "queueFull")
console.log(refused.length, "refused") // 46 refused: 4 started at once, 100 waited

// Fire and forget, then wait for the scheduler to be idle (as p-queue's onIdle).
void scheduler.run([work("a"), work("b")])
await scheduler.onIdle()

// Cancel what is waiting (not what runs): those tasks settle as TaskInterrupted, reason "cleared".
const pending = scheduler.run(Array.from({ length: 10 }, (_, i) => work(`late-${i}`)))
console.log(scheduler.clear(), "cleared") // 6 cleared: 4 were running
const late = await pending
console.log(late.filter((r) => r.ok).length, "finished") // 4 finished

await scheduler.close()
