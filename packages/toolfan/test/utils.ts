import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/TestClock"
import * as Tracer from "effect/Tracer"
import { InvalidOption } from "../src/index.js"

/** Calls `f`, expecting it to throw an `InvalidOption`, and returns it. */
export const thrown = (f: () => unknown): InvalidOption.InvalidOption => {
  try {
    f()
  } catch (error) {
    if (InvalidOption.isInvalidOption(error)) return error
    throw error
  }
  throw new Error("expected an InvalidOption to be thrown")
}

/**
 * Records what tasks do on the (virtual) clock: when each attempt starts and
 * ends, how many run at once and the peak.
 */
export class Probe {
  active = 0
  peak = 0
  readonly starts: Array<{ readonly name: string; readonly at: number }> = []
  readonly ends: Array<{ readonly name: string; readonly at: number }> = []

  /** Wraps `effect` so that its attempts are recorded under `name`. */
  track<A, E, R>(name: string, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> {
    return Effect.suspend(() => {
      this.active++
      this.peak = Math.max(this.peak, this.active)
      return Effect.flatMap(Clock.currentTimeMillis, (at) => {
        this.starts.push({ name, at })
        return effect
      })
    }).pipe(
      Effect.ensuring(Effect.flatMap(Clock.currentTimeMillis, (at) =>
        Effect.sync(() => {
          this.active--
          this.ends.push({ name, at })
        })))
    )
  }

  /** A task body that sleeps `ms` on the clock, then succeeds with `value`. */
  sleep<A>(name: string, ms: number, value: A): Effect.Effect<A> {
    return this.track(name, Effect.as(Effect.sleep(ms), value))
  }

  startOrder(): Array<string> {
    return this.starts.map((s) => s.name)
  }

  startOf(name: string): number | undefined {
    return this.starts.find((s) => s.name === name)?.at
  }
}

/** Forks `effect`, moves the TestClock forward by `ms` and joins it. */
export const runFor = <A, E, R>(ms: number, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(effect)
    yield* TestClock.adjust(ms)
    return yield* Fiber.join(fiber)
  })

/** Moves the TestClock forward in `steps` steps of `ms` each (lets chained timers register). */
export const advance = (ms: number, steps = 1): Effect.Effect<void> =>
  Effect.forEach(Array.from({ length: steps }), () => TestClock.adjust(ms), { discard: true })

/** A tracer that keeps every span it makes (Effect's native spans), like an in-memory exporter. */
export const recordingTracer = () => {
  const spans: Array<Tracer.Span> = []
  const native = Effect.runSync(Effect.tracer)
  const tracer = Tracer.make({
    span: (...args) => {
      const span = native.span(...args)
      spans.push(span)
      return span
    },
    context: native.context
  })
  return { spans, tracer }
}
