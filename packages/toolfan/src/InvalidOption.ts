/**
 * The error toolfan raises for bad input: a negative or NaN timeout,
 * `maxConcurrency` 0 or 1.5, retries -1, a value of the wrong type from plain
 * JavaScript. Its `message` names where it happened, the option and the value
 * received, e.g. `Scheduler.make: maxConcurrency must be an integer ≥ 1 or
 * Infinity, got 1.5 (number)`.
 *
 * Constructors that return plain values (`Task.make`) throw it at once;
 * constructors that return effects (`Scheduler.make`, `Scheduler.layer`) fail
 * with it.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Predicate from "effect/Predicate"
import { showValue } from "./internal/describe.js"

/**
 * Bad input, refused before anything runs.
 *
 * `kind` is `"type"` when the value has the wrong type and `"range"` when it
 * has the right type but an unusable value (the Promise API maps these to
 * `TypeError` and `RangeError`).
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidOption extends Data.TaggedError("InvalidOption")<{
  /** Where the input was given, e.g. `"Task.make"`. */
  readonly where: string
  /** The option or parameter, e.g. `"timeout"`. */
  readonly option: string
  /** What was expected, e.g. `"a positive duration"`. */
  readonly expected: string
  /** The value received. */
  readonly value: unknown
  readonly kind: "type" | "range"
}> {
  override get message(): string {
    return `${this.where}: ${this.option} must be ${this.expected}, got ${showValue(this.value)}`
  }
}

/**
 * Whether `u` is an {@link InvalidOption} (checked by tag).
 *
 * @since 0.1.0
 * @category guards
 */
export const isInvalidOption = (u: unknown): u is InvalidOption =>
  Predicate.isTagged(u, "InvalidOption") && Predicate.hasProperty(u, "option")
