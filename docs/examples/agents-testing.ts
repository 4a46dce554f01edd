import { LanguageModel, type Response } from "@effect/ai"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Fiber, Layer, Stream, TestClock } from "effect"
import { Scheduler } from "toolfan"
import { ResearchTools, runner } from "./agents.js"

// A fake model: its response asks for three tools.
const FakeModel = Layer.effect(
  LanguageModel.LanguageModel,
  LanguageModel.make({
    generateText: () =>
      Effect.succeed<Array<Response.PartEncoded>>([
        { type: "tool-call", id: "c1", name: "search", params: { query: "Lisbon" } },
        { type: "tool-call", id: "c2", name: "weather", params: { city: "Lisbon" } },
        { type: "tool-call", id: "c3", name: "fetch_page", params: { url: "https://example.com" } }
      ]),
    streamText: () => Stream.empty
  })
)

// Fake tools: 30 ms each; the page never answers.
const ResearchToolsFake = ResearchTools.toLayer({
  search: ({ query }) => Effect.as(Effect.sleep("30 millis"), [`${query}: a guide`]),
  weather: ({ city }) => Effect.as(Effect.sleep("30 millis"), `sunny in ${city}`),
  fetch_page: () => Effect.never
})

describe("research step", () => {
  it.effect("runs the calls at once and returns the timeout to the model", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(Effect.gen(function*() {
        const plan = yield* LanguageModel.generateText({
          prompt: "Plan a day in Lisbon",
          toolkit: ResearchTools,
          disableToolCallResolution: true
        })
        const start = yield* Clock.currentTimeMillis
        const results = yield* runner.resolve(plan.content)
        return { results, ms: (yield* Clock.currentTimeMillis) - start }
      }))
      yield* TestClock.adjust("5 seconds")
      const { ms, results } = yield* Fiber.join(fiber)
      expect(results.map((r) => r.isFailure)).toEqual([false, false, true])
      expect(results[2]!.encodedResult).toMatchObject({ reason: "TimedOut" })
      expect(ms).toBe(3000) // the page's 3 s timeout; search and weather finished at 30 ms
    }).pipe(Effect.provide(Layer.mergeAll(FakeModel, ResearchToolsFake, Scheduler.layer()))))
})
