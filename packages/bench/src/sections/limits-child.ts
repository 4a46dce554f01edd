/**
 * One worker process of the limits section's four-process cases:
 * `node limits-child.js '<json Config>'`. It calls the provider the parent
 * serves over HTTP (`fetch`), through a toolfan scheduler whose group "llm" is
 * its own (a fixed cap or `GroupLimit.adaptive`) or a `RedisLimit.concurrency`
 * shared with the other workers.
 *
 * It starts its scheduler, opens its connections (a ping to the provider; for
 * the shared cap, one no-op task of the group, which connects to Redis), prints
 * `ready`, waits for a line on stdin, runs its `n` calls (`retries: 5`, the
 * default schedule) and prints one JSON line: calls given up and why, and the
 * adaptive cap at the end.
 */
import { RedisLimit } from "@toolfan/redis"
import * as Effect from "effect/Effect"
import { GroupLimit, Scheduler, Task } from "toolfan"
import { RateLimitError } from "./limits-provider.js"

export interface Config {
  readonly id: number
  readonly n: number
  readonly provider: string
  readonly limit:
    | { readonly kind: "fixed"; readonly cap: number }
    | { readonly kind: "adaptive"; readonly initial: number; readonly min: number; readonly max: number }
    | {
      readonly kind: "redis"
      readonly redis: string
      readonly key: string
      readonly max: number
      /** An adaptive cap shared through Redis, from `initial`. */
      readonly adaptive?: { readonly initial: number } | undefined
    }
}

export interface Report {
  readonly givenUp: number
  /** Why the calls given up failed: each distinct error message, with its count. */
  readonly failures: Readonly<Record<string, number>>
  readonly cap: number | undefined
}

const config = JSON.parse(process.argv[2]!) as Config

/** A plain `fetch` client that throws a 429 as the OpenAI and Anthropic SDKs do: `status` and `headers`. */
const call = async (caller: string): Promise<string> => {
  const response = await fetch(`${config.provider}/call?caller=${caller}`)
  const body = await response.text()
  if (response.status === 429) {
    throw new RateLimitError(`429 Too Many Requests: ${body}`, Object.fromEntries(response.headers))
  }
  if (!response.ok) throw new Error(`provider answered ${response.status}`)
  return body
}

const go = new Promise<void>((resolve) => process.stdin.once("data", () => resolve()))

const limit = config.limit.kind === "fixed"
  ? config.limit.cap
  : config.limit.kind === "adaptive"
  ? GroupLimit.adaptive({ initial: config.limit.initial, min: config.limit.min, max: config.limit.max })
  : RedisLimit.concurrency({
    key: config.limit.key,
    max: config.limit.max,
    redis: config.limit.redis,
    ...(config.limit.adaptive === undefined ? {} : { adaptive: { initial: config.limit.adaptive.initial, min: 1 } })
  })

const program = Effect.scoped(Effect.gen(function*() {
  const scheduler = yield* Scheduler.make({ maxConcurrency: 64, groups: { llm: limit } })
  yield* Effect.promise(() => fetch(`${config.provider}/ping`).then((r) => r.text()))
  const failures: Record<string, number> = {}
  if (config.limit.kind === "redis") {
    const [connected] = yield* scheduler.run([Task.make("connect", Effect.void, { group: "llm" })])
    if (connected !== undefined && !connected.ok) failures[`connecting: ${connected.error.message}`] = 1
  }
  process.stdout.write("ready\n")
  yield* Effect.promise(() => go)
  const tasks = Array.from({ length: config.n }, (_, i) =>
    Task.fromPromise(`call ${i}`, () => call(`${config.id}:${i}`), { group: "llm", retries: 5 }))
  const results = yield* scheduler.run(tasks)
  const stats = yield* scheduler.stats
  for (const r of results) if (!r.ok) failures[r.error.message] = (failures[r.error.message] ?? 0) + 1
  const report: Report = { givenUp: results.filter((r) => !r.ok).length, failures, cap: stats.caps?.llm }
  process.stdout.write(JSON.stringify(report) + "\n")
}))

await Effect.runPromise(program)
process.exit(0)
