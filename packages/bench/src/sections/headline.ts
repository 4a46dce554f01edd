/**
 * The seed's headline: an agent's ten tool calls of 200 ms each, one after the
 * other (`Effect.forEach` without concurrency) against `Scheduler.run` at
 * maxConcurrency 10.
 */
import * as Effect from "effect/Effect"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { Scheduler, Task } from "toolfan"
import { allOk, measure, note, ratio, type Row, smoke, timeMs } from "../harness.js"

export const run = async (): Promise<Array<Row>> => {
  const N = 10
  const MS = smoke ? 5 : 200
  const runtime = ManagedRuntime.make(Scheduler.layer({ maxConcurrency: N }))
  const tool = Effect.sleep(MS)
  const tasks = Array.from({ length: N }, (_, i) => Task.make(`tool${i}`, tool))
  const units = Array.from({ length: N })
  const s = await measure({
    sequential: () => timeMs(() => Effect.runPromise(Effect.forEach(units, () => tool, { discard: true }))),
    toolfan: () => timeMs(async () => allOk(await runtime.runPromise(Scheduler.run(tasks)), "headline bench"))
  }, { warmup: 1 })
  await runtime.dispose()
  const section = "headline"
  note(`headline: ${N} tools of ${MS} ms (Effect.sleep), one after the other vs Scheduler.run at maxConcurrency ${N}`)
  return [
    { section, case: "sequential (Effect.forEach)", samples: s.sequential, unit: "ms", against: "peer" },
    {
      section,
      case: `Scheduler.run, maxConcurrency ${N}`,
      samples: s.toolfan,
      unit: "ms",
      ratio: ratio(s.toolfan, s.sequential),
      against: "sequential"
    }
  ]
}
