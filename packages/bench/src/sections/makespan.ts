/**
 * Makespan: 200 tasks of 20 ms at concurrency 10 against the ideal 400 ms
 * (p-limit with `setTimeout` as the peer, same sizes).
 */
import * as Effect from "effect/Effect"
import * as ManagedRuntime from "effect/ManagedRuntime"
import pLimit from "p-limit"
import { Scheduler, Task } from "toolfan"
import { allOk, measure, note, ratio, type Row, sleepMs, smoke, timeMs } from "../harness.js"

export const run = async (): Promise<Array<Row>> => {
  const N = smoke ? 20 : 200
  const MS = smoke ? 5 : 20
  const C = 10
  const ideal = Math.ceil(N / C) * MS
  const runtime = ManagedRuntime.make(Scheduler.layer({ maxConcurrency: C }))
  const tasks = Array.from({ length: N }, (_, i) => Task.make(`t${i}`, Effect.sleep(MS)))
  const units = Array.from({ length: N })
  const s = await measure({
    toolfan: () => timeMs(async () => allOk(await runtime.runPromise(Scheduler.run(tasks)), "makespan bench")),
    "p-limit": () =>
      timeMs(() => {
        const limit = pLimit(C)
        return Promise.all(units.map(() => limit(() => sleepMs(MS))))
      })
  }, { warmup: 1 })
  await runtime.dispose()
  const section = "makespan"
  note(`makespan: ${N} tasks of ${MS} ms at concurrency ${C}, ideal ${ideal} ms`)
  const idealSamples = s.toolfan.map(() => ideal)
  const r = ratio(s.toolfan, idealSamples)
  return [
    {
      section,
      case: "Scheduler.run",
      samples: s.toolfan,
      unit: "ms",
      ratio: r,
      against: `ideal ${ideal} ms`,
      target: "≤ 1.02×",
      met: r <= 1.02
    },
    { section, case: "p-limit + setTimeout", samples: s["p-limit"], unit: "ms", ratio: ratio(s["p-limit"], idealSamples), against: `ideal ${ideal} ms` }
  ]
}
