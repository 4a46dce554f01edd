/**
 * Priority under contention: at maxConcurrency 4, 1,000 low-priority tasks of
 * 5 ms are queued; 20 ms later a second run on the same scheduler submits 10
 * high-priority tasks of 5 ms. Reported: the high tasks' median wait for a
 * slot, against the low tasks' median wait of the same run; p-queue without
 * priority (FIFO) and with its `priority` option as the peers.
 */
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as ManagedRuntime from "effect/ManagedRuntime"
import PQueue from "p-queue"
import { Scheduler, Task } from "toolfan"
import { measure, median, note, ratio, type Row, sleepMs, smoke } from "../harness.js"

export const run = async (): Promise<Array<Row>> => {
  const C = 4
  const LOW = smoke ? 50 : 1_000
  const HIGH = 10
  const MS = smoke ? 2 : 5
  const AFTER = smoke ? 5 : 20
  const runtime = ManagedRuntime.make(Scheduler.layer({ maxConcurrency: C }))
  const low = Array.from({ length: LOW }, (_, i) => Task.make(`low${i}`, Effect.sleep(MS)))
  const high = Array.from({ length: HIGH }, (_, i) => Task.make(`high${i}`, Effect.sleep(MS), { priority: 1 }))
  const lowWait: Record<string, Array<number>> = {}

  const toolfan = async () => {
    const [lows, highs] = await runtime.runPromise(Effect.gen(function*() {
      const fiber = yield* Effect.fork(Scheduler.run(low))
      yield* Effect.sleep(AFTER)
      const highs = yield* Scheduler.run(high)
      return [yield* Fiber.join(fiber), highs] as const
    }))
    ;(lowWait.toolfan ??= []).push(median(lows.map((r) => r.waitMs)))
    return median(highs.map((r) => r.waitMs))
  }
  const pQueue = (name: string, priority: boolean) => async () => {
    const queue = new PQueue({ concurrency: C })
    const add = (waits: Array<number>, options: { priority?: number }) => {
      const queuedAt = performance.now()
      return queue.add(() => {
        waits.push(performance.now() - queuedAt)
        return sleepMs(MS)
      }, options)
    }
    const lows: Array<number> = []
    const highs: Array<number> = []
    const lowDone = Promise.all(Array.from({ length: LOW }, () => add(lows, {})))
    await sleepMs(AFTER)
    await Promise.all(Array.from({ length: HIGH }, () => add(highs, priority ? { priority: 1 } : {})))
    await lowDone
    ;(lowWait[name] ??= []).push(median(lows))
    return median(highs)
  }
  const s = await measure({ toolfan, fifo: pQueue("fifo", false), pPriority: pQueue("pPriority", true) }, { warmup: 1 })
  await runtime.dispose()

  const section = "priority"
  note(`priority: ${LOW.toLocaleString("en-US")} low-priority tasks of ${MS} ms queued at concurrency ${C}, then (${AFTER} ms later) ${HIGH} high-priority ones in a second run; wait = time queued for a slot`)
  const row = (name: keyof typeof s, label: string): Array<Row> => [
    { section, case: `${label}: low tasks' median wait`, samples: lowWait[name]!, unit: "ms", against: "peer" },
    {
      section,
      case: `${label}: high tasks' median wait`,
      samples: s[name],
      unit: "ms",
      ratio: ratio(s[name], lowWait[name]!),
      against: "its low tasks' wait"
    }
  ]
  return [
    ...row("toolfan", "Scheduler.run, priority 1 vs 0"),
    ...row("fifo", "p-queue FIFO (no priority)"),
    ...row("pPriority", "p-queue, priority option")
  ]
}
