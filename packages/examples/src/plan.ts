/**
 * `npm run plan`: a plan the model writes, run while the model is still
 * writing it (LLMCompiler, Kim et al., ICML 2024), on @effect/ai with
 * @toolfan/ai's `ToolRunner.runPlan`.
 *
 * The model streams its plan as text, one JSON call per line:
 * `{"id":"flight_page","tool":"fetch_page","args":{"url":"$flights.items.0.url"}}`.
 * The lines are parsed as they come and each call starts as soon as it has
 * arrived and the calls it references (`$flights…`) have succeeded — the
 * timeline shows tools running long before the plan is complete. Then the
 * joiner: the model reads the results, finds a call it got wrong (a misspelt
 * tool, refused with a message) and writes a second, smaller plan
 * (replanning), and finally answers.
 *
 * Everything is offline and deterministic: the model is a fake
 * `LanguageModel` that streams from a script, the tools are fakes with fixed
 * latencies. Only the measured times move by a few ms.
 */
import * as LanguageModel from "@effect/ai/LanguageModel"
import * as Prompt from "@effect/ai/Prompt"
import type * as Response from "@effect/ai/Response"
import * as Tool from "@effect/ai/Tool"
import * as Toolkit from "@effect/ai/Toolkit"
import { ToolRunner } from "@toolfan/ai"
import { Timeline } from "@toolfan/timeline"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { Scheduler, Spans, type ToolPlan } from "toolfan"
import { painter, stdoutHasColor } from "./text.js"

// ---------------------------------------------------------------------------
// The tools, with fixed latencies
// ---------------------------------------------------------------------------

const Page = Schema.Struct({ url: Schema.String, title: Schema.String })

const TripTools = Toolkit.make(
  Tool.make("search", { parameters: { query: Schema.String }, success: Schema.Struct({ items: Schema.Array(Page) }) }),
  Tool.make("fetch_page", { parameters: { url: Schema.String }, success: Schema.String }),
  Tool.make("weather", { parameters: { city: Schema.String }, success: Schema.String }),
  Tool.make("summarize", { parameters: { texts: Schema.Array(Schema.String) }, success: Schema.String }),
  Tool.make("exchange_rate", { parameters: { from: Schema.String, to: Schema.String }, success: Schema.Number }),
  Tool.make("budget", { parameters: { summary: Schema.String, rate: Schema.Number }, success: Schema.String })
)

const after = <A>(ms: number, value: A) => Effect.as(Effect.sleep(ms), value)

const TripToolsFake = TripTools.toLayer({
  search: ({ query }) =>
    after(query.startsWith("flights") ? 500 : 400, {
      items: [{ url: `https://travel.example/${query.split(" ")[0]}/best`, title: `Best ${query}` }]
    }),
  fetch_page: ({ url }) => after(url.includes("flights") ? 300 : 200, `${url}: from 89 EUR`),
  weather: ({ city }) => after(300, `${city}: sunny, 24 °C`),
  summarize: ({ texts }) => after(300, `${texts.length} offers, the cheapest from 89 EUR`),
  exchange_rate: () => after(200, 1.08),
  budget: ({ rate, summary }) => after(300, `${summary}; about ${Math.round(89 * rate)} USD a night`)
})

const runner = ToolRunner.make(TripTools, {
  search: { timeout: "2 seconds", retries: 1 },
  fetch_page: { timeout: "2 seconds" }
})

// ---------------------------------------------------------------------------
// The model: streams a plan per turn, one JSON call per line
// ---------------------------------------------------------------------------

const question = "Find me a cheap flight and hotel in Lisbon for next week, with the weather, priced in dollars."

