/**
 * The adaptive cap (`GroupLimit.adaptive`): a group cap that follows the
 * provider, AIMD as in TCP and Netflix's concurrency-limits.
 *
 * - An attempt of the group that fails as overloaded (see `Overload`)
 *   multiplies the cap by `decrease` (default 0.5), down to `min`. Attempts
 *   already in flight when the cap went down were sent under the old cap:
 *   their overloads are not counted again (one decrease per round).
 * - Each success adds `increase / cap` (default 1 / cap), up to `max`: the
 *   cap grows by about `increase` per round of `cap` successes.
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

/** @internal */
export class Adaptive extends Cap {
  /** The cap, fractional between whole steps; the group admits `floor(limit)`. */
  private limit: number
  /** When it last went down: overloads of attempts started before then are not counted. */
  private decreasedAt = Number.NEGATIVE_INFINITY
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
    const { min, max, decrease, increase } = this.settings
    if (overload !== undefined) {
      if (t.queuedAt + t.lastWaitMs < this.decreasedAt) return
      this.decreasedAt = this.host.now()
      this.limit = Math.max(min, this.limit * decrease)
    } else {
      this.limit = Math.min(max, this.limit + increase / this.limit)
    }
    const cap = Math.floor(this.limit)
    if (cap === this.cap) return
    this.cap = cap
    Metrics.adaptiveCap.unsafeUpdate(cap, this.tags)
    // more room: the jobs waiting for it come in
    this.admitWaiting()
  }
}
