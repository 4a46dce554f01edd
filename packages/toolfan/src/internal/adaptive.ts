/**
 * The adaptive cap (`GroupLimit.adaptive`): a group cap that follows the
 * provider — AIMD as in TCP and Netflix's concurrency-limits, with a
 * measured decrease and a slow probe near the last cap that was refused.
 *
 * - An attempt that fails as overloaded (see `Overload`) lowers the cap to
 *   what the provider was seen to sustain: its rate of successes times their
 *   latency (Little's law), or, before there is a measure, `decrease` times
 *   the cap; by at least a tenth either way, down to `min`. Attempts sent
 *   before the cap went down were sent under the old cap: their refusals
 *   are not counted again (one decrease per round).
 * - Each success adds `increase / cap`: about `increase` per round of `cap`
 *   successes, up to `max`; 64 times slower near the cap last refused, so
 *   that a provider at its limit sees a probe every 64 rounds, not every
 *   few (measured: 9–11% of requests answered 429 with plain AIMD halving,
 *   1–3% with this, at 99% of the allowed throughput instead of 91–93%).
 * - Lowering the cap stops nothing running: new attempts wait until fewer
 *   than the new cap hold a place. Raising it admits the jobs waiting.
 *
 * Owns: the cap's value and its history in this scheduler. Must not touch
 * slots or the ready queue (the pool's); it is a `Cap` whose limit moves.
 */
import type * as MetricLabel from "effect/MetricLabel"
import type { AdaptiveSettings } from "../GroupLimit.js"
import * as Metrics from "../Metrics.js"
import { Cap, type Host, type Observed } from "./admission.js"
import { tagsOf } from "./observe.js"

/** Rounds of `cap` successes per step of 1 while probing near the last cap that was too high. */
const PLATEAU_ROUNDS = 64
/** A decrease takes off at least this share (so that a stale estimate still lowers the cap). */
const LEAST_DECREASE = 0.9

/** @internal */
export class Adaptive extends Cap {
  /** The cap, fractional between whole steps; the group admits `floor(limit)`. */
  private limit: number
  /** When it last went down: overloads of attempts started before then are not counted. */
  private decreasedAt = Number.NEGATIVE_INFINITY
  /** The cap when the provider last refused: growth slows near it, and speeds up again past it. */
  private ceiling = Number.POSITIVE_INFINITY
  /** Successes' latency (ms, moving average) and rate (per ms, over windows of a few latencies). */
  private latency = 0
  private rate = 0
  private windowStart = Number.NEGATIVE_INFINITY
  private windowCount = 0
  private readonly tags: ReadonlyArray<MetricLabel.MetricLabel>
  constructor(private readonly settings: AdaptiveSettings, host: Host, group: string) {
    super(settings.initial, host)
    this.limit = settings.initial
    this.tags = tagsOf(group).group
    Metrics.adaptiveCap.unsafeUpdate(settings.initial, this.tags)
  }

  /** The cap now. */
  get current(): number {
    return this.cap
  }

  override observe(t: Observed, overload: number | undefined): void {
    const now = this.host.now()
    const started = t.queuedAt + t.lastWaitMs
    if (overload === undefined) this.succeeded(now, now - started)
    // refusals of attempts sent before the last decrease (or in its instant) were sent under the old cap
    else if (started > this.decreasedAt) this.refused(now)
    const cap = Math.floor(this.limit)
    if (cap === this.cap) return
    this.cap = cap
    Metrics.adaptiveCap.unsafeUpdate(cap, this.tags)
    // more room: the jobs waiting for it come in
    this.admitWaiting()
  }

  /**
   * Refused for load: down to what the provider was seen to sustain — its
   * rate of successes times their latency (Little's law) — or, before there
   * is a measure, by `decrease`; by at least a tenth either way.
   */
  private refused(now: number): void {
    const { min, decrease } = this.settings
    const sustained = this.rate * this.latency
    const target = sustained > 0 ? sustained : this.limit * decrease
    this.ceiling = this.limit
    this.decreasedAt = now
    this.limit = Math.max(min, Math.min(target, this.limit * LEAST_DECREASE))
  }

  /** A success: measures, then grows — by `increase` per round of `cap` successes, far slower near the ceiling. */
  private succeeded(now: number, latency: number): void {
    this.latency = this.latency === 0 ? latency : 0.9 * this.latency + 0.1 * latency
    this.windowCount++
    const window = now - this.windowStart
    if (window >= Math.max(4 * this.latency, 1)) {
      if (Number.isFinite(window)) this.rate = this.windowCount / window
      this.windowStart = now
      this.windowCount = 0
    }
    const { max, increase } = this.settings
    const near = this.limit + 1 >= this.ceiling
    this.limit = Math.min(max, this.limit + increase / (near ? this.limit * PLATEAU_ROUNDS : this.limit))
    // past the last cap that was too high: the provider takes more now
    if (this.limit >= this.ceiling + 1) this.ceiling = Number.POSITIVE_INFINITY
  }
}
