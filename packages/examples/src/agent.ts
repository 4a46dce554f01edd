/**
 * The @toolfan/ai example (`npm run agent`): one agent step on @effect/ai,
 * plan → fan out tools → synthesize, with the model's tool calls run through
 * toolfan's `Scheduler` by a `ToolRunner`.
 *
 * Everything is offline and deterministic: the model is a fake
 * `LanguageModel` layer that answers from a script, and the tools are a
 * `Toolkit` whose handlers (fakes with fixed latencies) come from a `Layer`.
 * A real provider layer and real handlers would replace those two layers;
 * the step would not change. Only the measured times move by a few ms.
 *
 * 1. Four tool calls of 30 ms each: through @toolfan/ai they take about one
 *    call's time; plain @effect/ai (`generateText` with the toolkit) resolves
 *    them one after another and takes about four.
 * 2. Calls that go wrong — a flaky tool, a tool that hangs, and (in raw
 *    parts) a misspelt tool and bad parameters — each come back to the model
 *    as that call's result, with a message it can act on; the turn does not
 *    fail.
 */
import * as LanguageModel from "@effect/ai/LanguageModel"
import * as Prompt from "@effect/ai/Prompt"
import type * as Response from "@effect/ai/Response"
import * as Tool from "@effect/ai/Tool"
import * as Toolkit from "@effect/ai/Toolkit"
import { ToolRunner } from "@toolfan/ai"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { Scheduler } from "toolfan"

// ---------------------------------------------------------------------------
// The tools: a Toolkit, with its handlers in a Layer
// ---------------------------------------------------------------------------

/**
 * The flights backend refused the call, as an HTTP client reports it: a status
 * and the response's headers. A 429 with `retry-after-ms` is recognised by
 * toolfan (`Overload.detect`): the retry waits that long, not less.
 */
class Unavailable extends Schema.TaggedError<Unavailable>()("Unavailable", {
  status: Schema.Number,
  headers: Schema.Record({ key: Schema.String, value: Schema.String })
}) {}

const TripTools = Toolkit.make(
  Tool.make("search", { parameters: { query: Schema.String }, success: Schema.Array(Schema.String) }),
  Tool.make("fetch_page", { parameters: { url: Schema.String }, success: Schema.String }),
  Tool.make("weather", { parameters: { city: Schema.String, month: Schema.String }, success: Schema.String }),
  Tool.make("exchange_rate", { parameters: { from: Schema.String, to: Schema.String }, success: Schema.Number }),
  Tool.make("flights", {
    parameters: { from: Schema.String, to: Schema.String },
    success: Schema.String,
    failure: Unavailable
  }),
  Tool.make("hotels", { parameters: { city: Schema.String }, success: Schema.String })
)

/** Each tool's latency: the four of the first response take 30 ms each. */
const latency = "30 millis"

/**
 * The fake handlers. `flights` answers HTTP 429 with `retry-after-ms: 150`
 * on its first call and works on the next; `hotels` never answers (only a
 * timeout stops it).
 */
const TripToolsFake = TripTools.toLayer(Effect.gen(function*() {
  const flightCalls = yield* Ref.make(0)
  const after = <A>(value: A) => Effect.as(Effect.sleep(latency), value)
  return TripTools.of({
    search: ({ query }) => after([`"${query}": 3 travel guides`, `"${query}": city events calendar`]),
    fetch_page: ({ url }) => after(`${url}: tram 28 runs every 10 minutes; museums free on Sundays`),
    weather: ({ city, month }) => after(`${city} in ${month}: sunny, 24 °C`),
    exchange_rate: ({ from, to }) => after(from === "EUR" && to === "USD" ? 1.08 : 1),
    flights: ({ from, to }) =>
      Ref.updateAndGet(flightCalls, (n) => n + 1).pipe(
        Effect.delay(latency),
        Effect.flatMap((n) =>
          n === 1
            ? Effect.fail(new Unavailable({ status: 429, headers: { "retry-after-ms": "150" } }))
            : Effect.succeed(`${from} → ${to}: TP 1351, 09:40`)
        )
      ),
    hotels: () => Effect.never
  })
}))

/**
 * The policies of each tool. `search` and `fetch_page` share the group
 * `"web"`, capped at 2 by the scheduler below.
 */
const runner = ToolRunner.make(TripTools, {
  search: { timeout: "2 seconds", retries: 1, group: "web" },
  fetch_page: { timeout: "2 seconds", group: "web" },
  flights: { timeout: "1 second", retries: 2, schedule: Schedule.spaced("20 millis") },
  hotels: { timeout: "100 millis" }
})

const SchedulerLive = Scheduler.layer({ maxConcurrency: 8, groups: { web: 2 } })

// ---------------------------------------------------------------------------
// The model: a fake LanguageModel layer that answers from a script
// ---------------------------------------------------------------------------

const call = (id: string, name: string, params: unknown): Response.PartEncoded => ({
  type: "tool-call",
  id,
  name,
  params
})

const question1 = "Plan a day in Lisbon in May on a budget in dollars."
const question2 = "Book the trip: flights from London and a hotel."

/** What the model asks for, by question. */
const script: Record<string, ReadonlyArray<Response.PartEncoded>> = {
  [question1]: [
    { type: "text", text: "I will look up four things at once." },
    call("call_1", "search", { query: "Lisbon in May" }),
    call("call_2", "fetch_page", { url: "https://visitlisbon.example/transport" }),
    call("call_3", "weather", { city: "Lisbon", month: "May" }),
    call("call_4", "exchange_rate", { from: "EUR", to: "USD" })
  ],
  [question2]: [
    call("call_5", "flights", { from: "LHR", to: "LIS" }),
    call("call_6", "hotels", { city: "Lisbon" }),
    call("call_7", "exchange_rate", { from: "GBP", to: "EUR" })
  ]
}

