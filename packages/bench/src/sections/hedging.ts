/**
 * Tail latency and duplicates (docs/hedging.md). A simulated search tool on
 * virtual time (see `VirtualClock`): each call takes a log-normal time (median
 * 50 ms, σ 0.5) and 2% of calls are stragglers at 10× that. 10,000 calls at
 * once (concurrency 20,000: the cap is not what is measured), after 1,000
 * calls that fill the latency window a `"p95"` hedge reads:
 *
 * - unhedged;
 * - hedged at the group's observed p95, budget 5% (the default);
 * - a naive fixed hedge at 120 ms without a budget (budget 1).
 *
 * Reported: p50/p99/p99.9 of the tasks' `durationMs`, the extra calls
 * (hedges started) as a share of the 10,000, and how long after the winning
 * call resolved its loser's signal was aborted. Then coalescing: 10
 * identical concurrent calls (`coalesce: true`) and how many executions they
 * made.
 */
import * as Effect from "effect/Effect"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Exit from "effect/Exit"
import { Scheduler, Task } from "toolfan"
import * as P from "toolfan/promise"
import { note, type Row, smoke } from "../harness.js"

const N = smoke ? 1_000 : 10_000
const WARM = smoke ? 200 : 1_000
const REPS = smoke ? 1 : 3
const MEDIAN_MS = 50
const SIGMA = 0.5

/** A seeded PRNG (mulberry32): every configuration sees the same latencies in a repetition. */
const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

/** One call's latency: log-normal around the median, 2% stragglers at 10×. */
const latency = (random: () => number): number => {
  const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random())
  const ms = MEDIAN_MS * Math.exp(SIGMA * z)
  return random() < 0.02 ? ms * 10 : ms
}

/** One task's calls (the first and its hedge share it): when the winner resolved. */
interface Call {
  winAt: number
}

interface Outcome {
  readonly durations: Array<number>
  readonly calls: number
  readonly warmCalls: number
  readonly abortsUs: Array<number>
}

const quantile = (sorted: ReadonlyArray<number>, q: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!

/**
 * A task of the simulated tool, a promise function taking the signal as
 * tools do: one draw per call (the first and its hedge draw apart), its wait
 * on the virtual clock; an abort ends the wait at once.
 */
const toolTask = (clock: VirtualClock, random: () => number, stats: { calls: number; abortsUs: Array<number> }, hedge: Hedge) => {
  const call: Call = { winAt: -1 }
  const tool = (signal: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      stats.calls++
      const cancel = clock.timer(latency(random), () => {
        call.winAt = performance.now()
        resolve()
      })
      signal.addEventListener("abort", () => {
        cancel()
        if (call.winAt > 0) stats.abortsUs.push((performance.now() - call.winAt) * 1000)
        reject(signal.reason)
      }, { once: true })
    })
  return Task.fromPromise("search", tool, { group: "search", ...(hedge === undefined ? {} : { idempotent: true, hedge }) })
}

type Hedge = Task.Options<unknown>["hedge"]

/**
 * A clock whose time moves only when `drive` moves it: straight to the next
 * sleep due, then it lets everything that woke run (`setImmediate`) before
 * the next. (Effect's `TestClock` moved 1 ms at a time took ~30 s of real
 * time for 1,000 calls here: each step yields to a timer.)
 */
class VirtualClock implements Clock.Clock {
  readonly [Clock.ClockTypeId]: Clock.ClockTypeId = Clock.ClockTypeId
  private now = 0
  private sleeps: Array<{ readonly at: number; readonly wake: () => void; live: boolean }> = []
  unsafeCurrentTimeMillis(): number {
    return this.now
  }
  unsafeCurrentTimeNanos(): bigint {
    return BigInt(Math.round(this.now * 1e6))
  }
  readonly currentTimeMillis = Effect.sync(() => this.now)
  readonly currentTimeNanos = Effect.sync(() => this.unsafeCurrentTimeNanos())
  sleep(duration: Duration.Duration): Effect.Effect<void> {
    return Effect.async<void>((resume) => Effect.sync(this.timer(Duration.toMillis(duration), () => resume(Effect.void))))
  }
  /** Calls `wake` `ms` from now; returns the cancel. */
  timer(ms: number, wake: () => void): () => void {
    const entry = { at: this.now + ms, wake, live: true }
    this.sleeps.push(entry)
    return () => void (entry.live = false)
  }
  /** Runs `effect`, moving time from sleep to sleep until it is done. */
  async drive<A>(effect: Effect.Effect<A>): Promise<A> {
    const fiber = Effect.runFork(effect)
    let exit: Exit.Exit<A> | undefined = undefined
    fiber.addObserver((e) => void (exit = e))
    for (;;) {
      await new Promise((resolve) => setImmediate(resolve))
      if (exit !== undefined) break
      this.sleeps = this.sleeps.filter((e) => e.live)
      if (this.sleeps.length === 0) continue
      let at = Number.POSITIVE_INFINITY
      for (const e of this.sleeps) if (e.at < at) at = e.at
      this.now = Math.max(this.now, at)
      const due = this.sleeps.filter((e) => e.at <= this.now)
      this.sleeps = this.sleeps.filter((e) => e.at > this.now)
      for (const e of due) if (e.live) e.wake()
    }
    return Exit.getOrElse(exit as Exit.Exit<A>, (cause) => {
      throw Cause.squash(cause)
    })
  }
}

