/**
 * Records when each attempt of each task started and ended, for the timeline.
 *
 * The scheduler reports per-task totals (`attempts`, `durationMs`, `waitMs`),
 * not per-attempt timestamps, so the demo wraps every tool call with
 * {@link Service.track}: as the scheduler runs the wrapped effect once per
 * attempt, each attempt leaves one {@link Attempt} here. Times come from
 * Effect's `Clock`, like the scheduler's own.
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"

/**
 * How one attempt ended, as seen from inside it. A timeout shows up here as
 * `"interrupted"`: the scheduler interrupts the attempt when its time is up.
 */
export type AttemptOutcome = "ok" | "failed" | "interrupted" | "defect"

/**
 * One attempt of one task, in epoch milliseconds.
 */
export interface Attempt {
  readonly task: string
  readonly start: number
  readonly end: number
  readonly outcome: AttemptOutcome
}

/**
 * The recorder's operations.
 */
export interface Service {
  /** Wraps one task's effect so that every run of it (every attempt) is recorded. */
  readonly track: <A, E, R>(task: string, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** Every attempt recorded so far, in the order they ended. */
  readonly attempts: Effect.Effect<ReadonlyArray<Attempt>>
}

/**
 * The recorder service tag.
 */
export class Recorder extends Context.Tag("@toolfan/examples/Recorder")<Recorder, Service>() {}

const outcomeOf = (exit: Exit.Exit<unknown, unknown>): AttemptOutcome => {
  if (Exit.isSuccess(exit)) return "ok"
  if (Cause.isInterruptedOnly(exit.cause)) return "interrupted"
  return Cause.isFailure(exit.cause) ? "failed" : "defect"
}

/**
 * An in-memory recorder.
 */
export const layer: Layer.Layer<Recorder> = Layer.effect(
  Recorder,
  Effect.map(Ref.make<ReadonlyArray<Attempt>>([]), (log) =>
    Recorder.of({
      track: (task, effect) =>
        Effect.flatMap(Clock.currentTimeMillis, (start) =>
          Effect.onExit(effect, (exit) =>
            Effect.flatMap(Clock.currentTimeMillis, (end) =>
              Ref.update(log, (all) => [...all, { task, start, end, outcome: outcomeOf(exit) }])))),
      attempts: Ref.get(log)
    }))
)