/**
 * Raw tool calls as a provider sends them, with a misspelt tool and bad
 * parameters. (`LanguageModel.generateText` decodes a response against the
 * toolkit before anything else and fails the turn on such calls, so they
 * reach `runner.resolve` only as raw parts.)
 */
const rawCalls: ReadonlyArray<Response.PartEncoded> = [
  call("call_8", "serch", { query: "Lisbon hostels" }),
  call("call_9", "weather", { city: "Lisbon", month: 5 })
]

/** The tool results the prompt carries (the model reads them to synthesize). */
const toolResults = (prompt: Prompt.Prompt): Array<Prompt.ToolResultPart> =>
  prompt.content.flatMap((message) => message.role === "tool" ? message.content : [])

/** Writes the final answer from the tool results in the prompt. */
const synthesize = (results: ReadonlyArray<Prompt.ToolResultPart>): string => {
  const ok = results.filter((r) => !r.isFailure).map((r) => r.name)
  const failed = results.filter((r) => r.isFailure).map((r) => r.name)
  return `Drafted from ${ok.length} tool results (${ok.join(", ") || "none"})` +
    (failed.length > 0 ? `; ${failed.join(", ")} failed, so I will say so and suggest a retry.` : ".")
}

const FakeModel = Layer.effect(
  LanguageModel.LanguageModel,
  LanguageModel.make({
    generateText: (options) =>
      Effect.sync(() => {
        const results = toolResults(options.prompt)
        if (results.length > 0) return [{ type: "text", text: synthesize(results) }]
        const asked = options.prompt.content.flatMap((m) =>
          m.role === "user" ? m.content.flatMap((p) => p.type === "text" ? [p.text] : []) : []
        )
        return [...(script[asked.at(-1) ?? ""] ?? [{ type: "text", text: "No tools needed." }])]
      }),
    streamText: () => Stream.empty
  })
)

// ---------------------------------------------------------------------------
// The step: plan → fan out tools → synthesize
// ---------------------------------------------------------------------------

const now = Clock.currentTimeMillis

/** One agent step, returning the tool results, the tools' time and the answer. */
const agentStep = (question: string) =>
  Effect.gen(function*() {
    const prompt = Prompt.make(question)
    // plan: the model picks tools; the calls are resolved by the runner, not by generateText
    const plan = yield* LanguageModel.generateText({ prompt, toolkit: TripTools, disableToolCallResolution: true })
    // fan out: every call of the response at once, each under its tool's policies
    const start = yield* now
    const results = yield* runner.resolve(plan.content)
    const toolsMs = (yield* now) - start
    // synthesize: the model reads the results, failures included
    const next = Prompt.merge(prompt, Prompt.fromResponseParts([...plan.content, ...results]))
    const answer = yield* LanguageModel.generateText({ prompt: next })
    return { results, toolsMs, answer: answer.text }
  })

/** The same tool calls resolved by plain @effect/ai: generateText with the toolkit. */
const plainStep = (question: string) =>
  Effect.gen(function*() {
    const start = yield* now
    yield* LanguageModel.generateText({ prompt: question, toolkit: TripTools })
    return (yield* now) - start
  })

const show = (value: unknown): string => typeof value === "string" ? value : JSON.stringify(value)

const resultLine = (r: ToolRunner.ToolResult<Toolkit.Tools<typeof TripTools>>): string => {
  const text = ToolRunner.isToolCallError(r.result) ? r.result.message : show(r.encodedResult)
  return `  ${r.id.padEnd(7)} ${r.name.padEnd(14)} ${r.isFailure ? "failed" : "ok    "}  ${text}`
}

const main = Effect.gen(function*() {
  yield* Console.log("@toolfan/ai example: plan → fan out tools → synthesize, on a fake model\n")

  yield* Console.log(`Q: ${question1}`)
  yield* agentStep(question1) // warm-up: the first run of a process also pays for JIT compilation
  const step = yield* agentStep(question1)
  yield* Console.log(`the model asks for ${step.results.length} tool calls of ${latency} each:`)
  for (const r of step.results) yield* Console.log(resultLine(r))
  const sequentialMs = yield* plainStep(question1)
  yield* Console.log("")
  const line = (label: string, ms: number, note: string) =>
    Console.log(`  ${label.padEnd(17)}${String(ms).padStart(4)} ms  ${note}`)
  yield* line("@toolfan/ai", step.toolsMs, "every call at once (ToolRunner.resolve)")
  yield* line("plain @effect/ai", sequentialMs, "generateText resolves them one after another")
  yield* Console.log(`  ${"speed-up".padEnd(17)}${(sequentialMs / Math.max(step.toolsMs, 1)).toFixed(1).padStart(4)}×`)
  yield* Console.log(`A: ${step.answer}\n`)

  yield* Console.log(`Q: ${question2}`)
  const rough = yield* agentStep(question2)
  yield* Console.log(`each call that goes wrong comes back to the model as that call's result:`)
  for (const r of rough.results) yield* Console.log(resultLine(r))
  yield* Console.log(
    `  (tools took ${rough.toolsMs} ms: flights answered 429 with retry-after-ms 150 and was retried 150 ms later, ` +
      `not after its 20 ms backoff; hotels timed out at 100 ms)`
  )
  yield* Console.log(`A: ${rough.answer}\n`)

  yield* Console.log("raw tool calls with a misspelt tool and bad parameters:")
  for (const r of yield* runner.resolve(rawCalls)) yield* Console.log(resultLine(r))
})

Effect.runPromise(main.pipe(Effect.provide(Layer.mergeAll(FakeModel, TripToolsFake, SchedulerLive)))).catch(
  (error) => {
    console.error(error)
    process.exitCode = 1
  }
)
