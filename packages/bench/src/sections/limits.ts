/**
 * Limits that follow the provider (issue 15, "Measure"): a burst of calls
 * against a simulated provider, in process and in real time, that enforces a
 * rate limit and answers 429 with `retry-after-ms` when it is exceeded.
 *
 * The provider is a token bucket: R = 200 requests/s, burst 10. An accepted
 * call answers after 20 ms; a refused one answers 429 after 2 ms, with
 * `retry-after-ms` = the time until a token is available (rounded up to a
 * whole ms), as a real provider would. It counts, per caller, retries that
 * arrive before the wait it gave that caller ("early retries").
 *
 * A burst of N = 400 calls (ideal: (N − burst) / R + 20 ms ≈ 1.97 s), at
 * starting caps 4, 8 and 16, for:
 * - p-queue with a fixed cap, each job retried by p-retry (`retries: 5`,
 *   `minTimeout: 100`, its default factor 2, no jitter); the call throws the
 *   429 (p-retry does not read its headers);
 * - toolfan with a fixed group cap, the call (`Task.fromPromise`) throwing an
 *   error with `status: 429` and `headers` (as the OpenAI and Anthropic SDKs
 *   do), `retries: 5` and the default schedule (exponential from 100 ms,
 *   jittered): Retry-After honoured, the group paused;
 * - the same with `GroupLimit.adaptive({ initial: cap, min: 1, max: 32 })`.
 *
 * And the same N calls from 4 worker processes (limits-child.ts, N / 4 each)
 * sharing one provider that this process serves over HTTP on loopback
 * (limits-provider.ts), each worker's group "llm" being: its own fixed cap of
 * 1; its own `GroupLimit.adaptive({ initial: 4, min: 1, max: 32 })`; or a
 * `RedisLimit.concurrency` of max 4, then 8, shared by the 4 (and sharing the
 * provider's pause), on a redis-server the section starts (those rows are
 * skipped, and said so, without one).
 *
 * Figures per case: makespan against the ideal; calls answered 429 (over the
 * requests sent); early retries; calls given up. Throughput, as a share of
 * what the provider allowed over the run, is in the notes.
 */
import * as fs from "node:fs"
import { type ChildProcessByStdio, spawn, spawnSync } from "node:child_process"
import * as net from "node:net"
import * as path from "node:path"
import * as readline from "node:readline"
import type { Readable, Writable } from "node:stream"
import { fileURLToPath } from "node:url"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import PQueue from "p-queue"
import pRetry from "p-retry"
import { GroupLimit, Scheduler, Task } from "toolfan"
import { measure, median, note, ratio, type Row, sleepMs, smoke } from "../harness.js"
import { capChart } from "./limits-chart.js"
import type { Config, Report } from "./limits-child.js"
import { BURST, LATENCY_MS, Provider, R, REFUSED_MS, serve } from "./limits-provider.js"

/** What one run of a case gives. */
interface Outcome {
  readonly ms: number
  readonly sent: number
  readonly refused: number
  readonly accepted: number
  readonly early: number
  readonly givenUp: number
}

const outcome = (provider: Provider, ms: number, givenUp: number): Outcome => ({
  ms,
  sent: provider.sent,
  refused: provider.refused,
  accepted: provider.accepted,
  early: provider.early,
  givenUp
})

/** Accepted calls over what the provider would have accepted in `ms`: the burst, then R per second until the last answer. */
const throughput = (o: Outcome): number => o.accepted / (BURST + (R * Math.max(0, o.ms - LATENCY_MS)) / 1000)

const pQueueCase = async (n: number, cap: number): Promise<Outcome> => {
  const provider = new Provider()
  const queue = new PQueue({ concurrency: cap })
  let givenUp = 0
  const start = performance.now()
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      queue.add(() => pRetry(() => provider.call(i), { retries: 5, minTimeout: 100 })).catch(() => {
        givenUp++
      }))
  )
  return outcome(provider, performance.now() - start, givenUp)
}

