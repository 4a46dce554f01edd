/**
 * The agent step of the demo: plan → ten tool calls at once → synthesize.
 *
 * The step's code only names the services it needs — `Tools` and the
 * `Scheduler` — so the program that runs it decides which implementations it
 * gets: `demo.ts` provides fake tools with realistic latencies, a test
 * provides instant fakes (test/step.test.ts), production would provide the
 * real tools. Nothing here changes between them.
 */
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import { Scheduler, Task, type TaskError, type TaskResult } from "toolfan"
import { isRetryable, type ToolError, Tools } from "./tools.js"

export const question = "Can I make the Lisbon AI meetup on Thursday? Find me a flight and a hotel."

// ---------------------------------------------------------------------------
// the agent step
// ---------------------------------------------------------------------------

/** At most 8 calls in flight, and at most 2 of them to the web backend. */
export const schedulerOptions = { maxConcurrency: 8, groups: { web: 2 } } as const

/**
 * What every tool call gets unless it says otherwise: a time limit, and up to
 * two retries, 50 ms apart, of the failures worth retrying (`ToolUnavailable`,
 * not `QuotaExceeded`). The default backoff is jittered; a fixed one keeps the
 * demo's output the same on every run.
 */
export const policy: Task.Options<ToolError> = {
  timeout: "1 second",
  retries: 2,
  retryWhile: isRetryable,
  schedule: Schedule.spaced("50 millis")
}

/**
 * 1. Plan: the model decides which tools to call. Faked: 40 ms of "thinking",
 * then a fixed list of ten tasks. The scheduler records every attempt in a
 * span, so `Timeline.capture` can draw them without any help from the tasks.
 */
export const plan = (question: string) =>
  Effect.gen(function*() {
    const tools = yield* Tools
    const call = <A>(name: string, effect: Effect.Effect<A, ToolError>, options?: Task.Options<ToolError>) =>
      Task.make(name, effect, { ...policy, ...options })
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
export const reason = (error: TaskError.TaskError<ToolError>): string => {
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
export const synthesize = (results: ReadonlyArray<TaskResult.TaskResult<string, ToolError>>) =>
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
 * `onProgress` hears of each tool call's start, retry and settlement.
 */
export const agentStep = (question: string, onProgress?: Scheduler.RunOptions["onProgress"]) =>
  Effect.gen(function*() {
    const [planTime, tasks] = yield* Effect.timed(plan(question))
    const [toolsTime, results] = yield* Effect.timed(Scheduler.run(tasks, { onProgress }))
    const [synthesizeTime, answer] = yield* Effect.timed(synthesize(results))
    return { results, answer, planTime, toolsTime, synthesizeTime }
  })
