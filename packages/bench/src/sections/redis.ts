/**
 * What a shared limit costs: the same tasks under a local group cap and under
 * `@toolfan/redis`'s shared cap and rate limit, against a redis-server this
 * section starts on a free loopback port (skipped, and said so, if
 * redis-server is not installed).
 *
 * - per-task cost: no-op tasks in one group capped at 8 — the shared cap
 *   takes a lease per task, but a released lease is handed to the scheduler's
 *   next task without a Redis call while no other process waits (see
 *   packages/redis/src/internal/handoff.ts); the floor row is a `GroupLimit`
 *   that grants at once, what any shared limit costs in the scheduler;
 * - makespan: 400 tasks of 5 ms at a cap of 8 (ideal 250 ms) — how much of
 *   the handoff between holders shows when tasks do real work.
 */
import { spawn, spawnSync } from "node:child_process"
import * as net from "node:net"
import { RedisLimit } from "@toolfan/redis"
import * as Effect from "effect/Effect"
import { GroupLimit, Scheduler, Task, type TaskResult } from "toolfan"
import { measure, median, note, ratio, type Row, sleepMs, smoke, timeMs } from "../harness.js"

const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port
      server.close(() => resolve(port))
    })
  })

const grantNothing: GroupLimit.Permit = { release: () => {} }

const listening = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1")
    socket.once("connect", () => (socket.destroy(), resolve(true)))
    socket.once("error", () => resolve(false))
  })

export const run = async (): Promise<Array<Row>> => {
  if (spawnSync("redis-server", ["--version"]).status !== 0) {
    note("redis: SKIPPED — redis-server is not installed (apt-get install redis-server)")
    return []
  }
  const port = await freePort()
  const server = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    stdio: "ignore"
  })
  try {
    while (!(await listening(port))) await sleepMs(20)
    const url = `redis://127.0.0.1:${port}`
    const N = smoke ? 100 : 2_000
    const M = smoke ? 40 : 400
    const MS = 5
    const CAP = 8
    let round = 0
    const schedulerWith = (group: number | GroupLimit.GroupLimit) =>
      Scheduler.make({ maxConcurrency: 64, groups: { g: group } })
    const shared = () => RedisLimit.concurrency({ key: `bench${++round}`, max: CAP, redis: url })
    // 1 ms per attempt (fixed-window needs whole milliseconds per attempt): never reached by N tasks
    // what the scheduler's side of any GroupLimit costs: a limit that grants every request at once
    const floor = () =>
      GroupLimit.make({ description: "grants at once", local: CAP, start: Effect.succeed({ acquire: () => Effect.succeed(grantNothing) }) })
    const rate = () => RedisLimit.rate({ key: `bench${++round}`, limit: 1_000_000, window: "1000 seconds", redis: url })
    const noop = Array.from({ length: N }, (_, i) => Task.make(`t${i}`, Effect.void, { group: "g" }))
    const work = Array.from({ length: M }, (_, i) => Task.make(`w${i}`, Effect.sleep(MS), { group: "g" }))
    // a started scheduler per case; connecting is not part of the figure
    const perTask = (group: () => number | GroupLimit.GroupLimit, tasks: ReadonlyArray<Task.Task<unknown, never, never>>, unit: "us" | "ms") =>
      () =>
        Effect.runPromise(Effect.scoped(Effect.gen(function*() {
          const s = yield* schedulerWith(group())
          yield* s.run(tasks.slice(0, 8)) // connected and warm
          let results: ReadonlyArray<TaskResult.TaskResult<unknown, never>> = []
          const ms = yield* Effect.promise(() => timeMs(async () => results = await Effect.runPromise(s.run(tasks))))
          // a figure of failed tasks would mean nothing
          const failed = results.find((r) => !r.ok)
          if (failed !== undefined) throw new Error(`redis bench: ${failed.error?.message}`)
          return unit === "us" ? (ms * 1000) / tasks.length : ms
        })))
    const cost = await measure({
      local: perTask(() => CAP, noop, "us"),
      floor: perTask(floor, noop, "us"),
      shared: perTask(shared, noop, "us"),
      rate: perTask(rate, noop, "us")
    }, { warmup: 1 })
    const span = await measure({
      local: perTask(() => CAP, work, "ms"),
      shared: perTask(shared, work, "ms")
    }, { warmup: 1 })
    const section = "redis"
    note(`redis: ${N.toLocaleString("en-US")} no-op tasks in one group capped at ${CAP} (maxConcurrency 64); makespan: ${M} tasks of ${MS} ms at a cap of ${CAP} (ideal ${(M * MS) / CAP} ms); redis-server on loopback`)
    return [
      { section, case: "local cap (groups: { g: 8 })", samples: cost.local, unit: "µs/task", against: "peer" },
      {
        section,
        case: "GroupLimit granting at once (the floor of any shared limit)",
        samples: cost.floor,
        unit: "µs/task",
        ratio: ratio(cost.floor, cost.local),
        against: "local cap"
      },
      {
        section,
        case: "RedisLimit.concurrency (shared cap 8)",
        samples: cost.shared,
        unit: "µs/task",
        ratio: ratio(cost.shared, cost.local),
        against: "local cap",
        target: "≤ 40 µs",
        met: median(cost.shared) <= 40
      },
      {
        section,
        case: "RedisLimit.rate (never reached)",
        samples: cost.rate,
        unit: "µs/task",
        ratio: ratio(cost.rate, cost.local),
        against: "local cap"
      },
      { section, case: `makespan, local cap`, samples: span.local, unit: "ms", against: "peer" },
      {
        section,
        case: `makespan, RedisLimit.concurrency`,
        samples: span.shared,
        unit: "ms",
        ratio: ratio(span.shared, span.local),
        against: "local cap"
      }
    ]
  } finally {
    server.kill("SIGKILL")
  }
}
