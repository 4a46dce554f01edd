/**
 * The checks that are Redis's own. The common ones (a duration, an integer,
 * the options object, unknown keys) are the core's, from `toolfan/shared`:
 * the same input is accepted, and refused with the same message.
 */
import type { RedisOptions } from "ioredis"
import { validate } from "toolfan/shared"

/**
 * A positive, finite duration in milliseconds, or `fallback` when not given
 * (without a fallback, a missing value is refused). Every DurationInput the
 * core takes is taken; `Infinity` is refused: a lease, a timeout or a window
 * that never ends would hold a slot, or a waiter, forever.
 */
export const duration = (where: string, option: string, value: unknown, fallback?: number): number => {
  if (value === undefined && fallback !== undefined) return fallback
  const ms = validate.durationMillis(where, option, value)
  if (!Number.isFinite(ms)) {
    validate.invalid(where, option, "a finite positive duration (milliseconds as a number, or e.g. \"5 seconds\")", value, "range")
  }
  return ms
}

export const oneOf = <A extends string>(where: string, option: string, value: unknown, choices: ReadonlyArray<A>, fallback: A): A => {
  if (value === undefined) return fallback
  if (!choices.includes(value as A)) validate.invalid(where, option, choices.map((c) => `"${c}"`).join(" or "), value, "type")
  return value as A
}

/** Where Redis is: a `redis://` URL or ioredis options. */
export type Connection = string | RedisOptions

export const connection = (where: string, value: unknown): Connection => {
  if (value === undefined) return "redis://127.0.0.1:6379"
  if (typeof value === "string" && /^rediss?:\/\//.test(value)) return value
  if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as RedisOptions
  return validate.invalid(where, "redis", "a redis:// URL or ioredis options", value, "type")
}
