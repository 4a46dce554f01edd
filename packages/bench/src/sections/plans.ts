/**
 * Plans a model writes (LLMCompiler, Kim et al., ICML 2024), simulated in real
 * time: a planner streams 8 tool calls over 800 ms (a DAG of depth 3, tools of
 * 200–600 ms). Three ways to run them, in one process run:
 *
 * - one call per model turn (ReAct-like): each turn (300 ms) writes one call,
 *   which runs before the next turn;
 * - the whole plan first (800 ms), then `Scheduler.runPlan` on it (eager DAG);
 * - streaming dispatch: `ToolPlan.run` over the stream of calls, each call
 *   started as soon as it has arrived and its references have succeeded.
 *
 * The ideal is max(end of the plan stream, critical path of the DAG) = 1,100
 * ms here (the chain search → fetch → summarize, 500 + 300 + 300 ms, starts
 * with the first call); streaming dispatch should finish within 50 ms of it.
 * `--smoke` runs the same shapes 20× faster.
 */
import * as Effect from "effect/Effect"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { Plan, Scheduler, Task, ToolPlan } from "toolfan"
import { allOk, measure, median, note, ratio, type Row, smoke, timeMs } from "../harness.js"

const SCALE = smoke ? 1 / 20 : 1

/** The plan: call, tool time (ms), the calls it references. Arrives one call per 100 ms from 0; the stream ends at 800. */
const plan: ReadonlyArray<{ readonly id: string; readonly ms: number; readonly refs: ReadonlyArray<string> }> = [
  { id: "search_a", ms: 500, refs: [] },
  { id: "search_b", ms: 400, refs: [] },
  { id: "fetch_a", ms: 300, refs: ["search_a"] },
  { id: "fetch_b", ms: 200, refs: ["search_b"] },
  { id: "weather", ms: 300, refs: [] },
  { id: "summarize", ms: 300, refs: ["fetch_a", "fetch_b"] },
  { id: "stock", ms: 200, refs: [] },
  { id: "compare", ms: 300, refs: ["weather", "stock"] }
]
const EVERY = 100
const PLAN_END = 800
const TURN = 300
const IDEAL = 1100

const ms = (x: number) => Math.round(x * SCALE)

/** One simulated tool: sleeps for the time its arguments say, returns what it was given. */
const work = ToolPlan.tool(
  Schema.Struct({ ms: Schema.Number, inputs: Schema.Array(Schema.Unknown) }),
  ({ inputs, ms: t }) => Effect.as(Effect.sleep(t), { done: true, inputs: inputs.length })
)

/** The calls as a model writes them: references to the outputs they need. */
const calls: Array<ToolPlan.Call> = plan.map((c) => ({
  id: c.id,
  tool: "work",
  args: { ms: ms(c.ms), inputs: c.refs.map((r) => `$${r}.done`) }
}))

/** The planner's stream: call i at i × 100 ms, the end at 800 ms. */
const streamed = Stream.fromIterable(calls).pipe(
  Stream.zipWithIndex,
  Stream.mapEffect(([call, i]) => Effect.as(Effect.sleep(i === 0 ? 0 : ms(EVERY)), call)),
  Stream.concat(Stream.fromEffect(Effect.sleep(ms(PLAN_END - EVERY * (plan.length - 1)))).pipe(Stream.drain))
)

/** The same plan as an eager DAG, for `runPlan` once it is complete. */
const dag = Plan.make(Object.fromEntries(plan.map((c) => [c.id, {
  dependencies: c.refs,
  run: () => Effect.as(Effect.sleep(ms(c.ms)), { done: true })
}])))

/** ReAct-like: one turn per call, each followed by its tool. */
const react = Effect.forEach(plan, (c) =>
  Effect.zipRight(Effect.sleep(ms(TURN)), Scheduler.run([Task.make(c.id, Effect.sleep(ms(c.ms)))])), { discard: true })

export const run = async (): Promise<Array<Row>> => {
  const runtime = ManagedRuntime.make(Scheduler.layer({ maxConcurrency: 10 }))
  const s = await measure({
    react: () => timeMs(() => runtime.runPromise(react)),
    whole: () =>
      timeMs(async () => {
        await runtime.runPromise(Effect.sleep(ms(PLAN_END)))
        allOk(Object.values(await runtime.runPromise(Scheduler.runPlan(dag))), "plans bench")
      }),
    streaming: () => timeMs(async () => allOk(await runtime.runPromise(ToolPlan.run(streamed, { work })), "plans bench"))
  }, { warmup: 1 })
  await runtime.dispose()
  const section = "plans"
  const ideal = ms(IDEAL)
  const idealSamples = s.streaming.map(() => ideal)
  const speedup = ratio(s.react, s.streaming)
  note(
    `plans: 8 calls streamed over ${ms(PLAN_END)} ms (DAG of depth 3, tools ${ms(200)}–${ms(600)} ms), one turn = ${ms(TURN)} ms; ` +
      `ideal ${ideal} ms = max(plan stream end, critical path); streaming dispatch ${speedup.toFixed(1)}× faster than one call per turn`
  )
  const late = median(s.streaming) - ideal
  return [
    { section, case: "one call per turn (ReAct-like)", samples: s.react, unit: "ms", ratio: ratio(s.react, idealSamples), against: `ideal ${ideal} ms` },
    { section, case: "whole plan, then runPlan", samples: s.whole, unit: "ms", ratio: ratio(s.whole, idealSamples), against: `ideal ${ideal} ms` },
    {
      section,
      case: "streaming dispatch (ToolPlan.run)",
      samples: s.streaming,
      unit: "ms",
      ratio: ratio(s.streaming, idealSamples),
      against: `ideal ${ideal} ms`,
      target: `≤ ideal + ${ms(50)} ms`,
      met: late <= ms(50)
    },
    {
      section,
      case: "streaming dispatch vs one call per turn",
      samples: s.streaming,
      unit: "ms",
      ratio: ratio(s.streaming, s.react),
      against: "one call per turn",
      target: "≤ 0.56× (≥ 1.8× faster)",
      met: speedup >= 1.8
    }
  ]
}
