import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as TestClock from "effect/TestClock"
import { Timeline } from "@toolfan/timeline"
import { Scheduler } from "toolfan"
import { agentStep, question, schedulerOptions } from "../src/step.js"
import { QuotaExceeded, Tools } from "../src/tools.js"

// The demo's agent step, unchanged, with instant fake tools instead of the
// demo's slow ones: only the Layer differs.
const FakeTools = Layer.succeed(
  Tools,
  Tools.of({
    calendar: () => Effect.succeed("free all week"),
    weather: () => Effect.succeed("rain"),
    search: () => Effect.succeed("1 hit"),
    fetchPage: () => Effect.succeed("Thu 19:00, online"),
    flights: (from, to) => Effect.succeed(`${from}→${to} direct`),
    hotels: () => Effect.succeed("Hotel Fake"),
    news: () => Effect.succeed("quiet"),
    places: () => Effect.succeed("a park"),
    translate: () => Effect.fail(new QuotaExceeded({ tool: "translate", limit: 1 })),
    transit: () => Effect.succeed("walk 5 min")
  })
)

describe("agent step", () => {
  it.effect("runs with a fake tool layer, without touching the step's code", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(agentStep(question))
      yield* TestClock.adjust("40 millis") // the fake model plans
      yield* TestClock.adjust("60 millis") // the fake model writes the answer
      const step = yield* Fiber.join(fiber)
      expect(step.results.map((r) => [r.name, r.ok])).toEqual([
        ["calendar", true],
        ["weather", true],
        ["search", true],
        ["fetchPage", true],
        ["flights", true],
        ["hotels", true],
        ["news", true],
        ["places", true],
        ["translate", false],
        ["transit", true]
      ])
      expect(step.answer).toContain("you are free all week and the meetup is Thu 19:00, online")
      expect(step.answer).toContain("Still open: translate (QuotaExceeded)")
    }).pipe(Effect.provide(Layer.mergeAll(FakeTools, Scheduler.layer(schedulerOptions)))))

  it.effect("Timeline.capture records every tool call of the step, with no help from the tasks", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(Timeline.capture(agentStep(question)))
      yield* TestClock.adjust("100 millis")
      const [step, timeline] = yield* Fiber.join(fiber)
      expect(timeline.rows.map((r) => r.name).sort()).toEqual(step.results.map((r) => r.name).sort())
      expect(timeline.rows.find((r) => r.name === "search")?.group).toBe("web")
      expect(timeline.rows.find((r) => r.name === "translate")?.attempts.map((a) => a.outcome)).toEqual(["failed"])
    }).pipe(Effect.provide(Layer.mergeAll(FakeTools, Scheduler.layer(schedulerOptions)))))
})
