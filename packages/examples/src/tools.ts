/**
 * The agent's tools, as an Effect service. The demo uses `ToolsLive`, a fake
 * with fixed latencies and canned answers, so it runs offline and prints the
 * same thing every time; a real implementation would be another `Layer` for
 * the same `Tools` tag, and the agent code would not change.
 *
 * Three tools misbehave on purpose:
 * - `flights` fails with `ToolUnavailable` (a 503) on its first call and
 *   answers on the next one,
 * - `hotels` never answers (only a timeout stops it),
 * - `translate` fails for good with `QuotaExceeded`.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"

/**
 * The tool's backend is down for a moment: worth retrying.
 */
export class ToolUnavailable extends Schema.TaggedError<ToolUnavailable>()("ToolUnavailable", {
  tool: Schema.String,
  status: Schema.Number
}) {
  override get message(): string {
    return `${this.tool} answered HTTP ${this.status}; try again shortly`
  }
}

/**
 * The tool's quota is used up: retrying now cannot help.
 */
export class QuotaExceeded extends Schema.TaggedError<QuotaExceeded>()("QuotaExceeded", {
  tool: Schema.String,
  limit: Schema.Number
}) {
  override get message(): string {
    return `${this.tool}: daily quota of ${this.limit} calls used up`
  }
}

/**
 * Every typed failure of a tool.
 */
export type ToolError = ToolUnavailable | QuotaExceeded

/**
 * Whether retrying can help: a `retryWhile` policy for tasks.
 */
export const isRetryable = (error: ToolError): boolean => error._tag === "ToolUnavailable"

/**
 * What the agent can call. Every tool answers with a short text, the way tool
 * results are handed back to a language model.
 */
export interface ToolsService {
  readonly calendar: (range: string) => Effect.Effect<string, ToolError>
  readonly weather: (city: string) => Effect.Effect<string, ToolError>
  readonly search: (query: string) => Effect.Effect<string, ToolError>
  readonly fetchPage: (url: string) => Effect.Effect<string, ToolError>
  readonly flights: (from: string, to: string) => Effect.Effect<string, ToolError>
  readonly hotels: (near: string) => Effect.Effect<string, ToolError>
  readonly news: (topic: string) => Effect.Effect<string, ToolError>
  readonly places: (near: string) => Effect.Effect<string, ToolError>
  readonly translate: (text: string, to: string) => Effect.Effect<string, ToolError>
  readonly transit: (from: string, to: string) => Effect.Effect<string, ToolError>
}

/**
 * The `Tools` service tag.
 */
export class Tools extends Context.Tag("@toolfan/examples/Tools")<Tools, ToolsService>() {}

/** Answers `value` after `ms` milliseconds (on Effect's `Clock`). */
const answer = (ms: number, value: string): Effect.Effect<string> => Effect.as(Effect.sleep(ms), value)

/** Fails with `error` after `ms` milliseconds. */
const failAfter = (ms: number, error: ToolError): Effect.Effect<never, ToolError> =>
  Effect.zipRight(Effect.sleep(ms), Effect.fail(error))

/**
 * Fake tools with realistic, fixed latencies (80–300 ms). Each build of the
 * layer starts afresh, so `flights` fails exactly once per program.
 */
export const ToolsLive: Layer.Layer<Tools> = Layer.effect(
  Tools,
  Effect.gen(function*() {
    const flightCalls = yield* Ref.make(0)
    return Tools.of({
      calendar: () => answer(120, "free Thu 12:00 – Fri 18:00"),
      weather: () => answer(160, "Thu 23 °C sunny, Fri 21 °C cloudy"),
      search: () => answer(210, "3 hits, top: lisbon-ai.example/meetup"),
      fetchPage: () => answer(280, "Thu 18:30, LX Factory; talks in Portuguese"),
      flights: (from, to) =>
        Effect.flatMap(Ref.getAndUpdate(flightCalls, (n) => n + 1), (calls) =>
          calls === 0
            ? failAfter(70, new ToolUnavailable({ tool: "flights", status: 503 }))
            : answer(150, `TP 537 ${from}→${to} dep 09:40 arr 11:55, €142`)),
      hotels: () => Effect.never,
      news: () => answer(80, "no transport strikes announced"),
      places: () => answer(90, "Café Tati 300 m, Time Out Market 2 km"),
      translate: () => failAfter(110, new QuotaExceeded({ tool: "translate", limit: 500 })),
      transit: () => answer(190, "metro + tram 15E, 42 min")
    })
  })
)