const toolfanCase = (
  n: number,
  group: number | GroupLimit.GroupLimit,
  timeline?: Timeline
): Promise<Outcome> =>
  Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const provider = new Provider()
    const scheduler = yield* Scheduler.make({ maxConcurrency: 64, groups: { llm: group } })
    const tasks = Array.from({ length: n }, (_, i) =>
      Task.fromPromise(`call ${i}`, () => provider.call(i), { group: "llm", retries: 5 }))
    const start = performance.now()
    if (timeline !== undefined) {
      timeline.samples.length = 0
      timeline.refusals = provider.refusedAt
      timeline.start = start
      const sample = Effect.flatMap(scheduler.stats, (stats) =>
        Effect.sync(() => timeline.samples.push([performance.now() - start, stats.caps?.llm ?? Number.NaN])))
      yield* Effect.forkScoped(Effect.repeat(sample, Schedule.spaced("10 millis")))
    }
    const results = yield* scheduler.run(tasks)
    const ms = performance.now() - start
    return outcome(provider, ms, results.filter((r) => !r.ok).length)
  })))

/** The four-process cases: workers in child processes calling one provider served by this process. */
const PROCESSES = 4
const childScript = fileURLToPath(new URL("./limits-child.js", import.meta.url))

type Worker = ChildProcessByStdio<Writable, Readable, null>

/**
 * `PROCESSES` workers of `perProcess` calls each, sharing a fresh provider over
 * HTTP. The clock starts when every worker is started and connected (`ready`)
 * and is told to go, and stops at the last worker's report.
 */
const processesCase = async (
  perProcess: number,
  limit: Config["limit"],
  failures: Record<string, number>
): Promise<Outcome> => {
  const provider = new Provider()
  const served = await serve(provider)
  const workers: Array<Worker> = []
  try {
    const lines = Array.from({ length: PROCESSES }, (_, id) => {
      const config: Config = { id, n: perProcess, provider: served.url, limit }
      const worker = spawn(process.execPath, [childScript, JSON.stringify(config)], { stdio: ["pipe", "pipe", "inherit"] })
      workers.push(worker)
      worker.stdin.on("error", () => {}) // a worker that died is reported below, by its missing answer
      const it = readline.createInterface({ input: worker.stdout })[Symbol.asyncIterator]()
      return async (): Promise<string> => {
        const line = await it.next()
        if (line.done === true) throw new Error(`limits: worker ${id} ended without answering (exit ${worker.exitCode})`)
        return line.value
      }
    })
    await Promise.all(lines.map((next) => next()))
    const start = performance.now()
    for (const worker of workers) worker.stdin.write("go\n")
    const reports = await Promise.all(lines.map(async (next) => JSON.parse(await next()) as Report))
    const ms = performance.now() - start
    for (const r of reports) for (const [why, n] of Object.entries(r.failures)) failures[why] = (failures[why] ?? 0) + n
    return outcome(provider, ms, reports.reduce((sum, r) => sum + r.givenUp, 0))
  } finally {
    // the next case starts on a quiet machine: every worker has exited
    await Promise.all(workers.map((worker) =>
      worker.exitCode !== null || worker.signalCode !== null
        ? undefined
        : new Promise((exited) => worker.once("exit", exited).kill())
    ))
    await served.close()
  }
}

const listening = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1")
    socket.once("connect", () => (socket.destroy(), resolve(true)))
    socket.once("error", () => resolve(false))
  })

/**
 * A redis-server of the section's own on a free loopback port, or why there is
 * none (not installed, or not answering within 5 s).
 */
const startRedis = async (): Promise<{ readonly url: string; readonly stop: () => void } | string> => {
  if (spawnSync("redis-server", ["--version"]).status !== 0) return "redis-server is not installed (apt-get install redis-server)"
  const port = await new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, "127.0.0.1", () => {
      const free = (probe.address() as net.AddressInfo).port
      probe.close(() => resolve(free))
    })
  })
  const server = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    stdio: "ignore"
  })
  const stop = () => void server.kill("SIGKILL")
  for (let waited = 0; waited < 5_000; waited += 20) {
    if (await listening(port)) return { url: `redis://127.0.0.1:${port}`, stop }
    if (server.exitCode !== null) break
    await sleepMs(20)
  }
  stop()
  return `redis-server did not answer on 127.0.0.1:${port} within 5 s`
}