/** Plan 1: eight calls, a DAG of depth 3; `rate` misspells its tool. */
const plan1 = [
  `{"id":"flights","tool":"search","args":{"query":"flights Berlin Lisbon"}}`,
  `{"id":"hotels","tool":"search","args":{"query":"hotels Lisbon Alfama"}}`,
  `{"id":"flight_page","tool":"fetch_page","args":{"url":"$flights.items.0.url"}}`,
  `{"id":"hotel_page","tool":"fetch_page","args":{"url":{"$ref":"hotels","path":["items",0,"url"]}}}`,
  `{"id":"weather","tool":"weather","args":{"city":"Lisbon"}}`,
  `{"id":"summary","tool":"summarize","args":{"texts":["$flight_page","$hotel_page"]}}`,
  `{"id":"rate","tool":"exchange","args":{"from":"EUR","to":"USD"}}`,
  `{"id":"price","tool":"budget","args":{"summary":"$summary","rate":"$rate"}}`
]

/** Plan 2, after reading the results of plan 1: the refused call again, right, and what depended on it. */
const plan2 = (summary: string) => [
  `{"id":"rate","tool":"exchange_rate","args":{"from":"EUR","to":"USD"}}`,
  `{"id":"price","tool":"budget","args":{"summary":${JSON.stringify(summary)},"rate":"$rate"}}`
]

/** A line every 100 ms, in two chunks (as tokens arrive), then the end of the response at `lines × 100` ms. */
const streamed = (lines: ReadonlyArray<string>): Stream.Stream<Response.StreamPartEncoded> =>
  Stream.fromIterable(lines.flatMap((line, i) => {
    const half = line.length >> 1
    return [[i * 100, line.slice(0, half)], [i * 100, `${line.slice(half)}\n`]] as const
  })).pipe(
    Stream.mapEffect(([at, delta]) => Effect.as(sleepUntil(at), { type: "text-delta", id: "plan", delta } as const)),
    Stream.concat(Stream.fromEffect(Effect.as(sleepUntil(lines.length * 100), { type: "text-end", id: "plan" } as const)))
  )

let turnStart = 0
const sleepUntil = (at: number) => Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sleep(Math.max(0, turnStart + at - now)))

/** The tool results in a prompt, by call id. */
const resultsIn = (prompt: Prompt.Prompt) =>
  prompt.content.flatMap((message) => message.role === "tool" ? message.content : [])

const FakeModel = Layer.effect(
  LanguageModel.LanguageModel,
  LanguageModel.make({
    generateText: (options) => {
      const price = resultsIn(options.prompt).filter((r) => r.name === "budget" && !r.isFailure).at(-1)
      return Effect.succeed([{ type: "text", text: `Flight and hotel from 89 EUR a night: ${String(price?.result ?? "no price")}.` }])
    },
    streamText: (options) =>
      Stream.unwrap(Effect.map(Clock.currentTimeMillis, (now) => {
        turnStart = now
        const results = resultsIn(options.prompt)
        const summary = results.find((r) => r.id === "summary")
        return streamed(results.length === 0 ? plan1 : plan2(String(summary?.result ?? "")))
      }))
  })
)

// ---------------------------------------------------------------------------
// The loop: plan (streamed) → run while streaming → join → replan or answer
// ---------------------------------------------------------------------------

/** The calls in the model's streamed text: one JSON object per line (a line that does not parse is refused as that call). */
const callsOf = <E, R>(parts: Stream.Stream<Response.StreamPart<{}>, E, R>): Stream.Stream<ToolPlan.Call, E, R> =>
  parts.pipe(
    Stream.filterMap((part) => part.type === "text-delta" ? Option.some(part.delta) : Option.none()),
    Stream.splitLines,
    Stream.filter((line) => line.trim() !== ""),
    Stream.map((line): ToolPlan.Call => {
      try {
        return JSON.parse(line)
      } catch {
        return line as never
      }
    })
  )

