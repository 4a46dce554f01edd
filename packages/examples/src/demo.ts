/**
 * toolfan's main demo (`npm start`): one agent step, plan → ten tools →
 * synthesize, with the ten tool calls run at once by the `Scheduler`.
 *
 * Everything is offline and deterministic: the tools are fakes with fixed
 * latencies (see `tools.ts`) and retries wait a fixed 50 ms, so every run
 * prints the same apart from a few milliseconds of timer noise.
 */
import * as Console from "effect/Console"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import { Scheduler, Task, type TaskError, TaskResult } from "toolfan"
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

const stepLine = (n: number, name: string, took: number, note: string): string =>
  `${paint("bold", `${n}. ${name.padEnd(10)}`)} ${Report.ms(took).padStart(6)}   ${note}`

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

  yield* Console.log(stepLine(1, "plan", ms(step.planTime), `the model picks ${step.results.length} tool calls`))
  const caps = `maxConcurrency ${maxConcurrency} and groups { web: ${groups.web} }`
  yield* Console.log(stepLine(2, "tools", toolsMs, `Scheduler.run with ${caps}`))
  yield* Console.log("\n" + indent(Report.resultsTable(step.results, { width, color })))
  yield* Console.log("\n" + indent(Timeline.render(timelineRows(step.results, attempts), { width, color })))
  yield* Console.log("\n" + indent(Report.speedup(step.results, toolsMs, { color })) + "\n")
  yield* Console.log(stepLine(3, "synthesize", ms(step.synthesizeTime), `from the ${ok} results that have a value`))
  const answer = wrap(step.answer.split(" "), WIDTH - 6).map((line, i) => (i === 0 ? "A: " : "   ") + line)
  yield* Console.log("\n" + indent(answer.join("\n")))

  const total = ms(step.planTime) + toolsMs + ms(step.synthesizeTime)
  yield* Console.log(`\n${paint("bold", "step total")}   ${Report.ms(total)}`)
})

/** Fake tools, the attempt recorder and the scheduler, all provided as layers. */
const MainLive = Layer.mergeAll(ToolsLive, Recorder.layer, Scheduler.layer(schedulerOptions))

Effect.runPromise(Effect.provide(main, MainLive)).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