/** The adaptive cap of one case over time, and the requests refused (performance.now), for the note and the picture. */
interface Timeline {
  readonly samples: Array<readonly [number, number]>
  refusals: ReadonlyArray<number>
  start: number
}

/** `--svg=<dir>`: where to write the adaptive cap's picture (docs/limits-adaptive.svg is made with `--svg=docs`). */
const svgDir = process.argv.find((a) => a.startsWith("--svg="))?.slice("--svg=".length)

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`

export const run = async (): Promise<Array<Row>> => {
  const N = smoke ? 40 : 400
  const caps = [4, 8, 16] as const
  const ideal = ((N - BURST) * 1000) / R + LATENCY_MS
  const timelineCap = 16
  const timeline: Timeline = { samples: [], refusals: [], start: 0 }
  const outcomes: Record<string, Array<Outcome>> = {}
  const cases: Record<string, () => Promise<number>> = {}
  const add = (name: string, f: () => Promise<Outcome>) => {
    outcomes[name] = []
    cases[name] = async () => {
      const o = await f()
      outcomes[name]!.push(o)
      return o.ms
    }
  }
  for (const cap of caps) {
    add(`p-queue ${cap} + p-retry`, () => pQueueCase(N, cap))
    add(`toolfan fixed ${cap}`, () => toolfanCase(N, cap))
    add(`toolfan adaptive ${cap}`, () =>
      toolfanCase(N, GroupLimit.adaptive({ initial: cap, min: 1, max: 32 }), cap === timelineCap ? timeline : undefined))
  }
  // four worker processes sharing one provider (served by this process): N calls in all
  const perProcess = N / PROCESSES
  const redis = await startRedis()
  let round = 0
  const sharedCap = (max: number, adaptive?: { readonly initial: number }): Config["limit"] => ({
    kind: "redis",
    redis: typeof redis === "string" ? "" : redis.url,
    key: `limits-${process.pid}-${++round}`, // a fresh key per repetition
    max,
    adaptive
  })
  // why calls were given up, per case (errors of the workers' tasks)
  const failures: Record<string, Record<string, number>> = {}
  const addProcesses = (name: string, limit: () => Config["limit"]) =>
    add(name, () => processesCase(perProcess, limit(), failures[name] ??= {}))
  addProcesses(`${PROCESSES} processes, adaptive 4 each`, () => ({ kind: "adaptive", initial: 4, min: 1, max: 32 }))
  if (typeof redis !== "string") {
    addProcesses(`${PROCESSES} processes, RedisLimit cap 4`, () => sharedCap(4))
    addProcesses(`${PROCESSES} processes, RedisLimit cap 8`, () => sharedCap(8))
    addProcesses(`${PROCESSES} processes, RedisLimit adaptive from 16`, () => sharedCap(32, { initial: 16 }))
  }
  // each case takes 2–4 s of real time: 2 interleaved repetitions keep the section around 80 s
  const reps = smoke ? 1 : 2
  const s = await measure(cases, { warmup: 0, reps }).finally(() => typeof redis === "string" || redis.stop())
  const section = "limits"
  const rows: Array<Row> = []
  const summary: Array<string> = []
  for (const name of Object.keys(cases)) {
    const os = outcomes[name]!
    // the targets: for the adaptive cap, and for every case of several processes
    const targeted = name.includes("adaptive") || name.startsWith(`${PROCESSES} processes`)
    const ms = s[name]!
    const refusedShare = os.map((o) => o.refused / o.sent)
    const tput = os.map(throughput)
    const early = os.map((o) => o.early)
    const givenUp = os.map((o) => o.givenUp)
    const idealSamples = ms.map(() => ideal)
    const spanRatio = ratio(ms, idealSamples)
    rows.push(
      {
        section,
        case: `${name}: makespan`,
        samples: ms,
        unit: "ms",
        ratio: spanRatio,
        against: `ideal ${ideal.toFixed(0)} ms`,
        ...(targeted ? { target: "≥ 95% of allowed throughput (notes)", met: median(tput) >= 0.95 } : {})
      },
      {
        section,
        case: `${name}: answered 429`,
        samples: os.map((o) => o.refused),
        unit: "calls",
        ratio: median(refusedShare),
        against: "requests sent",
        ...(targeted ? { target: "≤ 0.01× (1%)", met: median(refusedShare) <= 0.01 } : {})
      },
      {
        section,
        case: `${name}: early retries`,
        samples: early,
        unit: "calls",
        ...(name.startsWith("toolfan") || targeted ? { target: "0", met: Math.max(...early) === 0 } : {})
      },
      {
        section,
        case: `${name}: given up`,
        samples: givenUp,
        unit: "calls",
        ...(targeted ? { target: "0", met: Math.max(...givenUp) === 0 } : {})
      }
    )
    summary.push(
      `${name}: ${pct(median(refusedShare))} answered 429 (${median(os.map((o) => o.refused))} of ${
        median(os.map((o) => o.sent))
      } requests), throughput ${pct(median(tput))} of allowed, makespan ${median(ms).toFixed(0)} ms, ` +
        `early retries ${Math.max(...early)}, given up ${median(givenUp)}`
    )
  }
  note(
    `limits: a simulated provider in process (token bucket ${R} requests/s, burst ${BURST}; accepted calls answer after ${LATENCY_MS} ms, ` +
      `refused ones 429 after ${REFUSED_MS} ms with retry-after-ms = the time until a token is available); a burst of ${N} calls, ` +
      `ideal makespan (N − burst) / R + ${LATENCY_MS} ms = ${ideal.toFixed(0)} ms; ${reps} interleaved repetition(s), no warm-up, ` +
      `medians (early retries: the most in any repetition). p-queue + p-retry: queue.add(() => pRetry(call, { retries: 5, minTimeout: 100 })), ` +
      `p-retry's default factor 2, no jitter (its default minTimeout of 1 s would make the section minutes long). ` +
      `toolfan: Task.fromPromise throwing an error with status 429 and headers, retries: 5, default schedule, maxConcurrency 64, ` +
      `group "llm" with a fixed cap or GroupLimit.adaptive({ initial: cap, min: 1, max: 32 }). ` +
      `Throughput: accepted calls / (burst + R × (makespan − ${LATENCY_MS} ms))`
  )
  note(
    `limits: ${PROCESSES} processes — ${PROCESSES} worker processes of ${perProcess} calls each (${N} in all), sharing one provider with the ` +
      `same rules that this process serves over HTTP on 127.0.0.1 (fetch; a 429 thrown with status and headers); each worker a toolfan ` +
      `scheduler (maxConcurrency 64, retries: 5, default schedule) whose group "llm" is its own ` +
      `GroupLimit.adaptive({ initial: 4, min: 1, max: 32 }) (no Redis), or RedisLimit.concurrency({ key, max }) shared by the ${PROCESSES}, fixed or adaptive ({ adaptive: { initial: 16 } }, max 32) (a fresh key per repetition; it shares the provider's ` +
      `pause too) on a redis-server of the section's own; the clock starts when every worker is started and connected`
  )
  if (typeof redis === "string") note(`limits: ${PROCESSES} processes sharing a RedisLimit — SKIPPED: ${redis}`)
  for (const line of summary) note(`limits: ${line}`)
  for (const [name, why] of Object.entries(failures)) {
    const reasons = Object.entries(why).map(([message, n]) => `${n}× ${message}`)
    if (reasons.length > 0) note(`limits: ${name}, calls given up (all repetitions): ${reasons.join("; ")}`)
  }
  note(
    `limits: adaptive cap (initial ${timelineCap}) over time, (ms, cap) every 50 ms: ` +
      timeline.samples.filter((_, i) => i % 5 === 0).map(([t, c]) => `(${t.toFixed(0)}, ${c})`).join(" ")
  )
  if (svgDir !== undefined) {
    const file = path.join(svgDir, "limits-adaptive.svg")
    fs.writeFileSync(file, capChart({
      title: `GroupLimit.adaptive({ initial: ${timelineCap} }) against a provider of ${R} requests/s, ${LATENCY_MS} ms each (last repetition)`,
      samples: timeline.samples,
      refusals: timeline.refusals.map((t) => t - timeline.start),
      fit: (R * LATENCY_MS) / 1000
    }))
    note(`limits: the adaptive cap's picture written to ${file}`)
  }
  return rows
}