/** One turn: the model streams a plan, its calls run as they arrive; returns the results, arrivals and timeline. */
const turn = (prompt: Prompt.Prompt) =>
  Effect.gen(function*() {
    const arrivals = new Map<string, number>()
    const parts = LanguageModel.streamText({ prompt }).pipe(
      // the planner as a row of the timeline, as long as it writes
      Stream.withSpan("planner", { attributes: { [Spans.attributes.taskName]: "model writes the plan", [Spans.attributes.group]: "model" } })
    )
    const calls = callsOf(parts).pipe(
      Stream.tap((call) => Effect.map(Clock.currentTimeMillis, (now) => void arrivals.set(String(call.id), now)))
    )
    const [results, timeline] = yield* Timeline.capture(runner.runPlan(calls))
    const planEnd = timeline.rows.find((r) => r.name === "model writes the plan")?.attempts[0]?.end ?? 0
    return { results, arrivals, timeline, planEnd, took: (yield* Clock.currentTimeMillis) - timeline.origin }
  })

const color = stdoutHasColor()
const paint = painter(color)
const show = (value: unknown) => (typeof value === "string" ? value : JSON.stringify(value))

const report = (t: Effect.Effect.Success<ReturnType<typeof turn>>) =>
  Effect.gen(function*() {
    yield* Console.log(`  ${"arrived".padStart(7)} ${"started".padStart(7)}  ${"call".padEnd(12)} ${"tool".padEnd(14)} result`)
    for (const r of t.results) {
      const row = t.timeline.rows.find((row) => row.name === r.id)
      const started = row === undefined ? "—" : `${Math.round(row.attempts[0]!.start)} ms`
      const text = ToolRunner.isToolCallError(r.result) ? r.result.message : show(r.encodedResult)
      const outcome = r.isFailure ? paint("red", "✗") : paint("green", "✓")
      const at = t.arrivals.get(r.id)
      const arrived = at === undefined ? "?" : `${Math.round(at - t.timeline.origin)} ms`
      yield* Console.log(`  ${arrived.padStart(7)} ${started.padStart(7)}  ${r.id.padEnd(12)} ${r.name.padEnd(14)} ${outcome} ${text.slice(0, 90)}`)
    }
    yield* Console.log("\n" + Timeline.toText(t.timeline, { width: 100, color }))
    yield* Console.log(`  the plan was complete at ${Math.round(t.planEnd)} ms; every call had settled at ${Math.round(t.took)} ms`)
  })

const main = Effect.gen(function*() {
  yield* Console.log(paint("bold", "toolfan: a plan the model writes, run while it is still writing it") + "\n")
  yield* Console.log(`Q: ${question}\n`)
  yield* turn(Prompt.make(question)) // warm-up: the first run of a process also pays for JIT compilation
  const prompt = Prompt.make(question)
  const first = yield* turn(prompt)
  yield* Console.log(paint("bold", "turn 1") + ": the model streams 8 calls, one line every 100 ms; each starts once it has arrived and its references are done")
  yield* report(first)
  const sequential = 8 * 300 + [500, 400, 300, 200, 300, 300, 200, 300].reduce((a, b) => a + b)
  yield* Console.log(paint("dim", `  (one call per model turn of 300 ms, ReAct-style, would take about ${sequential} ms)`) + "\n")

  // the joiner: the model reads every result (refusals included) and writes the next plan
  const joined = Prompt.merge(prompt, Prompt.fromResponseParts(first.results))
  const second = yield* turn(joined)
  yield* Console.log(paint("bold", "turn 2") + " (replanning): the model read the refusal of \"rate\" and writes 2 calls again, right")
  yield* report(second)

  const answer = yield* LanguageModel.generateText({ prompt: Prompt.merge(joined, Prompt.fromResponseParts(second.results)) })
  yield* Console.log(`\nA: ${answer.text}`)
})

Effect.runPromise(main.pipe(Effect.provide(Layer.mergeAll(FakeModel, TripToolsFake, Scheduler.layer({ maxConcurrency: 8 }))))).catch(
  (error) => {
    console.error(error)
    process.exitCode = 1
  }
)