/**
 * One configuration on virtual time (the figures are the model's, whatever
 * else the machine runs). The abort latency is real time: from the winner's
 * end to the loser's interruption.
 */
const runOnce = (seed: number, hedge: Hedge): Promise<Outcome> => {
  const random = prng(seed)
  const stats = { calls: 0, abortsUs: [] as Array<number> }
  const clock = new VirtualClock()
  const runAll = (n: number) => Scheduler.run(Array.from({ length: n }, () => toolTask(clock, random, stats, hedge)))
  const program = Effect.gen(function*() {
    yield* runAll(WARM)
    const warmCalls = stats.calls
    stats.calls = 0
    stats.abortsUs.length = 0
    const results = yield* runAll(N)
    if (!results.every((r) => r.ok)) throw new Error("hedging bench: a call failed")
    return { durations: results.map((r) => r.durationMs).sort((a, b) => a - b), calls: stats.calls, warmCalls, abortsUs: stats.abortsUs }
  })
  return clock.drive(program.pipe(Effect.provide(Scheduler.layer({ maxConcurrency: 20_000 })), Effect.orDie, Effect.withClock(clock)))
}

const coalesced = async (): Promise<number> => {
  const scheduler = new P.Scheduler({ maxConcurrency: 20 })
  let executions = 0
  const search = async (q: { query: string }) => {
    executions++
    await new Promise((r) => setTimeout(r, 20))
    return [`result for ${q.query}`]
  }
  await scheduler.run(Array.from({ length: 10 }, () => new P.Task("search", search, { args: [{ query: "agents" }], coalesce: true })))
  await scheduler.close()
  return executions
}

export const run = async (): Promise<Array<Row>> => {
  const configs = {
    unhedged: undefined,
    p95: { after: "p95", budget: 0.05 },
    fixed: { after: 120, budget: 1 }
  } as const
  const out: Record<keyof typeof configs, Array<Outcome>> = { unhedged: [], p95: [], fixed: [] }
  for (let rep = 0; rep < REPS; rep++) {
    // rotating the order, as the other sections do
    const names = Object.keys(configs) as Array<keyof typeof configs>
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + rep) % names.length]!
      out[name].push(await runOnce(1000 + rep, configs[name]))
    }
  }
  const section = "hedging"
  note(`hedging: ${N.toLocaleString("en-US")} calls at once of a simulated tool (log-normal, median ${MEDIAN_MS} ms, σ ${SIGMA}, 2% stragglers at 10×), after ${WARM.toLocaleString("en-US")} warm-up calls; ${REPS} repetitions (seeds), virtual time (a clock moved from sleep to sleep); abort latency in real time`)
  const q = (name: keyof typeof configs, p: number) => out[name].map((o) => quantile(o.durations, p))
  const rows: Array<Row> = []
  const labels = { unhedged: "unhedged", p95: "hedge at p95, budget 5%", fixed: "fixed hedge at 120 ms, no budget" } as const
  for (const name of Object.keys(configs) as Array<keyof typeof configs>) {
    for (const [p, label, target] of [[0.5, "p50", undefined], [0.99, "p99", 0.4], [0.999, "p99.9", 0.3]] as const) {
      const samples = q(name, p)
      const r = name === "unhedged" ? undefined : median(samples.map((x, i) => x / q("unhedged", p)[i]!))
      const row: Row = { section, case: `${labels[name]}: ${label}`, samples, unit: "ms", ratio: r, against: r === undefined ? undefined : "unhedged" }
      rows.push(name === "p95" && target !== undefined ? { ...row, target: `≤ ${target}×`, met: r! <= target } : row)
    }
    if (name === "unhedged") continue
    const extra = out[name].map((o) => (100 * (o.calls - N)) / N)
    const life = out[name].map((o) => (100 * (o.calls + o.warmCalls - N - WARM)) / (N + WARM))
    rows.push({ section, case: `${labels[name]}: extra calls, of the ${N.toLocaleString("en-US")}`, samples: extra, unit: "%" })
    rows.push({ section, case: `${labels[name]}: extra calls, of the scheduler's (what the budget bounds)`, samples: life, unit: "%", ...(name === "p95" ? { target: "≤ 5%", met: median(life) <= 5 } : {}) })
    for (const [p, label] of [[0.5, "median"], [0.99, "p99"]] as const) {
      const aborts = out[name].map((o) => o.abortsUs.length === 0 ? 0 : quantile([...o.abortsUs].sort((a, b) => a - b), p))
      rows.push({ section, case: `${labels[name]}: loser aborted after the win, ${label}`, samples: aborts, unit: "µs", target: "≤ 1,000 µs", met: median(aborts) <= 1000 })
    }
  }
  const executions: Array<number> = []
  for (let rep = 0; rep < REPS; rep++) executions.push(await coalesced())
  rows.push({ section, case: "10 identical concurrent calls (coalesce: true): executions", samples: executions, unit: "calls", target: "1", met: executions.every((e) => e === 1) })
  return rows
}

const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}
