/**
 * toolfan's main demo (`npm start`): one agent step, plan → ten tools →
 * synthesize, with the ten tool calls run at once by the `Scheduler`; then
 * micro-batching, with 50 small "is this relevant?" prompts gathered into a
 * few model calls by a `Batcher`.
 *
 * The tool calls' timeline comes from the scheduler's own spans
 * (`Timeline.capture`, from @toolfan/timeline): drawn in the terminal, and written as a web page
 * (`toolfan-timeline.html` in the current directory — the repository's root
 * under `npm start` — or the path in `$TOOLFAN_TIMELINE_HTML`).
 *
 * Everything is offline and deterministic: the tools and the model are fakes
 * with fixed latencies (see `tools.ts` and `llm.ts`) and retries wait a fixed
 * 50 ms, so every run prints the same apart from a few milliseconds of timer
 * noise.
 */
import { writeFileSync } from "node:fs"
import * as path from "node:path"
import * as Console from "effect/Console"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"
import { Timeline } from "@toolfan/timeline"
import { Batcher, Scheduler } from "toolfan"
import { latencyMs, Llm, LlmLive } from "./llm.js"
import * as Report from "./report.js"
import { agentStep, question, schedulerOptions } from "./step.js"
import { painter, stdoutHasColor, wrap } from "./text.js"
import { ToolsLive } from "./tools.js"

// the agent step itself (plan → tools → synthesize) lives in step.ts

const batcherOptions = { maxSize: 16, maxWait: "20 millis" } as const

/** 50 news headlines the agent found: 5 cities × 10 stories. */
const headlines = ["Lisbon", "Porto", "Madrid", "Berlin", "Paris"].flatMap((city) =>
  [
    "AI meetup announces its Thursday speakers",
    "metro strike called off for this week",
    "heat warning lifted before the weekend",
    "airport adds late evening flights",
    "hotel prices climb ahead of tech week",
    "football club signs a new goalkeeper",
    "city council debates parking fees",
    "science museum reopens after renovation",
    "tram lines run a reduced service on Thursday",
    "bakery wins national pastry prize"
  ].map((story) => `${city}: ${story}`)
)

/**
 * Classify: each headline is its own small prompt ("does this matter for the
 * trip?"), submitted by an independent caller, as code that handles one item
 * at a time does. The batcher gathers them into a few model calls: a batch
 * goes when it holds 16 texts, or 20 ms after its first one. The batch
 * function records the size of every call it makes.
 */
const classify = (texts: ReadonlyArray<string>) =>
  Effect.scoped(Effect.gen(function*() {
    const llm = yield* Llm
    const shapes = yield* Ref.make<ReadonlyArray<number>>([])
    const batcher = yield* Batcher.make({
      ...batcherOptions,
      name: "classify",
      run: (batch: ReadonlyArray<string>) =>
        Effect.zipRight(Ref.update(shapes, (all) => [...all, batch.length]), llm.classify(batch))
    })
    const [time, labels] = yield* Effect.timed(Effect.forEach(texts, batcher.submit, { concurrency: "unbounded" }))
    return { labels, time, shapes: yield* Ref.get(shapes) }
  }))

// ---------------------------------------------------------------------------
// the report
// ---------------------------------------------------------------------------

const WIDTH = 100
const color = stdoutHasColor()
const paint = painter(color)

/**
 * Where the HTML timeline goes: `$TOOLFAN_TIMELINE_HTML`, or
 * `toolfan-timeline.html` in the current directory (git ignores that name).
 */
const htmlPath = (): string => path.resolve(process.env["TOOLFAN_TIMELINE_HTML"] || "toolfan-timeline.html")

const ms = (d: Duration.Duration): number => Math.round(Duration.toMillis(d))

const indent = (text: string): string => text.split("\n").map((line) => `   ${line}`).join("\n")

const stepLine = (label: string, took: number, note: string): string =>
  `${paint("bold", label.padEnd(13))} ${Report.ms(took).padStart(6)}   ${note}`

/** Where the note of a {@link stepLine} starts. */
const noteColumn = " ".repeat(13 + 1 + 6 + 3)

/** Runs the step, then shows what happened. */
const main = Effect.gen(function*() {
  yield* Console.log(paint("bold", "toolfan demo: one agent step, plan → 10 tools → synthesize"))
  yield* Console.log(`\nQ: ${question}\n`)

  // every attempt the scheduler runs is a span; capture turns them into a timeline
  // and a live progress line while the tools run (on a terminal)
  const [step, timeline] = yield* Timeline.capture(agentStep(question, Report.progressOn(process.stdout)))
  const { groups, maxConcurrency } = schedulerOptions
  const toolsMs = ms(step.toolsTime)
  const ok = step.results.filter((r) => r.ok).length
  const width = WIDTH - 3 // less the indent

  yield* Console.log(stepLine("1. plan", ms(step.planTime), `the model picks ${step.results.length} tool calls`))
  const caps = `maxConcurrency ${maxConcurrency} and groups { web: ${groups.web} }`
  yield* Console.log(stepLine("2. tools", toolsMs, `Scheduler.run with ${caps}`))
  yield* Console.log("\n" + indent(Report.resultsTable(step.results, { width, color })))
  yield* Console.log("\n" + indent(Timeline.toText(timeline, { width, color })))
  const html = htmlPath()
  const page = Timeline.toHtml(timeline, { title: `toolfan demo: ${question}` })
  const wrote = yield* Effect.either(Effect.try({
    try: () => writeFileSync(html, page),
    catch: (error) => (error instanceof Error ? error.message : String(error))
  }))
  yield* Console.log(paint(
    "dim",
    indent(wrote._tag === "Right" ? `the same timeline as a web page: ${html}` : `could not write ${html}: ${wrote.left}`)
  ))
  yield* Console.log("\n" + indent(Report.speedup(step.results, toolsMs, { color })) + "\n")
  yield* Console.log(stepLine("3. synthesize", ms(step.synthesizeTime), `from the ${ok} results that have a value`))
  const answer = wrap(step.answer.split(" "), WIDTH - 6).map((line, i) => (i === 0 ? "A: " : "   ") + line)
  yield* Console.log("\n" + indent(answer.join("\n")))

  const total = ms(step.planTime) + toolsMs + ms(step.synthesizeTime)
  yield* Console.log(`\n${paint("bold", "step total")}   ${Report.ms(total)}`)

  const title = `Micro-batching: ${headlines.length} short "is this relevant?" prompts for the model`
  yield* Console.log("\n" + paint("bold", title))
  const batched = yield* classify(headlines)
  const batchedMs = ms(batched.time)
  const { maxSize, maxWait } = batcherOptions
  yield* Console.log(`\n${stepLine("classify", batchedMs, Report.batchShapes(headlines.length, batched.shapes))}`)
  const options = `maxSize ${maxSize}, maxWait ${Report.ms(ms(Duration.decode(maxWait)))}`
  const setup = `Batcher.make with ${options}; one model call takes ${Report.ms(latencyMs)}`
  yield* Console.log(paint("dim", noteColumn + setup))
  yield* Console.log("\n" + indent(Report.batchSpeedup(headlines.length, latencyMs, batchedMs, { color })))
  yield* Console.log("\n" + indent(Report.labelSamples(headlines, batched.labels, { width, color })))
})

/** Fake tools, a fake model and the scheduler, all provided as layers. */
const MainLive = Layer.mergeAll(ToolsLive, LlmLive, Scheduler.layer(schedulerOptions))

Effect.runPromise(Effect.provide(main, MainLive)).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
