import { Effect } from "effect"
import { GroupLimit, Scheduler, Task } from "toolfan"
import { RedisLimit } from "@toolfan/redis"

// The tool calls do not change: they name their group.
const search = (query: string) => Effect.succeed([`result for ${query}`]).pipe(Effect.delay("200 millis"))
const step = Scheduler.run(
  ["agents", "effect", "redis", "leases"].map((q) => Task.make(`search:${q}`, search(q), { group: "search", timeout: "5 seconds" }))
)

// One process, local limits (tests, a laptop):
const local = Scheduler.layer({ maxConcurrency: 16, groups: { search: 8, llm: GroupLimit.rate({ limit: 50, window: "1 second" }) } })

// Fifty workers, one search backend: the same caps, held across every process through Redis.
const shared = Scheduler.layer({
  maxConcurrency: 16,
  groups: {
    search: RedisLimit.concurrency({
      key: "search",
      max: 8,
      redis: process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379",
      leaseTime: "10 seconds", // a crashed worker's slots come back after at most this long
      onUnavailable: "fail" // Redis unreachable: the task fails with GroupLimitUnavailable (or "wait")
    }),
    llm: RedisLimit.rate({ key: "llm", limit: 50, window: "1 second" })
  }
})

const program = Effect.gen(function*() {
  const results = yield* step
  for (const r of results) {
    if (r.ok) console.log(r.name, "waited", r.waitMs, "ms for a slot")
    else if (r.error._tag === "TaskFailed" && GroupLimit.isGroupLimitUnavailable(r.error.error)) {
      console.log(r.name, "did not run:", r.error.error.message)
    } else console.log(r.name, r.error.message)
  }
})

Effect.runPromise(program.pipe(Effect.provide(process.env["REDIS_URL"] === undefined ? local : shared)))
