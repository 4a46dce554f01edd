/**
 * The checked forms of the options `idempotent`, `hedge`, `coalesce` and
 * `cache` (see `Task.Options`), and the canonical JSON a default coalescing
 * key is made of. Checked once when a task is made; the pool reads the
 * results (`task.hedge`, `task.coalesce`), `undefined` for a task that uses
 * neither.
 */
import * as validate from "./validate.js"

/** A task's hedging, checked. @internal */
export interface HedgePolicy {
  /** A fixed delay (ms), or `undefined` when the delay is a quantile. */
  readonly afterMs: number | undefined
  /** The quantile (0–1) of the group's successful-attempt latency, when the delay is one. */
  readonly quantile: number
  /** Extra attempts ≤ `budget` × attempts, per group and scheduler. */
  readonly budget: number
  /** Successful attempts seen before a quantile delay is trusted. */
  readonly minSamples: number
  /** The key of its latency window and budget: its group, else its name. */
  readonly key: string
}

/** A task's coalescing, checked. @internal */
export interface CoalescePolicy {
  readonly key: string
  /** How long a success is served to later callers (0: not at all). */
  readonly ttlMs: number
}

const quantilePattern = /^p(\d{1,2}(?:\.\d+)?)$/

/** The hedge delay's form: a duration, or `"p95"`-like quantile. */
const hedgeAfter = (where: string, after: unknown): readonly [number | undefined, number] => {
  if (typeof after === "string") {
    const m = quantilePattern.exec(after)
    if (m !== null && Number(m[1]) > 0) return [undefined, Number(m[1]) / 100]
    if (!/\d\s+\w/.test(after)) validate.invalid(where, "hedge.after", "a duration or a quantile such as \"p95\"", after, "type")
  }
  return [validate.durationMillis(where, "hedge.after", after), 0]
}

/**
 * `hedge` checked: only an `idempotent` task may be hedged (a second call of
 * a task that is not could do its work twice). @internal
 */
export const hedgePolicy = (
  where: string,
  idempotent: unknown,
  hedge: unknown,
  name: string,
  group: string | undefined
): HedgePolicy | undefined => {
  if (idempotent !== undefined && typeof idempotent !== "boolean") validate.invalid(where, "idempotent", "a boolean", idempotent, "type")
  if (hedge === undefined) return undefined
  if (idempotent !== true) {
    validate.invalid(where, "hedge", "left out unless the task is marked `idempotent: true` (a hedge calls it twice)", hedge, "type")
  }
  const h = validate.record(where, "hedge", hedge)
  validate.knownKeys(where, h, hedgeKeys)
  const [afterMs, quantile] = hedgeAfter(where, h.after)
  const budget = h.budget === undefined ? 0.05 : validate.nonNegative(where, "hedge.budget", h.budget)
  if (budget > 1) validate.invalid(where, "hedge.budget", "a fraction between 0 and 1", budget, "range")
  const minSamples = h.minSamples === undefined ? 20 : validate.integer(where, "hedge.minSamples", h.minSamples, 1, false)
  return { afterMs, quantile, budget, minSamples, key: group ?? name }
}

const hedgeKeys: ReadonlySet<string> = new Set(["after", "budget", "minSamples"])

/** `coalesce` and `cache` checked; `key` is the key `coalesce: true` stands for. @internal */
export const coalescePolicy = (where: string, coalesce: unknown, cache: unknown, key: () => string): CoalescePolicy | undefined => {
  if (coalesce === undefined) {
    if (cache !== undefined) validate.invalid(where, "cache", "left out unless `coalesce` is set", cache, "type")
    return undefined
  }
  const k = coalesce === true ? key() : validate.nonEmptyString(where, "coalesce", typeof coalesce === "function" ? coalesce() : coalesce)
  if (cache === undefined) return { key: k, ttlMs: 0 }
  const c = validate.record(where, "cache", cache)
  validate.knownKeys(where, c, cacheKeys)
  return { key: k, ttlMs: validate.durationMillis(where, "cache.ttl", c.ttl) }
}

const cacheKeys: ReadonlySet<string> = new Set(["ttl"])

/**
 * JSON with object keys sorted, so that equal arguments give equal keys
 * whatever order their properties were written in. `undefined` and functions
 * in objects are left out (as JSON does); a BigInt is written `"<n>n"`; a
 * cycle throws a `TypeError` (`where` named). @internal
 */
export const canonicalJson = (where: string, value: unknown): string => {
  const seen = new Set<object>()
  const walk = (v: unknown): string => {
    if (typeof v === "bigint") return JSON.stringify(`${v}n`)
    if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "null"
    const json = (v as { toJSON?: unknown }).toJSON
    if (typeof json === "function") return walk(json.call(v))
    if (seen.has(v)) return validate.invalid(where, "args", "arguments without cycles (`coalesce: true` keys them as JSON)", v, "type")
    seen.add(v)
    const out = Array.isArray(v)
      ? `[${v.map((x) => (x === undefined || typeof x === "function" ? "null" : walk(x))).join(",")}]`
      : `{${Object.keys(v).sort().filter((k) => {
        const x = (v as Record<string, unknown>)[k]
        return x !== undefined && typeof x !== "function"
      }).map((k) => `${JSON.stringify(k)}:${walk((v as Record<string, unknown>)[k])}`).join(",")}}`
    seen.delete(v)
    return out
  }
  return walk(value)
}
