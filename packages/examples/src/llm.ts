/**
 * The language model, as an Effect service. The demo uses `LlmLive`, a fake
 * with a fixed latency and a keyword rule in place of the model's judgement,
 * so it runs offline and prints the same thing every time; a real
 * implementation would be another `Layer` for the same `Llm` tag.
 *
 * The model is called in batches: one call classifies many short texts, and
 * takes about as long for 2 texts as for 16. That is what makes
 * micro-batching (`Batcher`) worth it.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"

/**
 * The model API is overloaded or down. The fake never fails; a real model
 * does, and every text of that call then fails with this error.
 */
export class LlmUnavailable extends Schema.TaggedError<LlmUnavailable>()("LlmUnavailable", {
  status: Schema.Number
}) {
  override get message(): string {
    return `the model API answered HTTP ${this.status}; try again shortly`
  }
}

/**
 * What the model says about one text.
 */
export type Label = "relevant" | "irrelevant"

/**
 * What the agent can ask the model.
 */
export interface LlmService {
  /**
   * One model call: whether each text matters for the agent's task (a trip to
   * the Lisbon AI meetup), one label per text, in the same order.
   */
  readonly classify: (texts: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<Label>, LlmUnavailable>
}

/**
 * The `Llm` service tag.
 */
export class Llm extends Context.Tag("@toolfan/examples/Llm")<Llm, LlmService>() {}

/** How long one call of the fake model takes, whatever the number of texts. */
export const latencyMs = 120

/** Words that make a text about Lisbon matter for the trip. */
const tripWords = ["meetup", "strike", "heat", "flights", "hotel", "tram"]

/** The fake model's judgement: about Lisbon, and about the meetup or getting there. */
const label = (text: string): Label =>
  text.startsWith("Lisbon") && tripWords.some((word) => text.includes(word)) ? "relevant" : "irrelevant"

/**
 * A fake model: every call takes {@link latencyMs} (on Effect's `Clock`),
 * whatever the batch size, and labels the texts with a keyword rule.
 */
export const LlmLive: Layer.Layer<Llm> = Layer.succeed(
  Llm,
  Llm.of({
    classify: (texts) => Effect.as(Effect.sleep(latencyMs), texts.map(label))
  })
)
