import { LanguageModel, Prompt, Tool, Toolkit } from "@effect/ai"
import { ToolRunner } from "@toolfan/ai"
import { Effect, Schema } from "effect"
import { Scheduler } from "toolfan"

// The tools the model may call: a Toolkit of Schema-typed tools.
export class SearchError extends Schema.TaggedError<SearchError>()("SearchError", { reason: Schema.String }) {}

export const ResearchTools = Toolkit.make(
  Tool.make("search", {
    description: "Search the web",
    parameters: { query: Schema.String },
    success: Schema.Array(Schema.String),
    failure: SearchError
  }),
  Tool.make("fetch_page", { parameters: { url: Schema.String }, success: Schema.String }),
  Tool.make("weather", { parameters: { city: Schema.String }, success: Schema.String })
)

// Per-tool policies, checked at once (a bad one throws an InvalidOption).
export const runner = ToolRunner.make(ResearchTools, {
  search: { timeout: "5 seconds", retries: 2, group: "web" },
  fetch_page: { timeout: "3 seconds", group: "web" },
  weather: { timeout: "1 second", priority: 1 }
})

// One agent step: plan → fan out tools → synthesize.
export const agentStep = (question: string) =>
  Effect.gen(function*() {
    const prompt = Prompt.make(question)
    // 1. plan: the model answers with tool calls, which generateText leaves to us
    const plan = yield* LanguageModel.generateText({ prompt, toolkit: ResearchTools, disableToolCallResolution: true })
    // 2. fan out: every call at once under the Scheduler, one tool-result part per call
    const results = yield* runner.resolve(plan.content, { deadline: "10 seconds" })
    // 3. synthesize: the model reads every result, failures included
    const next = Prompt.merge(prompt, Prompt.fromResponseParts([...plan.content, ...results]))
    const answer = yield* LanguageModel.generateText({ prompt: next })
    return answer.text
  })

// The scheduler caps the step: 8 calls at once, 2 of them on the web.
export const SchedulerLive = Scheduler.layer({ maxConcurrency: 8, groups: { web: 2 } })
