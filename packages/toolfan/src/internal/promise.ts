import * as Effect from "effect/Effect"
import * as Predicate from "effect/Predicate"

/**
 * Calls `evaluate` and resumes an `Effect.async` with its value, its
 * rejection or its synchronous throw (both failures, never defects: for a
 * promise task, a throw is the tool failing). Both branches of `then` are
 * given, so a rejection never becomes an unhandled one.
 */
export const resumeWith = <A>(evaluate: () => PromiseLike<A> | A, resume: (effect: Effect.Effect<A, unknown>) => void) => {
  let value: PromiseLike<A> | A
  try {
    value = evaluate()
  } catch (error) {
    resume(Effect.fail(error))
    return
  }
  if (Predicate.isPromiseLike(value)) {
    try {
      value.then((a) => resume(Effect.succeed(a)), (error) => resume(Effect.fail(error)))
    } catch (error) {
      // a thenable whose `then` throws: the tool failing too
      resume(Effect.fail(error))
    }
  } else {
    resume(Effect.succeed(value))
  }
}
