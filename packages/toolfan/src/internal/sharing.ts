/**
 * The Promise API's options for idempotent, hedged and coalesced tasks (its
 * times in milliseconds), and how its `coalesce` becomes the core's key.
 */
import { canonicalJson } from "./policies.js"
import * as validate from "./validate.js"

/**
 * Options of a Promise API `Task` for tail latency and duplicates (see
 * docs/hedging.md).
 *
 * @since 0.5.0
 * @category models
 */
export interface SharingOptions<Args extends ReadonlyArray<unknown>> {
  /**
   * Whether calling it twice does no harm (a read, or a write deduped by its
   * idempotency key, see `idempotencyKey(signal)`). Only an idempotent task
   * may be hedged. Default: `false`.
   */
  readonly idempotent?: boolean | undefined
  /**
   * Hedging (needs `idempotent: true`): once an attempt has run `after` ms —
   * or a quantile of its group's successful-attempt latency, e.g. `"p95"`,
   * once `minSamples` (default 20) are in — a second attempt starts with its
   * own slot and signal; the first success wins and the other is aborted at
   * once. `budget` (default 0.05): extra attempts ≤ that fraction of the
   * attempts of its group (its name without one). Default: none.
   */
  readonly hedge?: {
    readonly after: number | `p${number}`
    readonly budget?: number | undefined
    readonly minSamples?: number | undefined
  } | undefined
  /**
   * Coalescing: tasks with the same key in flight at once in this scheduler
   * run once and share the result (a failure only with those already
   * waiting). A string, a function of the arguments, or `true`: its name
   * and the canonical JSON of its `args`. Default: none.
   */
  readonly coalesce?: string | true | KeyOf<Args> | undefined
  /** With `coalesce`: a success is served to tasks of its key for `ttl` ms more (failures never are). Default: none. */
  readonly cache?: { readonly ttl: number } | undefined
}

/**
 * A key from a task's arguments; a method's type, so that options of a task
 * with arguments still fit where options of any task are taken (parameters of
 * methods are checked bivariantly).
 */
type KeyOf<Args extends ReadonlyArray<unknown>> = { key(...args: Args): string }["key"]

/**
 * The options with `coalesce` made a key from the arguments (`true`, a
 * function); the options themselves otherwise (no copy). @internal
 */
export const withCoalesceKey = <O extends SharingOptions<ReadonlyArray<unknown>>>(
  name: unknown,
  o: O,
  args: ReadonlyArray<unknown>
): O => {
  const coalesce = o.coalesce
  if (coalesce === undefined || typeof coalesce === "string") return o
  if (coalesce === true) return { ...o, coalesce: `${String(name)}${canonicalJson("Task", args)}` }
  const key = validate.func<(...args: ReadonlyArray<unknown>) => unknown>("Task", "coalesce", coalesce)(...args)
  if (typeof key !== "string" || key === "") validate.invalid("Task", "coalesce", "a function returning a non-empty string", key, "type")
  return { ...o, coalesce: key }
}
