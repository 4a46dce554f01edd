import { Context, Data, Effect, Layer } from "effect"
import { Batcher } from "toolfan"

type Label = "relevant" | "irrelevant"

class ModelOverloaded extends Data.TaggedError("ModelOverloaded")<{ readonly status: number }> {}

// The model client: one call labels many texts. A fake here (offline); yours calls the model's API.
const labelMany = (texts: ReadonlyArray<string>): Effect.Effect<ReadonlyArray<Label>, ModelOverloaded> =>
  Effect.succeed(texts.map((t): Label => (t.startsWith("Lisbon") ? "relevant" : "irrelevant"))).pipe(
    Effect.delay("120 millis")
  )

// The batcher as a service, built once by its layer and closed with it.
class Classifier extends Context.Tag("app/Classifier")<Classifier, Batcher.Batcher<string, Label, ModelOverloaded>>() {}

const ClassifierLive = Layer.scoped(
  Classifier,
  Batcher.make({
    run: labelMany,
    maxSize: 16,
    maxWait: "20 millis",
    maxBatchesInFlight: 4, // at most 4 model calls at once
    timeout: "30 seconds", // per attempt of a batch call
    retries: 2,
    retryWhile: (error) => error.status >= 500,
    name: "classifier"
  })
)

// Anywhere in the agent, one text at a time.
const isRelevant = (text: string) =>
  Effect.flatMap(Classifier, (classifier) => classifier.submit(text)).pipe(Effect.map((l) => l === "relevant"))

const program = Effect.forEach(["Lisbon: metro strike called off", "Porto: museum reopens"], isRelevant, {
  concurrency: "unbounded"
})

Effect.runPromise(program.pipe(Effect.provide(ClassifierLive))).then(console.log) // [ true, false ], in one model call
