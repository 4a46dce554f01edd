/**
 * Checks of the user's input, throwing the `TypeError`/`RangeError` that the
 * Promise API throws, with a message naming where, the parameter and the
 * value: `mcpTask: tool must be a non-empty string, got 5 (number)`.
 */
import { validate } from "toolfan/shared"

/** Throws a `TypeError` (wrong type) or `RangeError` (right type, unusable value). */
export const invalid = (where: string, option: string, expected: string, value: unknown, kind: "type" | "range" = "type"): never =>
  validate.invalidJs(where, option, expected, value, kind)

/** Whether `u` is a plain object (not null, not an array). */
export const isRecord = (u: unknown): u is Readonly<Record<string, unknown>> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

/** `u` if it is undefined or a plain object; throws otherwise. */
export const optionalRecord = (where: string, option: string, u: unknown): Readonly<Record<string, unknown>> | undefined =>
  u === undefined || isRecord(u) ? u : invalid(where, option, "an object", u)

/** `u` if it is a non-empty string; throws otherwise. */
export const nonEmptyString = (where: string, option: string, u: unknown): string =>
  typeof u === "string" && u.length > 0 ? u : invalid(where, option, "a non-empty string", u)
