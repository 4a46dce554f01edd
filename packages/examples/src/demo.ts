/**
 * toolfan's main demo (`npm start`): one agent step, plan → ten tools →
 * synthesize, with the ten tool calls run at once by the `Scheduler`; then
 * micro-batching, with 50 small "is this relevant?" prompts gathered into a
 * few model calls by a `Batcher`.
 *
 * Everything is offline and deterministic: the tools and the model are fakes
 * with fixed latencies (see `tools.ts` and `llm.ts`) and retries wait a fixed
 * 50 ms, so every run prints the same apart from a few milliseconds of timer
 * noise.
 */
import * as Console from "effect/Console"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import { Batcher, Scheduler, Task, type TaskError, TaskResult } from "toolfan"
import { latencyMs, Llm, LlmLive } from "./llm.js"
import * as Recorder from "./recorder.js"
import * as Report from "./report.js"
import { painter, stdoutHasColor, wrap } from "./text.js"
import * as Timeline from "./timeline.js"
import { isRetryable, type ToolError, Tools, ToolsLive } from "./tools.js"

const question = "Can I make the Lisbon AI meetup on Thursday? Find me a flight and a hotel."

// ---------------------------------------------------------------------------
// the agent step
// ---------------------------------------------------------------------------

/** At most 8 calls in flight, and at most 2 of them to the web backend. */
const schedulerOptions = { maxConcurrency: 8, groups: { web: 2 } } as const

/**
 * What every tool call gets unless it says otherwise: a time limit, and up to
 * two retries, 50 ms apart, of the failures worth retrying (`ToolUnavailable`,
 * not `QuotaExceeded`). The default backoff is jittered; a fixed one keeps the
 * demo's output the same on every run.
 */
const policy: Task.Options<ToolError> = {
  timeout: "1 second",
  retries: 2,
  retryWhile: isRetryable,
  schedule: Schedule.spaced("50 millis")
}

/**
 * 1. Plan: the model decides which tools to call. Faked: 40 ms of "thinking",
 * then a fixed list of ten tasks. Each call is wrapped by the recorder, which
 * notes when every attempt starts and ends, for the timeline.
 */
const plan = (question: string) =>
  Effect.gen(function*() {
    const tools = yield* Tools
    const recorder = yield* Recorder.Recorder
    const call = <A>(name: string, effect: Effect.Effect<A, ToolError>, options?: Task.Options<ToolError>) =>
      Task.make(name, recorder.track(name, effect), { ...policy, ...options })
    yield* Effect.sleep("40 millis")
    return [
      call("calendar", tools.calendar("Thu–Fri")),
      call("weather", tools.weather("Lisbon")),
      call("search", tools.search(question), { group: "web" }),
      call("fetchPage", tools.fetchPage("https://lisbon-ai.example/meetup"), { group: "web" }),
      call("flights", tools.flights("BER", "LIS")),
      // a hung backend: give up after 300 ms, and do not try again
      call("hotels", tools.hotels("LX Factory"), { timeout: "300 millis", retries: 0 }),
      call("news", tools.news("Lisbon transport strikes"), { group: "web" }),
      call("places", tools.places("LX Factory")),
      call("translate", tools.translate("Encontro de IA — programa", "en")),
      call("transit", tools.transit("LIS airport", "LX Factory"))
    ] as const
  })

/** Why a task has no value, in a few words. */
const reason = (error: TaskError.TaskError<ToolError>): string => {
  switch (error._tag) {
    case "TaskFailed":
      return error.error._tag
    case "TaskTimedOut":
      return "timed out"
    case "TaskDefect":
      return "crashed"
    case "TaskInterrupted":
      return "interrupted"
    case "TaskSkipped":
      return "skipped"
  }
}

/**
 * 3. Synthesize: the model writes the answer from the results that have a
 * value, and says what it could not find out. Faked: 60 ms, then a template.
 */
