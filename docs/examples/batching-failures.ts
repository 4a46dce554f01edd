import { Data, Effect, Either } from "effect"
import { Batcher } from "toolfan"

class ModelOverloaded extends Data.TaggedError("ModelOverloaded")<{ readonly status: number }> {}
class EmptyText extends Data.TaggedError("EmptyText")<{}> {}

let calls = 0
// A fake model call: the first call fails as a whole; after that an empty text fails alone.
const labelMany = (texts: ReadonlyArray<string>) =>
  ++calls === 1
    ? Effect.fail(new ModelOverloaded({ status: 529 }))
    : Effect.succeed(texts.map((t) => (t === "" ? Batcher.failItem(new EmptyText()) : t.length)))

const program = Effect.gen(function*() {
  const classify = yield* Batcher.make({ run: labelMany, maxSize: 2 })
  // submit fails with ModelOverloaded | EmptyText | BatchError; submitAll gives one Either per item.
  const outcomes = yield* classify.submitAll(["a", "b", "", "dd"])
  for (const outcome of outcomes) {
    if (Either.isRight(outcome)) console.log("length", outcome.right)
    else console.log("failed:", outcome.left._tag)
  }
  // failed: ModelOverloaded   (the first batch, ["a", "b"], failed: both of its items fail with its error)
  // failed: ModelOverloaded
  // failed: EmptyText         (the second batch succeeded; failItem failed this item alone)
  // length 2

  // A batch function that breaks its contract fails every item of that batch with BatchOutputMismatch.
  const broken = yield* Batcher.make({ run: (texts: ReadonlyArray<string>) => Effect.succeed(texts.slice(1)) })
  const error = yield* Effect.flip(broken.submit("x"))
  if (error._tag === "BatchOutputMismatch") {
    console.log(error.expected, error.receivedCount) // 1 0
    console.log(error.message)
    // batcher "batcher": run returned 0 outputs for 1 item; it must return an array with one output per item, …
  }
})

Effect.runPromise(Effect.scoped(program))
