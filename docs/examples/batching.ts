import { Duration, Effect } from "effect"
import { Batcher } from "toolfan"

// A fake batched model call (offline): one call labels many texts and takes 120 ms, whatever their number.
const labelMany = (texts: ReadonlyArray<string>) =>
  Effect.succeed(texts.map((t) => (t.startsWith("Lisbon") ? "relevant" : "irrelevant"))).pipe(
    Effect.delay("120 millis")
  )

const headlines = Array.from({ length: 50 }, (_, i) => `${i % 5 === 0 ? "Lisbon" : "Porto"}: story ${i}`)

const program = Effect.gen(function*() {
  const shapes: Array<number> = []
  const classify = yield* Batcher.make({
    run: (texts: ReadonlyArray<string>) =>
      Effect.zipRight(Effect.sync(() => shapes.push(texts.length)), labelMany(texts)),
    maxSize: 16,
    maxWait: "20 millis"
  })
  // 50 independent callers with one text each, as code that handles one item at a time.
  const [took, labels] = yield* Effect.timed(
    Effect.forEach(headlines, classify.submit, { concurrency: "unbounded" })
  )
  console.log(shapes) // [ 16, 16, 16, 2 ]: 4 model calls instead of 50
  console.log(labels.filter((l) => l === "relevant").length) // 10
  // About 140 ms (a little more in a cold process): 3 full batches at once, the last one 20 ms
  // later, each call 120 ms. One by one, 50 calls would take 50 × 120 ms = 6 s.
  console.log(Math.round(Duration.toMillis(took)), "ms")
})

// The batcher lives in a scope: closing it sends what is pending and waits for the calls in flight.
Effect.runPromise(Effect.scoped(program))
