import { Effect, Either } from "effect"
import { Batcher } from "toolfan"

const texts = Array.from({ length: 20 }, (_, i) => `text ${i}`)

const program = Effect.gen(function*() {
  const shapes: Array<number> = []
  const classify = yield* Batcher.make({
    run: (batch: ReadonlyArray<string>) =>
      Effect.sync(() => {
        shapes.push(batch.length)
        return batch.map((t) => t.length)
      }),
    maxSize: 16,
    maxWait: "1 second" // a block never waits for it
  })

  // One caller, many items: sent at once, in chunks of maxSize, with one waiting fiber.
  // One Either per item, in order; submitAll itself never fails.
  const outcomes = yield* classify.submitAll(texts)
  console.log(shapes, Either.all(outcomes)) // [ 16, 4 ] and Right([6, 6, …])

  // The requests of one batched Effect.forEach reach the batcher together: sent at once too.
  const lengths = yield* Effect.forEach(texts, classify.submit, { batching: true })
  console.log(shapes, lengths.length) // [ 16, 4, 16, 4 ] 20
})

Effect.runPromise(Effect.scoped(program))
