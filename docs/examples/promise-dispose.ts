import { MicroBatcher, Scheduler, Task } from "toolfan/promise"

async function handleRequest(question: string): Promise<string> {
  // closed when the block is left, however it is left (return, throw)
  await using scheduler = new Scheduler({ maxConcurrency: 4 })
  await using labels = new MicroBatcher(async (texts: ReadonlyArray<string>) => texts.map((t) => t.length > 10))

  const [answer] = await scheduler.run([new Task("answer", async () => `you asked: ${question}`)])
  const long = await labels.submit(question)
  return `${answer.value} (long: ${long})`
}

console.log(await handleRequest("is Thursday free?"))
