import * as Duration from "effect/Duration"
import { InvalidOption, isInvalidOption } from "../InvalidOption.js"

const unitPattern = /^(-?\d+(?:\.\d+)?)\s+(nanos?|micros?|millis?|seconds?|minutes?|hours?|days?|weeks?)$/

/**
 * The `where` of the Promise API's checks: its times are typed as
 * milliseconds, so its messages must not suggest `"5 seconds"`.
 */
export const promiseApi: ReadonlySet<string> = new Set([
  "Task",
  "Scheduler",
  "scheduler.run",
  "scheduler.stream",
  "scheduler.runPlan",
  "MicroBatcher"
])

const fail = (where: string, option: string, expected: string, value: unknown, kind: "type" | "range"): never => {
  throw new InvalidOption({ where, option, expected, value, kind })
}

/**
 * Checks a DurationInput *before* decoding it: effect 3's `Duration.decode`
 * silently turns -5, NaN and "-5 seconds" into zero, so the raw input is
 * inspected here. Returns the duration in milliseconds (`Infinity` allowed).
 */
export const durationMillis = (where: string, option: string, value: unknown): number => {
  const expected = promiseApi.has(where)
    ? "a positive number of milliseconds"
    : "a positive duration (milliseconds as a number, or e.g. \"5 seconds\")"
  let ms: number
  if (typeof value === "number") {
    ms = value
  } else if (typeof value === "bigint") {
    ms = Number(value) / 1_000_000
  } else if (typeof value === "string") {
    const parsed = parsedStrings.get(value) ?? parse(value)
    if (parsed === undefined) return fail(where, option, expected, value, "type")
    ms = parsed
  } else if (Duration.isDuration(value)) {
    ms = Duration.toMillis(value)
  } else if (Array.isArray(value) && value.length === 2 && typeof value[0] === "number" && typeof value[1] === "number") {
    ms = value[0] < 0 || value[1] < 0 || Number.isNaN(value[0]) || Number.isNaN(value[1])
      ? -1
      : value[0] * 1000 + value[1] / 1_000_000
  } else {
    return fail(where, option, expected, value, "type")
  }
  if (Number.isNaN(ms) || ms <= 0) return fail(where, option, expected, value, "range")
  return ms
}

/**
 * Strings already parsed (`"5 seconds"` on every task made per call: a regular
 * expression and a decode each measured ~0.3 µs). A few hundred at most.
 */
const parsedStrings = new Map<string, number>()

const parse = (value: string): number | undefined => {
  const match = unitPattern.exec(value.trim())
  if (match === null) return undefined
  const ms = Number(match[1]) < 0 ? -1 : Duration.toMillis(Duration.decode(value.trim() as Duration.DurationInput))
  if (parsedStrings.size < 256) parsedStrings.set(value, ms)
  return ms
}

/** An integer ≥ `min`, or `Infinity` when `allowInfinity`. */
export const integer = (
  where: string,
  option: string,
  value: unknown,
  min: number,
  allowInfinity: boolean
): number => {
  const expected = `an integer ≥ ${min}${allowInfinity ? " or Infinity" : ""}`
  if (typeof value !== "number") return fail(where, option, expected, value, "type")
  if (value === Number.POSITIVE_INFINITY && allowInfinity) return value
  if (!Number.isInteger(value) || value < min) return fail(where, option, expected, value, "range")
  return value
}

export const finiteNumber = (where: string, option: string, value: unknown): number => {
  if (typeof value !== "number") return fail(where, option, "a finite number", value, "type")
  if (!Number.isFinite(value)) return fail(where, option, "a finite number", value, "range")
  return value
}

/** A finite number ≥ 0 (a cost, a budget). */
export const nonNegative = (where: string, option: string, value: unknown): number => {
  const n = finiteNumber(where, option, value)
  if (n < 0) fail(where, option, "a finite number ≥ 0", n, "range")
  return n
}

export const nonEmptyString = (where: string, option: string, value: unknown): string => {
  if (typeof value !== "string") return fail(where, option, "a non-empty string", value, "type")
  if (value.length === 0) return fail(where, option, "a non-empty string", value, "range")
  return value
}

export const func = <F extends Function>(where: string, option: string, value: unknown): F => {
  if (typeof value !== "function") return fail(where, option, "a function", value, "type")
  return value as F
}

export const record = (where: string, option: string, value: unknown): Record<string, unknown> => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return fail(where, option, "an object", value, "type")
  }
  return value as Record<string, unknown>
}

/** Refuses keys outside `known` (a misspelt option would otherwise be ignored). */
export const knownKeys = (where: string, record: Record<string, unknown>, known: ReadonlySet<string>): void => {
  // for-in, not Object.keys: no array per call (tasks are checked as they are made, on the hot path)
  for (const key in record) {
    if (known.has(key) || !Object.prototype.hasOwnProperty.call(record, key)) continue
    const near = closest(key, known)
    const hint = near === undefined ? "" : ` — did you mean ${near}?`
    fail(where, `options.${key}`, `one of ${[...known].join(", ")} (unknown option${hint})`, key, "type")
  }
}

/** The known key a misspelt one most likely meant: one containing the other, or at most 2 edits away. */
const closest = (key: string, known: ReadonlySet<string>): string | undefined => {
  const lower = key.toLowerCase()
  let best: string | undefined = undefined
  let bestDistance = 3
  for (const k of known) {
    const kl = k.toLowerCase()
    if (kl.includes(lower) || lower.includes(kl)) return k
    const d = editDistance(lower, kl)
    if (d < bestDistance) {
      bestDistance = d
      best = k
    }
  }
  return best
}

const editDistance = (a: string, b: string): number => {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length]!
}

export const invalid = fail

/**
 * toolfan's `InvalidOption` as the `TypeError`/`RangeError` JavaScript callers expect (anything else as it is): the
 * Promise API's convention, and its sibling packages' (vercel-ai, openai-agents, mcp).
 */
export const jsError = (error: unknown): unknown => {
  if (!isInvalidOption(error)) return error
  const Ctor = error.kind === "type" ? TypeError : RangeError
  return new Ctor(error.message, { cause: error })
}

/** Runs `f`, rethrowing toolfan's `InvalidOption` as the `TypeError`/`RangeError` JavaScript callers expect. */
export const jsErrors = <A>(f: () => A): A => {
  try {
    return f()
  } catch (error) {
    throw jsError(error)
  }
}

/** Throws the `TypeError`/`RangeError` of an invalid option (`where: option must be expected, got value`). */
export const invalidJs = (where: string, option: string, expected: string, value: unknown, kind: "type" | "range" = "type"): never =>
  jsErrors(() => fail(where, option, expected, value, kind))
