import * as Duration from "effect/Duration"
import type { RedisOptions } from "ioredis"
import { InvalidOption } from "toolfan"

/** Throws an `InvalidOption` naming `where`, the option and the value. */
export const invalid = (where: string, option: string, expected: string, value: unknown, kind: "type" | "range"): never => {
  throw new InvalidOption.InvalidOption({ where, option, expected, value, kind })
}

const durationPattern = /^(\d+(?:\.\d+)?)\s+(nanos?|micros?|millis?|seconds?|minutes?|hours?|days?|weeks?)$/

/**
 * A positive duration in milliseconds. The raw input is checked because
 * `Duration.decode` turns -5, NaN and "-5 seconds" into zero silently.
 */
export const duration = (where: string, option: string, value: unknown, fallback: number): number => {
  if (value === undefined) return fallback
  const expected = "a positive duration (milliseconds as a number, or e.g. \"10 seconds\")"
  let ms: number
  if (typeof value === "number") ms = value
  else if (typeof value === "string" && durationPattern.test(value.trim())) {
    ms = Duration.toMillis(Duration.decode(value.trim() as Duration.DurationInput))
  } else if (Duration.isDuration(value)) ms = Duration.toMillis(value)
  else return invalid(where, option, expected, value, "type")
  if (!(ms > 0) || !Number.isFinite(ms)) return invalid(where, option, expected, value, "range")
  return ms
}

export const integer = (where: string, option: string, value: unknown, min: number): number => {
  const expected = `an integer ≥ ${min}`
  if (typeof value !== "number") return invalid(where, option, expected, value, "type")
  if (!Number.isInteger(value) || value < min) return invalid(where, option, expected, value, "range")
  return value
}

export const string = (where: string, option: string, value: unknown): string => {
  if (typeof value !== "string") return invalid(where, option, "a non-empty string", value, "type")
  if (value.length === 0) return invalid(where, option, "a non-empty string", value, "range")
  return value
}

export const oneOf = <A extends string>(where: string, option: string, value: unknown, choices: ReadonlyArray<A>, fallback: A): A => {
  if (value === undefined) return fallback
  if (!choices.includes(value as A)) invalid(where, option, choices.map((c) => `"${c}"`).join(" or "), value, "type")
  return value as A
}

/** Where Redis is: a `redis://` URL or ioredis options. */
export type Connection = string | RedisOptions

export const connection = (where: string, value: unknown): Connection => {
  if (value === undefined) return "redis://127.0.0.1:6379"
  if (typeof value === "string" && /^rediss?:\/\//.test(value)) return value
  if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as RedisOptions
  return invalid(where, "redis", "a redis:// URL or ioredis options", value, "type")
}

export const record = (where: string, value: unknown): Record<string, unknown> => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return invalid(where, "options", "an object", value, "type")
  }
  return value as Record<string, unknown>
}
