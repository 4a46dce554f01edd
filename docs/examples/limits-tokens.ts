import { Effect } from "effect"
import { GroupLimit, Scheduler, Task } from "toolfan"

// A provider's quota of 100,000 tokens a minute: each call says what it is likely to cost.
const estimateTokens = (prompt: string) => Math.ceil(prompt.length / 4) + 500 // prompt + the answer's budget
const complete = (prompt: string) => Effect.succeed(`answer to ${prompt.slice(0, 20)}…`)

const prompts = ["summarise this report …", "translate this page …", "classify these 40 messages …"]
const program = Scheduler.run(
  prompts.map((p, i) => Task.make(`chat ${i}`, complete(p), { group: "llm", cost: estimateTokens(p) }))
)

Effect.runPromise(
  program.pipe(
    Effect.provide(
      Scheduler.layer({ groups: { llm: GroupLimit.rate({ limit: 100_000, window: "1 minute", counts: "cost" }) } })
    )
  )
).then((results) => console.log(results.map((r) => r.ok)))
