/**
 * Per-task overhead: 20,000 no-op tasks at concurrency 64, in µs per task,
 * measured as users call it: every case makes its tasks inside the timed
 * region (as p-limit's closures are made per call), with promise-returning
 * functions where the peer runs promises. Peers: Promise.all, p-limit (also
 * with one AbortController per task), p-queue and a bare
 * `Effect.forEach({ concurrency })`. Two extra rows run prebuilt `Effect.void`
 * tasks, labelled so (a task array reused every repetition hides the cost of
 * running fresh task objects). "traced" installs a tracer that keeps nothing
 * (Effect's native spans behind `Tracer.make`), so every attempt gets its
 * span: the cost of tracing itself, without an exporter's.
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
  const units = Array.from({ length: N })
  // tasks made per call, as users do (inside the timed region)
  const noop = () => Promise.resolve()
  const noopSignal = (signal: AbortSignal) => Promise.resolve(signal.aborted)
  const fresh = <T>(make: (i: number) => T) => {
    const tasks = new Array<T>(N)
    for (let i = 0; i < N; i++) tasks[i] = make(i)
    return tasks
  }
  const promises = () => fresh((i) => Task.fromPromise(`t${i}`, noop))
  const policies = () => fresh((i) => Task.fromPromise(`t${i}`, noop, { timeout: "5 seconds", retries: 2 }))
  const signals = () => fresh((i) => Task.fromPromise(`t${i}`, noopSignal))
  // prebuilt once and reused (extra rows, labelled)
  const prebuilt = Array.from({ length: N }, (_, i) => Task.make(`t${i}`, Effect.void))
  const prebuiltPolicies = Array.from({ length: N }, (_, i) => Task.make(`t${i}`, Effect.void, { timeout: "5 seconds", retries: 2 }))
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
    "Promise.all": perTask(() => Promise.all(units.map(() => noop()))),
    "p-limit": perTask(() => {
      const limit = pLimit(C)
      return Promise.all(units.map(() => limit(noop)))
    }),
    "p-limit + AbortController": perTask(() => {
      const limit = pLimit(C)
      return Promise.all(units.map(() => limit(() => noopSignal(new AbortController().signal))))
    }),
    "p-queue": perTask(() => {
      const queue = new PQueue({ concurrency: C })
      return Promise.all(units.map(() => queue.add(noop)))
    }),
    "Effect.forEach": perTask(() =>
      Effect.runPromise(Effect.forEach(units, () => Effect.promise(noop), { concurrency: C, discard: true }))
    ),
    promise: perTask(() => runtime.runPromise(Scheduler.run(promises()))),
    policies: perTask(() => runtime.runPromise(Scheduler.run(policies()))),
    signal: perTask(() => runtime.runPromise(Scheduler.run(signals()))),
    promiseApi: perTask(() => promiseScheduler.run(fresh((i) => new P.Task(`t${i}`, noop)))),
    promiseApiSignal: perTask(() => promiseScheduler.run(fresh((i) => new P.Task(`t${i}`, noopSignal)))),
    prebuilt: perTask(() => runtime.runPromise(Scheduler.run(prebuilt))),
    prebuiltPolicies: perTask(() => runtime.runPromise(Scheduler.run(prebuiltPolicies)))
  }, { warmup: 2 })
  // measured apart: the garbage of a span per task would otherwise land in the GC pauses of the other cases
  const t = await measure({
    plain: perTask(() => runtime.runPromise(Scheduler.run(promises()))),
    traced: perTask(() => runtime.runPromise(Effect.withTracer(Scheduler.run(promises()), tracer)))
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
  const vs = (name: keyof typeof s, label: string, peer: keyof typeof s, peerLabel: string, target: number): Row => {
    const r = ratio(s[name], s[peer])
    return { section, case: label, samples: s[name], unit: "µs/task", ratio: r, against: peerLabel, target: `≤ ${target}×`, met: r <= target }
  }
  return [
    { section, case: "p-limit", samples: s["p-limit"], unit: "µs/task", against: "peer" },
    vsLimit("Promise.all", "Promise.all (no limit)"),
    vsLimit("p-limit + AbortController", "p-limit + one AbortController per task"),
    vsLimit("p-queue", "p-queue"),
    vsLimit("Effect.forEach", "Effect.forEach({ concurrency }) of Effect.promise"),
    vsLimit("promise", "Scheduler.run, fresh Task.fromPromise tasks", 1.0, 1.25),
    vs("policies", "Scheduler.run, fresh tasks, timeout + retries set", "promise", "the same without policies", 1.15),
    vs("signal", "Scheduler.run, fresh tasks taking the AbortSignal", "p-limit + AbortController", "p-limit + AbortController", 1.0),
    vsLimit("promiseApi", "Promise API, fresh tasks", 1.0),
    vs("promiseApiSignal", "Promise API, fresh tasks taking the signal", "p-limit + AbortController", "p-limit + AbortController", 1.0),
    vsLimit("prebuilt", "Scheduler.run, prebuilt Effect.void tasks (reused)"),
    vs("prebuiltPolicies", "… prebuilt, timeout + retries set (reused)", "prebuilt", "prebuilt", 1.15),
    {
      section,
      case: "Scheduler.run, traced (native spans, a span per attempt)",
      samples: t.traced,
      unit: "µs/task",
      ratio: ratio(t.traced, t.plain),
      against: "untraced (same measure)"
    }
  ]
}