const synthesize = (results: ReadonlyArray<TaskResult.TaskResult<string, ToolError>>) =>
  Effect.gen(function*() {
    yield* Effect.sleep("60 millis")
    const facts = new Map(results.flatMap((r) => (r.ok ? [[r.name, r.value] as const] : [])))
    const fact = (name: string) => facts.get(name) ?? "(unknown)"
    const missing = results.flatMap((r) => (r.ok ? [] : [`${r.name} (${reason(r.error)})`]))
    return [
      `Yes, Thursday works: you are ${fact("calendar")} and the meetup is ${fact("fetchPage")}.`,
      `Fly ${fact("flights")}, then ${fact("transit")}. ${fact("weather")}; ${fact("news")}.`,
      ...(missing.length === 0 ? [] : [`Still open: ${missing.join(", ")}.`])
    ].join(" ")
  })

/**
 * One agent step: plan, run the tool calls at once (2.), synthesize from what
 * worked. `Scheduler.run` never fails: every call gets its own result.
 */
const agentStep = (question: string) =>
  Effect.gen(function*() {
    const [planTime, tasks] = yield* Effect.timed(plan(question))
    const [toolsTime, results] = yield* Effect.timed(Scheduler.run(tasks))
    const [synthesizeTime, answer] = yield* Effect.timed(synthesize(results))
    return { results, answer, planTime, toolsTime, synthesizeTime }
  })

// ---------------------------------------------------------------------------
// micro-batching
// ---------------------------------------------------------------------------

/** A model call takes 16 texts at most; a partial batch waits at most 20 ms for more. */
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
 * Joins the recorded attempts with the results into timeline rows. Time 0 is
 * when the first attempt started (a cold process spends a few milliseconds
 * compiling code before that, which is not the scheduler's doing).
 */
const timelineRows = (
  results: ReadonlyArray<TaskResult.TaskResult<unknown, unknown>>,
  attempts: ReadonlyArray<Recorder.Attempt>
): Array<Timeline.Row> => {
  const origin = Math.min(...attempts.map((a) => a.start))
  return results.map((r) => {
    const mine = attempts.filter((a) => a.task === r.name).sort((a, b) => a.start - b.start)
    return {
      name: r.name,
      attempts: mine.map((a, i): Timeline.Span => {
        // Seen from inside, a timeout is an interruption. Only the last attempt of a task that
        // ended as TaskInterrupted was really interrupted; any other one timed out.
        const interrupted = i === mine.length - 1 && !r.ok && r.error._tag === "TaskInterrupted"
        const outcome = a.outcome === "interrupted" && !interrupted ? "timedOut" : a.outcome
        return { start: a.start - origin, end: a.end - origin, outcome }
      })
    }
  })
}

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

  const step = yield* agentStep(question)
  const attempts = yield* Effect.flatMap(Recorder.Recorder, (recorder) => recorder.attempts)
  const { groups, maxConcurrency } = schedulerOptions
  const toolsMs = ms(step.toolsTime)
  const ok = step.results.filter((r) => r.ok).length
  const width = WIDTH - 3 // less the indent

  yield* Console.log(stepLine("1. plan", ms(step.planTime), `the model picks ${step.results.length} tool calls`))
  const caps = `maxConcurrency ${maxConcurrency} and groups { web: ${groups.web} }`
  yield* Console.log(stepLine("2. tools", toolsMs, `Scheduler.run with ${caps}`))
  yield* Console.log("\n" + indent(Report.resultsTable(step.results, { width, color })))
  yield* Console.log("\n" + indent(Timeline.render(timelineRows(step.results, attempts), { width, color })))
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

/** Fake tools, a fake model, the attempt recorder and the scheduler, all provided as layers. */
const MainLive = Layer.mergeAll(ToolsLive, LlmLive, Recorder.layer, Scheduler.layer(schedulerOptions))

Effect.runPromise(Effect.provide(main, MainLive)).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
