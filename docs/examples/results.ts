import { Data, Effect, Either } from "effect"
import { Scheduler, Task, TaskError, type TaskResult } from "toolfan"

class NotFound extends Data.TaggedError("NotFound")<{ readonly id: string }> {}

const lookup = (id: string): Effect.Effect<{ readonly id: string; readonly title: string }, NotFound> =>
  id.startsWith("doc-") ? Effect.succeed({ id, title: `Title of ${id}` }) : Effect.fail(new NotFound({ id }))

// One line per result. Narrow with `ok`; then switch on the error's tag.
const describe = (r: TaskResult.TaskResult<unknown, NotFound>): string => {
  if (r.ok) return `${r.name}: ok after ${r.attempts} attempt(s)`
  const error = r.error
  switch (error._tag) {
    case "TaskFailed":
      // error.error is the typed E, or GroupLimitUnavailable when a shared group limit could not be reached
      return error.error._tag === "NotFound"
        ? `${r.name}: not found (${error.error.id})`
        : `${r.name}: did not run: ${error.error.message}`
    case "TaskTimedOut":
      return `${r.name}: timed out after ${r.attempts} attempt(s)`
    case "TaskDefect":
      return `${r.name}: bug: ${String(error.defect)}`
    case "TaskInterrupted":
      return `${r.name}: interrupted (${error.reason})`
    case "TaskSkipped":
      return `${r.name}: skipped, "${error.dependency}" failed`
  }
}

const program = Effect.gen(function*() {
  const results = yield* Scheduler.run([
    Task.make("a", lookup("doc-1")),
    Task.make("b", lookup("nope")),
    Task.make("c", Effect.dieMessage("tool bug")),
    Task.make("d", Effect.never, { timeout: "100 millis" })
  ])
  results.forEach((r) => console.log(describe(r)))

  // The same outcome as an Either, for Effect code.
  const [first] = results
  const title = Either.match(first.result, {
    onLeft: (error) => `(none: ${error.message})`,
    onRight: (doc) => doc.title
  })
  console.log(title)

  // The successes only; `value` is typed once `ok` is known.
  const docs = results.filter((r) => r.ok).map((r) => r.value)
  console.log(docs.length, "found")

  // Errors are tagged, so guards work across copies of the package.
  console.log(results.filter((r) => TaskError.isTaskError(r.error)).length, "failed")
})

Effect.runPromise(program.pipe(Effect.provide(Scheduler.layer())))
