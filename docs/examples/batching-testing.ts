import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, TestClock } from "effect"
import { Batcher } from "toolfan"

describe("classifier", () => {
  it.scoped("50 concurrent texts make 4 model calls [16, 16, 16, 2]", () =>
    Effect.gen(function*() {
      const shapes: Array<number> = []
      // Made inside the test, so that its windows run on the TestClock.
      const classify = yield* Batcher.make({
        run: (texts: ReadonlyArray<string>) =>
          Effect.sync(() => {
            shapes.push(texts.length)
            return texts.map((t) => t.length)
          }),
        maxSize: 16,
        maxWait: "20 millis"
      })
      const texts = Array.from({ length: 50 }, (_, i) => `text ${i}`)
      const fiber = yield* Effect.fork(Effect.forEach(texts, classify.submit, { concurrency: "unbounded" }))
      yield* TestClock.adjust(0) // let the callers submit: full batches go at once
      expect(shapes).toEqual([16, 16, 16])
      yield* TestClock.adjust("20 millis") // the partial batch waits out its window, in virtual time
      expect(yield* Fiber.join(fiber)).toHaveLength(50)
      expect(shapes).toEqual([16, 16, 16, 2])
    }))
})
