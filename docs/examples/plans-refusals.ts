import { Effect, Schema } from "effect"
import { Scheduler, ToolPlan } from "toolfan"

const tools = {
  add: ToolPlan.tool(Schema.Struct({ a: Schema.Number, b: Schema.Number }), ({ a, b }) => Effect.succeed(a + b))
}

const program = Effect.gen(function*() {
  const results = yield* ToolPlan.run([
    { id: "x", tool: "add", args: { a: 1, b: 2 } },
    { id: "y", tool: "add", args: { a: "$x", b: "two" } }, // refused: b is not a number
    { id: "z", tool: "add", args: { a: "$y", b: 1 } } // skipped: y did not succeed
  ], tools)
  // what goes back to the model: each call's value, or a message it can act on
  return results.map((r) => {
    if (r.ok) return { id: r.name, value: r.value }
    const error = r.error
    if (error._tag === "TaskFailed" && ToolPlan.isCallRefused(error.error)) {
      return { id: r.name, refused: error.error.reason, message: error.error.message }
    }
    return { id: r.name, error: error.message }
  })
})

Effect.runPromise(program.pipe(Effect.provide(Scheduler.layer()))).then(console.log)
