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
  const lowWait: Record<string, Array<number>> = {}

  // waits timed like p-queue's below (performance.now() from submission to the task's start), not with the
  // results' waitMs (whole milliseconds of Effect's clock)
  const tasks = (prefix: string, n: number, waits: Array<number>, queuedAt: () => number, priority: number) =>
    Array.from({ length: n }, (_, i) =>
      Task.make(`${prefix}${i}`, Effect.zipRight(Effect.sync(() => void waits.push(performance.now() - queuedAt())), Effect.sleep(MS)), {
        priority
      }))
  const toolfan = async () => {
    const lows: Array<number> = []
    const highs: Array<number> = []
    let lowAt = 0
    let highAt = 0
    const low = tasks("low", LOW, lows, () => lowAt, 0)
    const high = tasks("high", HIGH, highs, () => highAt, 1)
    const results = await runtime.runPromise(Effect.gen(function*() {
      lowAt = performance.now()
      const fiber = yield* Effect.fork(Scheduler.run(low))
      yield* Effect.sleep(AFTER)
      highAt = performance.now()
      const highResults = yield* Scheduler.run(high)
      return [...(yield* Fiber.join(fiber)), ...highResults]
    }))
    if (!results.every((r) => r.ok)) throw new Error("priority bench: a task failed")
    ;(lowWait.toolfan ??= []).push(median(lows))
    return median(highs)
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
  // the low waits were recorded in the warm-up too: keep those of the measured repetitions
  for (const name of Object.keys(lowWait)) lowWait[name] = lowWait[name]!.slice(-s.toolfan.length)

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
