/**
 * Per-task overhead: 20,000 no-op tasks at concurrency 64, in µs per task,
 * against Promise.all, p-limit (also with one AbortSignal per task), p-queue
 * and a bare `Effect.forEach({ concurrency })`. "traced" installs a tracer that
 * keeps nothing (Effect's native spans behind `Tracer.make`), so every attempt
 * gets its span: the cost of tracing itself, without an exporter's.
 */
import * as Effect from "effect/Effect"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Tracer from "effect/Tracer"
import pLimit from "p-limit"
import PQueue from "p-queue"
import { Scheduler, Task } from "toolfan"
import * as P from "toolfan/promise"
import { measure, note, ratio, type Row, smoke, timeMs } from "../harness.js"

export const run = async (): Promise<Array<Row>> => {
  const N = smoke ? 200 : 20_000
  const C = 64
  const runtime = ManagedRuntime.make(Scheduler.layer({ maxConcurrency: C }))
  const promiseScheduler = new P.Scheduler({ maxConcurrency: C })
  const plain = Array.from({ length: N }, (_, i) => Task.make(`t${i}`, Effect.void))
  const policies = Array.from({ length: N }, (_, i) => Task.make(`t${i}`, Effect.void, { timeout: "5 seconds", retries: 2 }))
  const promises = Array.from({ length: N }, (_, i) => Task.fromPromise(`t${i}`, () => Promise.resolve()))
  const signals = Array.from({ length: N }, (_, i) => Task.fromPromise(`t${i}`, (signal) => Promise.resolve(signal.aborted)))
  const pTasks = Array.from({ length: N }, (_, i) => new P.Task(`t${i}`, () => Promise.resolve()))
  const pSignals = Array.from({ length: N }, (_, i) => new P.Task(`t${i}`, (signal: AbortSignal) => Promise.resolve(signal.aborted)))
  const units = Array.from({ length: N })
  const perTask = (f: () => Promise<unknown>) => async () => {
    let out: unknown
    const ms = await timeMs(async () => out = await f())
    // a figure of failed tasks would mean nothing (results are values: a failed task does not reject)
    if (Array.isArray(out) && out.some((r) => typeof r === "object" && r !== null && "ok" in r && r.ok !== true)) {
      throw new Error("overhead bench: a task failed")
    }
    return (ms * 1000) / N
  }
  const native = Effect.runSync(Effect.tracer)
  const tracer = Tracer.make({ span: (...args) => native.span(...args), context: native.context })

  const s = await measure({
    "Promise.all": perTask(() => Promise.all(units.map(() => Promise.resolve()))),
    "p-limit": perTask(() => {
      const limit = pLimit(C)
      return Promise.all(units.map(() => limit(() => Promise.resolve())))
    }),
    "p-limit + AbortSignal": perTask(() => {
      const limit = pLimit(C)
      return Promise.all(units.map(() => limit(() => Promise.resolve(new AbortController().signal.aborted))))
    }),
    "p-queue": perTask(() => {
      const queue = new PQueue({ concurrency: C })
      return Promise.all(units.map(() => queue.add(() => Promise.resolve())))
    }),
    "Effect.forEach": perTask(() =>
      Effect.runPromise(Effect.forEach(units, () => Effect.promise(() => Promise.resolve()), { concurrency: C, discard: true }))
    ),
    // the same work as "plain" (no promise per task)
    "Effect.forEach void": perTask(() => Effect.runPromise(Effect.forEach(units, () => Effect.void, { concurrency: C, discard: true }))),
    plain: perTask(() => runtime.runPromise(Scheduler.run(plain))),
    policies: perTask(() => runtime.runPromise(Scheduler.run(policies))),
    promise: perTask(() => runtime.runPromise(Scheduler.run(promises))),
    signal: perTask(() => runtime.runPromise(Scheduler.run(signals))),
    promiseApi: perTask(() => promiseScheduler.run(pTasks)),
    promiseApiSignal: perTask(() => promiseScheduler.run(pSignals))
  }, { warmup: 2 })
  // measured apart: the garbage of a span per task would otherwise land in the GC pauses of the other cases
  const t = await measure({
    plain: perTask(() => runtime.runPromise(Scheduler.run(plain))),
    traced: perTask(() => runtime.runPromise(Effect.withTracer(Scheduler.run(plain), tracer)))
  }, { warmup: 2 })
  await promiseScheduler.close()
  await runtime.dispose()

  const section = "overhead"
  note(`overhead: ${N.toLocaleString("en-US")} no-op tasks at concurrency ${C}, 2 warm-ups`)
  const vsLimit = (name: keyof typeof s, label: string, target?: number, ceiling?: number): Row => {
    const r = ratio(s[name], s["p-limit"])
    // the ceiling holds for every repetition, the target for the median
    const worst = Math.max(...s[name].map((x, i) => x / s["p-limit"][i]!))
    return {
      section,
      case: label,
      samples: s[name],
      unit: "µs/task",
      ratio: r,
      against: "p-limit",
      target: target === undefined ? undefined : `≤ ${target.toFixed(1)}×${ceiling === undefined ? "" : ` (never > ${ceiling}×)`}`,
      met: target === undefined ? undefined : r <= target && (ceiling === undefined || worst <= ceiling)
    }
  }
  const policyRatio = ratio(s.policies, s.plain)
  return [
    { section, case: "p-limit", samples: s["p-limit"], unit: "µs/task", against: "peer" },
    vsLimit("Promise.all", "Promise.all (no limit)"),
    vsLimit("p-limit + AbortSignal", "p-limit + one AbortSignal per task"),
    vsLimit("p-queue", "p-queue"),
    vsLimit("Effect.forEach", "Effect.forEach({ concurrency }) of Effect.promise"),
    vsLimit("Effect.forEach void", "Effect.forEach({ concurrency }) of Effect.void (plain's work)"),
    vsLimit("plain", "Scheduler.run, plain", 1.0, 1.25),
    {
      section,
      case: "Scheduler.run, timeout + retries set",
      samples: s.policies,
      unit: "µs/task",
      ratio: policyRatio,
      against: "Scheduler.run, plain",
      target: "≤ 1.15×",
      met: policyRatio <= 1.15
    },
    {
      section,
      case: "Scheduler.run, traced (a span per attempt)",
      samples: t.traced,
      unit: "µs/task",
      ratio: ratio(t.traced, t.plain),
      against: "Scheduler.run, plain (same measure)"
    },
    vsLimit("promise", "Task.fromPromise, no signal"),
    vsLimit("signal", "Task.fromPromise, taking the AbortSignal", 2.0),
    vsLimit("promiseApi", "Promise API Scheduler.run, no signal"),
    vsLimit("promiseApiSignal", "Promise API Scheduler.run, taking the signal", 2.0)
  ]
}
