/**
 * Overload signals: how a task's failure says "the provider is overloaded,
 * retry after X", and how the scheduler reads it.
 *
 * When a failed attempt is an overload with a wait (a `429` with
 * `Retry-After`, an {@link Overloaded} with `retryAfterMs`):
 * - its retry never starts before that wait is over, whatever its schedule
 *   says;
 * - its group (if it has one) starts no new attempt until then: its siblings
 *   would get the same answer. The group resumes by itself;
 * - a wait longer than the task's `maxRetryAfter` (default 2 minutes) is not
 *   waited for: the task fails at once, its `TaskFailed` saying why;
 * - the run's deadline still wins.
 *
 * The scheduler recognises, by default ({@link detect}): an
 * {@link Overloaded}; an error with `status` (or `statusCode`) 429, or 503
 * with a wait in its headers — the errors of the OpenAI and Anthropic SDKs
 * (`status`, `headers`) and of the Vercel AI SDK (`statusCode`,
 * `responseHeaders`) — with the wait read from their headers by
 * {@link retryAfterMs}. A task's `overloaded` option replaces it.
 *
 * @since 0.3.0
 */
import * as Data from "effect/Data"
import { describe, read } from "./internal/describe.js"

/**
 * The failure of a call the provider refused for load (e.g. HTTP 429). Fail
 * with it (or throw it from a promise task) to have the wait honoured.
 *
 * @example
 * ```ts
 * import { Overload } from "toolfan"
 *
 * const call = async () => {
 *   const response = await fetch("https://api.example.com/v1/chat")
 *   if (response.status === 429) {
 *     throw new Overload.Overloaded({ retryAfterMs: Overload.retryAfterMs(response.headers) })
 *   }
 *   return response.json()
 * }
 * ```
 *
 * @since 0.3.0
 * @category errors
 */
export class Overloaded extends Data.TaggedError("Overloaded")<{
  /** Milliseconds the provider asked to wait before the next call, if it said. */
  readonly retryAfterMs?: number | undefined
  /** What refused the call, for messages (e.g. `"openai: 429 Too Many Requests"`). */
  readonly reason?: string | undefined
}> {
  override get message(): string {
    const what = this.reason ?? "the provider is overloaded"
    return this.retryAfterMs === undefined ? what : `${what}; retry after ${this.retryAfterMs} ms`
  }
}

/**
 * What an overloaded failure says: how long to wait before the next call, if
 * known.
 *
 * @since 0.3.0
 * @category models
 */
export interface Signal {
  readonly retryAfterMs?: number | undefined
}

/**
 * Headers as the HTTP clients give them: a fetch `Headers` (anything with
 * `get`), or a plain record (names in any case).
 *
 * @since 0.3.0
 * @category models
 */
export type HeadersLike =
  | { readonly get: (name: string) => string | null | undefined }
  | Readonly<Record<string, string | ReadonlyArray<string> | number | undefined | null>>

const header = (headers: HeadersLike, name: string): string | undefined => {
  if (typeof (headers as { get?: unknown }).get === "function") {
    const value = (headers as { get: (name: string) => string | null | undefined }).get(name)
    return value ?? undefined
  }
  const record = headers as Readonly<Record<string, unknown>>
  let value = record[name]
  if (value === undefined) {
    for (const key of Object.keys(record)) if (key.toLowerCase() === name) value = record[key]
  }
  if (Array.isArray(value)) value = value[0]
  return value === undefined || value === null ? undefined : String(value)
}

