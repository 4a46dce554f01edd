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
 * Figures per case: makespan against the ideal; calls answered 429 (over the
 * requests sent); early retries; calls given up. Throughput, as a share of
 * what the provider allowed over the run, is in the notes.
 */
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import PQueue from "p-queue"
import pRetry from "p-retry"
import { GroupLimit, Scheduler, Task } from "toolfan"
import { measure, median, note, ratio, type Row, sleepMs, smoke } from "../harness.js"

/** Requests per second the provider allows. */
const R = 200
const BURST = 10
/** How long an accepted call takes, and a refused one. */
const LATENCY_MS = 20
const REFUSED_MS = 2

/** A provider's 429, shaped as the OpenAI and Anthropic SDKs throw it (`status`, `headers`). */
class RateLimitError extends Error {
  readonly status = 429
  readonly headers: Readonly<Record<string, string>>
  constructor(retryAfterMs: number) {
    super(`429 Too Many Requests; retry after ${retryAfterMs} ms`)
    this.headers = { "retry-after-ms": String(retryAfterMs) }
  }
}

/** A token-bucket provider, fresh for each case (its bucket starts full). */
class Provider {
  private tokens = BURST
  private last = performance.now()
  sent = 0
  refused = 0
  accepted = 0
  early = 0
  /** Per caller: the earliest time (performance.now) its retry may come, from the last wait it was given. */
  private readonly earliest = new Map<number, number>()

  async call(caller: number): Promise<string> {
    const now = performance.now()
    this.sent++
    const allowedAt = this.earliest.get(caller)
    if (allowedAt !== undefined && now < allowedAt) this.early++
    this.tokens = Math.min(BURST, this.tokens + ((now - this.last) * R) / 1000)
    this.last = now
    if (this.tokens >= 1) {
      this.tokens -= 1
      this.accepted++
      await sleepMs(LATENCY_MS)
      return "ok"
    }
    const wait = Math.ceil(((1 - this.tokens) * 1000) / R)
    this.earliest.set(caller, now + wait)
    this.refused++
    await sleepMs(REFUSED_MS)
    throw new RateLimitError(wait)
  }
}

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
  timeline?: Array<readonly [number, number]>
): Promise<Outcome> =>
  Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const provider = new Provider()
    const scheduler = yield* Scheduler.make({ maxConcurrency: 64, groups: { llm: group } })
    const tasks = Array.from({ length: n }, (_, i) =>
      Task.fromPromise(`call ${i}`, () => provider.call(i), { group: "llm", retries: 5 }))
    const start = performance.now()
    if (timeline !== undefined) {
      timeline.length = 0
      const sample = Effect.flatMap(scheduler.stats, (stats) =>
        Effect.sync(() => timeline.push([performance.now() - start, stats.caps?.llm ?? Number.NaN])))
      yield* Effect.forkScoped(Effect.repeat(sample, Schedule.spaced("50 millis")))
    }
    const results = yield* scheduler.run(tasks)
    const ms = performance.now() - start
    return outcome(provider, ms, results.filter((r) => !r.ok).length)
  })))

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`

export const run = async (): Promise<Array<Row>> => {
  const N = smoke ? 40 : 400
  const caps = [4, 8, 16] as const
  const ideal = ((N - BURST) * 1000) / R + LATENCY_MS
  const timelineCap = 16
  const timeline: Array<readonly [number, number]> = []
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
  // each case takes 2–4 s of real time: 2 interleaved repetitions keep the section under a minute
  const reps = smoke ? 1 : 2
  const s = await measure(cases, { warmup: 0, reps })
  const section = "limits"
  const rows: Array<Row> = []
  const summary: Array<string> = []
  for (const name of Object.keys(cases)) {
    const os = outcomes[name]!
    const adaptive = name.includes("adaptive")
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
        ...(adaptive ? { target: "≥ 95% of allowed throughput (notes)", met: median(tput) >= 0.95 } : {})
      },
      {
        section,
        case: `${name}: answered 429`,
        samples: os.map((o) => o.refused),
        unit: "calls",
        ratio: median(refusedShare),
        against: "requests sent",
        ...(adaptive ? { target: "≤ 0.01× (1%)", met: median(refusedShare) <= 0.01 } : {})
      },
      {
        section,
        case: `${name}: early retries`,
        samples: early,
        unit: "calls",
        ...(name.startsWith("toolfan") ? { target: "0", met: Math.max(...early) === 0 } : {})
      },
      {
        section,
        case: `${name}: given up`,
        samples: givenUp,
        unit: "calls",
        ...(adaptive ? { target: "0", met: Math.max(...givenUp) === 0 } : {})
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
  for (const line of summary) note(`limits: ${line}`)
  note(
    `limits: adaptive cap (initial ${timelineCap}) over time, (ms, cap) every 50 ms: ` +
      timeline.map(([t, c]) => `(${t.toFixed(0)}, ${c})`).join(" ")
  )
  return rows
}