/** A number of seconds or a date (`Retry-After`), in ms from `now`. */
const secondsOrDate = (value: string, now: number): number | undefined => {
  const trimmed = value.trim()
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000
  const at = Date.parse(trimmed)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

const durationUnits: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** OpenAI's reset durations: `"1s"`, `"6m0s"`, `"20ms"`, `"1.5s"`. */
const resetDuration = (value: string): number | undefined => {
  const parts = value.trim().match(/\d+(?:\.\d+)?(?:ms|s|m|h)/g)
  if (parts === null || parts.join("") !== value.trim()) return undefined
  let ms = 0
  for (const part of parts) {
    const [, amount, unit] = part.match(/^(\d+(?:\.\d+)?)(ms|s|m|h)$/)!
    ms += Number(amount) * durationUnits[unit!]!
  }
  return ms
}

/** Per-resource limits whose `remaining` header says 0: the longest of their resets. */
const exhaustedResets = (headers: HeadersLike, now: number): number | undefined => {
  let wait: number | undefined = undefined
  const consider = (remaining: string, reset: string, parse: (value: string) => number | undefined) => {
    if (header(headers, remaining)?.trim() !== "0") return
    const value = header(headers, reset)
    const ms = value === undefined ? undefined : parse(value)
    if (ms !== undefined && (wait === undefined || ms > wait)) wait = ms
  }
  for (const resource of ["requests", "tokens"]) {
    consider(`x-ratelimit-remaining-${resource}`, `x-ratelimit-reset-${resource}`, resetDuration)
  }
  for (const resource of ["requests", "tokens", "input-tokens", "output-tokens"]) {
    const prefix = `anthropic-ratelimit-${resource}`
    consider(`${prefix}-remaining`, `${prefix}-reset`, (value) => secondsOrDate(value, now))
  }
  return wait
}

/**
 * How long a response's headers ask to wait before the next call, in
 * milliseconds, or `undefined` if they do not say: `retry-after-ms`;
 * `retry-after` (seconds, or an HTTP date); else, for a limit whose
 * remaining count is 0, its reset — OpenAI's
 * `x-ratelimit-remaining-*` / `x-ratelimit-reset-*` (`"6m0s"`) and
 * Anthropic's `anthropic-ratelimit-*-remaining` / `-reset` (a date).
 *
 * @example
 * ```ts
 * import { Overload } from "toolfan"
 *
 * Overload.retryAfterMs({ "retry-after": "2" }) // 2000
 * Overload.retryAfterMs(new Headers({ "x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "6m0s" })) // 360000
 * ```
 *
 * @since 0.3.0
 * @category headers
 */
export const retryAfterMs = (headers: HeadersLike | null | undefined, now: number = Date.now()): number | undefined => {
  if (headers === null || headers === undefined || typeof headers !== "object") return undefined
  const ms = header(headers, "retry-after-ms")
  if (ms !== undefined && /^\s*\d+(\.\d+)?\s*$/.test(ms)) return Number(ms)
  const after = header(headers, "retry-after")
  const fromAfter = after === undefined ? undefined : secondsOrDate(after, now)
  return fromAfter ?? exhaustedResets(headers, now)
}


/**
 * The default classifier: whether a failure is an overload, and the wait it
 * asks for. An {@link Overloaded}; an error whose `status` or `statusCode` is
 * 429 (or 503 with a wait in its headers), the wait read from its `headers`
 * or `responseHeaders` by {@link retryAfterMs}. Anything else: `undefined`.
 * It never throws.
 *
 * @since 0.3.0
 * @category classifiers
 */
export const detect = (error: unknown): Signal | undefined => {
  if (typeof error !== "object" || error === null) return undefined
  if (error instanceof Overloaded) return error
  const status = read(error, "status") ?? read(error, "statusCode")
  if (status !== 429 && status !== 503) return undefined
  let wait: number | undefined = undefined
  try {
    wait = retryAfterMs((read(error, "headers") ?? read(error, "responseHeaders")) as HeadersLike | undefined)
  } catch {
    // headers the user's client made unreadable: an overload without a wait
  }
  if (status === 503 && wait === undefined) return undefined
  return { retryAfterMs: wait }
}

/** What a task does with overloads: its classifier and the longest wait it accepts. @internal */
export interface Policy {
  readonly classify: (error: unknown) => Signal | undefined
  readonly maxWaitMs: number
}

/** The default `maxRetryAfter`. @internal */
export const defaultMaxWaitMs = 120_000

/** @internal */
export const defaultPolicy: Policy = { classify: detect, maxWaitMs: defaultMaxWaitMs }

/**
 * The wait an attempt's failure `error` asks for under `policy`, in ms: `0`
 * for an overload that gave no wait, `undefined` if it is not an overload. A
 * classifier that throws, or answers with something other than a finite
 * wait ≥ 0, is an error of the caller's: it is thrown, naming the task.
 * @internal
 */
export const waitOf = (policy: Policy, task: string, error: unknown): number | undefined => {
  const signal = policy.classify(error)
  if (signal === undefined || signal === null) return undefined
  const ms = (signal as Signal).retryAfterMs
  if (ms === undefined) return 0
  if (typeof ms !== "number" || !(ms >= 0) || ms === Number.POSITIVE_INFINITY) {
    throw new TypeError(`task "${task}": overloaded() must answer a retryAfterMs that is a finite number ≥ 0, got ${describe(ms)}`)
  }
  return ms
}
